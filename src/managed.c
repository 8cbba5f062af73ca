/* src/managed.c — the managed output folder; see src/managed.h. */
#include "src/managed.h"
#include "src/page.h"
#include "src/util.h"
#include "src/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define seterr sbf_seterr
#define NONE32 0xffffffffu
#define MAX_DEPTH 16

/* ---- a small string set / map (open addressing) --------------------------------------------------- */
typedef struct {
    char **key;
    int *val;
    size_t cap, n;
} smap;
static uint32_t shash(const char *p) {
    uint32_t h = 2166136261u;
    for (; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}
static void smap_free(smap *m) {
    for (size_t i = 0; i < m->cap; i++) free(m->key[i]);
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}
static int smap_grow(smap *m) {
    size_t nc = m->cap ? m->cap * 2 : 256;
    char **k = calloc(nc, sizeof *k);
    int *v = calloc(nc, sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->key[i]) continue;
        size_t j = shash(m->key[i]) & (nc - 1);
        while (k[j]) j = (j + 1) & (nc - 1);
        k[j] = m->key[i];
        v[j] = m->val[i];
    }
    free(m->key);
    free(m->val);
    m->key = k;
    m->val = v;
    m->cap = nc;
    return 0;
}
/* The value of key, or -1. */
static int smap_get(const smap *m, const char *key) {
    if (!m->cap) return -1;
    size_t j = shash(key) & (m->cap - 1);
    while (m->key[j]) {
        if (!strcmp(m->key[j], key)) return m->val[j];
        j = (j + 1) & (m->cap - 1);
    }
    return -1;
}
static int smap_put(smap *m, const char *key, int val) {
    if ((m->n + 1) * 2 > m->cap && smap_grow(m)) return -1;
    size_t j = shash(key) & (m->cap - 1);
    while (m->key[j]) {
        if (!strcmp(m->key[j], key)) {
            m->val[j] = val;
            return 0;
        }
        j = (j + 1) & (m->cap - 1);
    }
    if (!(m->key[j] = strdup(key))) return -1;
    m->val[j] = val;
    m->n++;
    return 0;
}

/* ---- the folder ------------------------------------------------------------------------------------- */
typedef struct {
    char *rel;
    uint64_t ino;
    int64_t size, mtime_ns;
    int claimed;
} found;

struct sbf_managed {
    char *dir, *base;
    int lockfd;
    found *f;
    int nf, capf;
    smap byrel;      /* rel -> index into f */
    smap oldfolders; /* the people's folders before the plan (emptied ones are removed) */
};

const char *sbf_managed_dir(const sbf_managed *m) { return m->dir; }

static int64_t mtime_of(const struct stat *st) {
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* dir + "/" + rel (malloc'ed) */
static char *full(const sbf_managed *m, const char *rel) { return sbf_path_join(m->dir, rel); }

static int lstat_rel(const sbf_managed *m, const char *rel, struct stat *st) {
    char *p = full(m, rel);
    int rc = p ? lstat(p, st) : -1;
    free(p);
    return rc;
}

/* 1 when st is the file entry e placed: its inode, or (a copy of the folder: cp -a, rsync -a, a restored backup
 * give every file a new inode) its size and modification time. */
static int is_placed(const struct stat *st, const sbf_placed *e) {
    return (uint64_t)st->st_ino == e->ino || ((int64_t)st->st_size == e->size && mtime_of(st) == e->mtime_ns);
}

/* Where entry e is now: its rel, or its rel under the new name of a renamed folder (pp->ren), checked by
 * inode; the found rel in out.  0 when it is in neither. */
static int locate(const sbf_managed *m, const sbf_people *pp, const sbf_placed *e, char *out, size_t n) {
    struct stat st;
    if (e->rel && lstat_rel(m, e->rel, &st) == 0 && is_placed(&st, e)) {
        snprintf(out, n, "%s", e->rel);
        return 1;
    }
    if (!e->rel) return 0;
    const char *sl = strchr(e->rel, '/');
    if (!sl) return 0;
    for (int r = 0; r < pp->nren; r++) {
        size_t fl = strlen(pp->ren[r].from);
        if ((size_t)(sl - e->rel) != fl || strncmp(e->rel, pp->ren[r].from, fl)) continue;
        snprintf(out, n, "%s%s", pp->ren[r].to, sl);
        if (lstat_rel(m, out, &st) == 0 && is_placed(&st, e)) return 1;
    }
    return 0;
}

static int is_dir_rel(const sbf_managed *m, const char *rel) {
    struct stat st;
    return lstat_rel(m, rel, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The first component of rel in buf ("" for a file at the top). */
static const char *top_of(const char *rel, char *buf, size_t n) {
    const char *s = strchr(rel, '/');
    if (!s) buf[0] = 0;
    else snprintf(buf, n, "%.*s", (int)(s - rel), rel);
    return buf;
}
/* The part of rel after its first component (the whole rel for a file at the top). */
static const char *rest_of(const char *rel) {
    const char *s = strchr(rel, '/');
    return s ? s + 1 : rel;
}

/* Temp files of a copy (".sortbyface-XXXXXX") or a link check that a kill left; never the marker. */
static int our_temp(const char *name) { return !strncmp(name, ".sortbyface-", 12) && strcmp(name, SBF_OUTPUT_MARKER); }
static int our_tmp_write(const char *name) { /* sbf_write_file_atomic's temp file of clusters.tsv or the page */
    return !strncmp(name, "clusters.tsv.tmp-", 17) || !strncmp(name, SBF_PAGE_FILE ".tmp-", sizeof SBF_PAGE_FILE + 4);
}
static int top_skipped(const char *name) { /* our own files at the top (the page's .thumbs/: a dot folder) */
    return !strcmp(name, SBF_OUTPUT_MARKER) || !strcmp(name, "clusters.tsv") || !strcmp(name, SBF_PAGE_FILE) ||
           our_tmp_write(name) || our_temp(name);
}

static int add_found(sbf_managed *m, const char *rel, const struct stat *st) {
    if (m->nf == m->capf) {
        int nc = m->capf ? m->capf * 2 : 256;
        found *n = realloc(m->f, (size_t)nc * sizeof *n);
        if (!n) return -1;
        m->f = n;
        m->capf = nc;
    }
    found *x = &m->f[m->nf];
    if (!(x->rel = strdup(rel))) return -1;
    x->ino = (uint64_t)st->st_ino;
    x->size = (int64_t)st->st_size;
    x->mtime_ns = mtime_of(st);
    x->claimed = 0;
    if (smap_put(&m->byrel, rel, m->nf)) return -1;
    m->nf++;
    return 0;
}

/* Every file (regular or symlink) under dir/rel, not following symlinked folders; temp files of ours are
 * removed when clean. */
static int scan_dir(sbf_managed *m, const char *rel, int depth, int clean) {
    char *p = full(m, rel);
    DIR *d = p ? opendir(p) : NULL;
    if (!d) {
        free(p);
        return 0;
    } /* unreadable: nothing of ours can be seen there */
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        const char *nm = de->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..")) continue;
        char *r = sbf_path_join(rel, nm), *fp = sbf_path_join(p, nm);
        struct stat st;
        if (!r || !fp) rc = -1;
        else if (our_temp(nm)) {
            if (clean && lstat(fp, &st) == 0 && S_ISREG(st.st_mode)) unlink(fp);
        } else if (lstat(fp, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                if (depth < MAX_DEPTH) rc = scan_dir(m, r, depth + 1, clean);
            } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
                rc = add_found(m, r, &st);
            }
        }
        free(r);
        free(fp);
    }
    closedir(d);
    free(p);
    return rc;
}

static void scan_free(sbf_managed *m) {
    for (int i = 0; i < m->nf; i++) free(m->f[i].rel);
    free(m->f);
    m->f = NULL;
    m->nf = m->capf = 0;
    smap_free(&m->byrel);
}

/* The folder as it is now: every file under its top-level folders, and the files at its top. */
static int scan(sbf_managed *m, int clean) {
    scan_free(m);
    DIR *d = opendir(m->dir);
    if (!d) return errno == ENOENT ? 0 : -1; /* (a dry run of the first sort: not made yet) */
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        const char *nm = de->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..")) continue;
        char *fp = full(m, nm);
        struct stat st;
        if (!fp) rc = -1;
        else if (top_skipped(nm)) { /* (temp files of ours: a copy, a link check, clusters.tsv, killed) */
            if (clean && (our_temp(nm) || our_tmp_write(nm)) && lstat(fp, &st) == 0 && S_ISREG(st.st_mode)) unlink(fp);
        } else if (lstat(fp, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                if (nm[0] != '.') rc = scan_dir(m, nm, 1, clean);
            } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
                rc = add_found(m, nm, &st);
            }
        }
        free(fp);
    }
    closedir(d);
    return rc;
}

