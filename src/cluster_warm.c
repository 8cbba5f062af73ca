/* src/cluster_warm.c — Chinese Whispers from stored people, with constraints; see src/cluster_warm.h.
 *
 * Labels live in a compact space: [0, S) the S distinct stored ids, [S, S + n) a fresh label per face
 * (face i's own label is S + i).  A "unit" is a must-link group or a single face; units are visited in
 * a fresh random order each round exactly as sbf_chinese_whispers visits faces (same generator, same
 * calls), so with no stored labels, groups, constraints or bonus the result is the same partition.
 * The first round moves only units without a stored person, so new faces join stored people before a
 * stored face could adopt a new face's own label. */
#include "src/cluster_warm.h"

#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* index of v in the sorted unique array a[0..n), or -1 */
static int find_id(const int *a, int n, int v) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (a[mid] == v) return mid;
        if (a[mid] < v) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

int sbf_chinese_whispers_warm(const sbf_graph *g, int iterations, uint64_t seed, const sbf_cw_warm_opts *o, int *labels) {
    int n = g->n;
    if (n == 0) return 0;
    sbf_cw_warm_opts none = {0};
    if (!o) o = &none;
    int rc = -1;
    int *ids = malloc((size_t)n * sizeof *ids), *unit_of = malloc((size_t)n * sizeof *unit_of);
    int *ustart = calloc((size_t)n + 1, sizeof *ustart), *umem = malloc((size_t)n * sizeof *umem), *order = malloc((size_t)n * sizeof *order);
    int *lab = malloc((size_t)n * sizeof *lab), *ulab = malloc((size_t)n * sizeof *ulab), *touched = malloc(((size_t)n * 4 + 2) * sizeof *touched);
    int *gids = NULL, *newid = NULL, *upref = NULL;
    unsigned char *ufrozen = calloc((size_t)n, 1);
    double *sum = calloc((size_t)n * 2, sizeof *sum);
    int *cnt = calloc((size_t)n * 2, sizeof *cnt); /* faces per label */
    char *seen = calloc((size_t)n * 2, 1), *forbid = calloc((size_t)n * 2, 1);
    if (!ids || !unit_of || !ustart || !umem || !order || !lab || !ulab || !touched || !ufrozen || !sum || !cnt || !seen || !forbid) goto out;
    /* stored ids */
    int S = 0, maxid = -1;
    if (o->init) {
        for (int i = 0; i < n; i++)
            if (o->init[i] >= 0) { ids[S++] = o->init[i]; if (o->init[i] > maxid) maxid = o->init[i]; }
        qsort(ids, (size_t)S, sizeof *ids, cmp_int);
        int u = 0;
        for (int i = 0; i < S; i++)
            if (i == 0 || ids[i] != ids[i - 1]) ids[u++] = ids[i];
        S = u;
    }
    if (o->frozen)
        for (int i = 0; i < n; i++)
            if (o->frozen[i] && (!o->init || o->init[i] < 0)) goto out;
    /* units: must-link groups (by group id) and single faces; a unit is numbered by its smallest face */
    int U = 0;
    if (o->group) {
        int ng = 0;
        gids = malloc((size_t)n * sizeof *gids);
        if (!gids) goto out;
        for (int i = 0; i < n; i++)
            if (o->group[i] >= 0) gids[ng++] = o->group[i];
        qsort(gids, (size_t)ng, sizeof *gids, cmp_int);
        int u = 0;
        for (int i = 0; i < ng; i++)
            if (i == 0 || gids[i] != gids[i - 1]) gids[u++] = gids[i];
        ng = u;
        int *gunit = malloc(((size_t)ng + 1) * sizeof *gunit);
        if (!gunit) goto out;
        for (int k = 0; k < ng; k++) gunit[k] = -1;
        for (int i = 0; i < n; i++) {
            if (o->group[i] < 0) { unit_of[i] = U++; continue; }
            int k = find_id(gids, ng, o->group[i]);
            if (gunit[k] < 0) gunit[k] = U++;
            unit_of[i] = gunit[k];
        }
        free(gunit);
    } else {
        for (int i = 0; i < n; i++) unit_of[i] = U++;
    }
    for (int i = 0; i < n; i++) ustart[unit_of[i] + 1]++;
    for (int u = 0; u < U; u++) ustart[u + 1] += ustart[u];
    {
        int *fill = order; /* scratch */
        memcpy(fill, ustart, (size_t)U * sizeof *fill);
        for (int i = 0; i < n; i++) umem[fill[unit_of[i]]++] = i; /* members ascending */
    }
    /* initial labels: a frozen member's stored person, else the members' most common stored person
     * (ties: the lowest id), else the unit's own label S + (smallest member) */
    for (int u = 0; u < U; u++) {
        int a = ustart[u], b = ustart[u + 1], best = -1, bestc = 0;
        for (int k = a; k < b; k++) {
            int i = umem[k];
            if (o->frozen && o->frozen[i]) { best = find_id(ids, S, o->init[i]); bestc = n + 1; ufrozen[u] = 1; break; }
        }
        if (!ufrozen[u] && o->init)
            for (int k = a; k < b; k++) {
                int i = umem[k];
                if (o->init[i] < 0) continue;
                int c = 0, li = find_id(ids, S, o->init[i]);
                for (int k2 = a; k2 < b; k2++) c += o->init[umem[k2]] == o->init[i];
                if (c > bestc || (c == bestc && li < best)) { bestc = c; best = li; }
            }
        ulab[u] = best >= 0 ? best : S + umem[a];
        for (int k = a; k < b; k++) lab[umem[k]] = ulab[u];
        cnt[ulab[u]] += b - a;
    }
    /* the person each unit's bonus favours: its first member's prefer id (a stored id), if any */
    if (o->prefer) {
        upref = malloc((size_t)U * sizeof *upref);
        if (!upref) goto out;
        for (int u = 0; u < U; u++) {
            int p = o->prefer[umem[ustart[u]]];
            upref[u] = p >= 0 ? find_id(ids, S, p) : -1;
        }
    }
    sbf_rng rng;
    sbf_rng_seed(&rng, seed);
    for (int u = 0; u < U; u++) order[u] = u;
    for (int it = 0; it < iterations; it++) {
        for (int i = U - 1; i > 0; i--) {
            int j = (int)sbf_rng_below(&rng, (uint32_t)i + 1);
            int t = order[i]; order[i] = order[j]; order[j] = t;
        }
        for (int oi = 0; oi < U; oi++) {
            int u = order[oi];
            if (ufrozen[u] || (it == 0 && ulab[u] < S)) continue; /* round 0 moves only the faces without a stored person */
            int nt = 0, nf = 0, cur = ulab[u];
            for (int k = ustart[u]; k < ustart[u + 1]; k++) {
                int m = umem[k];
                for (int64_t e = g->rowptr[m]; e < g->rowptr[m + 1]; e++) {
                    int j = g->col[e];
                    if (unit_of[j] == u) continue;
                    int l = lab[j];
                    if (!seen[l]) { seen[l] = 1; touched[nt++] = l; sum[l] = 0; }
                    sum[l] += g->w[e];
                }
            }
            if (o->stay > 0) { /* the bonus needs an edge to a face of the person it favours */
                int fav = upref ? upref[u] : cur;
                if (fav >= 0 && seen[fav]) sum[fav] += o->stay;
            }
            if (nt == 0) {
                /* isolated: keeps its label, unless that is a stored person other faces hold: no edge is left
                 * to them, so it becomes a person of its own */
                if (cur < S && cnt[cur] > ustart[u + 1] - ustart[u]) {
                    cnt[cur] -= ustart[u + 1] - ustart[u];
                    cnt[S + umem[ustart[u]]] += ustart[u + 1] - ustart[u];
                    ulab[u] = S + umem[ustart[u]];
                    for (int k = ustart[u]; k < ustart[u + 1]; k++) lab[umem[k]] = ulab[u];
                }
                continue;
            }
            if (o->cannot_start)
                for (int k = ustart[u]; k < ustart[u + 1]; k++) {
                    int m = umem[k];
                    for (int64_t e = o->cannot_start[m]; e < o->cannot_start[m + 1]; e++) {
                        int l = lab[o->cannot_col[e]];
                        if (unit_of[o->cannot_col[e]] != u && !forbid[l]) { forbid[l] = 1; touched[nt + nf++] = l; }
                    }
                }
            /* highest summed weight among the allowed labels; ties broken uniformly at random */
            int best = -1, nties = 0;
            double bw = 0;
            for (int t = 0; t < nt; t++) {
                int l = touched[t];
                if (forbid[l]) continue;
                if (best < 0 || sum[l] > bw) { bw = sum[l]; best = l; nties = 1; }
                else if (sum[l] == bw) {
                    nties++;
                    if (sbf_rng_below(&rng, (uint32_t)nties) == 0) best = l;
                }
            }
            if (best < 0) best = forbid[cur] ? S + umem[ustart[u]] : cur; /* every neighbour's label is forbidden */
            for (int t = 0; t < nt; t++) seen[touched[t]] = 0;
            for (int t = nt; t < nt + nf; t++) forbid[touched[t]] = 0;
            if (best != cur) {
                cnt[cur] -= ustart[u + 1] - ustart[u];
                cnt[best] += ustart[u + 1] - ustart[u];
                ulab[u] = best;
                for (int k = ustart[u]; k < ustart[u + 1]; k++) lab[umem[k]] = best;
            }
        }
    }
    /* back to ids: stored ones as they were, new ones numbered after the largest stored id */
    newid = malloc((size_t)n * sizeof *newid);
    if (!newid) goto out;
    for (int i = 0; i < n; i++) newid[i] = -1;
    int next = maxid + 1, distinct = 0;
    char *used = (char *)seen; /* all zero again */
    for (int i = 0; i < n; i++) {
        int l = lab[i];
        if (!used[l]) { used[l] = 1; distinct++; }
        if (l < S) labels[i] = ids[l];
        else {
            if (newid[l - S] < 0) newid[l - S] = next++;
            labels[i] = newid[l - S];
        }
    }
    rc = distinct;
out:
    free(ids); free(unit_of); free(ustart); free(umem); free(order); free(lab); free(ulab); free(touched);
    free(gids); free(newid); free(upref); free(ufrozen); free(sum); free(cnt); free(seen); free(forbid);
    return rc;
}

