/* tests/test_facenet_int8.c — the int8 FaceNet (weights/facenet-20180402-int8.sbfw, nn/facenet_q.c), the cheap
 * part of its accuracy gate: the golden crops ($SBF_SHARED/data/aligned-golden) within cosine 0.999 of their
 * float32 embeddings with every int8 kernel flavour this machine runs (and the flavours' embeddings equal to
 * 1e-5: their integer paths are identical, only the float bottleneck differs); 1/2/3 threads and batches give
 * the same embeddings; the 3x3 stride-1 layers as exact Winograd equal to the direct ones bit for bit; the
 * float32 calibration graph is the float32 network; faces of lfw-dev gate photos (not used for calibration,
 * tools/int8.h) within cosine 0.999 of float32; a file missing a scale is refused by name.  The full gate (every
 * gate face) is tools/int8-gate.  Needs the weight files (make setup) and the shared data: fails, never skips,
 * when they are missing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>
#include "nn/conv.h"
#include "nn/facenet.h"
#include "nn/facenet_q.h"
#include "nn/qgemm.h"
#include "nn/weights.h"
#include "src/image.h"
#include "src/models.h"
#include "src/pipeline.h"
#include "tools/int8.h"

#define INT8_FILE "facenet-20180402-int8.sbfw"
static int g_n;
static char g_names[8][64];
static float g_gold[8][512];
static unsigned char *g_rgb;
static char g_model[4096], g_int8[4096];

static const char *shared_dir(void) {
    const char *s = getenv("SBF_SHARED");
    return s && *s ? s : "../shared";
}

static double max_diff(const float *a, const float *b, int n) {
    double m = 0;
    for (int i = 0; i < n; i++) m = fabs((double)a[i] - b[i]) > m ? fabs((double)a[i] - b[i]) : m;
    return m;
}

static int setup(void **state) {
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/data/aligned-golden/embeddings.jsonl", shared_dir());
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s (set SBF_SHARED)\n", path);
        return -1;
    }
    static char line[65536];
    while (g_n < 8 && fgets(line, sizeof line, f)) {
        char *p = strstr(line, "\"path\""), *e;
        if (!p || !(p = strchr(p + 6, '"')) || !(e = strchr(p + 1, '"')) || e - p - 1 >= 64) continue;
        snprintf(g_names[g_n], 64, "%.*s", (int)(e - p - 1), p + 1);
        if (!(p = strchr(e, '['))) continue;
        p++;
        for (int i = 0; i < 512; i++) {
            g_gold[g_n][i] = strtof(p, &p);
            while (*p == ',' || *p == ' ') p++;
        }
        g_n++;
    }
    fclose(f);
    if (g_n < 5) {
        fprintf(stderr, "%s: %d embeddings\n", path, g_n);
        return -1;
    }
    if (getenv("SBF_CROSS")) g_n = 1; /* a pass under qemu takes seconds: one face there */
    g_rgb = malloc((size_t)g_n * 160 * 160 * 3);
    for (int i = 0; i < g_n; i++) {
        char ip[4300], err[256];
        sbf_image img;
        snprintf(ip, sizeof ip, "%s/data/aligned-golden/%s", shared_dir(), g_names[i]);
        if (sbf_image_load(ip, SBF_DEFAULT_MAX_PIXELS, &img, err, sizeof err) || img.w != 160 || img.h != 160) {
            fprintf(stderr, "%s: %s\n", ip, err);
            return -1;
        }
        memcpy(g_rgb + (size_t)i * 160 * 160 * 3, img.rgb, 160 * 160 * 3);
        sbf_image_free(&img);
    }
    snprintf(g_model, sizeof g_model, "%s", sbf_model_path(SBF_FACENET_FILE));
    snprintf(g_int8, sizeof g_int8, "%s", sbf_model_path(INT8_FILE));
    const char *need[] = {g_model, g_int8};
    for (int i = 0; i < 2; i++)
        if (access(need[i], R_OK)) {
            fprintf(stderr, "missing %s: run `make setup` (or make weights)\n", need[i]);
            return -1;
        }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    free(g_rgb);
    return 0;
}

static float *embed_file(const char *path, int threads, int batch, const unsigned char *rgb, int n) {
    char err[256];
    nn_facenet *net = nn_facenet_load(path, threads, err, sizeof err);
    if (!net) fail_msg("load %s: %s", path, err);
    nn_facenet_set_batch(net, batch);
    float *e = malloc(sizeof(float) * 512 * (size_t)n);
    assert_non_null(e);
    assert_int_equal(nn_facenet_embed(net, rgb, n, e), 0);
    nn_facenet_free(net);
    return e;
}

