/* src/cmd_embed.c — the 'embed' verb (embedder.py): walk folders, embed new or changed photos into the
 * database, forget deleted ones, with progress on a terminal and a summary line.  A run goes through
 * phases on one embed_run (arguments, database, names, walk, database ready, clean, plan, forget, photos,
 * save, report: see sbf_cmd_embed); the rules for what is new, changed, kept or forgotten are src/plan.h's,
 * how a photo is named src/path.h's. */
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
            pr->faces, sbf_s(pr->faces), rate, (int)(eta / 3600), (int)(eta / 60) % 60, (int)eta % 60,
            final ? "\n" : "  ");
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
    static const char msg[] =
        "\nsortbyface embed: stopping after the photos in flight (press Ctrl-C again to quit now)\n";
    if (write(2, msg, sizeof msg - 1) < 0) { /* nothing to do */
    }
}

/* Photos in formats we cannot decode, counted by format for the summary. */
typedef struct {
    const char *name[8];
    int count[8], n, total;
} unsupported_tally;
static void tally(unsupported_tally *t, const char *name) {
    if (!name) return;
    t->total++;
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->name[i], name)) {
            t->count[i]++;
            return;
        }
    if (t->n < 8) {
        t->name[t->n] = name;
        t->count[t->n++] = 1;
    }
}
/* " (3 of them photos it cannot decode: 2 HEIC, 1 WebP; convert them to JPEG to include them)",
 * " (1 of them a photo it cannot decode: 1 HEIC; convert it to JPEG to include it)" or "". */
static void tally_text(const unsupported_tally *t, char *out, size_t len) {
    out[0] = 0;
    if (!t->total) return;
    size_t k =
        (size_t)snprintf(out, len, " (%d of them %s it cannot decode:", t->total, t->total == 1 ? "a photo" : "photos");
    for (int i = 0; i < t->n && k < len; i++)
        k += (size_t)snprintf(out + k, len - k, "%s %d %s", i ? "," : "", t->count[i], t->name[i]);
    if (k < len)
        snprintf(out + k, len - k, "; convert %s to JPEG to include %s)", t->total == 1 ? "it" : "them",
                 t->total == 1 ? "it" : "them");
}

/* One run of embed: what its phases share, freed once by embed_free whichever way the run ends. */
typedef struct {
    /* the arguments */
    int argc;
    char **argv;
    const char *db, *align_s, *model_s;
    int f16, quiet, verbose, redo;
    sbf_pipeline_opts po;
    char detect[64]; /* the detection settings, as the database records them ("" for the defaults) */
    char **roots;    /* roots[0..nroots): the folders, named as the database names them (sbf_path_key;
                               NULL once one could not be read) */
    char **owned;    /* owned[0..cap): the malloc'ed names */
    int nroots, cap;
    /* the database, opened by an absolute name: the run may move into its base folder */
    char cwd[PATH_MAX], db_at[PATH_MAX + 256], models[2 * PATH_MAX + 512];
    char base[PATH_MAX]; /* where its relative paths start (absolute) */
    int record_base;     /* 1: base is (to be) recorded in the database */
    sbf_store *st;
    /* the walk and its plan */
    sbf_walk w;
    int roots_failed;      /* folders given that could not be read */
    sbf_plan_state *state; /* state[i]: what becomes of w.files[i] */
    int *same_as;          /* same_as[i]: -1, or the file w.files[i] is another name of (sbf_plan_same_files) */
    int *todo, ntodo;      /* the files to embed (new or changed images), indexes into w.files */
    /* embedding */
    sbf_pipeline *pl;
    sbf_photo_job *jobs;
    int *fds; /* fds[k]: the descriptor job k opens a path longer than PATH_MAX by, or -1 */
    char (*short_names)[32];
    int njobs;
    /* what the summary counts */
    int unchanged, other, failed, forgotten, embedded, faces, noface, dups, cleaned, write_failed;
    unsupported_tally unsup;
    double t0;
    char err[512];
} embed_run;

static void embed_free(embed_run *r) {
    for (int k = 0; k < r->njobs; k++) {
        sbf_photo_job_clear(&r->jobs[k]);
        if (r->fds[k] >= 0) close(r->fds[k]);
    }
    free(r->jobs);
    free(r->fds);
    free(r->short_names);
    sbf_pipeline_free(r->pl);
    sbf_store_close(r->st);
    sbf_walk_free(&r->w);
    free(r->todo);
    free(r->state);
    free(r->same_as);
    for (int i = 0; r->owned && i < r->cap; i++) free(r->owned[i]);
    free(r->roots); /* owned lies in the same block */
}

