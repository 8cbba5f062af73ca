/* src/align.c — face alignment to FaceNet's 160x160 RGB input (see src/align.h). */
#include "src/align.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* sbf_warp_rgb for a map without rotation (a[1] == a[3] == 0, the mtcnn and box rules): a sample's x
 * depends on its column only and y on its row only, so floor, fraction and bounds are worked out once per
 * column sample and once per row sample instead of once per tap, and the sum is separable: each source row a
 * row sample reads is summed along the row once for every output column, then the rows are weighted.  Same
 * samples and weights as bilinear(), summed in another order: the crops are those of the general path except
 * where a value falls within rounding of a half level (a few values in a million, 1 level apart; tests/test_align.c
 * test_fast_path_exact); a 12-megapixel photo's faces take 7x7 samples per pixel. */
static int warp_axis_aligned(const unsigned char *rgb, int w, int h, const double a[6], unsigned char *out, int ow,
                             int oh, int n, double inv) {
    const size_t nx = (size_t)ow * n, ny = (size_t)oh * n;
    size_t *XO = malloc(sizeof(size_t) * 2 * nx);          /* column sample k: byte offsets of its two taps */
    double *WX = malloc(sizeof(double) * 2 * (nx + ny));   /* 1 - ax, ax (0 outside the image); then 1 - ay, ay */
    const unsigned char **R = malloc(sizeof(*R) * 2 * ny); /* row sample: its two rows */
    if (!XO || !WX || !R) {
        free(XO);
        free(WX);
        free(R);
        return -1;
    }
    double *WY = WX + 2 * nx;
    for (int k = 0; k < (int)nx; k++) { /* column sample k = u*n + i */
        const int u = k / n, i = k % n;
        const double uu = u + (i + 0.5) / n - 0.5, x = a[0] * uu + a[1] * 0.0 + a[2], fx = floor(x);
        const int in = fx > -2 && fx < w + 1;
        const long x0 = in ? (long)fx : 0;
        const double ax = x - fx;
        const int c0 = in && x0 >= 0 && x0 < w, c1 = in && x0 + 1 >= 0 && x0 + 1 < w;
        WX[2 * k] = c0 ? 1 - ax : 0.0;
        WX[2 * k + 1] = c1 ? ax : 0.0;
        XO[2 * k] = (size_t)(c0 ? x0 : 0) * 3;
        XO[2 * k + 1] = (size_t)(c1 ? x0 + 1 : 0) * 3;
    }
    for (int k = 0; k < (int)ny; k++) {
        const int v = k / n, j = k % n;
        const double vv = v + (j + 0.5) / n - 0.5, y = a[3] * 0.0 + a[4] * vv + a[5], fy = floor(y);
        const int in = fy > -2 && fy < h + 1;
        const long y0 = in ? (long)fy : 0;
        const double ay = y - fy;
        const int r0 = in && y0 >= 0 && y0 < h, r1 = in && y0 + 1 >= 0 && y0 + 1 < h;
        WY[2 * k] = r0 ? 1 - ay : 0.0;
        WY[2 * k + 1] = r1 ? ay : 0.0;
        R[2 * k] = rgb + (size_t)(r0 ? y0 : 0) * (size_t)w * 3;
        R[2 * k + 1] = rgb + (size_t)(r1 ? y0 + 1 : 0) * (size_t)w * 3;
    }
    /* Separable: a sample row's two source rows are summed along the row once for every output column (H),
     * then the rows' sums are weighted into the output row.  Consecutive row samples share a source row
     * (floor(y) of one is floor(y) + 1 of the previous), which is summed once. */
    const size_t rw = (size_t)ow * 3;
    size_t xlo = (size_t)-1, xhi = 0; /* the bytes of a row the column samples read */
    for (size_t k = 0; k < 2 * nx; k++) {
        if (XO[k] < xlo) xlo = XO[k];
        if (XO[k] + 3 > xhi) xhi = XO[k] + 3;
    }
    double *H = malloc(sizeof(double) * (2 * rw + xhi)), *acc = H ? H + rw : NULL, *D = H ? H + 2 * rw : NULL;
    if (!H) {
        free(XO);
        free(WX);
        free(R);
        return -1;
    }
    const unsigned char *cur = NULL; /* the source row H holds */
    for (int v = 0; v < oh; v++) {
        for (size_t q = 0; q < rw; q++) acc[q] = 0;
        for (int j = 0; j < n; j++) {
            const int ky = v * n + j;
            for (int t = 0; t < 2; t++) {
                const double wy = WY[2 * ky + t];
                const unsigned char *row = R[2 * ky + t];
                if (wy == 0) continue; /* outside the image, or on a pixel centre: adds nothing */
                if (row != cur) {
                    for (size_t q = xlo; q < xhi; q++) D[q] = row[q]; /* the row's span as doubles, once */
                    for (int u = 0; u < ow; u++) {
                        double s0 = 0, s1 = 0, s2 = 0;
                        for (int i = 0; i < n; i++) {
                            const int k = u * n + i;
                            const double w0 = WX[2 * k], w1 = WX[2 * k + 1];
                            const double *p0 = D + XO[2 * k], *p1 = D + XO[2 * k + 1];
                            s0 += w0 * p0[0] + w1 * p1[0];
                            s1 += w0 * p0[1] + w1 * p1[1];
                            s2 += w0 * p0[2] + w1 * p1[2];
                        }
                        H[3 * u] = s0;
                        H[3 * u + 1] = s1;
                        H[3 * u + 2] = s2;
                    }
                    cur = row;
                }
                for (size_t q = 0; q < rw; q++) acc[q] += wy * H[q];
            }
        }
        unsigned char *o = out + (size_t)v * rw;
        for (size_t q = 0; q < rw; q++) {
            double x = acc[q] * inv + 0.5;
            o[q] = (unsigned char)(x < 0 ? 0 : x > 255 ? 255 : x);
        }
    }
    free(H);
    free(XO);
    free(WX);
    free(R);
    return 0;
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
            for (int c = 0; c < 3; c++) {
                double x = acc[c] * inv + 0.5;
                o[c] = (unsigned char)(x < 0 ? 0 : x > 255 ? 255 : x);
            }
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
