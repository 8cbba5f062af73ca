/* tests/test_landmarks.c — the shape predictor (src/landmarks.c) without dlib at run time:
 * - golden: dlib's own landmarks for the faces of $SBF_SHARED/data/photos/dlib-examples/{training,testing}_with_face_landmarks.xml
 *   ("The face landmarks are from dlib's shape_predictor_68_face_landmarks.dat"); dlib decoded those JPEGs with
 *   libjpeg, we decode with stb_image, so a few gray levels differ: per-face tolerance, not bit-exactness (the
 *   exact comparison against dlib on identical pixels is tools/oracle-landmarks);
 * - exact: dlib's unrounded landmarks on our own stb-decoded pixels, recorded by tools/oracle-landmarks
 *   --write-golden into tests/oracle_landmarks_golden.txt (so qemu cross builds, which have no dlib, are
 *   checked against dlib too): every point within 1e-3 px;
 * - the SIMD leaf accumulation is bit-identical to the scalar one;
 * - SBFW export/import of a (truncated) model reproduces the in-memory model exactly, float16 within 0.1 px;
 * - broken model files are refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/image.h"
#include "src/landmarks.h"
#include "src/landmarks_impl.h"

#define DAT "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"

static sbf_shape_model *g_model;

static const char *shared_dir(void)
{
    const char *s = getenv("SBF_SHARED");
    return s && *s ? s : "../shared";
}

static int setup(void **state)
{
    (void)state;
    char err[256];
    g_model = sbf_shape_load(DAT, err, sizeof err);
    if (!g_model) fprintf(stderr, "cannot load %s: %s\n", DAT, err);
    return g_model ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sbf_shape_free(g_model);
    return 0;
}

static void test_model_info(void **state)
{
    (void)state;
    sbf_shape_info in;
    sbf_shape_get_info(g_model, &in);
    assert_int_equal(in.parts, 68);
    assert_int_equal(in.cascades, 15);
    assert_int_equal(in.trees, 500);
    assert_int_equal(in.depth, 4);
    assert_int_equal(in.features, 500);
    assert_int_equal(in.leaves_f16, 0);
    assert_int_equal(in.bytes, (size_t)15 * 500 * 16 * 136 * 4);
}

/* --- golden faces from dlib's example XML ---------------------------------------------------------------- */

typedef struct { long l, t, r, b; int pts[68][2]; int nparts; } xml_face;

static long attr(const char *s, const char *name, const char *end)
{
    char key[32];
    snprintf(key, sizeof key, " %s='", name);
    const char *p = strstr(s, key);
    assert_non_null(p);
    assert_true(p < end);
    return strtol(p + strlen(key), NULL, 10);
}

