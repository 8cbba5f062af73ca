/* src/pipeline.h — owns the per-photo face pipeline: decode -> detect -> landmarks -> align -> FaceNet,
 * batched (photos in parallel for the first four stages, then every crop of the batch through the
 * network at once), and the default detection policy for photos of any size. */
#ifndef SRC_PIPELINE_H
#define SRC_PIPELINE_H
#include "src/align.h"
#include "src/face.h"
#include "src/models.h"
#include "src/store.h"

/* Detection policy (measured: docs/MEASUREMENTS.md, "Detection policy"): photos of at most this many pixels are
 * upsampled once (pyramid_up, so faces down to ~40 px are found, e.g. LFW's 250x250 pictures); larger
 * photos are scanned at native scale, and above the detector's native limit its big-photo policy
 * (sbf_detect_auto_min_face) skips the pyramid levels whose faces would be tiny. */
#define SBF_AUTO_UPSAMPLE_MAX_PIXELS 1000000L
/* ... and photos of at most this many pixels in which upsampling once finds no face are searched once
 * more at upsample 2 (faces down to ~20 px; on LFW-style pictures this finds most of the faces missed). */
#define SBF_AUTO_RETRY_MAX_PIXELS 250000L
/* ... and if that finds none either, the most likely weak face is taken: the best window scoring at least
 * SBF_AUTO_WEAK_SCORE (dlib's adjust_threshold) whose side is at least SBF_AUTO_WEAK_MIN_SIDE of the
 * photo's shorter side, i.e. the subject of a small portrait-like picture, never a small patch of texture
 * (measured: on lfw-dev it finds 37 of the 45 faces still missed; no box on any of the 16 negatives). */
#define SBF_AUTO_WEAK_SCORE (-0.6)
#define SBF_AUTO_WEAK_MIN_SIDE 0.3

typedef struct {
    int upsample;         /* -1: automatic (above) */
    int min_face;         /* -1: detector's automatic policy; 0: full dlib-identical scan; > 0 pixels */
    long long max_pixels; /* decoder limit */
    sbf_align_method align;
    const char *landmarks_model; /* NULL: sbf_landmarks_default_path() */
    sbf_model model;             /* the FaceNet model (float32 unless sbf_pipeline_db_model says otherwise) */
    const char *facenet_model;   /* its weight file; NULL: sbf_model_path(sbf_model_file(model)) */
    int threads;                 /* <= 0: all cores */
    int embed;                   /* 0: stop after alignment (no network needed) */
} sbf_pipeline_opts;

void sbf_pipeline_defaults(sbf_pipeline_opts *o);
/* Applies the verbs' --upsample (auto or 0..3) and --align (mtcnn, box or eyes; NULL keeps the default) flags;
 * 0, or 2 after a one-line usage error naming the verb. */
int sbf_pipeline_set_flags(sbf_pipeline_opts *o, const char *verb, const char *upsample, const char *align);
/* The alignment rule of a database (its "align" setting; a database with photos but no setting was
 * made with "box", the default before the setting existed) becomes the run's rule, so a database never
 * mixes embeddings of two rules and find embeds its query like the database.  An explicit --align
 * (align_flag != NULL) that differs is a usage error (2); an unknown recorded rule is 3.  0 for an
 * empty database (the run's rule stays). */
int sbf_pipeline_db_align(sbf_pipeline_opts *o, const sbf_store *st, const char *verb, const char *db,
                          const char *align_flag);
/* The database's rule as above ("box" for an old database with photos), NULL for a new, empty one;
 * *recorded (may be NULL) says whether the database itself names it. */
const char *sbf_pipeline_db_rule(const sbf_store *st, int *recorded);
/* The FaceNet model of a run (src/models.h, sbf_model_rule): model_flag (--model: NULL, float32, int8 or a
 * weight file) and the database st (NULL: none, as a new database) decide o->model and o->facenet_model: a new
 * database gets the flag's model or the default (sbf_model_default), an existing one keeps its model (one with
 * photos but no "model" setting is float32), and an explicit --model that differs is a usage error (2, said
 * with the reason); a --model that is neither a name nor a FaceNet weight file is 2, a weight file named that
 * cannot be read 3 (the model is missing), an unknown recorded model 3.  0 otherwise.  Embed records o->model in a database it writes. */
int sbf_pipeline_db_model(sbf_pipeline_opts *o, const sbf_store *st, const char *verb, const char *db,
                          const char *model_flag);
/* The database's model name as above ("float32" for an old database with photos), NULL for a new, empty
 * one; *recorded (may be NULL) says whether the database itself names it. */
const char *sbf_pipeline_db_model_name(const sbf_store *st, int *recorded);
/* Upsampling for a w x h photo under opts (resolves -1). */
int sbf_pipeline_upsample(const sbf_pipeline_opts *o, int w, int h);

typedef struct sbf_pipeline sbf_pipeline;
/* Loads the models; NULL and a one-line reason (naming the model file) on failure. */
sbf_pipeline *sbf_pipeline_new(const sbf_pipeline_opts *o, char *err, size_t errlen);
void sbf_pipeline_free(sbf_pipeline *p);
int sbf_pipeline_threads(const sbf_pipeline *p);

/* One photo's work and result. */
typedef struct {
    const char *path; /* input */
    int failed;       /* 1: err says why (decode error, out of memory) */
    char err[256];
    int width, height; /* after EXIF rotation */
    int nfaces;
    sbf_face_rec *faces;  /* index, box, landmarks, emb (emb only when opts.embed) */
    unsigned char *crops; /* nfaces x 160x160x3 RGB aligned crops */
} sbf_photo_job;

/* Runs the pipeline for n photos.  Failures are per photo (job->failed); returns -1 only when the
 * network fails for the whole batch (err set). */
int sbf_pipeline_run(sbf_pipeline *p, sbf_photo_job *jobs, int n, char *err, size_t errlen);
void sbf_photo_job_clear(sbf_photo_job *j);
#endif
