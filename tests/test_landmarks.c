/* tests/test_landmarks.c — the shape predictor (src/landmarks.c) without dlib at run time:
 * - golden: dlib's own landmarks for the faces of $SBF_SHARED/data/photos/dlib-examples/{training,testing}_with_face_landmarks.xml
 *   ("The face landmarks are from dlib's shape_predictor_68_face_landmarks.dat"); dlib decoded those JPEGs with
 *   libjpeg, we decode with stb_image, so a few gray levels differ: per-face tolerance, not bit-exactness (the
 *   exact comparison against dlib on identical pixels is tools/oracle-landmarks);
 * - exact: dlib's unrounded landmarks on our own decoded pixels, recorded by tools/oracle-landmarks
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

static const char *shared_dir(void) {
    const char *s = getenv("SBF_SHARED");
    return s && *s ? s : "../shared";
}

static int setup(void **state) {
    (void)state;
    char err[256];
    g_model = sbf_shape_load(DAT, err, sizeof err);
    if (!g_model) fprintf(stderr, "cannot load %s: %s\n", DAT, err);
    return g_model ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    sbf_shape_free(g_model);
    return 0;
}

static void test_model_info(void **state) {
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

typedef struct {
    long l, t, r, b;
    int pts[68][2];
    int nparts;
} xml_face;

static long attr(const char *s, const char *name, const char *end) {
    char key[32];
    snprintf(key, sizeof key, " %s='", name);
    const char *p = strstr(s, key);
    assert_non_null(p);
    assert_true(p < end);
    return strtol(p + strlen(key), NULL, 10);
}

static int check_xml(const char *xml_name, double *worst_mean, int *exact, int *total) {
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
            if (mean > 1.5)
                fprintf(stderr, "%s box [%ld,%ld,%ld,%ld]: mean %.3f px\n", file, fc.l, fc.t, fc.r, fc.b, mean);
            faces++;
        }
        sbf_image_free(&img);
    }
    return faces;
}

static void test_golden_xml(void **state) {
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

static void test_dlib_golden(void **state) {
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
    fprintf(stderr, "dlib golden: %d boxes (%d reaching outside the image), max |ours - dlib| %.2g px\n", boxes,
            outside, worst);
    assert_true(boxes >= 40);
    assert_true(outside >= 10);
    assert_true(worst < 1e-3);
}

/* --- a tiny hand-made dlib .dat: evaluation semantics by hand, and corruption of a complete file ---------------- */

typedef struct {
    unsigned char b[8192];
    size_t n;
} dbuf;

static void put_int(dbuf *d, int64_t v, int is_signed) {
    unsigned char tmp[9];
    uint64_t x = v < 0 ? (uint64_t)(-v) : (uint64_t)v;
    int size = 0;
    do {
        tmp[1 + size++] = (unsigned char)(x & 0xFF);
        x >>= 8;
    } while (x);
    tmp[0] = (unsigned char)(size | (is_signed && v < 0 ? 0x80 : 0));
    memcpy(d->b + d->n, tmp, (size_t)size + 1);
    d->n += (size_t)size + 1;
}

static void put_float(dbuf *d, float v) {
    int e;
    double m = frexp(v, &e);
    put_int(d, (int64_t)(m * (1 << 24)), 1);
    put_int(d, e - 24, 1);
}

static void put_colvec(dbuf *d, const float *v, int n) {
    put_int(d, -n, 1);
    put_int(d, -1, 1);
    for (int i = 0; i < n; i++) put_float(d, v[i]);
}

/* 1 cascade, 2 trees of depth 1, 3 feature pixels.  Tree 0 always goes left (threshold -1000: leaf 0),
 * tree 1 always right (threshold 1000: leaf 1). */
static void tiny_model(dbuf *d, const float *initial) {
    float leaf[136];
    d->n = 0;
    put_int(d, 1, 1);
    put_colvec(d, initial, 136);
    put_int(d, 1, 0); /* cascades */
    put_int(d, 2, 0); /* trees */
    for (int t = 0; t < 2; t++) {
        put_int(d, 1, 0); /* splits */
        put_int(d, 0, 0);
        put_int(d, 2, 0);
        put_float(d, t == 0 ? -1000.0f : 1000.0f);
        put_int(d, 2, 0); /* leaves */
        for (int l = 0; l < 2; l++) {
            for (int k = 0; k < 136; k++) leaf[k] = (float)((t * 2 + l + 1) * (k % 2 ? -0.0625 : 0.125));
            put_colvec(d, leaf, 136);
        }
    }
    put_int(d, 1, 0);
    put_int(d, 3, 0);
    for (int i = 0; i < 3; i++) put_int(d, 30 + i, 0);
    put_int(d, 1, 0);
    put_int(d, 3, 0);
    for (int i = 0; i < 3; i++) {
        put_float(d, 0.01f * i);
        put_float(d, -0.02f);
    }
}

