/* src/image.c — image input: sniffing, decoding (JPEG: libjpeg-turbo, WebP: libwebp, HEIC/AVIF: libheif in
 * the HEIF=1 build, the rest: stb_image), EXIF orientation, limits, gray, buffers kept across photos. */
#include "src/image.h"
#include "src/hog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stb/stb_image.h>
#include "src/decoders.h"
#include "src/util.h"
#include "nn/weights.h" /* nnw_crc32 */

#define MAX_FILE_BYTES ((size_t)1 << 30) /* 1 GiB of compressed data is far beyond any photo */

static int is_webp(const unsigned char *h, size_t n) {
    return n >= 12 && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WEBP", 4) == 0;
}

/* "HEIC" / "AVIF" when the ISO base media header says so, else NULL */
static const char *heif_kind(const unsigned char *h, size_t n) {
    if (n < 12 || memcmp(h + 4, "ftyp", 4) != 0) return NULL;
    static const char *const heif[] = {"heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1"};
    if (memcmp(h + 8, "avif", 4) == 0 || memcmp(h + 8, "avis", 4) == 0) return "AVIF";
    for (size_t i = 0; i < sizeof heif / sizeof *heif; i++)
        if (memcmp(h + 8, heif[i], 4) == 0) return "HEIC";
    return NULL;
}

int sbf_sniff_image(const unsigned char *h, size_t n) {
    if (n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF) return 1;                 /* JPEG */
    if (is_webp(h, n)) return 1;                                                          /* WebP */
    if (heif_kind(h, n) && sbf_heif_available()) return 1;                                /* HEIC, AVIF */
    if (n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0) return 1;                       /* PNG */
    if (n >= 6 && (memcmp(h, "GIF87a", 6) == 0 || memcmp(h, "GIF89a", 6) == 0)) return 1; /* GIF */
    if (n >= 14 && h[0] == 'B' && h[1] == 'M') return 1;                                  /* BMP */
    if (n >= 3 && h[0] == 'P' && (h[1] == '5' || h[1] == '6') &&
        (h[2] == ' ' || h[2] == '\n' || h[2] == '\r' || h[2] == '\t'))
        return 1; /* PNM */
    return 0;
}

static const char *stb_header_checks(const unsigned char *buf, size_t len);

/* TGA has no magic: accept it only by name plus stb's header check. */
static int tga_by_name(const char *path, const unsigned char *h, size_t n) {
    size_t l = strlen(path);
    if (l < 4 || strcasecmp(path + l - 4, ".tga") != 0) return 0;
    if (stb_header_checks(h, n)) return 0; /* stbi_info tries every format: keep its bugs out */
    int w, hh, c;
    return stbi_info_from_memory(h, (int)n, &w, &hh, &c);
}

const char *sbf_sniff_unsupported(const unsigned char *h, size_t n) {
    if (sbf_sniff_image(h, n)) return NULL;
    if (n >= 12 && memcmp(h + 4, "ftyp", 4) == 0) return heif_kind(h, n); /* ISO base media: HEIF/HEIC/AVIF stills */
    if (n >= 4 && (memcmp(h, "II*\0", 4) == 0 || memcmp(h, "MM\0*", 4) == 0))
        return "TIFF/raw"; /* also CR2, NEF, DNG, ARW */
    if (n >= 12 && memcmp(h, "\0\0\0\x0CjP  \r\n\x87\n", 12) == 0) return "JPEG 2000";
    if ((n >= 2 && h[0] == 0xFF && h[1] == 0x0A) || (n >= 12 && memcmp(h, "\0\0\0\x0CJXL \r\n\x87\n", 12) == 0))
        return "JPEG XL";
    if (n >= 4 && memcmp(h, "8BPS", 4) == 0) return "PSD";
    return NULL;
}

int sbf_sniff_file(const char *path, const char **unsupported) {
    if (unsupported) *unsupported = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char h[64];
    size_t n = fread(h, 1, sizeof h, f);
    fclose(f);
    if (sbf_sniff_image(h, n) || tga_by_name(path, h, n)) return 1;
    if (unsupported) *unsupported = sbf_sniff_unsupported(h, n);
    return 0;
}

int sbf_is_image_file(const char *path) { return sbf_sniff_file(path, NULL); }

