/* src/plan.c — embed's incremental rules; see src/plan.h. */
#include "src/plan.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sbf_plan_roots(char **roots, int n) {
    int kept = 0;
    for (int i = 0; i < n; i++) {
        int inside = 0; /* two spellings of one folder ("lib", "lib/", "lib") lie inside each other: keep the first */
        for (int k = 0; k < n && !inside; k++)
            inside = k != i && sbf_path_under(roots[i], roots[k]) && (k < i || !sbf_path_under(roots[k], roots[i]));
        if (!inside) roots[kept++] = roots[i];
    }
    return kept;
}

static int cmp_file(const void *a, const void *b) {
    return strcmp(((const sbf_walk_file *)a)->path, ((const sbf_walk_file *)b)->path);
}

int sbf_plan_unique_files(sbf_walk_file *files, int n) {
    if (n <= 0) return 0;
    qsort(files, (size_t)n, sizeof *files, cmp_file);
    int nu = 0;
    for (int i = 0; i < n; i++) {
        if (nu && !strcmp(files[nu - 1].path, files[i].path)) free(files[i].path);
        else files[nu++] = files[i];
    }
    return nu;
}

/* The order in which the names of one file are considered for keeping (sbf_plan_same_files). */
typedef struct {
    const sbf_walk_file *files;
    const int *known;
} same_ctx;
static int cmp_same(const void *a, const void *b, void *ctx) {
    const same_ctx *c = ctx;
    int i = *(const int *)a, j = *(const int *)b;
    const sbf_walk_file *x = &c->files[i], *y = &c->files[j];
    if (x->id.dev != y->id.dev) return x->id.dev < y->id.dev ? -1 : 1;
    if (x->id.ino != y->id.ino) return x->id.ino < y->id.ino ? -1 : 1;
    int kx = c->known && c->known[i], ky = c->known && c->known[j];
    if (kx != ky) return ky - kx;                                     /* the name the database holds */
    if (x->via_link != y->via_link) return x->via_link - y->via_link; /* a real path */
    return i - j;                                                     /* the first in byte order */
}

void sbf_plan_same_files(const sbf_walk_file *files, int n, const int *known, int *same_as) {
    int *ord = n > 0 ? malloc((size_t)n * sizeof *ord) : NULL;
    for (int i = 0; i < n; i++) same_as[i] = -1;
    if (!ord) return; /* out of memory: every name is kept, as before this rule */
    for (int i = 0; i < n; i++) ord[i] = i;
    same_ctx c = {files, known};
    qsort_r(ord, (size_t)n, sizeof *ord, cmp_same, &c);
    for (int k = 1; k < n; k++) {
        const sbf_walk_file *a = &files[ord[k - 1]], *b = &files[ord[k]];
        if (a->id.dev == b->id.dev && a->id.ino == b->id.ino)
            same_as[ord[k]] = same_as[ord[k - 1]] >= 0 ? same_as[ord[k - 1]] : ord[k - 1];
    }
    free(ord);
}

int sbf_plan_image_name(const char *path) {
    static const char *const ext[] = {"jpg", "jpeg", "jpe", "jfif", "png", "gif",
                                      "bmp", "dib",  "tga", "pnm",  "ppm", "pgm"};
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return 0;
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
        if (!strcasecmp(dot + 1, ext[i])) return 1;
    return 0;
}

sbf_plan_state sbf_plan_file(const sbf_walk_file *f, const sbf_plan_facts *facts) {
    if (facts->kind < 0) return SBF_PLAN_UNREADABLE;
    if (facts->kind == 0) return SBF_PLAN_OTHER;
    if (!facts->known) return SBF_PLAN_NEW;
    return facts->size == f->size && facts->mtime_ns == f->mtime_ns && !facts->stale ? SBF_PLAN_UNCHANGED
                                                                                     : SBF_PLAN_CHANGED;
}

int sbf_plan_embeds(sbf_plan_state s) { return s == SBF_PLAN_NEW || s == SBF_PLAN_CHANGED; }

/* 1 when path lies under one of the folders (NULL entries are none). */
static int under_any(const char *path, char *const *dirs, int n) {
    for (int i = 0; i < n; i++)
        if (dirs[i] && sbf_path_under(path, dirs[i])) return 1;
    return 0;
}

int sbf_plan_forget(const char *path, char *const *roots, int nroots, const sbf_walk *w, const sbf_plan_state *state) {
    if (!under_any(path, roots, nroots) || under_any(path, w->unreadable, w->nunreadable)) return 0;
    sbf_walk_file key = {.path = (char *)path};
    const sbf_walk_file *hit = w->n ? bsearch(&key, w->files, (size_t)w->n, sizeof *w->files, cmp_file) : NULL;
    return !hit || state[hit - w->files] == SBF_PLAN_OTHER || state[hit - w->files] == SBF_PLAN_DUPLICATE;
}
