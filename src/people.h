/* src/people.h — owns the notion of a person: people that last across runs, their names, the user's
 * corrections, the faces' stable identities, the clustering that keeps them, folder names, and the state
 * record that holds it all in the database (docs/DATABASE.md, "PEOPLE").
 *
 * Design.
 * - A face has a stable identity (fid, a number never reused) kept in the people state together with its
 *   photo's stored path, face index, box and a 64-bit hash of its embedding.  Each run matches the
 *   database's faces to known ones: same embedding hash and path; else same embedding hash (the photo's
 *   path was cleaned up or the photo moved); else same path and a box overlapping the old one with
 *   IoU >= 0.5 (the photo was re-embedded).  Anything else is a new face.
 * - A person has a stable number (>= 1, never reused for someone else), an optional unique name, and
 *   flags (hidden; retired = merged into another).  Its members are the faces whose person is its number.
 * - Corrections are constraints keyed by fid, honoured on every later run: IS (must-link: the face is that
 *   person), ISNOT (cannot-link), IGNORE (never place the face), HIDE (never place the person), MERGE
 *   (one person's faces joined another; withdrawing it gives them back).  Two faces of one photo are never
 *   one person (automatic cannot-link).
 * - Clustering (sbf_people_update): Chinese Whispers on the similarity graph, warm-started: every known
 *   face starts in its stored person, new faces alone; must-linked faces are fixed, forbidden labels
 *   (cannot-link, the other faces of the same photo) are never taken.  A label that is a stored person
 *   keeps that person's number; new clusters get new numbers, largest first.  The threshold is an input,
 *   so it may come from a rule that changes slowly with the library; warm starting keeps the members of
 *   stored people unless the graph's evidence moves them.  A warm start never splits a person, so a
 *   merge made once (two people joined at the lower thresholds of a smaller library) would last; each warm
 *   run therefore also clusters from scratch on the same graph, and where that finds a cluster of its own
 *   inside a stored person (2+ faces, more than half of that fresh cluster, not the fresh cluster holding
 *   most of the person), those faces become a new person; the rest keep their stored person, and faces the
 *   user placed (must-linked, or moved by a merge) never move.  Chosen by measurement against matching a
 *   fresh clustering to the stored people by overlap and against freezing stored faces:
 *   docs/MEASUREMENTS.md, "People that last (issue 19)"; tools/eval-people.c.
 * - Folders: a named person's folder is exactly the name; an unnamed one "Person 0001" (at least 4
 *   digits); people with fewer than min_faces faces (and no name) share "Unknown".
 * - The managed output folder's manifest (what sort placed: path, inode, size, mtime, the face it was
 *   placed for) and the re-sync plan live in the same state; src/managed.c works on them.
 * - The whole state is one record, written whole after each change (the last complete one counts), so
 *   a kill at any moment leaves the previous or the next state.
 */
#ifndef SRC_PEOPLE_H
#define SRC_PEOPLE_H
#include <stddef.h>
#include <stdint.h>

#include "src/cluster.h"
#include "src/face.h"
#include "src/store.h"
#include "src/threshold.h"

/* People with fewer faces than this (and no name) go together into "Unknown/".
 * TUNED-VALUE: docs/MEASUREMENTS.md, "People that last (issue 19)" (min-faces). */
#define SBF_DEFAULT_MIN_FACES 2
#define SBF_UNKNOWN_FOLDER "Unknown"
#define SBF_PERSON_WIDTH 4 /* "Person 0001" */
/* Extra weight of a face's stored person in the warm-started clustering, on the scale of the edges' weights: with
 * one threshold (-t) an edge weighs its similarity, under the per-face rule its margin (src/threshold.h).
 * TUNED-VALUE: docs/MEASUREMENTS.md, "People that last (issue 19)" and "Nightly stability with the rule". */
#define SBF_DEFAULT_STICK 0.5
#define SBF_DEFAULT_STICK_RULE 0.05

enum { SBF_PERSON_HIDDEN = 1u, SBF_PERSON_RETIRED = 2u };
typedef struct {
    uint32_t number;
    uint32_t flags; /* SBF_PERSON_* */
    uint32_t into;  /* RETIRED: the person it was merged into */
    char *name;     /* NULL: no name */
    char *folder;   /* managed output: its folder after the last re-sync, NULL: none */
} sbf_person;

