/* tests/test_image.c — image input: all 8 EXIF orientations (both TIFF byte orders), every format we
 * accept, bad input (truncated/corrupt JPEG and PNG, text named .jpg, huge header, 0 bytes), gray/RGBA. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jpeglib.h>
#include "tests/helpers/jpeg-encode.h"
#include <stb/stb_image_write.h>
#include <webp/encode.h>
#include "nn/weights.h"
#include "src/decoders.h"
#include "src/image.h"

typedef struct {
    unsigned char *b;
    size_t n;
} buf_t;
static void put(void *ctx, void *data, int size) {
    buf_t *B = ctx;
    B->b = realloc(B->b, B->n + (size_t)size);
    memcpy(B->b + B->n, data, (size_t)size);
    B->n += (size_t)size;
}

enum { R, G, Bl, W };
static const unsigned char COL[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};

/* 32x16 image, quadrants TL=red TR=green BL=blue BR=white */
static unsigned char *quad_image(int w, int h) {
    unsigned char *p = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int q = (y >= h / 2) * 2 + (x >= w / 2);
            memcpy(p + ((size_t)y * w + x) * 3, COL[q], 3);
        }
    return p;
}

static buf_t jpeg_with_orientation(int orientation, int little_endian) {
    unsigned char *px = quad_image(32, 16);
    buf_t j = {0};
    assert_true(stbi_write_jpg_to_func(put, &j, 32, 16, 3, px, 100));
    free(px);
    if (orientation == 0) return j;
    /* APP1: FFE1 len "Exif\0\0" TIFF(II/MM,42,8) IFD0: 1 entry (0x0112 SHORT 1 value) next=0 */
    unsigned char app[64];
    int k = 0, le = little_endian;
#define P16(v)                                                                                                         \
    do {                                                                                                               \
        if (le) {                                                                                                      \
            app[k++] = (unsigned char)((v)&0xff);                                                                      \
            app[k++] = (unsigned char)((v) >> 8);                                                                      \
        } else {                                                                                                       \
            app[k++] = (unsigned char)((v) >> 8);                                                                      \
            app[k++] = (unsigned char)((v)&0xff);                                                                      \
        }                                                                                                              \
    } while (0)
#define P32(v)                                                                                                         \
    do {                                                                                                               \
        if (le) {                                                                                                      \
            P16((v)&0xffff);                                                                                           \
            P16((unsigned)(v) >> 16);                                                                                  \
        } else {                                                                                                       \
            P16((unsigned)(v) >> 16);                                                                                  \
            P16((v)&0xffff);                                                                                           \
        }                                                                                                              \
    } while (0)
    app[k++] = 0xFF;
    app[k++] = 0xE1;
    k += 2;
    memcpy(app + k, "Exif\0\0", 6);
    k += 6;
    app[k++] = le ? 'I' : 'M';
    app[k++] = le ? 'I' : 'M';
    P16(42);
    P32(8);
    P16(2); /* two entries: an unrelated tag first, then orientation */
    P16(0x010F);
    P16(2);
    P32(4);
    P32(0x00414243);
    P16(0x0112);
    P16(3);
    P32(1);
    P16(orientation);
    P16(0);
    P32(0);
    int len = k - 2;
    app[2] = (unsigned char)(len >> 8);
    app[3] = (unsigned char)len;
    buf_t o = {malloc(j.n + (size_t)k), j.n + (size_t)k};
    memcpy(o.b, j.b, 2);
    memcpy(o.b + 2, app, (size_t)k);
    memcpy(o.b + 2 + k, j.b + 2, j.n - 2);
    free(j.b);
    return o;
}

/* The gray image is dlib's (r + g + b) / 3 of the final (rotated) RGB, however it was made (a JPEG's unrotated
 * rows are converted as they are decoded, the rest after). */
static void check_gray(const sbf_image *im) {
    for (size_t i = 0; i < (size_t)im->w * im->h; i++) {
        const unsigned char *p = im->rgb + 3 * i;
        if (im->gray[i] != (p[0] + p[1] + p[2]) / 3) fail_msg("gray[%zu] = %d, not (r+g+b)/3", i, im->gray[i]);
    }
}