sbf_managed *sbf_managed_open(const char *dir, const char *base, int dry, int *created, char *err, size_t errlen) {
    sbf_managed *m = calloc(1, sizeof *m);
    if (!m || !(m->dir = strdup(dir)) || (base && !(m->base = strdup(base)))) {
        if (m) {
            free(m->dir);
            free(m);
        }
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    m->lockfd = -1;
    *created = 0;
    struct stat st;
    if (stat(dir, &st) != 0 && errno == ENOENT && dry) {
        *created = 1; /* a dry run makes nothing */
        return m;
    }
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || mkdir(dir, 0755) != 0) {
            seterr(err, errlen, "cannot create folder %s: %s", dir, strerror(errno));
            goto fail;
        }
        *created = 1;
        if (sbf_output_mark(dir, err, errlen)) goto fail;
    } else if (!S_ISDIR(st.st_mode)) {
        seterr(err, errlen, "%s exists and is not a folder", dir);
        goto fail;
    }
    if (dry) return m; /* reads only */
    m->lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m->lockfd < 0) {
        seterr(err, errlen, "cannot open folder %s: %s", dir, strerror(errno));
        goto fail;
    }
    if (flock(m->lockfd, LOCK_EX | LOCK_NB) != 0) {
        seterr(err, errlen, "%s: %s", dir,
               errno == EWOULDBLOCK ? "another sortbyface sort is working on this folder" : strerror(errno));
        goto fail;
    }
    return m;
fail:
    sbf_managed_close(m);
    return NULL;
}

void sbf_managed_close(sbf_managed *m) {
    if (!m) return;
    if (m->lockfd >= 0) close(m->lockfd);
    scan_free(m);
    smap_free(&m->oldfolders);
    free(m->dir);
    free(m->base);
    free(m);
}

/* The photo at stored path p as it opens from here (malloc'ed). */
static char *photo_path(const sbf_managed *m, const char *p) {
    return m->base && p[0] != '/' ? sbf_path_join(m->base, p) : strdup(p);
}

static int placed_add(sbf_people *pp, const sbf_placed *e) {
    if (pp->nplaced == pp->capplaced) {
        int nc = pp->capplaced ? pp->capplaced * 2 : 64;
        sbf_placed *n = realloc(pp->placed, (size_t)nc * sizeof *n);
        if (!n) return -1;
        pp->placed = n;
        pp->capplaced = nc;
    }
    pp->placed[pp->nplaced++] = *e;
    return 0;
}
static void placed_drop(sbf_people *pp, int k) {
    free(pp->placed[k].rel);
    free(pp->placed[k].to);
    pp->placed[k] = pp->placed[--pp->nplaced];
}
static void set_str(char **dst, const char *s) {
    char *c = s ? strdup(s) : NULL;
    if (s && !c) return; /* out of memory: keep the old value */
    free(*dst);
    *dst = c;
}

/* ---- finishing an interrupted re-sync ------------------------------------------------------------- */
/* 1 when the file at rel looks like what placing photo src (mode) made. */
static int looks_placed(const sbf_managed *m, const sbf_people *pp, const sbf_placed *e, const struct stat *st) {
    char *src = e->src != NONE32 ? photo_path(m, pp->paths[e->src]) : NULL;
    struct stat ss;
    int ok = 0;
    if (src && lstat(src, &ss) == 0) {
        if (pp->mode == SBF_PLACE_LINK)
            ok = st->st_ino == ss.st_ino ||
                 (S_ISREG(st->st_mode) && st->st_size == e->src_size && mtime_of(st) == e->src_mtime_ns);
        else if (pp->mode == SBF_PLACE_SYMLINK) {
            char real[PATH_MAX], *to = full(m, e->to);
            char target[PATH_MAX];
            ssize_t n = to ? readlink(to, target, sizeof target - 1) : -1;
            free(to);
            if (n > 0 && realpath(src, real)) {
                target[n] = 0;
                ok = S_ISLNK(st->st_mode) && !strcmp(target, real);
            }
        } else ok = S_ISREG(st->st_mode) && st->st_size == e->src_size && mtime_of(st) == e->src_mtime_ns;
    }
    free(src);
    return ok;
}

