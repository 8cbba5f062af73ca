/* src/cmd_find.c — the 'find' verb (get_individual.py): the person in one or more query photos, found in
 * the database by src/retrieve.c (the queries clustered with the database under the per-face thresholds of
 * src/threshold.h, their closest match, query expansion); every photo found is copied (or linked) into a
 * fresh folder.  When nothing passes, nothing is placed and the closest photos are listed.  A run goes
 * through phases on one find_run: arguments, load the database, embed the queries, retrieve, place, report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "src/cli.h"
#include "src/cluster.h"
#include "src/output.h"
#include "src/page.h"
#include "src/pipeline.h"
#include "src/retrieve.h"
#include "src/store.h"
#include "src/util.h"
#include "src/verbs.h"
#include "src/walk.h"

/* One run of find: what its phases share, freed once by find_free whichever way the run ends. */
typedef struct {
    /* the arguments */
    int argc;
    char **argv;
    const char *src, *dest, *db, *align_s, *model_s; /* src: the first query photo (names the output) */
    sbf_opt_list srcs;                               /* every query photo (-src, once or more) */
    sbf_cluster_opts co;
    sbf_retrieve_opts ro;
    sbf_pipeline_opts po;
    sbf_place_mode mode;
    /* the phases' results */
    sbf_faceset fs; /* the database's faces */
    sbf_pipeline *pl;
    sbf_photo_job *jobs; /* the query photos */
    int face;            /* --face N: which of their faces (-1: the largest) */
    int *q;              /* the query face of each: index into jobs[k].faces */
    float *qemb;         /* the query embeddings, srcs.n x dim */
    sbf_retrieval ret;
    char *take; /* take[p]: photo p of fs shows the person (never the query photo itself) */
    int ntake;
    int *members, nm;    /* the faces of the query's cluster (for the people page) */
    char **placed_names; /* placed_names[p]: where photo p went, relative to chosen (for the people page) */
    char chosen[4096];   /* the folder written */
    int placed, failed;
    char **made; /* the files placed (undone when a full disk stops the run) */
    int nmade;
    char err[512];
} find_run;

static void find_free(find_run *r) {
    for (int k = 0; r->jobs && k < r->srcs.n; k++) sbf_photo_job_clear(&r->jobs[k]);
    free(r->jobs);
    free(r->q);
    free(r->qemb);
    sbf_retrieval_free(&r->ret);
    sbf_pipeline_free(r->pl);
    for (int p = 0; r->placed_names && p < r->fs.nphotos; p++) free(r->placed_names[p]);
    free(r->placed_names);
    sbf_faceset_free(&r->fs);
    free(r->take);
    free(r->members);
    for (int k = 0; k < r->nmade; k++) free(r->made[k]);
    free(r->made);
}

