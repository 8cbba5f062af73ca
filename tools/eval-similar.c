/* tools/eval-similar.c — how good the people page's "possibly the same person as" is on a labelled photo folder
 * (one sub-folder per person, e.g. ../shared/data/lfw-dev) embedded by 'sortbyface embed': the faces are clustered
 * as sort does, each cluster becomes a section of the page (src/page.c) and sbf_page_find_similar names its most
 * similar other clusters by mean embedding.  A suggestion is right when both clusters' majority identity is the
 * same person (labels: the parent folder of the photo; in a photo with several faces only the face nearest the
 * image centre is labelled, as in tools/eval-lfw).
 *
 *   eval-similar --db FILE [-t T | --rule] [--floors LO:HI:STEP] [--min-faces M]
 *
 * --rule: cluster with the per-face thresholds of src/threshold.h (issue 24) instead of one threshold T.
 * --min-faces M: only clusters of at least M faces are sections (people; the rest would be Unknown).
 * Prints, by similarity of the most similar other cluster (bins of 0.05): clusters, how many of those are the same
 * person; then for each floor: clusters that get a suggestion, the precision of the first suggestion and of all
 * (up to SBF_PAGE_MAX_SIMILAR) suggestions, and the recall: of the clusters whose person has another cluster
 * (split people), the share whose first suggestion names one of them. */
#include "src/cluster.h"
#include "src/threshold.h"
#include "src/page.h"
#include "src/store.h"
#include "src/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void parent_name(const char *path, char *out, size_t n) {
    const char *end = strrchr(path, '/');
    if (!end) {
        snprintf(out, n, ".");
        return;
    }
    const char *start = end;
    while (start > path && start[-1] != '/') start--;
    snprintf(out, n, "%.*s", (int)(end - start), start);
}

static char **names;
static int cmp_name(const void *a, const void *b) { return strcmp(names[*(const int *)a], names[*(const int *)b]); }

