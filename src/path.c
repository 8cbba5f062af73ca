/* src/path.c — path spelling and identity rules; see src/path.h. */
#include "src/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *sbf_path_join(const char *dir, const char *name) {
    if (dir[0] == '.' && dir[1] == 0) return strdup(name);
    size_t dl = strlen(dir), nl = strlen(name);
    while (dl > 1 && dir[dl - 1] == '/') dl--;
    char *p = malloc(dl + nl + 2);
    if (!p) return NULL;
    memcpy(p, dir, dl);
    size_t k = dl;
    if (!(dl == 1 && dir[0] == '/')) p[k++] = '/';
    memcpy(p + k, name, nl + 1);
    return p;
}

int sbf_path_under(const char *path, const char *root) {
    if (root[0] == '.' && root[1] == 0) return path[0] != '/';
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/') rl--;
    if (strncmp(path, root, rl) != 0) return 0;
    return path[rl] == 0 || path[rl] == '/' || (rl == 1 && root[0] == '/');
}

/* The components of path with "", "." dropped and "x/.." folded; leading ".." kept (relative) or dropped
 * (absolute).  comp/len have room for strlen(path) / 2 + 1 entries.  Returns the count. */
static size_t fold(const char *path, const char **comp, size_t *len) {
    size_t k = 0;
    int abs = path[0] == '/';
    for (const char *p = path; *p;) {
        while (*p == '/') p++;
        const char *e = p;
        while (*e && *e != '/') e++;
        size_t l = (size_t)(e - p);
        if (l == 0 || (l == 1 && p[0] == '.')) {
        } else if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (k && !(len[k - 1] == 2 && comp[k - 1][0] == '.' && comp[k - 1][1] == '.')) k--;
            else if (!abs) comp[k] = p, len[k++] = l;
        } else {
            comp[k] = p;
            len[k++] = l;
        }
        p = e;
    }
    return k;
}

char *sbf_path_normal(const char *path) {
    size_t n = strlen(path), cap = n / 2 + 2;
    const char **comp = malloc(cap * sizeof *comp);
    size_t *len = malloc(cap * sizeof *len);
    char *out = malloc(n + 2);
    if (!comp || !len || !out) {
        free(comp);
        free(len);
        free(out);
        return NULL;
    }
    size_t k = fold(path, comp, len), o = 0;
    if (path[0] == '/') out[o++] = '/';
    for (size_t i = 0; i < k; i++) {
        if (i) out[o++] = '/';
        memcpy(out + o, comp[i], len[i]);
        o += len[i];
    }
    if (o == 0) out[o++] = '.';
    out[o] = 0;
    free(comp);
    free(len);
    return out;
}

/* 1 when path has a ".." component. */
static int has_dotdot(const char *path) {
    for (const char *p = path; (p = strstr(p, "..")); p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == 0 || p[2] == '/')) return 1;
    return 0;
}

char *sbf_path_key(const char *base, const char *cwd, const char *path) {
    char *full = path[0] == '/' ? strdup(path) : sbf_path_join(cwd, path);
    if (!full) return NULL;
    char *norm = sbf_path_normal(full);
    if (norm && has_dotdot(full)) {
        /* "link/.." is where the link points's parent, not the link's folder: when the folded spelling
         * names another file than the path, the path's real name is used */
        sbf_file_id a, b;
        if (sbf_file_id_of(full, &a) == 0 && (sbf_file_id_of(norm, &b) != 0 || a.dev != b.dev || a.ino != b.ino)) {
            char *real = realpath(full, NULL);
            if (real) {
                free(norm);
                norm = sbf_path_normal(real);
                free(real);
            }
        }
    }
    free(full);
    char *nb = norm ? sbf_path_normal(base) : NULL;
    if (!nb) {
        free(norm);
        return NULL;
    }
    char *key = norm;
    size_t bl = strlen(nb);
    if (!strcmp(norm, nb)) {
        key = strdup(".");
        free(norm);
    } else if (bl == 1 && nb[0] == '/') {
        key = strdup(norm + 1);
        free(norm);
    } else if (!strncmp(norm, nb, bl) && norm[bl] == '/') {
        key = strdup(norm + bl + 1);
        free(norm);
    }
    free(nb);
    return key;
}

/* Folds path (absolute) into its components: "." dropped, ".." removes the previous one. */
static int split_abs(const char *path, const char **comp, int *len, int max) {
    int k = 0;
    for (const char *p = path; *p;) {
        while (*p == '/') p++;
        const char *e = p;
        while (*e && *e != '/') e++;
        int l = (int)(e - p);
        if (l == 0 || (l == 1 && p[0] == '.')) { /* nothing */
        } else if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (k) k--;
        } else {
            if (k == max) return -1;
            comp[k] = p;
            len[k++] = l;
        }
        p = e;
    }
    return k;
}