static void test_tiny_dat(void **state) {
    (void)state;
    static dbuf d;
    tiny_model(&d, g_model->initial);
    char tmpl[] = "/tmp/sbf-shape-tiny-XXXXXX", err[256];
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, d.b, d.n), (ssize_t)d.n);
    sbf_shape_model *m = sbf_shape_load(tmpl, err, sizeof err);
    if (!m) fail_msg("tiny model: %s", err);
    sbf_shape_info in;
    sbf_shape_get_info(m, &in);
    assert_int_equal(in.cascades, 1);
    assert_int_equal(in.trees, 2);
    assert_int_equal(in.depth, 1);
    assert_int_equal(in.features, 3);
    unsigned char g[50 * 40];
    memset(g, 90, sizeof g);
    sbf_box box = {10, 5, 41, 36, 0, -1}; /* 31 x 31 */
    float pts[68][2];
    assert_int_equal(sbf_shape_predict(m, g, 50, 40, &box, pts), 0);
    /* leaf 0 of tree 0 (+1 x (0.125, -0.0625)) then leaf 1 of tree 1 (+4 x ...): shape += (0.625, -0.3125) */
    for (int i = 0; i < 68; i++) {
        float x = g_model->initial[2 * i], y = g_model->initial[2 * i + 1];
        x += 0.125f;
        x += 0.5f;
        y += -0.0625f;
        y += -0.25f;
        assert_float_equal(pts[i][0], 10 + 31.0 * x, 1e-4);
        assert_float_equal(pts[i][1], 5 + 31.0 * y, 1e-4);
    }
    sbf_shape_free(m);
    /* corrupt single bytes anywhere in the complete file: refused or loaded, and a loaded model predicts
     * without reading out of bounds (ASan build) */
    uint32_t s = 4242;
    int loaded = 0;
    for (int trial = 0; trial < 400; trial++) {
        static unsigned char bad[sizeof d.b];
        memcpy(bad, d.b, d.n);
        s = s * 1103515245u + 12345u;
        size_t at = (s >> 8) % d.n;
        s = s * 1103515245u + 12345u;
        bad[at] = (unsigned char)(s >> 16);
        size_t len = trial % 5 == 4 ? (s >> 3) % d.n : d.n;
        assert_int_equal(ftruncate(fd, 0), 0);
        assert_int_equal(pwrite(fd, bad, len, 0), (ssize_t)len);
        m = sbf_shape_load(tmpl, err, sizeof err);
        if (m) {
            loaded++;
            sbf_box far = {-100000, -100000, 100000, 100000, 0, -1};
            assert_int_equal(sbf_shape_predict(m, g, 50, 40, &box, pts), 0);
            assert_int_equal(sbf_shape_predict(m, g, 50, 40, &far, pts), 0);
            sbf_shape_free(m);
        } else {
            assert_true(strlen(err) > 0);
        }
    }
    assert_true(loaded > 0 && loaded < 400);
    close(fd);
    unlink(tmpl);
}

/* --- JSON output ---------------------------------------------------------------------------------------------- */

