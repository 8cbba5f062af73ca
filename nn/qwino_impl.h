/* nn/qwino_impl.h — the tile work of nn/qwino.c (input transform, products on the flavour's kernels, output
 * transform and epilogue), included once per instruction set: nn/qwino.c compiles it for the baseline (SSE2, NEON,
 * scalar), nn/qwino_avx2.c with AVX2 (the transforms 16 int16 / 8 int32 per instruction).  Define QWINO_TILES (the
 * function's name) before including. */
#include "nn/qwino.h"
#include <stdint.h>
#include <string.h>

#define NC 16                   /* channels transformed side by side */
#define V_BUDGET (160u * 1024u) /* bytes of transformed input per block of tiles (stays in L2) */
#define MAX_BLOCK 48            /* tiles per block at most (the products: 16 x 48 x 32 int32 = 96 KB) */
#define ZERO_MAX 4096           /* channels of the zero pixel read outside the image */
static const uint16_t g_zero[ZERO_MAX] __attribute__((aligned(64)));

/* Tiles transformed together: a multiple of the micro-tile's rows. */
static int block_tiles(int kc) {
    int tb = (int)(V_BUDGET / (NN_QWINO_PTS * sizeof(int16_t) * (size_t)kc)) / NN_QMR * NN_QMR;
    return tb < NN_QMR ? NN_QMR : tb > MAX_BLOCK ? MAX_BLOCK : tb;
}

static size_t v_bytes(int kc) { return ((size_t)NN_QWINO_PTS * block_tiles(kc) * kc * sizeof(int16_t) + 63) / 64 * 64; }

#if defined(__AVX2__)
#include <immintrin.h>
#define QW_UNROLL _Pragma("GCC unroll 16")

/* V[point][c0..c0+16) of one tile (vs values from one point to the next) from its 16 input pixels px[row*4 + col]
 * (16 channels from c0 readable in each): V = B^T d B, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1];
 * |V| <= 4 x NN_QMAX fits int16.  One ymm per pixel. */
static inline __attribute__((always_inline)) void in_tile16(const uint16_t *const px[16], int c0, int16_t *v,
                                                            size_t vs) {
    __m256i d[16], t[16];
    QW_UNROLL for (int i = 0; i < 16; i++) d[i] = _mm256_loadu_si256((const __m256i *)(px[i] + c0));
    QW_UNROLL for (int col = 0; col < 4; col++) {
        t[col] = _mm256_sub_epi16(d[col], d[8 + col]);
        t[4 + col] = _mm256_add_epi16(d[4 + col], d[8 + col]);
        t[8 + col] = _mm256_sub_epi16(d[8 + col], d[4 + col]);
        t[12 + col] = _mm256_sub_epi16(d[4 + col], d[12 + col]);
    }
    QW_UNROLL for (int i = 0; i < 4; i++) {
        int16_t *o = v + (size_t)(4 * i) * vs + c0;
        _mm256_storeu_si256((__m256i *)o, _mm256_sub_epi16(t[4 * i], t[4 * i + 2]));
        _mm256_storeu_si256((__m256i *)(o + vs), _mm256_add_epi16(t[4 * i + 1], t[4 * i + 2]));
        _mm256_storeu_si256((__m256i *)(o + 2 * vs), _mm256_sub_epi16(t[4 * i + 2], t[4 * i + 1]));
        _mm256_storeu_si256((__m256i *)(o + 3 * vs), _mm256_sub_epi16(t[4 * i + 1], t[4 * i + 3]));
    }
}

/* y[i][j] (2x2 outputs, 32 columns) of one tile from its 16 points' sums m (ms values apart): 4y = A2^T m A2 in
 * wrapping int32 (the ring of the sums), then y = 4y >> 2 (exact: |y| < 2^29).  8 columns per ymm. */