/* The int8 net loaded with given kernels and load flags (NN_FACENET_DIRECT); *nwino (when not NULL): its
 * Winograd layers. */
static float *embed_kern_ex(const char *path, const nn_qkernels *k, int flags, const unsigned char *rgb, int n,
                            int *nwino) {
    char err[256];
    nnw_file *f = nnw_open(path, err, sizeof err);
    if (!f) fail_msg("open %s: %s", path, err);
    nn_facenet_q *q = nn_fq_load(f, 1, k, flags, err, sizeof err);
    nnw_close(f);
    if (!q) fail_msg("load %s: %s", path, err);
    assert_string_equal(nn_fq_kernels(q), k->name);
    if (nwino) *nwino = nn_fq_winograd_layers(q);
    nn_fq_set_batch(q, 1);
    float *e = malloc(sizeof(float) * 512 * (size_t)n);
    assert_non_null(e);
    assert_int_equal(nn_fq_embed(q, rgb, n, e), 0);
    nn_fq_free(q);
    return e;
}

static float *embed_kern(const char *path, const nn_qkernels *k, const unsigned char *rgb, int n) {
    return embed_kern_ex(path, k, 0, rgb, n, NULL);
}

/* The 3x3 stride-1 layers as exact Winograd (nn/qwino.h) give the direct layers' embeddings bit for bit, with the
 * kernels of every level this machine runs; all 20 such layers take the Winograd form. */
static void test_winograd_equals_direct(void **state) {
    (void)state;
    static const char *isas[] = {"scalar", "avx2", "avx512", "neon"};
    int ran = 0;
    for (int i = 0; i < 4; i++) {
        if (nn_set_isa(isas[i])) continue;
        const nn_qkernels *kern = nn_qkern();
        int n = !strcmp(isas[i], "scalar") && g_n > 2 ? 2 : g_n, nw = -1, nd = -1;
        float *w = embed_kern_ex(g_int8, kern, 0, g_rgb, n, &nw);
        float *d = embed_kern_ex(g_int8, kern, NN_FACENET_DIRECT, g_rgb, n, &nd);
        printf("  int8 %-10s %d Winograd layers: %d faces %s the direct layers'\n", kern->name, nw, n,
               memcmp(w, d, sizeof(float) * 512 * (size_t)n) ? "DIFFER from" : "equal to");
        assert_int_equal(nw, 20);
        assert_int_equal(nd, 0);
        assert_memory_equal(w, d, sizeof(float) * 512 * (size_t)n);
        free(w);
        free(d);
        ran++;
    }
    nn_set_isa("auto");
    assert_true(ran >= 2);
}

/* Every ISA level this build and CPU run, with the int8 kernels each gets; where a level picks a second
 * flavour by CPU feature (VNNI within avx512, sdot within neon), the level's other flavour too. */
static void test_golden_every_flavour(void **state) {
    (void)state;
    static const char *isas[] = {"scalar", "avx2", "avx512", "neon", "avx512", "neon"};
    float *first = NULL;
    int ran = 0, nfirst = 0;
    for (int i = 0; i < 6; i++) {
        if (nn_set_isa(isas[i])) continue;
        const nn_qkernels *kern = nn_qkern();
        if (i >= 4) { /* the level's flavour on a CPU without the extra feature */
            const nn_qkernels *plain =
                nn_qkernels_for(nn_isa_get(), nn_cpu_features() & ~(NN_QCPU_VNNI | NN_QCPU_SDOT));
            if (plain == kern) continue;
            kern = plain;
        }
        int n = !strcmp(isas[i], "scalar") && g_n > 2 ? 2 : g_n; /* the portable kernel is slow */
        float *e = i >= 4 ? embed_kern(g_int8, kern, g_rgb, n) : embed_file(g_int8, 1, 1, g_rgb, n);
        const char *flavour = kern->name;
        for (int k = 0; k < n; k++) {
            double c = i8_cosine(e + 512 * k, g_gold[k]);
            printf("  int8 %-10s %-20s cosine to float32 %.6f\n", flavour, g_names[k], c);
            if (c < 0.999) fail_msg("%s (%s): cosine %.6f < 0.999", g_names[k], flavour, c);
        }
        if (!first) {
            first = e;
            nfirst = n;
        } else {
            double d = max_diff(first, e, 512 * (n < nfirst ? n : nfirst));
            printf("  int8 %-10s vs the first flavour: max |diff| %.2e\n", flavour, d);
            assert_true(d <= 1e-5);
            free(e);
        }
        ran++;
    }
    nn_set_isa("auto");
    free(first);
    assert_true(ran >= 2); /* scalar and at least one SIMD flavour */
}

