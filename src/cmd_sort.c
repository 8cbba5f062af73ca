/* src/cmd_sort.c — the 'sort' verb (the original's sort_images.py), people that last across runs.
 * Plain 'sort' keeps the database's managed output folder up to date: it reads what the user did to the
 * folder (src/managed.c), sorts the faces warm-started from the stored people (src/people.c), re-syncs the
 * folder and stores the result.  'sort -dest DIR' and 'sort --fresh' are experiments: a new folder,
 * clustered from scratch, and the database unchanged.  A run goes through phases on one sort_run:
 * arguments, load, output folder, edits, cluster, plan, write, report. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/cli.h"
#include "src/cluster.h"
#include "src/managed.h"
#include "src/output.h"
#include "src/page.h"
#include "src/people.h"
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
    int itr, seed, threads, approx, fresh, no_corrections, dry, min_faces;
    int mode_given;
    sbf_place_mode mode;
    /* the phases' results */
    sbf_store *store; /* the database (written in a managed run) */
    sbf_faceset fs;   /* the database's faces */
    sbf_people pp;    /* the people (a scratch copy in an experiment) */
    int managed;      /* 1: the managed folder; 0: an experiment in a fresh folder */
    sbf_managed *mg;
    sbf_managed_stats ms;
    uint32_t *fid, *person; /* per face */
    sbf_people_info pi;
    char outdir[PATH_MAX]; /* the folder written */
    char base[4096];
    int has_base;
    sbf_sort_stats st;
    double seconds_write;
    char err[1024];
} sort_run;

static void sort_free(sort_run *r) {
    sbf_managed_close(r->mg);
    sbf_store_close(r->store);
    sbf_people_free(&r->pp);
    free(r->fid);
    free(r->person);
    sbf_faceset_free(&r->fs);
}

