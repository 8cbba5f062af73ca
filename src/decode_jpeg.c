/* src/decode_jpeg.c — JPEG through libjpeg-turbo (Debian libjpeg62-turbo, static; SIMD on x86-64 and NEON on
 * ARM), with a structural check first that bounds what a file can make us allocate. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* jpeglib.h needs size_t and FILE first */
#include <jerror.h>
#include <jpeglib.h>
#include "src/decoders.h"
#include "src/util.h"

#define MAX_SCANS 256 /* cjpeg -progressive writes 10, optimisers a few dozen; each scan is a pass over every block */

typedef struct {
    int id, h, v;
    int coded; /* some scan gives its blocks a DC value */
} comp;

typedef struct {
    int w, h, ncomp, progressive, hmax, vmax;
    comp c[4];
} frame;

static unsigned long ceil_div(unsigned long a, unsigned long b) { return (a + b - 1) / b; }

/* Blocks of frame component i (libjpeg: width_in_blocks x height_in_blocks). */
static unsigned long comp_blocks(const frame *f, int i) {
    unsigned long cw = ceil_div((unsigned long)f->w * f->c[i].h, (unsigned long)f->hmax);
    unsigned long ch = ceil_div((unsigned long)f->h * f->c[i].v, (unsigned long)f->vmax);
    return ceil_div(cw, 8) * ceil_div(ch, 8);
}

int sbf_jpeg_size(const unsigned char *b, size_t n, int *w, int *h) {
    size_t p = 2;
    *w = *h = 0;
    while (p + 4 <= n) {
        if (b[p] != 0xFF) return 0;
        unsigned m = b[p + 1];
        if (m == 0xFF) {
            p++;
            continue;
        }
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) {
            p += 2;
            continue;
        }
        if (m == 0xDA || m == 0xD9) return 0;
        size_t len = (size_t)b[p + 2] << 8 | b[p + 3];
        if (len < 2 || len > n - p - 2) return 0;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (len < 8) return 0;
            *h = b[p + 5] << 8 | b[p + 6];
            *w = b[p + 7] << 8 | b[p + 8];
            return 1;
        }
        p += 2 + len;
    }
    return 0;
}

/* The structural walk: NULL when the file may be decoded, else why not.  Every scan must hold at least as
 * many bits as its blocks need (a Huffman code is at least 1 bit: a sequential block needs its DC code
 * and an end-of-block or AC code, a progressive DC scan one code or refinement bit per block; progressive
 * AC scans can code thousands of empty blocks in a few bits and get no minimum), and every component must
 * get its DC values from some scan.  So a decoded file holds at least one bit per 8x8 block of every
 * component: a few hundred bytes can no longer claim 100 megapixels of pixels to allocate. */
