/* src/managed.h — owns the managed output folder that plain 'sort' keeps up to date: its lock, reading what
 * the user did to it since the last run (from the manifest of what sort placed: path, inode, size, mtime,
 * the face it was placed for), turning that into corrections and names, planning the re-sync, executing
 * the plan crash-safely, and finishing an interrupted one.
 *
 * The folder is a user interface (rules, as sort --help and the README tell them):
 * - a person's folder renamed: the person is named so (to the name of another person: the two merge);
 * - a placed photo moved into another person's folder: that face is that person; into a new folder: that
 *   face is a new person of that name (or the person of that name); into Unknown/ or out of the folders:
 *   that face is not the person it was placed for;
 * - a placed photo deleted: that face is not that person (deleted from Unknown/: the face is ignored);
 *   every placed photo of a person deleted, or the whole folder: the person is hidden;
 * - a placed photo edited or replaced in place: it is the user's file from then on (reported once); moved
 *   and edited it cannot be told from a new file that got a deleted one's inode: it reads as deleted, and the
 *   file as the user's;
 * - a file sort did not place: the user's, never moved or deleted (reported once).
 * Then sort re-syncs: renames folders, removes (only its own files, still as it placed them), moves, places;
 * a placed file whose photo is gone is never removed (it may be the last copy): it is reported and left.
 *
 * Crash safety: the plan (every operation, with the names chosen) is stored in the people state and synced
 * before the first change; each operation is atomic (rename / link / unlink / rmdir, copies through a temp
 * file); the state without a plan is stored at the end.  A run that finds a plan left unfinished first looks
 * where each file of the plan is (not yet moved, moved, placed, removed) and takes that as the manifest, so
 * its own half-done work is never read as the user's edits; the new plan then finishes the job. */
#ifndef SRC_MANAGED_H
#define SRC_MANAGED_H
#include <stdio.h>

#include "src/output.h"
#include "src/people.h"
#include "src/store.h"

typedef struct sbf_managed sbf_managed;

/* Opens (creating it, with its marker, when it does not exist: *created = 1) and locks the managed folder
 * dir (absolute).  base: where the database's relative photo paths start (NULL: the current folder).  Two
 * runs never hold the same folder: a second one gets an error.  dry: neither creates nor locks anything.
 * NULL with reason. */
sbf_managed *sbf_managed_open(const char *dir, const char *base, int dry, int *created, char *err, size_t errlen);
void sbf_managed_close(sbf_managed *m);

typedef struct {
    int corrections; /* corrections read from the folder */
    int renamed;     /* people named by a folder rename */
    int user_files;  /* files found that are the user's (reported) */
    int recovered;   /* operations of an interrupted run found done */
    /* the re-sync */
    int placed, moved, removed, dirs_renamed, kept_gone, failed;
    int stopped;   /* errno that stopped the re-sync (ENOSPC), 0 */
    int fell_back; /* --link across file systems: copies */
} sbf_managed_stats;

/* Finishes the view of an interrupted re-sync (pp->planned): each file of the plan is looked for where it
 * was and where it was going, and the manifest says where it is; temp files of killed copies are removed
 * (unless dry).  Clears the plan.  0, or -1 out of memory. */
int sbf_managed_recover(sbf_managed *m, sbf_people *pp, int dry, sbf_managed_stats *st);

/* Reads the user's edits of the folder since the last re-sync and records them in pp as corrections (source
 * SBF_FROM_FOLDER), names and merges; the manifest follows the files.  Each is told on out (one line); the
 * user's own files found for the first time too.  0, or -1 out of memory. */
int sbf_managed_read_edits(sbf_managed *m, sbf_people *pp, FILE *out, sbf_managed_stats *st);

/* Plans the re-sync to the layout of pp over the faces of fs (fid[i], person[i] from sbf_people_update): a
 * folder per shown person (sbf_people_folder), each photo once per folder.  The plan is stored in pp
 * (pp->planned = 1).  Placed files whose photo is gone are released (reported on out).  0, or -1. */
int sbf_managed_plan(sbf_managed *m, sbf_people *pp, const sbf_faceset *fs, const uint32_t *fid, const uint32_t *person,
                     FILE *out, sbf_managed_stats *st);
/* Prints the plan of pp on out, one line per change ("would place ...", "would move ..."). */
void sbf_managed_print_plan(const sbf_people *pp, FILE *out);
/* Number of changes in the plan. */
int sbf_managed_plan_size(const sbf_people *pp);

/* Executes the plan of pp (mode: how photos are placed; with --link the first placing is tried first and
 * copies are made across file systems, with one note).  Per-file failures are reported and counted; a full
 * disk stops it at the first failure with one line (st->stopped; the plan stays stored, the next run
 * finishes it).  On success the plan is cleared (pp->planned = 0) and each person's folder recorded.
 * 0, or -1 when stopped. */
int sbf_managed_execute(sbf_managed *m, sbf_people *pp, const sbf_faceset *fs, sbf_place_mode mode,
                        sbf_managed_stats *st, void (*progress)(void *ctx, double fraction), void *progress_ctx,
                        char *err, size_t errlen);

/* The placed file (relative to the folder) of face i, for clusters.tsv: file[i] (NULL: not placed; the strings
 * point into pp). */
void sbf_managed_files(const sbf_people *pp, const sbf_faceset *fs, const uint32_t *fid, const uint32_t *person,
                       const char **file);
const char *sbf_managed_dir(const sbf_managed *m);
#endif
