/* tools/bench-photo.c — camera-size photos (issue 22): where the time of one photo goes, and the check.
 *
 * usage: bench-photo [--reps R] [--bin SORTBYFACE] [--before OLD_SORTBYFACE]... [--no-check] PHOTO...
 *   (tools/make-large-photos.py makes the five large test photos; `make bench-photo` runs this and the
 *   OpenCV + dlib peer, tools/bench-photo.sh)
 *
 * Every figure is the fastest of R runs (the machine is shared: the least disturbed run), CPU time of the
 * thread or process unless it says wall.
 *  1. decode, per photo: stb_image 2.27 (compiled in here, as src/stb_impl.c had it for JPEG) against
 *     libjpeg-turbo at 1/1, and DCT-scaled at 1/2 and 1/4 (what the detector could use; not adopted: see
 *     docs/MEASUREMENTS.md)
 *  2. stages on one thread with the pipeline's reused buffers: read, decode (+ EXIF rotation), gray,
 *     detect, landmarks, align, FaceNet, store; kernel (sys) time next to each
 *  3. one photo through the pipeline (sbf_pipeline_run) with 1 and with 2 threads: wall time, speed-up
 *  4. the check: `SORTBYFACE embed --threads 1` over all photos as a whole process (start-up and model
 *     loading included, a fresh database each run): CPU and sys time, divided by stb_image's decode time
 *     of the same files (issue 22: 7.0-7.5x before, target <= 4.2x), and its peak RSS; with --before (up to
 *     4), each older binary's run alternates with ours (the older figures measured in the same run; an older
 *     binary finds its own weights/ folder next to it first, see src/models.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "nn/facenet.h"
#include "src/align.h"
#include "src/decoders.h"
#include "src/detect.h"
#include "src/image.h"
#include "src/landmarks.h"
#include "src/models.h"
#include "src/pipeline.h"
#include "src/store.h"
#include "src/util.h"

/* stb_image's JPEG decoder, private to this program (the library no longer has it). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_STATIC
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

static double tcpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}
static double tsys(void) {
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}
static double minf(double a, double b) { return a < b ? a : b; }

enum { READ, DECODE, GRAY, DETECT, LMK, ALIGN, NET, STORE, NST };
static const char *stage_name[NST] = {"read", "decode", "gray", "detect", "landmarks", "align", "facenet", "store"};

/* Runs `bin embed --threads T -src dir --db db` (fresh database); CPU and sys seconds of the child. */
static int run_embed(const char *bin, const char *dir, const char *db, int threads, double *cpu, double *sys,
                     long *rss_kb) {
    unlink(db);
    char th[16];
    snprintf(th, sizeof th, "%d", threads);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(126);
        execl(bin, bin, "embed", "--threads", th, "-src", dir, "--db", db, (char *)NULL);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
    *sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    *rss_kb = ru.ru_maxrss;
    *cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + *sys;
    return 0;
}