/* The store's paths, copied: forgetting may free the store's strings. */
typedef struct {
    char **paths;
    int n, cap, oom;
} pathlist;
static void collect_path(void *ctx, const char *path) {
    pathlist *l = ctx;
    if (l->oom) return;
    if (l->n == l->cap) {
        int nc = l->cap ? 2 * l->cap : 256;
        char **p = realloc(l->paths, sizeof *p * nc);
        if (!p) {
            l->oom = 1;
            return;
        }
        l->paths = p;
        l->cap = nc;
    }
    if (!(l->paths[l->n] = strdup(path))) {
        l->oom = 1;
        return;
    }
    l->n++;
}
static void pathlist_free(pathlist *l) {
    for (int i = 0; i < l->n; i++) free(l->paths[i]);
    free(l->paths);
}

static void note_relative(void *ctx, const char *path) {
    if (path[0] != '/') *(int *)ctx = 1;
}

/* An absolute spelling of path, seen from the folder cwd, copied into buf. */
static const char *absolute(const char *cwd, const char *path, char *buf, size_t n) {
    snprintf(buf, n, "%s%s%s", path[0] == '/' ? "" : cwd, path[0] == '/' ? "" : "/", path);
    return buf;
}

/* The options, and the folders: -src DIR and any plain arguments. */
static int embed_args(embed_run *r) {
    const char *src = NULL, *upsample_s = "auto", *lm = NULL;
    int threads = 0, processes = 0, min_face = -1, max_pixels = 100000000;
    r->db = SBF_DEFAULT_DB;
    char model_help[320];
    snprintf(model_help, sizeof model_help,
             "FaceNet model: float32, int8 (the same network in int8 arithmetic: faster, embeddings slightly "
             "different; see README) or a weight file; a new database gets %s (the default on this CPU), an "
             "existing one keeps the model it was made with (another is refused)",
             sbf_model_name(sbf_model_default()));
    const sbf_opt opts[] = {
        {"src", NULL, SBF_OPT_STRING, &src, "DIR",
         "folder of photos to embed (also accepted as plain arguments, several allowed)"},
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
        {"redo", NULL, SBF_OPT_FLAG, &r->redo, NULL, "embed every photo found again, even unchanged ones"},
        {"f16", NULL, SBF_OPT_FLAG, &r->f16, NULL, "store embeddings as float16 (half the size)"},
        {"landmarks-model", NULL, SBF_OPT_STRING, &lm, "FILE",
         "dlib 68-point model (default: Debian's libdlib-data file)"},
        {"model", NULL, SBF_OPT_STRING, &r->model_s, "float32|int8|FILE", model_help},
        {"verbose", "v", SBF_OPT_FLAG, &r->verbose, NULL,
         "also name on stderr each photo with no face, each file in a format it cannot decode and each second "
         "name of one file"},
        {"quiet", "q", SBF_OPT_FLAG, &r->quiet, NULL, "no progress bar and no summary"},
        {0},
    };
    const sbf_cmd_spec spec = {
        "embed",
        "embed -src DIR [DIR...] [OPTIONS]",
        "Finds, aligns and embeds every face in the photos under DIR (recursively) into the database.",
        "Photos are recognised by content. A second run embeds only new or changed files (path, size,\n"
        "modification time) and forgets photos that were deleted from DIR; photos in folders or files it\n"
        "cannot read are kept as they were. Each photo is held once, under one name: relative to the folder\n"
        "the database was made in, without '.', '..' or '//' (lib, ./lib, lib/ and $PWD/lib are one folder),\n"
        "and a file reached by two paths (hard links, symlinks) is embedded once. The database records the\n"
        "detection settings (--upsample, --min-face) of each photo: a run with other settings embeds the\n"
        "photos it finds again, so 'embed --min-face 200' then 'embed' redoes them with the defaults; --redo\n"
        "embeds every photo found again whatever it was made with. Ctrl-C stops after the photos in flight\n"
        "(exit 130). The database stays valid if the run is killed at any moment; the next run redoes only\n"
        "the photos that were in flight. Several folders may be given; folders written by sort and find\n"
        "(they hold a .sortbyface-output note) are not searched. The summary line goes to stdout; progress\n"
        "and per-file problems to stderr; exit status 1 when any photo failed.",
        opts,
        0,
        -1};
    int npos, rc;
    char **pos;
    if ((rc = sbf_parse(&spec, r->argc, r->argv, &npos, &pos))) return rc == 1 ? SBF_VERB_DONE : rc;
    r->cap = npos + 1; /* roots[0..cap): the folders; roots[cap..2 cap): their names (owned) */
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
    if (!r->nroots) {
        fprintf(stderr, "sortbyface embed: missing -src DIR\nusage: sortbyface %s\n", spec.usage);
        return 2;
    }
    if (processes && !threads) threads = processes;
    sbf_pipeline_defaults(&r->po);
    if ((rc = sbf_pipeline_set_flags(&r->po, "embed", upsample_s, r->align_s))) return rc;
    r->po.min_face = min_face;
    r->po.max_pixels = max_pixels;
    r->po.threads = threads;
    r->po.landmarks_model = lm;
    /* what decides which faces are found (not --max-pixels: a photo over it is not stored at all) */
    if (r->po.upsample >= 0 || r->po.min_face >= 0) {
        char up[16] = "auto", mf[16] = "auto";
        if (r->po.upsample >= 0) snprintf(up, sizeof up, "%d", r->po.upsample);
        if (r->po.min_face >= 0) snprintf(mf, sizeof mf, "%d", r->po.min_face);
        snprintf(r->detect, sizeof r->detect, "upsample=%s min-face=%s", up, mf);
    }
    return 0;
}

