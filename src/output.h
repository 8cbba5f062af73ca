/* src/output.h — owns writing results: fresh output folders (never clobbered), placing photos by
 * copy / hard link / symlink under collision-free names, "Person N" folders and clusters.tsv. */
#ifndef SRC_OUTPUT_H
#define SRC_OUTPUT_H
#include <stddef.h>
#include <stdio.h>
#include "src/store.h"

typedef enum { SBF_PLACE_COPY = 0, SBF_PLACE_LINK = 1, SBF_PLACE_SYMLINK = 2 } sbf_place_mode;

/* Creates a fresh folder: dest itself when it does not exist, else "dest-2", "dest-3", ... (the first
 * free name; mkdir is the atomic claim, so an existing folder is never reused).  Parents must exist.
 * The folder gets an SBF_OUTPUT_MARKER file (src/walk.h) so that embed does not walk into it.
 * *chosen gets the folder made; *renamed = 1 when it is not dest.  0 on success, -1 with reason. */
int sbf_output_fresh_dir(const char *dest, char *chosen, size_t chosen_len, int *renamed, char *err, size_t errlen);

/* Puts src into dir under src's base name, or "name-2.ext", "name-3.ext", ... when taken.  Never
 * overwrites anything and never modifies src.  COPY writes a temp file in dir (mode and mtime of src)
 * and link()s it into place; LINK hard-links (fails across file systems: EXDEV); SYMLINK points at
 * src's absolute path.  *placed (may be NULL) gets the final path.  0 on success, -1 with reason. */
int sbf_place_file(const char *src, const char *dir, sbf_place_mode mode, char *placed, size_t placed_len,
                   char *err, size_t errlen);
/* What placing is called on a progress line: "copying photos", "linking photos", "symlinking photos". */
const char *sbf_place_doing(sbf_place_mode mode);
/* The mode the verbs' --copy, --link and --symlink flags ask for (copy when none is given): 0, or 2 after
 * a one-line usage error naming the verb when more than one is given. */
int sbf_place_mode_flags(const char *verb, int copy, int link, int symlink, sbf_place_mode *mode);

typedef struct {
    int persons;        /* folders written */
    int placed;         /* files placed (a photo with two people counts twice) */
    int failed;         /* files that could not be placed (each reported on stderr) */
} sbf_sort_stats;

/* Writes "dir/Person N/" for every cluster (N = label + 1, so Person 1 is the largest) holding each
 * photo with a face in that cluster (once per folder), then dir/clusters.tsv (atomically):
 *   path <TAB> face <TAB> left <TAB> top <TAB> right <TAB> bottom <TAB> person <TAB> file
 * one line per face after a header line; file is the placed name relative to dir; tab, newline,
 * carriage return and backslash in paths are written as \t \n \r \\.  Per-file failures are
 * reported on stderr and counted; returns -1 only when dir or clusters.tsv cannot be written.
 * progress (may be NULL) is called after each face with the fraction of faces done. */
int sbf_write_sorted(const sbf_faceset *fs, const int *labels, int nclusters, const char *dir, sbf_place_mode mode,
                     sbf_sort_stats *st, void (*progress)(void *ctx, double fraction), void *progress_ctx, char *err,
                     size_t errlen);

/* Writes s to f with the clusters.tsv escaping. */
void sbf_tsv_escape(FILE *f, const char *s);
#endif
