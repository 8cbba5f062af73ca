/* nn/conv.c — packed-weight indirect convolution: planning, tiling, packing. */
#include "nn/conv.h"
#include "nn/half.h"
#include <stdio.h>
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

int nn_conv_init(nn_conv *cv, const void *w, int w_f16, const float *bias, int cout, int kh, int kw, int cin, int sh,
                 int sw, nn_padding pad, int pack_f16) {
    return nn_conv_init_at(cv, NULL, w, w_f16, bias, cout, kh, kw, cin, sh, sw, pad, pack_f16);
}

/* Geometry and the padded bias; panels are set by the caller. */
static int conv_setup(nn_conv *cv, const float *bias, int cout, int kh, int kw, int cin, int sh, int sw, nn_padding pad,
                      int f16) {
    memset(cv, 0, sizeof *cv);
    if (cout <= 0 || cin <= 0 || kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0 || kh * kw > NN_MAX_TAPS) return -1;
    if (pad == NN_PAD_SAME && (kh > 1 || kw > 1) && cin > ZERO_MAX) return -1;
    cv->cout = cout;
    cv->cin = cin;
    cv->kh = kh;
    cv->kw = kw;
    cv->sh = sh;
    cv->sw = sw;
    cv->pad = pad;
    cv->npanels = (cout + NN_NR - 1) / NN_NR;
    cv->f16 = f16 ? 1 : 0;
    if (posix_memalign((void **)&cv->bias, 64, (size_t)cv->npanels * NN_NR * sizeof(float))) {
        cv->bias = NULL;
        return -1;
    }
    for (int j = 0; j < cv->npanels * NN_NR; j++) cv->bias[j] = (bias && j < cout) ? bias[j] : 0.0f;
    return 0;
}

void nn_conv_pack(void *dst, int pack_f16, const void *w, int w_f16, int cout, int kh, int kw, int cin) {
    const int npanels = (cout + NN_NR - 1) / NN_NR;
    const size_t k = (size_t)kh * kw * cin;
    const float *wf = w;
    const uint16_t *wh = w;
    for (int p = 0; p < npanels; p++) {
        int nfull = cout - p * NN_NR < NN_NR ? cout - p * NN_NR : NN_NR;
        size_t base = (size_t)p * k * NN_NR;
        if (!w_f16 && !pack_f16) { /* the common case, kept branch-free: 16 sequential row streams */
            float *d = (float *)dst + base;
            for (size_t kk = 0; kk < k; kk++, d += NN_NR) {
                const float *src = wf + (size_t)p * NN_NR * k + kk;
                int j = 0;
                for (; j < nfull; j++) d[j] = src[(size_t)j * k];
                for (; j < NN_NR; j++) d[j] = 0.0f;
            }
            continue;
        }
        for (size_t kk = 0; kk < k; kk++) {
            for (int j = 0; j < NN_NR; j++) {
                size_t src = (size_t)(p * NN_NR + j) * k + kk;
                if (pack_f16) {
                    /* binary16 source values are copied bit for bit */
                    uint16_t h = j >= nfull ? 0 : w_f16 ? wh[src] : nn_f32_to_f16(wf[src]);
                    ((uint16_t *)dst)[base + kk * NN_NR + j] = h;
                } else {
                    ((float *)dst)[base + kk * NN_NR + j] = j >= nfull ? 0.0f : nn_f16_to_f32(wh[src]);
                }
            }
        }
    }
}

void nn_conv_unpack(float *w, const void *panels, int f16, int cout, int kh, int kw, int cin) {
    const size_t k = (size_t)kh * kw * cin;
    for (int o = 0; o < cout; o++) {
        size_t base = (size_t)(o / NN_NR) * k * NN_NR + (size_t)(o % NN_NR);
        for (size_t kk = 0; kk < k; kk++)
            w[(size_t)o * k + kk] = f16 ? nn_f16_to_f32(((const uint16_t *)panels)[base + kk * NN_NR])
                                        : ((const float *)panels)[base + kk * NN_NR];
    }
}

