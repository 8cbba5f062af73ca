// tools/bench-photo-peer.cpp — the whole-photo peer of tools/bench-photo (issue 22): the original tool's
// stack on the same photos, in C++ against Debian's libopencv-dev and libdlib-dev (Debian 12 has no python
// dlib): OpenCV imread -> dlib's frontal face detector (upsample 0, every level) -> dlib's 68-point shape
// predictor -> dlib's 160x160 face chip -> OpenCV DNN FaceNet (the ONNX graph tools/bench-facenet-opencv.py
// builds from the same .npy weights).  One thread (cv::setNumThreads(1)).
// usage: bench-photo-peer FACENET.onnx SHAPE.dat REPS PHOTO...
// prints per photo: "peer PHOTO faces=N cpu_ms=T" (fastest of REPS), then "peer total cpu_ms=T".
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv.h>
#include <time.h>
#include <cstdio>
#include <cstdlib>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

static double cpu_now() {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: bench-photo-peer FACENET.onnx SHAPE.dat REPS PHOTO...\n");
        return 2;
    }
    cv::setNumThreads(1);
    cv::dnn::Net net = cv::dnn::readNetFromONNX(argv[1]);
    dlib::shape_predictor sp;
    dlib::deserialize(argv[2]) >> sp;
    dlib::frontal_face_detector det = dlib::get_frontal_face_detector();
    const int reps = atoi(argv[3]);
    double total = 0;
    for (int i = 4; i < argc; i++) {
        double best = 1e9;
        int nf = 0;
        for (int r = 0; r < reps; r++) {
            const double t0 = cpu_now();
            cv::Mat bgr = cv::imread(argv[i], cv::IMREAD_COLOR);
            if (bgr.empty()) {
                fprintf(stderr, "bench-photo-peer: cannot read %s\n", argv[i]);
                return 1;
            }
            dlib::cv_image<dlib::bgr_pixel> img(bgr);
            dlib::array2d<unsigned char> gray;
            dlib::assign_image(gray, img);
            std::vector<dlib::rectangle> faces = det(gray);
            for (const dlib::rectangle &f : faces) {
                dlib::full_object_detection s = sp(gray, f);
                dlib::matrix<dlib::rgb_pixel> chip;
                dlib::extract_image_chip(img, dlib::get_face_chip_details(s, 160, 0.25), chip);
                cv::Mat c = dlib::toMat(chip); // RGB order
                cv::Mat blob =
                    cv::dnn::blobFromImage(c, 1.0 / 128, cv::Size(160, 160), cv::Scalar(127.5, 127.5, 127.5), false);
                net.setInput(blob);
                cv::Mat emb = net.forward();
                if (emb.total() != 512) {
                    fprintf(stderr, "bench-photo-peer: unexpected network output\n");
                    return 1;
                }
            }
            const double t = cpu_now() - t0;
            if (t < best) best = t;
            nf = (int)faces.size();
        }
        printf("peer %s faces=%d cpu_ms=%.1f\n", argv[i], nf, 1e3 * best);
        fflush(stdout);
        total += best;
    }
    printf("peer total cpu_ms=%.1f\n", 1e3 * total);
    return 0;
}
