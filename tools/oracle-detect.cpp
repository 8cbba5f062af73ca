// tools/oracle-detect.cpp — oracle test of our face detector against Debian's dlib.
//
// Both detectors get the very same pixels: images are decoded once by our decoder (src/image.c,
// stb_image, EXIF-rotated, gray = (r+g+b)/3) and handed to dlib's get_frontal_face_detector() (run
// as dlib's Python binding does for detector(img, upsample): pyramid_up with pyramid_down<2>, then
// rect_down of the boxes) and to sbf_detect().  Per image and upsample value the two must give the
// same number of faces, identical boxes in the same order, and scores within 1e-3; it also checks
// the building blocks bit for bit (pyramid_down<6>/pyramid_up resampling, fHOG planes) and that a
// 2-thread run equals the 1-thread one.
//
// usage: oracle-detect [--shared DIR] [--lfw N] [--min-rate R] [--max-mpix M] [--verbose] [--json] [IMAGE...]
//   --max-mpix M: skip images above M megapixels (the ASan run uses it to stay short)
//   default images: every photo under DIR/data/photos and DIR/data/negatives plus N (default 300)
//   LFW dev images chosen deterministically (every k-th of the sorted list).
//   --json [--upsample N] [--adjust-threshold S]: only print dlib's detections (detector(img, N, S)), in the exact format of 'sortbyface detect'
//   (tests/oracle_detect.sh compares the two outputs byte for byte).
// Exit status 0 when at least R (default 0.995) of the images match for upsample 0 and 1, every
// negative photo matches, the building blocks are bit-exact and thread runs agree; 1 otherwise.
#include <dlib/image_processing/frontal_face_detector.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include "tools/image-list.h"
extern "C" {
#include "nn/threadpool.h"
#include "src/detect.h"
#include "src/hog.h"
#include "src/image.h"
#include "src/util.h"
}

using namespace dlib;

// dlib's Python detector(img, upsample) (run_detector_with_upscale1)
static std::vector<rect_detection> dlib_detect(frontal_face_detector &det, const array2d<unsigned char> &img, int up,
                                               double adjust = 0) {
    std::vector<rect_detection> dets;
    if (up == 0) {
        det(img, dets, adjust);
        return dets;
    }
    pyramid_down<2> pyr;
    array2d<unsigned char> temp;
    pyramid_up(img, temp, pyr);
    for (int i = 1; i < up; i++) pyramid_up(temp);
    det(temp, dets, adjust);
    for (auto &d : dets) d.rect = pyr.rect_down(d.rect, up);
    return dets;
}

struct stats {
    long images = 0, match = 0, faces = 0, negatives = 0, neg_fail = 0;
    double max_score_diff = 0;
};

