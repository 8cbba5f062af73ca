/* src/detect.c — dlib's frontal face detector: pyramid, per-level fHOG + filter scoring (hog.c),
 * thresholding, dlib's sort and non-maximum suppression, upsampling and the big-photo policy. */
#include "src/detect.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nn/threadpool.h"
#include "nn/weights.h"
#include "src/hog.h"
#include "src/util.h"

#define MAX_FILTERS 8

/* weights/hog-frontal.sbfw, embedded by src/hog_weights.S */
extern const unsigned char sbf_hog_frontal_data[];
extern const unsigned char sbf_hog_frontal_end[];

struct sbf_detector {
    nnw_file *wf;
    int nfilt;
    sbf_hog_filter filt[MAX_FILTERS];
    int cell, fh, fw; /* fHOG window in cells (10 x 10) */
    int box_w, box_h; /* detection box in cells (fhog window minus 2*padding) */
    int win_w, win_h; /* detection window in pixels (80 x 80) */
    int min_lw, min_lh, max_levels;
    double iou, cover; /* test_box_overlap */
};

static int meta_int(const nnw_file *f, const char *key, int *v, char *err, size_t errlen) {
    const char *s = nnw_meta(f, key);
    char *end;
    if (!s) {
        snprintf(err, errlen, "HOG model: missing %s", key);
        return -1;
    }
    long x = strtol(s, &end, 10);
    if (*end || x < 0 || x > 1000000) {
        snprintf(err, errlen, "HOG model: bad %s", key);
        return -1;
    }
    *v = (int)x;
    return 0;
}
static int meta_double(const nnw_file *f, const char *key, double *v, char *err, size_t errlen) {
    const char *s = nnw_meta(f, key);
    char *end;
    if (!s) {
        snprintf(err, errlen, "HOG model: missing %s", key);
        return -1;
    }
    *v = strtod(s, &end);
    if (*end || !isfinite(*v)) {
        snprintf(err, errlen, "HOG model: bad %s", key);
        return -1;
    }
    return 0;
}

sbf_detector *sbf_detector_new(char *err, size_t errlen) {
    char e[200];
    if (!err) {
        err = e;
        errlen = sizeof e;
    }
    sbf_detector *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->wf = nnw_open_memory(sbf_hog_frontal_data, (size_t)(sbf_hog_frontal_end - sbf_hog_frontal_data), err, errlen);
    if (!d->wf) goto fail;
    int pad, pyr;
    if (meta_int(d->wf, "num_detectors", &d->nfilt, err, errlen) ||
        meta_int(d->wf, "cell_size", &d->cell, err, errlen) || meta_int(d->wf, "padding", &pad, err, errlen) ||
        meta_int(d->wf, "fhog_width", &d->fw, err, errlen) || meta_int(d->wf, "fhog_height", &d->fh, err, errlen) ||
        meta_int(d->wf, "window_width", &d->win_w, err, errlen) ||
        meta_int(d->wf, "window_height", &d->win_h, err, errlen) ||
        meta_int(d->wf, "max_pyramid_levels", &d->max_levels, err, errlen) ||
        meta_int(d->wf, "min_pyramid_layer_width", &d->min_lw, err, errlen) ||
        meta_int(d->wf, "min_pyramid_layer_height", &d->min_lh, err, errlen) ||
        meta_int(d->wf, "pyramid_down", &pyr, err, errlen) || meta_double(d->wf, "iou_thresh", &d->iou, err, errlen) ||
        meta_double(d->wf, "covered_thresh", &d->cover, err, errlen))
        goto fail;
    if (d->nfilt < 1 || d->nfilt > MAX_FILTERS || d->cell != 8 || pyr != 6 || d->fw < 1 || d->fh < 1 || d->fw > 64 ||
        d->fh > 64 || 2 * pad >= d->fw || 2 * pad >= d->fh || d->max_levels < 1) {
        snprintf(err, errlen, "HOG model: unsupported configuration");
        goto fail;
    }
    d->box_w = d->fw - 2 * pad;
    d->box_h = d->fh - 2 * pad;
    for (int i = 0; i < d->nfilt; i++) {
        char name[64];
        snprintf(name, sizeof name, "det%d.plane", i);
        const nnw_tensor *tp = nnw_expect(d->wf, name, NNW_I32, 1, (const uint32_t[]){0}, err, errlen);
        if (!tp) goto fail;
        const uint32_t n = tp->shape[0];
        snprintf(name, sizeof name, "det%d.rows", i);
        const nnw_tensor *tr = nnw_expect(d->wf, name, NNW_F32, 2, (const uint32_t[]){n, (uint32_t)d->fw}, err, errlen);
        snprintf(name, sizeof name, "det%d.cols", i);
        const nnw_tensor *tc =
            tr ? nnw_expect(d->wf, name, NNW_F32, 2, (const uint32_t[]){n, (uint32_t)d->fh}, err, errlen) : NULL;
        if (!tr || !tc) goto fail;
        const int32_t *pl = tp->data;
        for (uint32_t k = 0; k < n; k++)
            if (pl[k] < 0 || pl[k] >= SBF_HOG_PLANES || (k && pl[k] < pl[k - 1])) {
                snprintf(err, errlen, "HOG model: bad plane index");
                goto fail;
            }
        sbf_hog_filter *f = &d->filt[i];
        f->n = (int)n;
        f->lr = d->fw;
        f->lc = d->fh;
        f->rows = tr->data;
        f->cols = tc->data;
        f->plane = pl;
        snprintf(name, sizeof name, "det%d.thresh", i);
        if (meta_double(d->wf, name, &f->thresh, err, errlen)) goto fail;
    }
    return d;
fail:
    sbf_detector_free(d);
    return NULL;
}

