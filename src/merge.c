/* src/merge.c — the learned merge of clusters (see src/merge.h). */
#include "src/merge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/util.h"

/* log10(1 + look-alikes) of a face, read back from its rule threshold (src/threshold.h; a face at the
 * ceiling counts as at the ceiling). */
static double lookalikes_log(float t) {
    double v = ((t < SBF_TFACE_MAX ? t : SBF_TFACE_MAX) - SBF_TFACE_BASE) / SBF_TFACE_SLOPE;
    return v > 0 ? v : 0;
}

void sbf_merge_free(sbf_merge *m) {
    free(m->lab), free(m->head), free(m->next), free(m->sz), free(m->ver), free(m->esum), free(m->lk);
    free(m->mark), free(m->nbr);
    memset(m, 0, sizeof *m);
}

int sbf_merge_init(sbf_merge *m, const sbf_graph *g, const float *emb, int n, int dim, const float *t0,
                   const int *labels, int nlabels) {
    memset(m, 0, sizeof *m);
    m->g = g, m->emb = emb, m->t0 = t0, m->n = n, m->dim = dim, m->nlabels = nlabels;
    size_t nc = (size_t)nlabels + 1, nf = (size_t)n + 1;
    m->lab = malloc(nf * sizeof *m->lab);
    m->next = malloc(nf * sizeof *m->next);
    m->head = malloc(nc * sizeof *m->head);
    m->mark = malloc(nc * sizeof *m->mark);
    m->nbr = malloc(nc * sizeof *m->nbr);
    m->sz = calloc(nc, sizeof *m->sz);
    m->ver = calloc(nc, sizeof *m->ver);
    m->esum = calloc(nc * (size_t)dim, sizeof *m->esum);
    m->lk = calloc(nc, sizeof *m->lk);
    if (!m->lab || !m->next || !m->head || !m->mark || !m->nbr || !m->sz || !m->ver || !m->esum || !m->lk) {
        sbf_merge_free(m);
        return -1;
    }
    for (int c = 0; c < nlabels; c++) m->head[c] = -1, m->mark[c] = -1;
    for (int f = n - 1; f >= 0; f--) {
        int c = m->lab[f] = labels[f];
        m->next[f] = m->head[c];
        m->head[c] = f;
        m->sz[c]++;
        double *es = m->esum + (size_t)c * dim;
        for (int d = 0; d < dim; d++) es[d] += emb[(size_t)f * dim + d];
        m->lk[c] += lookalikes_log(t0[f]);
    }
    return 0;
}

static double within_sum(const sbf_merge *m, int c) { /* the sum of the similarities of c's pairs */
    const double *es = m->esum + (size_t)c * m->dim;
    double q = 0;
    for (int d = 0; d < m->dim; d++) q += es[d] * es[d];
    return (q - m->sz[c]) / 2;
}

int sbf_merge_features(const sbf_merge *m, int a, int b, double *x) {
    const sbf_graph *g = m->g;
    int s = m->sz[a] <= m->sz[b] ? a : b, l = s == a ? b : a;
    double mx = -1, cov = 0, hi = 0, above = 0, margin = -1;
    for (int f = m->head[s]; f >= 0; f = m->next[f]) {
        double bf = SBF_MERGE_CMIN;
        for (int64_t e = g->rowptr[f]; e < g->rowptr[f + 1]; e++)
            if (m->lab[g->col[e]] == l) {
                double w = g->w[e];
                if (w > bf) bf = w;
                if (w > mx) mx = w;
                hi += w > SBF_TFACE_BAND_HI;
                double over = w - 0.5 * (m->t0[f] + m->t0[g->col[e]]);
                above += over > 0;
                if (over > margin) margin = over;
            }
        cov += bf;
    }
    if (mx < SBF_MERGE_CMIN) return 0;
    double na = m->sz[a], nb = m->sz[b], cross = 0;
    const double *ea = m->esum + (size_t)a * m->dim, *eb = m->esum + (size_t)b * m->dim;
    for (int d = 0; d < m->dim; d++) cross += ea[d] * eb[d];
    double mean = cross / (na * nb), pa = na * (na - 1) / 2, pb = nb * (nb - 1) / 2;
    int inside = pa + pb > 0;
    double wref = inside ? (within_sum(m, a) + within_sum(m, b)) / (pa + pb) : 0,
           kbar = (m->lk[a] + m->lk[b]) / (na + nb);
    x[0] = 1, x[1] = mx, x[2] = mean, x[3] = inside ? mean - wref : 0, x[4] = inside;
    x[5] = log1p(fmin(na, nb)), x[6] = log1p(fmax(na, nb)), x[7] = kbar, x[8] = log10((double)m->n);
    x[9] = mx * kbar, x[10] = cov / m->sz[s], x[11] = hi / (na * nb);
    x[12] = above / (na * nb), x[13] = margin;
    return 1;
}

