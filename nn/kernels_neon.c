/* nn/kernels_neon.c — NEON kernels (aarch64 and armv7 hard-float): 6x16 conv/GEMM micro-kernel
 * (armv7: two 6x8 halves, it has only 16 q registers), max-pool row. */
#include "nn/kernels.h"
#if defined(__ARM_NEON)
#include <arm_neon.h>

#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define VFMA(acc, x, w) vfmaq_f32(acc, x, w)
#else
#define VFMA(acc, x, w) vmlaq_f32(acc, x, w)
#endif

#if defined(__aarch64__) || defined(__ARM_FP16_FORMAT_IEEE)
#define NEON_F16 1
#else
#define NEON_F16 0
#endif

static inline void store_row(float *cr, float32x4_t v[], int nq, int nr, int flags) {
    const float32x4_t zero = vdupq_n_f32(0.0f);
    if (nr == 4 * nq) {
        for (int q = 0; q < nq; q++) {
            float32x4_t x = v[q];
            if (flags & NN_ACCUM) x = vaddq_f32(x, vld1q_f32(cr + 4 * q));
            if (flags & NN_RELU) x = vmaxq_f32(x, zero);
            vst1q_f32(cr + 4 * q, x);
        }
        return;
    }
    float tmp[16];
    for (int q = 0; q < nq; q++) vst1q_f32(tmp + 4 * q, v[q]);
    for (int j = 0; j < nr; j++) {
        float x = tmp[j];
        if (flags & NN_ACCUM) x += cr[j];
        if ((flags & NN_RELU) && x < 0.0f) x = 0.0f;
        cr[j] = x;
    }
}

#if defined(__aarch64__)
/* 6 rows x 16 columns: 24 accumulators. */
#define LOADW_F32(bp)                                                                                                  \
    w0 = vld1q_f32(bp);                                                                                                \
    w1 = vld1q_f32(bp + 4);                                                                                            \
    w2 = vld1q_f32(bp + 8);                                                                                            \
    w3 = vld1q_f32(bp + 12)
#define LOADW_F16(bp)                                                                                                  \
    do {                                                                                                               \
        float16x8_t h0 = vreinterpretq_f16_u16(vld1q_u16(bp));                                                         \
        float16x8_t h1 = vreinterpretq_f16_u16(vld1q_u16(bp + 8));                                                     \
        w0 = vcvt_f32_f16(vget_low_f16(h0));                                                                           \
        w1 = vcvt_high_f32_f16(h0);                                                                                    \
        w2 = vcvt_f32_f16(vget_low_f16(h1));                                                                           \
        w3 = vcvt_high_f32_f16(h1);                                                                                    \
    } while (0)

#define ROW(r, ap)                                                                                                     \
    do {                                                                                                               \
        float32x4_t x_ = vld1q_dup_f32(ap);                                                                            \
        c##r[0] = VFMA(c##r[0], x_, w0);                                                                               \
        c##r[1] = VFMA(c##r[1], x_, w1);                                                                               \
        c##r[2] = VFMA(c##r[2], x_, w2);                                                                               \
        c##r[3] = VFMA(c##r[3], x_, w3);                                                                               \
    } while (0)

#define KBODY(BT, LOADW)                                                                                               \
    const BT *b = bv;                                                                                                  \
    float32x4_t c0[4], c1[4], c2[4], c3[4], c4[4], c5[4];                                                              \
    for (int q = 0; q < 4; q++) c0[q] = c1[q] = c2[q] = c3[q] = c4[q] = c5[q] = vld1q_f32(bias + 4 * q);               \
    for (int t = 0; t < ntaps; t++, a += NN_MR) {                                                                      \
        const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];                            \
        for (int k = 0; k < cin; k++, b += NN_NR) {                                                                    \
            float32x4_t w0, w1, w2, w3;                                                                                \
            LOADW(b);                                                                                                  \
            ROW(0, a0 + k);                                                                                            \
            ROW(1, a1 + k);                                                                                            \
            ROW(2, a2 + k);                                                                                            \
            ROW(3, a3 + k);                                                                                            \
            ROW(4, a4 + k);                                                                                            \
            ROW(5, a5 + k);                                                                                            \
        }                                                                                                              \
    }                                                                                                                  \
    float32x4_t *rows[NN_MR] = {c0, c1, c2, c3, c4, c5};                                                               \
    for (int r = 0; r < mr; r++) store_row(c + (size_t)r * ldc, rows[r], 4, nr, flags);

