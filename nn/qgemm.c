/* nn/qgemm.c — the int8 convolution: packing, planning, tiling (as nn/conv.c), the portable scalar kernel
 * (the reference every flavour must match exactly), the naive reference convolution, the flavour choice. */
#include "nn/qgemm.h"
#include "nn/qwino.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define QZERO_MAX 4096
/* Prepared rows of a tile live on the task's stack, up to this size.  Rows are prepared only for panel blocks of
 * more than one kernel call: with two-panel kernels, blocks of 4+ panels, so panels up to 32 KB (below) and taps x
 * kc <= 2048, at most 24 KB of rows (FaceNet: 21 KB, Block8's 1x1 on 1792 channels).  A larger layer uses the
 * kernels that take the rows as they are. */
#define QPREP_MAX (24 * 1024)
/* Padding taps read zeros (the quantised 0) here; kc <= QZERO_MAX when a conv pads. */
static const uint16_t g_qzero[QZERO_MAX + 64] __attribute__((aligned(64)));

/* ---------------------------------------------------------------- scalar flavour (k block 4) */

static void qgemm_scalar(int ntaps, int kc, const uint16_t *const *a, const int8_t *b, const nn_qepi *e, int mr,
                         int nr) {
    int32_t acc[NN_QMR][NN_QNR];
    memset(acc, 0, sizeof acc);
    for (int t = 0; t < ntaps; t++, a += NN_QMR)
        for (int k = 0; k < kc; k += 4, b += 4 * NN_QNR)
            for (int r = 0; r < mr; r++) {
                const uint16_t *x = a[r] + k;
                for (int j = 0; j < NN_QNR; j++)
                    acc[r][j] += x[0] * b[4 * j] + x[1] * b[4 * j + 1] + x[2] * b[4 * j + 2] + x[3] * b[4 * j + 3];
            }
    for (int r = 0; r < mr; r++) nn_qepi_row(acc[r], e, r, nr);
}

/* Winograd products: sums in uint32, which wraps as the SIMD flavours' int32 lanes do (signed overflow would be
 * undefined in C). */
static void qgemm16_scalar(int kc, const int16_t *const *a, const int16_t *b, size_t pstride, int np, int32_t *c,
                           size_t ldc, int mr) {
    for (int pp = 0; pp < np; pp++, b += pstride)
        for (int r = 0; r < mr; r++) {
            uint32_t acc[NN_QNR] = {0};
            for (int k = 0; k < kc; k += 2) {
                const int16_t *bk = b + (size_t)k * NN_QNR;
                for (int j = 0; j < NN_QNR; j++)
                    acc[j] += (uint32_t)(a[r][k] * bk[2 * j]) + (uint32_t)(a[r][k + 1] * bk[2 * j + 1]);
            }
            for (int j = 0; j < NN_QNR; j++) c[(size_t)r * ldc + (size_t)pp * NN_QNR + j] = (int32_t)acc[j];
        }
}

static void qepi_scalar(const int32_t *acc, const nn_qepi *e, int r, int nr) { nn_qepi_row(acc, e, r, nr); }

static const nn_qkernels k_scalar = {
    .name = "scalar", .kb = 4, .gemm = qgemm_scalar, .gemm16 = qgemm16_scalar, .epi = qepi_scalar};

/* ---------------------------------------------------------------- the table indexed by ISA level */

/* Per level: the kernels, and those picked instead when the CPU has the extra features. */
static const struct {
    const nn_qkernels *base, *better;
    unsigned needs;
} TABLE[NN_ISA_COUNT] = {
    [NN_ISA_SCALAR] = {&k_scalar, NULL, 0},
#if defined(__x86_64__)
    [NN_ISA_AVX2] = {&nn_qkernels_avx2, NULL, 0},
    [NN_ISA_AVX512] = {&nn_qkernels_avx2, &nn_qkernels_avx512vnni, NN_QCPU_VNNI},
#endif
#if defined(__ARM_NEON) && defined(__aarch64__)
    [NN_ISA_NEON] = {&nn_qkernels_neon, &nn_qkernels_neondot, NN_QCPU_SDOT},
#elif defined(__ARM_NEON)
    [NN_ISA_NEON] = {&nn_qkernels_neon, NULL, 0},
#endif
};

const nn_qkernels *nn_qkernels_for(nn_isa isa, unsigned features) {
    if ((unsigned)isa >= NN_ISA_COUNT) return NULL;
    if (TABLE[isa].better && (features & TABLE[isa].needs) == TABLE[isa].needs) return TABLE[isa].better;
    return TABLE[isa].base;
}

