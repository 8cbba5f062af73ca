/* tests/test_cluster_warm.c — Chinese Whispers from stored people with constraints (src/cluster_warm.h):
 * without options it is sbf_chinese_whispers (same partition, same generator calls); stored ids are
 * kept and new faces join them or get new ids after the largest; frozen faces keep their label; the
 * stay bonus holds a face against weaker evidence; a face with no edge left leaves a stored person that
 * others hold; cannot-link faces never share a label; a must-link
 * group moves as one node; the same-photo cannot-link lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/cluster_warm.h"

#define DIM 512

static double gauss(sbf_rng *r) {
    double u = ((double)(sbf_rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
    double v = ((double)(sbf_rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* people of the given sizes (sigma 0.035: photos of one person ~0.6 alike, so CW has real work) */
static float *synth(int npeople, int per, uint64_t seed, int *n_out) {
    sbf_rng r;
    sbf_rng_seed(&r, seed);
    int n = npeople * per;
    float *e = malloc((size_t)n * DIM * sizeof *e), c[DIM];
    for (int p = 0; p < npeople; p++) {
        for (int k = 0; k < DIM; k++) c[k] = (float)gauss(&r);
        for (int m = 0; m < per; m++) {
            float *v = e + (size_t)(m * npeople + p) * DIM; /* interleaved */
            double s = 0, cs = 0;
            for (int k = 0; k < DIM; k++) cs += (double)c[k] * c[k];
            for (int k = 0; k < DIM; k++) { v[k] = (float)(c[k] / sqrt(cs) + 0.035 * gauss(&r)); s += (double)v[k] * v[k]; }
            for (int k = 0; k < DIM; k++) v[k] = (float)(v[k] / sqrt(s));
        }
    }
    *n_out = n;
    return e;
}

static int same_partition(const int *a, const int *b, int n) {
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if ((a[i] == a[j]) != (b[i] == b[j])) return 0;
    return 1;
}

static void test_plain_equals_cw(void **state) {
    (void)state;
    int n;
    float *e = synth(30, 5, 11, &n);
    sbf_graph_opts go = {.threshold = 0.45, .threads = 1};
    sbf_graph g;
    assert_int_equal(sbf_graph_build(e, n, DIM, &go, &g), 0);
    int *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        int ka = sbf_chinese_whispers(&g, 30, seed, a);
        int kb = sbf_chinese_whispers_warm(&g, 30, seed, NULL, b);
        assert_int_equal(ka, kb);
        assert_true(same_partition(a, b, n));
        assert_true(ka >= 25 && ka <= 40); /* the data are not trivial: a few people split or merge */
    }
    free(a); free(b); free(e);
    sbf_graph_free(&g);
}

/* Stored people keep their ids; new faces join them; a new person gets the next id after the largest. */
static void test_stored_ids(void **state) {
    (void)state;
    int n;
    float *e = synth(20, 6, 12, &n);
    sbf_graph_opts go = {.threshold = 0.45, .threads = 1};
    sbf_graph g;
    assert_int_equal(sbf_graph_build(e, n, DIM, &go, &g), 0);
    int *first = malloc((size_t)n * sizeof *first), *init = malloc((size_t)n * sizeof *init), *out = malloc((size_t)n * sizeof *out);
    sbf_chinese_whispers(&g, 30, 5, first);
    /* stored ids: 1000 + 7 * label (arbitrary, sparse); the last 20 faces (one photo per person) are new */
    for (int i = 0; i < n; i++) init[i] = i < n - 20 ? 1000 + 7 * first[i] : -1;
    sbf_cw_warm_opts o = {.init = init};
    int k = sbf_chinese_whispers_warm(&g, 30, 99, &o, out);
    int kept = 0, maxid = 0;
    for (int i = 0; i < n; i++) if (init[i] > maxid) maxid = init[i];
    for (int i = 0; i < n - 20; i++) kept += out[i] == init[i];
    assert_true(kept >= (n - 20) * 95 / 100);
    int joined = 0;
    for (int i = n - 20; i < n; i++) {
        int same = -1;
        for (int j = 0; j < n - 20; j++) if (first[j] == first[i]) { same = j; break; }
        joined += same >= 0 && out[i] == out[same];
        assert_true(out[i] >= 1000); /* a stored id, or a new one after the largest */
    }
    assert_true(joined >= 18);
    assert_true(k > 0);
    /* a new face tied to a stored one joins it (new faces move first), a new face alone gets the next id
     * after the largest stored one */
    int64_t rp[] = {0, 1, 2, 2};
    int col[] = {1, 0};
    float w[] = {0.9f, 0.9f};
    sbf_graph small = {3, rp, col, w, 0};
    int init3[] = {41, -1, -1}, out3[3];
    assert_int_equal(sbf_chinese_whispers_warm(&small, 5, 1, &(sbf_cw_warm_opts){.init = init3}, out3), 2);
    assert_int_equal(out3[0], 41);
    assert_int_equal(out3[1], 41);
    assert_int_equal(out3[2], 42);
    free(first); free(init); free(out); free(e);
    sbf_graph_free(&g);
}