float *nn_conv_read_ohwi(const nnw_file *f, const char *name, int cout, int kh, int kw, int cin, char *err,
                         size_t errlen) {
    char pname[512];
    snprintf(pname, sizeof pname, "%s" NN_PANEL_SUFFIX, name);
    const nnw_tensor *t = nnw_find(f, pname);
    const size_t n = (size_t)cout * kh * kw * cin;
    float *w = NULL;
    if (t) {
        uint32_t ps[4] = {(uint32_t)((cout + NN_NR - 1) / NN_NR), (uint32_t)kh, (uint32_t)kw, (uint32_t)cin * NN_NR};
        if (!(t = nnw_expect(f, pname, t->dtype == NNW_F16 ? NNW_F16 : NNW_F32, 4, ps, err, errlen))) return NULL;
        if (!(w = malloc(n * sizeof *w))) goto oom;
        nn_conv_unpack(w, t->data, t->dtype == NNW_F16, cout, kh, kw, cin);
        return w;
    }
    if (!(t = nnw_find(f, name))) {
        snprintf(err, errlen, "weight file lacks tensor '%s' (and '%s')", name, pname);
        return NULL;
    }
    const int fc = t->ndim == 2 && kh == 1 && kw == 1;
    uint32_t ks[4] = {(uint32_t)cout, (uint32_t)kh, (uint32_t)kw, (uint32_t)cin};
    if (fc) ks[1] = (uint32_t)cin;
    if (!nnw_expect(f, name, t->dtype == NNW_F16 ? NNW_F16 : NNW_F32, fc ? 2 : 4, ks, err, errlen)) return NULL;
    if (!(w = malloc(n * sizeof *w))) goto oom;
    if (t->dtype == NNW_F16) nn_f16_to_f32_array(t->data, w, n);
    else memcpy(w, t->data, n * sizeof *w);
    return w;
oom:
    snprintf(err, errlen, "out of memory");
    return NULL;
}

static int is_packed_name(const char *name) {
    const size_t nl = strlen(name), sl = strlen(NN_PANEL_SUFFIX);
    return nl > sl && !strcmp(name + nl - sl, NN_PANEL_SUFFIX);
}

nnw_file *nn_conv_open_plain(const char *path, char *err, size_t errlen) {
    nnw_file *f = nnw_open(path, err, errlen);
    if (!f) return NULL;
    int packed = 0;
    for (int i = 0; i < nnw_count(f); i++) packed += is_packed_name(nnw_at(f, i)->name);
    if (!packed) return f;
    nnw_writer *w = nnw_writer_new();
    char *val = NULL, *name = NULL;
    float *o = NULL;
    if (!w) goto oom;
    for (int i = 0; i < nnw_meta_count(f); i++) {
        const char *k, *v;
        nnw_meta_at(f, i, &k, &v);
        if (!strcmp(k, "layout")) {
            static const char pre[] = "kernels unpacked to OHWI from: ";
            if (!(val = malloc(sizeof pre + strlen(v)))) goto oom;
            v = strcat(strcpy(val, pre), v);
        }
        if (nnw_writer_meta(w, k, v)) goto oom;
        free(val);
        val = NULL;
    }
    for (int i = 0; i < nnw_count(f); i++) {
        const nnw_tensor *t = nnw_at(f, i);
        if (!is_packed_name(t->name)) {
            if (nnw_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->scale, t->data)) goto oom;
            continue;
        }
        if (t->ndim != 4 || t->shape[3] % NN_NR || (t->dtype != NNW_F32 && t->dtype != NNW_F16)) {
            snprintf(err, errlen, "%.2000s: %.200s is not in the panel layout (rank 4, float, last dimension in*16)",
                     path, t->name);
            goto fail;
        }
        const int cout = (int)t->shape[0] * NN_NR, kh = (int)t->shape[1], kw = (int)t->shape[2],
                  cin = (int)t->shape[3] / NN_NR;
        const size_t nl = strlen(t->name) - strlen(NN_PANEL_SUFFIX), tl = strlen("_kernel_transpose");
        if (!(o = malloc((size_t)t->count * sizeof *o)) || !(name = strndup(t->name, nl))) goto oom;
        nn_conv_unpack(o, t->data, t->dtype == NNW_F16, cout, kh, kw, cin);
        const int fc = kh == 1 && kw == 1 && nl > tl && !strcmp(name + nl - tl, "_kernel_transpose");
        const uint32_t shape[4] = {(uint32_t)cout, fc ? (uint32_t)cin : (uint32_t)kh, (uint32_t)kw, (uint32_t)cin};
        if (nnw_writer_add(w, name, NNW_F32, fc ? 2 : 4, shape, 1.0f, o)) goto oom;
        free(o);
        free(name);
        o = NULL;
        name = NULL;
    }
    nnw_close(f);
    f = NULL;
    size_t len;
    void *b = nnw_writer_serialize(w, &len);
    nnw_writer_free(w);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return nnw_open_memory_owned(b, len, err, errlen);