/* An existing database is opened before the walk: its base folder names the folders (embed_names).  A new
 * one is made after it (embed_db_ready), so that a run that can read no folder makes none. */
static int embed_open_db(embed_run *r) {
    r->t0 = sbf_now();
    if (!getcwd(r->cwd, sizeof r->cwd)) {
        sbf_error("cannot tell the current folder: %s", strerror(errno));
        return 3;
    }
    absolute(r->cwd, r->db, r->db_at, sizeof r->db_at);
    if (access(r->db_at, F_OK) == 0) {
        r->st = sbf_store_open(r->db_at, SBF_STORE_WRITE | (r->f16 ? SBF_STORE_F16 : 0), r->err, sizeof r->err);
        if (!r->st) {
            sbf_file_error(r->db, r->err);
            return 3;
        }
    }
    /* the FaceNet model: the database's, or for a new one --model or the default */
    return sbf_pipeline_db_model(&r->po, r->st, "embed", r->db, r->model_s);
}

/* The database's base folder (SBF_SETTING_BASE), where its relative paths start: the recorded one (or, when
 * that folder is gone because the library moved with its database, the database's own folder,
 * sbf_store_base); the current folder for a new database and for one without the setting that holds no
 * relative path yet (both record it); a database made before the setting with relative paths keeps them
 * relative to wherever it is used.  Each folder given is then named as the database names photos
 * (sbf_path_key: one name whatever the spelling), and when the base is not the current folder the model
 * paths are made absolute and the run moves into the base, so a photo keeps one name whichever folder
 * embed runs from. */
