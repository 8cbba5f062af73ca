/* tests/test_kernels.c — every kernel family's table (nn/cpu.h) at every ISA level this machine (or qemu) runs,
 * called directly against the family's scalar reference on odd sizes and edge cases:
 *   - nn: the conv/GEMM micro-kernel (float32 and binary16 panels, 1..6 rows, 1..16 columns, taps, bias,
 *     residual add, ReLU), the two-panel kernel, the max-pool row; nn_gemm_dots (the clustering graph's entry);
 *     the int8 micro-kernels (nn/qgemm.h; within a level also the flavour a CPU without VNNI / sdot gets);
 *   - HOG: grad_row, votes_row, sep, sep2d (both the whole-plane and the ring-buffer paths), resize_row (the
 *     shuffle, gather and scalar-tail paths, reads bounded by `avail`), feat_row;
 *   - landmarks: the leaf accumulation (float32 and binary16 leaves);
 * and the ISA choice itself (SORTBYFACE_ISA, an ISA the CPU lacks, one level for every family).
 *
 * Exact (bit for bit) where the kernel promises it: all of HOG and landmarks (they mirror dlib's operation
 * order), the max-pool, the int8 kernels (integer sums, one epilogue), and the SIMD GEMM levels among themselves (the same fused multiply-adds in the same
 * order).  Tolerance where float rounding differs: a SIMD GEMM sums each dot in the scalar kernel's order but
 * with fused multiply-adds, so each is within (K + 2) * FLT_EPSILON * S of the exact sum (S = |bias| + |c| +
 * sum |a_i b_i|, K terms), and the two differ by at most twice that. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/cpu.h"
#include "nn/gemm.h"
#include "nn/half.h"
#include "nn/kernels.h"
#include "nn/qgemm.h"
#include "src/hog.h"
#include "src/landmarks_impl.h"

static uint32_t g_rng = 2024;
static uint32_t urand(void) {
    g_rng = g_rng * 1664525u + 1013904223u;
    return g_rng >> 8;
}
static float frand(void) { return (float)(urand() & 0xffffff) / 8388608.0f - 1.0f; } /* [-1, 1) */

/* The SIMD levels this machine runs (the scalar level is the reference). */
static int simd_levels(nn_isa out[NN_ISA_COUNT]) {
    int n = 0;
    for (int i = 0; i < NN_ISA_COUNT; i++)
        if (i != NN_ISA_SCALAR && nn_isa_runs((nn_isa)i, nn_cpu_features())) out[n++] = (nn_isa)i;
    return n;
}

static void test_levels(void **state) {
    (void)state;
    const unsigned f = nn_cpu_features();
    printf("  cpu features:");
    for (int i = 0; i < NN_CPU_NFEATURES; i++)
        if (f & (1u << i)) printf(" %s", nn_cpu_feature_name(1u << i));
    printf("\n  levels this machine runs: scalar");
    nn_isa l[NN_ISA_COUNT];
    int n = simd_levels(l);
    for (int i = 0; i < n; i++) printf(" %s", nn_isa_str(l[i]));
    printf(" (default %s)\n", nn_isa_str(nn_isa_best(f)));
    /* every family has kernels for every level this build and CPU run */
    for (int i = 0; i < NN_ISA_COUNT; i++) {
        if (!nn_isa_runs((nn_isa)i, f)) continue;
        assert_non_null(nn_kernels_for((nn_isa)i));
        assert_non_null(sbf_hog_kernels_for((nn_isa)i));
        assert_non_null(sbf_shape_accum_for((nn_isa)i));
        assert_non_null(nn_qkernels_for((nn_isa)i, f));
    }
    assert_true(nn_isa_runs(NN_ISA_SCALAR, 0));
#if defined(__ARM_NEON)
    assert_true(n > 0); /* every CPU this ARM build targets has NEON: the test must exercise it */
#endif
    /* the detection against the kernel's own list (not under qemu-user, which shows the host's) */
    const char *cross = getenv("SBF_CROSS");
    if (cross && *cross && *cross != '0') return;
#if defined(__x86_64__)
    static const char *const key = "flags", *const names[] = {"avx2",     "fma",      "f16c",       "avx512f",
                                                              "avx512bw", "avx512vl", "avx512_vnni"};
    static const unsigned bits[] = {NN_CPU_AVX2,     NN_CPU_FMA,      NN_CPU_F16C,      NN_CPU_AVX512F,
                                    NN_CPU_AVX512BW, NN_CPU_AVX512VL, NN_CPU_AVX512VNNI};
#elif defined(__aarch64__)
    static const char *const key = "Features", *const names[] = {"asimd", "asimddp", "asimdhp"};
    static const unsigned bits[] = {NN_CPU_NEON, NN_CPU_ASIMDDP, NN_CPU_ASIMDHP};
#elif defined(__arm__)
    static const char *const key = "Features", *const names[] = {"neon", "vfpv4"};
    static const unsigned bits[] = {NN_CPU_NEON, NN_CPU_VFPV4};
#else
    return;
#endif
    FILE *fp = fopen("/proc/cpuinfo", "r");
    assert_non_null(fp);
    char line[8192];
    unsigned want = 0;
    int found = 0;
    while (!found && fgets(line, sizeof line, fp)) {
        if (strncmp(line, key, strlen(key))) continue;
        found = 1;
        for (char *tok = strtok(strchr(line, ':') + 1, " \t\n"); tok; tok = strtok(NULL, " \t\n"))
            for (size_t i = 0; i < sizeof names / sizeof *names; i++)
                if (!strcmp(tok, names[i])) want |= bits[i];
    }
    fclose(fp);
    assert_true(found);
    unsigned mask = 0;
    for (size_t i = 0; i < sizeof bits / sizeof *bits; i++) mask |= bits[i];
    assert_int_equal(f & mask, want);
}

/* ---- nn -------------------------------------------------------------------------------------------- */

/* Per-output tolerance bound S (see the header) of one GEMM call, computed in double. */
static double gemm_scale(int ntaps, int cin, const float *const *a, const float *w /* float32 view */,
                         const float *bias, const float *c0, size_t ldc, int r, int j, int flags) {
    double s = fabs(bias[j]);
    for (int t = 0; t < ntaps; t++)
        for (int k = 0; k < cin; k++) s += fabs((double)a[t * NN_MR + r][k] * w[((size_t)t * cin + k) * NN_NR + j]);
    if (flags & NN_ACCUM) s += fabs(c0[(size_t)r * ldc + j]);
    return s;
}

