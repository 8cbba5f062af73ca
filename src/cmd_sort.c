/* src/cmd_sort.c — the 'sort' verb (the original's sort_images.py): cluster every face in the
 * database with Chinese Whispers and write one folder per person plus clusters.tsv.  A run goes through
 * phases on one sort_run: arguments, load the database, cluster (graph + Chinese Whispers), write, report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"
#include "src/cluster.h"
#include "src/output.h"
#include "src/page.h"
#include "src/store.h"
#include "src/util.h"
#include "src/verbs.h"
#include "src/walk.h"

#define DEFAULT_DEST "Sorted-pictures"

/* One run of sort: what its phases share, freed once by sort_free whichever way the run ends. */
typedef struct {
    /* the arguments */
    int argc;
    char **argv;
    const char *db, *dest;
    double thr;
    int itr, seed, threads, approx;
    sbf_place_mode mode;
    /* the phases' results */
    sbf_faceset fs;         /* the database's faces */
    int *labels, k;         /* labels[i]: the person (0..k) of face i; 0 has the most faces */
    sbf_cluster_info ci;
    char outdir[4096];      /* the folder written */
    sbf_sort_stats st;
    double seconds_write;
    char err[1024];
} sort_run;

static void sort_free(sort_run *r) {
    free(r->labels);
    sbf_faceset_free(&r->fs);
}

static int sort_args(sort_run *r) {
    int copy = 0, link = 0, symlink = 0;
    r->db = SBF_DEFAULT_DB;
    r->dest = DEFAULT_DEST;
    r->thr = SBF_DEFAULT_THRESHOLD;
    r->itr = SBF_DEFAULT_ITERATIONS;
    r->seed = (int)SBF_DEFAULT_SEED;
    char thelp[128], shelp[128];
    snprintf(thelp, sizeof thelp, "cosine-similarity threshold for an edge between two faces (default %.2f)", SBF_DEFAULT_THRESHOLD);
    snprintf(shelp, sizeof shelp, "random seed of Chinese Whispers; same seed, same result (default %d)", (int)SBF_DEFAULT_SEED);
    const sbf_opt opts[] = {
        {"db", NULL, SBF_OPT_STRING, &r->db, "FILE", "embeddings database (default " SBF_DEFAULT_DB ")"},
        {"threshold", "t", SBF_OPT_DOUBLE, &r->thr, "T", thelp},
        {"itr", "iterations", SBF_OPT_INT, &r->itr, "N", "Chinese Whispers iterations (default 30)"},
        {"dest", NULL, SBF_OPT_STRING, &r->dest, "DIR", "output folder (default " DEFAULT_DEST "; if it exists, DIR-2, DIR-3, ... is used)"},
        {"seed", NULL, SBF_OPT_INT, &r->seed, "S", shelp},
        {"copy", NULL, SBF_OPT_FLAG, &copy, NULL, "copy photos into the person folders (default)"},
        {"link", NULL, SBF_OPT_FLAG, &link, NULL, "hard-link photos instead of copying (same file system only)"},
        {"symlink", NULL, SBF_OPT_FLAG, &symlink, NULL, "symlink photos (absolute paths) instead of copying"},
        {"threads", NULL, SBF_OPT_INT, &r->threads, "N", "threads for the similarity graph (default: all cores)"},
        {"approx", NULL, SBF_OPT_FLAG, &r->approx, NULL, "approximate-neighbour graph (much faster beyond ~50,000 faces; may split a few clusters)"},
        {0},
    };
    const sbf_cmd_spec spec = {
        "sort", "sort [--db FILE] [-t T] [-itr N] [-dest DIR] [--seed S] [--copy|--link|--symlink]",
        "Cluster the faces in the database into one folder per person.",
        "Every face is a node; two faces are joined when the cosine similarity of their embeddings\n"
        "exceeds T, weighted by it.  Chinese Whispers then groups the faces.  Each person gets a folder\n"
        "'Person N' (Person 1 has the most faces) holding every photo they appear in; a photo with two\n"
        "people goes into both folders.  Photos are copied by default, never moved or modified; equal\n"
        "file names from different folders get -2, -3 suffixes.  DIR/clusters.tsv lists every face\n"
        "(path, face, box, person, placed file) for scripts.  DIR/index.html shows the people: open it in a\n"
        "browser (face thumbnails in DIR/.thumbs/).",
        opts, 0, 0};
    int npos, rc;
    char **pos = NULL;
    rc = sbf_parse(&spec, r->argc, r->argv, &npos, &pos);
    free(pos);
    if (rc) return rc == 1 ? SBF_VERB_DONE : rc;
    return sbf_place_mode_flags("sort", copy, link, symlink, &r->mode); /* numbers: sbf_parse (one rule) */
}

