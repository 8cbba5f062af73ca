/* tools/eval-threshold.c — the clustering threshold against the library: draws libraries from a
 * labelled database (tools/lfw-set.h: "K+M" = K people with 3+ photos and M with 1-2, "K@P:C+M" = K of
 * the people with P+ photos, at most C photos each; "all"), sweeps fixed thresholds, and compares the
 * best fixed threshold of each draw (max of min(pairwise F, BCubed F), labels known) with the default
 * clustering of sort (labels unknown: the per-face thresholds of src/threshold.h and the merge of src/merge.h,
 * sbf_cluster_merged; with --plain-rule the per-face thresholds alone, sbf_cluster_adaptive, the default before
 * 2026-12-06; "the rule" below is whichever of the two runs; its median threshold is printed; a negative gap
 * means it beat every fixed threshold of the sweep).
 *
 *   eval-threshold --db FILE [--specs S1,S2,...] [--draws N] [--seed S] [--sweep LO:HI:STEP]
 *                  [--show T1,T2,...] [--itr N] [--fixed T] [--list FILE] [--curves FILE] [--labels FILE] [--quiet] [--time]
 *                  [--plain-rule]
 *
 * Per draw: people, photos, faces, the best fixed T and its min F, pairwise F · BCubed F at each --show
 * threshold, and the rule's threshold, its F values and its gap to the best (best minF - rule minF).
 * --fixed T evaluates the fixed T in place of the rule (the old default as a baseline).
 * Per spec: the means over its draws (the table of issue 24) and the worst gap.
 * --list FILE writes each draw's face indices (database face order) for offline analysis, --curves FILE
 * each draw's sweep ("T:pairwiseF:BCubedF" per step), --labels FILE the face labels at each step.
 * --time: per draw, the clustering time with the rule alone and with the merge against the fixed 0.73 (best of 3,
 * same run).
 * Per spec with 2+ draws, a reference that knows the labels and the library's size: the one fixed T that
 * brings the most of its draws within 0.005 of their best (chosen on these same draws), and the same
 * chosen for each draw on the spec's other draws (leave-one-out): how far a threshold that depends on
 * the size alone can get. */
#include "tools/lfw-set.h"
#include "src/merge.h"
#include "src/util.h"

static const char *usage_text =
    "usage: eval-threshold --db FILE [--specs S1,S2,...] [--draws N] [--seed S] [--sweep LO:HI:STEP] [--show "
    "T1,T2,...] [--itr N]\n"
    "                      [--fixed T] [--list FILE] [--curves FILE] [--labels FILE] [--quiet] [--time] "
    "[--plain-rule]\n";

#define MAXT 256

/* The sweep step whose fixed T brings the most draws (all but draw skip; -1: all) within 0.005 of their best
 * (minf: each draw's min(pairwise F, BCubed F) per step, dbest: each draw's best); among equals the first, or with
 * by_mean the one of highest mean. */
static int best_fixed(const double *minf, const double *dbest, int nd, int nsweep, int skip, int by_mean) {
    int bs = 0, bcount = -1;
    double bm = -1;
    for (int s = 0; s < nsweep; s++) {
        int c = 0;
        double msum = 0;
        for (int d = 0; d < nd; d++)
            if (d != skip) {
                c += minf[(size_t)d * nsweep + s] >= dbest[d] - 0.005;
                msum += minf[(size_t)d * nsweep + s];
            }
        if (c > bcount || (by_mean && c == bcount && msum > bm + 1e-12)) {
            bcount = c;
            bm = msum;
            bs = s;
        }
    }
    return bs;
}

