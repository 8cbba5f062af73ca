/* tools/eval-people.c — people that last across runs (issue 19), measured on a labelled photo folder
 * (one sub-folder per person, e.g. ../shared/data/lfw-dev) from a database written by 'sortbyface embed'.
 *
 *   eval-people --db FILE [--splits K] [--new PCT] [-t T] [--stick S,S,...] [--nights N] [--t2 T] [--threads N]
 *   eval-people --db FILE --same-photo      (how often two faces of one photo share a cluster)
 *   eval-people --db FILE --min-faces       (folders and Unknown/ for --min-faces 1..6)
 *
 * Stability: for each of K random splits (seeded), sort (100 - PCT) % of the photos from scratch, then all of
 * them with each mechanism, and report the share of the first run's faces whose person changed, and
 * pairwise / BCubed F against the identities of the final result and of a from-scratch sort of everything
 * (sbf_people_update with fresh = 1; the same code as 'sortbyface sort').  Mechanisms:
 *   warm S  Chinese Whispers warm-started from the stored people (stick S: extra weight of a face's stored
 *           person; the library's mechanism, src/people.c)
 *   match   a fresh clustering; each stored person's number goes to the cluster sharing most of its faces
 *   frozen  stored faces keep their person (clamped), only new faces move
 * --nights N: N runs each adding PCT / N % of the photos (the nightly flow), the changed share accumulated.
 * --t2 T: the later runs use threshold T (as a threshold rule that moves with the library size would).
 * --no-split: warm runs without the split by a fresh clustering (src/people.h; the warm start before it).
 * --seed-per-split: split K clusters (its from-scratch sort and its runs alike) with Chinese Whispers seed
 *         SBF_DEFAULT_SEED + K instead of the default seed for all: the from-scratch figure becomes a mean over
 *         seeds too (one clustering of everything is itself one draw of the random visiting order).
 * --rule: every run uses the per-face thresholds of src/threshold.h instead of -t (as 'sort' does by default;
 *         issue 24), the from-scratch sort too.
 * Labels and scoring as tools/eval-lfw.c: the face nearest the image centre carries the photo's label;
 * a photo without a face is a cluster of its own. */
#include "src/cluster.h"
#include "src/metrics.h"
#include "src/people.h"
#include "src/store.h"
#include "src/util.h"
#include "tools/lfw-set.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage_text =
    "usage: eval-people --db FILE [--splits K] [--new PCT] [-t T] [--stick S,S,...] [--nights N] "
    "[--t2 T] [--rule] [--no-split] [--seed-per-split] [--threads N] [--same-photo] [--min-faces]\n";

/* The photos with keep[p] of fs, as a face set of their own (fmap[i]: the face of fs that face i is). */
static int subset(const sbf_faceset *fs, const char *keep, sbf_faceset *out, int *fmap) {
    int np = 0, nf = 0;
    for (int p = 0; p < fs->nphotos; p++)
        if (keep[p]) {
            np++;
            nf += fs->photos[p].nfaces;
        }
    if (sbf_faceset_alloc(out, np, nf, fs->dim)) return -1;
    int q = 0, f = 0;
    for (int p = 0; p < fs->nphotos; p++) {
        if (!keep[p]) continue;
        const sbf_photo *a = &fs->photos[p];
        sbf_photo *b = &out->photos[q];
        *b = *a;
        b->path = strdup(a->path);
        b->stored = a->stored ? strdup(a->stored) : NULL;
        b->first_face = f;
        for (int k = 0; k < a->nfaces; k++, f++) {
            int s = a->first_face + k;
            fmap[f] = s;
            out->face_photo[f] = q;
            out->face_index[f] = fs->face_index[s];
            out->boxes[f] = fs->boxes[s];
            memcpy(out->emb + (size_t)f * fs->dim, fs->emb + (size_t)s * fs->dim, (size_t)fs->dim * sizeof *out->emb);
        }
        q++;
    }
    return 0;
}