void sbf_detector_free(sbf_detector *d) {
    if (!d) return;
    if (d->wf) nnw_close(d->wf);
    free(d);
}

/* ---- geometry, as dlib's rectangle / drectangle ------------------------------------------------ */
typedef struct {
    long l, t, r, b;
} rect;
static long rnd(double v) { return (long)floor(v + 0.5); }
static double rarea(rect a) {
    return (a.t > a.b || a.l > a.r) ? 0.0 : (double)((unsigned long)(a.r - a.l + 1) * (unsigned long)(a.b - a.t + 1));
}

/* dlib's fhog_to_image for a point */
static long f2i(long p, int pad_off, int cell) {
    long q = (p + 1 - pad_off) * cell + 1;
    return q >= 0 ? q + cell / 2 : q - cell / 2;
}

/* pyramid_down<6>::rect_up(rect, levels), then drectangle -> rectangle */
static rect rect_up6(rect a, int levels) {
    double x1 = (double)a.l, y1 = (double)a.t, x2 = (double)a.r, y2 = (double)a.b;
    const double ratio = 6 / 5.0;
    for (int i = 0; i < levels; i++) {
        x1 = x1 * ratio + 0.3;
        y1 = y1 * ratio + 0.3;
        x2 = x2 * ratio + 0.3;
        y2 = y2 * ratio + 0.3;
    }
    rect o = {rnd(fmin(x1, x2)), rnd(fmin(y1, y2)), rnd(fmax(x1, x2)), rnd(fmax(y1, y2))};
    return o;
}
/* pyramid_down<2>::rect_down(rect, levels) */
static rect rect_down2(rect a, int levels) {
    double x1 = (double)a.l, y1 = (double)a.t, x2 = (double)a.r, y2 = (double)a.b;
    for (int i = 0; i < levels; i++) {
        x1 = x1 / 2.0 - 1.25;
        y1 = y1 / 2.0 - 0.75;
        x2 = x2 / 2.0 - 1.25;
        y2 = y2 / 2.0 - 0.75;
    }
    rect o = {rnd(fmin(x1, x2)), rnd(fmin(y1, y2)), rnd(fmax(x1, x2)), rnd(fmax(y1, y2))};
    return o;
}

/* test_box_overlap::operator() */
static int overlaps(const sbf_detector *d, rect a, rect b) {
    rect in = {a.l > b.l ? a.l : b.l, a.t > b.t ? a.t : b.t, a.r < b.r ? a.r : b.r, a.b < b.b ? a.b : b.b};
    const double inner = rarea(in);
    if (inner == 0) return 0;
    rect un = {a.l < b.l ? a.l : b.l, a.t < b.t ? a.t : b.t, a.r > b.r ? a.r : b.r, a.b > b.b ? a.b : b.b};
    const double outer = rarea(un);
    return inner / outer > d->iou || inner / rarea(a) > d->cover || inner / rarea(b) > d->cover;
}

