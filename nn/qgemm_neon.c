/* nn/qgemm_neon.c — int8 kernel for plain NEON (armv7, ARMv8.0: no dot product): widening multiplies.
 * Panels in k pairs ([tap][kc/2][16][2] int8); activations as int8 (q - 128).  For two k pairs a row's
 * pairs are broadcast (4 copies in a d register), vmull_s8 + vmlal_s8 give int16 sums of two products
 * (|sum| <= 2 x 128 x 127: weights are in -127..127, so no overflow) and vpadal adds adjacent lanes into
 * int32 accumulators, four columns each.  aarch64: 6 rows x 16 columns (24 accumulators); armv7 (16 q
 * registers): two passes of 6 x 8.  128 x the column sums is added back before the epilogue.
 * nn/qgemm_neon_epi.h holds the epilogue shared with the sdot kernel. */
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

static inline int8x8_t pair(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return veor_s8(vreinterpret_s8_u16(vdup_n_u16(v)), vdup_n_s8(-128));
}

static void qgemm_neon(int ntaps, int kc, const uint8_t *const *a, const int8_t *b, const nn_qepi *e, int mr, int nr) {
    int32_t tile[NN_QMR][NN_QNR];
    const size_t blk = 2 * NN_QNR; /* bytes per k pair */
    for (int pass = 0; pass < NN_QNR / (4 * NQ); pass++) {
        int32x4_t acc[NN_QMR][NQ];
        for (int r = 0; r < NN_QMR; r++)
            for (int q = 0; q < NQ; q++) acc[r][q] = vdupq_n_s32(0);
        const int8_t *bp = b + pass * 8 * NQ; /* this pass's columns within each k-pair block */
        const uint8_t *const *ap = a;
        for (int t = 0; t < ntaps; t++, ap += NN_QMR) {
            int k = 0;
            for (; k + 4 <= kc; k += 4, bp += 2 * blk) {
                int8x8_t w0[NQ], w1[NQ];
                for (int q = 0; q < NQ; q++) {
                    w0[q] = vld1_s8(bp + 8 * q);
                    w1[q] = vld1_s8(bp + blk + 8 * q);
                }
                for (int r = 0; r < NN_QMR; r++) {
                    int8x8_t x0 = pair(ap[r] + k), x1 = pair(ap[r] + k + 2);
                    for (int q = 0; q < NQ; q++)
                        acc[r][q] = vpadalq_s16(acc[r][q], vmlal_s8(vmull_s8(x0, w0[q]), x1, w1[q]));
                }
            }
            if (k < kc) { /* one k pair left */
                int8x8_t w0[NQ];
                for (int q = 0; q < NQ; q++) w0[q] = vld1_s8(bp + 8 * q);
                for (int r = 0; r < NN_QMR; r++) {
                    int8x8_t x0 = pair(ap[r] + k);
                    for (int q = 0; q < NQ; q++) acc[r][q] = vpadalq_s16(acc[r][q], vmull_s8(x0, w0[q]));
                }
                bp += blk;
            }
        }
        for (int r = 0; r < NN_QMR; r++)
            for (int q = 0; q < NQ; q++) {
                int col = pass * 4 * NQ + 4 * q;
                vst1q_s32(tile[r] + col, vaddq_s32(acc[r][q], vld1q_s32(e->zcorr + col)));
            }
    }
    for (int r = 0; r < mr; r++) nn_qepi_row_neon(tile[r], e, r, nr);
}

const nn_qkernels nn_qkernels_neon = {"neon", 2, qgemm_neon, 0, 0, 0};
#endif
