/* src/output.c — output folders and photo placement; see src/output.h. */
#include "src/output.h"
#include "src/util.h"
#include "src/walk.h"

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

int sbf_output_fresh_dir(const char *dest, char *chosen, size_t chosen_len, int *renamed, char *err, size_t errlen) {
    size_t dl = strlen(dest);
    while (dl > 1 && dest[dl - 1] == '/') dl--; /* "out/" -> "out" so suffixes read "out-2" */
    for (int k = 1; k < 100000; k++) {
        if (k == 1) snprintf(chosen, chosen_len, "%.*s", (int)dl, dest);
        else snprintf(chosen, chosen_len, "%.*s-%d", (int)dl, dest, k);
        if (mkdir(chosen, 0755) == 0) {
            if (renamed) *renamed = k > 1;
            /* the mark that keeps 'embed' from taking these copies for new photos */
            static const char note[] =
                "This folder was written by sortbyface (sort or find). 'sortbyface embed' does not look for photos\n"
                "in it unless it is named as the folder to embed; delete this file to have it searched.\n";
            char *m = sbf_path_join(chosen, SBF_OUTPUT_MARKER), why[256];
            if (!m || sbf_write_file_atomic(m, note, sizeof note - 1, 0, why, sizeof why)) {
                seterr(err, errlen, "cannot write %s/%s: %s", chosen, SBF_OUTPUT_MARKER, m ? why : "out of memory");
                if (m) unlink(m);
                free(m);
                rmdir(chosen);
                return -1;
            }
            free(m);
            return 0;
        }
        if (errno != EEXIST) {
            seterr(err, errlen, "cannot create folder %s: %s", chosen, strerror(errno));
            return -1;
        }
    }
    seterr(err, errlen, "no free folder name next to %s", dest);
    return -1;
}

/* "dir/base" for k == 1, else "dir/stem-k.ext" (the extension is the part after the last dot, unless
 * the dot starts the name). */
static void candidate(char *out, size_t n, const char *dir, const char *base, int k) {
    if (k == 1) { snprintf(out, n, "%s/%s", dir, base); return; }
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) snprintf(out, n, "%s/%s-%d", dir, base, k);
    else snprintf(out, n, "%s/%.*s-%d%s", dir, (int)(dot - base), base, k, dot);
}

static int copy_to_temp(const char *src, const char *dir, char *tmp, size_t tmplen, char *err, size_t errlen) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) { seterr(err, errlen, "cannot read: %s", strerror(errno)); return -1; }
    struct stat st;
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        seterr(err, errlen, "not a regular file");
        close(in);
        return -1;
    }
    snprintf(tmp, tmplen, "%s/.sortbyface-XXXXXX", dir);
    int out = mkostemp(tmp, O_CLOEXEC);
    if (out < 0) { seterr(err, errlen, "cannot create a file in %s: %s", dir, strerror(errno)); close(in); return -1; }
    char *buf = malloc(1 << 20);
    int e = buf ? 0 : ENOMEM;
    while (!e) {
        ssize_t r = read(in, buf, 1 << 20);
        if (r < 0) { if (errno == EINTR) continue; e = errno; break; }
        if (r == 0) break;
        for (ssize_t o = 0; o < r;) {
            ssize_t w = write(out, buf + o, (size_t)(r - o));
            if (w < 0) { if (errno == EINTR) continue; e = errno; break; }
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
        return -1;
    }
    return 0;
}

int sbf_place_file(const char *src, const char *dir, sbf_place_mode mode, char *placed, size_t placed_len, char *err, size_t errlen) {
    const char *base = strrchr(src, '/');
    base = base ? base + 1 : src;
    if (!*base) { seterr(err, errlen, "no file name"); return -1; }
    char tmp[PATH_MAX + 64], target[PATH_MAX + 64], abs[PATH_MAX];
    if (mode == SBF_PLACE_COPY && copy_to_temp(src, dir, tmp, sizeof tmp, err, errlen)) return -1;
    if (mode == SBF_PLACE_SYMLINK && !realpath(src, abs)) {
        seterr(err, errlen, "cannot resolve: %s", strerror(errno));
        return -1;
    }
    for (int k = 1; k < 1000000; k++) {
        candidate(target, sizeof target, dir, base, k);
        int rc = mode == SBF_PLACE_COPY ? link(tmp, target) : mode == SBF_PLACE_LINK ? link(src, target) : symlink(abs, target);
        if (rc == 0) {
            if (mode == SBF_PLACE_COPY) unlink(tmp);
            if (placed) snprintf(placed, placed_len, "%s", target);
            return 0;
        }
        if (errno == EEXIST) continue;
        int e = errno;
        if (mode == SBF_PLACE_COPY) unlink(tmp);
        if (e == EXDEV) seterr(err, errlen, "cannot hard-link across file systems (use --copy or --symlink)");
        else seterr(err, errlen, "cannot create %s: %s", target, strerror(e));
        return -1;
    }
    if (mode == SBF_PLACE_COPY) unlink(tmp);
    seterr(err, errlen, "no free name for %s", base);
    return -1;
}

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
    return mode == SBF_PLACE_LINK ? "linking photos" : mode == SBF_PLACE_SYMLINK ? "symlinking photos" : "copying photos";
}

