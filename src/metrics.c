/* src/metrics.c — clustering and verification scores; see src/metrics.h. */
#include "src/metrics.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int a, b, i;
} tri;
static int cmp_tri(const void *x, const void *y) {
    const tri *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}
static int cmp_int(const void *x, const void *y) {
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

/* Contingency sizes per item: ncl = |its cluster ∩ its identity|, nc = |its cluster|, nl = |its identity|. */
static int sizes(const int *pred, const int *truth, int n, long *ncl, long *nc, long *nl) {
    tri *t = malloc((size_t)(n ? n : 1) * sizeof *t);
    if (!t) return -1;
    for (int pass = 0; pass < 3; pass++) {
        long *dst = pass == 0 ? ncl : pass == 1 ? nc : nl;
        for (int i = 0; i < n; i++) t[i] = (tri){pass == 2 ? truth[i] : pred[i], pass == 0 ? truth[i] : 0, i};
        qsort(t, (size_t)n, sizeof *t, cmp_tri);
        for (int s = 0; s < n;) {
            int e = s;
            while (e < n && t[e].a == t[s].a && t[e].b == t[s].b) e++;
            for (int k = s; k < e; k++) dst[t[k].i] = e - s;
            s = e;
        }
    }
    free(t);
    return 0;
}

static double fscore(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0; }

int sbf_pairwise_prf(const int *pred, const int *truth, int n, sbf_prf *out) {
    if (n < 0) return -1;
    long *a = malloc((size_t)(n ? n : 1) * 3 * sizeof *a);
    if (!a) return -1;
    long *ncl = a, *nc = a + n, *nl = a + 2 * (size_t)n;
    if (sizes(pred, truth, n, ncl, nc, nl)) {
        free(a);
        return -1;
    }
    /* sum over items of (size - 1) counts every ordered pair once: pairs = sum / 2 */
    uint64_t tp = 0, pp = 0, ap = 0;
    for (int i = 0; i < n; i++) {
        tp += (uint64_t)(ncl[i] - 1);
        pp += (uint64_t)(nc[i] - 1);
        ap += (uint64_t)(nl[i] - 1);
    }
    free(a);
    out->p = pp ? (double)tp / (double)pp : 1.0;
    out->r = ap ? (double)tp / (double)ap : 1.0;
    out->f = fscore(out->p, out->r);
    return 0;
}

int sbf_bcubed_prf(const int *pred, const int *truth, int n, sbf_prf *out) {
    if (n <= 0) {
        out->p = out->r = out->f = n == 0 ? 1.0 : 0;
        return n == 0 ? 0 : -1;
    }
    long *a = malloc((size_t)n * 3 * sizeof *a);
    if (!a) return -1;
    long *ncl = a, *nc = a + n, *nl = a + 2 * (size_t)n;
    if (sizes(pred, truth, n, ncl, nc, nl)) {
        free(a);
        return -1;
    }
    double p = 0, r = 0;
    for (int i = 0; i < n; i++) {
        p += (double)ncl[i] / (double)nc[i];
        r += (double)ncl[i] / (double)nl[i];
    }
    free(a);
    out->p = p / n;
    out->r = r / n;
    out->f = fscore(out->p, out->r);
    return 0;
}

int sbf_count_distinct(const int *lab, int n) {
    if (n <= 0) return 0;
    int *c = malloc((size_t)n * sizeof *c);
    if (!c) return -1;
    memcpy(c, lab, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, cmp_int);
    int k = 1;
    for (int i = 1; i < n; i++) k += c[i] != c[i - 1];
    free(c);
    return k;
}

typedef struct {
    double s;
    int same;
} scored;
static int cmp_scored(const void *x, const void *y) {
    double a = ((const scored *)x)->s, b = ((const scored *)y)->s;
    return (a > b) - (a < b);
}

/* Best threshold on v[0..m) (sorted by score): maximises #(same & s > t) + #(!same & s <= t). */
static double best_threshold(const scored *v, int m) {
    int pos = 0;
    for (int i = 0; i < m; i++) pos += v[i].same;
    /* threshold below everything: all predicted same */
    int correct = pos, best = correct;
    double bt = m ? v[0].s - 1e-6 : 0;
    for (int i = 0; i < m;) {
        int j = i;
        while (j < m && v[j].s == v[i].s) {
            correct += v[j].same ? -1 : 1; /* item j moves to "different" */
            j++;
        }
        if (correct > best) {
            best = correct;
            bt = j < m ? 0.5 * (v[i].s + v[j].s) : v[i].s + 1e-6;
        }
        i = j;
    }
    return bt;
}

double sbf_verification_accuracy(const double *score, const int *same, int n, int folds, double *thr_mean,
                                 double *acc_std) {
    if (n <= 0 || folds < 2) return 0;
    scored *tr = malloc((size_t)n * sizeof *tr);
    if (!tr) return 0;
    double accs = 0, acc2 = 0, ts = 0;
    for (int f = 0; f < folds; f++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (i % folds != f) tr[m++] = (scored){score[i], same[i] ? 1 : 0};
        qsort(tr, (size_t)m, sizeof *tr, cmp_scored);
        double t = best_threshold(tr, m);
        int ok = 0, tot = 0;
        for (int i = f; i < n; i += folds) {
            tot++;
            ok += (score[i] > t) == (same[i] != 0);
        }
        double a = tot ? (double)ok / tot : 0;
        accs += a;
        acc2 += a * a;
        ts += t;
    }
    free(tr);
    double mean = accs / folds;
    if (thr_mean) *thr_mean = ts / folds;
    if (acc_std) *acc_std = sqrt(fmax(0, acc2 / folds - mean * mean));
    return mean;
}