static const char *structure(const unsigned char *b, size_t n, frame *f) {
    size_t p = 2;
    int scans = 0, sof = 0;
    memset(f, 0, sizeof *f);
    while (p + 2 <= n) {
        if (b[p] != 0xFF) return "corrupt JPEG (no marker where one belongs)";
        unsigned m = b[p + 1];
        if (m == 0xFF) {
            p++;
            continue;
        }
        if (m == 0xD9) break;
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) {
            p += 2;
            continue;
        }
        if (p + 4 > n) return "truncated JPEG";
        size_t len = (size_t)b[p + 2] << 8 | b[p + 3];
        if (len < 2 || len > n - p - 2) return "truncated JPEG (a segment is longer than the file)";
        const unsigned char *s = b + p + 4;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (m >= 0xC9) return "arithmetic-coded JPEG (not supported: cameras never write it)";
            if (m == 0xC3 || m == 0xC7) return "lossless JPEG (not supported)";
            if (m == 0xC5 || m == 0xC6) return "hierarchical JPEG (not supported)";
            if (sof++) return "corrupt JPEG (two frame headers)";
            if (len < 8) return "corrupt JPEG frame header";
            if (s[0] != 8) return "JPEG of more than 8 bits per sample (not supported)";
            f->h = s[1] << 8 | s[2];
            f->w = s[3] << 8 | s[4];
            f->ncomp = s[5];
            f->progressive = m == 0xC2;
            if (f->w == 0 || f->h == 0)
                return "zero-sized JPEG (or a height given later by a DNL marker: not supported)";
            if (f->ncomp != 1 && f->ncomp != 3 && f->ncomp != 4)
                return "corrupt JPEG (unsupported number of components)";
            if (len < 8 + 3 * (size_t)f->ncomp) return "corrupt JPEG frame header";
            for (int i = 0; i < f->ncomp; i++) {
                f->c[i].id = s[6 + 3 * i];
                f->c[i].h = s[7 + 3 * i] >> 4;
                f->c[i].v = s[7 + 3 * i] & 15;
                if (f->c[i].h < 1 || f->c[i].h > 4 || f->c[i].v < 1 || f->c[i].v > 4)
                    return "corrupt JPEG (bad sampling factors)";
                if (f->c[i].h > f->hmax) f->hmax = f->c[i].h;
                if (f->c[i].v > f->vmax) f->vmax = f->c[i].v;
            }
        } else if (m == 0xDA) {
            if (!sof) return "corrupt JPEG (scan before the frame header)";
            if (++scans > MAX_SCANS) return "corrupt JPEG (more than 256 scans)";
            unsigned ns = len >= 3 ? s[0] : 0;
            if (ns < 1 || ns > 4 || len < 6 + 2 * (size_t)ns) return "corrupt JPEG scan header";
            unsigned ss = s[1 + 2 * ns], se = s[2 + 2 * ns], ah = s[3 + 2 * ns] >> 4;
            int idx[4];
            unsigned long blocks = 0;
            for (unsigned k = 0; k < ns; k++) {
                idx[k] = -1;
                for (int i = 0; i < f->ncomp; i++)
                    if (f->c[i].id == s[1 + 2 * k]) idx[k] = i;
                if (idx[k] < 0) return "corrupt JPEG (scan names a component the frame lacks)";
            }
            if (ns == 1) blocks = comp_blocks(f, idx[0]);
            else {
                unsigned long per = 0;
                for (unsigned k = 0; k < ns; k++) per += (unsigned long)f->c[idx[k]].h * f->c[idx[k]].v;
                blocks =
                    ceil_div((unsigned long)f->w, 8ul * f->hmax) * ceil_div((unsigned long)f->h, 8ul * f->vmax) * per;
            }
            int dc = !f->progressive || ss == 0;
            unsigned long bits = !f->progressive ? (se > 0 ? 2 : 1) * blocks : ss == 0 ? blocks : 0;
            /* entropy-coded data: up to the next marker other than a restart (0xFF00 is a coded 0xFF) */
            size_t q = p + 2 + len, d0 = q;
            for (;;) {
                const unsigned char *ff = q < n ? memchr(b + q, 0xFF, n - q) : NULL;
                if (!ff) {
                    q = n;
                    break;
                }
                q = (size_t)(ff - b);
                if (q + 1 >= n) {
                    q = n;
                    break;
                }
                unsigned x = b[q + 1];
                if (x == 0x00 || (x >= 0xD0 && x <= 0xD7)) {
                    q += 2;
                    continue;
                }
                if (x == 0xFF) {
                    q++;
                    continue;
                }
                break;
            }
            if ((double)(q - d0) * 8 < (double)bits)
                return "truncated or corrupt JPEG (a scan holds fewer bytes than its blocks need)";
            if (dc && ah == 0)
                for (unsigned k = 0; k < ns; k++) f->c[idx[k]].coded = 1;
            p = q;
            continue;
        }
        p += 2 + len;
    }
    if (!sof) return "corrupt JPEG (no frame header)";
    for (int i = 0; i < f->ncomp; i++)
        if (!f->c[i].coded) return "truncated or corrupt JPEG (a colour component is never coded)";
    return NULL;
}

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} err_mgr;

