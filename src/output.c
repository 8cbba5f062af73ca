/* src/output.c — output folders and photo placement; see src/output.h. */
#include "src/output.h"
#include "src/path.h"
#include "src/util.h"
#include "src/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define seterr sbf_seterr

static int is_ours(const char *dir) {
    char *m = sbf_path_join(dir, SBF_OUTPUT_MARKER);
    struct stat st;
    int r = m && lstat(m, &st) == 0;
    free(m);
    return r;
}

int sbf_output_mark(const char *dir, char *err, size_t errlen) {
    /* the mark that keeps 'embed' from taking these copies for new photos */
    static const char note[] =
        "This folder was written by sortbyface (sort or find). 'sortbyface embed' does not look for photos\n"
        "in it unless it is named as the folder to embed; delete this file to have it searched.\n";
    char *m = sbf_path_join(dir, SBF_OUTPUT_MARKER), why[256];
    if (!m || sbf_write_file_atomic(m, note, sizeof note - 1, 1, why, sizeof why)) {
        seterr(err, errlen, "cannot write %s/%s: %s", dir, SBF_OUTPUT_MARKER, m ? why : "out of memory");
        free(m);
        return -1;
    }
    free(m);
    return 0;
}

/* Makes "<stem>" (k = 1) or "<stem>-k" for k = 1, 2, ... until mkdir succeeds. */
static int claim(const char *stem, int first_k, char *chosen, size_t chosen_len, int *kk, char *err, size_t errlen) {
    for (int k = first_k; k < 100000; k++) {
        if (k == 1) snprintf(chosen, chosen_len, "%s", stem);
        else snprintf(chosen, chosen_len, "%s-%d", stem, k);
        if (mkdir(chosen, 0755) == 0) {
            *kk = k;
            return 0;
        }
        if (errno != EEXIST) {
            seterr(err, errlen, "cannot create folder %s: %s", chosen, strerror(errno));
            return -1;
        }
    }
    seterr(err, errlen, "no free folder name for %s", stem);
    return -1;
}

int sbf_output_fresh_dir(const char *dest, const char *inside, char *chosen, size_t chosen_len, int *renamed, char *err,
                         size_t errlen) {
    char d[PATH_MAX], stem[PATH_MAX + 300];
    size_t dl = strlen(dest);
    while (dl > 1 && dest[dl - 1] == '/') dl--; /* "out/" -> "out" so suffixes read "out-2" */
    if (dl == 0 || dl >= sizeof d) {
        seterr(err, errlen, "%s: not a usable folder name", dest);
        return -1;
    }
    memcpy(d, dest, dl);
    d[dl] = 0;
    int k = 0;
    for (int attempt = 0; attempt < 100; attempt++) {
        struct stat st;
        if (stat(d, &st) != 0) {
            if (errno != ENOENT) {
                seterr(err, errlen, "%s: %s", d, strerror(errno));
                return -1;
            }
            if (mkdir(d, 0755) == 0) {
                snprintf(chosen, chosen_len, "%s", d);
                k = 1;
                break;
            }
            if (errno == EEXIST) continue; /* made meanwhile: look again */
            seterr(err, errlen, "cannot create folder %s: %s", d, strerror(errno));
            return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
            seterr(err, errlen, "%s exists and is not a folder", d);
            return -1;
        }
        const char *last = strrchr(d, '/');
        last = last ? last + 1 : d;
        int dotname = !strcmp(last, ".") || !strcmp(last, "..") || !*last;
        char real[PATH_MAX];
        const char *sib = d;
        if (dotname) { /* "." or "..": the folder's own name, never "./-2" */
            if (!realpath(d, real)) {
                seterr(err, errlen, "%s: %s", d, strerror(errno));
                return -1;
            }
            sib = real;
        }
        int root = !strcmp(sib, "/");
        if ((is_ours(d) || !inside) && !root) {
            if (claim(sib, 2, chosen, chosen_len, &k, err, errlen)) return -1;
        } else {
            snprintf(stem, sizeof stem, "%s%s%s", d, d[strlen(d) - 1] == '/' ? "" : "/",
                     inside ? inside : "Sorted-pictures");
            if (claim(stem, 1, chosen, chosen_len, &k, err, errlen)) return -1;
            k = 2; /* inside an existing folder: always "renamed" */
        }
        break;
    }
    if (!k) {
        seterr(err, errlen, "%s keeps changing; no folder made", d);
        return -1;
    }
    if (renamed) *renamed = strcmp(chosen, dest) != 0 && k > 1;
    if (sbf_output_mark(chosen, err, errlen)) {
        rmdir(chosen);
        return -1;
    }
    return 0;
}

