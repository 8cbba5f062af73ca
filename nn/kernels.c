/* nn/kernels.c — the portable scalar kernels (same interface as the SIMD ones) and the table of kernel tables
 * indexed by ISA level. */
#include "nn/kernels.h"
#include "nn/half.h"

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

static void gemm_scalar(int ntaps, int cin, const float *const *a, const void *bv, const float *bias, float *c,
                        size_t ldc, int mr, int nr, int flags) {
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

static void gemm_scalar_f16(int ntaps, int cin, const float *const *a, const void *bv, const float *bias, float *c,
                            size_t ldc, int mr, int nr, int flags) {
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

static const nn_kernels *const TABLE[NN_ISA_COUNT] = {
    [NN_ISA_SCALAR] = &k_scalar,
#if defined(__x86_64__)
    [NN_ISA_AVX2] = &nn_kernels_avx2,
    [NN_ISA_AVX512] = &nn_kernels_avx512,
#endif
#if defined(__ARM_NEON)
    [NN_ISA_NEON] = &nn_kernels_neon,
#endif
};

const nn_kernels *nn_kernels_for(nn_isa isa) { return (unsigned)isa < NN_ISA_COUNT ? TABLE[isa] : NULL; }

const nn_kernels *nn_kern(void) { return TABLE[nn_isa_get()]; }