static int colour_at(const sbf_image *im, int x, int y) {
    const unsigned char *p = im->rgb + ((size_t)y * im->w + x) * 3;
    int best = -1, bd = 1 << 30;
    for (int c = 0; c < 4; c++) {
        int d = 0;
        for (int i = 0; i < 3; i++) d += (p[i] - COL[c][i]) * (p[i] - COL[c][i]);
        if (d < bd) {
            bd = d;
            best = c;
        }
    }
    assert_true(bd < 40 * 40 * 3);
    return best;
}

static void test_exif_orientations(void **state) {
    (void)state;
    /* Displayed quadrant colours (TL, TR, BL, BR) per EXIF orientation, from the EXIF 2.3 definitions:
     * 2 mirror horizontal, 3 rotate 180, 4 mirror vertical, 5 transpose, 6 rotate 90 CW,
     * 7 transverse, 8 rotate 90 CCW. */
    static const int want[9][4] = {
        {0},           {R, G, Bl, W}, {G, R, W, Bl}, {W, Bl, G, R}, {Bl, W, R, G},
        {R, Bl, G, W}, {Bl, R, W, G}, {W, G, Bl, R}, {G, W, R, Bl},
    };
    for (int le = 0; le < 2; le++)
        for (int o = 1; o <= 8; o++) {
            buf_t j = jpeg_with_orientation(o, le);
            assert_int_equal(sbf_exif_orientation(j.b, j.n), o);
            sbf_image im;
            char err[256];
            assert_int_equal(sbf_image_load_memory(j.b, j.n, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err), 0);
            assert_int_equal(im.orientation, o);
            check_gray(&im);
            int rot = o >= 5;
            assert_int_equal(im.w, rot ? 16 : 32);
            assert_int_equal(im.h, rot ? 32 : 16);
            int qx[2] = {im.w / 4, im.w * 3 / 4}, qy[2] = {im.h / 4, im.h * 3 / 4};
            for (int q = 0; q < 4; q++)
                if (colour_at(&im, qx[q & 1], qy[q >> 1]) != want[o][q])
                    fail_msg("orientation %d (%s): quadrant %d wrong", o, le ? "II" : "MM", q);
            sbf_image_free(&im);
            free(j.b);
        }
    buf_t plain = jpeg_with_orientation(0, 1);
    assert_int_equal(sbf_exif_orientation(plain.b, plain.n), 1);
    free(plain.b);
}

static int load(const buf_t *b, sbf_image *im, char *err) {
    return sbf_image_load_memory(b->b, b->n, SBF_DEFAULT_MAX_PIXELS, im, err, 256);
}