static int find_args(find_run *r) {
    const char *lm = NULL, *upsample_s = "auto", *seed_s = NULL;
    double t = -9; /* not given: the per-face rule */
    int itr = SBF_DEFAULT_ITERATIONS, copy = 0, link = 0, symlink = 0, threads = 0;
    r->db = SBF_DEFAULT_DB;
    const sbf_opt opts[] = {
        {"src", NULL, SBF_OPT_LIST, &r->srcs, "ME.jpg",
         "photo of the person to find (give -src again for more photos of the same person: used together)"},
        {"face", NULL, SBF_OPT_INT, &r->face, "N",
         "when a query photo shows several faces: the person of face N, numbered as in clusters.tsv (0, 1, ... in "
         "detection order; 'sortbyface detect ME.jpg' lists them); default: the largest face"},
        {"dest", NULL, SBF_OPT_STRING, &r->dest, "DIR", "folder to create for the matches (never overwritten)"},
        {"db", NULL, SBF_OPT_STRING, &r->db, "FILE", "database written by embed (default embeddings.db)"},
        {"threshold", "t", SBF_OPT_DOUBLE, &t, "T",
         "one cosine-similarity threshold for every face (default: a threshold per face, as sort)"},
        {"itr", "iterations", SBF_OPT_INT, &itr, "N", "Chinese Whispers iterations (default 30)"},
        {"seed", NULL, SBF_OPT_STRING, &seed_s, "S", "random seed (default fixed, so runs repeat)"},
        {"copy", NULL, SBF_OPT_FLAG, &copy, NULL, "copy the photos (default)"},
        {"link", NULL, SBF_OPT_FLAG, &link, NULL, "hard-link instead of copying"},
        {"symlink", NULL, SBF_OPT_FLAG, &symlink, NULL, "symlink instead of copying"},
        {"align", NULL, SBF_OPT_STRING, &r->align_s, "mtcnn|box|eyes",
         "alignment of the query (default: the database's rule; any other is refused)"},
        {"upsample", NULL, SBF_OPT_STRING, &upsample_s, "N|auto", "detector upsampling for the query (default auto)"},
        {"threads", NULL, SBF_OPT_INT, &threads, "N", "threads (default: all cores)"},
        {"landmarks-model", NULL, SBF_OPT_STRING, &lm, "FILE", "dlib 68-point model"},
        {"model", NULL, SBF_OPT_STRING, &r->model_s, "float32|int8|FILE",
         "FaceNet model of the query (default: the database's; any other is refused)"},
        {0},
    };
    const sbf_cmd_spec spec = {
        "find",
        "find -src ME.jpg [-src ME2.jpg ...] -dest DIR [OPTIONS]",
        "Copies every photo of the person shown in ME.jpg (not the query photos themselves) from the database into "
        "DIR.",
        "The query face is clustered together with the database faces as sort clusters them (a threshold\n"
        "per face that fits the library, then the joining of clusters judged one person; -t T: one threshold\n"
        "for every face).  The person's photos are those of the query's cluster; a query alone in its\n"
        "cluster also takes the cluster of its most similar face when that face nearly passes the threshold;\n"
        "then every face closer to the person's mean face than its own threshold joins.  Several -src photos\n"
        "of the same person are used together (more photos, more found).  When nothing passes, nothing is\n"
        "placed: find says so, lists the closest photos with their similarity on stdout (you decide) and\n"
        "exits 1.  In a photo with several faces the largest is the query (said on stderr) unless --face N\n"
        "names another.  The result goes to stdout, notes to stderr.\n"
        "If DIR is an earlier output folder, DIR-2 (or the next free name) is used instead; if it is another\n"
        "existing folder, a new folder Found-NAME inside it (NAME: ME's name); either is said on stderr.\n"
        "A full disk stops the run with one line and leaves nothing half-written.\n"
        "DIR/index.html shows the person's faces: open it in a browser.",
        opts,
        0,
        0};
    int npos, rc;
    char **pos;
    if ((rc = sbf_parse(&spec, r->argc, r->argv, &npos, &pos))) return rc == 1 ? SBF_VERB_DONE : rc;
    free(pos);
    r->src = r->srcs.n ? r->srcs.v[0] : NULL;
    if (!r->src || !r->dest) {
        fprintf(stderr, "sortbyface find: missing %s\nusage: sortbyface %s\n", !r->src ? "-src ME.jpg" : "-dest DIR",
                spec.usage);
        return 2;
    }
    if ((rc = sbf_place_mode_flags("find", copy, link, symlink, &r->mode))) return rc;
    sbf_cluster_opts_default(&r->co);
    sbf_retrieve_opts_default(&r->ro);
    r->ro.closest = 32;    /* the closest faces, for the closest photos listed when nothing passes */
    r->ro.fixed = t >= -1; /* -t given */
    r->ro.threshold = t;
    r->co.graph.threshold = t;
    r->co.graph.threads = threads;
    r->co.iterations = itr;
    if (seed_s) {
        char *end;
        r->co.seed = strtoull(seed_s, &end, 10);
        if (*end || end == seed_s) {
            fprintf(stderr, "sortbyface find: --seed expects a whole number, got '%s'\n", seed_s);
            return 2;
        }
    }
    sbf_pipeline_defaults(&r->po);
    if ((rc = sbf_pipeline_set_flags(&r->po, "find", upsample_s, r->align_s))) return rc;
    r->po.threads = threads;
    r->po.landmarks_model = lm;
    return 0;
}

/* The database's faces; the query is embedded with its alignment rule and FaceNet model. */
static int find_load(find_run *r) {
    sbf_store *st = sbf_store_open(r->db, SBF_STORE_READ, r->err, sizeof r->err);
    if (!st) {
        sbf_db_open_error(r->db, r->err);
        return 3;
    }
    int rc = sbf_pipeline_db_align(&r->po, st, "find", r->db, r->align_s);
    if (!rc) rc = sbf_pipeline_db_model(&r->po, st, "find", r->db, r->model_s);
    if (!rc && sbf_store_faceset(st, &r->fs, r->err, sizeof r->err)) {
        sbf_file_error(r->db, r->err);
        rc = 3;
    }
    sbf_store_close(st);
    return rc;
}

