/* src/threshold.c — per-face clustering thresholds from the library itself; see src/threshold.h.
 *
 * Counting look-alikes needs the similarity of every face with every face of the sample: an n x m
 * product (m <= SBF_TFACE_SAMPLE).  The sample is packed once into panels of 8 faces stored k-major;
 * a task takes 64 rows and runs a 4x8 block of dot products per panel with GNU C vector types (SSE2
 * on x86-64, NEON on ARM; no intrinsics needed), chunk by chunk so the panels stay in L2. */
#include "src/threshold.h"
#include "nn/threadpool.h"
#include "src/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef float tf_v4 __attribute__((vector_size(16)));

#define PANEL 8 /* sample faces per panel */
#define ROWS_PER_TASK 64
#define PANELS_PER_CHUNK 32

double sbf_threshold_of_lookalikes(double k) {
    double t = SBF_TFACE_BASE + SBF_TFACE_SLOPE * log10(1 + (k > 0 ? k : 0));
    return t < SBF_TFACE_MAX ? t : SBF_TFACE_MAX;
}

/* 64-bit hash of an embedding's bytes (FNV-1a, then a splitmix64 finaliser). */
static uint64_t emb_hash(const float *v, int dim) {
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *p = (const unsigned char *)v;
    for (size_t i = 0; i < (size_t)dim * sizeof *v; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

typedef struct {
    uint64_t h;
    int i;
} hash_idx;
static int cmp_hash_idx(const void *a, const void *b) {
    const hash_idx *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

typedef struct {
    const float *emb;
    int n, dim, m, npanels;
    const float *panels; /* npanels * dim * PANEL, k-major per panel, zero past m */
    float lo, hi;
    int *counts;
} count_ctx;

static void count_task(void *vctx, int task, int thread) {
    (void)thread;
    const count_ctx *c = vctx;
    int r0 = task * ROWS_PER_TASK, r1 = r0 + ROWS_PER_TASK < c->n ? r0 + ROWS_PER_TASK : c->n, dim = c->dim;
    for (int i = r0; i < r1; i++) c->counts[i] = 0;
    for (int p0 = 0; p0 < c->npanels; p0 += PANELS_PER_CHUNK) {
        int p1 = p0 + PANELS_PER_CHUNK < c->npanels ? p0 + PANELS_PER_CHUNK : c->npanels;
        for (int r = r0; r < r1; r += 4) {
            int rows = r1 - r < 4 ? r1 - r : 4;
            const float *a[4];
            for (int q = 0; q < 4; q++) a[q] = c->emb + (size_t)(r + (q < rows ? q : 0)) * dim;
            for (int p = p0; p < p1; p++) {
                const float *bp = c->panels + (size_t)p * dim * PANEL;
                tf_v4 acc[4][2];
                memset(acc, 0, sizeof acc);
                for (int k = 0; k < dim; k++) {
                    tf_v4 b0 = *(const tf_v4 *)(bp + (size_t)k * PANEL),
                          b1 = *(const tf_v4 *)(bp + (size_t)k * PANEL + 4);
                    for (int q = 0; q < 4; q++) {
                        float s = a[q][k];
                        tf_v4 x = {s, s, s, s};
                        acc[q][0] += x * b0;
                        acc[q][1] += x * b1;
                    }
                }
                int cols = c->m - p * PANEL < PANEL ? c->m - p * PANEL : PANEL;
                for (int q = 0; q < rows; q++)
                    for (int col = 0; col < cols; col++) {
                        float d = acc[q][col >> 2][col & 3];
                        if (d > c->lo && d < c->hi) c->counts[r + q]++;
                    }
            }
        }
    }
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int sbf_threshold_faces(const float *emb, int n, int dim, const sbf_threshold_opts *o, float *t,
                        sbf_threshold_info *info) {
    int want = o && o->sample > 0 ? o->sample : SBF_TFACE_SAMPLE;
    if (info) memset(info, 0, sizeof *info);
    if (n <= 0) {
        if (info) snprintf(info->reason, sizeof info->reason, "no faces");
        return 0;
    }
    int exact = n - 1 <= want, m = exact ? n : want;
    int *sample = malloc((size_t)m * sizeof *sample), *counts = malloc((size_t)n * sizeof *counts);
    char *in_sample = calloc((size_t)n, 1);
    int npanels = (m + PANEL - 1) / PANEL;
    float *panels = aligned_alloc(64, ((size_t)npanels * dim * PANEL * sizeof(float) + 63) & ~(size_t)63);
    float *sorted = malloc((size_t)n * sizeof *sorted);
    double *kk = malloc((size_t)n * sizeof *kk);
    hash_idx *hi = exact ? NULL : malloc((size_t)n * sizeof *hi);
    int rc = -1;
    if (!sample || !counts || !in_sample || !panels || !sorted || !kk || (!exact && !hi)) goto out;
    if (exact) {
        for (int i = 0; i < n; i++) sample[i] = i;
    } else {
        for (int i = 0; i < n; i++) hi[i] = (hash_idx){emb_hash(emb + (size_t)i * dim, dim), i};
        qsort(hi, (size_t)n, sizeof *hi, cmp_hash_idx);
        for (int s = 0; s < m; s++) sample[s] = hi[s].i;
    }
    for (int s = 0; s < m; s++) in_sample[sample[s]] = 1;
    for (int p = 0; p < npanels; p++) {
        float *dst = panels + (size_t)p * dim * PANEL;
        for (int col = 0; col < PANEL; col++) {
            int s = p * PANEL + col;
            const float *src = s < m ? emb + (size_t)sample[s] * dim : NULL;
            for (int k = 0; k < dim; k++) dst[(size_t)k * PANEL + col] = src ? src[k] : 0.0f;
        }
    }
    count_ctx c = {emb, n, dim, m, npanels, panels, (float)SBF_TFACE_BAND_LO, (float)SBF_TFACE_BAND_HI, counts};
    nn_pool *pool = nn_pool_new(o ? o->threads : 0);
    if (!pool) goto out;
    nn_pool_run(pool, (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK, count_task, &c);
    nn_pool_free(pool);
    /* a face never counts itself (similarity 1 is outside the band), so it was compared with m - 1
     * others when it is in the sample, m otherwise; scale to the n - 1 others */
    for (int i = 0; i < n; i++) {
        int others = m - in_sample[i];
        kk[i] = exact || others <= 0 ? counts[i] : counts[i] * (double)(n - 1) / others;
        t[i] = (float)sbf_threshold_of_lookalikes(kk[i]);
        sorted[i] = t[i];
    }
    if (info) {
        qsort(sorted, (size_t)n, sizeof *sorted, cmp_float);
        info->lo = sorted[0];
        info->hi = sorted[n - 1];
        info->median = sorted[n / 2];
        for (int i = 0; i < n; i++) sorted[i] = (float)kk[i];
        qsort(sorted, (size_t)n, sizeof *sorted, cmp_float);
        info->lookalikes = sorted[n / 2];
        info->compared = exact ? n - 1 : m;
        snprintf(
            info->reason, sizeof info->reason,
            "threshold per face %.2f-%.2f (median %.2f), from each face's look-alikes among the %d face%s (similarity "
            "%.2f-%.2f; median %.0f%s): more look-alikes, a higher bar; -t T sets one threshold for all",
            info->lo, info->hi, info->median, n, sbf_s(n), SBF_TFACE_BAND_LO, SBF_TFACE_BAND_HI, info->lookalikes,
            exact ? "" : ", estimated from a sample");
    }
    rc = 0;
out:
    free(sample);
    free(counts);
    free(in_sample);
    free(panels);
    free(sorted);
    free(kk);
    free(hi);
    return rc;
}

int sbf_graph_keep_faces(const sbf_graph *in, const float *t, sbf_graph *out) {
    memset(out, 0, sizeof *out);
    int n = in->n;
    int64_t ne = n ? in->rowptr[n] : 0;
    out->n = n;
    out->capped = in->capped;
    out->rowptr = malloc(((size_t)n + 1) * sizeof *out->rowptr);
    out->col = malloc(((size_t)ne + 1) * sizeof *out->col);
    out->w = malloc(((size_t)ne + 1) * sizeof *out->w);
    if (!out->rowptr || !out->col || !out->w) {
        sbf_graph_free(out);
        return -1;
    }
    int64_t m = 0;
    out->rowptr[0] = 0;
    for (int i = 0; i < n; i++) {
        for (int64_t e = in->rowptr[i]; e < in->rowptr[i + 1]; e++) {
            int j = in->col[e];
            const float bar = 0.5f * (t[i] + t[j]);
            if (in->w[e] > bar) {
                out->col[m] = j;
                out->w[m] = in->w[e] - bar + (float)SBF_TFACE_WEIGHT0;
                m++;
            }
        }
        out->rowptr[i + 1] = m;
    }
    return 0;
}

int sbf_cluster_adaptive(const float *emb, int n, int dim, const sbf_cluster_opts *co, const sbf_threshold_opts *to,
                         int *labels, float *t_out, sbf_cluster_info *ci, sbf_threshold_info *ti) {
    if (ci) memset(ci, 0, sizeof *ci);
    if (n <= 0) {
        if (ti) sbf_threshold_faces(emb, 0, dim, to, NULL, ti);
        return 0;
    }
    float *t = t_out ? t_out : malloc((size_t)n * sizeof *t);
    if (!t) return -1;
    int k = -1;
    double t0 = sbf_now();
    sbf_threshold_opts tod = {.threads = co->graph.threads};
    if (sbf_threshold_faces(emb, n, dim, to ? to : &tod, t, ti)) goto out;
    float tmin = t[0];
    for (int i = 1; i < n; i++)
        if (t[i] < tmin) tmin = t[i];
    sbf_graph_opts go = co->graph;
    go.threshold = tmin;
    sbf_graph base, g;
    if (sbf_graph_build(emb, n, dim, &go, &base)) goto out;
    int r = sbf_graph_keep_faces(&base, t, &g);
    sbf_graph_free(&base);
    if (r) goto out;
    double t1 = sbf_now();
    k = sbf_chinese_whispers(&g, co->iterations, co->seed, labels);
    double t2 = sbf_now();
    if (ci) *ci = (sbf_cluster_info){t1 - t0, t2 - t1, (long long)(g.rowptr[n] / 2), g.capped};
    sbf_graph_free(&g);
out:
    if (!t_out) free(t);
    return k;
}
