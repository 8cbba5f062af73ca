/* src/hog_neon.c — NEON kernels for hog.c on aarch64: the scalar reference's float operations in
 * the same order, 4 lanes at a time (separate multiply and add, IEEE sqrt).  Not used on armv7:
 * its NEON unit flushes denormals to zero, which would break bit-exactness (armv7 runs the scalar
 * kernels). */
#if defined(__aarch64__) && defined(__ARM_NEON)
#pragma GCC optimize("fp-contract=off")
#include <arm_neon.h>
#include "src/hog.h"

static inline void grad4(const uint8_t *prev, const uint8_t *row, const uint8_t *next, int x, uint8_t *bin,
                         float *mag) {
    static const float DX[9] = {1.0000f, 0.9397f, 0.7660f, 0.500f, 0.1736f, -0.1736f, -0.5000f, -0.7660f, -0.9397f};
    static const float DY[9] = {0.0000f, 0.3420f, 0.6428f, 0.8660f, 0.9848f, 0.9848f, 0.8660f, 0.6428f, 0.3420f};
    int32_t l[4], r[4], t[4], b[4];
    for (int j = 0; j < 4; j++) {
        l[j] = row[x + j - 1];
        r[j] = row[x + j + 1];
        t[j] = prev[x + j];
        b[j] = next[x + j];
    }
    const int32x4_t gx = vsubq_s32(vld1q_s32(r), vld1q_s32(l)), gy = vsubq_s32(vld1q_s32(b), vld1q_s32(t));
    const int32x4_t len = vaddq_s32(vmulq_s32(gx, gx), vmulq_s32(gy, gy));
    vst1q_f32(mag + x, vsqrtq_f32(vcvtq_f32_s32(len)));
    const float32x4_t fx = vcvtq_f32_s32(gx), fy = vcvtq_f32_s32(gy);
    float32x4_t best = vdupq_n_f32(0);
    uint32x4_t bo = vdupq_n_u32(0);
    for (int o = 0; o < 9; o++) {
        const float32x4_t dot = vaddq_f32(vmulq_f32(fx, vdupq_n_f32(DX[o])), vmulq_f32(fy, vdupq_n_f32(DY[o])));
        const float32x4_t a = vabsq_f32(dot);
        const uint32x4_t c = vcgtq_f32(a, best); /* |dot| > best: dot > best or -dot > best */
        best = vbslq_f32(c, a, best);
        const uint32x4_t neg = vcltq_f32(dot, vdupq_n_f32(0));
        const uint32x4_t oo = vaddq_u32(vdupq_n_u32((uint32_t)o), vandq_u32(neg, vdupq_n_u32(9)));
        bo = vbslq_u32(c, oo, bo);
    }
    uint32_t q[4];
    vst1q_u32(q, bo);
    for (int j = 0; j < 4; j++) bin[x + j] = (uint8_t)q[j];
}

static void grad_row_neon(const uint8_t *prev, const uint8_t *row, const uint8_t *next, int x0, int x1, uint8_t *bin,
                          float *mag) {
    if (x1 - x0 < 4) {
        sbf_hog_scalar.grad_row(prev, row, next, x0, x1, bin, mag);
        return;
    }
    int x = x0;
    for (; x + 4 <= x1; x += 4) grad4(prev, row, next, x, bin, mag);
    if (x < x1) grad4(prev, row, next, x1 - 4, bin, mag);
}

static void votes_row_neon(const float *mag, const float *vx0, const float *vx1, float vy0, float vy1, int x0, int x1,
                           float *a, float *b, float *c, float *d) {
    const float32x4_t y0 = vdupq_n_f32(vy0), y1 = vdupq_n_f32(vy1);
    int x = x0;
    for (; x + 4 <= x1; x += 4) {
        const float32x4_t v = vld1q_f32(mag + x);
        const float32x4_t w1 = vmulq_f32(vld1q_f32(vx1 + x), v), w0 = vmulq_f32(vld1q_f32(vx0 + x), v);
        vst1q_f32(a + x, vmulq_f32(y1, w1));
        vst1q_f32(b + x, vmulq_f32(y0, w1));
        vst1q_f32(c + x, vmulq_f32(y1, w0));
        vst1q_f32(d + x, vmulq_f32(y0, w0));
    }
    if (x < x1) sbf_hog_scalar.votes_row(mag, vx0, vx1, vy0, vy1, x, x1, a, b, c, d);
}