static int sort_args(sort_run *r) {
    int copy = 0, link = 0, symlink = 0;
    r->db = SBF_DEFAULT_DB;
    r->thr = -9; /* not given: the per-face rule */
    r->itr = SBF_DEFAULT_ITERATIONS;
    r->seed = (int)SBF_DEFAULT_SEED;
    r->min_faces = -1;
    char shelp[128], mhelp[160];
    snprintf(shelp, sizeof shelp, "random seed of Chinese Whispers; same seed, same result (default %d)",
             (int)SBF_DEFAULT_SEED);
    snprintf(mhelp, sizeof mhelp,
             "people with fewer faces (and no name) share the folder " SBF_UNKNOWN_FOLDER "/ (default %d; kept "
             "by the managed folder)",
             SBF_DEFAULT_MIN_FACES);
    const sbf_opt opts[] = {
        {"db", NULL, SBF_OPT_STRING, &r->db, "FILE", "embeddings database (default " SBF_DEFAULT_DB ")"},
        {"threshold", "t", SBF_OPT_DOUBLE, &r->thr, "T",
         "one cosine-similarity threshold for every face (default: a threshold per face, see below)"},
        {"itr", "iterations", SBF_OPT_INT, &r->itr, "N", "Chinese Whispers iterations (default 30)"},
        {"dest", NULL, SBF_OPT_STRING, &r->dest, "DIR",
         "an experiment: a new folder DIR (see below); the database's people are neither read nor changed"},
        {"fresh", NULL, SBF_OPT_FLAG, &r->fresh, NULL,
         "an experiment: cluster from scratch keeping names and corrections (see below)"},
        {"no-corrections", NULL, SBF_OPT_FLAG, &r->no_corrections, NULL,
         "with --fresh: keep no names and corrections either"},
        {"min-faces", NULL, SBF_OPT_INT, &r->min_faces, "N", mhelp},
        {"dry-run", NULL, SBF_OPT_FLAG, &r->dry, NULL,
         "print what would change (edits read, files placed, moved, removed); change nothing"},
        {"seed", NULL, SBF_OPT_INT, &r->seed, "S", shelp},
        {"copy", NULL, SBF_OPT_FLAG, &copy, NULL, "copy photos into the person folders (default)"},
        {"link", NULL, SBF_OPT_FLAG, &link, NULL,
         "hard-link photos instead of copying (same file system; else copies, with a note)"},
        {"symlink", NULL, SBF_OPT_FLAG, &symlink, NULL, "symlink photos (absolute paths) instead of copying"},
        {"threads", NULL, SBF_OPT_INT, &r->threads, "N", "threads for the similarity graph (default: all cores)"},
        {"approx", NULL, SBF_OPT_FLAG, &r->approx, NULL,
         "approximate-neighbour graph (much faster beyond ~50,000 faces; may split a few clusters)"},
        {0},
    };
    const sbf_cmd_spec spec = {
        "sort",
        "sort [--db FILE] [-t T] [--min-faces N] [--dry-run] [-dest DIR | --fresh] [--copy|--link|--symlink]",
        "Sort the faces in the database into one folder per person, and keep that folder up to date.",
        "Every face is a node; two faces are joined when the cosine similarity of their embeddings exceeds a\n"
        "threshold; Chinese Whispers groups them.  Two faces of one photo are never one person.\n"
        "The threshold fits the library: each face gets its own, higher the more faces of the library look\n"
        "somewhat like it (a big library of strangers needs a higher bar than a family's few people); two\n"
        "faces are joined above the mean of their two thresholds, and the edge weighs by how far it passes\n"
        "that mean.  Chinese Whispers runs with every threshold a little higher (surer joins); then clusters\n"
        "that a score learned on labelled faces judges to be one person are joined, best first.  sort says on\n"
        "stderr what it chose and why.  -t T sets one threshold for every face instead (no joining after), and\n"
        "each edge then weighs its similarity.\n"
        "\n"
        "People last: the database keeps every person with a number that is never given to anyone else and\n"
        "the name you give.  The first plain 'sort' writes ./" DEFAULT_DEST "/ (or the next free name) and the\n"
        "database records it as its managed folder; every later plain 'sort', from any folder, updates that\n"
        "folder in place: faces sorted before keep their person unless the new evidence moves them (faces that a\n"
        "sort from scratch puts apart from the rest of their person become a new person, and sort says so), new\n"
        "faces join people or make new ones.  Folders: 'Person 0001' (at least 4 digits, Person 0001 had the most\n"
        "faces at the first sort), a named person's folder is exactly the name, and the people with fewer than\n"
        "--min-faces faces share " SBF_UNKNOWN_FOLDER "/.  A photo with two people is in both folders.  Photos are\n"
        "copied (--link, --symlink: the folder keeps the mode of its first sort), never moved or changed.\n"
        "\n"
        "The folder is for editing too; the next sort reads what you did and remembers it:\n"
        "  rename a person's folder         that person has that name (a name someone has: the two merge)\n"
        "  move a photo to another folder   that face is that person (a new folder: a new person of its name)\n"
        "  move a photo into " SBF_UNKNOWN_FOLDER "/        that face is not the person it was with\n"
        "  delete a photo                   that face is not that person (in " SBF_UNKNOWN_FOLDER "/: never place it)\n"
        "  delete every photo of a person   (or the folder) that person is hidden\n"
        "  edit a photo, or add a file      it is yours: sort never moves or deletes it (said once)\n"
        "Then it renames, moves, places and removes only files it placed itself; a placed photo whose original\n"
        "is gone is kept (it may be the last copy) and said.  'sortbyface corrections' lists what it\n"
        "remembers, 'withdraw' takes one back; 'people', 'name', 'merge', 'is', 'is-not' do the same from the\n"
        "command line.  Interrupted at any moment, the next sort finishes the job.\n"
        "\n"
        "Experiments (the database and the managed folder are not changed; a new folder is written):\n"
        "  -dest DIR        clusters from scratch and discards the stored people, their numbers, names and all\n"
        "                   corrections (the sort of a new library).  DIR: made when it does not exist; DIR-2, ...\n"
        "                   next to an earlier output; inside another existing folder, DIR/" DEFAULT_DEST ".\n"
        "  --fresh          clusters from scratch and discards the stored memberships, but keeps the names and\n"
        "                   the corrections: each stored person's number and name go to the new cluster sharing\n"
        "                   most of their faces (-dest DIR, or " DEFAULT_DEST "-fresh, -fresh-2, ...).\n"
        "  --fresh --no-corrections   discards the names and corrections too.\n"
        "\n"
        "DIR/clusters.tsv lists every face (path, face, box, person number, placed file) for scripts.\n"
        "DIR/index.html shows the people: open it in a browser (face thumbnails in DIR/.thumbs/).",
        opts,
        0,
        0};
    int npos, rc;
    char **pos = NULL;
    rc = sbf_parse(&spec, r->argc, r->argv, &npos, &pos);
    free(pos);
    if (rc) return rc == 1 ? SBF_VERB_DONE : rc;
    r->mode_given = copy + link + symlink;
    if ((rc = sbf_place_mode_flags("sort", copy, link, symlink, &r->mode))) return rc; /* numbers: sbf_parse */
    if (r->no_corrections && !r->fresh) {
        fprintf(stderr, "sortbyface sort: --no-corrections goes with --fresh\n");
        return 2;
    }
    return 0;
}

