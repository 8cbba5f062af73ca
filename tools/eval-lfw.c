/* tools/eval-lfw.c — clustering and verification quality on a labelled photo folder (one sub-folder
 * per person, e.g. ../shared/data/lfw-dev), from a database written by 'sortbyface embed'.
 *
 *   eval-lfw --db FILE [--pairs PAIRS.txt] [-t T | --sweep LO:HI:STEP] [--itr N] [--seed S]
 *            [--threads N] [--approx] [--ideal]
 *
 * Labels: the name of each photo's parent folder.  When a photo holds several faces the labelled one
 * is the face whose box centre is nearest the image centre; the others are clustered (as sort does)
 * but not scored, and counted.  A photo without a detected face is scored as a singleton cluster of
 * its own (it cannot join its person), and counted.
 * Prints pairwise P/R/F, BCubed P/R/F, clusters vs identities for each T, the T maximising
 * min(pairwise F, BCubed F), and the 10-fold verification accuracy on an LFW pairs file
 * (fold = pair index mod 10; score = cosine similarity; a pair with a missing face scores -1).
 * --ideal adds, for each T, what the graph itself allows: the BCubed recall and F of the ideal clustering
 * that never mixes two people and keeps together every chain of same-person edges above T (the connected
 * components of the graph's same-person edges, labelled faces only), and the number of edges above T
 * between the labelled faces of two different people. */
#include "src/cluster.h"
#include "src/metrics.h"
#include "src/store.h"
#include "src/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage_text = "usage: eval-lfw --db FILE [--pairs PAIRS.txt] [-t T | --sweep LO:HI:STEP] [--itr N] "
                                "[--seed S] [--threads N] [--approx] [--ideal]\n";

/* parent folder name of path into out */
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
/* base name without extension */
static void stem(const char *path, char *out, size_t n) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    snprintf(out, n, "%.*s", (int)(dot ? dot - b : (long)strlen(b)), b);
}

/* union-find root with path halving */
static int root(int *up, int i) {
    while (up[i] != i) {
        up[i] = up[up[i]];
        i = up[i];
    }
    return i;
}

/* --ideal: BCubed of the same-person components of g (labelled faces only) into *bc; returns the number
 * of edges between labelled faces of two different people.  face_photo[f]: photo of labelled face f, or -1. */
static long ideal_clustering(const sbf_graph *g, const int *face_photo, const int *photo_face, const int *photo_id,
                             int np, int *pred, sbf_prf *bc) {
    int *up = malloc((size_t)(g->n ? g->n : 1) * sizeof *up);
    long impostor = 0;
    for (int i = 0; i < g->n; i++) up[i] = i;
    for (int i = 0; i < g->n; i++) {
        if (face_photo[i] < 0) continue;
        for (int64_t e = g->rowptr[i]; e < g->rowptr[i + 1]; e++) {
            int j = g->col[e];
            if (j <= i || face_photo[j] < 0) continue;
            if (photo_id[face_photo[i]] != photo_id[face_photo[j]]) impostor++;
            else up[root(up, i)] = root(up, j);
        }
    }
    for (int p = 0; p < np; p++) pred[p] = photo_face[p] >= 0 ? root(up, photo_face[p]) : g->n + p;
    sbf_bcubed_prf(pred, photo_id, np, bc);
    free(up);
    return impostor;
}

typedef struct {
    char *key;
    int val;
} kv;
static int cmp_kv(const void *a, const void *b) { return strcmp(((const kv *)a)->key, ((const kv *)b)->key); }
static int lookup(const kv *v, int n, const char *key) {
    kv k = {(char *)key, 0};
    const kv *r = bsearch(&k, v, (size_t)n, sizeof *v, cmp_kv);
    return r ? r->val : -1;
}