/* One micro-kernel configuration at every SIMD level against the scalar table; the two-panel kernel (where a
 * level has one) against its own level's one-panel kernel, bit for bit. */
static void check_gemm(int ntaps, int cin, int f16) {
    const int K = ntaps * cin;
    float *rows = malloc(sizeof(float) * (size_t)ntaps * NN_MR * cin);
    const float *a[NN_MAX_TAPS * NN_MR];
    for (int i = 0; i < ntaps * NN_MR * cin; i++) rows[i] = frand();
    for (int i = 0; i < ntaps * NN_MR; i++) a[i] = rows + (size_t)i * cin;
    /* two adjacent panels (for the two-panel kernels), float32 and binary16 copies of the same values */
    float *w = aligned_alloc(64, sizeof(float) * 2 * (size_t)K * NN_NR);
    uint16_t *h = aligned_alloc(64, ((sizeof(uint16_t) * 2 * (size_t)K * NN_NR) + 63) & ~(size_t)63);
    assert_true(w && h);
    for (int i = 0; i < 2 * K * NN_NR; i++) {
        h[i] = nn_f32_to_f16(frand());
        w[i] = f16 ? nn_f16_to_f32(h[i]) : frand();
    }
    const void *b = f16 ? (const void *)h : (const void *)w;
    const size_t pstride = (size_t)K * NN_NR * (f16 ? 2 : 4);
    static float bias[2 * NN_NR] __attribute__((aligned(64)));
    for (int j = 0; j < 2 * NN_NR; j++) bias[j] = frand();
    enum { LDC = 40 };
    float c0[NN_MR * LDC], ref[NN_MR * LDC], got[NN_MR * LDC], one[NN_MR * LDC];
    for (int i = 0; i < NN_MR * LDC; i++) c0[i] = frand();
    const nn_kernels *S = nn_kernels_for(NN_ISA_SCALAR);
    nn_isa lv[NN_ISA_COUNT];
    const int nl = simd_levels(lv);
    static const int nrs[] = {1, 7, 15, 16};
    for (int mr = 1; mr <= NN_MR; mr++)
        for (size_t ni = 0; ni < sizeof nrs / sizeof *nrs; ni++)
            for (int flags = 0; flags <= (NN_RELU | NN_ACCUM); flags++) {
                const int nr = nrs[ni];
                memcpy(ref, c0, sizeof ref);
                (f16 ? S->gemm_f16 : S->gemm)(ntaps, cin, a, b, bias, ref, LDC, mr, nr, flags);
                /* the scalar kernel itself against the double-precision sum */
                for (int r = 0; r < NN_MR; r++)
                    for (int j = 0; j < LDC; j++) {
                        if (r >= mr || j >= nr) {
                            assert_true(ref[r * LDC + j] == c0[r * LDC + j]);
                            continue;
                        }
                        double e = bias[j];
                        for (int t = 0; t < ntaps; t++)
                            for (int k = 0; k < cin; k++)
                                e += (double)a[t * NN_MR + r][k] * w[((size_t)t * cin + k) * NN_NR + j];
                        if (flags & NN_ACCUM) e += c0[r * LDC + j];
                        if ((flags & NN_RELU) && e < 0) e = 0;
                        double tol = (K + 2) * FLT_EPSILON * gemm_scale(ntaps, cin, a, w, bias, c0, LDC, r, j, flags);
                        if (fabs(ref[r * LDC + j] - e) > tol)
                            fail_msg("scalar gemm r%d j%d: %g vs %g", r, j, ref[r * LDC + j], e);
                    }
                for (int l = 0; l < nl; l++) {
                    const nn_kernels *L = nn_kernels_for(lv[l]);
                    nn_ukernel_fn fn = f16 ? L->gemm_f16 : L->gemm;
                    if (!fn) continue; /* armv7 has no binary16 kernel (its panels stay float32) */
                    memcpy(got, c0, sizeof got);
                    fn(ntaps, cin, a, b, bias, got, LDC, mr, nr, flags);
                    for (int r = 0; r < NN_MR; r++)
                        for (int j = 0; j < LDC; j++) {
                            float d = fabsf(got[r * LDC + j] - ref[r * LDC + j]);
                            double tol = r < mr && j < nr ? 2 * (K + 2) * FLT_EPSILON *
                                                                gemm_scale(ntaps, cin, a, w, bias, c0, LDC, r, j, flags)
                                                          : 0;
                            if (d > tol)
                                fail_msg("%s gemm%s taps%d cin%d mr%d nr%d flags%d: [%d][%d] %.9g vs scalar %.9g",
                                         nn_isa_str(lv[l]), f16 ? "_f16" : "", ntaps, cin, mr, nr, flags, r, j,
                                         got[r * LDC + j], ref[r * LDC + j]);
                        }
                    nn_ukernel2_fn fn2 = f16 ? L->gemm2_f16 : L->gemm2;
                    if (!fn2) continue;
                    for (int nr2 = nr; nr2 <= 2 * NN_NR; nr2 += NN_NR) { /* one panel's worth, and into the second */
                        memcpy(got, c0, sizeof got);
                        memcpy(one, c0, sizeof one);
                        fn2(ntaps, cin, a, b, pstride, bias, got, LDC, mr, nr2, flags);
                        fn(ntaps, cin, a, b, bias, one, LDC, mr, nr2 < NN_NR ? nr2 : NN_NR, flags);
                        if (nr2 > NN_NR)
                            fn(ntaps, cin, a, (const char *)b + pstride, bias + NN_NR, one + NN_NR, LDC, mr,
                               nr2 - NN_NR, flags);
                        assert_memory_equal(got, one, sizeof got);
                    }
                }
            }
    free(rows);
    free(w);
    free(h);
}

static void test_nn_gemm(void **state) {
    (void)state;
    static const int shapes[][2] = {{1, 1}, {1, 7}, {1, 64}, {9, 3}, {3, 33}, {1, 512}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        check_gemm(shapes[i][0], shapes[i][1], 0);
        check_gemm(shapes[i][0], shapes[i][1], 1);
    }
}

