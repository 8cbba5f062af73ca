/* src/retrieve.c — find's retrieval; see src/retrieve.h. */
#include "src/retrieve.h"
#include "src/merge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbf_retrieve_opts_default(sbf_retrieve_opts *o) {
    memset(o, 0, sizeof *o);
    o->nn_margin = SBF_RETRIEVE_NN_MARGIN;
    o->expand_margin = SBF_RETRIEVE_EXPAND_MARGIN;
    o->nn_when = 1;
    o->closest = SBF_RETRIEVE_CLOSEST;
}

void sbf_retrieval_free(sbf_retrieval *r) {
    free(r->faces);
    free(r->closest);
    free(r->closest_sim);
    memset(r, 0, sizeof *r);
}

static double dotd(const float *a, const float *b, int dim) {
    double s = 0;
    for (int k = 0; k < dim; k++) s += (double)a[k] * b[k];
    return s;
}

int sbf_retrieve_nodes(const float *emb, int n, int dim, const int *labels, const float *t, const int *qnodes, int nq,
                       const sbf_retrieve_opts *o, sbf_retrieval *out) {
    sbf_retrieve_opts def;
    if (!o) {
        sbf_retrieve_opts_default(&def);
        o = &def;
    }
    memset(out, 0, sizeof *out);
    int ncl = o->closest > 0 ? o->closest : SBF_RETRIEVE_CLOSEST;
    char *isq = calloc((size_t)(n ? n : 1), 1), *take = calloc((size_t)(n ? n : 1), 1),
         *cl = calloc((size_t)(n ? n : 1), 1);
    float *best = malloc((size_t)(n ? n : 1) * sizeof *best); /* highest similarity to any query */
    double *mean = calloc((size_t)dim, sizeof *mean);
    out->closest = malloc((size_t)ncl * sizeof *out->closest);
    out->closest_sim = malloc((size_t)ncl * sizeof *out->closest_sim);
    if (!isq || !take || !cl || !best || !mean || !out->closest || !out->closest_sim) goto fail;
    for (int q = 0; q < nq; q++) isq[qnodes[q]] = 1;
    for (int i = 0; i < n; i++) best[i] = -2;
    /* 1. the queries' own clusters; 2. for a query without a companion in its own cluster (another
     * photo, not its own), the cluster of its most similar other photo, when that is close */
    double nn_best = -2;
    int *j1 = malloc((size_t)(nq ? nq : 1) * sizeof *j1), alone_all = 1;
    double *s1 = malloc((size_t)(nq ? nq : 1) * sizeof *s1);
    char *alone = malloc((size_t)(nq ? nq : 1));
    if (!j1 || !s1 || !alone) {
        free(j1);
        free(s1);
        free(alone);
        goto fail;
    }
    for (int q = 0; q < nq; q++) {
        const float *eq = emb + (size_t)qnodes[q] * dim;
        int lq = labels[qnodes[q]];
        cl[lq] = 1;
        j1[q] = -1;
        s1[q] = -2;
        alone[q] = 1;
        for (int j = 0; j < n; j++) {
            if (isq[j]) continue;
            double s = dotd(eq, emb + (size_t)j * dim, dim);
            if (s >= SBF_RETRIEVE_SAME_PHOTO) continue; /* the query's own photo */
            if (labels[j] == lq) alone[q] = 0;
            if (s > best[j]) best[j] = (float)s;
            if (s > s1[q]) {
                s1[q] = s;
                j1[q] = j;
            }
        }
        alone_all &= alone[q];
        if (s1[q] > nn_best) nn_best = s1[q];
    }
    for (int q = 0; q < nq; q++) {
        int lone = o->nn_when == 0 ? 1 : o->nn_when == 1 ? alone[q] : alone_all;
        if (lone && j1[q] >= 0 && o->nn_margin >= 0 && s1[q] > t[qnodes[q]] - o->nn_margin) cl[labels[j1[q]]] = 1;
    }
    free(j1);
    free(s1);
    free(alone);
    int from_cluster = 0, from_nn = 0, count = 0;
    for (int i = 0; i < n; i++) {
        if (isq[i] || !cl[labels[i]]) continue;
        take[i] = 1;
        count++;
    }
    /* which of them came from the queries' own clusters */
    {
        char *own = calloc((size_t)(n ? n : 1), 1);
        if (!own) goto fail;
        for (int q = 0; q < nq; q++) own[labels[qnodes[q]]] = 1;
        for (int i = 0; i < n; i++)
            if (take[i]) {
                if (own[labels[i]]) from_cluster++;
                else from_nn++;
            }
        free(own);
    }
    /* 3. query expansion: the mean of the queries and the faces so far; every face closer to it than its
     * own threshold joins */
    int from_mean = 0;
    if (o->expand_margin <= 1) {
        for (int i = 0; i < n; i++)
            if (take[i] || isq[i])
                for (int k = 0; k < dim; k++) mean[k] += emb[(size_t)i * dim + k];
        double nn2 = 0;
        for (int k = 0; k < dim; k++) nn2 += mean[k] * mean[k];
        double inv = nn2 > 0 ? 1 / sqrt(nn2) : 0;
        for (int i = 0; i < n; i++) {
            if (take[i] || isq[i]) continue;
            double s = 0;
            const float *e = emb + (size_t)i * dim;
            for (int k = 0; k < dim; k++) s += mean[k] * e[k];
            if (s * inv > t[i] + o->expand_margin) {
                take[i] = 1;
                from_mean++;
                count++;
            }
        }
    }
    out->faces = malloc((size_t)(count ? count : 1) * sizeof *out->faces);
    if (!out->faces) goto fail;
    for (int i = 0; i < n; i++)
        if (take[i]) out->faces[out->nfaces++] = i;
    out->from_cluster = from_cluster;
    out->from_neighbour = from_nn;
    out->from_mean = from_mean;
    /* the closest faces (insertion into a short sorted list) */
    for (int i = 0; i < n; i++) {
        if (isq[i] || best[i] < -1) continue;
        if (out->nclosest == ncl && best[i] <= out->closest_sim[ncl - 1]) continue;
        int pos = out->nclosest < ncl ? out->nclosest++ : ncl - 1;
        while (pos > 0 && out->closest_sim[pos - 1] < best[i]) {
            out->closest[pos] = out->closest[pos - 1];
            out->closest_sim[pos] = out->closest_sim[pos - 1];
            pos--;
        }
        out->closest[pos] = i;
        out->closest_sim[pos] = best[i];
    }
    if (out->nfaces)
        snprintf(
            out->reason, sizeof out->reason,
            "%d face%s: %d in the query's cluster, %d in the cluster of its closest match, %d alike the person's mean",
            out->nfaces, out->nfaces == 1 ? "" : "s", from_cluster, from_nn, from_mean);
    else if (nn_best > -2)
        snprintf(out->reason, sizeof out->reason,
                 "no face passes: the closest has similarity %.3f, below the query's threshold %.3f", nn_best,
                 nq ? t[qnodes[0]] - (o->nn_margin >= 0 ? o->nn_margin : 0) : 0.0);
    else snprintf(out->reason, sizeof out->reason, "no other face to compare with");
    free(isq);
    free(take);
    free(cl);
    free(best);
    free(mean);
    return 0;
fail:
    free(isq);
    free(take);
    free(cl);
    free(best);
    free(mean);
    sbf_retrieval_free(out);
    return -1;
}

