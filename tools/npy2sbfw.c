/* tools/npy2sbfw.c — converts a folder of per-tensor .npy files (float32, C order) into one SBFW weight
 * file (weights/FORMAT.md).  Tensor name = file stem; shape as stored.  --f16 stores float16.  --panels stores
 * every convolution kernel (rank 4, NAME ending in _kernel, OHWI) and fully connected kernel (rank 2, NAME ending
 * in _kernel_transpose, [out, in]) in nn's panel layout instead, as NAME_p16 (nn/conv.h nn_conv_pack), so that
 * the engine uses it in place from the mapped file.
 *
 *   npy2sbfw [--f16] [--panels] [--meta KEY=VALUE]... NPY_DIR OUT.sbfw
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nn/conv.h"
#include "nn/half.h"
#include "nn/weights.h"
#include "src/util.h"

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Parses a v1/v2 .npy header; returns the data offset or -1. */
static long npy_header(const unsigned char *b, size_t n, int *ndim, uint32_t shape[4], char *err, size_t errlen) {
    if (n < 10 || memcmp(b, "\x93NUMPY", 6) != 0) {
        snprintf(err, errlen, "not a .npy file");
        return -1;
    }
    size_t hl, off;
    if (b[6] == 1) {
        hl = b[8] | (size_t)b[9] << 8;
        off = 10;
    } else if (b[6] == 2 || b[6] == 3) {
        if (n < 12) {
            snprintf(err, errlen, "truncated .npy header");
            return -1;
        }
        hl = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        off = 12;
    } else {
        snprintf(err, errlen, "unsupported .npy version %d", b[6]);
        return -1;
    }
    if (off + hl > n) {
        snprintf(err, errlen, "truncated .npy header");
        return -1;
    }
    char *h = strndup((const char *)b + off, hl);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    long rc = -1;
    if (!strstr(h, "'descr': '<f4'")) {
        snprintf(err, errlen, "dtype is not little-endian float32");
        goto out;
    }
    if (!strstr(h, "'fortran_order': False")) {
        snprintf(err, errlen, "Fortran order not supported");
        goto out;
    }
    char *s = strstr(h, "'shape': (");
    if (!s) {
        snprintf(err, errlen, "no shape in header");
        goto out;
    }
    s += 10;
    *ndim = 0;
    while (*s && *s != ')') {
        while (*s == ' ' || *s == ',') s++;
        if (*s == ')') break;
        char *e;
        unsigned long v = strtoul(s, &e, 10);
        if (e == s || *ndim == 4 || v == 0 || v > 0xffffffffUL) {
            snprintf(err, errlen, "bad shape");
            goto out;
        }
        shape[(*ndim)++] = (uint32_t)v;
        s = e;
    }
    if (*ndim == 0) {
        shape[0] = 1;
        *ndim = 1;
    } /* scalar */
    rc = (long)(off + hl);
out:
    free(h);
    return rc;
}

