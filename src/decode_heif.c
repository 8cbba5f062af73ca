/* src/decode_heif.c — HEIC and AVIF through Debian's libheif (a shared library only: the dynamically linked
 * `make HEIF=1` build defines SBF_HEIF); the static build names such files and says it does not decode them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/decoders.h"
#include "src/util.h"

#ifdef SBF_HEIF
#include <libheif/heif.h>

int sbf_heif_available(void) { return 1; }

int sbf_heif_decode(const unsigned char *b, size_t n, long long max_pixels, sbf_outbuf out, int *w, int *h, char *err,
                    size_t errlen) {
    struct heif_context *ctx = heif_context_alloc();
    struct heif_image_handle *hd = NULL;
    struct heif_image *img = NULL;
    int rc = -1;
    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct heif_error e = heif_context_read_from_memory_without_copy(ctx, b, n, NULL);
    if (e.code != heif_error_Ok) {
        snprintf(err, errlen, "corrupt HEIF (%s)", e.message);
        goto done;
    }
    e = heif_context_get_primary_image_handle(ctx, &hd);
    if (e.code != heif_error_Ok) {
        snprintf(err, errlen, "corrupt HEIF (%s)", e.message);
        goto done;
    }
    const int iw = heif_image_handle_get_width(hd), ih = heif_image_handle_get_height(hd);
    if (iw <= 0 || ih <= 0) {
        snprintf(err, errlen, "zero-sized image (%dx%d)", iw, ih);
        goto done;
    }
    if ((long long)iw * ih > max_pixels) {
        snprintf(err, errlen,
                 "image too large: %dx%d is %.1f megapixels, over the %.1f megapixel limit (see --max-pixels)", iw, ih,
                 (double)iw * ih / 1e6, (double)max_pixels / 1e6);
        goto done;
    }
    e = heif_decode_image(hd, &img, heif_colorspace_RGB, heif_chroma_interleaved_RGB, NULL);
    if (e.code != heif_error_Ok) {
        snprintf(err, errlen, "corrupt HEIF image data (%s)", e.message);
        goto done;
    }
    int stride = 0;
    const uint8_t *px = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
    const int ow = heif_image_get_width(img, heif_channel_interleaved),
              oh = heif_image_get_height(img, heif_channel_interleaved);
    if (!px || ow <= 0 || oh <= 0 || stride < ow * 3 || (long long)ow * oh > max_pixels) {
        snprintf(err, errlen, "corrupt HEIF (unexpected decoded image)");
        goto done;
    }
    const size_t need = (size_t)ow * oh * 3;
    if (sbf_grow(out.buf, out.cap, need)) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int y = 0; y < oh; y++) memcpy(*out.buf + (size_t)y * ow * 3, px + (size_t)y * stride, (size_t)ow * 3);
    *w = ow;
    *h = oh;
    rc = 0;
done:
    if (img) heif_image_release(img);
    if (hd) heif_image_handle_release(hd);
    heif_context_free(ctx);
    return rc;
}
#else
int sbf_heif_available(void) { return 0; }

int sbf_heif_decode(const unsigned char *b, size_t n, long long max_pixels, sbf_outbuf out, int *w, int *h, char *err,
                    size_t errlen) {
    (void)b;
    (void)n;
    (void)max_pixels;
    (void)out;
    (void)w;
    (void)h;
    snprintf(err, errlen,
             "not a supported image (a HEIC/AVIF photo: this build does not decode it; convert it to JPEG, or use a "
             "build made with HEIF=1)");
    return -1;
}
#endif
