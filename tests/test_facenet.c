/* tests/test_facenet.c — the FaceNet forward pass against golden embeddings: $SBF_SHARED/data/aligned-golden/
 * *.png must give embeddings.jsonl to 1e-4 per component for every kernel flavour this machine runs
 * (scalar, AVX2 / NEON), with 1 and 2 threads and batches; the published pair distances; float16 panels
 * within 1e-3 of float32; the kernels stored ready-packed (used in place) give the same embeddings bit for bit as
 * plain OHWI kernels packed at load and are the source .npy kernels; refusal of missing/foreign weight files.
 * Needs weights/facenet-20180402.sbfw (make setup) and the shared data: fails, never skips, when missing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/resource.h>
#include <cmocka.h>
#include <unistd.h>
#include "nn/conv.h"
#include "nn/facenet.h"
#include "nn/half.h"
#include "nn/weights.h"
#include "src/image.h"
#include "src/models.h"

#define MAXF 8
static int g_n;
static char g_names[MAXF][64];
static float g_gold[MAXF][512];
static unsigned char *g_rgb; /* g_n x 160x160x3 */
static const char *g_model;

static const char *shared_dir(void) {
    const char *s = getenv("SBF_SHARED");
    return s && *s ? s : "../shared";
}

/* Parses embeddings.jsonl lines {"path": "x.png", "emb": [512 floats]}. */
static void load_golden(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/data/aligned-golden/embeddings.jsonl", shared_dir());
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot open %s (set SBF_SHARED to the shared data folder)", path);
    static char line[65536];
    g_n = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = strstr(line, "\"path\"");
        if (!p) continue;
        assert_true(g_n < MAXF);
        p = strchr(p + 6, '"');
        assert_non_null(p);
        char *e = strchr(p + 1, '"');
        assert_non_null(e);
        assert_true(e - p - 1 < 64);
        memcpy(g_names[g_n], p + 1, (size_t)(e - p - 1));
        g_names[g_n][e - p - 1] = 0;
        p = strchr(e, '[');
        assert_non_null(p);
        p++;
        for (int i = 0; i < 512; i++) {
            char *end;
            g_gold[g_n][i] = strtof(p, &end);
            assert_true(end != p);
            p = end;
            while (*p == ',' || *p == ' ') p++;
        }
        assert_true(*p == ']');
        g_n++;
    }
    fclose(f);
    assert_true(g_n >= 5);
    /* SBF_GOLDEN_MAX limits the images; under qemu (SBF_CROSS set by make test-cross) a forward pass takes
     * ~17 s, so only the first golden image is run there unless SBF_GOLDEN_MAX says otherwise. */
    const char *lim = getenv("SBF_GOLDEN_MAX");
    if (!lim && getenv("SBF_CROSS")) lim = "1";
    if (lim && atoi(lim) > 0 && atoi(lim) < g_n) g_n = atoi(lim);
    g_rgb = malloc((size_t)g_n * 160 * 160 * 3);
    assert_non_null(g_rgb);
    for (int i = 0; i < g_n; i++) {
        char ip[1200], err[256];
        snprintf(ip, sizeof ip, "%s/data/aligned-golden/%s", shared_dir(), g_names[i]);
        sbf_image img;
        if (sbf_image_load(ip, SBF_DEFAULT_MAX_PIXELS, &img, err, sizeof err)) fail_msg("cannot load %s: %s", ip, err);
        assert_int_equal(img.w, 160);
        assert_int_equal(img.h, 160);
        memcpy(g_rgb + (size_t)i * 160 * 160 * 3, img.rgb, 160 * 160 * 3);
        sbf_image_free(&img);
    }
}

static int setup(void **state) {
    (void)state;
    load_golden();
    g_model = sbf_model_path(SBF_FACENET_FILE);
    FILE *f = fopen(g_model, "rb");
    if (!f) {
        fprintf(stderr, "missing %s: run `make setup` (or make weights)\n", g_model);
        return -1;
    }
    fclose(f);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    free(g_rgb);
    return 0;
}

static double max_diff(const float *a, const float *b, int n) {
    double m = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > m) m = d;
    }
    return m;
}

/* Embeds the golden faces (plus the first two again when all five are used: 7 faces exercise every way
 * faces are spread over threads and batches) and compares each with its golden embedding. */
