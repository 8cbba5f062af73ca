/* nn/kernels.c — the portable scalar kernels (same interface as the SIMD ones) and ISA dispatch. */
#include "nn/kernels.h"
#include "nn/half.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static inline void epilogue(float acc[NN_MR][NN_NR], float *c, size_t ldc, int mr, int nr, int flags) {
    for (int r = 0; r < mr; r++) {
        float *cr = c + (size_t)r * ldc;
        for (int j = 0; j < nr; j++) {
            float v = acc[r][j];
            if (flags & NN_ACCUM) v += cr[j];
            if ((flags & NN_RELU) && v < 0.0f) v = 0.0f;
            cr[j] = v;
        }
    }
}

static void gemm_scalar(int ntaps, int cin, const float *const *a, const void *bv, const float *bias,
                        float *c, size_t ldc, int mr, int nr, int flags) {
    const float *b = bv;
    float acc[NN_MR][NN_NR];
    for (int r = 0; r < NN_MR; r++)
        for (int j = 0; j < NN_NR; j++) acc[r][j] = bias[j];
    for (int t = 0; t < ntaps; t++, a += NN_MR) {
        for (int k = 0; k < cin; k++, b += NN_NR) {
            for (int r = 0; r < mr; r++) {
                float x = a[r][k];
                for (int j = 0; j < NN_NR; j++) acc[r][j] += x * b[j];
            }
        }
    }
    epilogue(acc, c, ldc, mr, nr, flags);
}

static void gemm_scalar_f16(int ntaps, int cin, const float *const *a, const void *bv, const float *bias,
                            float *c, size_t ldc, int mr, int nr, int flags) {
    const uint16_t *b = bv;
    float acc[NN_MR][NN_NR], w[NN_NR];
    for (int r = 0; r < NN_MR; r++)
        for (int j = 0; j < NN_NR; j++) acc[r][j] = bias[j];
    for (int t = 0; t < ntaps; t++, a += NN_MR) {
        for (int k = 0; k < cin; k++, b += NN_NR) {
            for (int j = 0; j < NN_NR; j++) w[j] = nn_f16_to_f32(b[j]);
            for (int r = 0; r < mr; r++) {
                float x = a[r][k];
                for (int j = 0; j < NN_NR; j++) acc[r][j] += x * w[j];
            }
        }
    }
    epilogue(acc, c, ldc, mr, nr, flags);
}

static void maxrow_scalar(const float *const *rows, int in_ld, int ow, int ch, float *out, int out_ld) {
    for (int ox = 0; ox < ow; ox++) {
        for (int c = 0; c < ch; c++) {
            float m = rows[0][(size_t)(2 * ox) * in_ld + c];
            for (int dy = 0; dy < 3; dy++)
                for (int dx = 0; dx < 3; dx++) {
                    float v = rows[dy][(size_t)(2 * ox + dx) * in_ld + c];
                    if (v > m) m = v;
                }
            out[(size_t)ox * out_ld + c] = m;
        }
    }
}

static const nn_kernels k_scalar = {"scalar", gemm_scalar, gemm_scalar_f16, maxrow_scalar, NULL, NULL};
const nn_kernels *nn_kernels_scalar(void) { return &k_scalar; }

static const nn_kernels *g_kern;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static const nn_kernels *best(void) {
    const nn_kernels *k = nn_kernels_avx512();
    if (!k) k = nn_kernels_avx2();
    if (!k) k = nn_kernels_neon();
    if (!k) k = nn_kernels_scalar();
    return k;
}

static void init_once(void) {
    const char *env = getenv("SORTBYFACE_ISA");
    const nn_kernels *k = NULL;
    if (env && !strcmp(env, "scalar")) k = nn_kernels_scalar();
    else if (env && !strcmp(env, "avx2")) k = nn_kernels_avx2();
    else if (env && !strcmp(env, "neon")) k = nn_kernels_neon();
    else if (env && !strcmp(env, "avx512")) k = nn_kernels_avx512();
    if (!k) k = best();
    __atomic_store_n(&g_kern, k, __ATOMIC_RELEASE);
}

const nn_kernels *nn_kern(void) {
    const nn_kernels *k = __atomic_load_n(&g_kern, __ATOMIC_ACQUIRE);
    if (k) return k;
    pthread_once(&g_once, init_once);
    return __atomic_load_n(&g_kern, __ATOMIC_ACQUIRE);
}

int nn_set_isa(const char *name) {
    const nn_kernels *k = NULL;
    if (!name) return -1;
    if (!strcmp(name, "scalar")) k = nn_kernels_scalar();
    else if (!strcmp(name, "avx2")) k = nn_kernels_avx2();
    else if (!strcmp(name, "neon")) k = nn_kernels_neon();
    else if (!strcmp(name, "avx512")) k = nn_kernels_avx512();
    else if (!strcmp(name, "auto")) k = best();
    if (!k) return -1;
    pthread_once(&g_once, init_once);
    __atomic_store_n(&g_kern, k, __ATOMIC_RELEASE);
    return 0;
}

const char *nn_isa_name(void) { return nn_kern()->name; }
