/* src/detect.h — owns face detection: dlib's get_frontal_face_detector() (HOG + 5 linear filters
 * over a pyramid_down<6> image pyramid) reimplemented to give dlib's boxes, scores and order, with
 * its model embedded in the binary, optional upsampling, threads, and the big-photo policy. */
#ifndef SRC_DETECT_H
#define SRC_DETECT_H
#include <stddef.h>
#include "src/face.h"

struct nn_pool;
typedef struct sbf_detector sbf_detector;

/* The embedded model (weights/hog-frontal.sbfw, converted from dlib by tools/hog-convert); no files
 * needed.  NULL with a reason in err on failure. */
sbf_detector *sbf_detector_new(char *err, size_t errlen);
void sbf_detector_free(sbf_detector *d);

/* dlib-identical detection on an 8-bit grayscale image (w*h, row-major) with `upsample`
 * pyramid_up steps (like dlib's Python detector(img, upsample)).  Faces in dlib's order (score
 * descending), in *out (malloc'ed; caller frees; NULL when none); returns the count, or -1 on
 * allocation failure.  pool may be NULL (single thread); results do not depend on it. */
int sbf_detect(const sbf_detector *d, const unsigned char *gray, int w, int h, int upsample, struct nn_pool *pool,
               sbf_box **out);

/* Big-photo policy.  The detector window is 80x80 pixels and dlib's pyramid shrinks the image by
 * 5/6 per level, so pyramid level L only finds faces of about 80*1.2^L pixels (in the image that
 * was scanned, i.e. after upsampling).  With min_face > 0, the levels whose window is smaller than
 * min_face pixels (in input-image pixels) are still resampled (cheap) but not scanned (the
 * expensive part).  Every box reported is a window dlib scores identically (same box, same
 * score) and the scanned levels behave exactly as in dlib; what changes is that faces smaller than
 * about min_face are not looked for, and where dlib's non-maximum suppression kept a smaller box
 * from a skipped level, the larger window on that face (which dlib suppressed) is reported
 * instead.  min_face <= 0 scans every level: identical to sbf_detect. */
int sbf_detect_policy(const sbf_detector *d, const unsigned char *gray, int w, int h, int upsample, int min_face,
                      struct nn_pool *pool, sbf_box **out);

/* sbf_detect_policy with dlib's adjust_threshold: windows whose score (saliency minus the filter's
 * bias, the reported score) is at least `adjust` are kept (0: dlib's default; negative finds weaker,
 * less certain faces).  Scores, boxes and order are dlib's detector(img, upsample, adjust). */
int sbf_detect_ex(const sbf_detector *d, const unsigned char *gray, int w, int h, int upsample, int min_face,
                  double adjust, struct nn_pool *pool, sbf_box **out);
/* The same with buffers kept from call to call (pyramid levels, upsampled images, per-thread fHOG and
 * saliency planes), so a run over many photos maps no fresh memory per photo.  One workspace serves one
 * detection at a time; ws NULL: temporary buffers.  Results do not depend on it. */
typedef struct sbf_detect_ws sbf_detect_ws;
sbf_detect_ws *sbf_detect_ws_new(void);
void sbf_detect_ws_free(sbf_detect_ws *ws);
int sbf_detect_ws_ex(const sbf_detector *d, const unsigned char *gray, int w, int h, int upsample, int min_face,
                     double adjust, struct nn_pool *pool, sbf_detect_ws *ws, sbf_box **out);
/* The default min_face for an image of w x h with `upsample`: 0 (native, dlib-identical) when the
 * scanned image has at most SBF_DETECT_NATIVE_PIXELS pixels; otherwise the face size whose level
 * is the first one at or below that many pixels.  See cmd_detect.c --help. */
#define SBF_DETECT_NATIVE_PIXELS 4200000L
int sbf_detect_auto_min_face(const sbf_detector *d, int w, int h, int upsample);

/* Pyramid levels skipped for a given min_face (exposed for tests and the help text). */
int sbf_detect_skip_levels(const sbf_detector *d, int upsample, int min_face);

#endif
