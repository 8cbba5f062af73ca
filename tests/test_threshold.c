/* tests/test_threshold.c — per-face thresholds (src/threshold.h): the rule's values, the look-alike
 * counts against a naive count (sizes around the task/panel edges, threads), the sampled estimate on a
 * constructed library whose counts are known exactly, independence from the order of the faces, the
 * per-face graph filter, and clustering: a small library of synthetic people whose photos are ~0.68
 * alike is split by the old fixed 0.73 and kept whole by the adaptive rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/metrics.h"
#include "src/threshold.h"

#define DIM 512

static void normalize(float *v, int d) {
    double s = 0;
    for (int k = 0; k < d; k++) s += (double)v[k] * v[k];
    s = 1 / sqrt(s);
    for (int k = 0; k < d; k++) v[k] = (float)(v[k] * s);
}
static double dot(const float *a, const float *b) {
    double s = 0;
    for (int k = 0; k < DIM; k++) s += (double)a[k] * b[k];
    return s;
}

static void test_rule_values(void **state) {
    (void)state;
    assert_true(fabs(sbf_threshold_of_lookalikes(0) - 0.60) < 1e-12);
    assert_true(fabs(sbf_threshold_of_lookalikes(9) - 0.665) < 1e-12);
    assert_true(fabs(sbf_threshold_of_lookalikes(99) - 0.73) < 1e-12);
    assert_true(fabs(sbf_threshold_of_lookalikes(999) - 0.795) < 1e-12);
    assert_true(fabs(sbf_threshold_of_lookalikes(1e9) - SBF_TFACE_MAX) < 1e-12);
    assert_true(fabs(sbf_threshold_of_lookalikes(-5) - 0.60) < 1e-12);
}

/* Exact counts (n - 1 <= sample) against a naive count, for sizes around the 4-row block, the 8-face
 * panel, the 32-panel chunk and the 64-row task, with 1 and 3 threads. */
static void test_counts_exact(void **state) {
    (void)state;
    const int sizes[] = {0, 1, 2, 5, 9, 63, 65, 130, 300};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        int n = sizes[si];
        size_t nz = n > 0 ? (size_t)n : 1;
        sbf_rng r;
        sbf_rng_seed(&r, 100 + (uint64_t)n);
        /* v = base + noise with pair similarities spread over ~0.3-0.6, so the band [0.40, 0.55] splits them */
        float *e = malloc(nz * DIM * sizeof *e), base[DIM];
        for (int k = 0; k < DIM; k++) base[k] = (float)sbf_rng_gauss(&r);
        for (int i = 0; i < n; i++) {
            double a = 0.6 + 0.5 * ((double)(sbf_rng_next(&r) >> 11) / 9007199254740992.0);
            for (int k = 0; k < DIM; k++) e[(size_t)i * DIM + k] = (float)(a * base[k] + sbf_rng_gauss(&r));
            normalize(e + (size_t)i * DIM, DIM);
        }
        float *want = malloc(nz * sizeof *want);
        char *edge = calloc(nz, 1);
        long inband = 0;
        for (int i = 0; i < n; i++) {
            int c = 0;
            for (int j = 0; j < n; j++) {
                if (j == i) continue;
                double d = dot(e + (size_t)i * DIM, e + (size_t)j * DIM);
                if (fabs(d - SBF_TFACE_BAND_LO) < 1e-5 || fabs(d - SBF_TFACE_BAND_HI) < 1e-5) edge[i] = 1;
                if (d > SBF_TFACE_BAND_LO && d < SBF_TFACE_BAND_HI) c++;
            }
            inband += c;
            want[i] = (float)sbf_threshold_of_lookalikes(c);
        }
        if (n >= 65) assert_true(inband > (long)n * (n - 1) / 10); /* the data exercise the band */
        for (int threads = 1; threads <= 3; threads += 2) {
            sbf_threshold_opts o = {.threads = threads, .sample = 1000};
            float *t = malloc(nz * sizeof *t);
            sbf_threshold_info info;
            assert_int_equal(sbf_threshold_faces(e, n, DIM, &o, t, &info), 0);
            for (int i = 0; i < n; i++)
                if (!edge[i] && t[i] != want[i])
                    fail_msg("n=%d threads=%d face %d: %.6f, want %.6f", n, threads, i, t[i], want[i]);
            if (n > 1) {
                assert_int_equal(info.compared, n - 1);
                assert_true(info.lo <= info.median && info.median <= info.hi);
                assert_non_null(strstr(info.reason, "threshold per face"));
                assert_null(strstr(info.reason, "sample"));
            }
            free(t);
        }
        free(e);
        free(want);
        free(edge);
    }
}