int sbf_managed_recover(sbf_managed *m, sbf_people *pp, int dry, sbf_managed_stats *st) {
    if (!pp->planned) {
        if (!dry) scan(m, 1); /* temp files of a copy that was killed between two runs' plans: none expected */
        return 0;
    }
    for (int k = pp->nplaced - 1; k >= 0; k--) {
        sbf_placed *e = &pp->placed[k];
        struct stat s1;
        char here[PATH_MAX * 2];
        int at_to = e->to && lstat_rel(m, e->to, &s1) == 0;
        switch (e->op) {
        case SBF_OP_MOVE:
            if (at_to && is_placed(&s1, e)) {
                set_str(&e->rel, e->to);
                st->recovered++;
            } else if (locate(m, pp, e, here, sizeof here)) {
                set_str(&e->rel, here);
            } else {
                placed_drop(pp, k);
                continue;
            }
            break;
        case SBF_OP_PLACE:
            if (at_to && looks_placed(m, pp, e, &s1)) {
                set_str(&e->rel, e->to);
                e->ino = (uint64_t)s1.st_ino;
                e->size = (int64_t)s1.st_size;
                e->mtime_ns = mtime_of(&s1);
                st->recovered++;
            } else {
                placed_drop(pp, k);
                continue;
            }
            break;
        case SBF_OP_REMOVE:
            if (!locate(m, pp, e, here, sizeof here)) {
                placed_drop(pp, k);
                st->recovered++;
                continue;
            }
            set_str(&e->rel, here);
            break;
        default: break;
        }
        e->op = SBF_OP_NONE;
        free(e->to);
        e->to = NULL;
    }
    /* a person whose folder was to be renamed and was not keeps the old one */
    for (int i = 0; i < pp->npersons; i++) {
        sbf_person *p = &pp->persons[i];
        if (!p->folder || is_dir_rel(m, p->folder)) continue;
        for (int r = 0; r < pp->nren; r++)
            if (!strcmp(pp->ren[r].to, p->folder) && is_dir_rel(m, pp->ren[r].from))
                set_str(&p->folder, pp->ren[r].from);
    }
    for (int r = 0; r < pp->nren; r++) {
        free(pp->ren[r].from);
        free(pp->ren[r].to);
    }
    pp->nren = 0;
    pp->planned = 0;
    if (!dry) scan(m, 1); /* temp files of a copy that was killed */
    return 0;
}