/* ---- EXIF ----------------------------------------------------------------------------------- */
static unsigned rd16(const unsigned char *p, int le) {
    return le ? (unsigned)(p[0] | p[1] << 8) : (unsigned)(p[0] << 8 | p[1]);
}
static unsigned long rd32(const unsigned char *p, int le) {
    return le ? (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24
              : (unsigned long)p[3] | (unsigned long)p[2] << 8 | (unsigned long)p[1] << 16 | (unsigned long)p[0] << 24;
}

/* Orientation from a TIFF block (the APP1 payload after "Exif\0\0"). */
static int tiff_orientation(const unsigned char *t, size_t n) {
    if (n < 8) return 1;
    int le;
    if (t[0] == 'I' && t[1] == 'I') le = 1;
    else if (t[0] == 'M' && t[1] == 'M') le = 0;
    else return 1;
    if (rd16(t + 2, le) != 42) return 1;
    unsigned long ifd = rd32(t + 4, le);
    if (ifd > n - 2 || ifd < 8) return 1;
    unsigned cnt = rd16(t + ifd, le);
    const unsigned char *e = t + ifd + 2;
    if ((size_t)cnt * 12 > n - ifd - 2) return 1;
    for (unsigned i = 0; i < cnt; i++, e += 12) {
        if (rd16(e, le) != 0x0112) continue;
        unsigned type = rd16(e + 2, le);
        unsigned long count = rd32(e + 4, le);
        unsigned v;
        if (type == 3 && count == 1) v = rd16(e + 8, le);                /* SHORT, stored in the value field */
        else if (type == 4 && count == 1) v = (unsigned)rd32(e + 8, le); /* LONG (seen in broken writers) */
        else return 1;
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}

int sbf_exif_orientation(const unsigned char *b, size_t n) {
    if (n < 4 || b[0] != 0xFF || b[1] != 0xD8) return 1;
    size_t p = 2;
    while (p + 4 <= n) {
        if (b[p] != 0xFF) return 1;
        unsigned m = b[p + 1];
        if (m == 0xFF) {
            p++;
            continue;
        } /* fill bytes */
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) {
            p += 2;
            continue;
        }
        if (m == 0xDA || m == 0xD9) return 1; /* start of scan / end: no EXIF before image data */
        size_t len = (size_t)b[p + 2] << 8 | b[p + 3];
        if (len < 2 || len > n - p - 2) return 1;
        if (m == 0xE1 && len >= 8 && memcmp(b + p + 4, "Exif\0\0", 6) == 0)
            return tiff_orientation(b + p + 10, len - 8);
        p += 2 + len;
    }
    return 1;
}

/* 1 when the JPEG stream reaches its end-of-image marker (stb_image silently pads truncated files). */
static int jpeg_complete(const unsigned char *b, size_t n) {
    size_t p = 2;
    while (p + 2 <= n) {
        if (b[p] != 0xFF) {
            p++;
            continue;
        } /* inside entropy-coded data */
        unsigned m = b[p + 1];
        if (m == 0xD9) return 1;
        if (m == 0x00 || m == 0xFF || (m >= 0xD0 && m <= 0xD7) || m == 0x01) {
            p += (m == 0xFF) ? 1 : 2;
            continue;
        }
        if (p + 4 > n) return 0;
        size_t len = (size_t)b[p + 2] << 8 | b[p + 3];
        if (len < 2) return 0;
        p += 2 + len; /* segment (SOS header too; its data follows) */
    }
    return 0;
}

/* 0 when a PNG chunk claims more bytes than the file holds: stb 2.27 reallocates its IDAT buffer to
 * the claimed length before reading (a 300-byte file made it allocate 2 GiB; fuzz/fuzz_image.c). */
static int png_chunks_ok(const unsigned char *b, size_t n) {
    size_t p = 8;
    while (n - p >= 8) {
        unsigned long l =
            (unsigned long)b[p] << 24 | (unsigned long)b[p + 1] << 16 | (unsigned long)b[p + 2] << 8 | b[p + 3];
        if (l > n - p - 8 || n - p - 8 - l < 4) return 0;
        if (!memcmp(b + p + 4, "IEND", 4)) return 1;
        p += 12 + l;
    }
    return 1;
}

/* 0 when a PNM header number does not fit an int (stb 2.27 accumulates the digits with signed
 * overflow, UB) or the pixel data is shorter than the header says (stb leaves the rest of its buffer
 * uninitialised: heap garbage as pixels).  Both found by fuzz/fuzz_image.c (ASan+UBSan, MSan).
 * Parses width, height and maxval the way stb does (whitespace, # comments, one byte after maxval). */
static int pnm_header_ok(const unsigned char *b, size_t n) {
    size_t p = 2;
    long long v[3] = {0, 0, 0};
    for (int field = 0; field < 3; field++) {
        for (;;) {
            while (p < n && (b[p] == ' ' || (b[p] >= '\t' && b[p] <= '\r'))) p++;
            if (p >= n || b[p] != '#') break;
            while (p < n && b[p] != '\n' && b[p] != '\r') p++;
        }
        for (; p < n && b[p] >= '0' && b[p] <= '9'; p++) {
            v[field] = v[field] * 10 + (b[p] - '0');
            if (v[field] > 0x7fffffff) return 0;
        }
    }
    double need = (double)v[0] * (double)v[1] * (b[1] == '6' ? 3 : 1) * (v[2] > 255 ? 2 : 1);
    size_t data = p + 1 < n ? n - (p + 1) : 0;
    return need <= (double)data;
}

/* Which stb decoder takes the file (stb tries every format): JPEG is 0xFF fill bytes then SOI (jb/jl:
 * the stream from its SOI), PNG its signature, PNM "P5"/"P6". */
typedef struct {
    int jpeg, png, pnm;
    const unsigned char *jb;
    size_t jl;
} stb_kind;
static stb_kind classify(const unsigned char *buf, size_t len) {
    stb_kind k;
    size_t js = 0;
    while (js < len && buf[js] == 0xFF) js++;
    k.jpeg = js >= 1 && js < len && buf[js] == 0xD8;
    k.jb = k.jpeg ? buf + js - 1 : buf;
    k.jl = k.jpeg ? len - (js - 1) : len;
    k.png = len >= 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0;
    k.pnm = len >= 2 && buf[0] == 'P' && (buf[1] == '5' || buf[1] == '6');
    return k;
}

/* Inputs that reach stb 2.27 bugs already in stbi_info; NULL when none. */
static const char *stb_header_checks(const unsigned char *buf, size_t len) {
    stb_kind k = classify(buf, len);
    if (k.pnm && !pnm_header_ok(buf, len))
        return "corrupt or truncated PNM (header numbers out of range, or less pixel data than they say)";
    return NULL;
}

/* A copy of a PNG whose short PLTE chunks are padded to 256 entries (black) and without empty IDAT
 * chunks, or NULL when there is nothing to change.  stb 2.27 keeps the palette in an uninitialised
 * stack array: a pixel index past the PLTE entries (possible in any corrupt file) came out as stack
 * garbage (MSan), so the same file could give different pixels; an empty first IDAT makes it memcpy
 * to NULL (UBSan).  Both found by fuzz/fuzz_image.c.  Call after png_chunks_ok. */
static unsigned char *png_sanitize(const unsigned char *b, size_t n, size_t *outlen) {
    size_t p = 8, extra = 0;
    int drop = 0;
    while (n - p >= 12) {
        unsigned long l =
            (unsigned long)b[p] << 24 | (unsigned long)b[p + 1] << 16 | (unsigned long)b[p + 2] << 8 | b[p + 3];
        if (!memcmp(b + p + 4, "PLTE", 4) && l > 0 && l < 768 && l % 3 == 0) extra += 768 - l;
        if (!memcmp(b + p + 4, "IDAT", 4) && l == 0) drop = 1;
        if (!memcmp(b + p + 4, "IEND", 4)) break;
        p += 12 + l;
    }
    if (!extra && !drop) return NULL;
    unsigned char *o = malloc(n + extra);
    if (!o) return NULL;
    size_t q = 0;
    p = 8;
    memcpy(o, b, 8);
    q = 8;
    while (n - p >= 12) {
        unsigned long l =
            (unsigned long)b[p] << 24 | (unsigned long)b[p + 1] << 16 | (unsigned long)b[p + 2] << 8 | b[p + 3];
        if (!memcmp(b + p + 4, "PLTE", 4) && l > 0 && l < 768 && l % 3 == 0) {
            memcpy(o + q, "\0\0\x03\0PLTE", 8);
            memcpy(o + q + 8, b + p + 8, l);
            memset(o + q + 8 + l, 0, 768 - l);
            uint32_t crc = nnw_crc32(0, o + q + 4, 4 + 768);
            for (int k = 0; k < 4; k++) o[q + 8 + 768 + k] = (unsigned char)(crc >> (24 - 8 * k));
            q += 12 + 768;
        } else if (!memcmp(b + p + 4, "IDAT", 4) && l == 0) {
            /* dropped */
        } else {
            memcpy(o + q, b + p, 12 + l);
            q += 12 + l;
        }
        int end = !memcmp(b + p + 4, "IEND", 4);
        p += 12 + l;
        if (end) break;
    }
    memcpy(o + q, b + p, n - p); /* whatever follows IEND */
    q += n - p;
    *outlen = q;
    return o;
}

/* A copy of a paletted BMP whose palette is padded to 256 entries (black), or NULL when nothing to
 * change (*outlen set to 0 when the file must be refused: palette size below zero): stb 2.27 keeps the BMP palette in an uninitialised stack array too, so indices past the
 * file's entries gave stack garbage (MSan, fuzz/fuzz_image.c).  The entries are inserted where stb's
 * palette read ends and the pixel-data offset moved by as much, which is how stb sizes the palette. */
static unsigned char *bmp_sanitize(const unsigned char *b, size_t n, size_t *outlen) {
    if (n < 30) return NULL;
    long long off = (long long)b[10] | (long long)b[11] << 8 | (long long)b[12] << 16 | (long long)b[13] << 24;
    long long hsz = (long long)b[14] | (long long)b[15] << 8 | (long long)b[16] << 16 | (long long)b[17] << 24;
    long long psize, ent;
    if (hsz == 12) {
        if ((b[24] | b[25] << 8) >= 24) return NULL;
        psize = (off - 14 - 24) / 3;
        ent = 3;
    } else {
        if ((b[28] | b[29] << 8) >= 16) return NULL;
        psize = (off - 14 - hsz) >> 2;
        ent = 4;
    }
    if (psize < 0) {
        *outlen = 0;
        return NULL;
    } /* pixel offset inside the header: stb reads no palette at all */
    if (psize == 0 || psize >= 256 || off > 0x7fffffff - 1024) return NULL; /* stb refuses or nothing to pad */
    long long at = 14 + hsz + psize * ent, add = (256 - psize) * ent;
    if (at > (long long)n) return NULL; /* palette cut short: stb reads the missing bytes as 0 */
    unsigned char *o = malloc(n + (size_t)add);
    if (!o) return NULL;
    memcpy(o, b, (size_t)at);
    memset(o + at, 0, (size_t)add);
    memcpy(o + at + add, b + at, n - (size_t)at);
    off += add;
    for (int k = 0; k < 4; k++) o[10 + k] = (unsigned char)(off >> (8 * k));
    *outlen = n + (size_t)add;
    return o;
}

/* dst (dw x dh, c channels) = src (sw x sh) under EXIF orientation o (2..8): one source row or column per
 * output row, walked with a fixed step. */
static void orient_into(const uint8_t *src, int sw, int sh, int c, int o, uint8_t *dst) {
    const int dw = o >= 5 ? sh : sw, dh = o >= 5 ? sw : sh;
    for (int y = 0; y < dh; y++) {
        long sx0, sy0, dx, dy; /* source of output (0, y) and the source step per output column */
        switch (o) {
        case 2:
            sx0 = sw - 1;
            sy0 = y;
            dx = -1;
            dy = 0;
            break;
        case 3:
            sx0 = sw - 1;
            sy0 = sh - 1 - y;
            dx = -1;
            dy = 0;
            break;
        case 4:
            sx0 = 0;
            sy0 = sh - 1 - y;
            dx = 1;
            dy = 0;
            break;
        case 5:
            sx0 = y;
            sy0 = 0;
            dx = 0;
            dy = 1;
            break;
        case 6:
            sx0 = y;
            sy0 = sh - 1;
            dx = 0;
            dy = -1;
            break;
        case 7:
            sx0 = sw - 1 - y;
            sy0 = sh - 1;
            dx = 0;
            dy = -1;
            break;
        default:
            sx0 = sw - 1 - y;
            sy0 = 0;
            dx = 0;
            dy = 1;
            break; /* 8 */
        }
        const long step = (dy * sw + dx) * c;
        const uint8_t *s = src + (sy0 * sw + sx0) * c;
        uint8_t *d = dst + (size_t)y * dw * c;
        if (c == 3)
            for (int x = 0; x < dw; x++, s += step, d += 3) {
                d[0] = s[0];
                d[1] = s[1];
                d[2] = s[2];
            }
        else
            for (int x = 0; x < dw; x++, s += step, d += c) memcpy(d, s, (size_t)c);
    }
}

int sbf_apply_orientation(uint8_t **pix, int *w, int *h, int c, int o) {
    if (o <= 1 || o > 8) return 0;
    uint8_t *dst = malloc((size_t)*w * *h * c);
    if (!dst) return -1;
    orient_into(*pix, *w, *h, c, o, dst);
    free(*pix);
    *pix = dst;
    if (o >= 5) {
        int t = *w;
        *w = *h;
        *h = t;
    }
    return 0;
}

void sbf_image_make_gray(sbf_image *img) { /* (r + g + b) / 3, SIMD where there is (src/hog.h gray_row) */
    sbf_hog_kernels_get()->gray_row(img->rgb, (size_t)img->w * img->h, img->gray);
}

void sbf_image_free(sbf_image *img) {
    if (!img) return;
    free(img->rgb);
    free(img->gray);
    memset(img, 0, sizeof *img);
}

/* stb's failure reason, printable: for an unknown PNG chunk it embeds the 4 raw type bytes (newlines,
 * control bytes, even NUL were seen by fuzz/fuzz_image.c). */
static const char *stb_reason(char *out, size_t n) {
    const char *r = stbi_failure_reason();
    size_t k = 0;
    if (!r) r = "unknown";
    for (size_t i = 0; r[i] && k + 1 < n; i++) out[k++] = (r[i] >= 0x20 && r[i] < 0x7f) ? r[i] : '?';
    out[k] = 0;
    if (!k) snprintf(out, n, "unknown");
    return out;
}

static int too_large(long long w, long long h, long long max_pixels, char *err, size_t errlen) {
    if ((double)w * (double)h <= (double)max_pixels) return 0; /* (a PNG header may say 2^32-1 x 2^32-1) */
    snprintf(err, errlen,
             "image too large: %lldx%lld is %.1f megapixels, over the %.1f megapixel limit (see --max-pixels)", w, h,
             (double)w * h / 1e6, (double)max_pixels / 1e6);
    return 1;
}

/* ---- memory bounds before stb allocates (issue 21, "Memory on hostile input") ------------------------------
 * stb fills its whole output buffer even when the file runs out of data (missing bytes read as 0), so
 * a few hundred bytes that declare 10000x10000 pixels made it touch gigabytes.  Each check below is a
 * lower bound on the bytes a complete file of the declared size holds; a file under it is refused before
 * anything is allocated for its pixels. */

/* PNG: deflate expands at most 1032-fold, so the IDAT chunks hold at least pixel bits / 8 / 1032 bytes. */
static const char *png_size_check(const unsigned char *b, size_t n) {
    if (n < 33 || memcmp(b + 12, "IHDR", 4) != 0) return NULL; /* stb says what is wrong */
    unsigned long w = (unsigned long)b[16] << 24 | (unsigned long)b[17] << 16 | (unsigned long)b[18] << 8 | b[19];
    unsigned long h = (unsigned long)b[20] << 24 | (unsigned long)b[21] << 16 | (unsigned long)b[22] << 8 | b[23];
    static const int chans[7] = {1, 0, 3, 1, 2, 0, 4};
    const int depth = b[24], type = b[25], ch = type <= 6 ? chans[type] : 0;
    if (!ch) return NULL;
    double idat = 0;
    size_t p = 8;
    while (n - p >= 12) {
        unsigned long l =
            (unsigned long)b[p] << 24 | (unsigned long)b[p + 1] << 16 | (unsigned long)b[p + 2] << 8 | b[p + 3];
        if (!memcmp(b + p + 4, "IDAT", 4)) idat += (double)l;
        if (!memcmp(b + p + 4, "IEND", 4) || l > n - p - 12) break;
        p += 12 + l;
    }
    if ((double)w * h * ch * depth / 8 > idat * 1032 + 1024)
        return "truncated or corrupt PNG (far fewer compressed bytes than its size needs)";
    return NULL;
}

/* GIF: the frames are counted (canvas x frames must be within the pixel limit: each frame of an animation
 * is a canvas-sized picture) and the first frame's LZW data must be able to cover the canvas: an LZW code
 * of at least 3 bits stands for at most 4096 pixels, so a canvas needs 1 byte per 10923 pixels.  stb
 * keeps 9 bytes per canvas pixel while it decodes a frame.  *frames = image descriptors found. */
static const char *gif_size_check(const unsigned char *b, size_t n, long long *canvas, long long *frames) {
    *canvas = *frames = 0;
    if (n < 13) return "truncated GIF";
    const long long w = b[6] | b[7] << 8, h = b[8] | b[9] << 8;
    *canvas = w * h;
    size_t p = 13;
    if (b[10] & 0x80) p += (size_t)3 << ((b[10] & 7) + 1);
    double first_lzw = -1;
    while (p < n) {
        const unsigned blk = b[p++];
        if (blk == 0x3B) break;
        if (blk == 0x21) {
            if (p >= n) break;
            p++;
        } else if (blk == 0x2C) {
            if (p + 9 > n) break;
            const unsigned flags = b[p + 8];
            p += 9;
            if (flags & 0x80) p += (size_t)3 << ((flags & 7) + 1);
            p++; /* LZW minimum code size */
            ++*frames;
        } else break; /* stb says what is wrong */
        double sum = 0;
        while (p < n && b[p]) {
            sum += b[p];
            p += 1 + (size_t)b[p];
        }
        p++;
        if (blk == 0x2C && first_lzw < 0) first_lzw = sum;
    }
    if (first_lzw >= 0 && (double)*canvas > first_lzw * 10923 + 65536)
        return "truncated or corrupt GIF (far fewer bytes than its size needs)";
    return NULL;
}

/* BMP without compression (or with bit fields): every row is stored, padded to 4 bytes. */
static const char *bmp_size_check(const unsigned char *b, size_t n) {
    if (n < 34) return NULL;
    const long long off = (long long)b[10] | (long long)b[11] << 8 | (long long)b[12] << 16 | (long long)b[13] << 24;
    const long long hsz = (long long)b[14] | (long long)b[15] << 8 | (long long)b[16] << 16 | (long long)b[17] << 24;
    long long w, h, bpp, comp = 0;
    if (hsz == 12) {
        w = b[18] | b[19] << 8;
        h = b[20] | b[21] << 8;
        bpp = b[24] | b[25] << 8;
    } else {
        w = (int32_t)((uint32_t)b[18] | (uint32_t)b[19] << 8 | (uint32_t)b[20] << 16 | (uint32_t)b[21] << 24);
        h = (int32_t)((uint32_t)b[22] | (uint32_t)b[23] << 8 | (uint32_t)b[24] << 16 | (uint32_t)b[25] << 24);
        bpp = b[28] | b[29] << 8;
        comp = (long long)b[30] | (long long)b[31] << 8 | (long long)b[32] << 16 | (long long)b[33] << 24;
    }
    if (h < 0) h = -h;
    if (w <= 0 || (comp != 0 && comp != 3) || bpp <= 0 || bpp > 32) return NULL;
    const double row = (double)((w * bpp + 31) / 32 * 4);
    if ((double)n < (double)off + row * (double)(h - 1)) return "truncated BMP (less pixel data than its size needs)";
    return NULL;
}

/* TGA: raw pixels are stored; a run-length packet (2 bytes at the least) covers at most 128 pixels. */
static const char *tga_size_check(const unsigned char *b, size_t n) {
    if (n < 18) return NULL;
    const int type = b[2], bpp = b[16];
    const double px = (double)(b[12] | b[13] << 8) * (double)(b[14] | b[15] << 8);
    const double need = type >= 9 ? px / 64 : px * (bpp > 0 ? bpp : 8) / 8;
    if ((double)n - 18 < need) return "truncated TGA (less pixel data than its size needs)";
    return NULL;
}

/* Lends b's buffer to a decoder. */
static sbf_outbuf rgb_out(sbf_image_buffers *b) { return (sbf_outbuf){.buf = &b->img.rgb, .cap = &b->rgb_cap}; }

/* stb_image for PNG, BMP, GIF, PNM and TGA: pixels adopted into b. */
static int decode_stb(const unsigned char *buf, size_t len, long long max_pixels, sbf_image_buffers *b, int *ow,
                      int *oh, char *err, size_t errlen) {
    stb_kind k = classify(buf, len);
    int is_png = k.png, is_pnm = k.pnm;
    int is_gif = len >= 6 && (memcmp(buf, "GIF87a", 6) == 0 || memcmp(buf, "GIF89a", 6) == 0);
    int is_bmp = len >= 2 && buf[0] == 'B' && buf[1] == 'M';
    const char *bad = stb_header_checks(buf, len); /* before stbi_info, which has the bugs too */
    if (bad) {
        snprintf(err, errlen, "%s", bad);
        return -1;
    }
    int w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(buf, (int)len, &w, &h, &comp)) {
        /* stb refuses absurd PNG sizes itself; read IHDR to say what the file claims. */
        if (len >= 24 && buf[0] == 0x89 && !memcmp(buf + 12, "IHDR", 4)) {
            unsigned long pw = (unsigned long)buf[16] << 24 | buf[17] << 16 | buf[18] << 8 | buf[19];
            unsigned long ph = (unsigned long)buf[20] << 24 | buf[21] << 16 | buf[22] << 8 | buf[23];
            if (too_large((long long)pw, (long long)ph, max_pixels, err, errlen)) return -1;
        }
        char why[64];
        snprintf(err, errlen, "corrupt or truncated image header (%s)", stb_reason(why, sizeof why));
        return -1;
    }
    if (w <= 0 || h <= 0) {
        snprintf(err, errlen, "zero-sized image (%dx%d)", w, h);
        return -1;
    }
    if (too_large(w, h, max_pixels, err, errlen)) return -1;
    if (is_png && !png_chunks_ok(buf, len)) {
        snprintf(err, errlen, "truncated or corrupt PNG (a chunk is longer than the file)");
        return -1;
    }
    if (is_png && (bad = png_size_check(buf, len))) {
        snprintf(err, errlen, "%s", bad);
        return -1;
    }
    if (is_bmp && (bad = bmp_size_check(buf, len))) {
        snprintf(err, errlen, "%s", bad);
        return -1;
    }
    if (!is_png && !is_pnm && !is_gif && !is_bmp && (bad = tga_size_check(buf, len))) {
        snprintf(err, errlen, "%s", bad);
        return -1;
    }
    if (is_gif) {
        long long canvas, frames;
        if ((bad = gif_size_check(buf, len, &canvas, &frames))) {
            snprintf(err, errlen, "%s", bad);
            return -1;
        }
        if (frames > 1 && (double)canvas * frames > (double)max_pixels) {
            snprintf(err, errlen,
                     "image too large: %d frames of %dx%d are %.1f megapixels, over the %.1f megapixel limit (see "
                     "--max-pixels)",
                     (int)(frames < 1000000 ? frames : 999999), w, h, (double)canvas * frames / 1e6,
                     (double)max_pixels / 1e6);
            return -1;
        }
    }
    /* Cap stb's allocations (src/stb_impl.c) at what this size can need: 8 bytes per pixel (16-bit RGBA)
     * with padding, twice (PNG IDAT buffer growth), plus slack.  A deflate bomb PNG
     * (fuzz/regress/image/bad-deflate-bomb.png: 16x16 declared, 8 MB inflated) fails instead. */
    extern _Thread_local size_t sbf_stbi_alloc_limit;
    double cap = 16.0 * ((double)w + 32) * ((double)h + 32) + (4 << 20);
    sbf_stbi_alloc_limit = cap < (double)SIZE_MAX ? (size_t)cap : 0;
    int dw, dh, dc;
    /* stb 2.27 converts 16-bit PNM channels with its 8-bit routine (heap overflow on a 16-bit PGM asked
     * for 3 channels; found by fuzz/fuzz_image.c): take PNM in its own channel count, expand here. */
    size_t plen = 1;
    unsigned char *padded = is_png ? png_sanitize(buf, len, &plen) : is_bmp ? bmp_sanitize(buf, len, &plen) : NULL;
    if (!plen) {
        sbf_stbi_alloc_limit = 0;
        snprintf(err, errlen, "corrupt BMP (pixel data offset inside the header)");
        return -1;
    }
    unsigned char *px = padded && plen <= 0x7fffffff
                            ? stbi_load_from_memory(padded, (int)plen, &dw, &dh, &dc, 3)
                            : stbi_load_from_memory(buf, (int)len, &dw, &dh, &dc, is_pnm ? 0 : 3);
    free(padded);
    sbf_stbi_alloc_limit = 0;
    if (!px && stbi_failure_reason() && !strcmp(stbi_failure_reason(), "outofmem")) {
        snprintf(err, errlen, "corrupt image data (needs more memory than a %dx%d image can: decompression bomb?)", w,
                 h);
        return -1;
    }
    if (!px) {
        char why[64];
        snprintf(err, errlen, "corrupt image data (%s)", stb_reason(why, sizeof why));
        return -1;
    }
    const size_t np = (size_t)dw * dh;
    if (is_pnm && dc != 3) {
        if (dc != 1) {
            free(px);
            snprintf(err, errlen, "unsupported PNM channel count");
            return -1;
        }
        if (sbf_grow(&b->img.rgb, &b->rgb_cap, np * 3)) {
            free(px);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < np; i++) b->img.rgb[3 * i] = b->img.rgb[3 * i + 1] = b->img.rgb[3 * i + 2] = px[i];
        free(px);
    } else {
        /* stb allocates with malloc (STBI_MALLOC default), so we own px with free(). */
        free(b->img.rgb);
        b->img.rgb = px;
        b->rgb_cap = np * 3;
    }
    *ow = dw;
    *oh = dh;
    return 0;
}

