/* tools/bench-facenet.c — speed of our FaceNet forward pass: ms per face and GFLOP/s (2.83 GFLOP per face) at
 * the given thread counts: each face timed alone, best (and median) of R runs x N faces (the golden aligned
 * crops, repeated), peak RSS.
 * usage: bench-facenet [--model FILE] [--compare FILE2] [--faces N] [--runs R] [--threads 1,2] [--batch B] [--group G]
 *                      [--isa NAME] [--f16] [--direct | --compare-direct]
 * --group G: faces per nn_facenet_embed call (default 1 = latency of one face; with G >= threads whole faces
 *   run in parallel, one per thread: throughput).  --batch B: faces per pass through the network.
 * --compare FILE2: a second model (e.g. the int8 file) timed in the same process, face by face alternately with
 *   the first, so load from other processes hits both alike; prints both and their ratio.
 * --direct: the 3x3 stride-1 convolutions run directly, not as Winograd F(4x4, 3x3) (nn/wino.h; an int8 model:
 *   not as exact integer Winograd F(2x2, 3x3), nn/qwino.h).
 * --compare-direct: the model against itself run directly (as --compare; also prints the lowest cosine between
 *   the two embeddings of a face).
 * --isa: the float ISA (scalar, avx2, avx512, neon); the int8 kernels follow it (avx512 -> VNNI when present).
 * Prints one line per thread count:  ours threads=T ms_per_face=X gflops=Y  (and a final rss line); with
 * --compare "ours-<precision> threads=..." for each model and "ratio threads=T <p2>/<p1> = R". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "nn/facenet.h"
#include "nn/qgemm.h"
#include "src/image.h"
#include "src/models.h"
#include "src/util.h"

#define GFLOP_PER_FACE 2.83

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void stats(const char *label, int threads, double *tw, double *tc, int n, double tload, double *best) {
    qsort(tw, (size_t)n, sizeof *tw, cmp_double);
    qsort(tc, (size_t)n, sizeof *tc, cmp_double);
    double ms = tw[0] * 1000.0;
    printf("%s threads=%d ms_per_face=%.2f gflops=%.1f median_ms=%.2f cpu_ms_per_face=%.2f load_ms=%.0f\n", label,
           threads, ms, GFLOP_PER_FACE / (ms / 1000.0), tw[n / 2] * 1000.0, tc[0] * 1000.0, tload * 1000.0);
    *best = ms;
}

int main(int argc, char **argv) {
    const char *model = NULL, *threads = "1,2", *isa = NULL, *model2 = NULL;
    int faces = 10, runs = 5, batch = 1, f16 = 0, group = 1, direct = 0, cmp_direct = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--compare") && i + 1 < argc) model2 = argv[++i];
        else if (!strcmp(argv[i], "--faces") && i + 1 < argc) faces = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--group") && i + 1 < argc) group = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--isa") && i + 1 < argc) isa = argv[++i];
        else if (!strcmp(argv[i], "--f16")) f16 = 1;
        else if (!strcmp(argv[i], "--direct")) direct = 1;
        else if (!strcmp(argv[i], "--compare-direct")) cmp_direct = 1;
        else {
            fprintf(stderr, "usage: bench-facenet [--model FILE] [--compare FILE2] [--faces N] [--runs R] [--threads "
                            "1,2] [--batch B] [--group G] [--isa NAME] [--f16] [--direct | --compare-direct]\n");
            return 2;
        }
    }
    if (faces < 1) faces = 1;
    if (runs < 1) runs = 1;
    if (group < 1) group = 1;
    if (batch < 1) batch = 1;
    faces = (faces + group - 1) / group * group;
    if (!model) model = sbf_model_path(SBF_FACENET_FILE);
    if (cmp_direct) model2 = model;
    if (isa && nn_set_isa(isa)) {
        fprintf(stderr, "bench-facenet: kernel flavour %s not available\n", isa);
        return 2;
    }
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
    float *emb2 = malloc((size_t)faces * NN_FACENET_DIM * sizeof(float));
    printf("model %s%s%s, kernels %s (int8: %s)%s, %d faces x %d runs, %d face(s) per call, batch %d\n", model,
           model2 ? " vs " : "", model2 ? model2 : "", nn_isa_name(), nn_qkern()->name, f16 ? " (float16 weights)" : "",
           faces, runs, group, batch);
    for (const char *t = threads; *t;) {
        int nt = atoi(t), nm = model2 ? 2 : 1;
        char err[256];
        nn_facenet *net[2] = {NULL, NULL};
        double tload[2] = {0, 0};
        for (int m = 0; m < nm; m++) {
            double t0 = sbf_now();
            const int fl = (f16 ? NN_FACENET_F16 : 0) | (direct || (m && cmp_direct) ? NN_FACENET_DIRECT : 0);
            net[m] = nn_facenet_load_ex(m ? model2 : model, nt, fl, err, sizeof err);
            if (!net[m]) {
                fprintf(stderr, "bench-facenet: %s\n", err);
                return 3;
            }
            tload[m] = sbf_now() - t0;
            nn_facenet_set_batch(net[m], batch);
            nn_facenet_embed(net[m], rgb, 1, emb); /* warm up */
        }
        /* Each face is timed on its own (batch-sized groups when --batch > 1); best and median over all
         * runs x faces: the best is the least disturbed by other load on a shared machine.  Two models
         * alternate face by face. */
        int groups = faces / group, nt_ = runs * groups, k = 0;
        double *tw = malloc(sizeof(double) * (size_t)nt_ * 2), *tc = malloc(sizeof(double) * (size_t)nt_ * 2);
        for (int r = 0; r < runs; r++)
            for (int g = 0; g < groups; g++, k++)
                for (int m = 0; m < nm; m++) {
                    int n = group;
                    struct timespec c0, c1;
                    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
                    double s = sbf_now();
                    if (nn_facenet_embed(net[m], rgb + px * (size_t)(g * group), n, emb)) {
                        fprintf(stderr, "bench-facenet: embed failed\n");
                        return 3;
                    }
                    tw[m * nt_ + k] = (sbf_now() - s) / n;
                    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
                    tc[m * nt_ + k] = ((double)(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) * 1e-9) / n;
                }
        double best[2];
        for (int m = 0; m < nm; m++) {
            char label[64];
            if (cmp_direct)
                snprintf(label, sizeof label, "ours-%s%s", m ? "direct" : "winograd", group > 1 ? "-throughput" : "");
            else if (model2)
                snprintf(label, sizeof label, "ours-%s%s", nn_facenet_precision(net[m]),
                         group > 1 ? "-throughput" : "");
            else snprintf(label, sizeof label, "%s", group > 1 ? "ours-throughput" : "ours");
            stats(label, nn_facenet_threads(net[m]), tw + m * nt_, tc + m * nt_, nt_, tload[m], &best[m]);
        }
        if (cmp_direct) {
            double lo = 2;
            nn_facenet_embed(net[0], rgb, faces, emb);
            nn_facenet_embed(net[1], rgb, faces, emb2);
            for (int i = 0; i < faces; i++) {
                double d = 0;
                for (int j = 0; j < NN_FACENET_DIM; j++)
                    d += (double)emb[i * NN_FACENET_DIM + j] * emb2[i * NN_FACENET_DIM + j];
                if (d < lo) lo = d;
            }
            printf("ratio threads=%d winograd/direct = %.3f%s (kernels %s); lowest cosine between them %.9f\n",
                   nn_facenet_threads(net[0]), best[0] / best[1], group > 1 ? " throughput" : "", nn_isa_name(), lo);
        } else if (model2)
            printf("ratio threads=%d %s/%s = %.2f%s (kernels %s, int8 %s)\n", nn_facenet_threads(net[0]),
                   nn_facenet_precision(net[1]), nn_facenet_precision(net[0]), best[1] / best[0],
                   group > 1 ? " throughput" : "", nn_isa_name(), nn_qkern()->name);
        free(tw);
        free(tc);
        fflush(stdout);
        for (int m = 0; m < nm; m++) nn_facenet_free(net[m]);
        t = strchr(t, ',');
        if (!t) break;
        t++;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak_rss_mb=%.1f\n", ru.ru_maxrss / 1024.0);
    free(rgb);
    free(emb);
    free(emb2);
    return 0;
}
