/* tools/eval-stable.c — people that last across runs (issue 19) and the drift of the per-face thresholds
 * when a library grows (issue 24), on a labelled database (tools/lfw-set.h): sort a share of the photos
 * (run 1, per-face thresholds, the stored people), add the others (--new FRACTION of the photos, drawn
 * by photo with --seed), sort again with each mechanism, and report for each: the share of run-1 faces
 * whose person changed, and pairwise / BCubed F of the result against the labels, next to a
 * from-scratch sort of everything.  Also how often a clustering puts two faces of one photo into one
 * person, and what the same-photo cannot-link constraint costs.  --photos-only: only that count, for an
 * unlabelled database (e.g. ../shared/data/photos).
 *
 *   eval-stable --db FILE [--new FRACTION] [--seed S] [--itr N] [--photos-only] [--dump FILE]
 *
 * Mechanisms (the second sort; all on the same graph of all faces with their new per-face thresholds):
 *   fresh + overlap: Chinese Whispers from scratch, each new cluster matched to the stored person it
 *                    shares most faces with (greedy by overlap, each person once), others new people;
 *   warm:            Chinese Whispers started from the stored people (src/cluster_warm.h; new faces
 *                    alone, moving first), stay bonus 0 / 0.5 / 1.0;
 *   frozen:          stored faces keep their person, only new faces move. */
#include "tools/lfw-set.h"
#include "src/cluster_warm.h"
#include "src/threshold.h"

static const char *usage_text = "usage: eval-stable --db FILE [--new FRACTION] [--seed S] [--itr N] [--photos-only] [--dump FILE]\n";

typedef struct { int a, b, c; } trip;
static int cmp_trip_desc(const void *x, const void *y) {
    const trip *p = x, *q = y;
    if (p->c != q->c) return p->c > q->c ? -1 : 1;
    if (p->a != q->a) return (p->a > q->a) - (p->a < q->a);
    return (p->b > q->b) - (p->b < q->b);
}

/* maps the labels of a fresh clustering (0..k-1) to stored ids by greedy overlap on the old faces */
static void match_overlap(const int *fresh, int k, const int *old_id, int n, int maxid, int *out) {
    int nt = 0, cap = 1024;
    trip *t = lfw_xmalloc((size_t)cap * sizeof *t);
    /* count pairs (fresh label, old id) */
    int *idx = lfw_xmalloc((size_t)n * sizeof *idx), m = 0;
    for (int i = 0; i < n; i++)
        if (old_id[i] >= 0) idx[m++] = i;
    /* sort old faces by (fresh, old) with a simple key array */
    long long *key = lfw_xmalloc((size_t)(m ? m : 1) * sizeof *key);
    for (int q = 0; q < m; q++) key[q] = (long long)fresh[idx[q]] * (maxid + 2) + old_id[idx[q]];
    for (int q = 1; q < m; q++) { /* shell sort: m <= ~10k */
        long long v = key[q];
        int j = q;
        while (j > 0 && key[j - 1] > v) { key[j] = key[j - 1]; j--; }
        key[j] = v;
    }
    for (int q = 0; q < m;) {
        int r = q;
        while (r < m && key[r] == key[q]) r++;
        if (nt == cap) { cap *= 2; t = realloc(t, (size_t)cap * sizeof *t); }
        t[nt++] = (trip){(int)(key[q] / (maxid + 2)), (int)(key[q] % (maxid + 2)), r - q};
        q = r;
    }
    qsort(t, (size_t)nt, sizeof *t, cmp_trip_desc);
    int *f2id = lfw_xmalloc((size_t)k * sizeof *f2id);
    char *idused = calloc((size_t)maxid + 2, 1);
    for (int c = 0; c < k; c++) f2id[c] = -1;
    for (int q = 0; q < nt; q++)
        if (f2id[t[q].a] < 0 && !idused[t[q].b]) { f2id[t[q].a] = t[q].b; idused[t[q].b] = 1; }
    int next = maxid + 1;
    for (int c = 0; c < k; c++)
        if (f2id[c] < 0) f2id[c] = next++;
    for (int i = 0; i < n; i++) out[i] = f2id[fresh[i]];
    free(t); free(idx); free(key); free(f2id); free(idused);
}

