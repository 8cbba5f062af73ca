/* src/hog.c — dlib-exact pyramid resampling, fHOG features, separable filtering and std::sort
 * order (see hog.h).  Scalar reference kernels live here too, with the table of kernels per ISA level;
 * hog_avx2.c and hog_neon.c have the SIMD ones. */
#include "src/hog.h"
#include "src/util.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- sizes ------------------------------------------------------------------------------------- */
void sbf_hog_down6_size(int w, int h, int *ow, int *oh) {
    /* set_image_size(down, ((N-1)*rows)/N + 0.5, ...): integer division, then truncation */
    *ow = (int)((5L * w) / 6);
    *oh = (int)((5L * h) / 6);
}

static long round_half_up(double v) { return (long)floor(v + 0.5); } /* drectangle -> rectangle */

void sbf_hog_up2_size(int w, int h, int *ow, int *oh) {
    if (w <= 0 || h <= 0) {
        *ow = *oh = 0;
        return;
    }
    /* pyramid_down<2>::rect_up of (0,0,w-1,h-1): p -> (p + (1.25, 0.75)) * 2, rounded */
    long r = round_half_up(((double)(w - 1) + 1.25) * 2);
    long b = round_half_up(((double)(h - 1) + 0.75) * 2);
    *ow = (int)(r + 1);
    *oh = (int)(b + 1);
}

int sbf_hog_num_levels(int w, int h, int min_w, int min_h, int max_levels) {
    /* create_fhog_pyramid: rect = rect_down(rect) until it is smaller than the minimum layer */
    long l = 0, t = 0, r = w - 1, b = h - 1; /* get_rect(img) (empty when w or h is 0) */
    int levels = 0;
    const double ratio = 5.0 / 6.0;
    for (;;) {
        double dl, dt, dr, db;
        if (t > b || l > r) { /* drectangle of an empty rectangle keeps its (inverted) corners */
        }
        double x1 = ((double)l - 0.3) * ratio, y1 = ((double)t - 0.3) * ratio;
        double x2 = ((double)r - 0.3) * ratio, y2 = ((double)b - 0.3) * ratio;
        dl = x1 < x2 ? x1 : x2;
        dr = x1 < x2 ? x2 : x1; /* drectangle(p1, p2) = bounding box */
        dt = y1 < y2 ? y1 : y2;
        db = y1 < y2 ? y2 : y1;
        l = round_half_up(dl);
        t = round_half_up(dt);
        r = round_half_up(dr);
        b = round_half_up(db);
        levels++;
        long width = (t > b || l > r) ? 0 : r - l + 1, height = (t > b || l > r) ? 0 : b - t + 1;
        if (!(width >= min_w && height >= min_h && levels < max_levels)) break;
    }
    return levels;
}

/* ---- resize_image(bilinear) for unsigned char -> unsigned char --------------------------------- */
/* dlib's SIMD path works on groups of 4 output columns whose source x advances by a float running
 * sum; the row-independent part (source column, fraction, where the SIMD loop stops) is computed
 * once per call. */
int sbf_hog_resize(const uint8_t *in, int iw, int ih, uint8_t *out, int ow, int oh) {
    return sbf_hog_resize_rows(in, iw, ih, out, ow, oh, 0, oh);
}

int sbf_hog_resize_cols(int iw, int ow, int32_t *left, float *frac) {
    const double x_scale = (iw - 1) / (double)(ow - 1 > 1 ? ow - 1 : 1);
    /* the SIMD part: lanes start at float(x + j*x_scale) with x = -4*x_scale, then += float(4*x_scale) */
    const double x0 = -4 * x_scale;
    float lane[4] = {(float)x0, (float)(x0 + x_scale), (float)(x0 + 2 * x_scale), (float)(x0 + 3 * x_scale)};
    const float step4 = (float)(4 * x_scale);
    int csimd = 0;
    for (;;) {
        int32_t lf[4];
        float fr[4];
        for (int j = 0; j < 4; j++) {
            lane[j] += step4;
            lf[j] = (int32_t)lane[j]; /* cvttps: truncation */
            fr[j] = lane[j] - (float)lf[j];
        }
        if (lf[3] + 1 >= iw || csimd + 3 >= ow) break;
        for (int j = 0; j < 4; j++) {
            left[csimd + j] = lf[j];
            frac[csimd + j] = fr[j];
        }
        csimd += 4;
    }
    return csimd;
}