static int embed_names(embed_run *r) {
    const char *recorded = r->st ? sbf_store_get_setting(r->st, SBF_SETTING_BASE) : NULL;
    snprintf(r->base, sizeof r->base, "%s", r->cwd);
    r->record_base = 1;
    if (recorded) {
        if (!sbf_store_base(r->st, r->base, sizeof r->base)) snprintf(r->base, sizeof r->base, "%s", recorded);
    } else if (r->st) {
        int relative = 0;
        sbf_store_each_path(r->st, note_relative, &relative);
        r->record_base = !relative; /* paths relative to wherever it was used: as before */
    }
    if (r->st && r->record_base && (!recorded || strcmp(recorded, r->base)) &&
        sbf_store_set_setting(r->st, SBF_SETTING_BASE, r->base, r->err, sizeof r->err)) {
        sbf_file_error(r->db, r->err);
        return 3;
    }
    int relative = 0;
    for (int i = 0; i < r->nroots; i++) {
        sbf_file_id id;
        if (sbf_file_id_of(r->roots[i], &id) != 0) continue; /* the walk names it as given, with the reason */
        if (!(r->owned[i] = sbf_path_key(r->base, r->cwd, r->roots[i]))) {
            sbf_error("out of memory");
            return 3;
        }
        r->roots[i] = r->owned[i];
        relative |= r->roots[i][0] != '/';
    }
    r->nroots = sbf_plan_roots(r->roots, r->nroots); /* each folder once, by its one name */
    if (!relative || sbf_same_file(r->base, r->cwd)) return 0;
    /* models named relative to here: pin them before moving */
    size_t half = sizeof r->models / 2;
    sbf_pipeline_opts *po = &r->po;
    po->facenet_model = absolute(
        r->cwd, po->facenet_model ? po->facenet_model : sbf_model_path(sbf_model_file(po->model)), r->models, half);
    po->landmarks_model = absolute(r->cwd, po->landmarks_model ? po->landmarks_model : sbf_landmarks_default_path(),
                                   r->models + half, half);
    if (chdir(r->base) != 0) {
        char why[300];
        snprintf(why, sizeof why, "cannot enter the database's folder: %s", strerror(errno));
        sbf_file_error(r->base, why);
        return 3;
    }
    if (!r->quiet)
        fprintf(stderr, "sortbyface embed: working from %s, where %s keeps its photo paths\n", r->base, r->db);
    return 0;
}

/* Walks the folders; one that cannot be read is listed and left out of forgetting (NULL).  Exit status 1
 * when none could be read. */
static int embed_walk(embed_run *r) {
    int walked = 0;
    for (int i = 0; i < r->nroots; i++) {
        if (sbf_walk_tree(&r->w, r->roots[i], r->err, sizeof r->err) == 0) {
            walked++;
            continue;
        }
        sbf_file_error(r->roots[i], r->err);
        r->roots[i] = NULL;
    }
    r->roots_failed = r->nroots - walked;
    if (!walked) return 1;
    r->w.n = sbf_plan_unique_files(r->w.files, r->w.n);
    size_t n = r->w.n ? (size_t)r->w.n : 1;
    r->state = malloc(n * sizeof *r->state);
    r->todo = malloc(n * sizeof *r->todo);
    r->same_as = malloc(n * sizeof *r->same_as);
    if (!r->state || !r->todo || !r->same_as) {
        sbf_file_error(r->db, "out of memory");
        return 3;
    }
    return 0;
}

/* A new database is made now (it records where it is made); an existing one keeps its alignment rule and
 * FaceNet model, a new one records the run's. */
static int embed_db_ready(embed_run *r) {
    int rc;
    if (!r->st) {
        r->st = sbf_store_open(r->db_at, SBF_STORE_WRITE | (r->f16 ? SBF_STORE_F16 : 0), r->err, sizeof r->err);
        if (!r->st) {
            sbf_file_error(r->db, r->err);
            return 3;
        }
        if (r->record_base && sbf_store_set_setting(r->st, SBF_SETTING_BASE, r->base, r->err, sizeof r->err)) {
            sbf_file_error(r->db, r->err);
            return 3;
        }
    }
    if ((rc = sbf_pipeline_db_align(&r->po, r->st, "embed", r->db, r->align_s))) return rc;
    if (sbf_store_set_setting(r->st, SBF_SETTING_ALIGN, sbf_align_name(r->po.align), r->err, sizeof r->err) ||
        sbf_store_set_setting(r->st, SBF_SETTING_MODEL, sbf_model_name(r->po.model), r->err, sizeof r->err)) {
        sbf_file_error(r->db, r->err);
        return 3;
    }
    return 0;
}

/* 1 when a stored path may not be in its one name's form (sbf_path_key): absolute (it may lie under the base),
 * or with an empty, "." or ".." component or a trailing '/'. */
static int odd_spelling(const char *p) {
    if (p[0] == '/') return 1;
    for (const char *c = p;;) {
        const char *e = strchr(c, '/');
        size_t l = e ? (size_t)(e - c) : strlen(c);
        if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.')) return 1;
        if (!e) return 0;
        c = e + 1;
    }
}

/* Gives every photo the database holds its one name (sbf_path_key): a record under another spelling
 * ("./lib/x.jpg", "lib//x.jpg", "$PWD/lib/x.jpg", made by earlier versions) is renamed, or forgotten when the
 * photo is held under its name too, so nothing is held twice. */
