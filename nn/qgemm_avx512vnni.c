/* nn/qgemm_avx512vnni.c — int8-weight kernels for AVX-512 VNNI: vpdpwssd (int16 x int16, two products summed
 * into int32 lanes) over panels in k pairs ([tap][kc/2][16][2] int8, sign-extended to one zmm of int16 per
 * pair); each row's pair of 12-bit activations is broadcast as one dword.  Two panels per call: 6 rows x 32
 * columns in 12 zmm accumulators; one panel: 6 x 16.  Masked epilogue stores for partial tiles.  Compiled
 * without ISA flags: the functions carry their own target attribute and are only picked (nn_qkernels_for)
 * when the CPU has AVX-512F/BW/VL and VNNI (nn/cpu.h). */
#include "nn/qgemm.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
/* The direct kernels ask for the weights 2 KB ahead: a late layer's panels are read once per face, from beyond L2,
 * and the hardware prefetcher does not keep up with the many short panel streams (docs/MEASUREMENTS.md "FaceNet
 * int8"). */
#define PREFETCH 2048

static inline int32_t load32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Epilogue of columns col..col+n-1 (n <= 16) of row r: the operations and order of nn_qepi_row. */
TGT static inline void epi16(__m512i acc, const nn_qepi *e, int r, int col, int n) {
    const __mmask16 m = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
    const __m512 zero = _mm512_setzero_ps();
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_maskz_loadu_ps(m, e->scale + col));
    v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, e->bias + col));
    float *of = e->outf ? e->outf + (size_t)r * e->ldf + col : NULL;
    if (e->flags & NN_ACCUM) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, of));
    if (e->flags & NN_RELU) v = _mm512_max_ps(v, zero);
    if (of) _mm512_mask_storeu_ps(of, m, v);
    if (e->outq) {
        __m512 q = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, e->qinv + col));
        q = _mm512_min_ps(_mm512_max_ps(q, zero), _mm512_set1_ps((float)NN_QMAX));
        __m512i i = _mm512_cvttps_epi32(_mm512_add_ps(q, _mm512_set1_ps(0.5f)));
        _mm512_mask_cvtusepi32_storeu_epi16(e->outq + (size_t)r * e->ldq + col, m, i);
    }
}

static inline __attribute__((always_inline)) TGT __m512i wpair(const int8_t *b) {
    return _mm512_cvtepi8_epi16(_mm256_load_si256((const __m256i *)b));
}