/* A path 0-1-2-3-4: 0-1 0.9, 1-2 0.5, 2-3 0.9, 3-4 1.0.  Stored: 0, 1, 2 = person 5, 3, 4 = person 6.
 * Plain warm start moves 2 to person 6 (0.9 > 0.5); with 2 frozen, or with a stay bonus of 0.5
 * (0.5 + 0.5 > 0.9), it stays; a bonus of 0.3 is not enough. */
static void test_frozen_and_stay(void **state) {
    (void)state;
    int64_t rp[] = {0, 1, 3, 5, 7, 8};
    int col[] = {1, 0, 2, 1, 3, 2, 4, 3};
    float w[] = {0.9f, 0.9f, 0.5f, 0.5f, 0.9f, 0.9f, 1.0f, 1.0f};
    sbf_graph g = {5, rp, col, w, 0};
    int init[] = {5, 5, 5, 6, 6}, out[5];
    for (uint64_t seed = 1; seed <= 5; seed++) {
        assert_int_equal(sbf_chinese_whispers_warm(&g, 10, seed, &(sbf_cw_warm_opts){.init = init}, out), 2);
        assert_int_equal(out[0], 5); assert_int_equal(out[1], 5); assert_int_equal(out[2], 6); assert_int_equal(out[3], 6);
        unsigned char frozen[] = {0, 0, 1, 0, 0};
        sbf_chinese_whispers_warm(&g, 10, seed, &(sbf_cw_warm_opts){.init = init, .frozen = frozen}, out);
        assert_int_equal(out[2], 5);
        assert_int_equal(out[3], 6);
        sbf_chinese_whispers_warm(&g, 10, seed, &(sbf_cw_warm_opts){.init = init, .stay = 0.5}, out);
        assert_int_equal(out[2], 5);
        sbf_chinese_whispers_warm(&g, 10, seed, &(sbf_cw_warm_opts){.init = init, .stay = 0.3}, out);
        assert_int_equal(out[2], 6);
        /* starting in person 6 with a bonus for its stored person 5: back to 5 (0.5 + 0.5 > 0.9) */
        int init6[] = {5, 5, 6, 6, 6}, pref[] = {-1, -1, 5, -1, -1};
        sbf_chinese_whispers_warm(&g, 10, seed, &(sbf_cw_warm_opts){.init = init6, .stay = 0.5, .prefer = pref}, out);
        assert_int_equal(out[2], 5);
        sbf_chinese_whispers_warm(&g, 10, seed, &(sbf_cw_warm_opts){.init = init6, .stay = 0.5}, out);
        assert_int_equal(out[2], 6);
        /* a frozen face needs a stored person */
        int init_bad[] = {5, 5, -1, 6, 6};
        assert_int_equal(sbf_chinese_whispers_warm(&g, 10, seed, &(sbf_cw_warm_opts){.init = init_bad, .frozen = frozen}, out), -1);
    }
}

