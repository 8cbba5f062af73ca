// tools/oracle-landmarks.cpp — oracle test: our shape predictor (src/landmarks.c) against Debian's dlib on the
// same grayscale pixels from our decoder, on dlib's own detections (which our detector reproduces) for the shared
// photos and an LFW dev sample, plus boxes pushed over the image border (pixels outside read as 0).
//
// Checks, per face: against dlib's integer part(i): mean point distance <= 0.5 px and max <= 1.0 px (the spec);
// against dlib's unrounded shape (dlib's own impl:: functions up to the final rounding): max <= --strict px
// (default 0.01).  Exits 1 on any failure, and FAILS (exit 1) when the data or the model are missing.
//
// usage: oracle-landmarks [--model FILE] [--compare FILE] [--lfw-step N] [--strict PX] [-v]
//   --model    our model file (default: dlib's .dat, read directly); dlib always reads its own .dat
//   --compare  a second model of ours (e.g. the float16 SBFW): also report its max deviation from --model
//   --write-golden FILE  also write dlib's unrounded landmarks for every box of every 4th image (path relative
//              to $SBF_SHARED, box, 68 x,y) — tests/oracle_landmarks_golden.txt, read by tests/test_landmarks.c
//              so cross builds (no dlib under qemu) are checked against dlib too
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/revision.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <string>
#include <vector>

extern "C" {
#include "src/face.h"
#include "src/image.h"
#include "src/landmarks.h"
}

static const char *DLIB_MODEL = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";

// The parts of dlib's shape_predictor, deserialized in dlib's own order with dlib's own code, so the
// unrounded shape can be computed with dlib's impl:: functions exactly as shape_predictor::operator() does.
struct dlib_sp_parts {
    dlib::matrix<float, 0, 1> initial;
    std::vector<std::vector<dlib::impl::regression_tree>> forests;
    std::vector<std::vector<unsigned long>> anchor;
    std::vector<std::vector<dlib::vector<float, 2>>> deltas;
};

static void load_parts(const char *path, dlib_sp_parts &p) {
    std::ifstream in(path, std::ios::binary);
    int version = 0;
    dlib::deserialize(version, in);
    if (version != 1) throw dlib::serialization_error("unexpected shape_predictor version");
    dlib::deserialize(p.initial, in);
    dlib::deserialize(p.forests, in);
    dlib::deserialize(p.anchor, in);
    dlib::deserialize(p.deltas, in);
}

static std::vector<dlib::vector<double, 2>>
dlib_unrounded(const dlib_sp_parts &sp, const dlib::array2d<unsigned char> &img, const dlib::rectangle &rect) {
    using namespace dlib::impl;
    dlib::matrix<float, 0, 1> current_shape = sp.initial;
    std::vector<float> fv;
    for (unsigned long iter = 0; iter < sp.forests.size(); ++iter) {
        extract_feature_pixel_values(img, rect, current_shape, sp.initial, sp.anchor[iter], sp.deltas[iter], fv);
        unsigned long leaf_idx;
        for (unsigned long i = 0; i < sp.forests[iter].size(); ++i) current_shape += sp.forests[iter][i](fv, leaf_idx);
    }
    const dlib::point_transform_affine tform_to_img = unnormalizing_tform(rect);
    std::vector<dlib::vector<double, 2>> out(current_shape.size() / 2);
    for (unsigned long i = 0; i < out.size(); ++i) out[i] = tform_to_img(location(current_shape, i));
    return out;
}

static std::vector<std::string> list_dir(const std::string &dir, bool dirs) {
    std::vector<std::string> v;
    DIR *d = opendir(dir.c_str());
    if (!d) return v;
    while (struct dirent *e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::string n = e->d_name;
        if (dirs) {
            if (e->d_type == DT_DIR) v.push_back(n);
        } else {
            std::string low = n;
            for (auto &c : low) c = (char)tolower((unsigned char)c);
            if (low.size() > 4 && (low.rfind(".jpg") == low.size() - 4 || low.rfind(".png") == low.size() - 4 ||
                                   low.rfind(".jpeg") == low.size() - 5))
                v.push_back(n);
        }
    }
    closedir(d);
    std::sort(v.begin(), v.end());
    return v;
}