static inline float32x4_t pass4(const float *p, long step, const float *f, int len, int split) {
    if (split) {
        float32x4_t a = vdupq_n_f32(0), b = a, c = a;
        int t = 0;
        for (; t < len - 2; t += 3) {
            a = vaddq_f32(a, vmulq_f32(vld1q_f32(p + t * step), vdupq_n_f32(f[t])));
            b = vaddq_f32(b, vmulq_f32(vld1q_f32(p + (t + 1) * step), vdupq_n_f32(f[t + 1])));
            c = vaddq_f32(c, vmulq_f32(vld1q_f32(p + (t + 2) * step), vdupq_n_f32(f[t + 2])));
        }
        for (; t < len; t++) a = vaddq_f32(a, vmulq_f32(vld1q_f32(p + t * step), vdupq_n_f32(f[t])));
        return vaddq_f32(a, vaddq_f32(b, c));
    }
    float32x4_t s = vdupq_n_f32(0);
    for (int t = 0; t < len; t++) s = vaddq_f32(s, vmulq_f32(vld1q_f32(p + t * step), vdupq_n_f32(f[t])));
    return s;
}

/* nsplit is a multiple of 8, so 4-blocks never straddle it; the last block may be partial */
static void pass_row_neon(const float *in, long step, const float *f, int len, int n, int nsplit, float *out, int add) {
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t s = pass4(in + i, step, f, len, i < nsplit);
        if (add) s = vaddq_f32(s, vld1q_f32(out + i));
        vst1q_f32(out + i, s);
    }
    if (i < n) {
        float tmp[4];
        float32x4_t s = pass4(in + i, step, f, len, i < nsplit);
        vst1q_f32(tmp, s);
        for (int k = 0; i + k < n; k++) out[i + k] = add ? tmp[k] + out[i + k] : tmp[k];
    }
}

static void sep_neon(const float *in, long step, const float *f, int len, int n, int nsplit, float *out, int add) {
    pass_row_neon(in, step, f, len, n, nsplit, out, add);
}

static void sep2d_neon(const float *plane, float *scratch, float *sal, long stride, int ra, int rb, int r0, int r1,
                       int c0, int n, int nsplit, const float *rf, int lr, const float *cf, int lc) {
    for (int r = ra; r < rb; r++)
        pass_row_neon(plane + (size_t)r * stride + c0 - lr / 2, 1, rf, lr, n, nsplit, scratch + (size_t)r * stride + c0,
                      0);
    for (int r = r0; r < r1; r++)
        pass_row_neon(scratch + (size_t)(r - r0) * stride + c0, stride, cf, lc, n, nsplit,
                      sal + (size_t)r * stride + c0, 1);
}

