/* src/align.h — owns face alignment: the 160x160 RGB crop FaceNet sees, by the eyes rule (imutils
 * FaceAligner convention, the original tool's) or the box rule (Sandberg's MTCNN-style crop: enlarged face
 * box, no rotation), with antialiased bilinear sampling and black outside the image. */
#ifndef SRC_ALIGN_H
#define SRC_ALIGN_H
#include "src/face.h"

/* names for --align: "eyes", "box", "mtcnn" */
typedef enum { SBF_ALIGN_EYES = 0, SBF_ALIGN_BOX = 1, SBF_ALIGN_MTCNN = 2 } sbf_align_method;
/* Default: the MTCNN rule at 1.25x.  Chosen on all of lfw-dev (tools/realign re-embeds a database with a
 * rule, tools/eval-lfw scores it; docs/MEASUREMENTS.md, "LFW"): min(pairwise F, BCubed F) at the best
 * threshold / verification on pairsDevTrain's complete pairs: mtcnn 1.15x 0.949 / 99.17%, 1.2x 0.950 /
 * 99.54%, 1.25x 0.950 / 99.45%, 1.35x 0.945 / 99.08%; one scale for x and y (no stretch) 0.946 / 99.22%;
 * box 1.5x 0.944 / 99.26%.  Earlier, on verification only (tools/eval-align): box 1.15x 98.55%,
 * 1.3x 99.09%, 1.5x 99.23%, 1.7x 98.73%, 1.9x 98.14%; eyes 99.00%. */
#define SBF_ALIGN_DEFAULT SBF_ALIGN_MTCNN

/* Eyes rule: rotate so the eye centres (means of points 36-41 and 42-47) are level, the image-left eye
 * at (0.35w, 0.35h) and the other at (0.65w, 0.35h), i.e. eye distance 0.30w.
 * Box rule: a square of SBF_ALIGN_BOX_SCALE times the box side around the box centre, resized to 160. */
#define SBF_ALIGN_EYE_X 0.35
#define SBF_ALIGN_EYE_Y 0.35
#define SBF_ALIGN_BOX_SCALE 1.5
/* MTCNN rule: the crop FaceNet was trained on (Sandberg's MTCNN box plus margin, resized to 160x160 without
 * keeping the aspect ratio, no rotation), reproduced from the landmarks: x and y scales and shifts fitted
 * by least squares so the 68 points land on sbf_align_mtcnn_template shrunk SCALE_X / SCALE_Y times
 * about the crop centre, i.e. the crop is SCALE_X x SCALE_Y times MTCNN's face box. */
#define SBF_ALIGN_MTCNN_SCALE_X 1.25
#define SBF_ALIGN_MTCNN_SCALE_Y 1.25
extern const float sbf_align_mtcnn_template[68][2];

/* Writes a 160x160x3 RGB crop (row-major) from an interleaved RGB image.  pts may be NULL for the box
 * rule.  Returns 0, or -1 on bad arguments (e.g. pts NULL for the eyes rule, empty image). */
int sbf_align_face(const unsigned char *rgb, int w, int h, const sbf_box *box, const float pts[68][2],
                   sbf_align_method method, unsigned char *out160);
/* "eyes" / "box" -> method; 0 on success, -1 for an unknown name. */
int sbf_align_parse(const char *name, sbf_align_method *m);
const char *sbf_align_name(sbf_align_method m);

/* The crop-to-image map used: image (x,y) = (a[0]*u + a[1]*v + a[2], a[3]*u + a[4]*v + a[5]) for crop pixel
 * centre (u,v), pixel centres at integer coordinates in both.  0, or -1 as above. */
int sbf_align_transform(const sbf_box *box, const float pts[68][2], sbf_align_method method, double a[6]);

/* The rules' maps with other parameters (tools/eval-align sweeps them): eyes at (eye_x*w, eye_y*h) and
 * ((1-eye_x)*w, eye_y*h); box enlarged `scale` times. */
int sbf_align_eyes_transform(const float pts[68][2], double eye_x, double eye_y, double a[6]);
int sbf_align_box_transform(const sbf_box *box, double scale, double a[6]);
int sbf_align_mtcnn_transform(const float pts[68][2], double scale_x, double scale_y, double a[6]);

/* Resamples with the map above: out[v][u] = image at a(u,v), bilinear, supersampled n x n when the map
 * shrinks (n = ceil(scale), at most 8), taps outside the image are black. */
void sbf_warp_rgb(const unsigned char *rgb, int w, int h, const double a[6], unsigned char *out, int ow, int oh);
#endif
