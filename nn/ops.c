/* nn/ops.c — pooling, normalisation, input scaling, and the naive reference operators. */
#include "nn/ops.h"
#include "nn/kernels.h"
#include <math.h>

void nn_maxpool3s2_rows(const float *in, int n, int h, int w, int ch, int in_ld, float *out, int out_ld, int row0,
                        int row1) {
    int oh = (h - 3) / 2 + 1, ow = (w - 3) / 2 + 1;
    (void)n;
    nn_maxrow_fn fn = nn_kern()->maxrow;
    for (int row = row0; row < row1; row++) {
        int img = row / oh, oy = row % oh;
        const float *base = in + ((size_t)img * h + 2 * oy) * w * in_ld;
        const float *rows[3] = {base, base + (size_t)w * in_ld, base + (size_t)2 * w * in_ld};
        fn(rows, in_ld, ow, ch, out + (size_t)row * ow * out_ld, out_ld);
    }
}

void nn_maxpool3s2(const float *in, int n, int h, int w, int ch, int in_ld, float *out, int out_ld) {
    if (h < 3 || w < 3) return;
    nn_maxpool3s2_rows(in, n, h, w, ch, in_ld, out, out_ld, 0, n * ((h - 3) / 2 + 1));
}

void nn_global_avgpool(const float *in, int n, int hw, int ch, float *out) {
    for (int i = 0; i < n; i++) {
        float *o = out + (size_t)i * ch;
        for (int c = 0; c < ch; c++) o[c] = 0.0f;
        for (int p = 0; p < hw; p++) {
            const float *x = in + ((size_t)i * hw + p) * ch;
            for (int c = 0; c < ch; c++) o[c] += x[c];
        }
        float inv = 1.0f / (float)hw;
        for (int c = 0; c < ch; c++) o[c] *= inv;
    }
}

void nn_l2_normalize(float *x, int n, int d) {
    for (int i = 0; i < n; i++) {
        float *v = x + (size_t)i * d;
        double ss = 0.0;
        for (int j = 0; j < d; j++) ss += (double)v[j] * v[j];
        if (ss < 1e-10) ss = 1e-10;
        float inv = (float)(1.0 / sqrt(ss));
        for (int j = 0; j < d; j++) v[j] *= inv;
    }
}

void nn_input_rgb(const unsigned char *rgb, size_t count, float *out) {
    for (size_t i = 0; i < count; i++) out[i] = ((float)rgb[i] - 127.5f) * (1.0f / 128.0f);
}

static int ref_same(int in, int k, int s, int *o) {
    *o = (in + s - 1) / s;
    int total = (*o - 1) * s + k - in;
    return total > 0 ? total / 2 : 0;
}

void nn_ref_conv2d(const float *in, int n, int h, int w, int cin, int in_ld, const float *wt, const float *bias,
                   int cout, int kh, int kw, int sh, int sw, nn_padding pad, float *out, int out_ld, int flags) {
    int oh, ow, pt = 0, pl = 0;
    if (pad == NN_PAD_SAME) {
        pt = ref_same(h, kh, sh, &oh);
        pl = ref_same(w, kw, sw, &ow);
    } else {
        oh = (h - kh) / sh + 1;
        ow = (w - kw) / sw + 1;
    }
    for (int i = 0; i < n; i++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float *o = out + (((size_t)i * oh + oy) * ow + ox) * out_ld;
                for (int co = 0; co < cout; co++) {
                    double s = bias ? bias[co] : 0.0;
                    for (int ky = 0; ky < kh; ky++) {
                        int iy = oy * sh - pt + ky;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < kw; kx++) {
                            int ix = ox * sw - pl + kx;
                            if (ix < 0 || ix >= w) continue;
                            const float *x = in + (((size_t)i * h + iy) * w + ix) * in_ld;
                            const float *k = wt + (((size_t)co * kh + ky) * kw + kx) * cin;
                            for (int c = 0; c < cin; c++) s += (double)x[c] * k[c];
                        }
                    }
                    if (flags & NN_ACCUM) s += o[co];
                    if ((flags & NN_RELU) && s < 0) s = 0;
                    o[co] = (float)s;
                }
            }
}

void nn_ref_maxpool(const float *in, int n, int h, int w, int ch, int in_ld, int k, int s, float *out, int out_ld) {
    int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
    for (int i = 0; i < n; i++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int c = 0; c < ch; c++) {
                    float m = -INFINITY;
                    for (int dy = 0; dy < k; dy++)
                        for (int dx = 0; dx < k; dx++) {
                            float v = in[(((size_t)i * h + oy * s + dy) * w + ox * s + dx) * in_ld + c];
                            if (v > m) m = v;
                        }
                    out[(((size_t)i * oh + oy) * ow + ox) * out_ld + c] = m;
                }
}
