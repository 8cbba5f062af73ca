/* src/walk.c — recursive photo folder walk. */
#include "src/walk.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "src/util.h"

typedef struct { dev_t dev; ino_t ino; } dirid;
typedef struct { dirid *v; int n, cap; } dirset;

static int seen_dir(dirset *s, const struct stat *st) {
    for (int i = 0; i < s->n; i++)
        if (s->v[i].dev == st->st_dev && s->v[i].ino == st->st_ino) return 1;
    if (s->n == s->cap) {
        int nc = s->cap ? 2 * s->cap : 64;
        dirid *v = realloc(s->v, sizeof *v * nc);
        if (!v) return 1;
        s->v = v; s->cap = nc;
    }
    s->v[s->n++] = (dirid){st->st_dev, st->st_ino};
    return 0;
}

char *sbf_path_join(const char *dir, const char *name) {
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
        while (common < np && common < nt && pl[common] == tl[common] && !memcmp(pc[common], tc[common], (size_t)pl[common]))
            common++;
        size_t k = 0;
        int ok = 1;
        for (int i = common; i < nt && ok; i++) {
            ok = k + 3 < n;
            if (ok) { memcpy(out + k, "../", 3); k += 3; }
        }
        for (int i = common; i < np && ok; i++) {
            ok = k + (size_t)pl[i] + 1 < n;
            if (ok) { memcpy(out + k, pc[i], (size_t)pl[i]); k += (size_t)pl[i]; out[k++] = '/'; }
        }
        if (ok && n > 1) {
            if (k == 0) out[k++] = '.';  /* the folder itself */
            else k--;                    /* drop the last '/' */
            out[k] = 0;
            ret = out;
        }
    }
    free(full);
    return ret;
}

int sbf_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int add_file(sbf_walk *w, char *path, const struct stat *st) {
    if (w->n == w->cap) {
        int nc = w->cap ? 2 * w->cap : 256;
        sbf_walk_file *f = realloc(w->files, sizeof *f * nc);
        if (!f) { free(path); return -1; }
        w->files = f; w->cap = nc;
    }
    w->files[w->n++] = (sbf_walk_file){path, (long long)st->st_size,
                                       (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec};
    return 0;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Symlinked folders are walked after all real ones, so a photo reachable both ways keeps its real path. */
typedef struct { char **v; int n, cap; } pathq;
static void defer(pathq *q, char *p) {
    if (q->n == q->cap) {
        int nc = q->cap ? 2 * q->cap : 16;
        char **v = realloc(q->v, sizeof *v * nc);
        if (!v) { free(p); return; }
        q->v = v; q->cap = nc;
    }
    q->v[q->n++] = p;
}

static int is_output_dir(const char *dir) {
    char *m = sbf_path_join(dir, SBF_OUTPUT_MARKER);
    struct stat st;
    int yes = m && lstat(m, &st) == 0;
    free(m);
    return yes;
}

static void walk_dir(sbf_walk *w, dirset *seen, pathq *links, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        char reason[160];
        snprintf(reason, sizeof reason, "cannot read folder: %s", strerror(errno));
        sbf_file_error(dir, reason);
        w->dir_errors++;
        char **u = realloc(w->unreadable, sizeof *u * (size_t)(w->nunreadable + 1));
        if (u) {
            w->unreadable = u;
            if ((u[w->nunreadable] = strdup(dir))) w->nunreadable++;
        }
        return;
    }
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *de;
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
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, cmpstr); /* names is NULL for an empty folder */
    for (int i = 0; i < n; i++) {
        char *p = sbf_path_join(dir, names[i]);
        free(names[i]);
        if (!p) continue;
        struct stat st, lst;
        if (stat(p, &st) != 0 || lstat(p, &lst) != 0) { /* dangling symlink or vanished: nothing to embed */
            free(p);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (is_output_dir(p)) { w->outputs++; free(p); continue; }
            if (S_ISLNK(lst.st_mode)) { defer(links, p); continue; }
            if (seen_dir(seen, &st)) { w->loops++; free(p); continue; }
            walk_dir(w, seen, links, p);
            free(p);
        } else if (S_ISREG(st.st_mode)) {
            add_file(w, p, &st);
        } else free(p);
    }
    free(names);
}

int sbf_walk_tree(sbf_walk *w, const char *root, char *err, size_t errlen) {
    struct stat st;
    if (stat(root, &st) != 0) { snprintf(err, errlen, "%s", strerror(errno)); return -1; }
    if (S_ISREG(st.st_mode)) {
        char *p = strdup(root);
        return p ? add_file(w, p, &st) : -1;
    }
    if (!S_ISDIR(st.st_mode)) { snprintf(err, errlen, "not a folder or a file"); return -1; }
    DIR *d = opendir(root);
    if (!d) { snprintf(err, errlen, "cannot read folder: %s", strerror(errno)); return -1; }
    closedir(d);
    dirset seen = {0};
    pathq links = {0};
    seen_dir(&seen, &st);
    walk_dir(w, &seen, &links, root);
    for (int i = 0; i < links.n; i++) { /* the queue may grow while we go */
        struct stat ls;
        if (stat(links.v[i], &ls) == 0 && !seen_dir(&seen, &ls)) walk_dir(w, &seen, &links, links.v[i]);
        else w->loops++;
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

int sbf_path_under(const char *path, const char *root) {
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/') rl--;
    if (strncmp(path, root, rl) != 0) return 0;
    return path[rl] == 0 || path[rl] == '/' || (rl == 1 && root[0] == '/');
}
