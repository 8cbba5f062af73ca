/* src/cmd_embed.c — the 'embed' verb (embedder.py): walk folders, embed new or changed photos into the
 * database, forget deleted ones, with progress on a terminal and a summary line.  A run goes through
 * phases on one embed_run (arguments, database, walk, plan, forget, photos, save, report: see
 * sbf_cmd_embed); the rules for what is new, changed, kept or forgotten are src/plan.h's. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nn/threadpool.h"
#include "src/cli.h"
#include "src/image.h"
#include "src/landmarks.h"
#include "src/models.h"
#include "src/pipeline.h"
#include "src/plan.h"
#include "src/store.h"
#include "src/util.h"
#include "src/verbs.h"
#include "src/walk.h"

typedef struct {
    int total, done, faces, failed;
    double t0, last;
    int tty;
} progress;

static void show_progress(progress *pr, int final) {
    if (!pr->tty) return;
    double now = sbf_now();
    if (!final && now - pr->last < 0.2) return;
    pr->last = now;
    double el = now - pr->t0, rate = el > 0 ? pr->done / el : 0;
    int width = 30, fill = pr->total ? (int)((long long)width * pr->done / pr->total) : width;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    double eta = rate > 0 ? (pr->total - pr->done) / rate : 0;
    fprintf(stderr, "\r[%s] %d/%d images, %d face%s, %.1f images/s, ETA %d:%02d:%02d%s", bar, pr->done, pr->total,
            pr->faces, sbf_s(pr->faces), rate, (int)(eta / 3600), (int)(eta / 60) % 60, (int)eta % 60, final ? "\n" : "  ");
    fflush(stderr);
}

/* Ctrl-C / SIGTERM: the first one finishes the photos in flight, writes them and the summary and stops
 * (exit 130; the next run goes on from there); a second one ends the process at once (the database is
 * valid either way). */
static volatile sig_atomic_t interrupted;
static void on_interrupt(int sig) {
    if (interrupted) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    interrupted = sig;
    static const char msg[] = "\nsortbyface embed: stopping after the photos in flight (press Ctrl-C again to quit now)\n";
    if (write(2, msg, sizeof msg - 1) < 0) { /* nothing to do */ }
}

/* Photos in formats we cannot decode, counted by format for the summary. */
typedef struct { const char *name[8]; int count[8], n, total; } unsupported_tally;
static void tally(unsupported_tally *t, const char *name) {
    if (!name) return;
    t->total++;
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->name[i], name)) { t->count[i]++; return; }
    if (t->n < 8) { t->name[t->n] = name; t->count[t->n++] = 1; }
}
/* " (3 of them photos it cannot decode: 2 HEIC, 1 WebP; convert them to JPEG to include them)",
 * " (1 of them a photo it cannot decode: 1 HEIC; convert it to JPEG to include it)" or "". */
static void tally_text(const unsupported_tally *t, char *out, size_t len) {
    out[0] = 0;
    if (!t->total) return;
    size_t k = (size_t)snprintf(out, len, " (%d of them %s it cannot decode:", t->total, t->total == 1 ? "a photo" : "photos");
    for (int i = 0; i < t->n && k < len; i++)
        k += (size_t)snprintf(out + k, len - k, "%s %d %s", i ? "," : "", t->count[i], t->name[i]);
    if (k < len) snprintf(out + k, len - k, "; convert %s to JPEG to include %s)", t->total == 1 ? "it" : "them", t->total == 1 ? "it" : "them");
}


/* One run of embed: what its phases share, freed once by embed_free whichever way the run ends. */
typedef struct {
    /* the arguments */
    int argc;
    char **argv;
    const char *db, *align_s;
    int f16, quiet;
    sbf_pipeline_opts po;
    char **roots;           /* roots[0..nroots): the folders (NULL once one could not be read) */
    char **owned;           /* owned[0..cap): a root renamed for the database's base folder (use_db_base) */
    int nroots, cap;
    /* the database, opened by an absolute name: the run may move into its base folder */
    char cwd[PATH_MAX], db_at[PATH_MAX + 256], models[2 * PATH_MAX + 512];
    sbf_store *st;
    /* the walk and its plan */
    sbf_walk w;
    int roots_failed;       /* folders given that could not be read */
    sbf_plan_state *state;  /* state[i]: what becomes of w.files[i] */
    int *todo, ntodo;       /* the files to embed (new or changed images), indexes into w.files */
    /* embedding */
    sbf_pipeline *pl;
    sbf_photo_job *jobs;
    int njobs;
    /* what the summary counts */
    int unchanged, other, failed, forgotten, embedded, faces, write_failed;
    unsupported_tally unsup;
    double t0;
    char err[512];
} embed_run;

