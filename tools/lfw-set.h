/* tools/lfw-set.h — owns the evaluation tools' view of a labelled photo folder (one sub-folder per
 * person, e.g. ../shared/data/lfw-dev) embedded into a database: identities, the labelled face of each
 * photo (eval-lfw's rule: the face whose box centre is nearest the image centre; a photo without a face
 * is scored as a singleton), seeded library draws ("K people with 3+ photos + M with 1-2"), and the
 * scoring of a clustering of a draw (pairwise and BCubed F over its photos).  Header-only, for tools. */
#ifndef TOOLS_LFW_SET_H
#define TOOLS_LFW_SET_H
#include "src/cluster.h"
#include "src/metrics.h"
#include "src/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    sbf_faceset fs;
    int nid;
    int *photo_id;   /* [nphotos] identity */
    int *photo_face; /* [nphotos] labelled face, -1 when the photo has none */
    int *id_start;   /* [nid + 1] CSR of photos by identity */
    int *id_photos;  /* [nphotos] */
    char **id_name;  /* [nid] */
} lfw_set;

static inline void lfw_parent_name(const char *path, char *out, size_t n) {
    const char *end = strrchr(path, '/');
    if (!end) {
        snprintf(out, n, ".");
        return;
    }
    const char *start = end;
    while (start > path && start[-1] != '/') start--;
    snprintf(out, n, "%.*s", (int)(end - start), start);
}

typedef struct {
    char *key;
    int val;
} lfw_kv;
static inline int lfw_cmp_kv(const void *a, const void *b) {
    return strcmp(((const lfw_kv *)a)->key, ((const lfw_kv *)b)->key);
}

static inline int lfw_cmp_int(const void *a, const void *b) {
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

static inline int lfw_cmp_ll(const void *a, const void *b) {
    return (*(const long long *)a > *(const long long *)b) - (*(const long long *)a < *(const long long *)b);
}

static inline void *lfw_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("lfw-set: out of memory\n", stderr);
        exit(3);
    }
    return p;
}