static void test_nn_maxrow(void **state) {
    (void)state;
    enum { IW = 23, CH = 19, LD = 21 };
    float in[3][IW * LD], ref[11 * 24], got[11 * 24];
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < IW * LD; i++) in[r][i] = frand();
    const float *rows[3] = {in[0], in[1], in[2]};
    nn_isa lv[NN_ISA_COUNT];
    const int nl = simd_levels(lv);
    for (int ch = 1; ch <= CH; ch += 3) {
        const int ow = (IW - 3) / 2 + 1;
        for (int i = 0; i < 11 * 24; i++) ref[i] = got[i] = -7;
        nn_kernels_for(NN_ISA_SCALAR)->maxrow(rows, LD, ow, ch, ref, 24);
        for (int ox = 0; ox < ow; ox++)
            for (int c = 0; c < ch; c++) {
                float m = -INFINITY;
                for (int dy = 0; dy < 3; dy++)
                    for (int dx = 0; dx < 3; dx++) m = fmaxf(m, in[dy][(2 * ox + dx) * LD + c]);
                assert_true(ref[ox * 24 + c] == m);
            }
        for (int l = 0; l < nl; l++) {
            for (int i = 0; i < 11 * 24; i++) got[i] = -7;
            nn_kernels_for(lv[l])->maxrow(rows, LD, ow, ch, got, 24);
            assert_memory_equal(got, ref, sizeof got);
        }
    }
}

/* The int8-weight micro-kernels of one shape: each flavour packed by nn_qconv_init for its own k block, called
 * directly on one and two panels against the scalar kernel, bit for bit (floats and 12-bit values).  Activation
 * rows hold random values past cin (they meet the zero weights of the k-block padding). extreme: 1 = every
 * activation NN_QMAX and weights +-127 (the largest sums), 2 = activations 127 and 128 (the sdot flavour's split
 * at bit 7: all low bits, or only a high one). */
static void check_qgemm(int ntaps, int cin, int extreme) {
    enum { COUT = 2 * NN_QNR, LDF = 37, LDQ = 35, KMAX = 520 };
    assert_true(cin + 4 <= KMAX);
    static uint16_t rows[NN_MAX_TAPS * NN_QMR][KMAX];
    const uint16_t *a[NN_MAX_TAPS * NN_QMR];
    for (int i = 0; i < ntaps * NN_QMR; i++) {
        for (int k = 0; k < KMAX; k++)
            rows[i][k] = extreme == 1   ? NN_QMAX
                         : extreme == 2 ? (uint16_t)(k % 2 ? 127 : 128)
                                        : (uint16_t)(urand() % 3 ? urand() % (NN_QMAX + 1) : 0);
        a[i] = rows[i];
    }
    int8_t *w = malloc((size_t)COUT * ntaps * cin);
    float wscale[COUT], bias[COUT], qinv[COUT];
    assert_non_null(w);
    for (int i = 0; i < COUT * ntaps * cin; i++)
        w[i] = extreme ? (int8_t)((i / (ntaps * cin)) % 2 ? 127 : -127) : (int8_t)((int)(urand() % 255) - 127);
    for (int j = 0; j < COUT; j++) {
        wscale[j] = 1e-4f * (float)(1 + urand() % 50);
        bias[j] = frand() * 3;
        qinv[j] = 1.0f / (0.001f * (float)(1 + urand() % 20));
    }
    float f0[NN_QMR * LDF], fref[NN_QMR * LDF], fgot[NN_QMR * LDF];
    uint16_t q0[NN_QMR * LDQ], qref[NN_QMR * LDQ], qgot[NN_QMR * LDQ];
    for (int i = 0; i < NN_QMR * LDF; i++) f0[i] = frand() * 2;
    for (int i = 0; i < NN_QMR * LDQ; i++) q0[i] = (uint16_t)urand();
    const unsigned cpu = nn_cpu_features();
    const nn_qkernels *S = nn_qkernels_for(NN_ISA_SCALAR, cpu);
    nn_qconv cs;
    assert_int_equal(nn_qconv_init(&cs, NULL, S, w, wscale, bias, 0.02f, COUT, 1, ntaps, cin, 1, 1, NN_PAD_VALID), 0);
    const size_t sstride = (size_t)ntaps * cs.kc * NN_QNR;
    nn_isa lv[NN_ISA_COUNT];
    const int nl = simd_levels(lv);
    static const int nrs[] = {1, 5, 16, 17, 32};
    for (int l = 0; l < 2 * nl; l++) {
        /* each level's kernels, then the level's flavour on a CPU without VNNI / sdot */
        const nn_qkernels *L = nn_qkernels_for(lv[l % nl], l < nl ? cpu : cpu & ~(NN_QCPU_VNNI | NN_QCPU_SDOT));
        if (l >= nl && L == nn_qkernels_for(lv[l % nl], cpu)) continue;
        nn_qconv cl;
        assert_int_equal(nn_qconv_init(&cl, NULL, L, w, wscale, bias, 0.02f, COUT, 1, ntaps, cin, 1, 1, NN_PAD_VALID),
                         0);
        const size_t lstride = (size_t)ntaps * cl.kc * NN_QNR;
        for (int mr = 1; mr <= NN_QMR; mr++)
            for (size_t ni = 0; ni < sizeof nrs / sizeof *nrs; ni++)
                for (int flags = 0; flags <= (NN_RELU | NN_ACCUM); flags++)
                    for (int outs = 1; outs <= 3; outs++) {
                        const int nr = nrs[ni];
                        if ((flags & NN_ACCUM) && !(outs & 1)) continue;
                        nn_qepi es = {cs.scale, cs.bias, outs & 1 ? fref : NULL, LDF, outs & 2 ? qref : NULL, LDQ,
                                      qinv,     flags};
                        nn_qepi el = {cl.scale, cl.bias, outs & 1 ? fgot : NULL, LDF, outs & 2 ? qgot : NULL, LDQ,
                                      qinv,     flags};
                        memcpy(fref, f0, sizeof fref);
                        memcpy(qref, q0, sizeof qref);
                        S->gemm(ntaps, cs.kc, a, cs.panels, &es, mr, nr < NN_QNR ? nr : NN_QNR);
                        if (nr > NN_QNR) { /* the second panel: columns 16.. */
                            nn_qepi e2 = es;
                            e2.scale += NN_QNR;
                            e2.bias += NN_QNR;
                            e2.qinv += NN_QNR;
                            if (e2.outf) e2.outf += NN_QNR;
                            if (e2.outq) e2.outq += NN_QNR;
                            S->gemm(ntaps, cs.kc, a, cs.panels + sstride, &e2, mr, nr - NN_QNR);
                        }
                        for (int how = 0; how < 2; how++) { /* one panel, two panels */
                            if ((how == 1 && !L->gemm2) || (how == 0 && nr > NN_QNR)) continue;
                            memcpy(fgot, f0, sizeof fgot);
                            memcpy(qgot, q0, sizeof qgot);
                            if (how == 1) L->gemm2(ntaps, cl.kc, a, cl.panels, lstride, &el, mr, nr);
                            else L->gemm(ntaps, cl.kc, a, cl.panels, &el, mr, nr);
                            if (memcmp(fgot, fref, sizeof fgot) || memcmp(qgot, qref, sizeof qgot))
                                fail_msg(
                                    "int8 %s%s taps%d cin%d mr%d nr%d flags%d outs%d extreme%d differs from scalar",
                                    L->name, how == 1 ? " (two panels)" : "", ntaps, cin, mr, nr, flags, outs, extreme);
                        }
                    }
        nn_qconv_free(&cl);
    }
    nn_qconv_free(&cs);
    free(w);
}