/* ---- per-level work ---------------------------------------------------------------------------- */
typedef struct {
    sbf_hog_det *v;
    long n, cap;
} detlist;

static int push(detlist *L, const sbf_hog_det *x) {
    if (L->n == L->cap) {
        long nc = L->cap ? 2 * L->cap : 64;
        sbf_hog_det *nv = realloc(L->v, sizeof *nv * (size_t)nc);
        if (!nv) return -1;
        L->v = nv;
        L->cap = nc;
    }
    L->v[L->n++] = *x;
    return 0;
}

/* Work shared by the threads of one detection.  Worker 0 builds the pyramid level by level and
 * publishes each image (ready[l]); all workers claim levels in order (largest first) and scan
 * them, each with its own buffers.  Nothing depends on which worker did what. */
typedef struct {
    sbf_fhog f;
    float *sal, *scratch;
    size_t cap;
} workspace;

/* Buffers kept from one detection to the next (sbf_detect_ws): pyramid levels, upsampled images and each
 * worker's fHOG / saliency buffers.  Reusing them spares the kernel mapping, zeroing and unmapping tens
 * of megabytes per photo (glibc serves blocks of 256 KiB and more with mmap: src/main.c). */
struct sbf_detect_ws {
    uint8_t **lev; /* [level], level 0 unused (the input) */
    size_t *levcap;
    int nlev;
    uint8_t *up[2];
    size_t upcap[2];
    workspace *W;
    int nW;
};

typedef struct {
    const sbf_detector *d;
    int nlev, first;
    const uint8_t **img;
    int *w, *h;
    int *ready;    /* atomic */
    int next;      /* atomic: next level to scan */
    int failed;    /* atomic */
    detlist *raw;  /* [level * nfilt + filter] */
    double adjust; /* dlib's adjust_threshold: keep windows scoring at least this */
    sbf_detect_ws *ws;
} run_ctx;

sbf_detect_ws *sbf_detect_ws_new(void) { return calloc(1, sizeof(sbf_detect_ws)); }

void sbf_detect_ws_free(sbf_detect_ws *ws) {
    if (!ws) return;
    for (int l = 0; l < ws->nlev; l++) free(ws->lev[l]);
    free(ws->lev);
    free(ws->levcap);
    free(ws->up[0]);
    free(ws->up[1]);
    for (int i = 0; i < ws->nW; i++) {
        sbf_fhog_free(&ws->W[i].f);
        free(ws->W[i].sal);
        free(ws->W[i].scratch);
    }
    free(ws->W);
    free(ws);
}

/* Room for nlev levels and nw workers; 0 or -1. */
static int ws_reserve(sbf_detect_ws *ws, int nlev, int nw) {
    if (nlev > ws->nlev) {
        uint8_t **l = realloc(ws->lev, sizeof *l * (size_t)nlev);
        if (!l) return -1;
        ws->lev = l;
        size_t *c = realloc(ws->levcap, sizeof *c * (size_t)nlev);
        if (!c) return -1;
        ws->levcap = c;
        for (int i = ws->nlev; i < nlev; i++) {
            ws->lev[i] = NULL;
            ws->levcap[i] = 0;
        }
        ws->nlev = nlev;
    }
    if (nw > ws->nW) {
        workspace *W = realloc(ws->W, sizeof *W * (size_t)nw);
        if (!W) return -1;
        memset(W + ws->nW, 0, sizeof *W * (size_t)(nw - ws->nW));
        ws->W = W;
        ws->nW = nw;
    }
    return 0;
}

