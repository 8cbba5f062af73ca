/* src/hog.h — owns the pieces of dlib's HOG face detector that must match dlib bit for bit: the
 * pyramid_down<6> / pyramid_up image resampling, fHOG feature extraction (31 planes per 8x8 cell),
 * separable filter scoring, and libstdc++'s std::sort order.  detect.c assembles them.
 *
 * Every float operation below follows dlib 19.24's header code as compiled by g++ -O2 for x86-64
 * without extra -m flags (SSE2; no FMA contraction): the order of additions, the float/double mix
 * and the rounding points.  Horizontal 4-lane sums use the SSE2 order (l0+l2)+(l1+l3). */
#ifndef SRC_HOG_H
#define SRC_HOG_H
#include <stddef.h>
#include <stdint.h>
#include "nn/cpu.h"

#define SBF_HOG_PLANES 31

/* ---- image resampling --------------------------------------------------------------------- */
/* Size of dlib's pyramid_down<6> output: floor(5n/6). */
void sbf_hog_down6_size(int w, int h, int *ow, int *oh);
/* Size of dlib's pyramid_up(img, pyramid_down<2>) output: (2w+2) x (2h+1). */
void sbf_hog_up2_size(int w, int h, int *ow, int *oh);
/* dlib's resize_image(in, out) (bilinear, 8-bit gray -> 8-bit gray) exactly.  Rows are packed
 * (stride = width).  Returns -1 on allocation failure. */
int sbf_hog_resize(const uint8_t *in, int iw, int ih, uint8_t *out, int ow, int oh);
/* The same for output rows [r0, r1) only (for splitting the work between threads). */
int sbf_hog_resize_rows(const uint8_t *in, int iw, int ih, uint8_t *out, int ow, int oh, int r0, int r1);
/* The row-independent part of dlib's 4-wide resize loop for an iw -> ow row: source column left[c] and
 * fraction frac[c] of each output column c below the returned count, where that loop stops (left and frac
 * hold ow + 4); the kernels' resize_row takes them. */
int sbf_hog_resize_cols(int iw, int ow, int32_t *left, float *frac);
/* Number of pyramid levels dlib's scan_fhog_pyramid uses for an image (min layer 64x64). */
int sbf_hog_num_levels(int w, int h, int min_w, int min_h, int max_levels);

/* ---- fHOG ------------------------------------------------------------------------------------ */
typedef struct {
    int hog_nr, hog_nc; /* feature cells dlib computes (0 when the image is too small) */
    int nr, nc;         /* plane size including the filter padding: hog_nr+fh-1 x hog_nc+fw-1 */
    int stride;         /* floats per plane row (>= nc + 16, multiple of 8) */
    size_t plane;       /* floats per plane */
    float *data;        /* 31 planes, 64-byte aligned; zero outside the feature area */
    size_t cap;         /* allocated floats */
    void *work;         /* sbf_fhog_compute's scratch (histograms, norms, row buffers), kept for the next call */
    size_t work_cap;    /* its bytes */
} sbf_fhog;

/* dlib's extract_fhog_features(img, hog, 8, fh, fw) for an 8-bit gray image of w x h (stride w).
 * Reuses out->data when large enough.  Returns -1 on allocation failure. */
int sbf_fhog_compute(const uint8_t *img, int w, int h, int fh, int fw, sbf_fhog *out);
void sbf_fhog_free(sbf_fhog *f);

/* ---- separable filters ------------------------------------------------------------------------ */
typedef struct {
    int n;                /* separable filters (row x column pairs) */
    int lr, lc;           /* row filter length (window width in cells), column filter length */
    const float *rows;    /* n x lr */
    const float *cols;    /* n x lc */
    const int32_t *plane; /* n: fHOG plane of each pair, non-decreasing */
    double thresh;        /* detection threshold (dlib: the last weight) */
} sbf_hog_filter;

/* Adds dlib's separable filtering response of filter k (pair k of flt) on plane flt->plane[k] to
 * sal (nr x nc with the fhog's stride), over dlib's "non-border" area rows [lc/2, nr-(lc-1)/2),
 * columns [lr/2, nc-(lr-1)/2).  scratch holds nr x stride floats and must start zeroed (only its
 * feature rows are ever written).  sal must start zeroed. */
void sbf_hog_saliency_add(const sbf_fhog *f, const sbf_hog_filter *flt, int k, float *sal, float *scratch);
/* The whole filter bank: sal = sum over k, in dlib's order. */
void sbf_hog_saliency(const sbf_fhog *f, const sbf_hog_filter *flt, float *sal, float *scratch);