const nn_qkernels *nn_qkern(void) { return nn_qkernels_for(nn_isa_get(), nn_cpu_features()); }

/* ---------------------------------------------------------------- packing */

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

size_t nn_qconv_panel_bytes(const nn_qkernels *k, int cout, int kh, int kw, int cin) {
    if (!k) k = nn_qkern();
    size_t bytes = (size_t)((cout + NN_QNR - 1) / NN_QNR) * kh * kw * round_up(cin, k->kb) * NN_QNR;
    return (bytes + 63) / 64 * 64;
}

int nn_qconv_init(nn_qconv *cv, void *mem, const nn_qkernels *k, const int8_t *w, const float *wscale,
                  const float *bias, float in_scale, int cout, int kh, int kw, int cin, int sh, int sw,
                  nn_padding pad) {
    memset(cv, 0, sizeof *cv);
    if (!k) k = nn_qkern();
    if (cout <= 0 || cin <= 0 || kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0 || kh * kw > NN_MAX_TAPS || !w || !wscale)
        return -1;
    int kc = round_up(cin, k->kb);
    if (pad == NN_PAD_SAME && (kh > 1 || kw > 1) && kc > QZERO_MAX) return -1;
    if ((double)kh * kw * cin * 127.0 * NN_QMAX >= 2147483648.0) return -1; /* the int32 sums could overflow */
    cv->cout = cout;
    cv->cin = cin;
    cv->kh = kh;
    cv->kw = kw;
    cv->sh = sh;
    cv->sw = sw;
    cv->pad = pad;
    cv->npanels = (cout + NN_QNR - 1) / NN_QNR;
    cv->kc = kc;
    cv->kern = k;
    const int ntaps = kh * kw, kb = k->kb;
    size_t bytes = nn_qconv_panel_bytes(k, cout, kh, kw, cin), cols = (size_t)cv->npanels * NN_QNR;
    if (mem) {
        cv->panels = mem;
    } else {
        if (posix_memalign((void **)&cv->panels, 64, bytes)) {
            cv->panels = NULL;
            return -1;
        }
        cv->panels_owned = 1;
    }
    if (posix_memalign((void **)&cv->scale, 64, cols * sizeof(float)) ||
        posix_memalign((void **)&cv->bias, 64, cols * sizeof(float))) {
        nn_qconv_free(cv);
        return -1;
    }
    memset(cv->panels, 0, bytes);
    /* [panel][tap][kc/kb][NN_QNR][kb] */
    for (int j = 0; j < cout; j++) {
        int p = j / NN_QNR, jj = j % NN_QNR;
        int8_t *panel = cv->panels + (size_t)p * ntaps * kc * NN_QNR;
        const int8_t *src = w + (size_t)j * ntaps * cin;
        for (int t = 0; t < ntaps; t++)
            for (int c = 0; c < cin; c++) {
                int8_t q = src[(size_t)t * cin + c];
                if (q == -128) {
                    nn_qconv_free(cv);
                    return -1;
                } /* symmetric: -127..127 (the bound of the sums) */
                panel[((size_t)t * kc + (size_t)(c / kb) * kb) * NN_QNR + (size_t)jj * kb + c % kb] = q;
            }
    }
    for (size_t j = 0; j < cols; j++) {
        int real = (int)j < cout;
        cv->scale[j] = real ? in_scale * wscale[j] : 0.0f;
        cv->bias[j] = real && bias ? bias[j] : 0.0f;
    }
    return 0;
}

void nn_qconv_free(nn_qconv *cv) {
    if (!cv) return;
    nn_qwino_free(cv->wino);
    cv->wino = NULL;
    if (cv->panels_owned) free(cv->panels);
    free(cv->scale);
    free(cv->bias);
    cv->panels = NULL;
    cv->scale = cv->bias = NULL;
}

int nn_qconv_winograd(nn_qconv *cv, const int8_t *w) {
    if (cv->wino) return 0;
    if (cv->kh != 3 || cv->kw != 3 || cv->sh != 1 || cv->sw != 1 || !cv->kern->gemm16 || !cv->kern->epi) return 1;
    cv->wino = nn_qwino_new(w, cv->cout, cv->cin);
    if (!cv->wino) return 1;
    if (cv->panels_owned) { /* the direct panels are not used again */
        free(cv->panels);
        cv->panels = NULL;
        cv->panels_owned = 0;
    }
    return 0;
}

size_t nn_qconv_ws_bytes(const nn_qconv *cv) { return cv->wino ? nn_qwino_ws_bytes(cv->cin) : 0; }

