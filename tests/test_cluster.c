/* tests/test_cluster.c — similarity graph (every ISA level against a naive reference and each other,
 * odd sizes, threads) and Chinese Whispers (recovers synthetic identities, seeded determinism,
 * random tie-breaking, size numbering, query clustering for find). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cluster.h"
#include "nn/cpu.h"

#define DIM 512

static void normalize(float *v, int d) {
    double s = 0;
    for (int k = 0; k < d; k++) s += (double)v[k] * v[k];
    s = 1 / sqrt(s);
    for (int k = 0; k < d; k++) v[k] = (float)(v[k] * s);
}

/* n points in clusters of the given sizes: centre + noise (per-dimension sigma), normalised.
 * With sigma = 0.03 in 512-D, members of an identity have similarity ~0.68, others ~0 +- 0.05. */
static float *synth(int nclusters, const int *sizes, double sigma, uint64_t seed, int **truth, int *n_out) {
    sbf_rng r;
    sbf_rng_seed(&r, seed);
    int n = 0;
    for (int c = 0; c < nclusters; c++) n += sizes[c];
    float *e = malloc((size_t)n * DIM * sizeof *e), *cent = malloc(DIM * sizeof *cent);
    int *t = malloc((size_t)n * sizeof *t);
    /* interleave members so cluster members are not contiguous */
    int *slot = malloc((size_t)n * sizeof *slot);
    for (int i = 0; i < n; i++) slot[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)sbf_rng_below(&r, (uint32_t)i + 1), x = slot[i];
        slot[i] = slot[j];
        slot[j] = x;
    }
    int p = 0;
    for (int c = 0; c < nclusters; c++) {
        for (int k = 0; k < DIM; k++) cent[k] = (float)sbf_rng_gauss(&r);
        normalize(cent, DIM);
        for (int m = 0; m < sizes[c]; m++, p++) {
            float *v = e + (size_t)slot[p] * DIM;
            for (int k = 0; k < DIM; k++) v[k] = cent[k] + (float)(sigma * sbf_rng_gauss(&r));
            normalize(v, DIM);
            t[slot[p]] = c;
        }
    }
    free(cent);
    free(slot);
    *truth = t;
    *n_out = n;
    return e;
}

/* 1 when two labelings define the same partition. */
static int same_partition(const int *a, const int *b, int n) {
    int *ab = malloc((size_t)n * sizeof *ab), *ba = malloc((size_t)n * sizeof *ba);
    for (int i = 0; i < n; i++) ab[i] = ba[i] = -1;
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        if (a[i] >= n || b[i] >= n || a[i] < 0 || b[i] < 0) {
            ok = 0;
            break;
        }
        if (ab[a[i]] == -1) ab[a[i]] = b[i];
        if (ba[b[i]] == -1) ba[b[i]] = a[i];
        ok = ab[a[i]] == b[i] && ba[b[i]] == a[i];
    }
    free(ab);
    free(ba);
    return ok;
}

static float naive_dot(const float *a, const float *b) {
    double s = 0;
    for (int k = 0; k < DIM; k++) s += (double)a[k] * b[k];
    return (float)s;
}

/* Every ISA level this machine runs, several thread counts and sizes around the tile/task edges, against the
 * naive dot; the SIMD levels (fused multiply-adds in the same order) give the same graph bit for bit. */
static void test_graph_kernels(void **state) {
    (void)state;
    const int sizes[] = {0, 1, 2, 5, 17, 97, 193, 389}; /* 389 = 4 x 96 + 5 rows: several tasks and panel chunks */
    int tested_simd = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        int n = sizes[si];
        sbf_rng r;
        sbf_rng_seed(&r, 7 + (uint64_t)n);
        /* correlated data so a threshold of 0.3 gives plenty of edges: v = base + noise */
        float *e = malloc((size_t)(n ? n : 1) * DIM * sizeof *e), base[DIM];
        for (int k = 0; k < DIM; k++) base[k] = (float)sbf_rng_gauss(&r);
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < DIM; k++) e[(size_t)i * DIM + k] = base[k] * 0.03f + (float)(0.05 * sbf_rng_gauss(&r));
            normalize(e + (size_t)i * DIM, DIM);
        }
        const double thr = 0.25;
        float *nd = malloc((size_t)(n ? n : 1) * (n ? n : 1) * sizeof *nd);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) nd[(size_t)i * n + j] = naive_dot(e + (size_t)i * DIM, e + (size_t)j * DIM);
