/* tools/quantize.c — the int8 FaceNet: calibration of the activation scales, the rounding of the weights, and the
 * int8 weight file.
 *
 *   quantize --calibrate --db LFW.db --out SCALES [--model FLOAT.sbfw] [--channel-method M] [--tensor-method M]
 *            [--per-tensor PREFIX,...] [--max-faces N]
 *       Re-crops the faces of the calibration photos of a database made by `sortbyface embed` (e.g. of
 *       ../shared/data/lfw-dev; which photos: tools/int8.h) from their stored landmarks, with the
 *       database's alignment rule, runs them through the float32 network (nn/facenet_q.h calibration mode)
 *       and writes the clip thresholds / 255 of every activation quantisation point: one per channel, or one per
 *       tensor for the points named by a --per-tensor prefix (default Mixed_7a,Block8: the late features are
 *       identity-specific, their per-channel ranges do not carry over from the calibration faces; measured):
 *       the threshold that minimises the expected squared error of 8-bit rounding over the observed values
 *       (mse; per tensor by default), the largest value (max; per channel by default), or the P-th percentile
 *       (pct:P); and the mean of every channel (the bias correction of the rounded weights).  The model's
 *       scales are these thresholds x 2 (headroom) in 4095 steps (tools/int8.h).  SCALES is a small text file,
 *       committed (weights/facenet-20180402-int8.scales), so a machine without lfw-dev can build the int8 file.
 *   quantize --scales SCALES [--round ROUND | --gptq LFW.db [--gptq-layers PREFIX,...] [--max-faces N]
 *            [--samples S] [--moments FILE] [--round-out ROUND]] [--float-out FILE] FLOAT.sbfw OUT.sbfw
 *       Writes the int8 weight file (weights/FORMAT.md): every convolution kernel, with the scales of the
 *       activations it reads folded in (w x s_in per input channel; 1/128 for the first layer), int8 with one
 *       scale per output channel (symmetric, max |w| / 127, values -127..127) as "<name>_kernel_scale"; biases
 *       and the bottleneck float32, each bias corrected for the expected effect of its kernel's rounding on the
 *       calibration means (sum_k (w_k - w'_k) E[x_k]); each point's scales as "<point>_act_scale" [channels].
 *       Weights are rounded to nearest, except in the layers of ROUND (the committed decisions,
 *       weights/facenet-20180402-int8.round) or, with --gptq, in the layers named by --gptq-layers (default
 *       Conv2d_,Block35: the stem and the first blocks, measured): there each weight goes down or up by what
 *       minimises the layer's output error on the inputs it sees from the calibration faces of LFW.db (GPTQ,
 *       gptq_round below; N faces, default 600, S positions sampled per face and layer input, default 64;
 *       only the inputs of those layers are gathered, 40 s for the default; --moments FILE keeps them for a later
 *       run with the same layers, 21 MB).  --round-out writes the decisions
 *       (commit them), --float-out the rounded model as a float32 file (for tools/int8-gate --emulate). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/conv.h"
#include "nn/facenet.h"
#include "nn/facenet_q.h"
#include "nn/half.h"
#include "nn/weights.h"
#include "src/align.h"
#include "src/image.h"
#include "src/models.h"
#include "src/pipeline.h"
#include "src/store.h"
#include "src/util.h"
#include "tools/int8.h"

static void usage(void) {
    fprintf(stderr, "usage: quantize --calibrate --db LFW.db --out SCALES [--model FLOAT.sbfw] [--channel-method M] "
                    "[--tensor-method M]\n"
                    "                [--per-tensor PREFIX,...] [--max-faces N]     (M: mse, max or pct:P)\n"
                    "       quantize --scales SCALES [--round ROUND | --gptq LFW.db [--gptq-layers PREFIX,...] "
                    "[--max-faces N] [--samples S]\n"
                    "                [--moments FILE] [--round-out ROUND]] [--float-out FILE] FLOAT.sbfw OUT.sbfw\n");
    exit(2);
}

/* ---------------------------------------------------------------- files written aside */

/* The files this tool writes go to OUT.tmp first and are renamed when complete, so a run stopped midway leaves no
 * short file.  aside_open: the stream, or NULL (said on stderr: the name too long, or not writable). */
static FILE *aside_open(const char *out, const char *mode, char tmp[4096]) {
    FILE *f = NULL;
    if (snprintf(tmp, 4096, "%s.tmp", out) >= 4096 || !(f = fopen(tmp, mode)))
        fprintf(stderr, "quantize: %s: cannot write\n", out);
    return f;
}