/* A hub and n - 1 spokes: spoke j = c * hub + s * u_j with orthonormal u_j (standard basis vectors),
 * so sim(hub, spoke) = c = 0.45 (in the band) and sim(spoke, spoke) = c^2 ~ 0.20 (outside it).  The hub
 * has n - 1 look-alikes and every spoke exactly one, counted exactly or estimated from any sample. */
static float *hub_and_spokes(int n) {
    float *e = calloc((size_t)n * DIM, sizeof *e);
    const double c = 0.45, s = sqrt(1 - c * c);
    e[0] = 1; /* the hub: e_0 */
    for (int j = 1; j < n; j++) {
        e[(size_t)j * DIM + 0] = (float)c;
        e[(size_t)j * DIM + j] = (float)s; /* u_j = e_j, j < DIM */
    }
    return e;
}

static void test_counts_sampled(void **state) {
    (void)state;
    const int n = 400;
    float *e = hub_and_spokes(n), *t = malloc((size_t)n * sizeof *t);
    sbf_threshold_info info;
    /* exact */
    assert_int_equal(sbf_threshold_faces(e, n, DIM, &(sbf_threshold_opts){.threads = 2, .sample = 1000}, t, &info), 0);
    assert_true(fabsf(t[0] - (float)sbf_threshold_of_lookalikes(n - 1)) < 1e-6f);
    for (int j = 1; j < n; j++) assert_true(fabsf(t[j] - (float)sbf_threshold_of_lookalikes(1)) < 1e-6f);
    assert_true(fabs(info.lookalikes - 1) < 1e-9);
    /* sampled: the hub's estimate is exact whatever the sample (all its others are look-alikes) */
    assert_int_equal(sbf_threshold_faces(e, n, DIM, &(sbf_threshold_opts){.threads = 2, .sample = 50}, t, &info), 0);
    assert_int_equal(info.compared, 50);
    assert_non_null(strstr(info.reason, "sample"));
    assert_true(fabsf(t[0] - (float)sbf_threshold_of_lookalikes(n - 1)) < 1e-6f);
    /* a spoke sees the hub only if the hub is in the sample: then 1 of 49 or 50 others, scaled to 399 */
    int hub_in = t[1] > 0.61f;
    for (int j = 1; j < n; j++) {
        if (hub_in)
            assert_true(t[j] > (float)sbf_threshold_of_lookalikes(399.0 / 50) - 1e-6f &&
                        t[j] < (float)sbf_threshold_of_lookalikes(399.0 / 49) + 1e-6f);
        else assert_true(fabsf(t[j] - 0.60f) < 1e-6f);
    }
    free(e);
    free(t);
}

/* The sample is chosen by the embeddings, not by their order: reversing the faces reverses the
 * thresholds. */
