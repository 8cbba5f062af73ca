/* src/cluster.h — owns face clustering: the similarity graph (an edge where cosine similarity > T,
 * weighted by it; dot products by nn's GEMM micro-kernel over threads, at the ISA level of nn/cpu.h) and
 * Chinese Whispers (seeded, reproducible), with clusters numbered by size. */
#ifndef SRC_CLUSTER_H
#define SRC_CLUSTER_H
#include <stddef.h>
#include <stdint.h>

/* Default cosine-similarity threshold of sbf_cluster_opts_default and the tools (sort and find use the per-face
 * thresholds of src/threshold.h and the merge of src/merge.h unless -t T; this is the best single threshold on all
 * of lfw-dev).
 * TUNED-VALUE: the T maximising min(pairwise F, BCubed F) on all of ../shared/data/lfw-dev (9,525
 * photos) embedded by the default pipeline (mtcnn alignment 1.25x, auto upsampling with the upsample-2 retry
 * and its weak-face look): `build/native/tools/eval-lfw --sweep 0.66:0.78:0.01` -> 0.73 (pairwise F 0.974,
 * BCubed F 0.952).  Re-run the sweep when the pipeline changes. */
#define SBF_DEFAULT_THRESHOLD 0.73
#define SBF_DEFAULT_ITERATIONS 30
#define SBF_DEFAULT_SEED 20180402ull

/* Undirected weighted graph in CSR form: the neighbours of node i are col[rowptr[i] .. rowptr[i+1])
 * (ascending), with weights w[...]; every edge appears in both directions; no self loops. */
typedef struct {
    int n;
    int64_t *rowptr; /* n + 1 */
    int *col;
    float *w;
    int capped; /* set by sbf_graph_build: 0, or K when the graph keeps only each face's K best edges */
} sbf_graph;

typedef struct {
    double threshold; /* edge when dot > threshold */
    int threads;      /* <= 0: all cores */
    int approx;       /* 0 exact all pairs; 1 approximate neighbours (inverted-file probe), for very large sets */
    /* optional: called now and then while the exact graph is built, always from the same thread, with
     * the fraction of the pairs compared so far (for a progress line on long runs); 0 when the work starts
     * over (the memory guard below passed: the comparison is redone keeping each face's best edges) */
    void (*progress)(void *ctx, double fraction);
    void *progress_ctx;
    /* Memory guard of the exact graph: when it would hold more than max_edges edges (0: SBF_GRAPH_MAX_EDGES),
     * as when thousands of photos show one person (every pair of them an edge), it is rebuilt keeping
     * for every face only its cap_degree (0: SBF_GRAPH_CAP_DEGREE) most similar neighbours above the
     * threshold, and the edges either side kept; g->capped tells.  Graphs under the limit are exact. */
    long long max_edges;
    int cap_degree;
} sbf_graph_opts;
#define SBF_GRAPH_MAX_EDGES 16000000LL /* ~0.7 GB while the graph is built */
#define SBF_GRAPH_CAP_DEGREE 128

/* Builds the graph of n L2-normalised embeddings (row-major n x dim, any alignment) with the dot-product
 * kernels of the ISA level in force (nn_isa_get(): SORTBYFACE_ISA, or nn_set_isa); the SIMD levels give the
 * same graph bit for bit, the scalar one differs only by FMA rounding.  0 on success, -1 on allocation failure. */
int sbf_graph_build(const float *emb, int n, int dim, const sbf_graph_opts *opt, sbf_graph *g);
void sbf_graph_free(sbf_graph *g);

/* Chinese Whispers: every node starts in its own cluster; each of `iterations` rounds visits the nodes
 * in a fresh random order (Fisher-Yates with xoshiro256**, seeded by `seed`) and gives each node the
 * label with the highest summed edge weight among its neighbours (ties broken at random, the node's
 * own label competes only through neighbours; isolated nodes keep theirs).  On return labels[i] is
 * in [0, k) with 0 the largest cluster (ties: the cluster whose smallest member index is lower
 * comes first).  Returns k, or -1 on allocation failure. */
int sbf_chinese_whispers(const sbf_graph *g, int iterations, uint64_t seed, int *labels);
/* Renumbers labels[0..n) (each in [0, n)) by cluster size as above: 0 the largest, ties by smallest member.
 * Returns the number of clusters, or -1 on allocation failure. */
int sbf_number_by_size(int *labels, int n);

/* Graph + Chinese Whispers in one call; info (may be NULL) gets the timings, the edge count and whether
 * the graph was capped. */
typedef struct {
    sbf_graph_opts graph;
    int iterations;
    uint64_t seed;
} sbf_cluster_opts;
typedef struct {
    double seconds_graph, seconds_cw;
    long long edges; /* undirected */
    int capped;      /* sbf_graph.capped */
} sbf_cluster_info;
void sbf_cluster_opts_default(sbf_cluster_opts *o);
int sbf_cluster(const float *emb, int n, int dim, const sbf_cluster_opts *o, int *labels, sbf_cluster_info *info);

/* For `find`: clusters the n database embeddings together with one query embedding (treated as node
 * n) and returns the database faces in the query's cluster: *members (malloc'ed, ascending face
 * indices < n) and their count.  Returns the count, or -1 on failure. */
int sbf_cluster_query(const float *emb, int n, int dim, const float *query, const sbf_cluster_opts *o, int **members);

/* Pseudo-random numbers for the module and its tests (xoshiro256**, seeded through splitmix64). */
typedef struct {
    uint64_t s[4];
} sbf_rng;
void sbf_rng_seed(sbf_rng *r, uint64_t seed);
uint64_t sbf_rng_next(sbf_rng *r);
uint32_t sbf_rng_below(sbf_rng *r, uint32_t n); /* uniform in [0, n), n > 0 */
/* A standard normal deviate (Box-Muller; two draws): synthetic embeddings for tests and benchmarks. */
double sbf_rng_gauss(sbf_rng *r);
/* Chinese Whispers' visiting order of one iteration: a[0..n) shuffled in place (Fisher-Yates from the end). */
void sbf_rng_shuffle(sbf_rng *r, int *a, int n);
/* One Chinese Whispers step for one node: of the nt (>= 1) labels touched[] of its neighbours with summed edge
 * weights sum[label], the highest; ties broken uniformly at random (reservoir over the tied ones). */
int sbf_cw_pick(const int *touched, int nt, const double *sum, sbf_rng *rng);
#endif
