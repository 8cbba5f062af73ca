/* tools/eval-find.c — `find` retrieval quality on a labelled database (tools/lfw-set.h), by issue 24's
 * protocol: a library drawn from the set (default all of it), query people with 3+ photos in it, the
 * query being one (or --per-query Q) of each person's photos; the queries stay in the library and are
 * not counted.  Per query: precision = returned photos of that person / returned photos (1 when nothing
 * is returned), recall = returned photos of that person / that person's other photos; both averaged.
 * Also strangers (people with one photo): how often a query of someone with no other photo returns
 * anything (every returned photo is then wrong).
 *
 *   eval-find --db FILE [--library SPEC] [--queries N] [--per-query Q] [--strangers N] [--draws D] [--seed S]
 *             [--nn-margin M] [--expand-margin E] [--nn-when 0|1|2] [--plain-rule]
 *
 * Methods, all from one clustering of the library per draw (a query node of the library stands for the
 * query photo appended to it, as find does): "fixed 0.73" = the query's cluster at the old default
 * threshold (the first find); "adaptive cluster" = the query's cluster of the default clustering
 * (sbf_cluster_merged: the per-face thresholds and the learned merge of src/merge.h; with --plain-rule
 * sbf_cluster_adaptive, the per-face thresholds alone, as find before the merge); "retrieve" =
 * src/retrieve.h (that cluster + closest match's cluster + query expansion). */
#include "tools/lfw-set.h"
#include "src/merge.h"
#include "src/retrieve.h"

static const char *usage_text =
    "usage: eval-find --db FILE [--library SPEC] [--queries N] [--per-query Q] [--strangers N] [--draws D] [--seed S]\n"
    "                 [--nn-margin M] [--expand-margin E] [--nn-when 0|1|2] [--plain-rule]\n";

typedef struct {
    double p, r;
    int empty, n;
    double strangers_hit;
    int nstr;
} find_score;

/* returned faces -> precision/recall for one query person */
static void score_query(const lfw_lib *b, const int *faces, int nf, const int *qphotos, int nq, int person, int others,
                        double *p, double *r, int *empty) {
    char *seen = calloc((size_t)b->nphotos, 1);
    for (int q = 0; q < nq; q++) seen[qphotos[q]] = 1;
    int ret = 0, good = 0;
    for (int k = 0; k < nf; k++) {
        int ph = b->face_photo[faces[k]];
        if (seen[ph]) continue;
        seen[ph] = 1;
        ret++;
        good += b->truth[ph] == person;
    }
    free(seen);
    if (!ret) {
        *p = 1;
        *r = 0;
        *empty = 1;
        return;
    }
    *p = (double)good / ret;
    *r = (double)good / others;
    *empty = 0;
}

/* faces of the clusters of the query nodes (query nodes excluded) */
static int cluster_faces(const lfw_lib *b, const int *labels, const int *qn, int nq, int *out) {
    int nf = 0;
    for (int i = 0; i < b->nfaces; i++) {
        int hit = 0, isq = 0;
        for (int q = 0; q < nq; q++) {
            hit |= labels[i] == labels[qn[q]];
            isq |= i == qn[q];
        }
        if (hit && !isq) out[nf++] = i;
    }
    return nf;
}

