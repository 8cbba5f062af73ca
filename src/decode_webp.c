/* src/decode_webp.c — WebP through libwebp (Debian libwebp-dev, static): lossy and lossless stills. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>
#include "src/decoders.h"
#include "src/util.h"

static const char *status_text(VP8StatusCode s) {
    switch (s) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported WebP feature";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated WebP";
    default: return "corrupt WebP";
    }
}

int sbf_webp_decode(const unsigned char *b, size_t n, long long max_pixels, sbf_outbuf out, int *w, int *h, char *err,
                    size_t errlen) {
    WebPDecoderConfig cfg;
    if (!WebPInitDecoderConfig(&cfg)) {
        snprintf(err, errlen, "WebP decoder version mismatch");
        return -1;
    }
    VP8StatusCode st = WebPGetFeatures(b, n, &cfg.input);
    if (st != VP8_STATUS_OK) {
        snprintf(err, errlen, "%s (header)", status_text(st));
        return -1;
    }
    const int iw = cfg.input.width, ih = cfg.input.height;
    if (cfg.input.has_animation) {
        snprintf(err, errlen, "animated WebP (not supported: convert its frame to JPEG or PNG)");
        return -1;
    }
    if (iw <= 0 || ih <= 0) {
        snprintf(err, errlen, "zero-sized image (%dx%d)", iw, ih);
        return -1;
    }
    if ((long long)iw * ih > max_pixels) {
        snprintf(err, errlen,
                 "image too large: %dx%d is %.1f megapixels, over the %.1f megapixel limit (see --max-pixels)", iw, ih,
                 (double)iw * ih / 1e6, (double)max_pixels / 1e6);
        return -1;
    }
    /* First the top-left pixel alone (libwebp parses every header and partition size, and decodes only the
     * first rows): a file whose data is cut short is refused before its pixels are allocated. */
    uint8_t px1[3];
    cfg.options.use_cropping = 1;
    cfg.options.crop_left = cfg.options.crop_top = 0;
    cfg.options.crop_width = cfg.options.crop_height = 1;
    cfg.output.colorspace = MODE_RGB;
    cfg.output.is_external_memory = 1;
    cfg.output.u.RGBA.rgba = px1;
    cfg.output.u.RGBA.stride = 3;
    cfg.output.u.RGBA.size = 3;
    st = WebPDecode(b, n, &cfg);
    WebPFreeDecBuffer(&cfg.output);
    if (st != VP8_STATUS_OK) {
        snprintf(err, errlen, "%s (image data)", status_text(st));
        return -1;
    }
    cfg.options.use_cropping = 0;
    const size_t need = (size_t)iw * ih * 3;
    if (sbf_grow(out.buf, out.cap, need)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* decoded straight into our buffer, row by row: a file that runs out of data stops where it ends */
    cfg.output.colorspace = MODE_RGB;
    cfg.output.is_external_memory = 1;
    cfg.output.u.RGBA.rgba = *out.buf;
    cfg.output.u.RGBA.stride = iw * 3;
    cfg.output.u.RGBA.size = need;
    st = WebPDecode(b, n, &cfg);
    WebPFreeDecBuffer(&cfg.output);
    if (st != VP8_STATUS_OK) {
        snprintf(err, errlen, "%s (image data)", status_text(st));
        return -1;
    }
    *w = iw;
    *h = ih;
    return 0;
}
