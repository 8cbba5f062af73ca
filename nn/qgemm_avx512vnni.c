/* nn/qgemm_avx512vnni.c — int8-weight kernels for AVX-512 VNNI.
 * Direct convolutions: vpdpbusd (uint8 x int8, four products summed into each int32 lane) over panels in k quads
 * ([tap][kc/4][16][4] int8: one zmm per quad).  A 12-bit activation x = lo + 256 hi (lo its low byte, hi its top
 * 4 bits): a tile's rows are split into bytes, per k quad the four lo then the four hi (one vpshufb per 32 values),
 * once per panel block by prep_vnni when the block takes several kernel calls (the prepared kernels qgemmp_vnni /
 * qgemm2p_vnni read them), else by each call into its stack; the kernels broadcast each row's lo and hi dwords, and
 * two vpdpbusd per panel make sum w lo and sum w hi; the sum is lo + (hi << 8), exact.  Two panels per call: 6 rows
 * x 32 columns in 24 zmm accumulators (lo and hi); one panel: 6 x 16 in 12.  No vpmovsxbw in the loop, and twice the
 * independent sums of a vpdpwssd form (docs/MEASUREMENTS.md "FaceNet int8").  Winograd products: vpdpwssd (int16
 * x int16) over int16 panels in k pairs.  Masked epilogue stores for partial tiles.  Compiled without ISA flags: the
 * functions carry their own target attribute and are only picked (nn_qkernels_for) when the CPU has AVX-512F/BW/VL
 * and VNNI (nn/cpu.h). */
#include "nn/qgemm.h"
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,bmi2")))
/* The direct kernels ask for the weights 2 KB ahead: a late layer's panels are read once per face, from beyond L2,
 * and the hardware prefetcher does not keep up with the many short panel streams (docs/MEASUREMENTS.md "FaceNet
 * int8"). */
#define PREFETCH 2048

static inline int32_t load32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The sum of a lane from its low bytes' and high bytes' sums. */
#define JOIN(lo, hi) _mm512_add_epi32((lo), _mm512_slli_epi32((hi), 8))

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

/* vpdpbusd through asm: GCC 12 moves the intrinsic's accumulator through another register each time, and with 24
 * accumulators that spills to the stack; the asm keeps each in place. */
#define DPB(acc, x, w) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w))
#define KCH 2048              /* channels split at a time: 6 rows of 4 KB on the stack */
#define BUFROW (2 * KCH + 64) /* a row of split bytes, padded: rows 4 KB apart would share their L1 sets */

/* n activations (a multiple of 4) of a row into 2n bytes: per k quad its four low bytes, then its four high. */
TGT static inline void split_row(const uint16_t *src, int n, uint8_t *dst) {
    const __m512i shuf = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15));
    if (n == 4) { /* the first layer (3 channels): one quad, in general registers */
        uint64_t v;
        memcpy(&v, src, 8);
        const uint32_t lo = (uint32_t)_pext_u64(v, 0x00ff00ff00ff00ffull),
                       hi = (uint32_t)_pext_u64(v, ~0x00ff00ff00ff00ffull);
        memcpy(dst, &lo, 4);
        memcpy(dst + 4, &hi, 4);
        return;
    }
    int k = 0;
    for (; k + 32 <= n; k += 32)
        _mm512_storeu_si512(dst + 2 * k, _mm512_shuffle_epi8(_mm512_loadu_si512(src + k), shuf));
    if (k < n) { /* a quad per 8-byte lane, in and out: the store ends at the row's end */
        const __mmask8 m = (__mmask8)((1u << ((n - k) / 4)) - 1);
        _mm512_mask_storeu_epi64(dst + 2 * k, m, _mm512_shuffle_epi8(_mm512_maskz_loadu_epi64(m, src + k), shuf));
    }
}

