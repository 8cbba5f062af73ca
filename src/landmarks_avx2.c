/* src/landmarks_avx2.c — AVX2/F16C leaf accumulation for the shape predictor (x86-64 only). */
#include "src/landmarks_impl.h"
#if defined(__x86_64__)
#include <immintrin.h>

void sbf_shape_accum_avx2(float *cur, const void *leaves, int f16, const uint32_t *leaf_off, int n, int dim) {
    int j0 = 0;
    /* Chunks of up to 64 floats kept in registers across all trees; additions stay per element and in
     * tree order, so the sums are bit-identical to the scalar loop. */
    for (; j0 + 8 <= dim; j0 += 64) {
        int nv = (dim - j0) / 8;
        if (nv > 8) nv = 8;
        __m256 acc[8];
        for (int k = 0; k < nv; k++) acc[k] = _mm256_loadu_ps(cur + j0 + 8 * k);
        if (f16) {
            const uint16_t *lb = (const uint16_t *)leaves + j0;
            for (int t = 0; t < n; t++) {
                const uint16_t *l = lb + leaf_off[t];
                for (int k = 0; k < nv; k++)
                    acc[k] = _mm256_add_ps(acc[k], _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(l + 8 * k))));
            }
        } else {
            const float *lb = (const float *)leaves + j0;
            for (int t = 0; t < n; t++) {
                const float *l = lb + leaf_off[t];
                for (int k = 0; k < nv; k++) acc[k] = _mm256_add_ps(acc[k], _mm256_loadu_ps(l + 8 * k));
            }
        }
        for (int k = 0; k < nv; k++) _mm256_storeu_ps(cur + j0 + 8 * k, acc[k]);
        if (nv < 8) {
            j0 += 8 * nv;
            break;
        }
    }
    if (j0 < dim) {
        for (int t = 0; t < n; t++) {
            if (f16) {
                const uint16_t *l = (const uint16_t *)leaves + leaf_off[t];
                for (int j = j0; j < dim; j++) cur[j] += _cvtsh_ss(l[j]);
            } else {
                const float *l = (const float *)leaves + leaf_off[t];
                for (int j = j0; j < dim; j++) cur[j] += l[j];
            }
        }
    }
}
#else
typedef int sbf_landmarks_avx2_empty;
#endif