static void embed_free(embed_run *r) {
    for (int k = 0; k < r->njobs; k++) sbf_photo_job_clear(&r->jobs[k]);
    free(r->jobs);
    sbf_pipeline_free(r->pl);
    sbf_store_close(r->st);
    sbf_walk_free(&r->w);
    free(r->todo);
    free(r->state);
    for (int i = 0; r->owned && i < r->cap; i++) free(r->owned[i]);
    free(r->roots); /* owned lies in the same block */
}

/* The store's paths, copied: forgetting may free the store's strings. */
typedef struct { char **paths; int n, cap, oom; } pathlist;
static void collect_path(void *ctx, const char *path) {
    pathlist *l = ctx;
    if (l->oom) return;
    if (l->n == l->cap) {
        int nc = l->cap ? 2 * l->cap : 256;
        char **p = realloc(l->paths, sizeof *p * nc);
        if (!p) { l->oom = 1; return; }
        l->paths = p; l->cap = nc;
    }
    if (!(l->paths[l->n] = strdup(path))) { l->oom = 1; return; }
    l->n++;
}

static void note_relative(void *ctx, const char *path) {
    if (path[0] != '/') *(int *)ctx = 1;
}

/* An absolute spelling of path, seen from the folder cwd, copied into buf. */
static const char *absolute(const char *cwd, const char *path, char *buf, size_t n) {
    snprintf(buf, n, "%s%s%s", path[0] == '/' ? "" : cwd, path[0] == '/' ? "" : "/", path);
    return buf;
}

/* The database's base folder (SBF_SETTING_BASE), where its relative paths start.  A database without
 * one records the current folder when it holds no relative path yet (new, or made before the setting
 * with relative paths: those stay as they were); one whose base is gone (the library moved with its
 * database) records the database's folder (sbf_store_base).  When the base is not the current folder,
 * each relative root is renamed as seen from there (checked to be the same folder), the model paths
 * are made absolute, and the run moves into the base, so a photo keeps one name whichever folder
 * embed runs from (*moved is 1 then).  0, or an exit status after a one-line error. */
static int use_db_base(embed_run *r, int *moved) {
    char bbuf[PATH_MAX];
    const char *recorded = sbf_store_get_setting(r->st, SBF_SETTING_BASE), *cwd = r->cwd;
    const char *base = sbf_store_base(r->st, bbuf, sizeof bbuf);
    *moved = 0;
    if (!recorded) {
        int relative = 0;
        sbf_store_each_path(r->st, note_relative, &relative);
        if (relative || strlen(cwd) > 255) return 0; /* paths relative to wherever it was used: as before */
        base = cwd;
    }
    if (!base) return 0;
    if ((!recorded || strcmp(recorded, base)) && strlen(base) <= 255 &&
        sbf_store_set_setting(r->st, SBF_SETTING_BASE, base, r->err, sizeof r->err)) {
        sbf_file_error(r->db, r->err);
        return 3;
    }
    if (sbf_same_file(base, cwd)) return 0;
    int renamed = 0;
    for (int i = 0; i < r->nroots; i++) {
        if (!r->roots[i] || r->roots[i][0] == '/') continue;
        char name[PATH_MAX], there[PATH_MAX];
        if (!sbf_path_rebase(cwd, base, r->roots[i], name, sizeof name) ||
            snprintf(there, sizeof there, "%s/%s", base, name) >= (int)sizeof there ||
            !(sbf_same_file(r->roots[i], there) || (access(r->roots[i], F_OK) != 0 && access(there, F_OK) != 0))) {
            fprintf(stderr, "sortbyface embed: %s: cannot name it from %s, where %s keeps its paths; run embed from "
                            "there or give the folder as an absolute path\n", r->roots[i], base, r->db);
            return 2;
        }
        if (!(r->owned[i] = strdup(name))) { sbf_error("out of memory"); return 3; }
        r->roots[i] = r->owned[i];
        renamed++;
    }
    if (!renamed) return 0; /* absolute folders only: nothing to rename, no need to move */
    /* models named relative to here: pin them before moving */
    size_t half = sizeof r->models / 2;
    sbf_pipeline_opts *po = &r->po;
    po->facenet_model = absolute(cwd, po->facenet_model ? po->facenet_model : sbf_model_path(SBF_FACENET_FILE),
                                 r->models, half);
    po->landmarks_model = absolute(cwd, po->landmarks_model ? po->landmarks_model : sbf_landmarks_default_path(),
                                   r->models + half, half);
    if (chdir(base) != 0) {
        char why[300];
        snprintf(why, sizeof why, "cannot enter the database's folder: %s", strerror(errno));
        sbf_file_error(base, why);
        return 3;
    }
    *moved = 1;
    return 0;
}