#define NAIVE(i, j) nd[(size_t)(i)*n + (j)]
        sbf_graph ref = {0}, simd = {0};
        for (int ki = 0; ki < NN_ISA_COUNT; ki++) {
            if (!nn_isa_runs((nn_isa)ki, nn_cpu_features())) continue;
            assert_int_equal(nn_set_isa(nn_isa_str((nn_isa)ki)), 0);
            if (ki != NN_ISA_SCALAR) tested_simd |= 1 << ki;
            for (int threads = 1; threads <= 3; threads += 2) {
                sbf_graph_opts o = {.threshold = thr, .threads = threads};
                sbf_graph g;
                assert_int_equal(sbf_graph_build(e, n, DIM, &o, &g), 0);
                assert_int_equal(g.n, n);
                /* symmetric, sorted, no self loops, each edge right by the naive dot */
                long near = 0;
                for (int i = 0; i < n; i++) {
                    for (int64_t k = g.rowptr[i]; k < g.rowptr[i + 1]; k++) {
                        int j = g.col[k];
                        assert_true(j != i);
                        if (k > g.rowptr[i]) assert_true(g.col[k - 1] < j);
                        float d = NAIVE(i, j);
                        assert_true(fabsf(d - g.w[k]) < 2e-6f);
                        assert_true(g.w[k] > (float)thr);
                    }
                    /* completeness: every pair clearly above the threshold is present */
                    int64_t k = g.rowptr[i];
                    for (int j = 0; j < n; j++) {
                        if (j == i) continue;
                        float d = NAIVE(i, j);
                        while (k < g.rowptr[i + 1] && g.col[k] < j) k++;
                        int has = k < g.rowptr[i + 1] && g.col[k] == j;
                        if (fabsf(d - (float)thr) < 2e-6f) {
                            near++;
                            continue;
                        }
                        if (has != (d > (float)thr))
                            fail_msg("n=%d %s: pair %d,%d dot %.7f edge %d", n, nn_isa_str((nn_isa)ki), i, j, d, has);
                    }
                }
                (void)near;
                if (ki != NN_ISA_SCALAR) { /* the SIMD levels: one graph, bit for bit */
                    if (!simd.rowptr) {
                        simd = g;
                        simd.col = malloc((size_t)(g.rowptr[n] ? g.rowptr[n] : 1) * sizeof *simd.col);
                        simd.w = malloc((size_t)(g.rowptr[n] ? g.rowptr[n] : 1) * sizeof *simd.w);
                        simd.rowptr = malloc(((size_t)n + 1) * sizeof *simd.rowptr);
                        memcpy(simd.col, g.col, (size_t)g.rowptr[n] * sizeof *g.col);
                        memcpy(simd.w, g.w, (size_t)g.rowptr[n] * sizeof *g.w);
                        memcpy(simd.rowptr, g.rowptr, ((size_t)n + 1) * sizeof *g.rowptr);
                    } else {
                        assert_memory_equal(simd.rowptr, g.rowptr, ((size_t)n + 1) * sizeof *g.rowptr);
                        assert_memory_equal(simd.col, g.col, (size_t)g.rowptr[n] * sizeof *g.col);
                        assert_memory_equal(simd.w, g.w, (size_t)g.rowptr[n] * sizeof *g.w);
                    }
                }
                if (ki == NN_ISA_SCALAR && threads == 1) {
                    ref = g;
                } else {
                    /* kernels agree edge for edge, except (FMA rounding) pairs within 2e-6 of T */
                    for (int i = 0; i < n; i++) {
                        int64_t a = g.rowptr[i], b = ref.rowptr[i];
                        while (a < g.rowptr[i + 1] || b < ref.rowptr[i + 1]) {
                            int ja = a < g.rowptr[i + 1] ? g.col[a] : n, jb = b < ref.rowptr[i + 1] ? ref.col[b] : n;
                            if (ja == jb) {
                                assert_true(fabsf(g.w[a] - ref.w[b]) < 1e-6f);
                                a++, b++;
                                continue;
                            }
                            int j = ja < jb ? ja : jb;
                            float d = NAIVE(i, j);
                            if (fabsf(d - (float)thr) >= 2e-6f)
                                fail_msg("kernels disagree on %d,%d (dot %.8f)", i, j, d);
                            if (ja < jb) a++;
                            else b++;
                        }
                    }
                    sbf_graph_free(&g);
                }
            }
        }
        if (n >= 97) assert_true(ref.rowptr[n] > (int64_t)n); /* the data really has edges */
        sbf_graph_free(&ref);
        sbf_graph_free(&simd);
        free(nd);
        free(e);
    }
    assert_int_equal(nn_set_isa("auto"), 0);
    printf("  graph checked at %d SIMD level(s) besides scalar\n", __builtin_popcount((unsigned)tested_simd));