int sbf_hog_resize_rows(const uint8_t *in, int iw, int ih, uint8_t *out, int ow, int oh, int r0, int r1) {
    if (ow <= 0 || oh <= 0 || iw <= 0 || ih <= 0 || r0 >= r1) return 0;
    const double x_scale = (iw - 1) / (double)(ow - 1 > 1 ? ow - 1 : 1);
    const double y_scale = (ih - 1) / (double)(oh - 1 > 1 ? oh - 1 : 1);
    int32_t *left = malloc(sizeof(int32_t) * ((size_t)ow + 4));
    float *frac = malloc(sizeof(float) * ((size_t)ow + 4));
    if (!left || !frac) {
        free(left);
        free(frac);
        return -1;
    }
    const int csimd = sbf_hog_resize_cols(iw, ow, left, frac);
    const sbf_hog_kernels *K = sbf_hog_kernels_get();
    double y = -y_scale; /* dlib accumulates y row by row; replay that up to row r0 */
    for (int r = 0; r < r0; r++) y += y_scale;
    for (int r = r0; r < r1; r++) {
        y += y_scale;
        const long top = (long)floor(y);
        const long bottom = top + 1 < ih - 1 ? top + 1 : ih - 1;
        const double tb_frac = y - top;
        const float tb = (float)tb_frac, itb = (float)(1 - tb_frac);
        const uint8_t *rt = in + (size_t)top * iw, *rb = in + (size_t)bottom * iw;
        uint8_t *o = out + (size_t)r * ow;
        K->resize_row(rt, rb, left, frac, csimd, (long)(ih - bottom) * iw, tb, itb, o); /* bytes readable from rb on */
        double x = -x_scale + csimd * x_scale;
        for (int c = csimd; c < ow; c++) {
            x += x_scale;
            const long lf = (long)floor(x);
            const long rg = lf + 1 < iw - 1 ? lf + 1 : iw - 1;
            const float lr = (float)(x - lf);
            const float tl = rt[lf], tr = rt[rg], bl = rb[lf], br = rb[rg];
            const float temp = (float)((1 - tb_frac) * (double)((1 - lr) * tl + lr * tr) +
                                       tb_frac * (double)((1 - lr) * bl + lr * br));
            /* assign_pixel(unsigned char, float): clamp, then truncate */
            o[c] = temp > 255.0f ? 255 : temp >= 0.0f ? (uint8_t)temp : 0;
        }
    }
    free(left);
    free(frac);
    return 0;
}

/* ---- fHOG ------------------------------------------------------------------------------------- */
/* dlib's 9 unit vectors (float) */
static const float DIR_X[9] = {1.0000f, 0.9397f, 0.7660f, 0.500f, 0.1736f, -0.1736f, -0.5000f, -0.7660f, -0.9397f};
static const float DIR_Y[9] = {0.0000f, 0.3420f, 0.6428f, 0.8660f, 0.9848f, 0.9848f, 0.8660f, 0.6428f, 0.3420f};

/* dlib's orientation bin (0..17) of the gradient (gx, gy): the direction of largest |dot product|, o + 9 when
 * the product is negative, the first on ties. */
static int grad_bin(int gx, int gy) {
    const float fx = (float)gx, fy = (float)gy;
    float best = 0;
    int bo = 0;
    for (int o = 0; o < 9; o++) {
        const float dot = fx * DIR_X[o] + fy * DIR_Y[o];
        if (dot > best) {
            best = dot;
            bo = o;
        } else if (-dot > best) {
            best = -dot;
            bo = o + 9;
        }
    }
    return bo;
}

static void grad_row_scalar(const uint8_t *prev, const uint8_t *row, const uint8_t *next, int x0, int x1, uint8_t *bin,
                            float *mag) {
    for (int x = x0; x < x1; x++) {
        const int gx = (int)row[x + 1] - (int)row[x - 1];
        const int gy = (int)next[x] - (int)prev[x];
        bin[x] = (uint8_t)grad_bin(gx, gy);
        mag[x] = sqrtf((float)(gx * gx + gy * gy));
    }
}