static void test_order_independent(void **state) {
    (void)state;
    const int n = 700;
    sbf_rng r;
    sbf_rng_seed(&r, 77);
    float *e = malloc((size_t)n * DIM * sizeof *e), *rev = malloc((size_t)n * DIM * sizeof *rev), base[DIM];
    for (int k = 0; k < DIM; k++) base[k] = (float)sbf_rng_gauss(&r);
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < DIM; k++) e[(size_t)i * DIM + k] = (float)(0.9 * base[k] + sbf_rng_gauss(&r));
        normalize(e + (size_t)i * DIM, DIM);
    }
    for (int i = 0; i < n; i++) memcpy(rev + (size_t)i * DIM, e + (size_t)(n - 1 - i) * DIM, DIM * sizeof *e);
    float *t1 = malloc((size_t)n * sizeof *t1), *t2 = malloc((size_t)n * sizeof *t2);
    sbf_threshold_opts o = {.threads = 2, .sample = 100};
    assert_int_equal(sbf_threshold_faces(e, n, DIM, &o, t1, NULL), 0);
    assert_int_equal(sbf_threshold_faces(rev, n, DIM, &o, t2, NULL), 0);
    int above = 0;
    for (int i = 0; i < n; i++) {
        assert_true(t1[i] == t2[n - 1 - i]);
        above += t1[i] > 0.62f;
    }
    assert_true(above > n / 2); /* the data do have look-alikes */
    free(e);
    free(rev);
    free(t1);
    free(t2);
}

static void test_graph_keep_faces(void **state) {
    (void)state;
    /* 0-1 (0.70), 0-2 (0.66), 1-2 (0.74), 2-3 (0.90); thresholds 0.60, 0.70, 0.80, 0.95 */
    int64_t rowptr[] = {0, 2, 4, 7, 8};
    int col[] = {1, 2, 0, 2, 0, 1, 3, 2};
    float w[] = {0.70f, 0.66f, 0.70f, 0.74f, 0.66f, 0.74f, 0.90f, 0.90f};
    sbf_graph in = {4, rowptr, col, w, 0}, out;
    const float t[] = {0.60f, 0.70f, 0.80f, 0.95f};
    assert_int_equal(sbf_graph_keep_faces(&in, t, &out), 0);
    /* kept: 0-1 (0.70 > 0.65); dropped: 0-2 (0.66 < 0.70), 1-2 (0.74 < 0.75), 2-3 (0.90 > 0.875) kept */
    int64_t want_rp[] = {0, 1, 2, 3, 4};
    int want_col[] = {1, 0, 3, 2};
    assert_int_equal(out.n, 4);
    for (int i = 0; i <= 4; i++) assert_int_equal(out.rowptr[i], want_rp[i]);
    for (int k = 0; k < 4; k++) assert_int_equal(out.col[k], want_col[k]);
    /* weighted by the margin over the pair's bar, plus SBF_TFACE_WEIGHT0 */
    assert_float_equal(out.w[0], 0.70f - 0.65f + 0.05f, 1e-6);
    assert_float_equal(out.w[2], 0.90f - 0.875f + 0.05f, 1e-6);
    assert_true(out.w[0] == out.w[1] && out.w[2] == out.w[3]);
    sbf_graph_free(&out);
}

/* Two people: A = {0, 1, 2} and B = {3, 4, 5, 6}, strong edges (0.90) inside each; face 0 also meets all four
 * faces of B just above the bar (0.61; every threshold 0.60).  Weighted by similarity, those bridges outweigh
 * face 0's two edges to its own person (4 x 0.61 > 2 x 0.90) and Chinese Whispers carries it over to B; weighted
 * by the margin (4 x 0.06 < 2 x 0.35) it stays with A. */