static int check_xml(const char *xml_name, double *worst_mean, int *exact, int *total)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data/photos/dlib-examples/%s", shared_dir(), xml_name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("missing %s (set SBF_SHARED)", path);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    int faces = 0;
    for (const char *im = strstr(buf, "<image file='"); im; im = strstr(im + 1, "<image file='")) {
        const char *imend = strstr(im, "</image>");
        assert_non_null(imend);
        char file[256];
        const char *q = im + strlen("<image file='");
        size_t k = strcspn(q, "'");
        assert_true(k < sizeof file);
        memcpy(file, q, k);
        file[k] = 0;
        snprintf(path, sizeof path, "%s/data/photos/dlib-examples/%s", shared_dir(), file);
        sbf_image img;
        char err[256];
        if (sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, &img, err, sizeof err) != 0) fail_msg("%s: %s", path, err);
        for (const char *bx = strstr(im, "<box "); bx && bx < imend; bx = strstr(bx + 1, "<box ")) {
            const char *bxend = strstr(bx, "</box>");
            assert_non_null(bxend);
            xml_face fc;
            fc.t = attr(bx, "top", bxend);
            fc.l = attr(bx, "left", bxend);
            fc.r = fc.l + attr(bx, "width", bxend) - 1;
            fc.b = fc.t + attr(bx, "height", bxend) - 1;
            fc.nparts = 0;
            for (const char *p = strstr(bx, "<part "); p && p < bxend; p = strstr(p + 1, "<part ")) {
                long idx = attr(p, "name", bxend);
                assert_true(idx >= 0 && idx < 68);
                fc.pts[idx][0] = (int)attr(p, "x", bxend);
                fc.pts[idx][1] = (int)attr(p, "y", bxend);
                fc.nparts++;
            }
            assert_int_equal(fc.nparts, 68);
            sbf_box box = {fc.l, fc.t, fc.r, fc.b, 0, -1};
            float pts[68][2];
            assert_int_equal(sbf_shape_predict(g_model, img.gray, img.w, img.h, &box, pts), 0);
            double sum = 0;
            for (int i = 0; i < 68; i++) {
                double dx = pts[i][0] - fc.pts[i][0], dy = pts[i][1] - fc.pts[i][1];
                sum += sqrt(dx * dx + dy * dy);
                *exact += floor(pts[i][0] + 0.5) == fc.pts[i][0] && floor(pts[i][1] + 0.5) == fc.pts[i][1];
                (*total)++;
            }
            double mean = sum / 68;
            if (mean > *worst_mean) *worst_mean = mean;
            if (mean > 1.5) fprintf(stderr, "%s box [%ld,%ld,%ld,%ld]: mean %.3f px\n", file, fc.l, fc.t, fc.r, fc.b, mean);
            faces++;
        }
        sbf_image_free(&img);
    }
    return faces;
}

static void test_golden_xml(void **state)
{
    (void)state;
    double worst = 0;
    int exact = 0, total = 0;
    int faces = check_xml("training_with_face_landmarks.xml", &worst, &exact, &total);
    faces += check_xml("testing_with_face_landmarks.xml", &worst, &exact, &total);
    fprintf(stderr, "golden xml: %d faces, worst face mean distance %.3f px, %d/%d points identical after rounding\n",
            faces, worst, exact, total);
    assert_true(faces >= 10);
    assert_true(worst <= 1.5);
    assert_true(exact >= total * 7 / 10); /* 76% measured: libjpeg vs stb pixels */
}

/* --- dlib golden (exact) ------------------------------------------------------------------------------------ */

static void test_dlib_golden(void **state)
{
    (void)state;
    const char *src = getenv("SBF_SOURCE_DIR"); /* tests run from the repo root; allow overriding */
    char path[4096], cur[4096] = "", err[256];
    snprintf(path, sizeof path, "%s/tests/oracle_landmarks_golden.txt", src && *src ? src : ".");
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("missing %s", path);
    static char line[1 << 16];
    sbf_image img = {0};
    int boxes = 0, outside = 0;
    double worst = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        char rel[1024];
        long l, t, r, b;
        int off = 0;
        assert_int_equal(sscanf(line, "%1023s %ld %ld %ld %ld%n", rel, &l, &t, &r, &b, &off), 5);
        if (strcmp(rel, cur) != 0) {
            sbf_image_free(&img);
            snprintf(path, sizeof path, "%s/%s", shared_dir(), rel);
            if (sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, &img, err, sizeof err) != 0) fail_msg("%s: %s", path, err);
            snprintf(cur, sizeof cur, "%s", rel);
        }
        sbf_box box = {l, t, r, b, 0, -1};
        outside += l < 0 || t < 0 || r >= img.w || b >= img.h;
        float pts[68][2];
        assert_int_equal(sbf_shape_predict(g_model, img.gray, img.w, img.h, &box, pts), 0);
        const char *p = line + off;
        for (int k = 0; k < 68; k++) {
            char *end;
            double x = strtod(p, &end);
            assert_true(end != p);
            double y = strtod(end, &end);
            p = end;
            double d = fmax(fabs(pts[k][0] - x), fabs(pts[k][1] - y));
            if (d > worst) worst = d;
        }
        boxes++;
    }
    fclose(f);
    sbf_image_free(&img);
    fprintf(stderr, "dlib golden: %d boxes (%d reaching outside the image), max |ours - dlib| %.2g px\n", boxes, outside, worst);
    assert_true(boxes >= 40);
    assert_true(outside >= 10);
    assert_true(worst < 1e-3);
}