/* A face known to the people state. */
typedef struct {
    uint32_t fid;    /* stable identity */
    uint32_t person; /* 0: not sorted yet */
    uint64_t hash;   /* of its embedding */
    uint32_t path;   /* index into sbf_people.paths: its photo as stored */
    int32_t index;   /* face index within the photo */
    int32_t box[4];  /* left, top, right, bottom */
} sbf_known_face;

enum { SBF_CORR_IS = 1, SBF_CORR_ISNOT = 2, SBF_CORR_IGNORE = 3, SBF_CORR_HIDE = 4, SBF_CORR_MERGE = 5 };
enum { SBF_FROM_VERB = 0, SBF_FROM_FOLDER = 1 };
typedef struct {
    uint32_t id;     /* shown by 'corrections', given to 'withdraw' */
    uint8_t kind;    /* SBF_CORR_* */
    uint8_t source;  /* SBF_FROM_* */
    uint32_t person; /* IS / ISNOT / HIDE: the person; MERGE: the one merged into */
    uint32_t other;  /* MERGE: the person merged (retired) */
    int64_t time;    /* seconds since the epoch */
    char *note;      /* for the listing: the photo, the folder, the old name ("" none) */
    uint32_t nfids;
    uint32_t *fids; /* the faces it is about (MERGE: the faces that moved; HIDE: none) */
} sbf_correction;

/* One file sort placed in the managed folder (or a file of the user's it tracks, flag USER). */
enum { SBF_PLACED_USER = 1u };
enum { SBF_OP_NONE = 0, SBF_OP_MOVE = 1, SBF_OP_PLACE = 2, SBF_OP_REMOVE = 3 };
typedef struct {
    uint32_t fid;   /* the face it was placed for */
    uint32_t flags; /* SBF_PLACED_* */
    char *rel;      /* relative to the output folder: "Person 0003/a.jpg" (NULL for a PLACE not done) */
    uint64_t ino;   /* lstat of the placed file */
    int64_t size, mtime_ns;
    uint32_t src;                   /* index into sbf_people.paths: the photo as stored */
    int64_t src_size, src_mtime_ns; /* the photo when it was placed */
    /* a re-sync in progress: what is to become of it */
    uint8_t op; /* SBF_OP_* */
    char *to;   /* MOVE / PLACE: the new relative path */
} sbf_placed;

typedef struct {
    char *from, *to; /* folder renames of a re-sync in progress */
} sbf_rename;

typedef struct {
    uint32_t next_person, next_fid, next_corr;
    char *outdir; /* the managed output folder (absolute), NULL: none yet */
    int mode;     /* its sbf_place_mode */
    int min_faces;
    int planned;      /* a re-sync was started and not finished (ops below) */
    double threshold; /* of the last sort (under the per-face rule: the median face's) */
    char **paths;     /* photo paths as stored (faces and placed files point here) */
    uint32_t npaths, cappaths;
    sbf_person *persons;
    int npersons, cappersons;
    sbf_known_face *faces; /* sorted by fid */
    int nfaces, capfaces;
    sbf_correction *corr;
    int ncorr, capcorr;
    sbf_placed *placed;
    int nplaced, capplaced;
    sbf_rename *ren;
    int nren, capren;
    uint32_t *ptab, ptabcap; /* hash index of paths (not stored) */
} sbf_people;

/* ---- state ------------------------------------------------------------------------------------- */
void sbf_people_init(sbf_people *pp);
void sbf_people_free(sbf_people *pp);
/* Reads the state from the database (empty when it holds none); 0, or -1 with reason (a damaged record). */
int sbf_people_load(sbf_people *pp, const sbf_store *s, char *err, size_t errlen);
/* Appends the state as the database's new PEOPLE record (and syncs it to the disk). */
int sbf_people_save(const sbf_people *pp, sbf_store *s, char *err, size_t errlen);
/* The serialised form (malloc'ed) and its parser, for tests and tools. */
unsigned char *sbf_people_encode(const sbf_people *pp, size_t *len);
int sbf_people_decode(sbf_people *pp, const unsigned char *p, size_t len, char *err, size_t errlen);