/* photos with 2+ faces, and those where two faces share a label */
static void same_photo(const int *face_photo, const int *labels, int n, int *multi, int *bad) {
    *multi = *bad = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && face_photo[j] == face_photo[i]) j++;
        if (j - i >= 2) {
            (*multi)++;
            int v = 0;
            for (int a = i; a < j && !v; a++)
                for (int b = a + 1; b < j && !v; b++) v = labels[a] == labels[b];
            *bad += v;
        }
        i = j;
    }
}

static void print_row(const char *name, const lfw_lib *b, const int *labels, const int *old_id, double base_pw, double base_bc) {
    int n = b->nfaces, changed = 0, nold = 0, mx = 0;
    for (int i = 0; i < n; i++) {
        if (labels[i] > mx) mx = labels[i];
        if (old_id && old_id[i] >= 0) { nold++; changed += labels[i] != old_id[i]; }
    }
    sbf_prf pw, bc;
    lfw_lib_score(b, labels, mx + 1, &pw, &bc);
    int multi, bad;
    same_photo(b->face_photo, labels, n, &multi, &bad);
    printf("  %-28s changed %6.3f %% (%d of %d)  pairwise F %.4f (%+.4f)  BCubed F %.4f (%+.4f)  same-photo pairs in one person: %d of %d photos\n", name,
           nold ? 100.0 * changed / nold : 0.0, changed, nold, pw.f, pw.f - base_pw, bc.f, bc.f - base_bc, bad, multi);
}