int main(int argc, char **argv) {
    int f16 = 0, panels = 0, i = 1;
    nnw_writer *w = nnw_writer_new();
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--f16")) f16 = 1;
        else if (!strcmp(argv[i], "--panels")) panels = 1;
        else if (!strcmp(argv[i], "--meta") && i + 1 < argc) {
            char *kv = argv[++i], *eq = strchr(kv, '=');
            if (!eq) {
                fprintf(stderr, "npy2sbfw: --meta wants KEY=VALUE\n");
                return 2;
            }
            *eq = 0;
            nnw_writer_meta(w, kv, eq + 1);
        } else {
            fprintf(stderr, "usage: npy2sbfw [--f16] [--panels] [--meta KEY=VALUE]... NPY_DIR OUT.sbfw\n");
            return 2;
        }
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: npy2sbfw [--f16] [--panels] [--meta KEY=VALUE]... NPY_DIR OUT.sbfw\n");
        return 2;
    }
    const char *dir = argv[i], *out = argv[i + 1];
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 1;
    }
    char **names = NULL;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 4 && !strcmp(de->d_name + l - 4, ".npy")) {
            names = realloc(names, sizeof *names * (n + 1));
            names[n++] = strdup(de->d_name);
        }
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "npy2sbfw: no .npy files in %s\n", dir);
        return 1;
    }
    qsort(names, n, sizeof *names, cmp);
    nnw_writer_meta(w, "dtype", f16 ? "float16" : "float32");
    uint64_t params = 0;
    for (int k = 0; k < n; k++) {
        char path[4096], err[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        size_t len;
        unsigned char *b = sbf_read_file(path, &len, (size_t)1 << 31, err, sizeof err);
        if (!b) {
            fprintf(stderr, "npy2sbfw: %s: %s\n", path, err);
            return 1;
        }
        int nd;
        uint32_t sh[4];
        long off = npy_header(b, len, &nd, sh, err, sizeof err);
        if (off < 0) {
            fprintf(stderr, "npy2sbfw: %s: %s\n", path, err);
            return 1;
        }
        uint64_t cnt = 1;
        for (int j = 0; j < nd; j++) cnt *= sh[j];
        if ((uint64_t)len - (uint64_t)off != cnt * 4) {
            fprintf(stderr, "npy2sbfw: %s: data size does not match shape\n", path);
            return 1;
        }
        names[k][strlen(names[k]) - 4] = 0;
        float *data = malloc(cnt * 4);
        memcpy(data, b + off, cnt * 4);
        int rc;
        size_t nl = strlen(names[k]);
        int conv = nd == 4 && nl > 7 && !strcmp(names[k] + nl - 7, "_kernel");
        int fc = nd == 2 && nl > 17 && !strcmp(names[k] + nl - 17, "_kernel_transpose");
        if (panels && (conv || fc)) {
            int cout = (int)sh[0], kh = conv ? (int)sh[1] : 1, kw = conv ? (int)sh[2] : 1, cin = (int)sh[nd - 1];
            uint32_t ps[4] = {(uint32_t)((cout + NN_NR - 1) / NN_NR), (uint32_t)kh, (uint32_t)kw,
                              (uint32_t)cin * NN_NR};
            void *p = malloc(nn_conv_panel_bytes(cout, kh, kw, cin, f16));
            char pn[512];
            snprintf(pn, sizeof pn, "%s" NN_PANEL_SUFFIX, names[k]);
            if (!p) {
                fprintf(stderr, "npy2sbfw: out of memory\n");
                return 1;
            }
            nn_conv_pack(p, f16, data, 0, cout, kh, kw, cin);
            rc = nnw_writer_add(w, pn, f16 ? NNW_F16 : NNW_F32, 4, ps, 1.0f, p);
            free(p);
        } else if (f16) {
            uint16_t *h = malloc(cnt * 2);
            for (uint64_t j = 0; j < cnt; j++) h[j] = nn_f32_to_f16(data[j]);
            rc = nnw_writer_add(w, names[k], NNW_F16, nd, sh, 1.0f, h);
            free(h);
        } else rc = nnw_writer_add(w, names[k], NNW_F32, nd, sh, 1.0f, data);
        if (rc) {
            fprintf(stderr, "npy2sbfw: cannot add %s\n", names[k]);
            return 1;
        }
        params += cnt;
        free(data);
        free(b);
    }
    char err[512], pbuf[32];
    snprintf(pbuf, sizeof pbuf, "%llu", (unsigned long long)params);
    nnw_writer_meta(w, "parameters", pbuf);
    if (nnw_writer_save(w, out, err, sizeof err)) {
        fprintf(stderr, "npy2sbfw: %s\n", err);
        return 1;
    }
    printf("npy2sbfw: wrote %s: %d tensors, %llu parameters (%s)\n", out, n, (unsigned long long)params,
           f16 ? "float16" : "float32");
    for (int k = 0; k < n; k++) free(names[k]);
    free(names);
    nnw_writer_free(w);
    return 0;
}