/* Index of a stored path in pp->paths (added when absent); UINT32_MAX when out of memory. */
uint32_t sbf_people_path(sbf_people *pp, const char *path);
sbf_person *sbf_people_person(const sbf_people *pp, uint32_t number); /* NULL: unknown or retired */
sbf_person *sbf_people_new_person(sbf_people *pp, const char *name);  /* next number; NULL: out of memory */
/* The known face with that fid, or NULL. */
sbf_known_face *sbf_people_face(const sbf_people *pp, uint32_t fid);

/* ---- faces of the database ---------------------------------------------------------------------- */
/* 64-bit hash of an embedding (FNV-1a over its float32 bytes). */
uint64_t sbf_emb_hash(const float *emb, int dim);
/* Intersection over union of two boxes (inclusive right/bottom, as dlib). */
double sbf_box_iou(const int32_t a[4], const int32_t b[4]);
/* Gives every face of fs its stable identity (fid[i], i < fs->nfaces) and makes pp->faces the faces of
 * fs: known faces keep fid and person, new ones get new fids and person 0, faces no longer in fs are
 * dropped.  0, or -1 out of memory. */
int sbf_people_sync_faces(sbf_people *pp, const sbf_faceset *fs, uint32_t *fid);

/* ---- clustering ---------------------------------------------------------------------------------- */
/* Chinese Whispers with a warm start and constraints, on nlabels labels: labels[i] is face i's start
 * (and on return its result); clamp (may be NULL): clamp[i] >= 0 fixes face i's label; photo_first /
 * photo_count (may be NULL): the faces of face i's photo are photo_first[i] .. + photo_count[i] - 1, and
 * never share a label; forbid_start[n + 1] / forbid (may be NULL): labels face i may not take; stick_label
 * (may be NULL): a label that counts stick extra for face i (its stored person).  A face whose label is
 * forbidden and has no allowed neighbour label takes spare_label[i] (a label of its own).  With no
 * constraints and labels[i] = i it visits nodes and breaks ties exactly as sbf_chinese_whispers.
 * 0, or -1 out of memory. */
typedef struct {
    int iterations;
    uint64_t seed;
    double stick;
} sbf_pcw_opts;
int sbf_people_cw(const sbf_graph *g, int nlabels, int *labels, const int *clamp, const int *photo_first,
                  const int *photo_count, const int64_t *forbid_start, const int *forbid, const int *stick_label,
                  const int *spare_label, const sbf_pcw_opts *o);

typedef struct {
    double threshold; /* edge when the similarity exceeds it (without rule) */
    int rule;         /* 1: per-face thresholds instead (src/threshold.h), raised by SBF_MERGE_SHIFT: an edge where
                         the similarity exceeds the mean of the two faces' raised thresholds; threshold is ignored;
                         then the merge of src/merge.h (after the warm start and after the fresh clustering of
                         the split alike), which never joins two stored people (labels below the stored count),
                         two faces of one photo, or a face and a person it is corrected away from (ISNOT) */
    int iterations;
    uint64_t seed;
    int threads, approx;
    int fresh;        /* 1: ignore stored memberships (cluster from scratch) */
    int match;        /* with fresh: each stored person's number (and name) goes to the new cluster sharing
                           most of its faces; without: every cluster is a new person */
    int corrections;  /* 1: honour corrections (IS clamps, ISNOT forbids) */
    double stick;     /* extra weight of a face's stored person; < 0 (the default): SBF_DEFAULT_STICK, or
                         SBF_DEFAULT_STICK_RULE with rule */
    int no_split;     /* 1: no split by the fresh clustering (tools: the warm start before it) */
    const int *clamp; /* optional, [fs->nfaces]: person number a face must take (0 none), for tools */
    void (*progress)(void *ctx, double fraction);
    void *progress_ctx;
} sbf_people_opts;
void sbf_people_opts_default(sbf_people_opts *o);
typedef struct {
    double seconds_graph, seconds_cw;
    long long edges;
    int capped;
    int new_people;                /* numbers given this run */
    int split_faces, split_people; /* faces a fresh clustering took out of stored people, the people they form */
    int merged;                    /* with o->rule: pairs of clusters the learned merge joined (src/merge.h) */
    sbf_threshold_info rule;       /* with o->rule: the thresholds and the one-line reason */
} sbf_people_info;
/* Sorts the faces of fs into people: syncs the face identities (fid[i] for face i), clusters (warm-started
 * from the stored people unless o->fresh), and records every face's person in pp (new people get the next
 * numbers, largest first).  person[i] (may be NULL) gets face i's person number.  0, or -1 out of memory. */