/* grad_bin of every gradient 8-bit pixels give, made once per process (1-2 ms) */
static uint8_t bin_table[SBF_HOG_BIN_TABLE_SIZE + 3]; /* + 3: a 4-byte gather at the last entry stays inside */
static pthread_once_t bin_once = PTHREAD_ONCE_INIT;
static void bin_table_init(void) {
    for (int gy = -255; gy <= 255; gy++)
        for (int gx = -255; gx <= 255; gx++) bin_table[SBF_HOG_BIN_INDEX(gx, gy)] = (uint8_t)grad_bin(gx, gy);
}
const uint8_t *sbf_hog_bin_table(void) {
    pthread_once(&bin_once, bin_table_init);
    return bin_table;
}

static void sep_scalar(const float *in, long step, const float *f, int len, int n, int nsplit, float *out, int add) {
    for (int i = 0; i < n; i++) {
        const float *p = in + i;
        float s;
        if (i < nsplit) {
            float a = 0, b = 0, c = 0;
            int t = 0;
            for (; t < len - 2; t += 3) {
                a += p[t * step] * f[t];
                b += p[(t + 1) * step] * f[t + 1];
                c += p[(t + 2) * step] * f[t + 2];
            }
            for (; t < len; t++) a += p[t * step] * f[t];
            s = a + (b + c);
        } else {
            s = 0;
            for (int t = 0; t < len; t++) s += p[t * step] * f[t];
        }
        out[i] = add ? s + out[i] : s;
    }
}

static void resize_row_scalar(const uint8_t *rt, const uint8_t *rb, const int32_t *left, const float *frac, int n,
                              long avail, float tb, float itb, uint8_t *o) {
    (void)avail;
    for (int c = 0; c < n; c++) {
        const int lf = left[c];
        const float lr = frac[c], ilr = 1.0f - lr;
        const float tlf = itb * ilr, trf = itb * lr, blf = tb * ilr, brf = tb * lr;
        const float v = tlf * (float)rt[lf] + trf * (float)rt[lf + 1] + blf * (float)rb[lf] + brf * (float)rb[lf + 1];
        o[c] = (uint8_t)(int)((double)v + 0.5);
    }
}

static void votes_row_scalar(const float *mag, const float *vx0, const float *vx1, float vy0, float vy1, int x0, int x1,
                             float *a, float *b, float *c, float *d) {
    for (int x = x0; x < x1; x++) {
        const float w1 = vx1[x] * mag[x], w0 = vx0[x] * mag[x];
        a[x] = vy1 * w1;
        b[x] = vy0 * w1;
        c[x] = vy1 * w0;
        d[x] = vy0 * w0;
    }
}

static void sep2d_scalar(const float *plane, float *scratch, float *sal, long stride, int ra, int rb, int r0, int r1,
                         int c0, int n, int nsplit, const float *rf, int lr, const float *cf, int lc) {
    for (int r = ra; r < rb; r++)
        sep_scalar(plane + (size_t)r * stride + c0 - lr / 2, 1, rf, lr, n, nsplit, scratch + (size_t)r * stride + c0,
                   0);
    for (int r = r0; r < r1; r++)
        sep_scalar(scratch + (size_t)(r - r0) * stride + c0, stride, cf, lc, n, nsplit, sal + (size_t)r * stride + c0,
                   1);
}

/* 4-lane horizontal sum in the SSE2 order dlib's sum(simd4f) uses: (l0+l2)+(l1+l3). */
static inline float hsum4(float l0, float l1, float l2, float l3) { return (l0 + l2) + (l1 + l3); }