#define ROW2(r)                                                                                                        \
    do {                                                                                                               \
        __m512i x_ = _mm512_set1_epi32(load32(a##r + k));                                                              \
        c##r##0 = _mm512_dpwssd_epi32(c##r##0, x_, w0);                                                                \
        c##r##1 = _mm512_dpwssd_epi32(c##r##1, x_, w1);                                                                \
    } while (0)

/* The two-panel tile for its first R rows (R a constant after inlining: the rows past it cost nothing). */
static inline __attribute__((always_inline)) TGT void qgemm2_rows(const int R, int ntaps, int kc,
                                                                  const uint16_t *const *a, const int8_t *b,
                                                                  size_t pstride, const nn_qepi *e, int mr, int nr) {
    const int8_t *b1 = b + pstride;
    __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m512i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int t = 0; t < ntaps; t++, a += NN_QMR) {
        const uint16_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
        for (int k = 0; k < kc; k += 2, b += 2 * NN_QNR, b1 += 2 * NN_QNR) {
            if (!(k & 2)) { /* a cache line of each panel per two k pairs */
                _mm_prefetch((const char *)b + PREFETCH, _MM_HINT_T0);
                _mm_prefetch((const char *)b1 + PREFETCH, _MM_HINT_T0);
            }
            __m512i w0 = wpair(b), w1 = wpair(b1);
            NN_QEACH_ROW(R, ROW2);
        }
    }
    __m512i acc[NN_QMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (int r = 0; r < mr; r++) {
        epi16(acc[r][0], e, r, 0, nr < 16 ? nr : 16);
        if (nr > 16) epi16(acc[r][1], e, r, 16, nr - 16);
    }
}

TGT static void qgemm2_vnni(int ntaps, int kc, const uint16_t *const *a, const int8_t *b, size_t pstride,
                            const nn_qepi *e, int mr, int nr) {
    NN_QBY_ROWS(mr, qgemm2_rows, ntaps, kc, a, b, pstride, e, mr, nr);
}

#define ROW1(r)                                                                                                        \
    do { c##r = _mm512_dpwssd_epi32(c##r, _mm512_set1_epi32(load32(a##r + k)), w0); } while (0)

static inline __attribute__((always_inline)) TGT void qgemm_rows(const int R, int ntaps, int kc,
                                                                 const uint16_t *const *a, const int8_t *b,
                                                                 const nn_qepi *e, int mr, int nr) {
    __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    for (int t = 0; t < ntaps; t++, a += NN_QMR) {
        const uint16_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
        for (int k = 0; k < kc; k += 2, b += 2 * NN_QNR) {
            if (!(k & 2)) _mm_prefetch((const char *)b + PREFETCH, _MM_HINT_T0);
            __m512i w0 = wpair(b);
            NN_QEACH_ROW(R, ROW1);
        }
    }
    __m512i acc[NN_QMR] = {c0, c1, c2, c3, c4, c5};
    for (int r = 0; r < mr; r++) epi16(acc[r], e, r, 0, nr);
}

TGT static void qgemm_vnni(int ntaps, int kc, const uint16_t *const *a, const int8_t *b, const nn_qepi *e, int mr,
                           int nr) {
    NN_QBY_ROWS(mr, qgemm_rows, ntaps, kc, a, b, e, mr, nr);
}

/* Winograd products (nn/qwino.h): int16 panels ([kc/2][16][2]: one zmm per pair), one or two at a time; raw int32
 * sums (vpdpwssd wraps). */
static inline __attribute__((always_inline)) TGT void qgemm16_rows(const int R, int kc, const int16_t *const *a,
                                                                   const int16_t *b, size_t pstride, int np, int32_t *c,
                                                                   size_t ldc, int mr) {
    const uint16_t *a0 = (const uint16_t *)a[0], *a1 = (const uint16_t *)a[1], *a2 = (const uint16_t *)a[2];
    const uint16_t *a3 = (const uint16_t *)a[3], *a4 = (const uint16_t *)a[4], *a5 = (const uint16_t *)a[5];
    if (np == 2) {
        const int16_t *b1 = b + pstride;
        __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        __m512i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int k = 0; k < kc; k += 2, b += 2 * NN_QNR, b1 += 2 * NN_QNR) {
            __m512i w0 = _mm512_load_si512(b), w1 = _mm512_load_si512(b1);
            NN_QEACH_ROW(R, ROW2);
        }
        __m512i acc[NN_QMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
        for (int r = 0; r < mr; r++) {
            _mm512_storeu_si512(c + (size_t)r * ldc, acc[r][0]);
            _mm512_storeu_si512(c + (size_t)r * ldc + NN_QNR, acc[r][1]);
        }
        return;
    }
    __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    for (int k = 0; k < kc; k += 2, b += 2 * NN_QNR) {
        __m512i w0 = _mm512_load_si512(b);
        NN_QEACH_ROW(R, ROW1);
    }
    __m512i acc[NN_QMR] = {c0, c1, c2, c3, c4, c5};
    for (int r = 0; r < mr; r++) _mm512_storeu_si512(c + (size_t)r * ldc, acc[r]);
}

TGT static void qgemm16_vnni(int kc, const int16_t *const *a, const int16_t *b, size_t pstride, int np, int32_t *c,
                             size_t ldc, int mr) {
    NN_QBY_ROWS(mr, qgemm16_rows, kc, a, b, pstride, np, c, ldc, mr);
}

TGT static void qepi_vnni(const int32_t *acc, const nn_qepi *e, int r, int nr) {
    epi16(_mm512_loadu_si512(acc), e, r, 0, nr);
}

const nn_qkernels nn_qkernels_avx512vnni = {"avx512vnni", 2, qgemm_vnni, qgemm2_vnni, qgemm16_vnni, qepi_vnni};
#endif
