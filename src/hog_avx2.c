/* src/hog_avx2.c — AVX2 kernels for hog.c: the same float operations in the same order as the
 * scalar reference (no FMA: dlib multiplies and adds separately), 8 lanes at a time; the gradient's
 * orientation bin is looked up in the reference's table of every gradient (sbf_hog_bin_table). */
#if defined(__x86_64__)
#pragma GCC optimize("fp-contract=off")
#include <immintrin.h>
#include <math.h>
#include <string.h>
#include "src/hog.h"

/* 8 pixels: the magnitude as the scalar reference computes it (sqrt of an exact integer), the bin looked up in
 * the table of every (gx, gy) (one gather instead of nine dot products) */
static inline void grad8(const uint8_t *prev, const uint8_t *row, const uint8_t *next, int x, const uint8_t *table,
                         uint8_t *bin, float *mag) {
    const __m256i l = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(row + x - 1)));
    const __m256i r = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(row + x + 1)));
    const __m256i t = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(prev + x)));
    const __m256i b = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(next + x)));
    const __m256i gx = _mm256_sub_epi32(r, l), gy = _mm256_sub_epi32(b, t);
    const __m256i len = _mm256_add_epi32(_mm256_mullo_epi32(gx, gx), _mm256_mullo_epi32(gy, gy));
    _mm256_storeu_ps(mag + x, _mm256_sqrt_ps(_mm256_cvtepi32_ps(len)));
    const __m256i idx = _mm256_add_epi32(_mm256_mullo_epi32(gy, _mm256_set1_epi32(511)),
                                         _mm256_add_epi32(gx, _mm256_set1_epi32(SBF_HOG_BIN_INDEX(0, 0))));
    const __m256i bo = _mm256_and_si256(_mm256_i32gather_epi32((const int *)table, idx, 1), _mm256_set1_epi32(0xff));
    const __m128i lo = _mm256_castsi256_si128(bo), hi = _mm256_extracti128_si256(bo, 1);
    const __m128i w16 = _mm_packs_epi32(lo, hi);
    _mm_storel_epi64((__m128i *)(bin + x), _mm_packus_epi16(w16, w16));
}

static void grad_row_avx2(const uint8_t *prev, const uint8_t *row, const uint8_t *next, int x0, int x1, uint8_t *bin,
                          float *mag) {
    if (x1 - x0 < 8) {
        sbf_hog_scalar.grad_row(prev, row, next, x0, x1, bin, mag);
        return;
    }
    const uint8_t *table = sbf_hog_bin_table();
    int x = x0;
    for (; x + 8 <= x1; x += 8) grad8(prev, row, next, x, table, bin, mag);
    /* last partial block: redo the final 8 columns (same values; reads stay at or before row[x1]) */
    if (x < x1) grad8(prev, row, next, x1 - 8, table, bin, mag);
}

static void votes_row_avx2(const float *mag, const float *vx0, const float *vx1, float vy0, float vy1, int x0, int x1,
                           float *a, float *b, float *c, float *d) {
    const __m256 y0 = _mm256_set1_ps(vy0), y1 = _mm256_set1_ps(vy1);
    int x = x0;
    for (; x + 8 <= x1; x += 8) {
        const __m256 v = _mm256_loadu_ps(mag + x);
        const __m256 w1 = _mm256_mul_ps(_mm256_loadu_ps(vx1 + x), v), w0 = _mm256_mul_ps(_mm256_loadu_ps(vx0 + x), v);
        _mm256_storeu_ps(a + x, _mm256_mul_ps(y1, w1));
        _mm256_storeu_ps(b + x, _mm256_mul_ps(y0, w1));
        _mm256_storeu_ps(c + x, _mm256_mul_ps(y1, w0));
        _mm256_storeu_ps(d + x, _mm256_mul_ps(y0, w0));
    }
    if (x < x1) sbf_hog_scalar.votes_row(mag, vx0, vx1, vy0, vy1, x, x1, a, b, c, d); /* < 8 columns */
}

