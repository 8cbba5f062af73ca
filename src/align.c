/* src/align.c — face alignment to FaceNet's 160x160 RGB input (see src/align.h). */
#include "src/align.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif

int sbf_align_parse(const char *name, sbf_align_method *m) {
    if (!name) return -1;
    if (strcmp(name, "eyes") == 0) {
        *m = SBF_ALIGN_EYES;
        return 0;
    }
    if (strcmp(name, "box") == 0) {
        *m = SBF_ALIGN_BOX;
        return 0;
    }
    if (strcmp(name, "mtcnn") == 0) {
        *m = SBF_ALIGN_MTCNN;
        return 0;
    }
    return -1;
}

const char *sbf_align_name(sbf_align_method m) {
    return m == SBF_ALIGN_BOX ? "box" : m == SBF_ALIGN_MTCNN ? "mtcnn" : "eyes";
}

int sbf_align_transform(const sbf_box *box, const float pts[68][2], sbf_align_method method, double a[6]) {
    if (method == SBF_ALIGN_EYES) return sbf_align_eyes_transform(pts, SBF_ALIGN_EYE_X, SBF_ALIGN_EYE_Y, a);
    if (method == SBF_ALIGN_BOX) return sbf_align_box_transform(box, SBF_ALIGN_BOX_SCALE, a);
    if (method == SBF_ALIGN_MTCNN)
        return sbf_align_mtcnn_transform(pts, SBF_ALIGN_MTCNN_SCALE_X, SBF_ALIGN_MTCNN_SCALE_Y, a);
    return -1;
}

/* Where our 68 landmarks (detector + shape predictor, upsample 1) fall in MTCNN-aligned 160x160 crops with
 * no margin: the mean over the five crops of ../shared/data/aligned-golden (made by facenet-pytorch's
 * MTCNN), each padded with 120 grey pixels to be found, averaged with its mirror image (point i with its
 * mirror partner, x -> 159 - x) so the template is left-right symmetric. */
const float sbf_align_mtcnn_template[68][2] = {
    {0.4f, 67.9f},    {1.3f, 85.6f},    {3.5f, 102.7f},   {7.0f, 119.5f},  {14.2f, 134.8f},  {27.0f, 146.7f},
    {43.8f, 154.6f},  {60.8f, 162.2f},  {79.5f, 164.2f},  {98.2f, 162.2f}, {115.2f, 154.6f}, {132.0f, 146.7f},
    {144.8f, 134.8f}, {152.0f, 119.5f}, {155.5f, 102.7f}, {157.7f, 85.6f}, {158.6f, 67.9f},  {12.1f, 59.5f},
    {23.2f, 52.0f},   {37.5f, 50.3f},   {51.8f, 52.4f},   {65.9f, 56.9f},  {93.1f, 56.9f},   {107.2f, 52.4f},
    {121.5f, 50.3f},  {135.8f, 52.0f},  {146.9f, 59.5f},  {79.5f, 66.5f},  {79.5f, 77.0f},   {79.5f, 87.5f},
    {79.5f, 98.4f},   {63.9f, 105.7f},  {71.4f, 107.7f},  {79.5f, 109.7f}, {87.6f, 107.7f},  {95.1f, 105.7f},
    {29.5f, 68.6f},   {38.5f, 64.8f},   {48.2f, 64.6f},   {57.0f, 69.9f},  {47.6f, 70.7f},   {38.0f, 70.7f},
    {102.0f, 69.9f},  {110.8f, 64.6f},  {120.5f, 64.8f},  {129.5f, 68.6f}, {121.0f, 70.7f},  {111.4f, 70.7f},
    {47.0f, 123.5f},  {60.0f, 121.9f},  {71.6f, 120.4f},  {79.5f, 122.1f}, {87.4f, 120.4f},  {99.0f, 121.9f},
    {112.0f, 123.5f}, {99.4f, 130.5f},  {87.9f, 133.5f},  {79.5f, 134.1f}, {71.1f, 133.5f},  {59.6f, 130.5f},
    {51.7f, 124.4f},  {71.4f, 126.2f},  {79.5f, 127.0f},  {87.6f, 126.2f}, {107.3f, 124.4f}, {87.6f, 124.8f},
    {79.5f, 125.5f},  {71.4f, 124.8f}};