int main(int argc, char **argv) {
    const char *db = NULL;
    double frac = 0.10;
    int itr = SBF_DEFAULT_ITERATIONS, photos_only = 0;
    const char *dump = NULL;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--db") && more) db = argv[++i];
        else if (!strcmp(a, "--new") && more) frac = atof(argv[++i]);
        else if (!strcmp(a, "--seed") && more) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--itr") && more) itr = atoi(argv[++i]);
        else if (!strcmp(a, "--photos-only")) photos_only = 1;
        else if (!strcmp(a, "--dump") && more) dump = argv[++i];
        else { fputs(usage_text, stderr); return 2; }
    }
    if (!db || frac <= 0 || frac >= 1) { fputs(usage_text, stderr); return 2; }
    lfw_set L;
    if (lfw_set_load(db, &L)) return 1;
    const int dim = L.fs.dim, np = L.fs.nphotos;
    sbf_cluster_opts co;
    sbf_cluster_opts_default(&co);
    co.iterations = itr;
    int *all = lfw_xmalloc((size_t)np * sizeof *all);
    for (int p = 0; p < np; p++) all[p] = p;
    lfw_lib B;
    lfw_lib_make(&L, all, np, &B);
    const int n = B.nfaces;
    int *fresh = lfw_xmalloc((size_t)n * sizeof *fresh), *out = lfw_xmalloc((size_t)n * sizeof *out);
    float *t_all = lfw_xmalloc((size_t)n * sizeof *t_all);
    int k = sbf_cluster_adaptive(B.emb, n, dim, &co, NULL, fresh, t_all, NULL, NULL);
    if (k < 0) { fputs("eval-stable: clustering failed\n", stderr); return 3; }
    int multi, bad;
    same_photo(B.face_photo, fresh, n, &multi, &bad);
    printf("eval-stable: %s: %d photos, %d faces; %d photos hold 2+ faces\n", db, np, n, multi);
    printf("same photo: default rule puts two faces of one photo into one person in %d of %d photos\n", bad, multi);
    {
        sbf_cluster_opts c73 = co;
        c73.graph.threshold = 0.73;
        int *l73 = lfw_xmalloc((size_t)n * sizeof *l73);
        sbf_cluster(B.emb, n, dim, &c73, l73, NULL);
        same_photo(B.face_photo, l73, n, &multi, &bad);
        printf("same photo: fixed 0.73 puts two faces of one photo into one person in %d of %d photos\n", bad, multi);
        free(l73);
    }
    /* the graph of all faces with their per-face thresholds (for the mechanisms and the constraint) */
    float tmin = 1;
    for (int i = 0; i < n; i++) if (t_all[i] < tmin) tmin = t_all[i];
    sbf_graph base, g;
    lfw_lib_graph(&B, dim, tmin, &base);
    if (sbf_graph_keep_faces(&base, t_all, &g)) return 3;
    sbf_graph_free(&base);
    int64_t *cs;
    int *cc;
    if (sbf_cannot_link_same_photo(B.face_photo, n, &cs, &cc)) return 3;
    if (photos_only) {
        sbf_chinese_whispers_warm(&g, itr, co.seed, &(sbf_cw_warm_opts){.cannot_start = cs, .cannot_col = cc}, out);
        same_photo(B.face_photo, out, n, &multi, &bad);
        printf("same photo: with the same-photo cannot-link: %d of %d photos\n", bad, multi);
        return 0;
    }
    sbf_prf pw0, bc0;
    lfw_lib_score(&B, fresh, k, &pw0, &bc0);
    printf("from scratch, all photos (default rule): pairwise F %.4f, BCubed F %.4f, %d people\n", pw0.f, bc0.f, k);
    sbf_chinese_whispers_warm(&g, itr, co.seed, &(sbf_cw_warm_opts){.cannot_start = cs, .cannot_col = cc}, out);
    print_row("same-photo cannot-link", &B, out, NULL, pw0.f, bc0.f);
    printf("from scratch with other Chinese Whispers seeds (the noise of one run):");
    for (uint64_t cs_ = 1; cs_ <= 5; cs_++) {
        int kk = sbf_chinese_whispers(&g, itr, cs_, out);
        sbf_prf a, b2;
        lfw_lib_score(&B, out, kk, &a, &b2);
        printf(" %.4f/%.4f", a.f, b2.f);
    }
    printf(" (pairwise/BCubed F)\n");

    /* run 1: the old photos */
    int *oldp = lfw_xmalloc((size_t)np * sizeof *oldp), nold = 0;
    uint64_t x = seed * 0x9E3779B97F4A7C15ull;
    for (int p = 0; p < np; p++) {
        uint64_t z = (x += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        if ((double)(z >> 11) / 9007199254740992.0 >= frac) oldp[nold++] = p;
    }
    lfw_lib O;
    lfw_lib_make(&L, oldp, nold, &O);
    int *lab1 = lfw_xmalloc((size_t)(O.nfaces ? O.nfaces : 1) * sizeof *lab1);
    float *t_old = lfw_xmalloc((size_t)(O.nfaces ? O.nfaces : 1) * sizeof *t_old);
    int k1 = sbf_cluster_adaptive(O.emb, O.nfaces, dim, &co, NULL, lab1, t_old, NULL, NULL);
    /* old faces in the full library's order: both follow photo order */
    int *old_id = lfw_xmalloc((size_t)n * sizeof *old_id);
    double *dt = lfw_xmalloc((size_t)(O.nfaces ? O.nfaces : 1) * sizeof *dt);
    {
        int j = 0;
        for (int i = 0; i < n; i++) {
            old_id[i] = -1;
            if (j < O.nfaces && O.faces[j] == B.faces[i]) {
                old_id[i] = lab1[j];
                dt[j] = fabs((double)t_all[i] - t_old[j]);
                j++;
            }
        }
        if (j != O.nfaces) { fputs("eval-stable: face order mismatch\n", stderr); return 3; }
    }
    for (int a = 1; a < O.nfaces; a++) { /* sort dt */
        double v = dt[a];
        int b = a;
        while (b > 0 && dt[b - 1] > v) { dt[b] = dt[b - 1]; b--; }
        dt[b] = v;
    }
    printf("run 1: %d of %d photos (%.1f %% held back, seed %llu), %d faces, %d people; run 2 adds %d photos, %d faces\n", nold, np,
           100 * frac, seed, O.nfaces, k1, np - nold, n - O.nfaces);
    printf("per-face thresholds of run-1 faces, run 2 vs run 1: |change| median %.4f, 99th percentile %.4f, max %.4f\n", dt[O.nfaces / 2],
           dt[(int)(O.nfaces * 0.99)], dt[O.nfaces - 1]);
    printf("second sort, by mechanism (F difference against the from-scratch sort in brackets):\n");
    match_overlap(fresh, k, old_id, n, k1, out);
    print_row("fresh + overlap", &B, out, old_id, pw0.f, bc0.f);

    {
        /* the faces whose person changed re-decide, the others frozen, from their new person, with a bonus
         * for their stored person when they still have an edge to it */
        int *init = lfw_xmalloc((size_t)n * sizeof *init), *pref = lfw_xmalloc((size_t)n * sizeof *pref);
        unsigned char *fz = calloc((size_t)n, 1);
        const double st[] = {0.25, 0.5, 1.0};
        for (int si = 0; si < 3; si++) {
            for (int i = 0; i < n; i++) {
                int changed = old_id[i] >= 0 && out[i] != old_id[i];
                init[i] = out[i];
                pref[i] = changed ? old_id[i] : -1;
                fz[i] = !changed;
            }
            int *o2 = lfw_xmalloc((size_t)n * sizeof *o2);
            sbf_chinese_whispers_warm(&g, itr, co.seed, &(sbf_cw_warm_opts){.init = init, .frozen = fz, .stay = st[si], .prefer = pref}, o2);
            char name[64];
            snprintf(name, sizeof name, "fresh + overlap + keep %.2f", st[si]);
            print_row(name, &B, o2, old_id, pw0.f, bc0.f);
            free(o2);
        }
        free(pref);
        free(init); free(fz);
    }
    const double stays[] = {0, 0.5, 1.0};
    for (int s = 0; s < 3; s++) {
        char name[64];
        snprintf(name, sizeof name, "warm, stay %.1f", stays[s]);
        if (sbf_chinese_whispers_warm(&g, itr, co.seed, &(sbf_cw_warm_opts){.init = old_id, .stay = stays[s]}, out) < 0) return 3;
        print_row(name, &B, out, old_id, pw0.f, bc0.f);
        if (dump && s == 1) {
            FILE *f = fopen(dump, "w");
            int *m = lfw_xmalloc((size_t)n * sizeof *m);
            match_overlap(fresh, k, old_id, n, k1, m);
            for (int i = 0; i < n; i++)
                fprintf(f, "%d %d %d %d %d\n", B.truth[B.face_photo[i]], B.lab_face[B.face_photo[i]] == i, old_id[i], m[i], out[i]);
            fclose(f);
            free(m);
        }
    }
    unsigned char *frozen = calloc((size_t)n, 1);
    for (int i = 0; i < n; i++) frozen[i] = old_id[i] >= 0;
    sbf_chinese_whispers_warm(&g, itr, co.seed, &(sbf_cw_warm_opts){.init = old_id, .frozen = frozen}, out);
    print_row("frozen", &B, out, old_id, pw0.f, bc0.f);
    sbf_chinese_whispers_warm(&g, itr, co.seed, &(sbf_cw_warm_opts){.init = old_id, .stay = 0.5, .cannot_start = cs, .cannot_col = cc}, out);
    print_row("warm 0.5 + same-photo", &B, out, old_id, pw0.f, bc0.f);
    free(frozen);
    return 0;
}
