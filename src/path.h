/* src/path.h — owns how paths are spelled and compared: the one rule that names a photo in a database
 * (sbf_path_key: normal form, relative to the database's base folder), joining, rebasing, "lies under",
 * the identity of a file (device and inode), and opening paths longer than PATH_MAX.  embed, find, the
 * walk and the store all use these, so one photo has one name whatever spelling reached it. */
#ifndef SRC_PATH_H
#define SRC_PATH_H
#include <stddef.h>
#include <sys/types.h>

/* Joins a folder and a name with exactly one '/', as the user spelled the folder ("." + "x" is "x"). */
char *sbf_path_join(const char *dir, const char *name);
/* 1 when path lies under root as spelled (root itself, or root + '/' + ...).  The root "." (a database's
 * base folder in normal form) holds every relative path. */
int sbf_path_under(const char *path, const char *root);
/* The normal form of a path by spelling alone (malloc'ed): no empty ("//"), "." or trailing components,
 * "x/.." folded away (a relative path keeps its leading ".."; "/.." is "/"); "" and "./" are ".".
 * Symlinks are not resolved: sbf_path_key checks the folded spelling names the same file. */
char *sbf_path_normal(const char *path);
/* The name a database whose relative paths start in the absolute folder base gives to path, seen from the
 * absolute folder cwd (malloc'ed; NULL only when out of memory): the absolute normal form of cwd + path
 * (or of its real path, when folding ".." by spelling would name another file, e.g. "link/.."), then
 * relative to base when it lies under it ("." for base itself), else absolute.  "lib", "./lib", "lib/",
 * "lib//sub/..", "$PWD/lib" all give "lib".  A path that does not exist is named by spelling. */
char *sbf_path_key(const char *base, const char *cwd, const char *path);
/* Names path (relative to the absolute folder from, or absolute) relative to the absolute folder to,
 * by spelling alone ("." and ".." folded, no symlink resolved): from /a/b, "../c/x.jpg" seen from /a
 * is "c/x.jpg", seen from /a/d "../c/x.jpg".  Returns out (room n), or NULL when it does not fit. */
char *sbf_path_rebase(const char *from, const char *to, const char *path, char *out, size_t n);

/* The identity of a file: device and inode (after following symlinks). */
typedef struct {
    dev_t dev;
    ino_t ino;
} sbf_file_id;
/* 0 and *id for an existing file or folder (any path length), -1 otherwise. */
int sbf_file_id_of(const char *path, sbf_file_id *id);
/* 1 when a and b name the same existing file or folder (same device and inode). */
int sbf_same_file(const char *a, const char *b);
/* 1 when a and b are the same photo: the same file (sbf_same_file), or, when they do not exist, the same
 * normal form seen from the current folder. */
int sbf_path_same_photo(const char *a, const char *b);

/* open(2) for a path of any length: one longer than PATH_MAX is opened folder by folder (openat). */
int sbf_path_open(const char *path, int flags);
/* A name the file at path opens by with ordinary calls (fopen, stat): path itself when it is shorter than
 * PATH_MAX, else "/proc/self/fd/N" for a descriptor opened with sbf_path_open, written into buf (room n),
 * whose number goes to *fd (-1 when none was needed) for the caller to close.  NULL (errno set) when the
 * long path cannot be opened. */
const char *sbf_path_short(const char *path, char *buf, size_t n, int *fd);
#endif
