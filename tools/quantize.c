/* tools/quantize.c — the int8 FaceNet: calibration of the activation scales, and the int8 weight file.
 *
 *   quantize --calibrate --db LFW.db --out SCALES [--model FLOAT.sbfw] [--method mse|max|pct:P] [--max-faces N]
 *       Re-crops the faces of the calibration photos of a database made by `sortbyface embed` (e.g. of
 *       ../shared/data/lfw-dev; which photos: tools/int8.h) from their stored landmarks, with the
 *       database's alignment rule, runs them through the float32 network (nn/facenet_q.h calibration mode)
 *       and writes one scale per activation quantisation point (uint8, 0 = 0): the clipping threshold / 255
 *       that minimises the expected squared quantisation error over the observed values (mse, default), the
 *       largest value (max), or the P-th percentile (pct:P).  SCALES is a small text file, committed
 *       (weights/facenet-20180402-int8.scales), so a machine without lfw-dev can build the int8 file.
 *   quantize --scales SCALES FLOAT.sbfw OUT.sbfw
 *       Writes the int8 weight file (weights/FORMAT.md): every convolution kernel int8 with one scale per
 *       output channel (symmetric, max |w| / 127, values -127..127) as "<name>_kernel_scale", biases and the
 *       bottleneck float32, each point's scale as "<point>_act_scale". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    fprintf(stderr, "usage: quantize --calibrate --db LFW.db --out SCALES [--model FLOAT.sbfw] [--method mse|max|pct:P] [--max-faces N]\n"
                    "       quantize --scales SCALES FLOAT.sbfw OUT.sbfw\n");
    exit(2);
}

/* ---------------------------------------------------------------- calibration */

#define NB 16384
typedef struct {
    double hmax;        /* histogram covers [0, hmax) */
    double *bins;       /* NB counts of values > 0 */
    double zeros, negatives, total, vmax;
} hist;

static void hist_add(hist *h, const float *x, int pixels, int ch, int ld) {
    float m = 0.0f;
    for (int p = 0; p < pixels; p++)
        for (int c = 0; c < ch; c++) m = x[(size_t)p * ld + c] > m ? x[(size_t)p * ld + c] : m;
    if (m > h->vmax) h->vmax = m;
    if (h->hmax == 0.0) h->hmax = m > 0 ? m * 2.0 : 1.0;
    while (m >= h->hmax) { /* double the range: merge bin pairs */
        for (int i = 0; i < NB / 2; i++) h->bins[i] = h->bins[2 * i] + h->bins[2 * i + 1];
        memset(h->bins + NB / 2, 0, sizeof(double) * NB / 2);
        h->hmax *= 2.0;
    }
    const double k = NB / h->hmax;
    for (int p = 0; p < pixels; p++)
        for (int c = 0; c < ch; c++) {
            float v = x[(size_t)p * ld + c];
            h->total++;
            if (v == 0.0f) h->zeros++;
            else if (v < 0.0f) h->negatives++;
            else {
                int b = (int)(v * k);
                h->bins[b < NB ? b : NB - 1]++;
            }
        }
}

typedef struct { hist h[256]; int n; } calib;

static void observe(void *ctx, int point, const float *x, int pixels, int ch, int ld) {
    calib *c = ctx;
    hist_add(&c->h[point], x, pixels, ch, ld);
}

/* Clip threshold: the value T minimising sum over values v of (v - q(v))^2 with q uniform on [0, T] with 255
 * steps: (v - T)^2 above T, step^2 / 12 for the nonzero values below (zeros are exact). */
static double choose(const hist *h, const char *method) {
    const double w = h->hmax / NB;
    if (!strcmp(method, "max")) return h->vmax;
    if (!strncmp(method, "pct:", 4)) {
        double p = atof(method + 4) / 100.0, nonzero = h->total - h->zeros - h->negatives, acc = 0;
        for (int i = 0; i < NB; i++) {
            acc += h->bins[i];
            if (acc >= p * nonzero) return (i + 1) * w;
        }
        return h->vmax;
    }
    double best = h->vmax, best_err = -1;
    int last = (int)(h->vmax / w) + 1;
    if (last > NB) last = NB;
    /* suffix sums of count, count x v, count x v^2 over bins (v = bin centre) */
    double s0 = 0, s1 = 0, s2 = 0, below = 0;
    for (int i = 0; i < NB; i++) below += h->bins[i];
    for (int i = NB - 1; i >= last; i--) { double v = (i + 0.5) * w; s0 += h->bins[i]; s1 += h->bins[i] * v; s2 += h->bins[i] * v * v; }
    below -= s0;
    for (int t = last; t >= 1; t--) {
        double T = t * w, step = T / 255.0;
        double err = s2 - 2 * T * s1 + T * T * s0 + below * step * step / 12.0;
        if (best_err < 0 || err < best_err) { best_err = err; best = T; }
        /* bin t-1 (centre below T) moves above the next, smaller threshold */
        double v = (t - 0.5) * w, c = h->bins[t - 1];
        s0 += c; s1 += c * v; s2 += c * v * v; below -= c;
    }
    return best;
}