static void test_truncated_and_corrupt(void **state) {
    (void)state;
    char err[256];
    sbf_image im;
    buf_t j = jpeg_with_orientation(0, 1);
    for (size_t cut = 1; cut < j.n; cut += j.n / 23 + 1) {
        buf_t t = {j.b, cut};
        assert_int_equal(load(&t, &im, err), -1);
    }
    buf_t t = {j.b, j.n - 2}; /* just the end-of-image marker missing */
    assert_int_equal(load(&t, &im, err), -1);
    assert_non_null(strstr(err, "truncated"));
    /* corrupt: destroy the frame header (SOF0 -> unknown marker) */
    unsigned char *c = malloc(j.n);
    memcpy(c, j.b, j.n);
    for (size_t i = 2; i + 1 < j.n; i++)
        if (c[i] == 0xFF && c[i + 1] == 0xC0) {
            c[i + 1] = 0xCF;
            break;
        }
    buf_t cb = {c, j.n};
    assert_int_equal(load(&cb, &im, err), -1);
    assert_true(strlen(err) > 5);
    free(c);
    free(j.b);

    unsigned char px[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    buf_t p = {0};
    assert_true(stbi_write_png_to_func(put, &p, 2, 2, 3, px, 6));
    for (size_t cut = 0; cut < p.n - 12; cut += 3) { /* IEND chunk is the last 12 bytes */
        buf_t tp = {p.b, cut};
        if (load(&tp, &im, err) == 0) fail_msg("PNG truncated to %zu bytes decoded", cut);
    }
    p.b[12] = 'X'; /* IHDR -> XHDR */
    assert_int_equal(load(&p, &im, err), -1);
    free(p.b);
}

static void test_not_images(void **state) {
    (void)state;
    char err[256];
    sbf_image im;
    const char *text = "Hello, this is a text file pretending to be a JPEG.\n";
    buf_t t = {(unsigned char *)text, strlen(text)};
    assert_int_equal(load(&t, &im, err), -1);
    assert_non_null(strstr(err, "not a supported image"));
    buf_t z = {(unsigned char *)"", 0};
    assert_int_equal(load(&z, &im, err), -1);
    assert_non_null(strstr(err, "empty"));
    /* a text file named .jpg, through the file API: error, and not sniffed as an image */
    char path[] = "/tmp/sbf-img-XXXXXX.jpg";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(sbf_is_image_file(path), 0);
    assert_int_equal(sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a supported image"));
    unlink(path);
    assert_int_equal(sbf_is_image_file(path), -1); /* cannot be opened: not "not an image" */
    assert_int_equal(sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));
    assert_int_equal(sbf_image_load("/tmp", SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err), -1);
    assert_non_null(strstr(err, "directory"));
    /* a FIFO named .jpg: refused at once, not waited on */
    char fifo[] = "/tmp/sbf-img-XXXXXX";
    assert_non_null(mkdtemp(fifo));
    char fp[64];
    snprintf(fp, sizeof fp, "%s/x.jpg", fifo);
    assert_int_equal(mkfifo(fp, 0600), 0);
    assert_int_equal(sbf_image_load(fp, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a regular file"));
    unlink(fp);
    rmdir(fifo);
}

static void test_huge_header(void **state) {
    (void)state;
    unsigned char px[3] = {9, 9, 9};
    buf_t p = {0};
    assert_true(stbi_write_png_to_func(put, &p, 1, 1, 3, px, 3));
    /* IHDR width/height at bytes 16..23: claim 60000 x 60000 (CRC is not what stops it) */
    unsigned char dim[8] = {0, 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60};
    memcpy(p.b + 16, dim, 8);
    char err[256];
    sbf_image im;
    assert_int_equal(load(&p, &im, err), -1);
    assert_non_null(strstr(err, "too large"));
    assert_non_null(strstr(err, "60000x60000"));
    /* the limit is a parameter: a 2x2 image over a 3-pixel limit is refused */
    buf_t q = {0};
    unsigned char px4[12] = {0};
    assert_true(stbi_write_png_to_func(put, &q, 2, 2, 3, px4, 6));
    assert_int_equal(sbf_image_load_memory(q.b, q.n, 3, &im, err, sizeof err), -1);
    assert_int_equal(sbf_image_load_memory(q.b, q.n, 4, &im, err, sizeof err), 0);
    sbf_image_free(&im);
    /* zero width */
    memset(q.b + 16, 0, 4);
    assert_int_equal(load(&q, &im, err), -1);
    free(p.b);
    free(q.b);
}

static void test_gray_rgba_tiny(void **state) {
    (void)state;
    char err[256];
    sbf_image im;
    unsigned char g[6] = {0, 50, 100, 150, 200, 255};
    buf_t p = {0};
    assert_true(stbi_write_png_to_func(put, &p, 3, 2, 1, g, 3));
    assert_int_equal(load(&p, &im, err), 0);
    assert_int_equal(im.w, 3);
    assert_int_equal(im.h, 2);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(im.rgb[3 * i], g[i]);
        assert_int_equal(im.rgb[3 * i + 2], g[i]);
        assert_int_equal(im.gray[i], g[i]);
    }
    sbf_image_free(&im);
    free(p.b);
    unsigned char rgba[8] = {10, 20, 31, 0, 200, 100, 51, 255};
    buf_t a = {0};
    assert_true(stbi_write_png_to_func(put, &a, 2, 1, 4, rgba, 8));
    assert_int_equal(load(&a, &im, err), 0);
    assert_memory_equal(im.rgb, ((unsigned char[]){10, 20, 31, 200, 100, 51}), 6);
    assert_int_equal(im.gray[0], (10 + 20 + 31) / 3); /* dlib: (r+g+b)/3, truncated */
    assert_int_equal(im.gray[1], (200 + 100 + 51) / 3);
    sbf_image_free(&im);
    free(a.b);
    unsigned char one[3] = {7, 8, 9};
    buf_t o = {0};
    assert_true(stbi_write_bmp_to_func(put, &o, 1, 1, 3, one));
    assert_int_equal(load(&o, &im, err), 0);
    assert_int_equal(im.w * im.h, 1);
    assert_memory_equal(im.rgb, one, 3);
    sbf_image_free(&im);
    free(o.b);
}

static void test_other_formats(void **state) {
    (void)state;
    char err[256];
    sbf_image im;
    /* GIF89a, 1x1, global palette {red, black}, one LZW-coded pixel of index 0 */
    static const unsigned char gif[] = {'G', 'I',  'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 255,  0,    0, 0,   0,
                                        0,   0x2C, 0,   0,   0,   0,   1, 0, 1, 0, 0,    2, 2, 0x44, 0x01, 0, 0x3B};
    buf_t gb = {(unsigned char *)gif, sizeof gif};
    assert_int_equal(load(&gb, &im, err), 0);
    assert_memory_equal(im.rgb, ((unsigned char[]){255, 0, 0}), 3);
    sbf_image_free(&im);
    static const unsigned char ppm[] = "P6\n2 1\n255\n\x01\x02\x03\xfa\xfb\xfc";
    buf_t pb = {(unsigned char *)ppm, sizeof ppm - 1};
    assert_int_equal(load(&pb, &im, err), 0);
    assert_memory_equal(im.rgb, ((unsigned char[]){1, 2, 3, 250, 251, 252}), 6);
    sbf_image_free(&im);
    /* TGA has no magic: accepted from a file named .tga only */
    unsigned char px[6] = {1, 2, 3, 4, 5, 6};
    buf_t t = {0};
    assert_true(stbi_write_tga_to_func(put, &t, 2, 1, 3, px));
    assert_int_equal(load(&t, &im, err), -1);
    char path[] = "/tmp/sbf-img-XXXXXX.tga";
    int fd = mkstemps(path, 4);
    assert_int_equal(write(fd, t.b, t.n), (ssize_t)t.n);
    close(fd);
    assert_int_equal(sbf_is_image_file(path), 1);
    assert_int_equal(sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err), 0);
    assert_memory_equal(im.rgb, px, 6);
    sbf_image_free(&im);
    unlink(path);
    free(t.b);
}

/* Photo formats we do not decode are named (so embed can say how many photos it left out); videos,
 * text and the formats we decode are not.  Headers as their specifications give them. */
static void test_unsupported_formats(void **state) {
    (void)state;
    static const struct {
        const char *bytes;
        size_t n;
        const char *want;
    } cases[] = {
        {"\0\0\0\x18"
         "ftypheic\0\0\0\0mif1heic",
         24, "HEIC"}, /* iPhone photo */
        {"\0\0\0\x1c"
         "ftypmif1\0\0\0\0mif1heic",
         24, "HEIC"}, /* HEIF still, generic brand */
        {"\0\0\0\x20"
         "ftypavif\0\0\0\0avifmif1",
         24, "AVIF"},
        {"II*\0\x08\0\0\0", 8, "TIFF/raw"}, /* little-endian TIFF, DNG, CR2 */
        {"MM\0*\0\0\0\x08", 8, "TIFF/raw"}, /* big-endian TIFF, NEF */
        {"\0\0\0\x0CjP  \r\n\x87\n", 12, "JPEG 2000"},
        {"\xFF\x0A\xFA\x7F", 4, "JPEG XL"},          /* codestream */
        {"\0\0\0\x0CJXL \r\n\x87\n", 12, "JPEG XL"}, /* container */
        {"8BPS\0\x01", 6, "PSD"},
        {"\0\0\0\x18"
         "ftypisom\0\0\x02\0isomiso2",
         24, NULL},                           /* MP4 video: not a photo */
        {"RIFF\x24\0\0\0WAVEfmt ", 16, NULL}, /* WAV */
        {"\xFF\xD8\xFF\xE0", 4, NULL},        /* JPEG: decoded, not "unsupported" */
        {"RIFF\x24\0\0\0WEBPVP8 ", 16, NULL}, /* WebP: decoded too */
        {"hello world\n", 12, NULL},
        {"II", 2, NULL}, /* too short to tell */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *got = sbf_sniff_unsupported((const unsigned char *)cases[i].bytes, cases[i].n);
        if (sbf_heif_available() && i < 3) { /* the HEIF=1 build decodes HEIC and AVIF */
            assert_null(got);
            assert_int_equal(sbf_sniff_image((const unsigned char *)cases[i].bytes, cases[i].n), 1);
        } else if (cases[i].want) {
            assert_non_null(got);
            assert_string_equal(got, cases[i].want);
            assert_int_equal(sbf_sniff_image((const unsigned char *)cases[i].bytes, cases[i].n), 0);
        } else {
            assert_null(got);
        }
    }
    /* through the file API: skipped as not an image, with the format named (the HEIF=1 build: a corrupt HEIC) */
    char path[] = "/tmp/sbf-img-XXXXXX.heic";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, cases[0].bytes, cases[0].n), (ssize_t)cases[0].n);
    close(fd);
    const char *fmt = "x";
    sbf_image im;
    char err[256];
    if (!sbf_heif_available()) {
        assert_int_equal(sbf_sniff_file(path, &fmt), 0);
        assert_non_null(fmt);
        assert_string_equal(fmt, "HEIC");
        assert_int_equal(sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err), -1);
        assert_string_equal(err, "not a supported image (a HEIC photo: this build does not decode HEIC; convert it to "
                                 "JPEG, or use a build made with HEIF=1)");
    } else {
        assert_int_equal(sbf_sniff_file(path, &fmt), 1);
        assert_int_equal(sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err), -1);
        assert_non_null(strstr(err, "HEIF"));
    }
    unlink(path);
    assert_int_equal(sbf_sniff_file(path, &fmt), -1);
    assert_null(fmt);
}

