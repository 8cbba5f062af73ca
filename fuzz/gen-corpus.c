/* fuzz/gen-corpus.c — writes the committed seed corpus of the fuzz targets (deterministic output):
 *   <corpus>/image/    PNG/BMP/TGA/JPEG via stb_image_write, hand-made PNGs (palette, 1/4/16-bit,
 *                      Adam7, tRNS), JPEGs with EXIF orientation (II/MM, SHORT/LONG), GIF, PNM
 *   <corpus>/weights/  SBFW files from the nnw writer
 *   <corpus>/store/    embeddings databases from the store API (float32, float16, forget, torn tail)
 *                      (issue 22:) WebP lossy / lossless / alpha (libwebp's encoder), CMYK and YCCK JPEG
 *                      (libjpeg's encoder, Adobe marker as Photoshop writes it), progressive 4:2:0 JPEG
 * and, given a second folder, hand-made regression inputs for bugs found by reading (<regress>/...), and
 * (issue 21) a header bomb of every format: a few hundred bytes that declare 10000x10000 pixels.
 * Names starting "ok-" must be accepted and "bad-" refused (tests/test_fuzz_regress.c checks).
 * usage: gen-corpus CORPUS_DIR [REGRESS_DIR]        (make fuzz-corpus) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jpeglib.h>
#include "tests/helpers/jpeg-encode.h"
#include <stb/stb_image_write.h>
#include <webp/encode.h>
#include "nn/half.h"
#include "nn/weights.h"
#include "src/people.h"
#include "src/store.h"

/* ---- growable byte buffer ---------------------------------------------------------------------- */
typedef struct {
    unsigned char *p;
    size_t n, cap;
} buf;
static void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) {
            perror("realloc");
            exit(1);
        }
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void put8(buf *b, unsigned v) {
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}
static void put16be(buf *b, unsigned v) {
    put8(b, v >> 8);
    put8(b, v);
}
static void put32be(buf *b, unsigned long v) {
    put16be(b, (unsigned)(v >> 16) & 0xffff);
    put16be(b, (unsigned)v & 0xffff);
}
static void put16le(buf *b, unsigned v) {
    put8(b, v);
    put8(b, v >> 8);
}
static void putstr(buf *b, const char *s) { put(b, s, strlen(s)); }
static void write_cb(void *ctx, void *data, int size) { put(ctx, data, (size_t)size); }

static char outdir[1024];
static void mkdirs(const char *path) { /* mkdir -p */
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    for (char *q = p + 1; *q; q++)
        if (*q == '/') {
            *q = 0;
            mkdir(p, 0755);
            *q = '/';
        }
    mkdir(p, 0755);
}
static int nfiles;
static size_t nbytes;
static void save(const char *sub, const char *name, const void *d, size_t n) {
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", outdir, sub);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/%s/%s", outdir, sub, name);
    FILE *f = fopen(p, "wb");
    if (!f || (n && fwrite(d, 1, n, f) != n) || fclose(f)) {
        fprintf(stderr, "gen-corpus: cannot write %s\n", p);
        exit(1);
    }
    nfiles++;
    nbytes += n;
}
static void save_buf(const char *sub, const char *name, buf *b) {
    save(sub, name, b->p, b->n);
    free(b->p);
    memset(b, 0, sizeof *b);
}

static uint32_t rng = 12345;
static unsigned rnd(void) {
    rng = rng * 1103515245u + 12345u;
    return (rng >> 16) & 0x7fff;
}

/* ---- images ------------------------------------------------------------------------------------ */
#define W 16
#define H 12
static unsigned char pix[W * H * 4];
static void pattern(int comp) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < comp; c++)
                pix[(y * W + x) * comp + c] = (unsigned char)(x * 16 + y * 8 * c + (rnd() & 15));
}

static void png_chunk(buf *b, const char *type, const unsigned char *d, size_t n) {
    put32be(b, (unsigned long)n);
    size_t at = b->n;
    put(b, type, 4);
    if (n) put(b, d, n);
    put32be(b, sbf_crc32(0, b->p + at, n + 4));
}

/* A PNG written by hand: any colour type / bit depth / interlace, zlib with stored blocks, rows with
 * all five filter types and arbitrary bytes (the decoder does not care what they mean). */