/* Every face of the database and its people; exit status 1 when it holds none.  A managed run holds the
 * database's lock to its end. */
static int sort_load(sort_run *r) {
    struct stat st;
    if (stat(r->db, &st) != 0) { /* never made here by a sort */
        sbf_db_open_error(r->db, strerror(errno));
        return 3;
    }
    int write = !r->dest && !r->fresh && !r->dry;
    if (r->dest && !r->fresh) write = 0; /* may still turn out to be the managed folder: then opened again */
    r->store = sbf_store_open(r->db, write ? SBF_STORE_WRITE : SBF_STORE_READ, r->err, sizeof r->err);
    if (!r->store) {
        sbf_db_open_error(r->db, r->err);
        return 3;
    }
    int failed = sbf_store_faceset(r->store, &r->fs, r->err, sizeof r->err);
    sbf_store_stats sst;
    sbf_store_get_stats(r->store, &sst);
    if (failed) {
        sbf_file_error(r->db, r->err);
        return 3;
    }
    if (sst.torn_bytes)
        fprintf(stderr,
                "sortbyface sort: %s: ignoring an unfinished last record (%llu bytes; an embed run was interrupted or "
                "is running)\n",
                r->db, sst.torn_bytes);
    if (sbf_people_load(&r->pp, r->store, r->err, sizeof r->err)) {
        sbf_file_error(r->db, r->err);
        return 3;
    }
    r->has_base = sbf_store_base(r->store, r->base, sizeof r->base) != NULL;
    if (r->has_base) {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) && !strcmp(cwd, r->base)) r->has_base = 0; /* (paths open as they are) */
    }
    if (r->fs.nfaces == 0) {
        fprintf(stderr, "sortbyface sort: no faces in %s (%d photo%s processed); nothing to sort\n", r->db,
                r->fs.nphotos, sbf_s(r->fs.nphotos));
        return 1;
    }
    if (!(r->fid = calloc((size_t)r->fs.nfaces, sizeof *r->fid)) ||
        !(r->person = calloc((size_t)r->fs.nfaces, sizeof *r->person))) {
        sbf_error("out of memory for %d faces", r->fs.nfaces);
        return 3;
    }
    return 0;
}

