/* tools/int8-gate.c — the accuracy gate of the int8 FaceNet against float32, face by face.
 *
 *   int8-gate --db FLOAT.db [--model INT8.sbfw] [--max-faces N] [--min-faces M] [--min-cos C] [--threads T]
 *             [--emulate SCALES [--weights [--no-bias-correction]] [--float-point NAME]... [--float-layer PREFIX]...]
 *
 * Re-crops every face of the gate photos (those not used for calibration: tools/int8.h) of a database made
 * by `sortbyface embed` with the float32 model (e.g. build/lfw-dev.db), from the stored landmarks with the
 * database's alignment rule, embeds it with the int8 model and compares it with the stored float32 embedding
 * (cosine similarity); the first faces are also re-embedded in float32 to check the stored embeddings are
 * this engine's.  Then the golden crops ($SBF_SHARED/data/aligned-golden) against their float32 embeddings.
 * Prints the distribution (min, 0.1/1/50th percentiles, mean), the worst faces, and fails (exit 1) when a
 * face is below C (default 0.999) or fewer than M faces (default 500) were compared.
 * --emulate: instead of the int8 file, the float32 graph (of --model: a float32 file, e.g. one tools/quantize
 * --float-out wrote with the int8 model's rounded weights) with the points of SCALES rounded to the model's 12-bit
 * grid (and the weights, rounded to nearest, with --weights), except the points named by --float-point (NAME* =
 * every point starting with NAME) and the weights of the layers starting with a --float-layer prefix: which
 * tensors cost accuracy, by measurement (one thread); --quant-point: only these points rounded.  --only: just the
 * photos whose path contains one of these (investigating a face); --only-list FILE: the photos named by its lines
 * (e.g. a --dump's worst ones).
 * --dump FILE: every face's cosine, "COSINE PATH" a line, worst first. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/conv.h"
#include "nn/facenet.h"
#include "nn/facenet_q.h"
#include "src/align.h"
#include "src/image.h"
#include "src/models.h"
#include "src/pipeline.h"
#include "src/store.h"
#include "src/util.h"
#include "tools/int8.h"

#define MAXFP 64
static void usage(void) {
    fprintf(stderr,
            "usage: int8-gate --db FLOAT.db [--model INT8.sbfw] [--max-faces N] [--min-faces M] [--min-cos C] "
            "[--threads T]\n"
            "                 [--emulate SCALES [--weights [--no-bias-correction]] [--float-point NAME]... "
            "[--float-layer PREFIX]...]\n"
            "                 [--quant-point NAME]... [--only PATH-PART]... [--only-list FILE] [--dump FILE]\n");
    exit(2);
}

typedef struct {
    double cos;
    int face;
} res;
static int cmp_res(const void *a, const void *b) {
    double x = ((const res *)a)->cos, y = ((const res *)b)->cos;
    return x < y ? -1 : x > y;
}

/* a net: the int8 file, or the emulation */
static nn_facenet *g_net;
static nn_facenet_q *g_emu;
static int embed(const unsigned char *rgb, int n, float *out) {
    return g_emu ? nn_fq_embed(g_emu, rgb, n, out) : nn_facenet_embed(g_net, rgb, n, out);
}

