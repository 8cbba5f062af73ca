/* tests/test_merge.c — the learned merge of clusters (src/merge.h): its features against a brute-force
 * computation from the embeddings, the greedy join (a person in two looks that the raised rule leaves in two
 * clusters is joined, a look-alike stays apart; a veto holds; the lower label lives on; training sees the
 * candidates), and the default clustering (sbf_cluster_merged) against the rule alone on the same library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/merge.h"
#include "src/metrics.h"

#include "tests/helpers/looks.h"

#define D LOOKS_DIM
#define PER LOOKS_PER
#define STRANGERS LOOKS_STRANGERS
#define N LOOKS_N
#define library looks_library
#define dot looks_dot

typedef struct {
    float *e, t[N];
    int truth[N], start[N];
    sbf_graph g;
    sbf_merge m;
} fixture;

static void fixture_make(fixture *f) {
    f->e = library(f->truth, f->start);
    assert_int_equal(sbf_threshold_faces(f->e, N, D, NULL, f->t, NULL), 0);
    sbf_graph_opts go = {.threshold = SBF_MERGE_CMIN, .threads = 2};
    assert_int_equal(sbf_graph_build(f->e, N, D, &go, &f->g), 0);
    assert_int_equal(sbf_merge_init(&f->m, &f->g, f->e, N, D, f->t, f->start, N), 0);
}
static void fixture_free(fixture *f) {
    sbf_merge_free(&f->m);
    sbf_graph_free(&f->g);
    free(f->e);
}

/* Every feature of every pair of start clusters with a similarity of at least SBF_MERGE_CMIN, from the
 * embeddings directly (all pairs, in double). */
static void test_features_brute_force(void **state) {
    (void)state;
    fixture f;
    fixture_make(&f);
    double *sim = malloc((size_t)N * N * sizeof *sim);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) sim[i * N + j] = dot(f.e + (size_t)i * D, f.e + (size_t)j * D);
    int checked = 0;
    for (int a = 0; a < N; a++)
        for (int b = 0; b < N; b++) {
            if (a == b) continue;
            int na = 0, nb = 0, s = f.m.sz[a] <= f.m.sz[b] ? a : b, l = s == a ? b : a;
            double mx = -1, cross = 0, win = 0, lk = 0, cov = 0, hi = 0, above = 0, margin = -1;
            for (int i = 0; i < N; i++) {
                na += f.start[i] == a, nb += f.start[i] == b;
                if (f.start[i] == a || f.start[i] == b) lk += (f.t[i] - SBF_TFACE_BASE) / SBF_TFACE_SLOPE;
            }
            int pairs_in = na * (na - 1) / 2 + nb * (nb - 1) / 2;
            for (int i = 0; i < N; i++)
                for (int j = 0; j < N; j++) {
                    double d = sim[i * N + j];
                    if (i < j && f.start[i] == f.start[j] && (f.start[i] == a || f.start[i] == b)) win += d;
                    if (f.start[i] != a || f.start[j] != b) continue;
                    cross += d;
                    if (d > SBF_MERGE_CMIN && d > mx) mx = d;
                    hi += d > SBF_MERGE_CMIN && d > SBF_TFACE_BAND_HI;
                    double over = d - 0.5 * (f.t[i] + f.t[j]);
                    if (d > SBF_MERGE_CMIN) above += over > 0, margin = fmax(margin, over);
                }
            for (int i = 0; i < N; i++) {
                if (f.start[i] != s) continue;
                double best = SBF_MERGE_CMIN;
                for (int j = 0; j < N; j++)
                    if (f.start[j] == l) {
                        double d = sim[i * N + j];
                        if (d > SBF_MERGE_CMIN && d > best) best = d;
                    }
                cov += best;
            }
            double x[SBF_MERGE_NX];
            int cand = sbf_merge_features(&f.m, a, b, x);
            assert_int_equal(cand, mx >= SBF_MERGE_CMIN);
            if (!cand) continue;
            checked++;
            double mean = cross / ((double)na * nb), kbar = lk / (na + nb);
            const double want[SBF_MERGE_NX] = {1,
                                               mx,
                                               mean,
                                               pairs_in ? mean - win / pairs_in : 0,
                                               pairs_in > 0,
                                               log1p(fmin(na, nb)),
                                               log1p(fmax(na, nb)),
                                               kbar,
                                               log10((double)N),
                                               mx * kbar,
                                               cov / f.m.sz[s],
                                               hi / ((double)na * nb),
                                               above / ((double)na * nb),
                                               margin};
            for (int k = 0; k < SBF_MERGE_NX; k++) assert_float_equal(x[k], want[k], 2e-5);
        }
    /* P's two looks, Q with each (both ways round), and no pair with a stranger */
    assert_int_equal(checked, 6);
    free(sim);

    fixture_free(&f);
}

