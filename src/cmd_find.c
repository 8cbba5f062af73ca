/* src/cmd_find.c — the 'find' verb (get_individual.py): the person in one query photo, clustered with
 * the database; every photo of that cluster is copied (or linked) into a fresh folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/cli.h"
#include "src/cluster.h"
#include "src/output.h"
#include "src/pipeline.h"
#include "src/store.h"
#include "src/util.h"
#include "src/verbs.h"
#include "src/walk.h"

int sbf_cmd_find(int argc, char **argv) {
    const char *src = NULL, *dest = NULL, *db = SBF_DEFAULT_DB, *align_s = NULL, *lm = NULL, *model = NULL,
               *upsample_s = "auto";
    double t = SBF_DEFAULT_THRESHOLD;
    int itr = SBF_DEFAULT_ITERATIONS, copy = 0, link = 0, symlink = 0, threads = 0;
    const char *seed_s = NULL;
    const sbf_opt opts[] = {
        {"src", NULL, SBF_OPT_STRING, &src, "ME.jpg", "photo showing exactly one face: the person to find"},
        {"dest", NULL, SBF_OPT_STRING, &dest, "DIR", "folder to create for the matches (never overwritten)"},
        {"db", NULL, SBF_OPT_STRING, &db, "FILE", "database written by embed (default embeddings.db)"},
        {"threshold", "t", SBF_OPT_DOUBLE, &t, "T", "cosine-similarity threshold for an edge (default: sort's)"},
        {"itr", "iterations", SBF_OPT_INT, &itr, "N", "Chinese Whispers iterations (default 30)"},
        {"seed", NULL, SBF_OPT_STRING, &seed_s, "S", "random seed (default fixed, so runs repeat)"},
        {"copy", NULL, SBF_OPT_FLAG, &copy, NULL, "copy the photos (default)"},
        {"link", NULL, SBF_OPT_FLAG, &link, NULL, "hard-link instead of copying"},
        {"symlink", NULL, SBF_OPT_FLAG, &symlink, NULL, "symlink instead of copying"},
        {"align", NULL, SBF_OPT_STRING, &align_s, "mtcnn|box|eyes",
         "alignment of the query (default: the database's rule; any other is refused)"},
        {"upsample", NULL, SBF_OPT_STRING, &upsample_s, "N|auto", "detector upsampling for the query (default auto)"},
        {"threads", NULL, SBF_OPT_INT, &threads, "N", "threads (default: all cores)"},
        {"landmarks-model", NULL, SBF_OPT_STRING, &lm, "FILE", "dlib 68-point model"},
        {"model", NULL, SBF_OPT_STRING, &model, "FILE", "FaceNet weight file"},
        {0},
    };
    const sbf_cmd_spec spec = {
        "find", "find -src ME.jpg -dest DIR [OPTIONS]",
        "Copies every photo of the person shown in ME.jpg (not ME.jpg itself) from the database into DIR.",
        "The query face is clustered together with the database faces (as sort does); the photos in its\n"
        "cluster are placed in DIR. If DIR exists, DIR-2 (or the next free name) is used instead and said so.",
        opts, 0, 0};
    int npos;
    char **pos;
    int rc = sbf_parse(&spec, argc, argv, &npos, &pos);
    if (rc) return rc == 1 ? 0 : rc;
    free(pos);
    if (!src || !dest) {
        fprintf(stderr, "sortbyface find: missing %s\nusage: sortbyface %s\n", !src ? "-src ME.jpg" : "-dest DIR", spec.usage);
        return 2;
    }
    if ((rc = sbf_check_range_double("find", "threshold", t, -1.0, 1.0)) || (rc = sbf_check_range_int("find", "itr", itr, 1, 100000)))
        return rc;
    if (copy + link + symlink > 1) { fprintf(stderr, "sortbyface find: choose one of --copy, --link, --symlink\n"); return 2; }
    sbf_cluster_opts co;
    sbf_cluster_opts_default(&co);
    co.graph.threshold = t;
    co.graph.threads = threads;
    co.iterations = itr;
    if (seed_s) {
        char *end;
        co.seed = strtoull(seed_s, &end, 10);
        if (*end || end == seed_s) { fprintf(stderr, "sortbyface find: --seed expects a whole number, got '%s'\n", seed_s); return 2; }
    }
    sbf_pipeline_opts po;
    sbf_pipeline_defaults(&po);
    if ((rc = sbf_pipeline_set_flags(&po, "find", upsample_s, align_s))) return rc;
    po.threads = threads;
    po.landmarks_model = lm;
    po.facenet_model = model;

    char err[512];
    sbf_store *st = sbf_store_open(db, SBF_STORE_READ, err, sizeof err);
    if (!st) { sbf_db_open_error(db, err); return 3; }
    if ((rc = sbf_pipeline_db_align(&po, st, "find", db, align_s))) { sbf_store_close(st); return rc; }
    sbf_faceset fs;
    if (sbf_store_faceset(st, &fs, err, sizeof err)) { sbf_file_error(db, err); sbf_store_close(st); return 3; }
    sbf_store_close(st);

    sbf_pipeline *pl = sbf_pipeline_new(&po, err, sizeof err);
    if (!pl) { sbf_error("%s", err); sbf_faceset_free(&fs); return 3; }
    sbf_photo_job job = {.path = src};
    rc = 1;
    if (sbf_pipeline_run(pl, &job, 1, err, sizeof err)) { sbf_error("%s", err); rc = 3; goto out; }
    if (job.failed) { sbf_file_error(src, job.err); goto out; }
    if (job.nfaces == 0) { sbf_file_error(src, "no face found; the query photo must show exactly one face"); goto out; }
    if (job.nfaces > 1) {
        char m[160];
        snprintf(m, sizeof m, "%d faces found; the query photo must show exactly one face (crop it to the person)", job.nfaces);
        sbf_file_error(src, m);
        goto out;
    }
    const sbf_box *b = &job.faces[0].box;
    long side = b->right - b->left + 1;
    if (side < SBF_CROP) {
        char m[200];
        snprintf(m, sizeof m, "warning: the face is only %ld px wide (less than %d); matches may be less reliable", side, SBF_CROP);
        sbf_file_error(src, m);
    }
    int *members = NULL;
    sbf_progress prog;
    sbf_progress_start(&prog, "sortbyface find: comparing faces");
    co.graph.progress = sbf_progress_update;
    co.graph.progress_ctx = &prog;
    int nm = sbf_cluster_query(fs.emb, fs.nfaces, fs.dim, job.faces[0].emb, &co, &members);
    sbf_progress_end(&prog);
    if (nm < 0) { sbf_error("out of memory while clustering"); rc = 3; goto out; }
    /* photos of the matching faces, once each, never the query photo itself */
    char *take = calloc((size_t)fs.nphotos + 1, 1);
    int nphotos = 0;
    for (int i = 0; i < nm; i++) {
        int ph = fs.face_photo[members[i]];
        if (take[ph] || sbf_same_file(fs.photos[ph].path, src) || !strcmp(fs.photos[ph].path, src)) continue;
        take[ph] = 1;
        nphotos++;
    }
    free(members);
    if (nphotos == 0) {
        fprintf(stderr, "sortbyface find: no other photo of this person in %s (%d face%s searched); nothing written\n", db, fs.nfaces,
                sbf_s(fs.nfaces));
        free(take);
        goto out;
    }
    char chosen[4096];
    int renamed = 0;
    if (sbf_output_fresh_dir(dest, chosen, sizeof chosen, &renamed, err, sizeof err)) {
        sbf_file_error(dest, err);
        free(take);
        rc = 3;
        goto out;
    }
    if (renamed) fprintf(stderr, "sortbyface find: %s already exists; writing to %s instead\n", dest, chosen);
    sbf_place_mode mode = link ? SBF_PLACE_LINK : symlink ? SBF_PLACE_SYMLINK : SBF_PLACE_COPY;
    int placed = 0, failed = 0;
    char writing[64];
    snprintf(writing, sizeof writing, "sortbyface find: %s", sbf_place_doing(mode));
    sbf_progress_start(&prog, writing);
    for (int p = 0; p < fs.nphotos; p++) {
        if (!take[p]) continue;
        if (sbf_place_file(fs.photos[p].path, chosen, mode, NULL, 0, err, sizeof err)) {
            sbf_file_error(fs.photos[p].path, err);
            failed++;
        } else placed++;
        sbf_progress_update(&prog, (double)(placed + failed) / nphotos);
    }
    sbf_progress_end(&prog);
    free(take);
    printf("%s %d photo%s of the person in %s to %s%s\n",
           mode == SBF_PLACE_COPY ? "copied" : mode == SBF_PLACE_LINK ? "linked" : "symlinked", placed,
           sbf_s(placed), src, chosen, failed ? " (some failed, see above)" : "");
    rc = failed ? 1 : 0;
out:
    sbf_photo_job_clear(&job);
    sbf_pipeline_free(pl);
    sbf_faceset_free(&fs);
    return rc;
}