/* --- SIMD vs scalar ---------------------------------------------------------------------------------------- */

static void test_simd_bit_identical(void **state)
{
    (void)state;
    enum { W = 300, H = 260 };
    unsigned char *g = malloc(W * H);
    uint32_t s = 12345;
    for (int i = 0; i < W * H; i++) { s = s * 1664525u + 1013904223u; g[i] = (unsigned char)((s >> 24) / 2 + ((i % W) * 127) / W); }
    sbf_box boxes[] = {{60, 50, 200, 190, 0, -1}, {-40, -30, 100, 110, 0, -1}, {250, 200, 400, 350, 0, -1}};
    for (size_t b = 0; b < sizeof boxes / sizeof boxes[0]; b++) {
        float a[68][2], c[68][2];
        sbf_shape_force_scalar(1);
        assert_int_equal(sbf_shape_predict(g_model, g, W, H, &boxes[b], a), 0);
        sbf_shape_force_scalar(0);
        assert_int_equal(sbf_shape_predict(g_model, g, W, H, &boxes[b], c), 0);
        assert_memory_equal(a, c, sizeof a);
    }
    /* the kernel itself, odd dimension and float16 */
    float leaves[5 * 37], cur1[37], cur2[37];
    uint16_t hl[5 * 37];
    for (int i = 0; i < 5 * 37; i++) { leaves[i] = sinf((float)i) * 0.37f; hl[i] = (uint16_t)(0x3000 + i * 13); }
    uint32_t off[4] = {37 * 3, 0, 37 * 4, 37 * 3};
    for (int f16 = 0; f16 < 2; f16++) {
        for (int i = 0; i < 37; i++) cur1[i] = cur2[i] = (float)i * 0.01f;
        sbf_shape_accum_scalar(cur1, f16 ? (const void *)hl : leaves, f16, off, 4, 37);
        sbf_shape_accum(cur2, f16 ? (const void *)hl : leaves, f16, off, 4, 37);
        assert_memory_equal(cur1, cur2, sizeof cur1);
    }
    free(g);
}

/* --- SBFW round trip ---------------------------------------------------------------------------------------- */

