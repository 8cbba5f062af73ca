/* nn/conv.c — packed-weight indirect convolution: planning, tiling, packing. */
#include "nn/conv.h"
#include "nn/half.h"
#include <stdlib.h>
#include <string.h>

#define ZERO_MAX 4096
/* Reads of padding pixels point here (cin <= ZERO_MAX is required when a conv pads). */
static const float g_zero[ZERO_MAX] __attribute__((aligned(64)));

static int same_pad(int in, int k, int s, int *out) {
    int o = (in + s - 1) / s;
    int total = (o - 1) * s + k - in;
    if (total < 0) total = 0;
    *out = o;
    return total / 2;
}

void nn_conv_geometry(const nn_conv *cv, int h, int w, int *oh, int *ow, int *pt, int *pl) {
    if (cv->pad == NN_PAD_SAME) {
        *pt = same_pad(h, cv->kh, cv->sh, oh);
        *pl = same_pad(w, cv->kw, cv->sw, ow);
    } else {
        *pt = *pl = 0;
        *oh = h >= cv->kh ? (h - cv->kh) / cv->sh + 1 : 0;
        *ow = w >= cv->kw ? (w - cv->kw) / cv->sw + 1 : 0;
    }
}

size_t nn_conv_panel_bytes(int cout, int kh, int kw, int cin, int pack_f16) {
    size_t bytes = (size_t)((cout + NN_NR - 1) / NN_NR) * kh * kw * cin * NN_NR * (pack_f16 ? 2 : 4);
    return (bytes + 63) / 64 * 64;
}

int nn_conv_init(nn_conv *cv, const void *w, int w_f16, const float *bias, int cout, int kh, int kw, int cin,
                 int sh, int sw, nn_padding pad, int pack_f16) {
    return nn_conv_init_at(cv, NULL, w, w_f16, bias, cout, kh, kw, cin, sh, sw, pad, pack_f16);
}

int nn_conv_init_at(nn_conv *cv, void *mem, const void *w, int w_f16, const float *bias, int cout, int kh, int kw,
                    int cin, int sh, int sw, nn_padding pad, int pack_f16) {
    memset(cv, 0, sizeof *cv);
    if (cout <= 0 || cin <= 0 || kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0 || kh * kw > NN_MAX_TAPS) return -1;
    if (pad == NN_PAD_SAME && (kh > 1 || kw > 1) && cin > ZERO_MAX) return -1;
    cv->cout = cout; cv->cin = cin; cv->kh = kh; cv->kw = kw; cv->sh = sh; cv->sw = sw; cv->pad = pad;
    cv->npanels = (cout + NN_NR - 1) / NN_NR;
    cv->f16 = pack_f16 ? 1 : 0;
    size_t k = (size_t)kh * kw * cin, esz = pack_f16 ? 2 : 4;
    size_t bytes = (size_t)cv->npanels * k * NN_NR * esz;
    if (mem) {
        cv->panels = mem;
    } else {
        if (posix_memalign(&cv->panels, 64, (bytes + 63) / 64 * 64)) { cv->panels = NULL; return -1; }
        cv->panels_owned = 1;
    }
    if (posix_memalign((void **)&cv->bias, 64, (size_t)cv->npanels * NN_NR * sizeof(float))) {
        if (cv->panels_owned) free(cv->panels);
        cv->panels = NULL; cv->bias = NULL; return -1;
    }
    const float *wf = w;
    const uint16_t *wh = w;
    for (int p = 0; p < cv->npanels; p++) {
        int nfull = cout - p * NN_NR < NN_NR ? cout - p * NN_NR : NN_NR;
        size_t base = (size_t)p * k * NN_NR;
        if (!w_f16 && !pack_f16) { /* the common case, kept branch-free: 16 sequential row streams */
            float *dst = (float *)cv->panels + base;
            for (size_t kk = 0; kk < k; kk++, dst += NN_NR) {
                const float *src = wf + (size_t)p * NN_NR * k + kk;
                int j = 0;
                for (; j < nfull; j++) dst[j] = src[(size_t)j * k];
                for (; j < NN_NR; j++) dst[j] = 0.0f;
            }
            continue;
        }
        for (size_t kk = 0; kk < k; kk++) {
            for (int j = 0; j < NN_NR; j++) {
                size_t src = (size_t)(p * NN_NR + j) * k + kk;
                if (pack_f16) {
                    /* binary16 source values are copied bit for bit */
                    uint16_t h = j >= nfull ? 0 : w_f16 ? wh[src] : nn_f32_to_f16(wf[src]);
                    ((uint16_t *)cv->panels)[base + kk * NN_NR + j] = h;
                } else {
                    ((float *)cv->panels)[base + kk * NN_NR + j] = j >= nfull ? 0.0f : nn_f16_to_f32(wh[src]);
                }
            }
        }
    }
    for (int j = 0; j < cv->npanels * NN_NR; j++) cv->bias[j] = (bias && j < cout) ? bias[j] : 0.0f;
    return 0;
}

void nn_conv_free(nn_conv *cv) {
    if (!cv) return;
    if (cv->panels_owned) free(cv->panels);
    free(cv->bias);
    cv->panels = NULL; cv->bias = NULL;
}