/* ---- camera and editor formats (issue 22), files made here with libjpeg's and libwebp's encoders ---- */
enum { CW = 64, CH = 48 };
static void smooth_rgb(unsigned char *p, int comp) { /* gradients: lossy codecs keep them close */
    for (int y = 0; y < CH; y++)
        for (int x = 0; x < CW; x++)
            for (int c = 0; c < comp; c++)
                p[(y * CW + x) * comp + c] = (unsigned char)(c == 3   ? 255 - x
                                                             : c == 0 ? 40 + 3 * x
                                                             : c == 1 ? 30 + 4 * y
                                                                      : 200 - x - y);
}

static buf_t libjpeg_encode(const unsigned char *px, int comp, J_COLOR_SPACE store_as, int progressive) {
    unsigned long len;
    unsigned char *mem = test_jpeg_encode(px, CW, CH, comp, store_as, progressive, 95, &len);
    buf_t b = {malloc(len), len};
    memcpy(b.b, mem, len);
    free(mem);
    return b;
}

/* mean |a - b| over CW x CH x 3 */
static double mean_diff(const unsigned char *a, const unsigned char *b) {
    double s = 0;
    for (int i = 0; i < CW * CH * 3; i++) s += abs((int)a[i] - (int)b[i]);
    return s / (CW * CH * 3);
}