static void test_nn_qgemm(void **state) {
    (void)state;
    static const int shapes[][2] = {{1, 1}, {1, 3}, {1, 7}, {9, 3}, {3, 33}, {1, 64}, {7, 13}, {1, 512}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) check_qgemm(shapes[i][0], shapes[i][1], 0);
    check_qgemm(9, 256, 1);
    check_qgemm(9, 256, 2);
    check_qgemm(1, 5, 1);
}

/* nn_gemm_dots (the similarity graph's entry) at every level: within the tolerance of the scalar level, and
 * the SIMD levels bit for bit equal (one graph whatever the SIMD level). */
static void test_nn_gemm_dots(void **state) {
    (void)state;
    static const int ks[] = {512, 37};
    static const int ncs[] = {1, 16, 17, 32, 33, 70};
    for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
        const int k = ks[ki], nb = 70, np = (nb + NN_GEMM_NR - 1) / NN_GEMM_NR;
        float *A = malloc(sizeof(float) * NN_GEMM_MR * (size_t)k), *B = malloc(sizeof(float) * (size_t)nb * k);
        float *panels = aligned_alloc(64, sizeof(float) * np * nn_gemm_panel_floats(k));
        assert_true(A && B && panels);
        for (int i = 0; i < NN_GEMM_MR * k; i++) A[i] = frand();
        for (int i = 0; i < nb * k; i++) B[i] = frand();
        for (int p = 0; p < np; p++) {
            const float *cols[NN_GEMM_NR];
            int nc = nb - p * NN_GEMM_NR < NN_GEMM_NR ? nb - p * NN_GEMM_NR : NN_GEMM_NR;
            for (int j = 0; j < nc; j++) cols[j] = B + (size_t)(p * NN_GEMM_NR + j) * k;
            nn_gemm_pack(cols, nc, k, panels + p * nn_gemm_panel_floats(k));
        }
        enum { LDC = 72 };
        float ref[NN_GEMM_MR * LDC], got[NN_GEMM_MR * LDC], simd[NN_GEMM_MR * LDC];
        nn_isa lv[NN_ISA_COUNT];
        const int nl = simd_levels(lv);
        for (int mr = 1; mr <= NN_GEMM_MR; mr++)
            for (size_t ci = 0; ci < sizeof ncs / sizeof *ncs; ci++) {
                const int ncols = ncs[ci];
                const float *a[NN_GEMM_MR];
                for (int r = 0; r < NN_GEMM_MR; r++) a[r] = A + (size_t)(r < mr ? r : 0) * k;
                memset(ref, 0, sizeof ref);
                assert_int_equal(nn_set_isa("scalar"), 0);
                nn_gemm_dots(a, mr, k, panels, ncols, ref, LDC);
                for (int r = 0; r < NN_GEMM_MR; r++)
                    for (int j = 0; j < LDC; j++) {
                        if (r >= mr || j >= ncols) {
                            assert_true(ref[r * LDC + j] == 0);
                            continue;
                        }
                        double e = 0, s = 0;
                        for (int i = 0; i < k; i++) {
                            e += (double)A[(size_t)r * k + i] * B[(size_t)j * k + i];
                            s += fabs((double)A[(size_t)r * k + i] * B[(size_t)j * k + i]);
                        }
                        assert_true(fabs(ref[r * LDC + j] - e) <= (k + 2) * FLT_EPSILON * s);
                    }
                for (int l = 0; l < nl; l++) {
                    memset(got, 0, sizeof got);
                    assert_int_equal(nn_set_isa(nn_isa_str(lv[l])), 0);
                    nn_gemm_dots(a, mr, k, panels, ncols, got, LDC);
                    for (int r = 0; r < NN_GEMM_MR; r++)
                        for (int j = 0; j < LDC; j++) {
                            double s = 0;
                            for (int i = 0; r < mr && j < ncols && i < k; i++)
                                s += fabs((double)A[(size_t)r * k + i] * B[(size_t)j * k + i]);
                            if (fabsf(got[r * LDC + j] - ref[r * LDC + j]) > 2 * (k + 2) * FLT_EPSILON * s)
                                fail_msg("%s dots k%d mr%d ncols%d [%d][%d]: %.9g vs %.9g", nn_isa_str(lv[l]), k, mr,
                                         ncols, r, j, got[r * LDC + j], ref[r * LDC + j]);
                        }
                    if (l == 0) memcpy(simd, got, sizeof simd);
                    else assert_memory_equal(got, simd, sizeof got);
                }
            }
        assert_int_equal(nn_set_isa("auto"), 0);
        free(A);
        free(B);
        free(panels);
    }
}

/* ---- HOG ------------------------------------------------------------------------------------------- */