/* Face 2 has no edge left: stored with person 8 (held by 0 and 1) it becomes a new person; face 3, the
 * only face of person 9, keeps it. */
static void test_isolated(void **state) {
    (void)state;
    int64_t rp[] = {0, 1, 2, 2, 2};
    int col[] = {1, 0};
    float w[] = {0.9f, 0.9f};
    sbf_graph g = {4, rp, col, w, 0};
    int init[] = {8, 8, 8, 9}, out[4];
    assert_int_equal(sbf_chinese_whispers_warm(&g, 5, 1, &(sbf_cw_warm_opts){.init = init, .stay = 0.5}, out), 3);
    assert_int_equal(out[0], 8);
    assert_int_equal(out[1], 8);
    assert_int_equal(out[2], 10);
    assert_int_equal(out[3], 9);
}

/* Faces 0..3 all tied (0.8), faces 0 and 1 from one photo: cannot-linked, they end in two people. */
static void test_cannot_link(void **state) {
    (void)state;
    int64_t rp[] = {0, 3, 6, 9, 12};
    int col[] = {1, 2, 3, 0, 2, 3, 0, 1, 3, 0, 1, 2};
    float w[12];
    for (int k = 0; k < 12; k++) w[k] = 0.8f;
    sbf_graph g = {4, rp, col, w, 0};
    int out[4];
    sbf_chinese_whispers_warm(&g, 10, 7, NULL, out);
    assert_true(out[0] == out[1] && out[1] == out[2] && out[2] == out[3]);
    int photo[] = {0, 0, 1, 2};
    int64_t *cs;
    int *cc;
    assert_int_equal(sbf_cannot_link_same_photo(photo, 4, &cs, &cc), 0);
    assert_int_equal(cs[0], 0); assert_int_equal(cs[1], 1); assert_int_equal(cs[2], 2); assert_int_equal(cs[4], 2);
    assert_int_equal(cc[0], 1); assert_int_equal(cc[1], 0);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        int k = sbf_chinese_whispers_warm(&g, 10, seed, &(sbf_cw_warm_opts){.cannot_start = cs, .cannot_col = cc}, out);
        assert_true(out[0] != out[1]);
        assert_int_equal(k, 2);
    }
    free(cs);
    free(cc);
}

/* Must-link: faces 0 and 3 have no edge between them; 0 is tied to 1 (0.7), 3 to 4 and 5 (0.8 each);
 * grouped, 0 and 3 move together, to the side with more weight (4, 5). */
static void test_must_link(void **state) {
    (void)state;
    /* edges: 0-1 0.7, 1-2 0.9, 3-4 0.8, 3-5 0.8, 4-5 0.9 */
    int64_t rp[] = {0, 1, 3, 4, 6, 8, 10};
    int col[] = {1, 0, 2, 1, 4, 5, 3, 5, 3, 4};
    float w[] = {0.7f, 0.7f, 0.9f, 0.9f, 0.8f, 0.8f, 0.8f, 0.9f, 0.8f, 0.9f};
    sbf_graph g = {6, rp, col, w, 0};
    int out[6];
    sbf_chinese_whispers_warm(&g, 10, 1, NULL, out);
    assert_true(out[0] == out[1] && out[3] == out[4] && out[0] != out[3]);
    int group[] = {9, -1, -1, 9, -1, -1};
    for (uint64_t seed = 1; seed <= 10; seed++) {
        sbf_chinese_whispers_warm(&g, 10, seed, &(sbf_cw_warm_opts){.group = group}, out);
        assert_int_equal(out[0], out[3]);
        assert_int_equal(out[3], out[4]);
        assert_int_equal(out[4], out[5]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_equals_cw),
        cmocka_unit_test(test_stored_ids),
        cmocka_unit_test(test_frozen_and_stay),
        cmocka_unit_test(test_isolated),
        cmocka_unit_test(test_cannot_link),
        cmocka_unit_test(test_must_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
