/* tools/bench-page.c — size of the people page and time to write it (thumbnails + index.html) for a synthetic
 * library of N faces cut from real small photos.
 *
 *   bench-page --faces N --photos DIR [--people P] [--threads T]
 *
 * The face set is built in memory (the struct sort gets from the database): N photos with one face each, named
 * lib/dK/photo-I.jpg, each a symbolic link (in a scratch folder) to one of the JPEG files found in DIR's
 * sub-folders (e.g. ../shared/data/lfw-dev, 250x250), round robin, with the face box (67,80)-(175,187) (where
 * LFW's funneled faces lie).  P people (default N / 10) of Zipf-like sizes (person i has about N / (i H_P) faces,
 * at least 1); embeddings: a random unit vector per person plus noise (cosine ~0.75 to it), so the "possibly the
 * same person as" step works on a realistic spread.  The page is written twice into a fresh output folder: the
 * first run writes every thumbnail, the second reuses them.  Prints the people, faces, thumbnails shown, the size
 * of index.html and of .thumbs/, the seconds of each step and the CPU seconds of the run (all threads). */
#include "src/page.h"
#include "src/cluster.h"
#include "src/util.h"
#include "src/walk.h"
#include "nn/threadpool.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char **pool;
static int npool, cappool;

static void scan(const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) && npool < 5000) {
        if (e->d_name[0] == '.') continue;
        char *p = sbf_path_join(dir, e->d_name);
        size_t l = strlen(p);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth < 2) scan(p, depth + 1);
        else if (l > 4 && !strcmp(p + l - 4, ".jpg")) {
            if (npool == cappool) pool = realloc(pool, (size_t)(cappool = cappool ? cappool * 2 : 256) * sizeof *pool);
            pool[npool++] = strdup(p);
            p = NULL;
        }
        free(p);
    }
    closedir(d);
}
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* CPU seconds of the process so far (all threads, user + system): the machine is shared, so wall time varies. */
static double cpu(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static long long du(const char *dir) {
    DIR *d = opendir(dir);
    long long s = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *p = sbf_path_join(dir, e->d_name);
        struct stat st;
        if (e->d_name[0] != '.' && stat(p, &st) == 0 && S_ISREG(st.st_mode)) s += st.st_size;
        free(p);
    }
    if (d) closedir(d);
    return s;
}

