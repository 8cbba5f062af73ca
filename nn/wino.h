/* nn/wino.h — Winograd F(4x4, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016) for
 * the 3x3 stride-1 convolutions of nn/conv.h: the kernel transformed once (U = G g G^T, 36 points per input x
 * output channel, in the 16-column panels of nn/conv.h), each 6x6 input tile transformed (V = B^T d B), one GEMM
 * per point on the per-ISA micro-kernels (nn/kernels.h), and the 36 products of a tile turned back into its 4x4
 * outputs (A^T m A) with bias, residual add and ReLU.  36 multiplications per 16 outputs instead of 144; the results
 * agree with the direct convolution to float32 rounding (tests/test_nn_ops.c).  Internal to nn/: nn/conv.h
 * switches a convolution to it (nn_conv_winograd). */
#ifndef NN_WINO_H
#define NN_WINO_H
#include <stddef.h>

#define NN_WINO_IN 6   /* input tile side */
#define NN_WINO_OUT 4  /* output tile side */
#define NN_WINO_PTS 36 /* transformed points per tile */

typedef struct nn_wino {
    int cin, cout, npanels;
    float *u; /* [36][npanels][cin][NN_NR], 64-byte aligned, columns past cout zero */
} nn_wino;

/* From a 3x3 kernel in nn/conv.h's panel layout (float32, or binary16 when f16).  NULL when out of memory. */
nn_wino *nn_wino_new(const void *panels, int f16, int cout, int cin);
void nn_wino_free(nn_wino *wv);
/* Scratch bytes one call of nn_wino_tiles needs for this cin (at most about 800 KB). */
size_t nn_wino_ws_bytes(int cin);
/* Output tiles [t0, t1) of n images (tiles numbered image by image, row by row: ceil(oh/4) x ceil(ow/4) each),
 * output channels of panels [p0, p1): in is n x h x w pixels (stride in_ld), read with top/left padding pt/pl
 * (zeros outside); out is n x oh x ow pixels (stride out_ld); bias: npanels x 16 floats, 64-byte aligned;
 * flags: NN_RELU, NN_ACCUM (nn/kernels.h).  ws: nn_wino_ws_bytes(cin) bytes, 64-byte aligned. */
void nn_wino_tiles(const nn_wino *wv, const float *bias, const float *in, int n, int h, int w, int in_ld, int pt,
                   int pl, float *out, int oh, int ow, int out_ld, int flags, int t0, int t1, int p0, int p1,
                   float *ws);
#if defined(__x86_64__)
/* The same compiled for AVX2+FMA (nn/wino_avx2.c); nn_wino_tiles calls it at the avx2 and avx512 levels. */
void nn_wino_tiles_avx2(const nn_wino *wv, const float *bias, const float *in, int n, int h, int w, int in_ld, int pt,
                        int pl, float *out, int oh, int ow, int out_ld, int flags, int t0, int t1, int p0, int p1,
                        float *ws);
#endif

#endif