static int golden(double min_cos, double *worst) {
    const char *sh = getenv("SBF_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/aligned-golden/embeddings.jsonl", sh && *sh ? sh : "../shared");
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "int8-gate: %s: cannot open\n", path);
        return -1;
    }
    static char line[65536];
    int n = 0, bad = 0;
    *worst = 1;
    while (fgets(line, sizeof line, f)) {
        char *p = strstr(line, "\"path\""), name[256];
        if (!p || !(p = strchr(p + 6, '"'))) continue;
        char *e = strchr(p + 1, '"');
        if (!e || e - p - 1 >= (long)sizeof name) continue;
        snprintf(name, sizeof name, "%.*s", (int)(e - p - 1), p + 1);
        float gold[512], emb[512];
        p = strchr(e, '[');
        if (!p) continue;
        p++;
        for (int i = 0; i < 512; i++) {
            gold[i] = strtof(p, &p);
            while (*p == ',' || *p == ' ') p++;
        }
        char ip[4400], err[256];
        snprintf(ip, sizeof ip, "%s/data/aligned-golden/%s", sh && *sh ? sh : "../shared", name);
        sbf_image im;
        if (sbf_image_load(ip, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err) || im.w != 160 || im.h != 160) {
            fprintf(stderr, "int8-gate: %s: %s\n", ip, err);
            fclose(f);
            return -1;
        }
        if (embed(im.rgb, 1, emb)) {
            fclose(f);
            return -1;
        }
        sbf_image_free(&im);
        double c = i8_cosine(emb, gold);
        printf("golden %-22s cos %.6f%s\n", name, c, c < min_cos ? "  BELOW" : "");
        if (c < *worst) *worst = c;
        bad += c < min_cos;
        n++;
    }
    fclose(f);
    return n < 5 ? -1 : bad;
}

