/* fuzz/fuzz_image.c — fuzz target: the image loader (sniffing, stb_image decoding of JPEG, PNG, BMP,
 * GIF, PNM and TGA, the JPEG EXIF parser, orientation, pixel limit, gray conversion). */
#include "fuzz/fuzz.h"

#include <string.h>
#include "src/image.h"

static int inverse_orientation(int o) { return o == 6 ? 8 : o == 8 ? 6 : o; }

int sbf_fuzz_image(const uint8_t *d, size_t n) {
    int exif = sbf_exif_orientation(d, n);
    FUZZ_CHECK(exif >= 1 && exif <= 8);
    sbf_image img;
    char err[512];
    err[0] = 0;
    int rc;
    if (n > 0 && !sbf_sniff_image(d, n)) {
        /* No magic: only a file named *.tga can be an image; go through the file path. */
        const char *path = sbf_fuzz_write_tmp("input.tga", d, n);
        rc = sbf_image_load(path, SBF_FUZZ_MAX_PIXELS, &img, err, sizeof err);
    } else {
        rc = sbf_image_load_memory(d, n, SBF_FUZZ_MAX_PIXELS, &img, err, sizeof err);
    }
    if (rc != 0) {
        FUZZ_CHECK(rc == -1);
        FUZZ_CHECK(err[0] != 0 && memchr(err, 0, sizeof err) != NULL && !strchr(err, '\n'));
        FUZZ_CHECK(img.rgb == NULL && img.gray == NULL);
        return 0;
    }
    FUZZ_CHECK(img.w > 0 && img.h > 0 && (long long)img.w * img.h <= SBF_FUZZ_MAX_PIXELS);
    FUZZ_CHECK(img.rgb != NULL && img.gray != NULL);
    /* stb takes 0xFF fill bytes + SOI as JPEG (also in files named *.tga); EXIF is read from the SOI */
    size_t js = 0;
    while (js < n && d[js] == 0xFF) js++;
    int is_jpeg = js >= 1 && js < n && d[js] == 0xD8;
    if (is_jpeg && js > 1) exif = sbf_exif_orientation(d + js - 1, n - (js - 1));
    FUZZ_CHECK(img.orientation == (is_jpeg ? exif : 1));
    size_t np = (size_t)img.w * (size_t)img.h;
    for (size_t i = 0; i < np; i++) { /* touches every byte of both buffers */
        const uint8_t *p = img.rgb + 3 * i;
        FUZZ_CHECK(img.gray[i] == (uint8_t)(((unsigned)p[0] + p[1] + p[2]) / 3));
    }
    /* Orientation transform and its inverse restore the image (small images only: cost). */
    if (np <= 65536) {
        int o = 1 + d[n - 1] % 8, w = img.w, h = img.h;
        uint8_t *pix = malloc(np * 3);
        FUZZ_CHECK(pix != NULL);
        memcpy(pix, img.rgb, np * 3);
        FUZZ_CHECK(sbf_apply_orientation(&pix, &w, &h, 3, o) == 0);
        FUZZ_CHECK(o >= 5 ? (w == img.h && h == img.w) : (w == img.w && h == img.h));
        FUZZ_CHECK(sbf_apply_orientation(&pix, &w, &h, 3, inverse_orientation(o)) == 0);
        FUZZ_CHECK(w == img.w && h == img.h && memcmp(pix, img.rgb, np * 3) == 0);
        free(pix);
    }
    sbf_image_free(&img);
    FUZZ_CHECK(img.rgb == NULL && img.gray == NULL);
    return 1;
}

#ifndef SBF_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sbf_fuzz_image(data, size);
    return 0;
}
#endif
