/* src/cmd_sort.c — the 'sort' verb (the original's sort_images.py): cluster every face in the
 * database with Chinese Whispers and write one folder per person plus clusters.tsv. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cli.h"
#include "src/cluster.h"
#include "src/output.h"
#include "src/store.h"
#include "src/util.h"
#include "src/verbs.h"

#define DEFAULT_DEST "Sorted-pictures"

int sbf_cmd_sort(int argc, char **argv) {
    const char *db = SBF_DEFAULT_DB, *dest = DEFAULT_DEST;
    double thr = SBF_DEFAULT_THRESHOLD;
    int itr = SBF_DEFAULT_ITERATIONS, seed = (int)SBF_DEFAULT_SEED, threads = 0;
    int copy = 0, link = 0, symlink = 0, approx = 0;
    char thelp[128], shelp[128];
    snprintf(thelp, sizeof thelp, "cosine-similarity threshold for an edge between two faces (default %.2f)", SBF_DEFAULT_THRESHOLD);
    snprintf(shelp, sizeof shelp, "random seed of Chinese Whispers; same seed, same result (default %d)", (int)SBF_DEFAULT_SEED);
    const sbf_opt opts[] = {
        {"db", NULL, SBF_OPT_STRING, &db, "FILE", "embeddings database (default " SBF_DEFAULT_DB ")"},
        {"threshold", "t", SBF_OPT_DOUBLE, &thr, "T", thelp},
        {"itr", "iterations", SBF_OPT_INT, &itr, "N", "Chinese Whispers iterations (default 30)"},
        {"dest", NULL, SBF_OPT_STRING, &dest, "DIR", "output folder (default " DEFAULT_DEST "; if it exists, DIR-2, DIR-3, ... is used)"},
        {"seed", NULL, SBF_OPT_INT, &seed, "S", shelp},
        {"copy", NULL, SBF_OPT_FLAG, &copy, NULL, "copy photos into the person folders (default)"},
        {"link", NULL, SBF_OPT_FLAG, &link, NULL, "hard-link photos instead of copying (same file system only)"},
        {"symlink", NULL, SBF_OPT_FLAG, &symlink, NULL, "symlink photos (absolute paths) instead of copying"},
        {"threads", NULL, SBF_OPT_INT, &threads, "N", "threads for the similarity graph (default: all cores)"},
        {"approx", NULL, SBF_OPT_FLAG, &approx, NULL, "approximate-neighbour graph (much faster beyond ~50,000 faces; may split a few clusters)"},
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
        "(path, face, box, person, placed file) for scripts.",
        opts, 0, 0};
    int npos;
    char **pos = NULL;
    int rc = sbf_parse(&spec, argc, argv, &npos, &pos);
    free(pos);
    if (rc == 1) return 0;
    if (rc) return rc;
    if (copy + link + symlink > 1) {
        fprintf(stderr, "sortbyface sort: choose one of --copy, --link, --symlink\n");
        return 2;
    }
    if ((rc = sbf_check_range_double("sort", "threshold", thr, -1.0, 1.0))) return rc;
    if ((rc = sbf_check_range_int("sort", "itr", itr, 0, 100000))) return rc;
    if ((rc = sbf_check_range_int("sort", "threads", threads, 0, 1024))) return rc;
    sbf_place_mode mode = link ? SBF_PLACE_LINK : symlink ? SBF_PLACE_SYMLINK : SBF_PLACE_COPY;

    char err[1024];
    sbf_store *s = sbf_store_open(db, SBF_STORE_READ, err, sizeof err);
    if (!s) {
        sbf_db_open_error(db, err);
        return 3;
    }
    sbf_faceset fs;
    if (sbf_store_faceset(s, &fs, err, sizeof err)) {
        sbf_file_error(db, err);
        sbf_store_close(s);
        return 3;
    }
    sbf_store_stats sst;
    sbf_store_get_stats(s, &sst);
    sbf_store_close(s);
    if (sst.torn_bytes)
        fprintf(stderr, "sortbyface sort: %s: ignoring an unfinished last record (%llu bytes; an embed run was interrupted or is running)\n",
                db, sst.torn_bytes);
    if (fs.nfaces == 0) {
        fprintf(stderr, "sortbyface sort: no faces in %s (%d photo%s processed); nothing to sort\n", db, fs.nphotos,
                sbf_s(fs.nphotos));
        sbf_faceset_free(&fs);
        return 1;
    }

    if (fs.nfaces > 50000 && !approx)
        fprintf(stderr, "sortbyface sort: comparing all pairs of %d faces (takes a while; --approx is about 10x faster)\n", fs.nfaces);
    sbf_cluster_opts co;
    sbf_cluster_opts_default(&co);
    co.graph.threshold = thr;
    co.graph.threads = threads;
    co.graph.approx = approx;
    co.iterations = itr;
    co.seed = (uint64_t)(unsigned)seed;
    int *labels = malloc((size_t)fs.nfaces * sizeof *labels);
    sbf_cluster_info ci = {0};
    sbf_progress prog;
    sbf_progress_start(&prog, "sortbyface sort: comparing faces");
    co.graph.progress = sbf_progress_update;
    co.graph.progress_ctx = &prog;
    int k = labels ? sbf_cluster(fs.emb, fs.nfaces, fs.dim, &co, labels, &ci) : -1;
    sbf_progress_end(&prog);
    if (k < 0) {
        sbf_error("out of memory clustering %d faces", fs.nfaces);
        free(labels);
        sbf_faceset_free(&fs);
        return 3;
    }

    char outdir[4096];
    int renamed = 0;
    if (sbf_output_fresh_dir(dest, outdir, sizeof outdir, &renamed, err, sizeof err)) {
        sbf_error("%s", err);
        free(labels);
        sbf_faceset_free(&fs);
        return 3;
    }
    if (renamed) fprintf(stderr, "sortbyface sort: %s already exists; writing to %s instead\n", dest, outdir);
    sbf_sort_stats st;
    double t0 = sbf_now();
    char writing[64];
    snprintf(writing, sizeof writing, "sortbyface sort: %s", sbf_place_doing(mode));
    sbf_progress_start(&prog, writing);
    rc = sbf_write_sorted(&fs, labels, k, outdir, mode, &st, sbf_progress_update, &prog, err, sizeof err);
    sbf_progress_end(&prog);
    double tw = sbf_now() - t0;
    if (rc) {
        sbf_error("%s", err);
        free(labels);
        sbf_faceset_free(&fs);
        return 3;
    }
    int multi = 0;
    {
        int *cnt = calloc((size_t)k, sizeof *cnt);
        if (cnt) {
            for (int i = 0; i < fs.nfaces; i++) cnt[labels[i]]++;
            for (int c = 0; c < k; c++) multi += cnt[c] > 1;
            free(cnt);
        }
    }
    static const char *verb[] = {"copied", "hard-linked", "symlinked"};
    printf("sorted %d face%s from %d photo%s into %d %s (%d with more than one face); %s %d file%s into %s/\n",
           fs.nfaces, sbf_s(fs.nfaces), fs.nphotos, sbf_s(fs.nphotos), k, k == 1 ? "person" : "people", multi, verb[mode],
           st.placed, sbf_s(st.placed), outdir);
    fprintf(stderr, "sortbyface sort: threshold %.2f, %d iterations, seed %u; graph %.3f s (%lld edges), clustering %.3f s, writing %.2f s%s\n",
            thr, itr, (unsigned)seed, ci.seconds_graph, ci.edges, ci.seconds_cw, tw, approx ? " (approximate graph)" : "");
    if (ci.capped)
        fprintf(stderr, "sortbyface sort: so many faces are alike (over %lld pairs above the threshold) that each face kept only "
                        "its %d most similar neighbours, to bound memory\n", (long long)SBF_GRAPH_MAX_EDGES, ci.capped);
    if (st.failed) fprintf(stderr, "sortbyface sort: %d file%s could not be placed (listed above)\n", st.failed, sbf_s(st.failed));
    free(labels);
    sbf_faceset_free(&fs);
    return st.failed ? 1 : 0;
}