static void feat_row_scalar(const float *const *h, const float *const *nn, const float *const *ni, int x0, int x1,
                            float *const *dst) {
    const float tex = (float)(2 * 0.2357);
    for (int x = x0; x < x1; x++) {
        const float nn0 = nn[0][x], nn1 = nn[1][x], nn2 = nn[2][x], nn3 = nn[3][x];
        const float n0 = ni[0][x], n1 = ni[1][x], n2 = ni[2][x], n3 = ni[3][x];
        float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        for (int o = 0; o < 18; o += 3) {
            float q[3][4];
            for (int k = 0; k < 3; k++) {
                const float v = h[o + k][x];
                q[k][0] = (v < nn0 ? v : nn0) * n0;
                q[k][1] = (v < nn1 ? v : nn1) * n1;
                q[k][2] = (v < nn2 ? v : nn2) * n2;
                q[k][3] = (v < nn3 ? v : nn3) * n3;
                dst[o + k][x] = hsum4(q[k][0], q[k][1], q[k][2], q[k][3]);
            }
            t0 += (q[0][0] + q[1][0]) + q[2][0];
            t1 += (q[0][1] + q[1][1]) + q[2][1];
            t2 += (q[0][2] + q[1][2]) + q[2][2];
            t3 += (q[0][3] + q[1][3]) + q[2][3];
        }
        for (int o = 0; o < 9; o++) {
            const float v = h[o][x] + h[o + 9][x];
            const float a = (v < nn0 ? v : nn0) * n0, b = (v < nn1 ? v : nn1) * n1;
            const float c = (v < nn2 ? v : nn2) * n2, d = (v < nn3 ? v : nn3) * n3;
            dst[18 + o][x] = hsum4(a, b, c, d);
        }
        dst[27][x] = t0 * tex;
        dst[28][x] = t1 * tex;
        dst[29][x] = t2 * tex;
        dst[30][x] = t3 * tex;
    }
}

static void gray_row_scalar(const uint8_t *p, size_t n, uint8_t *g) {
    for (size_t i = 0; i < n; i++, p += 3) g[i] = (uint8_t)(((unsigned)p[0] + p[1] + p[2]) / 3);
}

const sbf_hog_kernels sbf_hog_scalar = {grad_row_scalar,   votes_row_scalar, sep_scalar,     sep2d_scalar,
                                        resize_row_scalar, feat_row_scalar,  gray_row_scalar};

static const sbf_hog_kernels *const HOG_KERNELS[NN_ISA_COUNT] = {
    [NN_ISA_SCALAR] = &sbf_hog_scalar,
#if defined(__x86_64__)
    [NN_ISA_AVX2] = &sbf_hog_avx2,
    [NN_ISA_AVX512] = &sbf_hog_avx2,
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
    [NN_ISA_NEON] = &sbf_hog_neon,
#elif defined(__ARM_NEON)
    [NN_ISA_NEON] = &sbf_hog_scalar,
#endif
};

const sbf_hog_kernels *sbf_hog_kernels_for(nn_isa isa) {
    return (unsigned)isa < NN_ISA_COUNT ? HOG_KERNELS[isa] : NULL;
}

const sbf_hog_kernels *sbf_hog_kernels_get(void) { return HOG_KERNELS[nn_isa_get()]; }

void sbf_fhog_free(sbf_fhog *f) {
    free(f->data);
    free(f->work);
    memset(f, 0, sizeof *f);
}

