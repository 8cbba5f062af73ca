/* nn/wino.c — Winograd F(4x4, 3x3): kernel, input and output transforms; the products run on nn/kernels.h. */
#include "nn/wino.h"
#include "nn/half.h"
#include "nn/kernels.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WINO_TILES wino_tiles_base
static void wino_tiles_base(const nn_wino *wv, const float *bias, const float *in, int n, int h, int w, int in_ld,
                            int pt, int pl, float *out, int oh, int ow, int out_ld, int flags, int t0, int t1, int p0,
                            int p1, float *ws);
#include "nn/wino_impl.h"

size_t nn_wino_ws_bytes(int cin) {
    const size_t tb = (size_t)block_tiles(cin);
    return (NN_WINO_PTS * tb * (size_t)cin + NN_WINO_PTS * tb * 2 * NN_NR) * sizeof(float) + 64;
}

nn_wino *nn_wino_new(const void *panels, int f16, int cout, int cin) {
    nn_wino *wv = calloc(1, sizeof *wv);
    if (!wv || cin <= 0 || cout <= 0) {
        free(wv);
        return NULL;
    }
    wv->cin = cin;
    wv->cout = cout;
    wv->npanels = (cout + NN_NR - 1) / NN_NR;
    const size_t per_point = (size_t)wv->npanels * cin * NN_NR;
    if (posix_memalign((void **)&wv->u, 64, NN_WINO_PTS * per_point * sizeof(float))) {
        free(wv);
        return NULL;
    }
    /* G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]; U = G g G^T in double. */
    static const double G[6][3] = {{0.25, 0, 0},
                                   {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                   {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                   {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                   {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                   {0, 0, 1}};
    const size_t k = (size_t)9 * cin;
    for (int p = 0; p < wv->npanels; p++)
        for (int c = 0; c < cin; c++) { /* 16 output channels side by side: contiguous in the panels and in u */
            double g[9][NN_NR], t[6][3][NN_NR];
            for (int tap = 0; tap < 9; tap++) {
                const size_t at = (size_t)p * k * NN_NR + ((size_t)tap * cin + c) * NN_NR;
                for (int j = 0; j < NN_NR; j++)
                    g[tap][j] =
                        f16 ? nn_f16_to_f32(((const uint16_t *)panels)[at + j]) : ((const float *)panels)[at + j];
            }
            for (int a = 0; a < 6; a++)
                for (int kx = 0; kx < 3; kx++)
                    for (int j = 0; j < NN_NR; j++)
                        t[a][kx][j] = G[a][0] * g[kx][j] + G[a][1] * g[3 + kx][j] + G[a][2] * g[6 + kx][j];
            for (int a = 0; a < 6; a++)
                for (int b = 0; b < 6; b++) {
                    float *dst = wv->u + (size_t)(a * 6 + b) * per_point + ((size_t)p * cin + c) * NN_NR;
                    for (int j = 0; j < NN_NR; j++)
                        dst[j] = (float)(t[a][0][j] * G[b][0] + t[a][1][j] * G[b][1] + t[a][2][j] * G[b][2]);
                }
        }
    return wv;
}

void nn_wino_free(nn_wino *wv) {
    if (!wv) return;
    free(wv->u);
    free(wv);
}

void nn_wino_tiles(const nn_wino *wv, const float *bias, const float *in, int n, int h, int w, int in_ld, int pt,
                   int pl, float *out, int oh, int ow, int out_ld, int flags, int t0, int t1, int p0, int p1,
                   float *ws) {
#if defined(__x86_64__)
    if (nn_isa_get() == NN_ISA_AVX2 || nn_isa_get() == NN_ISA_AVX512) {
        nn_wino_tiles_avx2(wv, bias, in, n, h, w, in_ld, pt, pl, out, oh, ow, out_ld, flags, t0, t1, p0, p1, ws);
        return;
    }
#endif
    wino_tiles_base(wv, bias, in, n, h, w, in_ld, pt, pl, out, oh, ow, out_ld, flags, t0, t1, p0, p1, ws);
}