void sbf_output_name(const char *base, int k, char *out, size_t n) {
    char suffix[24] = "";
    if (k > 1) snprintf(suffix, sizeof suffix, "-%d", k);
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base || k == 1) dot = base + strlen(base); /* no extension (or k = 1: the name as it is) */
    size_t sl = (size_t)(dot - base), el = strlen(dot), xl = strlen(suffix);
    if (sl + xl + el > NAME_MAX) {
        if (xl + el < NAME_MAX) {
            sl = NAME_MAX - xl - el;
        } else { /* an extension that alone is too long: cut the whole name */
            el = 0;
            sl = NAME_MAX - xl < (size_t)(dot - base) + strlen(dot) ? NAME_MAX - xl : sl;
            dot = base + sl;
        }
        while (sl > 0 && ((unsigned char)base[sl] & 0xc0) == 0x80) sl--; /* never split a UTF-8 character */
    }
    snprintf(out, n, "%.*s%s%.*s", (int)sl, base, suffix, (int)el, dot);
}

/* 0, or an errno with the reason in err. */
static int copy_to_temp(const char *src, const char *dir, char *tmp, size_t tmplen, char *err, size_t errlen) {
    int in = sbf_path_open(src, O_RDONLY | O_CLOEXEC); /* (a photo's path may be longer than PATH_MAX) */
    if (in < 0) {
        int e = errno;
        seterr(err, errlen, "cannot read: %s", strerror(e));
        return e ? e : EIO;
    }
    struct stat st;
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        seterr(err, errlen, "not a regular file");
        close(in);
        return EINVAL;
    }
    snprintf(tmp, tmplen, "%s/.sortbyface-XXXXXX", dir);
    int out = mkostemp(tmp, O_CLOEXEC);
    if (out < 0) {
        int e = errno;
        seterr(err, errlen, "cannot create a file in %s: %s", dir, strerror(e));
        close(in);
        return e;
    }
    char *buf = malloc(1 << 20);
    int e = buf ? 0 : ENOMEM;
    while (!e) {
        ssize_t r = read(in, buf, 1 << 20);
        if (r < 0) {
            if (errno == EINTR) continue;
            e = errno;
            break;
        }
        if (r == 0) break;
        for (ssize_t o = 0; o < r;) {
            ssize_t w = write(out, buf + o, (size_t)(r - o));
            if (w < 0) {
                if (errno == EINTR) continue;
                e = errno;
                break;
            }
            o += w;
        }
    }
    free(buf);
    if (!e) {
        fchmod(out, st.st_mode & 0777);
        struct timespec ts[2] = {st.st_atim, st.st_mtim};
        futimens(out, ts);
    }
    if (close(out) != 0 && !e) e = errno;
    close(in);
    if (e) {
        seterr(err, errlen, "copy failed: %s", strerror(e));
        unlink(tmp);
        return e;
    }
    return 0;
}

/* link(2) of a photo whose path may be longer than PATH_MAX (then through /proc/self/fd, following it). */
static int link_photo(const char *src, const char *target) {
    char buf[64];
    int fd, e;
    const char *s = sbf_path_short(src, buf, sizeof buf, &fd);
    if (!s) return -1;
    int rc = fd < 0 ? link(s, target) : linkat(AT_FDCWD, s, AT_FDCWD, target, AT_SYMLINK_FOLLOW);
    e = errno;
    if (fd >= 0) close(fd);
    errno = e;
    return rc;
}