static int scan_level(run_ctx *C, workspace *W, int l) {
    const sbf_detector *d = C->d;
    sbf_fhog *f = &W->f;
    if (sbf_fhog_compute(C->img[l], C->w[l], C->h[l], d->fh, d->fw, f)) return -1;
    if (f->hog_nr == 0 || f->hog_nc == 0) return 0;
    if (f->plane > W->cap) {
        free(W->sal);
        free(W->scratch);
        const size_t bytes = (f->plane * sizeof(float) + 63) & ~(size_t)63;
        W->sal = aligned_alloc(64, bytes);
        W->scratch = aligned_alloc(64, bytes);
        W->cap = W->sal && W->scratch ? f->plane : 0;
        if (!W->cap) return -1;
        sbf_prefault(W->sal, bytes);
        sbf_prefault(W->scratch, bytes);
    }
    memset(W->scratch, 0, f->plane * sizeof(float));
    const int first_col = d->fw / 2, last_col = f->nc - (d->fw - 1) / 2;
    const int first_row = d->fh / 2, last_row = f->nr - (d->fh - 1) / 2;
    const int pc = (d->fw - 1) / 2, pr = (d->fh - 1) / 2;
    for (int i = 0; i < d->nfilt; i++) {
        const sbf_hog_filter *flt = &d->filt[i];
        memset(W->sal, 0, f->plane * sizeof(float));
        sbf_hog_saliency(f, flt, W->sal, W->scratch);
        detlist *L = &C->raw[(size_t)l * d->nfilt + i];
        for (int r = first_row; r < last_row; r++) {
            const float *row = W->sal + (size_t)r * f->stride;
            for (int c = first_col; c < last_col; c++) {
                if (!((double)row[c] >= flt->thresh + C->adjust)) continue;
                /* centered_rect(point(c,r), box_w, box_h) -> fhog_to_image -> rect_up(l) */
                rect fr = {c - d->box_w / 2, r - d->box_h / 2, 0, 0};
                fr.r = fr.l + d->box_w - 1;
                fr.b = fr.t + d->box_h - 1;
                rect im = {f2i(fr.l, pc, d->cell), f2i(fr.t, pr, d->cell), f2i(fr.r, pc, d->cell),
                           f2i(fr.b, pr, d->cell)};
                rect up = rect_up6(im, l);
                sbf_hog_det x = {(double)row[c], up.l, up.t, up.r, up.b, (double)row[c] - flt->thresh, i};
                if (push(L, &x)) return -1;
            }
        }
    }
    return 0;
}

/* Level l of the pyramid (l >= 1) into the workspace: rows [r0, r1) of dlib's resize of level l-1. */
static int level_rows(run_ctx *C, int l, int r0, int r1) {
    return sbf_hog_resize_rows(C->img[l - 1], C->w[l - 1], C->h[l - 1], C->ws->lev[l], C->w[l], C->h[l], r0, r1);
}

/* Sizes and buffer of level l; 0 or -1. */
static int level_alloc(run_ctx *C, int l) {
    sbf_hog_down6_size(C->w[l - 1], C->h[l - 1], &C->w[l], &C->h[l]);
    if (sbf_grow(&C->ws->lev[l], &C->ws->levcap[l], (size_t)C->w[l] * C->h[l] + 1)) return -1;
    C->img[l] = C->ws->lev[l];
    return 0;
}

static void worker(void *vctx, int task, int thread) {
    (void)thread;
    run_ctx *C = vctx;
    if (task == 0) {
        for (int l = 1; l < C->nlev; l++) {
            if (__atomic_load_n(&C->ready[l], __ATOMIC_RELAXED)) continue; /* built before the scan started */
            if (!__atomic_load_n(&C->failed, __ATOMIC_RELAXED) && (level_alloc(C, l) || level_rows(C, l, 0, C->h[l])))
                __atomic_store_n(&C->failed, 1, __ATOMIC_RELAXED);
            __atomic_store_n(&C->ready[l], 1, __ATOMIC_RELEASE);
        }
    }
    workspace *W = &C->ws->W[task];
    for (;;) {
        const int l = __atomic_fetch_add(&C->next, 1, __ATOMIC_RELAXED);
        if (l >= C->nlev) break;
        while (!__atomic_load_n(&C->ready[l], __ATOMIC_ACQUIRE)) sched_yield();
        if (__atomic_load_n(&C->failed, __ATOMIC_RELAXED)) continue;
        if (scan_level(C, W, l)) __atomic_store_n(&C->failed, 1, __ATOMIC_RELAXED);
    }
}

typedef struct {
    run_ctx *C;
    int l, nt, failed;
} rows_ctx;

static void rows_task(void *vctx, int task, int thread) {
    (void)thread;
    rows_ctx *R = vctx;
    const int oh = R->C->h[R->l];
    const int r0 = (int)((long)oh * task / R->nt), r1 = (int)((long)oh * (task + 1) / R->nt);
    if (level_rows(R->C, R->l, r0, r1)) R->failed = 1;
}