static void check_isa(const char *isa, int threads, int batch) {
    char err[256];
    assert_int_equal(nn_set_isa(isa), 0);
    nn_facenet *net = nn_facenet_load(g_model, threads, err, sizeof err);
    if (!net) fail_msg("load %s: %s", g_model, err);
    nn_facenet_set_batch(net, batch);
    const size_t px = 160 * 160 * 3;
    int n = g_n >= 5 ? g_n + 2 : g_n;
    unsigned char *rgb = malloc(px * (size_t)n);
    float *emb = malloc((size_t)n * 512 * sizeof(float));
    assert_non_null(rgb);
    assert_non_null(emb);
    for (int i = 0; i < n; i++) memcpy(rgb + px * (size_t)i, g_rgb + px * (size_t)(i % g_n), px);
    assert_int_equal(nn_facenet_embed(net, rgb, n, emb), 0);
    for (int i = 0; i < n; i++) {
        double d = max_diff(emb + i * 512, g_gold[i % g_n], 512);
        printf("  %-6s threads=%d batch=%d %-20s max |diff| = %.2e\n", isa, threads, batch, g_names[i % g_n], d);
        if (d > 1e-4)
            fail_msg("%s (%s, %d threads): embedding differs from golden by %g", g_names[i % g_n], isa, threads, d);
    }
    free(rgb);
    free(emb);
    nn_facenet_free(net);
    nn_set_isa("auto");
}

static void test_golden_scalar(void **state) {
    (void)state;
    check_isa("scalar", 1, 1);
}

/* Runs right after test_golden_scalar (one float32 net loaded, 5 faces embedded, freed): the process's
 * peak RSS so far must be within the 150 MB budget (ASan's shadow memory and qemu's own memory would
 * distort it: not checked there). */
static void test_peak_rss_float32(void **state) {
    (void)state;
#if defined(SBF_ASAN)
    return;
#endif
    if (getenv("SBF_CROSS")) return;
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    printf("  peak RSS after loading + 5 faces: %.1f MB\n", ru.ru_maxrss / 1024.0);
    assert_true(ru.ru_maxrss > 20 * 1024); /* the weights really were loaded */
    assert_true(ru.ru_maxrss <= 150 * 1024);
}

static void test_golden_simd(void **state) {
    (void)state;
    int any = 0;
    if (nn_set_isa("avx2") == 0) {
        check_isa("avx2", 1, 1);
        check_isa("avx2", 2, 1); /* 6 faces one per thread, the 7th split over both */
        check_isa("avx2", 2, 2); /* 4 in pairs per thread, 2 one per thread, 1 split */
        check_isa("avx2", 3, 1);
        any = 1;
    }
    if (nn_set_isa("avx512") == 0) {
        check_isa("avx512", 1, 1);
        check_isa("avx512", 2, 2);
        any = 1;
    }
    if (nn_set_isa("neon") == 0) {
        check_isa("neon", 2, 1);
        any = 1;
    }
    nn_set_isa("auto");
#if defined(__x86_64__) || defined(__ARM_NEON)
    assert_true(any); /* this build has a SIMD flavour: it must have run */
#else
    (void)any;
#endif
}

static void test_known_distances(void **state) {
    (void)state;
    static const struct {
        const char *a, *b;
        double d;
    } pairs[] = {{"angelina_jolie.png", "bradley_cooper.png", 1.482},
                 {"angelina_jolie.png", "kate_siegel.png", 0.867},
                 {"bradley_cooper.png", "paul_rudd.png", 1.052},
                 {"paul_rudd.png", "shea_whigham.png", 1.097}};
    char err[256];
    nn_facenet *net = nn_facenet_load(g_model, 0, err, sizeof err);
    if (!net) fail_msg("load: %s", err);
    float *emb = malloc((size_t)g_n * 512 * sizeof(float));
    assert_int_equal(nn_facenet_embed(net, g_rgb, g_n, emb), 0);
    int checked = 0;
    for (size_t p = 0; p < sizeof pairs / sizeof *pairs; p++) {
        int ia = -1, ib = -1;
        for (int i = 0; i < g_n; i++) {
            if (!strcmp(g_names[i], pairs[p].a)) ia = i;
            if (!strcmp(g_names[i], pairs[p].b)) ib = i;
        }
        if (ia < 0 || ib < 0) continue;
        double s = 0, n2 = 0;
        for (int k = 0; k < 512; k++) {
            double d = emb[ia * 512 + k] - emb[ib * 512 + k];
            s += d * d;
            n2 += (double)emb[ia * 512 + k] * emb[ia * 512 + k];
        }
        assert_float_equal(n2, 1.0, 1e-5);
        assert_float_equal(sqrt(s), pairs[p].d, 0.001);
        checked++;
    }
    if (g_n >= 5) assert_int_equal(checked, 4);
    free(emb);
    nn_facenet_free(net);
}