static void test_hog_grad_votes(void **state) {
    (void)state;
    const sbf_hog_kernels *S = sbf_hog_kernels_for(NN_ISA_SCALAR);
    nn_isa lv[NN_ISA_COUNT];
    const int nl = simd_levels(lv);
    uint8_t img[3][136];
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < 136; i++) img[r][i] = (uint8_t)(i % 17 == 0 ? 255 * (r & 1) : urand() & 0xff);
    static const int x1s[] = {2, 4, 8, 9, 13, 16, 117, 125};
    for (size_t xi = 0; xi < sizeof x1s / sizeof *x1s; xi++) {
        const int x0 = 1, x1 = x1s[xi];
        uint8_t b1[136], b2[136];
        float m1[136], m2[136];
        memset(b1, 0xee, sizeof b1);
        memset(b2, 0xee, sizeof b2);
        for (int i = 0; i < 136; i++) m1[i] = m2[i] = -1;
        S->grad_row(img[0], img[1], img[2], x0, x1, b2, m2);
        for (int l = 0; l < nl; l++) {
            const sbf_hog_kernels *K = sbf_hog_kernels_for(lv[l]);
            K->grad_row(img[0], img[1], img[2], x0, x1, b1, m1);
            assert_memory_equal(b1 + x0, b2 + x0, (size_t)(x1 - x0));
            assert_memory_equal(m1 + x0, m2 + x0, sizeof(float) * (size_t)(x1 - x0));
        }
        /* votes: dlib's 8-wide multiplication order */
        float mag[136], vx0[136], vx1[136], o1[4][136], o2[4][136];
        for (int i = 0; i < 136; i++) {
            mag[i] = 300 * fabsf(frand());
            vx0[i] = fabsf(frand());
            vx1[i] = 1 - vx0[i];
        }
        const float vy0 = 0.3125f, vy1 = 1 - vy0;
        memset(o2, 0, sizeof o2);
        S->votes_row(mag, vx0, vx1, vy0, vy1, x0, x1, o2[0], o2[1], o2[2], o2[3]);
        for (int x = x0; x < x1; x++) assert_true(o2[1][x] == vy0 * (vx1[x] * mag[x]));
        for (int l = 0; l < nl; l++) {
            memset(o1, 0, sizeof o1);
            sbf_hog_kernels_for(lv[l])->votes_row(mag, vx0, vx1, vy0, vy1, x0, x1, o1[0], o1[1], o1[2], o1[3]);
            assert_memory_equal(o1, o2, sizeof o1);
        }
    }
}

/* Every gradient 8-bit pixels give: the SIMD kernels (a table lookup on x86) against the scalar reference's nine
 * dot products.  Row gy + 255 holds every gx at columns 4j + 2 (j = gx + 255), each pixel's four neighbours its own. */
static void test_hog_grad_all(void **state) {
    (void)state;
    enum { W = 4 * 511 + 4 };
    const sbf_hog_kernels *S = sbf_hog_kernels_for(NN_ISA_SCALAR);
    nn_isa lv[NN_ISA_COUNT];
    const int nl = simd_levels(lv);
    static uint8_t img[3][W], b1[W], b2[W];
    static float m1[W], m2[W];
    long checked = 0;
    for (int gy = -255; gy <= 255; gy++) {
        memset(img, 0, sizeof img);
        for (int gx = -255; gx <= 255; gx++) {
            const int x = 4 * (gx + 255) + 2;
            img[0][x] = (uint8_t)(gy < 0 ? -gy : 0);
            img[2][x] = (uint8_t)(img[0][x] + gy);
            img[1][x - 1] = (uint8_t)(gx < 0 ? -gx : 0);
            img[1][x + 1] = (uint8_t)(img[1][x - 1] + gx);
        }
        S->grad_row(img[0], img[1], img[2], 1, W - 1, b2, m2);
        for (int gx = -255; gx <= 255; gx += 17) { /* the row says what it should */
            const int x = 4 * (gx + 255) + 2;
            assert_true(m2[x] == sqrtf((float)(gx * gx + gy * gy)));
        }
        if (gy == 0) assert_int_equal(b2[4 * (10 + 255) + 2], 0); /* (10, 0): direction 0 */
        for (int l = 0; l < nl; l++) {
            sbf_hog_kernels_for(lv[l])->grad_row(img[0], img[1], img[2], 1, W - 1, b1, m1);
            assert_memory_equal(b1 + 1, b2 + 1, W - 2);
            assert_memory_equal(m1 + 1, m2 + 1, sizeof(float) * (W - 2));
        }
        checked += 511;
    }
    const uint8_t *t = sbf_hog_bin_table();
    assert_int_equal(t[SBF_HOG_BIN_INDEX(0, 0)], 0);
    assert_int_equal(t[SBF_HOG_BIN_INDEX(-10, 0)], 9); /* opposite of direction 0 */
    assert_int_equal(t[SBF_HOG_BIN_INDEX(0, 10)], 4);  /* dlib's 80 and 100 degree vectors tie: the first wins */
    fprintf(stderr, "grad_row: all %ld gradients agree on %d SIMD level(s)\n", checked, nl);
}

static void test_hog_sep(void **state) {
    (void)state;
    enum { ROWS = 24, STRIDE = 72 };
    static float in[ROWS * STRIDE + 64], o1[STRIDE + 16], o2[STRIDE + 16], init[STRIDE + 16];
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) in[i] = frand();
    for (int i = 0; i < STRIDE + 16; i++) init[i] = frand();
    float f[16];
    for (int t = 0; t < 16; t++) f[t] = frand();
    nn_isa lv[NN_ISA_COUNT];
    const int nl = simd_levels(lv);
    static const int lens[] = {1, 2, 3, 5, 10, 13};
    static const int ns[][2] = {{33, 24}, {33, 32}, {41, 0}, {7, 0}, {8, 8}, {48, 40}}; /* n, nsplit (multiple of 8) */
    for (size_t li = 0; li < sizeof lens / sizeof *lens; li++)
        for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
            for (int col = 0; col < 2; col++)
                for (int add = 0; add < 2; add++) {
                    const long step = col ? STRIDE : 1;
                    memcpy(o2, init, sizeof o2);
                    sbf_hog_scalar.sep(in, step, f, lens[li], ns[ni][0], ns[ni][1], o2, add);
                    for (int l = 0; l < nl; l++) {
                        memcpy(o1, init, sizeof o1);
                        sbf_hog_kernels_for(lv[l])->sep(in, step, f, lens[li], ns[ni][0], ns[ni][1], o1, add);
                        if (memcmp(o1, o2, sizeof o1))
                            fail_msg("%s sep len%d n%d nsplit%d step%ld add%d differs", nn_isa_str(lv[l]), lens[li],
                                     ns[ni][0], ns[ni][1], step, add);
                    }
                }
}

/* Both passes of a separable filter on a plane laid out as sbf_fhog_compute does (features, zero border),
 * with the area and split sbf_hog_saliency_add computes. */