/* Every face of the database; exit status 1 when it holds none. */
static int sort_load(sort_run *r) {
    sbf_store *s = sbf_store_open(r->db, SBF_STORE_READ, r->err, sizeof r->err);
    if (!s) {
        sbf_db_open_error(r->db, r->err);
        return 3;
    }
    int failed = sbf_store_faceset(s, &r->fs, r->err, sizeof r->err);
    sbf_store_stats sst;
    sbf_store_get_stats(s, &sst);
    sbf_store_close(s);
    if (failed) {
        sbf_file_error(r->db, r->err);
        return 3;
    }
    if (sst.torn_bytes)
        fprintf(stderr, "sortbyface sort: %s: ignoring an unfinished last record (%llu bytes; an embed run was interrupted or is running)\n",
                r->db, sst.torn_bytes);
    if (r->fs.nfaces == 0) {
        fprintf(stderr, "sortbyface sort: no faces in %s (%d photo%s processed); nothing to sort\n", r->db, r->fs.nphotos,
                sbf_s(r->fs.nphotos));
        return 1;
    }
    return 0;
}

/* The similarity graph and Chinese Whispers: a person for every face. */
static int sort_cluster(sort_run *r) {
    const sbf_faceset *fs = &r->fs;
    if (fs->nfaces > 50000 && !r->approx)
        fprintf(stderr, "sortbyface sort: comparing all pairs of %d faces (takes a while; --approx is about 10x faster)\n", fs->nfaces);
    sbf_cluster_opts co;
    sbf_cluster_opts_default(&co);
    co.graph.threshold = r->thr;
    co.graph.threads = r->threads;
    co.graph.approx = r->approx;
    co.iterations = r->itr;
    co.seed = (uint64_t)(unsigned)r->seed;
    r->labels = malloc((size_t)fs->nfaces * sizeof *r->labels);
    sbf_progress prog;
    sbf_progress_start(&prog, "sortbyface sort: comparing faces");
    co.graph.progress = sbf_progress_update;
    co.graph.progress_ctx = &prog;
    r->k = r->labels ? sbf_cluster(fs->emb, fs->nfaces, fs->dim, &co, r->labels, &r->ci) : -1;
    sbf_progress_end(&prog);
    if (r->k < 0) {
        sbf_error("out of memory clustering %d faces", fs->nfaces);
        return 3;
    }
    return 0;
}

/* A fresh output folder with a "Person N" folder for each person and clusters.tsv. */
static int sort_write(sort_run *r) {
    int renamed = 0;
    if (sbf_output_fresh_dir(r->dest, r->outdir, sizeof r->outdir, &renamed, r->err, sizeof r->err)) {
        sbf_error("%s", r->err);
        return 3;
    }
    if (renamed) fprintf(stderr, "sortbyface sort: %s already exists; writing to %s instead\n", r->dest, r->outdir);
    double t0 = sbf_now();
    sbf_progress prog;
    char label[64];
    snprintf(label, sizeof label, "sortbyface sort: %s", sbf_place_doing(r->mode));
    sbf_progress_start(&prog, label);
    int rc = sbf_write_sorted(&r->fs, r->labels, r->k, r->outdir, r->mode, &r->st, sbf_progress_update, &prog, r->err,
                              sizeof r->err);
    sbf_progress_end(&prog);
    r->seconds_write = sbf_now() - t0;
    if (rc) {
        sbf_error("%s", r->err);
        return 3;
    }
    return 0;
}

/* ---- the people page (issue 20) ---------------------------------------------------------------------------
 * Glue until src/people.[ch] lands: every cluster is a section "Person N" with folder "Person N", in cluster order
 * (largest first); no face is unknown; the link of each face is its placed file, read back from clusters.tsv (the
 * one record of where each face's photo went).  With the people module: one section per person (its name or
 * number, its folder), the Unknown folder's faces as the Unknown section, links from the people module's placed
 * names, prune = 1 on the folder synced in place. */
static char **page_links_from_tsv(const sbf_faceset *fs, const char *outdir) {
    char *path = sbf_path_join(outdir, "clusters.tsv"), err[256];
    size_t len = 0;
    char *tsv = path ? sbf_read_file(path, &len, (size_t)1 << 31, err, sizeof err) : NULL;
    char **links = calloc((size_t)fs->nfaces + 1, sizeof *links);
    free(path);
    if (!tsv || !links) {
        free(tsv);
        free(links);
        return NULL;
    }
    char *line = strchr(tsv, '\n'); /* after the header */
    for (int i = 0; line && i < fs->nfaces; i++) {
        char *start = line + 1, *end = strchr(start, '\n');
        if (!end) break;
        *end = 0;
        char *file = strrchr(start, '\t'); /* the last column; an escaped path holds no tab */
        if (file && file[1]) {
            char *o = links[i] = malloc(strlen(file));
            for (char *q = file + 1; o && *q; q++) {
                if (*q == '\\' && q[1]) {
                    q++;
                    *o++ = *q == 't' ? '\t' : *q == 'n' ? '\n' : *q == 'r' ? '\r' : *q;
                } else *o++ = *q;
            }
            if (o) *o = 0;
        }
        line = end;
    }
    free(tsv);
    return links;
}

