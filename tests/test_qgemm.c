/* tests/test_qgemm.c — the int8-weight convolution (nn/qgemm.h): every flavour this machine runs (scalar,
 * AVX2, AVX-512 VNNI; NEON widening and sdot under qemu in the cross builds) against the naive reference
 * nn_qref_conv2d, exactly (integer sums, the same float epilogue): odd channel counts (k-block padding),
 * partial tiles and panels, 1x1/3x3/1x7/7x1/2x2/5x3 kernels, stride 1/2, VALID/SAME, input and output
 * channel slices, float / 12-bit / both outputs, bias, residual add, ReLU, extreme values (the largest sums;
 * the sdot flavour's split of each activation at bit 7), 1 and 3 threads; the 3x3 stride-1 shapes also as exact
 * Winograd F(2x2, 3x3) (nn/qwino.h: the same outputs bit for bit, sums that wrap inside it, the bound it refuses
 * past); and which flavour each ISA level uses (nn_qkernels_for: VNNI within avx512, sdot within neon, by CPU
 * feature). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "nn/qgemm.h"
#include "nn/facenet.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(g_rng >> 33);
}

typedef struct {
    int n, h, w, cin, in_ld, cout, kh, kw, s;
    nn_padding pad;
    int flags, outs; /* outs: 1 float, 2 quantised, 3 both */
    int extreme;     /* 0 random, 1 all NN_QMAX x +-127, 2 127 and 128 (the sdot split's edges) x +-127,
                        3 all NN_QMAX x +-56 (the largest sums the exact Winograd form takes) */
    int wino;        /* 1: as exact Winograd F(2x2, 3x3) (nn/qwino.h); 2: Winograd asked for, must be refused */
} shape;

/* Every flavour this machine runs: each level's kernels with the CPU's features, and without the features
 * that pick a second flavour within the level (VNNI, sdot). */
#define NFLAV (2 * NN_ISA_COUNT)
static int flavours(const nn_qkernels *out[NFLAV]) {
    const unsigned f = nn_cpu_features();
    int n = 0;
    for (int i = 0; i < NN_ISA_COUNT; i++) {
        if (!nn_isa_runs((nn_isa)i, f)) continue;
        const nn_qkernels *k[2] = {nn_qkernels_for((nn_isa)i, f),
                                   nn_qkernels_for((nn_isa)i, f & ~(NN_QCPU_VNNI | NN_QCPU_SDOT))};
        for (int v = 0; v < 2; v++) {
            int seen = !k[v];
            for (int j = 0; j < n; j++) seen |= out[j] == k[v];
            if (!seen) out[n++] = k[v];
        }
    }
    return n;
}

/* Runs one shape on flavour k with nthreads and compares with the reference; returns the number of outputs
 * compared. */