static void check_sep2d(int hog_nr, int hog_nc, int lr, int lc) {
    const int nr = hog_nr + lc - 1, nc = hog_nc + lr - 1, stride = ((nc + 16) + 7) & ~7;
    const size_t sz = (size_t)(nr > 32 ? nr : 32) * stride + 64;
    float *plane = calloc(sz, sizeof(float)), *s1 = calloc(sz, sizeof(float)), *s2 = calloc(sz, sizeof(float));
    float *sal1 = calloc(sz, sizeof(float)), *sal2 = calloc(sz, sizeof(float));
    assert_true(plane && s1 && s2 && sal1 && sal2);
    const int ra = (lc - 1) / 2, rb = ra + hog_nr, pc = (lr - 1) / 2;
    for (int r = ra; r < rb; r++)
        for (int c = pc; c < pc + hog_nc; c++) plane[(size_t)r * stride + c] = frand() * 0.4f;
    float rf[16], cf[16];
    for (int t = 0; t < 16; t++) {
        rf[t] = frand();
        cf[t] = frand();
    }
    const int first_col = lr / 2, last_col = nc - (lr - 1) / 2, first_row = lc / 2, last_row = nr - (lc - 1) / 2;
    int csplit = first_col;
    while (csplit < last_col - 7) csplit += 8;
    const int n = last_col - first_col, nsplit = csplit - first_col;
    sbf_hog_scalar.sep2d(plane, s2, sal2, stride, ra, rb, first_row, last_row, first_col, n, nsplit, rf, lr, cf, lc);
    nn_isa lv[NN_ISA_COUNT];
    const int nl = simd_levels(lv);
    for (int l = 0; l < nl; l++) {
        memset(s1, 0, sz * sizeof(float));
        memset(sal1, 0, sz * sizeof(float));
        sbf_hog_kernels_for(lv[l])->sep2d(plane, s1, sal1, stride, ra, rb, first_row, last_row, first_col, n, nsplit,
                                          rf, lr, cf, lc);
        for (int r = first_row; r < last_row; r++)
            if (memcmp(sal1 + (size_t)r * stride + first_col, sal2 + (size_t)r * stride + first_col,
                       sizeof(float) * (size_t)n))
                fail_msg("%s sep2d %dx%d cells, filter %dx%d: row %d differs", nn_isa_str(lv[l]), hog_nr, hog_nc, lr,
                         lc, r);
    }
    free(plane);
    free(s1);
    free(s2);
    free(sal1);
    free(sal2);
}

static void test_hog_sep2d(void **state) {
    (void)state;
    check_sep2d(21, 32, 10, 10); /* small plane: whole row pass, then whole column pass */
    check_sep2d(55, 32, 10, 10); /* tall plane: the ring-buffer path */
    check_sep2d(55, 29, 7, 5);   /* other filter sizes, tail columns */
    check_sep2d(3, 5, 10, 10);   /* fewer columns than one SIMD block */
}

static void test_hog_resize_row(void **state) {
    (void)state;
    /* downscale 5/6 (8 pairs within 16 bytes: byte shuffle), upscale ~2x, strong downscale (gather),
     * tiny rows (scalar tail only) */
    static const int sizes[][2] = {{120, 100}, {60, 122}, {300, 97}, {17, 14}, {640, 533}};
    nn_isa lv[NN_ISA_COUNT];
    const int nl = simd_levels(lv);
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        const int iw = sizes[si][0], ow = sizes[si][1];
        /* two rows; the bottom one ends the allocation, so a read past `avail` is caught by ASan */
        uint8_t *img = malloc((size_t)2 * iw);
        int32_t *left = malloc(sizeof(int32_t) * ((size_t)ow + 4));
        float *frac = malloc(sizeof(float) * ((size_t)ow + 4));
        uint8_t *o1 = malloc((size_t)ow), *o2 = malloc((size_t)ow);
        assert_true(img && left && frac && o1 && o2);
        for (int i = 0; i < 2 * iw; i++) img[i] = (uint8_t)(i % 29 == 0 ? 255 : urand() & 0xff);
        const int n = sbf_hog_resize_cols(iw, ow, left, frac);
        assert_true(n > 0 || ow < 8);
        static const float tbs[] = {0.0f, 0.37f, 0.9990234f};
        for (size_t ti = 0; ti < sizeof tbs / sizeof *tbs; ti++) {
            const float tb = tbs[ti], itb = (float)(1 - (double)tb);
            const uint8_t *rt = img, *rb = img + iw;
            memset(o2, 0, (size_t)ow);
            sbf_hog_scalar.resize_row(rt, rb, left, frac, n, iw, tb, itb, o2);
            for (int l = 0; l < nl; l++) {
                memset(o1, 0, (size_t)ow);
                sbf_hog_kernels_for(lv[l])->resize_row(rt, rb, left, frac, n, iw, tb, itb, o1);
                if (memcmp(o1, o2, (size_t)ow))
                    fail_msg("%s resize_row %d -> %d, tb %g differs", nn_isa_str(lv[l]), iw, ow, tb);
            }
            /* the same row inside a bigger image (more bytes readable: the fast paths throughout) */
            uint8_t *big = malloc((size_t)4 * iw);
            memcpy(big, img, (size_t)2 * iw);
            memset(big + 2 * iw, 0, (size_t)2 * iw);
            memset(o2, 0, (size_t)ow);
            sbf_hog_scalar.resize_row(big, big + iw, left, frac, n, 3L * iw, tb, itb, o2);
            for (int l = 0; l < nl; l++) {
                memset(o1, 0, (size_t)ow);
                sbf_hog_kernels_for(lv[l])->resize_row(big, big + iw, left, frac, n, 3L * iw, tb, itb, o1);
                assert_memory_equal(o1, o2, (size_t)ow);
            }
            free(big);
        }
        free(img);
        free(left);
        free(frac);
        free(o1);
        free(o2);
    }
}

static void test_hog_feat_row(void **state) {
    (void)state;
    static float hist[18][64], nn[4][64], ni[4][64], d1[31][64], d2[31][64];
    const float *hp[18], *nnp[4], *nip[4];
    float *dp1[31], *dp2[31];
    for (int o = 0; o < 18; o++) {
        for (int x = 0; x < 64; x++) hist[o][x] = fabsf(frand()) * 7;
        hp[o] = hist[o];
    }
    for (int k = 0; k < 4; k++) {
        for (int x = 0; x < 64; x++) {
            nn[k][x] = fabsf(frand()) * 3 + 0.01f;
            ni[k][x] = 0.1f / nn[k][x];
        }
        nnp[k] = nn[k];
        nip[k] = ni[k];
    }
    for (int p = 0; p < 31; p++) {
        dp1[p] = d1[p];
        dp2[p] = d2[p];
    }
    nn_isa lv[NN_ISA_COUNT];
    const int nl = simd_levels(lv);
    static const int x1s[] = {1, 3, 8, 13, 45, 64};
    for (size_t xi = 0; xi < sizeof x1s / sizeof *x1s; xi++) {
        memset(d2, 0, sizeof d2);
        sbf_hog_scalar.feat_row(hp, nnp, nip, 0, x1s[xi], dp2);
        for (int l = 0; l < nl; l++) {
            memset(d1, 0, sizeof d1);
            sbf_hog_kernels_for(lv[l])->feat_row(hp, nnp, nip, 0, x1s[xi], dp1);
            assert_memory_equal(d1, d2, sizeof d1);
        }
    }
}

