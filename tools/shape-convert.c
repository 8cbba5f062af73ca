/* tools/shape-convert.c — converts dlib's shape_predictor .dat into our SBFW weight file.
 * usage: shape-convert [--f16] IN.dat OUT.sbfw
 * Leaves are stored float32 (bit-identical evaluation) or, with --f16, IEEE binary16 (half the size;
 * landmarks move by < 0.1 px, see tools/oracle-landmarks --compare). */
#include <stdio.h>
#include <string.h>
#include "src/landmarks.h"
#include "src/landmarks_impl.h"

int main(int argc, char **argv) {
    int f16 = 0, a = 1;
    if (a < argc && strcmp(argv[a], "--f16") == 0) {
        f16 = 1;
        a++;
    }
    if (argc - a != 2) {
        fprintf(stderr, "usage: shape-convert [--f16] IN.dat OUT.sbfw\n");
        return 2;
    }
    char err[256];
    sbf_shape_model *m = sbf_shape_load(argv[a], err, sizeof err);
    if (!m) {
        fprintf(stderr, "shape-convert: %s: %s\n", argv[a], err);
        return 1;
    }
    sbf_shape_info in;
    sbf_shape_get_info(m, &in);
    char src[512];
    const char *base = strrchr(argv[a], '/');
    snprintf(src, sizeof src, "dlib shape_predictor %s (%d cascades x %d trees, depth %d, %d feature pixels)",
             base ? base + 1 : argv[a], in.cascades, in.trees, in.depth, in.features);
    if (sbf_shape_save_sbfw(m, argv[a + 1], f16, src, err, sizeof err) != 0) {
        fprintf(stderr, "shape-convert: %s: %s\n", argv[a + 1], err);
        sbf_shape_free(m);
        return 1;
    }
    printf("shape-convert: wrote %s (%s leaves)\n", argv[a + 1], f16 ? "float16" : "float32");
    sbf_shape_free(m);
    return 0;
}
