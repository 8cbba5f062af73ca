/* tests/helpers/looks.h — a synthetic library for the merge of src/merge.h (tests/test_merge.c, test_people.c):
 * a person in two looks that the per-face rule with raised bars leaves in two clusters, a look-alike, strangers. */
#ifndef TESTS_HELPERS_LOOKS_H
#define TESTS_HELPERS_LOOKS_H
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define LOOKS_DIM 64
#define LOOKS_PER 6
#define LOOKS_STRANGERS 60
#define LOOKS_N (3 * LOOKS_PER + LOOKS_STRANGERS)

static uint64_t looks_rs;
static inline double looks_unif(void) {
    looks_rs ^= looks_rs << 13, looks_rs ^= looks_rs >> 7, looks_rs ^= looks_rs << 17;
    return (double)(looks_rs >> 11) / 9007199254740992.0;
}
static inline double looks_gauss(void) {
    return sqrt(-2 * log(looks_unif() + 1e-300)) * cos(6.283185307179586 * looks_unif());
}
static inline void looks_normalize(float *v) {
    double s = 0;
    for (int k = 0; k < LOOKS_DIM; k++) s += (double)v[k] * v[k];
    for (int k = 0; k < LOOKS_DIM; k++) v[k] = (float)(v[k] / sqrt(s));
}
static inline double looks_dot(const float *a, const float *b) {
    double s = 0;
    for (int k = 0; k < LOOKS_DIM; k++) s += (double)a[k] * b[k];
    return s;
}

/* Person P in two looks A (faces 0-5) and B (6-11), A and B = P +- 0.38 u (u orthogonal to P): photos of
 * one look are ~0.80 alike, of the two ~0.65; a look-alike Q (12-17) whose centre is 0.5 from P's, so its
 * photos are ~0.38 from P's; LOOKS_STRANGERS random faces.  truth: 0 P, 1 Q, 2+ strangers; start: 0 A, 1 B, 2 Q,
 * 3+ strangers (as the rule with raised bars leaves them). */
static inline float *looks_library(int *truth, int *start) {
    float *e = malloc((size_t)LOOKS_N * LOOKS_DIM * sizeof *e), p[LOOKS_DIM], q[LOOKS_DIM], u[LOOKS_DIM], a[LOOKS_DIM],
          b[LOOKS_DIM];
    looks_rs = 0x9e3779b97f4a7c15ull;
    for (int k = 0; k < LOOKS_DIM; k++)
        p[k] = (float)looks_gauss(), q[k] = (float)looks_gauss(), u[k] = (float)looks_gauss();
    looks_normalize(p), looks_normalize(q);
    double pu = looks_dot(p, u), pq = looks_dot(p, q);
    for (int k = 0; k < LOOKS_DIM; k++) u[k] = (float)(u[k] - pu * p[k]), q[k] = (float)(q[k] - pq * p[k]);
    looks_normalize(u), looks_normalize(q);
    for (int k = 0; k < LOOKS_DIM; k++) {
        q[k] = (float)(0.5 * p[k] + sqrt(0.75) * q[k]);
        a[k] = (float)(p[k] + 0.38 * u[k]), b[k] = (float)(p[k] - 0.38 * u[k]);
    }
    looks_normalize(a), looks_normalize(b);
    for (int i = 0; i < LOOKS_N; i++) {
        const float *c = i < LOOKS_PER ? a : i < 2 * LOOKS_PER ? b : i < 3 * LOOKS_PER ? q : NULL;
        for (int k = 0; k < LOOKS_DIM; k++)
            e[(size_t)i * LOOKS_DIM + k] = (float)(c ? c[k] + 0.5 * looks_gauss() / sqrt(LOOKS_DIM) : looks_gauss());
        looks_normalize(e + (size_t)i * LOOKS_DIM);
        truth[i] = i < 2 * LOOKS_PER ? 0 : i < 3 * LOOKS_PER ? 1 : 2 + i - 3 * LOOKS_PER;
        start[i] = i < LOOKS_PER ? 0 : i < 2 * LOOKS_PER ? 1 : i < 3 * LOOKS_PER ? 2 : 3 + i - 3 * LOOKS_PER;
    }
    return e;
}

#endif