static long check_shape(const shape *sh, const nn_qkernels *k, int nthreads) {
    const int taps = sh->kh * sh->kw;
    size_t in_count = (size_t)sh->n * sh->h * sh->w * sh->in_ld + 64; /* rows are read up to the k block */
    uint16_t *in = malloc(in_count * sizeof *in);
    int8_t *wt = malloc((size_t)sh->cout * taps * sh->cin);
    float *wscale = malloc(sizeof(float) * (size_t)sh->cout), *bias = malloc(sizeof(float) * (size_t)sh->cout);
    float *scale = malloc(sizeof(float) * (size_t)sh->cout);
    assert_non_null(in);
    assert_non_null(wt);
    assert_non_null(wscale);
    assert_non_null(bias);
    assert_non_null(scale);
    for (size_t i = 0; i < in_count; i++)
        in[i] = sh->extreme == 1 || sh->extreme == 3 ? NN_QMAX
                : sh->extreme == 2                   ? (uint16_t)(i % 2 ? 127 : 128)
                                                     : (uint16_t)(rnd() % 4 == 0 ? 0 : rnd() % (NN_QMAX + 1));
    const int wmax = sh->extreme == 3 ? 56 : 127;
    for (size_t i = 0; i < (size_t)sh->cout * taps * sh->cin; i++)
        wt[i] = sh->extreme ? (int8_t)((i / ((size_t)taps * sh->cin)) % 2 ? wmax : -wmax)
                            : (int8_t)((int)(rnd() % 255) - 127);
    const float in_scale = 0.02f;
    for (int j = 0; j < sh->cout; j++) {
        wscale[j] = 0.001f * (float)(1 + rnd() % 50);
        bias[j] = ((float)(rnd() % 2001) - 1000.0f) * 0.01f;
        scale[j] = in_scale * wscale[j];
    }
    nn_qconv cv;
    assert_int_equal(nn_qconv_init(&cv, NULL, k, wt, wscale, bias, in_scale, sh->cout, sh->kh, sh->kw, sh->cin, sh->s,
                                   sh->s, sh->pad),
                     0);
    if (sh->wino) {
        /* switched when the flavour has the Winograd products and the sums are small enough (shape 2: too large) */
        int want = sh->wino == 1 && k->gemm16 ? 0 : 1;
        assert_int_equal(nn_qconv_winograd(&cv, wt), want);
        assert_int_equal(cv.wino != NULL, want == 0);
        assert_int_equal(nn_qconv_ws_bytes(&cv) > 0, want == 0);
    }
    nn_qconv_call c;
    memset(&c, 0, sizeof c);
    c.cv = &cv;
    c.in = in;
    c.n = sh->n;
    c.h = sh->h;
    c.w = sh->w;
    c.in_ld = sh->in_ld;
    c.flags = sh->flags;
    nn_qconv_plan(&c, 1);
    c.m = sh->n * c.oh * c.ow;                                 /* pixels (a Winograd plan counts 2x2 tiles) */
    const int ldf = sh->cout + 5, ldq = sh->cout + 3, off = 2; /* output channel slices */
    size_t m = (size_t)c.m;
    float *of = malloc(sizeof(float) * (m * ldf + 8)), *rf = malloc(sizeof(float) * (m * ldf + 8));
    uint16_t *oq = malloc(sizeof(uint16_t) * (m * ldq + 8)), *rq = malloc(sizeof(uint16_t) * (m * ldq + 8));
    assert_non_null(of);
    assert_non_null(rf);
    assert_non_null(oq);
    assert_non_null(rq);
    for (size_t i = 0; i < m * ldf + 8; i++) of[i] = rf[i] = ((float)(rnd() % 2001) - 1000.0f) * 0.003f;
    memset(oq, 7, sizeof(uint16_t) * (m * ldq + 8));
    memset(rq, 7, sizeof(uint16_t) * (m * ldq + 8));
    float *qinv = malloc(sizeof(float) * (size_t)sh->cout); /* one output scale per channel */
    assert_non_null(qinv);
    for (int j = 0; j < sh->cout; j++) qinv[j] = 1.0f / (0.001f * (float)(1 + rnd() % 20));
    c.outf = sh->outs & 1 ? of + off : NULL;
    c.ldf = ldf;
    c.outq = sh->outs & 2 ? oq + off : NULL;
    c.ldq = ldq;
    c.out_qinv = qinv;
    nn_pool *pool = nthreads > 1 ? nn_pool_new(nthreads) : NULL;
    nn_qconv_run(&c, pool);
    nn_pool_free(pool);
    nn_qref_conv2d(in, sh->n, sh->h, sh->w, sh->cin, sh->in_ld, wt, scale, bias, sh->cout, sh->kh, sh->kw, sh->s, sh->s,
                   sh->pad, sh->outs & 1 ? rf + off : NULL, ldf, sh->outs & 2 ? rq + off : NULL, ldq, qinv, sh->flags);
    for (size_t i = 0; i < m * ldf + 8; i++)
        if (of[i] != rf[i])
            fail_msg("%s: float output %zu (pixel %zu, channel %zu) = %.9g, reference %.9g (cin %d cout %d %dx%d/%d)",
                     k->name, i, (i - off) / ldf, (i - off) % ldf, of[i], rf[i], sh->cin, sh->cout, sh->kh, sh->kw,
                     sh->s);
    for (size_t i = 0; i < m * ldq + 8; i++)
        if (oq[i] != rq[i])
            fail_msg("%s: quantised output %zu = %d, reference %d (cin %d cout %d %dx%d/%d)", k->name, i, oq[i], rq[i],
                     sh->cin, sh->cout, sh->kh, sh->kw, sh->s);
    nn_qconv_free(&cv);
    free(in);
    free(wt);
    free(wscale);
    free(bias);
    free(scale);
    free(of);
    free(rf);
    free(oq);
    free(rq);
    free(qinv);
    return (long)m * sh->cout;
}