static int calibrate(const char *dbpath, const char *model, const char *out, const char *method, int max_faces) {
    char err[1024];
    sbf_store *st = sbf_store_open(dbpath, SBF_STORE_READ, err, sizeof err);
    if (!st) { fprintf(stderr, "quantize: %s: %s\n", dbpath, err); return 1; }
    int recorded = 0;
    const char *rule = sbf_pipeline_db_rule(st, &recorded);
    sbf_align_method am = SBF_ALIGN_DEFAULT;
    if (rule && sbf_align_parse(rule, &am)) { fprintf(stderr, "quantize: %s: unknown alignment rule %s\n", dbpath, rule); return 1; }
    sbf_faceset fs;
    if (sbf_store_faceset(st, &fs, err, sizeof err)) { fprintf(stderr, "quantize: %s: %s\n", dbpath, err); return 1; }
    sbf_store_close(st);
    nnw_file *f = nnw_open(model, err, sizeof err);
    if (!f) { fprintf(stderr, "quantize: %s: %s\n", model, err); return 1; }
    calib *c = calloc(1, sizeof *c);
    for (int i = 0; i < nn_fq_points(); i++) c->h[i].bins = calloc(NB, sizeof(double));
    nn_facenet_q *net = nn_fq_load_calib(f, observe, c, err, sizeof err);
    nnw_close(f);
    if (!net) { fprintf(stderr, "quantize: %s: %s\n", model, err); return 1; }
    unsigned char crop[160 * 160 * 3];
    float emb[512];
    int photos = 0, faces = 0;
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
            if (sbf_align_face(im.rgb, im.w, im.h, &fs.boxes[fi], (const float (*)[2])(fs.landmarks + (size_t)fi * 136), am,
                               crop)) continue;
            if (nn_fq_embed(net, crop, 1, emb)) { fprintf(stderr, "quantize: forward pass failed\n"); return 1; }
            faces++;
        }
        sbf_image_free(&im);
        if (photos % 50 == 0) fprintf(stderr, "\rquantize: %d photos, %d faces, %.0f s", photos, faces, sbf_now() - t0);
    }
    fprintf(stderr, "\n");
    if (!faces) { fprintf(stderr, "quantize: %s: no calibration faces\n", dbpath); return 1; }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    FILE *o = fopen(tmp, "w");
    if (!o) { fprintf(stderr, "quantize: %s: cannot write\n", tmp); return 1; }
    fprintf(o, "# sortbyface int8 FaceNet: activation scales (real = scale x q, q = 0..255) per quantisation point\n");
    fprintf(o, "# tools/quantize --calibrate --method %s: %d faces of %d lfw-dev photos (tools/int8.h), align %s\n",
            method, faces, photos, sbf_align_name(am));
    for (int i = 0; i < nn_fq_points(); i++) {
        const hist *h = &c->h[i];
        double T = choose(h, method);
        if (!(T > 0)) T = 1.0;
        fprintf(o, "%s %.9g\n", nn_fq_point_name(i), (double)(float)(T / 255.0));
        fprintf(stderr, "%-44s max %8.3f clip %8.3f (%5.1f%%) zeros %4.1f%%%s\n", nn_fq_point_name(i), h->vmax, T,
                100.0 * T / (h->vmax > 0 ? h->vmax : 1), 100.0 * h->zeros / (h->total > 0 ? h->total : 1),
                h->negatives ? " NEGATIVE VALUES" : "");
        if (h->negatives) { fprintf(stderr, "quantize: %s has negative values\n", nn_fq_point_name(i)); return 1; }
    }
    if (fclose(o) || rename(tmp, out)) { fprintf(stderr, "quantize: %s: cannot write\n", out); return 1; }
    printf("quantize: %s: %d scales from %d faces of %d photos (%.0f s)\n", out, nn_fq_points(), faces, photos, sbf_now() - t0);
    nn_fq_free(net);
    for (int i = 0; i < nn_fq_points(); i++) free(c->h[i].bins);
    free(c);
    sbf_faceset_free(&fs);
    return 0;
}

/* ---------------------------------------------------------------- the int8 file */