static int sort_page(sort_run *r) {
    const sbf_faceset *fs = &r->fs;
    char **links = page_links_from_tsv(fs, r->outdir);
    int *start = calloc((size_t)r->k + 1, sizeof *start), *byc = malloc((size_t)fs->nfaces * sizeof *byc);
    sbf_page pg;
    sbf_page_stats ps;
    int rc = !links || !start || !byc || sbf_page_init(&pg, fs, (const char *const *)links, r->outdir) ? -1 : 0;
    if (!rc) {
        for (int i = 0; i < fs->nfaces; i++) start[r->labels[i] + 1]++;
        for (int c = 0; c < r->k; c++) start[c + 1] += start[c];
        for (int i = 0; i < fs->nfaces; i++) byc[start[r->labels[i]]++] = i;
        char title[32];
        for (int c = 0, at = 0; c < r->k && !rc; at = start[c++]) {
            snprintf(title, sizeof title, "Person %d", c + 1);
            rc = sbf_page_add_person(&pg, title, title, byc + at, start[c] - at);
        }
        if (!rc) rc = sbf_page_set_unknown(&pg, NULL, NULL, 0);
        if (!rc) rc = sbf_page_find_similar(&pg, SBF_PAGE_SIMILAR_FLOOR, r->threads);
        if (rc) snprintf(r->err, sizeof r->err, "out of memory");
        else rc = sbf_page_write(&pg, r->outdir, r->threads, 1, &ps, r->err, sizeof r->err);
        sbf_page_free(&pg);
    } else sbf_seterr(r->err, sizeof r->err, "out of memory, or cannot read back %s/clusters.tsv", r->outdir);
    for (int i = 0; links && i < fs->nfaces; i++) free(links[i]);
    free(links);
    free(start);
    free(byc);
    if (rc) {
        sbf_error("no people page: %s", r->err);
        return 3;
    }
    fprintf(stderr, "sortbyface sort: people page %s/%s: %d thumbnail%s (%d written, %d reused, %d failed), %.2f s\n",
            r->outdir, SBF_PAGE_FILE, ps.shown, sbf_s(ps.shown), ps.thumbs.written, ps.thumbs.reused, ps.thumbs.failed,
            ps.seconds_thumbs + ps.seconds_html);
    return 0;
}
/* ---- end of the people page glue ---------------------------------------------------------------------------- */

/* The result on stdout, the settings and timings on stderr; exit status 1 when a file could not be placed. */
static int sort_report(sort_run *r) {
    const sbf_faceset *fs = &r->fs;
    int multi = 0, k = r->k;
    int *cnt = calloc((size_t)k, sizeof *cnt);
    if (cnt) {
        for (int i = 0; i < fs->nfaces; i++) cnt[r->labels[i]]++;
        for (int c = 0; c < k; c++) multi += cnt[c] > 1;
        free(cnt);
    }
    static const char *verb[] = {"copied", "hard-linked", "symlinked"};
    printf("sorted %d face%s from %d photo%s into %d %s (%d with more than one face); %s %d file%s into %s/\n",
           fs->nfaces, sbf_s(fs->nfaces), fs->nphotos, sbf_s(fs->nphotos), k, k == 1 ? "person" : "people", multi,
           verb[r->mode], r->st.placed, sbf_s(r->st.placed), r->outdir);
    fprintf(stderr, "sortbyface sort: threshold %.2f, %d iterations, seed %u; graph %.3f s (%lld edges), clustering %.3f s, writing %.2f s%s\n",
            r->thr, r->itr, (unsigned)r->seed, r->ci.seconds_graph, r->ci.edges, r->ci.seconds_cw, r->seconds_write,
            r->approx ? " (approximate graph)" : "");
    if (r->ci.capped)
        fprintf(stderr, "sortbyface sort: so many faces are alike (over %lld pairs above the threshold) that each face kept only "
                        "its %d most similar neighbours, to bound memory\n", (long long)SBF_GRAPH_MAX_EDGES, r->ci.capped);
    if (r->st.failed)
        fprintf(stderr, "sortbyface sort: %d file%s could not be placed (listed above)\n", r->st.failed, sbf_s(r->st.failed));
    return r->st.failed ? 1 : 0;
}

int sbf_cmd_sort(int argc, char **argv) {
    static int (*const phases[])(sort_run *) = {sort_args, sort_load, sort_cluster, sort_write, sort_page, sort_report};
    sort_run r = {.argc = argc, .argv = argv};
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof phases / sizeof *phases; i++) rc = phases[i](&r);
    sort_free(&r);
    return rc == SBF_VERB_DONE ? 0 : rc;
}