static const shape g_shapes[] = {
    /* n h w cin in_ld cout kh kw s pad flags outs extreme */
    {1, 9, 5, 7, 7, 13, 3, 3, 1, NN_PAD_SAME, NN_RELU, 3, 0, 0},
    {2, 9, 5, 13, 16, 33, 1, 1, 1, NN_PAD_VALID, 0, 1, 0, 0},
    {1, 9, 5, 33, 40, 17, 3, 3, 2, NN_PAD_VALID, NN_RELU, 2, 0, 0},
    {1, 8, 8, 64, 64, 48, 1, 7, 1, NN_PAD_SAME, NN_RELU | NN_ACCUM, 3, 0, 0},
    {1, 8, 8, 32, 96, 32, 7, 1, 1, NN_PAD_SAME, NN_ACCUM, 1, 0, 0},
    {2, 7, 6, 3, 3, 32, 3, 3, 2, NN_PAD_VALID, NN_RELU, 2, 0,
     0}, /* the first layer's shape: 3 channels, pixel stride 3 */
    {1, 6, 7, 16, 16, 80, 2, 2, 1, NN_PAD_SAME, NN_RELU, 3, 0, 0},
    {1, 9, 5, 20, 24, 5, 5, 3, 2, NN_PAD_SAME, 0, 3, 0, 0},
    {1, 3, 3, 96, 96, 64, 1, 1, 1, NN_PAD_SAME, NN_RELU | NN_ACCUM, 3, 0, 0},
    {1, 5, 5, 256, 256, 40, 3, 3, 1, NN_PAD_SAME, 0, 1, 1, 0},   /* largest sums: 4095 x +-127 x 2304 */
    {1, 3, 3, 4129, 4129, 20, 1, 1, 1, NN_PAD_SAME, 0, 1, 1, 0}, /* the largest K packing accepts */
    {1, 5, 5, 256, 256, 40, 3, 3, 1, NN_PAD_SAME, 0, 1, 2, 0},   /* 127 / 128: all low or only high bits (sdot split) */
    {1, 4, 4, 30, 30, 19, 1, 1, 1, NN_PAD_VALID, NN_RELU, 3, 1, 0},
    /* rows prepared once per panel block (VNNI): the first layer's 3 channels, and the most channels that allows */
    {1, 9, 9, 3, 3, 80, 3, 3, 2, NN_PAD_VALID, NN_RELU, 3, 0, 0},
    {1, 3, 3, 2045, 2050, 70, 1, 1, 1, NN_PAD_SAME, NN_ACCUM, 3, 1, 0},
    /* exact Winograd F(2x2, 3x3): odd sizes (partial tiles), VALID / SAME, odd cin (k padding), one and two panels,
     * many blocks of tiles, the largest sums it takes, and one it must refuse */
    {2, 7, 5, 33, 36, 40, 3, 3, 1, NN_PAD_SAME, NN_RELU | NN_ACCUM, 3, 0, 1},
    {1, 9, 6, 32, 32, 17, 3, 3, 1, NN_PAD_VALID, NN_RELU, 2, 0, 1},
    {1, 17, 17, 32, 96, 32, 3, 3, 1, NN_PAD_SAME, NN_RELU, 3, 0, 1}, /* Block35's shape: 81 tiles */
    {1, 3, 4, 1, 1, 5, 3, 3, 1, NN_PAD_SAME, 0, 1, 0, 1},
    {1, 10, 9, 192, 192, 50, 3, 3, 1, NN_PAD_SAME, NN_ACCUM, 3, 0, 1},
    {1, 5, 6, 256, 256, 40, 3, 3, 1, NN_PAD_SAME, 0, 3, 3, 1}, /* sums up to 4095 x 56 x 2304 < 2^29 */
    {1, 5, 5, 256, 256, 20, 3, 3, 1, NN_PAD_SAME, 0, 1, 1, 2}, /* 4095 x 127 x 2304 >= 2^29: stays direct */
};