int main(int argc, char **argv) {
    const char *db = NULL, *libspec = "all";
    int nqueries = 0, perq = 1, nstrangers = 600, draws = 1, plain = 0;
    unsigned long long seed = 1;
    sbf_retrieve_opts ro;
    sbf_retrieve_opts_default(&ro);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--db") && more) db = argv[++i];
        else if (!strcmp(a, "--library") && more) libspec = argv[++i];
        else if (!strcmp(a, "--queries") && more) nqueries = atoi(argv[++i]);
        else if (!strcmp(a, "--per-query") && more) perq = atoi(argv[++i]);
        else if (!strcmp(a, "--strangers") && more) nstrangers = atoi(argv[++i]);
        else if (!strcmp(a, "--draws") && more) draws = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && more) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--nn-margin") && more) ro.nn_margin = atof(argv[++i]);
        else if (!strcmp(a, "--expand-margin") && more) ro.expand_margin = atof(argv[++i]);
        else if (!strcmp(a, "--nn-when") && more) ro.nn_when = atoi(argv[++i]);
        else if (!strcmp(a, "--plain-rule")) plain = 1;
        else {
            fputs(usage_text, stderr);
            return 2;
        }
    }
    lfw_spec sp;
    if (!db || perq < 1 || perq > 2 || draws < 1 || lfw_spec_parse(libspec, &sp)) {
        fputs(usage_text, stderr);
        return 2;
    }
    lfw_set L;
    if (lfw_set_load(db, &L)) return 1;
    const int dim = L.fs.dim;
    printf("eval-find: %s; library %s, %s query people with 3+ photos, %d query photo%s each, %d strangers, nn margin "
           "%.3f (step %d), expand margin %.3f\n",
           db, libspec, nqueries ? "" : "all", perq, perq == 1 ? "" : "s", nstrangers, ro.nn_margin, ro.nn_when,
           ro.expand_margin);
    if (nqueries) printf("  (%d query people per draw)\n", nqueries);
    const char *names[3] = {"fixed 0.73 cluster (today)", "adaptive cluster", "retrieve"};
    double sp_[3] = {0}, sr_[3] = {0}, sstr[3] = {0};
    int sempty[3] = {0}, sn = 0, snstr = 0, speople = 0;
    for (int d = 0; d < draws; d++) {
        int *photos, np;
        uint64_t dseed = seed * 1000003ull + (uint64_t)d * 7919ull;
        if (lfw_draw(&L, &sp, dseed, &photos, &np)) {
            fputs("eval-find: library spec asks for too many people\n", stderr);
            return 2;
        }
        lfw_lib b;
        lfw_lib_make(&L, photos, np, &b);
        free(photos);
        int n = b.nfaces;
        int *lab73 = lfw_xmalloc((size_t)n * sizeof *lab73), *labA = lfw_xmalloc((size_t)n * sizeof *labA);
        float *t = lfw_xmalloc((size_t)n * sizeof *t);
        sbf_cluster_opts co;
        sbf_cluster_opts_default(&co);
        co.graph.threshold = 0.73;
        if (sbf_cluster(b.emb, n, dim, &co, lab73, NULL) < 0 ||
            (plain ? sbf_cluster_adaptive : sbf_cluster_merged)(b.emb, n, dim, &co, NULL, labA, t, NULL, NULL) < 0) {
            fputs("eval-find: clustering failed\n", stderr);
            return 3;
        }
        /* people of the library: photos with a labelled face, by identity */
        int *cnt = calloc((size_t)L.nid, sizeof *cnt), *all = calloc((size_t)L.nid, sizeof *all);
        for (int p = 0; p < b.nphotos; p++) {
            all[b.truth[p]]++;
            if (b.lab_face[p] >= 0) cnt[b.truth[p]]++;
        }
        int *people = lfw_xmalloc((size_t)L.nid * sizeof *people),
            *singles = lfw_xmalloc((size_t)L.nid * sizeof *singles), npeople = 0, nsingle = 0;
        for (int id = 0; id < L.nid; id++) {
            if (all[id] >= 3 && cnt[id] >= perq) people[npeople++] = id;
            if (all[id] == 1 && cnt[id] == 1) singles[nsingle++] = id;
        }
        sbf_rng r;
        sbf_rng_seed(&r, dseed ^ 0x5eedull);
        int want = nqueries && nqueries < npeople ? nqueries : npeople;
        for (int i = 0; i < want; i++) { /* partial shuffle */
            int j = i + (int)sbf_rng_below(&r, (uint32_t)(npeople - i)), x = people[i];
            people[i] = people[j];
            people[j] = x;
        }
        int wants = nstrangers < nsingle ? nstrangers : nsingle;
        for (int i = 0; i < wants; i++) {
            int j = i + (int)sbf_rng_below(&r, (uint32_t)(nsingle - i)), x = singles[i];
            singles[i] = singles[j];
            singles[j] = x;
        }
        int *faces = lfw_xmalloc((size_t)n * sizeof *faces), *cand = lfw_xmalloc((size_t)b.nphotos * sizeof *cand);
        double dp[3] = {0}, dr[3] = {0}, dstr[3] = {0};
        int dempty[3] = {0};
        for (int qi = 0; qi < want; qi++) {
            int id = people[qi], nc = 0;
            for (int p = 0; p < b.nphotos; p++)
                if (b.truth[p] == id && b.lab_face[p] >= 0) cand[nc++] = p;
            int qph[2], qn[2];
            for (int q = 0; q < perq; q++) {
                int j = q + (int)sbf_rng_below(&r, (uint32_t)(nc - q)), x = cand[q];
                cand[q] = cand[j];
                cand[j] = x;
                qph[q] = cand[q];
                qn[q] = b.lab_face[cand[q]];
            }
            int others = all[id] - perq;
            for (int m = 0; m < 3; m++) {
                double p, rr;
                int empty;
                if (m < 2) {
                    int nf = cluster_faces(&b, m == 0 ? lab73 : labA, qn, perq, faces);
                    score_query(&b, faces, nf, qph, perq, id, others, &p, &rr, &empty);
                } else {
                    sbf_retrieval res;
                    if (sbf_retrieve_nodes(b.emb, n, dim, labA, t, qn, perq, &ro, &res)) {
                        fputs("eval-find: retrieval failed\n", stderr);
                        return 3;
                    }
                    score_query(&b, res.faces, res.nfaces, qph, perq, id, others, &p, &rr, &empty);
                    sbf_retrieval_free(&res);
                }
                dp[m] += p;
                dr[m] += rr;
                dempty[m] += empty;
            }
        }
        for (int si = 0; si < wants; si++) {
            int id = singles[si], ph = -1;
            for (int p = 0; p < b.nphotos && ph < 0; p++)
                if (b.truth[p] == id) ph = p;
            int qn = b.lab_face[ph];
            for (int m = 0; m < 3; m++) {
                int nf;
                sbf_retrieval res = {0};
                if (m < 2) nf = cluster_faces(&b, m == 0 ? lab73 : labA, &qn, 1, faces);
                else {
                    if (sbf_retrieve_nodes(b.emb, n, dim, labA, t, &qn, 1, &ro, &res)) return 3;
                    nf = res.nfaces;
                }
                int other = 0;
                for (int k = 0; k < nf; k++) other |= b.face_photo[m < 2 ? faces[k] : res.faces[k]] != ph;
                dstr[m] += other;
                sbf_retrieval_free(&res);
            }
        }
        printf("draw %d: library %d people, %d photos, %d faces; %d query people, %d strangers\n", d, b.npeople,
               b.nphotos, n, want, wants);
        for (int m = 0; m < 3; m++) {
            printf("  %-28s precision %.3f recall %.3f, %3d of %d return nothing; strangers returning someone: %.3f\n",
                   names[m], dp[m] / want, dr[m] / want, dempty[m], want, wants ? dstr[m] / wants : 0);
            sp_[m] += dp[m];
            sr_[m] += dr[m];
            sempty[m] += dempty[m];
            sstr[m] += dstr[m];
        }
        fflush(stdout);
        sn += want;
        snstr += wants;
        speople += b.npeople;
        free(faces);
        free(cand);
        free(people);
        free(singles);
        free(cnt);
        free(all);
        free(lab73);
        free(labA);
        free(t);
        lfw_lib_free(&b);
    }
    if (draws > 1) {
        printf("all %d draws (%d queries, %d strangers):\n", draws, sn, snstr);
        for (int m = 0; m < 3; m++)
            printf("  %-28s precision %.3f recall %.3f, %3d of %d return nothing; strangers returning someone: %.3f\n",
                   names[m], sp_[m] / sn, sr_[m] / sn, sempty[m], sn, snstr ? sstr[m] / snstr : 0);
    }
    (void)speople;
    lfw_set_free(&L);
    return 0;
}