static void test_sbfw_roundtrip(void **state)
{
    (void)state;
    /* A small model: the first 2 cascades of 40 trees each, taken from the real one. */
    sbf_shape_model small = *g_model;
    small.ncasc = 2;
    small.ntrees = 40;
    small.owned_leaves = NULL;
    small.wf = NULL;
    size_t dim = 136, per_casc = (size_t)g_model->ntrees * g_model->nleaf * dim;
    float *lv = malloc(sizeof(float) * 2 * 40 * g_model->nleaf * dim);
    sbf_split *sp = malloc(sizeof(sbf_split) * 2 * 40 * g_model->nsplit);
    for (int c = 0; c < 2; c++) {
        memcpy(lv + (size_t)c * 40 * g_model->nleaf * dim, (const float *)g_model->leaves + c * per_casc,
               sizeof(float) * 40 * g_model->nleaf * dim);
        memcpy(sp + (size_t)c * 40 * g_model->nsplit, g_model->splits + (size_t)c * g_model->ntrees * g_model->nsplit,
               sizeof(sbf_split) * 40 * g_model->nsplit);
    }
    small.leaves = lv;
    small.splits = sp;
    char tmpl32[] = "/tmp/sbf-shape-XXXXXX", tmpl16[] = "/tmp/sbf-shape16-XXXXXX";
    int fd32 = mkstemp(tmpl32), fd16 = mkstemp(tmpl16);
    assert_true(fd32 >= 0 && fd16 >= 0);
    close(fd32);
    close(fd16);
    unlink(tmpl32);
    unlink(tmpl16);
    char err[256];
    assert_int_equal(sbf_shape_save_sbfw(&small, tmpl32, 0, "test", err, sizeof err), 0);
    assert_int_equal(sbf_shape_save_sbfw(&small, tmpl16, 1, "test", err, sizeof err), 0);
    sbf_shape_model *m32 = sbf_shape_load(tmpl32, err, sizeof err);
    sbf_shape_model *m16 = sbf_shape_load(tmpl16, err, sizeof err);
    assert_non_null(m32);
    assert_non_null(m16);
    sbf_shape_info in;
    sbf_shape_get_info(m16, &in);
    assert_int_equal(in.leaves_f16, 1);
    assert_int_equal(in.cascades, 2);
    assert_int_equal(in.trees, 40);

    enum { W = 320, H = 240 };
    unsigned char *g = malloc(W * H);
    for (int i = 0; i < W * H; i++) g[i] = (unsigned char)(((i % W) ^ (i / W)) * 7 + (i % 13) * 5);
    sbf_box box = {100, 60, 220, 180, 0, -1};
    float a[68][2], b[68][2], c[68][2];
    assert_int_equal(sbf_shape_predict(&small, g, W, H, &box, a), 0);
    assert_int_equal(sbf_shape_predict(m32, g, W, H, &box, b), 0);
    assert_int_equal(sbf_shape_predict(m16, g, W, H, &box, c), 0);
    assert_memory_equal(a, b, sizeof a);
    double mx = 0;
    for (int i = 0; i < 68; i++) mx = fmax(mx, hypot(a[i][0] - c[i][0], a[i][1] - c[i][1]));
    assert_true(mx < 0.1);
    /* and the truncated model really moved the points away from the mean shape */
    double moved = 0;
    for (int i = 0; i < 68; i++)
        moved += fabs(a[i][0] - (box.left + (box.right - box.left) * g_model->initial[2 * i]));
    assert_true(moved > 1.0);
    sbf_shape_free(m32);
    sbf_shape_free(m16);
    unlink(tmpl32);
    unlink(tmpl16);
    free(lv);
    free(sp);
    free(g);
}

/* --- broken files ------------------------------------------------------------------------------------------ */

static void test_bad_files(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(sbf_shape_load("/nonexistent/shape.dat", err, sizeof err));
    assert_true(strlen(err) > 0);
    FILE *in = fopen(DAT, "rb");
    assert_non_null(in);
    static unsigned char head[300000];
    size_t n = fread(head, 1, sizeof head, in);
    fclose(in);
    assert_int_equal(n, sizeof head);
    char tmpl[] = "/tmp/sbf-shape-bad-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    /* truncated */
    assert_int_equal(write(fd, head, n), (ssize_t)n);
    err[0] = 0;
    assert_null(sbf_shape_load(tmpl, err, sizeof err));
    assert_non_null(strstr(err, "truncated"));
    /* wrong version */
    head[1] = 2;
    assert_int_equal(pwrite(fd, head, 2, 0), 2);
    assert_null(sbf_shape_load(tmpl, err, sizeof err));
    assert_non_null(strstr(err, "version"));
    /* an SBFW file that is not a shape model */
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, "SBFW garbage follows.............", 32, 0), 32);
    assert_null(sbf_shape_load(tmpl, err, sizeof err));
    close(fd);
    unlink(tmpl);
    float pts[68][2];
    unsigned char g[4] = {0};
    sbf_box box = {0, 0, 1, 1, 0, -1};
    assert_int_equal(sbf_shape_predict(g_model, NULL, 2, 2, &box, pts), -1);
    assert_int_equal(sbf_shape_predict(g_model, g, 0, 2, &box, pts), -1);
    assert_int_equal(sbf_shape_predict(g_model, g, 2, 2, &box, pts), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_info),
        cmocka_unit_test(test_golden_xml),
        cmocka_unit_test(test_dlib_golden),
        cmocka_unit_test(test_simd_bit_identical),
        cmocka_unit_test(test_sbfw_roundtrip),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