double sbf_merge_score(const sbf_merge_model *md, const double *x) {
    double z = md->beta[0];
    for (int f = 1; f < md->nf; f++) z += md->beta[f] * (x[f] - md->mu[f]) / md->sd[f];
    return z;
}

int sbf_merge_neighbours(sbf_merge *m, int a, int only_higher) {
    const sbf_graph *g = m->g;
    int nn = 0;
    for (int f = m->head[a]; f >= 0; f = m->next[f])
        for (int64_t e = g->rowptr[f]; e < g->rowptr[f + 1]; e++) {
            int c = m->lab[g->col[e]];
            if (c == a || g->w[e] < SBF_MERGE_CMIN || m->mark[c] == a || (only_higher && c < a)) continue;
            m->mark[c] = a;
            m->nbr[nn++] = c;
        }
    for (int i = 0; i < nn; i++) m->mark[m->nbr[i]] = -1;
    return nn;
}

/* ---- the greedy join: a max-heap of candidates, stale ones (a cluster joined since) dropped ---- */
typedef struct {
    double s;
    int a, b, va, vb;
} cand;
typedef struct {
    cand *h;
    int n, cap;
} heap;

static int heap_push(heap *q, cand c) {
    if (q->n == q->cap) {
        int cap = q->cap ? 2 * q->cap : 256;
        cand *h = realloc(q->h, (size_t)cap * sizeof *h);
        if (!h) return -1;
        q->h = h, q->cap = cap;
    }
    int i = q->n++;
    while (i > 0 && q->h[(i - 1) / 2].s < c.s) {
        q->h[i] = q->h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    q->h[i] = c;
    return 0;
}

static cand heap_pop(heap *q) {
    cand top = q->h[0], last = q->h[--q->n];
    int i = 0;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, k = i;
        double ks = last.s;
        if (l < q->n && q->h[l].s > ks) k = l, ks = q->h[l].s;
        if (r < q->n && q->h[r].s > ks) k = r;
        if (k == i) break;
        q->h[i] = q->h[k];
        i = k;
    }
    if (q->n) q->h[i] = last;
    return top;
}

static int push_candidates(sbf_merge *m, heap *q, const sbf_merge_model *md, int a, int only_higher) {
    int nn = sbf_merge_neighbours(m, a, only_higher);
    for (int i = 0; i < nn; i++) {
        int c = m->nbr[i];
        double x[SBF_MERGE_NX];
        if (!sbf_merge_features(m, a, c, x)) continue;
        if (heap_push(q, (cand){.s = sbf_merge_score(md, x), .a = a, .b = c, .va = m->ver[a], .vb = m->ver[c]}))
            return -1;
    }
    return 0;
}

static void join(sbf_merge *m, int a, int b) { /* b into a */
    int last = -1;
    for (int f = m->head[b]; f >= 0; f = m->next[f]) m->lab[f] = a, last = f;
    if (last >= 0) m->next[last] = m->head[a], m->head[a] = m->head[b];
    m->head[b] = -1;
    m->sz[a] += m->sz[b], m->sz[b] = 0;
    m->lk[a] += m->lk[b];
    double *ea = m->esum + (size_t)a * m->dim, *eb = m->esum + (size_t)b * m->dim;
    for (int d = 0; d < m->dim; d++) ea[d] += eb[d];
    m->ver[a]++, m->ver[b]++;
}

static int live(const sbf_merge *m, const cand *c) {
    return m->sz[c->a] && m->sz[c->b] && m->ver[c->a] == c->va && m->ver[c->b] == c->vb;
}

int sbf_merge_greedy(sbf_merge *m, const sbf_merge_model *md, double cut, sbf_merge_allow_fn allow,
                     sbf_merge_seen_fn seen, void *ctx) {
    heap q = {0};
    int joins = 0;
    for (int a = 0; a < m->nlabels; a++)
        if (m->sz[a] && push_candidates(m, &q, md, a, 1)) goto fail;
    for (;;) {
        cand top[3];
        int nt = 0, want = seen ? 3 : 1;
        while (q.n && nt < want) {
            cand c = heap_pop(&q);
            if (live(m, &c) && (!allow || allow(ctx, m, c.a, c.b))) top[nt++] = c;
        }
        if (!nt || top[0].s < (seen ? cut - 2 : cut)) break;
        if (seen)
            for (int i = 0; i < nt; i++)
                if (top[i].s >= cut - 2) seen(ctx, m, top[i].a, top[i].b);
        for (int i = 1; i < nt; i++)
            if (heap_push(&q, top[i])) goto fail;
        if (top[0].s < cut) break;
        int a = top[0].a < top[0].b ? top[0].a : top[0].b, b = top[0].a ^ top[0].b ^ a;
        join(m, a, b);
        joins++;
        if (push_candidates(m, &q, md, a, 0)) goto fail;
    }
    free(q.h);
    return joins;
fail:
    free(q.h);
    return -1;
}