static void test_flavours_match_reference(void **state) {
    (void)state;
    const nn_qkernels *fl[NFLAV];
    const int nfl = flavours(fl);
    int ran_avx2 = 0, ran_neon = 0, ran_scalar = 0, ran_vnni = 0, ran_sdot = 0;
    for (int f = 0; f < nfl; f++) {
        const nn_qkernels *k = fl[f];
        long n = 0;
        for (size_t s = 0; s < sizeof g_shapes / sizeof *g_shapes; s++) {
            n += check_shape(&g_shapes[s], k, 1);
            if (s % 3 == 0) n += check_shape(&g_shapes[s], k, 3);
        }
        /* random shapes */
        for (int i = 0; i < 40; i++) {
            shape sh;
            static const int ks[][2] = {{1, 1}, {3, 3}, {1, 7}, {7, 1}, {1, 3}, {3, 1}, {2, 2}, {5, 3}};
            int kk = (int)(rnd() % 8);
            sh.n = 1 + (int)(rnd() % 2);
            sh.h = 1 + (int)(rnd() % 9);
            sh.w = 1 + (int)(rnd() % 9);
            sh.cin = 1 + (int)(rnd() % 70);
            sh.in_ld = sh.cin + (int)(rnd() % 3) * 5;
            sh.cout = 1 + (int)(rnd() % 70);
            sh.kh = ks[kk][0];
            sh.kw = ks[kk][1];
            sh.s = 1 + (int)(rnd() % 2);
            sh.pad = rnd() % 2 ? NN_PAD_SAME : NN_PAD_VALID;
            if (sh.pad == NN_PAD_VALID && (sh.h < sh.kh || sh.w < sh.kw)) sh.pad = NN_PAD_SAME;
            sh.flags = (int)(rnd() % 4);
            sh.outs = 1 + (int)(rnd() % 3);
            if ((sh.flags & NN_ACCUM) && !(sh.outs & 1)) sh.outs |= 1;
            sh.extreme = 0;
            sh.wino = 0;
            n += check_shape(&sh, k, 1 + (int)(rnd() % 2) * 2);
            if (sh.kh == 3 && sh.kw == 3 && sh.s == 1) { /* the same as exact Winograd */
                sh.wino = 1;
                n += check_shape(&sh, k, 1 + (int)(rnd() % 2) * 2);
            }
        }
        printf("  %-11s k block %d: %ld outputs equal to the reference\n", k->name, k->kb, n);
        ran_scalar |= !strcmp(k->name, "scalar");
        ran_avx2 |= !strcmp(k->name, "avx2");
        ran_vnni |= !strcmp(k->name, "avx512vnni");
        ran_neon |= !strcmp(k->name, "neon");
        ran_sdot |= !strcmp(k->name, "neondot");
    }
    assert_true(ran_scalar);
    const unsigned cpu = nn_cpu_features();
#if defined(__x86_64__)
    assert_true(ran_avx2 || !nn_isa_runs(NN_ISA_AVX2, cpu));
    assert_int_equal(ran_vnni, nn_isa_runs(NN_ISA_AVX512, cpu) && (cpu & NN_QCPU_VNNI) == NN_QCPU_VNNI);
#endif
#if defined(__ARM_NEON)
    assert_true(ran_neon); /* the widening flavour runs on every NEON machine */
#endif
#if defined(__ARM_NEON) && defined(__aarch64__)
    assert_int_equal(ran_sdot, (cpu & NN_QCPU_SDOT) != 0);
#endif
    (void)ran_avx2;
    (void)ran_vnni;
    (void)ran_neon;
    (void)ran_sdot;
    (void)cpu;
}