int sbf_place_mode_flags(const char *verb, int copy, int link, int symlink, sbf_place_mode *mode) {
    if (copy + link + symlink > 1) {
        fprintf(stderr, "sortbyface %s: choose one of --copy, --link, --symlink\n", verb);
        return 2;
    }
    *mode = link ? SBF_PLACE_LINK : symlink ? SBF_PLACE_SYMLINK : SBF_PLACE_COPY;
    return 0;
}

int sbf_write_sorted(const sbf_faceset *fs, const int *labels, int nclusters, const char *dir, sbf_place_mode mode,
                     sbf_sort_stats *st, void (*progress)(void *ctx, double fraction), void *progress_ctx, char *err,
                     size_t errlen) {
    memset(st, 0, sizeof *st);
    int n = fs->nfaces;
    /* faces grouped by cluster (counting sort keeps face order = photo path order) */
    int *start = calloc((size_t)nclusters + 1, sizeof *start), *byc = malloc((size_t)(n ? n : 1) * sizeof *byc);
    char **placed = calloc((size_t)(n ? n : 1), sizeof *placed); /* per face: placed name relative to dir */
    if (!start || !byc || !placed) {
        free(start); free(byc); free(placed);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) start[labels[i] + 1]++;
    for (int c = 0; c < nclusters; c++) start[c + 1] += start[c];
    int *fill = malloc((size_t)(nclusters ? nclusters : 1) * sizeof *fill);
    if (!fill) { free(start); free(byc); free(placed); seterr(err, errlen, "out of memory"); return -1; }
    memcpy(fill, start, (size_t)nclusters * sizeof *fill);
    for (int i = 0; i < n; i++) byc[fill[labels[i]]++] = i;
    free(fill);
    size_t dl = strlen(dir);
    char pdir[PATH_MAX], dst[PATH_MAX + 64], why[512];
    int rc = 0;
    for (int c = 0; c < nclusters && rc == 0; c++) {
        if (start[c] == start[c + 1]) continue;
        snprintf(pdir, sizeof pdir, "%s/Person %d", dir, c + 1);
        if (mkdir(pdir, 0755) != 0) {
            seterr(err, errlen, "cannot create folder %s: %s", pdir, strerror(errno));
            rc = -1;
            break;
        }
        st->persons++;
        int prev_photo = -1;
        const char *prev_name = NULL;
        for (int k = start[c]; k < start[c + 1]; k++) {
            if (progress) progress(progress_ctx, (double)(k + 1) / n);
            int f = byc[k], ph = fs->face_photo[f];
            if (ph == prev_photo) { /* same photo again in this person: already placed */
                placed[f] = prev_name ? strdup(prev_name) : NULL;
                continue;
            }
            prev_photo = ph;
            prev_name = NULL;
            if (sbf_place_file(fs->photos[ph].path, pdir, mode, dst, sizeof dst, why, sizeof why)) {
                sbf_file_error(fs->photos[ph].path, why);
                st->failed++;
                continue;
            }
            st->placed++;
            placed[f] = strdup(dst + dl + 1);
            prev_name = placed[f];
        }
    }
    if (rc == 0) {
        /* clusters.tsv in face order */
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        if (!m) { seterr(err, errlen, "out of memory"); rc = -1; }
        else {
            fputs("path\tface\tleft\ttop\tright\tbottom\tperson\tfile\n", m);
            for (int i = 0; i < n; i++) {
                const sbf_box *b = &fs->boxes[i];
                sbf_tsv_escape(m, fs->photos[fs->face_photo[i]].path);
                fprintf(m, "\t%d\t%ld\t%ld\t%ld\t%ld\t%d\t", fs->face_index[i], b->left, b->top, b->right, b->bottom, labels[i] + 1);
                if (placed[i]) sbf_tsv_escape(m, placed[i]);
                fputc('\n', m);
            }
            fclose(m);
            snprintf(dst, sizeof dst, "%s/clusters.tsv", dir);
            if (sbf_write_file_atomic(dst, buf, len, 0, why, sizeof why)) {
                seterr(err, errlen, "%s", why);
                rc = -1;
            }
            free(buf);
        }
    }
    for (int i = 0; i < n; i++) free(placed[i]);
    free(placed);
    free(start);
    free(byc);
    return rc;
}