int sbf_fhog_compute(const uint8_t *img, int w, int h, int fh, int fw, sbf_fhog *out) {
    const sbf_hog_kernels *K = sbf_hog_kernels_get();
    const int cell = 8;
    const int cells_nr = (int)((float)h / (float)cell + 0.5);
    const int cells_nc = (int)((float)w / (float)cell + 0.5);
    int hog_nr = cells_nr - 2 > 0 ? cells_nr - 2 : 0, hog_nc = cells_nc - 2 > 0 ? cells_nc - 2 : 0;
    if (cells_nr == 0 || cells_nc == 0) hog_nr = hog_nc = 0;
    out->hog_nr = hog_nr;
    out->hog_nc = hog_nc;
    if (hog_nr == 0 || hog_nc == 0) {
        out->hog_nr = out->hog_nc = 0;
        out->nr = out->nc = 0;
        out->stride = 0;
        out->plane = 0;
        return 0;
    }
    out->nr = hog_nr + fh - 1;
    out->nc = hog_nc + fw - 1;
    out->stride = ((out->nc + 16) + 7) & ~7;
    out->plane = (size_t)out->nr * out->stride;
    const size_t need = out->plane * SBF_HOG_PLANES;
    if (need > out->cap) {
        free(out->data);
        out->data = aligned_alloc(64, ((need * sizeof(float)) + 63) & ~(size_t)63);
        if (!out->data) {
            out->cap = 0;
            return -1;
        }
        sbf_prefault(out->data, need * sizeof(float));
        out->cap = need;
    }
    memset(out->data, 0, need * sizeof(float));

    /* histograms with a one-cell border all round, bin-major: 18 planes of (cells_nr+2) x hs */
    const int hs = cells_nc + 2, hr = cells_nr + 2;
    const size_t hp = (size_t)hr * hs;
    const int bnr = cells_nr - 1, bnc = cells_nc - 1;
    const size_t pad = 32; /* SIMD kernels may read a few floats past the last row */
    /* One scratch block kept in out from call to call (a fresh one per pyramid level and photo cost the kernel
     * mapping, zeroing and unmapping ~15 MB per 12 MP photo); hist, norm and blk start zeroed as before. */
#define A64(n) (((n) + 63) & ~(size_t)63)
    const size_t b_hist = A64((18 * hp + pad) * sizeof(float)),
                 b_norm = A64(((size_t)cells_nr * cells_nc + pad) * sizeof(float));
    const size_t b_blk = A64(((size_t)bnr * bnc * 2 + 2 * pad) * sizeof(float)),
                 b_row = A64(sizeof(float) * ((size_t)w + 16) * 7);
    const size_t b_bin = A64((size_t)w + 16), b_ixs = A64(sizeof(int) * ((size_t)w + 16));
    const size_t work = b_hist + b_norm + b_blk + b_row + b_bin + b_ixs;
#undef A64
    if (work > out->work_cap) {
        free(out->work);
        out->work_cap = 0;
        if (!(out->work = aligned_alloc(64, work))) return -1;
        sbf_prefault(out->work, work);
        out->work_cap = work;
    }
    char *wp = out->work;
    float *hist = (float *)wp, *norm = (float *)(wp + b_hist), *blk = (float *)(wp + b_hist + b_norm);
    float *rowbuf = (float *)(wp + b_hist + b_norm + b_blk);
    uint8_t *bin = (uint8_t *)(wp + b_hist + b_norm + b_blk + b_row);
    int *ixs = (int *)(wp + b_hist + b_norm + b_blk + b_row + b_bin);
    memset(wp, 0, b_hist + b_norm + b_blk);
    float *mag = rowbuf, *vx0 = mag + w + 16, *vx1 = vx0 + w + 16, *va = vx1 + w + 16, *vb = va + w + 16,
          *vc = vb + w + 16, *vd = vc + w + 16;

    const int visible_nr = ((long)cells_nr * cell < h ? cells_nr * cell : h) - 1;
    const int visible_nc = ((long)cells_nc * cell < w ? cells_nc * cell : w) - 1;
    /* dlib does groups of 8 columns x = 1, 9, ... while x < visible_nc - 7 with one multiplication
     * order, then single columns with another; the column part of the votes is row-independent. */
    int xsplit = 1;
    while (xsplit < visible_nc - 7) xsplit += 8;
    for (int x = 1; x < xsplit; x++) {
        const float xp = ((float)x + 0.5f) / (float)cell + 0.5f;
        const int ixp = (int)xp;
        vx0[x] = xp - (float)ixp;
        vx1[x] = 1.0f - vx0[x];
        ixs[x] = ixp;
    }
    for (int x = xsplit; x < visible_nc; x++) {
        const float xp = (float)(((double)x + 0.5) / (double)cell - 0.5);
        const int ixp = (int)floorf(xp);
        vx0[x] = xp - (float)ixp;
        vx1[x] = (float)(1.0 - vx0[x]);
        ixs[x] = ixp + 1;
    }
    for (int y = 1; y < visible_nr; y++) {
        const float yp = (float)(((double)(float)y + 0.5) / (float)cell - 0.5);
        const int iyp = (int)floorf(yp);
        const float vy0 = yp - (float)iyp;
        const float vy1 = (float)(1.0 - vy0);
        const uint8_t *row = img + (size_t)y * w;
        K->grad_row(row - w, row, row + w, 1, visible_nc, bin, mag);
        K->votes_row(mag, vx0, vx1, vy0, vy1, 1, xsplit, va, vb, vc, vd);
        for (int x = xsplit; x < visible_nc; x++) {
            const float v = mag[x];
            va[x] = vy1 * vx1[x] * v;
            vb[x] = vy0 * vx1[x] * v;
            vc[x] = vy1 * vx0[x] * v;
            vd[x] = vy0 * vx0[x] * v;
        }
        float *h1 = hist + (size_t)(iyp + 1) * hs;
        for (int x = 1; x < visible_nc; x++) {
            float *p = h1 + (size_t)bin[x] * hp + ixs[x];
            p[0] += va[x];
            p[hs] += vb[x];
            p[1] += vc[x];
            p[hs + 1] += vd[x];
        }
    }
    /* energy per cell: sum over 9 orientations of (h[o] + h[o+9])^2 */
    for (int r = 0; r < cells_nr; r++) {
        float *nr_ = norm + (size_t)r * cells_nc;
        for (int o = 0; o < 9; o++) {
            const float *a = hist + o * hp + (size_t)(r + 1) * hs + 1, *b = a + 9 * hp;
            for (int c = 0; c < cells_nc; c++) nr_[c] += (a[c] + b[c]) * (a[c] + b[c]);
        }
    }
    /* block normalisers: nn = 0.2*sqrt(sum of 4 cell energies + eps), n = 0.1/nn, for the block
     * whose top-left cell is (r, c); dlib adds the four in the order (r,c) (r,c+1) (r+1,c) (r+1,c+1). */
    float *bnn = blk, *bni = blk + (size_t)bnr * bnc + pad;
    const float eps = 0.0001f;
    for (int r = 0; r < bnr; r++)
        for (int c = 0; c < bnc; c++) {
            const float *n0 = norm + (size_t)r * cells_nc + c, *n1 = n0 + cells_nc;
            const float sm = (((n0[0] + n0[1]) + n1[0]) + n1[1]) + eps;
            const float nn = 0.2f * sqrtf(sm);
            bnn[(size_t)r * bnc + c] = nn;
            bni[(size_t)r * bnc + c] = 0.1f / nn;
        }
    const int pr = (fh - 1) / 2, pc = (fw - 1) / 2;
    for (int y = 0; y < hog_nr; y++) {
        const float *hrow[18], *nn[4], *ni[4];
        float *dst[SBF_HOG_PLANES];
        for (int o = 0; o < 18; o++) hrow[o] = hist + o * hp + (size_t)(y + 2) * hs + 2;
        /* lanes: 0 = block (y+1,x+1), 1 = (y,x+1), 2 = (y+1,x), 3 = (y,x) */
        nn[0] = bnn + (size_t)(y + 1) * bnc + 1;
        ni[0] = bni + (size_t)(y + 1) * bnc + 1;
        nn[1] = bnn + (size_t)y * bnc + 1;
        ni[1] = bni + (size_t)y * bnc + 1;
        nn[2] = bnn + (size_t)(y + 1) * bnc;
        ni[2] = bni + (size_t)(y + 1) * bnc;
        nn[3] = bnn + (size_t)y * bnc;
        ni[3] = bni + (size_t)y * bnc;
        for (int p = 0; p < SBF_HOG_PLANES; p++)
            dst[p] = out->data + p * out->plane + (size_t)(y + pr) * out->stride + pc;
        K->feat_row(hrow, nn, ni, 0, hog_nc, dst);
    }
    return 0;
}