/* The detector's gray input: every flavour gives (r + g + b) / 3 exactly, for every sum 0..765 (a pixel per sum,
 * from each of the three channels' combinations) and random rows of every length up to 80 (SIMD blocks + tail). */
static void test_hog_gray_row(void **state) {
    (void)state;
    enum { N = 766 * 3 + 80 };
    static uint8_t rgb[N * 3], want[N], got[N];
    int n = 0;
    for (int s = 0; s <= 765; s++) { /* three pixels per sum, channels permuted */
        const int a = s > 510 ? 255 : s > 255 ? s - 255 : s, b = s > 510 ? 255 : s > 255 ? 255 : 0, c = s - a - b;
        const int v[3][3] = {{a, b, c}, {b, c, a}, {c, a, b}};
        for (int k = 0; k < 3; k++, n++)
            for (int ch = 0; ch < 3; ch++) rgb[3 * n + ch] = (uint8_t)v[k][ch];
    }
    for (; n < N; n++)
        for (int ch = 0; ch < 3; ch++) rgb[3 * n + ch] = (uint8_t)(frand() * 127.5f + 127.5f);
    for (int i = 0; i < N; i++) want[i] = (uint8_t)((rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2]) / 3);
    nn_isa lv[NN_ISA_COUNT + 1];
    const int nl = simd_levels(lv);
    lv[nl] = NN_ISA_SCALAR;
    for (int l = 0; l <= nl; l++) {
        const sbf_hog_kernels *k = sbf_hog_kernels_for(lv[l]);
        memset(got, 0xAB, sizeof got);
        k->gray_row(rgb, N, got);
        assert_memory_equal(got, want, N);
        for (int len = 0; len <= 80; len++) { /* a row starting off the SIMD grid, each length */
            memset(got, 0xAB, sizeof got);
            k->gray_row(rgb + 3 * 7, (size_t)len, got);
            assert_memory_equal(got, want + 7, (size_t)len);
            assert_int_equal(got[len], 0xAB); /* nothing written past the row */
        }
    }
}

/* ---- landmarks ------------------------------------------------------------------------------------- */

static void test_landmark_accum(void **state) {
    (void)state;
    enum { LEAVES = 9, MAXDIM = 136, TREES = 7 };
    static float leaves[LEAVES * MAXDIM];
    static uint16_t hl[LEAVES * MAXDIM];
    for (int i = 0; i < LEAVES * MAXDIM; i++) {
        leaves[i] = frand() * 0.05f;
        /* binary16: normal values of both signs, and some subnormals and zeros */
        hl[i] = i % 11 == 0 ? (uint16_t)(urand() & 0x83ff) : nn_f32_to_f16(frand() * 0.05f);
    }
    nn_isa lv[NN_ISA_COUNT];
    const int nl = simd_levels(lv);
    static const int dims[] = {136, 37, 8, 3};
    for (size_t di = 0; di < sizeof dims / sizeof *dims; di++)
        for (int f16 = 0; f16 < 2; f16++) {
            const int dim = dims[di];
            uint32_t off[TREES];
            for (int t = 0; t < TREES; t++) off[t] = (uint32_t)((urand() % LEAVES) * dim);
            float ref[MAXDIM], got[MAXDIM], init[MAXDIM];
            for (int j = 0; j < dim; j++) init[j] = frand();
            memcpy(ref, init, sizeof(float) * dim);
            sbf_shape_accum_for(NN_ISA_SCALAR)(ref, f16 ? (const void *)hl : leaves, f16, off, TREES, dim);
            for (int l = 0; l < nl; l++) {
                memcpy(got, init, sizeof(float) * dim);
                sbf_shape_accum_for(lv[l])(got, f16 ? (const void *)hl : leaves, f16, off, TREES, dim);
                if (memcmp(got, ref, sizeof(float) * dim))
                    fail_msg("%s accum dim %d f16 %d differs", nn_isa_str(lv[l]), dim, f16);
            }
        }
}

/* ---- the choice ------------------------------------------------------------------------------------ */

