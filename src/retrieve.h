/* src/retrieve.h — owns `find`'s retrieval: which faces of a library show the person of one or more query faces.
 * The library and the queries are clustered together as sort does (the per-face thresholds of src/threshold.h, then
 * the merge of src/merge.h); the person is the queries' own clusters, plus, for a query alone in its cluster, the
 * cluster of its most similar other face when that similarity nearly reaches the query's threshold, plus every face
 * more similar to the person's mean embedding than its own threshold (query expansion: the mean of several photos of
 * a person is a better query than any one of them).  Several queries of the same person are used together.  When
 * nothing passes, the closest faces and their similarities are reported so the user can decide. Measured in
 * docs/MEASUREMENTS.md "Threshold rule (issue 24)", "`find`". */
#ifndef SRC_RETRIEVE_H
#define SRC_RETRIEVE_H
#include "src/threshold.h"

/* TUNED-VALUE (tools/eval-find on ../shared/data/lfw-dev): a query alone in its cluster joins the cluster
 * of its most similar other face when their similarity exceeds the query's own threshold minus this;
 * a face joins by query expansion when its similarity to the person's mean exceeds its own threshold
 * plus SBF_RETRIEVE_EXPAND_MARGIN. */
#define SBF_RETRIEVE_NN_MARGIN 0.03
#define SBF_RETRIEVE_EXPAND_MARGIN 0.02
/* Faces whose similarity to a query is at least this are the query's own photo (embedded twice). */
#define SBF_RETRIEVE_SAME_PHOTO 0.9995
#define SBF_RETRIEVE_CLOSEST 5

typedef struct {
    double nn_margin; /* SBF_RETRIEVE_NN_MARGIN; < 0 disables joining the closest face's cluster */
    double
        expand_margin; /* a face joins when sim(mean, face) > t_face + expand_margin (SBF_RETRIEVE_EXPAND_MARGIN); > 1 disables */
    int closest; /* closest faces to report (0: SBF_RETRIEVE_CLOSEST) */
    int nn_when; /* the closest-match step for: 0 every query, 1 (default) a query alone in its cluster, 2 only when all are */
    int fixed;        /* sbf_retrieve: 1: one threshold for every face (find -t T) instead of the per-face rule */
    double threshold; /*   that threshold */
} sbf_retrieve_opts;
void sbf_retrieve_opts_default(sbf_retrieve_opts *o);

typedef struct {
    int nfaces; /* retrieved faces (ascending indices into the library; the queries excluded) */
    int *faces;
    int nclosest; /* the most similar library faces to any query, best first (query photos excluded) */
    int *closest;
    float *closest_sim;
    int from_cluster, from_neighbour, from_mean; /* how many faces each step added */
    char reason[240];                            /* one line */
    char why[400];                               /* sbf_retrieve: the threshold chosen and why, one line */
} sbf_retrieval;
void sbf_retrieval_free(sbf_retrieval *r);

/* Retrieval on an already clustered set: emb (n x dim, L2-normalised), labels and per-face thresholds t
 * of all n nodes (e.g. from sbf_cluster_adaptive), the queries being the nodes qnodes[0..nq) of the set.
 * out->faces holds no query node.  0, or -1 on allocation failure. */
int sbf_retrieve_nodes(const float *emb, int n, int dim, const int *labels, const float *t, const int *qnodes, int nq,
                       const sbf_retrieve_opts *o, sbf_retrieval *out);

/* The whole of it: clusters the n library faces with the nq query embeddings appended (co as for
 * sbf_cluster_adaptive; with ro->fixed, sbf_cluster at ro->threshold and that threshold for every face),
 * then sbf_retrieve_nodes; indices in out are library faces (< n).  ro may be NULL.  0, or -1 on
 * allocation failure. */
int sbf_retrieve(const float *emb, int n, int dim, const float *queries, int nq, const sbf_cluster_opts *co,
                 const sbf_retrieve_opts *ro, sbf_retrieval *out);
#endif