/* ---- separable filtering ------------------------------------------------------------------------ */
void sbf_hog_saliency_add(const sbf_fhog *f, const sbf_hog_filter *flt, int k, float *sal, float *scratch) {
    const sbf_hog_kernels *K = sbf_hog_kernels_get();
    const int lr = flt->lr, lc = flt->lc;
    const int first_col = lr / 2, last_col = f->nc - (lr - 1) / 2;
    const int first_row = lc / 2, last_row = f->nr - (lc - 1) / 2;
    if (last_col <= first_col || last_row <= first_row) return;
    int csplit = first_col;
    while (csplit < last_col - 7) csplit += 8;
    const int n = last_col - first_col, nsplit = csplit - first_col;
    const float *plane = f->data + (size_t)flt->plane[k] * f->plane;
    const int ra = (lc - 1) / 2, rb = ra + f->hog_nr; /* rows holding features; the rest are 0 */
    K->sep2d(plane, scratch, sal, f->stride, ra, rb, first_row, last_row, first_col, n, nsplit,
             flt->rows + (size_t)k * lr, lr, flt->cols + (size_t)k * lc, lc);
}

void sbf_hog_saliency(const sbf_fhog *f, const sbf_hog_filter *flt, float *sal, float *scratch) {
    for (int k = 0; k < flt->n; k++) sbf_hog_saliency_add(f, flt, k, sal, scratch);
}

