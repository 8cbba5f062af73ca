/* nn/kernels.h — the per-ISA compute kernels (scalar, AVX2+FMA, NEON) behind one dispatch table,
 * and the run-time ISA choice (nn_set_isa / nn_isa_name).  Internal to nn/. */
#ifndef NN_KERNELS_H
#define NN_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#define NN_MR 6       /* micro-tile rows (output pixels) */
#define NN_NR 16      /* micro-tile columns (output channels) = packed weight panel width */
#define NN_MAX_TAPS 64

/* Epilogue flags of a convolution / GEMM. */
#define NN_RELU 1     /* out = max(out, 0) */
#define NN_ACCUM 2    /* out = existing out + conv (residual add, in place), before the ReLU */

/* One micro-tile: rows r < mr, columns j < nr of
 *   C[r][j] = act( (ACCUM ? C[r][j] : 0) + bias[j] + sum_t sum_c a[t*NN_MR + r][c] * b[(t*cin + c)*NN_NR + j] )
 * a: for each tap t, NN_MR row pointers to cin floats (rows >= mr still point to readable memory);
 * b: the packed weight panel (ntaps*cin x NN_NR, 32-byte aligned; float or binary16 per the kernel);
 * bias: NN_NR floats (32-byte aligned); c: row r at c + r*ldc. */
typedef void (*nn_ukernel_fn)(int ntaps, int cin, const float *const *a, const void *b, const float *bias,
                              float *c, size_t ldc, int mr, int nr, int flags);

/* 3x3 stride-2 VALID max-pool of one output row: out[ox*out_ld + c] for ox < ow, c < ch.
 * rows[3] point to the three input rows (pixel stride in_ld floats). */
typedef void (*nn_maxrow_fn)(const float *const *rows, int in_ld, int ow, int ch, float *out, int out_ld);

/* Two adjacent panels at once (columns 0..31, nr <= 32); the second panel starts pstride bytes
 * after the first.  Same contract as nn_ukernel_fn otherwise. */
typedef void (*nn_ukernel2_fn)(int ntaps, int cin, const float *const *a, const void *b, size_t pstride,
                               const float *bias, float *c, size_t ldc, int mr, int nr, int flags);

typedef struct {
    const char *name;
    nn_ukernel_fn gemm;      /* float32 panels */
    nn_ukernel_fn gemm_f16;  /* binary16 panels (NULL: not available) */
    nn_maxrow_fn maxrow;
    nn_ukernel2_fn gemm2;    /* optional: two float32 panels per call (AVX-512: 12 accumulators) */
    nn_ukernel2_fn gemm2_f16; /* optional: the same for binary16 panels */
} nn_kernels;

/* The selected kernel table (initialised on first use to the best available ISA). */
const nn_kernels *nn_kern(void);

/* Flavour tables; NULL when not compiled in / not supported by this CPU. */
const nn_kernels *nn_kernels_scalar(void);
const nn_kernels *nn_kernels_avx2(void);
const nn_kernels *nn_kernels_neon(void);
const nn_kernels *nn_kernels_avx512(void); /* AVX-512F pair kernel; the rest from the AVX2 table */

/* Force a kernel flavour for tests/benchmarks: "scalar", "avx2", "avx512", "neon" (-1 if unavailable);
 * "auto" picks the best one. */
int nn_set_isa(const char *name);
const char *nn_isa_name(void);

#endif