/* Opens the database at r->db_at (made when new) and settles its base folder (use_db_base). */
static int open_store(embed_run *r, int *moved) {
    r->st = sbf_store_open(r->db_at, SBF_STORE_WRITE | (r->f16 ? SBF_STORE_F16 : 0), r->err, sizeof r->err);
    if (!r->st) {
        sbf_file_error(r->db, r->err);
        return 3;
    }
    return use_db_base(r, moved);
}

/* The options, and the folders: -src DIR and any plain arguments, each walked once (sbf_plan_roots). */
static int embed_args(embed_run *r) {
    const char *src = NULL, *upsample_s = "auto", *lm = NULL, *model = NULL;
    int threads = 0, processes = 0, min_face = -1, max_pixels = 100000000;
    r->db = SBF_DEFAULT_DB;
    const sbf_opt opts[] = {
        {"src", NULL, SBF_OPT_STRING, &src, "DIR", "folder of photos to embed (also accepted as plain arguments, several allowed)"},
        {"db", NULL, SBF_OPT_STRING, &r->db, "FILE", "database to create or update (default embeddings.db)"},
        {"threads", NULL, SBF_OPT_INT, &threads, "N", "worker threads (default: all cores)"},
        {"processes", NULL, SBF_OPT_INT, &processes, "N", "same as --threads (embedder.py's flag)"},
        {"upsample", NULL, SBF_OPT_STRING, &upsample_s, "N|auto",
         "detector upsampling; auto (default): 1 for photos up to 1 megapixel, else 0; a photo of up to 0.25 MP "
         "with no face gets a second look at 2, then the best big weak face (see README)"},
        {"min-face", NULL, SBF_OPT_INT, &min_face, "PX",
         "smallest face to look for in big photos; default: automatic above 4.2 megapixels (see README)"},
        {"align", NULL, SBF_OPT_STRING, &r->align_s, "mtcnn|box|eyes",
         "face alignment before FaceNet: mtcnn (default) for a new database; an existing one keeps the rule it was "
         "made with (see README)"},
        {"max-pixels", NULL, SBF_OPT_INT, &max_pixels, "N", "refuse images with more pixels (default 100000000)"},
        {"f16", NULL, SBF_OPT_FLAG, &r->f16, NULL, "store embeddings as float16 (half the size)"},
        {"landmarks-model", NULL, SBF_OPT_STRING, &lm, "FILE", "dlib 68-point model (default: Debian's libdlib-data file)"},
        {"model", NULL, SBF_OPT_STRING, &model, "FILE", "FaceNet weight file (default weights/facenet-20180402.sbfw)"},
        {"quiet", "q", SBF_OPT_FLAG, &r->quiet, NULL, "no progress bar and no summary"},
        {0},
    };
    const sbf_cmd_spec spec = {
        "embed", "embed -src DIR [DIR...] [OPTIONS]",
        "Finds, aligns and embeds every face in the photos under DIR (recursively) into the database.",
        "Photos are recognised by content. A second run embeds only new or changed files (path, size,\n"
        "modification time) and forgets photos that were deleted from DIR; photos in folders or files it\n"
        "cannot read are kept as they were. Ctrl-C stops after the photos in flight (exit 130). The database\n"
        "stays valid if the run is killed at any moment; the next run redoes only the photos that were in\n"
        "flight.  Several folders may be given; folders written by sort and find (they hold a\n"
        ".sortbyface-output note) are not searched.  Relative paths are kept from the folder the database\n"
        "was made in, whichever folder embed runs from (see README, Paths).\n"
        "Per-file problems are listed on stderr and the run goes on; exit status 1 when any photo failed.",
        opts, 0, -1};
    int npos, rc;
    char **pos;
    if ((rc = sbf_parse(&spec, r->argc, r->argv, &npos, &pos))) return rc == 1 ? SBF_VERB_DONE : rc;
    r->cap = npos + 1; /* roots[0..cap): the folders; roots[cap..2 cap): their renamed copies (owned) */
    r->roots = calloc(2 * (size_t)r->cap, sizeof *r->roots);
    if (!r->roots) {
        free(pos);
        sbf_error("out of memory");
        return 3;
    }
    r->owned = r->roots + r->cap;
    if (src) r->roots[r->nroots++] = (char *)src;
    for (int i = 0; i < npos; i++) r->roots[r->nroots++] = pos[i];
    free(pos);
    if (!(r->nroots = sbf_plan_roots(r->roots, r->nroots))) {
        fprintf(stderr, "sortbyface embed: missing -src DIR\nusage: sortbyface %s\n", spec.usage);
        return 2;
    }
    if (processes && !threads) threads = processes;
    if (threads < 0 || threads > 256) return sbf_check_range_int("embed", "threads", threads, 0, 256);
    if (max_pixels < 1) return sbf_check_range_int("embed", "max-pixels", max_pixels, 1, 2147483647);
    sbf_pipeline_defaults(&r->po);
    if ((rc = sbf_pipeline_set_flags(&r->po, "embed", upsample_s, r->align_s))) return rc;
    r->po.min_face = min_face;
    r->po.max_pixels = max_pixels;
    r->po.threads = threads;
    r->po.landmarks_model = lm;
    r->po.facenet_model = model;
    return 0;
}

