/* nn/kernels_avx512.c — AVX-512F conv/GEMM micro-kernels over two 16-column panels at once (6 rows x 32
 * columns, 12 zmm accumulators; float32 and binary16 panels); everything else is the AVX2 table.  Compiled without ISA flags: the
 * function carries its own target attribute and runs only at the avx512 level (nn/cpu.h: the CPU has AVX-512F). */
#include "nn/kernels.h"
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define ROW2(r, ap)                                                                                                    \
    do {                                                                                                               \
        __m512 x_ = _mm512_set1_ps(*(ap));                                                                             \
        c##r##0 = _mm512_fmadd_ps(x_, w0, c##r##0);                                                                    \
        c##r##1 = _mm512_fmadd_ps(x_, w1, c##r##1);                                                                    \
    } while (0)

#define KERNEL2(NAME, BT, LOADW)                                                                                       \
    __attribute__((target("avx512f"))) static void NAME(int ntaps, int cin, const float *const *a, const void *bv,     \
                                                        size_t pstride, const float *bias, float *c, size_t ldc,       \
                                                        int mr, int nr, int flags) {                                   \
        const BT *b0 = bv, *b1 = (const BT *)((const char *)bv + pstride);                                             \
        const __m512 bias0 = _mm512_load_ps(bias), bias1 = _mm512_load_ps(bias + 16);                                  \
        __m512 c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1;                           \
        __m512 c30 = bias0, c31 = bias1, c40 = bias0, c41 = bias1, c50 = bias0, c51 = bias1;                           \
        for (int t = 0; t < ntaps; t++, a += NN_MR) {                                                                  \
            const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];                        \
            for (int k = 0; k < cin; k++, b0 += NN_NR, b1 += NN_NR) {                                                  \
                __m512 w0 = LOADW(b0), w1 = LOADW(b1);                                                                 \
                ROW2(0, a0 + k);                                                                                       \
                ROW2(1, a1 + k);                                                                                       \
                ROW2(2, a2 + k);                                                                                       \
                ROW2(3, a3 + k);                                                                                       \
                ROW2(4, a4 + k);                                                                                       \
                ROW2(5, a5 + k);                                                                                       \
            }                                                                                                          \
        }                                                                                                              \
        __m512 acc[NN_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};               \
        store2(acc, c, ldc, mr, nr, flags);                                                                            \
    }

__attribute__((target("avx512f"))) static inline void store2(__m512 acc[NN_MR][2], float *c, size_t ldc, int mr, int nr,
                                                             int flags) {
    const __mmask16 m0 = nr >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? (__mmask16)0xffff : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
    const __m512 zero = _mm512_setzero_ps();
    for (int r = 0; r < mr; r++) {
        float *cr = c + (size_t)r * ldc;
        __m512 v0 = acc[r][0], v1 = acc[r][1];
        if (flags & NN_ACCUM) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        if (flags & NN_RELU) {
            v0 = _mm512_max_ps(v0, zero);
            v1 = _mm512_max_ps(v1, zero);
        }
        _mm512_mask_storeu_ps(cr, m0, v0);
        _mm512_mask_storeu_ps(cr + 16, m1, v1);
    }
}

#define LOAD_F32(p) _mm512_load_ps(p)
#define LOAD_F16(p) _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(p)))
KERNEL2(gemm2_avx512, float, LOAD_F32)
KERNEL2(gemm2_avx512_f16, uint16_t, LOAD_F16)

const nn_kernels nn_kernels_avx512 = {"avx512",       nn_gemm_avx2, nn_gemm_avx2_f16,
                                      nn_maxrow_avx2, gemm2_avx512, gemm2_avx512_f16};
#else
typedef int nn_kernels_avx512_empty; /* x86-64 only */
#endif
