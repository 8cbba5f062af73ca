/* tests/helpers/jpeg-encode.h — owns making test JPEGs with libjpeg's encoder (baseline or progressive; RGB in,
 * or CMYK in stored as CMYK/YCCK), for the unit tests and the fuzz corpus generator alike. */
#ifndef TESTS_HELPERS_JPEG_ENCODE_H
#define TESTS_HELPERS_JPEG_ENCODE_H
#include <stdio.h>
#include <jpeglib.h>

/* w x h pixels of comp channels (3: RGB; 4: C,M,Y,K) as a JPEG stored as store_as; *len bytes, malloc'ed by
 * libjpeg (free() it). */
static inline unsigned char *test_jpeg_encode(const unsigned char *px, int w, int h, int comp, J_COLOR_SPACE store_as,
                                              int progressive, int quality, unsigned long *len) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *mem = NULL;
    *len = 0;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &mem, len);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comp;
    c.in_color_space = comp == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, store_as);
    jpeg_set_quality(&c, quality, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)px + (size_t)c.next_scanline * (size_t)w * (size_t)comp;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return mem;
}
#endif