/* ---- reading the user's edits ---------------------------------------------------------------------- */
typedef struct {
    uint64_t ino;
    int idx;
} inoidx;
static int cmp_inoidx(const void *a, const void *b) {
    const inoidx *x = a, *y = b;
    if (x->ino != y->ino) return x->ino < y->ino ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

enum { E_OK, E_EDITED, E_MOVED, E_GONE, E_USERSGONE };

/* The person whose folder (at the last re-sync) is name; 0 none. */
static uint32_t person_of_folder(const sbf_people *pp, const char *name) {
    if (!strcmp(name, SBF_UNKNOWN_FOLDER)) return 0; /* shared by the people seen too rarely */
    for (int i = 0; i < pp->npersons; i++) {
        const sbf_person *p = &pp->persons[i];
        if (!(p->flags & (SBF_PERSON_RETIRED | SBF_PERSON_HIDDEN)) && p->folder && !strcmp(p->folder, name))
            return p->number;
    }
    return 0;
}

static void say_face(FILE *out, const char *what, const char *rel, const char *how, uint32_t id) {
    if (!out) return;
    fprintf(out, "sort: %s ", what);
    sbf_tsv_escape(out, rel);
    fprintf(out, "%s (correction %u)\n", how, id);
}

/* The person a face moved into folder top is: the person of that folder, of that name (or "Person N"),
 * or a new person of that name (made once per folder: newp). */
static uint32_t person_for_folder(sbf_people *pp, const char *top, smap *newp, FILE *out) {
    uint32_t q = person_of_folder(pp, top);
    if (q) return q;
    sbf_person *p = sbf_people_lookup(pp, top);
    if (p && (p->name || !strncmp(top, "Person ", 7))) {
        if (p->flags & SBF_PERSON_HIDDEN) { /* a folder of a hidden person's name: shown again */
            for (int k = pp->ncorr - 1; k >= 0; k--)
                if (pp->corr[k].kind == SBF_CORR_HIDE && pp->corr[k].person == p->number)
                    sbf_people_withdraw(pp, pp->corr[k].id);
            p->flags &= ~(uint32_t)SBF_PERSON_HIDDEN;
        }
        return p->number;
    }
    int v = smap_get(newp, top);
    if (v > 0) return (uint32_t)v;
    const char *why = sbf_people_name_invalid(top);
    sbf_person *np = sbf_people_new_person(pp, why ? NULL : top);
    if (!np) return 0;
    set_str(&np->folder, top);
    smap_put(newp, top, (int)np->number);
    if (out) {
        fprintf(out, "sort: new folder ");
        sbf_tsv_escape(out, top);
        if (why) fprintf(out, "/: a new person %u (the folder's name is not used as a name: %s)\n", np->number, why);
        else fprintf(out, "/: a new person %u named so\n", np->number);
    }
    return np->number;
}

/* "sort: folder OLD/ renamed to NEW/" (the rest of the line is the caller's). */
static void say_renamed(FILE *out, const char *old, const char *new_name) {
    fprintf(out, "sort: folder ");
    sbf_tsv_escape(out, old);
    fprintf(out, "/ renamed to ");
    sbf_tsv_escape(out, new_name);
}
int sbf_managed_read_edits(sbf_managed *m, sbf_people *pp, FILE *out, sbf_managed_stats *st) {
    if (scan(m, 0)) return -1;
    int n = pp->nplaced, rc = -1;
    int *status = calloc((size_t)(n ? n : 1), sizeof *status), *where = malloc((size_t)(n ? n : 1) * sizeof *where);
    inoidx *byino = malloc((size_t)(m->nf ? m->nf : 1) * sizeof *byino);
    char **oldtop = calloc((size_t)(n ? n : 1), sizeof *oldtop);
    smap newp = {0}, renamed = {0};
    if (!status || !where || !byino || !oldtop) goto out;
    for (int i = 0; i < m->nf; i++) byino[i] = (inoidx){m->f[i].ino, i};
    qsort(byino, (size_t)m->nf, sizeof *byino, cmp_inoidx);
    char tb[PATH_MAX];
    /* 1. every entry at its own path */
    for (int k = 0; k < n; k++) {
        sbf_placed *e = &pp->placed[k];
        if (!(oldtop[k] = strdup(top_of(e->rel, tb, sizeof tb)))) goto out;
        int fi = smap_get(&m->byrel, e->rel);
        where[k] = fi;
        if (e->flags & SBF_PLACED_USER) {
            status[k] = fi >= 0 ? E_OK : E_USERSGONE;
            if (fi >= 0) m->f[fi].claimed = 1;
            continue;
        }
        if (fi < 0) {
            status[k] = E_GONE;
            continue;
        }
        found *x = &m->f[fi];
        x->claimed = 1;
        if (x->size == e->size && x->mtime_ns == e->mtime_ns) { /* as placed (a copied folder: another inode) */
            e->ino = x->ino;
            status[k] = E_OK;
        } else {
            /* a hard link follows its photo: the photo changed, not the placed file */
            struct stat ss;
            char *src = pp->mode == SBF_PLACE_LINK && e->src != NONE32 ? photo_path(m, pp->paths[e->src]) : NULL;
            if (src && x->ino == e->ino && lstat(src, &ss) == 0 && (uint64_t)ss.st_ino == e->ino) {
                e->size = x->size;
                e->mtime_ns = x->mtime_ns;
                status[k] = E_OK;
            } else status[k] = E_EDITED;
            free(src);
        }
    }
    /* 2. the others by inode: moved (as placed) or moved and edited */
    for (int k = 0; k < n; k++) {
        sbf_placed *e = &pp->placed[k];
        if (status[k] != E_GONE) continue;
        inoidx key = {e->ino, -1};
        size_t lo = 0, hi = (size_t)m->nf;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (cmp_inoidx(&byino[mid], &key) < 0) lo = mid + 1;
            else hi = mid;
        }
        /* (only as placed: a file with the inode but another size or time may be a new file that got the
         * inode of a deleted one, so a photo moved and edited reads as deleted, and the file as the user's) */
        int fi = -1;
        for (size_t j = lo; j < (size_t)m->nf && byino[j].ino == e->ino && fi < 0; j++) {
            found *x = &m->f[byino[j].idx];
            if (!x->claimed && x->size == e->size && x->mtime_ns == e->mtime_ns) fi = byino[j].idx;
        }
        if (fi < 0) continue;
        m->f[fi].claimed = 1;
        where[k] = fi;
        status[k] = E_MOVED;
        set_str(&e->rel, m->f[fi].rel);
    }
    /* 3. folders renamed: a person's folder that is gone, whose files sit in a new folder (one nobody had: not a
     * person's, not Unknown/; when its files went to several such folders, the one holding most of them) */
    for (int k = 0; k < n; k++) {
        if (status[k] != E_MOVED || !oldtop[k][0] || is_dir_rel(m, oldtop[k]) || smap_get(&renamed, oldtop[k]) >= 0)
            continue;
        uint32_t pn = person_of_folder(pp, oldtop[k]);
        char newtop[PATH_MAX];
        int best = 0;
        newtop[0] = 0;
        for (int j = 0; pn && j < n; j++) {
            char t2[PATH_MAX], t3[PATH_MAX];
            if (status[j] != E_MOVED || strcmp(oldtop[j], oldtop[k])) continue;
            top_of(pp->placed[j].rel, t2, sizeof t2);
            if (!t2[0] || !strcmp(t2, SBF_UNKNOWN_FOLDER) || person_of_folder(pp, t2)) continue;
            int c = 0;
            for (int q = 0; q < n; q++)
                c += status[q] == E_MOVED && !strcmp(oldtop[q], oldtop[k]) &&
                     !strcmp(top_of(pp->placed[q].rel, t3, sizeof t3), t2);
            if (c > best) {
                best = c;
                snprintf(newtop, sizeof newtop, "%s", t2);
            }
        }
        int one = best > 0;
        if (smap_put(&renamed, oldtop[k], one)) goto out;
        if (!one) continue;
        char nt[PATH_MAX];
        snprintf(nt, sizeof nt, "%s", newtop);
        sbf_person *p = sbf_people_person(pp, pn), *q = sbf_people_lookup(pp, nt);
        const char *why = sbf_people_name_invalid(nt);
        st->renamed++;
        if (q && q != p && (q->name || !strncmp(nt, "Person ", 7))) {
            uint32_t id = sbf_people_merge(pp, pn, q->number, SBF_FROM_FOLDER);
            if (out) {
                say_renamed(out, oldtop[k], nt);
                fprintf(out, "/: person %u joins person %u, who has that name (correction %u)\n", pn, q->number, id);
            }
            st->corrections++;
        } else if (!why && p) {
            set_str(&p->name, nt);
            set_str(&p->folder, nt);
            if (out) {
                say_renamed(out, oldtop[k], nt);
                fprintf(out, "/: person %u is named so\n", pn);
            }
        } else if (p) {
            set_str(&p->folder, nt);
            if (out) {
                say_renamed(out, oldtop[k], nt);
                fprintf(out, "/: not used as a name (%s); sort names it back\n", why);
            }
        }
        for (int j = 0; j < n; j++) { /* moved with the folder */
            char t2[PATH_MAX];
            if (status[j] == E_MOVED && !strcmp(oldtop[j], oldtop[k]) &&
                !strcmp(top_of(pp->placed[j].rel, t2, sizeof t2), nt))
                status[j] = E_OK;
        }
    }
    /* 4. a person every placed file of whom is gone (files deleted, or the folder): hidden */
    int *counted = calloc((size_t)pp->next_person + 1, sizeof *counted),
        *gone = calloc((size_t)pp->next_person + 1, sizeof *gone);
    if (!counted || !gone) {
        free(counted);
        free(gone);
        goto out;
    }
    for (int k = 0; k < n; k++) {
        if (pp->placed[k].flags & SBF_PLACED_USER) continue;
        uint32_t pn = person_of_folder(pp, oldtop[k]);
        if (!pn || pn > pp->next_person) continue;
        counted[pn]++;
        gone[pn] += status[k] == E_GONE;
    }
    /* 5. each entry's news as corrections */
    uint32_t *ign = malloc((size_t)(n ? n : 1) * sizeof *ign);
    uint32_t nign = 0;
    if (!ign) {
        free(counted);
        free(gone);
        goto out;
    }
    for (int k = 0; k < n; k++) {
        sbf_placed *e = &pp->placed[k];
        const char *ot = oldtop[k];
        uint32_t from = person_of_folder(pp, ot), id = 0;
        int unknown = !strcmp(ot, SBF_UNKNOWN_FOLDER);
        if (status[k] == E_EDITED) {
            e->flags |= SBF_PLACED_USER;
            if (where[k] >= 0) {
                found *x = &m->f[where[k]];
                e->ino = x->ino;
                e->size = x->size;
                e->mtime_ns = x->mtime_ns;
            }
            if (out) {
                fprintf(out, "sort: ");
                sbf_tsv_escape(out, e->rel);
                fprintf(out, " was changed since sort placed it: it is yours now, and left as it is\n");
            }
            st->user_files++;
        } else if (status[k] == E_MOVED) {
            char nt[PATH_MAX];
            top_of(e->rel, nt, sizeof nt);
            if (!strcmp(nt, ot)) continue; /* within its folder */
            if (!nt[0]) {                  /* out of the folders: not that person, and the file is the user's */
                e->flags |= SBF_PLACED_USER;
                if (from) {
                    id = sbf_people_correct(pp, SBF_CORR_ISNOT, SBF_FROM_FOLDER, from, 0, e->rel, &e->fid, 1);
                    say_face(out, "moved out of its folder:", e->rel,
                             ": that face is not that person; the file is yours now", id);
                    st->corrections++;
                }
            } else if (!strcmp(nt, SBF_UNKNOWN_FOLDER)) {
                if (from) {
                    id = sbf_people_correct(pp, SBF_CORR_ISNOT, SBF_FROM_FOLDER, from, 0, e->rel, &e->fid, 1);
                    say_face(out, "moved into " SBF_UNKNOWN_FOLDER "/:", e->rel, ": that face is not that person", id);
                    st->corrections++;
                }
            } else {
                uint32_t to = person_for_folder(pp, nt, &newp, out);
                if (to && to != from) {
                    id = sbf_people_correct(pp, SBF_CORR_IS, SBF_FROM_FOLDER, to, 0, e->rel, &e->fid, 1);
                    char how[64];
                    snprintf(how, sizeof how, ": that face is person %u", to);
                    say_face(out, "moved:", e->rel, how, id);
                    st->corrections++;
                }
            }
        } else if (status[k] == E_GONE) {
            if (unknown) {
                ign[nign++] = e->fid;
            } else if (from && counted[from] && gone[from] == counted[from]) {
                if (gone[from] > 0) {
                    id = sbf_people_correct(pp, SBF_CORR_HIDE, SBF_FROM_FOLDER, from, 0, ot, NULL, 0);
                    if (out) {
                        fprintf(out, "sort: every photo of ");
                        sbf_tsv_escape(out, ot);
                        fprintf(out,
                                "/ was deleted: person %u is hidden (correction %u; 'sortbyface withdraw %u' shows "
                                "them again)\n",
                                from, id, id);
                    }
                    st->corrections++;
                    gone[from] = -1; /* said once */
                }
            } else if (from) {
                id = sbf_people_correct(pp, SBF_CORR_ISNOT, SBF_FROM_FOLDER, from, 0, e->rel, &e->fid, 1);
                say_face(out, "deleted:", e->rel, ": that face is not that person", id);
                st->corrections++;
            }
        }
    }
    if (nign) {
        uint32_t id = sbf_people_correct(pp, SBF_CORR_IGNORE, SBF_FROM_FOLDER, 0, 0, SBF_UNKNOWN_FOLDER "/", ign, nign);
        if (out)
            fprintf(out, "sort: %u photo%s deleted from " SBF_UNKNOWN_FOLDER "/: %s not placed again (correction %u)\n",
                    nign, sbf_s(nign), nign == 1 ? "its face is" : "their faces are", id);
        st->corrections++;
    }
    free(ign);
    free(counted);
    free(gone);
    /* 6. the manifest: gone entries out; files nobody placed are the user's (told once) */
    for (int k = n - 1; k >= 0; k--)
        if (status[k] == E_GONE || status[k] == E_USERSGONE) placed_drop(pp, k);
    for (int i = 0; i < m->nf; i++) {
        found *x = &m->f[i];
        if (x->claimed) continue;
        const char *base = strrchr(x->rel, '/');
        base = base ? base + 1 : x->rel;
        sbf_placed e = {0};
        e.flags = SBF_PLACED_USER;
        e.src = NONE32;
        e.ino = x->ino;
        e.size = x->size;
        e.mtime_ns = x->mtime_ns;
        if (!(e.rel = strdup(x->rel)) || placed_add(pp, &e)) {
            free(e.rel);
            goto out;
        }
        if (base[0] == '.') continue; /* hidden files (.DS_Store, ...) are tracked but not told */
        st->user_files++;
        if (out) {
            fprintf(out, "sort: ");
            sbf_tsv_escape(out, x->rel);
            fprintf(out, ": not placed by sort; it is yours and left as it is\n");
        }
    }
    rc = 0;
out:
    if (oldtop)
        for (int k = 0; k < n; k++) free(oldtop[k]);
    free(oldtop);
    free(status);
    free(where);
    free(byino);
    smap_free(&newp);
    smap_free(&renamed);
    return rc;
}

