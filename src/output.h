/* src/output.h — owns writing results: where a new output folder goes (never clobbering anything), placing
 * photos by copy / hard link / symlink under collision-free names that fit the file system, a fresh
 * folder tree of people (sort -dest, sort --fresh) and clusters.tsv.  The managed folder that sort keeps
 * up to date is src/managed.c's. */
#ifndef SRC_OUTPUT_H
#define SRC_OUTPUT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "src/store.h"

typedef enum { SBF_PLACE_COPY = 0, SBF_PLACE_LINK = 1, SBF_PLACE_SYMLINK = 2 } sbf_place_mode;

/* Creates a fresh output folder for dest and names it in chosen:
 * - dest does not exist: dest itself (its parent must exist);
 * - dest is a folder sortbyface wrote (it holds SBF_OUTPUT_MARKER): "dest-2", "dest-3", ... next to it
 *   (for "." and ".." the folder's real name, never a dot-name);
 * - dest is any other folder (also "/"): inside it, "dest/inside", then "dest/inside-2", ...;
 *   siblings (1) instead when inside is NULL;
 * - dest is a file, a device or anything else: an error.
 * mkdir is the atomic claim, so an existing folder is never reused.  The folder gets an SBF_OUTPUT_MARKER
 * file (src/walk.h) so that embed does not walk into it.  *renamed = 1 when chosen is not dest.
 * 0 on success, -1 with reason. */
int sbf_output_fresh_dir(const char *dest, const char *inside, char *chosen, size_t chosen_len, int *renamed, char *err,
                         size_t errlen);
/* Writes the SBF_OUTPUT_MARKER note into an existing folder (0, or -1 with reason). */
int sbf_output_mark(const char *dir, char *err, size_t errlen);

/* The k-th candidate file name for base (k = 1: base itself, else "stem-k.ext"), in out (room n): the stem is
 * shortened (never splitting a UTF-8 character) so the name fits NAME_MAX (255 bytes). */
void sbf_output_name(const char *base, int k, char *out, size_t n);

/* Puts src into dir under name (NULL: src's base name), or the next free sbf_output_name candidate when
 * taken.  Never overwrites anything and never modifies src.  COPY writes a temp file ".sortbyface-XXXXXX"
 * in dir (mode and mtime of src) and link()s it into place; LINK hard-links (EXDEV across file systems);
 * SYMLINK points at src's absolute path.  *placed (may be NULL) gets the final path.  0 on success, else an
 * errno value (ENOSPC, EXDEV, ...) with the reason in err. */
int sbf_place_file(const char *src, const char *dir, const char *name, sbf_place_mode mode, char *placed,
                   size_t placed_len, char *err, size_t errlen);
/* 0 when src can be hard-linked into dir (tried with a scratch name, removed at once), else the errno
 * (EXDEV: another file system). */
int sbf_link_check(const char *src, const char *dir);
/* What placing is called on a progress line: "copying photos", "linking photos", "symlinking photos", and in a
 * summary: "copied", "hard-linked", "symlinked". */
const char *sbf_place_doing(sbf_place_mode mode);
const char *sbf_place_done(sbf_place_mode mode);
/* The mode the verbs' --copy, --link and --symlink flags ask for (copy when none is given): 0, or 2 after
 * a one-line usage error naming the verb when more than one is given. */
int sbf_place_mode_flags(const char *verb, int copy, int link, int symlink, sbf_place_mode *mode);

typedef struct {
    int folders;   /* folders written */
    int placed;    /* files placed (a photo with two people counts twice) */
    int failed;    /* files that could not be placed (each reported on stderr) */
    int stopped;   /* an errno that stopped the run (ENOSPC): nothing is left of the folder */
    int fell_back; /* --link could not hard-link (another file system): copied instead */
} sbf_sort_stats;

/* Writes a fresh folder tree into dir (made by sbf_output_fresh_dir): for every face i with folder[i]
 * (NULL: not placed) the folder "dir/folder[i]" holding its photo (once per folder; a photo with faces in
 * two folders is in both), then dir/clusters.tsv with person[i] (sbf_write_clusters_tsv).  Per-file
 * failures are reported on stderr and counted.  With --link the first photo is tried first: across file
 * systems it copies instead, with one note.  A full disk (or another error that every later file would hit)
 * stops the run with one line: what was written is removed (the folder too), st->stopped tells.
 * progress (may be NULL) is called with the fraction done.  0, or -1 with reason (then nothing is left). */
int sbf_write_tree(const sbf_faceset *fs, const char *const *folder, const uint32_t *person, const char *dir,
                   sbf_place_mode mode, sbf_sort_stats *st, void (*progress)(void *ctx, double fraction),
                   void *progress_ctx, char *err, size_t errlen);

/* dir/clusters.tsv, written atomically (replacing an older one):
 *   path <TAB> face <TAB> left <TAB> top <TAB> right <TAB> bottom <TAB> person <TAB> file
 * one line per face of fs after a header line; person[i] is face i's person number, file[i] (may be NULL or
 * hold NULLs) its placed file relative to dir; tab, newline, carriage return and backslash in paths are
 * written as \t \n \r \\.  0, or -1 with reason. */
int sbf_write_clusters_tsv(const char *dir, const sbf_faceset *fs, const uint32_t *person, const char *const *file,
                           char *err, size_t errlen);

/* Writes s to f with the clusters.tsv escaping. */
void sbf_tsv_escape(FILE *f, const char *s);
/* 1 for errors every later write in the same folder would meet too (a full disk, quota, read-only). */
int sbf_output_fatal_errno(int e);
#endif