static void test_choose(void **state) {
    (void)state;
    char why[160];
#if defined(__x86_64__)
    const unsigned avx2 = NN_CPU_AVX2 | NN_CPU_FMA | NN_CPU_F16C, all = avx2 | NN_CPU_AVX512F;
    assert_int_equal(nn_isa_best(all), NN_ISA_AVX512);
    assert_int_equal(nn_isa_best(avx2), NN_ISA_AVX2);                       /* an AVX2-only CPU */
    assert_int_equal(nn_isa_best(NN_CPU_AVX2 | NN_CPU_FMA), NN_ISA_SCALAR); /* the AVX2 kernels use F16C too */
    assert_int_equal(nn_isa_best(NN_CPU_AVX512F), NN_ISA_SCALAR);
    assert_int_equal(nn_isa_choose(NULL, all, why, sizeof why), NN_ISA_AVX512);
    assert_string_equal(why, "");
    assert_int_equal(nn_isa_choose("", avx2, why, sizeof why), NN_ISA_AVX2);
    assert_int_equal(nn_isa_choose("auto", all, why, sizeof why), NN_ISA_AVX512);
    assert_int_equal(nn_isa_choose("avx2", all, why, sizeof why), NN_ISA_AVX2); /* AVX2 measured on an AVX-512 CPU */
    assert_string_equal(why, "");
    assert_int_equal(nn_isa_choose("scalar", all, why, sizeof why), NN_ISA_SCALAR);
    assert_int_equal(nn_isa_choose("avx512", avx2, why, sizeof why), NN_ISA_AVX2);
    assert_string_equal(why, "SORTBYFACE_ISA=avx512: this CPU lacks avx512f, using avx2");
    assert_int_equal(nn_isa_choose("avx2", NN_CPU_AVX2 | NN_CPU_FMA, why, sizeof why), NN_ISA_SCALAR);
    assert_string_equal(why, "SORTBYFACE_ISA=avx2: this CPU lacks f16c, using scalar");
    assert_int_equal(nn_isa_choose("avx512", 0, why, sizeof why), NN_ISA_SCALAR);
    assert_string_equal(why, "SORTBYFACE_ISA=avx512: this CPU lacks avx2 fma f16c avx512f, using scalar");
    assert_int_equal(nn_isa_choose("neon", all, why, sizeof why), NN_ISA_AVX512);
    assert_string_equal(why, "SORTBYFACE_ISA=neon: not in this build (it is for another architecture), using avx512");
#elif defined(__ARM_NEON)
    const unsigned neon = nn_isa_needs(NN_ISA_NEON);
    assert_int_equal(nn_isa_best(neon), NN_ISA_NEON);
    assert_int_equal(nn_isa_best(0), NN_ISA_SCALAR);
    assert_int_equal(nn_isa_choose("neon", neon, why, sizeof why), NN_ISA_NEON);
    assert_string_equal(why, "");
    assert_int_equal(nn_isa_choose("scalar", neon, why, sizeof why), NN_ISA_SCALAR);
    assert_int_equal(nn_isa_choose("avx2", neon, why, sizeof why), NN_ISA_NEON);
    assert_string_equal(why, "SORTBYFACE_ISA=avx2: not in this build (it is for another architecture), using neon");
    assert_int_equal(nn_isa_choose("neon", 0, why, sizeof why), NN_ISA_SCALAR);
    assert_true(strstr(why, "SORTBYFACE_ISA=neon: this CPU lacks neon") == why);
#endif
    assert_int_equal(nn_isa_choose("AVX2", nn_cpu_features(), why, sizeof why), nn_isa_best(nn_cpu_features()));
    assert_true(strstr(why, "SORTBYFACE_ISA=AVX2: unknown (scalar, avx2, avx512, neon), using ") == why);
    for (int i = 0; i < NN_ISA_COUNT; i++) assert_int_equal(nn_isa_parse(nn_isa_str((nn_isa)i)), i);
    assert_int_equal(nn_isa_parse("auto"), -1);
}

/* Sets SORTBYFACE_ISA, re-reads it (nn_set_isa("auto")) and returns what went to stderr. */
static void env_level(const char *value, char *err, size_t errlen) {
    if (value) setenv("SORTBYFACE_ISA", value, 1);
    else unsetenv("SORTBYFACE_ISA");
    char path[] = "/tmp/sbf-test-kernels-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    assert_int_equal(nn_set_isa("auto"), 0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t got = read(fd, err, errlen - 1);
    err[got > 0 ? got : 0] = 0;
    close(fd);
    unlink(path);
}

/* One switch for every family: each family's kernels follow the level in force. */
static void check_all_follow(nn_isa isa) {
    assert_int_equal(nn_isa_get(), isa);
    assert_string_equal(nn_isa_name(), nn_isa_str(isa));
    assert_ptr_equal(nn_kern(), nn_kernels_for(isa));
    assert_ptr_equal(sbf_hog_kernels_get(), sbf_hog_kernels_for(isa));
    assert_true(sbf_shape_accum_get() == sbf_shape_accum_for(isa));
    assert_ptr_equal(nn_qkern(), nn_qkernels_for(isa, nn_cpu_features()));
}

static void test_env_switch(void **state) {
    (void)state;
    const char *orig = getenv("SORTBYFACE_ISA");
    char *saved = orig ? strdup(orig) : NULL;
    const nn_isa best = nn_isa_best(nn_cpu_features());
    char err[512];
    env_level(NULL, err, sizeof err);
    assert_string_equal(err, "");
    check_all_follow(best);
    env_level("scalar", err, sizeof err);
    assert_string_equal(err, "");
    check_all_follow(NN_ISA_SCALAR);
    assert_ptr_equal(sbf_hog_kernels_get(), &sbf_hog_scalar);
    nn_isa lv[NN_ISA_COUNT];
    const int nl = simd_levels(lv);
    for (int l = 0; l < nl; l++) {
        env_level(nn_isa_str(lv[l]), err, sizeof err);
        assert_string_equal(err, "");
        check_all_follow(lv[l]);
    }
#if defined(__x86_64__)
    if (nn_isa_runs(NN_ISA_AVX2, nn_cpu_features())) { /* AVX2 everywhere, nn included (no AVX-512 two-panel kernel) */
        env_level("avx2", err, sizeof err);
        assert_null(nn_kern()->gemm2);
        assert_ptr_equal(sbf_hog_kernels_get(), &sbf_hog_avx2);
    }
    const char *foreign = "neon";
#else
    const char *foreign = "avx512";
#endif
    /* a level this CPU or build cannot run: one line on stderr, the best level */
    env_level(foreign, err, sizeof err);
    char want[200];
    snprintf(want, sizeof want,
             "sortbyface: SORTBYFACE_ISA=%s: not in this build (it is for another architecture), using %s\n", foreign,
             nn_isa_str(best));
    assert_string_equal(err, want);
    check_all_follow(best);
    env_level("sse9", err, sizeof err);
    assert_true(strstr(err, "sortbyface: SORTBYFACE_ISA=sse9: unknown") == err);
    assert_int_equal(strchr(err, '\n') - err, (long)strlen(err) - 1); /* one line */
    check_all_follow(best);
    /* nn_set_isa refuses what cannot run and changes nothing */
    assert_int_equal(nn_set_isa(foreign), -1);
    assert_int_equal(nn_set_isa("sse9"), -1);
    check_all_follow(best);
    env_level(saved, err, sizeof err);
    free(saved);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),         cmocka_unit_test(test_nn_gemm),
        cmocka_unit_test(test_nn_maxrow),      cmocka_unit_test(test_nn_gemm_dots),
        cmocka_unit_test(test_nn_qgemm),       cmocka_unit_test(test_hog_grad_votes),
        cmocka_unit_test(test_hog_grad_all),   cmocka_unit_test(test_hog_sep),
        cmocka_unit_test(test_hog_sep2d),      cmocka_unit_test(test_hog_resize_row),
        cmocka_unit_test(test_hog_feat_row),   cmocka_unit_test(test_hog_gray_row),
        cmocka_unit_test(test_landmark_accum), cmocka_unit_test(test_choose),
        cmocka_unit_test(test_env_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