oom:
    snprintf(err, errlen, "out of memory");
fail:
    free(val);
    free(o);
    free(name);
    nnw_writer_free(w);
    nnw_close(f);
    return NULL;
}

int nn_conv_init_at(nn_conv *cv, void *mem, const void *w, int w_f16, const float *bias, int cout, int kh, int kw,
                    int cin, int sh, int sw, nn_padding pad, int pack_f16) {
    if (conv_setup(cv, bias, cout, kh, kw, cin, sh, sw, pad, pack_f16)) return -1;
    if (mem) {
        cv->panels = mem;
    } else {
        if (posix_memalign(&cv->panels, 64, nn_conv_panel_bytes(cout, kh, kw, cin, pack_f16))) {
            free(cv->bias);
            cv->panels = NULL;
            cv->bias = NULL;
            return -1;
        }
        cv->panels_owned = 1;
    }
    nn_conv_pack(cv->panels, pack_f16, w, w_f16, cout, kh, kw, cin);
    return 0;
}

int nn_conv_init_packed(nn_conv *cv, const void *panels, int f16, const float *bias, int cout, int kh, int kw, int cin,
                        int sh, int sw, nn_padding pad) {
    if (!panels || (uintptr_t)panels % 64) return -1;
    if (conv_setup(cv, bias, cout, kh, kw, cin, sh, sw, pad, f16)) return -1;
    cv->panels = (void *)(uintptr_t)panels; /* read only: the kernels never write panels */
    return 0;
}

void nn_conv_free(nn_conv *cv) {
    if (!cv) return;
    nn_wino_free(cv->wino);
    cv->wino = NULL;
    if (cv->panels_owned) free(cv->panels);
    free(cv->bias);
    cv->panels = NULL;
    cv->bias = NULL;
}

int nn_conv_winograd(nn_conv *cv) {
    if (cv->wino) return 0;
    if (cv->kh != 3 || cv->kw != 3 || cv->sh != 1 || cv->sw != 1) return 1;
    cv->wino = nn_wino_new(cv->panels, cv->f16, cv->cout, cv->cin);
    return cv->wino ? 0 : -1;
}

size_t nn_conv_ws_bytes(const nn_conv *cv) { return cv->wino ? nn_wino_ws_bytes(cv->cin) : 0; }

int nn_conv_plan(nn_conv_call *c, int nthreads) {
    const nn_conv *cv = c->cv;
    nn_conv_geometry(cv, c->h, c->w, &c->oh, &c->ow, &c->pt, &c->pl);
    c->m = c->n * c->oh * c->ow;
    if (cv->wino) /* tiles of 4x4 outputs take the place of pixels */
        c->m = c->n * ((c->oh + NN_WINO_OUT - 1) / NN_WINO_OUT) * ((c->ow + NN_WINO_OUT - 1) / NN_WINO_OUT);
    return nn_conv_split(c->m, NN_MR, cv->npanels, nthreads, &c->mtiles, &c->tasks_m, &c->tasks_n);
}

