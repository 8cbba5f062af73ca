/* nn/kernels.h — the per-ISA compute kernels (scalar, AVX2+FMA, AVX-512F, NEON): one table per ISA level of
 * nn/cpu.h.  Internal to nn/ (code outside nn/ reaches the GEMM micro-kernel through nn/gemm.h). */
#ifndef NN_KERNELS_H
#define NN_KERNELS_H
#include <stddef.h>
#include <stdint.h>
#include "nn/cpu.h"

#define NN_MR 6  /* micro-tile rows (output pixels) */
#define NN_NR 16 /* micro-tile columns (output channels) = packed weight panel width */
#define NN_MAX_TAPS 64

/* Epilogue flags of a convolution / GEMM. */
#define NN_RELU 1  /* out = max(out, 0) */
#define NN_ACCUM 2 /* out = existing out + conv (residual add, in place), before the ReLU */

/* One micro-tile: rows r < mr, columns j < nr of
 *   C[r][j] = act( (ACCUM ? C[r][j] : 0) + bias[j] + sum_t sum_c a[t*NN_MR + r][c] * b[(t*cin + c)*NN_NR + j] )
 * a: for each tap t, NN_MR row pointers to cin floats (rows >= mr still point to readable memory);
 * b: the packed weight panel (ntaps*cin x NN_NR, 32-byte aligned; float or binary16 per the kernel);
 * bias: NN_NR floats (32-byte aligned); c: row r at c + r*ldc. */
typedef void (*nn_ukernel_fn)(int ntaps, int cin, const float *const *a, const void *b, const float *bias, float *c,
                              size_t ldc, int mr, int nr, int flags);

/* 3x3 stride-2 VALID max-pool of one output row: out[ox*out_ld + c] for ox < ow, c < ch.
 * rows[3] point to the three input rows (pixel stride in_ld floats). */
typedef void (*nn_maxrow_fn)(const float *const *rows, int in_ld, int ow, int ch, float *out, int out_ld);

/* Two adjacent panels at once (columns 0..31, nr <= 32); the second panel starts pstride bytes
 * after the first.  Same contract as nn_ukernel_fn otherwise. */
typedef void (*nn_ukernel2_fn)(int ntaps, int cin, const float *const *a, const void *b, size_t pstride,
                               const float *bias, float *c, size_t ldc, int mr, int nr, int flags);

typedef struct {
    const char *name;
    nn_ukernel_fn gemm;     /* float32 panels */
    nn_ukernel_fn gemm_f16; /* binary16 panels (NULL: not available) */
    nn_maxrow_fn maxrow;
    nn_ukernel2_fn gemm2;     /* optional: two float32 panels per call (AVX-512: 12 accumulators) */
    nn_ukernel2_fn gemm2_f16; /* optional: the same for binary16 panels */
} nn_kernels;

/* The kernel table of an ISA level; NULL when this build has none for it (no CPU check: see nn_isa_runs). */
const nn_kernels *nn_kernels_for(nn_isa isa);
/* The table of the level in force (nn_isa_get()). */
const nn_kernels *nn_kern(void);

#if defined(__x86_64__)
extern const nn_kernels nn_kernels_avx2;   /* kernels_avx2.c */
extern const nn_kernels nn_kernels_avx512; /* kernels_avx512.c: the AVX2 table plus the two-panel kernels */
void nn_gemm_avx2(int ntaps, int cin, const float *const *a, const void *b, const float *bias, float *c, size_t ldc,
                  int mr, int nr, int flags);
void nn_gemm_avx2_f16(int ntaps, int cin, const float *const *a, const void *b, const float *bias, float *c, size_t ldc,
                      int mr, int nr, int flags);
void nn_maxrow_avx2(const float *const *rows, int in_ld, int ow, int ch, float *out, int out_ld);
#endif
#if defined(__ARM_NEON)
extern const nn_kernels nn_kernels_neon; /* kernels_neon.c */
#endif

#endif
