/* src/cmd_represent.c — the 'represent' verb: FaceNet embeddings as JSON lines, of every face of each photo
 * (detect + landmarks + align + embed, src/pipeline.h) or, with --aligned, of images that are already aligned
 * face crops (resized to 160x160 if needed). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nn/facenet.h"
#include "src/cli.h"
#include "src/image.h"
#include "src/models.h"
#include "src/pipeline.h"
#include "src/util.h"
#include "src/verbs.h"

/* Bilinear resize of interleaved RGB with half-pixel centres (OpenCV INTER_LINEAR / PIL convention). */
static void resize_rgb(const unsigned char *src, int sw, int sh, unsigned char *dst, int dw, int dh) {
    for (int y = 0; y < dh; y++) {
        double fy = (y + 0.5) * sh / dh - 0.5;
        if (fy < 0) fy = 0;
        int y0 = (int)fy;
        if (y0 > sh - 1) y0 = sh - 1;
        int y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
        double wy = fy - y0;
        for (int x = 0; x < dw; x++) {
            double fx = (x + 0.5) * sw / dw - 0.5;
            if (fx < 0) fx = 0;
            int x0 = (int)fx;
            if (x0 > sw - 1) x0 = sw - 1;
            int x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
            double wx = fx - x0;
            for (int c = 0; c < 3; c++) {
                double a = src[((size_t)y0 * sw + x0) * 3 + c], b = src[((size_t)y0 * sw + x1) * 3 + c];
                double d = src[((size_t)y1 * sw + x0) * 3 + c], e = src[((size_t)y1 * sw + x1) * 3 + c];
                double v = (a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy;
                dst[((size_t)y * dw + x) * 3 + c] = (unsigned char)lround(v);
            }
        }
    }
}

static void print_embedding(const float *emb) {
    fputs("\"embedding\":[", stdout);
    for (int k = 0; k < NN_FACENET_DIM; k++)
        printf(k ? ",%.9g" : "%.9g", (double)emb[k]); /* float32: 9 digits read back exactly */
    putchar(']');
}

static void print_error_line(const char *path, const char *err) {
    fputs("{\"path\":", stdout);
    sbf_json_string(stdout, path);
    fputs(",\"error\":", stdout);
    sbf_json_string(stdout, err);
    fputs("}\n", stdout);
    sbf_file_error(path, err);
}

/* Whole photos: every face found, in detection order. */
static int represent_photos(int npos, char **pos, const sbf_pipeline_opts *po) {
    char err[256];
    sbf_pipeline *pl = sbf_pipeline_new(po, err, sizeof err);
    if (!pl) {
        sbf_error("represent: %s", err);
        return 3;
    }
    int batch = 4 * sbf_pipeline_threads(pl), failed = 0;
    if (batch < 8) batch = 8;
    sbf_photo_job *jobs = calloc((size_t)batch, sizeof *jobs);
    if (!jobs) {
        sbf_error("represent: out of memory");
        sbf_pipeline_free(pl);
        return 3;
    }
    for (int b = 0; b < npos; b += batch) {
        int n = npos - b < batch ? npos - b : batch;
        for (int k = 0; k < n; k++) jobs[k].path = pos[b + k];
        if (sbf_pipeline_run(pl, jobs, n, err, sizeof err)) {
            sbf_error("represent: %s", err);
            for (int k = 0; k < n; k++) sbf_photo_job_clear(&jobs[k]);
            failed = 3;
            break;
        }
        for (int k = 0; k < n; k++) {
            sbf_photo_job *j = &jobs[k];
            if (j->failed) {
                print_error_line(j->path, j->err);
                failed = 1;
            } else {
                fputs("{\"path\":", stdout);
                sbf_json_string(stdout, j->path);
                fputs(",\"faces\":[", stdout);
                for (int f = 0; f < j->nfaces; f++) {
                    const sbf_box *bx = &j->faces[f].box;
                    printf("%s{\"box\":[%ld,%ld,%ld,%ld],\"score\":", f ? "," : "", bx->left, bx->top, bx->right,
                           bx->bottom);
                    sbf_json_float(stdout, bx->score);
                    putchar(',');
                    print_embedding(j->faces[f].emb);
                    putchar('}');
                }
                fputs("]}\n", stdout);
            }
            sbf_photo_job_clear(j);
        }
        fflush(stdout);
    }
    free(jobs);
    sbf_pipeline_free(pl);
    return failed;
}

/* With --db, the database's FaceNet model and alignment rule (as embed and find use them); else --model or
 * the default model for a new database, and the default alignment.  0, or the exit status (said). */
static int represent_opts(sbf_pipeline_opts *po, const char *db, const char *model, int threads) {
    sbf_pipeline_defaults(po);
    po->threads = threads;
    po->embed = 1;
    if (!db) return sbf_pipeline_db_model(po, NULL, "represent", NULL, model);
    char err[512];
    sbf_store *st = sbf_store_open(db, SBF_STORE_READ, err, sizeof err);
    if (!st) {
        sbf_db_open_error(db, err);
        return 3;
    }
    int rc = sbf_pipeline_db_align(po, st, "represent", db, NULL);
    if (!rc) rc = sbf_pipeline_db_model(po, st, "represent", db, model);
    sbf_store_close(st);
    return rc;
}

int sbf_cmd_represent(int argc, char **argv) {
    int aligned = 0, threads = 0;
    const char *model = NULL, *db = NULL;
    const sbf_opt opts[] = {
        {"aligned", NULL, SBF_OPT_FLAG, &aligned, NULL,
         "each IMAGE is an aligned face crop (resized to 160x160 if needed)"},
        {"threads", NULL, SBF_OPT_INT, &threads, "N", "threads (default 0 = all cores)"},
        {"db", NULL, SBF_OPT_STRING, &db, "FILE",
         "embed as this database's faces were: its FaceNet model and alignment rule (so the lines compare with it)"},
        {"model", NULL, SBF_OPT_STRING, &model, "float32|int8|FILE",
         "FaceNet model: float32, int8 or a weight file (a float16 file halves the memory); default: --db's, else "
         "the model a new database gets on this CPU"},
        {0}};
    const sbf_cmd_spec spec = {
        "represent",
        "represent [OPTIONS] IMAGE...",
        "Print FaceNet embeddings as JSON lines.",
        "FaceNet 20180402-114759 (Inception-ResNet-v1, 512-D, L2-normalised), computed by our own inference\n"
        "engine in float32 or int8 arithmetic (--model); with --db FILE as that database's embeddings were made\n"
        "(its model and alignment rule), so the lines compare with its faces.  With --aligned every image is taken as "
        "an aligned face crop (resized to 160x160 bilinear\n"
        "if it has another size; input scaled (x-127.5)/128) and one line is printed per image:\n"
        "  {\"path\":P,\"embedding\":[512 numbers]}\n"
        "Without --aligned every face of each photo is found (as 'embed' does: HOG detector, 68 landmarks,\n"
        "alignment) and embedded, one line per photo, faces in detection order, boxes as 'detect' prints them:\n"
        "  {\"path\":P,\"faces\":[{\"box\":[l,t,r,b],\"score\":S,\"embedding\":[512 numbers]},...]}\n"
        "An unreadable image gives {\"path\":P,\"error\":REASON} and exit status 1.",
        opts,
        1,
        -1};
    int npos;
    char **pos;
    int rc = sbf_parse(&spec, argc, argv, &npos, &pos);
    if (rc == 1) return 0;
    if (rc) return rc;
    sbf_pipeline_opts po;
    if ((rc = represent_opts(&po, db, model, threads))) {
        free(pos);
        return rc;
    }
    if (!aligned) {
        rc = represent_photos(npos, pos, &po);
        free(pos);
        return rc;
    }
    char err[256];
    const char *mpath = po.facenet_model ? po.facenet_model : sbf_model_path(sbf_model_file(po.model));
    nn_facenet *net = nn_facenet_load(mpath, threads, err, sizeof err);
    if (!net) {
        sbf_error("represent: %s: %s%s", mpath, err,
                  po.facenet_model ? "" : " (run `make setup`, give --model, or set SORTBYFACE_WEIGHTS)");
        free(pos);
        return 3;
    }
    int failed = 0;
    /* Crops go through the network in groups (faces then run in parallel, one per thread); lines keep
     * the order of the arguments. */
    const size_t px = (size_t)NN_FACENET_SIZE * NN_FACENET_SIZE * 3;
    const int group = 16;
    unsigned char *crop = malloc(px * group);
    float *emb = malloc(sizeof(float) * NN_FACENET_DIM * group);
    int *ok = malloc(sizeof(int) * group);
    char(*errs)[256] = malloc(sizeof *errs * group);
    if (!crop || !emb || !ok || !errs) {
        sbf_error("represent: out of memory");
        free(crop);
        free(emb);
        free(ok);
        free(errs);
        nn_facenet_free(net);
        free(pos);
        return 3;
    }
    for (int g = 0; g < npos; g += group) {
        int n = npos - g < group ? npos - g : group, nok = 0;
        for (int k = 0; k < n; k++) {
            sbf_image im;
            ok[k] = -1;
            if (sbf_image_load(pos[g + k], SBF_DEFAULT_MAX_PIXELS, &im, errs[k], sizeof errs[k])) continue;
            unsigned char *dst = crop + px * (size_t)nok;
            if (im.w == NN_FACENET_SIZE && im.h == NN_FACENET_SIZE) memcpy(dst, im.rgb, px);
            else resize_rgb(im.rgb, im.w, im.h, dst, NN_FACENET_SIZE, NN_FACENET_SIZE);
            sbf_image_free(&im);
            ok[k] = nok++;
        }
        int rc2 = nn_facenet_embed(net, crop, nok, emb);
        for (int k = 0; k < n; k++) {
            if (ok[k] < 0 || rc2) {
                print_error_line(pos[g + k], ok[k] < 0 ? errs[k] : "embedding failed");
                failed = 1;
                continue;
            }
            fputs("{\"path\":", stdout);
            sbf_json_string(stdout, pos[g + k]);
            putchar(',');
            print_embedding(emb + (size_t)ok[k] * NN_FACENET_DIM);
            fputs("}\n", stdout);
        }
        fflush(stdout);
    }
    free(emb);
    free(ok);
    free(errs);
    free(crop);
    nn_facenet_free(net);
    free(pos);
    return failed ? 1 : 0;
}