/* Which folder: the managed one (recorded, or made now by the first plain sort), or a fresh experiment. */
static int sort_folder(sort_run *r) {
    sbf_people *pp = &r->pp;
    r->managed = !r->fresh;
    if (r->managed && r->dest) { /* -dest naming the managed folder is a plain sort */
        char real[PATH_MAX];
        r->managed = pp->outdir && realpath(r->dest, real) && !strcmp(real, pp->outdir);
        if (r->managed && !r->dry) { /* the database was opened read-only: again, for writing */
            sbf_store_close(r->store);
            r->store = sbf_store_open(r->db, SBF_STORE_WRITE, r->err, sizeof r->err);
            if (!r->store) {
                sbf_db_open_error(r->db, r->err);
                return 3;
            }
            sbf_people_free(pp);
            if (sbf_people_load(pp, r->store, r->err, sizeof r->err)) {
                sbf_file_error(r->db, r->err);
                return 3;
            }
        }
    }
    if (!r->managed) {
        if (r->dry) {
            fprintf(stderr, "sortbyface sort: --dry-run is for the managed folder (an experiment changes nothing but "
                            "its new folder)\n");
            return 2;
        }
        return 0;
    }
    if (r->min_faces > 0) pp->min_faces = r->min_faces;
    if (!pp->outdir) { /* the first plain sort: ./Sorted-pictures (or the next free name) becomes the managed folder */
        char chosen[PATH_MAX];
        int renamed = 0;
        if (r->dry) snprintf(chosen, sizeof chosen, "%s", DEFAULT_DEST);
        else if (sbf_output_fresh_dir(DEFAULT_DEST, NULL, chosen, sizeof chosen, &renamed, r->err, sizeof r->err)) {
            sbf_error("%s", r->err);
            return 3;
        }
        if (renamed)
            fprintf(stderr, "sortbyface sort: %s already exists; writing to %s instead\n", DEFAULT_DEST, chosen);
        char real[PATH_MAX + 64], cwd[PATH_MAX];
        if (!r->dry && !realpath(chosen, real)) {
            sbf_error("%s: %s", chosen, strerror(errno));
            return 3;
        }
        if (r->dry) snprintf(real, sizeof real, "%s/" DEFAULT_DEST, getcwd(cwd, sizeof cwd) ? cwd : ".");
        if (!(pp->outdir = strdup(real))) {
            sbf_error("out of memory");
            return 3;
        }
        pp->mode = (int)r->mode;
    } else if (r->mode_given && (int)r->mode != pp->mode) {
        fprintf(stderr, "sortbyface sort: %s keeps its mode (%s photos); --%s is for a new folder (sort -dest DIR)\n",
                pp->outdir, sbf_place_done((sbf_place_mode)pp->mode),
                r->mode == SBF_PLACE_LINK      ? "link"
                : r->mode == SBF_PLACE_SYMLINK ? "symlink"
                                               : "copy");
    }
    struct stat st;
    const char *rec = sbf_store_get_setting(r->store, SBF_SETTING_BASE);
    size_t rl = rec ? strlen(rec) : 0;
    if (stat(pp->outdir, &st) != 0 && rec && r->base[0] && strcmp(rec, r->base) && !strncmp(pp->outdir, rec, rl) &&
        pp->outdir[rl] == '/') { /* the library moved with its database and its folder: the folder moved too */
        char moved[PATH_MAX * 2];
        snprintf(moved, sizeof moved, "%s%s", r->base, pp->outdir + rl);
        char *c = stat(moved, &st) == 0 && S_ISDIR(st.st_mode) ? strdup(moved) : NULL;
        if (c) {
            fprintf(stderr, "sortbyface sort: the library moved; its folder %s is %s now\n", pp->outdir, c);
            free(pp->outdir);
            pp->outdir = c;
        }
    }
    int created = 0;
    r->mg = sbf_managed_open(pp->outdir, r->has_base ? r->base : NULL, r->dry, &created, r->err, sizeof r->err);
    if (!r->mg) {
        sbf_error("%s", r->err);
        return 3;
    }
    if (created && pp->nplaced) { /* the folder was deleted as a whole: written anew, nothing read from it */
        fprintf(stderr, "sortbyface sort: %s was gone; writing it again\n", pp->outdir);
        for (int k = 0; k < pp->nplaced; k++) {
            free(pp->placed[k].rel);
            free(pp->placed[k].to);
        }
        pp->nplaced = 0;
        pp->planned = 0;
        for (int i = 0; i < pp->nren; i++) {
            free(pp->ren[i].from);
            free(pp->ren[i].to);
        }
        pp->nren = 0;
        for (int i = 0; i < pp->npersons; i++) {
            free(pp->persons[i].folder);
            pp->persons[i].folder = NULL;
        }
    }
    snprintf(r->outdir, sizeof r->outdir, "%s", pp->outdir);
    return 0;
}