/* ---- ordering ------------------------------------------------------------------------------------ */
typedef struct {
    double key; /* sort key */
    long l, t, r, b;
    double score;
    int filter;
} sbf_hog_det;
/* std::sort(v.rbegin(), v.rend(), key-less) as libstdc++ does it (introsort; deterministic order
 * for equal keys too): leaves v in descending key order. */
void sbf_hog_sort_desc(sbf_hog_det *v, long n);

/* The orientation bin of every gradient of 8-bit pixels (gx, gy in -255..255), as grad_row's scalar reference
 * computes it: table[SBF_HOG_BIN_INDEX(gx, gy)]; made on first use, thread-safe; readable 3 bytes past its
 * last entry (for 4-byte gathers). */
#define SBF_HOG_BIN_TABLE_SIZE (511 * 511)
#define SBF_HOG_BIN_INDEX(gx, gy) (((gy) + 255) * 511 + (gx) + 255)
const uint8_t *sbf_hog_bin_table(void);

/* ---- kernels (scalar reference and SIMD versions; same results bit for bit) ------------------- */
typedef struct {
    /* One image row of fHOG gradient work: for x in [x0, x1) computes orientation bin (0..17) and
     * the gradient magnitude sqrt(gx^2+gy^2) as dlib does (float). */
    void (*grad_row)(const uint8_t *prev, const uint8_t *row, const uint8_t *next, int x0, int x1, uint8_t *bin,
                     float *mag);
    /* Bilinear vote weights of dlib's 8-wide path for x in [x0, x1):
     * a = vy1*(vx1*v), b = vy0*(vx1*v), c = vy1*(vx0*v), d = vy0*(vx0*v). */
    void (*votes_row)(const float *mag, const float *vx0, const float *vx1, float vy0, float vy1, int x0, int x1,
                      float *a, float *b, float *c, float *d);
    /* One separable pass over n outputs: out[i] (+)= sum_t in[i + t*step] * f[t], t < len, with
     * dlib's 3-accumulator summation order for i < nsplit and the plain sequential order after.
     * step is 1 (row pass) or the plane stride (column pass); add != 0 adds into out. */
    void (*sep)(const float *in, long step, const float *f, int len, int n, int nsplit, float *out, int add);
    /* Both passes of one separable filter: row pass over plane rows [ra, rb) into scratch (the
     * other plane rows are all zero, and so must the matching scratch rows be), then rows [r0, r1)
     * of the column pass added into sal; outputs at columns [c0, c0+n), nsplit as above.  Skipping
     * the zero rows is exact: their terms are +-0 and x + 0 == x.  Reads up to 16 floats past a
     * row's last output (the stride leaves room). */
    void (*sep2d)(const float *plane, float *scratch, float *sal, long stride, int ra, int rb, int r0, int r1, int c0,
                  int n, int nsplit, const float *rf, int lr, const float *cf, int lc);
    /* dlib's 4-wide bilinear resize inner loop for output columns [0, n): source columns left[c],
     * left[c]+1 of rows rt and rb, weights from frac[c] and the row fraction (tb, itb = float(1-tb));
     * rounds with +0.5.  avail: bytes that may be read from rb onwards (rt <= rb has at least as
     * many); SIMD versions read a little past left[c]+1 within that bound. */
    void (*resize_row)(const uint8_t *rt, const uint8_t *rb, const int32_t *left, const float *frac, int n, long avail,
                       float tb, float itb, uint8_t *out);
    /* One row of fHOG features for cells x in [x0, x1): h[o][x] = histogram bin o (18 rows),
     * nn[k][x] / ni[k][x] = the 4 block normalisers (0.2*sqrt(energy+eps), 0.1/that) of lane k,
     * dst[p][x] = output plane p (31 rows). */
    void (*feat_row)(const float *const *h, const float *const *nn, const float *const *ni, int x0, int x1,
                     float *const *dst);
    /* The detector's gray input from n RGB pixels: g[i] = (r + g + b) / 3 (integer division, as dlib). */
    void (*gray_row)(const uint8_t *rgb, size_t n, uint8_t *g);
} sbf_hog_kernels;
extern const sbf_hog_kernels sbf_hog_scalar;
#if defined(__x86_64__)
extern const sbf_hog_kernels sbf_hog_avx2; /* hog_avx2.c */
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
extern const sbf_hog_kernels sbf_hog_neon; /* hog_neon.c */
#endif
/* The kernels of an ISA level (nn/cpu.h), NULL when this build cannot run it: avx2 and avx512 -> the AVX2
 * kernels; neon -> the NEON ones on aarch64, the scalar ones on armv7 (its NEON unit flushes denormals to
 * zero, which would break bit-exactness). */
const sbf_hog_kernels *sbf_hog_kernels_for(nn_isa isa);
const sbf_hog_kernels *sbf_hog_kernels_get(void); /* those of the level in force (nn_isa_get) */

#endif
