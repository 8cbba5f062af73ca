/* src/thumbs.c — face thumbnails for the people page; see src/thumbs.h. */
#include "src/thumbs.h"
#include "src/util.h"
#include "src/walk.h"
#include "nn/threadpool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stb/stb_image_write.h>

/* Changes whenever the look of a thumbnail changes, so that files of an older format are not reused. */
#define THUMB_FORMAT "sbf-thumb-1"

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

void sbf_thumb_name(const sbf_thumb_job *j, char name[SBF_THUMB_NAME_LEN]) {
    char head[256];
    int hl =
        snprintf(head, sizeof head, "%s %d %.3f %d", THUMB_FORMAT, SBF_THUMB_SIDE, SBF_THUMB_MARGIN, SBF_THUMB_QUALITY);
    uint64_t h = fnv(14695981039346656037ull, head, (size_t)hl + 1);
    if (j->photo[0] != '/') { /* a relative path counts from the current folder: the same photo, the same name */
        char cwd[4096];
        if (getcwd(cwd, sizeof cwd)) h = fnv(fnv(h, cwd, strlen(cwd)), "/", 1);
    }
    h = fnv(h, j->photo, strlen(j->photo) + 1);
    hl = snprintf(head, sizeof head, "%lld %lld %ld %ld %ld %ld", j->size, j->mtime_ns, j->box.left, j->box.top,
                  j->box.right, j->box.bottom);
    h = fnv(h, head, (size_t)hl);
    snprintf(name, SBF_THUMB_NAME_LEN, "%016llx.jpg", (unsigned long long)h);
}

/* Bilinear sample of channel-interleaved RGB at (x, y) in pixel-centre coordinates; outside: mid-grey. */
static void sample(const sbf_image *img, double x, double y, double *rgb) {
    if (x < -0.5 || y < -0.5 || x > img->w - 0.5 || y > img->h - 0.5) {
        rgb[0] += 128, rgb[1] += 128, rgb[2] += 128;
        return;
    }
    double fx = x < 0 ? 0 : x > img->w - 1 ? img->w - 1 : x, fy = y < 0 ? 0 : y > img->h - 1 ? img->h - 1 : y;
    int x0 = (int)fx, y0 = (int)fy;
    int x1 = x0 + 1 < img->w ? x0 + 1 : x0, y1 = y0 + 1 < img->h ? y0 + 1 : y0;
    double ax = fx - x0, ay = fy - y0;
    const uint8_t *p00 = img->rgb + ((size_t)y0 * img->w + x0) * 3, *p01 = img->rgb + ((size_t)y0 * img->w + x1) * 3;
    const uint8_t *p10 = img->rgb + ((size_t)y1 * img->w + x0) * 3, *p11 = img->rgb + ((size_t)y1 * img->w + x1) * 3;
    for (int c = 0; c < 3; c++)
        rgb[c] += (1 - ay) * ((1 - ax) * p00[c] + ax * p01[c]) + ay * ((1 - ax) * p10[c] + ax * p11[c]);
}