/* The user's edits of the managed folder (after finishing an interrupted run's view of it). */
static int sort_edits(sort_run *r) {
    if (!r->managed) return 0;
    if (sbf_managed_recover(r->mg, &r->pp, r->dry, &r->ms) || sbf_managed_read_edits(r->mg, &r->pp, stdout, &r->ms)) {
        sbf_error("out of memory reading %s", r->outdir);
        return 3;
    }
    if (r->ms.recovered)
        fprintf(
            stderr,
            "sortbyface sort: the last sort of %s was interrupted; %d of its changes were done, the rest follows now\n",
            r->outdir, r->ms.recovered);
    return 0;
}

/* The people: warm-started from the stored ones (managed), or from scratch (experiments). */
static int sort_cluster(sort_run *r) {
    const sbf_faceset *fs = &r->fs;
    if (fs->nfaces > 50000 && !r->approx)
        fprintf(stderr,
                "sortbyface sort: comparing all pairs of %d faces (takes a while; --approx is about 10x faster)\n",
                fs->nfaces);
    sbf_people_opts o;
    sbf_people_opts_default(&o);
    o.rule = r->thr < -1; /* no -t */
    if (!o.rule) o.threshold = r->thr;
    o.threads = r->threads;
    o.approx = r->approx;
    o.iterations = r->itr;
    o.seed = (uint64_t)(unsigned)r->seed;
    if (!r->managed) {
        o.fresh = 1;
        o.match = 1;
        if (!r->fresh || r->no_corrections) { /* -dest alone, --no-corrections: nothing stored counts */
            int mf = r->min_faces > 0 ? r->min_faces : SBF_DEFAULT_MIN_FACES;
            sbf_people_free(&r->pp);
            sbf_people_init(&r->pp);
            r->pp.min_faces = mf;
        } else if (r->min_faces > 0) r->pp.min_faces = r->min_faces;
    }
    sbf_progress prog;
    sbf_progress_start(&prog, "sortbyface sort: comparing faces");
    o.progress = sbf_progress_update;
    o.progress_ctx = &prog;
    int rc = sbf_people_update(&r->pp, fs, &o, r->fid, r->person, &r->pi);
    sbf_progress_end(&prog);
    if (rc) {
        sbf_error("out of memory clustering %d faces", fs->nfaces);
        return 3;
    }
    if (r->managed) sbf_people_prune(&r->pp);
    return 0;
}

/* An experiment: a fresh folder tree. */
static int write_fresh(sort_run *r) {
    int renamed = 0;
    const char *dest = r->dest ? r->dest : DEFAULT_DEST "-fresh";
    if (sbf_output_fresh_dir(dest, r->dest ? DEFAULT_DEST : NULL, r->outdir, sizeof r->outdir, &renamed, r->err,
                             sizeof r->err)) {
        sbf_error("%s", r->err);
        return 3;
    }
    if (renamed) fprintf(stderr, "sortbyface sort: %s already exists; writing to %s instead\n", dest, r->outdir);
    int n = r->fs.nfaces, *counts = sbf_people_counts(&r->pp);
    const char **folder = calloc((size_t)n + 1, sizeof *folder);
    char(*names)[NAME_MAX + 1] = calloc((size_t)n + 1, sizeof *names);
    if (!counts || !folder || !names) {
        free(counts);
        free(folder);
        free(names);
        sbf_error("out of memory");
        return 3;
    }
    for (int i = 0; i < n; i++) {
        const sbf_person *p = sbf_people_person(&r->pp, r->person[i]);
        const sbf_known_face *kf = sbf_people_face(&r->pp, r->fid[i]);
        if (p && (!kf || !sbf_people_ignored(&r->pp, kf->fid)))
            folder[i] = sbf_people_folder(p, counts[r->person[i]], r->pp.min_faces, names[i], sizeof names[i]);
    }
    sbf_progress prog;
    char label[64];
    snprintf(label, sizeof label, "sortbyface sort: %s", sbf_place_doing(r->mode));
    sbf_progress_start(&prog, label);
    int rc = sbf_write_tree(&r->fs, folder, r->person, r->outdir, r->mode, &r->st, sbf_progress_update, &prog, r->err,
                            sizeof r->err);
    sbf_progress_end(&prog);
    free(counts);
    free(folder);
    free(names);
    if (rc) {
        if (r->st.stopped) sbf_error("%s: %s; stopped, nothing written", r->outdir, strerror(r->st.stopped));
        else sbf_error("%s", r->err);
        return 3;
    }
    return 0;
}