static int make_int8(const char *scales_path, const char *in, const char *out) {
    char err[1024], calib_line[512];
    float scale[256];
    if (i8_read_scales(scales_path, scale, calib_line, sizeof calib_line)) return 1;
    struct stat sb;
    nnw_file *f = nnw_open(in, err, sizeof err);
    if (!f) { fprintf(stderr, "quantize: %s: %s\n", in, err); return 1; }
    if (nn_fq_is_int8(f)) { fprintf(stderr, "quantize: %s: already int8\n", in); return 1; }
    nnw_writer *w = nnw_writer_new();
    for (int i = 0; i < nnw_meta_count(f); i++) {
        const char *k, *v;
        nnw_meta_at(f, i, &k, &v);
        char buf[1024];
        if (!strcmp(k, "model")) { snprintf(buf, sizeof buf, "%s-int8", v); v = buf; }
        nnw_writer_meta(w, k, v);
    }
    nnw_writer_meta(w, "quantisation",
                    "convolution weights int8 per output channel (symmetric, -127..127, <name>_kernel_scale); activations "
                    "uint8 per tensor (<point>_act_scale); bottleneck float32");
    if (calib_line[0]) nnw_writer_meta(w, "calibration", calib_line);
    long convs = 0;
    double worst = 0;
    for (int i = 0; i < nnw_count(f); i++) {
        const nnw_tensor *t = nnw_at(f, i);
        size_t len = strlen(t->name);
        float *vals = malloc(sizeof(float) * t->count);
        if (!vals) { fprintf(stderr, "quantize: out of memory\n"); return 1; }
        if (t->dtype == NNW_F16) nn_f16_to_f32_array(t->data, vals, t->count);
        else if (t->dtype == NNW_F32) memcpy(vals, t->data, sizeof(float) * t->count);
        else { fprintf(stderr, "quantize: %s: %s is %s\n", in, t->name, nnw_dtype_name(t->dtype)); return 1; }
        int is_conv = t->ndim == 4 && len > 7 && !strcmp(t->name + len - 7, "_kernel");
        if (!is_conv) {
            if (nnw_writer_add(w, t->name, NNW_F32, t->ndim, t->shape, 1.0f, vals)) { fprintf(stderr, "quantize: cannot add %s\n", t->name); return 1; }
            free(vals);
            continue;
        }
        uint32_t cout = t->shape[0];
        size_t per = t->count / cout;
        int8_t *q = malloc(t->count);
        float *s = malloc(sizeof(float) * cout);
        if (!q || !s) { fprintf(stderr, "quantize: out of memory\n"); return 1; }
        for (uint32_t o = 0; o < cout; o++) {
            float m = 0;
            for (size_t k = 0; k < per; k++) m = fabsf(vals[o * per + k]) > m ? fabsf(vals[o * per + k]) : m;
            s[o] = m > 0 ? m / 127.0f : 1.0f;
            for (size_t k = 0; k < per; k++) {
                float r = roundf(vals[o * per + k] / s[o]);
                r = r > 127 ? 127 : r < -127 ? -127 : r;
                q[o * per + k] = (int8_t)r;
                double e = fabs(r * s[o] - vals[o * per + k]) / (m > 0 ? m : 1);
                if (e > worst) worst = e;
            }
        }
        char sn[300];
        uint32_t ss[1] = {cout};
        snprintf(sn, sizeof sn, "%s_scale", t->name);
        if (nnw_writer_add(w, t->name, NNW_I8, 4, t->shape, 1.0f, q) || nnw_writer_add(w, sn, NNW_F32, 1, ss, 1.0f, s)) {
            fprintf(stderr, "quantize: cannot add %s\n", t->name);
            return 1;
        }
        convs++;
        free(q); free(s); free(vals);
    }
    for (int i = 0; i < nn_fq_points(); i++) {
        char nm[160];
        uint32_t one[1] = {1};
        snprintf(nm, sizeof nm, "%s_act_scale", nn_fq_point_name(i));
        if (nnw_writer_add(w, nm, NNW_F32, 1, one, 1.0f, &scale[i])) { fprintf(stderr, "quantize: cannot add %s\n", nm); return 1; }
    }
    nnw_close(f);
    if (stat(out, &sb) == 0) fprintf(stderr, "quantize: replacing %s\n", out);
    if (nnw_writer_save(w, out, err, sizeof err)) { fprintf(stderr, "quantize: %s: %s\n", out, err); return 1; }
    nnw_writer_free(w);
    /* the file must load as an int8 FaceNet */
    nn_facenet *net = nn_facenet_load(out, 1, err, sizeof err);
    if (!net) { fprintf(stderr, "quantize: %s does not load: %s\n", out, err); return 1; }
    nn_facenet_free(net);
    printf("quantize: %s: %ld int8 convolutions (largest weight rounding error %.2f%% of the channel's max), %d activation scales\n",
           out, convs, 100.0 * worst, nn_fq_points());
    return 0;
}

int main(int argc, char **argv) {
    const char *db = NULL, *out = NULL, *model = NULL, *scales = NULL, *method = "mse", *pos[2] = {NULL, NULL};
    int cal = 0, npos = 0, max_faces = 1 << 30;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--calibrate")) cal = 1;
        else if (!strcmp(argv[i], "--db") && i + 1 < argc) db = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--method") && i + 1 < argc) method = argv[++i];
        else if (!strcmp(argv[i], "--max-faces") && i + 1 < argc) max_faces = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--scales") && i + 1 < argc) scales = argv[++i];
        else if (argv[i][0] != '-' && npos < 2) pos[npos++] = argv[i];
        else usage();
    }
    if (cal) {
        if (!db || !out || npos) usage();
        if (strcmp(method, "mse") && strcmp(method, "max") && strncmp(method, "pct:", 4)) usage();
        return calibrate(db, model ? model : sbf_model_path(SBF_FACENET_FILE), out, method, max_faces);
    }
    if (!scales || npos != 2) usage();
    return make_int8(scales, pos[0], pos[1]);
}
