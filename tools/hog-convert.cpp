// tools/hog-convert.cpp — converts dlib's frontal face detector (serialized inside Debian's
// /usr/include/dlib/image_processing/frontal_face_detector.h, Boost licence) into our SBFW file
// weights/hog-frontal.sbfw.  Built against dlib; the program itself never links dlib.
//
// What is stored is exactly what dlib's detector evaluates at run time: dlib does not apply the
// 31 stored 10x10 filters directly, it rebuilds each one (build_fhog_filterbank) as a sum of
// separable row x column filters from an SVD, dropping singular values below
// max(1e-4, 0.001*max), and converts them to float.  We keep those float vectors, in dlib's order
// (plane-major, then singular value order), plus the full float filters for reference.
//
// Tensors, for each detector d in 0..4:
//   det<d>.rows   F32 [nsep, W]   row filters (applied along a feature row, W = fhog window width)
//   det<d>.cols   F32 [nsep, H]   column filters
//   det<d>.plane  I32 [nsep]      the fHOG plane (0..30) each separable filter applies to
//   det<d>.full   F32 [31, H, W]  the plain filters (reference; not used by the detector)
// Metadata: thresholds and the overlap tester as "%.17g" doubles (exact round trip), scanner setup.
//
// usage: hog-convert OUT.sbfw
#include <dlib/image_processing/frontal_face_detector.h>
#include <cstdio>
#include <string>
#include <vector>
extern "C" {
#include "nn/weights.h"
}

using namespace dlib;

static std::string dstr(double v) {
    char b[64];
    snprintf(b, sizeof b, "%.17g", v);
    return b;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: hog-convert OUT.sbfw\n");
        return 2;
    }
    frontal_face_detector det = get_frontal_face_detector();
    const auto &sc = det.get_scanner();
    const unsigned long W = sc.get_fhog_window_width(), H = sc.get_fhog_window_height();
    const long dims = sc.get_num_dimensions();
    nnw_writer *w = nnw_writer_new();
    if (!w) return 1;
    nnw_writer_meta(w, "model", "dlib frontal_face_detector (HOG, 5 filters), from dlib 19.24 frontal_face_detector.h");
    nnw_writer_meta(w, "licence", "Boost Software License 1.0 (dlib)");
    nnw_writer_meta(w, "num_detectors", std::to_string(det.num_detectors()).c_str());
    nnw_writer_meta(w, "cell_size", std::to_string(sc.get_cell_size()).c_str());
    nnw_writer_meta(w, "padding", std::to_string(sc.get_padding()).c_str());
    nnw_writer_meta(w, "window_width", std::to_string(sc.get_detection_window_width()).c_str());
    nnw_writer_meta(w, "window_height", std::to_string(sc.get_detection_window_height()).c_str());
    nnw_writer_meta(w, "fhog_width", std::to_string(W).c_str());
    nnw_writer_meta(w, "fhog_height", std::to_string(H).c_str());
    nnw_writer_meta(w, "max_pyramid_levels", std::to_string(sc.get_max_pyramid_levels()).c_str());
    nnw_writer_meta(w, "min_pyramid_layer_width", std::to_string(sc.get_min_pyramid_layer_width()).c_str());
    nnw_writer_meta(w, "min_pyramid_layer_height", std::to_string(sc.get_min_pyramid_layer_height()).c_str());
    nnw_writer_meta(w, "pyramid_down", "6");
    nnw_writer_meta(w, "iou_thresh", dstr(det.get_overlap_tester().get_iou_thresh()).c_str());
    nnw_writer_meta(w, "covered_thresh", dstr(det.get_overlap_tester().get_percent_covered_thresh()).c_str());
    for (unsigned long d = 0; d < det.num_detectors(); ++d) {
        const auto &pw = det.get_processed_w(d);
        const auto &fb = pw.get_detect_argument();
        std::vector<float> rows, cols, full;
        std::vector<int32_t> plane;
        for (unsigned long p = 0; p < fb.row_filters.size(); ++p) {
            for (unsigned long j = 0; j < fb.row_filters[p].size(); ++j) {
                if ((unsigned long)fb.row_filters[p][j].size() != W ||
                    (unsigned long)fb.col_filters[p][j].size() != H) {
                    fprintf(stderr, "hog-convert: unexpected filter size\n");
                    return 1;
                }
                for (unsigned long k = 0; k < W; ++k) rows.push_back(fb.row_filters[p][j](k));
                for (unsigned long k = 0; k < H; ++k) cols.push_back(fb.col_filters[p][j](k));
                plane.push_back((int32_t)p);
            }
            for (unsigned long r = 0; r < H; ++r)
                for (unsigned long c = 0; c < W; ++c) full.push_back(fb.filters[p](r, c));
        }
        // dlib uses 2-D filtering instead when there are many separable terms; we only implement
        // the separable path, so refuse a model that would take the other one.
        if (plane.size() > fb.filters.size() * std::min(fb.filters[0].nr(), fb.filters[0].nc()) / 3.0) {
            fprintf(stderr, "hog-convert: detector %lu would use dlib's non-separable path\n", d);
            return 1;
        }
        const uint32_t n = (uint32_t)plane.size();
        const std::string pre = "det" + std::to_string(d);
        uint32_t s_rows[2] = {n, (uint32_t)W}, s_cols[2] = {n, (uint32_t)H}, s_plane[1] = {n};
        uint32_t s_full[3] = {(uint32_t)fb.filters.size(), (uint32_t)H, (uint32_t)W};
        if (nnw_writer_add(w, (pre + ".rows").c_str(), NNW_F32, 2, s_rows, 1.0f, rows.data()) ||
            nnw_writer_add(w, (pre + ".cols").c_str(), NNW_F32, 2, s_cols, 1.0f, cols.data()) ||
            nnw_writer_add(w, (pre + ".plane").c_str(), NNW_I32, 1, s_plane, 1.0f, plane.data()) ||
            nnw_writer_add(w, (pre + ".full").c_str(), NNW_F32, 3, s_full, 1.0f, full.data())) {
            fprintf(stderr, "hog-convert: writer failed\n");
            return 1;
        }
        nnw_writer_meta(w, (pre + ".thresh").c_str(), dstr(pw.w(dims)).c_str());
    }
    char err[256];
    if (nnw_writer_save(w, argv[1], err, sizeof err)) {
        fprintf(stderr, "hog-convert: %s\n", err);
        return 1;
    }
    nnw_writer_free(w);
    return 0;
}
