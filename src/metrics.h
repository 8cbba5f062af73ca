/* src/metrics.h — owns clustering and verification scores: pairwise precision/recall/F over item
 * pairs, BCubed precision/recall/F, and k-fold verification accuracy with per-fold thresholds. */
#ifndef SRC_METRICS_H
#define SRC_METRICS_H

typedef struct {
    double p, r, f;
} sbf_prf;

/* pred[i], truth[i]: cluster and identity of item i (any non-negative ints).
 * Pairwise: a pair is predicted positive when both items share a cluster, actually positive when
 * they share an identity.  P = TP / predicted pairs, R = TP / true pairs (0/0 counts as 1).
 * Counts are exact (64-bit) via the contingency table: O(n log n).  Returns 0, -1 on bad input. */
int sbf_pairwise_prf(const int *pred, const int *truth, int n, sbf_prf *out);
/* BCubed (Bagga & Baldwin): P = mean over items of |cluster ∩ identity| / |cluster|,
 * R = mean of |cluster ∩ identity| / |identity|, F = 2PR / (P + R). */
int sbf_bcubed_prf(const int *pred, const int *truth, int n, sbf_prf *out);
/* Number of distinct values in lab[0..n). */
int sbf_count_distinct(const int *lab, int n);

/* Verification accuracy with k-fold threshold selection: pair i (similarity score[i], same[i] 0/1)
 * belongs to fold i % folds.  For each fold the threshold maximising accuracy on the other folds
 * (candidates: midpoints between consecutive distinct scores; ties -> the smallest such threshold)
 * classifies the fold ("same" when score > threshold).  Returns the mean fold accuracy in [0,1];
 * *thr_mean / *acc_std (may be NULL) get the mean chosen threshold and the std of fold accuracies. */
double sbf_verification_accuracy(const double *score, const int *same, int n, int folds, double *thr_mean,
                                 double *acc_std);
#endif
