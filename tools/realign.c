/* tools/realign.c — re-embed every face of a database with another alignment rule, keeping the stored
 * detector boxes and landmarks, into a new database; score it with tools/eval-lfw.  This is how the
 * default alignment (src/align.h) is chosen on clustering quality rather than on verification alone:
 * detection and landmarks (most of embed's time) are not redone, only decoding, cropping and FaceNet.
 *
 * usage: realign --db IN --out OUT [--facenet FILE] [--threads N] VARIANT
 * VARIANT: see tools/align-variants.h.  Paths in IN are opened as stored (run from the folder the
 * embed ran in).  OUT must not exist.  Photos that fail to decode are reported and copied unchanged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/facenet.h"
#include "src/image.h"
#include "src/models.h"
#include "src/store.h"
#include "src/util.h"
#include "tools/align-variants.h"

static void usage(void) {
    fprintf(stderr, "usage: realign --db IN --out OUT [--facenet FILE] [--threads N] VARIANT\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *facenet = NULL, *variant = NULL;
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) in = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--facenet") && i + 1 < argc) facenet = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !variant) variant = argv[i];
        else usage();
    }
    if (!in || !out || !variant) usage();
    struct stat st;
    if (stat(out, &st) == 0) {
        fprintf(stderr, "realign: %s: exists; not overwriting\n", out);
        return 1;
    }
    char err[512];
    sbf_store *src = sbf_store_open(in, SBF_STORE_READ, err, sizeof err);
    if (!src) {
        fprintf(stderr, "realign: %s: %s\n", in, err);
        return 1;
    }
    sbf_faceset fs;
    if (sbf_store_faceset(src, &fs, err, sizeof err)) {
        fprintf(stderr, "realign: %s: %s\n", in, err);
        return 1;
    }
    sbf_store_close(src);
    char fbuf[4096];
    if (!facenet) {
        snprintf(fbuf, sizeof fbuf, "%s", sbf_model_path(SBF_FACENET_FILE));
        facenet = fbuf;
    }
    nn_facenet *net = nn_facenet_load(facenet, threads, err, sizeof err);
    if (!net) {
        fprintf(stderr, "realign: %s: %s\n", facenet, err);
        return 1;
    }
    sbf_store *dst = sbf_store_open(out, SBF_STORE_WRITE, err, sizeof err);
    if (!dst) {
        fprintf(stderr, "realign: %s: %s\n", out, err);
        return 1;
    }
    /* the rule as the database's "align" setting: find/embed then refuse it unless it is a shipped rule */
    if (sbf_store_set_setting(dst, SBF_SETTING_ALIGN, variant, err, sizeof err)) {
        fprintf(stderr, "realign: %s: %s\n", out, err);
        return 1;
    }

    double t0 = sbf_now();
    long faces_done = 0, bad = 0;
    for (int p = 0; p < fs.nphotos; p++) {
        const sbf_photo *ph = &fs.photos[p];
        sbf_face_rec *recs = ph->nfaces ? calloc((size_t)ph->nfaces, sizeof *recs) : NULL;
        unsigned char *crops = ph->nfaces ? malloc((size_t)ph->nfaces * SBF_CROP * SBF_CROP * 3) : NULL;
        float *emb = ph->nfaces ? malloc(sizeof(float) * SBF_EMBED_DIM * (size_t)ph->nfaces) : NULL;
        if (ph->nfaces && (!recs || !crops || !emb)) {
            fprintf(stderr, "realign: out of memory\n");
            return 1;
        }
        sbf_image im;
        int loaded = ph->nfaces && sbf_image_load(ph->path, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err) == 0;
        if (ph->nfaces && !loaded) {
            fprintf(stderr, "realign: %s: %s\n", ph->path, err);
            bad++;
        }
        for (int k = 0; k < ph->nfaces; k++) {
            int f = ph->first_face + k;
            recs[k].index = fs.face_index[f];
            recs[k].box = fs.boxes[f];
            memcpy(recs[k].landmarks, fs.landmarks + (size_t)f * 136, sizeof recs[k].landmarks);
            memcpy(recs[k].emb, fs.emb + (size_t)f * fs.dim, sizeof recs[k].emb);
            double a[6];
            if (loaded) {
                if (av_transform(variant, &recs[k].box, (const float(*)[2])recs[k].landmarks, a)) {
                    fprintf(stderr, "realign: bad variant %s (or degenerate face in %s)\n", variant, ph->path);
                    return 1;
                }
                sbf_warp_rgb(im.rgb, im.w, im.h, a, crops + (size_t)k * SBF_CROP * SBF_CROP * 3, SBF_CROP, SBF_CROP);
            }
        }
        if (loaded) {
            if (nn_facenet_embed(net, crops, ph->nfaces, emb)) {
                fprintf(stderr, "realign: embedding failed\n");
                return 1;
            }
            if (strstr(variant, "+flip")) { /* add the embedding of the mirrored crop, then renormalise */
                float *e2 = malloc(sizeof(float) * SBF_EMBED_DIM * (size_t)ph->nfaces);
                if (!e2) {
                    fprintf(stderr, "realign: out of memory\n");
                    return 1;
                }
                av_mirror_crops(crops, ph->nfaces);
                if (nn_facenet_embed(net, crops, ph->nfaces, e2)) {
                    fprintf(stderr, "realign: embedding failed\n");
                    return 1;
                }
                for (int k = 0; k < ph->nfaces; k++) {
                    float *e = emb + (size_t)k * SBF_EMBED_DIM;
                    double nrm = 0;
                    for (int d = 0; d < SBF_EMBED_DIM; d++) {
                        e[d] += e2[(size_t)k * SBF_EMBED_DIM + d];
                        nrm += (double)e[d] * e[d];
                    }
                    for (int d = 0; d < SBF_EMBED_DIM; d++) e[d] = (float)(e[d] / sqrt(nrm > 0 ? nrm : 1));
                }
                free(e2);
            }
            for (int k = 0; k < ph->nfaces; k++)
                memcpy(recs[k].emb, emb + (size_t)k * SBF_EMBED_DIM, sizeof recs[k].emb);
            sbf_image_free(&im);
        }
        sbf_photo_meta meta = {ph->path, ph->size, ph->mtime_ns, ph->width, ph->height, NULL};
        if (sbf_store_put(dst, &meta, ph->nfaces, recs, err, sizeof err)) {
            fprintf(stderr, "realign: %s: %s\n", out, err);
            return 1;
        }
        faces_done += ph->nfaces;
        free(recs);
        free(crops);
        free(emb);
        if ((p + 1) % 500 == 0 || p + 1 == fs.nphotos)
            fprintf(stderr, "\rrealign: %d/%d photos, %ld faces, %.0f s", p + 1, fs.nphotos, faces_done,
                    sbf_now() - t0);
    }
    fprintf(stderr, "\n");
    sbf_store_close(dst);
    nn_facenet_free(net);
    printf("realign: %s -> %s with %s: %d photos, %ld faces, %ld unreadable, %.0f s\n", in, out, variant, fs.nphotos,
           faces_done, bad, sbf_now() - t0);
    sbf_faceset_free(&fs);
    return bad ? 1 : 0;
}
