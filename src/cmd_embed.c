/* src/cmd_embed.c — the 'embed' verb (embedder.py): walk folders, embed new or changed photos into the
 * database, forget deleted ones, with progress on a terminal and a summary line. */
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

/* 1 image, 0 not an image (skipped silently; *unsup names a photo format we cannot decode), -1 unreadable
 * (reason in err: listed as a failure). */
static int sniff(const char *path, const char **unsup, char *err, size_t errlen) {
    int k = sbf_sniff_file(path, unsup);
    if (k < 0) snprintf(err, errlen, "cannot open: %s", strerror(errno));
    return k;
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

typedef struct { char **paths; int n, cap; } pathlist;
static void collect_path(void *ctx, const char *path) {
    pathlist *l = ctx;
    if (l->n == l->cap) {
        int nc = l->cap ? 2 * l->cap : 256;
        char **p = realloc(l->paths, sizeof *p * nc);
        if (!p) return;
        l->paths = p; l->cap = nc;
    }
    if ((l->paths[l->n] = strdup(path))) l->n++; /* copies: forgetting may free the store's strings */
}
static int cmp_walk(const void *a, const void *b) {
    return strcmp(((const sbf_walk_file *)a)->path, ((const sbf_walk_file *)b)->path);
}

/* 1 when path lies under one of the roots. */
static int under_any(const char *path, char *const *roots, int n) {
    for (int i = 0; i < n; i++)
        if (roots[i] && sbf_path_under(path, roots[i])) return 1;
    return 0;
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
static int use_db_base(sbf_store *st, const char *db, const char *cwd, char **roots, char **owned, int nroots,
                       sbf_pipeline_opts *po, char *paths, size_t pathlen, int *moved) {
    char err[512], bbuf[PATH_MAX];
    const char *recorded = sbf_store_get_setting(st, SBF_SETTING_BASE);
    const char *base = sbf_store_base(st, bbuf, sizeof bbuf);
    *moved = 0;
    if (!recorded) {
        int relative = 0;
        sbf_store_each_path(st, note_relative, &relative);
        if (relative || strlen(cwd) > 255) return 0; /* paths relative to wherever it was used: as before */
        base = cwd;
    }
    if (!base) return 0;
    if ((!recorded || strcmp(recorded, base)) && strlen(base) <= 255 &&
        sbf_store_set_setting(st, SBF_SETTING_BASE, base, err, sizeof err)) {
        sbf_file_error(db, err);
        return 3;
    }
    if (sbf_same_file(base, cwd)) return 0;
    int renamed = 0;
    for (int i = 0; i < nroots; i++) {
        if (!roots[i] || roots[i][0] == '/') continue;
        char name[PATH_MAX], there[PATH_MAX];
        if (!sbf_path_rebase(cwd, base, roots[i], name, sizeof name) ||
            snprintf(there, sizeof there, "%s/%s", base, name) >= (int)sizeof there ||
            !(sbf_same_file(roots[i], there) || (access(roots[i], F_OK) != 0 && access(there, F_OK) != 0))) {
            fprintf(stderr, "sortbyface embed: %s: cannot name it from %s, where %s keeps its paths; run embed from "
                            "there or give the folder as an absolute path\n", roots[i], base, db);
            return 2;
        }
        if (!(owned[i] = strdup(name))) { sbf_error("out of memory"); return 3; }
        roots[i] = owned[i];
        renamed++;
    }
    if (!renamed) return 0; /* absolute folders only: nothing to rename, no need to move */
    /* models named relative to here: pin them before moving */
    po->facenet_model = absolute(cwd, po->facenet_model ? po->facenet_model : sbf_model_path(SBF_FACENET_FILE), paths,
                                 pathlen / 2);
    po->landmarks_model = absolute(cwd, po->landmarks_model ? po->landmarks_model : sbf_landmarks_default_path(),
                                   paths + pathlen / 2, pathlen / 2);
    if (chdir(base) != 0) {
        char why[300];
        snprintf(why, sizeof why, "cannot enter the database's folder: %s", strerror(errno));
        sbf_file_error(base, why);
        return 3;
    }
    *moved = 1;
    return 0;
}

static void free_roots(char **roots, int cap) {
    for (int i = 0; roots && i < cap; i++) free(roots[cap + i]);
    free(roots);
}

int sbf_cmd_embed(int argc, char **argv) {
    const char *src = NULL, *db = SBF_DEFAULT_DB, *upsample_s = "auto", *align_s = NULL, *lm = NULL, *model = NULL;
    int threads = 0, processes = 0, min_face = -1, f16 = 0, quiet = 0, max_pixels = 100000000;
    const sbf_opt opts[] = {
        {"src", NULL, SBF_OPT_STRING, &src, "DIR", "folder of photos to embed (also accepted as plain arguments, several allowed)"},
        {"db", NULL, SBF_OPT_STRING, &db, "FILE", "database to create or update (default embeddings.db)"},
        {"threads", NULL, SBF_OPT_INT, &threads, "N", "worker threads (default: all cores)"},
        {"processes", NULL, SBF_OPT_INT, &processes, "N", "same as --threads (embedder.py's flag)"},
        {"upsample", NULL, SBF_OPT_STRING, &upsample_s, "N|auto",
         "detector upsampling; auto (default): 1 for photos up to 1 megapixel, else 0; a photo of up to 0.25 MP "
         "with no face gets a second look at 2, then the best big weak face (see README)"},
        {"min-face", NULL, SBF_OPT_INT, &min_face, "PX",
         "smallest face to look for in big photos; default: automatic above 4.2 megapixels (see README)"},
        {"align", NULL, SBF_OPT_STRING, &align_s, "mtcnn|box|eyes",
         "face alignment before FaceNet: mtcnn (default) for a new database; an existing one keeps the rule it was "
         "made with (see README)"},
        {"max-pixels", NULL, SBF_OPT_INT, &max_pixels, "N", "refuse images with more pixels (default 100000000)"},
        {"f16", NULL, SBF_OPT_FLAG, &f16, NULL, "store embeddings as float16 (half the size)"},
        {"landmarks-model", NULL, SBF_OPT_STRING, &lm, "FILE", "dlib 68-point model (default: Debian's libdlib-data file)"},
        {"model", NULL, SBF_OPT_STRING, &model, "FILE", "FaceNet weight file (default weights/facenet-20180402.sbfw)"},
        {"quiet", "q", SBF_OPT_FLAG, &quiet, NULL, "no progress bar and no summary"},
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
    int npos;
    char **pos;
    int rc = sbf_parse(&spec, argc, argv, &npos, &pos);
    if (rc) return rc == 1 ? 0 : rc;
    /* the folders: -src DIR and any plain arguments, each once */
    int cap = npos + 1; /* roots[0..cap): the folders; roots[cap..2 cap): their renamed copies (see use_db_base) */
    char **roots = calloc(2 * (size_t)cap, sizeof *roots);
    int nroots = 0;
    if (!roots) { free(pos); sbf_error("out of memory"); return 3; }
    for (int i = -1; i < npos; i++) {
        char *r = i < 0 ? (char *)src : pos[i];
        if (!r) continue;
        int dup = 0;
        for (int k = 0; k < nroots; k++) dup |= !strcmp(roots[k], r);
        if (!dup) roots[nroots++] = r;
    }
    free(pos);
    /* what the run owns, freed once at the end (done:) whichever way it ends */
    sbf_store *st = NULL;
    sbf_walk w = {0};
    signed char *kind = NULL;
    int *todo = NULL;
    sbf_pipeline *pl = NULL;
    int kept = 0; /* a folder inside another one given is walked with it */
    for (int i = 0; i < nroots; i++) {
        int inside = 0;
        for (int k = 0; k < nroots && !inside; k++) /* "lib" and "lib/" are inside each other: keep the first */
            inside = k != i && sbf_path_under(roots[i], roots[k]) && (k < i || !sbf_path_under(roots[k], roots[i]));
        if (!inside) roots[kept++] = roots[i];
    }
    nroots = kept;
    if (!nroots) {
        fprintf(stderr, "sortbyface embed: missing -src DIR\nusage: sortbyface %s\n", spec.usage);
        rc = 2;
        goto done;
    }
    if (processes && !threads) threads = processes;
    if (threads < 0 || threads > 256) rc = sbf_check_range_int("embed", "threads", threads, 0, 256);
    else if (max_pixels < 1) rc = sbf_check_range_int("embed", "max-pixels", max_pixels, 1, 2147483647);
    sbf_pipeline_opts po;
    sbf_pipeline_defaults(&po);
    if (rc || (rc = sbf_pipeline_set_flags(&po, "embed", upsample_s, align_s))) goto done;
    po.min_face = min_face;
    po.max_pixels = max_pixels;
    po.threads = threads;
    po.landmarks_model = lm;
    po.facenet_model = model;

    char err[512];
    double t0 = sbf_now();
    /* the database is opened by an absolute name: the run may move into its base folder */
    char cwd[PATH_MAX], dbbuf[PATH_MAX + 256], models[2 * PATH_MAX + 512];
    if (!getcwd(cwd, sizeof cwd)) {
        sbf_error("cannot tell the current folder: %s", strerror(errno));
        rc = 3;
        goto done;
    }
    const char *db_at = absolute(cwd, db, dbbuf, sizeof dbbuf);
    int moved = 0;
    const int store_flags = SBF_STORE_WRITE | (f16 ? SBF_STORE_F16 : 0);
    if (access(db_at, F_OK) == 0) { /* an existing database: its base folder names the roots */
        st = sbf_store_open(db_at, store_flags, err, sizeof err);
        if (!st) sbf_file_error(db, err);
        rc = st ? use_db_base(st, db, cwd, roots, roots + cap, nroots, &po, models, sizeof models, &moved) : 3;
        if (rc) goto done;
        char here[PATH_MAX];
        if (moved && !quiet && getcwd(here, sizeof here))
            fprintf(stderr, "sortbyface embed: working from %s, where %s keeps its photo paths\n", here, db);
    }
    int walked = 0; /* roots that could not be read are reported and left out of forgetting */
    for (int i = 0; i < nroots; i++) {
        if (sbf_walk_tree(&w, roots[i], err, sizeof err) == 0) { walked++; continue; }
        sbf_file_error(roots[i], err);
        roots[i] = NULL;
    }
    int root_failed = nroots - walked;
    if (!walked) {
        rc = 1;
        goto done;
    }
    if (w.n) qsort(w.files, (size_t)w.n, sizeof *w.files, cmp_walk);
    int nu = 0; /* the same file given twice (a file and its folder) */
    for (int i = 0; i < w.n; i++) {
        if (nu && !strcmp(w.files[nu - 1].path, w.files[i].path)) free(w.files[i].path);
        else w.files[nu++] = w.files[i];
    }
    w.n = nu;
    kind = malloc((size_t)(w.n ? w.n : 1));
    todo = malloc(sizeof(int) * (w.n ? w.n : 1));
    if (!st && kind && todo && (st = sbf_store_open(db_at, store_flags, err, sizeof err)) &&
        (rc = use_db_base(st, db, cwd, roots, roots + cap, nroots, &po, models, sizeof models, &moved)))
        goto done; /* a new database: it only records where it is made */
    if (!st || !kind || !todo) {
        sbf_file_error(db, kind && todo ? err : "out of memory");
        rc = 3;
        goto done;
    }
    /* an existing database keeps its alignment rule; a new one records the run's */
    if ((rc = sbf_pipeline_db_align(&po, st, "embed", db, align_s)) == 0 &&
        sbf_store_set_setting(st, SBF_SETTING_ALIGN, sbf_align_name(po.align), err, sizeof err)) {
        sbf_file_error(db, err);
        rc = 3;
    }
    if (rc) goto done;

    /* What needs work: new or changed files that are images by content.  A file that cannot be read is
     * listed and keeps whatever the database had for it. */
    int ntodo = 0, unchanged = 0, not_images = 0, failed = 0;
    unsupported_tally unsup = {0};
    for (int i = 0; i < w.n; i++) {
        long long sz, mt;
        int known_file = sbf_store_lookup(st, w.files[i].path, &sz, &mt);
        const char *fmt;
        kind[i] = (signed char)sniff(w.files[i].path, &fmt, err, sizeof err);
        if (kind[i] < 0) {
            if (known_file) strncat(err, " (its faces from an earlier run are kept)", sizeof err - strlen(err) - 1);
            sbf_file_error(w.files[i].path, err);
            failed++;
            continue;
        }
        if (kind[i] == 0) {
            not_images++;
            tally(&unsup, fmt);
            /* a file that was a photo and is not one any more is forgotten below */
            continue;
        }
        if (known_file && sz == w.files[i].size && mt == w.files[i].mtime_ns) {
            unchanged++;
            continue;
        }
        todo[ntodo++] = i;
    }
    /* Forget photos under the folders walked that are gone, or no longer images; never those under a
     * folder that could not be read. */
    pathlist known = {0};
    sbf_store_each_path(st, collect_path, &known);
    int forgotten = 0;
    for (int i = 0; i < known.n; i++) {
        if (!under_any(known.paths[i], roots, nroots) || under_any(known.paths[i], w.unreadable, w.nunreadable))
            continue;
        sbf_walk_file key = {known.paths[i], 0, 0};
        sbf_walk_file *hit = w.n ? bsearch(&key, w.files, (size_t)w.n, sizeof *w.files, cmp_walk) : NULL;
        if (hit && kind[hit - w.files] != 0) continue;
        if (sbf_store_forget(st, known.paths[i], err, sizeof err) == 0) forgotten++;
        else sbf_file_error(db, err);
    }
    for (int i = 0; i < known.n; i++) free(known.paths[i]);
    free(known.paths);

    int faces = 0, embedded = 0, write_failed = 0;
    progress pr = {ntodo, 0, 0, 0, sbf_now(), 0, !quiet && sbf_progress_wanted()};
    if (ntodo > 0) {
        pl = sbf_pipeline_new(&po, err, sizeof err);
        if (!pl) {
            sbf_error("%s", err);
            rc = 3;
            goto done;
        }
        int batch = 4 * sbf_pipeline_threads(pl);
        if (batch < 8) batch = 8;
        sbf_photo_job *jobs = calloc((size_t)batch, sizeof *jobs);
        show_progress(&pr, 0);
        struct sigaction sa = {0}, old_int, old_term;
        sa.sa_handler = on_interrupt;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        for (int b = 0; b < ntodo && !write_failed && !interrupted; b += batch) {
            int n = ntodo - b < batch ? ntodo - b : batch;
            for (int k = 0; k < n; k++) jobs[k].path = w.files[todo[b + k]].path;
            if (sbf_pipeline_run(pl, jobs, n, err, sizeof err)) { sbf_error("%s", err); write_failed = 1; break; }
            for (int k = 0; k < n; k++) {
                sbf_photo_job *j = &jobs[k];
                sbf_walk_file *f = &w.files[todo[b + k]];
                if (j->failed) {
                    if (pr.tty) fputc('\n', stderr);
                    sbf_file_error(j->path, j->err);
                    failed++;
                    long long sz, mt; /* a photo that changed into something unreadable is forgotten */
                    if (sbf_store_lookup(st, j->path, &sz, &mt)) sbf_store_forget(st, j->path, err, sizeof err);
                    continue;
                }
                sbf_photo_meta meta = {j->path, f->size, f->mtime_ns, j->width, j->height};
                if (sbf_store_put(st, &meta, j->nfaces, j->faces, err, sizeof err)) {
                    if (pr.tty) fputc('\n', stderr);
                    sbf_file_error(db, err); /* e.g. disk full: stop, what was written stays valid */
                    write_failed = 1;
                    break;
                }
                embedded++;
                faces += j->nfaces;
            }
            pr.done = b + n;
            pr.faces = faces;
            show_progress(&pr, 0);
        }
        for (int k = 0; k < batch; k++) sbf_photo_job_clear(&jobs[k]);
        free(jobs);
        show_progress(&pr, 1);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    if (!write_failed && sbf_store_sync(st, err, sizeof err)) { sbf_file_error(db, err); write_failed = 1; }
    if (!write_failed && sbf_store_maybe_compact(st, err, sizeof err)) sbf_file_error(db, err);
    sbf_store_stats ss;
    sbf_store_get_stats(st, &ss);
    double el = sbf_now() - t0;
    char unsup_text[320];
    tally_text(&unsup, unsup_text, sizeof unsup_text);
    if (w.outputs) {
        size_t k = strlen(unsup_text);
        snprintf(unsup_text + k, sizeof unsup_text - k, ", %d of its own output folder%s not searched", w.outputs,
                 sbf_s(w.outputs));
    }
    char rate[48] = ""; /* only when something was embedded */
    if (embedded && el > 0) snprintf(rate, sizeof rate, " (%.2f photos/s)", embedded / el);
    if (!quiet)
        fprintf(stderr,
                "sortbyface embed: %d photo%s embedded (%d face%s), %d unchanged, %d failed, %d forgotten, %d other file%s "
                "skipped%s%s%s; database %s holds %zu photo%s, %zu face%s; %.1f s%s\n",
                embedded, sbf_s(embedded), faces, sbf_s(faces), unchanged, failed, forgotten, not_images,
                sbf_s(not_images), unsup_text,
                w.dir_errors || root_failed ? " (some folders unreadable: what the database had from them is kept)" : "",
                write_failed  ? "; STOPPED EARLY: the database could not be written (see above)"
                : interrupted ? "; INTERRUPTED: run it again to embed the rest"
                              : "",
                db, ss.photos, sbf_s((long long)ss.photos),
                ss.faces, sbf_s((long long)ss.faces), el, rate);
    rc = write_failed ? 3 : interrupted ? 128 + interrupted : failed || w.dir_errors || root_failed ? 1 : 0;
done:
    sbf_store_close(st);
    sbf_pipeline_free(pl);
    sbf_walk_free(&w);
    free(todo);
    free(kind);
    free_roots(roots, cap);
    return rc;
}
