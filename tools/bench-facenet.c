/* tools/bench-facenet.c — speed of our FaceNet forward pass: ms per face and GFLOP/s (2.83 GFLOP per face) at
 * the given thread counts, best of R runs of N faces each (the golden aligned crops, repeated), peak RSS.
 * usage: bench-facenet [--model FILE] [--faces N] [--runs R] [--threads 1,2] [--batch B] [--isa NAME] [--f16]
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

int main(int argc, char **argv) {
    const char *model = NULL, *threads = "1,2", *isa = NULL;
    int faces = 8, runs = 3, batch = 1, f16 = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--faces") && i + 1 < argc) faces = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--isa") && i + 1 < argc) isa = argv[++i];
        else if (!strcmp(argv[i], "--f16")) f16 = 1;
        else { fprintf(stderr, "usage: bench-facenet [--model FILE] [--faces N] [--runs R] [--threads 1,2] [--batch B] [--isa NAME] [--f16]\n"); return 2; }
    }
    if (faces < 1) faces = 1;
    if (runs < 1) runs = 1;
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
    printf("model %s, kernels %s%s, %d faces x best of %d runs, batch %d\n", model, nn_isa_name(), f16 ? " (float16 weights)" : "",
           faces, runs, batch);
    for (const char *t = threads; *t;) {
        int nt = atoi(t);
        char err[256];
        double t0 = sbf_now();
        nn_facenet *net = nn_facenet_load_ex(model, nt, f16, err, sizeof err);
        if (!net) { fprintf(stderr, "bench-facenet: %s\n", err); return 3; }
        double tload = sbf_now() - t0;
        nn_facenet_set_batch(net, batch);
        nn_facenet_embed(net, rgb, 1, emb); /* warm up */
        double best = 1e30, bestcpu = 1e30;
        for (int r = 0; r < runs; r++) {
            struct timespec c0, c1;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
            double s = sbf_now();
            if (nn_facenet_embed(net, rgb, faces, emb)) { fprintf(stderr, "bench-facenet: embed failed\n"); return 3; }
            double d = sbf_now() - s;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
            double cpu = (double)(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) * 1e-9;
            if (d < best) best = d;
            if (cpu < bestcpu) bestcpu = cpu;
        }
        double ms = best * 1000.0 / faces;
        /* cpu_ms_per_face: CPU time of all threads per face (less disturbed by other load on the machine) */
        printf("ours threads=%d ms_per_face=%.2f gflops=%.1f cpu_ms_per_face=%.2f load_ms=%.0f\n",
               nn_facenet_threads(net), ms, GFLOP_PER_FACE / (ms / 1000.0), bestcpu * 1000.0 / faces, tload * 1000.0);
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
