/* tests/e2e_sort_mkdb.c — test helper for tests/e2e_sort.sh: writes an embeddings database without the
 * detection pipeline, from golden embeddings plus seeded noise, so 'sort' can be tested end to end.
 *
 *   e2e_sort_mkdb [--f16] DB GOLDEN.jsonl < SPEC
 *
 * GOLDEN.jsonl: lines {"path": NAME, "emb": [512 floats]} (../shared/data/aligned-golden/embeddings.jsonl).
 * SPEC lines:   PATH <TAB> IDENTITY <TAB> SEED [<TAB> IDENTITY <TAB> SEED ...]
 *   one face per IDENTITY (the golden entry whose path starts with IDENTITY), embedding = golden +
 *   N(0, 0.02^2) per component (seeded), L2-normalised; no identity = a photo without faces.
 * Size and mtime are taken from PATH on disk (0 when missing). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/cluster.h"
#include "src/store.h"

#define MAXG 64
static char gname[MAXG][256];
static float gemb[MAXG][SBF_EMBED_DIM];
static int ng;

static int load_golden(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    static char line[1 << 16];
    while (fgets(line, sizeof line, f) && ng < MAXG) {
        char *p = strstr(line, "\"path\"");
        char *e = strstr(line, "\"emb\"");
        if (!p || !e) continue;
        p = strchr(p + 6, '"');
        char *q = p ? strchr(p + 1, '"') : NULL;
        if (!q) continue;
        snprintf(gname[ng], sizeof gname[ng], "%.*s", (int)(q - p - 1), p + 1);
        char *s = strchr(e, '[');
        if (!s) continue;
        s++;
        for (int k = 0; k < SBF_EMBED_DIM; k++) {
            char *end;
            gemb[ng][k] = strtof(s, &end);
            if (end == s) {
                fprintf(stderr, "%s: short embedding for %s\n", path, gname[ng]);
                fclose(f);
                return -1;
            }
            s = end;
            while (*s == ',' || *s == ' ') s++;
        }
        ng++;
    }
    fclose(f);
    return ng ? 0 : -1;
}

int main(int argc, char **argv) {
    int flags = SBF_STORE_WRITE, a = 1;
    if (a < argc && !strcmp(argv[a], "--f16")) {
        flags |= SBF_STORE_F16;
        a++;
    }
    if (argc - a != 2) {
        fprintf(stderr, "usage: e2e_sort_mkdb [--f16] DB GOLDEN.jsonl < SPEC\n");
        return 2;
    }
    if (load_golden(argv[a + 1])) return 1;
    char err[512];
    sbf_store *s = sbf_store_open(argv[a], flags, err, sizeof err);
    if (!s) {
        fprintf(stderr, "e2e_sort_mkdb: %s: %s\n", argv[a], err);
        return 1;
    }
    static char line[8192];
    static sbf_face_rec faces[16];
    int photos = 0, nfaces_total = 0;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        char *save = NULL, *path = strtok_r(line, "\t", &save);
        int nf = 0;
        char *id;
        while ((id = strtok_r(NULL, "\t", &save)) && nf < 16) {
            char *seed = strtok_r(NULL, "\t", &save);
            if (!seed) {
                fprintf(stderr, "e2e_sort_mkdb: %s: identity %s without a seed\n", path, id);
                return 1;
            }
            int g = -1;
            for (int i = 0; i < ng; i++)
                if (!strncmp(gname[i], id, strlen(id))) {
                    g = i;
                    break;
                }
            if (g < 0) {
                fprintf(stderr, "e2e_sort_mkdb: unknown identity %s\n", id);
                return 1;
            }
            sbf_rng r;
            sbf_rng_seed(&r, strtoull(seed, NULL, 10));
            sbf_face_rec *f = &faces[nf];
            memset(f, 0, sizeof *f);
            f->index = nf;
            f->box = (sbf_box){20 + 100 * nf, 30, 99 + 100 * nf, 109, 1.5, 0};
            double n2 = 0;
            for (int k = 0; k < SBF_EMBED_DIM; k++) {
                f->emb[k] = gemb[g][k] + (float)(0.02 * sbf_rng_gauss(&r));
                n2 += (double)f->emb[k] * f->emb[k];
            }
            for (int k = 0; k < SBF_EMBED_DIM; k++) f->emb[k] = (float)(f->emb[k] / sqrt(n2));
            for (int k = 0; k < SBF_LANDMARKS; k++) {
                f->landmarks[k][0] = (float)(f->box.left + k);
                f->landmarks[k][1] = (float)(f->box.top + k);
            }
            nf++;
        }
        struct stat st;
        sbf_photo_meta m = {path, 0, 0, 250, 250, NULL};
        if (stat(path, &st) == 0) {
            m.size = st.st_size;
            m.mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        }
        if (sbf_store_put(s, &m, nf, faces, err, sizeof err)) {
            fprintf(stderr, "e2e_sort_mkdb: %s\n", err);
            return 1;
        }
        photos++;
        nfaces_total += nf;
    }
    sbf_store_close(s);
    fprintf(stderr, "e2e_sort_mkdb: %d photos, %d faces\n", photos, nfaces_total);
    return 0;
}