char *sbf_path_rebase(const char *from, const char *to, const char *path, char *out, size_t n) {
    enum { MAXC = 512 };
    static _Thread_local const char *pc[MAXC], *tc[MAXC];
    static _Thread_local int pl[MAXC], tl[MAXC];
    char *full = path[0] == '/' ? strdup(path) : sbf_path_join(from, path);
    if (!full) return NULL;
    int np = split_abs(full, pc, pl, MAXC), nt = split_abs(to, tc, tl, MAXC);
    char *ret = NULL;
    if (np >= 0 && nt >= 0) {
        int common = 0;
        while (common < np && common < nt && pl[common] == tl[common] &&
               !memcmp(pc[common], tc[common], (size_t)pl[common]))
            common++;
        size_t k = 0;
        int ok = 1;
        for (int i = common; i < nt && ok; i++) {
            ok = k + 3 < n;
            if (ok) {
                memcpy(out + k, "../", 3);
                k += 3;
            }
        }
        for (int i = common; i < np && ok; i++) {
            ok = k + (size_t)pl[i] + 1 < n;
            if (ok) {
                memcpy(out + k, pc[i], (size_t)pl[i]);
                k += (size_t)pl[i];
                out[k++] = '/';
            }
        }
        if (ok && n > 1) {
            if (k == 0) out[k++] = '.'; /* the folder itself */
            else k--;                   /* drop the last '/' */
            out[k] = 0;
            ret = out;
        }
    }
    free(full);
    return ret;
}

int sbf_path_open(const char *path, int flags) {
    if (strlen(path) < PATH_MAX) return open(path, flags | O_CLOEXEC);
    const char *p = path;
    int dfd = AT_FDCWD;
    if (*p == '/') {
        if ((dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) return -1;
        while (*p == '/') p++;
    }
    char chunk[PATH_MAX / 2 + 1];
    while (strlen(p) >= PATH_MAX / 2) {
        /* the longest run of whole components that fits a chunk */
        size_t cut = 0;
        for (size_t i = 0; i < PATH_MAX / 2; i++)
            if (p[i] == '/') cut = i;
        if (cut == 0) {
            if (dfd != AT_FDCWD) close(dfd);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(chunk, p, cut);
        chunk[cut] = 0;
        int nfd = openat(dfd, chunk, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int e = errno;
        if (dfd != AT_FDCWD) close(dfd);
        if (nfd < 0) {
            errno = e;
            return -1;
        }
        dfd = nfd;
        p += cut;
        while (*p == '/') p++;
    }
    int fd = openat(dfd, *p ? p : ".", flags | O_CLOEXEC);
    int e = errno;
    if (dfd != AT_FDCWD) close(dfd);
    errno = e;
    return fd;
}

const char *sbf_path_short(const char *path, char *buf, size_t n, int *fd) {
    *fd = -1;
    if (strlen(path) < PATH_MAX) return path;
    int f = sbf_path_open(path, O_RDONLY);
    if (f < 0) return NULL;
    if (snprintf(buf, n, "/proc/self/fd/%d", f) >= (int)n) {
        close(f);
        errno = ENAMETOOLONG;
        return NULL;
    }
    *fd = f;
    return buf;
}

int sbf_file_id_of(const char *path, sbf_file_id *id) {
    struct stat st;
    if (strlen(path) < PATH_MAX) {
        if (stat(path, &st) != 0) return -1;
    } else {
        int fd = sbf_path_open(path, O_PATH);
        if (fd < 0) return -1;
        int rc = fstat(fd, &st);
        close(fd);
        if (rc != 0) return -1;
    }
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    return 0;
}

int sbf_same_file(const char *a, const char *b) {
    sbf_file_id x, y;
    return sbf_file_id_of(a, &x) == 0 && sbf_file_id_of(b, &y) == 0 && x.dev == y.dev && x.ino == y.ino;
}

int sbf_path_same_photo(const char *a, const char *b) {
    sbf_file_id x, y;
    int ha = sbf_file_id_of(a, &x) == 0, hb = sbf_file_id_of(b, &y) == 0;
    if (ha && hb) return x.dev == y.dev && x.ino == y.ino;
    if (ha || hb) return 0;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return !strcmp(a, b);
    char *ka = sbf_path_key("/", cwd, a), *kb = sbf_path_key("/", cwd, b);
    int same = ka && kb ? !strcmp(ka, kb) : !strcmp(a, b);
    free(ka);
    free(kb);
    return same;
}