void sbf_thumb_cut(const sbf_image *img, const sbf_box *b, int side, uint8_t *out) {
    double bw = (double)(b->right - b->left + 1), bh = (double)(b->bottom - b->top + 1);
    double cut = SBF_THUMB_MARGIN * (bw > bh ? bw : bh);
    if (cut < 1) cut = 1;
    /* the cut's top-left corner in pixel-edge coordinates; the box's centre is (left + right + 1) / 2 */
    double cx = (b->left + b->right + 1) / 2.0, cy = (b->top + b->bottom + 1) / 2.0;
    double x0 = cx - cut / 2, y0 = cy - cut / 2, step = cut / side;
    /* supersampling: k x k bilinear samples per output pixel, k the downscale factor rounded up */
    int k = (int)ceil(step);
    if (k < 1) k = 1;
    if (k > 16) k = 16;
    for (int oy = 0; oy < side; oy++)
        for (int ox = 0; ox < side; ox++) {
            double acc[3] = {0, 0, 0};
            for (int sy = 0; sy < k; sy++)
                for (int sx = 0; sx < k; sx++) {
                    double x = x0 + (ox + (sx + 0.5) / k) * step - 0.5, y = y0 + (oy + (sy + 0.5) / k) * step - 0.5;
                    sample(img, x, y, acc);
                }
            for (int c = 0; c < 3; c++) {
                double v = acc[c] / (k * k) + 0.5;
                out[((size_t)oy * side + ox) * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
}

/* A thumbnail already there: a regular file ending with the JPEG end-of-image marker. */
static int usable(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat st;
    unsigned char end[2];
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 4 && pread(fd, end, 2, st.st_size - 2) == 2 &&
             end[0] == 0xFF && end[1] == 0xD9;
    close(fd);
    return ok;
}

typedef struct {
    unsigned char *b;
    size_t n, cap;
    int oom;
} membuf;

static void sink(void *ctx, void *data, int size) {
    membuf *m = ctx;
    if (m->oom || size <= 0) return;
    if (m->n + (size_t)size > m->cap) {
        size_t cap = (m->n + (size_t)size) * 2;
        unsigned char *nb = realloc(m->b, cap);
        if (!nb) {
            m->oom = 1;
            return;
        }
        m->b = nb, m->cap = cap;
    }
    memcpy(m->b + m->n, data, (size_t)size);
    m->n += (size_t)size;
}

/* Writes data to dir/name through a temporary file in dir and a rename. */
static int put(const char *dir, const char *name, const void *data, size_t n, char *err, size_t errlen) {
    char tmp[4200], dst[4200];
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s-XXXXXX", dir, name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        sbf_seterr(err, errlen, "cannot create a file in %s: %s", dir, strerror(errno));
        return -1;
    }
    fchmod(fd, 0644);
    size_t done = 0;
    int e = 0;
    while (done < n) {
        ssize_t w = write(fd, (const char *)data + done, n - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            e = errno;
            break;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 && !e) e = errno;
    if (!e && rename(tmp, dst) != 0) e = errno;
    if (e) {
        unlink(tmp);
        sbf_seterr(err, errlen, "cannot write %s: %s", dst, strerror(e));
        return -1;
    }
    return 0;
}

typedef struct {
    sbf_thumb_job *jobs;
    const int *order;    /* job indices grouped by photo */
    const int *group;    /* [ngroups + 1]: group g is order[group[g] .. group[g+1]) */
    const int *todo;     /* groups with a missing thumbnail */
    char *dir;           /* outdir/.thumbs */
    int written, failed; /* guarded by mu */
    pthread_mutex_t mu;
} thumbs_ctx;

static void make_group(void *vctx, int task, int thread) {
    (void)thread;
    thumbs_ctx *c = vctx;
    int g = c->todo[task], w = 0, bad = 0;
    const sbf_thumb_job *first = &c->jobs[c->order[c->group[g]]];
    sbf_image img = {0};
    char err[512] = "";
    uint8_t px[SBF_THUMB_SIDE * SBF_THUMB_SIDE * 3];
    if (sbf_image_load(first->photo, SBF_DEFAULT_MAX_PIXELS, &img, err, sizeof err) == 0) {
        for (int i = c->group[g]; i < c->group[g + 1]; i++) {
            sbf_thumb_job *j = &c->jobs[c->order[i]];
            if (i > c->group[g] && !strcmp(j->name, c->jobs[c->order[i - 1]].name)) continue; /* same face twice */
            char path[4200];
            snprintf(path, sizeof path, "%s/%s", c->dir, j->name);
            if (usable(path)) continue;
            sbf_thumb_cut(&img, &j->box, SBF_THUMB_SIDE, px);
            membuf m = {0};
            if (!stbi_write_jpg_to_func(sink, &m, SBF_THUMB_SIDE, SBF_THUMB_SIDE, 3, px, SBF_THUMB_QUALITY) || m.oom)
                snprintf(err, sizeof err, "cannot encode a thumbnail");
            else if (!put(c->dir, j->name, m.b, m.n, err, sizeof err)) {
                w++;
                err[0] = 0;
            }
            free(m.b);
            if (err[0]) { /* a write failure fails the rest of the photo's faces too: say it once */
                bad = 1;
                break;
            }
        }
        sbf_image_free(&img);
    } else bad = 1;
    pthread_mutex_lock(&c->mu);
    c->written += w;
    if (bad) {
        sbf_file_error(first->photo, err[0] ? err : "no thumbnail");
        for (int i = c->group[g]; i < c->group[g + 1]; i++) {
            sbf_thumb_job *j = &c->jobs[c->order[i]];
            char path[4200];
            snprintf(path, sizeof path, "%s/%s", c->dir, j->name);
            if (!usable(path)) j->name[0] = 0, c->failed++;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

static int by_photo(const void *a, const void *b, void *ctx) {
    const sbf_thumb_job *jobs = ctx, *x = &jobs[*(const int *)a], *y = &jobs[*(const int *)b];
    int r = strcmp(x->photo, y->photo);
    if (r) return r;
    if (x->size != y->size) return x->size < y->size ? -1 : 1;
    if (x->mtime_ns != y->mtime_ns) return x->mtime_ns < y->mtime_ns ? -1 : 1;
    return strcmp(x->name, y->name);
}
static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A file name of ours in .thumbs/: 16 lower-case hex digits + ".jpg", or a temporary file. */
static int ours(const char *n) {
    if (!strncmp(n, ".tmp-", 5)) return 1;
    for (int i = 0; i < 16; i++)
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f'))) return 0;
    return !strcmp(n + 16, ".jpg");
}

static int prune_dir(const char *dir, sbf_thumb_job *jobs, int n, int *pruned, char *err, size_t errlen) {
    char **names = malloc((size_t)(n ? n : 1) * sizeof *names);
    if (!names) {
        sbf_seterr(err, errlen, "out of memory");
        return -1;
    }
    int nn = 0;
    for (int i = 0; i < n; i++)
        if (jobs[i].name[0]) names[nn++] = jobs[i].name;
    qsort(names, (size_t)nn, sizeof *names, by_name);
    DIR *d = opendir(dir);
    if (!d) {
        sbf_seterr(err, errlen, "cannot read folder %s: %s", dir, strerror(errno));
        free(names);
        return -1;
    }
    struct dirent *e;
    char path[4200];
    while ((e = readdir(d))) {
        const char *key = e->d_name;
        if (!ours(key) || bsearch(&key, names, (size_t)nn, sizeof *names, by_name)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0) (*pruned)++;
    }
    closedir(d);
    free(names);
    return 0;
}

int sbf_thumbs_write(const char *outdir, sbf_thumb_job *jobs, int n, int threads, int prune, sbf_thumb_stats *st,
                     char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    thumbs_ctx c = {.jobs = jobs};
    size_t dl = strlen(outdir) + sizeof SBF_THUMBS_DIR + 2;
    if (!(c.dir = malloc(dl))) {
        sbf_seterr(err, errlen, "out of memory");
        return -1;
    }
    snprintf(c.dir, dl, "%s/%s", outdir, SBF_THUMBS_DIR);
    if (mkdir(c.dir, 0755) != 0 && errno != EEXIST) {
        sbf_seterr(err, errlen, "cannot create folder %s: %s", c.dir, strerror(errno));
        free(c.dir);
        return -1;
    }
    /* the output folder's mark, so that embed never takes thumbnails for photos (even when the output folder
     * itself is named as the folder to embed) */
    char *mark = sbf_path_join(c.dir, SBF_OUTPUT_MARKER), why[256];
    static const char note[] = "Thumbnails of sortbyface's people page (../index.html); 'sortbyface embed' does not "
                               "look for photos here.\n";
    struct stat mst;
    if (!mark || (lstat(mark, &mst) != 0 && sbf_write_file_atomic(mark, note, sizeof note - 1, 0, why, sizeof why))) {
        sbf_seterr(err, errlen, "cannot write %s/%s: %s", c.dir, SBF_OUTPUT_MARKER, mark ? why : "out of memory");
        free(mark);
        free(c.dir);
        return -1;
    }
    free(mark);
    for (int i = 0; i < n; i++) sbf_thumb_name(&jobs[i], jobs[i].name);
    int *order = malloc((size_t)(n ? n : 1) * sizeof *order), *group = malloc((size_t)(n + 1) * sizeof *group);
    int *todo = malloc((size_t)(n ? n : 1) * sizeof *todo), ngroups = 0, ntodo = 0, rc = 0;
    if (!order || !group || !todo) {
        sbf_seterr(err, errlen, "out of memory");
        rc = -1;
        goto done;
    }
    for (int i = 0; i < n; i++) order[i] = i;
    qsort_r(order, (size_t)n, sizeof *order, by_photo, jobs);
    for (int i = 0; i < n; i++) {
        const sbf_thumb_job *j = &jobs[order[i]], *p = i ? &jobs[order[i - 1]] : NULL;
        if (!p || strcmp(j->photo, p->photo) || j->size != p->size || j->mtime_ns != p->mtime_ns) group[ngroups++] = i;
    }
    group[ngroups] = n;
    /* the groups with a thumbnail to write (checked here, one file at a time: cheap next to decoding) */
    char path[4200];
    for (int g = 0; g < ngroups; g++) {
        int missing = 0;
        for (int i = group[g]; i < group[g + 1]; i++) {
            snprintf(path, sizeof path, "%s/%s", c.dir, jobs[order[i]].name);
            if (i > group[g] && !strcmp(jobs[order[i]].name, jobs[order[i - 1]].name)) continue;
            if (usable(path)) st->reused++;
            else missing = 1;
        }
        if (missing) todo[ntodo++] = g;
    }
    c.order = order, c.group = group, c.todo = todo;
    pthread_mutex_init(&c.mu, NULL);
    if (ntodo) {
        nn_pool *pool = nn_pool_new(threads);
        if (!pool) {
            sbf_seterr(err, errlen, "cannot start threads");
            rc = -1;
        } else {
            nn_pool_run(pool, ntodo, make_group, &c);
            nn_pool_free(pool);
        }
    }
    pthread_mutex_destroy(&c.mu);
    st->written = c.written;
    st->failed = c.failed;
    if (!rc && prune) rc = prune_dir(c.dir, jobs, n, &st->pruned, err, errlen);
done:
    free(order);
    free(group);
    free(todo);
    free(c.dir);
    return rc;
}