int sbf_people_update(sbf_people *pp, const sbf_faceset *fs, const sbf_people_opts *o, uint32_t *fid, uint32_t *person,
                      sbf_people_info *info);

/* Drops people who have no face left and nothing else to keep them (no name, not hidden, named by no
 * correction); their numbers are not given again. */
void sbf_people_prune(sbf_people *pp);

/* ---- corrections --------------------------------------------------------------------------------- */
/* Adds a correction (copying note and fids) and returns its id; 0 out of memory.  An IS of a face drops
 * the face's earlier IS / ISNOT / IGNORE corrections of other people (the newest word counts); a repeat
 * of an existing correction returns the existing id. */
uint32_t sbf_people_correct(sbf_people *pp, int kind, int source, uint32_t person, uint32_t other, const char *note,
                            const uint32_t *fids, uint32_t nfids);
/* Withdraws correction id: its faces go back to the clustering's word (IS / ISNOT / IGNORE: they start
 * the next run unsorted), HIDE shows the person again, MERGE gives the merged person its faces back.
 * 0, or -1 when there is no such correction. */
int sbf_people_withdraw(sbf_people *pp, uint32_t id);
/* 1 when face fid is ignored (an IGNORE correction names it). */
int sbf_people_ignored(const sbf_people *pp, uint32_t fid);
/* Merges person from into person into (faces, corrections, name when into has none): records a MERGE
 * correction and retires from.  Returns the correction id, 0 on failure. */
uint32_t sbf_people_merge(sbf_people *pp, uint32_t from, uint32_t into, int source);

/* ---- names and folders ---------------------------------------------------------------------------- */
/* NULL when name can be a person's name (and folder name), else why not. */
const char *sbf_people_name_invalid(const char *name);
/* The person named name (exact bytes), or NULL. */
sbf_person *sbf_people_by_name(const sbf_people *pp, const char *name);
/* Resolves a person given on a command line: a number ("3", "0003", "Person 3", "Person 0003") or a name.
 * NULL when none. */
sbf_person *sbf_people_lookup(const sbf_people *pp, const char *arg);
/* Faces per person number: counts[number] for number < pp->next_person (malloc'ed). */
int *sbf_people_counts(const sbf_people *pp);
/* The folder of a person with count faces: the name, "Person 0003", or "Unknown" (fewer than min_faces and
 * no name).  Hidden people have none (returns NULL).  buf has room n. */
const char *sbf_people_folder(const sbf_person *p, int count, int min_faces, char *buf, size_t n);

/* ---- listing (the people verb, the HTML page) ------------------------------------------------------ */
typedef struct {
    int face;         /* index into the face set */
    int photo;        /* index of its photo in the face set */
    const char *path; /* the photo as it opens from here */
    int index;        /* face index within the photo (as clusters.tsv) */
    sbf_box box;      /* with the detector score */
} sbf_view_face;
typedef struct {
    uint32_t number;
    const char *name;    /* NULL: none */
    char folder[256];    /* "" when hidden */
    int hidden, unknown; /* hidden; in Unknown/ (fewer than min_faces faces, no name) */
    int nfaces, nphotos;
    sbf_view_face *faces; /* in face-set order (photo path, face index) */
} sbf_view_person;
typedef struct {
    sbf_view_person *people; /* display order: named people by name, then numbered people by number, then
                                the people of Unknown/ by number */
    int n;
    int unsorted; /* faces of fs not sorted yet (new since the last sort) */
} sbf_people_view;
/* The people of pp over the faces of fs (fid[i] from sbf_people_sync_faces or sbf_people_update). */
int sbf_people_view_build(const sbf_people *pp, const sbf_faceset *fs, const uint32_t *fid, int min_faces,
                          sbf_people_view *v);
void sbf_people_view_free(sbf_people_view *v);
#endif
