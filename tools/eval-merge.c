/* tools/eval-merge.c — fits and measures the learned merge of clusters of src/merge.h (the second stage of
 * the default clustering of sort and find).  The rule of src/threshold.h is run with every face's threshold
 * raised by --shift, then its clusters are joined greedily (sbf_merge_greedy), the pair of highest score
 * first, while the score passes a cut.  The score is a logistic regression over the features of
 * sbf_merge_features, fitted on labelled draws (--train-seeds): first on the pairs of the start clustering,
 * then (--dagger N times) also on the pairs the greedy merge itself meets; the model is printed as the C
 * initialiser of sbf_merge_default.  With --model default it is not fitted: the program's own is measured.
 * Test draws (--test-seeds) are then clustered with it and compared, like tools/eval-threshold, with the
 * best fixed threshold of the draw (labels known) and with the rule.  Draws are those of eval-threshold
 * (same spec, seed and draw index, same photos).  The graph holds the similarities of at least
 * SBF_MERGE_CMIN; candidates are the pairs of clusters with one of at least --cmin (not below it).
 *
 *   eval-merge --db FILE [--specs S1,...] [--train-seeds LO-HI] [--test-seeds S1,...] [--draws N]
 *              [--shift D] [--cmin C] [--cuts C1,...] [--dagger N] [--max-people P] [--all] [--quiet]
 *              [--rule-features] [--model default]
 *
 * --rule-features adds two features (x12, x13 of src/merge.h: the unshifted rule's verdict on the pairs). */
#include "tools/lfw-set.h"
#include "src/merge.h"

#define NF SBF_MERGE_NX

static const char *usage_text =
    "usage: eval-merge --db FILE [--specs S1,...] [--train-seeds LO-HI] [--test-seeds S1,...] [--draws N]\n"
    "                  [--shift D] [--cmin C] [--cuts C1,...] [--dagger N] [--max-people P] [--all] [--quiet]\n"
    "                  [--rule-features] [--model default]\n";

/* ---- a library and its clusters ---- */
typedef struct {
    lfw_lib b;
    sbf_graph g; /* at SBF_MERGE_CMIN */
    int n, dim;
    float *t0;   /* [n] the rule's own threshold of each face (unshifted) */
    int *fid;    /* [n] identity of a labelled face, -1 */
    int *ids;    /* scratch [n] */
    sbf_merge m; /* the clustering */
} mlib;

static double cmin = SBF_MERGE_CMIN; /* candidates: a similarity of at least this */

/* (Re)starts the clustering: the rule with every face's threshold raised by shift. */
static void mlib_start(mlib *m, double shift) {
    int n = m->n;
    sbf_merge_free(&m->m);
    int *lab = lfw_xmalloc(((size_t)n + 1) * sizeof *lab);
    sbf_graph kept;
    if (sbf_merge_raised_graph(&m->g, m->t0, shift, &kept)) exit(3);
    if ((n && sbf_chinese_whispers(&kept, SBF_DEFAULT_ITERATIONS, SBF_DEFAULT_SEED, lab) < 0) ||
        sbf_merge_init(&m->m, &m->g, m->b.emb, n, m->dim, m->t0, lab, n))
        exit(3);
    sbf_graph_free(&kept);
    free(lab);
}

/* A drawn library, its graph, the rule's thresholds; no clustering yet. */
static void mlib_make(mlib *m, const lfw_set *L, const char *spec, uint64_t dseed) {
    lfw_spec sp;
    int *photos, np;
    memset(m, 0, sizeof *m);
    if (lfw_spec_parse(spec, &sp) || lfw_draw(L, &sp, dseed, &photos, &np)) {
        fprintf(stderr, "eval-merge: bad spec '%s' (or more people than the set has)\n", spec);
        exit(2);
    }
    lfw_lib_make(L, photos, np, &m->b);
    free(photos);
    m->n = m->b.nfaces;
    m->dim = L->fs.dim;
    lfw_lib_graph(&m->b, m->dim, SBF_MERGE_CMIN, &m->g);
    m->fid = lfw_xmalloc(((size_t)m->n + 1) * sizeof *m->fid);
    for (int f = 0; f < m->n; f++) m->fid[f] = -1;
    for (int p = 0; p < m->b.nphotos; p++)
        if (m->b.lab_face[p] >= 0) m->fid[m->b.lab_face[p]] = m->b.truth[p];
    m->t0 = lfw_xmalloc(((size_t)m->n + 1) * sizeof *m->t0);
    if (sbf_threshold_faces(m->b.emb, m->n, m->dim, NULL, m->t0, NULL)) exit(3);
    m->ids = lfw_xmalloc(((size_t)m->n + 1) * sizeof *m->ids);
}

