/* nn/qwino.h — exact integer Winograd F(2x2, 3x3) for the 3x3 stride-1 convolutions of the int8 operator
 * (nn/qgemm.h).  With G' = [1 0 0; 1 1 1; 1 -1 1; 0 0 1] (G with its two middle rows doubled),
 * B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] and A2^T = [2 1 1 0; 0 1 -1 -2] (2 A^T D^-1), the direct sums y
 * of a 2x2 output tile are
 *     4 y = A2^T [ (G' g G'^T) . (B^T d B) ] A2
 * over the integers: the kernel transformed once to int16 (|u| <= 9 x 127), each 4x4 input tile of 12-bit
 * activations to int16 (|v| <= 4 x 4095), 16 int16 GEMMs per tile (nn_qkernels.gemm16: 16 products per 4 outputs
 * instead of 36), the output transform in int32.  Every step is a ring operation, so 4y comes out exactly modulo
 * 2^32 even where a sum wraps; y itself is then exact when |y| < 2^29, which nn_qwino_new checks for every output
 * channel from its weights (4095 x sum |w| < 2^29), else the convolution stays direct.  The int32 sums equal the
 * direct kernel's, and the flavour's own epilogue (nn_qkernels.epi) turns them into the same floats and 12-bit
 * values bit for bit (tests/test_qgemm.c, tests/test_facenet_int8.c).  Internal to nn/: nn_qconv_winograd switches
 * a convolution to it. */
#ifndef NN_QWINO_H
#define NN_QWINO_H
#include <stddef.h>
#include <stdint.h>
#include "nn/qgemm.h"

#define NN_QWINO_PTS 16 /* transformed points per tile */

typedef struct nn_qwino {
    int cin, kc, cout, npanels; /* kc: cin rounded up to even */
    int16_t *u;                 /* [16][npanels][kc/2][NN_QNR][2], 64-byte aligned, zero past cout and cin */
} nn_qwino;

/* From OHWI int8 weights w[cout][3][3][cin].  NULL when an output channel fails the exactness bound, or out of
 * memory. */
nn_qwino *nn_qwino_new(const int8_t *w, int cout, int cin);
void nn_qwino_free(nn_qwino *wv);
size_t nn_qwino_ws_bytes(int cin); /* scratch of one call of nn_qwino_tiles */
/* Tiles [t0, t1) of the call (2x2 outputs each, numbered image by image, row by row: ceil(oh/2) x ceil(ow/2) per
 * image), output channels of panels [p0, p1), on the flavour cv->kern; ws: nn_qwino_ws_bytes(cin), 64-byte
 * aligned. */
void nn_qwino_tiles(const nn_qconv_call *c, int t0, int t1, int p0, int p1, void *ws);
#if defined(__x86_64__)
/* The same compiled for AVX2 (nn/qwino_avx2.c); nn_qwino_tiles calls it with the AVX2 and VNNI kernels. */
void nn_qwino_tiles_avx2(const nn_qconv_call *c, int t0, int t1, int p0, int p1, void *ws);
#endif

#endif
