/* nn/qgemm_neondot.c — int8 kernel for ARMv8.2 dot product (sdot), aarch64: panels in k quads
 * ([tap][kc/4][16][4] int8 = four q registers of 4 columns x 4 k), each row's four activations (q - 128 as
 * int8) broadcast to a q register, vdotq_s32 into 6 rows x 16 columns of int32 accumulators (24 q); 128 x
 * the column sums is added back before the epilogue.  Compiled without ISA flags: the kernel carries its own
 * target attribute and is only picked (nn_qkernels_for) when the CPU has the dot product (NN_CPU_ASIMDDP). */
#include "nn/qgemm.h"
#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#include <string.h>
#include "nn/qgemm_neon_epi.h"

__attribute__((target("arch=armv8.2-a+dotprod"))) static void
qgemm_neondot(int ntaps, int kc, const uint8_t *const *a, const int8_t *b, const nn_qepi *e, int mr, int nr) {
    int32x4_t acc[NN_QMR][4];
    for (int r = 0; r < NN_QMR; r++)
        for (int q = 0; q < 4; q++) acc[r][q] = vdupq_n_s32(0);
    const uint32x4_t flip = vdupq_n_u32(0x80808080u);
    for (int t = 0; t < ntaps; t++, a += NN_QMR) {
        for (int k = 0; k < kc; k += 4, b += 4 * NN_QNR) {
            int8x16_t w0 = vld1q_s8(b), w1 = vld1q_s8(b + 16), w2 = vld1q_s8(b + 32), w3 = vld1q_s8(b + 48);
            for (int r = 0; r < NN_QMR; r++) {
                uint32_t v;
                memcpy(&v, a[r] + k, 4);
                int8x16_t x = vreinterpretq_s8_u32(veorq_u32(vdupq_n_u32(v), flip));
                acc[r][0] = vdotq_s32(acc[r][0], w0, x);
                acc[r][1] = vdotq_s32(acc[r][1], w1, x);
                acc[r][2] = vdotq_s32(acc[r][2], w2, x);
                acc[r][3] = vdotq_s32(acc[r][3], w3, x);
            }
        }
    }
    int32_t tile[NN_QNR];
    for (int r = 0; r < mr; r++) {
        for (int q = 0; q < 4; q++) vst1q_s32(tile + 4 * q, vaddq_s32(acc[r][q], vld1q_s32(e->zcorr + 4 * q)));
        nn_qepi_row_neon(tile, e, r, nr);
    }
}

const nn_qkernels nn_qkernels_neondot = {"neondot", 4, qgemm_neondot, 0, 0, 0};
#endif
