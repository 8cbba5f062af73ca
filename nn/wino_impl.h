/* nn/wino_impl.h — the tile work of nn/wino.c (input transform, products, output transform), included once per
 * instruction set: nn/wino.c compiles it for the baseline (SSE2, NEON, scalar), nn/wino_avx2.c with AVX2+FMA; the
 * loops over 16 or 32 channels side by side are what the compiler vectorises.  Define WINO_TILES (the function's
 * name) before including. */
#include "nn/wino.h"
#include "nn/kernels.h"
#include <stdint.h>
#include <string.h>

#define NC 16 /* channels transformed side by side (a vector's worth on every ISA: the loops vectorise) */
#define WS_BLOCK_BYTES (512u * 1024u)

static const float g_zero_in[NC] __attribute__((aligned(64)));
static const float g_zero_bias[2 * NN_NR] __attribute__((aligned(64)));

/* Tiles transformed together: the block's V (36 x tiles x cin floats) stays within about 512 KB, so it is
 * read from L2 for each panel; a multiple of the micro-tile's rows. */
static int block_tiles(int cin) {
    int tb = (int)(WS_BLOCK_BYTES / (NN_WINO_PTS * sizeof(float) * (size_t)cin)) / NN_MR * NN_MR;
    return tb < NN_MR ? NN_MR : tb > 60 ? 60 : tb;
}

/* y_i = (B^T x)_i for the six values x_0..x_5 at x + r*xs, nc side by side (B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0;
 * 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]). */
static inline __attribute__((always_inline)) void bt6(const float *restrict x, size_t xs, float *restrict y, size_t ys,
                                                      int nc) {
    for (int q = 0; q < nc; q++) {
        const float d0 = x[q], d1 = x[xs + q], d2 = x[2 * xs + q], d3 = x[3 * xs + q], d4 = x[4 * xs + q],
                    d5 = x[5 * xs + q];
        y[q] = 4 * d0 - 5 * d2 + d4;
        y[ys + q] = -4 * (d1 + d2) + d3 + d4;
        y[2 * ys + q] = 4 * (d1 - d2) - d3 + d4;
        y[3 * ys + q] = 2 * (d3 - d1) - d2 + d4;
        y[4 * ys + q] = 2 * (d1 - d3) - d2 + d4;
        y[5 * ys + q] = 4 * d1 - 5 * d3 + d5;
    }
}

/* y_i = (A^T x)_i, i < 4 (A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]). */
static inline __attribute__((always_inline)) void at6(const float *restrict x, size_t xs, float *restrict y, size_t ys,
                                                      int nc) {
    for (int q = 0; q < nc; q++) {
        const float m0 = x[q], m1 = x[xs + q], m2 = x[2 * xs + q], m3 = x[3 * xs + q], m4 = x[4 * xs + q],
                    m5 = x[5 * xs + q];
        const float s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
        y[q] = m0 + s12 + s34;
        y[ys + q] = d12 + 2 * d34;
        y[2 * ys + q] = s12 + 4 * s34;
        y[3 * ys + q] = d12 + 8 * d34 + m5;
    }
}

/* V[pt][row][c0..c0+nc) of one tile from its 36 input pixels px[r*6 + col] (zeros outside the image). */
static inline __attribute__((always_inline)) void in_tile(const float *const px[36], int c0, float *v, size_t vs,
                                                          int nc) {
    /* d[col][r] the pixels, t[col][i] = (B^T d)[i][col], x[i][j] = (B^T d B)[i][j]: every transform on local arrays
     * with fixed strides over NC channels (zeros past nc), so that it vectorises; only the copies in and out
     * follow nc and the strides of the caller. */
    float d[6][6][NC], t[6][6][NC], x[6][6][NC];
    for (int r = 0; r < 6; r++)
        for (int col = 0; col < 6; col++) {
            const float *s = px[r * 6 + col] == g_zero_in ? g_zero_in : px[r * 6 + col] + c0;
            for (int q = 0; q < NC; q++) d[col][r][q] = q < nc ? s[q] : 0.0f;
        }
    for (int col = 0; col < 6; col++) bt6(&d[col][0][0], NC, &t[col][0][0], NC, NC);
    for (int i = 0; i < 6; i++) bt6(&t[0][i][0], 6 * NC, &x[i][0][0], NC, NC);
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) memcpy(v + (size_t)(i * 6 + j) * vs + c0, x[i][j], (size_t)nc * sizeof(float));
}