static inline __m256i tail_mask(int k) { /* lanes < k */
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* 8 outputs of one pass; dlib's 3-accumulator order (split) or sequential order */
static inline __m256 pass8(const float *p, long step, const float *f, int len, int split) {
    if (split) {
        __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps(), c = _mm256_setzero_ps();
        int t = 0;
        for (; t < len - 2; t += 3) {
            a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_loadu_ps(p + t * step), _mm256_broadcast_ss(f + t)));
            b = _mm256_add_ps(b, _mm256_mul_ps(_mm256_loadu_ps(p + (t + 1) * step), _mm256_broadcast_ss(f + t + 1)));
            c = _mm256_add_ps(c, _mm256_mul_ps(_mm256_loadu_ps(p + (t + 2) * step), _mm256_broadcast_ss(f + t + 2)));
        }
        for (; t < len; t++)
            a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_loadu_ps(p + t * step), _mm256_broadcast_ss(f + t)));
        return _mm256_add_ps(a, _mm256_add_ps(b, c));
    }
    __m256 s = _mm256_setzero_ps();
    for (int t = 0; t < len; t++)
        s = _mm256_add_ps(s, _mm256_mul_ps(_mm256_loadu_ps(p + t * step), _mm256_broadcast_ss(f + t)));
    return s;
}

/* 10-tap specialisation of the 3-accumulator order (taps 0,3,6,9 / 1,4,7 / 2,5,8), two blocks */
static inline void pass10x2(const float *p, long step, const __m256 *f, __m256 *o0, __m256 *o1) {
    __m256 a0 = _mm256_mul_ps(_mm256_loadu_ps(p), f[0]), a1 = _mm256_mul_ps(_mm256_loadu_ps(p + 8), f[0]);
    __m256 b0 = _mm256_mul_ps(_mm256_loadu_ps(p + step), f[1]), b1 = _mm256_mul_ps(_mm256_loadu_ps(p + step + 8), f[1]);
    __m256 c0 = _mm256_mul_ps(_mm256_loadu_ps(p + 2 * step), f[2]),
           c1 = _mm256_mul_ps(_mm256_loadu_ps(p + 2 * step + 8), f[2]);
    for (int t = 3; t < 9; t += 3) {
        const float *q = p + t * step;
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_loadu_ps(q), f[t]));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_loadu_ps(q + 8), f[t]));
        b0 = _mm256_add_ps(b0, _mm256_mul_ps(_mm256_loadu_ps(q + step), f[t + 1]));
        b1 = _mm256_add_ps(b1, _mm256_mul_ps(_mm256_loadu_ps(q + step + 8), f[t + 1]));
        c0 = _mm256_add_ps(c0, _mm256_mul_ps(_mm256_loadu_ps(q + 2 * step), f[t + 2]));
        c1 = _mm256_add_ps(c1, _mm256_mul_ps(_mm256_loadu_ps(q + 2 * step + 8), f[t + 2]));
    }
    a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_loadu_ps(p + 9 * step), f[9]));
    a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_loadu_ps(p + 9 * step + 8), f[9]));
    *o0 = _mm256_add_ps(a0, _mm256_add_ps(b0, c0));
    *o1 = _mm256_add_ps(a1, _mm256_add_ps(b1, c1));
}

/* one pass over a row of n outputs (nsplit a multiple of 8) */
static inline void pass_row(const float *in, long step, const float *f, const __m256 *fv, int len, int n, int nsplit,
                            float *out, int add) {
    int i = 0;
    if (len == 10) {
        for (; i + 16 <= nsplit; i += 16) {
            __m256 s0, s1;
            pass10x2(in + i, step, fv, &s0, &s1);
            if (add) {
                s0 = _mm256_add_ps(s0, _mm256_loadu_ps(out + i));
                s1 = _mm256_add_ps(s1, _mm256_loadu_ps(out + i + 8));
            }
            _mm256_storeu_ps(out + i, s0);
            _mm256_storeu_ps(out + i + 8, s1);
        }
    }
    for (; i < n; i += 8) {
        __m256 s = pass8(in + i, step, f, len, i < nsplit);
        if (i + 8 <= n) {
            if (add) s = _mm256_add_ps(s, _mm256_loadu_ps(out + i));
            _mm256_storeu_ps(out + i, s);
        } else {
            const __m256i m = tail_mask(n - i);
            if (add) s = _mm256_add_ps(s, _mm256_maskload_ps(out + i, m));
            _mm256_maskstore_ps(out + i, m, s);
        }
    }
}