/* ---- planning the re-sync ---------------------------------------------------------------------------- */
typedef struct {
    int photo, face;
    const char *folder;
} target;
static int cmp_target(const void *a, const void *b) {
    const target *x = a, *y = b;
    int c = strcmp(x->folder, y->folder);
    if (c) return c;
    return (x->photo > y->photo) - (x->photo < y->photo);
}

/* A free name in folder for base (none of taken's "folder/name"), claimed in taken. */
static char *free_name(smap *taken, const char *folder, const char *base) {
    char nm[NAME_MAX + 1], rel[PATH_MAX + NAME_MAX + 2];
    for (int k = 1; k < 1000000; k++) {
        sbf_output_name(base, k, nm, sizeof nm);
        snprintf(rel, sizeof rel, "%s/%s", folder, nm);
        if (smap_get(taken, rel) >= 0) continue;
        if (smap_put(taken, rel, 1)) return NULL;
        return strdup(rel);
    }
    return NULL;
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int sbf_managed_plan(sbf_managed *m, sbf_people *pp, const sbf_faceset *fs, const uint32_t *fid, const uint32_t *person,
                     FILE *out, sbf_managed_stats *st) {
    int n = fs->nfaces, rc = -1, nt = 0;
    int *counts = sbf_people_counts(pp);
    target *t = malloc((size_t)(n ? n : 1) * sizeof *t);
    char(*fold)[NAME_MAX + 1] = calloc((size_t)pp->npersons + 1, sizeof *fold); /* new folder of each person */
    uint32_t *photo_src = malloc((size_t)(fs->nphotos ? fs->nphotos : 1) * sizeof *photo_src);
    smap bykey = {0}, taken = {0}, byperson = {0}, src_photo = {0};
    char *used = NULL;
    if (!counts || !t || !fold || !photo_src || scan(m, 0)) goto out;
    if (smap_put(&taken, "", 0)) goto out; /* (so the map exists) */
    for (int i = 0; i < pp->npersons; i++) {
        char key[16];
        snprintf(key, sizeof key, "%u", pp->persons[i].number);
        if (smap_put(&byperson, key, i)) goto out;
        const char *f =
            sbf_people_folder(&pp->persons[i], counts[pp->persons[i].number], pp->min_faces, fold[i], sizeof fold[i]);
        if (!f) fold[i][0] = 0;
    }
    for (int p = 0; p < fs->nphotos; p++) {
        const char *sp = fs->photos[p].stored ? fs->photos[p].stored : fs->photos[p].path;
        if ((photo_src[p] = sbf_people_path(pp, sp)) == NONE32) goto out;
        char key[16];
        snprintf(key, sizeof key, "%u", photo_src[p]);
        if (smap_put(&src_photo, key, p)) goto out;
    }
    /* the layout: each photo once in the folder of each shown person it holds */
    for (int i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof key, "%u", person[i]);
        int pi = smap_get(&byperson, key);
        if (pi < 0 || !fold[pi][0] || sbf_people_ignored(pp, fid[i])) continue;
        t[nt++] = (target){fs->face_photo[i], i, fold[pi]};
    }
    qsort(t, (size_t)nt, sizeof *t, cmp_target);
    int m2 = 0;
    for (int k = 0; k < nt; k++)
        if (!m2 || strcmp(t[k].folder, t[m2 - 1].folder) || t[k].photo != t[m2 - 1].photo) t[m2++] = t[k];
    nt = m2;
    /* folders to rename: a person's old folder that exists, to a new name nothing has yet */
    for (int i = 0; i < pp->npersons; i++) {
        sbf_person *p = &pp->persons[i];
        if (!p->folder || !fold[i][0] || !strcmp(p->folder, fold[i]) || !strcmp(p->folder, SBF_UNKNOWN_FOLDER) ||
            !strcmp(fold[i], SBF_UNKNOWN_FOLDER) || !is_dir_rel(m, p->folder) ||
            lstat_rel(m, fold[i], &(struct stat){0}) == 0)
            continue;
        int clash = 0; /* the old folder is someone's new one, or two renames meet */
        for (int j = 0; j < pp->npersons && !clash; j++) clash = j != i && fold[j][0] && !strcmp(fold[j], p->folder);
        for (int r = 0; r < pp->nren && !clash; r++)
            clash = !strcmp(pp->ren[r].to, fold[i]) || !strcmp(pp->ren[r].from, p->folder);
        if (clash) continue;
        if (pp->nren == pp->capren) {
            int nc = pp->capren ? pp->capren * 2 : 8;
            sbf_rename *nr = realloc(pp->ren, (size_t)nc * sizeof *nr);
            if (!nr) goto out;
            pp->ren = nr;
            pp->capren = nc;
        }
        sbf_rename *r = &pp->ren[pp->nren];
        r->from = strdup(p->folder);
        r->to = strdup(fold[i]);
        if (!r->from || !r->to) {
            free(r->from);
            free(r->to);
            goto out;
        }
        pp->nren++;
    }
    /* where everything is after the renames: taken names, and (photo, folder) -> entry */
    char tb[PATH_MAX], key[PATH_MAX + 32];
    for (int i = 0; i < m->nf; i++) {
        const char *rel = m->f[i].rel, *tp = top_of(rel, tb, sizeof tb);
        for (int r = 0; r < pp->nren; r++)
            if (!strcmp(tp, pp->ren[r].from)) {
                snprintf(key, sizeof key, "%s/%s", pp->ren[r].to, rest_of(rel));
                rel = key;
                break;
            }
        if (smap_put(&taken, rel, 1)) goto out;
    }
    for (int k = 0; k < pp->nplaced; k++) {
        sbf_placed *e = &pp->placed[k];
        const char *tp = top_of(e->rel, tb, sizeof tb);
        e->op = SBF_OP_NONE;
        for (int r = 0; r < pp->nren; r++)
            if (!strcmp(tp, pp->ren[r].from)) {
                snprintf(key, sizeof key, "%s/%s", pp->ren[r].to, rest_of(e->rel));
                set_str(&e->to, key);
                e->op = SBF_OP_MOVE; /* done by the folder's rename */
                tp = pp->ren[r].to;
                break;
            }
        if (e->src == NONE32) continue;
        snprintf(key, sizeof key, "%u/%s", e->src, tp);
        if (smap_get(&bykey, key) < 0 && smap_put(&bykey, key, k)) goto out;
    }
    if (!(used = calloc((size_t)pp->nplaced + (size_t)nt + 1, 1))) goto out;
    int *need = malloc((size_t)(nt ? nt : 1) * sizeof *need); /* targets not there yet */
    int nneed = 0;
    if (!need) goto out;
    for (int k = 0; k < nt; k++) {
        const sbf_photo *ph = &fs->photos[t[k].photo];
        snprintf(key, sizeof key, "%u/%s", photo_src[t[k].photo], t[k].folder);
        int e = smap_get(&bykey, key);
        if (e >= 0) {
            sbf_placed *x = &pp->placed[e];
            int stale = !(x->flags & SBF_PLACED_USER) && pp->mode == SBF_PLACE_COPY &&
                        (x->src_size != ph->size || x->src_mtime_ns != ph->mtime_ns);
            used[e] = 1;
            if (!stale) {
                if (!(x->flags & SBF_PLACED_USER)) x->fid = fid[t[k].face];
                continue;
            }
            /* a copy of an older version of the photo: removed (below), and the photo placed anew */
            used[e] = 0;
            x->src_size = -1; /* marks it stale for the move search */
        }
        need[nneed++] = k;
    }
    /* moves: a file of the photo placed for a person it is no longer in (the candidates of each photo chained,
     * so this stays linear in the files) */
    int *head = malloc(((size_t)pp->npaths + 1) * sizeof *head),
        *next = malloc(((size_t)pp->nplaced + 1) * sizeof *next);
    if (!head || !next) {
        free(head);
        free(next);
        free(need);
        goto out;
    }
    for (uint32_t q = 0; q <= pp->npaths; q++) head[q] = -1;
    for (int e = pp->nplaced - 1; e >= 0; e--) {
        const sbf_placed *x = &pp->placed[e];
        next[e] = -1;
        if (used[e] || (x->flags & SBF_PLACED_USER) || x->src == NONE32 || x->src >= pp->npaths) continue;
        next[e] = head[x->src];
        head[x->src] = e;
    }
    for (int q = 0; q < nneed; q++) {
        int k = need[q];
        const sbf_photo *ph = &fs->photos[t[k].photo];
        for (int e = head[photo_src[t[k].photo]]; e >= 0; e = next[e]) {
            sbf_placed *x = &pp->placed[e];
            if (used[e] || x->src_size != ph->size || x->src_mtime_ns != ph->mtime_ns) continue;
            char *to = free_name(&taken, t[k].folder, base_name(x->to ? x->to : x->rel));
            if (!to) {
                free(head);
                free(next);
                free(need);
                goto out;
            }
            free(x->to);
            x->to = to;
            x->op = SBF_OP_MOVE;
            x->fid = fid[t[k].face];
            used[e] = 1;
            need[q] = -1;
            break;
        }
    }
    free(head);
    free(next);
    /* removals: files of ours nobody needs (or stale copies); a file whose photo is gone stays */
    for (int e = 0; e < pp->nplaced; e++) {
        sbf_placed *x = &pp->placed[e];
        if (used[e] || (x->flags & SBF_PLACED_USER)) continue;
        char *src = x->src != NONE32 ? photo_path(m, pp->paths[x->src]) : NULL;
        struct stat ss;
        int gone = !src || (lstat(src, &ss) != 0 && (errno == ENOENT || errno == ENOTDIR));
        if (gone) {
            x->flags |= SBF_PLACED_USER;
            x->op = SBF_OP_NONE; /* (a folder rename still carries it: op MOVE stays for that) */
            if (x->to) x->op = SBF_OP_MOVE;
            st->kept_gone++;
            if (out) {
                fprintf(out, "sort: ");
                sbf_tsv_escape(out, x->rel);
                fprintf(out, ": its photo %s is gone; kept (it may be the last copy), and yours from now on\n",
                        src ? src : "(unknown)");
            }
        } else {
            /* its name is free for the files placed below (removals go first) */
            const char *rel = x->op == SBF_OP_MOVE && x->to ? x->to : x->rel;
            if (smap_put(&taken, rel, -1)) {
                free(src);
                goto out;
            }
            x->op = SBF_OP_REMOVE;
            free(x->to);
            x->to = NULL;
        }
        free(src);
    }
    /* places: new files */
    for (int q = 0; q < nneed; q++) {
        if (need[q] < 0) continue;
        int k = need[q];
        const sbf_photo *ph = &fs->photos[t[k].photo];
        sbf_placed e = {0};
        e.fid = fid[t[k].face];
        e.op = SBF_OP_PLACE;
        e.src = photo_src[t[k].photo];
        e.src_size = ph->size;
        e.src_mtime_ns = ph->mtime_ns;
        if (!(e.to = free_name(&taken, t[k].folder, base_name(ph->path))) || placed_add(pp, &e)) {
            free(e.to);
            free(need);
            goto out;
        }
    }
    free(need);
    /* each person's folder after the re-sync (the ones before: removed when left empty) */
    for (int i = 0; i < pp->npersons; i++) {
        if (pp->persons[i].folder && smap_put(&m->oldfolders, pp->persons[i].folder, 1)) goto out;
        set_str(&pp->persons[i].folder, fold[i][0] ? fold[i] : NULL);
    }
    pp->planned = 1;
    rc = 0;
out:
    free(counts);
    free(t);
    free(fold);
    free(photo_src);
    free(used);
    smap_free(&bykey);
    smap_free(&taken);
    smap_free(&byperson);
    smap_free(&src_photo);
    return rc;
}

