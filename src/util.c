/* src/util.c — error lines, JSON output, atomic writes, misc. */
#include "src/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void sbf_seterr(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The progress line on screen (sbf_progress_update drew it last), wiped before an error line so the
 * error starts a line of its own; the next update draws the progress again below it. */
static sbf_progress *progress_on_screen;
static void progress_wipe(sbf_progress *p) {
    fprintf(stderr, "\r%*s\r", (int)strlen(p->label) + 45, "");
    fflush(stderr);
    p->shown = 0;
    if (progress_on_screen == p) progress_on_screen = NULL;
}
static void wipe_progress_line(void) {
    if (progress_on_screen && progress_on_screen->shown) progress_wipe(progress_on_screen);
}

void sbf_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wipe_progress_line();
    fputs("sortbyface: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Prints a path for a human: printable bytes as-is, control characters (e.g. a newline in a
 * file name) as \xNN so the message stays one line. */
static void put_path(FILE *out, const char *p) {
    for (const unsigned char *s = (const unsigned char *)p; *s; s++) {
        if (*s < 0x20 || *s == 0x7f) fprintf(out, "\\x%02x", *s);
        else fputc(*s, out);
    }
}

void sbf_file_error(const char *path, const char *reason) {
    wipe_progress_line();
    fputs("sortbyface: ", stderr);
    put_path(stderr, path);
    fprintf(stderr, ": %s\n", reason);
}

void sbf_db_open_error(const char *db, const char *reason) {
    if (strstr(reason, "No such file"))
        reason = "no database here yet (run 'sortbyface embed -src DIR' first, or name one with --db FILE)";
    sbf_file_error(db, reason);
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static int utf8_len(const unsigned char *s) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    int n;
    unsigned min;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        min = 0x80;
        c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        min = 0x800;
        c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        min = 0x10000;
        c &= 0x07;
    } else return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    return n;
}

void sbf_json_string(FILE *out, const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', out);
    while (*s) {
        unsigned c = *s;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc((int)c, out);
            s++;
            continue;
        }
        if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", out); break;
            case '\t': fputs("\\t", out); break;
            case '\r': fputs("\\r", out); break;
            default: fprintf(out, "\\u%04x", c);
            }
            s++;
            continue;
        }
        int n = utf8_len(s);
        if (n == 0) {
            fprintf(out, "\\udc%02x", c);
            s++;
            continue;
        } /* raw byte, not UTF-8: surrogateescape */
        fwrite(s, 1, (size_t)n, out);
        s += n;
    }
    fputc('"', out);
}

void sbf_json_float(FILE *out, double v) {
    char buf[64];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v || prec == 17) break;
    }
    if (v != v || v == 1.0 / 0.0 || v == -1.0 / 0.0) snprintf(buf, sizeof buf, "null");
    fputs(buf, out);
}