int sbf_place_file(const char *src, const char *dir, const char *name, sbf_place_mode mode, char *placed,
                   size_t placed_len, char *err, size_t errlen) {
    const char *base = strrchr(src, '/');
    base = name ? name : base ? base + 1 : src;
    if (!*base) {
        seterr(err, errlen, "no file name");
        return EINVAL;
    }
    char tmp[PATH_MAX + 64], target[PATH_MAX + 300], abs[PATH_MAX], nm[NAME_MAX + 1];
    int e;
    if (mode == SBF_PLACE_COPY && (e = copy_to_temp(src, dir, tmp, sizeof tmp, err, errlen))) return e;
    if (mode == SBF_PLACE_SYMLINK && !realpath(src, abs)) {
        e = errno;
        if (e == ENAMETOOLONG)
            seterr(err, errlen, "its path is too long for a symlink (over %d bytes); --copy or --link places it",
                   PATH_MAX);
        else seterr(err, errlen, "cannot resolve: %s", strerror(e));
        return e ? e : ENOENT;
    }
    for (int k = 1; k < 1000000; k++) {
        sbf_output_name(base, k, nm, sizeof nm);
        snprintf(target, sizeof target, "%s/%s", dir, nm);
        int rc = mode == SBF_PLACE_COPY   ? link(tmp, target)
                 : mode == SBF_PLACE_LINK ? link_photo(src, target)
                                          : symlink(abs, target);
        if (rc == 0) {
            if (mode == SBF_PLACE_COPY) unlink(tmp);
            if (placed) snprintf(placed, placed_len, "%s", target);
            return 0;
        }
        if (errno == EEXIST) continue;
        e = errno;
        if (mode == SBF_PLACE_COPY) unlink(tmp);
        if (e == EXDEV) seterr(err, errlen, "cannot hard-link across file systems (use --copy or --symlink)");
        else if (mode == SBF_PLACE_LINK && e == ENOENT) seterr(err, errlen, "cannot read: %s", strerror(e));
        else seterr(err, errlen, "cannot create %s: %s", target, strerror(e));
        return e;
    }
    if (mode == SBF_PLACE_COPY) unlink(tmp);
    seterr(err, errlen, "no free name for %s", base);
    return EEXIST;
}

int sbf_link_check(const char *src, const char *dir) {
    char t[PATH_MAX + 64];
    snprintf(t, sizeof t, "%s/.sortbyface-linktest-%ld", dir, (long)getpid());
    unlink(t);
    if (link_photo(src, t) != 0) return errno;
    unlink(t);
    return 0;
}

int sbf_output_fatal_errno(int e) { return e == ENOSPC || e == EDQUOT || e == EROFS || e == EIO; }

void sbf_tsv_escape(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '\t': fputs("\\t", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\\': fputs("\\\\", f); break;
        default: fputc(*s, f);
        }
    }
}

const char *sbf_place_doing(sbf_place_mode mode) {
    return mode == SBF_PLACE_LINK      ? "linking photos"
           : mode == SBF_PLACE_SYMLINK ? "symlinking photos"
                                       : "copying photos";
}

const char *sbf_place_done(sbf_place_mode mode) {
    return mode == SBF_PLACE_LINK ? "hard-linked" : mode == SBF_PLACE_SYMLINK ? "symlinked" : "copied";
}

int sbf_place_mode_flags(const char *verb, int copy, int link, int symlink, sbf_place_mode *mode) {
    if (copy + link + symlink > 1) {
        fprintf(stderr, "sortbyface %s: choose one of --copy, --link, --symlink\n", verb);
        return 2;
    }
    *mode = link ? SBF_PLACE_LINK : symlink ? SBF_PLACE_SYMLINK : SBF_PLACE_COPY;
    return 0;
}

int sbf_write_clusters_tsv(const char *dir, const sbf_faceset *fs, const uint32_t *person, const char *const *file,
                           char *err, size_t errlen) {
    char *buf = NULL, why[512];
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    fputs("path\tface\tleft\ttop\tright\tbottom\tperson\tfile\n", m);
    for (int i = 0; i < fs->nfaces; i++) {
        const sbf_box *b = &fs->boxes[i];
        sbf_tsv_escape(m, fs->photos[fs->face_photo[i]].path);
        fprintf(m, "\t%d\t%ld\t%ld\t%ld\t%ld\t%u\t", fs->face_index[i], b->left, b->top, b->right, b->bottom,
                person[i]);
        if (file && file[i]) sbf_tsv_escape(m, file[i]);
        fputc('\n', m);
    }
    if (fclose(m) != 0 || !buf) {
        free(buf);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    char *dst = sbf_path_join(dir, "clusters.tsv");
    int rc = 0;
    if (!dst || sbf_write_file_atomic(dst, buf, len, 1, why, sizeof why)) {
        seterr(err, errlen, "%s", dst ? why : "out of memory");
        rc = -1;
    }
    free(dst);
    free(buf);
    return rc;
}

/* Removes dir when nothing but the marker is in it (a fresh folder a stopped run leaves). */
static void remove_if_only_marker(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    int other = 0;
    while ((de = readdir(d)))
        other |= strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, SBF_OUTPUT_MARKER);
    closedir(d);
    if (other) return;
    char *mk = sbf_path_join(dir, SBF_OUTPUT_MARKER);
    if (mk) unlink(mk);
    free(mk);
    rmdir(dir);
}

