/* src/align.h — owns face alignment: the 160x160 RGB crop FaceNet sees, by the eyes rule (imutils
 * FaceAligner convention, the original tool's) or the box rule (Sandberg's MTCNN-style crop: enlarged face
 * box, no rotation), with antialiased bilinear sampling and black outside the image. */
#ifndef SRC_ALIGN_H
#define SRC_ALIGN_H
#include "src/face.h"

typedef enum { SBF_ALIGN_EYES = 0, SBF_ALIGN_BOX = 1 } sbf_align_method; /* names for --align: "eyes", "box" */
/* Default: the box rule, enlarged 1.5x.  LFW pairsDevTrain, 10-fold verification accuracy with our FaceNet
 * (tools/eval-align): box 1.15x 98.55%, 1.3x 99.09%, 1.5x 99.23%, 1.7x 98.73%, 1.9x 98.14%; eyes 99.00%. */
#define SBF_ALIGN_DEFAULT SBF_ALIGN_BOX

/* Eyes rule: rotate so the eye centres (means of points 36-41 and 42-47) are level, the image-left eye
 * at (0.35w, 0.35h) and the other at (0.65w, 0.35h), i.e. eye distance 0.30w.
 * Box rule: a square of SBF_ALIGN_BOX_SCALE times the box side around the box centre, resized to 160. */
#define SBF_ALIGN_EYE_X 0.35
#define SBF_ALIGN_EYE_Y 0.35
#define SBF_ALIGN_BOX_SCALE 1.5

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

/* Resamples with the map above: out[v][u] = image at a(u,v), bilinear, supersampled n x n when the map
 * shrinks (n = ceil(scale), at most 8), taps outside the image are black. */
void sbf_warp_rgb(const unsigned char *rgb, int w, int h, const double a[6], unsigned char *out, int ow, int oh);
#endif