#if defined(__x86_64__) || defined(__ARM_NEON)
    assert_true(tested_simd);
#endif
    (void)tested_simd;
}

static void test_recovers_identities(void **state) {
    (void)state;
    int sizes[40];
    sbf_rng r;
    sbf_rng_seed(&r, 99);
    for (int c = 0; c < 40; c++) sizes[c] = 1 + (int)sbf_rng_below(&r, 25);
    sizes[7] = 45; /* a unique largest one */
    int *truth, n;
    float *e = synth(40, sizes, 0.03, 1234, &truth, &n);
    sbf_cluster_opts o;
    sbf_cluster_opts_default(&o);
    o.graph.threshold = 0.4;
    int *lab = malloc((size_t)n * sizeof *lab), *lab2 = malloc((size_t)n * sizeof *lab2);
    int k = sbf_cluster(e, n, DIM, &o, lab, NULL);
    assert_int_equal(k, 40);
    assert_true(same_partition(lab, truth, n));
    /* numbering: 0 is the largest cluster, sizes non-increasing, ties by first member */
    int *cnt = calloc((size_t)k, sizeof *cnt), *first = malloc((size_t)k * sizeof *first);
    for (int c = 0; c < k; c++) first[c] = n;
    for (int i = 0; i < n; i++) {
        cnt[lab[i]]++;
        if (i < first[lab[i]]) first[lab[i]] = i;
    }
    assert_int_equal(cnt[0], 45);
    for (int c = 1; c < k; c++) {
        assert_true(cnt[c] <= cnt[c - 1]);
        if (cnt[c] == cnt[c - 1]) assert_true(first[c] > first[c - 1]);
    }
    /* reproducible: same seed -> same labels, whatever the thread count */
    o.graph.threads = 1;
    assert_int_equal(sbf_cluster(e, n, DIM, &o, lab2, NULL), k);
    assert_memory_equal(lab, lab2, (size_t)n * sizeof *lab);
    o.graph.threads = 3;
    assert_int_equal(sbf_cluster(e, n, DIM, &o, lab2, NULL), k);
    assert_memory_equal(lab, lab2, (size_t)n * sizeof *lab);
    /* a different seed still recovers the same partition on well separated data */
    o.seed = 5;
    assert_int_equal(sbf_cluster(e, n, DIM, &o, lab2, NULL), k);
    assert_true(same_partition(lab2, truth, n));
    /* a threshold above every similarity leaves only singletons; below all of them, one cluster */
    o.graph.threshold = 0.99;
    assert_int_equal(sbf_cluster(e, n, DIM, &o, lab2, NULL), n);
    for (int i = 0; i < n; i++) assert_int_equal(lab2[i], i); /* equal sizes: ordered by member */

    /* find: the query (a fresh noisy copy of identity 7) joins exactly identity 7 */
    float q[DIM];
    int member = -1;
    for (int i = 0; i < n; i++)
        if (truth[i] == 7) {
            member = i;
            break;
        }
    /* rebuild the centre direction from the members' mean */
    memset(q, 0, sizeof q);
    for (int i = 0; i < n; i++)
        if (truth[i] == 7)
            for (int kk = 0; kk < DIM; kk++) q[kk] += e[(size_t)i * DIM + kk];
    normalize(q, DIM);
    for (int kk = 0; kk < DIM; kk++) q[kk] += (float)(0.03 * sbf_rng_gauss(&r));
    normalize(q, DIM);
    sbf_cluster_opts_default(&o);
    o.graph.threshold = 0.4;
    int *mem;
    int nm = sbf_cluster_query(e, n, DIM, q, &o, &mem);
    assert_int_equal(nm, 45);
    for (int i = 0; i < nm; i++) assert_int_equal(truth[mem[i]], 7);
    assert_true(mem[0] == member);
    free(mem);
    /* a query unlike everyone finds nobody */
    for (int kk = 0; kk < DIM; kk++) q[kk] = (float)sbf_rng_gauss(&r);
    normalize(q, DIM);
    assert_int_equal(sbf_cluster_query(e, n, DIM, q, &o, &mem), 0);
    free(mem);
    free(cnt);
    free(first);
    free(lab);
    free(lab2);
    free(truth);
    free(e);
}