int main(int argc, char **argv) {
    const char *model = DLIB_MODEL, *compare = nullptr, *golden = nullptr;
    int lfw_step = 120, verbose = 0;
    double strict = 0.01;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--compare") && i + 1 < argc) compare = argv[++i];
        else if (!strcmp(argv[i], "--lfw-step") && i + 1 < argc) lfw_step = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--strict") && i + 1 < argc) strict = atof(argv[++i]);
        else if (!strcmp(argv[i], "--write-golden") && i + 1 < argc) golden = argv[++i];
        else if (!strcmp(argv[i], "-v")) verbose = 1;
        else {
            fprintf(
                stderr,
                "usage: %s [--model FILE] [--compare FILE] [--lfw-step N] [--strict PX] [--write-golden FILE] [-v]\n",
                argv[0]);
            return 2;
        }
    }
    const char *shared = getenv("SBF_SHARED");
    std::string sh = shared && *shared ? shared : "../shared";

    std::vector<std::string> images;
    for (const char *sub : {"/data/photos/dlib-examples", "/data/photos/people-examples",
                            "/data/photos/people-examples/knn_examples/test"})
        for (auto &n : list_dir(sh + sub, false)) images.push_back(sh + sub + "/" + n);
    size_t nphotos = images.size();
    std::vector<std::string> people = list_dir(sh + "/data/lfw-dev", true);
    for (size_t i = 0; lfw_step > 0 && i < people.size(); i += (size_t)lfw_step) {
        auto f = list_dir(sh + "/data/lfw-dev/" + people[i], false);
        if (!f.empty()) images.push_back(sh + "/data/lfw-dev/" + people[i] + "/" + f[0]);
    }
    if (nphotos < 10 || images.size() - nphotos < 10) {
        fprintf(stderr, "oracle-landmarks: FAIL: shared data missing under %s (found %zu photos, %zu LFW images)\n",
                sh.c_str(), nphotos, images.size() - nphotos);
        return 1;
    }

    dlib::shape_predictor sp;
    dlib_sp_parts parts;
    try {
        dlib::deserialize(DLIB_MODEL) >> sp;
        load_parts(DLIB_MODEL, parts);
    } catch (std::exception &e) {
        fprintf(stderr, "oracle-landmarks: FAIL: cannot load dlib's model %s: %s\n", DLIB_MODEL, e.what());
        return 1;
    }
    char err[256];
    sbf_shape_model *ours = sbf_shape_load(model, err, sizeof err);
    if (!ours) {
        fprintf(stderr, "oracle-landmarks: FAIL: our loader on %s: %s\n", model, err);
        return 1;
    }
    sbf_shape_model *cmp = nullptr;
    if (compare && !(cmp = sbf_shape_load(compare, err, sizeof err))) {
        fprintf(stderr, "oracle-landmarks: FAIL: our loader on %s: %s\n", compare, err);
        return 1;
    }
    dlib::frontal_face_detector det = dlib::get_frontal_face_detector();

    FILE *gf = golden ? fopen(golden, "w") : nullptr;
    if (golden && !gf) {
        fprintf(stderr, "oracle-landmarks: cannot write %s\n", golden);
        return 1;
    }
    if (gf)
        fprintf(gf,
                "# dlib %d.%d.%d shape_predictor_68_face_landmarks.dat on our decoder's gray pixels (libjpeg-turbo for "
                "JPEG) "
                "(tools/oracle-landmarks --write-golden): path left top right bottom x0 y0 ... x67 y67\n",
                DLIB_MAJOR_VERSION, DLIB_MINOR_VERSION, DLIB_PATCH_VERSION);
    size_t image_index = 0;
    int nfaces = 0, nborder = 0, failures = 0, rounded_mismatch = 0;
    double worst_mean = 0, worst_max = 0, worst_strict = 0, worst_cmp = 0, sum_cmp = 0;
    long ncmp = 0;
    for (const std::string &path : images) {
        const bool write_this = gf && image_index++ % 4 == 0;
        sbf_image im;
        if (sbf_image_load(path.c_str(), SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err) != 0) {
            fprintf(stderr, "oracle-landmarks: FAIL: %s: %s\n", path.c_str(), err);
            failures++;
            continue;
        }
        dlib::array2d<unsigned char> img(im.h, im.w);
        for (int y = 0; y < im.h; y++) memcpy(&img[y][0], im.gray + (size_t)y * im.w, (size_t)im.w);
        // One upsampling for ordinary photos, none for the few large ones (keeps the test short).
        std::vector<dlib::rectangle> dets = det(img, (long long)im.w * im.h <= 1200000 ? 1 : 0);
        std::vector<std::pair<dlib::rectangle, int>> boxes;
        for (auto &r : dets) boxes.push_back({r, 0});
        if (!dets.empty()) { // the same face pushed over each border, and a box larger than the image
            const dlib::rectangle r = dets[0];
            long bw = r.width(), bh = r.height();
            boxes.push_back({dlib::translate_rect(r, -r.left() - bw / 2, 0), 1});
            boxes.push_back({dlib::translate_rect(r, 0, -r.top() - bh / 2), 1});
            boxes.push_back(
                {dlib::translate_rect(r, im.w - 1 - r.right() + bw / 2, im.h - 1 - r.bottom() + bh / 3), 1});
            boxes.push_back({dlib::rectangle(-20, -30, im.w + 40, im.h + 10), 1});
        }
        for (auto &bx : boxes) {
            const dlib::rectangle &r = bx.first;
            dlib::full_object_detection d = sp(img, r);
            std::vector<dlib::vector<double, 2>> ref = dlib_unrounded(parts, img, r);
            sbf_box b = {r.left(), r.top(), r.right(), r.bottom(), 0, -1};
            float pts[68][2], pc[68][2];
            if (sbf_shape_predict(ours, im.gray, im.w, im.h, &b, pts) != 0) {
                fprintf(stderr, "oracle-landmarks: FAIL: sbf_shape_predict returned an error\n");
                failures++;
                continue;
            }
            double sum = 0, mx = 0, smax = 0;
            for (int k = 0; k < 68; k++) {
                double dx = pts[k][0] - d.part(k).x(), dy = pts[k][1] - d.part(k).y();
                double dist = std::sqrt(dx * dx + dy * dy);
                sum += dist;
                mx = std::max(mx, dist);
                double ex = std::fabs(pts[k][0] - ref[k].x()), ey = std::fabs(pts[k][1] - ref[k].y());
                smax = std::max(smax, std::max(ex, ey));
                if (std::floor(pts[k][0] + 0.5) != d.part(k).x() || std::floor(pts[k][1] + 0.5) != d.part(k).y())
                    rounded_mismatch++;
            }
            if (write_this) {
                fprintf(gf, "%s %ld %ld %ld %ld", path.c_str() + sh.size() + 1, r.left(), r.top(), r.right(),
                        r.bottom());
                for (int k = 0; k < 68; k++) fprintf(gf, " %.4f %.4f", ref[k].x(), ref[k].y());
                fputc('\n', gf);
            }
            double mean = sum / 68;
            bool bad = mean > 0.5 || mx > 1.0 || smax > strict;
            if (bad || verbose)
                fprintf(stderr,
                        "%s %s box [%ld,%ld,%ld,%ld]: mean %.3f max %.3f px vs dlib; unrounded max diff %.2g px%s\n",
                        bad ? "FAIL" : "ok", path.c_str(), r.left(), r.top(), r.right(), r.bottom(), mean, mx, smax,
                        bx.second ? " (border box)" : "");
            failures += bad;
            nfaces += !bx.second;
            nborder += bx.second;
            worst_mean = std::max(worst_mean, mean);
            worst_max = std::max(worst_max, mx);
            worst_strict = std::max(worst_strict, smax);
            if (cmp) {
                sbf_shape_predict(cmp, im.gray, im.w, im.h, &b, pc);
                double fmx = 0;
                for (int k = 0; k < 68; k++) {
                    double dist = std::hypot(pc[k][0] - pts[k][0], pc[k][1] - pts[k][1]);
                    fmx = std::max(fmx, dist);
                    sum_cmp += dist;
                    ncmp++;
                }
                worst_cmp = std::max(worst_cmp, fmx);
                if (verbose) fprintf(stderr, "  --compare: max %.4f px%s\n", fmx, bx.second ? " (border box)" : "");
            }
        }
        sbf_image_free(&im);
    }
    printf("oracle-landmarks: %zu images, %d detected faces + %d border boxes; worst face mean %.3f px, worst point "
           "%.3f px "
           "(vs dlib's integer points); max |ours - dlib unrounded| %.3g px; rounded mismatches %d points\n",
           images.size(), nfaces, nborder, worst_mean, worst_max, worst_strict, rounded_mismatch);
    if (cmp)
        printf("oracle-landmarks: %s vs %s: max point distance %.4f px, mean %.5f px\n", compare, model, worst_cmp,
               ncmp ? sum_cmp / ncmp : 0.0);
    if (nfaces < 20) {
        fprintf(stderr, "oracle-landmarks: FAIL: only %d faces detected\n", nfaces);
        failures++;
    }
    sbf_shape_free(ours);
    sbf_shape_free(cmp);
    if (gf && fclose(gf) != 0) {
        fprintf(stderr, "oracle-landmarks: FAIL: writing %s\n", golden);
        failures++;
    }
    if (failures) {
        fprintf(stderr, "oracle-landmarks: FAIL: %d failures\n", failures);
        return 1;
    }
    printf("oracle-landmarks: PASS\n");
    return 0;
}
