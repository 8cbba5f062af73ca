/* src/walk.h — owns finding photos: a recursive folder walk through folder descriptors (openat/fstatat, so
 * trees deeper than PATH_MAX are walked too) that follows symlinks without looping, reports unreadable
 * folders and files, leaves out sortbyface's own output folders, and returns regular files in a stable
 * (sorted) order with their identity (device, inode).  Path spelling rules are src/path.h's. */
#ifndef SRC_WALK_H
#define SRC_WALK_H
#include <stddef.h>
#include "src/path.h"
/* sort and find put this file in every folder they create; the walk does not enter a folder holding it
 * (unless it is the root itself), so a library's own Sorted-pictures/ is never embedded again. */
#define SBF_OUTPUT_MARKER ".sortbyface-output"

typedef struct {
    char *path; /* root joined with the relative path, as the root is spelled ("." + "x" is "x"); any length */
    long long size, mtime_ns;
    sbf_file_id id; /* device and inode: two paths of one file (hard links, symlinks) have the same */
    int via_link;   /* reached through a symlink (the file, or a folder above it up to the root, is one) */
} sbf_walk_file;
typedef struct {
    sbf_walk_file *files;
    int n, cap;
    int dir_errors;    /* folders and files that could not be read (each reported on stderr) */
    char **unreadable; /* their paths, as walked */
    int nunreadable;   /* = dir_errors unless memory ran out */
    int loops;         /* symlinked folders skipped because they were already visited */
    int outputs;       /* sortbyface output folders (SBF_OUTPUT_MARKER) not entered */
} sbf_walk;
/* Walks root (a folder, or a single file) appending every regular file; call it again to add another
 * root.  0, or -1 when root itself cannot be read (reason in err). */
int sbf_walk_tree(sbf_walk *w, const char *root, char *err, size_t errlen);
void sbf_walk_free(sbf_walk *w);
#endif
