/* src/cluster_kernels.h — internal to the cluster module: the 6x16 dot-product micro-kernels
 * (scalar in cluster.c, AVX2+FMA in cluster_avx2.c, NEON in cluster_neon.c) and their run-time checks. */
#ifndef SRC_CLUSTER_KERNELS_H
#define SRC_CLUSTER_KERNELS_H
#define SBF_TILE_M 6
#define SBF_TILE_N 16
/* out[r*16 + c] = sum over k ascending of ap[k*6 + r] * bp[k*16 + c]; bp 32-byte aligned. */
typedef void (*sbf_tile_fn)(const float *ap, const float *bp, int dim, float *out);
void sbf_tile_avx2(const float *ap, const float *bp, int dim, float *out);
void sbf_tile_neon(const float *ap, const float *bp, int dim, float *out);
int sbf_tile_avx2_available(void);
int sbf_tile_neon_available(void);
#endif