static void test_f16_weights(void **state) {
    (void)state;
    char err[256];
    nn_facenet *a = nn_facenet_load(g_model, 0, err, sizeof err);
    if (!a) fail_msg("load: %s", err);
    nn_facenet *b = nn_facenet_load_ex(g_model, 0, NN_FACENET_F16, err, sizeof err);
    if (!b) fail_msg("load f16: %s", err);
    float *ea = malloc((size_t)g_n * 512 * sizeof(float)), *eb = malloc((size_t)g_n * 512 * sizeof(float));
    assert_int_equal(nn_facenet_embed(a, g_rgb, g_n, ea), 0);
    assert_int_equal(nn_facenet_embed(b, g_rgb, g_n, eb), 0);
    double d = max_diff(ea, eb, g_n * 512);
    printf("  float16 panels vs float32: max |diff| = %.2e\n", d);
    assert_true(d <= 1e-3);
    free(ea);
    free(eb);
    nn_facenet_free(a);
    nn_facenet_free(b);
}

/* The stem's and Mixed_6a's 3x3 convolutions run as Winograd F(4x4, 3x3) by default (nn/wino.h): on every kernel
 * flavour the embeddings agree with the direct convolutions' to float32 rounding, and they are not the same bits
 * (the Winograd path did run). */
static void test_winograd_vs_direct(void **state) {
    (void)state;
    static const char *const isas[] = {"scalar", "avx2", "avx512", "neon"};
    int tested = 0;
    for (size_t k = 0; k < sizeof isas / sizeof *isas; k++) {
        if (nn_set_isa(isas[k]) != 0) continue;
        char err[256];
        nn_facenet *a = nn_facenet_load(g_model, 2, err, sizeof err);
        if (!a) fail_msg("load: %s", err);
        nn_facenet *b = nn_facenet_load_ex(g_model, 2, NN_FACENET_DIRECT, err, sizeof err);
        if (!b) fail_msg("load direct: %s", err);
        float *ea = malloc((size_t)g_n * 512 * sizeof(float)), *eb = malloc((size_t)g_n * 512 * sizeof(float));
        assert_non_null(ea);
        assert_non_null(eb);
        assert_int_equal(nn_facenet_embed(a, g_rgb, g_n, ea), 0);
        assert_int_equal(nn_facenet_embed(b, g_rgb, g_n, eb), 0);
        const double d = max_diff(ea, eb, g_n * 512);
        printf("  %-6s Winograd vs direct: max |diff| = %.2e\n", isas[k], d);
        assert_true(d <= 5e-6);
        assert_true(d > 0);
        for (int i = 0; i < g_n; i++) assert_true(max_diff(eb + i * 512, g_gold[i], 512) <= 1e-4);
        free(ea);
        free(eb);
        nn_facenet_free(a);
        nn_facenet_free(b);
        tested++;
    }
    nn_set_isa("auto");
    assert_true(tested >= 2);
}

/* Embeds the golden faces with a net of `path` (f16: binary16 panels), one thread. */
static float *embed_with(const char *path, int f16) {
    char err[256];
    nn_facenet *net = nn_facenet_load_ex(path, 1, f16, err, sizeof err);
    if (!net) fail_msg("load %s: %s", path, err);
    float *e = malloc((size_t)g_n * 512 * sizeof(float));
    assert_non_null(e);
    assert_int_equal(nn_facenet_embed(net, g_rgb, g_n, e), 0);
    nn_facenet_free(net);
    return e;
}

/* The weight file holds its kernels ready-packed (NAME_p16), used in place from the mapping; an older file
 * with plain OHWI kernels (made here from it with nn_conv_unpack) is packed at load.  Both give the same
 * embeddings bit for bit, with float32 and with binary16 panels. */