/* An existing database is opened before the walk: its base folder names the folders (use_db_base).  A new
 * one is made after it (embed_db_ready), so that a run that can read no folder makes none. */
static int embed_open_db(embed_run *r) {
    r->t0 = sbf_now();
    if (!getcwd(r->cwd, sizeof r->cwd)) {
        sbf_error("cannot tell the current folder: %s", strerror(errno));
        return 3;
    }
    absolute(r->cwd, r->db, r->db_at, sizeof r->db_at);
    if (access(r->db_at, F_OK) != 0) return 0;
    int moved, rc = open_store(r, &moved);
    char here[PATH_MAX];
    if (!rc && moved && !r->quiet && getcwd(here, sizeof here))
        fprintf(stderr, "sortbyface embed: working from %s, where %s keeps its photo paths\n", here, r->db);
    return rc;
}

/* Walks the folders; one that cannot be read is listed and left out of forgetting (NULL).  Exit status 1
 * when none could be read. */
static int embed_walk(embed_run *r) {
    int walked = 0;
    for (int i = 0; i < r->nroots; i++) {
        if (sbf_walk_tree(&r->w, r->roots[i], r->err, sizeof r->err) == 0) { walked++; continue; }
        sbf_file_error(r->roots[i], r->err);
        r->roots[i] = NULL;
    }
    r->roots_failed = r->nroots - walked;
    if (!walked) return 1;
    r->w.n = sbf_plan_unique_files(r->w.files, r->w.n);
    size_t n = r->w.n ? (size_t)r->w.n : 1;
    r->state = malloc(n * sizeof *r->state);
    r->todo = malloc(n * sizeof *r->todo);
    if (!r->state || !r->todo) {
        sbf_file_error(r->db, "out of memory");
        return 3;
    }
    return 0;
}

/* A new database is made now (it only records where it is made); an existing one keeps its alignment rule,
 * a new one records the run's. */