int sbf_managed_plan_size(const sbf_people *pp) {
    int c = pp->nren;
    for (int k = 0; k < pp->nplaced; k++) {
        const sbf_placed *e = &pp->placed[k];
        if (e->op == SBF_OP_PLACE || e->op == SBF_OP_REMOVE) c++;
        else if (e->op == SBF_OP_MOVE) {
            /* moves that a folder rename does are not changes of their own */
            char a[PATH_MAX], b[PATH_MAX];
            int by_rename = 0;
            for (int r = 0; r < pp->nren && !by_rename; r++)
                by_rename = !strcmp(top_of(e->rel, a, sizeof a), pp->ren[r].from) &&
                            !strcmp(top_of(e->to, b, sizeof b), pp->ren[r].to) &&
                            !strcmp(rest_of(e->rel), rest_of(e->to));
            c += !by_rename;
        }
    }
    return c;
}

void sbf_managed_print_plan(const sbf_people *pp, FILE *out) {
    for (int r = 0; r < pp->nren; r++) {
        fprintf(out, "would rename folder ");
        sbf_tsv_escape(out, pp->ren[r].from);
        fprintf(out, "/ to ");
        sbf_tsv_escape(out, pp->ren[r].to);
        fprintf(out, "/\n");
    }
    for (int pass = 0; pass < 3; pass++)
        for (int k = 0; k < pp->nplaced; k++) {
            const sbf_placed *e = &pp->placed[k];
            char a[PATH_MAX], b[PATH_MAX];
            if (pass == 0 && e->op == SBF_OP_REMOVE) {
                fprintf(out, "would remove ");
                sbf_tsv_escape(out, e->rel);
                fputc('\n', out);
            } else if (pass == 1 && e->op == SBF_OP_MOVE) {
                int by_rename = 0;
                for (int r = 0; r < pp->nren && !by_rename; r++)
                    by_rename = !strcmp(top_of(e->rel, a, sizeof a), pp->ren[r].from) &&
                                !strcmp(top_of(e->to, b, sizeof b), pp->ren[r].to) &&
                                !strcmp(rest_of(e->rel), rest_of(e->to));
                if (by_rename) continue;
                fprintf(out, "would move ");
                sbf_tsv_escape(out, e->rel);
                fprintf(out, " to ");
                sbf_tsv_escape(out, e->to);
                fputc('\n', out);
            } else if (pass == 2 && e->op == SBF_OP_PLACE) {
                fprintf(out, "would place %s as ", e->src != NONE32 ? pp->paths[e->src] : "?");
                sbf_tsv_escape(out, e->to);
                fputc('\n', out);
            }
        }
}

