// tools/bench-detect.cpp — speed of our face detector against dlib's, same images, same run.
//
// Images are decoded once (our decoder) and converted to gray; each image goes through the three
// configurations back to back, R times, and the fastest run of each (image, configuration) counts
// (the machine is shared; the minimum is the least disturbed measurement):
//   dlib      get_frontal_face_detector() in this process, 1 thread (its header code compiled
//             with g++ -O2, as a program using Debian's libdlib-dev gets by default)
//   ours x1   sbf_detect(), 1 thread
//   ours x2   sbf_detect() with a 2-thread pool
// and prints the time per image and the speed ratio to dlib.  The boxes are compared too.
//
// usage: bench-detect [--shared DIR] [--lfw N] [--reps R] [--upsample U] [--photos] [IMAGE...]
//   default: N=100 LFW dev images (every k-th of the sorted list) plus, with --photos, the
//   shared example photos.
#include <dlib/image_processing/frontal_face_detector.h>
#include <time.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include "tools/image-list.h"
extern "C" {
#include "nn/threadpool.h"
#include "src/detect.h"
#include "src/image.h"
}

using namespace dlib;

static double cpu_now() {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double now() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct img {
    std::string path;
    int w, h;
    std::vector<unsigned char> gray;
    array2d<unsigned char> g;
};

int main(int argc, char **argv) {
    std::string shared = getenv("SBF_SHARED") ? getenv("SBF_SHARED") : "../shared";
    long nlfw = 100;
    int reps = 3, up = 0;
    bool photos = false;
    std::vector<std::string> paths;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--shared" && i + 1 < argc) shared = argv[++i];
        else if (a == "--lfw" && i + 1 < argc) nlfw = atol(argv[++i]);
        else if (a == "--reps" && i + 1 < argc) reps = atoi(argv[++i]);
        else if (a == "--upsample" && i + 1 < argc) up = atoi(argv[++i]);
        else if (a == "--photos") photos = true;
        else if (a[0] == '-') {
            fprintf(stderr,
                    "usage: bench-detect [--shared DIR] [--lfw N] [--reps R] [--upsample U] [--photos] [IMAGE...]\n");
            return 2;
        } else paths.push_back(a);
    }
    if (paths.empty()) {
        std::vector<std::string> lfw;
        tool_list_images(shared + "/data/lfw-dev", lfw);
        if (lfw.empty() && nlfw > 0) {
            fprintf(stderr, "bench-detect: no LFW images under %s\n", shared.c_str());
            return 1;
        }
        const size_t step = std::max<size_t>(1, lfw.size() / (size_t)std::max(1L, nlfw));
        for (size_t i = 0; i < lfw.size() && (long)(i / step) < nlfw; i += step) paths.push_back(lfw[i]);
        if (photos) tool_list_images(shared + "/data/photos", paths);
    }
    std::vector<img> set;
    long pixels = 0;
    for (auto &p : paths) {
        sbf_image im;
        char err[256];
        if (sbf_image_load(p.c_str(), SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err)) {
            fprintf(stderr, "bench-detect: %s: %s\n", p.c_str(), err);
            continue;
        }
        set.emplace_back();
        img &x = set.back();
        x.path = p;
        x.w = im.w;
        x.h = im.h;
        x.gray.assign(im.gray, im.gray + (size_t)im.w * im.h);
        x.g.set_size(im.h, im.w);
        for (int y = 0; y < im.h; y++) memcpy(&x.g[y][0], im.gray + (size_t)y * im.w, (size_t)im.w);
        pixels += (long)im.w * im.h;
        sbf_image_free(&im);
    }
    if (set.empty()) return 1;
    char err[256];
    sbf_detector *ours = sbf_detector_new(err, sizeof err);
    if (!ours) {
        fprintf(stderr, "bench-detect: %s\n", err);
        return 1;
    }
    nn_pool *pool2 = nn_pool_new(2);
    frontal_face_detector det = get_frontal_face_detector();
    pyramid_down<2> pyr;
    /* per image and configuration the fastest of R runs; the three configurations run back to back
     * on each image so that they see the same machine load */
    std::vector<double> tbest(set.size() * 3, 1e30);
    long faces[3] = {0, 0, 0}, mismatch = 0;
    double wall_sum[3] = {0, 0, 0}, cpu_sum[3] = {0, 0, 0};
    std::vector<std::vector<rectangle>> ref(set.size());
    for (int r = 0; r < reps; r++) {
        for (size_t i = 0; i < set.size(); i++) {
            for (int cfg = 0; cfg < 3; cfg++) {
                const double t0 = now(), c0 = cpu_now();
                long nf;
                if (cfg == 0) {
                    std::vector<rect_detection> d;
                    if (up == 0) det(set[i].g, d);
                    else {
                        array2d<unsigned char> t;
                        pyramid_up(set[i].g, t, pyr);
                        for (int k = 1; k < up; k++) pyramid_up(t);
                        det(t, d);
                        for (auto &x : d) x.rect = pyr.rect_down(x.rect, up);
                    }
                    tbest[i * 3] = std::min(tbest[i * 3], now() - t0);
                    nf = (long)d.size();
                    if (r == 0) {
                        ref[i].clear();
                        for (auto &x : d) ref[i].push_back(x.rect);
                    }
                } else {
                    sbf_box *b = nullptr;
                    int n =
                        sbf_detect(ours, set[i].gray.data(), set[i].w, set[i].h, up, cfg == 2 ? pool2 : nullptr, &b);
                    tbest[i * 3 + cfg] = std::min(tbest[i * 3 + cfg], now() - t0);
                    nf = n;
                    if (r == 0) {
                        bool same = n == (int)ref[i].size();
                        for (int k = 0; same && k < n; k++)
                            same = b[k].left == ref[i][k].left() && b[k].top == ref[i][k].top() &&
                                   b[k].right == ref[i][k].right() && b[k].bottom == ref[i][k].bottom();
                        if (!same) mismatch++;
                    }
                    free(b);
                }
                if (r == 0) faces[cfg] += nf;
                wall_sum[cfg] += now() - t0;
                cpu_sum[cfg] += cpu_now() - c0;
            }
        }
    }
    double best[3] = {0, 0, 0};
    for (size_t i = 0; i < set.size(); i++)
        for (int cfg = 0; cfg < 3; cfg++) best[cfg] += tbest[i * 3 + cfg];
    const double n = (double)set.size();
    printf("bench-detect: %zu images (%.2f Mpixel in all), upsample %d, fastest of %d runs per image\n", set.size(),
           pixels / 1e6, up, reps);
    printf("  dlib     1 thread : %8.2f ms/image  (%ld faces)\n", best[0] / n * 1e3, faces[0]);
    printf("  ours     1 thread : %8.2f ms/image  (%ld faces)  %.2fx dlib\n", best[1] / n * 1e3, faces[1],
           best[0] / best[1]);
    printf("  ours     2 threads: %8.2f ms/image  (%ld faces)  %.2fx dlib\n", best[2] / n * 1e3, faces[2],
           best[0] / best[2]);
    printf("  (CPU time / wall time over all runs: 2 threads %.2f -- well below 2 means the machine did not\n"
           "   have a second core free for us, so the 2-thread figure understates what 2 cores give)\n",
           cpu_sum[2] / wall_sum[2]);
    if (mismatch) printf("  WARNING: %ld images with boxes different from dlib's\n", mismatch);
    nn_pool_free(pool2);
    sbf_detector_free(ours);
    return mismatch ? 1 : 0;
}