static int embed_clean(embed_run *r) {
    pathlist known = {0};
    sbf_store_each_path(r->st, collect_path, &known);
    int rc = known.oom ? 3 : 0;
    if (rc) sbf_file_error(r->db, "out of memory");
    for (int i = 0; i < known.n && !rc; i++) {
        if (!odd_spelling(known.paths[i])) continue;
        char *key = sbf_path_key(r->base, r->base, known.paths[i]);
        if (!key) rc = 3;
        else if (strcmp(key, known.paths[i])) {
            if (sbf_store_rename(r->st, known.paths[i], key, r->err, sizeof r->err) == 0) r->cleaned++;
            else {
                sbf_file_error(r->db, r->err);
                rc = 3;
            }
        }
        free(key);
    }
    pathlist_free(&known);
    return rc;
}

/* Files found under several names whose other name the database holds outside the folders walked: state[i]
 * becomes SBF_PLAN_DUPLICATE for each new file that is the same file (device and inode) as such a photo. */
typedef struct {
    sbf_file_id id;
    char *path;
} held_id;
static int cmp_held(const void *a, const void *b) {
    const sbf_file_id *x = &((const held_id *)a)->id, *y = &((const held_id *)b)->id;
    if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}
static void held_elsewhere(embed_run *r) {
    int nnew = 0;
    for (int i = 0; i < r->w.n; i++) nnew += r->state[i] == SBF_PLAN_NEW;
    if (!nnew) return;
    pathlist known = {0};
    sbf_store_each_path(r->st, collect_path, &known);
    held_id *h = malloc((known.n ? (size_t)known.n : 1) * sizeof *h);
    int nh = 0;
    for (int i = 0; h && i < known.n; i++) {
        int walked = 0;
        for (int k = 0; k < r->nroots && !walked; k++)
            walked = r->roots[k] && sbf_path_under(known.paths[i], r->roots[k]);
        if (walked) continue;
        /* relative names start in the base, which need not be where the run is (absolute folders only) */
        char *at = known.paths[i][0] == '/' ? known.paths[i] : sbf_path_join(r->base, known.paths[i]);
        if (at && sbf_file_id_of(at, &h[nh].id) == 0) h[nh++].path = known.paths[i];
        if (at != known.paths[i]) free(at);
    }
    if (nh) qsort(h, (size_t)nh, sizeof *h, cmp_held);
    for (int i = 0; nh && i < r->w.n; i++) {
        if (r->state[i] != SBF_PLAN_NEW) continue;
        held_id key = {r->w.files[i].id, NULL};
        const held_id *hit = bsearch(&key, h, (size_t)nh, sizeof *h, cmp_held);
        if (!hit) continue;
        r->state[i] = SBF_PLAN_DUPLICATE;
        r->dups++;
        if (r->verbose) {
            char m[600];
            snprintf(m, sizeof m, "the same file as %.500s, which the database holds: left out", hit->path);
            sbf_file_error(r->w.files[i].path, m);
        }
    }
    free(h);
    pathlist_free(&known);
}

/* What each file found needs (src/plan.h): new or changed images are embedded (and files named as images
 * whose content is not one, so the decoder names the problem); a second name of one file is left out; a file
 * that cannot be read is listed and keeps whatever the database had for it; other files are counted (by
 * format when they are photos it cannot decode). */