/* Detection on one image at its own scale, scanning pyramid levels >= skip. */
static int detect_core(const sbf_detector *d, const uint8_t *img, int w, int h, int skip, double adjust, nn_pool *pool,
                       sbf_detect_ws *ws, sbf_hog_det **res, long *nres) {
    *res = NULL;
    *nres = 0;
    const int nlev = sbf_hog_num_levels(w, h, d->min_lw, d->min_lh, d->max_levels);
    const uint8_t **imgs = calloc((size_t)nlev, sizeof *imgs);
    int *wd = calloc((size_t)nlev, sizeof *wd), *hs = calloc((size_t)nlev, sizeof *hs);
    int *ready = calloc((size_t)nlev, sizeof *ready);
    detlist *raw = calloc((size_t)nlev * d->nfilt, sizeof *raw);
    int rc = -1;
    const int nw = nn_pool_threads(pool);
    if (!imgs || !wd || !hs || !ready || !raw || ws_reserve(ws, nlev, nw)) goto done;
    imgs[0] = img;
    wd[0] = w;
    hs[0] = h;
    ready[0] = 1;
    run_ctx C = {d, nlev, skip, imgs, wd, hs, ready, skip, 0, raw, adjust, ws};
    /* The levels up to the first one scanned are made before any scanning, each split by rows over the
     * threads (a 12-megapixel photo skips 3 levels: 18 megapixels of resampling); the later ones by worker
     * 0 while the others scan.  The same pixels either way. */
    for (int l = 1; l < nlev && l <= skip && nw > 1; l++) {
        if (level_alloc(&C, l)) goto done;
        rows_ctx R = {&C, l, nw, 0};
        nn_pool_run(pool, nw, rows_task, &R);
        if (R.failed) goto done;
        ready[l] = 1;
    }
    if (nw > 1) nn_pool_run(pool, nw, worker, &C);
    else worker(&C, 0, 0);
    if (C.failed) goto done;
    /* per filter: dlib's detect_from_fhog_pyramid sorts its hits (levels in order) by saliency,
     * descending; object_detector then concatenates the filters and sorts again by confidence. */
    long total = 0;
    for (long i = 0; i < (long)nlev * d->nfilt; i++) total += raw[i].n;
    sbf_hog_det *all = malloc(sizeof *all * (size_t)(total ? total : 1));
    if (!all) goto done;
    long n = 0;
    for (int i = 0; i < d->nfilt; i++) {
        const long start = n;
        for (int l = 0; l < nlev; l++) {
            detlist *L = &raw[(size_t)l * d->nfilt + i];
            if (L->n) memcpy(all + n, L->v, sizeof *all * (size_t)L->n);
            n += L->n;
        }
        sbf_hog_sort_desc(all + start, n - start);
    }
    for (long k = 0; k < n; k++) all[k].key = all[k].score;
    if (d->nfilt > 1) sbf_hog_sort_desc(all, n);
    /* non-maximum suppression against every kept box */
    long kept = 0;
    for (long k = 0; k < n; k++) {
        rect a = {all[k].l, all[k].t, all[k].r, all[k].b};
        int ov = 0;
        for (long j = 0; j < kept && !ov; j++) {
            rect b = {all[j].l, all[j].t, all[j].r, all[j].b};
            ov = overlaps(d, b, a);
        }
        if (!ov) all[kept++] = all[k];
    }
    *res = all;
    *nres = kept;
    rc = 0;
done:
    free(imgs);
    free(wd);
    free(hs);
    free(ready);
    if (raw)
        for (long i = 0; i < (long)nlev * d->nfilt; i++) free(raw[i].v);
    free(raw);
    return rc;
}

int sbf_detect_skip_levels(const sbf_detector *d, int upsample, int min_face) {
    if (min_face <= 0) return 0;
    /* level L's window covers win * 1.2^L scanned pixels = win * 1.2^L / 2^upsample input pixels */
    const double win = d->win_w < d->win_h ? d->win_w : d->win_h;
    int skip = 0;
    while (skip < 1000 && win * pow(1.2, skip) / ldexp(1.0, upsample) < (double)min_face) skip++;
    return skip;
}