/* Loads the database; 0 on success (message on stderr otherwise). */
static inline int lfw_set_load(const char *db, lfw_set *L) {
    memset(L, 0, sizeof *L);
    char err[1024];
    sbf_store *s = sbf_store_open(db, SBF_STORE_READ, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s: %s\n", db, err);
        return -1;
    }
    if (sbf_store_faceset(s, &L->fs, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", db, err);
        sbf_store_close(s);
        return -1;
    }
    sbf_store_close(s);
    const sbf_faceset *fs = &L->fs;
    int np = fs->nphotos;
    lfw_kv *ids = lfw_xmalloc((size_t)np * sizeof *ids);
    char name[1024];
    for (int p = 0; p < np; p++) {
        lfw_parent_name(fs->photos[p].path, name, sizeof name);
        ids[p].key = strdup(name);
        ids[p].val = p;
    }
    qsort(ids, (size_t)np, sizeof *ids, lfw_cmp_kv);
    L->photo_id = lfw_xmalloc((size_t)np * sizeof *L->photo_id);
    L->id_name = lfw_xmalloc((size_t)np * sizeof *L->id_name);
    for (int i = 0; i < np; i++) {
        if (i == 0 || strcmp(ids[i].key, ids[i - 1].key)) L->id_name[L->nid++] = strdup(ids[i].key);
        L->photo_id[ids[i].val] = L->nid - 1;
    }
    for (int i = 0; i < np; i++) free(ids[i].key);
    free(ids);
    L->id_start = calloc((size_t)L->nid + 1, sizeof *L->id_start);
    L->id_photos = lfw_xmalloc((size_t)np * sizeof *L->id_photos);
    for (int p = 0; p < np; p++) L->id_start[L->photo_id[p] + 1]++;
    for (int i = 0; i < L->nid; i++) L->id_start[i + 1] += L->id_start[i];
    int *fill = lfw_xmalloc((size_t)L->nid * sizeof *fill);
    memcpy(fill, L->id_start, (size_t)L->nid * sizeof *fill);
    for (int p = 0; p < np; p++) L->id_photos[fill[L->photo_id[p]]++] = p;
    free(fill);
    L->photo_face = lfw_xmalloc((size_t)np * sizeof *L->photo_face);
    for (int p = 0; p < np; p++) {
        const sbf_photo *ph = &fs->photos[p];
        L->photo_face[p] = -1;
        double best = 1e300, cx = ph->width / 2.0, cy = ph->height / 2.0;
        for (int f = ph->first_face; f < ph->first_face + ph->nfaces; f++) {
            const sbf_box *b = &fs->boxes[f];
            double dx = (b->left + b->right) / 2.0 - cx, dy = (b->top + b->bottom) / 2.0 - cy, d = dx * dx + dy * dy;
            if (d < best) {
                best = d;
                L->photo_face[p] = f;
            }
        }
    }
    return 0;
}

static inline void lfw_set_free(lfw_set *L) {
    for (int i = 0; i < L->nid; i++) free(L->id_name[i]);
    free(L->id_name);
    free(L->photo_id);
    free(L->photo_face);
    free(L->id_start);
    free(L->id_photos);
    sbf_faceset_free(&L->fs);
}

static inline int lfw_id_count(const lfw_set *L, int id) { return L->id_start[id + 1] - L->id_start[id]; }

/* A library: some photos with all their faces (as sort would see them), embeddings copied contiguous. */
typedef struct {
    int nphotos, nfaces, npeople;
    int *photos;     /* [nphotos] photo indices of the set */
    int *faces;      /* [nfaces] face indices of the set */
    float *emb;      /* [nfaces * dim] */
    int *truth;      /* [nphotos] identity */
    int *lab_face;   /* [nphotos] local index of the labelled face, or -1 */
    int *face_photo; /* [nfaces] local photo index */
} lfw_lib;

/* Builds a library of the given photos (any order; kept in that order). */
static inline void lfw_lib_make(const lfw_set *L, const int *photos, int np, lfw_lib *b) {
    const sbf_faceset *fs = &L->fs;
    memset(b, 0, sizeof *b);
    b->nphotos = np;
    b->photos = lfw_xmalloc((size_t)np * sizeof *b->photos);
    memcpy(b->photos, photos, (size_t)np * sizeof *photos);
    int nf = 0;
    for (int i = 0; i < np; i++) nf += fs->photos[photos[i]].nfaces;
    b->nfaces = nf;
    b->faces = lfw_xmalloc((size_t)nf * sizeof *b->faces);
    b->face_photo = lfw_xmalloc((size_t)nf * sizeof *b->face_photo);
    b->emb = lfw_xmalloc((size_t)nf * fs->dim * sizeof *b->emb);
    b->truth = lfw_xmalloc((size_t)np * sizeof *b->truth);
    b->lab_face = lfw_xmalloc((size_t)np * sizeof *b->lab_face);
    nf = 0;
    char *seen = calloc((size_t)L->nid, 1);
    for (int i = 0; i < np; i++) {
        const sbf_photo *ph = &fs->photos[photos[i]];
        b->truth[i] = L->photo_id[photos[i]];
        if (!seen[b->truth[i]]) {
            seen[b->truth[i]] = 1;
            b->npeople++;
        }
        b->lab_face[i] = -1;
        for (int f = ph->first_face; f < ph->first_face + ph->nfaces; f++) {
            if (f == L->photo_face[photos[i]]) b->lab_face[i] = nf;
            b->faces[nf] = f;
            b->face_photo[nf] = i;
            memcpy(b->emb + (size_t)nf * fs->dim, fs->emb + (size_t)f * fs->dim, (size_t)fs->dim * sizeof *b->emb);
            nf++;
        }
    }
    free(seen);
}

static inline void lfw_lib_free(lfw_lib *b) {
    free(b->photos);
    free(b->faces);
    free(b->emb);
    free(b->truth);
    free(b->lab_face);
    free(b->face_photo);
    memset(b, 0, sizeof *b);
}

/* Scores face labels (labels[nfaces], k clusters) over the library's photos. */
static inline void lfw_lib_score(const lfw_lib *b, const int *labels, int k, sbf_prf *pw, sbf_prf *bc) {
    int *pred = lfw_xmalloc((size_t)b->nphotos * sizeof *pred);
    for (int i = 0; i < b->nphotos; i++) pred[i] = b->lab_face[i] >= 0 ? labels[b->lab_face[i]] : k + i;
    sbf_pairwise_prf(pred, b->truth, b->nphotos, pw);
    sbf_bcubed_prf(pred, b->truth, b->nphotos, bc);
    free(pred);
}

/* ---- draws ---------------------------------------------------------------------------------------
 * A draw spec: "K+M" (K people with 3+ photos, M people with 1-2 photos, all their photos),
 * "K@P+M" (the K from people with P+ photos), "K@P:C+M" (at most C photos of each of the K, drawn at
 * random), "all".  People are drawn without replacement (partial Fisher-Yates, sbf_rng). */
typedef struct {
    int all, k, p, cap, m;
} lfw_spec;

static inline int lfw_spec_parse(const char *s, lfw_spec *sp) {
    memset(sp, 0, sizeof *sp);
    sp->p = 3;
    if (!strcmp(s, "all")) {
        sp->all = 1;
        return 0;
    }
    char *e;
    sp->k = (int)strtol(s, &e, 10);
    if (e == s) return -1;
    if (*e == '@') {
        s = e + 1;
        sp->p = (int)strtol(s, &e, 10);
        if (e == s || sp->p < 1) return -1;
    }
    if (*e == ':') {
        s = e + 1;
        sp->cap = (int)strtol(s, &e, 10);
        if (e == s || sp->cap < 1) return -1;
    }
    if (*e != '+') return -1;
    s = e + 1;
    sp->m = (int)strtol(s, &e, 10);
    if (e == s || *e || sp->k < 0 || sp->m < 0) return -1;
    return 0;
}

/* The seed of draw d of a spec under a run's seed: a draw depends on its spec, the seed and d only. */
static inline uint64_t lfw_draw_seed(unsigned long long seed, int d, const char *spec) {
    uint64_t s = seed * 1000003ull + (uint64_t)d * 7919ull;
    for (const char *c = spec; *c; c++) s = s * 131 + (unsigned char)*c;
    return s;
}

/* Draws a library's photo list (malloc'ed, *np); -1 when the spec asks for more people than exist. */
static inline int lfw_draw(const lfw_set *L, const lfw_spec *sp, uint64_t seed, int **photos_out, int *np_out) {
    int np = L->fs.nphotos;
    int *photos = lfw_xmalloc((size_t)np * sizeof *photos), n = 0;
    if (sp->all) {
        for (int p = 0; p < np; p++) photos[p] = p;
        *photos_out = photos;
        *np_out = np;
        return 0;
    }
    int *big = lfw_xmalloc((size_t)L->nid * sizeof *big), *small = lfw_xmalloc((size_t)L->nid * sizeof *small), nb = 0,
        ns = 0;
    for (int i = 0; i < L->nid; i++) {
        int c = lfw_id_count(L, i);
        if (c >= sp->p) big[nb++] = i;
        if (c <= 2) small[ns++] = i;
    }
    if (sp->k > nb || sp->m > ns) {
        free(big);
        free(small);
        free(photos);
        return -1;
    }
    sbf_rng r;
    sbf_rng_seed(&r, seed);
    int *tmp = lfw_xmalloc((size_t)np * sizeof *tmp);
    for (int g = 0; g < 2; g++) {
        int *pool = g ? small : big, npool = g ? ns : nb, want = g ? sp->m : sp->k;
        for (int i = 0; i < want; i++) {
            int j = i + (int)sbf_rng_below(&r, (uint32_t)(npool - i));
            int t = pool[i];
            pool[i] = pool[j];
            pool[j] = t;
            /* g == 0 people with 1-2 photos are in both pools only when p <= 2; skip a person already taken */
            int id = pool[i], c = lfw_id_count(L, id);
            int dup = 0;
            if (g)
                for (int q = 0; q < sp->k && !dup; q++) dup = big[q] == id;
            if (dup) continue;
            memcpy(tmp, L->id_photos + L->id_start[id], (size_t)c * sizeof *tmp);
            int take = c;
            if (!g && sp->cap && sp->cap < c) {
                for (int a = 0; a < sp->cap; a++) {
                    int b = a + (int)sbf_rng_below(&r, (uint32_t)(c - a));
                    int x = tmp[a];
                    tmp[a] = tmp[b];
                    tmp[b] = x;
                }
                take = sp->cap;
            }
            memcpy(photos + n, tmp, (size_t)take * sizeof *tmp);
            n += take;
        }
    }
    free(tmp);
    free(big);
    free(small);
    /* photo order = database order, like a real library */
    qsort(photos, (size_t)n, sizeof *photos, lfw_cmp_int);
    *photos_out = photos;
    *np_out = n;
    return 0;
}

/* The subgraph of base keeping edges with weight > t (allocates g). */
static inline void lfw_graph_filter(const sbf_graph *base, double t, sbf_graph *g) {
    memset(g, 0, sizeof *g);
    g->n = base->n;
    g->rowptr = lfw_xmalloc(((size_t)base->n + 1) * sizeof *g->rowptr);
    g->col = lfw_xmalloc(((size_t)base->rowptr[base->n] + 1) * sizeof *g->col);
    g->w = lfw_xmalloc(((size_t)base->rowptr[base->n] + 1) * sizeof *g->w);
    int64_t m = 0;
    g->rowptr[0] = 0;
    for (int i = 0; i < base->n; i++) {
        for (int64_t e = base->rowptr[i]; e < base->rowptr[i + 1]; e++)
            if (base->w[e] > (float)t) {
                g->col[m] = base->col[e];
                g->w[m] = base->w[e];
                m++;
            }
        g->rowptr[i + 1] = m;
    }
}

/* Builds the exact graph of the library at threshold lo (exits on failure). */
static inline void lfw_lib_graph(const lfw_lib *b, int dim, double lo, sbf_graph *g) {
    sbf_graph_opts go = {.threshold = lo};
    memset(g, 0, sizeof *g);
    if (b->nfaces == 0) {
        g->rowptr = calloc(1, sizeof *g->rowptr);
        return;
    }
    if (sbf_graph_build(b->emb, b->nfaces, dim, &go, g)) {
        fputs("lfw-set: graph failed\n", stderr);
        exit(3);
    }
}

/* Chinese Whispers on base's edges above t, scored; labels_out (may be NULL) gets the face labels. */
static inline void lfw_lib_eval_t(const lfw_lib *b, const sbf_graph *base, double t, int itr, uint64_t seed,
                                  sbf_prf *pw, sbf_prf *bc, int *nclusters, int *labels_out) {
    sbf_graph g;
    lfw_graph_filter(base, t, &g);
    int *labels = lfw_xmalloc((size_t)b->nfaces * sizeof *labels);
    int k = b->nfaces ? sbf_chinese_whispers(&g, itr, seed, labels) : 0;
    if (k < 0) {
        fputs("lfw-set: clustering failed\n", stderr);
        exit(3);
    }
    lfw_lib_score(b, labels, k, pw, bc);
    if (nclusters) *nclusters = k;
    if (labels_out) memcpy(labels_out, labels, (size_t)b->nfaces * sizeof *labels);
    free(labels);
    sbf_graph_free(&g);
}
#endif
