/* src/walk.c — recursive photo folder walk through folder descriptors; see src/walk.h. */
#include "src/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "src/util.h"

typedef struct {
    sbf_file_id *v;
    int n, cap;
} dirset;

static int seen_dir(dirset *s, const struct stat *st) {
    for (int i = 0; i < s->n; i++)
        if (s->v[i].dev == st->st_dev && s->v[i].ino == st->st_ino) return 1;
    if (s->n == s->cap) {
        int nc = s->cap ? 2 * s->cap : 64;
        sbf_file_id *v = realloc(s->v, sizeof *v * nc);
        if (!v) return 1;
        s->v = v;
        s->cap = nc;
    }
    s->v[s->n++] = (sbf_file_id){st->st_dev, st->st_ino};
    return 0;
}

static int add_file(sbf_walk *w, char *path, const struct stat *st, int via_link) {
    if (w->n == w->cap) {
        int nc = w->cap ? 2 * w->cap : 256;
        sbf_walk_file *f = realloc(w->files, sizeof *f * nc);
        if (!f) {
            free(path);
            return -1;
        }
        w->files = f;
        w->cap = nc;
    }
    w->files[w->n++] = (sbf_walk_file){path, (long long)st->st_size,
                                       (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec,
                                       (sbf_file_id){st->st_dev, st->st_ino}, via_link};
    return 0;
}

/* A folder or file that could not be read: one line on stderr, and its path kept (what the database
 * holds under it is not forgotten). */
static void unreadable(sbf_walk *w, const char *path, const char *what, int e) {
    char reason[160];
    snprintf(reason, sizeof reason, "cannot read %s: %s", what, strerror(e));
    sbf_file_error(path, reason);
    w->dir_errors++;
    char **u = realloc(w->unreadable, sizeof *u * (size_t)(w->nunreadable + 1));
    if (u) {
        w->unreadable = u;
        if ((u[w->nunreadable] = strdup(path))) w->nunreadable++;
    }
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Symlinked folders are walked after all real ones, so a photo reachable both ways keeps its real path. */
typedef struct {
    char **v;
    int n, cap;
} pathq;
static void defer(pathq *q, char *p) {
    if (q->n == q->cap) {
        int nc = q->cap ? 2 * q->cap : 16;
        char **v = realloc(q->v, sizeof *v * nc);
        if (!v) {
            free(p);
            return;
        }
        q->v = v;
        q->cap = nc;
    }
    q->v[q->n++] = p;
}

/* Walks the open folder fd (closed here), named dir. */
static void walk_dir(sbf_walk *w, dirset *seen, pathq *links, int fd, const char *dir, int via_link) {
    DIR *d = fdopendir(fd);
    if (!d) {
        unreadable(w, dir, "folder", errno);
        close(fd);
        return;
    }
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, sizeof *nn * cap);
            if (!nn) break;
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) break;
        n++;
    }
    if (!de && errno) unreadable(w, dir, "folder", errno);
    if (n) qsort(names, (size_t)n, sizeof *names, cmpstr); /* names is NULL for an empty folder */
    fd = dirfd(d);
    for (int i = 0; i < n; i++) {
        char *p = sbf_path_join(dir, names[i]);
        if (!p) {
            free(names[i]);
            continue;
        }
        struct stat st, lst;
        if (fstatat(fd, names[i], &lst, AT_SYMLINK_NOFOLLOW) != 0) { /* vanished meanwhile */
            if (errno != ENOENT) unreadable(w, p, "file", errno);
            free(p);
            free(names[i]);
            continue;
        }
        if (fstatat(fd, names[i], &st, 0) != 0) {
            /* a dangling symlink or a link loop: nothing to embed */
            if (!S_ISLNK(lst.st_mode) || (errno != ENOENT && errno != ELOOP && errno != ENOTDIR))
                unreadable(w, p, "file", errno);
            free(p);
            free(names[i]);
            continue;
        }
        int link = via_link || S_ISLNK(lst.st_mode);
        if (S_ISDIR(st.st_mode)) {
            int cfd = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            struct stat ms;
            if (cfd < 0) {
                unreadable(w, p, "folder", errno);
                free(p);
            } else if (fstatat(cfd, SBF_OUTPUT_MARKER, &ms, AT_SYMLINK_NOFOLLOW) == 0) {
                w->outputs++;
                close(cfd);
                free(p);
            } else if (S_ISLNK(lst.st_mode)) {
                close(cfd);
                defer(links, p);
            } else if (seen_dir(seen, &st)) {
                w->loops++;
                close(cfd);
                free(p);
            } else {
                walk_dir(w, seen, links, cfd, p, via_link);
                free(p);
            }
        } else if (S_ISREG(st.st_mode)) {
            add_file(w, p, &st, link);
        } else free(p);
        free(names[i]);
    }
    free(names);
    closedir(d);
}

int sbf_walk_tree(sbf_walk *w, const char *root, char *err, size_t errlen) {
    int fd = sbf_path_open(root, O_RDONLY | O_NONBLOCK); /* non-blocking: a FIFO given as root must not hang */
    struct stat st, lst;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        int dir = fd < 0 && e == EACCES && stat(root, &st) == 0 && S_ISDIR(st.st_mode);
        snprintf(err, errlen, "%s%s", dir ? "cannot read folder: " : "", strerror(e));
        if (fd >= 0) close(fd);
        return -1;
    }
    if (S_ISREG(st.st_mode)) {
        close(fd);
        char *p = strdup(root);
        int link = lstat(root, &lst) == 0 && S_ISLNK(lst.st_mode);
        return p ? add_file(w, p, &st, link) : -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "not a folder or a file");
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    dirset seen = {0};
    pathq links = {0};
    seen_dir(&seen, &st);
    walk_dir(w, &seen, &links, fd, root, 0);
    for (int i = 0; i < links.n; i++) { /* the queue may grow while we go */
        int lfd = sbf_path_open(links.v[i], O_RDONLY | O_DIRECTORY);
        struct stat ls;
        if (lfd >= 0 && fstat(lfd, &ls) == 0 && !seen_dir(&seen, &ls)) walk_dir(w, &seen, &links, lfd, links.v[i], 1);
        else {
            if (lfd >= 0) close(lfd);
            w->loops++;
        }
        free(links.v[i]);
    }
    free(links.v);
    free(seen.v);
    return 0;
}

void sbf_walk_free(sbf_walk *w) {
    for (int i = 0; i < w->n; i++) free(w->files[i].path);
    free(w->files);
    for (int i = 0; i < w->nunreadable; i++) free(w->unreadable[i]);
    free(w->unreadable);
    memset(w, 0, sizeof *w);
}