/* ---------------------------------------------------------------- planning and tiles */

static void geometry(const nn_qconv *cv, int h, int w, int *oh, int *ow, int *pt, int *pl) {
    nn_conv g;
    memset(&g, 0, sizeof g);
    g.kh = cv->kh;
    g.kw = cv->kw;
    g.sh = cv->sh;
    g.sw = cv->sw;
    g.pad = cv->pad;
    nn_conv_geometry(&g, h, w, oh, ow, pt, pl);
}

int nn_qconv_plan(nn_qconv_call *c, int nthreads) {
    const nn_qconv *cv = c->cv;
    geometry(cv, c->h, c->w, &c->oh, &c->ow, &c->pt, &c->pl);
    c->m = c->n * c->oh * c->ow;
    if (cv->wino) {
        /* 2x2 output tiles take the place of pixels.  A task transforms the input of all its tiles, so splitting
         * the output channels repeats that work: with few tiles, one task per thread, by tiles while each gets
         * two micro-tiles, else by panels. */
        c->m = c->n * ((c->oh + 1) / 2) * ((c->ow + 1) / 2);
        int mt = (c->m + NN_QMR - 1) / NN_QMR;
        if (nthreads > 1 && mt < 8 * nthreads) {
            c->mtiles = mt;
            c->tasks_m = mt >= 2 * nthreads ? nthreads : 1;
            c->tasks_n = c->tasks_m > 1 ? 1 : nthreads < cv->npanels ? nthreads : cv->npanels;
            return c->tasks_m * c->tasks_n;
        }
    }
    return nn_conv_split(c->m, NN_QMR, cv->npanels, nthreads, &c->mtiles, &c->tasks_m, &c->tasks_n);
}

void nn_qconv_task(const nn_qconv_call *c, int task) { nn_qconv_task_ws(c, task, NULL); }

void nn_qconv_task_ws(const nn_qconv_call *c, int task, void *ws) {
    const nn_qconv *cv = c->cv;
    const nn_qkernels *kern = cv->kern;
    int tm = task % c->tasks_m, tn = task / c->tasks_m;
    int t0 = (int)((long)c->mtiles * tm / c->tasks_m), t1 = (int)((long)c->mtiles * (tm + 1) / c->tasks_m);
    int p0 = (int)((long)cv->npanels * tn / c->tasks_n), p1 = (int)((long)cv->npanels * (tn + 1) / c->tasks_n);
    if (cv->wino) {
        void *own = NULL;
        /* without the caller's scratch (tests, tools) a task allocates its own; a void task cannot report failure */
        if (!ws && posix_memalign(&own, 64, nn_qwino_ws_bytes(cv->cin))) abort();
        nn_qwino_tiles(c, t0 * NN_QMR, t1 * NN_QMR < c->m ? t1 * NN_QMR : c->m, p0, p1, ws ? ws : own);
        free(own);
        return;
    }
    const int ntaps = cv->kh * cv->kw, kc = cv->kc;
    const int ohw = c->oh * c->ow;
    const uint16_t *ptrs[NN_MAX_TAPS * NN_QMR];
    uint8_t prep[QPREP_MAX] __attribute__((aligned(64)));
    const int can_prep = kern->prep && NN_QPREP_BYTES(ntaps, kc) <= sizeof prep;
    const int simple =
        (ntaps == 1 && cv->sh == 1 && cv->sw == 1 && c->pt == 0 && c->pl == 0 && c->oh == c->h && c->ow == c->w);
    const size_t panel_bytes = (size_t)ntaps * kc * NN_QNR;
    /* panel blocks of about 128 KB stay in L2 while the task's tiles stream past them */
    int pblk = (int)(128u * 1024u / panel_bytes);
    if (pblk < 1) pblk = 1;
    if (pblk > 1) pblk &= ~1;
    nn_qepi e;
    e.ldf = (size_t)c->ldf;
    e.ldq = (size_t)c->ldq;
    e.flags = c->flags;
    for (int pb = p0; pb < p1; pb += pblk) {
        int pe = pb + pblk < p1 ? pb + pblk : p1;
        /* a tile's rows prepared once for the block's panels, when these take more than one kernel call */
        const int use_prep = can_prep && pe - pb > (kern->gemm2 ? 2 : 1);
        for (int tile = t0; tile < t1; tile++) {
            int m0 = tile * NN_QMR, mr = c->m - m0 < NN_QMR ? c->m - m0 : NN_QMR;
            for (int r = 0; r < NN_QMR; r++) {
                int m = m0 + (r < mr ? r : 0);
                if (simple) {
                    ptrs[r] = c->in + (size_t)m * c->in_ld;
                    continue;
                }
                int img = m / ohw, rem = m % ohw, oy = rem / c->ow, ox = rem % c->ow;
                int iy0 = oy * cv->sh - c->pt, ix0 = ox * cv->sw - c->pl;
                const uint16_t *base = c->in + (size_t)img * c->h * c->w * c->in_ld;
                for (int ky = 0; ky < cv->kh; ky++) {
                    int iy = iy0 + ky;
                    for (int kx = 0; kx < cv->kw; kx++) {
                        int ix = ix0 + kx;
                        const uint16_t *p = g_qzero;
                        if (iy >= 0 && iy < c->h && ix >= 0 && ix < c->w)
                            p = base + ((size_t)iy * c->w + ix) * c->in_ld;
                        ptrs[(ky * cv->kw + kx) * NN_QMR + r] = p;
                    }
                }
            }
            if (use_prep) kern->prep(ntaps, kc, ptrs, mr, prep);
            for (int p = pb; p < pe;) {
                const int8_t *panel = cv->panels + (size_t)p * panel_bytes;
                int left = cv->cout - p * NN_QNR, col = p * NN_QNR;
                e.scale = cv->scale + col;
                e.bias = cv->bias + col;
                e.qinv = c->out_qinv ? c->out_qinv + col : NULL;
                e.outf = c->outf ? c->outf + (size_t)m0 * c->ldf + col : NULL;
                e.outq = c->outq ? c->outq + (size_t)m0 * c->ldq + col : NULL;
                if (kern->gemm2 && p + 1 < pe) {
                    const int nr = left < 2 * NN_QNR ? left : 2 * NN_QNR;
                    if (use_prep) kern->gemm2p(ntaps, kc, prep, panel, panel_bytes, &e, mr, nr);
                    else kern->gemm2(ntaps, kc, ptrs, panel, panel_bytes, &e, mr, nr);
                    p += 2;
                    continue;
                }
                const int nr = left < NN_QNR ? left : NN_QNR;
                if (use_prep) kern->gemmp(ntaps, kc, prep, panel, &e, mr, nr);
                else kern->gemm(ntaps, kc, ptrs, panel, &e, mr, nr);
                p++;
            }
        }
    }
}