typedef struct {
    const char *folder;
    int face;
} folder_face;
static int cmp_folder_face(const void *a, const void *b) {
    const folder_face *x = a, *y = b;
    int c = strcmp(x->folder, y->folder);
    return c ? c : (x->face > y->face) - (x->face < y->face);
}

int sbf_write_tree(const sbf_faceset *fs, const char *const *folder, const uint32_t *person, const char *dir,
                   sbf_place_mode mode, sbf_sort_stats *st, void (*progress)(void *ctx, double fraction),
                   void *progress_ctx, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    int n = fs->nfaces, m = 0, rc = 0;
    folder_face *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    char **file = calloc((size_t)(n ? n : 1), sizeof *file); /* per face: placed name relative to dir */
    char **made = calloc(2 * (size_t)n + 2, sizeof *made);   /* what this run wrote (folders, files), to undo a stop */
    int nmade = 0;
    if (!v || !file || !made) {
        free(v);
        free(file);
        free(made);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (folder[i]) v[m++] = (folder_face){folder[i], i};
    qsort(v, (size_t)m, sizeof *v, cmp_folder_face);
    if (mode == SBF_PLACE_LINK && m) { /* another file system: one note, and copies */
        const char *src = fs->photos[fs->face_photo[v[0].face]].path;
        if (sbf_link_check(src, dir) == EXDEV) {
            fprintf(
                stderr,
                "sortbyface: %s is on another file system than the photos (%s): cannot hard-link, copying instead\n",
                dir, src);
            mode = SBF_PLACE_COPY;
            st->fell_back = 1;
        }
    }
    size_t dl = strlen(dir);
    char pdir[PATH_MAX + 300], dst[PATH_MAX + 600], why[512];
    for (int k = 0; k < m && rc == 0; k++) {
        if (progress) progress(progress_ctx, (double)(k + 1) / m);
        int f = v[k].face, ph = fs->face_photo[f];
        if (k == 0 || strcmp(v[k].folder, v[k - 1].folder)) {
            snprintf(pdir, sizeof pdir, "%s/%s", dir, v[k].folder);
            if (mkdir(pdir, 0755) != 0) {
                int e = errno;
                seterr(err, errlen, "cannot create folder %s: %s", pdir, strerror(e));
                st->stopped = sbf_output_fatal_errno(e) ? e : 0;
                rc = -1;
                break;
            }
            made[nmade++] = strdup(pdir);
            st->folders++;
        } else if (fs->face_photo[v[k - 1].face] == ph) { /* the same photo again in this folder: placed */
            file[f] = file[v[k - 1].face] ? strdup(file[v[k - 1].face]) : NULL;
            continue;
        }
        int e = sbf_place_file(fs->photos[ph].path, pdir, NULL, mode, dst, sizeof dst, why, sizeof why);
        if (e && sbf_output_fatal_errno(e)) {
            seterr(err, errlen, "%s: %s; stopped", dir, strerror(e));
            st->stopped = e;
            rc = -1;
            break;
        }
        if (e) {
            sbf_file_error(fs->photos[ph].path, why);
            st->failed++;
            continue;
        }
        st->placed++;
        file[f] = strdup(dst + dl + 1);
        if ((made[nmade] = strdup(dst))) nmade++; /* (out of memory: that file is not undone) */
    }
    if (rc == 0 && sbf_write_clusters_tsv(dir, fs, person, (const char *const *)file, why, sizeof why)) {
        seterr(err, errlen, "%s", why);
        st->stopped = errno == ENOSPC ? ENOSPC : st->stopped;
        rc = -1;
    }
    if (rc) { /* nothing half-written stays behind: files, then folders, the marker and the folder itself */
        for (int k = nmade - 1; k >= 0; k--)
            if (unlink(made[k]) != 0) rmdir(made[k]);
        remove_if_only_marker(dir);
    }
    for (int k = 0; k < nmade; k++) free(made[k]);
    for (int i = 0; i < n; i++) free(file[i]);
    free(made);
    free(file);
    free(v);
    return rc;
}