/* The managed folder: plan, store the plan, re-sync, clusters.tsv, store the result. */
static int write_managed(sort_run *r) {
    sbf_people *pp = &r->pp;
    if (sbf_managed_plan(r->mg, pp, &r->fs, r->fid, r->person, stdout, &r->ms)) {
        sbf_error("out of memory planning %s", r->outdir);
        return 3;
    }
    if (r->dry) {
        int n = sbf_managed_plan_size(pp);
        sbf_managed_print_plan(pp, stdout);
        printf("dry run: %d change%s to %s; nothing was changed\n", n, sbf_s(n), r->outdir);
        return SBF_VERB_DONE;
    }
    /* the plan first: a kill from here on is finished by the next run (a plan of no change needs no record) */
    if (sbf_managed_plan_size(pp) && sbf_people_save(pp, r->store, r->err, sizeof r->err)) {
        sbf_file_error(r->db, r->err);
        return 3;
    }
    sbf_progress prog;
    char label[64];
    snprintf(label, sizeof label, "sortbyface sort: %s", sbf_place_doing((sbf_place_mode)pp->mode));
    sbf_progress_start(&prog, label);
    int rc = sbf_managed_execute(r->mg, pp, &r->fs, (sbf_place_mode)pp->mode, &r->ms, sbf_progress_update, &prog,
                                 r->err, sizeof r->err);
    sbf_progress_end(&prog);
    if (rc) {
        sbf_error("%s", r->err);
        return 3;
    }
    const char **file = calloc((size_t)r->fs.nfaces + 1, sizeof *file);
    if (!file) {
        sbf_error("out of memory");
        return 3;
    }
    sbf_managed_files(pp, &r->fs, r->fid, r->person, file);
    rc = sbf_write_clusters_tsv(r->outdir, &r->fs, r->person, file, r->err, sizeof r->err);
    free(file);
    if (rc) {
        sbf_error("%s", r->err);
        return 3;
    }
    /* the result, unless it is the state the database holds already (a night with nothing new) */
    size_t oldlen, newlen;
    const unsigned char *old = sbf_store_people(r->store, &oldlen);
    unsigned char *enc = sbf_people_encode(pp, &newlen);
    int same = enc && old && oldlen == newlen && !memcmp(old, enc, newlen);
    free(enc);
    if ((!same && sbf_people_save(pp, r->store, r->err, sizeof r->err)) ||
        sbf_store_maybe_compact(r->store, r->err, sizeof r->err)) {
        sbf_file_error(r->db, r->err);
        return 3;
    }
    return 0;
}

static int sort_write(sort_run *r) {
    double t0 = sbf_now();
    int rc = r->managed ? write_managed(r) : write_fresh(r);
    r->seconds_write = sbf_now() - t0;
    return rc;
}

/* The folder as the user would name it: relative when it is under the current folder. */
static const char *shown(const char *dir) {
    static char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return dir;
    size_t n = strlen(cwd);
    if (!strncmp(dir, cwd, n) && dir[n] == '/') return dir + n + 1;
    return dir;
}

/* ---- the people page (issue 20) ---------------------------------------------------------------------------
 * One section per person shown in a folder (its name or number, its folder), largest first; the faces in the
 * Unknown folder as the Unknown section; hidden people and ignored faces are left out.  The link of each face is
 * its placed file, read back from clusters.tsv (the one record of where each face's photo went, in a managed
 * folder and an experiment alike). */
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

typedef struct {
    uint32_t number;
    int count;
} page_person;

static int by_count_desc(const void *a, const void *b) {
    const page_person *x = a, *y = b;
    return x->count != y->count ? (x->count < y->count ? 1 : -1) : (x->number > y->number) - (x->number < y->number);
}