/* Hand-made graphs: the update rule, ties at random, isolated nodes. */
static void test_whispers_rule(void **state) {
    (void)state;
    /* 0-1-2 triangle (heavy) + 3-4 pair (heavy), joined by a light edge 2-3; 5 isolated */
    int64_t rp[] = {0, 2, 4, 7, 9, 10, 10};
    int col[] = {1, 2, 0, 2, 0, 1, 3, 2, 4, 3};
    float w[] = {.9f, .9f, .9f, .9f, .9f, .9f, .1f, .1f, .9f, .9f};
    sbf_graph g = {.n = 6, .rowptr = rp, .col = col, .w = w};
    int lab[6];
    for (uint64_t seed = 0; seed < 50; seed++) {
        assert_int_equal(sbf_chinese_whispers(&g, 30, seed, lab), 3);
        int want[6] = {0, 0, 0, 1, 1, 2};
        assert_memory_equal(lab, want, sizeof want);
    }
    /* a path 0-1-2 with equal weights: after one round node 1 follows 0 or 2 at random, so both
     * outcomes {0,1}{2} and {0}{1,2} (or all together) must appear over seeds */
    int64_t rp2[] = {0, 1, 3, 4};
    int col2[] = {1, 0, 2, 1};
    float w2[] = {.5f, .5f, .5f, .5f};
    sbf_graph p = {.n = 3, .rowptr = rp2, .col = col2, .w = w2};
    int seen_join_left = 0, seen_join_right = 0, seen_all = 0;
    for (uint64_t seed = 0; seed < 400; seed++) {
        int k = sbf_chinese_whispers(&p, 1, seed, lab);
        int l0 = lab[0], l1 = lab[1], l2 = lab[2];
        if (k == 1) seen_all++;
        else if (l0 == l1 && l1 != l2) seen_join_left++;
        else if (l1 == l2 && l0 != l1) seen_join_right++;
        assert_true(k <= 2 || (l0 != l1 && l1 != l2));
        /* with 1 iteration from singletons, nobody can be left alone when it has a neighbour */
        assert_true(k <= 2);
    }
    /* orders 0,1,2 / 0,2,1 / 2,0,1 etc.: each split has probability 1/12, all-together 5/6 */
    assert_true(seen_join_left > 10);
    assert_true(seen_join_right > 10);
    assert_true(seen_all > 250);
    /* zero iterations: every node its own cluster, numbered by index */
    assert_int_equal(sbf_chinese_whispers(&g, 0, 1, lab), 6);
    for (int i = 0; i < 6; i++) assert_int_equal(lab[i], i);
    /* empty graph */
    sbf_graph e0 = {.n = 0, .rowptr = rp, .col = col, .w = w};
    assert_int_equal(sbf_chinese_whispers(&e0, 5, 1, lab), 0);
}

static void test_rng(void **state) {
    (void)state;
    sbf_rng a, b;
    sbf_rng_seed(&a, 1);
    sbf_rng_seed(&b, 1);
    for (int i = 0; i < 100; i++) assert_true(sbf_rng_next(&a) == sbf_rng_next(&b));
    sbf_rng_seed(&b, 2);
    assert_true(sbf_rng_next(&a) != sbf_rng_next(&b));
    int hist[7] = {0};
    for (int i = 0; i < 70000; i++) hist[sbf_rng_below(&a, 7)]++;
    for (int i = 0; i < 7; i++) assert_true(hist[i] > 9500 && hist[i] < 10500);
}

/* The approximate graph only holds true edges (same weights) and finds nearly all of them on
 * identity-structured data. */
