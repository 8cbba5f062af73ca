/* tools/quantize.c — the int8 FaceNet: calibration of the activation scales, and the int8 weight file.
 *
 *   quantize --calibrate --db LFW.db --out SCALES [--model FLOAT.sbfw] [--channel-method M] [--tensor-method M]
 *            [--per-tensor PREFIX,...] [--max-faces N]
 *       Re-crops the faces of the calibration photos of a database made by `sortbyface embed` (e.g. of
 *       ../shared/data/lfw-dev; which photos: tools/int8.h) from their stored landmarks, with the
 *       database's alignment rule, runs them through the float32 network (nn/facenet_q.h calibration mode)
 *       and writes the scales of every activation quantisation point (uint8, 0 = 0): one per channel, or one per
 *       tensor for the points named by a --per-tensor prefix (default Mixed_7a,Block8: the late features are
 *       identity-specific, their per-channel ranges do not carry over from the calibration faces; measured):
 *       the clipping threshold / 255 that minimises the expected squared quantisation error over the observed
 *       values (mse; per tensor by default), the largest value (max; per channel by default), or the P-th
 *       percentile (pct:P); and the mean of every channel (the bias correction of the rounded weights).  SCALES is a small text file, committed
 *       (weights/facenet-20180402-int8.scales), so a machine without lfw-dev can build the int8 file.
 *   quantize --scales SCALES FLOAT.sbfw OUT.sbfw
 *       Writes the int8 weight file (weights/FORMAT.md): every convolution kernel, with the scales of the
 *       activations it reads folded in (w x s_in per input channel; 1/128 for the first layer), int8 with one
 *       scale per output channel (symmetric, max |w| / 127, values -127..127) as "<name>_kernel_scale"; biases
 *       and the bottleneck float32, each bias corrected for the expected effect of its kernel's rounding on the
 *       calibration means (sum_k (w_k - w'_k) E[x_k]); each point's scales as "<point>_act_scale" [channels]. */
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
                    "       quantize --scales SCALES FLOAT.sbfw OUT.sbfw\n");
    exit(2);
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

/* per_tensor: comma-separated point name prefixes calibrated per tensor (tmethod), the others per channel (cmethod) */
static int is_per_tensor(const char *name, const char *per_tensor) {
    for (const char *p = per_tensor; p && *p;) {
        size_t l = strcspn(p, ",");
        if (l && !strncmp(name, p, l)) return 1;
        p += l + (p[l] == ',');
    }
    return 0;
}

static int calibrate(const char *dbpath, const char *model, const char *out, const char *cmethod, const char *tmethod,
                     const char *per_tensor, int max_faces) {
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
        return 1;
    }
    sbf_faceset fs;
    if (sbf_store_faceset(st, &fs, err, sizeof err)) {
        fprintf(stderr, "quantize: %s: %s\n", dbpath, err);
        return 1;
    }
    sbf_store_close(st);
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
    unsigned char crop[160 * 160 * 3];
    float emb[512];
    int photos = 0, faces = 0;
    double img_sum[3] = {0, 0, 0};
    double t0 = sbf_now();
    for (int p = 0; p < fs.nphotos && faces < max_faces; p++) {
        const sbf_photo *ph = &fs.photos[p];
        if (!ph->nfaces || !i8_calibration_photo(ph->path)) continue;
        sbf_image im;
        if (sbf_image_load(ph->path, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err)) {
            fprintf(stderr, "quantize: %s: %s\n", ph->path, err);
            return 1;
        }
        photos++;
        for (int k = 0; k < ph->nfaces && faces < max_faces; k++) {
            int fi = ph->first_face + k;
            if (sbf_align_face(im.rgb, im.w, im.h, &fs.boxes[fi], (const float(*)[2])(fs.landmarks + (size_t)fi * 136),
                               am, crop))
                continue;
            if (nn_fq_embed(net, crop, 1, emb)) {
                fprintf(stderr, "quantize: forward pass failed\n");
                return 1;
            }
            for (int i = 0; i < 160 * 160 * 3; i++) img_sum[i % 3] += (crop[i] - 127.5) / 128.0;
            faces++;
        }
        sbf_image_free(&im);
        if (photos % 50 == 0) fprintf(stderr, "\rquantize: %d photos, %d faces, %.0f s", photos, faces, sbf_now() - t0);
    }
    fprintf(stderr, "\n");
    if (!faces) {
        fprintf(stderr, "quantize: %s: no calibration faces\n", dbpath);
        return 1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    FILE *o = fopen(tmp, "w");
    if (!o) {
        fprintf(stderr, "quantize: %s: cannot write\n", tmp);
        return 1;
    }
    fprintf(o,
            "# sortbyface int8 FaceNet: activation scales (real = scale x q, q = 0..255), per point one per channel\n");
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
        const int pt = is_per_tensor(nn_fq_point_name(i), per_tensor);
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
    if (fclose(o) || rename(tmp, out)) {
        fprintf(stderr, "quantize: %s: cannot write\n", out);
        return 1;
    }
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
    sbf_faceset_free(&fs);
    return 0;
}

/* ---------------------------------------------------------------- the int8 file */

static int make_int8(const char *scales_path, const char *in, const char *out) {
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
    nnw_writer *w = nnw_writer_new();
    for (int i = 0; i < nnw_meta_count(f); i++) {
        const char *k, *v;
        nnw_meta_at(f, i, &k, &v);
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
        "uint8 per tensor (<point>_act_scale); bottleneck float32");
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
                if (nnw_writer_add(w, t->name, NNW_F32, t->ndim, t->shape, 1.0f, vals)) {
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
                double c = 0;
                for (size_t k = 0; k < per; k++) {
                    float r = roundf(vals[o * per + k] / s[o]);
                    r = r > 127 ? 127 : r < -127 ? -127 : r;
                    q[o * per + k] = (int8_t)r;
                    double e = fabs(r * s[o] - vals[o * per + k]) / (m > 0 ? m : 1);
                    if (e > worst) worst = e;
                    if (mean) { /* back in the real domain: divide the folded scale out */
                        float fold = in_pt < 0 ? 1.0f / 128.0f : scale[in_pt][k % (size_t)cin];
                        c += ((double)vals[o * per + k] - (double)r * s[o]) / fold * mean[k % (size_t)cin];
                    }
                }
                cr[o] = (float)c;
            }
            snprintf(corr_name[ncorr], sizeof corr_name[ncorr], "%s_Conv2D_bias", layer);
            corr[ncorr++] = cr;
            char sn[300];
            uint32_t ss[1] = {cout};
            snprintf(sn, sizeof sn, "%s_scale", t->name);
            if (nnw_writer_add(w, t->name, NNW_I8, 4, t->shape, 1.0f, q) ||
                nnw_writer_add(w, sn, NNW_F32, 1, ss, 1.0f, s)) {
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
    if (nnw_writer_save(w, out, err, sizeof err)) {
        fprintf(stderr, "quantize: %s: %s\n", out, err);
        return 1;
    }
    nnw_writer_free(w);
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
    int cal = 0, npos = 0, max_faces = 1 << 30;
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
    if (!scales || npos != 2) usage();
    return make_int8(scales, pos[0], pos[1]);
}
