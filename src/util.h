/* src/util.h — small shared helpers: error lines, JSON string output, atomic file writes, paths. */
#ifndef SRC_UTIL_H
#define SRC_UTIL_H
#include <stdio.h>
#include <stddef.h>
#include <stdarg.h>

/* Formats a one-line reason into err (no-op when err is NULL or errlen 0). */
void sbf_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "sortbyface: <msg>\n" on stderr. */
void sbf_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "sortbyface: <path>: <reason>\n" on stderr (path printed safely even if not UTF-8). */
void sbf_file_error(const char *path, const char *reason);
/* Like sbf_file_error for a database that could not be opened for reading; a missing one is reported as
 * "no database here yet" with the embed command that makes it, on the same line. */
void sbf_db_open_error(const char *db, const char *reason);
/* Plural ending for counts in messages: printf("%d photo%s", n, sbf_s(n)) -> "1 photo", "0 photos", "2 photos". */
static inline const char *sbf_s(long long n) { return n == 1 ? "" : "s"; }
/* Writes s as a JSON string literal (quotes included).  A byte that is not part of valid UTF-8 (a file name
 * in Latin-1, say) becomes the lone surrogate \udcXX (XX the byte, 80..ff), as Python's "surrogateescape"
 * reads and writes them, so the exact bytes come back: json.loads(line)["path"].encode("utf-8",
 * "surrogateescape").  Valid UTF-8 never encodes a surrogate, so the escape cannot be confused with a name. */
void sbf_json_string(FILE *out, const char *s);
/* Prints a float the shortest way that reads back exactly ("%.9g"-style). */
void sbf_json_float(FILE *out, double v);
/* Writes len bytes to path atomically (temp file in the same folder, fsync, rename). Refuses to
 * replace an existing file unless overwrite != 0. 0 on success, -1 with reason in err. */
int sbf_write_file_atomic(const char *path, const void *data, size_t len, int overwrite, char *err, size_t errlen);
/* Reads a whole file into a malloc'ed buffer (NUL-terminated extra byte). */
void *sbf_read_file(const char *path, size_t *len, size_t max_len, char *err, size_t errlen);
/* The same into *buf (capacity *cap, grown as needed and kept for the next call: one buffer for many files).
 * A file over max_len bytes, a folder or a special file is refused.  0, or -1 with the reason in err. */
int sbf_read_into(const char *path, unsigned char **buf, size_t *cap, size_t *len, size_t max_len, char *err,
                  size_t errlen);
/* A one-line progress display on stderr for long steps ("LABEL: 45%, about 0:12 left"), redrawn in place
 * at most 4 times a second; silent unless stderr is a terminal and the step has run for half a second.
 * Start with sbf_progress_start, pass sbf_progress_update as a callback (ctx = the struct), end with
 * sbf_progress_end, which wipes the line; sbf_error and sbf_file_error wipe it too before their line,
 * so errors are never glued to it.  A fraction of 0 after some progress means the step starts over:
 * the clock restarts and the line says "LABEL, second pass: ..." if the first pass was on screen. */
typedef struct {
    const char *label;
    double t0, last;
    int tty /* sbf_progress_wanted */, shown, again;
} sbf_progress;
/* Whether progress goes to stderr: 1 when it is a terminal; the environment variable SORTBYFACE_PROGRESS
 * overrides it: "0" never, "1" always (e.g. into a log), then drawn from the start. */
int sbf_progress_wanted(void); /* 0 no, 1 a terminal, 2 forced */
void sbf_progress_start(sbf_progress *p, const char *label);
void sbf_progress_update(void *p, double fraction);
void sbf_progress_end(sbf_progress *p);
/* A buffer kept from call to call (decoded photos, pyramids: one per thread): *p grown to at least need bytes,
 * contents not kept.  0, or -1 (out of memory: *p NULL, *cap 0). */
int sbf_grow(unsigned char **p, size_t *cap, size_t need);
/* A fresh block of at least 1 MB about to be written whole: its pages faulted in by one call (MADV_POPULATE_WRITE)
 * instead of a page fault per page as it is first written; smaller blocks and older kernels: nothing. */
void sbf_prefault(void *p, size_t n);
/* Monotonic seconds. */
double sbf_now(void);
/* Directory holding the running executable ("" if unknown). */
const char *sbf_exe_dir(void);
#endif
