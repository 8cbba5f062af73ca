/* src/pipeline.c — decode, detect, landmarks, align (photos in parallel), then FaceNet per batch. */
#include "src/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nn/facenet.h"
#include "nn/threadpool.h"
#include "src/detect.h"
#include "src/image.h"
#include "src/landmarks.h"
#include "src/models.h"

/* Photos up to this size keep their buffers for the next photo of the same thread; a bigger one's are
 * given back after it (one 100-megapixel photo need not stay resident). */
#define KEEP_PIXELS 25000000L

/* One thread's buffers, kept from photo to photo: the decoded image (and the file's bytes) and the
 * detector's pyramid and fHOG planes.  No fresh memory per photo: measured in docs/MEASUREMENTS.md,
 * "Camera-size photos (issue 22)". */
typedef struct {
    sbf_image_buffers img;
    sbf_detect_ws *dws;
} thread_bufs;

struct sbf_pipeline {
    sbf_pipeline_opts o;
    sbf_detector *det;
    sbf_shape_model *shape;
    nn_facenet *net;
    nn_pool *pool;
    thread_bufs *tb;
    int ntb;
};

void sbf_pipeline_defaults(sbf_pipeline_opts *o) {
    memset(o, 0, sizeof *o);
    o->upsample = -1;
    o->min_face = -1;
    o->max_pixels = 100000000LL;
    o->align = SBF_ALIGN_DEFAULT;
    o->model = SBF_MODEL_FLOAT32;
    o->embed = 1;
}

int sbf_pipeline_set_flags(sbf_pipeline_opts *o, const char *verb, const char *upsample, const char *align) {
    if (upsample && strcmp(upsample, "auto") != 0) {
        char *end;
        long u = strtol(upsample, &end, 10);
        if (*end || end == upsample || u < 0 || u > 3) {
            fprintf(stderr, "sortbyface %s: --upsample must be auto or 0..3 (got '%s')\n", verb, upsample);
            return 2;
        }
        o->upsample = (int)u;
    }
    if (align && sbf_align_parse(align, &o->align)) {
        fprintf(stderr, "sortbyface %s: --align must be mtcnn, box or eyes (got '%s')\n", verb, align);
        return 2;
    }
    return 0;
}

const char *sbf_pipeline_db_rule(const sbf_store *st, int *recorded) {
    const char *rec = sbf_store_get_setting(st, SBF_SETTING_ALIGN);
    sbf_store_stats ss;
    sbf_store_get_stats(st, &ss);
    if (recorded) *recorded = rec != NULL;
    if (!rec && ss.photos > 0) rec = "box"; /* written before the setting existed, when box was the default */
    return rec;
}

int sbf_pipeline_db_align(sbf_pipeline_opts *o, const sbf_store *st, const char *verb, const char *db,
                          const char *align_flag) {
    const char *rec = sbf_pipeline_db_rule(st, NULL);
    sbf_align_method m;
    if (!rec || sbf_align_parse(rec, &m)) {
        if (rec) {
            fprintf(stderr, "sortbyface %s: %s: made with an alignment rule this version does not know ('%s')\n", verb,
                    db, rec);
            return 3;
        }
        return 0; /* a new, empty database: the run's rule */
    }
    if (align_flag && m != o->align) {
        fprintf(stderr,
                "sortbyface %s: %s: its faces were aligned with --align %s, not %s, and embeddings of two rules do "
                "not compare (leave --align out, or use another --db)\n",
                verb, db, rec, sbf_align_name(o->align));
        return 2;
    }
    o->align = m;
    return 0;
}

const char *sbf_pipeline_db_model_name(const sbf_store *st, int *recorded) {
    const char *rec = sbf_store_get_setting(st, SBF_SETTING_MODEL);
    sbf_store_stats ss;
    sbf_store_get_stats(st, &ss);
    if (recorded) *recorded = rec != NULL;
    if (!rec && ss.photos > 0) rec = sbf_model_name(SBF_MODEL_FLOAT32); /* made before the setting existed */
    return rec;
}

int sbf_pipeline_db_model(sbf_pipeline_opts *o, const sbf_store *st, const char *verb, const char *db,
                          const char *model_flag) {
    sbf_model flag_model = SBF_MODEL_FLOAT32;
    const char *path = NULL;
    char why[512];
    int frc = model_flag ? sbf_model_flag(model_flag, &flag_model, &path, why, sizeof why) : 0;
    if (frc) {
        fprintf(stderr, "sortbyface %s: %s\n", verb, why);
        return frc == -2 ? 3 : 2;
    }
    const char *rec = st ? sbf_store_get_setting(st, SBF_SETTING_MODEL) : NULL;
    sbf_store_stats ss = {0};
    if (st) sbf_store_get_stats(st, &ss);
    int rc =
        sbf_model_rule(rec, ss.photos, model_flag != NULL, flag_model, sbf_model_default(), &o->model, why, sizeof why);
    if (rc) {
        fprintf(stderr, "sortbyface %s: %s: %s\n", verb, db, why);
        return rc;
    }
    o->facenet_model = path;
    return 0;
}