static inline __attribute__((always_inline)) void out_tile(const int32_t *m, size_t ms, int32_t y[2][2][2 * NN_QNR]) {
    QW_UNROLL for (int q = 0; q < 2 * NN_QNR; q += 8) {
        __m256i s[8];
        QW_UNROLL for (int col = 0; col < 4; col++) {
            const __m256i m0 = _mm256_loadu_si256((const __m256i *)(m + (size_t)col * ms + q));
            const __m256i m1 = _mm256_loadu_si256((const __m256i *)(m + (size_t)(4 + col) * ms + q));
            const __m256i m2 = _mm256_loadu_si256((const __m256i *)(m + (size_t)(8 + col) * ms + q));
            const __m256i m3 = _mm256_loadu_si256((const __m256i *)(m + (size_t)(12 + col) * ms + q));
            const __m256i p12 = _mm256_add_epi32(m1, m2);
            s[col] = _mm256_add_epi32(_mm256_add_epi32(m0, m0), p12);
            s[4 + col] = _mm256_sub_epi32(_mm256_sub_epi32(m1, m2), _mm256_add_epi32(m3, m3));
        }
        QW_UNROLL for (int i = 0; i < 2; i++) {
            const __m256i s0 = s[4 * i], s1 = s[4 * i + 1], s2 = s[4 * i + 2], s3 = s[4 * i + 3];
            const __m256i y0 = _mm256_add_epi32(_mm256_add_epi32(s0, s0), _mm256_add_epi32(s1, s2));
            const __m256i y1 = _mm256_sub_epi32(_mm256_sub_epi32(s1, s2), _mm256_add_epi32(s3, s3));
            _mm256_storeu_si256((__m256i *)(y[i][0] + q), _mm256_srai_epi32(y0, 2));
            _mm256_storeu_si256((__m256i *)(y[i][1] + q), _mm256_srai_epi32(y1, 2));
        }
    }
}

#else
/* The portable forms: loops over 16 / 32 channels side by side on local arrays, which the compiler vectorises. */

/* V[point][c0..c0+16) of one tile (vs values from one point to the next) from its 16 input pixels px[row*4 + col]
 * (16 channels from c0 readable in each): V = B^T d B, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1];
 * |V| <= 4 x NN_QMAX fits int16. */
static inline __attribute__((always_inline)) void in_tile16(const uint16_t *const px[16], int c0, int16_t *v,
                                                            size_t vs) {
    int16_t d[4][4][NC], t[4][4][NC];
    for (int r = 0; r < 4; r++)
        for (int col = 0; col < 4; col++)
            for (int q = 0; q < NC; q++) d[r][col][q] = (int16_t)px[r * 4 + col][c0 + q];
    for (int col = 0; col < 4; col++)
        for (int q = 0; q < NC; q++) {
            const int d0 = d[0][col][q], d1 = d[1][col][q], d2 = d[2][col][q], d3 = d[3][col][q];
            t[0][col][q] = (int16_t)(d0 - d2);
            t[1][col][q] = (int16_t)(d1 + d2);
            t[2][col][q] = (int16_t)(d2 - d1);
            t[3][col][q] = (int16_t)(d1 - d3);
        }
    for (int i = 0; i < 4; i++) {
        int16_t x[4][NC];
        for (int q = 0; q < NC; q++) {
            const int e0 = t[i][0][q], e1 = t[i][1][q], e2 = t[i][2][q], e3 = t[i][3][q];
            x[0][q] = (int16_t)(e0 - e2);
            x[1][q] = (int16_t)(e1 + e2);
            x[2][q] = (int16_t)(e2 - e1);
            x[3][q] = (int16_t)(e1 - e3);
        }
        for (int j = 0; j < 4; j++) memcpy(v + (size_t)(i * 4 + j) * vs + c0, x[j], sizeof x[j]);
    }
}

/* y[i][j] (2x2 outputs, 32 columns) of one tile from its 16 points' sums m (ms values apart): 4y = A2^T m A2 in
 * uint32 (the ring of the wrapped sums), then y = 4y / 4 (exact: |y| < 2^29). */
static inline void out_tile(const int32_t *m, size_t ms, int32_t y[2][2][2 * NN_QNR]) {
    uint32_t s[2][4][2 * NN_QNR];
    for (int col = 0; col < 4; col++)
        for (int q = 0; q < 2 * NN_QNR; q++) {
            const uint32_t m0 = (uint32_t)m[(size_t)col * ms + q], m1 = (uint32_t)m[(size_t)(4 + col) * ms + q],
                           m2 = (uint32_t)m[(size_t)(8 + col) * ms + q], m3 = (uint32_t)m[(size_t)(12 + col) * ms + q];
            s[0][col][q] = 2 * m0 + m1 + m2;
            s[1][col][q] = m1 - m2 - 2 * m3;
        }
    for (int i = 0; i < 2; i++)
        for (int q = 0; q < 2 * NN_QNR; q++) {
            const uint32_t s0 = s[i][0][q], s1 = s[i][1][q], s2 = s[i][2][q], s3 = s[i][3][q];
            y[i][0][q] = (int32_t)(2 * s0 + s1 + s2) >> 2;
            y[i][1][q] = (int32_t)(s1 - s2 - 2 * s3) >> 2;
        }
}
#endif

