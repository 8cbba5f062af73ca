/* src/cluster_neon.c — NEON 6x16 dot-product micro-kernel of the similarity graph (aarch64, armv7). */
#include "src/cluster_kernels.h"
#include <stddef.h>

#if defined(__ARM_NEON)
#include <arm_neon.h>

int sbf_tile_neon_available(void) { return 1; }

#if defined(__ARM_FEATURE_FMA)
#define MAC(acc, b, a) vfmaq_n_f32_(acc, b, a)
static inline float32x4_t vfmaq_n_f32_(float32x4_t acc, float32x4_t b, float a) { return vfmaq_f32(acc, b, vdupq_n_f32(a)); }
#else
#define MAC(acc, b, a) vmlaq_n_f32(acc, b, a)
#endif

/* Two passes of 8 columns keep 12 accumulators + 2 operands in armv7's 16 q registers. */
void sbf_tile_neon(const float *ap, const float *bp, int dim, float *out) {
    for (int h = 0; h < 2; h++) {
        float32x4_t c[6][2];
        for (int r = 0; r < 6; r++) c[r][0] = c[r][1] = vdupq_n_f32(0);
        for (int k = 0; k < dim; k++) {
            const float *a = ap + (size_t)k * 6, *b = bp + (size_t)k * 16 + h * 8;
            float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
            for (int r = 0; r < 6; r++) {
                c[r][0] = MAC(c[r][0], b0, a[r]);
                c[r][1] = MAC(c[r][1], b1, a[r]);
            }
        }
        for (int r = 0; r < 6; r++) {
            vst1q_f32(out + r * 16 + h * 8, c[r][0]);
            vst1q_f32(out + r * 16 + h * 8 + 4, c[r][1]);
        }
    }
}
#else
int sbf_tile_neon_available(void) { return 0; }
void sbf_tile_neon(const float *ap, const float *bp, int dim, float *out) { (void)ap; (void)bp; (void)dim; (void)out; }
#endif