int sbf_align_mtcnn_transform(const float pts[68][2], double scale_x, double scale_y, double a[6]) {
    if (!pts || !(scale_x > 0.2 && scale_x < 5) || !(scale_y > 0.2 && scale_y < 5)) return -1;
    /* least squares, separately per axis: image x = sx * u + tx over the 68 pairs (template u scaled
     * about the crop centre by 1/scale_x), same for y; no rotation (MTCNN crops are not rotated). */
    double u[68], v[68], ub = 0, vb = 0, xb = 0, yb = 0;
    for (int i = 0; i < 68; i++) {
        if (!isfinite(pts[i][0]) || !isfinite(pts[i][1])) return -1;
        u[i] = 79.5 + (sbf_align_mtcnn_template[i][0] - 79.5) / scale_x;
        v[i] = 79.5 + (sbf_align_mtcnn_template[i][1] - 79.5) / scale_y;
        ub += u[i];
        vb += v[i];
        xb += pts[i][0];
        yb += pts[i][1];
    }
    ub /= 68;
    vb /= 68;
    xb /= 68;
    yb /= 68;
    double suu = 0, svv = 0, sux = 0, svy = 0;
    for (int i = 0; i < 68; i++) {
        suu += (u[i] - ub) * (u[i] - ub);
        svv += (v[i] - vb) * (v[i] - vb);
        sux += (u[i] - ub) * (pts[i][0] - xb);
        svy += (v[i] - vb) * (pts[i][1] - yb);
    }
    const double sx = sux / suu, sy = svy / svv;
    if (!(sx > 1e-6) || !(sy > 1e-6) || !isfinite(sx) || !isfinite(sy)) return -1; /* collapsed or mirrored */
    a[0] = sx;
    a[1] = 0;
    a[2] = xb - sx * ub;
    a[3] = 0;
    a[4] = sy;
    a[5] = yb - sy * vb;
    return 0;
}

int sbf_align_eyes_transform(const float pts[68][2], double eye_x, double eye_y, double a[6]) {
    const double S = SBF_CROP;
    if (!pts || !(eye_x > 0 && eye_x < 0.5)) return -1;
    double lx = 0, ly = 0, rx = 0, ry = 0; /* l: image-left eye (36-41), r: image-right eye (42-47) */
    for (int i = 36; i < 42; i++) {
        lx += pts[i][0];
        ly += pts[i][1];
    }
    for (int i = 42; i < 48; i++) {
        rx += pts[i][0];
        ry += pts[i][1];
    }
    lx /= 6;
    ly /= 6;
    rx /= 6;
    ry /= 6;
    double dx = rx - lx, dy = ry - ly, dist = sqrt(dx * dx + dy * dy);
    if (!(dist > 1e-6) || !isfinite(dist)) return -1;
    /* crop -> image: p = c + (dist/want) * R(theta) * (q - q0), theta = direction of the eye line */
    double want = (1 - 2 * eye_x) * S, k = dist / want;
    double cs = dx / dist * k, sn = dy / dist * k;
    double cx = (lx + rx) / 2, cy = (ly + ry) / 2, q0x = 0.5 * S, q0y = eye_y * S;
    a[0] = cs;
    a[1] = -sn;
    a[2] = cx - cs * q0x + sn * q0y;
    a[3] = sn;
    a[4] = cs;
    a[5] = cy - sn * q0x - cs * q0y;
    return 0;
}

int sbf_align_box_transform(const sbf_box *box, double scale, double a[6]) {
    const double S = SBF_CROP;
    if (!box || !(scale > 0)) return -1;
    double bw = (double)(box->right - box->left + 1), bh = (double)(box->bottom - box->top + 1);
    if (!(bw > 0 && bh > 0)) return -1;
    double side = scale * (bw > bh ? bw : bh);
    double cx = (box->left + box->right) / 2.0, cy = (box->top + box->bottom) / 2.0;
    double k = side / S;
    /* crop pixel u (edges u-0.5..u+0.5, crop edges -0.5..159.5) -> image x = cx - side/2 + (u+0.5)*k */
    a[0] = k;
    a[1] = 0;
    a[2] = cx - side / 2 + 0.5 * k;
    a[3] = 0;
    a[4] = k;
    a[5] = cy - side / 2 + 0.5 * k;
    return 0;
}