static void on_error(j_common_ptr c) {
    err_mgr *e = (err_mgr *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

/* Warnings that mean pixels were lost or made up are refusals (stb_image refused such files too); the
 * harmless ones (extra bytes between markers, unknown JFIF revision, a bad ICC profile) are ignored. */
static void on_message(j_common_ptr c, int level) {
    if (level != -1) return;
    int code = c->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE ||
        code == JWRN_BOGUS_PROGRESSION || code == JWRN_NOT_SEQUENTIAL)
        on_error(c);
}

int sbf_jpeg_decode(const unsigned char *b, size_t n, int scale_denom, long long max_pixels, sbf_outbuf out, int *w,
                    int *h, char *err, size_t errlen) {
    frame f;
    const char *bad = structure(b, n, &f);
    if (bad) {
        snprintf(err, errlen, "%s", bad);
        return -1;
    }
    if ((long long)f.w * f.h > max_pixels) {
        snprintf(err, errlen,
                 "image too large: %dx%d is %.1f megapixels, over the %.1f megapixel limit (see --max-pixels)", f.w,
                 f.h, (double)f.w * f.h / 1e6, (double)max_pixels / 1e6);
        return -1;
    }
    struct jpeg_decompress_struct ci;
    err_mgr e;
    unsigned char *volatile row4 = NULL;
    ci.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = on_error;
    e.pub.emit_message = on_message;
    if (setjmp(e.jb)) {
        snprintf(err, errlen, "corrupt JPEG (%s)", e.msg);
        jpeg_destroy_decompress(&ci);
        free(row4);
        return -1;
    }
    jpeg_create_decompress(&ci);
    /* libjpeg's own buffers: the whole-image coefficient arrays of progressive / multi-scan files (128
     * bytes per block) and a few rows; over this it refuses (no backing store) instead of allocating */
    unsigned long blocks = 0;
    for (int i = 0; i < f.ncomp; i++) blocks += comp_blocks(&f, i);
    double cap = (double)blocks * 128 + (double)f.w * 64 * 4 + (16 << 20);
    ci.mem->max_memory_to_use = cap < 2e9 ? (long)cap : 2000000000L;
    jpeg_mem_src(&ci, b, (unsigned long)n);
    if (jpeg_read_header(&ci, TRUE) != JPEG_HEADER_OK) {
        snprintf(err, errlen, "corrupt JPEG (no image)");
        jpeg_destroy_decompress(&ci);
        return -1;
    }
    int cmyk = ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK;
    ci.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    ci.scale_num = 1;
    ci.scale_denom = scale_denom == 2 || scale_denom == 4 || scale_denom == 8 ? (unsigned)scale_denom : 1;
    jpeg_start_decompress(&ci);
    const int ow = (int)ci.output_width, oh = (int)ci.output_height;
    const size_t need = (size_t)ow * oh * 3;
    if (ow <= 0 || oh <= 0 || ci.output_components != (cmyk ? 4 : 3)) {
        snprintf(err, errlen, "corrupt JPEG (unexpected output format)");
        jpeg_destroy_decompress(&ci);
        return -1;
    }
    if (sbf_grow(out.buf, out.cap, need)) {
        snprintf(err, errlen, "out of memory");
        jpeg_destroy_decompress(&ci);
        return -1;
    }
    uint8_t *px = *out.buf, *gray = NULL;
    if (out.gray) {
        if (sbf_grow(out.gray, out.gray_cap, (size_t)ow * oh)) {
            snprintf(err, errlen, "out of memory");
            jpeg_destroy_decompress(&ci);
            return -1;
        }
        gray = *out.gray;
    }
    if (cmyk && !(row4 = malloc((size_t)ow * 4))) {
        snprintf(err, errlen, "out of memory");
        jpeg_destroy_decompress(&ci);
        return -1;
    }
    while (ci.output_scanline < ci.output_height) {
        const JDIMENSION y = ci.output_scanline;
        if (!cmyk) {
            JSAMPROW rows[16];
            int k = 0;
            for (; k < 16 && y + (JDIMENSION)k < ci.output_height; k++) rows[k] = px + (size_t)(y + k) * ow * 3;
            const JDIMENSION got = jpeg_read_scanlines(&ci, rows, (JDIMENSION)k);
            if (got == 0) break;
            if (gray) out.gray_row(px + (size_t)y * ow * 3, (size_t)got * ow, gray + (size_t)y * ow);
        } else {
            JSAMPROW r = row4;
            if (jpeg_read_scanlines(&ci, &r, 1) != 1) break;
            /* libjpeg gives Adobe's inverted CMYK (also for YCCK); like stb_image: R = C*K/255 (rounded) */
            uint8_t *o = px + (size_t)y * ow * 3;
            for (int x = 0; x < ow; x++) {
                const unsigned k = row4[4 * x + 3];
                for (int c = 0; c < 3; c++) {
                    unsigned t = row4[4 * x + c] * k + 128;
                    o[3 * x + c] = (uint8_t)((t + (t >> 8)) >> 8);
                }
            }
            if (gray) out.gray_row(o, (size_t)ow, gray + (size_t)y * ow);
        }
    }
    if (ci.output_scanline < ci.output_height) {
        snprintf(err, errlen, "truncated JPEG (image data ends early)");
        jpeg_destroy_decompress(&ci);
        free(row4);
        return -1;
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    free(row4);
    *w = ow;
    *h = oh;
    return 0;
}
