/* src/cluster_warm.h — owns Chinese Whispers that starts from stored people and honours constraints
 * (for people that last across runs, issue 19): every face may start with its stored person instead
 * of alone, faces may keep their label (frozen), a face may prefer the label it has (a bonus weight, so
 * that it moves only when its neighbours' evidence is strong), faces of a must-link group move as one
 * node (their edges summed), and cannot-link pairs (e.g. two faces of one photo) never share a label:
 * a face never adopts a label that a face it cannot-link with holds at that moment.
 * Same graph as src/cluster.h; the plain algorithm is sbf_chinese_whispers. */
#ifndef SRC_CLUSTER_WARM_H
#define SRC_CLUSTER_WARM_H
#include "src/cluster.h"

typedef struct {
    const int *init;              /* [n] stored person id (>= 0) of each face, -1 for a face without one; NULL: none */
    const unsigned char *frozen;  /* [n] 1: the face keeps its initial label (needs init >= 0); NULL: none */
    const int *group;             /* [n] must-link group id (>= 0; faces with one id move together), -1 alone; NULL: none */
    const int64_t *cannot_start;  /* [n + 1] cannot-link lists in CSR form: the faces cannot_col[cannot_start[i] ..  */
    const int *cannot_col;        /*  cannot_start[i + 1]) are never i's person (give both directions); NULL: none */
    double stay;                  /* weight added to a face's current label (or its prefer id) when it chooses, if it
                                   * has an edge to a face holding that label (0: plain rule) */
    const int *prefer;            /* [n] the stored id the bonus favours instead of the current label (-1: none);
                                   * ids not in init are ignored; NULL: the current label */
} sbf_cw_warm_opts;

/* Runs `iterations` rounds like sbf_chinese_whispers (random order per round, seeded; the label with the
 * highest summed edge weight wins, ties at random) over the faces, or over must-link groups as single
 * nodes; the first round moves only the faces without a stored person (new faces join people first).
 * A face left without any edge becomes a person of its own (its stored person no longer holds it).  On return labels[i] is a stored person id from init, or a new id for a new person: new ids
 * are max(init) + 1, + 2, ... in the order of each new person's smallest face index.  Returns the number
 * of distinct labels, or -1 on allocation failure or inconsistent input (frozen face without init). */
int sbf_chinese_whispers_warm(const sbf_graph *g, int iterations, uint64_t seed, const sbf_cw_warm_opts *o, int *labels);

/* The cannot-link lists that say two faces of one photo are never one person: photo_of[i] is face i's
 * photo (faces of a photo need not be adjacent).  Allocates *start (n + 1) and *col; 0, or -1. */
int sbf_cannot_link_same_photo(const int *photo_of, int n, int64_t **start, int **col);
#endif
