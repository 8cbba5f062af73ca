/* src/thumbs.h — owns the face thumbnails of the people page: small JPEG files in the hidden folder
 * OUTPUT/.thumbs/, cut from the decoded photo (EXIF orientation applied, as the detector saw it) around the
 * detector's box with a margin, written in parallel, and reused from an earlier run when the face did not change.
 *
 * Reuse: a thumbnail's file name is a 64-bit FNV-1a hash (16 hex digits + ".jpg") of the thumbnail format
 * (size, margin, quality, version), the photo's identity (its path as the database gives it, made absolute
 * from the current folder when relative, its size in bytes
 * and its modification time in nanoseconds) and the face's box (left, top, right, bottom).  A file of that name
 * that ends with a JPEG end-of-image marker is taken as it is; anything else is (re)written.  A photo edited in
 * place (new size or time), moved (new path) or re-detected (new box) gets a new name; the old file is removed
 * by the pruning pass.  Files are written to a temporary name and renamed, so a killed run never leaves a
 * truncated thumbnail under a final name (they are a cache: not fsynced; a crash at worst loses some, which the
 * next run writes again). */
#ifndef SRC_THUMBS_H
#define SRC_THUMBS_H
#include <stdint.h>
#include "src/face.h"
#include "src/image.h"

#define SBF_THUMBS_DIR ".thumbs"
#define SBF_THUMB_SIDE 128    /* pixels, square */
#define SBF_THUMB_MARGIN 1.6  /* the square cut around the face is this many times the box's larger side */
#define SBF_THUMB_QUALITY 85  /* JPEG quality */
#define SBF_THUMB_NAME_LEN 21 /* "0123456789abcdef.jpg" + NUL */

typedef struct {
    const char *photo;             /* the photo to cut from, as it opens from the current folder */
    long long size, mtime_ns;      /* the photo's identity together with its path */
    sbf_box box;                   /* the face, in EXIF-rotated coordinates */
    char name[SBF_THUMB_NAME_LEN]; /* out: the file name in OUTPUT/.thumbs/, "" when it could not be made */
} sbf_thumb_job;

typedef struct {
    int written, reused, failed; /* thumbnails; failed: the photo could not be read or decoded (said on stderr) */
    int pruned;                  /* files of earlier runs removed from .thumbs/ */
} sbf_thumb_stats;

/* The file name of a job's thumbnail (see the header comment) into name. */
void sbf_thumb_name(const sbf_thumb_job *j, char name[SBF_THUMB_NAME_LEN]);

/* Makes outdir/.thumbs/ when missing and a thumbnail for every job whose file is not there yet, decoding each
 * photo once for all its faces, over `threads` threads (<= 0: all cores); jobs[i].name gets the file name.
 * A photo that cannot be decoded is one line on stderr ("sortbyface: PATH: no thumbnail: REASON") and its jobs
 * get name "".  With prune, every other thumbnail file (and leftover temporary file) in .thumbs/ is removed.
 * 0 on success (also when some photos failed), -1 with reason when .thumbs/ cannot be made or read. */
int sbf_thumbs_write(const char *outdir, sbf_thumb_job *jobs, int n, int threads, int prune, sbf_thumb_stats *st,
                     char *err, size_t errlen);

/* The square cut of a face from an image, resampled to side x side RGB pixels into out (side*side*3 bytes):
 * centred on the box, SBF_THUMB_MARGIN times its larger side; parts outside the image are mid-grey. */
void sbf_thumb_cut(const sbf_image *img, const sbf_box *box, int side, uint8_t *out);
#endif