/* ---- libstdc++ std::sort ------------------------------------------------------------------------ */
#define LESS(a, b) ((a).key < (b).key)
static inline void swp(sbf_hog_det *v, long i, long j) {
    sbf_hog_det t = v[i];
    v[i] = v[j];
    v[j] = t;
}

static void push_heap(sbf_hog_det *v, long hole, long top, sbf_hog_det val) {
    long parent = (hole - 1) / 2;
    while (hole > top && LESS(v[parent], val)) {
        v[hole] = v[parent];
        hole = parent;
        parent = (hole - 1) / 2;
    }
    v[hole] = val;
}
static void adjust_heap(sbf_hog_det *v, long hole, long len, sbf_hog_det val) {
    const long top = hole;
    long second = hole;
    while (second < (len - 1) / 2) {
        second = 2 * (second + 1);
        if (LESS(v[second], v[second - 1])) second--;
        v[hole] = v[second];
        hole = second;
    }
    if ((len & 1) == 0 && second == (len - 2) / 2) {
        second = 2 * (second + 1);
        v[hole] = v[second - 1];
        hole = second - 1;
    }
    push_heap(v, hole, top, val);
}
static void heap_sort_range(sbf_hog_det *v, long n) { /* std::partial_sort(first, last, last) */
    if (n < 2) return;
    for (long parent = (n - 2) / 2;; parent--) {
        adjust_heap(v, parent, n, v[parent]);
        if (parent == 0) break;
    }
    for (long last = n; last > 1;) {
        --last;
        sbf_hog_det val = v[last];
        v[last] = v[0];
        adjust_heap(v, 0, last, val);
    }
}
static void median_to_first(sbf_hog_det *v, long res, long a, long b, long c) {
    if (LESS(v[a], v[b])) {
        if (LESS(v[b], v[c])) swp(v, res, b);
        else if (LESS(v[a], v[c])) swp(v, res, c);
        else swp(v, res, a);
    } else if (LESS(v[a], v[c])) swp(v, res, a);
    else if (LESS(v[b], v[c])) swp(v, res, c);
    else swp(v, res, b);
}
static long unguarded_partition(sbf_hog_det *v, long first, long last, long pivot) {
    for (;;) {
        while (LESS(v[first], v[pivot])) ++first;
        --last;
        while (LESS(v[pivot], v[last])) --last;
        if (!(first < last)) return first;
        swp(v, first, last);
        ++first;
    }
}
static void introsort_loop(sbf_hog_det *v, long first, long last, long depth) {
    while (last - first > 16) {
        if (depth == 0) {
            heap_sort_range(v + first, last - first);
            return;
        }
        --depth;
        const long mid = first + (last - first) / 2;
        median_to_first(v, first, first + 1, mid, last - 1);
        const long cut = unguarded_partition(v, first + 1, last, first);
        introsort_loop(v, cut, last, depth);
        last = cut;
    }
}
static void unguarded_linear_insert(sbf_hog_det *v, long last) {
    sbf_hog_det val = v[last];
    long next = last - 1;
    while (LESS(val, v[next])) {
        v[last] = v[next];
        last = next;
        --next;
    }
    v[last] = val;
}
static void insertion_sort(sbf_hog_det *v, long first, long last) {
    if (first == last) return;
    for (long i = first + 1; i != last; ++i) {
        if (LESS(v[i], v[first])) {
            sbf_hog_det val = v[i];
            memmove(v + first + 1, v + first, sizeof *v * (size_t)(i - first));
            v[first] = val;
        } else unguarded_linear_insert(v, i);
    }
}
static void std_sort(sbf_hog_det *v, long n) {
    if (n <= 1) return;
    long lg = 0;
    while ((1L << (lg + 1)) <= n) lg++;
    introsort_loop(v, 0, n, 2 * lg);
    if (n > 16) {
        insertion_sort(v, 0, 16);
        for (long i = 16; i < n; i++) unguarded_linear_insert(v, i);
    } else insertion_sort(v, 0, n);
}
static void reverse(sbf_hog_det *v, long n) {
    for (long i = 0, j = n - 1; i < j; i++, j--) swp(v, i, j);
}
void sbf_hog_sort_desc(sbf_hog_det *v, long n) {
    reverse(v, n);
    std_sort(v, n);
    reverse(v, n);
}