static void gemm_neon(int ntaps, int cin, const float *const *a, const void *bv, const float *bias, float *c,
                      size_t ldc, int mr, int nr, int flags) {
    KBODY(float, LOADW_F32)
}
static void gemm_neon_f16(int ntaps, int cin, const float *const *a, const void *bv, const float *bias, float *c,
                          size_t ldc, int mr, int nr, int flags) {
    KBODY(uint16_t, LOADW_F16)
}
#else
/* armv7: 16 q registers -> two passes over 8-column halves, 12 accumulators each. */
#define ROW8(r, ap)                                                                                                    \
    do {                                                                                                               \
        float32x4_t x_ = vld1q_dup_f32(ap);                                                                            \
        c##r[0] = VFMA(c##r[0], x_, w0);                                                                               \
        c##r[1] = VFMA(c##r[1], x_, w1);                                                                               \
    } while (0)

#define KBODY8(BT, LOADW)                                                                                              \
    for (int h = 0; h < 2; h++) {                                                                                      \
        const BT *b = (const BT *)bv + 8 * h;                                                                          \
        const float *const *ap = a;                                                                                    \
        float32x4_t c0[2], c1[2], c2[2], c3[2], c4[2], c5[2];                                                          \
        for (int q = 0; q < 2; q++) c0[q] = c1[q] = c2[q] = c3[q] = c4[q] = c5[q] = vld1q_f32(bias + 8 * h + 4 * q);   \
        for (int t = 0; t < ntaps; t++, ap += NN_MR) {                                                                 \
            const float *a0 = ap[0], *a1 = ap[1], *a2 = ap[2], *a3 = ap[3], *a4 = ap[4], *a5 = ap[5];                  \
            for (int k = 0; k < cin; k++, b += NN_NR) {                                                                \
                float32x4_t w0, w1;                                                                                    \
                LOADW(b);                                                                                              \
                ROW8(0, a0 + k);                                                                                       \
                ROW8(1, a1 + k);                                                                                       \
                ROW8(2, a2 + k);                                                                                       \
                ROW8(3, a3 + k);                                                                                       \
                ROW8(4, a4 + k);                                                                                       \
                ROW8(5, a5 + k);                                                                                       \
            }                                                                                                          \
        }                                                                                                              \
        int nrh = nr - 8 * h;                                                                                          \
        if (nrh <= 0) break;                                                                                           \
        if (nrh > 8) nrh = 8;                                                                                          \
        float32x4_t *rows[NN_MR] = {c0, c1, c2, c3, c4, c5};                                                           \
        for (int r = 0; r < mr; r++) store_row(c + (size_t)r * ldc + 8 * h, rows[r], 2, nrh, flags);                   \
    }

#define LOADW8_F32(bp)                                                                                                 \
    w0 = vld1q_f32(bp);                                                                                                \
    w1 = vld1q_f32(bp + 4)
#define LOADW8_F16(bp)                                                                                                 \
    do {                                                                                                               \
        w0 = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(bp)));                                                         \
        w1 = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(bp + 4)));                                                     \
    } while (0)

static void gemm_neon(int ntaps, int cin, const float *const *a, const void *bv, const float *bias, float *c,
                      size_t ldc, int mr, int nr, int flags) {
    KBODY8(float, LOADW8_F32)
}
#if NEON_F16
static void gemm_neon_f16(int ntaps, int cin, const float *const *a, const void *bv, const float *bias, float *c,
                          size_t ldc, int mr, int nr, int flags) {
    KBODY8(uint16_t, LOADW8_F16)
}
#endif
#endif

static void maxrow_neon(const float *const *rows, int in_ld, int ow, int ch, float *out, int out_ld) {
    for (int ox = 0; ox < ow; ox++) {
        const float *p0 = rows[0] + (size_t)(2 * ox) * in_ld, *p1 = rows[1] + (size_t)(2 * ox) * in_ld,
                    *p2 = rows[2] + (size_t)(2 * ox) * in_ld;
        float *o = out + (size_t)ox * out_ld;
        int c = 0;
        for (; c + 4 <= ch; c += 4) {
            float32x4_t m = vld1q_f32(p0 + c);
            for (int dx = 0; dx < 3; dx++) {
                size_t off = (size_t)dx * in_ld + c;
                m = vmaxq_f32(m, vld1q_f32(p0 + off));
                m = vmaxq_f32(m, vld1q_f32(p1 + off));
                m = vmaxq_f32(m, vld1q_f32(p2 + off));
            }
            vst1q_f32(o + c, m);
        }
        for (; c < ch; c++) {
            float m = p0[c];
            for (int dx = 0; dx < 3; dx++) {
                size_t off = (size_t)dx * in_ld + c;
                if (p0[off] > m) m = p0[off];
                if (p1[off] > m) m = p1[off];
                if (p2[off] > m) m = p2[off];
            }
            o[c] = m;
        }
    }
}

#if defined(__aarch64__) || NEON_F16
const nn_kernels nn_kernels_neon = {"neon", gemm_neon, gemm_neon_f16, maxrow_neon, 0, 0};
#else
const nn_kernels nn_kernels_neon = {"neon", gemm_neon, 0, maxrow_neon, 0, 0};
#endif
#else
typedef int nn_kernels_neon_empty; /* ARM NEON builds only */
#endif