static void test_threads_and_batches(void **state) {
    (void)state;
    int n = g_n >= 5 ? 7 : g_n;
    unsigned char *rgb = malloc((size_t)n * 160 * 160 * 3);
    assert_non_null(rgb);
    for (int i = 0; i < n; i++) memcpy(rgb + (size_t)i * 76800, g_rgb + (size_t)(i % g_n) * 76800, 76800);
    float *ref = embed_file(g_int8, 1, 1, rgb, n);
    static const int cfg[][2] = {{2, 1}, {2, 2}, {3, 1}};
    for (int c = 0; c < 3; c++) {
        float *e = embed_file(g_int8, cfg[c][0], cfg[c][1], rgb, n);
        double d = max_diff(ref, e, 512 * n);
        printf("  int8 threads=%d batch=%d vs 1 thread: max |diff| %.2e\n", cfg[c][0], cfg[c][1], d);
        assert_true(d <= 1e-6);
        free(e);
    }
    free(ref);
    free(rgb);
}

/* The calibration graph (nn/facenet_q.c in float32) is the float32 network of nn/facenet.c. */
static void test_calibration_graph_is_float32(void **state) {
    (void)state;
    char err[256];
    nnw_file *f = nn_conv_open_plain(g_model, err, sizeof err);
    if (!f) fail_msg("%s: %s", g_model, err);
    nn_facenet_q *q = nn_fq_load_calib(f, NULL, NULL, err, sizeof err);
    nnw_close(f);
    if (!q) fail_msg("calibration graph: %s", err);
    float *e = malloc(sizeof(float) * 512 * (size_t)g_n);
    assert_int_equal(nn_fq_embed(q, g_rgb, g_n, e), 0);
    nn_fq_free(q);
    float *ref = embed_file(g_model, 1, 1, g_rgb, g_n);
    double d = max_diff(e, ref, 512 * g_n), dg = 0;
    for (int k = 0; k < g_n; k++) dg = fmax(dg, max_diff(e + 512 * k, g_gold[k], 512));
    printf("  calibration graph vs float32 network: max |diff| %.2e (vs golden %.2e)\n", d, dg);
    assert_true(d <= 1e-5);
    assert_true(dg <= 1e-4);
    free(e);
    free(ref);
}