static void feat_row_neon(const float *const *h, const float *const *nn, const float *const *ni, int x0, int x1,
                          float *const *dst) {
    const float32x4_t tex = vdupq_n_f32((float)(2 * 0.2357));
    int x = x0;
    for (; x + 4 <= x1; x += 4) {
        const float32x4_t nn0 = vld1q_f32(nn[0] + x), nn1 = vld1q_f32(nn[1] + x), nn2 = vld1q_f32(nn[2] + x),
                          nn3 = vld1q_f32(nn[3] + x);
        const float32x4_t n0 = vld1q_f32(ni[0] + x), n1 = vld1q_f32(ni[1] + x), n2 = vld1q_f32(ni[2] + x),
                          n3 = vld1q_f32(ni[3] + x);
        float32x4_t t0 = vdupq_n_f32(0), t1 = t0, t2 = t0, t3 = t0;
        for (int o = 0; o < 18; o += 3) {
            float32x4_t q[3][4];
            for (int k = 0; k < 3; k++) {
                const float32x4_t v = vld1q_f32(h[o + k] + x);
                q[k][0] = vmulq_f32(vminq_f32(v, nn0), n0);
                q[k][1] = vmulq_f32(vminq_f32(v, nn1), n1);
                q[k][2] = vmulq_f32(vminq_f32(v, nn2), n2);
                q[k][3] = vmulq_f32(vminq_f32(v, nn3), n3);
                vst1q_f32(dst[o + k] + x, vaddq_f32(vaddq_f32(q[k][0], q[k][2]), vaddq_f32(q[k][1], q[k][3])));
            }
            t0 = vaddq_f32(t0, vaddq_f32(vaddq_f32(q[0][0], q[1][0]), q[2][0]));
            t1 = vaddq_f32(t1, vaddq_f32(vaddq_f32(q[0][1], q[1][1]), q[2][1]));
            t2 = vaddq_f32(t2, vaddq_f32(vaddq_f32(q[0][2], q[1][2]), q[2][2]));
            t3 = vaddq_f32(t3, vaddq_f32(vaddq_f32(q[0][3], q[1][3]), q[2][3]));
        }
        for (int o = 0; o < 9; o++) {
            const float32x4_t v = vaddq_f32(vld1q_f32(h[o] + x), vld1q_f32(h[o + 9] + x));
            const float32x4_t a = vmulq_f32(vminq_f32(v, nn0), n0), b = vmulq_f32(vminq_f32(v, nn1), n1);
            const float32x4_t c = vmulq_f32(vminq_f32(v, nn2), n2), d = vmulq_f32(vminq_f32(v, nn3), n3);
            vst1q_f32(dst[18 + o] + x, vaddq_f32(vaddq_f32(a, c), vaddq_f32(b, d)));
        }
        vst1q_f32(dst[27] + x, vmulq_f32(t0, tex));
        vst1q_f32(dst[28] + x, vmulq_f32(t1, tex));
        vst1q_f32(dst[29] + x, vmulq_f32(t2, tex));
        vst1q_f32(dst[30] + x, vmulq_f32(t3, tex));
    }
    if (x < x1) sbf_hog_scalar.feat_row(h, nn, ni, x, x1, dst);
}

static void resize_row_neon(const uint8_t *rt, const uint8_t *rb, const int32_t *left, const float *frac, int n,
                            long avail, float tb, float itb, uint8_t *o) {
    sbf_hog_scalar.resize_row(rt, rb, left, frac, n, avail, tb, itb, o);
}

/* 16 pixels at a time (vld3 splits R, G, B), s / 3 as (s * 43691) >> 17 (exact for s < 98304). */
static void gray_row_neon(const uint8_t *p, size_t n, uint8_t *g) {
    const uint16x4_t third = vdup_n_u16(43691);
    size_t i = 0;
    for (; i + 16 <= n; i += 16, p += 48) {
        const uint8x16x3_t v = vld3q_u8(p);
        const uint16x8_t lo = vaddw_u8(vaddl_u8(vget_low_u8(v.val[0]), vget_low_u8(v.val[1])), vget_low_u8(v.val[2]));
        const uint16x8_t hi =
            vaddw_u8(vaddl_u8(vget_high_u8(v.val[0]), vget_high_u8(v.val[1])), vget_high_u8(v.val[2]));
        const uint16x8_t qlo = vcombine_u16(vshrn_n_u32(vmull_u16(vget_low_u16(lo), third), 16),
                                            vshrn_n_u32(vmull_u16(vget_high_u16(lo), third), 16));
        const uint16x8_t qhi = vcombine_u16(vshrn_n_u32(vmull_u16(vget_low_u16(hi), third), 16),
                                            vshrn_n_u32(vmull_u16(vget_high_u16(hi), third), 16));
        vst1q_u8(g + i, vcombine_u8(vshrn_n_u16(qlo, 1), vshrn_n_u16(qhi, 1)));
    }
    if (i < n) sbf_hog_scalar.gray_row(p, n - i, g + i);
}

const sbf_hog_kernels sbf_hog_neon = {grad_row_neon,   votes_row_neon, sep_neon,     sep2d_neon,
                                      resize_row_neon, feat_row_neon,  gray_row_neon};
#endif