int main(int argc, char **argv) {
    const char *db = NULL;
    double t = SBF_DEFAULT_THRESHOLD, lo = 0.40, hi = 0.80, step = 0.05;
    int min_faces = 1, rule = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) db = argv[++i];
        else if (!strcmp(argv[i], "-t") && i + 1 < argc) t = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rule")) rule = 1;
        else if (!strcmp(argv[i], "--min-faces") && i + 1 < argc) min_faces = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--floors") && i + 1 < argc) {
            if (sscanf(argv[++i], "%lf:%lf:%lf", &lo, &hi, &step) != 3 || step <= 0) {
                fprintf(stderr, "bad --floors\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: eval-similar --db FILE [-t T | --rule] [--floors LO:HI:STEP] [--min-faces M]\n");
            return 2;
        }
    }
    if (!db) {
        fprintf(stderr, "usage: eval-similar --db FILE [-t T | --rule] [--floors LO:HI:STEP] [--min-faces M]\n");
        return 2;
    }
    char err[512];
    sbf_store *s = sbf_store_open(db, SBF_STORE_READ, err, sizeof err);
    sbf_faceset fs;
    if (!s || sbf_store_faceset(s, &fs, err, sizeof err)) {
        fprintf(stderr, "eval-similar: %s: %s\n", db, err);
        return 1;
    }
    sbf_store_close(s);
    int n = fs.nfaces;
    /* identity of each labelled face (-1: not labelled): folder names numbered */
    names = calloc((size_t)fs.nphotos, sizeof *names);
    int *ord = malloc((size_t)fs.nphotos * sizeof *ord), *pid = malloc((size_t)fs.nphotos * sizeof *pid), nid = 0;
    for (int p = 0; p < fs.nphotos; p++) {
        names[p] = malloc(256);
        parent_name(fs.photos[p].path, names[p], 256);
        ord[p] = p;
    }
    qsort(ord, (size_t)fs.nphotos, sizeof *ord, cmp_name);
    for (int i = 0; i < fs.nphotos; i++) {
        if (i && strcmp(names[ord[i]], names[ord[i - 1]])) nid++;
        pid[ord[i]] = nid;
    }
    nid++;
    int *lab = malloc((size_t)n * sizeof *lab);
    for (int i = 0; i < n; i++) lab[i] = -1;
    for (int p = 0; p < fs.nphotos; p++) {
        const sbf_photo *ph = &fs.photos[p];
        double best = 1e300, cx = ph->width / 2.0, cy = ph->height / 2.0;
        int bf = -1;
        for (int f = ph->first_face; f < ph->first_face + ph->nfaces; f++) {
            double x = (fs.boxes[f].left + fs.boxes[f].right) / 2.0 - cx,
                   y = (fs.boxes[f].top + fs.boxes[f].bottom) / 2.0 - cy;
            if (x * x + y * y < best) best = x * x + y * y, bf = f;
        }
        if (bf >= 0) lab[bf] = pid[p];
    }
    /* the clustering sort does */
    sbf_cluster_opts co;
    sbf_cluster_opts_default(&co);
    co.graph.threshold = t;
    int *labels = malloc((size_t)n * sizeof *labels);
    int k = rule ? sbf_cluster_adaptive(fs.emb, n, fs.dim, &co, NULL, labels, NULL, NULL,
                                        NULL) /* issue 24's per-face rule */
                 : sbf_cluster(fs.emb, n, fs.dim, &co, labels, NULL);
    if (k < 0) {
        fprintf(stderr, "eval-similar: out of memory\n");
        return 1;
    }
    /* sections = clusters; majority identity of each */
    int *start = calloc((size_t)k + 1, sizeof *start), *byc = malloc((size_t)n * sizeof *byc);
    for (int i = 0; i < n; i++) start[labels[i] + 1]++;
    for (int c = 0; c < k; c++) start[c + 1] += start[c];
    int *fill = malloc((size_t)k * sizeof *fill);
    memcpy(fill, start, (size_t)k * sizeof *fill);
    for (int i = 0; i < n; i++) byc[fill[labels[i]]++] = i;
    int *major = malloc((size_t)k * sizeof *major), *cnt = calloc((size_t)nid, sizeof *cnt);
    int *clusters_of = calloc((size_t)nid, sizeof *clusters_of);
    for (int c = 0; c < k; c++) {
        int best = -1;
        for (int j = start[c]; j < start[c + 1]; j++)
            if (lab[byc[j]] >= 0) cnt[lab[byc[j]]]++;
        for (int j = start[c]; j < start[c + 1]; j++) {
            int l = lab[byc[j]];
            if (l >= 0 && (best < 0 || cnt[l] > cnt[best] || (cnt[l] == cnt[best] && l < best))) best = l;
        }
        for (int j = start[c]; j < start[c + 1]; j++)
            if (lab[byc[j]] >= 0) cnt[lab[byc[j]]] = 0;
        major[c] = best;
        if (best >= 0) clusters_of[best]++;
    }
    sbf_page pg;
    sbf_page_init(&pg, &fs, NULL, "eval");
    char title[32];
    int *sec = malloc((size_t)k * sizeof *sec), ns = 0; /* sec[section]: its cluster */
    for (int c = 0; c < k; c++) {
        if (start[c + 1] - start[c] < min_faces) continue;
        snprintf(title, sizeof title, "%d", c);
        if (sbf_page_add_person(&pg, title, NULL, byc + start[c], start[c + 1] - start[c])) return 1;
        sec[ns++] = c;
    }
    /* from here on, clusters are the sections: majority identities and split people among them */
    int *smajor = malloc((size_t)(ns ? ns : 1) * sizeof *smajor);
    memset(clusters_of, 0, (size_t)nid * sizeof *clusters_of);
    for (int i = 0; i < ns; i++) {
        smajor[i] = major[sec[i]];
        if (smajor[i] >= 0) clusters_of[smajor[i]]++;
    }
    major = smajor;
    k = ns;
    double t0 = sbf_now();
    if (sbf_page_find_similar(&pg, lo - 0.2, 0)) {
        fprintf(stderr, "eval-similar: out of memory\n");
        return 1;
    }
    double secs = sbf_now() - t0;
    int split = 0, labelled = 0;
    for (int c = 0; c < k; c++)
        if (major[c] >= 0) labelled++, split += clusters_of[major[c]] > 1;
    printf("%d faces, %d clusters of at least %d face%s at T=%.2f (%d with a labelled face; %d of them belong to a "
           "person split over several of them); means compared in %.3f s\n",
           n, k, min_faces, min_faces == 1 ? "" : "s", t, labelled, split, secs);
    printf("similarity of the most similar other cluster: clusters, same person\n");
    for (double b = lo - 0.2; b < 1.0; b += 0.05) {
        int in = 0, same = 0;
        for (int c = 0; c < k; c++) {
            const sbf_page_person *p = &pg.people[c];
            if (major[c] < 0 || !p->nsimilar || p->similar_sim[0] <= b || p->similar_sim[0] > b + 0.05) continue;
            in++;
            same += major[p->similar[0]] == major[c];
        }
        if (in) printf("  (%.2f, %.2f]: %5d, %5d (%.1f %%)\n", b, b + 0.05, in, same, 100.0 * same / in);
    }
    printf("floor: clusters with a suggestion, first right, all suggestions right, recall of split clusters\n");
    for (double f = lo; f <= hi + 1e-9; f += step) {
        int with = 0, first = 0, all = 0, allright = 0, found = 0;
        for (int c = 0; c < k; c++) {
            const sbf_page_person *p = &pg.people[c];
            if (major[c] < 0 || !p->nsimilar || p->similar_sim[0] <= f) continue;
            with++;
            first += major[p->similar[0]] == major[c];
            for (int j = 0; j < p->nsimilar && p->similar_sim[j] > f; j++)
                all++, allright += major[p->similar[j]] == major[c];
            if (clusters_of[major[c]] > 1 && major[p->similar[0]] == major[c]) found++;
        }
        printf("  %.2f: %5d, %5d (%.1f %%), %5d of %5d (%.1f %%), %d of %d (%.1f %%)\n", f, with, first,
               with ? 100.0 * first / with : 0, allright, all, all ? 100.0 * allright / all : 0, found, split,
               split ? 100.0 * found / split : 0);
    }
    sbf_page_free(&pg);
    return 0;
}