/* Closes f and renames it over out when ok; else (or when that fails) removes it.  0 when out is written. */
static int aside_close(FILE *f, const char *tmp, const char *out, int ok) {
    if (fclose(f) || !ok || rename(tmp, out)) {
        fprintf(stderr, "quantize: %s: cannot write\n", out);
        remove(tmp);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- calibration */

#define NB 1024 /* histogram bins per channel */
typedef struct {
    int ch;
    double *hmax, *vmax, *zeros, *total, *sum; /* per channel; the histogram of channel c covers [0, hmax[c]) */
    uint32_t *bins;                            /* ch x NB counts of values > 0 */
    long negatives;
} hist;

static void hist_add(hist *h, const float *x, int pixels, int ch, int ld) {
    double m[2048] = {0};
    for (int p = 0; p < pixels; p++)
        for (int c = 0; c < ch; c++) m[c] = x[(size_t)p * ld + c] > m[c] ? x[(size_t)p * ld + c] : m[c];
    for (int c = 0; c < ch; c++) {
        uint32_t *b = h->bins + (size_t)c * NB;
        if (m[c] > h->vmax[c]) h->vmax[c] = m[c];
        if (h->hmax[c] == 0.0) h->hmax[c] = m[c] > 0 ? m[c] * 2.0 : 1.0;
        while (m[c] >= h->hmax[c]) { /* double the range: merge bin pairs */
            for (int i = 0; i < NB / 2; i++) b[i] = b[2 * i] + b[2 * i + 1];
            memset(b + NB / 2, 0, sizeof(uint32_t) * NB / 2);
            h->hmax[c] *= 2.0;
        }
    }
    for (int p = 0; p < pixels; p++)
        for (int c = 0; c < ch; c++) {
            float v = x[(size_t)p * ld + c];
            h->total[c]++;
            h->sum[c] += v;
            if (v == 0.0f) h->zeros[c]++;
            else if (v < 0.0f) h->negatives++;
            else {
                int k = (int)(v * (NB / h->hmax[c]));
                h->bins[(size_t)c * NB + (k < NB ? k : NB - 1)]++;
            }
        }
}

typedef struct {
    hist h[256];
} calib;

static void observe(void *ctx, int point, const float *x, int pixels, int ch, int ld) {
    calib *c = ctx;
    hist_add(&c->h[point], x, pixels, ch, ld);
}

/* Clip threshold of counts bins[NB] over [0, hmax) (largest value vmax): the T minimising the sum over values v
 * of (v - q(v))^2 with q uniform on [0, T] in 255 steps: (v - T)^2 above T, step^2 / 12 for the nonzero values
 * below (zeros are exact) (mse); the largest value (max); the P-th percentile of the nonzero values (pct:P). */
static double choose(const double *bins, double hmax, double vmax, const char *method) {
    const double w = hmax / NB;
    double nonzero = 0;
    for (int i = 0; i < NB; i++) nonzero += bins[i];
    if (!strcmp(method, "max") || nonzero == 0) return vmax;
    if (!strncmp(method, "pct:", 4)) {
        double p = atof(method + 4) / 100.0, acc = 0;
        for (int i = 0; i < NB; i++) {
            acc += bins[i];
            if (acc >= p * nonzero) return (i + 1) * w;
        }
        return vmax;
    }
    double best = vmax, best_err = -1;
    int last = (int)(vmax / w) + 1;
    if (last > NB) last = NB;
    /* suffix sums of count, count x v, count x v^2 over bins (v = bin centre) */
    double s0 = 0, s1 = 0, s2 = 0, below = nonzero;
    for (int i = NB - 1; i >= last; i--) {
        double v = (i + 0.5) * w;
        s0 += bins[i];
        s1 += bins[i] * v;
        s2 += bins[i] * v * v;
    }
    below -= s0;
    for (int t = last; t >= 1; t--) {
        double T = t * w, step = T / 255.0;
        double err = s2 - 2 * T * s1 + T * T * s0 + below * step * step / 12.0;
        if (best_err < 0 || err < best_err) {
            best_err = err;
            best = T;
        }
        double v = (t - 0.5) * w, c = bins[t - 1]; /* bin t-1 lies above the next, smaller threshold */
        s0 += c;
        s1 += c * v;
        s2 += c * v * v;
        below -= c;
    }
    return best;
}

/* A rounded weight held to the symmetric int8 range. */
static int8_t weight_q(float r) { return (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r); }

/* 1 when name starts with one of the comma-separated prefixes of list (--per-tensor, --gptq-layers). */
static int listed(const char *name, const char *list) {
    for (const char *p = list; p && *p;) {
        size_t l = strcspn(p, ",");
        if (l && !strncmp(name, p, l)) return 1;
        p += l + (p[l] == ',');
    }
    return 0;
}

/* Runs fn on the crop of every face of the calibration photos (tools/int8.h) of a database made by `sortbyface
 * embed`, re-cut from its stored landmarks with its alignment rule, at most max_faces; the counts in *photos, *faces.
 * Non-zero (and a one-line reason) on failure. */
typedef int (*crop_fn)(void *ctx, const unsigned char *crop);
static int each_calibration_crop(const char *dbpath, int max_faces, crop_fn fn, void *ctx, int *photos, int *faces,
                                 sbf_align_method *rule_out) {
    char err[1024];
    sbf_store *st = sbf_store_open(dbpath, SBF_STORE_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "quantize: %s: %s\n", dbpath, err);
        return 1;
    }
    int recorded = 0;
    const char *rule = sbf_pipeline_db_rule(st, &recorded);
    sbf_align_method am = SBF_ALIGN_DEFAULT;
    if (rule && sbf_align_parse(rule, &am)) {
        fprintf(stderr, "quantize: %s: unknown alignment rule %s\n", dbpath, rule);
        sbf_store_close(st);
        return 1;
    }
    sbf_faceset fs;
    if (sbf_store_faceset(st, &fs, err, sizeof err)) {
        fprintf(stderr, "quantize: %s: %s\n", dbpath, err);
        sbf_store_close(st);
        return 1;
    }
    sbf_store_close(st);
    if (rule_out) *rule_out = am;
    unsigned char crop[160 * 160 * 3];
    double t0 = sbf_now();
    int rc = 0;
    *photos = *faces = 0;
    for (int p = 0; p < fs.nphotos && *faces < max_faces && !rc; p++) {
        const sbf_photo *ph = &fs.photos[p];
        if (!ph->nfaces || !i8_calibration_photo(ph->path)) continue;
        sbf_image im;
        if (sbf_image_load(ph->path, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err)) {
            fprintf(stderr, "quantize: %s: %s\n", ph->path, err);
            rc = 1;
            break;
        }
        (*photos)++;
        for (int k = 0; k < ph->nfaces && *faces < max_faces && !rc; k++) {
            int fi = ph->first_face + k;
            if (sbf_align_face(im.rgb, im.w, im.h, &fs.boxes[fi], (const float(*)[2])(fs.landmarks + (size_t)fi * 136),
                               am, crop))
                continue;
            rc = fn(ctx, crop);
            (*faces)++;
        }
        sbf_image_free(&im);
        if (*photos % 50 == 0)
            fprintf(stderr, "\rquantize: %d photos, %d faces, %.0f s", *photos, *faces, sbf_now() - t0);
    }
    fprintf(stderr, "\n");
    sbf_faceset_free(&fs);
    if (!rc && !*faces) {
        fprintf(stderr, "quantize: %s: no calibration faces\n", dbpath);
        rc = 1;
    }
    return rc;
}

/* One face through the float32 calibration graph (its observer sees every point); 0, or 1 with a line. */
static int forward(nn_facenet_q *net, const unsigned char *crop) {
    float emb[512];
    if (!nn_fq_embed(net, crop, 1, emb)) return 0;
    fprintf(stderr, "quantize: forward pass failed\n");
    return 1;
}

typedef struct {
    nn_facenet_q *net;
    double img_sum[3];
} calib_pass;

static int calib_face(void *ctx, const unsigned char *crop) {
    calib_pass *cp = ctx;
    if (forward(cp->net, crop)) return 1;
    for (int i = 0; i < 160 * 160 * 3; i++) cp->img_sum[i % 3] += (crop[i] - 127.5) / 128.0;
    return 0;
}

static int calibrate(const char *dbpath, const char *model, const char *out, const char *cmethod, const char *tmethod,
                     const char *per_tensor, int max_faces) {
    char err[1024];
    sbf_align_method am = SBF_ALIGN_DEFAULT;
    nnw_file *f = nn_conv_open_plain(model, err, sizeof err);
    if (!f) {
        fprintf(stderr, "quantize: %s: %s\n", model, err);
        return 1;
    }
    calib *c = calloc(1, sizeof *c);
    for (int i = 0; i < nn_fq_points(); i++) {
        hist *h = &c->h[i];
        h->ch = nn_fq_point_channels(i);
        h->hmax = calloc((size_t)h->ch, sizeof(double));
        h->vmax = calloc((size_t)h->ch, sizeof(double));
        h->zeros = calloc((size_t)h->ch, sizeof(double));
        h->total = calloc((size_t)h->ch, sizeof(double));
        h->sum = calloc((size_t)h->ch, sizeof(double));
        h->bins = calloc((size_t)h->ch * NB, sizeof(uint32_t));
        if (!h->hmax || !h->vmax || !h->zeros || !h->total || !h->sum || !h->bins) {
            fprintf(stderr, "quantize: out of memory\n");
            return 1;
        }
    }
    nn_facenet_q *net = nn_fq_load_calib(f, observe, c, err, sizeof err);
    nnw_close(f);
    if (!net) {
        fprintf(stderr, "quantize: %s: %s\n", model, err);
        return 1;
    }
    calib_pass cp = {net, {0, 0, 0}};
    int photos = 0, faces = 0;
    double t0 = sbf_now();
    if (each_calibration_crop(dbpath, max_faces, calib_face, &cp, &photos, &faces, &am)) return 1;
    const double *img_sum = cp.img_sum;
    char tmp[4096];
    FILE *o = aside_open(out, "w", tmp);
    if (!o) return 1;
    fprintf(
        o,
        "# sortbyface int8 FaceNet: activation clip thresholds / 255, per point one per channel (the model's scales: "
        "x 2 x 255 / 4095, tools/int8.h)\n");
    fprintf(
        o,
        "# tools/quantize --calibrate --channel-method %s --tensor-method %s --per-tensor %s: %d faces of %d lfw-dev "
        "photos (tools/int8.h), align %s\n",
        cmethod, tmethod, per_tensor, faces, photos, sbf_align_name(am));
    double *merged = malloc(sizeof(double) * NB), *cb = malloc(sizeof(double) * NB);
    for (int i = 0; i < nn_fq_points(); i++) {
        const hist *h = &c->h[i];
        if (h->negatives) {
            fprintf(stderr, "quantize: %s has negative values\n", nn_fq_point_name(i));
            return 1;
        }
        double tmax = 0, zeros = 0, total = 0, tclip = 0, sum_clip = 0;
        for (int k = 0; k < h->ch; k++) {
            tmax = h->vmax[k] > tmax ? h->vmax[k] : tmax;
            zeros += h->zeros[k];
            total += h->total[k];
        }
        const int pt = listed(nn_fq_point_name(i), per_tensor);
        if (pt) { /* one histogram over [0, 2 x max) for the whole tensor */
            double hm = tmax > 0 ? tmax * 2 : 1;
            memset(merged, 0, sizeof(double) * NB);
            for (int k = 0; k < h->ch; k++)
                for (int b = 0; b < NB; b++) {
                    int d = (int)((b + 0.5) * h->hmax[k] / NB * NB / hm);
                    merged[d < NB ? d : NB - 1] += h->bins[(size_t)k * NB + b];
                }
            tclip = choose(merged, hm, tmax, tmethod);
            if (!(tclip > 0)) tclip = 1;
        }
        fprintf(o, "%s", nn_fq_point_name(i));
        if (pt) fprintf(o, " %.6g", (double)(float)(tclip / 255.0));
        for (int k = 0; k < h->ch; k++) {
            double T = tclip;
            if (!pt) {
                for (int b = 0; b < NB; b++) cb[b] = h->bins[(size_t)k * NB + b];
                T = choose(cb, h->hmax[k], h->vmax[k], cmethod);
                if (!(T > 0)) T = tmax > 0 ? tmax : 1; /* a channel that is always 0 */
            }
            sum_clip += T;
            if (!pt) fprintf(o, " %.6g", (double)(float)(T / 255.0));
        }
        fprintf(o, "\n");
        fprintf(stderr, "%-44s %4d ch, max %8.3f, mean clip %8.3f, zeros %4.1f%%%s\n", nn_fq_point_name(i), h->ch, tmax,
                sum_clip / h->ch, 100.0 * zeros / (total > 0 ? total : 1), pt ? " (per tensor)" : "");
    }
    for (int i = 0; i < nn_fq_points(); i++) { /* channel means: the bias correction of the rounded weights */
        const hist *h = &c->h[i];
        fprintf(o, "mean %s", nn_fq_point_name(i));
        for (int k = 0; k < h->ch; k++) fprintf(o, " %.4g", h->total[k] > 0 ? h->sum[k] / h->total[k] : 0.0);
        fprintf(o, "\n");
    }
    fprintf(o, "mean image %.6g %.6g %.6g\n", img_sum[0] / (faces * 25600.0), img_sum[1] / (faces * 25600.0),
            img_sum[2] / (faces * 25600.0));
    free(merged);
    free(cb);
    if (aside_close(o, tmp, out, 1)) return 1;
    printf("quantize: %s: %d scales from %d faces of %d photos (%.0f s)\n", out, nn_fq_points(), faces, photos,
           sbf_now() - t0);
    nn_fq_free(net);
    for (int i = 0; i < nn_fq_points(); i++) {
        hist *h = &c->h[i];
        free(h->hmax);
        free(h->vmax);
        free(h->zeros);
        free(h->total);
        free(h->sum);
        free(h->bins);
    }
    free(c);
    return 0;
}

/* ---------------------------------------------------------------- the int8 file */

/* ---------------------------------------------------------------- rounding by the layer's inputs (--gptq) */

/* The second moments of the inputs each int8 layer sees, in the integer domain it multiplies (x / s_in; the
 * first layer: the byte - 127.5): H = sum over patches of v v^T, v a kh x kw x cin patch in the kernel's order,
 * stride 1 with zero padding around (the layers' strides and VALID borders see the same statistics). One H per
 * (point, kh, kw): the layers reading a point with one kernel shape share it. */
#define MAXKEYS 128
typedef struct {
    int pt, kh, kw, cin, K;
    float *H; /* K x K, the upper triangle filled; NULL when no --gptq-layers layer reads this input */
} hkey;
typedef struct {
    nn_facenet_q *net;
    hkey key[MAXKEYS];
    int nkeys, samples;
    const char *moments; /* --moments FILE */
    float *const *scale;
    float *patch;
    uint32_t rng;
} hpass;

static void h_accumulate(hpass *hp, hkey *k, const float *x, int side, int ld, const float *inv) {
    const int n = side * side, take = n < hp->samples ? n : hp->samples, K = k->K;
    if (!k->H) { /* not needed: only the sample sequence moves on, as if it were, so the others' samples stay */
        for (int t = 0; t < take && take < n; t++) hp->rng = hp->rng * 1664525u + 1013904223u;
        return;
    }
    for (int t = 0; t < take; t++) {
        int pos = t;
        if (take < n) { /* a uniform sample of the positions (a fixed LCG: runs repeat) */
            hp->rng = hp->rng * 1664525u + 1013904223u;
            pos = (int)((hp->rng >> 8) % (uint32_t)n);
        }
        const int y = pos / side, x0 = pos % side;
        float *v = hp->patch;
        for (int i = 0; i < k->kh; i++)
            for (int j = 0; j < k->kw; j++) {
                const int yy = y + i - (k->kh - 1) / 2, xx = x0 + j - (k->kw - 1) / 2;
                float *d = v + (size_t)(i * k->kw + j) * k->cin;
                if (yy < 0 || yy >= side || xx < 0 || xx >= side) memset(d, 0, sizeof(float) * k->cin);
                else
                    for (int c = 0; c < k->cin; c++) d[c] = x[(size_t)(yy * side + xx) * ld + c] * inv[c];
            }
        for (int a = 0; a < K; a++) {
            const float va = v[a];
            if (va == 0.0f) continue; /* ReLU outputs: most are 0 */
            float *h = k->H + (size_t)a * K;
            for (int b = a; b < K; b++) h[b] += va * v[b];
        }
    }
}

static void h_observe(void *ctx, int point, const float *x, int pixels, int ch, int ld) {
    hpass *hp = ctx;
    const int side = (int)lround(sqrt((double)pixels));
    float inv[2048];
    for (int c = 0; c < ch && c < 2048; c++) inv[c] = 1.0f / hp->scale[point][c];
    for (int i = 0; i < hp->nkeys; i++)
        if (hp->key[i].pt == point && side * side == pixels) h_accumulate(hp, &hp->key[i], x, side, ld, inv);
}

static int h_face(void *ctx, const unsigned char *crop) {
    hpass *hp = ctx;
    if (forward(hp->net, crop)) return 1;
    static float img[160 * 160 * 3];
    const float one[3] = {1, 1, 1};
    for (int i = 0; i < 160 * 160 * 3; i++) img[i] = crop[i] - 127.5f;
    for (int i = 0; i < hp->nkeys; i++)
        if (hp->key[i].pt == -1) h_accumulate(hp, &hp->key[i], img, 160, 3, one);
    return 0;
}

static const hkey *h_find(const hpass *hp, int pt, int kh, int kw) {
    for (int k = 0; k < hp->nkeys; k++)
        if (hp->key[k].pt == pt && hp->key[k].kh == kh && hp->key[k].kw == kw) return &hp->key[k];
    return NULL;
}

/* Writes (w) or reads and checks (!w) the --moments file: the inputs' shapes, then their H. */
static int h_cache(const hpass *hp, FILE *cf, int w) {
    for (int k = 0; k < hp->nkeys; k++) {
        const hkey *key = &hp->key[k];
        if (!key->H) continue;
        int32_t id[4] = {key->pt, key->kh, key->kw, key->K}, got[4];
        const size_t n = (size_t)key->K * key->K;
        if (w ? fwrite(id, sizeof id, 1, cf) != 1 || fwrite(key->H, sizeof(float), n, cf) != n
              : fread(got, sizeof got, 1, cf) != 1 || memcmp(id, got, sizeof id) ||
                    fread(key->H, sizeof(float), n, cf) != n)
            return 1;
    }
    return w ? 0 : fgetc(cf) != EOF; /* read: nothing left over */
}

/* The keys of every int8 layer of the float file f, then their H over the calibration faces of dbpath for the
 * inputs of the layers listed in gptq_layers. */
static int h_collect(hpass *hp, nnw_file *f, const char *dbpath, int max_faces, int samples, const char *gptq_layers) {
    char err[1024];
    size_t maxK = 0;
    for (int i = 0; i < nnw_count(f); i++) {
        const nnw_tensor *t = nnw_at(f, i);
        size_t len = strlen(t->name);
        if (t->ndim != 4 || len <= 7 || strcmp(t->name + len - 7, "_kernel")) continue;
        char layer[256];
        snprintf(layer, sizeof layer, "%.*s", (int)(len - 7), t->name);
        int cin = 0, pt = nn_fq_layer_input(layer, &cin);
        if (pt == -2) continue;
        int kh = (int)t->shape[1], kw = (int)t->shape[2];
        hkey *k = (hkey *)h_find(hp, pt, kh, kw);
        if (!k) { /* every input shape gets a key, in file order (the sample sequence), needed or not */
            if (hp->nkeys == MAXKEYS) {
                fprintf(stderr, "quantize: more than %d input shapes\n", MAXKEYS);
                return 1;
            }
            k = &hp->key[hp->nkeys++];
            *k = (hkey){pt, kh, kw, cin, kh * kw * cin, NULL};
        }
        if (!k->H && listed(layer, gptq_layers)) {
            if (!(k->H = calloc((size_t)k->K * k->K, sizeof(float)))) {
                fprintf(stderr, "quantize: out of memory\n");
                return 1;
            }
            if ((size_t)k->K > maxK) maxK = (size_t)k->K;
        }
    }
    int photos = 0, faces = 0, used = 0;
    for (int k = 0; k < hp->nkeys; k++) used += hp->key[k].H != NULL;
    const char *cache = hp->moments; /* --moments: reuse the moments an earlier run saved there */
    FILE *cf = cache ? fopen(cache, "rb") : NULL;
    if (cf) { /* no forward pass needed */
        if (h_cache(hp, cf, 0)) {
            fprintf(stderr, "quantize: %s: short or not made for these layers\n", cache);
            return 1;
        }
        fclose(cf);
        fprintf(stderr, "quantize: input moments of %d layer inputs from %s\n", used, cache);
        return 0;
    }
    hp->patch = malloc(sizeof(float) * maxK);
    hp->samples = samples;
    hp->rng = 12345u;
    if (!hp->patch || !(hp->net = nn_fq_load_calib(f, h_observe, hp, err, sizeof err))) {
        fprintf(stderr, "quantize: %s\n", hp->patch ? err : "out of memory");
        return 1;
    }
    double t0 = sbf_now();
    int rc = each_calibration_crop(dbpath, max_faces, h_face, hp, &photos, &faces, NULL);
    char tmp[4096];
    if (!rc && cache && (cf = aside_open(cache, "wb", tmp))) aside_close(cf, tmp, cache, !h_cache(hp, cf, 1));
    nn_fq_free(hp->net);
    free(hp->patch);
    if (!rc)
        fprintf(stderr, "quantize: input moments of %d layer inputs from %d faces of %d photos (%.0f s)\n", used, faces,
                photos, sbf_now() - t0);
    return rc;
}

/* In-place Cholesky of the symmetric positive definite n x n a (lower triangle used): a = L L^T, L in the lower
 * triangle.  -1 when a is not positive definite. */
static int cholesky(double *a, int n) {
    for (int j = 0; j < n; j++) {
        double d = a[(size_t)j * n + j];
        for (int k = 0; k < j; k++) d -= a[(size_t)j * n + k] * a[(size_t)j * n + k];
        if (!(d > 0)) return -1;
        d = sqrt(d);
        a[(size_t)j * n + j] = d;
        for (int i = j + 1; i < n; i++) {
            double v = a[(size_t)i * n + j];
            const double *ri = a + (size_t)i * n, *rj = a + (size_t)j * n;
            for (int k = 0; k < j; k++) v -= ri[k] * rj[k];
            a[(size_t)i * n + j] = v / d;
        }
    }
    return 0;
}

/* Rounds the rows of w (cout x K, the folded kernel; a copy of orig) to q in -127..127, column by column, each
 * column's rounding error spread over the columns not yet rounded so that the layer's output error over the
 * inputs of H is least (the optimal-brain-surgeon update of GPTQ, Frantar et al. 2022): U = the upper Cholesky
 * factor of (H + 1% of its mean diagonal)^-1; w[:, j > k] -= (w[:, k] - q[:, k] s) / U[k][k] x U[k][j].  q is
 * round(w / s[o]) held to floor(orig / s[o]) or the step above (AdaRound's choice: one bit per weight, so that
 * the decisions can be committed; weights/FORMAT.md).  w is overwritten.  -1 when H is singular even damped. */
static int gptq_round(float *w, const float *orig, int cout, int K, const float *Hf, const float *s, int8_t *q) {
    double *H = malloc(sizeof(double) * (size_t)K * K);
    if (!H) return -1;
    double mean = 0;
    for (int a = 0; a < K; a++) mean += Hf[(size_t)a * K + a];
    mean = mean / K > 0 ? mean / K : 1;
    for (int a = 0; a < K; a++)
        for (int b = 0; b <= a; b++) H[(size_t)a * K + b] = Hf[(size_t)b * K + a]; /* lower = the stored upper */
    for (int a = 0; a < K; a++) {
        if (H[(size_t)a * K + a] == 0) H[(size_t)a * K + a] = mean; /* always 0 here: rounded to nearest */
        H[(size_t)a * K + a] += 0.01 * mean;
    }
    if (cholesky(H, K)) {
        free(H);
        return -1;
    }
    /* H^-1 = X^T X with X = L^-1 (lower), row by row: X[i] = (e_i - sum_{k<i} L[i][k] X[k]) / L[i][i] */
    double *X = calloc((size_t)K * K, sizeof(double)), *Hi = calloc((size_t)K * K, sizeof(double));
    if (!X || !Hi) {
        free(H);
        free(X);
        free(Hi);
        return -1;
    }
    for (int i = 0; i < K; i++) {
        double *xi = X + (size_t)i * K;
        xi[i] = 1;
        for (int k = 0; k < i; k++) {
            const double l = H[(size_t)i * K + k], *xk = X + (size_t)k * K;
            if (l != 0)
                for (int j = 0; j <= k; j++) xi[j] -= l * xk[j];
        }
        const double d = H[(size_t)i * K + i];
        for (int j = 0; j <= i; j++) xi[j] /= d;
    }
    free(H);
    for (int k = 0; k < K; k++) { /* Hi[i][j] = sum_k X[k][i] X[k][j], the lower triangle */
        const double *xk = X + (size_t)k * K;
        for (int i = 0; i <= k; i++) {
            const double xi = xk[i];
            if (xi == 0) continue;
            double *hi = Hi + (size_t)i * K;
            for (int j = 0; j <= i; j++) hi[j] += xi * xk[j];
        }
    }
    free(X);
    if (cholesky(Hi, K)) { /* Hi = M M^T; U = M^T: U[k][j] = M[j][k] */
        free(Hi);
        return -1;
    }
    for (int k = 0; k < K; k++) /* U's rows into the upper triangle: U[k][j] = M[j][k] */
        for (int j = k + 1; j < K; j++) Hi[(size_t)k * K + j] = Hi[(size_t)j * K + k];
    for (int k = 0; k < K; k++) {
        const double ukk = Hi[(size_t)k * K + k], *uk = Hi + (size_t)k * K;
        for (int o = 0; o < cout; o++) {
            float *r = w + (size_t)o * K;
            const float lo = floorf(orig[(size_t)o * K + k] / s[o]); /* down or up from the original: one bit */
            float v = roundf(r[k] / s[o]);
            v = v < lo ? lo : v > lo + 1 ? lo + 1 : v;
            q[(size_t)o * K + k] = weight_q(v);
            v = q[(size_t)o * K + k];
            const double e = ((double)r[k] - (double)v * s[o]) / ukk;
            for (int j = k + 1; j < K; j++) r[j] -= (float)(e * uk[j]);
        }
    }
    free(Hi);
    return 0;
}

/* Writes w to path (atomically: nnw_writer_save) and frees it; 0, or 1 with the reason on stderr. */
static int save(nnw_writer *w, const char *path) {
    char err[1024];
    int rc = nnw_writer_save(w, path, err, sizeof err);
    if (rc) fprintf(stderr, "quantize: %s: %s\n", path, err);
    nnw_writer_free(w);
    return rc ? 1 : 0;
}

static int make_int8(const char *scales_path, const char *in, const char *out, const hpass *hp, const char *float_out,
                     const char *gptq_layers, const char *round_in, const char *round_out) {
    char err[1024];
    i8_scales sc;
    if (i8_read_scales(scales_path, &sc)) return 1;
    float *const *scale = sc.scale;
    const int has_means = sc.has_means;
    const char *calib_line = sc.calib;
    struct stat sb;
    nnw_file *f = nn_conv_open_plain(in, err, sizeof err);
    if (!f) {
        fprintf(stderr, "quantize: %s: %s\n", in, err);
        return 1;
    }
    if (nn_fq_is_int8(f)) {
        fprintf(stderr, "quantize: %s: already int8\n", in);
        return 1;
    }
    nnw_writer *w = nnw_writer_new(), *fw = float_out ? nnw_writer_new() : NULL;
    nnw_writer *rw = round_out ? nnw_writer_new() : NULL;
    nnw_file *rf = NULL;
    int rounded = 0;
    if (round_in && !(rf = nnw_open(round_in, err, sizeof err))) {
        fprintf(stderr, "quantize: %s: %s\n", round_in, err);
        return 1;
    }
    if (rw) nnw_writer_meta(rw, "content", "int8 FaceNet rounding decisions: <kernel>_up, one bit per weight");
    for (int i = 0; i < nnw_meta_count(f); i++) {
        const char *k, *v;
        nnw_meta_at(f, i, &k, &v);
        if (fw) nnw_writer_meta(fw, k, v);
        char buf[1024];
        if (!strcmp(k, "model")) {
            snprintf(buf, sizeof buf, "%s-int8", v);
            v = buf;
        }
        nnw_writer_meta(w, k, v);
    }
    nnw_writer_meta(
        w, "quantisation",
        "convolution weights int8 per output channel (symmetric, -127..127, <name>_kernel_scale); activations "
        "12-bit per channel (<point>_act_scale); bottleneck float32");
    nnw_writer_meta(w, "activations", NN_FQ_ACTIVATIONS);
    if (calib_line[0]) nnw_writer_meta(w, "calibration", calib_line);
    long convs = 0;
    double worst = 0;
    /* corrections of the biases, by layer: the rounding's expected effect sum_k (w_k - w'_k) E[x_k] */
    int nt = nnw_count(f), ncorr = 0;
    char(*corr_name)[300] = calloc((size_t)nt, sizeof *corr_name);
    float **corr = calloc((size_t)nt, sizeof *corr);
    if (!corr_name || !corr) {
        fprintf(stderr, "quantize: out of memory\n");
        return 1;
    }
    for (int pass = 0; pass < 2; pass++) /* convolutions first, then the rest (biases corrected) */
        for (int i = 0; i < nt; i++) {
            const nnw_tensor *t = nnw_at(f, i);
            size_t len = strlen(t->name);
            int is_conv = t->ndim == 4 && len > 7 && !strcmp(t->name + len - 7, "_kernel");
            if (is_conv != (pass == 0)) continue;
            float *vals = malloc(sizeof(float) * t->count);
            if (!vals) {
                fprintf(stderr, "quantize: out of memory\n");
                return 1;
            }
            if (t->dtype == NNW_F16) nn_f16_to_f32_array(t->data, vals, t->count);
            else if (t->dtype == NNW_F32) memcpy(vals, t->data, sizeof(float) * t->count);
            else {
                fprintf(stderr, "quantize: %s: %s is %s\n", in, t->name, nnw_dtype_name(t->dtype));
                return 1;
            }
            if (!is_conv) {
                for (int c = 0; c < ncorr; c++)
                    if (!strcmp(corr_name[c], t->name))
                        for (size_t k = 0; k < t->count; k++) vals[k] += corr[c][k];
                if (nnw_writer_add(w, t->name, NNW_F32, t->ndim, t->shape, 1.0f, vals) ||
                    (fw && nnw_writer_add(fw, t->name, NNW_F32, t->ndim, t->shape, 1.0f, vals))) {
                    fprintf(stderr, "quantize: cannot add %s\n", t->name);
                    return 1;
                }
                free(vals);
                continue;
            }
            uint32_t cout = t->shape[0];
            size_t per = t->count / cout;
            /* the input's scales folded in: sum_k x_k w_k = sum_k q_k (s_k w_k), quantised per output channel */
            char layer[256];
            snprintf(layer, sizeof layer, "%.*s", (int)(len - 7), t->name);
            int cin = 0, in_pt = nn_fq_layer_input(layer, &cin);
            if (in_pt == -2 || (uint32_t)cin != t->shape[3]) {
                fprintf(stderr, "quantize: %s: %s is not an int8 layer\n", in, layer);
                return 1;
            }
            const float *mean = !sc.has_means ? NULL : in_pt < 0 ? sc.image_mean : sc.mean[in_pt];
            for (size_t k = 0; k < t->count; k++) vals[k] *= in_pt < 0 ? 1.0f / 128.0f : scale[in_pt][k % (size_t)cin];
            int8_t *q = malloc(t->count);
            float *s = malloc(sizeof(float) * cout), *cr = calloc(cout, sizeof(float));
            if (!q || !s || !cr) {
                fprintf(stderr, "quantize: out of memory\n");
                return 1;
            }
            for (uint32_t o = 0; o < cout; o++) {
                float m = 0;
                for (size_t k = 0; k < per; k++) m = fabsf(vals[o * per + k]) > m ? fabsf(vals[o * per + k]) : m;
                s[o] = m > 0 ? m / 127.0f : 1.0f;
            }
            const hkey *hk =
                hp && listed(layer, gptq_layers) ? h_find(hp, in_pt, (int)t->shape[1], (int)t->shape[2]) : NULL;
            const uint8_t *up = NULL;
            char bn[300], crc[16]; /* the decisions' tensor, and the folded kernel's CRC they were made for */
            snprintf(bn, sizeof bn, "%s_up", t->name);
            if (rf || rw) snprintf(crc, sizeof crc, "%08x", (unsigned)nnw_crc32(0, vals, sizeof(float) * t->count));
            if (rf) { /* --round: this layer's committed decisions, made for these very weights */
                const nnw_tensor *u = nnw_find(rf, bn);
                const char *want = nnw_meta(rf, bn);
                if (u && (u->dtype != NNW_U8 || u->count != (t->count + 7) / 8 || !want || strcmp(want, crc))) {
                    fprintf(stderr, "quantize: %s: %s was made for other weights than %s's\n", round_in, bn, in);
                    return 1;
                }
                up = u ? u->data : NULL;
            }
            if (hk) { /* rounded by the layer's inputs */
                float *work = malloc(sizeof(float) * t->count);
                if (!work) {
                    fprintf(stderr, "quantize: out of memory\n");
                    return 1;
                }
                memcpy(work, vals, sizeof(float) * t->count);
                if (gptq_round(work, vals, (int)cout, (int)per, hk->H, s, q)) {
                    fprintf(stderr, "quantize: %s: the input moments are singular\n", layer);
                    return 1;
                }
                free(work);
            } else if (up) /* the committed decisions: down or up from the original value */
                for (size_t k = 0; k < t->count; k++) {
                    q[k] = weight_q(floorf(vals[k] / s[k / per]) + (float)((up[k / 8] >> (k % 8)) & 1));
                }
            else
                for (size_t k = 0; k < t->count; k++) { q[k] = weight_q(roundf(vals[k] / s[k / per])); }
            if (rw && (hk || up)) { /* --round-out: each weight's decision, a bit */
                uint8_t *bits = calloc((t->count + 7) / 8, 1);
                if (!bits) {
                    fprintf(stderr, "quantize: out of memory\n");
                    return 1;
                }
                for (size_t k = 0; k < t->count; k++)
                    if ((float)q[k] > floorf(vals[k] / s[k / per])) bits[k / 8] |= (uint8_t)(1u << (k % 8));
                uint32_t bs[1] = {(uint32_t)((t->count + 7) / 8)};
                if (nnw_writer_add(rw, bn, NNW_U8, 1, bs, 1.0f, bits) || nnw_writer_meta(rw, bn, crc)) {
                    fprintf(stderr, "quantize: cannot add %s\n", bn);
                    return 1;
                }
                free(bits);
                rounded++;
            }
            for (uint32_t o = 0; o < cout; o++) {
                double c = 0, m = 127.0 * s[o];
                for (size_t k = 0; k < per; k++) {
                    const float r = q[o * per + k];
                    double e = fabs(r * s[o] - vals[o * per + k]) / m;
                    if (e > worst) worst = e;
                    const float fold = in_pt < 0 ? 1.0f / 128.0f : scale[in_pt][k % (size_t)cin];
                    if (mean) /* back in the real domain: divide the folded scale out */
                        c += ((double)vals[o * per + k] - (double)r * s[o]) / fold * mean[k % (size_t)cin];
                    vals[o * per + k] = r * s[o] / fold; /* the rounded kernel in float (--float-out) */
                }
                cr[o] = (float)c;
            }
            snprintf(corr_name[ncorr], sizeof corr_name[ncorr], "%s_Conv2D_bias", layer);
            corr[ncorr++] = cr;
            char sn[300];
            uint32_t ss[1] = {cout};
            snprintf(sn, sizeof sn, "%s_scale", t->name);
            if (nnw_writer_add(w, t->name, NNW_I8, 4, t->shape, 1.0f, q) ||
                nnw_writer_add(w, sn, NNW_F32, 1, ss, 1.0f, s) ||
                (fw && nnw_writer_add(fw, t->name, NNW_F32, 4, t->shape, 1.0f, vals))) {
                fprintf(stderr, "quantize: cannot add %s\n", t->name);
                return 1;
            }
            convs++;
            free(q);
            free(s);
            free(vals);
        }
    for (int c = 0; c < ncorr; c++) free(corr[c]);
    free(corr);
    free(corr_name);
    for (int i = 0; i < nn_fq_points(); i++) {
        char nm[160];
        uint32_t shape[1] = {(uint32_t)nn_fq_point_channels(i)};
        snprintf(nm, sizeof nm, "%s_act_scale", nn_fq_point_name(i));
        if (nnw_writer_add(w, nm, NNW_F32, 1, shape, 1.0f, scale[i])) {
            fprintf(stderr, "quantize: cannot add %s\n", nm);
            return 1;
        }
    }
    i8_free_scales(&sc);
    nnw_close(f);
    if (stat(out, &sb) == 0) fprintf(stderr, "quantize: replacing %s\n", out);
    if (save(w, out) || (rw && save(rw, round_out)) || (fw && save(fw, float_out))) return 1;
    if (rw) printf("quantize: %s: the rounding of %d convolutions\n", round_out, rounded);
    nnw_close(rf);
    /* the file must load as an int8 FaceNet */
    nn_facenet *net = nn_facenet_load(out, 1, err, sizeof err);
    if (!net) {
        fprintf(stderr, "quantize: %s does not load: %s\n", out, err);
        return 1;
    }
    nn_facenet_free(net);
    printf("quantize: %s: %ld int8 convolutions (largest weight rounding error %.2f%% of the channel's max; biases "
           "%s), %d "
           "activation points\n",
           out, convs, 100.0 * worst, has_means ? "corrected for the rounding" : "as they were", nn_fq_points());
    return 0;
}

int main(int argc, char **argv) {
    const char *db = NULL, *out = NULL, *model = NULL, *scales = NULL, *pos[2] = {NULL, NULL};
    const char *cmethod = "max", *tmethod = "mse", *per_tensor = "Mixed_7a,Block8";
    const char *float_out = NULL, *gptq_layers = "Conv2d_,Block35", *gptq_db = NULL, *round_in = NULL,
               *round_out = NULL, *moments = NULL;
    int cal = 0, npos = 0, max_faces = 1 << 30, samples = 64;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--calibrate")) cal = 1;
        else if (!strcmp(argv[i], "--db") && i + 1 < argc) db = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--channel-method") && i + 1 < argc) cmethod = argv[++i];
        else if (!strcmp(argv[i], "--tensor-method") && i + 1 < argc) tmethod = argv[++i];
        else if (!strcmp(argv[i], "--max-faces") && i + 1 < argc) max_faces = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--scales") && i + 1 < argc) scales = argv[++i];
        else if (!strcmp(argv[i], "--per-tensor") && i + 1 < argc) per_tensor = argv[++i];
        else if (!strcmp(argv[i], "--samples") && i + 1 < argc) samples = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--float-out") && i + 1 < argc) float_out = argv[++i];
        else if (!strcmp(argv[i], "--gptq-layers") && i + 1 < argc) gptq_layers = argv[++i];
        else if (!strcmp(argv[i], "--gptq") && i + 1 < argc) gptq_db = argv[++i];
        else if (!strcmp(argv[i], "--round") && i + 1 < argc) round_in = argv[++i];
        else if (!strcmp(argv[i], "--round-out") && i + 1 < argc) round_out = argv[++i];
        else if (!strcmp(argv[i], "--moments") && i + 1 < argc) moments = argv[++i];
        else if (argv[i][0] != '-' && npos < 2) pos[npos++] = argv[i];
        else usage();
    }
    if (cal) {
        if (!db || !out || npos) usage();
        const char *ms[2] = {cmethod, tmethod};
        for (int k = 0; k < 2; k++)
            if (strcmp(ms[k], "mse") && strcmp(ms[k], "max") && strncmp(ms[k], "pct:", 4)) usage();
        return calibrate(db, model ? model : sbf_model_path(SBF_FACENET_FILE), out, cmethod, tmethod, per_tensor,
                         max_faces);
    }
    if (!scales || npos != 2 || (gptq_db && round_in) || samples < 1 || max_faces < 1) usage();
    hpass *hp = NULL;
    if (gptq_db) { /* --gptq: the weights rounded by their layers' inputs on the calibration faces */
        char err[1024];
        nnw_file *f = nn_conv_open_plain(pos[0], err, sizeof err);
        static i8_scales sc;
        if (!f || i8_read_scales(scales, &sc)) {
            if (!f) fprintf(stderr, "quantize: %s: %s\n", pos[0], err);
            return 1;
        }
        hp = calloc(1, sizeof *hp);
        if (!hp) return 1;
        hp->scale = sc.scale;
        hp->moments = moments;
        if (max_faces == 1 << 30) max_faces = 600;
        if (h_collect(hp, f, gptq_db, max_faces, samples, gptq_layers)) return 1;
        nnw_close(f);
    }
    return make_int8(scales, pos[0], pos[1], hp, float_out, gptq_layers, round_in, round_out);
}