static void decode_ok(const buf_t *b, sbf_image *im) {
    char err[256] = "";
    int rc = sbf_image_load_memory(b->b, b->n, SBF_DEFAULT_MAX_PIXELS, im, err, sizeof err);
    if (rc) fprintf(stderr, "decode failed: %s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(im->w, CW);
    assert_int_equal(im->h, CH);
    check_gray(im);
}

/* Progressive JPEG decodes to exactly the pixels of the baseline file with the same tables; CMYK (Adobe,
 * as Photoshop writes it) and YCCK come out as R = C*K/255 like stb_image did; gray and 4:2:0 as well. */
static void test_jpeg_kinds(void **state) {
    (void)state;
    unsigned char rgb[CW * CH * 3], cmyk[CW * CH * 4], want[CW * CH * 3];
    smooth_rgb(rgb, 3);
    smooth_rgb(cmyk, 4); /* C,M,Y as the RGB pattern, K = 255 - x */
    for (int i = 0; i < CW * CH; i++)
        for (int c = 0; c < 3; c++) want[3 * i + c] = (unsigned char)((cmyk[4 * i + c] * cmyk[4 * i + 3] + 127) / 255);
    sbf_image a, b;
    buf_t base = libjpeg_encode(rgb, 3, JCS_YCbCr, 0), prog = libjpeg_encode(rgb, 3, JCS_YCbCr, 1);
    assert_true(prog.n > 4 && memmem(prog.b, prog.n, "\xFF\xC2", 2)); /* SOF2: progressive */
    decode_ok(&base, &a);
    decode_ok(&prog, &b);
    assert_memory_equal(a.rgb, b.rgb, CW * CH * 3);
    assert_true(mean_diff(a.rgb, rgb) < 2.0);
    sbf_image_free(&a);
    sbf_image_free(&b);
    free(base.b);
    free(prog.b);
    const J_COLOR_SPACE kinds[2] = {JCS_CMYK, JCS_YCCK};
    for (int k = 0; k < 2; k++)
        for (int pr = 0; pr < 2; pr++) {
            buf_t j = libjpeg_encode(cmyk, 4, kinds[k], pr);
            decode_ok(&j, &a);
            const double d = mean_diff(a.rgb, want);
            fprintf(stderr, "  %s%s JPEG: mean difference %.2f\n", k ? "YCCK" : "CMYK", pr ? " progressive" : "", d);
            assert_true(d < 2.0);
            sbf_image_free(&a);
            free(j.b);
        }
}

/* 16-bit PNG as a camera raw converter or an editor writes it (here stored, not compressed): each
 * channel's high byte. */
static void test_png16(void **state) {
    (void)state;
    enum { PW = 5, PH = 3 };
    unsigned char raw[PH * (1 + PW * 6)];
    size_t k = 0;
    for (int y = 0; y < PH; y++) {
        raw[k++] = 0; /* filter: none */
        for (int x = 0; x < PW; x++)
            for (int c = 0; c < 3; c++) {
                const unsigned v = (unsigned)(x * 13000 + y * 9000 + c * 4000 + 0x55);
                raw[k++] = (unsigned char)(v >> 8);
                raw[k++] = (unsigned char)v;
            }
    }
    buf_t z = {0};
    unsigned char hdr[7] = {0x78,
                            0x01,
                            1,
                            (unsigned char)(sizeof raw),
                            (unsigned char)(sizeof raw >> 8),
                            (unsigned char)~sizeof raw,
                            (unsigned char)(~sizeof raw >> 8)};
    put(&z, hdr, 7);
    put(&z, raw, sizeof raw);
    unsigned long s1 = 1, s2 = 0;
    for (size_t i = 0; i < sizeof raw; i++) {
        s1 = (s1 + raw[i]) % 65521;
        s2 = (s2 + s1) % 65521;
    }
    unsigned char ad[4] = {(unsigned char)(s2 >> 8), (unsigned char)s2, (unsigned char)(s1 >> 8), (unsigned char)s1};
    put(&z, ad, 4);
    buf_t p = {0};
    put(&p, "\x89PNG\r\n\x1a\n", 8);
    const unsigned char ihdr[13] = {0, 0, 0, PW, 0, 0, 0, PH, 16, 2, 0, 0, 0};
    const struct {
        const char *t;
        const unsigned char *d;
        size_t n;
    } ch[3] = {{"IHDR", ihdr, 13}, {"IDAT", z.b, z.n}, {"IEND", NULL, 0}};
    for (int i = 0; i < 3; i++) {
        unsigned char l[4] = {(unsigned char)(ch[i].n >> 24), (unsigned char)(ch[i].n >> 16),
                              (unsigned char)(ch[i].n >> 8), (unsigned char)ch[i].n};
        put(&p, l, 4);
        unsigned char *body = malloc(4 + ch[i].n);
        memcpy(body, ch[i].t, 4);
        if (ch[i].n) memcpy(body + 4, ch[i].d, ch[i].n);
        put(&p, body, (int)(4 + ch[i].n));
        const uint32_t crc = nnw_crc32(0, body, 4 + ch[i].n);
        unsigned char cb[4] = {(unsigned char)(crc >> 24), (unsigned char)(crc >> 16), (unsigned char)(crc >> 8),
                               (unsigned char)crc};
        put(&p, cb, 4);
        free(body);
    }
    sbf_image im;
    char err[256] = "";
    assert_int_equal(sbf_image_load_memory(p.b, p.n, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err), 0);
    assert_int_equal(im.w, PW);
    assert_int_equal(im.h, PH);
    for (int y = 0; y < PH; y++)
        for (int x = 0; x < PW; x++)
            for (int c = 0; c < 3; c++)
                assert_int_equal(im.rgb[(y * PW + x) * 3 + c],
                                 ((x * 13000 + y * 9000 + c * 4000 + 0x55) & 0xFFFF) >> 8);
    sbf_image_free(&im);
    free(z.b);
    free(p.b);
}

/* WebP: lossless is exact, lossy close, alpha dropped; recognised by content under a .jpg name (phones
 * and messengers write such files). */
static void test_webp(void **state) {
    (void)state;
    unsigned char rgb[CW * CH * 3], rgba[CW * CH * 4];
    smooth_rgb(rgb, 3);
    smooth_rgb(rgba, 4);
    uint8_t *out;
    sbf_image im;
    size_t n = WebPEncodeLosslessRGB(rgb, CW, CH, CW * 3, &out);
    assert_true(n > 0);
    buf_t b = {out, n};
    decode_ok(&b, &im);
    assert_memory_equal(im.rgb, rgb, CW * CH * 3);
    sbf_image_free(&im);
    WebPFree(out);
    n = WebPEncodeRGBA(rgba, CW, CH, CW * 4, 90, &out);
    assert_true(n > 0);
    char path[] = "/tmp/sbf-webp-XXXXXX.jpg";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, out, n), (ssize_t)n);
    close(fd);
    WebPFree(out);
    assert_int_equal(sbf_is_image_file(path), 1);
    char err[256] = "";
    assert_int_equal(sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err), 0);
    assert_true(mean_diff(im.rgb, rgb) < 3.0); /* the colour channels of the RGBA input */
    sbf_image_free(&im);
    unlink(path);
}