/* The last nc < 16 channels from c0: through a zero-padded copy. */
static void in_tile_part(const uint16_t *const px[16], int c0, int nc, int16_t *v, size_t vs) {
    uint16_t buf[16][NC];
    const uint16_t *p[16];
    int16_t x[NN_QWINO_PTS][NC];
    memset(buf, 0, sizeof buf);
    for (int i = 0; i < 16; i++) {
        memcpy(buf[i], px[i] + c0, (size_t)nc * sizeof(uint16_t));
        p[i] = buf[i];
    }
    in_tile16(p, 0, &x[0][0], NC);
    for (int i = 0; i < NN_QWINO_PTS; i++) memcpy(v + (size_t)i * vs + c0, x[i], (size_t)nc * sizeof(int16_t));
}

void QWINO_TILES(const nn_qconv_call *c, int t0, int t1, int p0, int p1, void *ws) {
    const nn_qconv *cv = c->cv;
    const nn_qwino *wv = cv->wino;
    const nn_qkernels *kern = cv->kern;
    const int cin = wv->cin, kc = wv->kc, tb = block_tiles(kc);
    const int th = (c->oh + 1) / 2, tw = (c->ow + 1) / 2;
    const size_t per_panel = (size_t)kc * NN_QNR;
    int16_t *V = ws;                                    /* V[point][tile][kc] */
    int32_t *M = (int32_t *)((char *)ws + v_bytes(kc)); /* M[point][tile][32] */
    const int16_t *ptrs[NN_QMR];
    nn_qepi e;
    e.ldf = (size_t)c->ldf;
    e.ldq = (size_t)c->ldq;
    e.flags = c->flags;
    for (int b0 = t0; b0 < t1; b0 += tb) {
        const int nb = t1 - b0 < tb ? t1 - b0 : tb;
        const size_t vs = (size_t)nb * kc, ms = (size_t)nb * 2 * NN_QNR;
        for (int r = 0; r < nb; r++) {
            const int t = b0 + r, img = t / (th * tw), ty = t % (th * tw) / tw, tx = t % tw;
            const int iy0 = 2 * ty - c->pt, ix0 = 2 * tx - c->pl;
            const uint16_t *px[16];
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 4; x++) {
                    const int iy = iy0 + y, ix = ix0 + x;
                    px[y * 4 + x] = iy >= 0 && iy < c->h && ix >= 0 && ix < c->w
                                        ? c->in + (((size_t)img * c->h + iy) * c->w + ix) * c->in_ld
                                        : g_zero;
                }
            int16_t *v = V + (size_t)r * kc;
            int c0 = 0;
            for (; c0 + NC <= cin; c0 += NC) in_tile16(px, c0, v, vs);
            if (c0 < cin) in_tile_part(px, c0, cin - c0, v, vs);
            for (int xi = 0; cin < kc && xi < NN_QWINO_PTS; xi++) v[(size_t)xi * vs + cin] = 0;
        }
        for (int p = p0; p < p1;) {
            const int np = p + 1 < p1 ? 2 : 1;
            for (int xi = 0; xi < NN_QWINO_PTS; xi++) {
                const int16_t *u = wv->u + ((size_t)xi * wv->npanels + p) * per_panel;
                for (int m0 = 0; m0 < nb; m0 += NN_QMR) {
                    const int mr = nb - m0 < NN_QMR ? nb - m0 : NN_QMR;
                    for (int r = 0; r < NN_QMR; r++)
                        ptrs[r] = V + (size_t)xi * vs + (size_t)(m0 + (r < mr ? r : 0)) * kc;
                    kern->gemm16(kc, ptrs, u, per_panel, np, M + (size_t)xi * ms + (size_t)m0 * 2 * NN_QNR, 2 * NN_QNR,
                                 mr);
                }
            }
            for (int r = 0; r < nb; r++) {
                const int t = b0 + r, img = t / (th * tw), ty = t % (th * tw) / tw, tx = t % tw;
                int32_t y[2][2][2 * NN_QNR];
                out_tile(M + (size_t)r * 2 * NN_QNR, ms, y);
                for (int i = 0; i < 2 && 2 * ty + i < c->oh; i++)
                    for (int j = 0; j < 2 && 2 * tx + j < c->ow; j++) {
                        const size_t pix = ((size_t)img * c->oh + 2 * ty + i) * c->ow + 2 * tx + j;
                        for (int k = 0; k < np; k++) {
                            const int col = (p + k) * NN_QNR, left = cv->cout - col;
                            e.scale = cv->scale + col;
                            e.bias = cv->bias + col;
                            e.qinv = c->out_qinv ? c->out_qinv + col : NULL;
                            e.outf = c->outf ? c->outf + pix * e.ldf + col : NULL;
                            e.outq = c->outq ? c->outq + pix * e.ldq + col : NULL;
                            kern->epi(y[i][j] + k * NN_QNR, &e, 0, left < NN_QNR ? left : NN_QNR);
                        }
                    }
            }
            p += np;
        }
    }
}
