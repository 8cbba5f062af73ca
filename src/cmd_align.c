/* src/cmd_align.c — the 'align' verb: detect faces, predict landmarks, write each aligned 160x160 crop
 * (what FaceNet sees) as a PNG into a folder, never replacing an existing file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb/stb_image_write.h>

#include "nn/threadpool.h"
#include "src/align.h"
#include "src/cli.h"
#include "src/detect.h"
#include "src/image.h"
#include "src/landmarks.h"
#include "src/util.h"
#include "src/verbs.h"

typedef struct {
    unsigned char *p;
    size_t n, cap;
    int oom;
} membuf;

static void png_sink(void *ctx, void *data, int size) {
    membuf *b = ctx;
    if (b->oom || size <= 0) return;
    if (b->n + (size_t)size > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->n + (size_t)size) cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, (size_t)size);
    b->n += (size_t)size;
}

/* mkdir -p */
static int make_dirs(const char *dir, char *err, size_t errlen) {
    char *p = strdup(dir);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create folder %s: %s", p, strerror(errno));
                free(p);
                return -1;
            }
            *s = c;
            if (!c) break;
        }
    }
    struct stat st;
    int ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    if (!ok) snprintf(err, errlen, "%s is not a folder", dir);
    free(p);
    return ok ? 0 : -1;
}

/* Image file name without folders and extension. */
static void stem(const char *path, char *out, size_t outlen) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    if (n >= outlen) n = outlen - 1;
    memcpy(out, b, n);
    out[n] = 0;
    if (!out[0]) snprintf(out, outlen, "image");
}

/* Writes the PNG as DIR/STEM_N.png, or DIR/STEM_N-2.png, -3, ... when taken.  0 ok, -1 failure. */
static int write_fresh(const char *dir, const char *st, int face, const membuf *png, char *chosen, size_t chosen_len,
                       char *err, size_t errlen) {
    for (int k = 1; k < 10000; k++) {
        if (k == 1) snprintf(chosen, chosen_len, "%s/%s_%d.png", dir, st, face);
        else snprintf(chosen, chosen_len, "%s/%s_%d-%d.png", dir, st, face, k);
        struct stat sb;
        if (lstat(chosen, &sb) == 0) continue;
        if (sbf_write_file_atomic(chosen, png->p, png->n, 0, err, errlen) == 0) {
            if (k > 1) {
                char first[4096];
                snprintf(first, sizeof first, "%s/%s_%d.png", dir, st, face);
                sbf_error("align: %s exists; not replacing it, wrote %s instead", first, chosen);
            }
            return 0;
        }
        if (!strstr(err, "already exists")) return -1; /* a real error; a lost race tries the next name */
    }
    snprintf(err, errlen, "no free file name for %s/%s_%d.png", dir, st, face);
    return -1;
}