/* Bilinear sample at (x,y) (pixel centres at integers); taps outside the image contribute black. */
static inline void bilinear(const unsigned char *rgb, int w, int h, double x, double y, double acc[3]) {
    double fx = floor(x), fy = floor(y);
    double ax = x - fx, ay = y - fy;
    if (!(fx > -2 && fx < w + 1 && fy > -2 && fy < h + 1)) return;
    long x0 = (long)fx, y0 = (long)fy;
    const double wt[4] = {(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay};
    const long xs[4] = {x0, x0 + 1, x0, x0 + 1}, ys[4] = {y0, y0, y0 + 1, y0 + 1};
    for (int t = 0; t < 4; t++) {
        if (xs[t] < 0 || xs[t] >= w || ys[t] < 0 || ys[t] >= h || wt[t] == 0) continue;
        const unsigned char *p = rgb + ((size_t)ys[t] * (size_t)w + (size_t)xs[t]) * 3;
        acc[0] += wt[t] * p[0];
        acc[1] += wt[t] * p[1];
        acc[2] += wt[t] * p[2];
    }
}

/* An output value: the sum of its n x n samples' taps times inv (1 / n^2), rounded to a byte. */
static inline unsigned char level(double acc, double inv) {
    const double x = acc * inv + 0.5;
    return (unsigned char)(x < 0 ? 0 : x > 255 ? 255 : x);
}

/* The two bilinear taps of sample i of output index u along one axis of an unrotated map (coordinate scale * uu +
 * off, uu = u + (i + 0.5) / n - 0.5): pixels x[0] and x[0] + 1, with weight 0 where bilinear() skips the tap. */
static void axis_sample(double scale, double off, int n, int u, int i, int size, long x[2], double wt[2]) {
    const double c = scale * (u + (i + 0.5) / n - 0.5) + off, fc = floor(c);
    const int in = fc > -2 && fc < size + 1;
    x[0] = in ? (long)fc : 0;
    x[1] = x[0] + 1;
    wt[0] = in && x[0] >= 0 && x[0] < size ? 1 - (c - fc) : 0;
    wt[1] = in && x[1] >= 0 && x[1] < size ? c - fc : 0;
}

/* One axis of an unrotated map: output index u reads the pixels start[u] .. start[u] + len - 1 with the weights
 * wt[u * len ..], each the sum of the tap weights its n samples give that pixel.  The window has one length for
 * every u and lies inside the image, so the loops over it need no bounds. */
typedef struct {
    long *start;
    double *wt;
    int len;
} axis_taps;

static int axis_taps_make(double scale, double off, int n, int count, int size, axis_taps *t) {
    long x[2];
    double wt[2];
    long len = 1;
    if (!(t->start = malloc(sizeof(long) * (size_t)count))) return -1;
    for (int u = 0; u < count; u++) { /* the lowest and highest pixel read */
        long lo = LONG_MAX, hi = -1;
        for (int i = 0; i < n; i++) {
            axis_sample(scale, off, n, u, i, size, x, wt);
            for (int k = 0; k < 2; k++)
                if (wt[k] != 0) {
                    if (x[k] < lo) lo = x[k];
                    if (x[k] > hi) hi = x[k];
                }
        }
        t->start[u] = lo;
        if (lo <= hi && hi - lo + 1 > len) len = hi - lo + 1;
    }
    if (len > size) len = size;
    t->len = (int)len;
    if (!(t->wt = calloc((size_t)count * (size_t)len, sizeof(double)))) return -1;
    long prev = -1; /* an index that reads nothing takes a neighbour's window: all windows lie among those read */
    for (int u = 0; u < count; u++)
        if (t->start[u] != LONG_MAX) {
            if (prev < 0) prev = t->start[u];
            break;
        }
    for (int u = 0; u < count; u++) {
        const long lo = t->start[u] != LONG_MAX ? t->start[u] : prev >= 0 ? prev : 0;
        const long s = lo < size - len ? lo : size - len;
        t->start[u] = prev = s;
        for (int i = 0; i < n; i++) {
            axis_sample(scale, off, n, u, i, size, x, wt);
            for (int k = 0; k < 2; k++)
                if (wt[k] != 0) t->wt[(size_t)u * (size_t)len + (size_t)(x[k] - s)] += wt[k];
        }
    }
    return 0;
}

/* V[q] = sum over t < nrows of wt[t] * rows[t][q], for q < len, added in the order of t: the rows of the crop
 * weighted into one.  Eight bytes at a time with the sums in registers, with SSE2 (every x86-64) or NEON
 * (aarch64), else the plain loop, which -O2 leaves scalar; the same products and sums in every form. */
static void rows_weighted(double *V, const double *wt, const unsigned char *const *rows, int nrows, size_t len) {
    size_t q = 0;
#if defined(__SSE2__)
    const __m128i z = _mm_setzero_si128();
    for (; q + 8 <= len; q += 8) {
        __m128d s0 = _mm_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
        for (int t = 0; t < nrows; t++) {
            const __m128d w = _mm_set1_pd(wt[t]);
            const __m128i b = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(rows[t] + q)), z);
            const __m128i lo = _mm_unpacklo_epi16(b, z), hi = _mm_unpackhi_epi16(b, z);
            s0 = _mm_add_pd(s0, _mm_mul_pd(w, _mm_cvtepi32_pd(lo)));
            s1 = _mm_add_pd(s1, _mm_mul_pd(w, _mm_cvtepi32_pd(_mm_srli_si128(lo, 8))));
            s2 = _mm_add_pd(s2, _mm_mul_pd(w, _mm_cvtepi32_pd(hi)));
            s3 = _mm_add_pd(s3, _mm_mul_pd(w, _mm_cvtepi32_pd(_mm_srli_si128(hi, 8))));
        }
        _mm_storeu_pd(V + q, s0);
        _mm_storeu_pd(V + q + 2, s1);
        _mm_storeu_pd(V + q + 4, s2);
        _mm_storeu_pd(V + q + 6, s3);
    }