static void test_approx_graph(void **state) {
    (void)state;
    int sizes[200];
    sbf_rng r;
    sbf_rng_seed(&r, 5);
    for (int c = 0; c < 200; c++) sizes[c] = 1 + (int)sbf_rng_below(&r, 12);
    int *truth, n;
    float *e = synth(200, sizes, 0.035, 77, &truth, &n);
    assert_true(n >= 1024); /* the approximate path is taken from 1024 faces on */
    sbf_graph_opts o = {.threshold = 0.4};
    sbf_graph ex, ap;
    assert_int_equal(sbf_graph_build(e, n, DIM, &o, &ex), 0);
    o.approx = 1;
    assert_int_equal(sbf_graph_build(e, n, DIM, &o, &ap), 0);
    assert_int_equal(ap.n, n);
    long found = 0;
    for (int i = 0; i < n; i++) {
        int64_t k = ex.rowptr[i];
        for (int64_t a = ap.rowptr[i]; a < ap.rowptr[i + 1]; a++) {
            if (a > ap.rowptr[i]) assert_true(ap.col[a - 1] < ap.col[a]);
            while (k < ex.rowptr[i + 1] && ex.col[k] < ap.col[a]) k++;
            assert_true(k < ex.rowptr[i + 1] && ex.col[k] == ap.col[a]);
            assert_true(fabsf(ex.w[k] - ap.w[a]) < 1e-6f);
            found++;
        }
    }
    double recall = (double)found / (double)ex.rowptr[n];
    fprintf(stderr, "approx graph: %ld of %ld edges (recall %.4f)\n", found, (long)ex.rowptr[n], recall);
    assert_true(ex.rowptr[n] > 1000);
    assert_true(recall > 0.99);
    sbf_graph_free(&ex);
    sbf_graph_free(&ap);
    free(truth);
    free(e);
}

/* The progress callback of the exact graph: called from one thread, fractions rising within (0, 1],
 * reaching 1 on one thread; the graph is the same with or without it.  Past the memory guard the
 * comparison starts over: one 0, then rising again. */
typedef struct {
    int calls, bad, restarts;
    double last;
} progress_log;
static void log_progress(void *ctx, double f) {
    progress_log *l = ctx;
    if (f == 0) l->restarts++;
    else if (!(f > 0 && f <= 1.0 + 1e-12) || f < l->last) l->bad++;
    l->last = f;
    l->calls++;
}
static void test_graph_progress(void **state) {
    (void)state;
    int sizes[100];
    for (int c = 0; c < 100; c++) sizes[c] = 1 + c % 9;
    int *truth, n;
    float *e = synth(100, sizes, 0.035, 78, &truth, &n);
    for (int threads = 1; threads <= 2; threads++) {
        progress_log log = {0};
        sbf_graph_opts o = {.threshold = 0.4, .threads = threads};
        sbf_graph plain, watched;
        assert_int_equal(sbf_graph_build(e, n, DIM, &o, &plain), 0);
        o.progress = log_progress;
        o.progress_ctx = &log;
        assert_int_equal(sbf_graph_build(e, n, DIM, &o, &watched), 0);
        assert_true(log.calls >= (threads == 1 ? (n + 95) / 96 : 1)); /* every block of rows on one thread */
        assert_int_equal(log.bad, 0);
        assert_int_equal(log.restarts, 0);
        if (threads == 1) assert_true(fabs(log.last - 1.0) < 1e-12);
        assert_true(plain.rowptr[n] == watched.rowptr[n]);
        assert_memory_equal(plain.col, watched.col, (size_t)plain.rowptr[n] * sizeof *plain.col);
        sbf_graph_free(&plain);
        sbf_graph_free(&watched);
        /* over the edge limit: the capped build reports its own pass after one 0 */
        progress_log capped = {0};
        o.max_edges = 50;
        o.cap_degree = 3;
        o.progress_ctx = &capped;
        assert_int_equal(sbf_graph_build(e, n, DIM, &o, &watched), 0);
        assert_int_equal(watched.capped, 3);
        assert_int_equal(capped.restarts, 1);
        assert_int_equal(capped.bad, 0);
        if (threads == 1) assert_true(fabs(capped.last - 1.0) < 1e-12);
        sbf_graph_free(&watched);
    }
    free(truth);
    free(e);
}

/* The memory guard: a graph over max_edges is rebuilt keeping each face's cap_degree best edges above
 * T (and an edge when either end keeps it) — checked against a brute-force top-K oracle — and Chinese
 * Whispers on it still finds the identities.  Under the limit the graph stays exact. */