/* ---- executing it ------------------------------------------------------------------------------------ */
/* rename without replacing anything: renameat2(RENAME_NOREPLACE), or link + unlink where that is missing */
static int rename_noreplace(const char *a, const char *b) {
#ifdef SYS_renameat2
    if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 1 /* RENAME_NOREPLACE */) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
#endif
    struct stat st;
    if (lstat(a, &st) != 0) return -1;
    if (S_ISDIR(st.st_mode)) {
        if (lstat(b, &st) == 0) {
            errno = EEXIST;
            return -1;
        }
        return rename(a, b);
    }
    if (link(a, b) != 0) return -1;
    return unlink(a);
}

static int mkdir_for(const sbf_managed *m, const char *rel) {
    char tb[PATH_MAX];
    top_of(rel, tb, sizeof tb);
    if (!tb[0]) return 0;
    char *p = full(m, tb);
    int rc = p && mkdir(p, 0755) != 0 && errno != EEXIST ? errno : 0;
    if (!p) rc = ENOMEM;
    free(p);
    return rc;
}

int sbf_managed_execute(sbf_managed *m, sbf_people *pp, const sbf_faceset *fs, sbf_place_mode mode,
                        sbf_managed_stats *st, void (*progress)(void *ctx, double fraction), void *progress_ctx,
                        char *err, size_t errlen) {
    (void)fs;
    int total = sbf_managed_plan_size(pp) + 1, done = 0, stop = 0;
    char why[600];
    /* --link across file systems: one note, copies */
    if (mode == SBF_PLACE_LINK)
        for (int k = 0; k < pp->nplaced; k++) {
            sbf_placed *e = &pp->placed[k];
            if (e->op != SBF_OP_PLACE) continue;
            char *src = photo_path(m, pp->paths[e->src]);
            if (src && sbf_link_check(src, m->dir) == EXDEV) {
                fprintf(stderr,
                        "sortbyface sort: %s is on another file system than the photos (%s): cannot hard-link, copying "
                        "instead\n",
                        m->dir, src);
                mode = SBF_PLACE_COPY;
                pp->mode = SBF_PLACE_COPY;
                st->fell_back = 1;
            }
            free(src);
            break;
        }
    /* 1. folder renames */
    for (int r = 0; r < pp->nren; r++) {
        char *a = full(m, pp->ren[r].from), *b = full(m, pp->ren[r].to);
        if (a && b && rename_noreplace(a, b) == 0) st->dirs_renamed++;
        free(a);
        free(b);
        if (progress) progress(progress_ctx, (double)++done / total);
    }
    /* 2. removals: only files of ours still as sort placed them */
    for (int k = pp->nplaced - 1; k >= 0 && !stop; k--) {
        sbf_placed *e = &pp->placed[k];
        if (e->op != SBF_OP_REMOVE) continue;
        struct stat s;
        char here[PATH_MAX * 2];
        char *p = locate(m, pp, e, here, sizeof here) ? full(m, here) : NULL;
        if (p && lstat(p, &s) == 0 && s.st_size == e->size && mtime_of(&s) == e->mtime_ns) {
            if (unlink(p) == 0) st->removed++;
            else {
                sbf_file_error(p, strerror(errno));
                st->failed++;
            }
        }
        free(p);
        placed_drop(pp, k);
        if (progress) progress(progress_ctx, (double)++done / total);
    }
    /* 3. moves (a folder rename did most of those it could) */
    for (int k = 0; k < pp->nplaced && !stop; k++) {
        sbf_placed *e = &pp->placed[k];
        if (e->op != SBF_OP_MOVE) continue;
        struct stat s;
        char here[PATH_MAX * 2];
        if (lstat_rel(m, e->to, &s) == 0 && is_placed(&s, e)) { /* moved with its folder */
            set_str(&e->rel, e->to);
        } else if (e->flags & SBF_PLACED_USER) { /* the user's: never moved (its folder was not renamed) */
        } else if (!locate(m, pp, e, here, sizeof here)) {
            st->failed++; /* gone meanwhile: the next run reads that */
        } else {
            int me = mkdir_for(m, e->to);
            char *a = full(m, here), *b = full(m, e->to);
            int ok = !me && a && b && rename_noreplace(a, b) == 0;
            int en = me ? me : errno;
            if (ok) {
                st->moved++;
                set_str(&e->rel, e->to);
            } else if (!me && en == EEXIST) {
                /* the name was taken meanwhile: the next free one */
                char tb[PATH_MAX];
                top_of(e->to, tb, sizeof tb);
                for (int q = 2; q < 1000; q++) {
                    char nm[NAME_MAX + 1], *c;
                    sbf_output_name(base_name(e->to), q, nm, sizeof nm);
                    char rel[PATH_MAX + NAME_MAX + 2];
                    snprintf(rel, sizeof rel, "%s/%s", tb, nm);
                    if (!(c = full(m, rel))) break;
                    int r2 = rename_noreplace(a, c);
                    free(c);
                    if (r2 == 0) {
                        st->moved++;
                        set_str(&e->rel, rel);
                        break;
                    }
                    if (errno != EEXIST) break;
                }
            } else {
                if (sbf_output_fatal_errno(en)) stop = en;
                else if (a) {
                    sbf_file_error(a, strerror(en));
                    st->failed++;
                }
            }
            free(a);
            free(b);
        }
        e->op = SBF_OP_NONE;
        free(e->to);
        e->to = NULL;
        if (progress) progress(progress_ctx, (double)++done / total);
    }
    /* 4. new files */
    for (int k = 0; k < pp->nplaced && !stop; k++) {
        sbf_placed *e = &pp->placed[k];
        if (e->op != SBF_OP_PLACE) continue;
        char tb[PATH_MAX], placed[PATH_MAX + 300];
        top_of(e->to, tb, sizeof tb);
        char *dir = full(m, tb), *src = photo_path(m, pp->paths[e->src]);
        int en = mkdir_for(m, e->to);
        if (!en)
            en = dir && src ? sbf_place_file(src, dir, base_name(e->to), mode, placed, sizeof placed, why, sizeof why)
                            : ENOMEM;
        if (!en) {
            struct stat s;
            const char *rel = placed + strlen(m->dir) + 1;
            if (lstat(placed, &s) == 0) {
                set_str(&e->rel, rel);
                e->ino = (uint64_t)s.st_ino;
                e->size = (int64_t)s.st_size;
                e->mtime_ns = mtime_of(&s);
                e->op = SBF_OP_NONE;
                free(e->to);
                e->to = NULL;
                st->placed++;
            }
        } else if (sbf_output_fatal_errno(en)) {
            stop = en;
        } else {
            sbf_file_error(src ? src : "?", why);
            st->failed++;
        }
        free(dir);
        free(src);
        if (progress) progress(progress_ctx, (double)++done / total);
    }
    if (stop) {
        st->stopped = stop;
        seterr(err, errlen,
               "%s: %s; stopped after %d of %d changes (run sort again when there is room: it finishes the job)",
               m->dir, strerror(stop), done, total - 1);
        return -1;
    }
    /* places that failed leave no entry */
    for (int k = pp->nplaced - 1; k >= 0; k--)
        if (pp->placed[k].op == SBF_OP_PLACE || !pp->placed[k].rel) placed_drop(pp, k);
        else pp->placed[k].op = SBF_OP_NONE;
    /* 5. folders left empty: rmdir (never anything else) every top folder no person has now */
    DIR *d = opendir(m->dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            const char *nm = de->d_name;
            if (nm[0] == '.' || top_skipped(nm)) continue;
            int mine = 0, was = !strcmp(nm, SBF_UNKNOWN_FOLDER) || !strncmp(nm, "Person ", 7) ||
                                smap_get(&m->oldfolders, nm) >= 0;
            for (int i = 0; i < pp->npersons && !mine; i++)
                mine = pp->persons[i].folder && !strcmp(pp->persons[i].folder, nm);
            if (mine || !was) continue; /* an empty folder the user made stays */
            char *p = full(m, nm);
            struct stat s;
            if (p && lstat(p, &s) == 0 && S_ISDIR(s.st_mode)) rmdir(p); /* fails when anything is in it: fine */
            free(p);
        }
        closedir(d);
    }
    for (int r = 0; r < pp->nren; r++) {
        free(pp->ren[r].from);
        free(pp->ren[r].to);
    }
    pp->nren = 0;
    pp->planned = 0;
    return 0;
}

