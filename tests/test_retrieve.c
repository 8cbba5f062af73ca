/* tests/test_retrieve.c — find's retrieval (src/retrieve.h) on a constructed library whose similarities
 * are known exactly (orthonormal directions): person A = 6 photos 0.65 alike (one cluster at the small
 * library's threshold 0.60), a photo B of A's look that has no edge to any of them (0.58) but is 0.68
 * like their mean, 20 strangers (similarity 0); a query Q 0.585 like one photo of A (no edge: below 0.60)
 * and 0.38 like the others.  Checks each step (own cluster, closest match's cluster within the margin,
 * query expansion; on the rule's clustering alone, sbf_cluster_adaptive), several queries used together, the
 * "nothing passes" report with the closest faces, and that sbf_retrieve (clustering included) agrees with
 * sbf_retrieve_nodes on the default clustering (sbf_cluster_merged). */
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
#include "src/retrieve.h"

#define DIM 512
/* library layout */
#define NA 6
#define B_IDX NA /* 6 */
#define NSTR 20
#define NLIB (NA + 1 + NSTR) /* 27 */

static void put(float *v, int axis, double x) { v[axis] = (float)x; }

/* the library, then Q (node NLIB) and Q2 (node NLIB + 1) */
static float *build(void) {
    float *e = calloc((size_t)(NLIB + 2) * DIM, sizeof *e);
    const double al = sqrt(0.65), be = sqrt(0.35);
    for (int m = 0; m < NA; m++) {
        put(e + (size_t)m * DIM, 0, al);
        put(e + (size_t)m * DIM, 1 + m, be);
    }
    put(e + (size_t)B_IDX * DIM, 0, 0.72);
    put(e + (size_t)B_IDX * DIM, 60, sqrt(1 - 0.72 * 0.72));
    for (int s = 0; s < NSTR; s++) put(e + (size_t)(NA + 1 + s) * DIM, 100 + s, 1);
    /* Q = 0.585 * A_0 + sqrt(1 - 0.585^2) * e_50 */
    float *q = e + (size_t)NLIB * DIM;
    const double g = 0.585;
    for (int k = 0; k < DIM; k++) q[k] = (float)(g * e[k]);
    put(q, 50, sqrt(1 - g * g));
    /* Q2: another photo of A, 0.65 like each of them */
    put(e + (size_t)(NLIB + 1) * DIM, 0, al);
    put(e + (size_t)(NLIB + 1) * DIM, 70, be);
    return e;
}

/* cluster the first n nodes with the adaptive thresholds */
static void cluster(const float *e, int n, int *labels, float *t) {
    sbf_cluster_opts co;
    sbf_cluster_opts_default(&co);
    co.graph.threads = 1;
    assert_true(sbf_cluster_adaptive(e, n, DIM, &co, NULL, labels, t, NULL, NULL) >= 0);
}

static void test_steps(void **state) {
    (void)state;
    float *e = build(), t[NLIB + 2];
    int labels[NLIB + 2];
    cluster(e, NLIB + 1, labels, t);                                  /* library + Q */
    for (int i = 0; i <= NLIB; i++) assert_true(t[i] == (float)0.60); /* no look-alikes: all at the base */
    for (int m = 1; m < NA; m++) assert_int_equal(labels[m], labels[0]);
    assert_true(labels[B_IDX] != labels[0] && labels[NLIB] != labels[0]);
    int qn = NLIB;
    sbf_retrieve_opts o;
    sbf_retrieve_opts_default(&o);
    sbf_retrieval r;
    /* default: Q's closest match (0.585 > 0.60 - 0.03) brings A's cluster, whose mean brings B */
    assert_int_equal(sbf_retrieve_nodes(e, NLIB + 1, DIM, labels, t, &qn, 1, &o, &r), 0);
    assert_int_equal(r.nfaces, NA + 1);
    for (int i = 0; i <= NA; i++) assert_int_equal(r.faces[i], i);
    assert_int_equal(r.from_cluster, 0);
    assert_int_equal(r.from_neighbour, NA);
    assert_int_equal(r.from_mean, 1);
    assert_non_null(strstr(r.reason, "7 faces"));
    assert_int_equal(r.closest[0], 0);
    assert_true(fabsf(r.closest_sim[0] - 0.585f) < 1e-5f);
    sbf_retrieval_free(&r);
    /* without expansion: A only */
    o.expand_margin = 2;
    assert_int_equal(sbf_retrieve_nodes(e, NLIB + 1, DIM, labels, t, &qn, 1, &o, &r), 0);
    assert_int_equal(r.nfaces, NA);
    assert_int_equal(r.from_mean, 0);
    sbf_retrieval_free(&r);
    /* a margin of 0: 0.585 < 0.60, nothing passes; the closest faces are reported, best first */
    o.nn_margin = 0;
    o.expand_margin = SBF_RETRIEVE_EXPAND_MARGIN;
    o.closest = 3;
    assert_int_equal(sbf_retrieve_nodes(e, NLIB + 1, DIM, labels, t, &qn, 1, &o, &r), 0);
    assert_int_equal(r.nfaces, 0);
    assert_int_equal(r.nclosest, 3);
    assert_int_equal(r.closest[0], 0);
    assert_true(fabsf(r.closest_sim[0] - 0.585f) < 1e-5f);
    assert_true(fabsf(r.closest_sim[1] - 0.38025f) < 1e-5f && fabsf(r.closest_sim[2] - 0.38025f) < 1e-5f);
    assert_true(r.closest[1] >= 1 && r.closest[1] < NA && r.closest[2] >= 1 && r.closest[2] < NA);
    assert_non_null(
        strstr(r.reason, "no face passes: the closest has similarity 0.585, below the query's threshold 0.600"));
    sbf_retrieval_free(&r);
    free(e);
}