/* Faces of lfw-dev photos not used for calibration, through the real pipeline: int8 within 0.999 of float32. */
static void test_lfw_gate_sample(void **state) {
    (void)state;
    const int want = getenv("SBF_CROSS") ? 2 : 20;
    char dir[4200], err[512];
    snprintf(dir, sizeof dir, "%s/data/lfw-dev", shared_dir());
    struct dirent **people;
    int np = scandir(dir, &people, NULL, alphasort);
    if (np <= 0) fail_msg("cannot list %s", dir);
    sbf_pipeline_opts o;
    sbf_pipeline_defaults(&o);
    o.embed = 0;
    o.threads = 2;
    sbf_pipeline *p = sbf_pipeline_new(&o, err, sizeof err);
    if (!p) fail_msg("pipeline: %s", err);
    char fnet_err[256];
    nn_facenet *fl = nn_facenet_load(g_model, 0, fnet_err, sizeof fnet_err),
               *q8 = nn_facenet_load(g_int8, 0, fnet_err, sizeof fnet_err);
    if (!fl || !q8) fail_msg("load: %s", fnet_err);
    int photos = 0, faces = 0;
    double worst = 1;
    /* the first gate photo of every 37th person, alphabetically */
    for (int i = 0; i < np && photos < want; i++) {
        if (people[i]->d_name[0] == '.' || i % 37) continue;
        char pdir[4500];
        snprintf(pdir, sizeof pdir, "%s/%s", dir, people[i]->d_name);
        struct dirent **ph;
        int nph = scandir(pdir, &ph, NULL, alphasort);
        for (int k = 0; k < nph; k++) {
            char path[4800];
            snprintf(path, sizeof path, "%s/%s", pdir, ph[k]->d_name);
            if (ph[k]->d_name[0] != '.' && !i8_calibration_photo(path) && photos < want) {
                sbf_photo_job j;
                memset(&j, 0, sizeof j);
                j.path = path;
                if (sbf_pipeline_run(p, &j, 1, err, sizeof err) || j.failed) fail_msg("%s: %s", path, j.err);
                if (j.nfaces) {
                    float *a = malloc(sizeof(float) * 512 * (size_t)j.nfaces),
                          *b = malloc(sizeof(float) * 512 * (size_t)j.nfaces);
                    assert_int_equal(nn_facenet_embed(fl, j.crops, j.nfaces, a), 0);
                    assert_int_equal(nn_facenet_embed(q8, j.crops, j.nfaces, b), 0);
                    for (int f = 0; f < j.nfaces; f++) {
                        double c = i8_cosine(a + 512 * f, b + 512 * f);
                        worst = c < worst ? c : worst;
                        if (c < 0.999) fail_msg("%s face %d: int8 cosine to float32 %.6f < 0.999", path, f, c);
                        faces++;
                    }
                    free(a);
                    free(b);
                    photos++;
                }
                sbf_photo_job_clear(&j);
                k = nph; /* one photo per person */
            }
        }
        for (int k = 0; k < nph; k++) free(ph[k]);
        free(ph);
    }
    for (int i = 0; i < np; i++) free(people[i]);
    free(people);
    printf("  %d lfw-dev gate photos, %d faces: worst int8 cosine to float32 %.6f\n", photos, faces, worst);
    assert_int_equal(photos, want);
    nn_facenet_free(fl);
    nn_facenet_free(q8);
    sbf_pipeline_free(p);
}

/* A copy of the int8 file without tensor `skip` (NULL: none) and, unless keep_meta, without its metadata, saved to
 * a temporary file: the reason nn_facenet_load refuses it into err ("" when it loads). */
static void load_copy(const char *skip, int keep_meta, char *err, size_t errlen) {
    nnw_file *f = nnw_open(g_int8, err, errlen);
    if (!f) fail_msg("%s: %s", g_int8, err);
    assert_true(nn_fq_is_int8(f));
    nnw_writer *w = nnw_writer_new();
    for (int i = 0; keep_meta && i < nnw_meta_count(f); i++) {
        const char *k, *v;
        nnw_meta_at(f, i, &k, &v);
        assert_int_equal(nnw_writer_meta(w, k, v), 0);
    }
    for (int i = 0; i < nnw_count(f); i++) {
        const nnw_tensor *t = nnw_at(f, i);
        if (skip && !strcmp(t->name, skip)) continue;
        assert_int_equal(nnw_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->scale, t->data), 0);
    }
    char path[] = "/tmp/sbf-int8-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(nnw_writer_save(w, path, err, errlen), 0);
    nnw_writer_free(w);
    nnw_close(f);
    err[0] = 0;
    nn_facenet *net = nn_facenet_load(path, 1, err, errlen);
    if (net) err[0] = 0;
    nn_facenet_free(net);
    unlink(path);
}

/* A copy of the int8 file without one activation scale is refused, naming the tensor; a file without the
 * "activations" metadata (one made for 8-bit activations, before they were 12-bit) is refused as older. */
static void test_refuses_incomplete_file(void **state) {
    (void)state;
    char err[256];
    load_copy("Block17_3_concat_act_scale", 1, err, sizeof err);
    printf("  refused: %s\n", err);
    assert_non_null(strstr(err, "Block17_3_concat_act_scale"));
    load_copy(NULL, 0, err, sizeof err);
    printf("  refused: %s\n", err);
    assert_non_null(strstr(err, "older format"));
    load_copy(NULL, 1, err, sizeof err);
    assert_string_equal(err, "");
    nn_facenet *net = nn_facenet_load(g_int8, 1, err, sizeof err);
    if (!net) fail_msg("%s", err);
    assert_string_equal(nn_facenet_precision(net), "int8");
    nn_facenet_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_every_flavour), cmocka_unit_test(test_winograd_equals_direct),
        cmocka_unit_test(test_threads_and_batches),  cmocka_unit_test(test_calibration_graph_is_float32),
        cmocka_unit_test(test_lfw_gate_sample),      cmocka_unit_test(test_refuses_incomplete_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