int sbf_retrieve(const float *emb, int n, int dim, const float *queries, int nq, const sbf_cluster_opts *co,
                 const sbf_retrieve_opts *ro, sbf_retrieval *out) {
    memset(out, 0, sizeof *out);
    int all = n + nq;
    float *e = malloc(((size_t)all ? (size_t)all : 1) * dim * sizeof *e),
          *t = malloc(((size_t)all ? (size_t)all : 1) * sizeof *t);
    int *labels = malloc(((size_t)all ? (size_t)all : 1) * sizeof *labels),
        *qn = malloc(((size_t)nq ? (size_t)nq : 1) * sizeof *qn);
    int rc = -1;
    if (!e || !t || !labels || !qn) goto out;
    if (n) memcpy(e, emb, (size_t)n * dim * sizeof *e);
    if (nq) memcpy(e + (size_t)n * dim, queries, (size_t)nq * dim * sizeof *e);
    for (int q = 0; q < nq; q++) qn[q] = n + q;
    char why[400];
    if (ro && ro->fixed) {
        sbf_cluster_opts c1 = *co;
        c1.graph.threshold = ro->threshold;
        for (int i = 0; i < all; i++) t[i] = (float)ro->threshold;
        if (all && sbf_cluster(e, all, dim, &c1, labels, NULL) < 0) goto out;
        snprintf(why, sizeof why, "threshold %.2f for every face (-t)", ro->threshold);
    } else {
        sbf_threshold_info ti;
        if (sbf_cluster_merged(e, all, dim, co, NULL, labels, t, NULL, &ti) < 0) goto out;
        snprintf(why, sizeof why, "%s", ti.reason);
    }
    rc = sbf_retrieve_nodes(e, all, dim, labels, t, qn, nq, ro, out);
    if (!rc) memcpy(out->why, why, sizeof why);
out:
    free(e);
    free(t);
    free(labels);
    free(qn);
    return rc;
}