static void mlib_free(mlib *m) {
    sbf_merge_free(&m->m);
    free(m->t0), free(m->fid), free(m->ids);
    sbf_graph_free(&m->g);
    lfw_lib_free(&m->b);
}

/* Features of (a, b) for the merge with candidates from cmin; 0 when no candidate. */
static int pair_features(const mlib *m, int a, int b, double *x) {
    return sbf_merge_features(&m->m, a, b, x) && x[1] >= cmin;
}

static int allow_cmin(void *ctx, const sbf_merge *sm, int a, int b) {
    double x[NF];
    (void)ctx;
    return cmin <= SBF_MERGE_CMIN || (sbf_merge_features(sm, a, b, x) && x[1] >= cmin);
}

static int majority(mlib *m, int c) { /* the identity most of c's labelled faces have, -1 when none */
    int nn = 0, best = -1, bn = 0;
    for (int f = m->m.head[c]; f >= 0; f = m->m.next[f])
        if (m->fid[f] >= 0) m->ids[nn++] = m->fid[f];
    qsort(m->ids, (size_t)nn, sizeof *m->ids, lfw_cmp_int);
    for (int i = 0, run = 0; i < nn; i++) {
        run = i && m->ids[i] == m->ids[i - 1] ? run + 1 : 1;
        if (run > bn) bn = run, best = m->ids[i];
    }
    return best;
}

typedef struct {
    double *x, *y;
    size_t n, cap;
    mlib *lib; /* the library the samples are taken from now */
} samples;

static void add_sample(samples *S, mlib *m, int a, int b) {
    double x[NF];
    int ia = majority(m, a), ib = majority(m, b);
    if (ia < 0 || ib < 0 || !pair_features(m, a, b, x)) return;
    if (S->n == S->cap) {
        S->cap = S->cap ? 2 * S->cap : 4096;
        S->x = realloc(S->x, S->cap * NF * sizeof *S->x);
        S->y = realloc(S->y, S->cap * sizeof *S->y);
        if (!S->x || !S->y) exit(3);
    }
    memcpy(S->x + S->n * NF, x, sizeof x);
    S->y[S->n++] = ia == ib;
}

static void seen_sample(void *ctx, const sbf_merge *sm, int a, int b) {
    samples *S = ctx;
    (void)sm;
    add_sample(S, S->lib, a, b);
}

/* Greedy merging while the best candidate's score is at least cut (with S, training: the best three
 * candidates of each step, down to cut - 2, are recorded with their truth).  Returns the merges made. */
static int greedy(mlib *m, const sbf_merge_model *md, double cut, samples *S) {
    if (S) S->lib = m;
    int r = sbf_merge_greedy(&m->m, md, cut, allow_cmin, S ? seen_sample : NULL, S);
    if (r < 0) exit(3);
    return r;
}

static void fit(sbf_merge_model *md, const samples *S, int restandardise) {
    size_t n = S->n;
    int nf = md->nf;
    if (restandardise) {
        memset(md->beta, 0, sizeof md->beta);
        for (int f = 0; f < nf; f++) {
            double s = 0, v = 0;
            for (size_t r = 0; r < n; r++) s += S->x[r * NF + f];
            md->mu[f] = s / n;
            for (size_t r = 0; r < n; r++) v += (S->x[r * NF + f] - md->mu[f]) * (S->x[r * NF + f] - md->mu[f]);
            md->sd[f] = sqrt(v / n) + 1e-9;
        }
    }
    for (int it = 0; it < 3000; it++) { /* gradient descent on the mean log-loss, a small L2 on the slopes */
        double g[NF] = {0};
        for (size_t r = 0; r < n; r++) {
            const double *x = S->x + r * NF;
            double e = 1 / (1 + exp(-sbf_merge_score(md, x))) - S->y[r];
            g[0] += e;
            for (int f = 1; f < nf; f++) g[f] += e * (x[f] - md->mu[f]) / md->sd[f];
        }
        for (int f = 0; f < nf; f++) md->beta[f] -= 0.5 * (g[f] / n + (f ? 1e-4 * md->beta[f] : 0));
    }
}

static void print_model(const sbf_merge_model *md) {
    const double *v[3] = {md->beta, md->mu, md->sd};
    const char *nm[3] = {"beta", "mu", "sd"};
    printf("model (src/merge.c):\nconst sbf_merge_model sbf_merge_default = {\n    .nf = %d,\n", md->nf);
    for (int k = 0; k < 3; k++) {
        printf("    .%s = {", nm[k]);
        for (int f = 0; f < md->nf; f++) printf("%s%.17g", f ? ", " : "", v[k][f]);
        printf("},\n");
    }
    printf("};\n");
}