static void test_margin_weights_keep_bridges_weak(void **state) {
    (void)state;
    enum { N = 7 };
    int adj[N][N] = {{0}};
    float sim[N][N] = {{0}};
    const int truth[N] = {0, 0, 0, 1, 1, 1, 1};
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (i != j && truth[i] == truth[j]) adj[i][j] = 1, sim[i][j] = 0.90f;
    for (int j = 3; j < N; j++) adj[0][j] = adj[j][0] = 1, sim[0][j] = sim[j][0] = 0.61f;
    int64_t rowptr[N + 1];
    int col[N * N];
    float w[N * N];
    int m = 0;
    for (int i = 0; i < N; i++) {
        rowptr[i] = m;
        for (int j = 0; j < N; j++)
            if (adj[i][j]) col[m] = j, w[m] = sim[i][j], m++;
    }
    rowptr[N] = m;
    sbf_graph in = {N, rowptr, col, w, 0}, kept;
    float t[N];
    for (int i = 0; i < N; i++) t[i] = 0.60f;
    assert_int_equal(sbf_graph_keep_faces(&in, t, &kept), 0);
    assert_int_equal(kept.rowptr[N], m); /* every edge passes the bar */
    int lab[N];
    for (uint64_t seed = 1; seed <= 5; seed++) {
        assert_int_equal(sbf_chinese_whispers(&kept, 30, seed, lab), 2);
        for (int i = 1; i < N; i++) assert_int_equal(lab[i] == lab[0], truth[i] == truth[0]);
        sbf_chinese_whispers(&in, 30, seed, lab); /* the same graph weighted by similarity */
        assert_int_equal(lab[0], lab[3]);
    }
    sbf_graph_free(&kept);
}

/* 12 people with 6 photos each + 40 strangers; sigma 0.03 in 512-D makes photos of one person ~0.68
 * alike and of two people ~0 +- 0.05.  Such a small library has no look-alikes, so every threshold is
 * 0.60 and the people stay whole, where the old fixed 0.73 cuts most of their edges. */
static void test_cluster_small_library(void **state) {
    (void)state;
    const int people = 12, per = 6, strangers = 40, n = people * per + strangers;
    sbf_rng r;
    sbf_rng_seed(&r, 2024);
    float *e = malloc((size_t)n * DIM * sizeof *e), cent[DIM];
    int *truth = malloc((size_t)n * sizeof *truth), *lab = malloc((size_t)n * sizeof *lab);
    int i = 0;
    for (int p = 0; p < people + strangers; p++) {
        for (int k = 0; k < DIM; k++) cent[k] = (float)sbf_rng_gauss(&r);
        normalize(cent, DIM);
        for (int m = 0; m < (p < people ? per : 1); m++, i++) {
            for (int k = 0; k < DIM; k++) e[(size_t)i * DIM + k] = cent[k] + (float)(0.03 * sbf_rng_gauss(&r));
            normalize(e + (size_t)i * DIM, DIM);
            truth[i] = p;
        }
    }
    assert_int_equal(i, n);
    sbf_cluster_opts co;
    sbf_cluster_opts_default(&co);
    co.graph.threads = 2;
    float *t = malloc((size_t)n * sizeof *t);
    sbf_threshold_info ti;
    sbf_cluster_info ci;
    int k = sbf_cluster_adaptive(e, n, DIM, &co, NULL, lab, t, &ci, &ti);
    assert_int_equal(k, people + strangers);
    sbf_prf pw, bc;
    sbf_pairwise_prf(lab, truth, n, &pw);
    assert_true(pw.f == 1.0);
    assert_true(ti.lo == (float)0.60 && ti.hi == (float)0.60);
    assert_int_equal(ci.edges, people * per * (per - 1) / 2);
    /* the old default splits them */
    co.graph.threshold = 0.73;
    k = sbf_cluster(e, n, DIM, &co, lab, NULL);
    sbf_pairwise_prf(lab, truth, n, &pw);
    sbf_bcubed_prf(lab, truth, n, &bc);
    assert_true(k > people + strangers + people);
    assert_true(pw.r < 0.5 && bc.r < 0.6);
    free(e);
    free(truth);
    free(lab);
    free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_values),           cmocka_unit_test(test_counts_exact),
        cmocka_unit_test(test_counts_sampled),        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_graph_keep_faces),      cmocka_unit_test(test_margin_weights_keep_bridges_weak),
        cmocka_unit_test(test_cluster_small_library),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
