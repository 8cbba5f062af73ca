/* tools/align-variants.h — the face-alignment variants the evaluation tools compare (eval-align,
 * realign): a name -> crop-to-image map, for one face given its detector box and 68 landmarks.
 *
 * VARIANT: eyes | box                 the rules as shipped (src/align.h)
 *          eyes:EX:EY                 eyes rule with the eyes at (EX*w, EY*h)
 *          box:SCALE[:DY]             box rule enlarged SCALE times, centre moved DY x side down
 *          mtcnn                      the MTCNN rule as shipped
 *          tmpl:M | tmplr:M | tmpls:M least-squares fit of the 68 landmarks to src/align.c's MTCNN template,
 *                                     crop M times the template's face: scale+shift only (tmpl), with
 *                                     rotation (tmplr), separate x/y scales (tmpls, MTCNN's stretch);
 *                                     M:MY crops MY times vertically
 *          tmple:M[:MY]               like tmpls, but x scale and centre from the extent of the jaw line
 *                                     (points 0-16), which MTCNN's box follows on turned heads
 *          any of them + "+flip"      (eval-align) also embeds the mirrored crop and adds the two
 * Header-only on purpose: two tools share it, nothing in src/ does. */
#ifndef TOOLS_ALIGN_VARIANTS_H
#define TOOLS_ALIGN_VARIANTS_H
#include <stdio.h>
#include <string.h>

#include "src/align.h"

/* Fit of the landmarks to src/align.c's MTCNN template (sbf_align_mtcnn_template) shrunk m (x) and my (y)
 * times: mode 0: one scale + shift, 1: similarity with rotation, 3: x from the jaw line's extent, y by
 * least squares.  (Separate x/y scales by least squares, "tmpls", is the shipped sbf_align_mtcnn_transform.) */
static void av_fit_template(const float pts[68][2], double m, double my, int mode, double a[6]) {
    double ub = 0, vb = 0, xb = 0, yb = 0, u[68], v[68];
    for (int i = 0; i < 68; i++) {
        u[i] = 79.5 + (sbf_align_mtcnn_template[i][0] - 79.5) / m;
        v[i] = 79.5 + (sbf_align_mtcnn_template[i][1] - 79.5) / my;
        ub += u[i];
        vb += v[i];
        xb += pts[i][0];
        yb += pts[i][1];
    }
    ub /= 68;
    vb /= 68;
    xb /= 68;
    yb /= 68;
    double suu = 0, svv = 0, sux = 0, svy = 0, suy = 0, svx = 0;
    for (int i = 0; i < 68; i++) {
        double du = u[i] - ub, dv = v[i] - vb, dx = pts[i][0] - xb, dy = pts[i][1] - yb;
        suu += du * du;
        svv += dv * dv;
        sux += du * dx;
        svy += dv * dy;
        suy += du * dy;
        svx += dv * dx;
    }
    double sx, sy, rb = 0;
    if (mode == 3) { /* x from the face outline's extent (jaw points 0-16), as MTCNN's box follows it */
        double lo = 1e30, hi = -1e30, tlo = 1e30, thi = -1e30;
        for (int i = 0; i <= 16; i++) {
            if (pts[i][0] < lo) lo = pts[i][0];
            if (pts[i][0] > hi) hi = pts[i][0];
            if (u[i] < tlo) tlo = u[i];
            if (u[i] > thi) thi = u[i];
        }
        sx = (hi - lo) / (thi - tlo);
        sy = svy / svv;
        a[0] = sx;
        a[1] = 0;
        a[3] = 0;
        a[4] = sy;
        a[2] = (lo + hi) / 2 - sx * (tlo + thi) / 2;
        a[5] = yb - sy * vb;
        return;
    }
    sx = sy = (sux + svy) / (suu + svv);
    if (mode == 1) rb = (suy - svx) / (suu + svv);
    a[0] = sx;
    a[1] = -rb;
    a[3] = rb;
    a[4] = sy;
    a[2] = xb - a[0] * ub - a[1] * vb;
    a[5] = yb - a[3] * ub - a[4] * vb;
}

/* The map of variant vfull ("+flip" ignored) for the face (box, pts).  0, or -1 for an unknown
 * variant or a degenerate face. */
static int av_transform(const char *vfull, const sbf_box *box, const float pts[68][2], double a[6]) {
    char v[64];
    snprintf(v, sizeof v, "%s", vfull);
    char *plus = strstr(v, "+flip");
    if (plus) *plus = 0;
    double p = 0, q = 0;
    if (strcmp(v, "eyes") == 0) return sbf_align_transform(box, pts, SBF_ALIGN_EYES, a);
    if (strcmp(v, "box") == 0) return sbf_align_transform(box, pts, SBF_ALIGN_BOX, a);
    if (strcmp(v, "mtcnn") == 0) return sbf_align_transform(box, pts, SBF_ALIGN_MTCNN, a);
    if (strncmp(v, "eyes:", 5) == 0) {
        if (sscanf(v + 5, "%lf:%lf", &p, &q) != 2) return -1;
        return sbf_align_eyes_transform(pts, p, q, a);
    }
    if (strncmp(v, "box:", 4) == 0) {
        if (sscanf(v + 4, "%lf:%lf", &p, &q) < 1) return -1;
        if (sbf_align_box_transform(box, p, a)) return -1;
        a[5] += q * SBF_CROP * a[4];
        return 0;
    }
    int mode = strncmp(v, "tmpl:", 5) == 0    ? 0
               : strncmp(v, "tmplr:", 6) == 0 ? 1
               : strncmp(v, "tmpls:", 6) == 0 ? 2
               : strncmp(v, "tmple:", 6) == 0 ? 3
                                              : -1;
    int got = mode < 0 ? 0 : sscanf(strchr(v, ':') + 1, "%lf:%lf", &p, &q);
    if (got < 1 || !(p > 0.2 && p < 5)) return -1;
    if (got < 2) q = p;
    if (!(q > 0.2 && q < 5)) return -1;
    if (mode == 2) return sbf_align_mtcnn_transform(pts, p, q, a);
    av_fit_template(pts, p, q, mode, a);
    return (a[0] * a[4] - a[1] * a[3]) > 1e-6 ? 0 : -1;
}

/* Mirrors n 160x160 RGB crops left-right in place (test-time augmentation). */
static void av_mirror_crops(unsigned char *crops, int n) {
    for (int k = 0; k < n; k++)
        for (int y = 0; y < SBF_CROP; y++) {
            unsigned char *row = crops + ((size_t)k * SBF_CROP + y) * SBF_CROP * 3;
            for (int x = 0; x < SBF_CROP / 2; x++)
                for (int c = 0; c < 3; c++) {
                    unsigned char t = row[3 * x + c];
                    row[3 * x + c] = row[3 * (SBF_CROP - 1 - x) + c];
                    row[3 * (SBF_CROP - 1 - x) + c] = t;
                }
        }
}
#endif