int main(int argc, char **argv) {
    int n = 0, people = 0, threads = 0;
    const char *photos = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--faces") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--people") && i + 1 < argc) people = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--photos") && i + 1 < argc) photos = argv[++i];
        else n = -1;
    }
    if (n <= 0 || !photos) {
        fprintf(stderr, "usage: bench-page --faces N --photos DIR [--people P] [--threads T]\n");
        return 2;
    }
    if (people <= 0) people = n / 10 > 0 ? n / 10 : 1;
    scan(photos, 0);
    if (!npool) {
        fprintf(stderr, "bench-page: no .jpg under %s\n", photos);
        return 1;
    }
    qsort(pool, (size_t)npool, sizeof *pool, cmp_str);
    char scratch[] = "/tmp/sbf-bench-page-XXXXXX";
    if (!mkdtemp(scratch)) {
        perror("mkdtemp");
        return 1;
    }
    char *out = sbf_path_join(scratch, "out"), path[512], target[4096];
    mkdir(out, 0755);
    /* the photos: symbolic links to the pool */
    sbf_faceset fs;
    if (sbf_faceset_alloc(&fs, n, n, SBF_EMBED_DIM)) {
        fprintf(stderr, "bench-page: out of memory\n");
        return 1;
    }
    double t0 = sbf_now();
    for (int i = 0; i < n; i++) {
        if (i % 1000 == 0) {
            snprintf(path, sizeof path, "%s/lib/d%03d", scratch, i / 1000);
            if (i == 0) snprintf(target, sizeof target, "%s/lib", scratch), mkdir(target, 0755);
            mkdir(path, 0755);
        }
        snprintf(path, sizeof path, "%s/lib/d%03d/photo-%06d.jpg", scratch, i / 1000, i);
        const char *src = pool[i % npool];
        if (src[0] == '/') snprintf(target, sizeof target, "%s", src);
        else if (getcwd(target, sizeof target)) {
            size_t l = strlen(target);
            snprintf(target + l, sizeof target - l, "/%s", src);
        }
        if (symlink(target, path)) {
            perror(path);
            return 1;
        }
        fs.photos[i].path = strdup(path);
        fs.photos[i].size = 1000 + i;
        fs.photos[i].mtime_ns = 1000000000LL * i;
        fs.photos[i].width = fs.photos[i].height = 250;
        fs.photos[i].nfaces = 1;
        fs.photos[i].first_face = i;
        fs.face_photo[i] = i;
        fs.face_index[i] = 0;
        fs.boxes[i] = (sbf_box){67, 80, 175, 187, 0.5 + (i % 97) / 50.0, 0};
    }
    double t_links = sbf_now() - t0;
    /* people: Zipf-like sizes, faces dealt in order; embeddings around a centre per person */
    int *size = calloc((size_t)people, sizeof *size), *label = malloc((size_t)n * sizeof *label);
    double h = 0;
    for (int p = 0; p < people; p++) h += 1.0 / (p + 1);
    int left = n - people;
    for (int p = 0; p < people; p++) size[p] = 1;
    for (int p = 0; p < people && left > 0; p++) {
        int extra = (int)((n - people) / ((p + 1) * h));
        if (extra > left) extra = left;
        size[p] += extra, left -= extra;
    }
    size[0] += left;
    sbf_rng rng;
    sbf_rng_seed(&rng, 20);
    float *centre = malloc(SBF_EMBED_DIM * sizeof *centre);
    for (int p = 0, f = 0; p < people; p++) {
        double ss = 0;
        for (int d = 0; d < SBF_EMBED_DIM; d++) centre[d] = (float)sbf_rng_gauss(&rng), ss += centre[d] * centre[d];
        for (int d = 0; d < SBF_EMBED_DIM; d++) centre[d] /= (float)sqrt(ss);
        for (int k = 0; k < size[p]; k++, f++) {
            float *e = fs.emb + (size_t)f * SBF_EMBED_DIM;
            double s2 = 0;
            for (int d = 0; d < SBF_EMBED_DIM; d++)
                e[d] = centre[d] + 0.04f * (float)sbf_rng_gauss(&rng), s2 += e[d] * e[d];
            for (int d = 0; d < SBF_EMBED_DIM; d++) e[d] /= (float)sqrt(s2);
            label[f] = p;
        }
    }
    char **links = malloc((size_t)n * sizeof *links);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "Person %d/photo-%06d.jpg", label[i] + 1, i);
        links[i] = strdup(path);
    }
    printf("bench-page: %d faces (%d photos, symbolic links to %d JPEG files of %s), %d people (largest %d faces), "
           "%d threads\n",
           n, n, npool, photos, people, size[0], threads > 0 ? threads : nn_cpu_count());
    for (int run = 0; run < 2; run++) {
        sbf_page pg;
        sbf_page_stats st;
        char err[512];
        double a = sbf_now(), cpu0 = cpu();
        sbf_page_init(&pg, &fs, (const char *const *)links, "bench");
        char title[32];
        for (int p = 0, f = 0; p < people; f += size[p++]) {
            snprintf(title, sizeof title, "Person %d", p + 1);
            int *faces = malloc((size_t)size[p] * sizeof *faces);
            for (int k = 0; k < size[p]; k++) faces[k] = f + k;
            if (sbf_page_add_person(&pg, title, title, faces, size[p])) return 1;
            free(faces);
        }
        sbf_page_set_unknown(&pg, NULL, NULL, 0);
        double b = sbf_now();
        if (sbf_page_find_similar(&pg, SBF_PAGE_SIMILAR_FLOOR, threads)) return 1;
        double c = sbf_now();
        if (sbf_page_write(&pg, out, threads, 1, &st, err, sizeof err)) {
            fprintf(stderr, "bench-page: %s\n", err);
            return 1;
        }
        double d = sbf_now(), cpu1 = cpu();
        int named = 0;
        for (int p = 0; p < pg.npeople; p++) named += pg.people[p].nsimilar > 0;
        snprintf(path, sizeof path, "%s/%s", out, SBF_THUMBS_DIR);
        printf("run %d: %d thumbnails shown (%d written, %d reused, %d failed); index.html %zu bytes, .thumbs/ %lld "
               "bytes; sections %.3f s, possibly-the-same %.3f s (%d people name another), thumbnails %.3f s, "
               "index.html %.3f s, total %.3f s (%.2f CPU s)\n",
               run + 1, st.shown, st.thumbs.written, st.thumbs.reused, st.thumbs.failed, st.html_bytes, du(path), b - a,
               c - b, named, st.seconds_thumbs, st.seconds_html, d - a, cpu1 - cpu0);
        sbf_page_free(&pg);
    }
    printf("(setting up the %d links: %.2f s, not counted)\n", n, t_links);
    for (int i = 0; i < n; i++) free(links[i]);
    free(links);
    sbf_faceset_free(&fs);
    snprintf(target, sizeof target, "rm -rf '%s'", scratch);
    if (system(target)) return 1;
    free(out);
    return 0;
}