int main(int argc, char **argv) {
    const char *db = NULL, *model = NULL, *emulate = NULL, *fp[MAXFP];
    int max_faces = 1 << 30, min_faces = 500, threads = 0, weights = 0, nfp = 0, nfl = 0, no_bias_corr = 0;
    const char *fl[MAXFP] = {NULL}, *qp[MAXFP], *dump = NULL;
    static const char *only[4096];
    static char onlybuf[1 << 20];
    int nonly = 0, nqp = 0;
    size_t onlyused = 0;
    double min_cos = 0.999;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) db = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--max-faces") && i + 1 < argc) max_faces = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-faces") && i + 1 < argc) min_faces = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-cos") && i + 1 < argc) min_cos = atof(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--emulate") && i + 1 < argc) emulate = argv[++i];
        else if (!strcmp(argv[i], "--weights")) weights = 1;
        else if (!strcmp(argv[i], "--no-bias-correction")) no_bias_corr = 1;
        else if (!strcmp(argv[i], "--float-point") && i + 1 < argc && nfp < MAXFP) fp[nfp++] = argv[++i];
        else if (!strcmp(argv[i], "--float-layer") && i + 1 < argc && nfl < MAXFP - 1) fl[nfl++] = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc && nonly < 4096) only[nonly++] = argv[++i];
        else if (!strcmp(argv[i], "--only-list") && i + 1 < argc) {
            FILE *lf = fopen(argv[++i], "r");
            if (!lf) {
                fprintf(stderr, "int8-gate: %s: cannot open\n", argv[i]);
                return 2;
            }
            char line[4096];
            while (nonly < 4096 && fgets(line, sizeof line, lf)) {
                char *p = strrchr(line, ' '), *s = p ? p + 1 : line; /* a --dump line: the path after the cosine */
                s[strcspn(s, "\n")] = 0;
                size_t l = strlen(s) + 1;
                if (l < 2 || onlyused + l > sizeof onlybuf) continue;
                only[nonly++] = memcpy(onlybuf + onlyused, s, l);
                onlyused += l;
            }
            fclose(lf);
        } else if (!strcmp(argv[i], "--dump") && i + 1 < argc) dump = argv[++i];
        else if (!strcmp(argv[i], "--quant-point") && i + 1 < argc && nqp < MAXFP) qp[nqp++] = argv[++i];
        else usage();
    }
    if (!db) usage();
    char err[1024];
    i8_scales sc;
    nn_fq_emulation emu;
    memset(&sc, 0, sizeof sc);
    memset(&emu, 0, sizeof emu);
    if (emulate) {
        if (i8_read_scales(emulate, &sc)) return 1;
        const float *pts[256];
        for (int i = 0; i < nn_fq_points(); i++) {
            pts[i] = nqp ? NULL : sc.scale[i];
            for (int k = 0; k < nqp; k++) {
                size_t l = strlen(qp[k]);
                const char *nm = nn_fq_point_name(i);
                if (l && qp[k][l - 1] == '*' ? !strncmp(nm, qp[k], l - 1) : !strcmp(nm, qp[k])) pts[i] = sc.scale[i];
            }
            for (int k = 0; k < nfp; k++) {
                size_t l = strlen(fp[k]);
                const char *nm = nn_fq_point_name(i);
                if (l && fp[k][l - 1] == '*' ? !strncmp(nm, fp[k], l - 1) : !strcmp(nm, fp[k])) pts[i] = NULL;
            }
        }
        emu.scales = pts;
        emu.int8_weights = weights;
        emu.float_layers = fl;
        if (sc.has_means && !no_bias_corr) {
            emu.means = (const float *const *)sc.mean;
            emu.image_mean = sc.image_mean;
        }
        const char *fm = model ? model : sbf_model_path(SBF_FACENET_FILE);
        nnw_file *f = nn_conv_open_plain(fm, err, sizeof err);
        if (!f || !(g_emu = nn_fq_load_emulated(f, &emu, err, sizeof err))) {
            fprintf(stderr, "int8-gate: %s: %s\n", fm, err);
            return 1;
        }
        nnw_close(f);
        printf("emulation of %s on %s%s%s\n", emulate, fm, weights ? " with int8 weights" : "",
               weights && emu.means ? " (bias corrected)" : "");
    } else {
        const char *mm = model ? model : sbf_model_path("facenet-20180402-int8.sbfw");
        if (!(g_net = nn_facenet_load(mm, threads, err, sizeof err))) {
            fprintf(stderr, "int8-gate: %s: %s\n", mm, err);
            return 1;
        }
        printf("model %s: %s\n", mm, nn_facenet_precision(g_net));
    }
    nn_facenet *ref = nn_facenet_load(sbf_model_path(SBF_FACENET_FILE), threads, err, sizeof err);
    if (!ref) {
        fprintf(stderr, "int8-gate: %s: %s\n", sbf_model_path(SBF_FACENET_FILE), err);
        return 1;
    }

    sbf_store *st = sbf_store_open(db, SBF_STORE_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "int8-gate: %s: %s\n", db, err);
        return 1;
    }
    const char *rule = sbf_pipeline_db_rule(st, NULL);
    sbf_align_method am = SBF_ALIGN_DEFAULT;
    if (rule && sbf_align_parse(rule, &am)) {
        fprintf(stderr, "int8-gate: %s: unknown alignment rule %s\n", db, rule);
        return 1;
    }
    sbf_faceset fs;
    if (sbf_store_faceset(st, &fs, err, sizeof err)) {
        fprintf(stderr, "int8-gate: %s: %s\n", db, err);
        return 1;
    }
    sbf_store_close(st);

    res *r = malloc(sizeof(res) * (size_t)(fs.nfaces ? fs.nfaces : 1));
    int n = 0, photos = 0, checked = 0;
    double stored_diff = 0, t0 = sbf_now();
    const int GROUP = 32;
    unsigned char *crops = malloc((size_t)GROUP * 160 * 160 * 3);
    float *emb = malloc(sizeof(float) * 512 * GROUP), *femb = malloc(sizeof(float) * 512 * GROUP);
    int gface[32], ng = 0;
    for (int p = 0; p <= fs.nphotos && n + ng < max_faces + ng; p++) {
        int flush = p == fs.nphotos || ng + (p < fs.nphotos ? fs.photos[p].nfaces : 0) > GROUP;
        if (flush && ng) {
            if (embed(crops, ng, emb)) {
                fprintf(stderr, "int8-gate: embedding failed\n");
                return 1;
            }
            if (checked < 64) { /* the stored embeddings are this float32 engine's */
                nn_facenet_embed(ref, crops, ng, femb);
                for (int k = 0; k < ng * 512; k++) {
                    double d = fabs((double)femb[k] - fs.emb[(size_t)gface[k / 512] * fs.dim + k % 512]);
                    if (d > stored_diff) stored_diff = d;
                }
                checked += ng;
            }
            for (int k = 0; k < ng && n < max_faces; k++) {
                r[n].cos = i8_cosine(emb + (size_t)k * 512, fs.emb + (size_t)gface[k] * fs.dim);
                r[n].face = gface[k];
                n++;
            }
            ng = 0;
            if (photos % 200 < 8)
                fprintf(stderr, "\rint8-gate: %d photos, %d faces, %.0f s", photos, n, sbf_now() - t0);
        }
        if (p == fs.nphotos || n >= max_faces) break;
        const sbf_photo *ph = &fs.photos[p];
        if (!ph->nfaces || i8_calibration_photo(ph->path) || ph->nfaces > GROUP) continue;
        int want = !nonly;
        for (int k = 0; k < nonly && !want; k++) want = strstr(ph->path, only[k]) != NULL;
        if (!want) continue;
        sbf_image im;
        if (sbf_image_load(ph->path, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err)) {
            fprintf(stderr, "int8-gate: %s: %s\n", ph->path, err);
            return 1;
        }
        for (int k = 0; k < ph->nfaces; k++) {
            int fi = ph->first_face + k;
            if (sbf_align_face(im.rgb, im.w, im.h, &fs.boxes[fi], (const float(*)[2])(fs.landmarks + (size_t)fi * 136),
                               am, crops + (size_t)ng * 160 * 160 * 3) == 0)
                gface[ng++] = fi;
        }
        sbf_image_free(&im);
        photos++;
    }
    fprintf(stderr, "\n");
    if (stored_diff > 1e-4) {
        fprintf(stderr, "int8-gate: %s was not made by this float32 engine (differs by %g)\n", db, stored_diff);
        return 1;
    }
    qsort(r, (size_t)n, sizeof *r, cmp_res);
    double mean = 0;
    int below = 0;
    for (int i = 0; i < n; i++) {
        mean += r[i].cos;
        below += r[i].cos < min_cos;
    }
    if (n) {
        mean /= n;
        printf("lfw-dev gate: %d faces of %d photos (not calibration photos); cosine to float32: min %.6f, 0.1%% %.6f, "
               "1%% %.6f, "
               "median %.6f, mean %.6f; %d below %.4f\n",
               n, photos, r[0].cos, r[n / 1000].cos, r[n / 100].cos, r[n / 2].cos, mean, below, min_cos);
        for (int i = 0; i < n && i < 5; i++)
            printf("  worst: %.6f %s\n", r[i].cos, fs.photos[fs.face_photo[r[i].face]].path);
    }
    if (dump) {
        FILE *df = fopen(dump, "w");
        if (!df) {
            fprintf(stderr, "int8-gate: %s: cannot write\n", dump);
            return 1;
        }
        for (int i = 0; i < n; i++) fprintf(df, "%.6f %s\n", r[i].cos, fs.photos[fs.face_photo[r[i].face]].path);
        fclose(df);
    }
    printf("stored float32 embeddings re-made by this engine: max |diff| %.2e over %d faces\n", stored_diff, checked);
    double gworst;
    int gbad = golden(min_cos, &gworst);
    if (gbad < 0) return 1;
    printf("golden crops: worst cosine %.6f\n", gworst);
    int ok = below == 0 && gbad == 0 && n >= min_faces;
    printf("int8 gate: %s (%d faces >= %d needed, every cosine >= %.4f)\n", ok ? "PASS" : "FAIL", n, min_faces,
           min_cos);
    nn_facenet_free(g_net);
    nn_fq_free(g_emu);
    i8_free_scales(&sc);
    nn_facenet_free(ref);
    sbf_faceset_free(&fs);
    free(r);
    free(crops);
    free(emb);
    free(femb);
    return ok ? 0 : 1;
}
