/* nn/qgemm_neondot.c — int8-weight kernel for ARMv8.2 dot product (sdot), aarch64: panels in k quads
 * ([tap][kc/4][16][4] int8 = four q registers of 4 columns x 4 k).  A 12-bit activation x is split into
 * lo = x & 127 and hi = x >> 7 (both int8), each row's four lo and four hi broadcast to q registers, and two
 * vdotq_s32 sums give sum w lo and sum w hi; the result is lo + 128 x hi, exact.  Three rows at a time (2 x 12
 * accumulators).  Compiled without ISA flags: the kernel carries its own target attribute and is only picked
 * (nn_qkernels_for) when the CPU has the dot product (NN_CPU_ASIMDDP). */
#include "nn/qgemm.h"
#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#include "nn/qgemm_neon_epi.h"

__attribute__((target("arch=armv8.2-a+dotprod"))) static void
qgemm_neondot(int ntaps, int kc, const uint16_t *const *a, const int8_t *b, const nn_qepi *e, int mr, int nr) {
    int32_t tile[NN_QMR][NN_QNR];
    const uint16x4_t low7 = vdup_n_u16(127);
    for (int r0 = 0; r0 < NN_QMR; r0 += 3) {
        int32x4_t lo[3][4], hi[3][4];
        for (int r = 0; r < 3; r++)
            for (int q = 0; q < 4; q++) lo[r][q] = hi[r][q] = vdupq_n_s32(0);
        const int8_t *bp = b;
        const uint16_t *const *ap = a + r0;
        for (int t = 0; t < ntaps; t++, ap += NN_QMR)
            for (int k = 0; k < kc; k += 4, bp += 4 * NN_QNR) {
                int8x16_t w0 = vld1q_s8(bp), w1 = vld1q_s8(bp + 16), w2 = vld1q_s8(bp + 32), w3 = vld1q_s8(bp + 48);
                for (int r = 0; r < 3; r++) {
                    uint16x4_t x = vld1_u16(ap[r] + k);
                    uint8x8_t l8 = vmovn_u16(vcombine_u16(vand_u16(x, low7), vshr_n_u16(x, 7)));
                    int8x16_t xl = vreinterpretq_s8_u32(vdupq_lane_u32(vreinterpret_u32_u8(l8), 0));
                    int8x16_t xh = vreinterpretq_s8_u32(vdupq_lane_u32(vreinterpret_u32_u8(l8), 1));
                    lo[r][0] = vdotq_s32(lo[r][0], w0, xl);
                    lo[r][1] = vdotq_s32(lo[r][1], w1, xl);
                    lo[r][2] = vdotq_s32(lo[r][2], w2, xl);
                    lo[r][3] = vdotq_s32(lo[r][3], w3, xl);
                    hi[r][0] = vdotq_s32(hi[r][0], w0, xh);
                    hi[r][1] = vdotq_s32(hi[r][1], w1, xh);
                    hi[r][2] = vdotq_s32(hi[r][2], w2, xh);
                    hi[r][3] = vdotq_s32(hi[r][3], w3, xh);
                }
            }
        for (int r = 0; r < 3; r++)
            for (int q = 0; q < 4; q++) vst1q_s32(tile[r0 + r] + 4 * q, vaddq_s32(lo[r][q], vshlq_n_s32(hi[r][q], 7)));
    }
    for (int r = 0; r < mr; r++) nn_qepi_row_neon(tile[r], e, r, nr);
}

const nn_qkernels nn_qkernels_neondot = {
    .name = "neondot", .kb = 4, .gemm = qgemm_neondot, .gemm16 = nn_qgemm16_neon, .epi = nn_qepi_neon};
#endif
