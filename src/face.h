/* src/face.h — the face record types shared by detector, landmarks, alignment, pipeline and store. */
#ifndef SRC_FACE_H
#define SRC_FACE_H

/* A detection in dlib's rectangle convention: inclusive right/bottom, coordinates of the
 * EXIF-rotated image.  score is the detector's confidence (dlib's detection score). */
typedef struct {
    long left, top, right, bottom;
    double score;
    int filter; /* which of the detector's filters fired (dlib's weight_index), -1 if unknown */
} sbf_box;

#define SBF_LANDMARKS 68
#define SBF_CROP 160 /* FaceNet input size */
#define SBF_EMBED_DIM 512

#endif
