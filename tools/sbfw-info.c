/* tools/sbfw-info.c — prints an SBFW file's metadata and tensor table, and how long opening it took
 * (mmap + full validation, all CRCs).  usage: sbfw-info [--quiet] FILE */
#include <stdio.h>
#include <string.h>
#include "nn/weights.h"
#include "src/util.h"

int main(int argc, char **argv) {
    int quiet = argc > 1 && !strcmp(argv[1], "--quiet");
    if (argc != 2 + quiet) {
        fprintf(stderr, "usage: sbfw-info [--quiet] FILE\n");
        return 2;
    }
    char err[512];
    double best = 1e9;
    nnw_file *f = NULL;
    for (int rep = 0; rep < 3; rep++) {
        nnw_close(f);
        double t0 = sbf_now();
        f = nnw_open(argv[1 + quiet], err, sizeof err);
        double t = sbf_now() - t0;
        if (!f) {
            fprintf(stderr, "sbfw-info: %s: %s\n", argv[1 + quiet], err);
            return 1;
        }
        if (t < best) best = t;
    }
    for (int i = 0; i < nnw_meta_count(f); i++) {
        const char *k, *v;
        nnw_meta_at(f, i, &k, &v);
        printf("meta %s = %s\n", k, v);
    }
    unsigned long long bytes = 0, count = 0;
    for (int i = 0; i < nnw_count(f); i++) {
        const nnw_tensor *t = nnw_at(f, i);
        bytes += t->size;
        count += t->count;
        if (quiet) continue;
        printf("%-60s %-8s [", t->name, nnw_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) printf("%s%u", d ? ", " : "", t->shape[d]);
        printf("]\n");
    }
    printf("%d tensors, %llu elements, %.1f MB; open+validate (best of 3): %.1f ms\n", nnw_count(f), count, bytes / 1e6,
           best * 1e3);
    nnw_close(f);
    return 0;
}
