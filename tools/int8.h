/* tools/int8.h — shared by the int8 tools (tools/quantize, tools/int8-gate, tests/test_facenet_int8.c): the split
 * and the gate's cosine.
 * The split: which photos calibrate the int8 FaceNet and which gate it: a photo is calibration
 * material when FNV-1a of its last two path components ("Person/Person_0001.jpg"), shifted right 8 bits, is 0
 * mod 5 (1929 of the 9525 photos of ../shared/data/lfw-dev; with 490 photos (mod 20) more gate faces fell below
 * the gate: per-channel ranges need the wider sample); every other photo may gate the model.  By name, so the split does
 * not depend on where the data lives or on the order a database lists it.
 * The scales file (weights/facenet-20180402-int8.scales): "# comment" lines, "POINT S0 S1 ..." (the calibration's
 * clip threshold / 255 of each channel, or a single one for the whole tensor) for every quantisation point of
 * nn/facenet_q.h, and "mean POINT M0 M1 ..." / "mean image R G B", the calibration means of each channel (for the
 * weights' bias correction); i8_read_scales turns the thresholds into the model's 12-bit scales.  Header-only;
 * nothing in src/ or nn/ uses it. */
#ifndef TOOLS_INT8_H
#define TOOLS_INT8_H
#ifndef I8_CAL_MOD
#define I8_CAL_MOD 5
#endif
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nn/facenet_q.h"
#include "nn/qgemm.h"

/* The model's activation range: the calibration's clip threshold (largest value, or the MSE-optimal one for 8 bits)
 * times this headroom, so that faces brighter or more contrasted than the calibration ones are not clipped. */
#define I8_HEADROOM 2

/* The gate's measure: cosine similarity of two 512-D embeddings (int8 against float32), in double. */
static inline double i8_cosine(const float *a, const float *b) {
    double s = 0, na = 0, nb = 0;
    for (int k = 0; k < 512; k++) {
        s += (double)a[k] * b[k];
        na += (double)a[k] * a[k];
        nb += (double)b[k] * b[k];
    }
    return s / sqrt(na * nb);
}

static inline int i8_calibration_photo(const char *path) {
    const char *end = path + strlen(path), *p = end;
    int slashes = 0;
    while (p > path && slashes < 2) {
        if (p[-1] == '/' && ++slashes == 2) break;
        p--;
    }
    uint32_t h = 2166136261u;
    for (; p < end; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    return (h >> 8) % I8_CAL_MOD == 0; /* FNV-1a's lowest bits are poorly mixed (h % 20: 287 photos, not ~476) */
}

typedef struct {
    float *scale[256]; /* per point: nn_fq_point_channels(i) scales */
    float *mean[256];  /* per point: the calibration mean of each channel (bias correction), when has_means */
    float image_mean[3];
    int has_means;
    char calib[512]; /* the "# tools/quantize ..." line: what calibrated it */
    float *mem;
} i8_scales;

static inline void i8_free_scales(i8_scales *s) {
    free(s->mem);
    s->mem = NULL;
}

/* Reads a scales file: "POINT s0 s1 ..." for every point, optionally "mean POINT m0 m1 ..." for every point and
 * "mean image r g b".  The file holds the calibration's clip thresholds / 255; s->scale gets the model's scales
 * (threshold x I8_HEADROOM / NN_QMAX).  0, or -1 with a one-line reason (naming the file) on stderr. */
static inline int i8_read_scales(const char *path, i8_scales *s) {
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    int n = nn_fq_points(), got = 0, gotm = 0, goti = 0, bad = 0;
    size_t total = 0;
    for (int i = 0; i < n; i++) total += (size_t)nn_fq_point_channels(i);
    if (!(s->mem = calloc(2 * total, sizeof(float)))) {
        fclose(f);
        return -1;
    }
    for (int i = 0, o = 0; i < n; o += nn_fq_point_channels(i), i++) {
        s->scale[i] = s->mem + o;
        s->mean[i] = s->mem + total + o;
    }
    static char line[1 << 16];
    while (!bad && fgets(line, sizeof line, f)) {
        if (line[0] == '#') {
            if (!strncmp(line, "# tools/quantize", 16)) {
                snprintf(s->calib, sizeof s->calib, "%.400s", line + 2);
                s->calib[strcspn(s->calib, "\n")] = 0;
            }
            continue;
        }
        char name[128];
        int used = 0, is_mean = 0;
        if (sscanf(line, "%127s%n", name, &used) != 1) continue;
        char *p = line + used;
        if (!strcmp(name, "mean")) {
            int u2 = 0;
            if (sscanf(p, "%127s%n", name, &u2) != 1) {
                bad = 1;
                break;
            }
            p += u2;
            is_mean = 1;
        }
        if (is_mean && !strcmp(name, "image")) {
            for (int c = 0; c < 3; c++) s->image_mean[c] = strtof(p, &p);
            goti = 1;
            continue;
        }
        int i = 0;
        while (i < n && strcmp(name, nn_fq_point_name(i))) i++;
        if (i == n) {
            fprintf(stderr, "%s: unknown point %s\n", path, name);
            bad = 1;
            break;
        }
        float *dst = is_mean ? s->mean[i] : s->scale[i];
        for (int c = 0; c < nn_fq_point_channels(i); c++) {
            char *e;
            float v = strtof(p, &e);
            if (c == 1 && e == p && !is_mean) { /* one scale for the whole tensor */
                for (; c < nn_fq_point_channels(i); c++) dst[c] = dst[0];
                break;
            }
            if (e == p || !isfinite(v) || (!is_mean && !(v > 0))) {
                fprintf(stderr, "%s: %s: bad or missing value %d\n", path, name, c);
                bad = 1;
                break;
            }
            dst[c] = v;
            p = e;
        }
        if (is_mean) gotm++;
        else got++;
    }
    fclose(f);
    if (!bad && got != n) {
        fprintf(stderr, "%s: scales of %d of %d points\n", path, got, n);
        bad = 1;
    }
    if (!bad && (gotm || goti) && (gotm != n || !goti)) {
        fprintf(stderr, "%s: means of %d of %d points\n", path, gotm, n);
        bad = 1;
    }
    if (bad) {
        i8_free_scales(s);
        return -1;
    }
    s->has_means = gotm == n;
    for (int i = 0; i < n; i++) /* the model's scales: the clip threshold x I8_HEADROOM in NN_QMAX steps */
        for (int c = 0; c < nn_fq_point_channels(i); c++)
            s->scale[i][c] = (float)((double)s->scale[i][c] * 255.0 * I8_HEADROOM / NN_QMAX);
    return 0;
}
#endif
