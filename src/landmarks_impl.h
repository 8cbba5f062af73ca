/* src/landmarks_impl.h — internals of the shape predictor shared by src/landmarks*.c and
 * tools/shape-convert (model layout, SIMD leaf accumulation, SBFW export).  Not a public API. */
#ifndef SRC_LANDMARKS_IMPL_H
#define SRC_LANDMARKS_IMPL_H
#include <stddef.h>
#include <stdint.h>
#include "src/landmarks.h"
#include "nn/cpu.h"

#define SBF_SHAPE_KIND "dlib-shape-predictor"
#define SBF_SHAPE_SBFW_NAME "shape-68.sbfw"

typedef struct {
    uint16_t a, b;
    float thresh;
} sbf_split; /* feature a - feature b > thresh -> left */

struct sbf_shape_model {
    int nparts, ncasc, ntrees, nsplit, nleaf, depth, nfeat;
    int f16;             /* leaves stored as IEEE binary16 */
    float *initial;      /* [nparts*2] mean shape in box-normalised coordinates */
    sbf_split *splits;   /* [ncasc][ntrees][nsplit], heap order (children of i: 2i+1, 2i+2) */
    uint16_t *anchor;    /* [ncasc][nfeat] nearest mean-shape point of each feature pixel */
    float *delta;        /* [ncasc][nfeat][2] offset from that point in the mean shape */
    const void *leaves;  /* [ncasc][ntrees][nleaf][nparts*2] float or uint16 (f16) */
    void *owned_leaves;  /* malloc'ed leaves (dlib .dat path), else NULL */
    struct nnw_file *wf; /* SBFW mapping (SBFW path), else NULL */
    size_t bytes;        /* leaf bytes */
};

/* cur[j] += leaf_t[j] for t = 0..n-1 in order (the order dlib adds them), leaf_t = leaves + leaf_off[t]
 * elements; every kernel gives the same sums bit for bit.  sbf_shape_accum_for(isa) is the table (NULL when
 * this build cannot run the level; avx512 -> the AVX2 kernel, armv7's neon -> scalar); sbf_shape_accum_get()
 * the kernel of the level in force (nn/cpu.h). */
typedef void (*sbf_shape_accum_fn)(float *cur, const void *leaves, int f16, const uint32_t *leaf_off, int n, int dim);
sbf_shape_accum_fn sbf_shape_accum_for(nn_isa isa);
sbf_shape_accum_fn sbf_shape_accum_get(void);
void sbf_shape_accum_scalar(float *cur, const void *leaves, int f16, const uint32_t *leaf_off, int n, int dim);
#if defined(__x86_64__)
void sbf_shape_accum_avx2(float *cur, const void *leaves, int f16, const uint32_t *leaf_off, int n, int dim);
#endif

/* Writes the model as SBFW (leaves float16 when f16), atomically. */
int sbf_shape_save_sbfw(const sbf_shape_model *m, const char *path, int f16, const char *source, char *err,
                        size_t errlen);
#endif