int sbf_detect_auto_min_face(const sbf_detector *d, int w, int h, int upsample) {
    for (int i = 0; i < upsample; i++) sbf_hog_up2_size(w, h, &w, &h);
    if ((long)w * h <= SBF_DETECT_NATIVE_PIXELS) return 0;
    int skip = 0;
    while ((long)w * h > SBF_DETECT_NATIVE_PIXELS) {
        sbf_hog_down6_size(w, h, &w, &h);
        skip++;
    }
    const double win = d->win_w < d->win_h ? d->win_w : d->win_h;
    /* the smallest min_face that skips exactly `skip` levels */
    return (int)floor(win * pow(1.2, skip - 1) / ldexp(1.0, upsample)) + 1;
}

typedef struct {
    const uint8_t *in;
    int iw, ih, ow, oh, nt, failed;
    uint8_t *out;
} up_ctx;

static void up_task(void *vctx, int task, int thread) {
    (void)thread;
    up_ctx *U = vctx;
    const int r0 = (int)((long)U->oh * task / U->nt), r1 = (int)((long)U->oh * (task + 1) / U->nt);
    if (sbf_hog_resize_rows(U->in, U->iw, U->ih, U->out, U->ow, U->oh, r0, r1)) U->failed = 1;
}

int sbf_detect_ws_ex(const sbf_detector *d, const unsigned char *gray, int w, int h, int upsample, int min_face,
                     double adjust, nn_pool *pool, sbf_detect_ws *ws, sbf_box **out) {
    *out = NULL;
    if (w <= 0 || h <= 0 || !gray) return 0;
    if (upsample < 0) upsample = 0;
    sbf_detect_ws *tmp = NULL;
    if (!ws && !(ws = tmp = sbf_detect_ws_new())) return -1;
    const uint8_t *img = gray;
    int iw = w, ih = h;
    for (int u = 0; u < upsample; u++) {
        int ow, oh;
        sbf_hog_up2_size(iw, ih, &ow, &oh);
        uint8_t **p = &ws->up[u & 1];
        if (sbf_grow(p, &ws->upcap[u & 1], (size_t)ow * oh + 1)) {
            sbf_detect_ws_free(tmp);
            return -1;
        }
        up_ctx U = {img, iw, ih, ow, oh, nn_pool_threads(pool), 0, *p};
        if (U.nt > 1) nn_pool_run(pool, U.nt, up_task, &U);
        else up_task(&U, 0, 0);
        if (U.failed) {
            sbf_detect_ws_free(tmp);
            return -1;
        }
        img = *p;
        iw = ow;
        ih = oh;
    }
    sbf_hog_det *res;
    long n;
    const int skip = sbf_detect_skip_levels(d, upsample, min_face);
    const int rc = detect_core(d, img, iw, ih, skip, adjust, pool, ws, &res, &n);
    sbf_detect_ws_free(tmp);
    if (rc) return -1;
    if (n == 0) {
        free(res);
        return 0;
    }
    sbf_box *b = malloc(sizeof *b * (size_t)n);
    if (!b) {
        free(res);
        return -1;
    }
    for (long i = 0; i < n; i++) {
        rect r = {res[i].l, res[i].t, res[i].r, res[i].b};
        if (upsample > 0) r = rect_down2(r, upsample);
        b[i].left = r.l;
        b[i].top = r.t;
        b[i].right = r.r;
        b[i].bottom = r.b;
        b[i].score = res[i].score;
        b[i].filter = res[i].filter;
    }
    free(res);
    *out = b;
    return (int)n;
}

int sbf_detect_ex(const sbf_detector *d, const unsigned char *gray, int w, int h, int upsample, int min_face,
                  double adjust, nn_pool *pool, sbf_box **out) {
    return sbf_detect_ws_ex(d, gray, w, h, upsample, min_face, adjust, pool, NULL, out);
}

int sbf_detect_policy(const sbf_detector *d, const unsigned char *gray, int w, int h, int upsample, int min_face,
                      nn_pool *pool, sbf_box **out) {
    return sbf_detect_ex(d, gray, w, h, upsample, min_face, 0.0, pool, out);
}

int sbf_detect(const sbf_detector *d, const unsigned char *gray, int w, int h, int upsample, nn_pool *pool,
               sbf_box **out) {
    return sbf_detect_policy(d, gray, w, h, upsample, 0, pool, out);
}
