/* nn/ops.h — the non-convolution operators on NHWC float32 activations: 3x3/2 max-pool, global average
 * pool, L2 normalisation, uint8 RGB input scaling; plus the naive scalar reference operators (the truth
 * the unit tests compare every kernel flavour against). */
#ifndef NN_OPS_H
#define NN_OPS_H
#include <stddef.h>
#include "nn/conv.h"

/* 3x3 stride-2 VALID max-pool: in n x h x w (pixel stride in_ld) -> n x oh x ow, oh = (h-3)/2+1,
 * written with pixel stride out_ld (a channel slice).  Rows [row0, row1) of the n*oh output rows. */
void nn_maxpool3s2_rows(const float *in, int n, int h, int w, int ch, int in_ld, float *out, int out_ld, int row0,
                        int row1);
void nn_maxpool3s2(const float *in, int n, int h, int w, int ch, int in_ld, float *out, int out_ld);
/* Mean over h x w per image and channel: out[i*ch + c]. */
void nn_global_avgpool(const float *in, int n, int hw, int ch, float *out);
/* x /= sqrt(max(sum x^2, 1e-10)) for each of n vectors of length d (TensorFlow's l2_normalize). */
void nn_l2_normalize(float *x, int n, int d);
/* uint8 RGB -> (x - 127.5) / 128, count = pixels * 3. */
void nn_input_rgb(const unsigned char *rgb, size_t count, float *out);

/* ---- naive references (double accumulation, OHWI weights straight from the weight file) ---- */
void nn_ref_conv2d(const float *in, int n, int h, int w, int cin, int in_ld, const float *w_ohwi, const float *bias,
                   int cout, int kh, int kw, int sh, int sw, nn_padding pad, float *out, int out_ld, int flags);
void nn_ref_maxpool(const float *in, int n, int h, int w, int ch, int in_ld, int k, int s, float *out, int out_ld);
#endif
