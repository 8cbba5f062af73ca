/* src/hog_avx2.c — AVX2 kernels for hog.c: the same float operations in the same order as the
 * scalar reference (no FMA: dlib multiplies and adds separately), 8 lanes at a time. */
#if defined(__x86_64__)
#pragma GCC optimize("fp-contract=off")
#include <immintrin.h>
#include <math.h>
#include "src/hog.h"

static void grad_row_avx2(const uint8_t *prev, const uint8_t *row, const uint8_t *next, int x0, int x1,
                          uint8_t *bin, float *mag) {
    static const float DX[9] = {1.0000f, 0.9397f, 0.7660f, 0.500f, 0.1736f, -0.1736f, -0.5000f, -0.7660f, -0.9397f};
    static const float DY[9] = {0.0000f, 0.3420f, 0.6428f, 0.8660f, 0.9848f, 0.9848f, 0.8660f, 0.6428f, 0.3420f};
    const __m256 neg = _mm256_set1_ps(-0.0f);
    int x = x0;
    for (; x + 8 <= x1; x += 8) {
        const __m256i l = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(row + x - 1)));
        const __m256i r = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(row + x + 1)));
        const __m256i t = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(prev + x)));
        const __m256i b = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(next + x)));
        const __m256i gx = _mm256_sub_epi32(r, l), gy = _mm256_sub_epi32(b, t);
        const __m256i len = _mm256_add_epi32(_mm256_mullo_epi32(gx, gx), _mm256_mullo_epi32(gy, gy));
        _mm256_storeu_ps(mag + x, _mm256_sqrt_ps(_mm256_cvtepi32_ps(len)));
        const __m256 fx = _mm256_cvtepi32_ps(gx), fy = _mm256_cvtepi32_ps(gy);
        __m256 best = _mm256_setzero_ps();
        __m256i bo = _mm256_setzero_si256();
        for (int o = 0; o < 9; o++) {
            __m256 dot = _mm256_add_ps(_mm256_mul_ps(fx, _mm256_set1_ps(DX[o])), _mm256_mul_ps(fy, _mm256_set1_ps(DY[o])));
            __m256 c = _mm256_cmp_ps(dot, best, _CMP_GT_OQ);
            best = _mm256_blendv_ps(best, dot, c);
            bo = _mm256_blendv_epi8(bo, _mm256_set1_epi32(o), _mm256_castps_si256(c));
            dot = _mm256_xor_ps(dot, neg);
            c = _mm256_cmp_ps(dot, best, _CMP_GT_OQ);
            best = _mm256_blendv_ps(best, dot, c);
            bo = _mm256_blendv_epi8(bo, _mm256_set1_epi32(o + 9), _mm256_castps_si256(c));
        }
        /* 8 x int32 (0..17) -> 8 bytes */
        const __m128i lo = _mm256_castsi256_si128(bo), hi = _mm256_extracti128_si256(bo, 1);
        const __m128i w16 = _mm_packs_epi32(lo, hi);
        _mm_storel_epi64((__m128i *)(bin + x), _mm_packus_epi16(w16, w16));
    }
    if (x < x1) sbf_hog_scalar.grad_row(prev, row, next, x, x1, bin, mag);
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

const sbf_hog_kernels sbf_hog_avx2 = {grad_row_avx2, sep_avx2};
#endif