#ifdef SBF_HEIF
#include <libheif/heif.h>
/* The HEIF=1 build: HEIC (x265) and AVIF (AV1) files made by libheif's encoders decode close to their
 * source pixels, also under a .jpg name. */
static void test_heif(void **state) {
    (void)state;
    unsigned char rgb[CW * CH * 3];
    smooth_rgb(rgb, 3);
    const enum heif_compression_format fmts[2] = {heif_compression_HEVC, heif_compression_AV1};
    for (int f = 0; f < 2; f++) {
        struct heif_context *ctx = heif_context_alloc();
        struct heif_encoder *enc = NULL;
        struct heif_image *img = NULL;
        assert_int_equal(heif_context_get_encoder_for_format(ctx, fmts[f], &enc).code, heif_error_Ok);
        heif_encoder_set_lossy_quality(enc, 95);
        assert_int_equal(heif_image_create(CW, CH, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img).code,
                         heif_error_Ok);
        assert_int_equal(heif_image_add_plane(img, heif_channel_interleaved, CW, CH, 8).code, heif_error_Ok);
        int stride;
        uint8_t *pl = heif_image_get_plane(img, heif_channel_interleaved, &stride);
        for (int y = 0; y < CH; y++) memcpy(pl + (size_t)y * stride, rgb + (size_t)y * CW * 3, CW * 3);
        assert_int_equal(heif_context_encode_image(ctx, img, enc, NULL, NULL).code, heif_error_Ok);
        char path[] = "/tmp/sbf-heif-XXXXXX.jpg";
        int fd = mkstemps(path, 4);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(heif_context_write_to_file(ctx, path).code, heif_error_Ok);
        heif_image_release(img);
        heif_encoder_release(enc);
        heif_context_free(ctx);
        assert_int_equal(sbf_is_image_file(path), 1);
        sbf_image im;
        char err[256] = "";
        assert_int_equal(sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err), 0);
        assert_int_equal(im.w, CW);
        assert_int_equal(im.h, CH);
        const double d = mean_diff(im.rgb, rgb);
        fprintf(stderr, "  %s: mean difference %.2f\n", f ? "AVIF" : "HEIC", d);
        assert_true(d < 4.0);
        sbf_image_free(&im);
        unlink(path);
    }
}
#endif

