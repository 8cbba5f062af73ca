/* src/decoders.h — owns the bindings to the system image libraries that src/image.c decodes with:
 * libjpeg-turbo for JPEG (Debian libjpeg62-turbo-dev, static), libwebp for WebP (libwebp-dev, static),
 * and libheif for HEIC/AVIF in the dynamically linked `make HEIF=1` build only.  Each decoder checks what
 * a file declares (size, structure, how many bytes its pixels need at the least) before it allocates for
 * the pixels, and returns interleaved 8-bit RGB owned by the caller (free()). */
#ifndef SRC_DECODERS_H
#define SRC_DECODERS_H
#include <stddef.h>
#include <stdint.h>

/* Output buffer the caller may lend: buf points at a buffer of cap bytes, is used when large enough, else replaced (the old
 * one freed); either way *buf and *cap describe the buffer afterwards (it holds the pixels).  gray (optional, JPEG
 * only: NULL elsewhere): a second buffer lent the same way that sbf_jpeg_decode fills with gray_row(rgb, n, gray)
 * of each batch of rows as it decodes them, while they are still in cache. */
typedef struct {
    uint8_t **buf;
    size_t *cap;
    uint8_t **gray;
    size_t *gray_cap;
    void (*gray_row)(const uint8_t *rgb, size_t n, uint8_t *gray);
} sbf_outbuf;

/* JPEG (baseline, extended, progressive; gray, YCbCr, RGB, CMYK and YCCK) at 1/scale_denom of its size
 * (1, 2, 4 or 8: libjpeg-turbo's DCT-domain scaling).  Refuses arithmetic coding, lossless and 12-bit
 * files, more than max_pixels (of the full size), scans holding fewer bytes than their blocks need, frame
 * components no scan codes, and data that libjpeg reports lost (premature end, bad Huffman codes).
 * 0 and *w x *h RGB in *out, or -1 and a one-line reason. */
int sbf_jpeg_decode(const unsigned char *b, size_t n, int scale_denom, long long max_pixels, sbf_outbuf out, int *w,
                    int *h, char *err, size_t errlen);
/* The size a JPEG declares (SOF), 0 when none found. */
int sbf_jpeg_size(const unsigned char *b, size_t n, int *w, int *h);

/* WebP (lossy, lossless, with alpha: alpha dropped; an animation's first frame is refused as such). */
int sbf_webp_decode(const unsigned char *b, size_t n, long long max_pixels, sbf_outbuf out, int *w, int *h, char *err,
                    size_t errlen);

/* HEIC / AVIF through libheif: only in the HEIF=1 build (sbf_heif_available() 1); elsewhere -1 with the
 * reason that this build does not decode them.  The primary image, its transformations (rotation)
 * applied. */
int sbf_heif_available(void);
int sbf_heif_decode(const unsigned char *b, size_t n, long long max_pixels, sbf_outbuf out, int *w, int *h, char *err,
                    size_t errlen);
#endif