int main(int argc, char **argv) {
    std::string shared = getenv("SBF_SHARED") ? getenv("SBF_SHARED") : "../shared";
    long nlfw = 300;
    double min_rate = 0.995, max_mpix = 1e9;
    bool verbose = false, json = false;
    int json_up = 0;
    double json_adjust = 0;
    std::vector<std::string> imgs;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--shared" && i + 1 < argc) shared = argv[++i];
        else if (a == "--lfw" && i + 1 < argc) nlfw = atol(argv[++i]);
        else if (a == "--min-rate" && i + 1 < argc) min_rate = atof(argv[++i]);
        else if (a == "--max-mpix" && i + 1 < argc) max_mpix = atof(argv[++i]);
        else if (a == "--verbose") verbose = true;
        else if (a == "--json") json = true;
        else if (a == "--upsample" && i + 1 < argc) json_up = atoi(argv[++i]);
        else if (a == "--adjust-threshold" && i + 1 < argc) json_adjust = atof(argv[++i]);
        else if (a[0] == '-') {
            fprintf(stderr, "oracle-detect: unknown option %s\n", a.c_str());
            return 2;
        } else imgs.push_back(a);
    }
    std::vector<std::string> negs;
    if (imgs.empty()) {
        std::vector<std::string> photos, lfw;
        tool_list_images(shared + "/data/photos", photos);
        tool_list_images(shared + "/data/negatives", negs);
        tool_list_images(shared + "/data/lfw-dev", lfw);
        if (photos.empty() || negs.empty() || lfw.empty()) {
            fprintf(stderr, "oracle-detect: FAIL: shared data missing under %s (photos %zu, negatives %zu, lfw %zu)\n",
                    shared.c_str(), photos.size(), negs.size(), lfw.size());
            return 1;
        }
        imgs = photos;
        imgs.insert(imgs.end(), negs.begin(), negs.end());
        if (nlfw > 0) {
            const size_t step = std::max<size_t>(1, lfw.size() / (size_t)nlfw);
            for (size_t i = 0; i < lfw.size() && (long)(i / step) < nlfw; i += step) imgs.push_back(lfw[i]);
        }
    }
    char err[256];
    sbf_detector *ours = sbf_detector_new(err, sizeof err);
    if (!ours) {
        fprintf(stderr, "oracle-detect: FAIL: %s\n", err);
        return 1;
    }
    nn_pool *pool2 = nn_pool_new(2);
    frontal_face_detector det = get_frontal_face_detector();
    stats st[2];
    long block_checks = 0, block_fail = 0, thread_fail = 0, unreadable = 0;
    for (size_t ii = 0; ii < imgs.size(); ii++) {
        const std::string &path = imgs[ii];
        const bool is_neg = std::find(negs.begin(), negs.end(), path) != negs.end();
        sbf_image im;
        if (sbf_image_load(path.c_str(), SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err)) {
            fprintf(stderr, "oracle-detect: %s: %s\n", path.c_str(), err);
            unreadable++;
            continue;
        }
        if ((double)im.w * im.h > max_mpix * 1e6 && !json) { // sanitizer builds: keep the run short
            sbf_image_free(&im);
            continue;
        }
        array2d<unsigned char> g(im.h, im.w);
        for (int y = 0; y < im.h; y++) memcpy(&g[y][0], im.gray + (size_t)y * im.w, (size_t)im.w);
        if (json) { // dlib's detections in exactly the format of 'sortbyface detect'
            std::vector<rect_detection> ref = dlib_detect(det, g, json_up, json_adjust);
            fputs("{\"path\":", stdout);
            sbf_json_string(stdout, path.c_str());
            printf(",\"width\":%d,\"height\":%d,\"faces\":[", im.w, im.h);
            for (size_t k = 0; k < ref.size(); k++) {
                printf("%s{\"box\":[%ld,%ld,%ld,%ld],\"score\":", k ? "," : "", ref[k].rect.left(), ref[k].rect.top(),
                       ref[k].rect.right(), ref[k].rect.bottom());
                sbf_json_float(stdout, ref[k].detection_confidence);
                putchar('}');
            }
            fputs("]}\n", stdout);
            sbf_image_free(&im);
            continue;
        }

        // building blocks, bit for bit: first pyramid level, pyramid_up, fHOG of the image
        if (ii < 40) {
            block_checks++;
            bool ok = true;
            array2d<unsigned char> down;
            pyramid_down<6> p6;
            p6(g, down);
            int ow, oh;
            sbf_hog_down6_size(im.w, im.h, &ow, &oh);
            std::vector<uint8_t> mine((size_t)ow * oh + 1);
            sbf_hog_resize(im.gray, im.w, im.h, mine.data(), ow, oh);
            if (ow != down.nc() || oh != down.nr()) ok = false;
            else
                for (int y = 0; y < oh && ok; y++) ok = !memcmp(&down[y][0], &mine[(size_t)y * ow], (size_t)ow);
            if (!ok) fprintf(stderr, "oracle-detect: %s: pyramid_down<6> differs\n", path.c_str());
            if (im.w * (long)im.h < 1500000) {
                array2d<unsigned char> upi;
                pyramid_up(g, upi, pyramid_down<2>());
                int uw, uh;
                sbf_hog_up2_size(im.w, im.h, &uw, &uh);
                std::vector<uint8_t> u((size_t)uw * uh + 1);
                sbf_hog_resize(im.gray, im.w, im.h, u.data(), uw, uh);
                bool uok = uw == upi.nc() && uh == upi.nr();
                for (int y = 0; y < uh && uok; y++) uok = !memcmp(&upi[y][0], &u[(size_t)y * uw], (size_t)uw);
                if (!uok) fprintf(stderr, "oracle-detect: %s: pyramid_up differs\n", path.c_str());
                ok = ok && uok;
            }
            dlib::array<array2d<float>> hog;
            extract_fhog_features(g, hog, 8, 10, 10);
            sbf_fhog f = {};
            sbf_fhog_compute(im.gray, im.w, im.h, 10, 10, &f);
            long bad = 0;
            if (hog[0].nr() != (f.hog_nr ? f.nr : 0) || hog[0].nc() != (f.hog_nr ? f.nc : 0)) bad = -1;
            else
                for (int p = 0; p < 31; p++)
                    for (long y = 0; y < hog[p].nr(); y++)
                        for (long x = 0; x < hog[p].nc(); x++)
                            if (memcmp(&hog[p][y][x], &f.data[p * f.plane + y * f.stride + x], 4)) bad++;
            if (bad) fprintf(stderr, "oracle-detect: %s: fHOG differs (%ld values)\n", path.c_str(), bad);
            sbf_fhog_free(&f);
            if (!ok || bad) block_fail++;
        }

        for (int up = 0; up <= 1; up++) {
            std::vector<rect_detection> ref = dlib_detect(det, g, up);
            sbf_box *b = nullptr, *b2 = nullptr;
            int n = sbf_detect(ours, im.gray, im.w, im.h, up, nullptr, &b);
            int n2 = sbf_detect(ours, im.gray, im.w, im.h, up, pool2, &b2);
            bool tsame = n == n2;
            for (int k = 0; tsame && k < n; k++)
                tsame = b[k].left == b2[k].left && b[k].top == b2[k].top && b[k].right == b2[k].right &&
                        b[k].bottom == b2[k].bottom && b[k].score == b2[k].score && b[k].filter == b2[k].filter;
            if (!tsame) {
                fprintf(stderr, "oracle-detect: %s: 2-thread result differs from 1-thread\n", path.c_str());
                thread_fail++;
            }
            bool same = n == (int)ref.size();
            double md = 0;
            for (int k = 0; same && k < n; k++) {
                const rectangle &r = ref[k].rect;
                if (b[k].left != r.left() || b[k].top != r.top() || b[k].right != r.right() ||
                    b[k].bottom != r.bottom() || b[k].filter != (int)ref[k].weight_index)
                    same = false;
                md = std::max(md, std::fabs(b[k].score - ref[k].detection_confidence));
            }
            if (md > 1e-3) same = false;
            stats &s = st[up];
            s.images++;
            s.faces += (long)ref.size();
            if (same) s.match++;
            if (same) s.max_score_diff = std::max(s.max_score_diff, md);
            if (is_neg) {
                s.negatives++;
                if (!same) s.neg_fail++;
            }
            if (!same || verbose) {
                fprintf(stderr, "%s %s up=%d dlib %zu ours %d\n", same ? "ok  " : "DIFF", path.c_str(), up, ref.size(),
                        n);
                for (size_t k = 0; k < ref.size(); k++)
                    fprintf(stderr, "   dlib [%ld %ld %ld %ld] %.9f f%lu\n", ref[k].rect.left(), ref[k].rect.top(),
                            ref[k].rect.right(), ref[k].rect.bottom(), ref[k].detection_confidence,
                            ref[k].weight_index);
                for (int k = 0; k < n; k++)
                    fprintf(stderr, "   ours [%ld %ld %ld %ld] %.9f f%d\n", b[k].left, b[k].top, b[k].right,
                            b[k].bottom, b[k].score, b[k].filter);
            }
            free(b);
            free(b2);
        }
        sbf_image_free(&im);
    }
    if (json) {
        fflush(stdout);
        nn_pool_free(pool2);
        sbf_detector_free(ours);
        return unreadable ? 1 : 0;
    }
    bool pass = unreadable == 0 && block_fail == 0 && thread_fail == 0;
    for (int up = 0; up <= 1; up++) {
        const stats &s = st[up];
        const double rate = s.images ? (double)s.match / s.images : 0;
        fprintf(stderr,
                "oracle-detect: upsample %d: %ld/%ld images identical (%.2f%%, need %.2f%%), %ld dlib faces, "
                "max |score diff| %.3g; negatives %ld/%ld identical\n",
                up, s.match, s.images, 100 * rate, 100 * min_rate, s.faces, s.max_score_diff, s.negatives - s.neg_fail,
                s.negatives);
        if (rate < min_rate || s.neg_fail || s.images == 0) pass = false;
    }
    fprintf(stderr,
            "oracle-detect: building blocks bit-exact on %ld/%ld images; thread mismatches %ld; unreadable %ld\n",
            block_checks - block_fail, block_checks, thread_fail, unreadable);
    fprintf(stderr, "oracle-detect: %s\n", pass ? "PASS" : "FAIL");
    nn_pool_free(pool2);
    sbf_detector_free(ours);
    return pass ? 0 : 1;
}