int nn_conv_plan(nn_conv_call *c, int nthreads) {
    const nn_conv *cv = c->cv;
    nn_conv_geometry(cv, c->h, c->w, &c->oh, &c->ow, &c->pt, &c->pl);
    c->m = c->n * c->oh * c->ow;
    c->mtiles = (c->m + NN_MR - 1) / NN_MR;
    if (c->m == 0) { c->tasks_m = c->tasks_n = 0; return 0; }
    if (nthreads <= 1) { c->tasks_m = c->tasks_n = 1; return 1; }
    int target = 4 * nthreads;
    if (c->mtiles >= 8 * nthreads) {
        c->tasks_m = c->mtiles < target ? c->mtiles : target;
        c->tasks_n = 1;
    } else {
        /* Few pixels (late layers, weight-bound): split the output channels, so that each weight panel is
         * streamed by one thread only; split the pixels too only when there are too few panels. */
        c->tasks_n = cv->npanels < target ? cv->npanels : target;
        c->tasks_m = (target + c->tasks_n - 1) / c->tasks_n;
        if (c->tasks_m > c->mtiles) c->tasks_m = c->mtiles;
    }
    return c->tasks_m * c->tasks_n;
}

void nn_conv_task(const nn_conv_call *c, int task) {
    const nn_conv *cv = c->cv;
    const nn_kernels *kern = nn_kern();
    nn_ukernel_fn fn = cv->f16 ? kern->gemm_f16 : kern->gemm;
    if (!fn) fn = nn_kernels_for(NN_ISA_SCALAR)->gemm_f16; /* float16 panels, flavour without a float16 kernel (armv7) */
    nn_ukernel2_fn fn2 = cv->f16 ? kern->gemm2_f16 : kern->gemm2;
    int tm = task % c->tasks_m, tn = task / c->tasks_m;
    int t0 = (int)((long)c->mtiles * tm / c->tasks_m), t1 = (int)((long)c->mtiles * (tm + 1) / c->tasks_m);
    int p0 = (int)((long)cv->npanels * tn / c->tasks_n), p1 = (int)((long)cv->npanels * (tn + 1) / c->tasks_n);
    const int ntaps = cv->kh * cv->kw, cin = cv->cin;
    const size_t k = (size_t)ntaps * cin, esz = cv->f16 ? 2 : 4;
    const int ohw = c->oh * c->ow;
    const float *ptrs[NN_MAX_TAPS * NN_MR];
    const int simple = (ntaps == 1 && cv->sh == 1 && cv->sw == 1 && c->pt == 0 && c->pl == 0 &&
                        c->oh == c->h && c->ow == c->w);
    /* Panel blocks of about 256 KB stay in L2 while the task's tiles stream past them. */
    size_t panel_bytes = k * NN_NR * esz;
    int pblk = (int)((256u * 1024u) / panel_bytes);
    if (pblk < 1) pblk = 1;
    if (pblk > 1) pblk &= ~1;
    for (int pb = p0; pb < p1; pb += pblk) {
        int pe = pb + pblk < p1 ? pb + pblk : p1;
        for (int tile = t0; tile < t1; tile++) {
            int m0 = tile * NN_MR, mr = c->m - m0 < NN_MR ? c->m - m0 : NN_MR;
            /* Indirection: row pointers of each tap for the tile's output pixels. */
            for (int r = 0; r < NN_MR; r++) {
                int m = m0 + (r < mr ? r : 0);
                if (simple) { ptrs[r] = c->in + (size_t)m * c->in_ld; continue; }
                int img = m / ohw, rem = m % ohw, oy = rem / c->ow, ox = rem % c->ow;
                int iy0 = oy * cv->sh - c->pt, ix0 = ox * cv->sw - c->pl;
                const float *base = c->in + (size_t)img * c->h * c->w * c->in_ld;
                for (int ky = 0; ky < cv->kh; ky++) {
                    int iy = iy0 + ky;
                    for (int kx = 0; kx < cv->kw; kx++) {
                        int ix = ix0 + kx;
                        const float *p = g_zero;
                        if (iy >= 0 && iy < c->h && ix >= 0 && ix < c->w)
                            p = base + ((size_t)iy * c->w + ix) * c->in_ld;
                        ptrs[(ky * cv->kw + kx) * NN_MR + r] = p;
                    }
                }
            }
            float *out = c->out + (size_t)m0 * c->out_ld;
            for (int p = pb; p < pe;) {
                const char *panel = (const char *)cv->panels + (size_t)p * panel_bytes;
                int left = cv->cout - p * NN_NR;
                if (fn2 && p + 1 < pe) { /* two panels per call */
                    fn2(ntaps, cin, ptrs, panel, panel_bytes, cv->bias + p * NN_NR, out + p * NN_NR,
                        (size_t)c->out_ld, mr, left < 2 * NN_NR ? left : 2 * NN_NR, c->flags);
                    p += 2;
                    continue;
                }
                fn(ntaps, cin, ptrs, panel, cv->bias + p * NN_NR, out + p * NN_NR, (size_t)c->out_ld, mr,
                   left < NN_NR ? left : NN_NR, c->flags);
                p++;
            }
        }
    }
}

typedef struct { const nn_conv_call *c; } run_ctx;
static void run_task(void *ctx, int task, int thread) {
    (void)thread;
    nn_conv_task(((run_ctx *)ctx)->c, task);
}

void nn_conv_run(const nn_conv *cv, nn_pool *pool, const float *in, int n, int h, int w, int in_ld,
                 float *out, int out_ld, int flags) {
    nn_conv_call c = {.cv = cv, .in = in, .n = n, .h = h, .w = w, .in_ld = in_ld, .out = out, .out_ld = out_ld,
                      .flags = flags};
    int nt = nn_conv_plan(&c, nn_pool_threads(pool));
    run_ctx ctx = {&c};
    if (pool) nn_pool_run(pool, nt, run_task, &ctx);
    else for (int t = 0; t < nt; t++) nn_conv_task(&c, t);
}