typedef struct { int photo, face; } pf_pair;
static int cmp_pf(const void *a, const void *b) {
    const pf_pair *x = a, *y = b;
    if (x->photo != y->photo) return (x->photo > y->photo) - (x->photo < y->photo);
    return (x->face > y->face) - (x->face < y->face);
}

int sbf_cannot_link_same_photo(const int *photo_of, int n, int64_t **start, int **col) {
    *start = NULL;
    *col = NULL;
    pf_pair *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    int64_t *st = calloc((size_t)n + 1, sizeof *st);
    if (!p || !st) { free(p); free(st); return -1; }
    for (int i = 0; i < n; i++) p[i] = (pf_pair){photo_of[i], i};
    qsort(p, (size_t)n, sizeof *p, cmp_pf);
    for (int a = 0; a < n;) {
        int b = a;
        while (b < n && p[b].photo == p[a].photo) b++;
        for (int k = a; k < b; k++) st[p[k].face + 1] = b - a - 1;
        a = b;
    }
    for (int i = 0; i < n; i++) st[i + 1] += st[i];
    int *c = malloc((size_t)(st[n] ? st[n] : 1) * sizeof *c);
    if (!c) { free(p); free(st); return -1; }
    for (int a = 0; a < n;) {
        int b = a;
        while (b < n && p[b].photo == p[a].photo) b++;
        for (int k = a; k < b; k++) {
            int64_t w = st[p[k].face];
            for (int k2 = a; k2 < b; k2++)
                if (k2 != k) c[w++] = p[k2].face;
        }
        a = b;
    }
    free(p);
    *start = st;
    *col = c;
    return 0;
}