#define ROW2(r)                                                                                                        \
    do {                                                                                                               \
        __m512i lo_ = _mm512_set1_epi32(load32(x##r + 2 * k)), hi_ = _mm512_set1_epi32(load32(x##r + 2 * k + 4));      \
        DPB(l##r##0, lo_, w0);                                                                                         \
        DPB(l##r##1, lo_, w1);                                                                                         \
        DPB(h##r##0, hi_, w0);                                                                                         \
        DPB(h##r##1, hi_, w1);                                                                                         \
    } while (0)

/* A tile's rows split into bytes for the prepared kernels: [tap][NN_QMR][2 kc] bytes, rows r < mr written. */
TGT static void prep_vnni(int ntaps, int kc, const uint16_t *const *a, int mr, uint8_t *x) {
    for (int t = 0; t < ntaps; t++)
        for (int r = 0; r < mr; r++) split_row(a[t * NN_QMR + r], kc, x + ((size_t)t * NN_QMR + r) * 2 * kc);
}

/* Points x0..x5 at the split bytes of channels k0.. of tap t's rows: from the prepared rows xp (PREP) or, split
 * now, from buf. */
#define ROWS_AT(t, k0, n)                                                                                              \
    do {                                                                                                               \
        if (PREP) {                                                                                                    \
            const size_t ld_ = 2 * (size_t)kc;                                                                         \
            x0 = xp + (size_t)(t)*NN_QMR * ld_ + 2 * (size_t)(k0);                                                     \
            x1 = x0 + ld_, x2 = x1 + ld_, x3 = x2 + ld_, x4 = x3 + ld_, x5 = x4 + ld_;                                 \
        } else {                                                                                                       \
            for (int r_ = 0; r_ < R; r_++) split_row(a[(t)*NN_QMR + r_] + (k0), (n), buf[r_]);                         \
            x0 = buf[0], x1 = buf[1], x2 = buf[2], x3 = buf[3], x4 = buf[4], x5 = buf[5];                              \
        }                                                                                                              \
    } while (0)

/* The two-panel tile for its first R rows (R a constant after inlining: the rows past it cost nothing), from the
 * rows a split here KCH channels at a time or (PREP, a constant too) from prep_vnni's bytes xp. */
static inline __attribute__((always_inline)) TGT void qgemm2_rows(const int R, const int PREP, int ntaps, int kc,
                                                                  const uint16_t *const *a, const uint8_t *xp,
                                                                  const int8_t *b, size_t pstride, const nn_qepi *e,
                                                                  int mr, int nr) {
    uint8_t buf[NN_QMR][BUFROW] __attribute__((aligned(64)));
    const uint8_t *x0, *x1, *x2, *x3, *x4, *x5;
    const int8_t *b1 = b + pstride;
    const int ch = PREP ? kc : KCH;
    __m512i l00 = _mm512_setzero_si512(), l01 = l00, l10 = l00, l11 = l00, l20 = l00, l21 = l00;
    __m512i l30 = l00, l31 = l00, l40 = l00, l41 = l00, l50 = l00, l51 = l00;
    __m512i h00 = l00, h01 = l00, h10 = l00, h11 = l00, h20 = l00, h21 = l00;
    __m512i h30 = l00, h31 = l00, h40 = l00, h41 = l00, h50 = l00, h51 = l00;
    for (int t = 0; t < ntaps; t++)
        for (int k0 = 0; k0 < kc; k0 += ch) {
            const int n = kc - k0 < ch ? kc - k0 : ch;
            ROWS_AT(t, k0, n);
            for (int k = 0; k < n; k += 4, b += 4 * NN_QNR, b1 += 4 * NN_QNR) {
                _mm_prefetch((const char *)b + PREFETCH, _MM_HINT_T0); /* a cache line of each panel per quad */
                _mm_prefetch((const char *)b1 + PREFETCH, _MM_HINT_T0);
                const __m512i w0 = _mm512_load_si512(b), w1 = _mm512_load_si512(b1);
                NN_QEACH_ROW(R, ROW2);
            }
        }
    __m512i acc[NN_QMR][2] = {{JOIN(l00, h00), JOIN(l01, h01)}, {JOIN(l10, h10), JOIN(l11, h11)},
                              {JOIN(l20, h20), JOIN(l21, h21)}, {JOIN(l30, h30), JOIN(l31, h31)},
                              {JOIN(l40, h40), JOIN(l41, h41)}, {JOIN(l50, h50), JOIN(l51, h51)}};
    for (int r = 0; r < mr; r++) {
        epi16(acc[r][0], e, r, 0, nr < 16 ? nr : 16);
        if (nr > 16) epi16(acc[r][1], e, r, 16, nr - 16);
    }
}

TGT static void qgemm2_vnni(int ntaps, int kc, const uint16_t *const *a, const int8_t *b, size_t pstride,
                            const nn_qepi *e, int mr, int nr) {
    NN_QBY_ROWS(mr, qgemm2_rows, 0, ntaps, kc, a, NULL, b, pstride, e, mr, nr);
}

/* qgemm2_vnni from the rows prep_vnni split. */
TGT static void qgemm2p_vnni(int ntaps, int kc, const uint8_t *x, const int8_t *b, size_t pstride, const nn_qepi *e,
                             int mr, int nr) {
    NN_QBY_ROWS(mr, qgemm2_rows, 1, ntaps, kc, NULL, x, b, pstride, e, mr, nr);
}

#define ROW1(r)                                                                                                        \
    do {                                                                                                               \
        DPB(l##r, _mm512_set1_epi32(load32(x##r + 2 * k)), w0);                                                        \
        DPB(h##r, _mm512_set1_epi32(load32(x##r + 2 * k + 4)), w0);                                                    \
    } while (0)

/* The one-panel tile, as qgemm2_rows. */
static inline __attribute__((always_inline)) TGT void qgemm_rows(const int R, const int PREP, int ntaps, int kc,
                                                                 const uint16_t *const *a, const uint8_t *xp,
                                                                 const int8_t *b, const nn_qepi *e, int mr, int nr) {
    uint8_t buf[NN_QMR][BUFROW] __attribute__((aligned(64)));
    const uint8_t *x0, *x1, *x2, *x3, *x4, *x5;
    const int ch = PREP ? kc : KCH;
    __m512i l0 = _mm512_setzero_si512(), l1 = l0, l2 = l0, l3 = l0, l4 = l0, l5 = l0;
    __m512i h0 = l0, h1 = l0, h2 = l0, h3 = l0, h4 = l0, h5 = l0;
    for (int t = 0; t < ntaps; t++)
        for (int k0 = 0; k0 < kc; k0 += ch) {
            const int n = kc - k0 < ch ? kc - k0 : ch;
            ROWS_AT(t, k0, n);
            for (int k = 0; k < n; k += 4, b += 4 * NN_QNR) {
                _mm_prefetch((const char *)b + PREFETCH, _MM_HINT_T0);
                const __m512i w0 = _mm512_load_si512(b);
                NN_QEACH_ROW(R, ROW1);
            }
        }
    __m512i acc[NN_QMR] = {JOIN(l0, h0), JOIN(l1, h1), JOIN(l2, h2), JOIN(l3, h3), JOIN(l4, h4), JOIN(l5, h5)};
    for (int r = 0; r < mr; r++) epi16(acc[r], e, r, 0, nr);
}

TGT static void qgemm_vnni(int ntaps, int kc, const uint16_t *const *a, const int8_t *b, const nn_qepi *e, int mr,
                           int nr) {
    NN_QBY_ROWS(mr, qgemm_rows, 0, ntaps, kc, a, NULL, b, e, mr, nr);
}

/* qgemm_vnni from the rows prep_vnni split. */
TGT static void qgemmp_vnni(int ntaps, int kc, const uint8_t *x, const int8_t *b, const nn_qepi *e, int mr, int nr) {
    NN_QBY_ROWS(mr, qgemm_rows, 1, ntaps, kc, NULL, x, b, e, mr, nr);
}

/* The Winograd products: vpdpwssd through asm too, and two k pairs per step into separate sums (24 and 12
 * accumulators), so that twice as many independent sums hide the instruction's latency. */
#define DPW(acc, x, w) __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w))
#define BC(r, k) _mm512_set1_epi32(load32(a##r + (k)))
#define ROW16x2(r)                                                                                                     \
    do {                                                                                                               \
        const __m512i x_ = BC(r, k), y_ = BC(r, k + 2);                                                                \
        DPW(c##r##0, x_, w0);                                                                                          \
        DPW(c##r##1, x_, w1);                                                                                          \
        DPW(d##r##0, y_, v0);                                                                                          \
        DPW(d##r##1, y_, v1);                                                                                          \
    } while (0)
#define ROW16x2_LAST(r)                                                                                                \
    do {                                                                                                               \
        const __m512i x_ = BC(r, k);                                                                                   \
        DPW(c##r##0, x_, w0);                                                                                          \
        DPW(c##r##1, x_, w1);                                                                                          \
    } while (0)
#define ROW16(r)                                                                                                       \
    do {                                                                                                               \
        DPW(c##r, BC(r, k), w0);                                                                                       \
        DPW(d##r, BC(r, k + 2), v0);                                                                                   \
    } while (0)
#define ROW16_LAST(r) DPW(c##r, BC(r, k), w0)

/* Winograd products (nn/qwino.h): int16 panels ([kc/2][16][2]: one zmm per pair), one or two at a time; raw int32
 * sums (vpdpwssd wraps). */
static inline __attribute__((always_inline)) TGT void qgemm16_rows(const int R, int kc, const int16_t *const *a,
                                                                   const int16_t *b, size_t pstride, int np, int32_t *c,
                                                                   size_t ldc, int mr) {
    const uint16_t *a0 = (const uint16_t *)a[0], *a1 = (const uint16_t *)a[1], *a2 = (const uint16_t *)a[2];
    const uint16_t *a3 = (const uint16_t *)a[3], *a4 = (const uint16_t *)a[4], *a5 = (const uint16_t *)a[5];
    const __m512i z = _mm512_setzero_si512();
    int k = 0;
    if (np == 2) {
        const int16_t *b1 = b + pstride;
        __m512i c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z,
                c51 = z;
        __m512i d00 = z, d01 = z, d10 = z, d11 = z, d20 = z, d21 = z, d30 = z, d31 = z, d40 = z, d41 = z, d50 = z,
                d51 = z;
        for (; k + 4 <= kc; k += 4, b += 4 * NN_QNR, b1 += 4 * NN_QNR) {
            const __m512i w0 = _mm512_load_si512(b), w1 = _mm512_load_si512(b1);
            const __m512i v0 = _mm512_load_si512(b + 2 * NN_QNR), v1 = _mm512_load_si512(b1 + 2 * NN_QNR);
            NN_QEACH_ROW(R, ROW16x2);
        }
        if (k < kc) {
            const __m512i w0 = _mm512_load_si512(b), w1 = _mm512_load_si512(b1);
            NN_QEACH_ROW(R, ROW16x2_LAST);
        }
        __m512i acc[NN_QMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
        __m512i acd[NN_QMR][2] = {{d00, d01}, {d10, d11}, {d20, d21}, {d30, d31}, {d40, d41}, {d50, d51}};
        for (int r = 0; r < mr; r++) {
            _mm512_storeu_si512(c + (size_t)r * ldc, _mm512_add_epi32(acc[r][0], acd[r][0]));
            _mm512_storeu_si512(c + (size_t)r * ldc + NN_QNR, _mm512_add_epi32(acc[r][1], acd[r][1]));
        }
        return;
    }
    __m512i c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, d0 = z, d1 = z, d2 = z, d3 = z, d4 = z, d5 = z;
    for (; k + 4 <= kc; k += 4, b += 4 * NN_QNR) {
        const __m512i w0 = _mm512_load_si512(b), v0 = _mm512_load_si512(b + 2 * NN_QNR);
        NN_QEACH_ROW(R, ROW16);
    }
    if (k < kc) {
        const __m512i w0 = _mm512_load_si512(b);
        NN_QEACH_ROW(R, ROW16_LAST);
    }
    __m512i acc[NN_QMR] = {c0, c1, c2, c3, c4, c5}, acd[NN_QMR] = {d0, d1, d2, d3, d4, d5};
    for (int r = 0; r < mr; r++) _mm512_storeu_si512(c + (size_t)r * ldc, _mm512_add_epi32(acc[r], acd[r]));
}

TGT static void qgemm16_vnni(int kc, const int16_t *const *a, const int16_t *b, size_t pstride, int np, int32_t *c,
                             size_t ldc, int mr) {
    NN_QBY_ROWS(mr, qgemm16_rows, kc, a, b, pstride, np, c, ldc, mr);
}

TGT static void qepi_vnni(const int32_t *acc, const nn_qepi *e, int r, int nr) {
    epi16(_mm512_loadu_si512(acc), e, r, 0, nr);
}

const nn_qkernels nn_qkernels_avx512vnni = {.name = "avx512vnni",
                                            .kb = 4,
                                            .gemm = qgemm_vnni,
                                            .gemm2 = qgemm2_vnni,
                                            .gemm16 = qgemm16_vnni,
                                            .epi = qepi_vnni,
                                            .prep = prep_vnni,
                                            .gemmp = qgemmp_vnni,
                                            .gemm2p = qgemm2p_vnni};
#endif