static int embed_db_ready(embed_run *r) {
    int moved, rc;
    if (!r->st && (rc = open_store(r, &moved))) return rc;
    if ((rc = sbf_pipeline_db_align(&r->po, r->st, "embed", r->db, r->align_s))) return rc;
    if (sbf_store_set_setting(r->st, SBF_SETTING_ALIGN, sbf_align_name(r->po.align), r->err, sizeof r->err)) {
        sbf_file_error(r->db, r->err);
        return 3;
    }
    return 0;
}

/* What each file found needs (src/plan.h): new or changed images are embedded; a file that cannot be read
 * is listed and keeps whatever the database had for it; other files are counted (by format when they are
 * photos it cannot decode). */
static int embed_plan(embed_run *r) {
    for (int i = 0; i < r->w.n; i++) {
        const sbf_walk_file *f = &r->w.files[i];
        sbf_plan_facts facts = {0};
        const char *fmt = NULL;
        facts.known = sbf_store_lookup(r->st, f->path, &facts.size, &facts.mtime_ns);
        if ((facts.kind = sbf_sniff_file(f->path, &fmt)) < 0)
            snprintf(r->err, sizeof r->err, "cannot open: %s%s", strerror(errno),
                     facts.known ? " (its faces from an earlier run are kept)" : "");
        switch ((r->state[i] = sbf_plan_file(f, &facts))) {
        case SBF_PLAN_UNREADABLE: sbf_file_error(f->path, r->err); r->failed++; break;
        case SBF_PLAN_OTHER: r->other++; tally(&r->unsup, fmt); break;
        case SBF_PLAN_UNCHANGED: r->unchanged++; break;
        case SBF_PLAN_NEW:
        case SBF_PLAN_CHANGED: r->todo[r->ntodo++] = i; break;
        }
    }
    return 0;
}

/* Forgets the photos the database holds that are gone from the folders walked, or are no image any more
 * (sbf_plan_forget: never those under a folder that could not be read). */
static int embed_forget(embed_run *r) {
    pathlist known = {0};
    sbf_store_each_path(r->st, collect_path, &known);
    if (known.oom) sbf_file_error(r->db, "out of memory");
    for (int i = 0; i < known.n && !known.oom; i++) {
        if (!sbf_plan_forget(known.paths[i], r->roots, r->nroots, &r->w, r->state)) continue;
        if (sbf_store_forget(r->st, known.paths[i], r->err, sizeof r->err) == 0) r->forgotten++;
        else sbf_file_error(r->db, r->err);
    }
    for (int i = 0; i < known.n; i++) free(known.paths[i]);
    free(known.paths);
    return known.oom ? 3 : 0;
}

/* Writes one batch's results: the faces of each photo done, a line for each that failed (a changed photo
 * that fails now is forgotten: it changed into something unreadable).  -1 when the database could not be
 * written (e.g. disk full: what was written stays valid). */
static int write_batch(embed_run *r, const int *todo, int n, int tty) {
    for (int k = 0; k < n; k++) {
        sbf_photo_job *j = &r->jobs[k];
        const sbf_walk_file *f = &r->w.files[todo[k]];
        if (j->failed) {
            if (tty) fputc('\n', stderr);
            sbf_file_error(j->path, j->err);
            r->failed++;
            if (r->state[todo[k]] == SBF_PLAN_CHANGED) sbf_store_forget(r->st, j->path, r->err, sizeof r->err);
            continue;
        }
        sbf_photo_meta meta = {j->path, f->size, f->mtime_ns, j->width, j->height};
        if (sbf_store_put(r->st, &meta, j->nfaces, j->faces, r->err, sizeof r->err)) {
            if (tty) fputc('\n', stderr);
            sbf_file_error(r->db, r->err);
            return -1;
        }
        r->embedded++;
        r->faces += j->nfaces;
    }
    return 0;
}

/* Embeds the files to do in batches (4 per thread, at least 8), each written as it is done, with a progress
 * bar on a terminal.  The first Ctrl-C / SIGTERM ends the run after the batch in flight. */
