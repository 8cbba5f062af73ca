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

/* What becomes of one file found. */
typedef enum {
    SBF_PLAN_NEW,        /* an image the database does not hold: embedded */
    SBF_PLAN_CHANGED,    /* an image it holds with another size or time: embedded again; forgotten when
                            that fails (it changed into something unreadable) */
    SBF_PLAN_UNCHANGED,  /* an image it holds with the same size and time: left as it is */
    SBF_PLAN_UNREADABLE, /* cannot be opened: listed as failed; what the database holds of it is kept */
    SBF_PLAN_OTHER,      /* not an image (or one it cannot decode): skipped, and forgotten if held */
} sbf_plan_state;

/* The facts about one file: its content (kind: 1 an image, 0 not an image, -1 cannot be opened, as
 * sbf_sniff_file says) and whether the database holds a photo at its path (known), with the size and
 * modification time recorded then. */
typedef struct {
    int kind, known;
    long long size, mtime_ns;
} sbf_plan_facts;
sbf_plan_state sbf_plan_file(const sbf_walk_file *f, const sbf_plan_facts *facts);
/* 1 for the states that are embedded (NEW, CHANGED). */
int sbf_plan_embeds(sbf_plan_state s);

/* 1 when the database's photo at path is forgotten: it lies under a folder walked (roots[0..nroots),
 * NULL for a folder given that could not be read) but under no folder the walk could not read
 * (w->unreadable), and the walk found no image or unreadable file there: it is gone, or is no image
 * any more.  w->files must be sorted (sbf_plan_unique_files); state[i] is the state of w->files[i]. */
int sbf_plan_forget(const char *path, char *const *roots, int nroots, const sbf_walk *w, const sbf_plan_state *state);
#endif