static void test_packed_file_equals_ohwi(void **state) {
    (void)state;
    char err[256], path[] = "/tmp/sbf-ohwi-XXXXXX", path16[] = "/tmp/sbf-p16h-XXXXXX";
    nnw_file *f = nnw_open(g_model, err, sizeof err);
    if (!f) fail_msg("%s: %s", g_model, err);
    nnw_writer *w = nnw_writer_new(), *w16 = nnw_writer_new(); /* w16: the kernels as binary16 panels */
    int packed = 0;
    for (int i = 0; i < nnw_count(f); i++) {
        const nnw_tensor *t = nnw_at(f, i);
        size_t nl = strlen(t->name), sl = strlen(NN_PANEL_SUFFIX);
        if (nl > sl && !strcmp(t->name + nl - sl, NN_PANEL_SUFFIX)) {
            int cout = (int)t->shape[0] * 16, kh = (int)t->shape[1], kw = (int)t->shape[2], cin = (int)t->shape[3] / 16;
            float *o = malloc((size_t)t->count * sizeof(float));
            assert_non_null(o);
            nn_conv_unpack(o, t->data, t->dtype == NNW_F16, cout, kh, kw, cin);
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(nl - sl), t->name);
            int fc = strstr(name, "_transpose") != NULL;
            uint32_t shape[4] = {(uint32_t)cout, fc ? (uint32_t)cin : (uint32_t)kh, (uint32_t)kw, (uint32_t)cin};
            assert_int_equal(nnw_writer_add(w, name, NNW_F32, fc ? 2 : 4, shape, 1, o), 0);
            uint16_t *h = malloc((size_t)t->count * sizeof(uint16_t));
            assert_non_null(h);
            for (uint64_t j = 0; j < t->count; j++) h[j] = nn_f32_to_f16(((const float *)t->data)[j]);
            assert_int_equal(nnw_writer_add(w16, t->name, NNW_F16, 4, t->shape, 1, h), 0);
            free(h);
            free(o);
            packed++;
        } else {
            assert_int_equal(nnw_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->scale, t->data), 0);
            assert_int_equal(nnw_writer_add(w16, t->name, t->dtype, t->ndim, t->shape, t->scale, t->data), 0);
        }
    }
    nnw_close(f);
    if (packed != 133)
        fail_msg("%s holds %d packed kernels, expected 133 (`make weights` rewrites an older file)", g_model, packed);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    if (nnw_writer_save(w, path, err, sizeof err)) fail_msg("%s: %s", path, err);
    nnw_writer_free(w);
    fd = mkstemp(path16);
    assert_true(fd >= 0);
    close(fd);
    unlink(path16);
    if (nnw_writer_save(w16, path16, err, sizeof err)) fail_msg("%s: %s", path16, err);
    nnw_writer_free(w16);
    for (int f16 = 0; f16 <= (getenv("SBF_CROSS") ? 0 : 1); f16++) {
        float *a = embed_with(g_model, f16), *b = embed_with(path, f16);
        assert_memory_equal(a, b, (size_t)g_n * 512 * sizeof(float));
        printf("  %s panels: packed file in place == OHWI file packed at load, bit for bit (%d faces)\n",
               f16 ? "float16" : "float32", g_n);
        if (f16) { /* binary16 panels stored in the file, used in place */
            float *c = embed_with(path16, 1);
            assert_memory_equal(a, c, (size_t)g_n * 512 * sizeof(float));
            printf("  float16 panels: float16 packed file in place == the same, bit for bit\n");
            free(c);
        }
        free(a);
        free(b);
    }
    unlink(path);
    unlink(path16);
}

/* The panels in the file, read back as OHWI (nn_conv_read_ohwi), are the source .npy kernels exactly: a 3x3, a 1x7
 * and a 7x1 convolution and the fully connected bottleneck; and so are those kernels of the plain view
 * (nn_conv_open_plain, what quantisation tools read), with the .npy's shapes (rank 2 for the bottleneck). */