/* The query faces, one per -src photo: the only one, face --face N, or the largest (said so); exit status 1
 * when a photo shows none, 2 when it has no face N; a small one gets a warning. */
static int find_query(find_run *r) {
    int nq = r->srcs.n, dim = SBF_EMBED_DIM;
    if (!(r->pl = sbf_pipeline_new(&r->po, r->err, sizeof r->err))) {
        sbf_error("%s", r->err);
        return 3;
    }
    if (!(r->jobs = calloc((size_t)nq, sizeof *r->jobs)) || !(r->q = calloc((size_t)nq, sizeof *r->q)) ||
        !(r->qemb = malloc((size_t)nq * dim * sizeof *r->qemb))) {
        sbf_error("out of memory");
        return 3;
    }
    for (int k = 0; k < nq; k++) r->jobs[k].path = r->srcs.v[k];
    if (sbf_pipeline_run(r->pl, r->jobs, nq, r->err, sizeof r->err)) {
        sbf_error("%s", r->err);
        return 3;
    }
    for (int k = 0; k < nq; k++) {
        sbf_photo_job *j = &r->jobs[k];
        const char *src = r->srcs.v[k];
        if (j->failed) {
            sbf_file_error(src, j->err);
            return 1;
        }
        if (j->nfaces == 0) {
            sbf_file_error(src, "no face found; the query photo must show the person's face");
            return 1;
        }
        char m[240];
        if (r->face >= 0) {
            for (r->q[k] = 0; r->q[k] < j->nfaces && j->faces[r->q[k]].index != r->face; r->q[k]++) {}
            if (r->q[k] == j->nfaces) {
                snprintf(m, sizeof m, "has %d face%s (numbered 0 to %d), no face %d (see --face)", j->nfaces,
                         sbf_s(j->nfaces), j->nfaces - 1, r->face);
                sbf_file_error(src, m);
                return 2;
            }
        } else if (j->nfaces > 1) {
            long best = -1;
            for (int i = 0; i < j->nfaces; i++) {
                const sbf_box *c = &j->faces[i].box;
                long area = (c->right - c->left + 1) * (c->bottom - c->top + 1);
                if (area > best) best = area, r->q[k] = i;
            }
            snprintf(m, sizeof m,
                     "%d faces found; finding face %d, the largest (--face N picks another: 0 to %d, "
                     "numbered as in clusters.tsv)",
                     j->nfaces, j->faces[r->q[k]].index, j->nfaces - 1);
            sbf_file_error(src, m);
        }
        const sbf_box *b = &j->faces[r->q[k]].box;
        long side = b->right - b->left + 1;
        if (side < SBF_CROP) {
            snprintf(m, sizeof m, "warning: the face is only %ld px wide (less than %d); matches may be less reliable",
                     side, SBF_CROP);
            sbf_file_error(src, m);
        }
        memcpy(r->qemb + (size_t)k * dim, j->faces[r->q[k]].emb, (size_t)dim * sizeof *r->qemb);
    }
    return 0;
}

/* 1 when photo p of the database is one of the query photos (or a link to one). */
static int is_query_photo(const find_run *r, int p) {
    for (int k = 0; k < r->srcs.n; k++)
        if (sbf_path_same_photo(r->fs.photos[p].path, r->srcs.v[k])) return 1;
    return 0;
}

/* The person's faces (src/retrieve.c): the photos holding them, each once, never a query photo itself (nor a
 * link to one).  When there is none: nothing placed, the closest photos listed on stdout, exit status 1. */
