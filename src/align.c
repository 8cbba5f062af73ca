/* src/align.c — face alignment to FaceNet's 160x160 RGB input (see src/align.h). */
#include "src/align.h"

#include <math.h>
#include <string.h>

int sbf_align_parse(const char *name, sbf_align_method *m)
{
    if (!name) return -1;
    if (strcmp(name, "eyes") == 0) { *m = SBF_ALIGN_EYES; return 0; }
    if (strcmp(name, "box") == 0) { *m = SBF_ALIGN_BOX; return 0; }
    return -1;
}

const char *sbf_align_name(sbf_align_method m)
{
    return m == SBF_ALIGN_BOX ? "box" : "eyes";
}

int sbf_align_transform(const sbf_box *box, const float pts[68][2], sbf_align_method method, double a[6])
{
    if (method == SBF_ALIGN_EYES) return sbf_align_eyes_transform(pts, SBF_ALIGN_EYE_X, SBF_ALIGN_EYE_Y, a);
    if (method == SBF_ALIGN_BOX) return sbf_align_box_transform(box, SBF_ALIGN_BOX_SCALE, a);
    return -1;
}

int sbf_align_eyes_transform(const float pts[68][2], double eye_x, double eye_y, double a[6])
{
    const double S = SBF_CROP;
    if (!pts || !(eye_x > 0 && eye_x < 0.5)) return -1;
    double lx = 0, ly = 0, rx = 0, ry = 0; /* l: image-left eye (36-41), r: image-right eye (42-47) */
    for (int i = 36; i < 42; i++) { lx += pts[i][0]; ly += pts[i][1]; }
    for (int i = 42; i < 48; i++) { rx += pts[i][0]; ry += pts[i][1]; }
    lx /= 6; ly /= 6; rx /= 6; ry /= 6;
    double dx = rx - lx, dy = ry - ly, dist = sqrt(dx * dx + dy * dy);
    if (!(dist > 1e-6) || !isfinite(dist)) return -1;
    /* crop -> image: p = c + (dist/want) * R(theta) * (q - q0), theta = direction of the eye line */
    double want = (1 - 2 * eye_x) * S, k = dist / want;
    double cs = dx / dist * k, sn = dy / dist * k;
    double cx = (lx + rx) / 2, cy = (ly + ry) / 2, q0x = 0.5 * S, q0y = eye_y * S;
    a[0] = cs; a[1] = -sn; a[2] = cx - cs * q0x + sn * q0y;
    a[3] = sn; a[4] = cs;  a[5] = cy - sn * q0x - cs * q0y;
    return 0;
}

int sbf_align_box_transform(const sbf_box *box, double scale, double a[6])
{
    const double S = SBF_CROP;
    if (!box || !(scale > 0)) return -1;
    double bw = (double)(box->right - box->left + 1), bh = (double)(box->bottom - box->top + 1);
    if (!(bw > 0 && bh > 0)) return -1;
    double side = scale * (bw > bh ? bw : bh);
    double cx = (box->left + box->right) / 2.0, cy = (box->top + box->bottom) / 2.0;
    double k = side / S;
    /* crop pixel u (edges u-0.5..u+0.5, crop edges -0.5..159.5) -> image x = cx - side/2 + (u+0.5)*k */
    a[0] = k; a[1] = 0; a[2] = cx - side / 2 + 0.5 * k;
    a[3] = 0; a[4] = k; a[5] = cy - side / 2 + 0.5 * k;
    return 0;
}

/* Bilinear sample at (x,y) (pixel centres at integers); taps outside the image contribute black. */
static inline void bilinear(const unsigned char *rgb, int w, int h, double x, double y, double acc[3])
{
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

void sbf_warp_rgb(const unsigned char *rgb, int w, int h, const double a[6], unsigned char *out, int ow, int oh)
{
    double su = sqrt(a[0] * a[0] + a[3] * a[3]), sv = sqrt(a[1] * a[1] + a[4] * a[4]);
    double sc = su > sv ? su : sv;
    int n = (int)ceil(sc - 1e-9);
    if (n < 1) n = 1;
    if (n > 8) n = 8;
    const double inv = 1.0 / ((double)n * n);
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
                   sbf_align_method method, unsigned char *out160)
{
    if (!rgb || w <= 0 || h <= 0 || !out160) return -1;
    double a[6];
    if (sbf_align_transform(box, pts, method, a) != 0) return -1;
    sbf_warp_rgb(rgb, w, h, a, out160, SBF_CROP, SBF_CROP);
    return 0;
}