int sbf_write_file_atomic(const char *path, const void *data, size_t len, int overwrite, char *err, size_t errlen) {
    struct stat st;
    if (!overwrite && lstat(path, &st) == 0) {
        snprintf(err, errlen, "%s already exists; not overwriting", path);
        return -1;
    }
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 40);
    if (!tmp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(tmp, pl + 40, "%s.tmp-%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    const char *p = data;
    size_t done = 0;
    int e = 0;
    while (done < len) {
        ssize_t r = write(fd, p + done, len - done);
        if (r < 0) {
            if (errno == EINTR) continue;
            e = errno;
            break;
        }
        done += (size_t)r;
    }
    if (!e && fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
    if (e) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    int rc;
    if (overwrite) rc = rename(tmp, path);
    else {
        rc = link(tmp, path);
        if (rc == 0) unlink(tmp);
    } /* link fails with EEXIST: never clobber */
    if (rc != 0) {
        e = errno;
        snprintf(err, errlen, "cannot create %s: %s", path,
                 e == EEXIST ? "already exists; not overwriting" : strerror(e));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int sbf_read_into(const char *path, unsigned char **buf, size_t *cap, size_t *len, size_t max_len, char *err,
                  size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* (a FIFO must not block the run: refused below) */
    if (fd < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) != 0) snprintf(err, errlen, "cannot stat: %s", strerror(errno)), why = err;
    else if (S_ISDIR(st.st_mode)) why = "is a directory";
    else if (!S_ISREG(st.st_mode)) why = "not a regular file";
    else if ((unsigned long long)st.st_size > max_len)
        snprintf(err, errlen, "file too large (%lld bytes, limit %zu)", (long long)st.st_size, max_len), why = err;
    size_t got = 0, need = why ? 0 : (size_t)st.st_size + 1;
    if (!why && *cap < need) { /* (contents not kept) */
        free(*buf);
        *cap = 0;
        if (!(*buf = malloc(need))) why = "out of memory";
        else *cap = need;
    }
    while (!why) {
        if (got + 1 >= *cap) { /* the file grew while reading */
            unsigned char *nb = *cap > max_len ? NULL : realloc(*buf, *cap * 2);
            if (!nb) {
                why = *cap > max_len ? "file too large" : "out of memory";
                break;
            }
            *buf = nb;
            *cap *= 2;
        }
        ssize_t r = read(fd, *buf + got, *cap - 1 - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) snprintf(err, errlen, "read error: %s", strerror(errno)), why = err;
        else if (r == 0) break;
        else got += (size_t)r;
    }
    close(fd);
    if (why) {
        if (why != err) snprintf(err, errlen, "%s", why);
        return -1;
    }
    (*buf)[got] = 0;
    *len = got;
    return 0;
}

void *sbf_read_file(const char *path, size_t *len, size_t max_len, char *err, size_t errlen) {
    unsigned char *buf = NULL;
    size_t cap = 0;
    if (sbf_read_into(path, &buf, &cap, len, max_len, err, errlen)) {
        free(buf);
        return NULL;
    }
    return buf;
}

double sbf_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

const char *sbf_exe_dir(void) {
    static char dir[PATH_MAX];
    static int done;
    if (!done) {
        ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
        if (n > 0) {
            dir[n] = 0;
            char *slash = strrchr(dir, '/');
            if (slash) *slash = 0;
        } else dir[0] = 0;
        done = 1;
    }
    return dir;
}

int sbf_progress_wanted(void) {
    const char *e = getenv("SORTBYFACE_PROGRESS");
    if (e && (!strcmp(e, "0") || !strcmp(e, "1"))) return e[0] == '1' ? 2 : 0;
    return isatty(2);
}

void sbf_progress_start(sbf_progress *p, const char *label) {
    p->label = label;
    p->t0 = sbf_now();
    p->tty = sbf_progress_wanted();
    p->last = p->tty == 2 ? p->t0 - 1 : p->t0; /* forced: drawn from the first update */
    p->shown = 0;
    p->again = 0;
}

void sbf_progress_update(void *vp, double fraction) {
    sbf_progress *p = vp;
    double now = sbf_now();
    if (fraction <= 0) { /* starting over: time the second pass on its own */
        p->t0 = now;
        p->again |= p->shown;
        return;
    }
    if (!p->tty || (p->tty == 1 && now - p->t0 < 0.5) || now - p->last < 0.25) return;
    if (fraction > 1) fraction = 1;
    int left = (int)((now - p->t0) * (1 - fraction) / fraction + 0.5);
    fprintf(stderr, "\r%s%s: %3d%%, about %d:%02d left  ", p->label, p->again ? ", second pass" : "",
            (int)(fraction * 100), left / 60, left % 60);
    fflush(stderr);
    p->last = now;
    p->shown = 1;
    progress_on_screen = p;
}

void sbf_progress_end(sbf_progress *p) {
    if (p->shown) progress_wipe(p);
    if (progress_on_screen == p) progress_on_screen = NULL;
}

void sbf_prefault(void *p, size_t n) {
#ifdef MADV_POPULATE_WRITE
    const long ps = sysconf(_SC_PAGESIZE); /* 4 KB on x86-64; 16 or 64 KB on some ARM kernels (Pi 5: 16 KB) */
    if (n < ((size_t)1 << 20) || ps <= 0) return;
    const uintptr_t pg = (uintptr_t)ps, a = ((uintptr_t)p + pg - 1) & ~(pg - 1), e = ((uintptr_t)p + n) & ~(pg - 1);
    if (e > a) madvise((void *)a, e - a, MADV_POPULATE_WRITE); /* failure (older kernel): pages fault as usual */
#else
    (void)p;
    (void)n;
#endif
}

int sbf_grow(unsigned char **p, size_t *cap, size_t need) {
    if (*p && *cap >= need) return 0;
    /* realloc, not free + malloc: a big block is mmap'ed (src/main.c) and glibc grows it with mremap, which keeps
     * the pages already touched, so only the new part costs page faults (the copy of small blocks is cheap). */
    unsigned char *n = realloc(*p, need ? need : 1);
    if (!n) {
        free(*p);
        *p = NULL;
        *cap = 0;
        return -1;
    }
    if (need > *cap) sbf_prefault(n + *cap, need - *cap);
    *p = n;
    *cap = need;
    return 0;
}
