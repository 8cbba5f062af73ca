/* nn/gemm.c — the public dot-product entry to nn's GEMM micro-kernels; see nn/gemm.h. */
#include "nn/gemm.h"
#include "nn/kernels.h"

#include <string.h>

_Static_assert(NN_GEMM_MR == NN_MR && NN_GEMM_NR == NN_NR, "nn/gemm.h tile = the kernels' tile");

static const float ZERO_BIAS[2 * NN_NR] __attribute__((aligned(64))); /* the kernels start from the bias */

void nn_gemm_pack(const float *const *cols, int ncols, int k, float *panel) {
    if (ncols < NN_NR) memset(panel, 0, nn_gemm_panel_floats(k) * sizeof *panel);
    for (int j = 0; j < ncols; j++) {
        const float *col = cols[j];
        for (int i = 0; i < k; i++) panel[(size_t)i * NN_NR + j] = col[i];
    }
}

void nn_gemm_dots(const float *const a[NN_GEMM_MR], int mr, int k, const float *panels, int ncols, float *c,
                  size_t ldc) {
    const nn_kernels *kern = nn_kern();
    const size_t pf = nn_gemm_panel_floats(k);
    for (int j = 0; j < ncols;) {
        const float *p = panels + (size_t)(j / NN_NR) * pf;
        const int left = ncols - j;
        if (kern->gemm2 && left > NN_NR) { /* two panels per call (AVX-512: 12 accumulators) */
            kern->gemm2(1, k, a, p, pf * sizeof(float), ZERO_BIAS, c + j, ldc, mr, left < 2 * NN_NR ? left : 2 * NN_NR,
                        0);
            j += 2 * NN_NR;
        } else {
            kern->gemm(1, k, a, p, ZERO_BIAS, c + j, ldc, mr, left < NN_NR ? left : NN_NR, 0);
            j += NN_NR;
        }
    }
}