static int find_cluster(find_run *r) {
    const sbf_faceset *fs = &r->fs;
    sbf_progress prog;
    sbf_progress_start(&prog, "sortbyface find: comparing faces");
    r->co.graph.progress = sbf_progress_update;
    r->co.graph.progress_ctx = &prog;
    int rc = sbf_retrieve(fs->emb, fs->nfaces, SBF_EMBED_DIM, r->qemb, r->srcs.n, &r->co, &r->ro, &r->ret);
    sbf_progress_end(&prog);
    if (rc || !(r->take = calloc((size_t)fs->nphotos + 1, 1)) ||
        !(r->members = malloc(((size_t)r->ret.nfaces + 1) * sizeof *r->members))) {
        sbf_error("out of memory while clustering");
        return 3;
    }
    fprintf(stderr, "sortbyface find: %s\n", r->ret.why);
    char *isq = calloc((size_t)fs->nphotos + 1, 1);
    if (!isq) {
        sbf_error("out of memory");
        return 3;
    }
    for (int p = 0; p < fs->nphotos; p++) isq[p] = (char)is_query_photo(r, p);
    int in_query = 0; /* faces found that are the query photos' own (the database holds them too) */
    for (int i = 0; i < r->ret.nfaces; i++) {
        int f = r->ret.faces[i], ph = fs->face_photo[f];
        r->members[r->nm++] = f;
        in_query += isq[ph];
        if (r->take[ph] || isq[ph]) continue;
        r->take[ph] = 1;
        r->ntake++;
    }
    if (r->ntake) {
        if (in_query)
            fprintf(stderr, "sortbyface find: %s; %d of them in the query photo%s, which %s not placed\n",
                    r->ret.reason, in_query, sbf_s(r->srcs.n), r->srcs.n == 1 ? "is" : "are");
        else fprintf(stderr, "sortbyface find: %s\n", r->ret.reason);
        free(isq);
        return 0;
    }
    char *shown = calloc((size_t)fs->nphotos + 1, 1);
    if (!shown) {
        free(isq);
        sbf_error("out of memory");
        return 3;
    }
    int cand = 0; /* the closest photos to list: neither a query photo nor listed twice */
    for (int c = 0; c < r->ret.nclosest; c++) {
        int ph = fs->face_photo[r->ret.closest[c]];
        if (shown[ph] || isq[ph]) continue;
        shown[ph] = 1;
        cand++;
    }
    if (!cand) {
        fprintf(stderr, "sortbyface find: no other photo in %s to compare with (%d face%s); nothing placed\n", r->db,
                fs->nfaces, sbf_s(fs->nfaces));
    } else {
        fprintf(stderr,
                "sortbyface find: no photo of this person passes in %s (%d face%s searched; %s); nothing placed. The "
                "closest photos and their similarity:\n",
                r->db, fs->nfaces, sbf_s(fs->nfaces), r->ret.reason);
        memset(shown, 0, (size_t)fs->nphotos + 1);
        for (int c = 0, listed = 0; c < r->ret.nclosest && listed < SBF_RETRIEVE_CLOSEST; c++) {
            int ph = fs->face_photo[r->ret.closest[c]];
            if (shown[ph] || isq[ph]) continue;
            shown[ph] = 1;
            listed++;
            printf("%.3f\t%s\n", r->ret.closest_sim[c], fs->photos[ph].path);
        }
    }
    free(shown);
    free(isq);
    return 1;
}

/* A fresh folder holding the photos taken (a photo that cannot be placed is listed). */
static int find_place(find_run *r) {
    int renamed = 0;
    /* inside a folder of the user's: "Found-<stem of the query>" */
    char inside[300];
    const char *qb = strrchr(r->src, '/');
    qb = qb ? qb + 1 : r->src;
    const char *qd = strrchr(qb, '.');
    snprintf(inside, sizeof inside, "Found-%.*s", (int)(qd && qd != qb ? qd - qb : (long)strlen(qb)), qb);
    if (sbf_output_fresh_dir(r->dest, inside, r->chosen, sizeof r->chosen, &renamed, r->err, sizeof r->err)) {
        sbf_error("%s", r->err);
        return 3;
    }
    if (renamed) fprintf(stderr, "sortbyface find: %s already exists; writing to %s instead\n", r->dest, r->chosen);
    if (r->mode == SBF_PLACE_LINK) /* another file system: one note, and copies */
        for (int p = 0; p < r->fs.nphotos; p++) {
            if (!r->take[p]) continue;
            if (sbf_link_check(r->fs.photos[p].path, r->chosen) == EXDEV) {
                fprintf(stderr,
                        "sortbyface find: %s is on another file system than the photos (%s): cannot hard-link, copying "
                        "instead\n",
                        r->chosen, r->fs.photos[p].path);
                r->mode = SBF_PLACE_COPY;
            }
            break;
        }
    sbf_progress prog;
    char label[64], placed[4400];
    if (!(r->made = calloc((size_t)r->ntake + 1, sizeof *r->made))) {
        sbf_error("out of memory");
        return 3;
    }
    snprintf(label, sizeof label, "sortbyface find: %s", sbf_place_doing(r->mode));
    sbf_progress_start(&prog, label);
    r->placed_names = calloc((size_t)r->fs.nphotos + 1, sizeof *r->placed_names);
    size_t cl = strlen(r->chosen);
    for (int p = 0; p < r->fs.nphotos; p++) {
        if (!r->take[p]) continue;
        const char *path = r->fs.photos[p].path;
        int e = sbf_place_file(path, r->chosen, NULL, r->mode, placed, sizeof placed, r->err, sizeof r->err);
        if (e && sbf_output_fatal_errno(e)) { /* a full disk: one line, and nothing half-written left */
            sbf_progress_end(&prog);
            sbf_error("%s: %s; stopped, nothing written", r->chosen, strerror(e));
            for (int k = r->nmade - 1; k >= 0; k--) unlink(r->made[k]);
            char *mk = sbf_path_join(r->chosen, SBF_OUTPUT_MARKER);
            if (mk) unlink(mk);
            free(mk);
            rmdir(r->chosen);
            return 3;
        }
        if (e) {
            sbf_file_error(path, r->err);
            r->failed++;
        } else {
            r->placed++;
            if ((r->made[r->nmade] = strdup(placed))) r->nmade++;
            if (r->placed_names && strlen(placed) > cl) r->placed_names[p] = strdup(placed + cl + 1);
        }
        sbf_progress_update(&prog, (double)(r->placed + r->failed) / r->ntake);
    }
    sbf_progress_end(&prog);
    return 0;
}

