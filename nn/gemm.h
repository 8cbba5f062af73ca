/* nn/gemm.h — nn's GEMM micro-kernel for code outside nn/ (the clustering similarity graph): dot products of up
 * to 6 rows of A with the columns of B, B packed once into 16-column panels, on the kernels of the ISA level in
 * force (nn/cpu.h: AVX-512F two panels per call, AVX2+FMA, NEON, scalar) — the same kernels as the convolutions. */
#ifndef NN_GEMM_H
#define NN_GEMM_H
#include <stddef.h>

#define NN_GEMM_MR 6  /* rows of A per call */
#define NN_GEMM_NR 16 /* columns of B per panel */

/* Floats in one panel of k-long columns: k x 16, a multiple of 64 bytes, so consecutive panels in one 64-byte
 * aligned block all stay 64-byte aligned. */
static inline size_t nn_gemm_panel_floats(int k) { return (size_t)k * NN_GEMM_NR; }

/* Packs the columns cols[j] (k floats each, j < ncols <= 16; columns ncols..15 zero) into a panel:
 * panel[i * 16 + j] = cols[j][i].  panel: 64-byte aligned. */
void nn_gemm_pack(const float *const *cols, int ncols, int k, float *panel);

/* c[r * ldc + j] = sum over i = 0, 1, ..., k-1 of a[r][i] * (column j of B)[i], for r < mr <= 6, j < ncols.
 * a: 6 row pointers to k floats (any alignment; rows r >= mr are read but not used: point them at a real row);
 * panels: the ceil(ncols / 16) panels holding columns 0..ncols-1, consecutive (nn_gemm_panel_floats(k) apart),
 * 64-byte aligned.  Each dot is summed in ascending i at every level: fused multiply-adds at the SIMD levels
 * (which therefore agree bit for bit), separate multiply and add at the scalar level. */
void nn_gemm_dots(const float *const a[NN_GEMM_MR], int mr, int k, const float *panels, int ncols, float *c,
                  size_t ldc);

#endif