#elif defined(__aarch64__) && defined(__ARM_NEON)
    for (; q + 8 <= len; q += 8) {
        float64x2_t s[4] = {vdupq_n_f64(0), vdupq_n_f64(0), vdupq_n_f64(0), vdupq_n_f64(0)};
        for (int t = 0; t < nrows; t++) {
            const float64x2_t w = vdupq_n_f64(wt[t]);
            const uint16x8_t b = vmovl_u8(vld1_u8(rows[t] + q));
            const uint32x4_t lo = vmovl_u16(vget_low_u16(b)), hi = vmovl_u16(vget_high_u16(b));
            const uint32x2_t part[4] = {vget_low_u32(lo), vget_high_u32(lo), vget_low_u32(hi), vget_high_u32(hi)};
            for (int k = 0; k < 4; k++) s[k] = vaddq_f64(s[k], vmulq_f64(w, vcvtq_f64_u64(vmovl_u32(part[k]))));
        }
        for (int k = 0; k < 4; k++) vst1q_f64(V + q + 2 * k, s[k]);
    }
#endif
    for (; q < len; q++) {
        double s = 0;
        for (int t = 0; t < nrows; t++) s += wt[t] * rows[t][q];
        V[q] = s;
    }
}

/* sbf_warp_rgb for a map without rotation (a[1] == a[3] == 0, the mtcnn and box rules): a sample's x depends on
 * its column only and y on its row only, so the sum is separable.  For each output row, the source rows it reads
 * are weighted into one row (a plain loop over the bytes the columns read), then each output column weights its
 * window of that row.  Same samples and weights as bilinear(), summed in another order: the crops are those of
 * the general path except where a value falls within rounding of a half level (a few values in a million, 1
 * level apart; tests/test_align.c test_fast_path_exact); a 12-megapixel photo's faces take 7x7 samples per
 * pixel. */