/* ---- the people page (issue 20) ---------------------------------------------------------------------------
 * The same page as sort's for the one person found: a section over the output folder itself with the faces of
 * the query's cluster in the photos placed (the query photo's own face is left out with its photo). */
static int find_page(find_run *r) {
    const sbf_faceset *fs = &r->fs;
    const char **links = calloc((size_t)fs->nfaces + 1, sizeof *links);
    int *faces = malloc((size_t)r->nm * sizeof *faces + 1), n = 0, rc = -1;
    sbf_page pg;
    sbf_page_stats ps;
    if (links && faces && r->placed_names && !sbf_page_init(&pg, fs, links, r->chosen)) {
        for (int i = 0; i < r->nm; i++) {
            int f = r->members[i], p = fs->face_photo[f];
            if (!r->take[p]) continue;
            links[f] = r->placed_names[p]; /* NULL when it could not be placed: shown without a link */
            faces[n++] = f;
        }
        const char *q = strrchr(r->src, '/');
        char title[300];
        snprintf(title, sizeof title, "The person in %s%s", q ? q + 1 : r->src,
                 r->srcs.n > 1 ? " and the other queries" : "");
        if (sbf_page_add_person(&pg, title, "", faces, n)) snprintf(r->err, sizeof r->err, "out of memory");
        else rc = sbf_page_write(&pg, r->chosen, r->po.threads, 1, &ps, r->err, sizeof r->err);
        sbf_page_free(&pg);
    } else snprintf(r->err, sizeof r->err, "out of memory");
    free(links);
    free(faces);
    if (rc) {
        sbf_error("no people page: %s", r->err);
        return 3;
    }
    fprintf(stderr, "sortbyface find: people page %s/%s: %d thumbnail%s, %.2f s\n", r->chosen, SBF_PAGE_FILE, ps.shown,
            sbf_s(ps.shown), ps.seconds_thumbs + ps.seconds_html);
    return 0;
}
/* ---- end of the people page ------------------------------------------------------------------------------------ */

/* The result on stdout; exit status 1 when a photo could not be placed. */
static int find_report(find_run *r) {
    printf("%s %d photo%s of the person in %s to %s%s\n",
           r->mode == SBF_PLACE_COPY   ? "copied"
           : r->mode == SBF_PLACE_LINK ? "linked"
                                       : "symlinked",
           r->placed, sbf_s(r->placed), r->src, r->chosen, r->failed ? " (some failed, see above)" : "");
    if (r->srcs.n > 1)
        fprintf(stderr, "sortbyface find: the person was found from %d query photos together\n", r->srcs.n);
    return r->failed ? 1 : 0;
}

int sbf_cmd_find(int argc, char **argv) {
    static int (*const phases[])(find_run *) = {find_args,  find_load, find_query, find_cluster,
                                                find_place, find_page, find_report};
    find_run r = {.argc = argc, .argv = argv, .face = -1};
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof phases / sizeof *phases; i++) rc = phases[i](&r);
    find_free(&r);
    return rc == SBF_VERB_DONE ? 0 : rc;
}