static double score_labels(mlib *m, double *pwf, double *bcf) {
    int *map = lfw_xmalloc(((size_t)m->n + 1) * sizeof *map), *lab = lfw_xmalloc(((size_t)m->n + 1) * sizeof *lab),
        k = 0;
    for (int c = 0; c < m->n; c++) map[c] = -1;
    for (int f = 0; f < m->n; f++) {
        if (map[m->m.lab[f]] < 0) map[m->m.lab[f]] = k++;
        lab[f] = map[m->m.lab[f]];
    }
    sbf_prf pw, bc;
    lfw_lib_score(&m->b, lab, k, &pw, &bc);
    free(map);
    free(lab);
    *pwf = pw.f, *bcf = bc.f;
    return fmin(pw.f, bc.f);
}

int main(int argc, char **argv) {
    const char *db = NULL,
               *specs = "5+15,8+30,15+100,25+200,40+300,4@20+20,6@20+100,8@15+300,10@30:40+200,5@10:10+50,"
                        "20@10:15+200,40@3:4+300,3@50+40,2@100:100+30,80+600,150+1000",
               *test_s = "1,2,6,7,8", *cuts_s = "0,0.25";
    int tlo = 3, thi = 5, draws = 6, dagger = 2, max_people = 400, all = 0, quiet = 0, nf = SBF_MERGE_NF, given = 0;
    double shift = SBF_MERGE_SHIFT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--db") && more) db = argv[++i];
        else if (!strcmp(a, "--specs") && more) specs = argv[++i];
        else if (!strcmp(a, "--train-seeds") && more && sscanf(argv[i + 1], "%d-%d", &tlo, &thi) == 2) i++;
        else if (!strcmp(a, "--test-seeds") && more) test_s = argv[++i];
        else if (!strcmp(a, "--draws") && more) draws = atoi(argv[++i]);
        else if (!strcmp(a, "--shift") && more) shift = atof(argv[++i]);
        else if (!strcmp(a, "--cmin") && more) cmin = atof(argv[++i]);
        else if (!strcmp(a, "--cuts") && more) cuts_s = argv[++i];
        else if (!strcmp(a, "--dagger") && more) dagger = atoi(argv[++i]);
        else if (!strcmp(a, "--max-people") && more) max_people = atoi(argv[++i]);
        else if (!strcmp(a, "--all")) all = 1;
        else if (!strcmp(a, "--rule-features")) nf = SBF_MERGE_NX;
        else if (!strcmp(a, "--model") && more && !strcmp(argv[i + 1], "default")) given = 1, i++;
        else if (!strcmp(a, "--quiet")) quiet = 1;
        else {
            fputs(usage_text, stderr);
            return 2;
        }
    }
    double cuts[8];
    int ncut = 0;
    for (const char *s = cuts_s; *s && ncut < 8;) {
        char *e;
        cuts[ncut++] = strtod(s, &e);
        if (e == s) break;
        s = *e == ',' ? e + 1 : e;
    }
    if (!db || draws < 1 || !ncut || tlo > thi || cmin < SBF_MERGE_CMIN) {
        fputs(usage_text, stderr);
        return 2;
    }
    lfw_set L;
    if (lfw_set_load(db, &L)) return 1;
    char sb[4096];

    /* training */
    samples S = {0};
    sbf_merge_model md;
    memset(&md, 0, sizeof md);
    md.nf = nf;
    if (given) md = sbf_merge_default, dagger = -1;
    for (int round = 0; round <= dagger; round++) {
        size_t before = S.n;
        for (int seed = tlo; seed <= thi; seed++) {
            snprintf(sb, sizeof sb, "%s", specs);
            for (char *sv, *spec = strtok_r(sb, ",", &sv); spec; spec = strtok_r(NULL, ",", &sv))
                for (int d = 0; d < draws; d++) {
                    mlib m;
                    mlib_make(&m, &L, spec, lfw_draw_seed((unsigned long long)seed, d, spec));
                    mlib_start(&m, shift);
                    if (!round)
                        for (int a = 0; a < m.n; a++)
                            for (int i = 0, nn = m.m.sz[a] ? sbf_merge_neighbours(&m.m, a, 1) : 0; i < nn; i++)
                                add_sample(&S, &m, a, m.m.nbr[i]);
                    else greedy(&m, &md, cuts[0], &S);
                    mlib_free(&m);
                }
        }
        fit(&md, &S, round == 0);
        printf("fit %d (%s): %zu pairs of clusters, %zu new; coefficients (standardised):", round,
               round ? "with the pairs the merge meets" : "the start clustering's pairs", S.n, S.n - before);
        for (int f = 0; f < nf; f++) printf(" %.3f", md.beta[f]);
        printf("\n");
        fflush(stdout);
    }
    if (given) printf("the program's model (sbf_merge_default), not fitted\n");
    else print_model(&md);

    /* test: within 0.005 of the best fixed threshold (sweep 0.55:0.80:0.01), the rule against the merge */
    int tot = 0, hit_rule = 0, hit[8] = {0};
    double worst_rule = -1, worst[8];
    for (int z = 0; z < ncut; z++) worst[z] = -1;
    char tb[256];
    snprintf(tb, sizeof tb, "%s", test_s);
    for (char *sv1, *st = strtok_r(tb, ",", &sv1); st; st = strtok_r(NULL, ",", &sv1)) {
        unsigned long long seed = strtoull(st, NULL, 10);
        snprintf(sb, sizeof sb, "%s", specs);
        for (char *sv, *spec = strtok_r(sb, ",", &sv); spec; spec = strtok_r(NULL, ",", &sv)) {
            int sh = 0, sr = 0, sn = 0;
            for (int d = 0; d < draws; d++) {
                mlib m;
                uint64_t ds = lfw_draw_seed(seed, d, spec);
                mlib_make(&m, &L, spec, ds);
                double best = -1, bestT = 0, rpw, rbc;
                for (int s = 0; s <= 25; s++) {
                    sbf_prf pw, bc;
                    lfw_lib_eval_t(&m.b, &m.g, 0.55 + 0.01 * s, SBF_DEFAULT_ITERATIONS, SBF_DEFAULT_SEED, &pw, &bc,
                                   NULL, NULL);
                    if (fmin(pw.f, bc.f) > best + 1e-12) best = fmin(pw.f, bc.f), bestT = 0.55 + 0.01 * s;
                }
                mlib_start(&m, 0);
                double rule = score_labels(&m, &rpw, &rbc);
                int counted = m.b.npeople <= max_people;
                if (!quiet)
                    printf("%-14s s%llu d%d people %4d faces %5d best %.4f@%.2f rule %.4f", spec, seed, d, m.b.npeople,
                           m.n, best, bestT, rule);
                if (counted) {
                    tot++, sn++;
                    hit_rule += best - rule <= 0.005, sr += best - rule <= 0.005;
                    if (best - rule > worst_rule) worst_rule = best - rule;
                }
                for (int z = 0; z < ncut; z++) {
                    mlib_start(&m, shift);
                    int merges = greedy(&m, &md, cuts[z], NULL);
                    double pw, bc, v = score_labels(&m, &pw, &bc);
                    if (!quiet) printf(" | cut %+.2f: %d merges %.4f", cuts[z], merges, v);
                    if (counted) {
                        hit[z] += best - v <= 0.005;
                        if (!z) sh += best - v <= 0.005;
                        if (best - v > worst[z]) worst[z] = best - v;
                    }
                }
                if (!quiet) printf("\n");
                mlib_free(&m);
            }
            if (sn)
                printf("spec %-14s seed %llu: within 0.005, the rule %d/%d, the merge (cut %+.2f) %d/%d\n", spec, seed,
                       sr, sn, cuts[0], sh, sn);
            fflush(stdout);
        }
    }
    printf("test draws with at most %d people: %d; within 0.005 of the best fixed T: the rule %d (worst gap %.4f)",
           max_people, tot, hit_rule, worst_rule);
    for (int z = 0; z < ncut; z++) printf("; the merge at cut %+.2f %d (worst %.4f)", cuts[z], hit[z], worst[z]);
    printf("\n");
    if (all) {
        mlib r;
        double pw, bc;
        mlib_make(&r, &L, "all", 1);
        mlib_start(&r, 0);
        score_labels(&r, &pw, &bc);
        printf("all of the set (%d faces, graph at %.2f %s): the rule pairwise F %.4f BCubed F %.4f\n", r.n,
               SBF_MERGE_CMIN, r.g.capped ? "capped" : "exact", pw, bc);
        for (int z = 0; z < ncut; z++) {
            mlib_start(&r, shift);
            int merges = greedy(&r, &md, cuts[z], NULL);
            score_labels(&r, &pw, &bc);
            printf("all of the set: the merge at cut %+.2f (%d merges) pairwise F %.4f BCubed F %.4f\n", cuts[z],
                   merges, pw, bc);
        }
        if (given) { /* the program's own call (sort's fresh clustering, find's) agrees */
            sbf_cluster_opts co;
            sbf_cluster_opts_default(&co);
            int *lab = lfw_xmalloc(((size_t)r.n + 1) * sizeof *lab), k;
            if ((k = sbf_cluster_merged(r.b.emb, r.n, r.dim, &co, NULL, lab, NULL, NULL, NULL)) < 0) return 3;
            sbf_prf p1, p2;
            lfw_lib_score(&r.b, lab, k, &p1, &p2);
            printf("all of the set: sbf_cluster_merged pairwise F %.4f BCubed F %.4f\n", p1.f, p2.f);
            free(lab);
        }
        mlib_free(&r);
    }
    free(S.x);
    free(S.y);
    lfw_set_free(&L);
    return 0;
}