int sbf_pipeline_upsample(const sbf_pipeline_opts *o, int w, int h) {
    if (o->upsample >= 0) return o->upsample;
    return (long long)w * h <= SBF_AUTO_UPSAMPLE_MAX_PIXELS ? 1 : 0;
}

sbf_pipeline *sbf_pipeline_new(const sbf_pipeline_opts *o, char *err, size_t errlen) {
    sbf_pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->o = *o;
    char e[256];
    if (!(p->det = sbf_detector_new(e, sizeof e))) {
        snprintf(err, errlen, "face detector: %s", e);
        goto fail;
    }
    const char *lm = o->landmarks_model ? o->landmarks_model : sbf_landmarks_default_path();
    if (!(p->shape = sbf_shape_load(lm, e, sizeof e))) {
        snprintf(err, errlen, "landmark model %s: %s%s", lm, e,
                 o->landmarks_model ? "" : " (install Debian's libdlib-data or give --landmarks-model)");
        goto fail;
    }
    if (o->embed) {
        const char *fm = o->facenet_model ? o->facenet_model : sbf_model_path(sbf_model_file(o->model));
        if (!(p->net = nn_facenet_load(fm, o->threads, e, sizeof e))) {
            snprintf(err, errlen, "FaceNet model %s: %s%s", fm, e,
                     o->facenet_model ? "" : " (run `make setup`, or give --model, or set SORTBYFACE_WEIGHTS)");
            goto fail;
        }
    }
    if (!(p->pool = nn_pool_new(o->threads))) {
        snprintf(err, errlen, "cannot start threads");
        goto fail;
    }
    p->ntb = nn_pool_threads(p->pool);
    if (!(p->tb = calloc((size_t)p->ntb, sizeof *p->tb))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int i = 0; i < p->ntb; i++)
        if (!(p->tb[i].dws = sbf_detect_ws_new())) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    return p;
fail:
    sbf_pipeline_free(p);
    return NULL;
}

void sbf_pipeline_free(sbf_pipeline *p) {
    if (!p) return;
    sbf_detector_free(p->det);
    sbf_shape_free(p->shape);
    nn_facenet_free(p->net);
    nn_pool_free(p->pool);
    for (int i = 0; p->tb && i < p->ntb; i++) {
        sbf_image_buffers_free(&p->tb[i].img);
        sbf_detect_ws_free(p->tb[i].dws);
    }
    free(p->tb);
    free(p);
}

int sbf_pipeline_threads(const sbf_pipeline *p) { return nn_pool_threads(p->pool); }

void sbf_photo_job_clear(sbf_photo_job *j) {
    free(j->faces);
    free(j->crops);
    const char *path = j->path;
    memset(j, 0, sizeof *j);
    j->path = path;
}

typedef struct {
    sbf_pipeline *p;
    sbf_photo_job *j;
    const sbf_image *im;
    const sbf_box *boxes;
} face_ctx;

static void face_task(void *c, int i, int th) {
    (void)th;
    face_ctx *F = c;
    sbf_face_rec *f = &F->j->faces[i];
    f->index = i;
    f->box = F->boxes[i];
    sbf_shape_predict(F->p->shape, F->im->gray, F->im->w, F->im->h, &F->boxes[i], f->landmarks);
    sbf_align_face(F->im->rgb, F->im->w, F->im->h, &F->boxes[i], (const float(*)[2])f->landmarks, F->p->o.align,
                   F->j->crops + (size_t)i * SBF_CROP * SBF_CROP * 3);
}

/* Stage 1 for one photo with one thread's buffers; pool NULL when photos run in parallel (one thread
 * each), else the pipeline's pool works on this photo alone (detection, landmarks and crops). */
