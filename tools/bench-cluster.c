/* tools/bench-cluster.c — times graph + Chinese Whispers on synthetic identity-structured 512-D
 * embeddings (10,000 and 100,000 faces, 1 and 2 threads) at the ISA level in force (the best, or
 * SORTBYFACE_ISA), against the scalar level measured in the same run, and the approximate graph against
 * the exact one.
 *
 *   build/native/tools/bench-cluster [--sizes 10000,100000] [--threads 1,2] [--exact-max N]
 *                                    [--scalar-max N] [-t T] [--itr N]
 *   build/native/tools/bench-cluster --store N    (database write/open/load time for N faces)
 *   build/native/tools/bench-cluster --family P --sizes N [--exact-max N]
 *       a family library: N faces of only P people (every pair of one person's faces an edge), which
 *       passes the graph's edge limit, so the capped graph is timed; peak memory is printed
 *
 * Exact all-pairs runs for sizes <= --exact-max (default 20000; pass 100000 to time it, ~1 min),
 * the scalar peer for sizes <= --scalar-max (default 10000), --approx for sizes >= 10000. */
#include "src/cluster.h"
#include "nn/cpu.h"
#include "src/store.h"
#include "src/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define DIM 512

/* Identities with a long-tailed size distribution (like a photo library: a few people in many
 * photos, many in one or two): size = 1 + floor(60 * u^4).  Within an identity similarity ~0.6. */
static float *synth(int n, uint64_t seed, int family, int *nid) {
    sbf_rng r;
    sbf_rng_seed(&r, seed);
    float *e = malloc((size_t)n * DIM * sizeof *e), c[DIM];
    int i = 0, ids = 0;
    while (i < n) {
        double u = (double)(sbf_rng_next(&r) >> 11) / 9007199254740992.0;
        int sz = family > 0 ? (n + family - 1) / family : 1 + (int)(60 * u * u * u * u);
        double s = 0;
        for (int k = 0; k < DIM; k++) {
            c[k] = (float)sbf_rng_gauss(&r);
            s += (double)c[k] * c[k];
        }
        for (int k = 0; k < DIM; k++) c[k] = (float)(c[k] / sqrt(s));
        for (int m = 0; m < sz && i < n; m++, i++) {
            float *v = e + (size_t)i * DIM;
            double t = 0;
            for (int k = 0; k < DIM; k++) {
                v[k] = c[k] + (float)(0.0355 * sbf_rng_gauss(&r));
                t += (double)v[k] * v[k];
            }
            for (int k = 0; k < DIM; k++) v[k] = (float)(v[k] / sqrt(t));
        }
        ids++;
    }
    /* shuffle rows so identities are not contiguous */
    float *tmp = malloc(DIM * sizeof *tmp);
    for (int a = n - 1; a > 0; a--) {
        int b = (int)sbf_rng_below(&r, (uint32_t)a + 1);
        memcpy(tmp, e + (size_t)a * DIM, DIM * sizeof *tmp);
        memcpy(e + (size_t)a * DIM, e + (size_t)b * DIM, DIM * sizeof *tmp);
        memcpy(e + (size_t)b * DIM, tmp, DIM * sizeof *tmp);
    }
    free(tmp);
    *nid = ids;
    return e;
}

static int parse_list(const char *s, int *out, int max) {
    int k = 0;
    while (*s && k < max) {
        out[k++] = atoi(s);
        const char *c = strchr(s, ',');
        if (!c) break;
        s = c + 1;
    }
    return k;
}

typedef struct {
    double graph, cw, cpu;
    long edges;
    int clusters, capped;
} run_result;

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One graph + Chinese Whispers at the ISA level isa ("scalar"), or the one in force (NULL). */
static run_result run(const float *e, int n, const char *isa, int threads, int approx, double thr, int itr,
                      int *labels) {
    sbf_graph_opts o = {.threshold = thr, .threads = threads, .approx = approx};
    if (isa && nn_set_isa(isa)) {
        fprintf(stderr, "ISA level %s not available\n", isa);
        exit(1);
    }
    sbf_graph g;
    run_result r = {0};
    double c0 = cpu_now(), t0 = sbf_now();
    if (sbf_graph_build(e, n, DIM, &o, &g)) {
        fprintf(stderr, "graph build failed\n");
        exit(1);
    }
    double t1 = sbf_now();
    if (isa) nn_set_isa("auto");
    r.cpu = cpu_now() - c0;
    r.clusters = sbf_chinese_whispers(&g, itr, SBF_DEFAULT_SEED, labels);
    r.cw = sbf_now() - t1;
    r.graph = t1 - t0;
    r.edges = (long)(g.rowptr[n] / 2);
    r.capped = g.capped;
    sbf_graph_free(&g);
    return r;
}

/* Pairwise agreement of two clusterings on sampled pairs (fraction of pairs judged alike). */
static double agreement(const int *a, const int *b, int n) {
    sbf_rng r;
    sbf_rng_seed(&r, 3);
    long same = 0, tot = 0;
    for (int s = 0; s < 2000000; s++) {
        int i = (int)sbf_rng_below(&r, (uint32_t)n), j = (int)sbf_rng_below(&r, (uint32_t)n);
        if (i == j) continue;
        tot++;
        same += (a[i] == a[j]) == (b[i] == b[j]);
    }
    return (double)same / (double)tot;
}