static int embed_plan(embed_run *r) {
    int *known = calloc(r->w.n ? (size_t)r->w.n : 1, sizeof *known);
    if (!known) {
        sbf_error("out of memory");
        return 3;
    }
    for (int i = 0; i < r->w.n; i++) known[i] = sbf_store_lookup(r->st, r->w.files[i].path, NULL, NULL);
    sbf_plan_same_files(r->w.files, r->w.n, known, r->same_as);
    free(known);
    for (int i = 0; i < r->w.n; i++) {
        const sbf_walk_file *f = &r->w.files[i];
        if (r->same_as[i] >= 0) {
            r->state[i] = SBF_PLAN_DUPLICATE;
            r->dups++;
            if (r->verbose) {
                char m[600];
                snprintf(m, sizeof m, "the same file as %.500s: left out", r->w.files[r->same_as[i]].path);
                sbf_file_error(f->path, m);
            }
            continue;
        }
        sbf_plan_facts facts = {0};
        const char *fmt = NULL;
        facts.known = sbf_store_lookup(r->st, f->path, &facts.size, &facts.mtime_ns);
        if (facts.known) {
            const char *made = sbf_store_photo_detect(r->st, f->path);
            facts.stale = r->redo || !made || strcmp(made, r->detect) != 0;
        }
        char sbuf[32];
        int fd;
        const char *name = sbf_path_short(f->path, sbuf, sizeof sbuf, &fd);
        if (!name || (facts.kind = sbf_sniff_file(name, &fmt)) < 0) {
            facts.kind = -1;
            snprintf(r->err, sizeof r->err, "cannot open: %s%s", strerror(errno),
                     facts.known ? " (its faces from an earlier run are kept)" : "");
        } else if (facts.kind == 0 && !fmt && sbf_plan_image_name(f->path)) {
            facts.kind = 1; /* named as an image but none: the decoder says what is wrong with it */
        }
        if (fd >= 0) close(fd);
        switch ((r->state[i] = sbf_plan_file(f, &facts))) {
        case SBF_PLAN_UNREADABLE:
            sbf_file_error(f->path, r->err);
            r->failed++;
            break;
        case SBF_PLAN_OTHER:
            r->other++;
            tally(&r->unsup, fmt);
            if (fmt && r->verbose) {
                char m[160];
                snprintf(m, sizeof m, "%s, a format it cannot decode: skipped", fmt);
                sbf_file_error(f->path, m);
            }
            break;
        case SBF_PLAN_UNCHANGED: r->unchanged++; break;
        case SBF_PLAN_NEW:
        case SBF_PLAN_CHANGED:
        case SBF_PLAN_DUPLICATE: break;
        }
    }
    held_elsewhere(r);
    for (int i = 0; i < r->w.n; i++)
        if (sbf_plan_embeds(r->state[i])) r->todo[r->ntodo++] = i;
    return 0;
}

/* Forgets the photos the database holds that are gone from the folders walked, are no image any more, or are
 * a second name of a photo held under its first (sbf_plan_forget: never those under a folder that could not
 * be read). */
static int embed_forget(embed_run *r) {
    pathlist known = {0};
    sbf_store_each_path(r->st, collect_path, &known);
    if (known.oom) sbf_file_error(r->db, "out of memory");
    for (int i = 0; i < known.n && !known.oom; i++) {
        if (!sbf_plan_forget(known.paths[i], r->roots, r->nroots, &r->w, r->state)) continue;
        if (sbf_store_forget(r->st, known.paths[i], r->err, sizeof r->err) == 0) r->forgotten++;
        else sbf_file_error(r->db, r->err);
    }
    int oom = known.oom;
    pathlist_free(&known);
    return oom ? 3 : 0;
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
            sbf_file_error(f->path, j->err);
            r->failed++;
            if (r->state[todo[k]] == SBF_PLAN_CHANGED) sbf_store_forget(r->st, f->path, r->err, sizeof r->err);
            continue;
        }
        sbf_photo_meta meta = {f->path, f->size, f->mtime_ns, j->width, j->height, r->detect};
        if (sbf_store_put(r->st, &meta, j->nfaces, j->faces, r->err, sizeof r->err)) {
            if (tty) fputc('\n', stderr);
            sbf_file_error(r->db, r->err);
            return -1;
        }
        r->embedded++;
        r->faces += j->nfaces;
        if (!j->nfaces) {
            r->noface++;
            if (r->verbose) {
                if (tty) fputc('\n', stderr);
                sbf_file_error(f->path, "no face found");
            }
        }
    }
    return 0;
}

/* The paths the pipeline opens the batch's photos by: as found, or through a descriptor when longer than
 * PATH_MAX (sbf_path_short); a photo that cannot be opened so fails with the reason. */
