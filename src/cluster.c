/* src/cluster.c — similarity graph and Chinese Whispers; see src/cluster.h.
 *
 * The graph needs every dot product <e_i, e_j>, i < j: a symmetric "A * A^T" product with K = 512, computed
 * by nn's GEMM micro-kernel (nn/gemm.h).  Embeddings are packed once into panels of 16 columns; a task takes
 * a block of 96 rows and, 6 rows at a time (row pointers straight into the embeddings), computes their dots
 * with the panels to its right, chunk by chunk so the panels stay in L2.  Each (i, j) dot is a sequential
 * sum over k at every ISA level (lane-parallel over j), so the levels differ only by FMA rounding. */
#include "src/cluster.h"
#include "nn/gemm.h"
#include "nn/threadpool.h"
#include "src/util.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- PRNG --------------------------------------------------------------------------------------- */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
void sbf_rng_seed(sbf_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}
static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
uint64_t sbf_rng_next(sbf_rng *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}
uint32_t sbf_rng_below(sbf_rng *r, uint32_t n) {
    /* Lemire's multiply-shift with rejection: unbiased */
    uint64_t m = (uint64_t)(uint32_t)(sbf_rng_next(r) >> 32) * n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (lo < t) {
            m = (uint64_t)(uint32_t)(sbf_rng_next(r) >> 32) * n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double sbf_rng_gauss(sbf_rng *r) {
    double u = ((double)(sbf_rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
    double v = ((double)(sbf_rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

void sbf_rng_shuffle(sbf_rng *r, int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)sbf_rng_below(r, (uint32_t)i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

int sbf_cw_pick(const int *touched, int nt, const double *sum, sbf_rng *rng) {
    int best = touched[0], nties = 1;
    double bw = sum[best];
    for (int t = 1; t < nt; t++) {
        int l = touched[t];
        if (sum[l] > bw) {
            bw = sum[l];
            best = l;
            nties = 1;
        } else if (sum[l] == bw) {
            nties++;
            if (sbf_rng_below(rng, (uint32_t)nties) == 0) best = l;
        }
    }
    return best;
}

/* ---- graph -------------------------------------------------------------------------------------- */
#define TILE_M NN_GEMM_MR
#define TILE_N NN_GEMM_NR
#define ROWS_PER_TASK 96  /* multiple of TILE_M */
#define APPROX_MIN_N 1024 /* below this the exact graph is cheap */
#define CHUNK_PANELS 16   /* 16 panels x 16 rows x 512 x 4 B = 512 KiB per chunk */
#define CHUNK_COLS (CHUNK_PANELS * TILE_N)

typedef struct {
    int i, j;
    float w;
} edge;
typedef struct {
    edge *e;
    size_t n, cap;
    int oom;
} edge_buf;

/* The memory guard shared by the exact and the approximate build: edges so far across threads, the
 * limit, and whether it was passed (then the build stops and the capped graph is made instead). */
typedef struct {
    _Atomic long long edges;
    long long max;
    _Atomic int passed;
} edge_guard;
static void guard_init(edge_guard *g, const sbf_graph_opts *opt, int passed) {
    atomic_init(&g->edges, 0);
    g->max = opt->max_edges > 0 ? opt->max_edges : SBF_GRAPH_MAX_EDGES;
    atomic_init(&g->passed, passed);
}
static int guard_passed(edge_guard *g) { return atomic_load_explicit(&g->passed, memory_order_relaxed); }
static void guard_add(edge_guard *g, long long added) {
    if (atomic_fetch_add_explicit(&g->edges, added, memory_order_relaxed) + added > g->max) atomic_store(&g->passed, 1);
}

typedef struct {
    const float *emb;
    int n, dim, npanels;
    float thr;
    float *bpack;
    edge_buf *bufs; /* per thread */
    const sbf_graph_opts *opt;
    _Atomic long long pairs_done; /* for opt->progress */
    long long pairs_total;
    edge_guard guard;
    int cap; /* capped build: each row keeps its `cap` best edges (heaps per thread) */
    float **heapw;
    int **heapj;
} graph_ctx;

static void push_edge(edge_buf *b, int i, int j, float w) {
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        edge *ne = realloc(b->e, nc * sizeof *ne);
        if (!ne) {
            b->oom = 1;
            return;
        }
        b->e = ne;
        b->cap = nc;
    }
    b->e[b->n++] = (edge){i, j, w};
}

/* Packs vectors j0 .. j0+15 of a list (rows idx[j] of emb, or rows j when idx is NULL; count in all) into a
 * panel of nn's GEMM; vectors past count are zero. */
static void pack_panel(const float *emb, int dim, const int *idx, int count, int j0, float *panel) {
    const float *cols[TILE_N];
    int nc = count - j0 < TILE_N ? count - j0 : TILE_N;
    for (int j = 0; j < nc; j++) cols[j] = emb + (size_t)(idx ? idx[j0 + j] : j0 + j) * dim;
    nn_gemm_pack(cols, nc, dim, panel);
}

/* Row pointers of up to 6 vectors r0 .. r0+5 of a list (as pack_panel; count in all) for nn_gemm_dots;
 * returns how many are real (the others repeat the first). */
static int strip_rows(const float *emb, int dim, const int *idx, int count, int r0, const float *rows[TILE_M]) {
    int mr = count - r0 < TILE_M ? count - r0 : TILE_M;
    for (int r = 0; r < TILE_M; r++) {
        int i = r0 + (r < mr ? r : 0);
        rows[r] = emb + (size_t)(idx ? idx[i] : i) * dim;
    }
    return mr;
}

static void pack_task(void *vctx, int task, int thread) {
    (void)thread;
    graph_ctx *c = vctx;
    pack_panel(c->emb, c->dim, NULL, c->n, task * TILE_N, c->bpack + (size_t)task * nn_gemm_panel_floats(c->dim));
}

/* Adds a finished task's pairs to the count and, on thread 0 only, tells opt->progress. */
static void report_pairs(graph_ctx *c, long long pairs, int thread) {
    if (!c->opt->progress) return;
    long long done = atomic_fetch_add(&c->pairs_done, pairs) + pairs;
    if (thread == 0) c->opt->progress(c->opt->progress_ctx, (double)done / (double)c->pairs_total);
}

/* Min-heap of a row's best edges (weakest on top; at equal weight the larger column is weaker, so the
 * result does not depend on the order columns arrive in). */
static int heap_weaker(const float *w, const int *j, int a, int b) {
    return w[a] < w[b] || (w[a] == w[b] && j[a] > j[b]);
}
static void heap_swap(float *w, int *j, int a, int b) {
    float tw = w[a];
    w[a] = w[b];
    w[b] = tw;
    int tj = j[a];
    j[a] = j[b];
    j[b] = tj;
}
static void heap_offer(float *w, int *j, int *n, int cap, float v, int col) {
    int k;
    if (*n < cap) {
        k = (*n)++;
        w[k] = v;
        j[k] = col;
        while (k > 0 && heap_weaker(w, j, k, (k - 1) / 2)) { /* sift up */
            heap_swap(w, j, k, (k - 1) / 2);
            k = (k - 1) / 2;
        }
        return;
    }
    if (v < w[0] || (v == w[0] && col > j[0])) return; /* not better than the weakest kept */
    w[0] = v;
    j[0] = col;
    for (k = 0;;) { /* sift down */
        int l = 2 * k + 1, r = l + 1, m = k;
        if (l < *n && heap_weaker(w, j, l, m)) m = l;
        if (r < *n && heap_weaker(w, j, r, m)) m = r;
        if (m == k) break;
        heap_swap(w, j, k, m);
        k = m;
    }
}

/* One block of rows against the faces after them (exact: each pair once, every edge above T kept), or,
 * in the capped build, against every face (a row needs all of its candidates), keeping each row's c->cap
 * best edges; those are emitted as undirected edges, and build_csr merges the two copies of an edge both
 * ends kept.  The exact build stops early once the edge limit is passed. */
static void graph_task(void *vctx, int task, int thread) {
    graph_ctx *c = vctx;
    edge_buf *eb = &c->bufs[thread];
    float *hw = c->cap ? c->heapw[thread] : NULL;
    int *hj = c->cap ? c->heapj[thread] : NULL, hn[ROWS_PER_TASK] = {0};
    const int i0 = task * ROWS_PER_TASK, i1 = i0 + ROWS_PER_TASK < c->n ? i0 + ROWS_PER_TASK : c->n;
    float out[TILE_M * CHUNK_COLS];
    for (int pc = c->cap ? 0 : i0 / TILE_N; pc < c->npanels; pc += CHUNK_PANELS) {
        if (!c->cap && guard_passed(&c->guard)) return;
        size_t before = eb->n;
        int pe = pc + CHUNK_PANELS < c->npanels ? pc + CHUNK_PANELS : c->npanels;
        for (int ri = i0; ri < i1; ri += TILE_M) {
            const float *rows[TILE_M];
            int mr = strip_rows(c->emb, c->dim, NULL, i1, ri, rows);
            int ps = pc;
            if (!c->cap)
                while (ps < pe && ps * TILE_N + TILE_N - 1 <= ri) ps++; /* every j <= every i of the strip */
            if (ps == pe) continue;
            int j0 = ps * TILE_N, cend = (c->n < pe * TILE_N ? c->n : pe * TILE_N) - j0;
            nn_gemm_dots(rows, mr, c->dim, c->bpack + (size_t)ps * nn_gemm_panel_floats(c->dim), cend, out, CHUNK_COLS);
            for (int r = 0; r < mr; r++) {
                int i = ri + r, lr = i - i0;
                const float *o = out + (size_t)r * CHUNK_COLS;
                if (c->cap) {
                    for (int cc = 0; cc < cend; cc++)
                        if (o[cc] > c->thr && j0 + cc != i)
                            heap_offer(hw + (size_t)lr * c->cap, hj + (size_t)lr * c->cap, &hn[lr], c->cap, o[cc],
                                       j0 + cc);
                    continue;
                }
                for (int cc = i + 1 - j0 > 0 ? i + 1 - j0 : 0; cc < cend; cc++)
                    if (o[cc] > c->thr) push_edge(eb, i, j0 + cc, o[cc]);
            }
        }
        if (!c->cap) guard_add(&c->guard, (long long)(eb->n - before));
    }
    if (!c->cap) { /* rows i0..i1-1 each met the faces after them */
        report_pairs(c, (long long)(i1 - i0) * (c->n - i0) - (long long)(i1 - i0) * (i1 - i0 + 1) / 2, thread);
        return;
    }
    for (int i = i0; i < i1; i++) {
        const float *w = hw + (size_t)(i - i0) * c->cap;
        const int *j = hj + (size_t)(i - i0) * c->cap;
        for (int k = 0; k < hn[i - i0]; k++) push_edge(eb, i < j[k] ? i : j[k], i < j[k] ? j[k] : i, w[k]);
    }
    report_pairs(c, (long long)(i1 - i0) * c->n, thread);
}

typedef struct {
    int col;
    float w;
} nb;
static int cmp_nb(const void *a, const void *b) {
    int x = ((const nb *)a)->col, y = ((const nb *)b)->col;
    return (x > y) - (x < y);
}

static int build_csr(int n, edge_buf *bufs, int nbufs, sbf_graph *g) {
    g->n = n;
    g->rowptr = calloc((size_t)n + 1, sizeof *g->rowptr);
    size_t ne = 0;
    for (int t = 0; t < nbufs; t++) ne += bufs[t].n;
    g->col = malloc((2 * ne + 1) * sizeof *g->col);
    g->w = malloc((2 * ne + 1) * sizeof *g->w);
    nb *tmp = malloc((2 * ne + 1) * sizeof *tmp);
    int64_t *fill = malloc(((size_t)n + 1) * sizeof *fill);
    if (!g->rowptr || !g->col || !g->w || !tmp || !fill) {
        free(tmp);
        free(fill);
        sbf_graph_free(g);
        return -1;
    }
    for (int t = 0; t < nbufs; t++)
        for (size_t k = 0; k < bufs[t].n; k++) {
            g->rowptr[bufs[t].e[k].i + 1]++;
            g->rowptr[bufs[t].e[k].j + 1]++;
        }
    for (int i = 0; i < n; i++) g->rowptr[i + 1] += g->rowptr[i];
    memcpy(fill, g->rowptr, ((size_t)n + 1) * sizeof *fill);
    for (int t = 0; t < nbufs; t++)
        for (size_t k = 0; k < bufs[t].n; k++) {
            const edge *e = &bufs[t].e[k];
            tmp[fill[e->i]++] = (nb){e->j, e->w};
            tmp[fill[e->j]++] = (nb){e->i, e->w};
        }
    int64_t o = 0; /* rows are compacted in place: an edge both ends kept (capped build) arrives twice */
    for (int i = 0; i < n; i++) {
        int64_t a = i ? fill[i - 1] : 0, b = fill[i]; /* after filling, fill[i] is the old end of row i */
        if (b - a > 1) qsort(tmp + a, (size_t)(b - a), sizeof *tmp, cmp_nb);
        g->rowptr[i] = o;
        for (int64_t k = a; k < b; k++) {
            if (k > a && tmp[k].col == tmp[k - 1].col) continue;
            g->col[o] = tmp[k].col;
            g->w[o++] = tmp[k].w;
        }
    }
    g->rowptr[n] = o;
    free(tmp);
    free(fill);
    return 0;
}

static int graph_build_approx(const float *emb, int n, int dim, const sbf_graph_opts *opt, sbf_graph *g);

static int graph_build_exact(const float *emb, int n, int dim, const sbf_graph_opts *opt, sbf_graph *g,
                             int capped_only);

int sbf_graph_build(const float *emb, int n, int dim, const sbf_graph_opts *opt, sbf_graph *g) {
    memset(g, 0, sizeof *g);
    if (n < 0 || dim <= 0) return -1;
    if (opt->approx && n >= APPROX_MIN_N) {
        int rc = graph_build_approx(emb, n, dim, opt, g);
        if (rc != 1) return rc;
        memset(g, 0, sizeof *g); /* 1: over the edge limit, so the capped graph */
        return graph_build_exact(emb, n, dim, opt, g, 1);
    }
    return graph_build_exact(emb, n, dim, opt, g, 0);
}

/* The exact graph, or (capped_only, or when it passes the edge limit) the capped one. */
static int graph_build_exact(const float *emb, int n, int dim, const sbf_graph_opts *opt, sbf_graph *g,
                             int capped_only) {
    graph_ctx c = {0};
    c.emb = emb;
    c.n = n;
    c.dim = dim;
    c.thr = (float)opt->threshold;
    c.npanels = (n + TILE_N - 1) / TILE_N;
    c.opt = opt;
    atomic_init(&c.pairs_done, 0);
    c.pairs_total = (long long)n * (n - 1) / 2 > 0 ? (long long)n * (n - 1) / 2 : 1;
    guard_init(&c.guard, opt, capped_only);
    nn_pool *pool = nn_pool_new(opt->threads);
    if (!pool) return -1;
    int nt = nn_pool_threads(pool);
    size_t bbytes = (size_t)c.npanels * nn_gemm_panel_floats(dim) * sizeof(float); /* a multiple of 64 */
    c.bpack = aligned_alloc(64, bbytes ? bbytes : 64);
    c.bufs = calloc((size_t)nt, sizeof *c.bufs);
    int rc = -1;
    if (!c.bpack || !c.bufs) goto out;
    nn_pool_run(pool, c.npanels, pack_task, &c);
    if (!capped_only) nn_pool_run(pool, (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK, graph_task, &c);
    if (guard_passed(&c.guard)) { /* too many edges: start again keeping each face's best ones */
        c.cap = opt->cap_degree > 0 ? opt->cap_degree : SBF_GRAPH_CAP_DEGREE;
        c.heapw = calloc((size_t)nt, sizeof *c.heapw);
        c.heapj = calloc((size_t)nt, sizeof *c.heapj);
        if (!c.heapw || !c.heapj) goto out;
        for (int t = 0; t < nt; t++) {
            free(c.bufs[t].e);
            c.bufs[t] = (edge_buf){0};
            c.heapw[t] = malloc((size_t)ROWS_PER_TASK * c.cap * sizeof **c.heapw);
            c.heapj[t] = malloc((size_t)ROWS_PER_TASK * c.cap * sizeof **c.heapj);
            if (!c.heapw[t] || !c.heapj[t]) goto out;
        }
        atomic_store(&c.pairs_done, 0);
        c.pairs_total = (long long)n * n;
        if (opt->progress && !capped_only) opt->progress(opt->progress_ctx, 0); /* starting over */
        nn_pool_run(pool, (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK, graph_task, &c);
    }
    for (int t = 0; t < nt; t++)
        if (c.bufs[t].oom) goto out;
    rc = build_csr(n, c.bufs, nt, g);
    if (rc == 0) g->capped = c.cap;
out:
    for (int t = 0; t < nt; t++) {
        if (c.heapw) free(c.heapw[t]);
        if (c.heapj) free(c.heapj[t]);
    }
    free(c.heapw);
    free(c.heapj);
    if (c.bufs)
        for (int t = 0; t < nt; t++) free(c.bufs[t].e);
    free(c.bufs);
    free(c.bpack);
    nn_pool_free(pool);
    return rc;
}

void sbf_graph_free(sbf_graph *g) {
    free(g->rowptr);
    free(g->col);
    free(g->w);
    memset(g, 0, sizeof *g);
}

/* ---- Chinese Whispers --------------------------------------------------------------------------- */
typedef struct {
    int label, size, first;
} csize;
static int cmp_csize(const void *a, const void *b) {
    const csize *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

int sbf_chinese_whispers(const sbf_graph *g, int iterations, uint64_t seed, int *labels) {
    int n = g->n;
    if (n == 0) return 0;
    int *order = malloc((size_t)n * sizeof *order);
    double *sum = calloc((size_t)n, sizeof *sum);
    int *touched = malloc((size_t)n * sizeof *touched);
    char *seen = calloc((size_t)n, 1);
    if (!order || !sum || !touched || !seen) {
        free(order);
        free(sum);
        free(touched);
        free(seen);
        return -1;
    }
    for (int i = 0; i < n; i++) labels[i] = order[i] = i;
    sbf_rng rng;
    sbf_rng_seed(&rng, seed);
    for (int it = 0; it < iterations; it++) {
        sbf_rng_shuffle(&rng, order, n);
        for (int oi = 0; oi < n; oi++) {
            int u = order[oi];
            int64_t a = g->rowptr[u], b = g->rowptr[u + 1];
            if (a == b) continue;
            int nt = 0;
            for (int64_t k = a; k < b; k++) {
                int l = labels[g->col[k]];
                if (!seen[l]) {
                    seen[l] = 1;
                    touched[nt++] = l;
                    sum[l] = 0;
                }
                sum[l] += g->w[k];
            }
            int best = sbf_cw_pick(touched, nt, sum, &rng);
            for (int t = 0; t < nt; t++) seen[touched[t]] = 0;
            labels[u] = best;
        }
    }
    free(order);
    free(sum);
    free(touched);
    free(seen);
    return sbf_number_by_size(labels, n);
}

int sbf_number_by_size(int *labels, int n) {
    csize *cs = malloc((size_t)(n ? n : 1) * sizeof *cs);
    int *map = malloc((size_t)(n ? n : 1) * sizeof *map);
    if (!cs || !map) {
        free(cs);
        free(map);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        cs[i].label = i;
        cs[i].size = 0;
        cs[i].first = n;
    }
    for (int i = 0; i < n; i++) {
        csize *c = &cs[labels[i]];
        c->size++;
        if (i < c->first) c->first = i;
    }
    qsort(cs, (size_t)n, sizeof *cs, cmp_csize);
    int k = 0;
    for (int i = 0; i < n && cs[i].size > 0; i++) map[cs[i].label] = k++;
    for (int i = 0; i < n; i++) labels[i] = map[labels[i]];
    free(cs);
    free(map);
    return k;
}

void sbf_cluster_opts_default(sbf_cluster_opts *o) {
    memset(o, 0, sizeof *o);
    o->graph.threshold = SBF_DEFAULT_THRESHOLD;
    o->graph.threads = 0;
    o->iterations = SBF_DEFAULT_ITERATIONS;
    o->seed = SBF_DEFAULT_SEED;
}

int sbf_cluster(const float *emb, int n, int dim, const sbf_cluster_opts *o, int *labels, sbf_cluster_info *info) {
    sbf_graph g;
    double t0 = sbf_now();
    if (sbf_graph_build(emb, n, dim, &o->graph, &g)) return -1;
    double t1 = sbf_now();
    int k = sbf_chinese_whispers(&g, o->iterations, o->seed, labels);
    double t2 = sbf_now();
    if (info) *info = (sbf_cluster_info){t1 - t0, t2 - t1, (long long)(g.rowptr[n] / 2), g.capped};
    sbf_graph_free(&g);
    return k;
}

int sbf_cluster_query(const float *emb, int n, int dim, const float *query, const sbf_cluster_opts *o, int **members) {
    *members = NULL;
    float *all = malloc(((size_t)n + 1) * dim * sizeof *all);
    int *labels = malloc(((size_t)n + 1) * sizeof *labels);
    if (!all || !labels) {
        free(all);
        free(labels);
        return -1;
    }
    if (n) memcpy(all, emb, (size_t)n * dim * sizeof *all);
    memcpy(all + (size_t)n * dim, query, (size_t)dim * sizeof *all);
    int k = sbf_cluster(all, n + 1, dim, o, labels, NULL);
    free(all);
    if (k < 0) {
        free(labels);
        return -1;
    }
    int cnt = 0;
    for (int i = 0; i < n; i++) cnt += labels[i] == labels[n];
    int *m = malloc((size_t)(cnt ? cnt : 1) * sizeof *m);
    if (!m) {
        free(labels);
        return -1;
    }
    cnt = 0;
    for (int i = 0; i < n; i++)
        if (labels[i] == labels[n]) m[cnt++] = i;
    free(labels);
    *members = m;
    return cnt;
}

/* ---- approximate graph (--approx) ----------------------------------------------------------------
 * An inverted file: spherical k-means (sqrt(n) cells, trained on a sample) partitions the sphere.
 * Every face lives in its nearest cell (its home) and probes its APPROX_PROBES nearest cells; the dot
 * product of faces a and b is computed when a probes b's home (each pair is kept once: from the
 * smaller index, or from the side that found it when only one did).  Edges found are exact (same
 * kernel, same weights); a pair is missed only when neither face's probes reach the other's home,
 * which for faces of one identity (similarity > T) is rare.  Cost ~ n^2 * APPROX_PROBES / cells. */
#define APPROX_PROBES 8
#define KMEANS_ITERS 6

/* out[r * ldo + c] = dot(vector r0 + r of the list (rows idx[...] of emb), B column c) for r < nrows, c < ncols,
 * B packed. */
static void dense_block(const float *emb, int dim, const int *idx, int r0, int nrows, const float *bpack, int ncols,
                        float *out, int ldo) {
    for (int m = 0; m < nrows; m += TILE_M) {
        const float *rows[TILE_M];
        int mr = strip_rows(emb, dim, idx, r0 + nrows, r0 + m, rows);
        nn_gemm_dots(rows, mr, dim, bpack, ncols, out + (size_t)m * ldo, (size_t)ldo);
    }
}

typedef struct {
    const float *emb;
    int n, dim, ncent, nprobe;
    float thr;
    const int *rows; /* points to assign (sample indices or all) */
    int nrows;
    float *cpack;  /* packed centroids */
    int *assign;   /* nrows * nprobe cell ids, nearest first */
    float **dense; /* per thread */
    /* cells: home members and probing points, CSR by cell */
    const int *home_start, *home_mem, *probe_start, *probe_mem, *cell_order;
    edge_buf *bufs;
    edge_guard guard;
} approx_ctx;

static void assign_task(void *vctx, int task, int thread) {
    approx_ctx *c = vctx;
    int r0 = task * ROWS_PER_TASK, nr = c->nrows - r0 < ROWS_PER_TASK ? c->nrows - r0 : ROWS_PER_TASK;
    float *d = c->dense[thread];
    dense_block(c->emb, c->dim, c->rows, r0, nr, c->cpack, c->ncent, d, c->ncent);
    for (int r = 0; r < nr; r++) {
        int best[APPROX_PROBES];
        float bv[APPROX_PROBES];
        int nb_ = 0;
        const float *row = d + (size_t)r * c->ncent;
        for (int k = 0; k < c->ncent; k++) {
            float v = row[k];
            if (nb_ < c->nprobe || v > bv[nb_ - 1]) {
                int pos = nb_ < c->nprobe ? nb_++ : nb_ - 1;
                while (pos > 0 && bv[pos - 1] < v) {
                    bv[pos] = bv[pos - 1];
                    best[pos] = best[pos - 1];
                    pos--;
                }
                bv[pos] = v;
                best[pos] = k;
            }
        }
        memcpy(c->assign + (size_t)(r0 + r) * c->nprobe, best, (size_t)c->nprobe * sizeof *best);
    }
}

static int probes_cell(const approx_ctx *c, int point, int cell) {
    const int *a = c->assign + (size_t)point * c->nprobe;
    for (int q = 0; q < c->nprobe; q++)
        if (a[q] == cell) return 1;
    return 0;
}

static void cell_task(void *vctx, int task, int thread) {
    approx_ctx *c = vctx;
    int cell = c->cell_order[task];
    const int *home = c->home_mem + c->home_start[cell], *qry = c->probe_mem + c->probe_start[cell];
    int mh = c->home_start[cell + 1] - c->home_start[cell], mq = c->probe_start[cell + 1] - c->probe_start[cell];
    if (mh == 0 || mq == 0) return;
    edge_buf *eb = &c->bufs[thread];
    int npanels = (mh + TILE_N - 1) / TILE_N;
    float *bp = aligned_alloc(64, (size_t)npanels * nn_gemm_panel_floats(c->dim) * sizeof(float));
    float *d = malloc((size_t)ROWS_PER_TASK * mh * sizeof *d);
    if (!bp || !d) {
        eb->oom = 1;
        free(bp);
        free(d);
        return;
    }
    for (int p = 0; p < npanels; p++)
        pack_panel(c->emb, c->dim, home, mh, p * TILE_N, bp + (size_t)p * nn_gemm_panel_floats(c->dim));
    for (int r0 = 0; r0 < mq; r0 += ROWS_PER_TASK) {
        if (guard_passed(&c->guard)) break;
        size_t before = eb->n;
        int nr = mq - r0 < ROWS_PER_TASK ? mq - r0 : ROWS_PER_TASK;
        dense_block(c->emb, c->dim, qry, r0, nr, bp, mh, d, mh);
        for (int r = 0; r < nr; r++) {
            int a = qry[r0 + r];
            int home_a = c->assign[(size_t)a * c->nprobe];
            const float *row = d + (size_t)r * mh;
            for (int hj = 0; hj < mh; hj++) {
                if (!(row[hj] > c->thr)) continue;
                int b = home[hj];
                if (b == a) continue;
                /* a found b; keep it from here when a < b, or when b does not find a */
                if (a > b && probes_cell(c, b, home_a)) continue;
                push_edge(eb, a < b ? a : b, a < b ? b : a, row[hj]);
            }
        }
        guard_add(&c->guard, (long long)(eb->n - before));
    }
    free(bp);
    free(d);
}

static int cmp_cell_cost(const void *x, const void *y, void *ctx) {
    const approx_ctx *c = ctx;
    int a = *(const int *)x, b = *(const int *)y;
    long ca = (long)(c->home_start[a + 1] - c->home_start[a]) * (c->probe_start[a + 1] - c->probe_start[a]);
    long cb = (long)(c->home_start[b + 1] - c->home_start[b]) * (c->probe_start[b + 1] - c->probe_start[b]);
    if (ca != cb) return ca > cb ? -1 : 1;
    return (a > b) - (a < b);
}

/* CSR of points by cell: start[nc + 1], mem[...]; which(i, q) gives point i's q-th cell. */
static int cells_csr(const approx_ctx *c, int n, int nc, int per_point, int **start_out, int **mem_out) {
    int *start = calloc((size_t)nc + 1, sizeof *start), *fill = malloc((size_t)nc * sizeof *fill);
    if (!start || !fill) {
        free(start);
        free(fill);
        return -1;
    }
    for (int i = 0; i < n; i++)
        for (int q = 0; q < per_point; q++) start[c->assign[(size_t)i * c->nprobe + q] + 1]++;
    for (int k = 0; k < nc; k++) start[k + 1] += start[k];
    int *mem = malloc(((size_t)start[nc] + 1) * sizeof *mem);
    if (!mem) {
        free(start);
        free(fill);
        return -1;
    }
    memcpy(fill, start, (size_t)nc * sizeof *fill);
    for (int i = 0; i < n; i++)
        for (int q = 0; q < per_point; q++) mem[fill[c->assign[(size_t)i * c->nprobe + q]]++] = i;
    free(fill);
    *start_out = start;
    *mem_out = mem;
    return 0;
}

static int graph_build_approx(const float *emb, int n, int dim, const sbf_graph_opts *opt, sbf_graph *g) {
    approx_ctx c = {0};
    c.emb = emb;
    c.n = n;
    c.dim = dim;
    c.thr = (float)opt->threshold;
    int nc = (int)lround(sqrt((double)n));
    if (nc < 16) nc = 16;
    if (nc > 4096) nc = 4096;
    c.ncent = nc;
    int rc = -1;
    nn_pool *pool = nn_pool_new(opt->threads);
    if (!pool) return -1;
    int nt = nn_pool_threads(pool);
    int ns = n < 64 * nc ? n : 64 * nc;
    int *idx = malloc((size_t)n * sizeof *idx);
    float *cent = malloc((size_t)nc * dim * sizeof *cent);
    double *acc = malloc((size_t)nc * dim * sizeof *acc);
    int *cnt = malloc((size_t)nc * sizeof *cnt);
    int npc = (nc + TILE_N - 1) / TILE_N;
    int *hs = NULL, *hm = NULL, *ps = NULL, *pm = NULL, *corder = malloc((size_t)nc * sizeof *corder);
    c.cpack = aligned_alloc(64, (size_t)npc * nn_gemm_panel_floats(dim) * sizeof(float));
    c.assign = malloc((size_t)n * APPROX_PROBES * sizeof *c.assign);
    c.dense = calloc((size_t)nt, sizeof *c.dense);
    c.bufs = calloc((size_t)nt, sizeof *c.bufs);
    if (!idx || !cent || !acc || !cnt || !c.cpack || !c.assign || !c.dense || !c.bufs || !corder) goto out;
    for (int t = 0; t < nt; t++) {
        c.dense[t] = malloc((size_t)ROWS_PER_TASK * nc * sizeof(float));
        if (!c.dense[t]) goto out;
    }
    /* sample (deterministic partial shuffle) and initial centroids */
    sbf_rng rng;
    sbf_rng_seed(&rng, 0x5bf0a11ce5ull ^ (uint64_t)n);
    for (int i = 0; i < n; i++) idx[i] = i;
    for (int i = 0; i < ns; i++) {
        int j = i + (int)sbf_rng_below(&rng, (uint32_t)(n - i));
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    for (int q = 0; q < nc; q++)
        memcpy(cent + (size_t)q * dim, emb + (size_t)idx[q % ns] * dim, (size_t)dim * sizeof *cent);
    c.rows = idx;
    for (int it = 0; it <= KMEANS_ITERS; it++) {
        for (int p = 0; p < npc; p++) /* pack centroids (zero columns past nc) */
            pack_panel(cent, dim, NULL, nc, p * TILE_N, c.cpack + (size_t)p * nn_gemm_panel_floats(dim));
        if (it == KMEANS_ITERS) break;
        c.nrows = ns;
        c.nprobe = 1;
        nn_pool_run(pool, (ns + ROWS_PER_TASK - 1) / ROWS_PER_TASK, assign_task, &c);
        memset(acc, 0, (size_t)nc * dim * sizeof *acc);
        memset(cnt, 0, (size_t)nc * sizeof *cnt);
        for (int s = 0; s < ns; s++) {
            int q = c.assign[s];
            cnt[q]++;
            const float *v = emb + (size_t)idx[s] * dim;
            double *a = acc + (size_t)q * dim;
            for (int kk = 0; kk < dim; kk++) a[kk] += v[kk];
        }
        for (int q = 0; q < nc; q++) {
            float *ce = cent + (size_t)q * dim;
            if (!cnt[q]) { /* empty cell: restart it at a random sample point */
                memcpy(ce, emb + (size_t)idx[sbf_rng_below(&rng, (uint32_t)ns)] * dim, (size_t)dim * sizeof *ce);
                continue;
            }
            double nn2 = 0;
            for (int kk = 0; kk < dim; kk++) nn2 += acc[(size_t)q * dim + kk] * acc[(size_t)q * dim + kk];
            double inv = nn2 > 0 ? 1 / sqrt(nn2) : 0;
            for (int kk = 0; kk < dim; kk++) ce[kk] = (float)(acc[(size_t)q * dim + kk] * inv);
        }
    }
    /* every point: its home cell and the cells it probes */
    for (int i = 0; i < n; i++) idx[i] = i;
    c.nrows = n;
    c.nprobe = APPROX_PROBES < nc ? APPROX_PROBES : nc;
    nn_pool_run(pool, (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK, assign_task, &c);
    if (cells_csr(&c, n, nc, 1, &hs, &hm) || cells_csr(&c, n, nc, c.nprobe, &ps, &pm)) goto out;
    c.home_start = hs;
    c.home_mem = hm;
    c.probe_start = ps;
    c.probe_mem = pm;
    for (int q = 0; q < nc; q++) corder[q] = q;
    qsort_r(corder, (size_t)nc, sizeof *corder, cmp_cell_cost, &c); /* costliest cells first */
    c.cell_order = corder;
    guard_init(&c.guard, opt, 0);
    nn_pool_run(pool, nc, cell_task, &c);
    if (guard_passed(&c.guard)) {
        rc = 1;
        goto out;
    } /* the caller builds the capped graph */
    for (int t = 0; t < nt; t++)
        if (c.bufs[t].oom) goto out;
    rc = build_csr(n, c.bufs, nt, g);
out:
    if (c.dense)
        for (int t = 0; t < nt; t++) free(c.dense[t]);
    if (c.bufs)
        for (int t = 0; t < nt; t++) free(c.bufs[t].e);
    free(c.dense);
    free(c.bufs);
    free(c.cpack);
    free(c.assign);
    free(idx);
    free(cent);
    free(acc);
    free(cnt);
    free(hs);
    free(hm);
    free(ps);
    free(pm);
    free(corder);
    nn_pool_free(pool);
    return rc;
}