int main(int argc, char **argv) {
    const char *db = NULL, *pairs = NULL;
    double t_single = SBF_DEFAULT_THRESHOLD, lo = 0, hi = 0, step = 0;
    int sweep = 0, itr = SBF_DEFAULT_ITERATIONS, threads = 0, approx = 0, ideal = 0;
    unsigned long long seed = SBF_DEFAULT_SEED;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--db") && more) db = argv[++i];
        else if (!strcmp(a, "--pairs") && more) pairs = argv[++i];
        else if ((!strcmp(a, "-t") || !strcmp(a, "--threshold")) && more) t_single = atof(argv[++i]);
        else if (!strcmp(a, "--sweep") && more) {
            if (sscanf(argv[++i], "%lf:%lf:%lf", &lo, &hi, &step) != 3 || step <= 0 || hi < lo) {
                fputs(usage_text, stderr);
                return 2;
            }
            sweep = 1;
        } else if ((!strcmp(a, "--itr") || !strcmp(a, "-itr")) && more) itr = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && more) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--threads") && more) threads = atoi(argv[++i]);
        else if (!strcmp(a, "--approx")) approx = 1;
        else if (!strcmp(a, "--ideal")) ideal = 1;
        else {
            fputs(usage_text, stderr);
            return 2;
        }
    }
    if (!db) {
        fputs(usage_text, stderr);
        return 2;
    }
    char err[1024];
    sbf_store *s = sbf_store_open(db, SBF_STORE_READ, err, sizeof err);
    if (!s) {
        fprintf(stderr, "eval-lfw: %s: %s\n", db, err);
        return 1;
    }
    sbf_faceset fs;
    if (sbf_store_faceset(s, &fs, err, sizeof err)) {
        fprintf(stderr, "eval-lfw: %s\n", err);
        return 1;
    }
    sbf_store_close(s);

    /* identities and labelled faces */
    int np = fs.nphotos;
    kv *ids = malloc((size_t)(np ? np : 1) * sizeof *ids);
    int *photo_id = malloc((size_t)(np ? np : 1) * sizeof *photo_id),
        *photo_face = malloc((size_t)(np ? np : 1) * sizeof *photo_face);
    char name[1024];
    for (int p = 0; p < np; p++) {
        parent_name(fs.photos[p].path, name, sizeof name);
        ids[p].key = strdup(name);
        ids[p].val = p;
    }
    qsort(ids, (size_t)np, sizeof *ids, cmp_kv);
    int nid = 0;
    for (int i = 0; i < np; i++) {
        if (i == 0 || strcmp(ids[i].key, ids[i - 1].key)) nid++;
        photo_id[ids[i].val] = nid - 1;
    }
    int noface = 0, extra = 0;
    for (int p = 0; p < np; p++) {
        const sbf_photo *ph = &fs.photos[p];
        photo_face[p] = -1;
        double best = 1e300, cx = ph->width / 2.0, cy = ph->height / 2.0;
        for (int f = ph->first_face; f < ph->first_face + ph->nfaces; f++) {
            const sbf_box *b = &fs.boxes[f];
            double dx = (b->left + b->right) / 2.0 - cx, dy = (b->top + b->bottom) / 2.0 - cy, d = dx * dx + dy * dy;
            if (d < best) {
                best = d;
                photo_face[p] = f;
            }
        }
        if (ph->nfaces == 0) noface++;
        else extra += ph->nfaces - 1;
    }
    int *face_photo = malloc((size_t)(fs.nfaces ? fs.nfaces : 1) * sizeof *face_photo);
    for (int f = 0; f < fs.nfaces; f++) face_photo[f] = -1;
    for (int p = 0; p < np; p++)
        if (photo_face[p] >= 0) face_photo[photo_face[p]] = p;
    printf("eval-lfw: %s: %d photos of %d identities, %d faces; %d photos without a face (scored as singletons), %d "
           "extra faces not scored\n",
           db, np, nid, fs.nfaces, noface, extra);

    /* clustering sweep */
    int *labels = malloc((size_t)(fs.nfaces ? fs.nfaces : 1) * sizeof *labels);
    int *pred = malloc((size_t)(np ? np : 1) * sizeof *pred);
    double best_t = t_single, best_min = -1;
    int nsteps = sweep ? (int)floor((hi - lo) / step + 1e-9) + 1 : 1;
    printf("%-6s %8s %9s %7s %7s %7s %7s %7s %7s %7s %8s %8s%s\n", "T", "clusters", "identities", "pairP", "pairR",
           "pairF", "bcubP", "bcubR", "bcubF", "minF", "graph_s", "cw_s",
           ideal ? "  idealR  idealF impostor_edges" : "");
    /* The graph is built once at the lowest threshold; each T keeps the edges with weight > T. */
    sbf_graph base = {0}, g = {0};
    double tg = 0;
    {
        sbf_graph_opts go = {.threshold = sweep ? lo : t_single, .threads = threads, .approx = approx};
        double t0 = sbf_now();
        if (fs.nfaces && sbf_graph_build(fs.emb, fs.nfaces, fs.dim, &go, &base)) {
            fprintf(stderr, "eval-lfw: graph failed\n");
            return 1;
        }
        tg = sbf_now() - t0;
    }
    for (int si = 0; si < nsteps; si++) {
        double t = sweep ? lo + si * step : t_single;
        int k = 0;
        double tc = 0;
        sbf_prf ib = {0};
        long imp = 0;
        if (fs.nfaces) {
            g.n = base.n;
            g.rowptr = malloc(((size_t)base.n + 1) * sizeof *g.rowptr);
            g.col = malloc(((size_t)base.rowptr[base.n] + 1) * sizeof *g.col);
            g.w = malloc(((size_t)base.rowptr[base.n] + 1) * sizeof *g.w);
            int64_t m = 0;
            g.rowptr[0] = 0;
            for (int i = 0; i < base.n; i++) {
                for (int64_t e = base.rowptr[i]; e < base.rowptr[i + 1]; e++)
                    if (base.w[e] > (float)t) {
                        g.col[m] = base.col[e];
                        g.w[m] = base.w[e];
                        m++;
                    }
                g.rowptr[i + 1] = m;
            }
            double t0 = sbf_now();
            k = sbf_chinese_whispers(&g, itr, seed, labels);
            tc = sbf_now() - t0;
            if (ideal) imp = ideal_clustering(&g, face_photo, photo_face, photo_id, np, pred, &ib);
            sbf_graph_free(&g);
        }
        if (k < 0) {
            fprintf(stderr, "eval-lfw: clustering failed\n");
            return 1;
        }
        for (int p = 0; p < np; p++) pred[p] = photo_face[p] >= 0 ? labels[photo_face[p]] : k + p; /* no face: alone */
        sbf_prf pw, bc;
        sbf_pairwise_prf(pred, photo_id, np, &pw);
        sbf_bcubed_prf(pred, photo_id, np, &bc);
        int nclu = sbf_count_distinct(pred, np);
        double mf = fmin(pw.f, bc.f);
        printf("%-6.3f %8d %9d %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f %8.3f %8.3f", t, nclu, nid, pw.p, pw.r, pw.f,
               bc.p, bc.r, bc.f, mf, tg, tc);
        if (ideal) printf(" %7.4f %7.4f %14ld", ib.r, ib.f, imp);
        printf("\n");
        fflush(stdout);
        if (mf > best_min) {
            best_min = mf;
            best_t = t;
        }
        tg = 0; /* graph time is reported once, on the first row */
    }
    sbf_graph_free(&base);
    if (sweep) printf("best T = %.3f (min of pairwise F and BCubed F = %.4f)\n", best_t, best_min);

    /* verification */
    if (pairs) {
        FILE *f = fopen(pairs, "r");
        if (!f) {
            perror(pairs);
            return 1;
        }
        kv *byname = malloc((size_t)(np ? np : 1) * sizeof *byname);
        for (int p = 0; p < np; p++) {
            stem(fs.photos[p].path, name, sizeof name);
            byname[p].key = strdup(name);
            byname[p].val = p;
        }
        qsort(byname, (size_t)np, sizeof *byname, cmp_kv);
        char line[1024];
        int cap = 8192, n = 0, missing = 0;
        double *score = malloc((size_t)cap * sizeof *score);
        int *same = malloc((size_t)cap * sizeof *same);
        while (fgets(line, sizeof line, f)) {
            char a[256], b[256];
            int i1, i2, k;
            char key1[600], key2[600];
            int fields = sscanf(line, "%255s %d %255s %d", a, &i1, b, &i2);
            if (fields == 3 && sscanf(line, "%255s %d %d", a, &i1, &k) == 3) {
                snprintf(key1, sizeof key1, "%s_%04d", a, i1);
                snprintf(key2, sizeof key2, "%s_%04d", a, k);
                same[n] = 1;
            } else if (fields == 4) {
                snprintf(key1, sizeof key1, "%s_%04d", a, i1);
                snprintf(key2, sizeof key2, "%s_%04d", b, i2);
                same[n] = 0;
            } else {
                continue; /* header line */
            }
            int p1 = lookup(byname, np, key1), p2 = lookup(byname, np, key2);
            int f1 = p1 >= 0 ? photo_face[p1] : -1, f2 = p2 >= 0 ? photo_face[p2] : -1;
            if (f1 < 0 || f2 < 0) {
                score[n] = -1;
                missing++;
            } else {
                double d = 0;
                for (int q = 0; q < fs.dim; q++)
                    d += (double)fs.emb[(size_t)f1 * fs.dim + q] * fs.emb[(size_t)f2 * fs.dim + q];
                score[n] = d;
            }
            if (++n == cap) {
                cap *= 2;
                score = realloc(score, (size_t)cap * sizeof *score);
                same = realloc(same, (size_t)cap * sizeof *same);
            }
        }
        fclose(f);
        double thr, sd;
        double acc = sbf_verification_accuracy(score, same, n, 10, &thr, &sd);
        printf("verification: %s: %d pairs, 10-fold accuracy %.2f %% (std %.2f), mean threshold %.3f; %d pairs with a "
               "photo not in the database or without a face (scored -1)\n",
               pairs, n, 100 * acc, 100 * sd, thr, missing);
        if (missing) { /* the same on the pairs where both faces exist, for diagnosis */
            int m = 0;
            for (int i = 0; i < n; i++)
                if (score[i] != -1) {
                    score[m] = score[i];
                    same[m] = same[i];
                    m++;
                }
            acc = sbf_verification_accuracy(score, same, m, 10, &thr, &sd);
            printf("verification, complete pairs only: %d pairs, 10-fold accuracy %.2f %% (std %.2f), mean threshold "
                   "%.3f\n",
                   m, 100 * acc, 100 * sd, thr);
        }
        for (int p = 0; p < np; p++) free(byname[p].key);
        free(byname);
        free(score);
        free(same);
    }
    for (int p = 0; p < np; p++) free(ids[p].key);
    free(ids);
    free(photo_id);
    free(photo_face);
    free(face_photo);
    free(labels);
    free(pred);
    sbf_faceset_free(&fs);
    return 0;
}