int nn_conv_split(int m, int mr, int npanels, int nthreads, int *mtiles, int *tasks_m, int *tasks_n) {
    *mtiles = (m + mr - 1) / mr;
    if (m == 0) {
        *tasks_m = *tasks_n = 0;
        return 0;
    }
    if (nthreads <= 1) {
        *tasks_m = *tasks_n = 1;
        return 1;
    }
    int target = 4 * nthreads;
    if (*mtiles >= 8 * nthreads) {
        *tasks_m = *mtiles < target ? *mtiles : target;
        *tasks_n = 1;
    } else {
        /* Few pixels (late layers, weight-bound): split the output channels, so that each weight panel is
         * streamed by one thread only; split the pixels too only when there are too few panels. */
        *tasks_n = npanels < target ? npanels : target;
        *tasks_m = (target + *tasks_n - 1) / *tasks_n;
        if (*tasks_m > *mtiles) *tasks_m = *mtiles;
    }
    return *tasks_m * *tasks_n;
}

void nn_conv_task(const nn_conv_call *c, int task) { nn_conv_task_ws(c, task, NULL); }

void nn_conv_task_ws(const nn_conv_call *c, int task, float *ws) {
    const nn_conv *cv = c->cv;
    /* The task's micro-tiles [t0, t1) (of NN_MR output pixels, or of NN_MR Winograd tiles) and panels [p0, p1). */
    const int tm = task % c->tasks_m, tn = task / c->tasks_m;
    const int t0 = (int)((long)c->mtiles * tm / c->tasks_m), t1 = (int)((long)c->mtiles * (tm + 1) / c->tasks_m);
    const int p0 = (int)((long)cv->npanels * tn / c->tasks_n), p1 = (int)((long)cv->npanels * (tn + 1) / c->tasks_n);
    if (cv->wino) {
        float *own = NULL;
        /* Without the caller's scratch (nn_conv_run: tests and tools; the network passes its own, allocated at
         * load) a task allocates it; a void task has no way to report running out of memory. */
        if (!ws && posix_memalign((void **)&own, 64, nn_wino_ws_bytes(cv->cin))) abort();
        nn_wino_tiles(cv->wino, cv->bias, c->in, c->n, c->h, c->w, c->in_ld, c->pt, c->pl, c->out, c->oh, c->ow,
                      c->out_ld, c->flags, t0 * NN_MR, t1 * NN_MR < c->m ? t1 * NN_MR : c->m, p0, p1, ws ? ws : own);
        free(own);
        return;
    }
    const nn_kernels *kern = nn_kern();
    nn_ukernel_fn fn = cv->f16 ? kern->gemm_f16 : kern->gemm;
    if (!fn)
        fn = nn_kernels_for(NN_ISA_SCALAR)->gemm_f16; /* float16 panels, flavour without a float16 kernel (armv7) */
    nn_ukernel2_fn fn2 = cv->f16 ? kern->gemm2_f16 : kern->gemm2;
    const int ntaps = cv->kh * cv->kw, cin = cv->cin;
    const size_t k = (size_t)ntaps * cin, esz = cv->f16 ? 2 : 4;
    const int ohw = c->oh * c->ow;
    const float *ptrs[NN_MAX_TAPS * NN_MR];
    const int simple =
        (ntaps == 1 && cv->sh == 1 && cv->sw == 1 && c->pt == 0 && c->pl == 0 && c->oh == c->h && c->ow == c->w);
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
                if (simple) {
                    ptrs[r] = c->in + (size_t)m * c->in_ld;
                    continue;
                }
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
                    fn2(ntaps, cin, ptrs, panel, panel_bytes, cv->bias + p * NN_NR, out + p * NN_NR, (size_t)c->out_ld,
                        mr, left < 2 * NN_NR ? left : 2 * NN_NR, c->flags);
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

typedef struct {
    const nn_conv_call *c;
} run_ctx;
static void run_task(void *ctx, int task, int thread) {
    (void)thread;
    nn_conv_task(((run_ctx *)ctx)->c, task);
}

void nn_conv_run(const nn_conv *cv, nn_pool *pool, const float *in, int n, int h, int w, int in_ld, float *out,
                 int out_ld, int flags) {
    nn_conv_call c = {
        .cv = cv, .in = in, .n = n, .h = h, .w = w, .in_ld = in_ld, .out = out, .out_ld = out_ld, .flags = flags};
    int nt = nn_conv_plan(&c, nn_pool_threads(pool));
    run_ctx ctx = {&c};
    if (pool) nn_pool_run(pool, nt, run_task, &ctx);
    else
        for (int t = 0; t < nt; t++) nn_conv_task(&c, t);
}
