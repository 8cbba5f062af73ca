/* tools/int8.h — shared by the int8 tools (tools/quantize, tools/int8-gate, tests/test_facenet_int8.c).
 * The split: which photos calibrate the int8 FaceNet and which gate it: a photo is calibration
 * material when FNV-1a of its last two path components ("Person/Person_0001.jpg") is 0 mod 20 (about 5% of
 * ../shared/data/lfw-dev, ~480 photos); every other photo may gate the model.  By name, so the split does
 * not depend on where the data lives or on the order a database lists it.
 * The scales file (weights/facenet-20180402-int8.scales): "# comment" lines, then "POINT SCALE" per line, one
 * for every quantisation point of nn/facenet_q.h.  Header-only; nothing in src/ or nn/ uses it. */
#ifndef TOOLS_INT8_H
#define TOOLS_INT8_H
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "nn/facenet_q.h"

static inline int i8_calibration_photo(const char *path) {
    const char *end = path + strlen(path), *p = end;
    int slashes = 0;
    while (p > path && slashes < 2) {
        if (p[-1] == '/' && ++slashes == 2) break;
        p--;
    }
    uint32_t h = 2166136261u;
    for (; p < end; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    return h % 20 == 0;
}

/* Reads a scales file into scale[nn_fq_points()]; the "# tools/quantize ..." line (what calibrated it) into
 * calib_line.  0, or -1 with a one-line reason (naming the file) on stderr. */
static inline int i8_read_scales(const char *path, float *scale, char *calib_line, size_t cl) {
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "%s: cannot open\n", path); return -1; }
    int n = nn_fq_points(), got = 0;
    for (int i = 0; i < n; i++) scale[i] = 0;
    char line[512];
    if (cl) calib_line[0] = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') {
            if (cl && !strncmp(line, "# tools/quantize", 16)) {
                snprintf(calib_line, cl, "%s", line + 2);
                calib_line[strcspn(calib_line, "\n")] = 0;
            }
            continue;
        }
        char name[128];
        float v;
        if (sscanf(line, "%127s %f", name, &v) != 2) continue;
        int i = 0;
        while (i < n && strcmp(name, nn_fq_point_name(i))) i++;
        if (i == n) { fprintf(stderr, "%s: unknown point %s\n", path, name); fclose(f); return -1; }
        if (!(v > 0) || !isfinite(v)) { fprintf(stderr, "%s: bad scale for %s\n", path, name); fclose(f); return -1; }
        if (!scale[i]) got++;
        scale[i] = v;
    }
    fclose(f);
    if (got != n) {
        for (int i = 0; i < n; i++)
            if (!scale[i]) { fprintf(stderr, "%s: no scale for %s\n", path, nn_fq_point_name(i)); break; }
        return -1;
    }
    return 0;
}
#endif