static void analyse(sbf_pipeline *p, sbf_photo_job *j, thread_bufs *tb, nn_pool *pool) {
    if (sbf_image_load_reuse(j->path, p->o.max_pixels, &tb->img, j->err, sizeof j->err)) {
        j->failed = 1;
        return;
    }
    const sbf_image im = tb->img.img;
    j->width = im.w;
    j->height = im.h;
    int up = sbf_pipeline_upsample(&p->o, im.w, im.h);
    int mf = p->o.min_face >= 0 ? p->o.min_face : sbf_detect_auto_min_face(p->det, im.w, im.h, up);
    sbf_box *boxes = NULL;
    int n = sbf_detect_ws_ex(p->det, im.gray, im.w, im.h, up, mf, 0.0, pool, tb->dws, &boxes);
    if (n == 0 && p->o.upsample < 0 && up == 1 && (long long)im.w * im.h <= SBF_AUTO_RETRY_MAX_PIXELS) {
        /* automatic policy: a small photo with no face at upsample 1 gets one more, finer look, that
         * also sees weak windows; windows of positive score are dlib's detections at upsample 2 (the
         * weaker ones come after them and cannot suppress them), else one big weak face is kept */
        free(boxes);
        boxes = NULL;
        n = sbf_detect_ws_ex(p->det, im.gray, im.w, im.h, 2, 0, SBF_AUTO_WEAK_SCORE, pool, tb->dws, &boxes);
        int strong = 0;
        while (strong < n && boxes[strong].score >= 0) strong++;
        for (int k = 0; strong == 0 && k < n; k++) { /* in score order: the best big one */
            const long side = im.w < im.h ? im.w : im.h, bw = boxes[k].right - boxes[k].left + 1,
                       bh = boxes[k].bottom - boxes[k].top + 1;
            if ((bw < bh ? bw : bh) >= SBF_AUTO_WEAK_MIN_SIDE * (double)side) {
                boxes[0] = boxes[k];
                strong = 1;
            }
        }
        if (n > 0) n = strong;
    }
    if (n < 0) {
        snprintf(j->err, sizeof j->err, "out of memory in face detection");
        j->failed = 1;
        goto out;
    }
    if (n > 0) {
        j->faces = calloc((size_t)n, sizeof *j->faces);
        j->crops = malloc((size_t)n * SBF_CROP * SBF_CROP * 3);
        if (!j->faces || !j->crops) {
            snprintf(j->err, sizeof j->err, "out of memory");
            j->failed = 1;
            goto out;
        }
    }
    face_ctx F = {p, j, &im, boxes};
    nn_pool_run(pool, n, face_task, &F); /* pool NULL: here, one face after the other */
    j->nfaces = n;
out:
    free(boxes);
    if ((long long)im.w * im.h > KEEP_PIXELS) { /* a huge photo's buffers go back to the system */
        sbf_image_buffers_trim(&tb->img, 0);
        sbf_detect_ws *fresh = sbf_detect_ws_new();
        if (fresh) {
            sbf_detect_ws_free(tb->dws);
            tb->dws = fresh;
        }
    }
}

typedef struct {
    sbf_pipeline *p;
    sbf_photo_job *jobs;
} run_ctx;
static void analyse_task(void *c, int t, int th) {
    run_ctx *r = c;
    analyse(r->p, &r->jobs[t], &r->p->tb[th], NULL);
}

int sbf_pipeline_run(sbf_pipeline *p, sbf_photo_job *jobs, int n, char *err, size_t errlen) {
    run_ctx r = {p, jobs};
    for (int i = 0; i < n; i++) sbf_photo_job_clear(&jobs[i]);
    if (n >= p->ntb || p->ntb == 1) nn_pool_run(p->pool, n, analyse_task, &r); /* photos in parallel, one thread each */
    else
        for (int i = 0; i < n; i++) analyse(p, &jobs[i], &p->tb[0], p->pool); /* fewer photos than threads */
    if (!p->net) return 0;
    int total = 0;
    for (int i = 0; i < n; i++) total += jobs[i].failed ? 0 : jobs[i].nfaces;
    if (!total) return 0;
    unsigned char *crops = malloc((size_t)total * SBF_CROP * SBF_CROP * 3);
    float *emb = malloc((size_t)total * SBF_EMBED_DIM * sizeof(float));
    if (!crops || !emb) {
        free(crops);
        free(emb);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0, sz = (size_t)SBF_CROP * SBF_CROP * 3;
    for (int i = 0; i < n; i++)
        if (!jobs[i].failed && jobs[i].nfaces) {
            memcpy(crops + k * sz, jobs[i].crops, jobs[i].nfaces * sz);
            k += (size_t)jobs[i].nfaces;
        }
    int rc = nn_facenet_embed(p->net, crops, total, emb);
    if (rc != 0) {
        snprintf(err, errlen, "FaceNet forward pass failed");
        free(crops);
        free(emb);
        return -1;
    }
    k = 0;
    for (int i = 0; i < n; i++)
        if (!jobs[i].failed)
            for (int f = 0; f < jobs[i].nfaces; f++, k++)
                memcpy(jobs[i].faces[f].emb, emb + k * SBF_EMBED_DIM, sizeof(float) * SBF_EMBED_DIM);
    free(crops);
    free(emb);
    return 0;
}