/* Decodes buf into b (buffers reused); 0, or -1 with err (b->img.w/h 0, buffers kept). */
static int decode(const unsigned char *buf, size_t len, int allow_tga, long long max_pixels, sbf_image_buffers *b,
                  char *err, size_t errlen) {
    b->img.w = b->img.h = 0;
    b->img.orientation = 1;
    if (len == 0) {
        snprintf(err, errlen, "empty file (0 bytes)");
        return -1;
    }
    if (!sbf_sniff_image(buf, len) && !allow_tga) {
        const char *fmt = sbf_sniff_unsupported(buf, len);
        if (fmt && (!strcmp(fmt, "HEIC") || !strcmp(fmt, "AVIF")))
            snprintf(err, errlen,
                     "not a supported image (a %s photo: this build does not decode %s; convert it to JPEG, or use a "
                     "build made with HEIF=1)",
                     fmt, fmt);
        else if (fmt) snprintf(err, errlen, "not a supported image (a %s photo: convert it to JPEG or PNG)", fmt);
        else snprintf(err, errlen, "not a supported image (content is not JPEG, PNG, WebP, BMP, GIF, PNM or TGA)");
        return -1;
    }
    if (len > (size_t)0x7fffffff) {
        snprintf(err, errlen, "file too large to decode");
        return -1;
    }
    stb_kind k = classify(buf, len);
    int w = 0, h = 0, rc, o = 1, gray_done = 0;
    if (k.jpeg) {
        if (!jpeg_complete(k.jb, k.jl)) {
            snprintf(err, errlen, "truncated JPEG (no end-of-image marker)");
            return -1;
        }
        /* Unrotated, the gray image is made as the rows are decoded (they are still in cache then). */
        o = sbf_exif_orientation(k.jb, k.jl);
        sbf_outbuf ob = rgb_out(b);
        if (o == 1) {
            ob.gray = &b->img.gray;
            ob.gray_cap = &b->gray_cap;
            ob.gray_row = sbf_hog_kernels_get()->gray_row;
        }
        rc = sbf_jpeg_decode(k.jb, k.jl, 1, max_pixels, ob, &w, &h, err, errlen);
        gray_done = rc == 0 && o == 1;
    } else if (is_webp(buf, len)) {
        rc = sbf_webp_decode(buf, len, max_pixels, rgb_out(b), &w, &h, err, errlen);
    } else if (heif_kind(buf, len)) {
        rc = sbf_heif_decode(buf, len, max_pixels, rgb_out(b), &w, &h, err, errlen);
    } else {
        rc = decode_stb(buf, len, max_pixels, b, &w, &h, err, errlen);
    }
    if (rc) return -1;
    if (o > 1) {
        if (sbf_grow(&b->tmp, &b->tmp_cap, (size_t)w * h * 3)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        orient_into(b->img.rgb, w, h, 3, o, b->tmp);
        uint8_t *t = b->img.rgb;
        size_t tc = b->rgb_cap;
        b->img.rgb = b->tmp;
        b->rgb_cap = b->tmp_cap;
        b->tmp = t;
        b->tmp_cap = tc;
        if (o >= 5) {
            int t2 = w;
            w = h;
            h = t2;
        }
    }
    if (!gray_done && sbf_grow(&b->img.gray, &b->gray_cap, (size_t)w * h)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    b->img.w = w;
    b->img.h = h;
    b->img.orientation = o;
    if (!gray_done) sbf_image_make_gray(&b->img);
    return 0;
}

/* The file into b->file (reused); NULL with err on failure. */
static unsigned char *read_into(const char *path, sbf_image_buffers *b, size_t *len, char *err, size_t errlen) {
    return sbf_read_into(path, &b->file, &b->file_cap, len, MAX_FILE_BYTES, err, errlen) ? NULL : b->file;
}

int sbf_image_load_reuse(const char *path, long long max_pixels, sbf_image_buffers *b, char *err, size_t errlen) {
    size_t len;
    b->img.w = b->img.h = 0;
    const unsigned char *buf = read_into(path, b, &len, err, errlen);
    if (!buf) return -1;
    return decode(buf, len, tga_by_name(path, buf, len), max_pixels, b, err, errlen);
}

void sbf_image_buffers_trim(sbf_image_buffers *b, size_t keep) {
    if (b->rgb_cap > keep) {
        free(b->img.rgb);
        b->img.rgb = NULL;
        b->rgb_cap = 0;
    }
    if (b->gray_cap > keep) {
        free(b->img.gray);
        b->img.gray = NULL;
        b->gray_cap = 0;
    }
    if (b->tmp_cap > keep) {
        free(b->tmp);
        b->tmp = NULL;
        b->tmp_cap = 0;
    }
    if (b->file_cap > keep) {
        free(b->file);
        b->file = NULL;
        b->file_cap = 0;
    }
}

void sbf_image_buffers_free(sbf_image_buffers *b) {
    free(b->img.rgb);
    free(b->img.gray);
    free(b->tmp);
    free(b->file);
    memset(b, 0, sizeof *b);
}

/* The one-photo API: b's image handed over, the rest freed. */
static int hand_over(int rc, sbf_image_buffers *b, sbf_image *out) {
    if (rc == 0) {
        *out = b->img;
        b->img.rgb = b->img.gray = NULL;
    }
    sbf_image_buffers_free(b);
    return rc;
}

int sbf_image_load_memory(const unsigned char *buf, size_t len, long long max_pixels, sbf_image *out, char *err,
                          size_t errlen) {
    sbf_image_buffers b = {0};
    memset(out, 0, sizeof *out);
    return hand_over(decode(buf, len, 0, max_pixels, &b, err, errlen), &b, out);
}

int sbf_image_load(const char *path, long long max_pixels, sbf_image *out, char *err, size_t errlen) {
    sbf_image_buffers b = {0};
    memset(out, 0, sizeof *out);
    return hand_over(sbf_image_load_reuse(path, max_pixels, &b, err, errlen), &b, out);
}