int main(int argc, char **argv) {
    int reps = 3, check = 1;
    const char *bin = "build/native/sortbyface", *before[4];
    int nbefore = 0;
    int np = 0;
    const char **photos = calloc((size_t)argc, sizeof *photos);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bin") && i + 1 < argc) bin = argv[++i];
        else if (!strcmp(argv[i], "--before") && i + 1 < argc && nbefore < 4) before[nbefore++] = argv[++i];
        else if (!strcmp(argv[i], "--no-check")) check = 0;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: bench-photo [--reps R] [--bin SORTBYFACE] [--before OLD_SORTBYFACE]... "
                            "[--no-check] PHOTO...\n");
            return 2;
        } else photos[np++] = argv[i];
    }
    if (!np || reps < 1) {
        fprintf(stderr, "bench-photo: no photos (tools/make-large-photos.py makes them)\n");
        return 2;
    }
    char err[256];
    sbf_detector *det = sbf_detector_new(err, sizeof err);
    sbf_shape_model *shape = det ? sbf_shape_load(sbf_landmarks_default_path(), err, sizeof err) : NULL;
    nn_facenet *net = shape ? nn_facenet_load(sbf_model_path(SBF_FACENET_FILE), 1, err, sizeof err) : NULL;
    if (!net) {
        fprintf(stderr, "bench-photo: %s\n", err);
        return 1;
    }
    double stb_total = 0, tj_total[3] = {0, 0, 0};
    double st_total[NST] = {0}, sys_total[NST] = {0};
    printf("photo                               size        faces  stb_ms  tj1_ms  tj2_ms  tj4_ms  stb/tj1\n");
    char dbpath[] = "/tmp/bench-photo-XXXXXX";
    if (!mkdtemp(dbpath)) {
        perror("mkdtemp");
        return 1;
    }
    char db[512];
    snprintf(db, sizeof db, "%s/stages.db", dbpath);
    sbf_store *store = sbf_store_open(db, SBF_STORE_WRITE, err, sizeof err);
    if (!store) {
        fprintf(stderr, "bench-photo: %s\n", err);
        return 1;
    }
    sbf_image_buffers ib = {0};
    sbf_detect_ws *dws = sbf_detect_ws_new();
    for (int p = 0; p < np; p++) {
        size_t len;
        unsigned char *file = sbf_read_file(photos[p], &len, (size_t)1 << 30, err, sizeof err);
        if (!file) {
            fprintf(stderr, "bench-photo: %s: %s\n", photos[p], err);
            return 1;
        }
        /* 1. decoders */
        double tstb = 1e9, ttj[3] = {1e9, 1e9, 1e9};
        uint8_t *buf = NULL;
        size_t cap = 0;
        int w = 0, h = 0;
        for (int r = 0; r < reps; r++) {
            int x, y, c;
            double t0 = tcpu();
            unsigned char *px = stbi_load_from_memory(file, (int)len, &x, &y, &c, 3);
            tstb = minf(tstb, tcpu() - t0);
            if (!px) {
                fprintf(stderr, "bench-photo: %s: stb_image: %s\n", photos[p], stbi_failure_reason());
                return 1;
            }
            free(px);
            for (int s = 0; s < 3; s++) {
                t0 = tcpu();
                if (sbf_jpeg_decode(file, len, 1 << s, SBF_DEFAULT_MAX_PIXELS, (sbf_outbuf){.buf = &buf, .cap = &cap},
                                    &x, &y, err, sizeof err)) {
                    fprintf(stderr, "bench-photo: %s: %s\n", photos[p], err);
                    return 1;
                }
                ttj[s] = minf(ttj[s], tcpu() - t0);
                if (s == 0) {
                    w = x;
                    h = y;
                }
            }
        }
        free(buf);
        free(file);
        stb_total += tstb;
        for (int s = 0; s < 3; s++) tj_total[s] += ttj[s];
        /* 2. stages, one thread, buffers reused as in the pipeline (one warm-up run first) */
        double best[NST], bsys[NST];
        int nfaces = 0;
        for (int s = 0; s < NST; s++) best[s] = bsys[s] = 1e9;
        for (int r = 0; r <= reps; r++) {
            double t[NST + 1], sy[NST + 1];
            int k = 0;
            t[k] = tcpu();
            sy[k++] = tsys();
            sbf_image_buffers *B = &ib;
            /* read + decode: sbf_image_load_reuse does both; the read alone is timed apart */
            size_t l2;
            unsigned char *f2 = sbf_read_file(photos[p], &l2, (size_t)1 << 30, err, sizeof err);
            free(f2);
            t[k] = tcpu();
            sy[k++] = tsys();
            if (sbf_image_load_reuse(photos[p], SBF_DEFAULT_MAX_PIXELS, B, err, sizeof err)) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            t[k] = tcpu();
            sy[k++] = tsys();
            sbf_image_make_gray(&B->img); /* (included in the decode above too: timed again alone) */
            t[k] = tcpu();
            sy[k++] = tsys();
            const sbf_image *im = &B->img;
            sbf_pipeline_opts po;
            sbf_pipeline_defaults(&po);
            const int up = sbf_pipeline_upsample(&po, im->w, im->h);
            const int mf = sbf_detect_auto_min_face(det, im->w, im->h, up);
            sbf_box *boxes = NULL;
            int n = sbf_detect_ws_ex(det, im->gray, im->w, im->h, up, mf, 0.0, NULL, dws, &boxes);
            t[k] = tcpu();
            sy[k++] = tsys();
            sbf_face_rec *faces = calloc((size_t)(n > 0 ? n : 1), sizeof *faces);
            unsigned char *crops = malloc((size_t)(n > 0 ? n : 1) * SBF_CROP * SBF_CROP * 3);
            for (int i = 0; i < n; i++) sbf_shape_predict(shape, im->gray, im->w, im->h, &boxes[i], faces[i].landmarks);
            t[k] = tcpu();
            sy[k++] = tsys();
            for (int i = 0; i < n; i++)
                sbf_align_face(im->rgb, im->w, im->h, &boxes[i], (const float(*)[2])faces[i].landmarks, po.align,
                               crops + (size_t)i * SBF_CROP * SBF_CROP * 3);
            t[k] = tcpu();
            sy[k++] = tsys();
            float *emb = malloc(sizeof(float) * SBF_EMBED_DIM * (size_t)(n > 0 ? n : 1));
            if (n > 0 && nn_facenet_embed(net, crops, n, emb)) {
                fprintf(stderr, "bench-photo: FaceNet failed\n");
                return 1;
            }
            t[k] = tcpu();
            sy[k++] = tsys();
            for (int i = 0; i < n; i++) {
                faces[i].index = i;
                faces[i].box = boxes[i];
                memcpy(faces[i].emb, emb + (size_t)i * SBF_EMBED_DIM, sizeof faces[i].emb);
            }
            sbf_photo_meta meta = {photos[p], (long long)len, 0, im->w, im->h, NULL};
            if (sbf_store_put(store, &meta, n, faces, err, sizeof err) || sbf_store_sync(store, err, sizeof err)) {
                fprintf(stderr, "bench-photo: store: %s\n", err);
                return 1;
            }
            t[k] = tcpu();
            sy[k++] = tsys();
            free(faces);
            free(crops);
            free(emb);
            free(boxes);
            nfaces = n;
            if (r == 0) continue; /* warm-up: buffers grow to this photo's size */
            for (int s = 0; s < NST; s++) {
                double dt = t[s + 1] - t[s], ds = sy[s + 1] - sy[s];
                if (s == DECODE) {
                    dt -= t[READ + 1] - t[READ];
                    ds -= sy[READ + 1] - sy[READ];
                } /* decode minus the read */
                if (dt < best[s]) {
                    best[s] = dt;
                    bsys[s] = ds;
                }
            }
        }
        best[DECODE] -= best[GRAY]; /* the decode ran the gray conversion too */
        for (int s = 0; s < NST; s++) {
            st_total[s] += best[s];
            sys_total[s] += bsys[s];
        }
        printf("%-35s %4dx%-5d  %5d  %6.1f  %6.1f  %6.1f  %6.1f  %6.2f\n",
               strrchr(photos[p], '/') ? strrchr(photos[p], '/') + 1 : photos[p], w, h, nfaces, 1e3 * tstb,
               1e3 * ttj[0], 1e3 * ttj[1], 1e3 * ttj[2], tstb / ttj[0]);
    }
    printf("decode total: stb_image %.0f ms, libjpeg-turbo 1/1 %.0f ms (%.2fx faster), 1/2 %.0f ms, 1/4 %.0f ms\n",
           1e3 * stb_total, 1e3 * tj_total[0], stb_total / tj_total[0], 1e3 * tj_total[1], 1e3 * tj_total[2]);
    double all = 0, allsys = 0;
    for (int s = 0; s < NST; s++) {
        all += st_total[s];
        allsys += sys_total[s];
    }
    printf("stages, 1 thread, buffers reused (ms over the %d photos, fastest of %d; sys = kernel time in it):\n", np,
           reps);
    for (int s = 0; s < NST; s++)
        printf("  %-10s %7.1f ms  %5.1f %%   sys %5.1f ms\n", stage_name[s], 1e3 * st_total[s], 100 * st_total[s] / all,
               1e3 * sys_total[s]);
    printf("  %-10s %7.1f ms  decode+gray %.1f %% of it, sys %.1f %%\n", "total", 1e3 * all,
           100 * (st_total[DECODE] + st_total[GRAY]) / all, 100 * allsys / all);
    sbf_store_close(store);
    unlink(db);
    sbf_image_buffers_free(&ib);
    sbf_detect_ws_free(dws);

    /* 3. one photo at a time through the pipeline, 1 and 2 threads (wall time) */
    for (int th = 1; th <= 2; th++) {
        sbf_pipeline_opts po;
        sbf_pipeline_defaults(&po);
        po.threads = th;
        sbf_pipeline *pl = sbf_pipeline_new(&po, err, sizeof err);
        if (!pl) {
            fprintf(stderr, "bench-photo: %s\n", err);
            return 1;
        }
        double sum = 0;
        for (int p = 0; p < np; p++) {
            double b = 1e9;
            sbf_photo_job j = {0};
            j.path = photos[p];
            for (int r = 0; r <= reps; r++) {
                double t0 = sbf_now();
                if (sbf_pipeline_run(pl, &j, 1, err, sizeof err) || j.failed) {
                    fprintf(stderr, "bench-photo: %s\n", j.failed ? j.err : err);
                    return 1;
                }
                if (r) b = minf(b, sbf_now() - t0);
            }
            sbf_photo_job_clear(&j);
            sum += b;
        }
        static double one;
        if (th == 1) one = sum;
        printf("one photo at a time, pipeline, %d thread%s: %.0f ms wall over the %d photos (%.0f ms per photo)%s", th,
               th > 1 ? "s" : "", 1e3 * sum, np, 1e3 * sum / np, th == 1 ? "\n" : "");
        if (th > 1) printf(", %.2fx faster than 1 thread\n", one / sum);
        sbf_pipeline_free(pl);
    }

    /* 4. the check: whole process, embed --threads 1 over the photos' folder */
    if (check) {
        char dir[4096], tmp[4096];
        snprintf(dir, sizeof dir, "%s/photos", dbpath);
        if (mkdir(dir, 0700)) {
            perror("mkdir");
            return 1;
        }
        for (int p = 0; p < np; p++) { /* a folder of exactly these photos (copies) */
            size_t len;
            unsigned char *f = sbf_read_file(photos[p], &len, (size_t)1 << 30, err, sizeof err);
            snprintf(tmp, sizeof tmp, "%s/%d.jpg", dir, p);
            FILE *o = f ? fopen(tmp, "wb") : NULL;
            if (!o || fwrite(f, 1, len, o) != len || fclose(o)) {
                fprintf(stderr, "bench-photo: cannot copy %s\n", photos[p]);
                return 1;
            }
            free(f);
        }
        snprintf(db, sizeof db, "%s/check.db", dbpath);
        double cpu = 1e9, sys = 0, cpu2 = 1e9, sys2 = 0, cpub[4], sysb[4] = {0};
        long rss = 0, rss2 = 0, rssb[4] = {0}, rk;
        for (int b = 0; b < 4; b++) cpub[b] = 1e9;
        for (int r = 0; r < reps; r++) {
            double c, s;
            for (int b = 0; b < nbefore; b++) {
                if (run_embed(before[b], dir, db, 1, &c, &s, &rk)) {
                    fprintf(stderr, "bench-photo: %s embed failed\n", before[b]);
                    return 1;
                }
                if (c < cpub[b]) {
                    cpub[b] = c;
                    sysb[b] = s;
                }
                if (rk > rssb[b]) rssb[b] = rk;
            }
            if (run_embed(bin, dir, db, 1, &c, &s, &rk)) {
                fprintf(stderr, "bench-photo: %s embed failed\n", bin);
                return 1;
            }
            if (c < cpu) {
                cpu = c;
                sys = s;
            }
            if (rk > rss) rss = rk;
            if (run_embed(bin, dir, db, 2, &c, &s, &rk)) {
                fprintf(stderr, "bench-photo: %s embed failed\n", bin);
                return 1;
            }
            if (c < cpu2) {
                cpu2 = c;
                sys2 = s;
            }
            if (rk > rss2) rss2 = rk;
        }
        printf("whole process: %s embed --threads 1 over the %d photos: %.0f ms CPU (%.0f ms per photo), sys %.0f ms "
               "(%.1f %%), peak RSS %.0f MB\n",
               bin, np, 1e3 * cpu, 1e3 * cpu / np, 1e3 * sys, 100 * sys / cpu, rss / 1024.0);
        printf("whole process: %s embed --threads 2 over the %d photos: %.0f ms CPU, sys %.0f ms (%.1f %%), peak RSS "
               "%.0f MB\n",
               bin, np, 1e3 * cpu2, 1e3 * sys2, 100 * sys2 / cpu2, rss2 / 1024.0);
        for (int b = 0; b < nbefore; b++)
            printf(
                "whole process: %s embed --threads 1 over the %d photos: %.0f ms CPU, sys %.0f ms (%.1f %%), peak RSS "
                "%.0f MB; ratio to stb_image decode %.2f; ours/before %.2f\n",
                before[b], np, 1e3 * cpub[b], 1e3 * sysb[b], 100 * sysb[b] / cpub[b], rssb[b] / 1024.0,
                cpub[b] / stb_total, cpu / cpub[b]);
        printf("check: embed --threads 1 CPU / stb_image decode of the same files = %.2f (before issue 22: 7.0-7.5; "
               "target <= 4.2): %s\n",
               cpu / stb_total, cpu / stb_total <= 4.2 ? "MET" : "MISSED");
        unlink(db);
        for (int p = 0; p < np; p++) {
            snprintf(tmp, sizeof tmp, "%s/%d.jpg", dir, p);
            unlink(tmp);
        }
        rmdir(dir);
    }
    rmdir(dbpath);
    sbf_shape_free(shape);
    sbf_detector_free(det);
    nn_facenet_free(net);
    free(photos);
    return 0;
}