static int warp_axis_aligned(const unsigned char *rgb, int w, int h, const double a[6], unsigned char *out, int ow,
                             int oh, int n, double inv) {
    axis_taps tx = {0}, ty = {0};
    double *V = NULL, *wr = NULL;
    const unsigned char **rows = NULL;
    int rc = -1;
    if (axis_taps_make(a[0], a[2], n, ow, w, &tx) != 0 || axis_taps_make(a[4], a[5], n, oh, h, &ty) != 0) goto done;
    long xlo = LONG_MAX, xhi = 0; /* the pixels of a row the columns read */
    for (int u = 0; u < ow; u++) {
        if (tx.start[u] < xlo) xlo = tx.start[u];
        if (tx.start[u] + tx.len > xhi) xhi = tx.start[u] + tx.len;
    }
    const size_t span = (size_t)(xhi - xlo) * 3;
    if (!(V = malloc(sizeof(double) * span)) || !(rows = malloc(sizeof(*rows) * (size_t)ty.len)) ||
        !(wr = malloc(sizeof(double) * (size_t)ty.len)))
        goto done;
    for (int v = 0; v < oh; v++) {
        int nr = 0; /* the rows this output row reads, with their weights */
        for (int t = 0; t < ty.len; t++) {
            const double wk = ty.wt[(size_t)v * ty.len + t];
            if (wk == 0) continue;
            wr[nr] = wk;
            rows[nr++] = rgb + ((size_t)(ty.start[v] + t) * (size_t)w + (size_t)xlo) * 3;
        }
        rows_weighted(V, wr, rows, nr, span);
        unsigned char *o = out + (size_t)v * ow * 3;
        for (int u = 0; u < ow; u++) {
            const double *wx = tx.wt + (size_t)u * tx.len, *p = V + (size_t)(tx.start[u] - xlo) * 3;
            double s[3] = {0, 0, 0};
            for (int t = 0; t < tx.len; t++)
                for (int c = 0; c < 3; c++) s[c] += wx[t] * p[3 * t + c];
            for (int c = 0; c < 3; c++) o[3 * u + c] = level(s[c], inv);
        }
    }
    rc = 0;
done:
    free(tx.start);
    free(tx.wt);
    free(ty.start);
    free(ty.wt);
    free(V);
    free(wr);
    free(rows);
    return rc;
}

void sbf_warp_rgb(const unsigned char *rgb, int w, int h, const double a[6], unsigned char *out, int ow, int oh) {
    double su = sqrt(a[0] * a[0] + a[3] * a[3]), sv = sqrt(a[1] * a[1] + a[4] * a[4]);
    double sc = su > sv ? su : sv;
    int n = (int)ceil(sc - 1e-9);
    if (n < 1) n = 1;
    if (n > 8) n = 8;
    const double inv = 1.0 / ((double)n * n);
    if (a[1] == 0 && a[3] == 0 && warp_axis_aligned(rgb, w, h, a, out, ow, oh, n, inv) == 0) return;
    for (int v = 0; v < oh; v++) {
        for (int u = 0; u < ow; u++) {
            double acc[3] = {0, 0, 0};
            for (int j = 0; j < n; j++) {
                double vv = v + (j + 0.5) / n - 0.5;
                for (int i = 0; i < n; i++) {
                    double uu = u + (i + 0.5) / n - 0.5;
                    bilinear(rgb, w, h, a[0] * uu + a[1] * vv + a[2], a[3] * uu + a[4] * vv + a[5], acc);
                }
            }
            unsigned char *o = out + ((size_t)v * ow + u) * 3;
            for (int c = 0; c < 3; c++) o[c] = level(acc[c], inv);
        }
    }
}

int sbf_align_face(const unsigned char *rgb, int w, int h, const sbf_box *box, const float pts[68][2],
                   sbf_align_method method, unsigned char *out160) {
    if (!rgb || w <= 0 || h <= 0 || !out160) return -1;
    double a[6];
    if (sbf_align_transform(box, pts, method, a) != 0) return -1;
    sbf_warp_rgb(rgb, w, h, a, out160, SBF_CROP, SBF_CROP);
    return 0;
}