static void test_json(void **state) {
    (void)state;
    float pts[68][2];
    for (int i = 0; i < 68; i++) {
        pts[i][0] = 100.0f + i / 3.0f;
        pts[i][1] = -0.5f + i * 1e-3f;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    sbf_landmarks_print_json(f, pts);
    fclose(f);
    assert_true(strncmp(buf, ",\"landmarks\":[[", 15) == 0);
    const char *p = buf + 14;
    for (int i = 0; i < 68; i++) {
        assert_int_equal(*p, '[');
        char *end;
        double x = strtod(p + 1, &end);
        assert_int_equal(*end, ',');
        double y = strtod(end + 1, &end);
        assert_int_equal(*end, ']');
        assert_true((float)x == pts[i][0] && (float)y == pts[i][1]);
        p = end + 1;
        assert_int_equal(*p, i < 67 ? ',' : ']');
        p++;
    }
    assert_int_equal(*p, 0);
    free(buf);
}

/* --- SIMD vs scalar ---------------------------------------------------------------------------------------- */

static void test_simd_bit_identical(void **state) {
    (void)state;
    enum { W = 300, H = 260 };
    unsigned char *g = malloc(W * H);
    uint32_t s = 12345;
    for (int i = 0; i < W * H; i++) {
        s = s * 1664525u + 1013904223u;
        g[i] = (unsigned char)((s >> 24) / 2 + ((i % W) * 127) / W);
    }
    sbf_box boxes[] = {{60, 50, 200, 190, 0, -1}, {-40, -30, 100, 110, 0, -1}, {250, 200, 400, 350, 0, -1}};
    for (size_t b = 0; b < sizeof boxes / sizeof boxes[0]; b++) {
        float a[68][2], c[68][2];
        assert_int_equal(nn_set_isa("scalar"), 0);
        assert_int_equal(sbf_shape_predict(g_model, g, W, H, &boxes[b], a), 0);
        assert_int_equal(nn_set_isa("auto"), 0);
        assert_int_equal(sbf_shape_predict(g_model, g, W, H, &boxes[b], c), 0);
        assert_memory_equal(a, c, sizeof a);
    }
    /* the kernel itself, odd dimension and float16 */
    float leaves[5 * 37], cur1[37], cur2[37];
    uint16_t hl[5 * 37];
    for (int i = 0; i < 5 * 37; i++) {
        leaves[i] = sinf((float)i) * 0.37f;
        hl[i] = (uint16_t)(0x3000 + i * 13);
    }
    uint32_t off[4] = {37 * 3, 0, 37 * 4, 37 * 3};
    for (int f16 = 0; f16 < 2; f16++) {
        for (int i = 0; i < 37; i++) cur1[i] = cur2[i] = (float)i * 0.01f;
        sbf_shape_accum_scalar(cur1, f16 ? (const void *)hl : leaves, f16, off, 4, 37);
        sbf_shape_accum_get()(cur2, f16 ? (const void *)hl : leaves, f16, off, 4, 37);
        assert_memory_equal(cur1, cur2, sizeof cur1);
    }
    free(g);
}

/* --- SBFW round trip ---------------------------------------------------------------------------------------- */

static void test_sbfw_roundtrip(void **state) {
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
    for (int i = 0; i < 68; i++) moved += fabs(a[i][0] - (box.left + (box.right - box.left) * g_model->initial[2 * i]));
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

static void test_bad_files(void **state) {
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
    /* random corruption of a real header (counts, sizes, floats): refused or loaded, never a crash or a
     * huge allocation (ASan build) */
    in = fopen(DAT, "rb");
    assert_non_null(in);
    assert_int_equal(fread(head, 1, sizeof head, in), sizeof head);
    fclose(in);
    uint32_t s = 777;
    for (int trial = 0; trial < 60; trial++) {
        static unsigned char bad[sizeof head];
        memcpy(bad, head, sizeof bad);
        for (int k = 0; k < 1 + trial % 4; k++) {
            s = s * 1103515245u + 12345u;
            size_t at = (s >> 8) % (trial < 30 ? 64 : sizeof bad);
            s = s * 1103515245u + 12345u;
            bad[at] = (unsigned char)(s >> 16);
        }
        assert_int_equal(ftruncate(fd, 0), 0);
        assert_int_equal(pwrite(fd, bad, sizeof bad, 0), (ssize_t)sizeof bad);
        sbf_shape_model *mm = sbf_shape_load(tmpl, err, sizeof err);
        assert_null(mm); /* the file is truncated anyway */
    }
    close(fd);
    unlink(tmpl);
    float pts[68][2];
    unsigned char g[4] = {0};
    sbf_box box = {0, 0, 1, 1, 0, -1};
    assert_int_equal(sbf_shape_predict(g_model, NULL, 2, 2, &box, pts), -1);
    assert_int_equal(sbf_shape_predict(g_model, g, 0, 2, &box, pts), -1);
    assert_int_equal(sbf_shape_predict(g_model, g, 2, 2, &box, pts), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_info),     cmocka_unit_test(test_golden_xml),
        cmocka_unit_test(test_dlib_golden),    cmocka_unit_test(test_simd_bit_identical),
        cmocka_unit_test(test_sbfw_roundtrip), cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_tiny_dat),       cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
