/* src/merge.h — owns the second stage of the default clustering: joining clusters that the per-face rule
 * (src/threshold.h) left apart.  The rule runs with every face's threshold raised by SBF_MERGE_SHIFT (fewer,
 * surer joins); then the pair of clusters with the highest score is joined, greedily, while that score is at
 * least SBF_MERGE_CUT.  The score is a logistic regression over features of the two clusters, fitted on
 * labelled draws of ../shared/data/lfw-dev by tools/eval-merge, which prints the numbers of sbf_merge_default.
 * Candidates are pairs of clusters with some similarity of at least SBF_MERGE_CMIN between them; a caller
 * can veto a pair (cannot-links: two faces of one photo, the user's corrections, two stored people).
 *
 * Features of clusters A and B (unit embeddings; the graph holds the similarities of at least SBF_MERGE_CMIN):
 *   x1 the highest similarity between them; x2 their mean similarity (from the clusters' embedding sums);
 *   x3 that mean minus the mean similarity of the pairs inside A and B, x4 whether A or B has a pair inside;
 *   x5, x6 log(1 + the smaller / the larger size); x7 the faces' mean log10(1 + look-alikes) as the rule
 *   counts them (read back from their thresholds); x8 log10 of the library's faces; x9 = x1 * x7; x10 the
 *   smaller cluster's faces' mean best similarity into the other (SBF_MERGE_CMIN when below); x11 the share of
 *   the pairs between them above SBF_TFACE_BAND_HI.  Two more, x12 and x13 (the share of the pairs between
 *   them that pass the unshifted rule's bar, the largest margin over it), are for tools only.
 * Measured in docs/MEASUREMENTS.md, "Threshold rule (issue 24)", "The learned merge". */
#ifndef SRC_MERGE_H
#define SRC_MERGE_H
#include "src/cluster.h"
#include "src/threshold.h"

/* TUNED-VALUE: tools/eval-merge (docs/MEASUREMENTS.md, "The learned merge"). */
#define SBF_MERGE_SHIFT 0.08
#define SBF_MERGE_CMIN 0.45
#define SBF_MERGE_CUT 0.0
#define SBF_MERGE_NX 14 /* features computed (x0 = 1, the intercept's) */
#define SBF_MERGE_NF 12 /* features the default model uses */

typedef struct {
    int nf;                    /* features used: x0 .. x(nf-1) */
    double beta[SBF_MERGE_NX]; /* on standardised features; beta[0] the intercept */
    double mu[SBF_MERGE_NX], sd[SBF_MERGE_NX];
} sbf_merge_model;
extern const sbf_merge_model sbf_merge_default;

/* The merge's state: clusters as member lists.  Public for tools (tools/eval-merge trains on it). */
typedef struct {
    const sbf_graph *g; /* weights: similarities */
    const float *emb, *t0;
    int n, dim, nlabels;
    int *lab;         /* [n] cluster of each face (a label < nlabels) */
    int *head, *next; /* member lists: head[c], next[f]; -1 ends */
    int *sz, *ver;    /* [nlabels] size (0: none or joined away), version (changes with each join) */
    double *esum;     /* [nlabels * dim] sum of the members' embeddings */
    double *lk;       /* [nlabels] sum of the members' log10(1 + look-alikes) */
    int *mark, *nbr;  /* scratch */
} sbf_merge;

/* Starts the merge from labels[0..n) in [0, nlabels) (copied), with the graph g, the embeddings and t0, the
 * rule's unshifted per-face thresholds (sbf_threshold_faces).  The pointers must outlive m.  0, or -1. */
int sbf_merge_init(sbf_merge *m, const sbf_graph *g, const float *emb, int n, int dim, const float *t0,
                   const int *labels, int nlabels);
void sbf_merge_free(sbf_merge *m);
/* The features x[0..SBF_MERGE_NX) of clusters a and b; 0 when they are no candidate (no similarity of at
 * least SBF_MERGE_CMIN between them), else 1. */
int sbf_merge_features(const sbf_merge *m, int a, int b, double *x);
double sbf_merge_score(const sbf_merge_model *md, const double *x);
/* The clusters that cluster a has a similarity of at least SBF_MERGE_CMIN to (only those > a with
 * only_higher), into m->nbr; returns their number. */
int sbf_merge_neighbours(sbf_merge *m, int a, int only_higher);

/* A caller's veto: 0 when clusters a and b must not be joined.  Asked when the pair comes up. */
typedef int (*sbf_merge_allow_fn)(void *ctx, const sbf_merge *m, int a, int b);
/* For training: with seen, the best three candidates of each step (down to cut - 2) are shown to it. */
typedef void (*sbf_merge_seen_fn)(void *ctx, const sbf_merge *m, int a, int b);
/* Joins clusters greedily, the candidate of highest score first, while the best score is at least cut; the
 * lower label of the two lives on.  allow and seen may be NULL.  Returns the joins made, or -1. */
int sbf_merge_greedy(sbf_merge *m, const sbf_merge_model *md, double cut, sbf_merge_allow_fn allow,
                     sbf_merge_seen_fn seen, void *ctx);

/* The graph the first stage clusters: the edges of sims (weights: similarities) above the pair's bar with every
 * face's threshold t[i] raised by shift (at most SBF_TFACE_MAX), weighted as sbf_graph_keep_faces does
 * (allocates out).  0, or -1 out of memory. */
int sbf_merge_raised_graph(const sbf_graph *sims, const float *t, double shift, sbf_graph *out);

/* Appends to the rule's one-line reason (sbf_threshold_info.reason, room n) what the merge did. */
void sbf_merge_reason(char *reason, size_t n, int joins);

/* The default clustering of sort and find: the per-face rule raised by SBF_MERGE_SHIFT, then the merge.
 * As sbf_cluster_adaptive (labels in [0, k) numbered by size; t_out: the unshifted thresholds), with the
 * graph at the lower of SBF_MERGE_CMIN and the lowest threshold.  Returns k, or -1. */
int sbf_cluster_merged(const float *emb, int n, int dim, const sbf_cluster_opts *co, const sbf_threshold_opts *to,
                       int *labels, float *t_out, sbf_cluster_info *ci, sbf_threshold_info *ti);
#endif