typedef struct {
    const sbf_faceset *fs;
    int *photo_id, *photo_face; /* identity of each photo; its labelled face (-1 none) */
    int nid;
} truth;

/* Pairwise and BCubed F of face labels person[] (over fs's faces) against the identities. */
static void score(const truth *t, const uint32_t *person, sbf_prf *pw, sbf_prf *bc, int *nclusters) {
    int np = t->fs->nphotos;
    int *pred = malloc((size_t)np * sizeof *pred);
    uint32_t mx = 0;
    for (int i = 0; i < t->fs->nfaces; i++) mx = person[i] > mx ? person[i] : mx;
    for (int p = 0; p < np; p++) pred[p] = t->photo_face[p] >= 0 ? (int)person[t->photo_face[p]] : (int)mx + 1 + p;
    sbf_pairwise_prf(pred, t->photo_id, np, pw);
    sbf_bcubed_prf(pred, t->photo_id, np, bc);
    if (nclusters) *nclusters = sbf_count_distinct(pred, np);
    free(pred);
}

enum { M_WARM, M_MATCH, M_FROZEN };

typedef struct {
    double changed, drift, pf, bf; /* sums over splits */
    long long nold, nchanged;
    double seconds;
} acc;

/* One split: the photos with in_first[p] sorted first, then (nights runs) the rest added in order of
 * night[p] (1..nights).  Returns the changed count (faces of earlier runs whose person changed at some
 * later run) and the final labels in person_final[fs->nfaces]. */
static double t2 = -9; /* --t2: the threshold of the later runs (a rule that moves with the library) */
static int run_flow(const sbf_faceset *fs, const int *night, int nights, int mech, double stick,
                    const sbf_people_opts *base, long long *nold, long long *nchanged, long long *nfirst,
                    long long *ndrift, uint32_t *person_final, double *seconds) {
    sbf_people pp;
    sbf_people_init(&pp);
    uint32_t *last = calloc((size_t)fs->nfaces, sizeof *last); /* the person a face had at the previous run (0 none) */
    uint32_t *first = calloc((size_t)fs->nfaces, sizeof *first); /* the person a face had at its first run */
    char *keep = calloc((size_t)fs->nphotos, 1);
    int *fmap = malloc((size_t)fs->nfaces * sizeof *fmap), *clamp = malloc((size_t)fs->nfaces * sizeof *clamp);
    uint32_t *fid = malloc((size_t)fs->nfaces * sizeof *fid), *person = malloc((size_t)fs->nfaces * sizeof *person);
    *nold = *nchanged = 0;
    *seconds = 0;
    for (int r = 0; r <= nights; r++) {
        for (int p = 0; p < fs->nphotos; p++) keep[p] = night[p] <= r;
        sbf_faceset sub;
        if (subset(fs, keep, &sub, fmap)) return -1;
        sbf_people_opts o = *base;
        o.stick = stick;
        if (r > 0 && t2 > -2) o.threshold = t2;
        o.clamp = NULL;
        if (r > 0 && mech == M_MATCH) {
            o.fresh = 1;
            o.match = 1;
        }
        if (r > 0 && mech == M_FROZEN) {
            for (int i = 0; i < sub.nfaces; i++) clamp[i] = (int)last[fmap[i]];
            o.clamp = clamp;
        }
        double t0 = sbf_now();
        if (sbf_people_update(&pp, &sub, &o, fid, person, NULL)) return -1;
        if (r == nights) *seconds = sbf_now() - t0;
        for (int i = 0; i < sub.nfaces; i++) {
            int s = fmap[i];
            if (last[s]) {
                (*nold)++;
                if (last[s] != person[i]) (*nchanged)++;
            }
        }
        /* "changed" counts once per face and run: the share is over the faces that had a person before */
        for (int i = 0; i < sub.nfaces; i++) {
            last[fmap[i]] = person[i];
            if (!first[fmap[i]]) first[fmap[i]] = person[i];
        }
        sbf_faceset_free(&sub);
    }
    *nfirst = *ndrift = 0;
    for (int i = 0; i < fs->nfaces; i++)
        if (night[fs->face_photo[i]] < nights) { /* sorted before the last run */
            (*nfirst)++;
            *ndrift += first[i] != last[i];
        }
    free(first);
    memcpy(person_final, last, (size_t)fs->nfaces * sizeof *last);
    sbf_people_free(&pp);
    free(last);
    free(keep);
    free(fmap);
    free(clamp);
    free(fid);
    free(person);
    return 0;
}