typedef struct {
    const nn_qconv_call *c;
} run_ctx;
static void run_task(void *ctx, int task, int thread) {
    (void)thread;
    nn_qconv_task(((run_ctx *)ctx)->c, task);
}

void nn_qconv_run(nn_qconv_call *c, nn_pool *pool) {
    int nt = nn_qconv_plan(c, pool ? nn_pool_threads(pool) : 1);
    run_ctx ctx = {c};
    if (pool) nn_pool_run(pool, nt, run_task, &ctx);
    else
        for (int t = 0; t < nt; t++) nn_qconv_task(c, t);
}

/* ---------------------------------------------------------------- naive reference */

void nn_qref_conv2d(const uint16_t *in, int n, int h, int w, int cin, int in_ld, const int8_t *w_ohwi,
                    const float *scale, const float *bias, int cout, int kh, int kw, int sh, int sw, nn_padding pad,
                    float *outf, int ldf, uint16_t *outq, int ldq, const float *out_qinv, int flags) {
    nn_qconv g;
    memset(&g, 0, sizeof g);
    g.kh = kh;
    g.kw = kw;
    g.sh = sh;
    g.sw = sw;
    g.pad = pad;
    int oh, ow, pt, pl;
    geometry(&g, h, w, &oh, &ow, &pt, &pl);
    int32_t *acc = malloc((size_t)cout * sizeof *acc);
    if (!acc) return;
    for (int img = 0; img < n; img++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                for (int o = 0; o < cout; o++) {
                    int32_t s = 0;
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++) {
                            int iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            const uint16_t *x = in + ((size_t)(img * h + iy) * w + ix) * in_ld;
                            const int8_t *wk = w_ohwi + (((size_t)o * kh + ky) * kw + kx) * cin;
                            for (int c = 0; c < cin; c++) s += x[c] * wk[c];
                        }
                    acc[o] = s;
                }
                size_t m = ((size_t)img * oh + oy) * ow + ox;
                nn_qepi e = {scale,    bias, outf ? outf + m * ldf : NULL, 0, outq ? outq + m * ldq : NULL, 0,
                             out_qinv, flags};
                nn_qepi_row(acc, &e, 0, cout);
            }
    free(acc);
}