static void hand_png(const char *name, int ct, int depth, int interlace, int trns, int w, int h) {
    static const int ch[7] = {1, 0, 3, 1, 2, 0, 4};
    int bpp = ch[ct] * depth;
    buf raw = {0}, z = {0}, b = {0};
    static const int x0[7] = {0, 4, 0, 2, 0, 1, 0}, y0[7] = {0, 0, 4, 0, 2, 0, 1};
    static const int dx[7] = {8, 8, 4, 4, 2, 2, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
    for (int pass = 0; pass < (interlace ? 7 : 1); pass++) {
        int pw = interlace ? (w > x0[pass] ? (w - x0[pass] + dx[pass] - 1) / dx[pass] : 0) : w;
        int ph = interlace ? (h > y0[pass] ? (h - y0[pass] + dy[pass] - 1) / dy[pass] : 0) : h;
        if (!pw || !ph) continue;
        size_t rb = ((size_t)pw * bpp + 7) / 8;
        for (int y = 0; y < ph; y++) {
            put8(&raw, (unsigned)(y % 5));
            for (size_t i = 0; i < rb; i++) put8(&raw, ct == 3 ? rnd() % 16 * (depth == 8 ? 1 : 17) : rnd());
        }
    }
    put8(&z, 0x78);
    put8(&z, 0x01);
    for (size_t off = 0; off < raw.n || off == 0;) {
        size_t n = raw.n - off > 65535 ? 65535 : raw.n - off;
        put8(&z, off + n == raw.n);
        put16le(&z, (unsigned)n);
        put16le(&z, (unsigned)~n & 0xffff);
        put(&z, raw.p + off, n);
        off += n;
        if (off == raw.n) break;
    }
    unsigned long a = 1, s2 = 0;
    for (size_t i = 0; i < raw.n; i++) {
        a = (a + raw.p[i]) % 65521;
        s2 = (s2 + a) % 65521;
    }
    put32be(&z, s2 << 16 | a);
    put(&b, "\x89PNG\r\n\x1a\n", 8);
    unsigned char ihdr[13] = {0,
                              0,
                              0,
                              (unsigned char)w,
                              0,
                              0,
                              0,
                              (unsigned char)h,
                              (unsigned char)depth,
                              (unsigned char)ct,
                              0,
                              0,
                              (unsigned char)interlace};
    png_chunk(&b, "IHDR", ihdr, 13);
    if (ct == 3) {
        unsigned char plte[16 * 3];
        for (int i = 0; i < 48; i++) plte[i] = (unsigned char)rnd();
        png_chunk(&b, "PLTE", plte, sizeof plte);
    }
    if (trns) {
        unsigned char t[6] = {0, 7, 0, 9, 0, 11};
        png_chunk(&b, "tRNS", t, ct == 0 ? 2 : ct == 2 ? 6 : 5);
    }
    size_t half = z.n / 2; /* two IDAT chunks */
    png_chunk(&b, "IDAT", z.p, half);
    png_chunk(&b, "IDAT", z.p + half, z.n - half);
    png_chunk(&b, "IEND", NULL, 0);
    save_buf("image", name, &b);
    free(raw.p);
    free(z.p);
}

/* TIFF block with the orientation tag (type 3 SHORT or 4 LONG), after `extra` other entries. */
static void exif_tiff(buf *t, int le, int o, int type, int extra) {
#define W16(v) (le ? put16le(t, (v)) : put16be(t, (v)))
#define W32(v) (le ? (put16le(t, (unsigned)(v)&0xffff), put16le(t, (unsigned)(v) >> 16)) : put32be(t, (v)))
    put(t, le ? "II" : "MM", 2);
    W16(42);
    W32(8);
    W16((unsigned)(extra + 1));
    for (int i = 0; i < extra; i++) {
        W16(0x010F + i);
        W16(2);
        W32(4);
        put(t, "sbf", 4);
    } /* Make etc. */
    W16(0x0112);
    W16((unsigned)type);
    W32(1);
    if (type == 3) {
        W16((unsigned)o);
        W16(0);
    } else W32((unsigned)o);
    W32(0);
#undef W16
#undef W32
}

static void jpeg_with_exif(const char *name, const buf *jpg, int le, int o, int type, int extra) {
    buf t = {0}, b = {0};
    exif_tiff(&t, le, o, type, extra);
    put(&b, jpg->p, 2); /* SOI */
    put8(&b, 0xFF);
    put8(&b, 0xE1);
    put16be(&b, (unsigned)(2 + 6 + t.n));
    put(&b, "Exif\0\0", 6);
    put(&b, t.p, t.n);
    put(&b, jpg->p + 2, jpg->n - 2);
    save_buf("image", name, &b);
    free(t.p);
}

/* A GIF89a logical screen descriptor: signature, size, flags (global table), background, aspect. */
static void gif_screen(buf *b, unsigned w, unsigned h, unsigned flags) {
    put(b, "GIF89a", 6);
    put16le(b, w);
    put16le(b, h);
    put8(b, flags);
    put8(b, 0);
    put8(b, 0);
}

/* A GIF image descriptor: separator, position, size, flags (local table, interlace). */
static void gif_image(buf *b, unsigned x, unsigned y, unsigned w, unsigned h, unsigned flags) {
    put8(b, 0x2C);
    put16le(b, x);
    put16le(b, y);
    put16le(b, w);
    put16le(b, h);
    put8(b, flags);
}

/* GIF89a, 7-bit LZW with a clear code every 100 literals so the code width stays 8 bits. */
static void hand_gif(const char *name, int interlace, int local_table) {
    buf b = {0}, codes = {0};
    gif_screen(&b, W, H, local_table ? 0x00 : 0xF6);
    if (!local_table)
        for (int i = 0; i < 128 * 3; i++) put8(&b, rnd());
    put(&b, "\x21\xF9\x04\x01\x00\x00\x03\x00", 8); /* graphic control: transparent index 3 */
    gif_image(&b, 0, 0, W, H, (interlace ? 0x40 : 0) | (local_table ? 0x86 : 0));
    if (local_table)
        for (int i = 0; i < 128 * 3; i++) put8(&b, rnd());
    put8(&b, 7);
    unsigned long acc = 0;
    int nb = 0;
#define EMIT(c)                                                                                                        \
    do {                                                                                                               \
        acc |= (unsigned long)(c) << nb;                                                                               \
        nb += 8;                                                                                                       \
        while (nb >= 8) {                                                                                              \
            put8(&codes, acc & 0xff);                                                                                  \
            acc >>= 8;                                                                                                 \
            nb -= 8;                                                                                                   \
        }                                                                                                              \
    } while (0)
    for (int i = 0; i < W * H; i++) {
        if (i % 100 == 0) EMIT(128);
        EMIT(rnd() % 128);
    }
    EMIT(129);
#undef EMIT
    for (size_t off = 0; off < codes.n;) {
        size_t n = codes.n - off > 255 ? 255 : codes.n - off;
        put8(&b, (unsigned)n);
        put(&b, codes.p + off, n);
        off += n;
    }
    put8(&b, 0);
    put8(&b, 0x3B);
    save_buf("image", name, &b);
    free(codes.p);
}

/* A JPEG through libjpeg's encoder from pix (comp 3: RGB in; 4: pix read as C,M,Y,K). */
static void libjpeg_file(const char *name, int comp, J_COLOR_SPACE store_as, int progressive) {
    unsigned long len;
    unsigned char *mem = test_jpeg_encode(pix, W, H, comp, store_as, progressive, 90, &len);
    save("image", name, mem, len);
    free(mem);
}

static void camera_images(void) {
    uint8_t *out = NULL;
    size_t n;
    pattern(3);
    if (!(n = WebPEncodeRGB(pix, W, H, W * 3, 80, &out))) {
        fprintf(stderr, "gen-corpus: WebP encoder failed\n");
        exit(1);
    }
    save("image", "ok-lossy.webp", out, n);
    WebPFree(out);
    if (!(n = WebPEncodeLosslessRGB(pix, W, H, W * 3, &out))) {
        fprintf(stderr, "gen-corpus: WebP encoder failed\n");
        exit(1);
    }
    save("image", "ok-lossless.webp", out, n);
    WebPFree(out);
    pattern(4);
    if (!(n = WebPEncodeRGBA(pix, W, H, W * 4, 80, &out))) {
        fprintf(stderr, "gen-corpus: WebP encoder failed\n");
        exit(1);
    }
    save("image", "ok-alpha.webp", out, n);
    WebPFree(out);
    libjpeg_file("ok-cmyk.jpg", 4, JCS_CMYK, 0);
    libjpeg_file("ok-ycck-progressive.jpg", 4, JCS_YCCK, 1);
    pattern(3);
    libjpeg_file("ok-progressive-420.jpg", 3, JCS_YCbCr, 1);
}

/* Header bombs (issue 21): each declares 10000x10000 pixels (100 megapixels, the default limit) in a few
 * hundred bytes; every one must be refused before anything is allocated for its pixels. */
static void header_bombs(void) {
    buf b = {0};
    /* JPEG: SOI, DQT, SOF0 10000x10000 gray, DHT (one 1-bit DC code, one 1-bit AC code), SOS, 16 bytes, EOI */
    put(&b, "\xFF\xD8", 2);
    put16be(&b, 0xFFDB);
    put16be(&b, 67);
    put8(&b, 0);
    for (int i = 0; i < 64; i++) put8(&b, 1);
    put16be(&b, 0xFFC0);
    put16be(&b, 11);
    put8(&b, 8);
    put16be(&b, 10000);
    put16be(&b, 10000);
    put8(&b, 1);
    put8(&b, 1);
    put8(&b, 0x11);
    put8(&b, 0);
    for (int cls = 0; cls < 2; cls++) {
        put16be(&b, 0xFFC4);
        put16be(&b, 2 + 17 + 1);
        put8(&b, (unsigned)cls << 4);
        put8(&b, 1);
        for (int i = 1; i < 16; i++) put8(&b, 0);
        put8(&b, 0); /* DC: category 0; AC: end of block */
    }
    put16be(&b, 0xFFDA);
    put16be(&b, 8);
    put8(&b, 1);
    put8(&b, 1);
    put8(&b, 0x00);
    put8(&b, 0);
    put8(&b, 63);
    put8(&b, 0);
    for (int i = 0; i < 16; i++) put8(&b, 0);
    put16be(&b, 0xFFD9);
    save_buf("image", "bad-bomb-header-10000x10000.jpg", &b);
    /* progressive: the same with SOF2 and a DC scan */
    put(&b, "\xFF\xD8", 2);
    put16be(&b, 0xFFDB);
    put16be(&b, 67);
    put8(&b, 0);
    for (int i = 0; i < 64; i++) put8(&b, 1);
    put16be(&b, 0xFFC2);
    put16be(&b, 17);
    put8(&b, 8);
    put16be(&b, 10000);
    put16be(&b, 10000);
    put8(&b, 3);
    for (int k = 1; k <= 3; k++) {
        put8(&b, (unsigned)k);
        put8(&b, k == 1 ? 0x22 : 0x11);
        put8(&b, 0);
    }
    put16be(&b, 0xFFC4);
    put16be(&b, 2 + 17 + 1);
    put8(&b, 0);
    put8(&b, 1);
    for (int i = 1; i < 16; i++) put8(&b, 0);
    put8(&b, 0);
    put16be(&b, 0xFFDA);
    put16be(&b, 12);
    put8(&b, 3);
    for (int k = 1; k <= 3; k++) {
        put8(&b, (unsigned)k);
        put8(&b, 0);
    }
    put8(&b, 0);
    put8(&b, 0);
    put8(&b, 0);
    for (int i = 0; i < 16; i++) put8(&b, 0);
    put16be(&b, 0xFFD9);
    save_buf("image", "bad-bomb-header-10000x10000-progressive.jpg", &b);
    /* PNG: 10000x10000 RGB, one tiny IDAT */
    put(&b, "\x89PNG\r\n\x1a\n", 8);
    unsigned char ihdr[13] = {0, 0, 0x27, 0x10, 0, 0, 0x27, 0x10, 8, 2, 0, 0, 0};
    png_chunk(&b, "IHDR", ihdr, 13);
    static const unsigned char z[] = {0x78, 0x01, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01};
    png_chunk(&b, "IDAT", z, sizeof z);
    png_chunk(&b, "IEND", NULL, 0);
    save_buf("image", "bad-bomb-header-10000x10000.png", &b);
    /* GIF: 10000x10000 canvas, one 1x1 frame (stb kept 9 bytes per canvas pixel: 880 MB peak) */
    gif_screen(&b, 10000, 10000, 0x80);
    put(&b, "\0\0\0\xff\xff\xff", 6);
    gif_image(&b, 0, 0, 1, 1, 0);
    put8(&b, 2);
    put8(&b, 2);
    put8(&b, 0x44);
    put8(&b, 0x01);
    put8(&b, 0);
    put8(&b, 0x3B);
    save_buf("image", "bad-bomb-header-10000x10000.gif", &b);
    /* GIF: a 2000x2000 canvas that holds 40 frames (canvas x frames = 160 megapixels) */
    gif_screen(&b, 2000, 2000, 0x80);
    put(&b, "\0\0\0\xff\xff\xff", 6);
    for (int f = 0; f < 40; f++) {
        gif_image(&b, 0, 0, 1, 1, 0);
        put8(&b, 2);
        if (f == 0) /* enough LZW data to cover the canvas: the frame count is what refuses it */
            for (int k = 0; k < 2; k++) {
                put8(&b, 200);
                for (int i = 0; i < 200; i++) put8(&b, 0x44);
            }
        else {
            put8(&b, 2);
            put8(&b, 0x44);
            put8(&b, 0x01);
        }
        put8(&b, 0);
    }
    put8(&b, 0x3B);
    save_buf("image", "bad-bomb-gif-40-frames-2000x2000.gif", &b);
    /* BMP: 10000x10000 24-bit, no pixel data */
    put(&b, "BM", 2);
    put16le(&b, 54);
    put16le(&b, 0);
    put16le(&b, 0);
    put16le(&b, 0);
    put16le(&b, 54);
    put16le(&b, 0);
    put16le(&b, 40);
    put16le(&b, 0);
    put16le(&b, 10000);
    put16le(&b, 0);
    put16le(&b, 10000);
    put16le(&b, 0);
    put16le(&b, 1);
    put16le(&b, 24);
    put16le(&b, 0);
    put16le(&b, 0);
    for (int i = 0; i < 20; i++) put8(&b, 0);
    save_buf("image", "bad-bomb-header-10000x10000.bmp", &b);
    /* PPM */
    putstr(&b, "P6\n10000 10000\n255\n");
    for (int i = 0; i < 64; i++) put8(&b, 7);
    save_buf("image", "bad-bomb-header-10000x10000.ppm", &b);
    /* TGA (no magic: the replay names it *.tga), run-length RGB */
    put8(&b, 0);
    put8(&b, 0);
    put8(&b, 10);
    for (int i = 0; i < 9; i++) put8(&b, 0);
    put16le(&b, 10000);
    put16le(&b, 10000);
    put8(&b, 24);
    put8(&b, 0);
    put8(&b, 0xFF);
    put8(&b, 1);
    put8(&b, 2);
    put8(&b, 3);
    save_buf("image", "bad-bomb-header-10000x10000-rle-tga", &b);
    /* WebP: lossy VP8 key frame header of 10000x10000 with its partition cut off */
    static const unsigned char vp8[] = {0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x10, 0x27, 0x10, 0x27};
    put(&b, "RIFF", 4);
    put8(&b, 4 + 8 + 30);
    put8(&b, 0);
    put8(&b, 0);
    put8(&b, 0);
    put(&b, "WEBPVP8 ", 8);
    put8(&b, 30);
    put8(&b, 0);
    put8(&b, 0);
    put8(&b, 0);
    put(&b, vp8, sizeof vp8);
    for (int i = 0; i < 20; i++) put8(&b, 0);
    save_buf("image", "bad-bomb-header-10000x10000.webp", &b);
    /* WebP lossless: VP8L header of 10000x10000, no image data */
    put(&b, "RIFF", 4);
    put8(&b, 4 + 8 + 6);
    put8(&b, 0);
    put8(&b, 0);
    put8(&b, 0);
    put(&b, "WEBPVP8L", 8);
    put8(&b, 6);
    put8(&b, 0);
    put8(&b, 0);
    put8(&b, 0);
    const unsigned long v = (10000ul - 1) | (10000ul - 1) << 14;
    put8(&b, 0x2f);
    put8(&b, v & 0xff);
    put8(&b, (v >> 8) & 0xff);
    put8(&b, (v >> 16) & 0xff);
    put8(&b, (v >> 24) & 0xff);
    put8(&b, 0);
    save_buf("image", "bad-bomb-header-10000x10000-lossless.webp", &b);
}

static void images(void) {
    buf b = {0};
    for (int comp = 1; comp <= 4; comp++) {
        static const char *nm[5] = {"", "ok-gray.png", "ok-gray-alpha.png", "ok-rgb.png", "ok-rgba.png"};
        pattern(comp);
        stbi_write_force_png_filter = comp == 3 ? -1 : comp; /* -1: stb picks per row */
        stbi_write_png_to_func(write_cb, &b, W, H, comp, pix, W * comp);
        save_buf("image", nm[comp], &b);
    }
    stbi_write_force_png_filter = -1;
    hand_png("ok-palette-4bit.png", 3, 4, 0, 1, W, H);
    hand_png("ok-palette-8bit-adam7.png", 3, 8, 1, 0, 13, 11);
    hand_png("ok-gray-1bit.png", 0, 1, 0, 0, 21, 5);
    hand_png("ok-gray-2bit-adam7.png", 0, 2, 1, 1, 9, 9);
    hand_png("ok-gray-16bit-adam7.png", 0, 16, 1, 0, 10, 7);
    hand_png("ok-rgb-16bit-trns.png", 2, 16, 0, 1, 7, 6);
    hand_png("ok-rgba-16bit.png", 6, 16, 0, 0, 5, 4);
    hand_png("ok-gray-alpha-adam7.png", 4, 8, 1, 0, 11, 3);
    pattern(3);
    stbi_write_bmp_to_func(write_cb, &b, W, H, 3, pix);
    save_buf("image", "ok-rgb.bmp", &b);
    pattern(4);
    stbi_write_bmp_to_func(write_cb, &b, W, H, 4, pix);
    save_buf("image", "ok-rgba.bmp", &b);
    pattern(3);
    stbi_write_tga_with_rle = 0;
    stbi_write_tga_to_func(write_cb, &b, W, H, 3, pix);
    save_buf("image", "ok-rgb.tga", &b);
    stbi_write_tga_with_rle = 1;
    pattern(4);
    stbi_write_tga_to_func(write_cb, &b, W, H, 4, pix);
    save_buf("image", "ok-rgba-rle.tga", &b);
    pattern(1);
    stbi_write_tga_to_func(write_cb, &b, W, H, 1, pix);
    save_buf("image", "ok-gray-rle.tga", &b);

    buf jpg = {0}, jgray = {0};
    pattern(3);
    stbi_write_jpg_to_func(write_cb, &jpg, W, H, 3, pix, 75); /* 4:2:0 subsampling */
    save("image", "ok-q75.jpg", jpg.p, jpg.n);
    stbi_write_jpg_to_func(write_cb, &b, W, H, 3, pix, 95); /* 4:4:4 */
    save_buf("image", "ok-q95.jpg", &b);
    pattern(1);
    stbi_write_jpg_to_func(write_cb, &jgray, 9, 7, 1, pix, 80);
    save("image", "ok-gray.jpg", jgray.p, jgray.n);
    for (int o = 2; o <= 8; o++) {
        char nm[64];
        snprintf(nm, sizeof nm, "ok-exif-%d-%s.jpg", o, o % 2 ? "II" : "MM");
        jpeg_with_exif(nm, o == 5 ? &jgray : &jpg, o % 2, o, 3, o == 6 ? 2 : 0);
    }
    jpeg_with_exif("ok-exif-6-long.jpg", &jgray, 1, 6, 4, 1);
    /* a JPEG cut in half and one with its EXIF block cut: refused / no rotation */
    save("image", "bad-truncated.jpg", jpg.p, jpg.n / 2);
    free(jpg.p);
    free(jgray.p);

    hand_gif("ok-global.gif", 0, 0);
    hand_gif("ok-local-interlaced.gif", 1, 1);

    pattern(3);
    putstr(&b, "P6\n# sortbyface fuzz seed\n16 12\n255\n");
    put(&b, pix, W * H * 3);
    save_buf("image", "ok-rgb.ppm", &b);
    putstr(&b, "P5 16 12 255\n");
    put(&b, pix, W * H);
    save_buf("image", "ok-gray.pgm", &b);
    putstr(&b, "P5\n7 5\n65535\n");
    put(&b, pix, 7 * 5 * 2);
    save_buf("image", "ok-gray16.pgm", &b);

    /* PNG "bomb": a tiny file whose header claims 100000 x 100000 pixels. */
    put(&b, "\x89PNG\r\n\x1a\n", 8);
    unsigned char ihdr[13] = {0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0, 8, 2, 0, 0, 0};
    png_chunk(&b, "IHDR", ihdr, 13);
    png_chunk(&b, "IEND", NULL, 0);
    save_buf("image", "bad-bomb.png", &b);
    save("image", "bad-empty", "", 0);
    save("image", "bad-text.txt", "hello, not a photo\n", 19);
}

/* ---- weight files ------------------------------------------------------------------------------ */
static void save_weights(const char *sub, const char *name, nnw_writer *w, size_t cut) {
    size_t len;
    unsigned char *b = nnw_writer_serialize(w, &len);
    if (!b) {
        fprintf(stderr, "gen-corpus: serialise failed\n");
        exit(1);
    }
    save(sub, name, b, cut ? cut : len);
    free(b);
    nnw_writer_free(w);
}

static nnw_writer *small_weights(void) {
    nnw_writer *w = nnw_writer_new();
    float a[2 * 3 * 1 * 5];
    for (int i = 0; i < 30; i++) a[i] = (float)i * 0.5f - 3.0f;
    uint16_t h[7];
    for (int i = 0; i < 7; i++) h[i] = nn_f32_to_f16((float)i / 4.0f);
    int8_t q[3] = {-128, 0, 127};
    uint8_t u[5] = {0, 1, 2, 254, 255};
    int32_t s[2] = {-7, 1 << 30};
    nnw_writer_meta(w, "model", "fuzz-seed");
    nnw_writer_meta(w, "licence", "none");
    nnw_writer_add(w, "conv/kernel", NNW_F32, 4, (uint32_t[]){2, 3, 1, 5}, 1, a);
    nnw_writer_add(w, "half", NNW_F16, 1, (uint32_t[]){7}, 1, h);
    nnw_writer_add(w, "q", NNW_I8, 2, (uint32_t[]){1, 3}, 0.25f, q);
    nnw_writer_add(w, "u", NNW_U8, 3, (uint32_t[]){1, 5, 1}, 1, u);
    nnw_writer_add(w, "i", NNW_I32, 1, (uint32_t[]){2}, 1, s);
    return w;
}

static void weights(void) {
    save_weights("weights", "ok-small.sbfw", small_weights(), 0);
    save_weights("weights", "ok-empty.sbfw", nnw_writer_new(), 0);
    nnw_writer *w = nnw_writer_new();
    nnw_writer_meta(w, "model", "meta only");
    nnw_writer_meta(w, "", "");
    nnw_writer_meta(w, "k", "");
    save_weights("weights", "ok-meta-only.sbfw", w, 0);
    save_weights("weights", "bad-truncated.sbfw", small_weights(), 200);
}

/* Element count that wraps around 2^64 (2^20 * 2^20 * 2^24): count and size become 0. */
static void regress_weights(const char *dir) {
    snprintf(outdir, sizeof outdir, "%s", dir);
    nnw_writer *w = nnw_writer_new();
    float one = 1;
    nnw_writer_add(w, "ok", NNW_F32, 1, (uint32_t[]){1}, 1, &one);
    nnw_writer_add(w, "wraps", NNW_F32, 3, (uint32_t[]){1u << 20, 1u << 20, 1u << 24}, 1, &one);
    save_weights("weights", "bad-count-overflow.sbfw", w, 0);
}

/* A 16x16 gray PNG whose zlib stream inflates to 8 MB (fixed Huffman, <258, 1> matches). */
static void regress_images(void) {
    buf z = {0}, b = {0};
    put8(&z, 0x78);
    put8(&z, 0x01);
    unsigned long acc = 0;
    int nb = 0;
#define BITS(v, n)                                                                                                     \
    do {                                                                                                               \
        acc |= (unsigned long)(v) << nb;                                                                               \
        nb += (n);                                                                                                     \
        while (nb >= 8) {                                                                                              \
            put8(&z, acc & 0xff);                                                                                      \
            acc >>= 8;                                                                                                 \
            nb -= 8;                                                                                                   \
        }                                                                                                              \
    } while (0)
#define HUFF(code, n)                                                                                                  \
    do {                                                                                                               \
        unsigned r_ = 0;                                                                                               \
        for (int i_ = 0; i_ < (n); i_++) r_ |= (((code) >> i_) & 1u) << ((n)-1 - i_);                                  \
        BITS(r_, n);                                                                                                   \
    } while (0)
    BITS(1, 1);
    BITS(1, 2);    /* final block, fixed Huffman */
    HUFF(0x30, 8); /* literal 0 */
    for (long i = 0; i < 8L * 1024 * 1024 / 258; i++) {
        HUFF(0xC5, 8);
        HUFF(0, 5);
    }           /* length 258 (285), distance 1 */
    HUFF(0, 7); /* end of block (256) */
    if (nb) BITS(0, 8 - nb);
#undef BITS
#undef HUFF
    put32be(&z, 1); /* adler (stb does not check it) */
    put(&b, "\x89PNG\r\n\x1a\n", 8);
    unsigned char ihdr[13] = {0, 0, 0, 16, 0, 0, 0, 16, 8, 0, 0, 0, 0};
    png_chunk(&b, "IHDR", ihdr, 13);
    png_chunk(&b, "IDAT", z.p, z.n);
    png_chunk(&b, "IEND", NULL, 0);
    save_buf("image", "bad-deflate-bomb.png", &b);
    free(z.p);
}

/* ---- databases --------------------------------------------------------------------------------- */
static char tmpd[256];
static void face(sbf_face_rec *f, int i) {
    memset(f, 0, sizeof *f);
    f->index = i;
    f->box.left = -3 + 10 * i;
    f->box.top = 5;
    f->box.right = 80 + i;
    f->box.bottom = 90;
    f->box.score = 0.5 + i;
    f->box.filter = i % 5;
    for (int k = 0; k < SBF_LANDMARKS; k++) {
        f->landmarks[k][0] = (float)k;
        f->landmarks[k][1] = (float)(k * i);
    }
    for (int k = 0; k < SBF_EMBED_DIM; k++) f->emb[k] = (k % 7 == i % 7) ? 0.25f : 0.0f;
}
static void put_photo(sbf_store *s, const char *path, int nfaces) {
    sbf_face_rec fr[3];
    for (int i = 0; i < nfaces; i++) face(&fr[i], i);
    sbf_photo_meta m = {path, 1000 + nfaces, 1700000000000000000LL + nfaces, 640, 480, NULL};
    char err[512];
    if (sbf_store_put(s, &m, nfaces, fr, err, sizeof err)) {
        fprintf(stderr, "gen-corpus: %s\n", err);
        exit(1);
    }
}
static void save_db(const char *name, const char *db, size_t cut, long flip) {
    FILE *f = fopen(db, "rb");
    buf b = {0};
    unsigned char tmp[4096];
    size_t n;
    while (f && (n = fread(tmp, 1, sizeof tmp, f)) > 0) put(&b, tmp, n);
    if (f) fclose(f);
    if (cut) b.n -= cut;
    if (flip >= 0) b.p[flip] ^= 0x20;
    save_buf("store", name, &b);
}
static sbf_store *fresh(const char *db, int flags) {
    char err[512];
    unlink(db);
    sbf_store *s = sbf_store_open(db, SBF_STORE_WRITE | flags, err, sizeof err);
    if (!s) {
        fprintf(stderr, "gen-corpus: %s\n", err);
        exit(1);
    }
    return s;
}

static void stores(void) {
    char db[512], err[512];
    snprintf(tmpd, sizeof tmpd, "/tmp/sbf-gen-corpus-XXXXXX");
    if (!mkdtemp(tmpd)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(db, sizeof db, "%s/e.db", tmpd);
    sbf_store *s = fresh(db, 0);
    sbf_store_close(s);
    save_db("ok-empty.db", db, 0, -1);
    s = fresh(db, 0);
    put_photo(s, "b/two faces.jpg", 2);
    put_photo(s, "a/none.png", 0);
    put_photo(s, "c/\xff\xfe not utf8.jpg", 1);
    sbf_store_close(s);
    save_db("ok-f32.db", db, 0, -1);
    save_db("ok-torn-tail.db", db, 7, -1);
    save_db("bad-flipped-payload.db", db, 0, 300);
    save_db("bad-flipped-header.db", db, 0, 3);
    s = fresh(db, SBF_STORE_F16);
    put_photo(s, "x.jpg", 1);
    put_photo(s, "y.jpg", 0);
    put_photo(s, "x.jpg", 0); /* replaced */
    if (sbf_store_forget(s, "y.jpg", err, sizeof err)) {
        fprintf(stderr, "gen-corpus: %s\n", err);
        exit(1);
    }
    put_photo(s, "z.jpg", 0);
    sbf_store_close(s);
    save_db("ok-f16-forget.db", db, 0, -1);
    /* a database with a people record (issue 19): people, a name, corrections, placed files, a planned move */
    s = fresh(db, 0);
    put_photo(s, "b/two faces.jpg", 2);
    put_photo(s, "a/one.jpg", 1);
    sbf_faceset fs;
    sbf_people pp;
    uint32_t fid[3], person[3];
    sbf_people_opts o;
    sbf_people_opts_default(&o);
    sbf_people_init(&pp);
    if (sbf_store_faceset(s, &fs, err, sizeof err) || sbf_people_update(&pp, &fs, &o, fid, person, NULL)) {
        fprintf(stderr, "gen-corpus: people\n");
        exit(1);
    }
    pp.outdir = strdup("/home/me/Sorted-pictures");
    sbf_people_person(&pp, person[0])->name = strdup("Alice");
    sbf_people_correct(&pp, SBF_CORR_ISNOT, SBF_FROM_FOLDER, person[0], 0, "b/two faces.jpg", &fid[1], 1);
    sbf_people_correct(&pp, SBF_CORR_HIDE, SBF_FROM_VERB, person[2], 0, "", NULL, 0);
    sbf_placed pl[2] = {
        {fid[0], 0, strdup("Alice/two faces.jpg"), 12, 1002, 5, 0, 1002, 5, SBF_OP_MOVE, strdup("Bob/two faces.jpg")},
        {0, SBF_PLACED_USER, strdup("Alice/notes.txt"), 13, 3, 4, 0xffffffffu, 0, 0, 0, NULL}};
    pp.placed = malloc(sizeof pl);
    memcpy(pp.placed, pl, sizeof pl);
    pp.nplaced = pp.capplaced = 2;
    pp.planned = 1;
    for (int k = 0; k < pp.ncorr; k++) pp.corr[k].time = 1700000000; /* (the same file every time) */
    if (sbf_people_save(&pp, s, err, sizeof err)) {
        fprintf(stderr, "gen-corpus: %s\n", err);
        exit(1);
    }
    sbf_people_free(&pp);
    sbf_faceset_free(&fs);
    sbf_store_close(s);
    save_db("ok-people.db", db, 0, -1);
    unlink(db);
    rmdir(tmpd);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: gen-corpus CORPUS_DIR [REGRESS_DIR]\n");
        return 2;
    }
    snprintf(outdir, sizeof outdir, "%s", argv[1]);
    mkdirs(outdir);
    images();
    camera_images();
    weights();
    stores();
    printf("gen-corpus: %d files, %zu bytes in %s\n", nfiles, nbytes, outdir);
    if (argc == 3) {
        mkdirs(argv[2]);
        regress_weights(argv[2]);
        regress_images();
        header_bombs();
        printf("gen-corpus: hand-made regression inputs in %s\n", argv[2]);
    }
    return 0;
}
