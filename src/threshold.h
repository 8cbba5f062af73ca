/* src/threshold.h — owns the clustering threshold chosen from the library itself, without labels: each
 * face gets its own threshold, which rises with the number of look-alikes around it (faces of other
 * people that are somewhat similar to it), so a small library is cut lower than a big one and a face in
 * a dense crowd needs more similarity than a face whose neighbours are far.  Two faces are joined by an
 * edge when their similarity exceeds the mean of their two thresholds, weighted by how far it exceeds it.
 * Also the graph filtered that way, clustering with it, and the one-line reason `sort` prints.
 *
 * The rule (src/threshold.c, measured in docs/MEASUREMENTS.md "Threshold rule (issue 24)"):
 *   k_i = number of other faces j with SBF_TFACE_BAND_LO < sim(i, j) < SBF_TFACE_BAND_HI (a similarity
 *         that two photos of one person rarely have and photos of two people often do), counted
 *         exactly up to SBF_TFACE_SAMPLE other faces, estimated from a fixed sample beyond;
 *   t_i = SBF_TFACE_BASE + SBF_TFACE_SLOPE * log10(1 + k_i), at most SBF_TFACE_MAX. */
#ifndef SRC_THRESHOLD_H
#define SRC_THRESHOLD_H
#include "src/cluster.h"

/* TUNED-VALUE: fitted on seeded draws of ../shared/data/lfw-dev libraries (tools/eval-threshold). */
#define SBF_TFACE_BASE 0.60
#define SBF_TFACE_SLOPE 0.065
#define SBF_TFACE_BAND_LO 0.40
#define SBF_TFACE_BAND_HI 0.55
#define SBF_TFACE_MAX 0.85
#define SBF_TFACE_SAMPLE 1000
#define SBF_TFACE_WEIGHT0 0.05 /* an edge's weight: its margin over the pair's bar, plus this */

typedef struct {
    int threads; /* <= 0: all cores */
    int sample;  /* faces each face is compared with to count its look-alikes; 0: SBF_TFACE_SAMPLE */
} sbf_threshold_opts;

typedef struct {
    double lo, median, hi; /* of the per-face thresholds (0 when there are no faces) */
    double lookalikes;     /* median k_i */
    int compared;          /* faces each face was compared with (n - 1 when exact) */
    char reason[400];      /* one line, no trailing newline, e.g. for `sort` */
} sbf_threshold_info;

/* The rule for one face with k look-alikes. */
double sbf_threshold_of_lookalikes(double k);

/* Per-face thresholds t[0..n) of n L2-normalised embeddings (row-major n x dim).  o may be NULL.
 * The sample (when n - 1 > sample) is the `sample` faces whose embedding hashes lowest, so adding a few
 * faces to a library changes it, and the thresholds, very little.  info may be NULL.
 * 0 on success, -1 on allocation failure. */
int sbf_threshold_faces(const float *emb, int n, int dim, const sbf_threshold_opts *o, float *t,
                        sbf_threshold_info *info);

/* out = the edges of in whose weight (similarity) s exceeds the pair's bar b = (t[i] + t[j]) / 2, weighted
 * s - b + SBF_TFACE_WEIGHT0: in Chinese Whispers a bridge just above the bar between two people then counts
 * little against the strong edges inside each (allocates out).  0, or -1. */
int sbf_graph_keep_faces(const sbf_graph *in, const float *t, sbf_graph *out);

/* Clustering with per-face thresholds: thresholds (t_out, may be NULL, gets them), the graph at the
 * lowest of them (co->graph.threshold is ignored; its threads, kernel, progress and memory guard are
 * used), the edges kept as above, Chinese Whispers with co's iterations and seed.  labels as
 * sbf_chinese_whispers.  ci and ti may be NULL.  Returns the number of clusters, or -1. */
int sbf_cluster_adaptive(const float *emb, int n, int dim, const sbf_cluster_opts *co, const sbf_threshold_opts *to,
                         int *labels, float *t_out, sbf_cluster_info *ci, sbf_threshold_info *ti);
#endif
