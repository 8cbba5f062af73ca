/* tools/bench-facenet.c — speed of our FaceNet forward pass: ms per face and GFLOP/s (2.83 GFLOP per face) at
 * the given thread counts: each face timed alone, best (and median) of R runs x N faces (the golden aligned
 * crops, repeated), peak RSS.
 * usage: bench-facenet [--model FILE] [--faces N] [--runs R] [--threads 1,2] [--batch B] [--group G] [--isa NAME] [--f16]
 * --group G: faces per nn_facenet_embed call (default 1 = latency of one face; with G >= threads whole faces
 *   run in parallel, one per thread: throughput).  --batch B: faces per pass through the network.
 * Prints one line per thread count:  ours threads=T ms_per_face=X gflops=Y  (and a final rss line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "nn/facenet.h"
#include "src/image.h"
#include "src/models.h"
#include "src/util.h"

#define GFLOP_PER_FACE 2.83

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const char *model = NULL, *threads = "1,2", *isa = NULL;
    int faces = 10, runs = 5, batch = 1, f16 = 0, group = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--faces") && i + 1 < argc) faces = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--group") && i + 1 < argc) group = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--isa") && i + 1 < argc) isa = argv[++i];
        else if (!strcmp(argv[i], "--f16")) f16 = 1;
        else { fprintf(stderr, "usage: bench-facenet [--model FILE] [--faces N] [--runs R] [--threads 1,2] [--batch B] [--group G] [--isa NAME] [--f16]\n"); return 2; }
    }
    if (faces < 1) faces = 1;
    if (runs < 1) runs = 1;
    if (group < 1) group = 1;
    if (batch < 1) batch = 1;
    faces = (faces + group - 1) / group * group;
    if (!model) model = sbf_model_path(SBF_FACENET_FILE);
    if (isa && nn_set_isa(isa)) { fprintf(stderr, "bench-facenet: kernel flavour %s not available\n", isa); return 2; }
    /* inputs: the golden crops (any 160x160 image works; content does not change the work) */
    const char *sh = getenv("SBF_SHARED");
    static const char *names[] = {"angelina_jolie", "bradley_cooper", "kate_siegel", "paul_rudd", "shea_whigham"};
    size_t px = 160 * 160 * 3;
    unsigned char *rgb = malloc(px * (size_t)faces);
    if (!rgb) return 3;
    for (int i = 0; i < faces; i++) {
        char path[1024], err[256];
        sbf_image img;
        snprintf(path, sizeof path, "%s/data/aligned-golden/%s.png", sh && *sh ? sh : "../shared", names[i % 5]);
        if (sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, &img, err, sizeof err) || img.w != 160 || img.h != 160) {
            fprintf(stderr, "bench-facenet: %s: %s\n", path, err);
            return 3;
        }
        memcpy(rgb + px * (size_t)i, img.rgb, px);
        sbf_image_free(&img);
    }
    float *emb = malloc((size_t)faces * NN_FACENET_DIM * sizeof(float));
    printf("model %s, kernels %s%s, %d faces x %d runs, %d face(s) per call, batch %d\n", model, nn_isa_name(),
           f16 ? " (float16 weights)" : "", faces, runs, group, batch);
    for (const char *t = threads; *t;) {
        int nt = atoi(t);
        char err[256];
        double t0 = sbf_now();
        nn_facenet *net = nn_facenet_load_ex(model, nt, f16, err, sizeof err);
        if (!net) { fprintf(stderr, "bench-facenet: %s\n", err); return 3; }
        double tload = sbf_now() - t0;
        nn_facenet_set_batch(net, batch);
        nn_facenet_embed(net, rgb, 1, emb); /* warm up */
        /* Each face is timed on its own (batch-sized groups when --batch > 1); best and median over all
         * runs x faces: the best is the least disturbed by other load on a shared machine. */
        int groups = faces / group, nt_ = runs * groups, k = 0;
        double *tw = malloc(sizeof(double) * (size_t)nt_), *tc = malloc(sizeof(double) * (size_t)nt_);
        for (int r = 0; r < runs; r++)
            for (int g = 0; g < groups; g++, k++) {
                int n = group;
                struct timespec c0, c1;
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
                double s = sbf_now();
                if (nn_facenet_embed(net, rgb + px * (size_t)(g * group), n, emb)) {
                    fprintf(stderr, "bench-facenet: embed failed\n");
                    return 3;
                }
                tw[k] = (sbf_now() - s) / n;
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
                tc[k] = ((double)(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) * 1e-9) / n;
            }
        qsort(tw, (size_t)nt_, sizeof *tw, cmp_double);
        qsort(tc, (size_t)nt_, sizeof *tc, cmp_double);
        double ms = tw[0] * 1000.0;
        printf("%s threads=%d ms_per_face=%.2f gflops=%.1f median_ms=%.2f cpu_ms_per_face=%.2f load_ms=%.0f\n",
               group > 1 ? "ours-throughput" : "ours", nn_facenet_threads(net), ms, GFLOP_PER_FACE / (ms / 1000.0), tw[nt_ / 2] * 1000.0, tc[0] * 1000.0,
               tload * 1000.0);
        free(tw);
        free(tc);
        fflush(stdout);
        nn_facenet_free(net);
        t = strchr(t, ',');
        if (!t) break;
        t++;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak_rss_mb=%.1f\n", ru.ru_maxrss / 1024.0);
    free(rgb);
    free(emb);
    return 0;
}