static void sep2d_avx2(const float *plane, float *scratch, float *sal, long stride, int ra, int rb, int r0, int r1,
                       int c0, int n, int nsplit, const float *rf, int lr, const float *cf, int lc) {
    __m256 fr[16], fc[16];
    for (int t = 0; t < lr && t < 16; t++) fr[t] = _mm256_set1_ps(rf[t]);
    for (int t = 0; t < lc && t < 16; t++) fc[t] = _mm256_set1_ps(cf[t]);
    const int nr = rb + (lc - 1) / 2 + 1; /* plane rows (features end at rb, then zero rows) */
    if (lc > 16 || nr < 40) {
        /* small planes: whole row pass, then whole column pass (everything stays in cache) */
        for (int r = ra; r < rb; r++)
            pass_row(plane + (size_t)r * stride + c0 - lr / 2, 1, rf, fr, lr, n, nsplit,
                     scratch + (size_t)r * stride + c0, 0);
        for (int r = r0; r < r1; r++)
            pass_row(scratch + (size_t)(r - r0) * stride + c0, stride, cf, fc, lc, n, nsplit,
                     sal + (size_t)r * stride + c0, 1);
        return;
    }
    /* big planes: the row pass runs just ahead of the column pass through a ring of 16 rows, each
     * row stored twice (slots s and s+16) so any lc consecutive rows are contiguous; the values
     * are the same as with a whole scratch plane, but the working set stays in L1/L2. */
    const int half = lc / 2;
    int next = r0 - half; /* next plane row to produce */
    for (int r = r0; r < r1; r++) {
        for (; next <= r - half + lc - 1; next++) {
            const int slot = next & 15;
            float *d1 = scratch + (size_t)slot * stride + c0, *d2 = scratch + (size_t)(slot + 16) * stride + c0;
            if (next < ra || next >= rb) {
                memset(d1, 0, sizeof(float) * (size_t)n);
                memset(d2, 0, sizeof(float) * (size_t)n);
            } else {
                pass_row(plane + (size_t)next * stride + c0 - lr / 2, 1, rf, fr, lr, n, nsplit, d1, 0);
                memcpy(d2, d1, sizeof(float) * (size_t)n);
            }
        }
        const int base = (r - half) & 15;
        pass_row(scratch + (size_t)base * stride + c0, stride, cf, fc, lc, n, nsplit, sal + (size_t)r * stride + c0, 1);
    }
}

static void resize_row_avx2(const uint8_t *rt, const uint8_t *rb, const int32_t *left, const float *frac, int n,
                            long avail, float tb, float itb, uint8_t *o) {
    const __m256 vtb = _mm256_set1_ps(tb), vitb = _mm256_set1_ps(itb), one = _mm256_set1_ps(1.0f),
                 half = _mm256_set1_ps(0.5f);
    const __m256i ff = _mm256_set1_epi32(0xff), one_i = _mm256_set1_epi32(1),
                  hi80 = _mm256_set1_epi32((int)0x80800000u);
    int c = 0;
    for (; c + 8 <= n; c += 8) {
        const int base = left[c], last = left[c + 7];
        __m256i gt, gb;
        const __m256i idx = _mm256_loadu_si256((const __m256i *)(left + c));
        if (last + 1 - base <= 15 && base + 16 <= avail) {
            /* the 8 source pairs lie within 16 bytes: one load and a byte shuffle per row; the
             * shuffle puts tl in byte 0 and tr in byte 1 of each 32-bit lane, zeros above */
            const __m256i rel = _mm256_sub_epi32(idx, _mm256_set1_epi32(base));
            const __m256i m =
                _mm256_or_si256(_mm256_or_si256(rel, _mm256_slli_epi32(_mm256_add_epi32(rel, one_i), 8)), hi80);
            const __m128i mlo = _mm256_castsi256_si128(m), mhi = _mm256_extracti128_si256(m, 1);
            const __m128i t16 = _mm_loadu_si128((const __m128i *)(rt + base)),
                          b16 = _mm_loadu_si128((const __m128i *)(rb + base));
            gt = _mm256_set_m128i(_mm_shuffle_epi8(t16, mhi), _mm_shuffle_epi8(t16, mlo));
            gb = _mm256_set_m128i(_mm_shuffle_epi8(b16, mhi), _mm_shuffle_epi8(b16, mlo));
        } else if (last + 4 <= avail) {
            gt = _mm256_i32gather_epi32((const int *)rt, idx, 1);
            gb = _mm256_i32gather_epi32((const int *)rb, idx, 1);
        } else {
            break;
        }
        const __m256 tl = _mm256_cvtepi32_ps(_mm256_and_si256(gt, ff));
        const __m256 tr = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(gt, 8), ff));
        const __m256 bl = _mm256_cvtepi32_ps(_mm256_and_si256(gb, ff));
        const __m256 br = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(gb, 8), ff));
        const __m256 lr = _mm256_loadu_ps(frac + c), ilr = _mm256_sub_ps(one, lr);
        const __m256 tlf = _mm256_mul_ps(vitb, ilr), trf = _mm256_mul_ps(vitb, lr);
        const __m256 blf = _mm256_mul_ps(vtb, ilr), brf = _mm256_mul_ps(vtb, lr);
        __m256 v = _mm256_add_ps(_mm256_mul_ps(tlf, tl), _mm256_mul_ps(trf, tr));
        v = _mm256_add_ps(v, _mm256_mul_ps(blf, bl));
        v = _mm256_add_ps(v, _mm256_mul_ps(brf, br));
        /* (double)v + 0.5 truncated == (v + 0.5f) truncated for 0 <= v < 256 (the float add is exact) */
        const __m256i q = _mm256_cvttps_epi32(_mm256_add_ps(v, half));
        const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        _mm_storel_epi64((__m128i *)(o + c), _mm_packus_epi16(w16, w16));
    }
    if (c < n) sbf_hog_scalar.resize_row(rt, rb, left + c, frac + c, n - c, 0, tb, itb, o + c);
}

