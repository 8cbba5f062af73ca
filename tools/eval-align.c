/* tools/eval-align.c — LFW verification accuracy of FaceNet embeddings for each face alignment rule, on
 * LFW's pairsDevTrain.txt (2,200 pairs) with 10-fold threshold selection (src/metrics.h).
 *
 * usage: eval-align [--pairs FILE] [--lfw DIR] [--facenet FILE] [--landmarks-model FILE] [--threads N]
 *                   [--limit N] [--upsample N] [VARIANT...]
 * VARIANT: see tools/align-variants.h (eyes, box, eyes:EX:EY, box:SCALE[:DY], tmpl:M, tmplr:M, tmpls:M).
 *          A "+flip" suffix adds the embedding of the mirrored crop (test-time augmentation).
 *          Default: eyes box.
 * Faces: dlib's detector (ours) on each image with --upsample (default 1); of several faces the one nearest
 * the image centre (LFW's convention); images with no detection use a centred box of dlib's typical LFW
 * size and are counted.  Scores: cosine similarity of the L2-normalised embeddings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/facenet.h"
#include "nn/threadpool.h"
#include "src/align.h"
#include "src/detect.h"
#include "src/image.h"
#include "src/landmarks.h"
#include "src/metrics.h"
#include "src/models.h"
#include "src/util.h"
#include "tools/align-variants.h"

typedef struct {
    char name[128];
    int idx;
} imgref;
typedef struct {
    int a, b, same;
} pair;
typedef struct {
    sbf_box box;
    float pts[68][2];
    int ok, detected;
} faceinfo;

static int find_or_add(imgref **imgs, int *n, int *cap, const char *name, int idx) {
    for (int i = *n - 1; i >= 0; i--)
        if ((*imgs)[i].idx == idx && strcmp((*imgs)[i].name, name) == 0) return i;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *imgs = realloc(*imgs, sizeof **imgs * (size_t)*cap);
        if (!*imgs) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    snprintf((*imgs)[*n].name, sizeof(*imgs)[*n].name, "%s", name);
    (*imgs)[*n].idx = idx;
    return (*n)++;
}

static int crop_variant(const char *v, const sbf_image *im, const faceinfo *f, unsigned char *out) {
    double a[6];
    if (av_transform(v, &f->box, f->pts, a)) return -1;
    sbf_warp_rgb(im->rgb, im->w, im->h, a, out, SBF_CROP, SBF_CROP);
    return 0;
}

int main(int argc, char **argv) {
    const char *sh = getenv("SBF_SHARED");
    char pairs_path[4096], lfw[4096];
    snprintf(pairs_path, sizeof pairs_path, "%s/data/lfw-meta/pairsDevTrain.txt", sh && *sh ? sh : "../shared");
    snprintf(lfw, sizeof lfw, "%s/data/lfw-dev", sh && *sh ? sh : "../shared");
    const char *facenet = NULL, *lm_path = NULL;
    int threads = 0, limit = 0, upsample = 1, nvar = 0;
    const char *vars[32];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--pairs") && i + 1 < argc) snprintf(pairs_path, sizeof pairs_path, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--lfw") && i + 1 < argc) snprintf(lfw, sizeof lfw, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--facenet") && i + 1 < argc) facenet = argv[++i];
        else if (!strcmp(argv[i], "--landmarks-model") && i + 1 < argc) lm_path = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--upsample") && i + 1 < argc) upsample = atoi(argv[++i]);
        else if (argv[i][0] != '-' && nvar < 32) vars[nvar++] = argv[i];
        else {
            fprintf(stderr, "usage: eval-align [--pairs FILE] [--lfw DIR] [--facenet FILE] [--landmarks-model FILE] "
                            "[--threads N] [--limit N] [--upsample N] [eyes|box|eyes:EX:EY|box:SCALE ...]\n");
            return 2;
        }
    }
    if (!nvar) {
        vars[nvar++] = "eyes";
        vars[nvar++] = "box";
    }
    char facenet_buf[4096];
    if (!facenet) {
        snprintf(facenet_buf, sizeof facenet_buf, "%s", sbf_model_path(SBF_FACENET_FILE));
        facenet = facenet_buf;
    }
    if (!lm_path) lm_path = sbf_landmarks_default_path();

    /* pairs */
    FILE *pf = fopen(pairs_path, "r");
    if (!pf) {
        fprintf(stderr, "eval-align: cannot open %s\n", pairs_path);
        return 1;
    }
    int npairs_half = 0;
    if (fscanf(pf, "%d", &npairs_half) != 1 || npairs_half <= 0) {
        fprintf(stderr, "eval-align: bad pairs file\n");
        return 1;
    }
    imgref *imgs = NULL;
    int nimg = 0, capimg = 0;
    pair *pairs = malloc(sizeof *pairs * 2 * (size_t)npairs_half);
    int np = 0;
    for (int i = 0; i < 2 * npairs_half; i++) {
        char n1[128], n2[128];
        int i1, i2;
        if (i < npairs_half) {
            if (fscanf(pf, "%127s %d %d", n1, &i1, &i2) != 3) break;
            strcpy(n2, n1);
        } else if (fscanf(pf, "%127s %d %127s %d", n1, &i1, n2, &i2) != 4) break;
        pairs[np].a = find_or_add(&imgs, &nimg, &capimg, n1, i1);
        pairs[np].b = find_or_add(&imgs, &nimg, &capimg, n2, i2);
        pairs[np].same = i < npairs_half;
        np++;
    }
    fclose(pf);
    if (np != 2 * npairs_half) {
        fprintf(stderr, "eval-align: pairs file truncated (%d pairs)\n", np);
        return 1;
    }
    if (limit > 0 && limit < np) { /* keep both classes: every (np/limit)-th pair */
        int step = np / limit, k = 0;
        for (int i = 0; i < np && k < limit; i += step) pairs[k++] = pairs[i];
        np = k;
    }

    char err[512];
    sbf_shape_model *sm = sbf_shape_load(lm_path, err, sizeof err);
    if (!sm) {
        fprintf(stderr, "eval-align: %s: %s\n", lm_path, err);
        return 1;
    }
    sbf_detector *det = sbf_detector_new(err, sizeof err);
    if (!det) {
        fprintf(stderr, "eval-align: detector: %s\n", err);
        return 1;
    }
    nn_facenet *net = nn_facenet_load(facenet, threads, err, sizeof err);
    if (!net) {
        fprintf(stderr, "eval-align: %s: %s\n", facenet, err);
        return 1;
    }

    /* which images are used */
    char *used = calloc((size_t)nimg, 1);
    for (int i = 0; i < np; i++) used[pairs[i].a] = used[pairs[i].b] = 1;
    int nused = 0;
    for (int i = 0; i < nimg; i++) nused += used[i];

    float *emb = malloc(sizeof(float) * SBF_EMBED_DIM * (size_t)nimg * (size_t)nvar);
    enum { BATCH = 32 };
    unsigned char *batch = malloc((size_t)BATCH * nvar * SBF_CROP * SBF_CROP * 3);
    int *bidx = malloc(sizeof(int) * BATCH);
    float *bout = malloc(sizeof(float) * SBF_EMBED_DIM * BATCH);
    int nb = 0, nodet = 0, multi = 0;
    double t0 = sbf_now(), t_embed = 0;
    for (int i = 0; i <= nimg; i++) {
        if (i < nimg && used[i]) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s/%s_%04d.jpg", lfw, imgs[i].name, imgs[i].name, imgs[i].idx);
            sbf_image im;
            if (sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err)) {
                fprintf(stderr, "eval-align: %s: %s\n", path, err);
                return 1;
            }
            sbf_box *b = NULL;
            int n = sbf_detect(det, im.gray, im.w, im.h, upsample, NULL, &b);
            faceinfo f = {0};
            if (n > 0) {
                double best = 1e30;
                for (int k = 0; k < n; k++) {
                    double cx = (b[k].left + b[k].right) / 2.0 - im.w / 2.0,
                           cy = (b[k].top + b[k].bottom) / 2.0 - im.h / 2.0;
                    if (cx * cx + cy * cy < best) {
                        best = cx * cx + cy * cy;
                        f.box = b[k];
                    }
                }
                multi += n > 1;
                f.detected = 1;
            } else { /* dlib's typical box on LFW deep-funneled: 105 px, centred a little low */
                f.box = (sbf_box){im.w / 2 - 52, im.h / 2 - 40, im.w / 2 + 52, im.h / 2 + 64, 0, -1};
                nodet++;
            }
            free(b);
            sbf_shape_predict(sm, im.gray, im.w, im.h, &f.box, f.pts);
            for (int v = 0; v < nvar; v++)
                if (crop_variant(vars[v], &im, &f, batch + ((size_t)v * BATCH + nb) * SBF_CROP * SBF_CROP * 3)) {
                    fprintf(stderr, "eval-align: bad variant %s (or degenerate face in %s)\n", vars[v], path);
                    return 1;
                }
            bidx[nb++] = i;
            sbf_image_free(&im);
        }
        if (nb == BATCH || (i == nimg && nb > 0)) {
            double te = sbf_now();
            for (int v = 0; v < nvar; v++) {
                unsigned char *crops = batch + (size_t)v * BATCH * SBF_CROP * SBF_CROP * 3;
                if (nn_facenet_embed(net, crops, nb, bout) != 0) {
                    fprintf(stderr, "eval-align: embedding failed\n");
                    return 1;
                }
                if (strstr(vars[v], "+flip")) { /* add the embedding of the mirrored crop */
                    av_mirror_crops(crops, nb);
                    float *b2 = malloc(sizeof(float) * SBF_EMBED_DIM * nb);
                    if (!b2 || nn_facenet_embed(net, crops, nb, b2) != 0) {
                        fprintf(stderr, "eval-align: embedding failed\n");
                        return 1;
                    }
                    for (int k = 0; k < nb * SBF_EMBED_DIM; k++) bout[k] += b2[k];
                    free(b2);
                }
                for (int k = 0; k < nb; k++) {
                    float *e = emb + ((size_t)v * nimg + bidx[k]) * SBF_EMBED_DIM;
                    double nrm = 0;
                    for (int d = 0; d < SBF_EMBED_DIM; d++)
                        nrm += (double)bout[k * SBF_EMBED_DIM + d] * bout[k * SBF_EMBED_DIM + d];
                    nrm = nrm > 0 ? 1.0 / sqrt(nrm) : 0;
                    for (int d = 0; d < SBF_EMBED_DIM; d++) e[d] = (float)(bout[k * SBF_EMBED_DIM + d] * nrm);
                }
            }
            t_embed += sbf_now() - te;
            nb = 0;
        }
    }
    printf("eval-align: %d pairs (%s), %d images; no detection in %d (centred fallback box), several faces in %d; "
           "landmarks %s; %.0f s (%.0f s embedding)\n",
           np, pairs_path, nused, nodet, multi, lm_path, sbf_now() - t0, t_embed);
    double *score = malloc(sizeof(double) * np);
    int *same = malloc(sizeof(int) * np);
    for (int v = 0; v < nvar; v++) {
        for (int i = 0; i < np; i++) {
            const float *ea = emb + ((size_t)v * nimg + pairs[i].a) * SBF_EMBED_DIM;
            const float *eb = emb + ((size_t)v * nimg + pairs[i].b) * SBF_EMBED_DIM;
            double dot = 0;
            for (int d = 0; d < SBF_EMBED_DIM; d++) dot += (double)ea[d] * eb[d];
            score[i] = dot;
            same[i] = pairs[i].same;
        }
        double thr = 0, sd = 0;
        double acc = sbf_verification_accuracy(score, same, np, 10, &thr, &sd);
        printf("  %-14s accuracy %.2f%% +- %.2f (10-fold), mean cosine threshold %.3f\n", vars[v], 100 * acc, 100 * sd,
               thr);
    }
    nn_facenet_free(net);
    sbf_detector_free(det);
    sbf_shape_free(sm);
    free(score);
    free(same);
    free(emb);
    free(batch);
    free(bidx);
    free(bout);
    free(used);
    free(imgs);
    free(pairs);
    return 0;
}
