// tools/bench-landmarks.cpp — per-face landmark time: our shape predictor vs Debian's dlib, in one run, on the
// same faces (dlib's detections on the shared photos, our decoded grayscale pixels).
//
// usage: bench-landmarks [--model FILE] [--rounds N] [--min-ratio R]
//        bench-landmarks --load FILE|dlib    (load time and resident memory of one model format, then
//                                             after predicting every face once; run one process per format)
// Prints dlib's and our per-face time (best round of each), the ratio, and PASS/FAIL against --min-ratio
// (default 2.0); exit 1 when below.
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "src/face.h"
#include "src/image.h"
#include "src/landmarks.h"
}

static const char *DLIB_MODEL = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";

static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static long rss_kb() {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) v = atol(line + 6);
    if (f) fclose(f);
    return v;
}

struct face {
    size_t img;
    dlib::rectangle r;
};

int main(int argc, char **argv) {
    const char *model = DLIB_MODEL, *load = nullptr;
    int rounds = 5;
    double min_ratio = 2.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-ratio") && i + 1 < argc) min_ratio = atof(argv[++i]);
        else if (!strcmp(argv[i], "--load") && i + 1 < argc) load = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--model FILE] [--rounds N] [--min-ratio R] | --load FILE|dlib\n", argv[0]);
            return 2;
        }
    }
    const char *shared = getenv("SBF_SHARED");
    std::string sh = shared && *shared ? shared : "../shared";
    const char *files[] = {
        "dlib-examples/2007_007763.jpg",   "dlib-examples/2008_001009.jpg", "dlib-examples/2008_001322.jpg",
        "dlib-examples/2008_002079.jpg",   "dlib-examples/2008_002470.jpg", "dlib-examples/2008_002506.jpg",
        "dlib-examples/2008_004176.jpg",   "dlib-examples/2008_007676.jpg", "dlib-examples/2009_004587.jpg",
        "people-examples/obama_small.jpg", "people-examples/two_people.jpg"};
    std::vector<sbf_image> ims;
    std::vector<dlib::array2d<unsigned char>> imgs(sizeof files / sizeof files[0]);
    std::vector<face> faces;
    dlib::frontal_face_detector det = dlib::get_frontal_face_detector();
    char err[256];
    for (const char *f : files) {
        std::string p = sh + "/data/photos/" + f;
        sbf_image im;
        if (sbf_image_load(p.c_str(), SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err)) {
            fprintf(stderr, "bench-landmarks: %s: %s\n", p.c_str(), err);
            return 1;
        }
        size_t k = ims.size();
        ims.push_back(im);
        imgs[k].set_size(im.h, im.w);
        for (int y = 0; y < im.h; y++) memcpy(&imgs[k][y][0], im.gray + (size_t)y * im.w, (size_t)im.w);
        for (auto &r : det(imgs[k], 1)) faces.push_back({k, r});
    }
    if (faces.size() < 10) {
        fprintf(stderr, "bench-landmarks: only %zu faces found\n", faces.size());
        return 1;
    }

    if (load) {
        long r0 = rss_kb();
        double t0 = now();
        float pts[68][2];
        if (!strcmp(load, "dlib")) {
            dlib::shape_predictor sp;
            dlib::deserialize(DLIB_MODEL) >> sp;
            double t1 = now();
            long r1 = rss_kb();
            for (auto &f : faces) sp(imgs[f.img], f.r);
            printf("load dlib %s: %.3f s, RSS +%ld MB after load, +%ld MB after %zu faces\n", DLIB_MODEL, t1 - t0,
                   (r1 - r0) / 1024, (rss_kb() - r0) / 1024, faces.size());
        } else {
            sbf_shape_model *m = sbf_shape_load(load, err, sizeof err);
            if (!m) {
                fprintf(stderr, "bench-landmarks: %s: %s\n", load, err);
                return 1;
            }
            double t1 = now();
            long r1 = rss_kb();
            for (auto &f : faces) {
                sbf_box b = {f.r.left(), f.r.top(), f.r.right(), f.r.bottom(), 0, -1};
                sbf_shape_predict(m, ims[f.img].gray, ims[f.img].w, ims[f.img].h, &b, pts);
            }
            printf("load ours %s: %.3f s, RSS +%ld MB after load, +%ld MB after %zu faces\n", load, t1 - t0,
                   (r1 - r0) / 1024, (rss_kb() - r0) / 1024, faces.size());
            sbf_shape_free(m);
        }
        return 0;
    }

    dlib::shape_predictor sp;
    dlib::deserialize(DLIB_MODEL) >> sp;
    sbf_shape_model *m = sbf_shape_load(model, err, sizeof err);
    if (!m) {
        fprintf(stderr, "bench-landmarks: %s: %s\n", model, err);
        return 1;
    }
    double best_dlib = 1e9, best_ours = 1e9, sink = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (auto &f : faces) sink += sp(imgs[f.img], f.r).part(30).x();
        double t1 = now();
        float pts[68][2];
        for (auto &f : faces) {
            sbf_box b = {f.r.left(), f.r.top(), f.r.right(), f.r.bottom(), 0, -1};
            sbf_shape_predict(m, ims[f.img].gray, ims[f.img].w, ims[f.img].h, &b, pts);
            sink += pts[30][0];
        }
        double t2 = now();
        best_dlib = std::min(best_dlib, (t1 - t0) / faces.size());
        best_ours = std::min(best_ours, (t2 - t1) / faces.size());
    }
    double ratio = best_dlib / best_ours;
    printf("bench-landmarks: %zu faces x %d rounds; dlib %.1f us/face, ours (%s) %.1f us/face; speed-up %.2fx (target "
           "%.1fx) %s%s\n",
           faces.size(), rounds, best_dlib * 1e6, model, best_ours * 1e6, ratio, min_ratio,
           ratio >= min_ratio ? "PASS" : "FAIL", sink == 12345.678 ? " " : "");
    sbf_shape_free(m);
    for (auto &im : ims) sbf_image_free(&im);
    return ratio >= min_ratio ? 0 : 1;
}