void WINO_TILES(const nn_wino *wv, const float *bias, const float *in, int n, int h, int w, int in_ld, int pt, int pl,
                float *out, int oh, int ow, int out_ld, int flags, int t0, int t1, int p0, int p1, float *ws) {
    (void)n;
    const nn_kernels *kern = nn_kern();
    const nn_ukernel_fn fn = kern->gemm;
    const nn_ukernel2_fn fn2 = kern->gemm2;
    const int cin = wv->cin, tb = block_tiles(cin);
    const int th = (oh + NN_WINO_OUT - 1) / NN_WINO_OUT, tw = (ow + NN_WINO_OUT - 1) / NN_WINO_OUT;
    const size_t per_point = (size_t)wv->npanels * cin * NN_NR, pbytes = (size_t)cin * NN_NR * sizeof(float);
    float *V = ws, *M = ws + (size_t)NN_WINO_PTS * tb * cin; /* V[pt][tile][cin], M[pt][tile][32] */
    const float *ptrs[NN_MR];
    for (int b0 = t0; b0 < t1; b0 += tb) {
        const int nb = t1 - b0 < tb ? t1 - b0 : tb;
        const size_t vs = (size_t)nb * cin; /* floats from one point to the next in V */
        /* input transform */
        for (int r = 0; r < nb; r++) {
            const int t = b0 + r, img = t / (th * tw), ty = t % (th * tw) / tw, tx = t % tw;
            const int iy0 = ty * NN_WINO_OUT - pt, ix0 = tx * NN_WINO_OUT - pl;
            const float *px[36];
            for (int y = 0; y < 6; y++)
                for (int x = 0; x < 6; x++) {
                    const int iy = iy0 + y, ix = ix0 + x;
                    px[y * 6 + x] = iy >= 0 && iy < h && ix >= 0 && ix < w
                                        ? in + (((size_t)img * h + iy) * w + ix) * in_ld
                                        : g_zero_in;
                }
            float *v = V + (size_t)r * cin;
            int c0 = 0;
            for (; c0 + NC <= cin; c0 += NC) in_tile(px, c0, v, vs, NC);
            if (c0 < cin) in_tile(px, c0, v, vs, cin - c0);
        }
        /* products and output transform, one or two panels at a time */
        for (int p = p0; p < p1;) {
            const int two = fn2 && p + 1 < p1, left = wv->cout - p * NN_NR;
            const int nr = two ? (left < 2 * NN_NR ? left : 2 * NN_NR) : (left < NN_NR ? left : NN_NR);
            for (int xi = 0; xi < NN_WINO_PTS; xi++) {
                const float *u = wv->u + (size_t)xi * per_point + (size_t)p * cin * NN_NR;
                for (int m0 = 0; m0 < nb; m0 += NN_MR) {
                    const int mr = nb - m0 < NN_MR ? nb - m0 : NN_MR;
                    for (int r = 0; r < NN_MR; r++)
                        ptrs[r] = V + (size_t)xi * vs + (size_t)(m0 + (r < mr ? r : 0)) * cin;
                    float *c = M + ((size_t)xi * nb + m0) * 2 * NN_NR;
                    if (two) fn2(1, cin, ptrs, u, pbytes, g_zero_bias, c, 2 * NN_NR, mr, nr, 0);
                    else fn(1, cin, ptrs, u, g_zero_bias, c, 2 * NN_NR, mr, nr, 0);
                }
            }
            float bp[2 * NN_NR]; /* the panels' bias, zero past nr */
            for (int j = 0; j < 2 * NN_NR; j++) bp[j] = j < nr ? bias[(size_t)p * NN_NR + j] : 0.0f;
            for (int r = 0; r < nb; r++) {
                const int t = b0 + r, img = t / (th * tw), ty = t % (th * tw) / tw, tx = t % tw;
                /* mm: the tile's products, s[i][col] = (A^T mm)[i][col], o = s A (local arrays: fixed strides) */
                float mm[6][6][2 * NN_NR], s[4][6][2 * NN_NR], o[4][4][2 * NN_NR];
                const size_t ms = (size_t)nb * 2 * NN_NR; /* floats from one point to the next in M */
                for (int xi = 0; xi < NN_WINO_PTS; xi++)
                    memcpy(mm[xi / 6][xi % 6], M + xi * ms + (size_t)r * 2 * NN_NR, sizeof mm[0][0]);
                for (int col = 0; col < 6; col++)
                    at6(&mm[0][col][0], 6 * 2 * NN_NR, &s[0][col][0], 6 * 2 * NN_NR, 2 * NN_NR);
                for (int i = 0; i < 4; i++) at6(&s[i][0][0], 2 * NN_NR, &o[i][0][0], 2 * NN_NR, 2 * NN_NR);
                for (int i = 0; i < 4; i++) {
                    const int oy = ty * NN_WINO_OUT + i;
                    if (oy >= oh) break;
                    for (int q = 0; q < 4; q++) {
                        const int ox = tx * NN_WINO_OUT + q;
                        if (ox >= ow) break;
                        float *dst = out + (((size_t)img * oh + oy) * ow + ox) * out_ld + (size_t)p * NN_NR;
                        float *v = o[i][q];
                        for (int j = 0; j < 2 * NN_NR; j++) v[j] += bp[j];
                        if (flags & NN_ACCUM)
                            for (int j = 0; j < nr; j++) v[j] += dst[j];
                        if (flags & NN_RELU)
                            for (int j = 0; j < 2 * NN_NR; j++) v[j] = v[j] > 0 ? v[j] : 0.0f;
                        memcpy(dst, v, (size_t)nr * sizeof(float));
                    }
                }
            }
            p += two ? 2 : 1;
        }
    }
}