int sbf_merge_raised_graph(const sbf_graph *sims, const float *t, double shift, sbf_graph *out) {
    memset(out, 0, sizeof *out);
    float *ts = malloc(((size_t)sims->n + 1) * sizeof *ts);
    if (!ts) return -1;
    for (int i = 0; i < sims->n; i++) ts[i] = (float)fmin(t[i] + shift, SBF_TFACE_MAX);
    int r = sbf_graph_keep_faces(sims, ts, out);
    free(ts);
    return r;
}

void sbf_merge_reason(char *reason, size_t n, int joins) {
    size_t len = strlen(reason);
    if (len < n)
        snprintf(reason + len, n - len,
                 "; clustered with every bar %.2f higher, then %d pair%s of clusters joined that a "
                 "learned score judged one person",
                 SBF_MERGE_SHIFT, joins, sbf_s(joins));
}

int sbf_cluster_merged(const float *emb, int n, int dim, const sbf_cluster_opts *co, const sbf_threshold_opts *to,
                       int *labels, float *t_out, sbf_cluster_info *ci, sbf_threshold_info *ti) {
    if (ci) memset(ci, 0, sizeof *ci);
    if (n <= 0) {
        if (ti) sbf_threshold_faces(emb, 0, dim, to, NULL, ti);
        return 0;
    }
    float *t = t_out ? t_out : malloc((size_t)n * sizeof *t);
    int k = -1;
    sbf_graph base = {0}, g = {0};
    sbf_merge m = {0};
    if (!t) goto out;
    double t0 = sbf_now();
    sbf_threshold_opts tod = {.threads = co->graph.threads};
    if (sbf_threshold_faces(emb, n, dim, to ? to : &tod, t, ti)) goto out;
    float lo = (float)SBF_MERGE_CMIN;
    for (int i = 0; i < n; i++)
        if (t[i] < lo) lo = t[i];
    sbf_graph_opts go = co->graph;
    go.threshold = lo;
    if (sbf_graph_build(emb, n, dim, &go, &base) || sbf_merge_raised_graph(&base, t, SBF_MERGE_SHIFT, &g)) goto out;
    double t1 = sbf_now();
    if (sbf_chinese_whispers(&g, co->iterations, co->seed, labels) < 0 ||
        sbf_merge_init(&m, &base, emb, n, dim, t, labels, n))
        goto out;
    int joins = sbf_merge_greedy(&m, &sbf_merge_default, SBF_MERGE_CUT, NULL, NULL, NULL);
    if (joins < 0) goto out;
    if (ti) sbf_merge_reason(ti->reason, sizeof ti->reason, joins);
    memcpy(labels, m.lab, (size_t)n * sizeof *labels);
    k = sbf_number_by_size(labels, n);
    if (ci) *ci = (sbf_cluster_info){t1 - t0, sbf_now() - t1, (long long)(g.rowptr[n] / 2), g.capped};
out:
    sbf_merge_free(&m);
    sbf_graph_free(&base);
    sbf_graph_free(&g);
    if (!t_out) free(t);
    return k;
}

/* The default model: printed by `build/native/tools/eval-merge --db build/lfw-dev.db` (fitted on the draws of
 * seeds 3-5 of its 16 specs, then twice on the pairs the merge meets). */
const sbf_merge_model sbf_merge_default = {
    .nf = SBF_MERGE_NF,
    .beta = {-5.9234906303412167, 0.73854140876171204, 0.73098938315360995, 2.2198837368576965, 0.68815993391270758,
             -0.23644548423392817, 0.46831350186473258, -0.69457762249995181, 0.26853575554424347, -0.45312150480656943,
             0.68021103478949718, -0.1364699727325015},
    .mu = {1, 0.51692024837406914, 0.46496945070126555, -0.22501671494758013, 0.567828169206122, 0.76535874164321727,
           1.3947203547077958, 1.4028008459068007, 3.2254647210885277, 0.72546996574259215, 0.5140001490548527,
           0.15211760463657426},
    .sd = {1.0000000000000001e-09, 0.06469191536847041, 0.09058733647515263, 0.20774538432750414, 0.49537797735918021,
           0.25919990320110131, 0.97777652633053402, 0.3825858690265852, 0.27294569970842381, 0.22268778078066087,
           0.063847720536542418, 0.33276117178685222},
};
