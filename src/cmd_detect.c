/* src/cmd_detect.c — the 'detect' verb: runs the face detector (src/detect.h) on each image and
 * prints one JSON line per image. */
#include <stdio.h>
#include <stdlib.h>
#include "nn/threadpool.h"
#include "src/cli.h"
#include "src/detect.h"
#include "src/image.h"
#include "src/landmarks.h"
#include "src/util.h"
#include "src/verbs.h"

static void print_faces(const char *path, const sbf_image *im, const sbf_box *b, int n, const sbf_shape_model *sm) {
    fputs("{\"path\":", stdout);
    sbf_json_string(stdout, path);
    printf(",\"width\":%d,\"height\":%d,\"faces\":[", im->w, im->h);
    for (int i = 0; i < n; i++) {
        printf("%s{\"box\":[%ld,%ld,%ld,%ld],\"score\":", i ? "," : "", b[i].left, b[i].top, b[i].right, b[i].bottom);
        sbf_json_float(stdout, b[i].score);
        if (sm) { /* --landmarks */
            float p[SBF_LANDMARKS][2];
            sbf_shape_predict(sm, im->gray, im->w, im->h, &b[i], p);
            sbf_landmarks_print_json(stdout, (const float(*)[2])p);
        }
        putchar('}');
    }
    fputs("]}\n", stdout);
}

int sbf_cmd_detect(int argc, char **argv) {
    int upsample = 0, threads = 0, min_face = -1, max_pixels = (int)SBF_DEFAULT_MAX_PIXELS, landmarks = 0;
    const char *lm_path = NULL;
    double adjust = 0;
    const sbf_opt opts[] = {
        {"landmarks", NULL, SBF_OPT_FLAG, &landmarks, NULL,
         "add dlib's 68 landmarks per face (\"landmarks\":[[x,y],...])"},
        {"landmarks-model", NULL, SBF_OPT_STRING, &lm_path, "FILE",
         "68-point model (.dat or .sbfw; default weights/shape-68.sbfw, else Debian's libdlib-data file)"},
        {"upsample", NULL, SBF_OPT_INT, &upsample, "N",
         "upsample the image N times first, like dlib's detector(img, N) (default 0)"},
        {"adjust-threshold", NULL, SBF_OPT_DOUBLE, &adjust, "S",
         "also report weaker faces, scoring down to S, like dlib's detector(img, N, S) (default 0)"},
        {"threads", NULL, SBF_OPT_INT, &threads, "N", "threads per image (default 0 = all cores)"},
        {"min-face", NULL, SBF_OPT_INT, &min_face, "PX",
         "smallest face to look for, in pixels; 0 = every size, exactly as dlib (default: auto, see below)"},
        {"max-pixels", NULL, SBF_OPT_INT, &max_pixels, "N",
         "refuse images with more pixels than N (default 100000000)"},
        {0}};
    const sbf_cmd_spec spec = {
        "detect",
        "detect [OPTIONS] IMAGE...",
        "Print the faces found in each image as JSON lines.",
        "Finds faces with dlib's HOG frontal face detector, reimplemented: same boxes, scores and order as\n"
        "dlib's get_frontal_face_detector() on the same pixels.  One line per image:\n"
        "  {\"path\":P,\"width\":W,\"height\":H,\"faces\":[{\"box\":[left,top,right,bottom],\"score\":S},...]}\n"

        "boxes in dlib's convention (right/bottom inclusive) in the EXIF-rotated image; an unreadable image\n"
        "gives {\"path\":P,\"error\":REASON} and exit status 1.\n"
        "With --landmarks each face also has \"landmarks\":[[x,y],...] (68 points, dlib's order, as dlib's\n"
        "shape_predictor computes them before rounding to whole pixels).\n\n"
        "Big photos (--min-face): dlib scans an image pyramid (5/6 per level) with an 80x80 window, so its\n"
        "level L only finds faces of about 80*1.2^L pixels.  With --min-face PX the levels whose window is\n"
        "smaller than PX are skipped: every box reported is a window dlib scores identically (same box,\n"
        "same score), faces smaller than about PX are not looked for, and where dlib kept a smaller box\n"
        "on a face the next larger window on it is reported.  By default (auto) images of up to 4.2\n"
        "megapixels (after --upsample) are scanned completely (identical to dlib); bigger ones skip the\n"
        "levels above 4.2 MP, e.g. a 12 MP photo looks for faces of 116 px and more, about 3x faster.",
        opts,
        1,
        -1};
    int npos;
    char **pos;
    int rc = sbf_parse(&spec, argc, argv, &npos, &pos);
    if (rc == 1) return 0;
    if (rc) return rc;
    char err[256];
    sbf_detector *det = sbf_detector_new(err, sizeof err);
    if (!det) {
        sbf_error("detect: %s", err);
        free(pos);
        return 3;
    }
    sbf_shape_model *sm = NULL;
    if (landmarks || lm_path) {
        const char *path = lm_path ? lm_path : sbf_landmarks_default_path();
        if (!(sm = sbf_shape_load(path, err, sizeof err))) {
            sbf_file_error(path, err);
            sbf_detector_free(det);
            free(pos);
            return 3;
        }
    }
    nn_pool *pool = nn_pool_new(threads);
    int failed = 0;
    for (int i = 0; i < npos; i++) {
        sbf_image im;
        if (sbf_image_load(pos[i], max_pixels, &im, err, sizeof err)) {
            fputs("{\"path\":", stdout);
            sbf_json_string(stdout, pos[i]);
            fputs(",\"error\":", stdout);
            sbf_json_string(stdout, err);
            fputs("}\n", stdout);
            sbf_file_error(pos[i], err);
            failed = 1;
            continue;
        }
        const int mf = min_face >= 0 ? min_face : sbf_detect_auto_min_face(det, im.w, im.h, upsample);
        sbf_box *b = NULL;
        const int n = sbf_detect_ex(det, im.gray, im.w, im.h, upsample, mf, adjust, pool, &b);
        if (n < 0) {
            fputs("{\"path\":", stdout);
            sbf_json_string(stdout, pos[i]);
            fputs(",\"error\":\"out of memory\"}\n", stdout);
            sbf_file_error(pos[i], "out of memory");
            failed = 1;
        } else {
            print_faces(pos[i], &im, b, n, sm);
        }
        fflush(stdout);
        free(b);
        sbf_image_free(&im);
    }
    nn_pool_free(pool);
    sbf_shape_free(sm);
    sbf_detector_free(det);
    free(pos);
    return failed ? 1 : 0;
}