static void feat_row_avx2(const float *const *h, const float *const *nn, const float *const *ni, int x0, int x1,
                          float *const *dst) {
    const __m256 tex = _mm256_set1_ps((float)(2 * 0.2357));
    int x = x0;
    for (; x + 8 <= x1; x += 8) {
        const __m256 nn0 = _mm256_loadu_ps(nn[0] + x), nn1 = _mm256_loadu_ps(nn[1] + x);
        const __m256 nn2 = _mm256_loadu_ps(nn[2] + x), nn3 = _mm256_loadu_ps(nn[3] + x);
        const __m256 n0 = _mm256_loadu_ps(ni[0] + x), n1 = _mm256_loadu_ps(ni[1] + x);
        const __m256 n2 = _mm256_loadu_ps(ni[2] + x), n3 = _mm256_loadu_ps(ni[3] + x);
        __m256 t0 = _mm256_setzero_ps(), t1 = t0, t2 = t0, t3 = t0;
        for (int o = 0; o < 18; o += 3) {
            __m256 q[3][4];
            for (int k = 0; k < 3; k++) {
                const __m256 v = _mm256_loadu_ps(h[o + k] + x);
                /* _mm256_min_ps(v, nn) = v < nn ? v : nn, as dlib's min(simd4f, simd4f) */
                q[k][0] = _mm256_mul_ps(_mm256_min_ps(v, nn0), n0);
                q[k][1] = _mm256_mul_ps(_mm256_min_ps(v, nn1), n1);
                q[k][2] = _mm256_mul_ps(_mm256_min_ps(v, nn2), n2);
                q[k][3] = _mm256_mul_ps(_mm256_min_ps(v, nn3), n3);
                _mm256_storeu_ps(dst[o + k] + x,
                                 _mm256_add_ps(_mm256_add_ps(q[k][0], q[k][2]), _mm256_add_ps(q[k][1], q[k][3])));
            }
            t0 = _mm256_add_ps(t0, _mm256_add_ps(_mm256_add_ps(q[0][0], q[1][0]), q[2][0]));
            t1 = _mm256_add_ps(t1, _mm256_add_ps(_mm256_add_ps(q[0][1], q[1][1]), q[2][1]));
            t2 = _mm256_add_ps(t2, _mm256_add_ps(_mm256_add_ps(q[0][2], q[1][2]), q[2][2]));
            t3 = _mm256_add_ps(t3, _mm256_add_ps(_mm256_add_ps(q[0][3], q[1][3]), q[2][3]));
        }
        for (int o = 0; o < 9; o++) {
            const __m256 v = _mm256_add_ps(_mm256_loadu_ps(h[o] + x), _mm256_loadu_ps(h[o + 9] + x));
            const __m256 a = _mm256_mul_ps(_mm256_min_ps(v, nn0), n0), b = _mm256_mul_ps(_mm256_min_ps(v, nn1), n1);
            const __m256 c = _mm256_mul_ps(_mm256_min_ps(v, nn2), n2), d = _mm256_mul_ps(_mm256_min_ps(v, nn3), n3);
            _mm256_storeu_ps(dst[18 + o] + x, _mm256_add_ps(_mm256_add_ps(a, c), _mm256_add_ps(b, d)));
        }
        _mm256_storeu_ps(dst[27] + x, _mm256_mul_ps(t0, tex));
        _mm256_storeu_ps(dst[28] + x, _mm256_mul_ps(t1, tex));
        _mm256_storeu_ps(dst[29] + x, _mm256_mul_ps(t2, tex));
        _mm256_storeu_ps(dst[30] + x, _mm256_mul_ps(t3, tex));
    }
    if (x < x1) sbf_hog_scalar.feat_row(h, nn, ni, x, x1, dst);
}

