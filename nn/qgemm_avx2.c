/* nn/qgemm_avx2.c — int8-weight kernel for AVX2: 6 rows x 16 columns in 12 ymm int32 accumulators.  Panels in k
 * pairs ([tap][kc/2][16][2] int8), sign-extended per pair to int16 (vpmovsxbw); each row's pair of 12-bit
 * activations is broadcast as one dword, and vpmaddwd sums the pair's products exactly. */
#include "nn/qgemm.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

/* The direct kernel asks for the weights 2 KB ahead (as the VNNI one: nn/qgemm_avx512vnni.c). */
#define PREFETCH 2048

static inline int32_t load32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Epilogue of one row of 16 columns (the operations and order of nn_qepi_row). */
static inline void epi_row(__m256i a0, __m256i a1, const nn_qepi *e, int r, int nr) {
    if (nr < NN_QNR) {
        int32_t tmp[NN_QNR];
        _mm256_storeu_si256((__m256i *)tmp, a0);
        _mm256_storeu_si256((__m256i *)(tmp + 8), a1);
        nn_qepi_row(tmp, e, r, nr);
        return;
    }
    const __m256 zero = _mm256_setzero_ps();
    __m256 v0 = _mm256_mul_ps(_mm256_cvtepi32_ps(a0), _mm256_loadu_ps(e->scale));
    __m256 v1 = _mm256_mul_ps(_mm256_cvtepi32_ps(a1), _mm256_loadu_ps(e->scale + 8));
    v0 = _mm256_add_ps(v0, _mm256_loadu_ps(e->bias));
    v1 = _mm256_add_ps(v1, _mm256_loadu_ps(e->bias + 8));
    float *of = e->outf ? e->outf + (size_t)r * e->ldf : NULL;
    if (e->flags & NN_ACCUM) {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(of));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(of + 8));
    }
    if (e->flags & NN_RELU) {
        v0 = _mm256_max_ps(v0, zero);
        v1 = _mm256_max_ps(v1, zero);
    }
    if (of) {
        _mm256_storeu_ps(of, v0);
        _mm256_storeu_ps(of + 8, v1);
    }
    if (e->outq) {
        const __m256 top = _mm256_set1_ps((float)NN_QMAX), half = _mm256_set1_ps(0.5f);
        __m256 q0 = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(v0, _mm256_loadu_ps(e->qinv)), zero), top);
        __m256 q1 = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(v1, _mm256_loadu_ps(e->qinv + 8)), zero), top);
        __m256i i0 = _mm256_cvttps_epi32(_mm256_add_ps(q0, half)), i1 = _mm256_cvttps_epi32(_mm256_add_ps(q1, half));
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(i0, i1), 0xD8);
        _mm256_storeu_si256((__m256i *)(e->outq + (size_t)r * e->ldq), p);
    }
}

#define ROW(r)                                                                                                         \
    do {                                                                                                               \
        __m256i x_ = _mm256_set1_epi32(load32(x##r + k));                                                              \
        c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(x_, w0));                                                \
        c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(x_, w1));                                                \
    } while (0)

static inline __attribute__((always_inline)) void qgemm_rows(const int R, int ntaps, int kc, const uint16_t *const *a,
                                                             const int8_t *b, const nn_qepi *e, int mr, int nr) {
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int t = 0; t < ntaps; t++, a += NN_QMR) {
        const uint16_t *x0 = a[0], *x1 = a[1], *x2 = a[2], *x3 = a[3], *x4 = a[4], *x5 = a[5];
        for (int k = 0; k < kc; k += 2, b += 2 * NN_QNR) {
            if (!(k & 2)) _mm_prefetch((const char *)b + PREFETCH, _MM_HINT_T0); /* a line per two k pairs */
            __m256i w0 = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)b));
            __m256i w1 = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(b + 16)));
            NN_QEACH_ROW(R, ROW);
        }
    }
    __m256i acc[NN_QMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (int r = 0; r < mr; r++) epi_row(acc[r][0], acc[r][1], e, r, nr);
}

static void qgemm_avx2(int ntaps, int kc, const uint16_t *const *a, const int8_t *b, const nn_qepi *e, int mr, int nr) {
    NN_QBY_ROWS(mr, qgemm_rows, ntaps, kc, a, b, e, mr, nr);
}

/* Winograd products (nn/qwino.h): the same tile over int16 panels ([kc/2][16][2]: one ymm per 8 columns of a
 * pair), one panel at a time; raw int32 sums (vpmaddwd / vpaddd wrap). */
static inline __attribute__((always_inline)) void qgemm16_rows(const int R, int kc, const int16_t *const *a,
                                                               const int16_t *b, size_t pstride, int np, int32_t *c,
                                                               size_t ldc, int mr) {
    const int16_t *x0 = a[0], *x1 = a[1], *x2 = a[2], *x3 = a[3], *x4 = a[4], *x5 = a[5];
    for (int pp = 0; pp < np; pp++, b += pstride, c += NN_QNR) {
        __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        const int16_t *bk = b;
        for (int k = 0; k < kc; k += 2, bk += 2 * NN_QNR) {
            __m256i w0 = _mm256_load_si256((const __m256i *)bk), w1 = _mm256_load_si256((const __m256i *)(bk + 16));
            NN_QEACH_ROW(R, ROW);
        }
        __m256i acc[NN_QMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
        for (int r = 0; r < mr; r++) {
            _mm256_storeu_si256((__m256i *)(c + (size_t)r * ldc), acc[r][0]);
            _mm256_storeu_si256((__m256i *)(c + (size_t)r * ldc + 8), acc[r][1]);
        }
    }
}

static void qgemm16_avx2(int kc, const int16_t *const *a, const int16_t *b, size_t pstride, int np, int32_t *c,
                         size_t ldc, int mr) {
    NN_QBY_ROWS(mr, qgemm16_rows, kc, a, b, pstride, np, c, ldc, mr);
}

static void qepi_avx2(const int32_t *acc, const nn_qepi *e, int r, int nr) {
    epi_row(_mm256_loadu_si256((const __m256i *)acc), _mm256_loadu_si256((const __m256i *)(acc + 8)), e, r, nr);
}

const nn_qkernels nn_qkernels_avx2 = {
    .name = "avx2", .kb = 2, .gemm = qgemm_avx2, .gemm16 = qgemm16_avx2, .epi = qepi_avx2};
#endif
