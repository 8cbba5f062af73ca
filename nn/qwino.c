/* nn/qwino.c — exact integer Winograd F(2x2, 3x3) (nn/qwino.h): the kernel transform and its exactness bound, and
 * the choice of the tile loop (nn/qwino_impl.h: the input and output transforms in portable C here, in AVX2
 * intrinsics in nn/qwino_avx2.c); the products and the epilogue run on the flavour's kernels (nn_qkernels.gemm16,
 * .epi). */
#include "nn/qwino.h"
#include <stdlib.h>
#include <string.h>

#define QWINO_TILES qwino_tiles_base
static void qwino_tiles_base(const nn_qconv_call *c, int t0, int t1, int p0, int p1, void *ws);
#include "nn/qwino_impl.h"

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

size_t nn_qwino_ws_bytes(int cin) {
    const int kc = round_up(cin, 2);
    return v_bytes(kc) + (size_t)NN_QWINO_PTS * block_tiles(kc) * 2 * NN_QNR * sizeof(int32_t);
}

nn_qwino *nn_qwino_new(const int8_t *w, int cout, int cin) {
    if (cout <= 0 || cin <= 0 || cin > ZERO_MAX) return NULL;
    /* exactness: |y| < 2^29 for every output (y = sum w x, 0 <= x <= NN_QMAX) */
    for (int o = 0; o < cout; o++) {
        long s = 0;
        for (size_t i = 0; i < (size_t)9 * cin; i++) s += labs((long)w[(size_t)o * 9 * cin + i]);
        if ((double)s * NN_QMAX >= 536870912.0) return NULL;
    }
    nn_qwino *wv = calloc(1, sizeof *wv);
    if (!wv) return NULL;
    wv->cin = cin;
    wv->cout = cout;
    wv->kc = round_up(cin, 2);
    wv->npanels = (cout + NN_QNR - 1) / NN_QNR;
    const size_t per_panel = (size_t)wv->kc * NN_QNR, bytes = NN_QWINO_PTS * wv->npanels * per_panel * sizeof(int16_t);
    if (posix_memalign((void **)&wv->u, 64, bytes)) {
        free(wv);
        return NULL;
    }
    memset(wv->u, 0, bytes);
    /* U' = G' g G'^T: G' rows (1 0 0) (1 1 1) (1 -1 1) (0 0 1) */
    static const int G[4][3] = {{1, 0, 0}, {1, 1, 1}, {1, -1, 1}, {0, 0, 1}};
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++) {
            int g[3][3], t[4][3];
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) g[ky][kx] = w[(((size_t)o * 3 + ky) * 3 + kx) * cin + c];
            for (int a = 0; a < 4; a++)
                for (int kx = 0; kx < 3; kx++) t[a][kx] = G[a][0] * g[0][kx] + G[a][1] * g[1][kx] + G[a][2] * g[2][kx];
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++)
                    wv->u[(size_t)((a * 4 + b) * wv->npanels + o / NN_QNR) * per_panel + (size_t)(c / 2) * 2 * NN_QNR +
                          (size_t)(o % NN_QNR) * 2 + c % 2] =
                        (int16_t)(t[a][0] * G[b][0] + t[a][1] * G[b][1] + t[a][2] * G[b][2]);
        }
    return wv;
}

void nn_qwino_free(nn_qwino *wv) {
    if (!wv) return;
    free(wv->u);
    free(wv);
}

void nn_qwino_tiles(const nn_qconv_call *c, int t0, int t1, int p0, int p1, void *ws) {
#if defined(__x86_64__)
    if (c->cv->kern == &nn_qkernels_avx2 || c->cv->kern == &nn_qkernels_avx512vnni) { /* the CPU runs AVX2 */
        nn_qwino_tiles_avx2(c, t0, t1, p0, p1, ws);
        return;
    }
#endif
    qwino_tiles_base(c, t0, t1, p0, p1, ws);
}