/* Writes a database of n faces (2 per photo) to a temp file and times writing, opening and loading. */
static void bench_store(int n, int f16) {
    char path[] = "/tmp/sbf-bench-store-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        return;
    }
    close(fd);
    unlink(path);
    char err[512];
    int nid;
    float *e = synth(n, 5, 0, &nid);
    double t0 = sbf_now();
    sbf_store *s = sbf_store_open(path, SBF_STORE_WRITE | (f16 ? SBF_STORE_F16 : 0), err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    static sbf_face_rec fr[2];
    char name[64];
    for (int i = 0; i < n; i += 2) {
        int nf = i + 1 < n ? 2 : 1;
        for (int k = 0; k < nf; k++) {
            fr[k].index = k;
            memcpy(fr[k].emb, e + (size_t)(i + k) * DIM, DIM * sizeof(float));
        }
        snprintf(name, sizeof name, "photos/%06d/IMG_%06d.jpg", i / 1000, i);
        sbf_photo_meta m = {name, 1000 + i, 1000000000LL * i, 4000, 3000, NULL};
        if (sbf_store_put(s, &m, nf, fr, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            exit(1);
        }
    }
    sbf_store_close(s);
    double t1 = sbf_now();
    s = sbf_store_open(path, SBF_STORE_READ, err, sizeof err);
    double t2 = sbf_now();
    sbf_faceset fs;
    if (!s || sbf_store_faceset(s, &fs, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    double t3 = sbf_now();
    sbf_store_stats st;
    sbf_store_get_stats(s, &st);
    printf("store %s: %d faces, %.1f MB: write %.2f s, open+verify %.3f s, face set %.3f s\n", f16 ? "f16" : "f32",
           fs.nfaces, st.file_bytes / 1e6, t1 - t0, t2 - t1, t3 - t2);
    sbf_faceset_free(&fs);
    sbf_store_close(s);
    unlink(path);
    free(e);
}

int main(int argc, char **argv) {
    int sizes[8] = {10000, 100000}, nsizes = 2, threads[8] = {1, 2}, nthreads = 2;
    int exact_max = 20000, scalar_max = 10000, itr = SBF_DEFAULT_ITERATIONS, family = 0;
    double thr = 0.5; /* the synthetic identities are made for T = 0.5 (within ~0.6, across ~0) */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sizes") && i + 1 < argc) nsizes = parse_list(argv[++i], sizes, 8);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) nthreads = parse_list(argv[++i], threads, 8);
        else if (!strcmp(argv[i], "--exact-max") && i + 1 < argc) exact_max = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--scalar-max") && i + 1 < argc) scalar_max = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-t") && i + 1 < argc) thr = atof(argv[++i]);
        else if (!strcmp(argv[i], "--itr") && i + 1 < argc) itr = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--family") && i + 1 < argc) family = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--store") && i + 1 < argc) {
            int n = atoi(argv[++i]);
            bench_store(n, 0);
            bench_store(n, 1);
            return 0;
        } else {
            fprintf(stderr,
                    "usage: %s [--sizes N,N] [--threads T,T] [--exact-max N] [--scalar-max N] [-t T] [--itr N] "
                    "[--family P]\n",
                    argv[0]);
            return 2;
        }
    }
    printf("bench-cluster: kernel %s, threshold %.2f, %d iterations, dim %d (cpu = process CPU seconds of the graph: "
           "on a\n"
           "  busy machine wall time exceeds cpu / threads)\n",
           nn_isa_name(), thr, itr, DIM);
    for (int si = 0; si < nsizes; si++) {
        int n = sizes[si], nid;
        float *e = synth(n, 1000 + (uint64_t)n, family, &nid);
        int *lab = malloc((size_t)n * sizeof *lab), *lab2 = malloc((size_t)n * sizeof *lab2);
        printf("n=%d faces (%d synthetic identities)\n", n, nid);
        for (int ti = 0; ti < nthreads; ti++) {
            int t = threads[ti];
            run_result ex = {0}, sc = {0};
            if (n <= exact_max) {
                ex = run(e, n, NULL, t, 0, thr, itr, lab);
                printf("  threads=%d exact  %-6s graph %8.3f s (cpu %7.3f s)  cw %6.3f s  total %8.3f s  edges %ld "
                       "clusters %d%s\n",
                       t, nn_isa_name(), ex.graph, ex.cpu, ex.cw, ex.graph + ex.cw, ex.edges, ex.clusters,
                       ex.capped ? "  (capped: over the edge limit)" : "");
            }
            if (n <= scalar_max) {
                sc = run(e, n, "scalar", t, 0, thr, itr, lab2);
                printf("  threads=%d exact  scalar graph %8.3f s (cpu %7.3f s)  cw %6.3f s  total %8.3f s  edges %ld "
                       "clusters %d  -> simd graph speedup x%.1f (cpu x%.1f)\n",
                       t, sc.graph, sc.cpu, sc.cw, sc.graph + sc.cw, sc.edges, sc.clusters, sc.graph / ex.graph,
                       sc.cpu / ex.cpu);
            }
            if (n >= 10000 && !family) {
                run_result ap = run(e, n, NULL, t, 1, thr, itr, lab2);
                printf("  threads=%d approx %-6s graph %8.3f s (cpu %7.3f s)  cw %6.3f s  total %8.3f s  edges %ld "
                       "clusters %d",
                       t, nn_isa_name(), ap.graph, ap.cpu, ap.cw, ap.graph + ap.cw, ap.edges, ap.clusters);
                if (ex.edges)
                    printf("  edge recall %.4f, pair agreement with exact %.5f, speedup x%.1f",
                           (double)ap.edges / (double)ex.edges, agreement(lab, lab2, n), ex.graph / ap.graph);
                printf("\n");
            }
        }
        free(lab);
        free(lab2);
        free(e);
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) printf("peak resident memory %.0f MB\n", ru.ru_maxrss / 1024.0);
    return 0;
}