static int sort_page(sort_run *r) {
    const sbf_faceset *fs = &r->fs;
    const sbf_people *pp = &r->pp;
    int n = fs->nfaces, np = 0, nunk = 0, rc = -1, *cnt = sbf_people_counts(pp);
    size_t npn = (size_t)pp->next_person + 1;
    char **links = page_links_from_tsv(fs, r->outdir);
    int *faces = malloc(((size_t)n + 1) * sizeof *faces), *unk = malloc(((size_t)n + 1) * sizeof *unk);
    int *start = calloc(npn + 1, sizeof *start); /* the faces of person q: faces[start[q] .. start[q + 1]) */
    int *fill = calloc(npn, sizeof *fill);
    page_person *per = calloc(npn, sizeof *per);
    sbf_page pg;
    sbf_page_stats ps;
    if (cnt && links && faces && unk && start && fill && per &&
        !sbf_page_init(&pg, fs, (const char *const *)links, r->outdir)) {
        rc = 0;
        for (int i = 0; i < n; i++) { /* ignored faces are left out */
            const sbf_known_face *kf = sbf_people_face(pp, r->fid[i]);
            if (r->person[i] < pp->next_person && !(kf && sbf_people_ignored(pp, kf->fid))) start[r->person[i] + 1]++;
        }
        for (size_t q = 1; q <= npn; q++) start[q] += start[q - 1];
        for (int i = 0; i < n; i++) {
            const sbf_known_face *kf = sbf_people_face(pp, r->fid[i]);
            if (r->person[i] < pp->next_person && !(kf && sbf_people_ignored(pp, kf->fid)))
                faces[start[r->person[i]] + fill[r->person[i]]++] = i;
        }
        for (uint32_t q = 1; q < pp->next_person; q++)
            if (cnt[q] > 0 && sbf_people_person(pp, q)) per[np++] = (page_person){q, cnt[q]};
        qsort(per, (size_t)np, sizeof *per, by_count_desc);
        char name[NAME_MAX + 1];
        for (int k = 0; k < np && !rc; k++) {
            const sbf_person *p = sbf_people_person(pp, per[k].number);
            const char *folder = sbf_people_folder(p, per[k].count, pp->min_faces, name, sizeof name);
            const int *pf = faces + start[per[k].number], m = start[per[k].number + 1] - start[per[k].number];
            if (!folder || !m) continue; /* hidden, or every face ignored */
            if (!strcmp(folder, SBF_UNKNOWN_FOLDER) && !p->name) {
                memcpy(unk + nunk, pf, (size_t)m * sizeof *pf);
                nunk += m;
            } else rc = sbf_page_add_person(&pg, folder, folder, pf, m);
        }
        if (!rc) rc = sbf_page_set_unknown(&pg, SBF_UNKNOWN_FOLDER, unk, nunk);
        if (!rc) rc = sbf_page_find_similar(&pg, SBF_PAGE_SIMILAR_FLOOR, r->threads);
        if (rc) snprintf(r->err, sizeof r->err, "out of memory");
        else rc = sbf_page_write(&pg, r->outdir, r->threads, 1, &ps, r->err, sizeof r->err);
        sbf_page_free(&pg);
    } else sbf_seterr(r->err, sizeof r->err, "out of memory, or cannot read back %s/clusters.tsv", r->outdir);
    for (int i = 0; links && i < n; i++) free(links[i]);
    free(links);
    free(cnt);
    free(faces);
    free(unk);
    free(start);
    free(fill);
    free(per);
    if (rc) {
        sbf_error("no people page: %s", r->err);
        return 3;
    }
    fprintf(stderr, "sortbyface sort: people page %s/%s: %d thumbnail%s (%d written, %d reused, %d failed), %.2f s\n",
            shown(r->outdir), SBF_PAGE_FILE, ps.shown, sbf_s(ps.shown), ps.thumbs.written, ps.thumbs.reused,
            ps.thumbs.failed, ps.seconds_thumbs + ps.seconds_html);
    return 0;
}
/* ---- end of the people page ------------------------------------------------------------------------------------ */