void sbf_managed_files(const sbf_people *pp, const sbf_faceset *fs, const uint32_t *fid, const uint32_t *person,
                       const char **file) {
    (void)fid;
    smap bykey = {0};
    int *counts = sbf_people_counts(pp);
    for (int i = 0; i < fs->nfaces; i++) file[i] = NULL;
    if (!counts) return;
    char tb[PATH_MAX], key[PATH_MAX + 32], fb[NAME_MAX + 1];
    for (int k = 0; k < pp->nplaced; k++) {
        const sbf_placed *e = &pp->placed[k];
        if (e->src == NONE32 || !e->rel) continue;
        snprintf(key, sizeof key, "%u/%s", e->src, top_of(e->rel, tb, sizeof tb));
        if (smap_get(&bykey, key) < 0) smap_put(&bykey, key, k);
    }
    for (int i = 0; i < fs->nfaces; i++) {
        const sbf_person *p = sbf_people_person(pp, person[i]);
        if (!p || !sbf_people_folder(p, counts[person[i]], pp->min_faces, fb, sizeof fb)) continue;
        const sbf_photo *ph = &fs->photos[fs->face_photo[i]];
        const char *sp = ph->stored ? ph->stored : ph->path;
        /* the path index without adding (the table is const here): a linear look-up would be slow, so the
         * caller's sync made every photo's path known; find it through the face */
        const sbf_known_face *kf = sbf_people_face(pp, fid[i]);
        if (!kf) continue;
        (void)sp;
        snprintf(key, sizeof key, "%u/%s", kf->path, fb);
        int k = smap_get(&bykey, key);
        if (k >= 0) file[i] = pp->placed[k].rel;
    }
    free(counts);
    smap_free(&bykey);
}
