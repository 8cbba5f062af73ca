/* src/plan.h — owns embed's incremental rules: which of the folders given are walked, what becomes of
 * each file found (embedded, unchanged, failed, skipped) and which photos the database holds are
 * forgotten.  Pure functions over lists: no file, folder or database is touched here; the embed verb
 * gathers the facts (walk, content sniffing, database look-ups) and acts on the answers. */
#ifndef SRC_PLAN_H
#define SRC_PLAN_H
#include "src/walk.h"

/* The folders of one run, in the order given: each spelling once (the first), and a folder that lies
 * inside another one given left out, as it is walked with it ("lib" and "lib/" lie inside each other:
 * the first is kept).  Compacts roots[0..n) in place; returns how many are left. */
int sbf_plan_roots(char **roots, int n);

/* Sorts a walk's files by path (byte order) and drops repeats (the same file reached from two folders
 * given, or given as a file and with its folder), freeing their paths.  Returns the new count. */
int sbf_plan_unique_files(sbf_walk_file *files, int n);

/* Names the files of one file that the walk found under several paths (hard links, symlinks: the same
 * device and inode) so that each is embedded once: same_as[i] is -1 for the name kept, else the index of
 * the name kept.  The name kept is the one the database holds (known[i] != 0; known may be NULL), else
 * one not reached through a symlink, else the first in byte order.  files[0..n) as the walk left them
 * (sorted by sbf_plan_unique_files). */
void sbf_plan_same_files(const sbf_walk_file *files, int n, const int *known, int *same_as);

/* 1 when the file name ends in the extension of a format it decodes (.jpg, .jpeg, .png, .gif, .bmp, .tga,
 * .ppm, ...; any case): such a file whose content is no image (empty, damaged) is named as failed, not
 * skipped as another file. */
int sbf_plan_image_name(const char *path);

/* What becomes of one file found. */
typedef enum {
    SBF_PLAN_NEW,        /* an image the database does not hold: embedded */
    SBF_PLAN_CHANGED,    /* an image it holds with another size or time: embedded again; forgotten when
                            that fails (it changed into something unreadable) */
    SBF_PLAN_UNCHANGED,  /* an image it holds with the same size and time: left as it is */
    SBF_PLAN_UNREADABLE, /* cannot be opened: listed as failed; what the database holds of it is kept */
    SBF_PLAN_OTHER,      /* not an image (or one it cannot decode): skipped, and forgotten if held */
    SBF_PLAN_DUPLICATE,  /* another name of a file embedded under its other name: left out, forgotten if held */
} sbf_plan_state;

/* The facts about one file: its content (kind: 1 an image, 0 not an image, -1 cannot be opened, as
 * sbf_sniff_file says; embed also counts a file named as an image as one, sbf_plan_image_name) and whether
 * the database holds a photo at its path (known), with the size and modification time recorded then, and
 * whether that record is stale: made with other detection settings than this run's, or --redo. */
typedef struct {
    int kind, known;
    long long size, mtime_ns;
    int stale;
} sbf_plan_facts;
sbf_plan_state sbf_plan_file(const sbf_walk_file *f, const sbf_plan_facts *facts);
/* 1 for the states that are embedded (NEW, CHANGED). */
int sbf_plan_embeds(sbf_plan_state s);

/* 1 when the database's photo at path is forgotten: it lies under a folder walked (roots[0..nroots),
 * NULL for a folder given that could not be read) but under no folder the walk could not read
 * (w->unreadable), and the walk found no image or unreadable file there: it is gone, is no image any
 * more, or is another name of a photo held under its first name (SBF_PLAN_DUPLICATE).  w->files must be sorted (sbf_plan_unique_files); state[i] is the state of w->files[i]. */
int sbf_plan_forget(const char *path, char *const *roots, int nroots, const sbf_walk *w, const sbf_plan_state *state);
#endif