/* The int8 kernels follow the one ISA level: avx512 -> VNNI when the CPU has it, neon -> sdot when it has it. */
static void test_choice_follows_isa(void **state) {
    (void)state;
    assert_string_equal(nn_qkernels_for(NN_ISA_SCALAR, ~0u)->name, "scalar");
    assert_null(nn_qkernels_for(NN_ISA_COUNT, 0));
#if defined(__x86_64__)
    assert_string_equal(nn_qkernels_for(NN_ISA_AVX2, ~0u)->name, "avx2");
    assert_string_equal(nn_qkernels_for(NN_ISA_AVX512, ~0u)->name, "avx512vnni");
    assert_string_equal(nn_qkernels_for(NN_ISA_AVX512, nn_isa_needs(NN_ISA_AVX512))->name, "avx2"); /* AVX-512F alone */
    assert_string_equal(nn_qkernels_for(NN_ISA_AVX512, ~NN_CPU_AVX512VL)->name, "avx2"); /* VNNI needs BW, VL too */
    assert_null(nn_qkernels_for(NN_ISA_NEON, ~0u));
#elif defined(__aarch64__)
    assert_string_equal(nn_qkernels_for(NN_ISA_NEON, NN_CPU_NEON | NN_CPU_ASIMDDP)->name, "neondot");
    assert_string_equal(nn_qkernels_for(NN_ISA_NEON, NN_CPU_NEON)->name, "neon");
    assert_null(nn_qkernels_for(NN_ISA_AVX2, ~0u));
#elif defined(__ARM_NEON)
    assert_string_equal(nn_qkernels_for(NN_ISA_NEON, ~0u)->name, "neon"); /* armv7: no sdot kernel */
#endif
    static const char *const levels[] = {"scalar", "avx2", "avx512", "neon"};
    for (int i = 0; i < 4; i++) {
        if (nn_set_isa(levels[i])) continue;
        assert_ptr_equal(nn_qkern(), nn_qkernels_for(nn_isa_get(), nn_cpu_features()));
    }
    assert_int_equal(nn_set_isa("auto"), 0);
    printf("  this machine: level %s -> int8 %s\n", nn_isa_name(), nn_qkern()->name);
}

static void test_requantise_rounding(void **state) {
    (void)state;
    assert_int_equal(nn_q12(-3.0f), 0);
    assert_int_equal(nn_q12(0.49f), 0);
    assert_int_equal(nn_q12(0.5f), 1);
    assert_int_equal(nn_q12(1.49f), 1);
    assert_int_equal(nn_q12(255.5f), 256);
    assert_int_equal(nn_q12(4094.5f), NN_QMAX);
    assert_int_equal(nn_q12(1e9f), NN_QMAX);
}

static void test_bad_arguments(void **state) {
    (void)state;
    nn_qconv cv;
    int8_t w[9] = {0};
    float s[1] = {1};
    assert_int_equal(nn_qconv_init(&cv, NULL, NULL, w, s, NULL, 1.0f, 0, 3, 3, 1, 1, 1, NN_PAD_SAME), -1);
    assert_int_equal(nn_qconv_init(&cv, NULL, NULL, w, NULL, NULL, 1.0f, 1, 3, 3, 1, 1, 1, NN_PAD_SAME), -1);
    assert_int_equal(nn_qconv_init(&cv, NULL, NULL, w, s, NULL, 1.0f, 1, 3, 3, 1, 1, 1, NN_PAD_SAME), 0);
    nn_qconv_free(&cv);
    w[4] = -128; /* outside the symmetric range the bound of the int32 sums relies on */
    assert_int_equal(nn_qconv_init(&cv, NULL, NULL, w, s, NULL, 1.0f, 1, 3, 3, 1, 1, 1, NN_PAD_SAME), -1);
    /* K = 4130 taps x channels: 4130 x 127 x 4095 >= 2^31, the sums could overflow; 4129 cannot */
    int8_t *big = calloc(4130, 1);
    assert_non_null(big);
    assert_int_equal(nn_qconv_init(&cv, NULL, NULL, big, s, NULL, 1.0f, 1, 1, 1, 4130, 1, 1, NN_PAD_VALID), -1);
    assert_int_equal(nn_qconv_init(&cv, NULL, NULL, big, s, NULL, 1.0f, 1, 1, 1, 4129, 1, 1, NN_PAD_VALID), 0);
    nn_qconv_free(&cv);
    free(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flavours_match_reference),
        cmocka_unit_test(test_choice_follows_isa),
        cmocka_unit_test(test_requantise_rounding),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