static void batch_names(embed_run *r, const int *todo, int n) {
    for (int k = 0; k < n; k++) {
        sbf_photo_job *j = &r->jobs[k];
        const char *path = r->w.files[todo[k]].path;
        j->path = sbf_path_short(path, r->short_names[k], sizeof r->short_names[k], &r->fds[k]);
        if (!j->path) j->path = path; /* the decoder's open fails and says why */
    }
}
static void batch_close(embed_run *r, int n) {
    for (int k = 0; k < n; k++)
        if (r->fds[k] >= 0) {
            close(r->fds[k]);
            r->fds[k] = -1;
        }
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
    r->jobs = calloc((size_t)batch, sizeof *r->jobs);
    r->fds = malloc((size_t)batch * sizeof *r->fds);
    r->short_names = malloc((size_t)batch * sizeof *r->short_names);
    if (!r->jobs || !r->fds || !r->short_names) {
        sbf_error("out of memory");
        return 3;
    }
    for (int k = 0; k < batch; k++) r->fds[k] = -1;
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
        batch_names(r, r->todo + b, n);
        int failed = sbf_pipeline_run(r->pl, r->jobs, n, r->err, sizeof r->err);
        batch_close(r, n);
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

/* The summary line on stdout (unless --quiet: results on stdout, progress and problems on stderr) and the
 * exit status: 3 when the database could not be written, 128 + the signal when interrupted, 1 when a photo
 * or folder could not be read. */
static int embed_report(embed_run *r) {
    sbf_store_stats ss;
    sbf_store_get_stats(r->st, &ss);
    double el = sbf_now() - r->t0;
    char noface[64] = "", skipped[640], held[PATH_MAX + 200] = "", cleaned[96] = "";
    if (r->noface) snprintf(noface, sizeof noface, "; %d with no face", r->noface);
    tally_text(&r->unsup, skipped, sizeof skipped - 200);
    size_t k = strlen(skipped);
    if (r->unsup.total && !r->verbose && k > 1)
        snprintf(skipped + k - 1, sizeof skipped - k + 1, "; -v names %s)", r->unsup.total == 1 ? "it" : "them");
    k = strlen(skipped);
    if (r->w.outputs)
        k += (size_t)snprintf(skipped + k, sizeof skipped - k, ", %d of its own output folder%s not searched",
                              r->w.outputs, sbf_s(r->w.outputs));
    if (r->dups)
        snprintf(skipped + k, sizeof skipped - k, ", %d second name%s of one file (hard links, symlinks) left out",
                 r->dups, sbf_s(r->dups));
    if (ss.noface) {
        int other_db = strcmp(r->db, SBF_DEFAULT_DB) != 0;
        snprintf(held, sizeof held, " (%zu photo%s with no face: 'sortbyface info --no-face%s%s' lists them)",
                 ss.noface, sbf_s((long long)ss.noface), other_db ? " --db " : "", other_db ? r->db : "");
    }
    if (r->cleaned)
        snprintf(cleaned, sizeof cleaned, "; %d record%s under another spelling of a path merged", r->cleaned,
                 sbf_s(r->cleaned));
    char rate[48] = ""; /* only when something was embedded */
    if (r->embedded && el > 0) snprintf(rate, sizeof rate, " (%.2f photos/s)", r->embedded / el);
    int unread = r->w.dir_errors || r->roots_failed;
    if (!r->quiet) {
        printf(
            "%d photo%s embedded (%d face%s%s), %d unchanged, %d failed, %d forgotten, %d other file%s skipped%s%s%s; "
            "database %s holds %zu photo%s, %zu face%s%s%s; %.1f s%s\n",
            r->embedded, sbf_s(r->embedded), r->faces, sbf_s(r->faces), noface, r->unchanged, r->failed, r->forgotten,
            r->other, sbf_s(r->other), skipped,
            unread ? " (some folders unreadable: what the database had from them is kept)" : "",
            r->write_failed ? "; STOPPED EARLY: the database could not be written (see above)"
            : interrupted   ? "; INTERRUPTED: run it again to embed the rest"
                            : "",
            r->db, ss.photos, sbf_s((long long)ss.photos), ss.faces, sbf_s((long long)ss.faces), held, cleaned, el,
            rate);
        fflush(stdout);
    }
    return r->write_failed ? 3 : interrupted ? 128 + interrupted : r->failed || unread ? 1 : 0;
}

int sbf_cmd_embed(int argc, char **argv) {
    static int (*const phases[])(embed_run *) = {embed_args,     embed_open_db, embed_names, embed_walk,
                                                 embed_db_ready, embed_clean,   embed_plan,  embed_forget,
                                                 embed_photos,   embed_save,    embed_report};
    embed_run r = {.argc = argc, .argv = argv};
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof phases / sizeof *phases; i++) rc = phases[i](&r);
    embed_free(&r);
    return rc == SBF_VERB_DONE ? 0 : rc;
}