/* The result on stdout, the settings and timings on stderr; exit status 1 when a file could not be placed. */
static int sort_report(sort_run *r) {
    const sbf_faceset *fs = &r->fs;
    int multi = 0, k = 0, unknown = 0, *cnt = sbf_people_counts(&r->pp);
    if (cnt) {
        for (uint32_t q = 1; q < r->pp.next_person; q++) {
            k += cnt[q] > 0;
            multi += cnt[q] > 1;
            const sbf_person *p = sbf_people_person(&r->pp, q);
            unknown += cnt[q] > 0 && p && !p->name && cnt[q] < r->pp.min_faces;
        }
        free(cnt);
    }
    int placed = r->managed ? r->ms.placed : r->st.placed, failed = r->managed ? r->ms.failed : r->st.failed;
    sbf_place_mode mode = r->managed ? (sbf_place_mode)r->pp.mode : r->st.fell_back ? SBF_PLACE_COPY : r->mode;
    printf("sorted %d face%s from %d photo%s into %d %s (%d with more than one face); %s %d file%s into %s/",
           fs->nfaces, sbf_s(fs->nfaces), fs->nphotos, sbf_s(fs->nphotos), k, k == 1 ? "person" : "people", multi,
           sbf_place_done(mode), placed, sbf_s(placed), shown(r->outdir));
    if (r->managed) {
        printf(" (%d moved, %d removed", r->ms.moved, r->ms.removed);
        if (r->ms.dirs_renamed) printf(", %d folder%s renamed", r->ms.dirs_renamed, sbf_s(r->ms.dirs_renamed));
        printf(")");
    }
    printf("\n");
    if (r->thr < -1) fprintf(stderr, "sortbyface sort: %s\n", r->pi.rule.reason);
    else fprintf(stderr, "sortbyface sort: threshold %.2f for every face (-t)\n", r->thr);
    char thr[32];
    if (r->thr < -1) snprintf(thr, sizeof thr, "thresholds %.2f-%.2f", r->pi.rule.lo, r->pi.rule.hi);
    else snprintf(thr, sizeof thr, "threshold %.2f", r->thr);
    fprintf(stderr,
            "sortbyface sort: %s, %d iterations, seed %u; graph %.3f s (%lld edges), clustering %.3f s, "
            "writing %.2f s%s\n",
            thr, r->itr, (unsigned)r->seed, r->pi.seconds_graph, r->pi.edges, r->pi.seconds_cw, r->seconds_write,
            r->approx ? " (approximate graph)" : "");
    if (r->pi.split_people)
        fprintf(stderr,
                "sortbyface sort: %d face%s split off remembered people into %d new %s (a sort from scratch keeps "
                "them apart)\n",
                r->pi.split_faces, sbf_s(r->pi.split_faces), r->pi.split_people,
                r->pi.split_people == 1 ? "person" : "people");
    if (unknown)
        fprintf(stderr, "sortbyface sort: %d %s with fewer than %d faces %s in %s/ (--min-faces)\n", unknown,
                unknown == 1 ? "person" : "people", r->pp.min_faces, unknown == 1 ? "is" : "are", SBF_UNKNOWN_FOLDER);
    if (r->managed && (r->ms.corrections || r->ms.renamed))
        fprintf(stderr, "sortbyface sort: %d correction%s read from the folder ('sortbyface corrections' lists them)\n",
                r->ms.corrections + r->ms.renamed, sbf_s(r->ms.corrections + r->ms.renamed));
    if (r->pi.capped)
        fprintf(
            stderr,
            "sortbyface sort: so many faces are alike (over %lld pairs above the threshold) that each face kept only "
            "its %d most similar neighbours, to bound memory\n",
            (long long)SBF_GRAPH_MAX_EDGES, r->pi.capped);
    if (failed)
        fprintf(stderr, "sortbyface sort: %d file%s could not be placed (listed above)\n", failed, sbf_s(failed));
    return failed ? 1 : 0;
}

int sbf_cmd_sort(int argc, char **argv) {
    static int (*const phases[])(sort_run *) = {sort_args,    sort_load,  sort_folder, sort_edits,
                                                sort_cluster, sort_write, sort_page,   sort_report};
    sort_run r = {.argc = argc, .argv = argv};
    sbf_people_init(&r.pp);
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof phases / sizeof *phases; i++) rc = phases[i](&r);
    sort_free(&r);
    return rc == SBF_VERB_DONE ? 0 : rc;
}
