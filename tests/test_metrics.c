/* tests/test_metrics.c — pairwise / BCubed P/R/F and k-fold verification accuracy on examples
 * computed by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "src/metrics.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

static void test_hand_example(void **state) {
    (void)state;
    /* identities A A A B B C; clusters {0,1} {2,3,4} {5}
     * pairwise: TP = 1 + 1, predicted pairs 1 + 3 = 4, true pairs 3 + 1 = 4 -> P = R = F = 0.5
     * BCubed P = (1 + 1 + 1/3 + 2/3 + 2/3 + 1) / 6 = 7/9, R = (2/3 + 2/3 + 1/3 + 1 + 1 + 1) / 6 = 7/9 */
    int truth[] = {0, 0, 0, 1, 1, 2};
    int pred[] = {7, 7, 100, 100, 100, 3};
    sbf_prf m;
    assert_int_equal(sbf_pairwise_prf(pred, truth, 6, &m), 0);
    NEAR(m.p, 0.5);
    NEAR(m.r, 0.5);
    NEAR(m.f, 0.5);
    assert_int_equal(sbf_bcubed_prf(pred, truth, 6, &m), 0);
    NEAR(m.p, 7.0 / 9);
    NEAR(m.r, 7.0 / 9);
    NEAR(m.f, 7.0 / 9);
    assert_int_equal(sbf_count_distinct(pred, 6), 3);
    assert_int_equal(sbf_count_distinct(truth, 6), 3);
    /* swapping roles swaps P and R */
    int truth2[] = {0, 0, 1, 1, 1, 1}; /* A A B B B B */
    int pred2[] = {0, 0, 0, 0, 1, 1};  /* {0,1,2,3} {4,5} */
    /* pairwise: cells (0,A)=2, (0,B)=2, (1,B)=2 -> TP = 3; predicted 6 + 1 = 7; true 1 + 6 = 7 */
    assert_int_equal(sbf_pairwise_prf(pred2, truth2, 6, &m), 0);
    NEAR(m.p, 3.0 / 7);
    NEAR(m.r, 3.0 / 7);
    /* BCubed P: items 0-3: 2/4 each, 4-5: 2/2 -> (2 + 2) / 6 = 2/3;
     * R: 0,1: 2/2 each; 2,3: 2/4 each; 4,5: 2/4 each -> (2 + 1 + 1) / 6 = 2/3 */
    assert_int_equal(sbf_bcubed_prf(pred2, truth2, 6, &m), 0);
    NEAR(m.p, 2.0 / 3);
    NEAR(m.r, 2.0 / 3);
    NEAR(m.f, 2.0 / 3);
    /* and an asymmetric one: clusters {0,1} {2} {3} {4} {5} -> P = 1, R = (1 + 1 + 4 * 1/4) / 6 = 1/2 */
    int pred3[] = {0, 0, 1, 2, 3, 4};
    assert_int_equal(sbf_bcubed_prf(pred3, truth2, 6, &m), 0);
    NEAR(m.p, 1);
    NEAR(m.r, 0.5);
    NEAR(m.f, 2 * 0.5 / 1.5);
}

static void test_extremes(void **state) {
    (void)state;
    int truth[] = {0, 0, 0, 1, 1, 2};
    int single[] = {0, 1, 2, 3, 4, 5};
    int one[] = {9, 9, 9, 9, 9, 9};
    sbf_prf m;
    assert_int_equal(sbf_pairwise_prf(truth, truth, 6, &m), 0);
    NEAR(m.f, 1);
    assert_int_equal(sbf_bcubed_prf(truth, truth, 6, &m), 0);
    NEAR(m.f, 1);
    /* all singletons: no predicted pairs -> P = 1 by convention, R = 0 */
    assert_int_equal(sbf_pairwise_prf(single, truth, 6, &m), 0);
    NEAR(m.p, 1);
    NEAR(m.r, 0);
    NEAR(m.f, 0);
    /* BCubed: P = 1, R = (3 * 1/3 + 2 * 1/2 + 1) / 6 = 0.5 */
    assert_int_equal(sbf_bcubed_prf(single, truth, 6, &m), 0);
    NEAR(m.p, 1);
    NEAR(m.r, 0.5);
    /* one big cluster: pairwise P = 4 / 15, R = 1; BCubed P = (3 * 3/6 + 2 * 2/6 + 1/6) / 6 = 14/36 */
    assert_int_equal(sbf_pairwise_prf(one, truth, 6, &m), 0);
    NEAR(m.p, 4.0 / 15);
    NEAR(m.r, 1);
    assert_int_equal(sbf_bcubed_prf(one, truth, 6, &m), 0);
    NEAR(m.p, 14.0 / 36);
    NEAR(m.r, 1);
}

static void test_large_counts_exact(void **state) {
    (void)state;
    /* 200,000 items in one identity and one cluster: 2e10 pairs must not overflow */
    int n = 200000;
    int *a = calloc((size_t)n, sizeof *a);
    sbf_prf m;
    a[0] = 1; /* one item split off: TP = C(199999,2), true pairs C(200000,2) */
    int *t = calloc((size_t)n, sizeof *t);
    assert_int_equal(sbf_pairwise_prf(a, t, n, &m), 0);
    NEAR(m.p, 1);
    NEAR(m.r, (199999.0 * 199998.0) / (200000.0 * 199999.0));
    free(a);
    free(t);
}

static void test_verification(void **state) {
    (void)state;
    /* folds of 2 (i % 2): fold 0 = {0.9 same, 0.8 diff}, fold 1 = {0.2 same, 0.1 diff}.
     * Fold 0 is scored with the threshold learnt on fold 1 (0.15): 0.9 right, 0.8 wrong -> 0.5.
     * Fold 1 with the threshold learnt on fold 0 (0.85): 0.2 wrong, 0.1 right -> 0.5. */
    double s[] = {0.9, 0.2, 0.8, 0.1};
    int same[] = {1, 1, 0, 0};
    double thr, sd;
    NEAR(sbf_verification_accuracy(s, same, 4, 2, &thr, &sd), 0.5);
    NEAR(thr, 0.5);
    NEAR(sd, 0);
    /* separable data: 100 % whatever the folds; threshold between the classes */
    double s2[40];
    int same2[40];
    for (int i = 0; i < 40; i++) {
        same2[i] = i < 20;
        s2[i] = same2[i] ? 0.6 + 0.01 * i : 0.1 + 0.01 * i;
    }
    NEAR(sbf_verification_accuracy(s2, same2, 40, 10, &thr, &sd), 1.0);
    assert_true(thr > 0.49 && thr < 0.6);
    /* one mistake among 40: it is misclassified in its own fold only -> 39/40 overall (4 per fold) */
    s2[3] = 0.05; /* a "same" pair scoring lowest */
    NEAR(sbf_verification_accuracy(s2, same2, 40, 10, &thr, &sd), 39.0 / 40);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_example),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_large_counts_exact),
        cmocka_unit_test(test_verification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
