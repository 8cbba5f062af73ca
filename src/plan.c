/* src/plan.c — embed's incremental rules; see src/plan.h. */
#include "src/plan.h"

#include <stdlib.h>
#include <string.h>

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

sbf_plan_state sbf_plan_file(const sbf_walk_file *f, const sbf_plan_facts *facts) {
    if (facts->kind < 0) return SBF_PLAN_UNREADABLE;
    if (facts->kind == 0) return SBF_PLAN_OTHER;
    if (!facts->known) return SBF_PLAN_NEW;
    return facts->size == f->size && facts->mtime_ns == f->mtime_ns ? SBF_PLAN_UNCHANGED : SBF_PLAN_CHANGED;
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
    sbf_walk_file key = {(char *)path, 0, 0};
    const sbf_walk_file *hit = w->n ? bsearch(&key, w->files, (size_t)w->n, sizeof *w->files, cmp_file) : NULL;
    return !hit || state[hit - w->files] == SBF_PLAN_OTHER;
}