/* Header bombs of every format (fuzz/regress/image/bad-bomb-*: a few hundred bytes declaring 10000x10000
 * pixels, or 40 frames of 2000x2000) are refused for what they declare, before anything is allocated for
 * their pixels: each is decoded in a child whose address space is limited to 160 MB, and the reason must
 * be ours (before issue 21 the same files made stb allocate 0.6-1.2 GB and most were accepted). */
static void test_header_bombs(void **state) {
    (void)state;
#ifndef SBF_ASAN /* (ASan reserves terabytes of address space: no limit possible) */
    const char *dir = getenv("SBF_FUZZ_DIR") && *getenv("SBF_FUZZ_DIR") ? getenv("SBF_FUZZ_DIR") : "fuzz";
    char path[1024];
    snprintf(path, sizeof path, "%s/regress/image", dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "bad-bomb-", 9) != 0) continue;
        char f[2048];
        snprintf(f, sizeof f, "%s/%s", path, de->d_name);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct rlimit rl = {160u << 20, 160u << 20};
            if (setrlimit(RLIMIT_AS, &rl)) _exit(3);
            char err[256] = "";
            sbf_image im;
            int tga = strstr(f, "-tga") != NULL;
            int rc;
            if (tga) { /* no magic: only a *.tga name makes it a candidate */
                char t[64];
                snprintf(t, sizeof t, "/tmp/sbf-bomb-%d.tga", (int)getpid());
                FILE *in = fopen(f, "rb"), *out = fopen(t, "wb");
                int c;
                while (in && out && (c = fgetc(in)) != EOF) fputc(c, out);
                if (in) fclose(in);
                if (out) fclose(out);
                rc = sbf_image_load(t, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err);
                unlink(t);
            } else rc = sbf_image_load(f, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err);
            fprintf(stderr, "  %s: %s\n", de->d_name, err);
            _exit(rc == -1 && err[0] && !strstr(err, "memory") ? 0 : 1);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        n++;
    }
    closedir(d);
    assert_true(n >= 10);
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exif_orientations),
        cmocka_unit_test(test_truncated_and_corrupt),
        cmocka_unit_test(test_not_images),
        cmocka_unit_test(test_huge_header),
        cmocka_unit_test(test_gray_rgba_tiny),
        cmocka_unit_test(test_other_formats),
        cmocka_unit_test(test_unsupported_formats),
        cmocka_unit_test(test_header_bombs),
        cmocka_unit_test(test_jpeg_kinds),
        cmocka_unit_test(test_png16),
        cmocka_unit_test(test_webp),
#ifdef SBF_HEIF
        cmocka_unit_test(test_heif),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
