/* src/walk.h — owns finding photos: a recursive folder walk that follows symlinks without looping,
 * reports unreadable folders, leaves out sortbyface's own output folders, and returns regular files in
 * a stable (sorted) order. */
#ifndef SRC_WALK_H
#define SRC_WALK_H
#include <stddef.h>
/* sort and find put this file in every folder they create; the walk does not enter a folder holding it
 * (unless it is the root itself), so a library's own Sorted-pictures/ is never embedded again. */
#define SBF_OUTPUT_MARKER ".sortbyface-output"

typedef struct {
    char *path;            /* root joined with the relative path, as the user spelled the root */
    long long size, mtime_ns;
} sbf_walk_file;
typedef struct {
    sbf_walk_file *files;
    int n, cap;
    int dir_errors;        /* folders that could not be read (each reported on stderr) */
    char **unreadable;     /* their paths, as walked */
    int nunreadable;       /* = dir_errors unless memory ran out */
    int loops;             /* symlinked folders skipped because they were already visited */
    int outputs;           /* sortbyface output folders (SBF_OUTPUT_MARKER) not entered */
} sbf_walk;
/* Walks root (a folder, or a single file) appending every regular file; call it again to add another
 * root.  0, or -1 when root itself cannot be read (reason in err). */
int sbf_walk_tree(sbf_walk *w, const char *root, char *err, size_t errlen);
void sbf_walk_free(sbf_walk *w);
/* 1 when path lies under root as spelled (root itself, or root + '/' + ...). */
int sbf_path_under(const char *path, const char *root);
/* Joins a folder and a name with exactly one '/', as the user spelled the folder. */
char *sbf_path_join(const char *dir, const char *name);
/* Names path (relative to the absolute folder from, or absolute) relative to the absolute folder to,
 * by spelling alone ("." and ".." folded, no symlink resolved): from /a/b, "../c/x.jpg" seen from /a
 * is "c/x.jpg", seen from /a/d "../c/x.jpg".  Returns out (room n), or NULL when it does not fit. */
char *sbf_path_rebase(const char *from, const char *to, const char *path, char *out, size_t n);
/* 1 when a and b name the same existing file or folder (same device and inode). */
int sbf_same_file(const char *a, const char *b);
#endif