static int veto_01(void *ctx, const sbf_merge *m, int a, int b) {
    (void)m;
    ++*(int *)ctx;
    return !((a == 0 && b == 1) || (a == 1 && b == 0));
}
static void seen_count(void *ctx, const sbf_merge *m, int a, int b) {
    (void)m, (void)a, (void)b;
    ++*(int *)ctx;
}

static void test_greedy(void **state) {
    (void)state;
    fixture f;
    fixture_make(&f);
    double x[SBF_MERGE_NX];
    /* the two looks score above the cut, Q below */
    assert_true(sbf_merge_features(&f.m, 0, 1, x) && sbf_merge_score(&sbf_merge_default, x) > SBF_MERGE_CUT + 0.5);
    assert_true(sbf_merge_features(&f.m, 0, 2, x) && sbf_merge_score(&sbf_merge_default, x) < SBF_MERGE_CUT - 3);
    assert_true(sbf_merge_features(&f.m, 1, 2, x) && sbf_merge_score(&sbf_merge_default, x) < SBF_MERGE_CUT - 3);
    assert_int_equal(sbf_merge_neighbours(&f.m, 0, 0), 2); /* B and Q */
    assert_int_equal(sbf_merge_greedy(&f.m, &sbf_merge_default, SBF_MERGE_CUT, NULL, NULL, NULL), 1);
    for (int i = 0; i < N; i++) assert_int_equal(f.m.lab[i], i < 2 * PER ? 0 : f.start[i]); /* label 0 lives on */
    assert_int_equal(f.m.sz[0], 2 * PER);
    assert_int_equal(f.m.sz[1], 0);
    int k = 0;
    for (int i = f.m.head[0]; i >= 0; i = f.m.next[i]) k++;
    assert_int_equal(k, 2 * PER);
    sbf_merge_free(&f.m);
    /* a veto holds; the vetoed pair was asked about */
    int asked = 0, seen = 0;
    assert_int_equal(sbf_merge_init(&f.m, &f.g, f.e, N, D, f.t, f.start, N), 0);
    assert_int_equal(sbf_merge_greedy(&f.m, &sbf_merge_default, SBF_MERGE_CUT, veto_01, NULL, &asked), 0);
    assert_true(asked >= 1);
    for (int i = 0; i < N; i++) assert_int_equal(f.m.lab[i], f.start[i]);
    sbf_merge_free(&f.m);
    /* training: the candidates down to cut - 2 are shown (the join, nothing of Q's, which is far below) */
    assert_int_equal(sbf_merge_init(&f.m, &f.g, f.e, N, D, f.t, f.start, N), 0);
    assert_int_equal(sbf_merge_greedy(&f.m, &sbf_merge_default, SBF_MERGE_CUT, NULL, seen_count, &seen), 1);
    assert_int_equal(seen, 1);
    fixture_free(&f);
}

/* The default clustering: P whole, Q and every stranger alone; the rule alone leaves P's looks apart. */
static void test_cluster_merged(void **state) {
    (void)state;
    int truth[N], start[N], lab[N], lab2[N];
    float *e = library(truth, start), t[N];
    sbf_cluster_opts co;
    sbf_cluster_opts_default(&co);
    co.graph.threads = 2;
    sbf_threshold_info ti;
    sbf_cluster_info ci;
    assert_int_equal(sbf_cluster_merged(e, N, D, &co, NULL, lab, t, &ci, &ti), 2 + STRANGERS);
    sbf_prf pw;
    sbf_pairwise_prf(lab, truth, N, &pw);
    assert_true(pw.f == 1.0);
    assert_int_equal(lab[0], 0); /* numbered by size */
    assert_non_null(strstr(ti.reason, "then 1 pair of clusters joined"));
    assert_true(ci.edges > 0);
    for (int i = 0; i < N; i++) assert_true(t[i] >= SBF_TFACE_BASE - 1e-6 && t[i] <= SBF_TFACE_MAX + 1e-6);
    assert_int_equal(sbf_cluster_adaptive(e, N, D, &co, NULL, lab2, NULL, NULL, NULL), 3 + STRANGERS);
    assert_true(lab2[0] != lab2[PER]);
    assert_int_equal(sbf_cluster_merged(e, 0, D, &co, NULL, lab, NULL, NULL, &ti), 0);
    free(e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_brute_force),
        cmocka_unit_test(test_greedy),
        cmocka_unit_test(test_cluster_merged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