int sbf_cmd_align(int argc, char **argv) {
    const char *outdir = NULL, *align_name = NULL, *model_path = NULL;
    int upsample = 0, threads = 0, max_pixels = (int)SBF_DEFAULT_MAX_PIXELS;
    const sbf_opt opts[] = {
        {"output", "o", SBF_OPT_STRING, &outdir, "DIR", "folder for the crops (created if missing; required)"},
        {"align", NULL, SBF_OPT_STRING, &align_name, "RULE", "mtcnn, box or eyes (default mtcnn; see above)"},
        {"upsample", NULL, SBF_OPT_INT, &upsample, "N", "upsample the image N times before detection (default 0)"},
        {"landmarks-model", NULL, SBF_OPT_STRING, &model_path, "FILE",
         "dlib 68-point shape predictor (.dat) or its SBFW conversion (default: weights/shape-68.sbfw, else "
         "/usr/share/dlib/shape_predictor_68_face_landmarks.dat)"},
        {"threads", NULL, SBF_OPT_INT, &threads, "N", "threads for detection (default 0 = all cores)"},
        {"max-pixels", NULL, SBF_OPT_INT, &max_pixels, "N",
         "refuse images with more pixels than N (default 100000000)"},
        {0}};
    const sbf_cmd_spec spec = {
        "align",
        "align [OPTIONS] IMAGE... -o DIR",
        "Write the aligned 160x160 face crops the network sees, as PNG.",
        "Detects the faces of each image (as 'detect'), predicts dlib's 68 landmarks and writes each face as\n"
        "DIR/<image name>_<N>.png (N = 1, 2, ... in detection order).  An existing file is never replaced: the\n"
        "crop then goes to <image name>_<N>-2.png (-3, ...) and a note says so.  Each written path is printed.\n"
        "Rules: 'mtcnn' (default) reproduces the crops FaceNet was trained on (MTCNN's face box plus margin,\n"
        "unrotated, stretched to 160x160): the landmarks are fitted, with separate x and y scales, to where\n"
        "they fall in MTCNN crops, and the crop is 1.25x that box; 'box' takes the detection box enlarged 1.5x\n"
        "around its centre; 'eyes' rotates the face so the eyes are level, left eye centre at (0.35w, 0.35h),\n"
        "eye distance 0.30w (the original tool's imutils FaceAligner rule).  'mtcnn' verifies best on LFW\n"
        "(measured in docs/MEASUREMENTS.md).\n"
        "Pixels outside the photo are black.",
        opts,
        1,
        -1};
    int npos;
    char **pos;
    int rc = sbf_parse(&spec, argc, argv, &npos, &pos);
    if (rc == 1) return 0;
    if (rc) return rc;
    sbf_align_method method = SBF_ALIGN_DEFAULT;
    if (!outdir || !*outdir) {
        sbf_error("align: -o DIR is required (see sortbyface align --help)");
        free(pos);
        return 2;
    }
    if (align_name && sbf_align_parse(align_name, &method) != 0) {
        sbf_error("align: --align must be mtcnn, box or eyes, not '%s'", align_name);
        free(pos);
        return 2;
    }
    char err[512];
    if (!model_path) model_path = sbf_landmarks_default_path();
    sbf_shape_model *sm = sbf_shape_load(model_path, err, sizeof err);
    if (!sm) {
        sbf_error("align: landmark model %s: %s (install Debian's libdlib-data or pass --landmarks-model)", model_path,
                  err);
        free(pos);
        return 3;
    }
    sbf_detector *det = sbf_detector_new(err, sizeof err);
    if (!det) {
        sbf_error("align: %s", err);
        sbf_shape_free(sm);
        free(pos);
        return 3;
    }
    if (make_dirs(outdir, err, sizeof err) != 0) {
        sbf_error("align: %s", err);
        sbf_detector_free(det);
        sbf_shape_free(sm);
        free(pos);
        return 3;
    }
    nn_pool *pool = nn_pool_new(threads);
    int failed = 0, written = 0;
    unsigned char crop[SBF_CROP * SBF_CROP * 3];
    for (int i = 0; i < npos; i++) {
        sbf_image im;
        if (sbf_image_load(pos[i], max_pixels, &im, err, sizeof err)) {
            sbf_file_error(pos[i], err);
            failed = 1;
            continue;
        }
        const int mf = sbf_detect_auto_min_face(det, im.w, im.h, upsample);
        sbf_box *b = NULL;
        const int n = sbf_detect_policy(det, im.gray, im.w, im.h, upsample, mf, pool, &b);
        if (n < 0) {
            sbf_file_error(pos[i], "out of memory");
            failed = 1;
        }
        char st[256];
        stem(pos[i], st, sizeof st);
        for (int f = 0; f < n; f++) {
            float pts[68][2];
            membuf png = {0};
            if (sbf_shape_predict(sm, im.gray, im.w, im.h, &b[f], pts) != 0 ||
                sbf_align_face(im.rgb, im.w, im.h, &b[f], pts, method, crop) != 0 ||
                !stbi_write_png_to_func(png_sink, &png, SBF_CROP, SBF_CROP, 3, crop, SBF_CROP * 3) || png.oom) {
                sbf_file_error(pos[i], "cannot align or encode a face");
                failed = 1;
                free(png.p);
                continue;
            }
            char chosen[4096];
            if (write_fresh(outdir, st, f + 1, &png, chosen, sizeof chosen, err, sizeof err) != 0) {
                sbf_error("align: %s", err);
                failed = 1;
            } else {
                printf("%s\n", chosen);
                written++;
            }
            free(png.p);
        }
        fflush(stdout);
        free(b);
        sbf_image_free(&im);
    }
    nn_pool_free(pool);
    sbf_detector_free(det);
    sbf_shape_free(sm);
    free(pos);
    (void)written;
    return failed ? 1 : 0;
}
