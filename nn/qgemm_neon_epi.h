/* nn/qgemm_neon_epi.h — the NEON form of the int8 epilogue (nn_qepi_row: the same operations in the same
 * order), shared by the two NEON kernel files.  Internal to nn/. */
#ifndef NN_QGEMM_NEON_EPI_H
#define NN_QGEMM_NEON_EPI_H
#include <arm_neon.h>
#include "nn/qgemm.h"

static inline void nn_qepi_row_neon(const int32_t *acc, const nn_qepi *e, int r, int nr) {
    if (nr < NN_QNR) {
        nn_qepi_row(acc, e, r, nr);
        return;
    }
    float *of = e->outf ? e->outf + (size_t)r * e->ldf : NULL;
    uint16_t *oq = e->outq ? e->outq + (size_t)r * e->ldq : NULL;
    const float32x4_t zero = vdupq_n_f32(0.0f), top = vdupq_n_f32((float)NN_QMAX), half = vdupq_n_f32(0.5f);
    for (int q = 0; q < 4; q++) {
        float32x4_t v = vmulq_f32(vcvtq_f32_s32(vld1q_s32(acc + 4 * q)), vld1q_f32(e->scale + 4 * q));
        v = vaddq_f32(v, vld1q_f32(e->bias + 4 * q));
        if (e->flags & NN_ACCUM) v = vaddq_f32(v, vld1q_f32(of + 4 * q));
        if (e->flags & NN_RELU) v = vmaxq_f32(v, zero);
        if (of) vst1q_f32(of + 4 * q, v);
        if (!oq) continue;
        float32x4_t x = vminq_f32(vmaxq_f32(vmulq_f32(v, vld1q_f32(e->qinv + 4 * q)), zero), top);
        vst1_u16(oq + 4 * q, vmovn_u32(vcvtq_u32_f32(vaddq_f32(x, half))));
    }
}
/* nn/qgemm_neon.c's Winograd products and epilogue, which the sdot flavour shares. */
void nn_qgemm16_neon(int kc, const int16_t *const *a, const int16_t *b, size_t pstride, int np, int32_t *c, size_t ldc,
                     int mr);
void nn_qepi_neon(const int32_t *acc, const nn_qepi *e, int r, int nr);
#endif
