/* src/landmarks.h — owns the 68-point facial landmark predictor: dlib's ensemble of regression trees
 * (Kazemi & Sullivan), loaded from dlib's own .dat serialization or from our converted SBFW file
 * (tools/shape-convert, float32 or float16 leaves), evaluated exactly as dlib's shape_predictor does. */
#ifndef SRC_LANDMARKS_H
#define SRC_LANDMARKS_H
#include <stddef.h>
#include <stdio.h>
#include "src/face.h"

typedef struct sbf_shape_model sbf_shape_model;

/* Loads a model.  The format is recognised by content: SBFW magic -> converted file (memory-mapped),
 * otherwise dlib's binary serialization of shape_predictor (parsed into memory).  Returns NULL and a
 * one-line reason in err on failure. */
sbf_shape_model *sbf_shape_load(const char *path, char *err, size_t errlen);
void sbf_shape_free(sbf_shape_model *m);

/* 68 points (x,y) in image coordinates, dlib's order, for a face box, on the grayscale image (w*h bytes,
 * row-major).  The values are dlib's before its final rounding to integer pixels (dlib's
 * full_object_detection part(i) == floor(x+0.5), floor(y+0.5)).  Returns 0, or -1 on bad arguments. */
int sbf_shape_predict(const sbf_shape_model *m, const unsigned char *gray, int w, int h, const sbf_box *box,
                      float pts[68][2]);

/* Model facts (for tools and --help): number of cascades, trees per cascade, tree depth,
 * feature pixels per cascade, and 1 when leaf values are stored as float16. */
typedef struct {
    int parts, cascades, trees, depth, features, leaves_f16;
    size_t bytes;
} sbf_shape_info;
void sbf_shape_get_info(const sbf_shape_model *m, sbf_shape_info *info);

/* weights/shape-68.sbfw next to the executable or in ./weights when it exists (what `make setup`
 * produces), else /usr/share/dlib/shape_predictor_68_face_landmarks.dat. */
const char *sbf_landmarks_default_path(void);

/* Prints ,"landmarks":[[x,y],...] (68 pairs, dlib's order, shortest exact float text) for detect's JSON. */
void sbf_landmarks_print_json(FILE *out, const float pts[68][2]);

#endif