static int embed_photos(embed_run *r) {
    if (!r->ntodo) return 0;
    if (!(r->pl = sbf_pipeline_new(&r->po, r->err, sizeof r->err))) {
        sbf_error("%s", r->err);
        return 3;
    }
    int batch = 4 * sbf_pipeline_threads(r->pl);
    if (batch < 8) batch = 8;
    if (!(r->jobs = calloc((size_t)batch, sizeof *r->jobs))) {
        sbf_error("out of memory");
        return 3;
    }
    r->njobs = batch;
    progress pr = {r->ntodo, 0, 0, 0, sbf_now(), 0, !r->quiet && sbf_progress_wanted()};
    show_progress(&pr, 0);
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    for (int b = 0; b < r->ntodo && !interrupted; b += batch) {
        int n = r->ntodo - b < batch ? r->ntodo - b : batch;
        for (int k = 0; k < n; k++) r->jobs[k].path = r->w.files[r->todo[b + k]].path;
        int failed = sbf_pipeline_run(r->pl, r->jobs, n, r->err, sizeof r->err);
        if (failed) sbf_error("%s", r->err);
        if (failed || write_batch(r, r->todo + b, n, pr.tty)) {
            r->write_failed = 1;
            break;
        }
        pr.done = b + n;
        pr.faces = r->faces;
        show_progress(&pr, 0);
    }
    show_progress(&pr, 1);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return 0;
}

/* Brings what was written to the disk; compacts the database when much of it is dead. */
static int embed_save(embed_run *r) {
    if (!r->write_failed && sbf_store_sync(r->st, r->err, sizeof r->err)) {
        sbf_file_error(r->db, r->err);
        r->write_failed = 1;
    }
    if (!r->write_failed && sbf_store_maybe_compact(r->st, r->err, sizeof r->err)) sbf_file_error(r->db, r->err);
    return 0;
}

/* The summary line (unless --quiet) and the exit status: 3 when the database could not be written, 128 +
 * the signal when interrupted, 1 when a photo or folder could not be read. */
static int embed_report(embed_run *r) {
    sbf_store_stats ss;
    sbf_store_get_stats(r->st, &ss);
    double el = sbf_now() - r->t0;
    char unsup_text[320];
    tally_text(&r->unsup, unsup_text, sizeof unsup_text);
    if (r->w.outputs) {
        size_t k = strlen(unsup_text);
        snprintf(unsup_text + k, sizeof unsup_text - k, ", %d of its own output folder%s not searched", r->w.outputs,
                 sbf_s(r->w.outputs));
    }
    char rate[48] = ""; /* only when something was embedded */
    if (r->embedded && el > 0) snprintf(rate, sizeof rate, " (%.2f photos/s)", r->embedded / el);
    int unread = r->w.dir_errors || r->roots_failed;
    if (!r->quiet)
        fprintf(stderr,
                "sortbyface embed: %d photo%s embedded (%d face%s), %d unchanged, %d failed, %d forgotten, %d other file%s "
                "skipped%s%s%s; database %s holds %zu photo%s, %zu face%s; %.1f s%s\n",
                r->embedded, sbf_s(r->embedded), r->faces, sbf_s(r->faces), r->unchanged, r->failed, r->forgotten,
                r->other, sbf_s(r->other), unsup_text,
                unread ? " (some folders unreadable: what the database had from them is kept)" : "",
                r->write_failed ? "; STOPPED EARLY: the database could not be written (see above)"
                : interrupted   ? "; INTERRUPTED: run it again to embed the rest"
                                : "",
                r->db, ss.photos, sbf_s((long long)ss.photos), ss.faces, sbf_s((long long)ss.faces), el, rate);
    return r->write_failed ? 3 : interrupted ? 128 + interrupted : r->failed || unread ? 1 : 0;
}

int sbf_cmd_embed(int argc, char **argv) {
    static int (*const phases[])(embed_run *) = {embed_args, embed_open_db, embed_walk, embed_db_ready, embed_plan,
                                                 embed_forget, embed_photos, embed_save, embed_report};
    embed_run r = {.argc = argc, .argv = argv};
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof phases / sizeof *phases; i++) rc = phases[i](&r);
    embed_free(&r);
    return rc == SBF_VERB_DONE ? 0 : rc;
}
