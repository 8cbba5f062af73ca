/* nn/qgemm_neon.c — int8-weight kernel for plain NEON (armv7, ARMv8.0: no dot product): widening multiplies.
 * Panels in k pairs ([tap][kc/2][16][2] int8), de-interleaved by vld2 into the pair's two k and widened to
 * int16; each row's pair of 12-bit activations sits in one d register, and vmlal_lane_s16 accumulates the
 * products into int32, four columns each.  aarch64: 6 rows x 16 columns (24 accumulators); armv7 (16 q
 * registers): two passes of 6 x 8.  nn/qgemm_neon_epi.h holds the epilogue shared with the sdot kernel. */
#include "nn/qgemm.h"
#if defined(__ARM_NEON)
#include <arm_neon.h>
#include <string.h>
#include "nn/qgemm_neon_epi.h"

#if defined(__aarch64__)
#define NQ 4 /* column quads per pass */
#else
#define NQ 2
#endif

static inline int16x4_t pair(const uint16_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return vreinterpret_s16_u32(vdup_n_u32(v)); /* lanes: p[0], p[1], p[0], p[1] (as int16) */
}

static void qgemm_neon(int ntaps, int kc, const uint16_t *const *a, const int8_t *b, const nn_qepi *e, int mr, int nr) {
    int32_t tile[NN_QMR][NN_QNR];
    const size_t blk = 2 * NN_QNR; /* bytes per k pair */
    for (int pass = 0; pass < NN_QNR / (4 * NQ); pass++) {
        int32x4_t acc[NN_QMR][NQ];
        for (int r = 0; r < NN_QMR; r++)
            for (int q = 0; q < NQ; q++) acc[r][q] = vdupq_n_s32(0);
        const int8_t *bp = b + pass * 8 * NQ; /* this pass's columns within each k-pair block */
        const uint16_t *const *ap = a;
        for (int t = 0; t < ntaps; t++, ap += NN_QMR)
            for (int k = 0; k < kc; k += 2, bp += blk) {
                int16x4_t w0[NQ], w1[NQ]; /* k and k + 1, four columns each */
                for (int h = 0; h < NQ / 2; h++) {
                    int8x8x2_t d = vld2_s8(bp + 16 * h); /* columns 8h..8h+7: val[0] k, val[1] k + 1 */
                    int16x8_t k0 = vmovl_s8(d.val[0]), k1 = vmovl_s8(d.val[1]);
                    w0[2 * h] = vget_low_s16(k0);
                    w0[2 * h + 1] = vget_high_s16(k0);
                    w1[2 * h] = vget_low_s16(k1);
                    w1[2 * h + 1] = vget_high_s16(k1);
                }
                for (int r = 0; r < NN_QMR; r++) {
                    int16x4_t x = pair(ap[r] + k);
                    for (int q = 0; q < NQ; q++) {
                        acc[r][q] = vmlal_lane_s16(acc[r][q], w0[q], x, 0);
                        acc[r][q] = vmlal_lane_s16(acc[r][q], w1[q], x, 1);
                    }
                }
            }
        for (int r = 0; r < NN_QMR; r++)
            for (int q = 0; q < NQ; q++) vst1q_s32(tile[r] + pass * 4 * NQ + 4 * q, acc[r][q]);
    }
    for (int r = 0; r < mr; r++) nn_qepi_row_neon(tile[r], e, r, nr);
}

/* Winograd products (nn/qwino.h): int16 panels ([kc/2][16][2]), de-interleaved by vld2 into the pair's two k, the
 * same passes and accumulators; raw int32 sums (vmlal wraps).  Also the sdot flavour's (sdot takes int8 only). */
void nn_qgemm16_neon(int kc, const int16_t *const *a, const int16_t *b, size_t pstride, int np, int32_t *c, size_t ldc,
                     int mr) {
    for (int pp = 0; pp < np; pp++, b += pstride, c += NN_QNR)
        for (int pass = 0; pass < NN_QNR / (4 * NQ); pass++) {
            int32x4_t acc[NN_QMR][NQ];
            for (int r = 0; r < NN_QMR; r++)
                for (int q = 0; q < NQ; q++) acc[r][q] = vdupq_n_s32(0);
            const int16_t *bp = b + pass * 8 * NQ;
            for (int k = 0; k < kc; k += 2, bp += 2 * NN_QNR) {
                int16x4_t w0[NQ], w1[NQ];
                for (int h = 0; h < NQ / 2; h++) {
                    int16x8x2_t d = vld2q_s16(bp + 16 * h); /* columns 8h..8h+7: val[0] k, val[1] k + 1 */
                    w0[2 * h] = vget_low_s16(d.val[0]);
                    w0[2 * h + 1] = vget_high_s16(d.val[0]);
                    w1[2 * h] = vget_low_s16(d.val[1]);
                    w1[2 * h + 1] = vget_high_s16(d.val[1]);
                }
                for (int r = 0; r < NN_QMR; r++) {
                    int16x4_t x = pair((const uint16_t *)a[r] + k);
                    for (int q = 0; q < NQ; q++) {
                        acc[r][q] = vmlal_lane_s16(acc[r][q], w0[q], x, 0);
                        acc[r][q] = vmlal_lane_s16(acc[r][q], w1[q], x, 1);
                    }
                }
            }
            for (int r = 0; r < mr; r++)
                for (int q = 0; q < NQ; q++) vst1q_s32(c + (size_t)r * ldc + pass * 4 * NQ + 4 * q, acc[r][q]);
        }
}

void nn_qepi_neon(const int32_t *acc, const nn_qepi *e, int r, int nr) { nn_qepi_row_neon(acc, e, r, nr); }

const nn_qkernels nn_qkernels_neon = {
    .name = "neon", .kb = 2, .gemm = qgemm_neon, .gemm16 = nn_qgemm16_neon, .epi = nn_qepi_neon};
#endif