static void test_panels_match_npy(void **state) {
    (void)state;
    static const struct {
        const char *name;
        int cout, kh, kw, cin;
    } ks[] = {{"Conv2d_1a_3x3_kernel", 32, 3, 3, 3},
              {"Block17_1_Branch_1_Conv2d_0b_1x7_kernel", 128, 1, 7, 128},
              {"Block8_6_Branch_1_Conv2d_0c_3x1_kernel", 192, 3, 1, 192},
              {"Bottleneck_kernel_transpose", 512, 1, 1, 1792}};
    char err[256];
    nnw_file *f = nnw_open(g_model, err, sizeof err), *p = nn_conv_open_plain(g_model, err, sizeof err);
    if (!f || !p) fail_msg("%s: %s", g_model, err);
    for (size_t i = 0; i < sizeof ks / sizeof *ks; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/weights/facenet-20180402-114759/%s.npy", shared_dir(), ks[i].name);
        FILE *n = fopen(path, "rb");
        if (!n) fail_msg("cannot open %s (set SBF_SHARED to the shared data folder)", path);
        unsigned char hdr[10];
        assert_int_equal(fread(hdr, 1, 10, n), 10);
        assert_int_equal(hdr[6], 1); /* .npy version 1: 2-byte header length */
        size_t count = (size_t)ks[i].cout * ks[i].kh * ks[i].kw * ks[i].cin;
        float *want = malloc(count * sizeof(float));
        assert_non_null(want);
        assert_int_equal(fseek(n, 10 + (long)(hdr[8] | hdr[9] << 8), SEEK_SET), 0);
        assert_int_equal(fread(want, sizeof(float), count, n), count);
        fclose(n);
        float *got = nn_conv_read_ohwi(f, ks[i].name, ks[i].cout, ks[i].kh, ks[i].kw, ks[i].cin, err, sizeof err);
        if (!got) fail_msg("%s: %s", ks[i].name, err);
        assert_memory_equal(got, want, count * sizeof(float));
        const int fc = strstr(ks[i].name, "_transpose") != NULL;
        const uint32_t shape[4] = {(uint32_t)ks[i].cout, fc ? (uint32_t)ks[i].cin : (uint32_t)ks[i].kh,
                                   (uint32_t)ks[i].kw, (uint32_t)ks[i].cin};
        const nnw_tensor *t = nnw_expect(p, ks[i].name, NNW_F32, fc ? 2 : 4, shape, err, sizeof err);
        if (!t) fail_msg("plain view: %s", err);
        assert_memory_equal(t->data, want, count * sizeof(float));
        free(got);
        free(want);
    }
    /* the plain view: no panels left, every other tensor byte for byte the file's */
    assert_int_equal(nnw_count(p), nnw_count(f));
    int plain = 0;
    for (int i = 0; i < nnw_count(f); i++) {
        const nnw_tensor *t = nnw_at(f, i), *q = nnw_at(p, i);
        size_t nl = strlen(t->name), sl = strlen(NN_PANEL_SUFFIX);
        if (nl > sl && !strcmp(t->name + nl - sl, NN_PANEL_SUFFIX)) {
            assert_int_equal(strlen(q->name), nl - sl);
            assert_memory_equal(q->name, t->name, nl - sl);
            plain++;
        } else {
            assert_string_equal(q->name, t->name);
            assert_int_equal(q->size, t->size);
            assert_memory_equal(q->data, t->data, t->size);
        }
    }
    assert_int_equal(plain, 133);
    assert_non_null(strstr(nnw_meta(p, "layout"), "unpacked to OHWI"));
    nnw_close(p);
    assert_null(nn_conv_read_ohwi(f, "Conv2d_1a_3x3_kernel", 32, 3, 3, 4, err, sizeof err)); /* wrong shape */
    assert_non_null(strstr(err, "Conv2d_1a_3x3_kernel_p16"));
    assert_null(nn_conv_read_ohwi(f, "no_such_kernel", 32, 3, 3, 3, err, sizeof err));
    assert_non_null(strstr(err, "no_such_kernel"));
    nnw_close(f);
}

static void test_refuses_bad_files(void **state) {
    (void)state;
    char err[256] = "";
    assert_null(nn_facenet_load("/nonexistent/facenet.sbfw", 1, err, sizeof err));
    assert_true(strlen(err) > 0);
    /* a valid SBFW file of another model is refused by tensor name */
    const char *other = sbf_model_path("hog-frontal.sbfw");
    FILE *f = fopen(other, "rb");
    if (!f) fail_msg("missing %s", other);
    fclose(f);
    err[0] = 0;
    assert_null(nn_facenet_load(other, 1, err, sizeof err));
    assert_non_null(strstr(err, "Conv2d_1a_3x3_kernel"));
    assert_int_equal(nn_facenet_embed(NULL, g_rgb, 1, NULL), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_scalar),    cmocka_unit_test(test_peak_rss_float32),
        cmocka_unit_test(test_golden_simd),      cmocka_unit_test(test_known_distances),
        cmocka_unit_test(test_f16_weights),      cmocka_unit_test(test_winograd_vs_direct),
        cmocka_unit_test(test_packed_file_equals_ohwi),
        cmocka_unit_test(test_panels_match_npy), cmocka_unit_test(test_refuses_bad_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