static void sep_avx2(const float *in, long step, const float *f, int len, int n, int nsplit, float *out, int add) {
    int i = 0;
    for (; i + 8 <= nsplit; i += 8) {
        const float *p = in + i;
        __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps(), c = _mm256_setzero_ps();
        int t = 0;
        for (; t < len - 2; t += 3) {
            a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_loadu_ps(p + t * step), _mm256_set1_ps(f[t])));
            b = _mm256_add_ps(b, _mm256_mul_ps(_mm256_loadu_ps(p + (t + 1) * step), _mm256_set1_ps(f[t + 1])));
            c = _mm256_add_ps(c, _mm256_mul_ps(_mm256_loadu_ps(p + (t + 2) * step), _mm256_set1_ps(f[t + 2])));
        }
        for (; t < len; t++) a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_loadu_ps(p + t * step), _mm256_set1_ps(f[t])));
        __m256 s = _mm256_add_ps(a, _mm256_add_ps(b, c));
        if (add) s = _mm256_add_ps(s, _mm256_loadu_ps(out + i));
        _mm256_storeu_ps(out + i, s);
    }
    if (i < n) sbf_hog_scalar.sep(in + i, step, f, len, n - i, nsplit - i, out + i, add);
}

/* 16 pixels at a time: the R, G and B bytes gathered from the three 16-byte loads by byte shuffles, summed in 16
 * bits (at most 765) and divided by 3 as (s * 43691) >> 17, which equals s / 3 for every s < 98304. */
static void gray_row_avx2(const uint8_t *p, size_t n, uint8_t *g) {
    const __m128i r0 = _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1),
                  r1 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14, -1, -1, -1, -1, -1),
                  r2 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 4, 7, 10, 13),
                  g0 = _mm_setr_epi8(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1),
                  g1 = _mm_setr_epi8(-1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1),
                  g2 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14),
                  b0 = _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1),
                  b1 = _mm_setr_epi8(-1, -1, -1, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1),
                  b2 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15);
    const __m256i third = _mm256_set1_epi16((short)43691);
    size_t i = 0;
    for (; i + 16 <= n; i += 16, p += 48) {
        const __m128i a = _mm_loadu_si128((const __m128i *)p), b = _mm_loadu_si128((const __m128i *)(p + 16)),
                      c = _mm_loadu_si128((const __m128i *)(p + 32));
        const __m128i r =
            _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, r0), _mm_shuffle_epi8(b, r1)), _mm_shuffle_epi8(c, r2));
        const __m128i gg =
            _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, g0), _mm_shuffle_epi8(b, g1)), _mm_shuffle_epi8(c, g2));
        const __m128i bb =
            _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, b0), _mm_shuffle_epi8(b, b1)), _mm_shuffle_epi8(c, b2));
        const __m256i sum = _mm256_add_epi16(_mm256_add_epi16(_mm256_cvtepu8_epi16(r), _mm256_cvtepu8_epi16(gg)),
                                             _mm256_cvtepu8_epi16(bb));
        const __m256i q = _mm256_srli_epi16(_mm256_mulhi_epu16(sum, third), 1);
        _mm_storeu_si128((__m128i *)(g + i),
                         _mm_packus_epi16(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1)));
    }
    if (i < n) sbf_hog_scalar.gray_row(p, n - i, g + i);
}

const sbf_hog_kernels sbf_hog_avx2 = {grad_row_avx2,   votes_row_avx2, sep_avx2,     sep2d_avx2,
                                      resize_row_avx2, feat_row_avx2,  gray_row_avx2};
#endif