int main(int argc, char **argv) {
    const char *db = NULL, *sticks = "0,0.3,1";
    double t = SBF_DEFAULT_THRESHOLD, newpct = 10;
    int splits = 5, nights = 1, threads = 0, same_photo = 0, min_faces = 0, rule = 0, no_split = 0, seed_per_split = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--db") && more) db = argv[++i];
        else if (!strcmp(a, "--splits") && more) splits = atoi(argv[++i]);
        else if (!strcmp(a, "--new") && more) newpct = atof(argv[++i]);
        else if ((!strcmp(a, "-t") || !strcmp(a, "--threshold")) && more) t = atof(argv[++i]);
        else if (!strcmp(a, "--stick") && more) sticks = argv[++i];
        else if (!strcmp(a, "--t2") && more) t2 = atof(argv[++i]);
        else if (!strcmp(a, "--nights") && more) nights = atoi(argv[++i]);
        else if (!strcmp(a, "--threads") && more) threads = atoi(argv[++i]);
        else if (!strcmp(a, "--same-photo")) same_photo = 1;
        else if (!strcmp(a, "--rule")) rule = 1;
        else if (!strcmp(a, "--no-split")) no_split = 1;
        else if (!strcmp(a, "--seed-per-split")) seed_per_split = 1;
        else if (!strcmp(a, "--min-faces")) min_faces = 1;
        else {
            fputs(usage_text, stderr);
            return 2;
        }
    }
    if (!db || splits < 1 || nights < 1 || newpct <= 0 || newpct >= 100) {
        fputs(usage_text, stderr);
        return 2;
    }
    lfw_set L; /* identities: the parent folder's name; the labelled face: nearest the image centre */
    if (lfw_set_load(db, &L)) return 1;
    sbf_faceset fs = L.fs;
    int np = fs.nphotos, nf = fs.nfaces;
    truth tr = {&fs, L.photo_id, L.photo_face, L.nid};
    int multi = 0, multi_faces = 0;
    for (int p = 0; p < np; p++)
        if (fs.photos[p].nfaces > 1) {
            multi++;
            multi_faces += fs.photos[p].nfaces;
        }
    printf(
        "eval-people: %s: %d photos of %d identities, %d faces; %d photos hold 2+ faces (%d faces); threshold %.3f%s\n",
        db, np, tr.nid, nf, multi, multi_faces, t, rule ? " (unused: --rule, the per-face thresholds)" : "");

    sbf_people_opts base;
    sbf_people_opts_default(&base);
    base.threshold = t;
    base.rule = rule;
    base.no_split = no_split;
    base.threads = threads;

    if (same_photo) {
        /* today's clustering (sbf_cluster) against the rule; then the people clustering */
        sbf_cluster_opts co;
        sbf_cluster_opts_default(&co);
        co.graph.threshold = t;
        co.graph.threads = threads;
        int *lab = malloc((size_t)nf * sizeof *lab);
        sbf_cluster(fs.emb, nf, fs.dim, &co, lab, NULL);
        long long pairs = 0, viol = 0;
        int vphotos = 0;
        for (int p = 0; p < np; p++) {
            const sbf_photo *ph = &fs.photos[p];
            int v = 0;
            for (int a = ph->first_face; a < ph->first_face + ph->nfaces; a++)
                for (int b = a + 1; b < ph->first_face + ph->nfaces; b++) {
                    pairs++;
                    if (lab[a] == lab[b]) {
                        viol++;
                        v = 1;
                    }
                }
            vphotos += v;
        }
        printf("same-photo, sbf_cluster (before the rule): %lld of %lld same-photo face pairs share a cluster; %d of "
               "%d photos with 2+ faces\n",
               viol, pairs, vphotos, multi);
        sbf_people pp;
        sbf_people_init(&pp);
        uint32_t *fid = malloc((size_t)nf * sizeof *fid), *person = malloc((size_t)nf * sizeof *person);
        base.fresh = 1;
        sbf_people_update(&pp, &fs, &base, fid, person, NULL);
        long long viol2 = 0;
        for (int p = 0; p < np; p++) {
            const sbf_photo *ph = &fs.photos[p];
            for (int a = ph->first_face; a < ph->first_face + ph->nfaces; a++)
                for (int b = a + 1; b < ph->first_face + ph->nfaces; b++) viol2 += person[a] == person[b];
        }
        sbf_prf pw, bc, pw0, bc0;
        int k, k0;
        score(&tr, person, &pw, &bc, &k);
        uint32_t *p0 = malloc((size_t)nf * sizeof *p0);
        for (int i = 0; i < nf; i++) p0[i] = (uint32_t)lab[i] + 1;
        score(&tr, p0, &pw0, &bc0, &k0);
        printf("same-photo, people clustering (with the rule): %lld pairs share a person\n", viol2);
        printf("F against the identities: without the rule pairwise %.4f BCubed %.4f (%d clusters); with it pairwise "
               "%.4f BCubed %.4f (%d clusters)\n",
               pw0.f, bc0.f, k0, pw.f, bc.f, k);
        return 0;
    }

    if (min_faces) {
        sbf_people pp;
        sbf_people_init(&pp);
        uint32_t *fid = malloc((size_t)nf * sizeof *fid), *person = malloc((size_t)nf * sizeof *person);
        base.fresh = 1;
        sbf_people_update(&pp, &fs, &base, fid, person, NULL);
        int *cnt = sbf_people_counts(&pp);
        int *idc = calloc((size_t)tr.nid, sizeof *idc);
        for (int p = 0; p < np; p++) idc[tr.photo_id[p]]++;
        printf("%-9s %8s %14s %16s %18s\n", "min-faces", "folders", "faces/Unknown", "photos/Unknown",
               "identities>=N photos");
        for (int m = 1; m <= 6; m++) {
            int folders = 0, unk = 0, ids_m = 0;
            char *unk_photo = calloc((size_t)np, 1);
            for (uint32_t q = 1; q < pp.next_person; q++) {
                if (!cnt[q]) continue;
                if (cnt[q] >= m) folders++;
            }
            for (int i = 0; i < nf; i++)
                if (cnt[person[i]] < m) {
                    unk++;
                    unk_photo[fs.face_photo[i]] = 1;
                }
            int up = 0;
            for (int p = 0; p < np; p++) up += unk_photo[p];
            for (int q = 0; q < tr.nid; q++) ids_m += idc[q] >= m;
            printf("%-9d %8d %14d %16d %18d\n", m, folders + (unk > 0), unk, up, ids_m);
            free(unk_photo);
        }
        return 0;
    }

    /* stability */
    double stv[16];
    int nst = 0;
    for (const char *q = sticks; *q && nst < 16;) {
        stv[nst++] = atof(q);
        const char *c = strchr(q, ',');
        if (!c) break;
        q = c + 1;
    }
    int nmech = nst + 2;
    acc *ac = calloc((size_t)nmech, sizeof *ac);
    double scratch_pf = 0, scratch_bf = 0, scratch_s = 0;
    int *night = malloc((size_t)np * sizeof *night);
    uint32_t *final = malloc((size_t)nf * sizeof *final);
    for (int sp = 0; sp < splits; sp++) {
        if (seed_per_split) base.seed = SBF_DEFAULT_SEED + (uint64_t)sp;
        sbf_rng rng;
        sbf_rng_seed(&rng, 1000 + (uint64_t)sp);
        for (int p = 0; p < np; p++) {
            double u = (double)(sbf_rng_next(&rng) >> 11) / 9007199254740992.0 * 100;
            night[p] = u < 100 - newpct ? 0 : 1 + (int)((u - (100 - newpct)) / newpct * nights);
            if (night[p] > nights) night[p] = nights;
        }
        /* from scratch, everything */
        {
            sbf_people pp;
            sbf_people_init(&pp);
            uint32_t *fid = malloc((size_t)nf * sizeof *fid);
            sbf_people_opts o = base;
            o.fresh = 1;
            double t0 = sbf_now();
            sbf_people_update(&pp, &fs, &o, fid, final, NULL);
            scratch_s += sbf_now() - t0;
            sbf_prf pw, bc;
            score(&tr, final, &pw, &bc, NULL);
            scratch_pf += pw.f;
            scratch_bf += bc.f;
            sbf_people_free(&pp);
            free(fid);
            if (sp == 0) printf("from scratch, all photos: pairwise F %.4f, BCubed F %.4f\n", pw.f, bc.f);
        }
        for (int m = 0; m < nmech; m++) {
            int mech = m < nst ? M_WARM : m == nst ? M_MATCH : M_FROZEN;
            long long no, nc, nfirst, ndrift;
            double sec;
            if (run_flow(&fs, night, nights, mech, m < nst ? stv[m] : 0, &base, &no, &nc, &nfirst, &ndrift, final,
                         &sec)) {
                fprintf(stderr, "eval-people: out of memory\n");
                return 1;
            }
            sbf_prf pw, bc;
            score(&tr, final, &pw, &bc, NULL);
            ac[m].nold += no;
            ac[m].nchanged += nc;
            ac[m].changed += no ? (double)nc / no : 0;
            ac[m].drift += nfirst ? (double)ndrift / nfirst : 0;
            ac[m].pf += pw.f;
            ac[m].bf += bc.f;
            ac[m].seconds += sec;
        }
        fprintf(stderr, "eval-people: split %d of %d done\n", sp + 1, splits);
    }
    printf(
        "%d splits: %.0f %% of the photos sorted first, the other %.0f %% added in %d run%s; means over the splits\n",
        splits, 100 - newpct, newpct, nights, nights == 1 ? "" : "s");
    printf("changed%%: of the faces that had a person before a run, those whose person that run changed (mean over "
           "runs);\n"
           "drift%%: of the faces sorted before the last run, those whose person at the end is not their first one\n");
    printf("%-14s %10s %8s %9s %9s %10s %10s %9s\n", "mechanism", "changed%", "drift%", "pairF", "bcubF", "dPairF",
           "dBcubF", "last_s");
    printf("%-14s %10s %8s %9.4f %9.4f %10s %10s %9.3f\n", "scratch", "-", "-", scratch_pf / splits,
           scratch_bf / splits, "-", "-", scratch_s / splits);
    for (int m = 0; m < nmech; m++) {
        char label[32];
        if (m < nst) snprintf(label, sizeof label, "warm %.2g", stv[m]);
        else snprintf(label, sizeof label, "%s", m == nst ? "match" : "frozen");
        printf("%-14s %10.3f %8.3f %9.4f %9.4f %+10.4f %+10.4f %9.3f\n", label, 100 * ac[m].changed / splits,
               100 * ac[m].drift / splits, ac[m].pf / splits, ac[m].bf / splits, (ac[m].pf - scratch_pf) / splits,
               (ac[m].bf - scratch_bf) / splits, ac[m].seconds / splits);
    }
    return 0;
}
