/* src/image.h — owns image input: content sniffing, decoding (JPEG with libjpeg-turbo, WebP with libwebp,
 * HEIC/AVIF with libheif in the HEIF=1 build, PNG, BMP, GIF first frame, PNM and TGA with stb_image; the
 * libraries' bindings are src/decoders.h), JPEG EXIF orientation, the pixel limit and the memory bounds
 * on hostile files, the grayscale conversion dlib uses, and image buffers kept across photos. */
#ifndef SRC_IMAGE_H
#define SRC_IMAGE_H
#include <stddef.h>
#include <stdint.h>

#define SBF_DEFAULT_MAX_PIXELS 100000000LL

typedef struct {
    int w, h;        /* after EXIF rotation */
    uint8_t *rgb;    /* w*h*3, row-major, interleaved R,G,B */
    uint8_t *gray;   /* w*h, (r+g+b)/3 truncated, as dlib's rgb_pixel -> unsigned char */
    int orientation; /* EXIF orientation that was applied (1..8; 1 = none) */
} sbf_image;

/* Decodes a file.  On failure returns -1 and writes a short reason (no path) to err. */
int sbf_image_load(const char *path, long long max_pixels, sbf_image *out, char *err, size_t errlen);
int sbf_image_load_memory(const unsigned char *buf, size_t len, long long max_pixels, sbf_image *out, char *err,
                          size_t errlen);
void sbf_image_free(sbf_image *img);

/* One thread's image buffers, kept from photo to photo (no fresh memory, so no page faults and no
 * unmapping, per photo): the file's bytes, the RGB and gray pixels, a rotation buffer.  Zero-initialise;
 * after a successful sbf_image_load_reuse, img is the photo (owned by the struct: do not free it). */
typedef struct {
    sbf_image img;
    size_t rgb_cap, gray_cap, tmp_cap, file_cap;
    uint8_t *tmp, *file;
} sbf_image_buffers;
int sbf_image_load_reuse(const char *path, long long max_pixels, sbf_image_buffers *b, char *err, size_t errlen);
/* Frees the buffers larger than keep bytes (one huge photo need not stay resident). */
void sbf_image_buffers_trim(sbf_image_buffers *b, size_t keep);
void sbf_image_buffers_free(sbf_image_buffers *b);

/* EXIF orientation (1..8) of a JPEG held in buf; 1 when absent or unparsable. */
int sbf_exif_orientation(const unsigned char *buf, size_t len);
/* Rotates/flips an interleaved image of c channels in place of *pix (reallocates); w/h updated. */
int sbf_apply_orientation(uint8_t **pix, int *w, int *h, int c, int orientation);
/* 1 when the first bytes look like a format we decode (by magic, not extension). */
int sbf_sniff_image(const unsigned char *head, size_t n);
/* The name of a common photo format we do not decode ("HEIC", "AVIF" without HEIF=1, "TIFF/raw", "JPEG 2000",
 * "JPEG XL", "PSD") when the first bytes show one, else NULL.  Such files are skipped like any other
 * non-image, but embed counts them so the user knows photos were left out. */
const char *sbf_sniff_unsupported(const unsigned char *head, size_t n);
/* The same for a file: 1 image, 0 not one, -1 cannot be opened (errno set).  With unsupported non-NULL,
 * a file that is not one we decode gets sbf_sniff_unsupported's answer there (NULL otherwise). */
int sbf_sniff_file(const char *path, const char **unsupported);
int sbf_is_image_file(const char *path); /* sbf_sniff_file(path, NULL) */
/* Fills img->gray from img->rgb. */
void sbf_image_make_gray(sbf_image *img);
#endif
