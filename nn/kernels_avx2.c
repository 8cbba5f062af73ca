/* nn/kernels_avx2.c — AVX2+FMA (+F16C) kernels: 6x16 register-blocked conv/GEMM micro-kernel, max-pool row. */
#include "nn/kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>

/* Stores the 6x16 accumulator tile with the epilogue (residual add, ReLU). */
static inline void store_tile(__m256 acc[NN_MR][2], float *c, size_t ldc, int mr, int nr, int flags) {
    const __m256 zero = _mm256_setzero_ps();
    if (nr == NN_NR) {
        for (int r = 0; r < mr; r++) {
            float *cr = c + (size_t)r * ldc;
            __m256 v0 = acc[r][0], v1 = acc[r][1];
            if (flags & NN_ACCUM) {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(cr));
                v1 = _mm256_add_ps(v1, _mm256_loadu_ps(cr + 8));
            }
            if (flags & NN_RELU) {
                v0 = _mm256_max_ps(v0, zero);
                v1 = _mm256_max_ps(v1, zero);
            }
            _mm256_storeu_ps(cr, v0);
            _mm256_storeu_ps(cr + 8, v1);
        }
        return;
    }
    float tmp[NN_NR] __attribute__((aligned(32)));
    for (int r = 0; r < mr; r++) {
        float *cr = c + (size_t)r * ldc;
        _mm256_store_ps(tmp, acc[r][0]);
        _mm256_store_ps(tmp + 8, acc[r][1]);
        for (int j = 0; j < nr; j++) {
            float v = tmp[j];
            if (flags & NN_ACCUM) v += cr[j];
            if ((flags & NN_RELU) && v < 0.0f) v = 0.0f;
            cr[j] = v;
        }
    }
}

#define FMA_ROW(r, ap)                                                                                                 \
    do {                                                                                                               \
        __m256 x_ = _mm256_broadcast_ss(ap);                                                                           \
        c##r##0 = _mm256_fmadd_ps(x_, w0, c##r##0);                                                                    \
        c##r##1 = _mm256_fmadd_ps(x_, w1, c##r##1);                                                                    \
    } while (0)

#define KERNEL_BODY(LOADW)                                                                                             \
    __m256 bias0 = _mm256_load_ps(bias), bias1 = _mm256_load_ps(bias + 8);                                             \
    __m256 c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1;                               \
    __m256 c30 = bias0, c31 = bias1, c40 = bias0, c41 = bias1, c50 = bias0, c51 = bias1;                               \
    for (int t = 0; t < ntaps; t++, a += NN_MR) {                                                                      \
        const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];                            \
        for (int k = 0; k < cin; k++, b += NN_NR) {                                                                    \
            __m256 w0, w1;                                                                                             \
            LOADW;                                                                                                     \
            FMA_ROW(0, a0 + k);                                                                                        \
            FMA_ROW(1, a1 + k);                                                                                        \
            FMA_ROW(2, a2 + k);                                                                                        \
            FMA_ROW(3, a3 + k);                                                                                        \
            FMA_ROW(4, a4 + k);                                                                                        \
            FMA_ROW(5, a5 + k);                                                                                        \
        }                                                                                                              \
    }                                                                                                                  \
    __m256 acc[NN_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};                   \
    store_tile(acc, c, ldc, mr, nr, flags);

void nn_gemm_avx2(int ntaps, int cin, const float *const *a, const void *bv, const float *bias, float *c, size_t ldc,
                  int mr, int nr, int flags) {
    const float *b = bv;
    KERNEL_BODY(w0 = _mm256_load_ps(b); w1 = _mm256_load_ps(b + 8))
}

void nn_gemm_avx2_f16(int ntaps, int cin, const float *const *a, const void *bv, const float *bias, float *c,
                      size_t ldc, int mr, int nr, int flags) {
    const uint16_t *b = bv;
    KERNEL_BODY(w0 = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)b));
                w1 = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(b + 8))))
}

void nn_maxrow_avx2(const float *const *rows, int in_ld, int ow, int ch, float *out, int out_ld) {
    for (int ox = 0; ox < ow; ox++) {
        const float *p0 = rows[0] + (size_t)(2 * ox) * in_ld, *p1 = rows[1] + (size_t)(2 * ox) * in_ld,
                    *p2 = rows[2] + (size_t)(2 * ox) * in_ld;
        float *o = out + (size_t)ox * out_ld;
        int c = 0;
        for (; c + 8 <= ch; c += 8) {
            __m256 m = _mm256_loadu_ps(p0 + c);
            for (int dx = 0; dx < 3; dx++) {
                size_t off = (size_t)dx * in_ld + c;
                m = _mm256_max_ps(m, _mm256_loadu_ps(p0 + off));
                m = _mm256_max_ps(m, _mm256_loadu_ps(p1 + off));
                m = _mm256_max_ps(m, _mm256_loadu_ps(p2 + off));
            }
            _mm256_storeu_ps(o + c, m);
        }
        for (; c < ch; c++) {
            float m = p0[c];
            for (int dx = 0; dx < 3; dx++) {
                size_t off = (size_t)dx * in_ld + c;
                if (p0[off] > m) m = p0[off];
                if (p1[off] > m) m = p1[off];
                if (p2[off] > m) m = p2[off];
            }
            o[c] = m;
        }
    }
}

const nn_kernels nn_kernels_avx2 = {"avx2", nn_gemm_avx2, nn_gemm_avx2_f16, nn_maxrow_avx2, 0, 0};
#else
typedef int nn_kernels_avx2_empty; /* x86-64 only */
#endif