int main(int argc, char **argv) {
    const char *db = NULL, *specs = "15+100,40+300,150+1000", *show_s = "0.60,0.65,0.70,0.73,0.76", *list = NULL,
               *curves = NULL, *labels = NULL;
    double lo = 0.50, hi = 0.85, step = 0.01, fixed = -2;
    int draws = 3, itr = SBF_DEFAULT_ITERATIONS, quiet = 0, timeit = 0, plain = 0;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--db") && more) db = argv[++i];
        else if (!strcmp(a, "--specs") && more) specs = argv[++i];
        else if (!strcmp(a, "--draws") && more) draws = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && more) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--sweep") && more) {
            if (sscanf(argv[++i], "%lf:%lf:%lf", &lo, &hi, &step) != 3 || step <= 0 || hi < lo) {
                fputs(usage_text, stderr);
                return 2;
            }
        } else if (!strcmp(a, "--show") && more) show_s = argv[++i];
        else if (!strcmp(a, "--itr") && more) itr = atoi(argv[++i]);
        else if (!strcmp(a, "--fixed") && more) fixed = atof(argv[++i]);
        else if (!strcmp(a, "--list") && more) list = argv[++i];
        else if (!strcmp(a, "--curves") && more) curves = argv[++i];
        else if (!strcmp(a, "--labels") && more) labels = argv[++i];
        else if (!strcmp(a, "--quiet")) quiet = 1;
        else if (!strcmp(a, "--time")) timeit = 1;
        else if (!strcmp(a, "--plain-rule")) plain = 1;
        else {
            fputs(usage_text, stderr);
            return 2;
        }
    }
    if (!db || draws < 1) {
        fputs(usage_text, stderr);
        return 2;
    }
    double show[16];
    int nshow = 0;
    for (const char *s = show_s; *s && nshow < 16;) {
        char *e;
        show[nshow++] = strtod(s, &e);
        if (e == s) {
            fputs(usage_text, stderr);
            return 2;
        }
        s = *e == ',' ? e + 1 : e;
    }
    int nsweep = (int)floor((hi - lo) / step + 1e-9) + 1;
    if (nsweep > MAXT) {
        fputs("eval-threshold: too many sweep steps\n", stderr);
        return 2;
    }
    double glo = lo;
    for (int i = 0; i < nshow; i++)
        if (show[i] < glo) glo = show[i];
    if (fixed > -2 && fixed < glo) glo = fixed;

    lfw_set L;
    if (lfw_set_load(db, &L)) return 1;
    const int dim = L.fs.dim;
    FILE *lf = list ? fopen(list, "w") : NULL;
    if (list && !lf) {
        perror(list);
        return 1;
    }
    FILE *cf = curves ? fopen(curves, "w") : NULL;
    if (curves && !cf) {
        perror(curves);
        return 1;
    }
    FILE *labf = labels ? fopen(labels, "w") : NULL;
    if (labels && !labf) {
        perror(labels);
        return 1;
    }
    printf("eval-threshold: %s: %d photos of %d identities, %d faces; sweep %.2f:%.2f:%.3f, %d iterations, %d draws "
           "per spec\n",
           db, L.fs.nphotos, L.nid, L.fs.nfaces, lo, hi, step, itr, draws);
    printf("%-12s %4s %6s %6s %6s %6s %7s", "spec", "draw", "people", "photos", "faces", "bestT", "bestMin");
    for (int i = 0; i < nshow; i++) printf("  T%.2f pwF  bcF ", show[i]);
    printf(" %6s %7s %7s %7s %7s  reason\n", fixed > -2 ? "fixT" : "ruleTm", "pwF", "bcF", "minF", "gap");

    char specbuf[4096];
    snprintf(specbuf, sizeof specbuf, "%s", specs);
    for (char *sv, *spec = strtok_r(specbuf, ",", &sv); spec; spec = strtok_r(NULL, ",", &sv)) {
        lfw_spec sp;
        if (lfw_spec_parse(spec, &sp)) {
            fprintf(stderr, "eval-threshold: bad spec '%s'\n", spec);
            return 2;
        }
        double msum_pw[16] = {0}, msum_bc[16] = {0}, mbest = 0, mbestT = 0, mrule_pw = 0, mrule_bc = 0, mrule_t = 0,
               worst = -1, mfaces = 0;
        int nd = sp.all ? 1 : draws, done = 0, within = 0;
        double *minf = lfw_xmalloc((size_t)nd * nsweep * sizeof *minf),
               *dbest = lfw_xmalloc((size_t)nd * sizeof *dbest);
        for (int d = 0; d < nd; d++) {
            uint64_t dseed = lfw_draw_seed(seed, d, spec);
            int *photos, np;
            if (lfw_draw(&L, &sp, dseed, &photos, &np)) {
                fprintf(stderr, "eval-threshold: spec '%s' asks for more people than the set has\n", spec);
                return 2;
            }
            lfw_lib b;
            lfw_lib_make(&L, photos, np, &b);
            free(photos);
            if (lf) {
                fprintf(lf, "%s %d", spec, d);
                for (int f = 0; f < b.nfaces; f++) fprintf(lf, " %d", b.faces[f]);
                fputc('\n', lf);
            }
            sbf_graph base;
            lfw_lib_graph(&b, dim, glo, &base);
            double best = -1, bestT = lo;
            int *labs = labf ? lfw_xmalloc((size_t)b.nfaces * sizeof *labs) : NULL;
            if (cf) fprintf(cf, "%s %d", spec, d);
            for (int s = 0; s < nsweep; s++) {
                double t = lo + s * step;
                sbf_prf pw, bc;
                lfw_lib_eval_t(&b, &base, t, itr, SBF_DEFAULT_SEED, &pw, &bc, NULL, labf ? labs : NULL);
                if (labf) {
                    fprintf(labf, "%s %d %.4f", spec, d, t);
                    for (int f = 0; f < b.nfaces; f++) fprintf(labf, " %d", labs[f]);
                    fputc('\n', labf);
                }
                double m = fmin(pw.f, bc.f);
                minf[(size_t)d * nsweep + s] = m;
                if (cf) fprintf(cf, " %.4f:%.5f:%.5f", t, pw.f, bc.f);
                if (m > best + 1e-12) {
                    best = m;
                    bestT = t;
                }
            }
            if (cf) fputc('\n', cf);
            dbest[d] = best;
            free(labs);
            double spw[16], sbc[16];
            for (int i = 0; i < nshow; i++) {
                sbf_prf pw, bc;
                lfw_lib_eval_t(&b, &base, show[i], itr, SBF_DEFAULT_SEED, &pw, &bc, NULL, NULL);
                spw[i] = pw.f;
                sbc[i] = bc.f;
                msum_pw[i] += pw.f;
                msum_bc[i] += bc.f;
            }
            double rt;
            char reason[400] = "fixed";
            sbf_prf rpw, rbc;
            if (fixed > -2) {
                rt = fixed;
                if (rt < glo) { /* outside the base graph: rebuild */
                    sbf_graph g2;
                    lfw_lib_graph(&b, dim, rt, &g2);
                    lfw_lib_eval_t(&b, &g2, rt, itr, SBF_DEFAULT_SEED, &rpw, &rbc, NULL, NULL);
                    sbf_graph_free(&g2);
                } else lfw_lib_eval_t(&b, &base, rt, itr, SBF_DEFAULT_SEED, &rpw, &rbc, NULL, NULL);
            } else {
                sbf_cluster_opts co;
                sbf_cluster_opts_default(&co);
                co.iterations = itr;
                sbf_threshold_info ti;
                int *labs2 = lfw_xmalloc((size_t)(b.nfaces ? b.nfaces : 1) * sizeof *labs2);
                int k = (plain ? sbf_cluster_adaptive : sbf_cluster_merged)(b.emb, b.nfaces, dim, &co, NULL, labs2,
                                                                            NULL, NULL, &ti);
                if (k < 0) {
                    fputs("eval-threshold: rule failed\n", stderr);
                    return 3;
                }
                lfw_lib_score(&b, labs2, k, &rpw, &rbc);
                free(labs2);
                rt = ti.median;
                snprintf(reason, sizeof reason, "%s", ti.reason);
            }
            double rm = fmin(rpw.f, rbc.f), gap = best - rm;
            if (fixed > -2 && rm > best) {
                best = rm;
                bestT = rt;
                gap = 0;
            } /* a fixed T may lie between sweep steps */
            if (!quiet) {
                printf("%-12s %4d %6d %6d %6d %6.3f %7.4f", spec, d, b.npeople, b.nphotos, b.nfaces, bestT, best);
                for (int i = 0; i < nshow; i++) printf("  %7.4f %7.4f", spw[i], sbc[i]);
                printf(" %6.3f %7.4f %7.4f %7.4f %7.4f  %s\n", rt, rpw.f, rbc.f, rm, gap, reason);
                fflush(stdout);
            }
            if (timeit) { /* the rule's cost against the fixed threshold's, same run, best of 3 */
                sbf_cluster_opts co;
                sbf_cluster_opts_default(&co);
                int *lt = lfw_xmalloc((size_t)(b.nfaces ? b.nfaces : 1) * sizeof *lt);
                double tf = 1e9, ta = 1e9, tthr = 1e9, tm = 1e9;
                for (int rep = 0; rep < 3; rep++) {
                    double t0 = sbf_now();
                    sbf_cluster(b.emb, b.nfaces, dim, &co, lt, NULL);
                    double t1 = sbf_now();
                    sbf_cluster_adaptive(b.emb, b.nfaces, dim, &co, NULL, lt, NULL, NULL, NULL);
                    double t2 = sbf_now();
                    float *tt = lfw_xmalloc((size_t)(b.nfaces ? b.nfaces : 1) * sizeof *tt);
                    sbf_threshold_faces(b.emb, b.nfaces, dim, NULL, tt, NULL);
                    double t3 = sbf_now();
                    free(tt);
                    sbf_cluster_merged(b.emb, b.nfaces, dim, &co, NULL, lt, NULL, NULL, NULL);
                    double t4 = sbf_now();
                    if (t1 - t0 < tf) tf = t1 - t0;
                    if (t2 - t1 < ta) ta = t2 - t1;
                    if (t3 - t2 < tthr) tthr = t3 - t2;
                    if (t4 - t3 < tm) tm = t4 - t3;
                }
                printf("time %s draw %d (%d faces): fixed 0.73 clustering %.3f s, per-face rule clustering %.3f s "
                       "(%.2fx), of which the thresholds %.3f s; with the merge %.3f s (%.2fx)\n",
                       spec, d, b.nfaces, tf, ta, ta / tf, tthr, tm, tm / tf);
                free(lt);
            }
            mbest += best;
            mbestT += bestT;
            mrule_pw += rpw.f;
            mrule_bc += rbc.f;
            mrule_t += rt;
            mfaces += b.nfaces;
            if (gap > worst) worst = gap;
            within += gap <= 0.005;
            done++;
            sbf_graph_free(&base);
            lfw_lib_free(&b);
        }
        printf("mean %-7s %4d %6s %6s %6.0f %6.3f %7.4f", spec, done, "", "", mfaces / done, mbestT / done,
               mbest / done);
        for (int i = 0; i < nshow; i++) printf("  %7.4f %7.4f", msum_pw[i] / done, msum_bc[i] / done);
        printf(" %6.3f %7.4f %7.4f %7.4f %7.4f  worst gap %.4f, %d/%d draws within 0.005\n", mrule_t / done,
               mrule_pw / done, mrule_bc / done, fmin(mrule_pw, mrule_bc) / done,
               mbest / done - fmin(mrule_pw, mrule_bc) / done, worst, within, done);
        if (nd > 1) {
            int in_s = best_fixed(minf, dbest, nd, nsweep, -1, 0), in_best = 0, loo = 0;
            for (int d = 0; d < nd; d++) in_best += minf[(size_t)d * nsweep + in_s] >= dbest[d] - 0.005;
            for (int h = 0; h < nd; h++) /* T chosen on the other draws: most within, then highest mean */
                loo += minf[(size_t)h * nsweep + best_fixed(minf, dbest, nd, nsweep, h, 1)] >= dbest[h] - 0.005;
            printf("reference %-7s labels and size known: fixed T %.2f brings %d/%d draws within 0.005; chosen on "
                   "the other draws: %d/%d\n",
                   spec, lo + in_s * step, in_best, nd, loo, nd);
        }
        free(minf);
        free(dbest);
        fflush(stdout);
    }
    if (lf) fclose(lf);
    if (cf) fclose(cf);
    if (labf) fclose(labf);
    lfw_set_free(&L);
    return 0;
}