static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}
static void test_graph_capped(void **state) {
    (void)state;
    enum { NBIG = 3, NSMALL = 60, K = 16 };
    int sizes[NBIG + NSMALL];
    for (int c = 0; c < NBIG; c++) sizes[c] = 300;
    for (int c = 0; c < NSMALL; c++) sizes[NBIG + c] = 1 + c % 5;
    int *truth, n;
    float *e = synth(NBIG + NSMALL, sizes, 0.035, 91, &truth, &n);
    const float thr = 0.4f;
    for (int threads = 1; threads <= 2; threads++) {
        sbf_graph_opts o = {.threshold = thr, .threads = threads, .max_edges = 10000, .cap_degree = K};
        sbf_graph g, ex;
        assert_int_equal(sbf_graph_build(e, n, DIM, &o, &g), 0);
        assert_int_equal(g.capped, K);
        /* --approx over the limit falls back to the same capped graph */
        assert_true(n >= 1024);
        sbf_graph ga;
        o.approx = 1;
        assert_int_equal(sbf_graph_build(e, n, DIM, &o, &ga), 0);
        assert_int_equal(ga.capped, K);
        assert_true(ga.rowptr[n] == g.rowptr[n]);
        assert_memory_equal(ga.col, g.col, (size_t)g.rowptr[n] * sizeof *g.col);
        assert_memory_equal(ga.w, g.w, (size_t)g.rowptr[n] * sizeof *g.w);
        sbf_graph_free(&ga);
        o.approx = 0;
        o.max_edges = 100000000;
        assert_int_equal(sbf_graph_build(e, n, DIM, &o, &ex), 0);
        assert_int_equal(ex.capped, 0);
        assert_true(ex.rowptr[n] / 2 > 10 * 10000); /* the exact graph: far over the limit */
        /* oracle: each row's K-th best similarity above T (or -inf when it has fewer) */
        float *kth = malloc((size_t)n * sizeof *kth), *row = malloc((size_t)n * sizeof *row);
        for (int i = 0; i < n; i++) {
            int m = 0;
            for (int j = 0; j < n; j++) {
                if (j == i) continue;
                double d = 0;
                for (int k = 0; k < DIM; k++) d += (double)e[(size_t)i * DIM + k] * e[(size_t)j * DIM + k];
                if (d > thr) row[m++] = (float)d;
            }
            qsort(row, (size_t)m, sizeof *row, cmp_desc);
            kth[i] = m >= K ? row[K - 1] : -1e30f;
        }
        long checked = 0;
        for (int i = 0; i < n; i++) {
            int kept_own = 0;
            for (int64_t a = g.rowptr[i]; a < g.rowptr[i + 1]; a++) {
                int j = g.col[a];
                float w = g.w[a];
                if (a > g.rowptr[i]) assert_true(g.col[a - 1] < j); /* sorted, no duplicates */
                assert_true(w > thr);
                /* kept by i or by j (a tie at the K-th value within rounding may go either way) */
                assert_true(w >= kth[i] - 1e-5f || w >= kth[j] - 1e-5f);
                kept_own += w >= kth[i] + 1e-5f;
                /* symmetric, same weight */
                int found = 0;
                for (int64_t q = g.rowptr[j]; q < g.rowptr[j + 1]; q++) found |= g.col[q] == i && g.w[q] == w;
                assert_true(found);
                checked++;
            }
            /* every edge clearly in i's top K is there: count those in the exact graph */
            int want = 0;
            for (int64_t a = ex.rowptr[i]; a < ex.rowptr[i + 1]; a++) want += ex.w[a] >= kth[i] + 1e-5f;
            assert_int_equal(kept_own, want);
            assert_true(want <= K);
        }
        assert_true(checked > 2 * 3 * 300); /* the big identities kept plenty of edges */
        assert_true(g.rowptr[n] <= 2 * (int64_t)n * K);
        /* Chinese Whispers on the capped graph: each big identity is one cluster of its own */
        int *lab = malloc((size_t)n * sizeof *lab);
        assert_true(sbf_chinese_whispers(&g, 30, 7, lab) > 0);
        for (int c = 0; c < NBIG; c++) {
            int first = -1, same = 1;
            for (int i = 0; i < n; i++)
                if (truth[i] == c) {
                    if (first < 0) first = lab[i];
                    same &= lab[i] == first;
                }
            assert_true(same);
            for (int i = 0; i < n; i++)
                if (truth[i] != c) assert_int_not_equal(lab[i], first);
        }
        free(lab);
        free(kth);
        free(row);
        sbf_graph_free(&g);
        sbf_graph_free(&ex);
    }
    free(truth);
    free(e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng),           cmocka_unit_test(test_whispers_rule),
        cmocka_unit_test(test_graph_kernels), cmocka_unit_test(test_recovers_identities),
        cmocka_unit_test(test_approx_graph),  cmocka_unit_test(test_graph_progress),
        cmocka_unit_test(test_graph_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