/* Q alone finds nothing with the neighbour step off; Q with Q2 (in A's cluster) finds A and B. */
static void test_several_queries(void **state) {
    (void)state;
    float *e = build(), t[NLIB + 2];
    int labels[NLIB + 2];
    cluster(e, NLIB + 2, labels, t);
    assert_int_equal(labels[NLIB + 1], labels[0]);
    sbf_retrieve_opts o;
    sbf_retrieve_opts_default(&o);
    o.nn_margin = -1;
    sbf_retrieval r;
    int one = NLIB, both[2] = {NLIB, NLIB + 1};
    assert_int_equal(sbf_retrieve_nodes(e, NLIB + 2, DIM, labels, t, &one, 1, &o, &r), 0);
    assert_int_equal(r.nfaces, 0);
    sbf_retrieval_free(&r);
    assert_int_equal(sbf_retrieve_nodes(e, NLIB + 2, DIM, labels, t, both, 2, &o, &r), 0);
    assert_int_equal(r.nfaces, NA + 1); /* A's 6 photos and B; neither query */
    for (int i = 0; i <= NA; i++) assert_int_equal(r.faces[i], i);
    assert_int_equal(r.from_cluster, NA);
    assert_int_equal(r.from_mean, 1);
    sbf_retrieval_free(&r);
    free(e);
}

/* A stranger's photo as query: nothing passes; the closest similarity is 0. */
static void test_stranger(void **state) {
    (void)state;
    float *e = build(), *lib_q = calloc((size_t)(NLIB + 1) * DIM, sizeof *lib_q);
    memcpy(lib_q, e, (size_t)NLIB * DIM * sizeof *e);
    lib_q[(size_t)NLIB * DIM + 300] = 1; /* orthogonal to everything */
    sbf_cluster_opts co;
    sbf_cluster_opts_default(&co);
    co.graph.threads = 1;
    sbf_retrieval r;
    assert_int_equal(sbf_retrieve(lib_q, NLIB, DIM, lib_q + (size_t)NLIB * DIM, 1, &co, NULL, &r), 0);
    assert_int_equal(r.nfaces, 0);
    assert_int_equal(r.nclosest, SBF_RETRIEVE_CLOSEST);
    assert_true(fabsf(r.closest_sim[0]) < 1e-6f);
    sbf_retrieval_free(&r);
    free(lib_q);
    free(e);
}

/* sbf_retrieve (appends the queries and clusters them as sort does: the per-face rule raised, then the merge of
 * src/merge.h) = sbf_retrieve_nodes on sbf_cluster_merged's clustering.  There the merge has joined B to A's
 * photos (at the raised bar 0.68 none of them has an edge), so Q's closest match brings all 7; a query that is
 * also in the library (the same photo embedded) is skipped as its own closest match. */
static void test_retrieve_whole(void **state) {
    (void)state;
    float *e = build(), t[NLIB + 1];
    int labels[NLIB + 1], qn = NLIB;
    sbf_cluster_opts co;
    sbf_cluster_opts_default(&co);
    co.graph.threads = 1;
    assert_true(sbf_cluster_merged(e, NLIB + 1, DIM, &co, NULL, labels, t, NULL, NULL) >= 0);
    for (int m = 1; m <= NA; m++) assert_int_equal(labels[m], labels[0]);
    assert_true(labels[NLIB] != labels[0]);
    sbf_retrieve_opts o;
    sbf_retrieve_opts_default(&o);
    sbf_retrieval r, rn;
    assert_int_equal(sbf_retrieve_nodes(e, NLIB + 1, DIM, labels, t, &qn, 1, &o, &rn), 0);
    assert_int_equal(sbf_retrieve(e, NLIB, DIM, e + (size_t)NLIB * DIM, 1, &co, NULL, &r), 0);
    assert_int_equal(r.nfaces, NA + 1);
    assert_int_equal(r.from_neighbour, NA + 1);
    assert_int_equal(r.nfaces, rn.nfaces);
    for (int i = 0; i < r.nfaces; i++) assert_int_equal(r.faces[i], rn.faces[i]);
    assert_true(r.from_cluster == rn.from_cluster && r.from_neighbour == rn.from_neighbour &&
                r.from_mean == rn.from_mean);
    sbf_retrieval_free(&r);
    sbf_retrieval_free(&rn);
    /* query = A_2 itself (in the library): its own photo is in its cluster, its closest other match is A_k */
    assert_int_equal(sbf_retrieve(e, NLIB, DIM, e + (size_t)2 * DIM, 1, &co, NULL, &r), 0);
    assert_int_equal(r.nfaces, NA + 1);
    assert_int_equal(r.from_cluster, NA + 1);
    assert_true(r.closest[0] != 2 && fabsf(r.closest_sim[0] - 0.65f) < 1e-5f);
    sbf_retrieval_free(&r);
    free(e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_several_queries),
        cmocka_unit_test(test_stranger),
        cmocka_unit_test(test_retrieve_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
