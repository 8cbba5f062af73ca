/* nn/facenet.c — Inception-ResNet-v1 (Sandberg's facenet, 20180402-114759) on the nn/ operators.
 *
 * Activations are NHWC float32 in one arena planned at load (two ping-pong tensors, four branch temps,
 * one concat buffer), reused across layers and batches.  Branches write straight into their channel
 * slice of the concatenated output; a residual block's final 1x1 conv adds onto its input in place.
 * A forward pass is a list of steps (independent convs/pools that may run together); all threads run
 * the whole list, claim tiles of each step from a counter and wait for the step's last tile before the next. */
#include "nn/facenet.h"
#include "nn/facenet_q.h"
#include "nn/conv.h"
#include "nn/ops.h"
#include "nn/weights.h"
#include "nn/threadpool.h"
#include "nn/half.h"
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
    nn_conv b0, b1a, b1b, b2a, b2b, b2c, up;
} block35;
typedef struct {
    nn_conv b0, b1a, b1b, b1c, up;
} block_k; /* Block17 (1x7, 7x1) and Block8 (1x3, 3x1) */

/* floats per face of each arena region */
#define SZ_BIG (77 * 77 * 64)  /* largest tensor: Conv2d_2b output */
#define SZ_TMP (17 * 17 * 192) /* largest branch temp: Mixed_6a branch 1 */
#define SZ_CAT (17 * 17 * 96)  /* largest block concat: Block35 */

enum { J_INPUT, J_CONV, J_MAXPOOL, J_AVGPOOL };
typedef struct {
    int kind, ntasks;
    nn_conv_call conv;
    const unsigned char *rgb; /* J_INPUT */
    const float *in;
    float *out;                           /* pools */
    int n, h, w, ch, in_ld, out_ld, rows; /* pools */
} job;
typedef struct {
    int first, njobs, ntasks;
} step;

#define MAX_JOBS 256
#define MAX_STEPS 160

/* One activation arena (for up to `batch` faces) and the plan of a forward pass over it. */
typedef struct {
    float *arena;
    float *A, *B, *T[4], *CAT, *P, *E;
    job jobs[MAX_JOBS];
    step steps[MAX_STEPS];
    int njobs, nsteps, plan_n, split; /* split: threads the work of each step is divided for */
    const unsigned char *plan_rgb;
    int counters[MAX_STEPS], done[MAX_STEPS];
} fn_ctx;

struct nn_facenet {
    nn_facenet_q *q; /* an int8 weight file: the quantised graph (nn/facenet_q.c) runs instead */
    nn_pool *pool;
    int nthreads, batch, f16;
    nn_conv c1a, c2a, c2b, c3b, c4a, c4b;
    block35 b35[5];
    nn_conv m6_b0, m6_b1a, m6_b1b, m6_b1c;
    block_k b17[10];
    nn_conv m7_b0a, m7_b0b, m7_b1a, m7_b1b, m7_b2a, m7_b2b, m7_b2c;
    block_k b8[6];
    nn_conv fc;
    nnw_file *wfile; /* kept open (mapped) while panels of the file are used in place */
    int inplace;     /* kernels used in place from wfile */
    void *wmap;      /* one mapping for every panel packed at load (huge pages where the kernel allows) */
    size_t wmap_len, wused;
    char *wbase;
    float **ws;      /* per thread: scratch of the Winograd convolutions */
    size_t ws_bytes; /* 0: no Winograd convolution */
    fn_ctx *ctx;     /* nthreads contexts: ctx[0] for a pass split over all threads, one per thread
                             when whole faces run in parallel */
    /* face-parallel run */
    const unsigned char *fp_rgb;
    float *fp_out;
    int fp_n, fp_next, fp_chunk;
};

/* ---------------------------------------------------------------- loading */

void nn_facenet_free(nn_facenet *net);

static void drop_pages(const void *p, size_t n) {
    /* The packed copy is what we use; let the kernel drop the mapped source pages now. */
    long pg = sysconf(_SC_PAGESIZE);
    if (pg <= 0) return;
    uintptr_t a = ((uintptr_t)p + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~((uintptr_t)pg - 1);
    if (e > a) madvise((void *)a, e - a, MADV_DONTNEED);
}

/* Memory for panels made at load: from the reserved region, else NULL (nn_conv allocates). */
static void *panel_mem(nn_facenet *net, size_t need) {
    if (net->wbase && net->wused + need <= net->wmap_len - (size_t)(net->wbase - (char *)net->wmap)) {
        void *mem = net->wbase + net->wused;
        net->wused += need;
        return mem;
    }
    return NULL;
}

/* A kernel stored ready-packed (NAME_p16, weights/FORMAT.md "Packed kernels") is used in place from the mapped
 * file when its element type is the one the kernels run on, else converted element by element; a plain OHWI
 * kernel (NAME, older files) is packed here. */
static int load_conv(nn_facenet *net, nnw_file *f, nn_conv *cv, const char *kname, const char *bname, int cout, int kh,
                     int kw, int cin, int stride, nn_padding pad, char *err, size_t errlen) {
    char pname[160];
    snprintf(pname, sizeof pname, "%s" NN_PANEL_SUFFIX, kname);
    const nnw_tensor *pk = nnw_find(f, pname), *k = pk ? NULL : nnw_find(f, kname);
    if (!pk && !k) {
        snprintf(err, errlen, "weight file has no tensor %s (not a FaceNet 20180402 file?)", kname);
        return -1;
    }
    const int fc = kh == 0; /* fully connected: [out, in] */
    if (fc) kh = kw = 1;
    if (pk) {
        uint32_t pshape[4] = {(uint32_t)((cout + NN_NR - 1) / NN_NR), (uint32_t)kh, (uint32_t)kw,
                              (uint32_t)cin * NN_NR};
        if (!(pk = nnw_expect(f, pname, pk->dtype == NNW_F16 ? NNW_F16 : NNW_F32, 4, pshape, err, errlen))) return -1;
    } else {
        nnw_dtype dt = k->dtype == NNW_F16 ? NNW_F16 : NNW_F32;
        uint32_t kshape[4] = {(uint32_t)cout, (uint32_t)kh, (uint32_t)kw, (uint32_t)cin};
        if (fc) kshape[1] = (uint32_t)cin;
        if (!(k = nnw_expect(f, kname, dt, fc ? 2 : 4, kshape, err, errlen))) return -1;
    }
    uint32_t bshape[1] = {(uint32_t)cout};
    const nnw_tensor *b = nnw_find(f, bname);
    if (!b) {
        snprintf(err, errlen, "weight file has no tensor %s", bname);
        return -1;
    }
    float *bias = malloc((size_t)cout * sizeof(float));
    if (!bias) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (b->dtype == NNW_F16) {
        if (!nnw_expect(f, bname, NNW_F16, 1, bshape, err, errlen)) {
            free(bias);
            return -1;
        }
        nn_f16_to_f32_array(b->data, bias, (size_t)cout);
    } else {
        if (!nnw_expect(f, bname, NNW_F32, 1, bshape, err, errlen)) {
            free(bias);
            return -1;
        }
        memcpy(bias, b->data, (size_t)cout * sizeof(float));
    }
    int rc;
    if (pk && (pk->dtype == NNW_F16) == net->f16) {
        rc = nn_conv_init_packed(cv, pk->data, net->f16, bias, cout, kh, kw, cin, stride, stride, pad);
        net->inplace++;
    } else if (pk) { /* binary16 <-> float32, same layout */
        size_t need = nn_conv_panel_bytes(cout, kh, kw, cin, net->f16), n = pk->count;
        void *mem = panel_mem(net, need), *own = NULL;
        if (!mem && posix_memalign(&own, 64, need)) own = NULL;
        if (!mem) mem = own;
        rc = mem ? 0 : -1;
        if (mem && net->f16)
            for (size_t i = 0; i < n; i++) ((uint16_t *)mem)[i] = nn_f32_to_f16(((const float *)pk->data)[i]);
        else if (mem) nn_f16_to_f32_array(pk->data, mem, n);
        if (mem) rc = nn_conv_init_packed(cv, mem, net->f16, bias, cout, kh, kw, cin, stride, stride, pad);
        if (own && rc == 0) cv->panels_owned = 1;
        else free(own);
        drop_pages(pk->data, (size_t)pk->size);
    } else {
        void *mem = panel_mem(net, nn_conv_panel_bytes(cout, kh, kw, cin, net->f16));
        rc = nn_conv_init_at(cv, mem, k->data, k->dtype == NNW_F16, bias, cout, kh, kw, cin, stride, stride, pad,
                             net->f16);
        drop_pages(k->data, (size_t)k->size);
    }
    free(bias);
    if (rc) {
        snprintf(err, errlen, "cannot prepare %s (out of memory?)", kname);
        return -1;
    }
    return 0;
}

#define CONV(cvp, name, cout, kh, kw, cin, stride, pad)                                                                \
    do {                                                                                                               \
        char kn_[128], bn_[128];                                                                                       \
        snprintf(kn_, sizeof kn_, "%s_kernel", name);                                                                  \
        snprintf(bn_, sizeof bn_, "%s_Conv2D_bias", name);                                                             \
        if (load_conv(net, f, cvp, kn_, bn_, cout, kh, kw, cin, stride, pad, err, errlen)) goto fail;                  \
    } while (0)

/* Reserves one region for the panels packed or converted at load (none when every kernel is used in place):
 * sized from the file's kernel tensors, 2 MB aligned and marked for transparent huge pages (fewer page faults
 * while packing, fewer TLB misses while streaming weights). */
static void reserve_panels(nn_facenet *net, nnw_file *f) {
    size_t total = 0;
    const size_t sl = strlen(NN_PANEL_SUFFIX);
    for (int i = 0; i < nnw_count(f); i++) {
        const nnw_tensor *t = nnw_at(f, i);
        size_t len = strlen(t->name), bytes;
        if (len > sl && !strcmp(t->name + len - sl, NN_PANEL_SUFFIX) && t->ndim == 4) {
            if ((t->dtype == NNW_F16) == net->f16) continue; /* used in place */
            bytes = (size_t)t->count * (net->f16 ? 2 : 4);
        } else if ((len > 7 && !strcmp(t->name + len - 7, "_kernel")) ||
                   !strcmp(t->name, "Bottleneck_kernel_transpose")) {
            size_t cout = t->shape[0], k = (size_t)(t->count / (cout ? cout : 1));
            bytes = (cout + NN_NR - 1) / NN_NR * NN_NR * k * (net->f16 ? 2 : 4);
        } else {
            continue;
        }
        total += (bytes + 63) / 64 * 64;
    }
    if (!total) return;
    const size_t huge = 2u << 20;
    size_t len = total + huge;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return; /* load_conv falls back to one allocation per layer */
    net->wmap = m;
    net->wmap_len = len;
    net->wbase = (char *)(((uintptr_t)m + huge - 1) & ~(uintptr_t)(huge - 1));
#ifdef MADV_HUGEPAGE
    madvise(net->wbase, total, MADV_HUGEPAGE);
#endif
}

static void all_convs(nn_facenet *net, void (*fn)(nn_conv *)) {
    nn_conv *stem[] = {&net->c1a,    &net->c2a,    &net->c2b,    &net->c3b,    &net->c4a,    &net->c4b,
                       &net->m6_b0,  &net->m6_b1a, &net->m6_b1b, &net->m6_b1c, &net->m7_b0a, &net->m7_b0b,
                       &net->m7_b1a, &net->m7_b1b, &net->m7_b2a, &net->m7_b2b, &net->m7_b2c, &net->fc};
    for (size_t i = 0; i < sizeof stem / sizeof *stem; i++) fn(stem[i]);
    for (int i = 0; i < 5; i++) {
        block35 *b = &net->b35[i];
        fn(&b->b0);
        fn(&b->b1a);
        fn(&b->b1b);
        fn(&b->b2a);
        fn(&b->b2b);
        fn(&b->b2c);
        fn(&b->up);
    }
    for (int i = 0; i < 16; i++) {
        block_k *b = i < 10 ? &net->b17[i] : &net->b8[i - 10];
        fn(&b->b0);
        fn(&b->b1a);
        fn(&b->b1b);
        fn(&b->b1c);
        fn(&b->up);
    }
}

static int ctx_alloc(fn_ctx *x, int batch) {
    size_t per = 2 * (size_t)SZ_BIG + 4 * (size_t)SZ_TMP + SZ_CAT + 1792 + 512;
    float *a = NULL;
    if (posix_memalign((void **)&a, 64, per * (size_t)batch * sizeof(float))) return -1;
    free(x->arena);
    x->arena = a;
    float *p = a;
    x->A = p;
    p += (size_t)SZ_BIG * batch;
    x->B = p;
    p += (size_t)SZ_BIG * batch;
    for (int i = 0; i < 4; i++) {
        x->T[i] = p;
        p += (size_t)SZ_TMP * batch;
    }
    x->CAT = p;
    p += (size_t)SZ_CAT * batch;
    x->P = p;
    p += (size_t)1792 * batch;
    x->E = p;
    return 0;
}

/* Arenas are allocated lazily: ctx[0] at load, the others on the first face-parallel run. */
static int arena_alloc(nn_facenet *net, int batch, int nctx) {
    for (int i = 0; i < nctx; i++)
        if (!net->ctx[i].arena || batch != net->batch)
            if (ctx_alloc(&net->ctx[i], batch)) return -1;
    for (int i = nctx; i < net->nthreads && batch != net->batch; i++) {
        free(net->ctx[i].arena);
        net->ctx[i].arena = NULL;
    }
    net->batch = batch;
    return 0;
}

nn_facenet *nn_facenet_load_ex(const char *path, int nthreads, int flags, char *err, size_t errlen) {
    int f16 = flags & NN_FACENET_F16;
    char e2[256];
    if (!err) {
        err = e2;
        errlen = sizeof e2;
    }
    nnw_file *f = nnw_open(path, err, errlen);
    if (!f) return NULL;
    nn_facenet *net = calloc(1, sizeof *net);
    if (!net) {
        nnw_close(f);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (nn_fq_is_int8(f)) { /* int8 */
        net->q = nn_fq_load(f, nthreads, NULL, flags, err, errlen);
        nnw_close(f);
        if (!net->q) {
            free(net);
            return NULL;
        }
        return net;
    }
    /* A float16 weight file keeps its float16 panels (half the memory) unless the kernels cannot read them. */
    const nnw_tensor *first = nnw_find(f, "Conv2d_1a_3x3_kernel" NN_PANEL_SUFFIX);
    if (!first) first = nnw_find(f, "Conv2d_1a_3x3_kernel");
    if (first && first->dtype == NNW_F16) f16 = 1;
    net->f16 = f16 && nn_kern()->gemm_f16 ? 1 : 0;
    reserve_panels(net, f);
    char nm[64], n2[32];
    CONV(&net->c1a, "Conv2d_1a_3x3", 32, 3, 3, 3, 2, NN_PAD_VALID);
    CONV(&net->c2a, "Conv2d_2a_3x3", 32, 3, 3, 32, 1, NN_PAD_VALID);
    CONV(&net->c2b, "Conv2d_2b_3x3", 64, 3, 3, 32, 1, NN_PAD_SAME);
    CONV(&net->c3b, "Conv2d_3b_1x1", 80, 1, 1, 64, 1, NN_PAD_VALID);
    CONV(&net->c4a, "Conv2d_4a_3x3", 192, 3, 3, 80, 1, NN_PAD_VALID);
    CONV(&net->c4b, "Conv2d_4b_3x3", 256, 3, 3, 192, 2, NN_PAD_VALID);
    for (int i = 0; i < 5; i++) {
        block35 *b = &net->b35[i];
#define B35(field, suffix, cout, k, cin)                                                                               \
    snprintf(nm, sizeof nm, "Block35_%d_%s", i + 1, suffix);                                                           \
    CONV(&b->field, nm, cout, k, k, cin, 1, NN_PAD_SAME)
        B35(b0, "Branch_0_Conv2d_1x1", 32, 1, 256);
        B35(b1a, "Branch_1_Conv2d_0a_1x1", 32, 1, 256);
        B35(b1b, "Branch_1_Conv2d_0b_3x3", 32, 3, 32);
        B35(b2a, "Branch_2_Conv2d_0a_1x1", 32, 1, 256);
        B35(b2b, "Branch_2_Conv2d_0b_3x3", 32, 3, 32);
        B35(b2c, "Branch_2_Conv2d_0c_3x3", 32, 3, 32);
        B35(up, "Conv2d_1x1", 256, 1, 96);
#undef B35
    }
    CONV(&net->m6_b0, "Mixed_6a_Branch_0_Conv2d_1a_3x3", 384, 3, 3, 256, 2, NN_PAD_VALID);
    CONV(&net->m6_b1a, "Mixed_6a_Branch_1_Conv2d_0a_1x1", 192, 1, 1, 256, 1, NN_PAD_SAME);
    CONV(&net->m6_b1b, "Mixed_6a_Branch_1_Conv2d_0b_3x3", 192, 3, 3, 192, 1, NN_PAD_SAME);
    CONV(&net->m6_b1c, "Mixed_6a_Branch_1_Conv2d_1a_3x3", 256, 3, 3, 192, 2, NN_PAD_VALID);
    for (int i = 0; i < 16; i++) {
        /* Block17_1..10 at 8x8x896 (1x7, 7x1), Block8_1..6 at 3x3x1792 (1x3, 3x1) */
        int is17 = i < 10, idx = is17 ? i + 1 : i - 9, c = is17 ? 896 : 1792, w = is17 ? 128 : 192, k = is17 ? 7 : 3;
        block_k *b = is17 ? &net->b17[i] : &net->b8[i - 10];
        snprintf(n2, sizeof n2, "Block%s_%d_", is17 ? "17" : "8", idx);
        snprintf(nm, sizeof nm, "%sBranch_0_Conv2d_1x1", n2);
        CONV(&b->b0, nm, w, 1, 1, c, 1, NN_PAD_SAME);
        snprintf(nm, sizeof nm, "%sBranch_1_Conv2d_0a_1x1", n2);
        CONV(&b->b1a, nm, w, 1, 1, c, 1, NN_PAD_SAME);
        snprintf(nm, sizeof nm, "%sBranch_1_Conv2d_0b_1x%d", n2, k);
        CONV(&b->b1b, nm, w, 1, k, w, 1, NN_PAD_SAME);
        snprintf(nm, sizeof nm, "%sBranch_1_Conv2d_0c_%dx1", n2, k);
        CONV(&b->b1c, nm, w, k, 1, w, 1, NN_PAD_SAME);
        snprintf(nm, sizeof nm, "%sConv2d_1x1", n2);
        CONV(&b->up, nm, c, 1, 1, 2 * w, 1, NN_PAD_SAME);
    }
    CONV(&net->m7_b0a, "Mixed_7a_Branch_0_Conv2d_0a_1x1", 256, 1, 1, 896, 1, NN_PAD_SAME);
    CONV(&net->m7_b0b, "Mixed_7a_Branch_0_Conv2d_1a_3x3", 384, 3, 3, 256, 2, NN_PAD_VALID);
    CONV(&net->m7_b1a, "Mixed_7a_Branch_1_Conv2d_0a_1x1", 256, 1, 1, 896, 1, NN_PAD_SAME);
    CONV(&net->m7_b1b, "Mixed_7a_Branch_1_Conv2d_1a_3x3", 256, 3, 3, 256, 2, NN_PAD_VALID);
    CONV(&net->m7_b2a, "Mixed_7a_Branch_2_Conv2d_0a_1x1", 256, 1, 1, 896, 1, NN_PAD_SAME);
    CONV(&net->m7_b2b, "Mixed_7a_Branch_2_Conv2d_0b_3x3", 256, 3, 3, 256, 1, NN_PAD_SAME);
    CONV(&net->m7_b2c, "Mixed_7a_Branch_2_Conv2d_1a_3x3", 256, 3, 3, 256, 2, NN_PAD_VALID);
    if (load_conv(net, f, &net->fc, "Bottleneck_kernel_transpose", "Bottleneck_MatMul_bias", 512, 0, 0, 1792, 1,
                  NN_PAD_VALID, err, errlen))
        goto fail;
    if (!net->f16 && !(flags & NN_FACENET_DIRECT)) {
        /* The 3x3 stride-1 convolutions that gain from Winograd F(4x4, 3x3) (nn/wino.h): the stem's three and
         * Mixed_6a's, 8 MB of transformed kernels.  Block35's 32-channel ones gain nothing measurable and Mixed_7a's
         * (8x8 pixels, 9.4 MB transformed) lose: their transformed kernels are streamed from memory for a few
         * tiles (docs/MEASUREMENTS.md, "FaceNet"). */
        nn_conv *wc[] = {&net->c2a, &net->c2b, &net->c4a, &net->m6_b1b};
        for (size_t i = 0; i < sizeof wc / sizeof *wc; i++) {
            if (nn_conv_winograd(wc[i]) < 0) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            if (nn_conv_ws_bytes(wc[i]) > net->ws_bytes) net->ws_bytes = nn_conv_ws_bytes(wc[i]);
        }
    }
    if (net->inplace) net->wfile = f; /* the panels are the mapped file's pages */
    else nnw_close(f);
    f = NULL;
    net->pool = nn_pool_new(nthreads);
    if (!net->pool) {
        snprintf(err, errlen, "cannot start threads");
        goto fail;
    }
    net->nthreads = nn_pool_threads(net->pool);
    net->ctx = calloc((size_t)net->nthreads, sizeof *net->ctx);
    net->ws = calloc((size_t)net->nthreads, sizeof *net->ws);
    /* Four faces per pass by default: the late layers stream each weight panel (most of the 94 MB) once for
     * all four: 22.5 -> 21.6 ms per face on one thread against two per pass, for 8 MB more arena per thread
     * (docs/MEASUREMENTS.md, "FaceNet"). */
    net->batch = 4;
    if (!net->ctx || !net->ws || arena_alloc(net, 4, 1)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int i = 0; net->ws_bytes && i < net->nthreads; i++) /* up to ~700 KB each, its pages touched when used */
        if (posix_memalign((void **)&net->ws[i], 64, net->ws_bytes)) {
            net->ws[i] = NULL;
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    return net;
fail:
    nn_facenet_free(net); /* before closing f: the convs may point into it */
    if (f) nnw_close(f);
    return NULL;
}

nn_facenet *nn_facenet_load(const char *path, int nthreads, char *err, size_t errlen) {
    return nn_facenet_load_ex(path, nthreads, 0, err, errlen);
}

int nn_facenet_file_packed(const char *path) {
    char err[256];
    nnw_file *f = nnw_open(path, err, sizeof err);
    const int r = f && nnw_find(f, "Conv2d_2a_3x3_kernel" NN_PANEL_SUFFIX);
    nnw_close(f);
    return r;
}

void nn_facenet_free(nn_facenet *net) {
    if (!net) return;
    if (net->q) {
        nn_fq_free(net->q);
        free(net);
        return;
    }
    all_convs(net, nn_conv_free);
    if (net->wmap) munmap(net->wmap, net->wmap_len);
    nnw_close(net->wfile);
    nn_pool_free(net->pool);
    for (int i = 0; net->ctx && i < net->nthreads; i++) free(net->ctx[i].arena);
    for (int i = 0; net->ws && i < net->nthreads; i++) free(net->ws[i]);
    free(net->ctx);
    free(net->ws);
    free(net);
}

int nn_facenet_threads(const nn_facenet *net) { return net->q ? nn_fq_threads(net->q) : net->nthreads; }
const char *nn_facenet_precision(const nn_facenet *net) { return net->q ? "int8" : net->f16 ? "float16" : "float32"; }

void nn_facenet_set_batch(nn_facenet *net, int batch) {
    if (net->q) {
        nn_fq_set_batch(net->q, batch);
        return;
    }
    if (batch < 1) batch = 1;
    if (batch > 64) batch = 64;
    if (batch != net->batch && arena_alloc(net, batch, 1)) arena_alloc(net, 1, 1); /* 1 face needs 4 MB */
}

/* ---------------------------------------------------------------- planning */

static void new_step(fn_ctx *net) {
    step *s = &net->steps[net->nsteps++];
    s->first = net->njobs;
    s->njobs = 0;
    s->ntasks = 0;
}

static job *add_job(fn_ctx *net) {
    job *j = &net->jobs[net->njobs++];
    memset(j, 0, sizeof *j);
    net->steps[net->nsteps - 1].njobs++;
    return j;
}

static void job_done(fn_ctx *net, job *j) { net->steps[net->nsteps - 1].ntasks += j->ntasks; }

/* Adds a conv to the current step; returns its output size through oh/ow. */
static void add_conv(fn_ctx *net, const nn_conv *cv, const float *in, int h, int w, int in_ld, float *out, int out_ld,
                     int flags, int *oh, int *ow) {
    job *j = add_job(net);
    j->kind = J_CONV;
    j->conv = (nn_conv_call){.cv = cv,
                             .in = in,
                             .n = net->plan_n,
                             .h = h,
                             .w = w,
                             .in_ld = in_ld,
                             .out = out,
                             .out_ld = out_ld,
                             .flags = flags};
    j->ntasks = nn_conv_plan(&j->conv, net->split);
    if (oh) *oh = j->conv.oh;
    if (ow) *ow = j->conv.ow;
    job_done(net, j);
}

static void add_maxpool(fn_ctx *net, const float *in, int h, int w, int ch, int in_ld, float *out, int out_ld) {
    job *j = add_job(net);
    j->kind = J_MAXPOOL;
    j->in = in;
    j->out = out;
    j->n = net->plan_n;
    j->h = h;
    j->w = w;
    j->ch = ch;
    j->in_ld = in_ld;
    j->out_ld = out_ld;
    j->rows = net->plan_n * ((h - 3) / 2 + 1);
    j->ntasks = net->split > 1 ? (j->rows < 4 * net->split ? j->rows : 4 * net->split) : 1;
    job_done(net, j);
}

static void plan(const nn_facenet *nf, fn_ctx *net, int n, int split) {
    net->njobs = net->nsteps = 0;
    net->plan_n = n;
    net->split = split;
    int h, w;
    float *A = net->A, *B = net->B, *CAT = net->CAT, **T = net->T;
    /* stem: input in B (160x160x3) -> ... -> A (17x17x256) */
    new_step(net);
    {
        job *j = add_job(net);
        j->kind = J_INPUT;
        j->n = n;
        j->ntasks = n;
        j->out = B;
        job_done(net, j);
    }
    new_step(net);
    add_conv(net, &nf->c1a, B, 160, 160, 3, A, 32, NN_RELU, &h, &w); /* 79 */
    new_step(net);
    add_conv(net, &nf->c2a, A, h, w, 32, B, 32, NN_RELU, &h, &w); /* 77 */
    new_step(net);
    add_conv(net, &nf->c2b, B, h, w, 32, A, 64, NN_RELU, &h, &w); /* 77 */
    new_step(net);
    add_maxpool(net, A, h, w, 64, 64, B, 64);
    h = (h - 3) / 2 + 1;
    w = (w - 3) / 2 + 1; /* 38 */
    new_step(net);
    add_conv(net, &nf->c3b, B, h, w, 64, A, 80, NN_RELU, &h, &w); /* 38 */
    new_step(net);
    add_conv(net, &nf->c4a, A, h, w, 80, B, 192, NN_RELU, &h, &w); /* 36 */
    new_step(net);
    add_conv(net, &nf->c4b, B, h, w, 192, A, 256, NN_RELU, &h, &w); /* 17 */
    float *X = A;
    for (int i = 0; i < 5; i++) {
        const block35 *b = &nf->b35[i];
        new_step(net);
        add_conv(net, &b->b0, X, h, w, 256, CAT, 96, NN_RELU, NULL, NULL);
        add_conv(net, &b->b1a, X, h, w, 256, T[0], 32, NN_RELU, NULL, NULL);
        add_conv(net, &b->b2a, X, h, w, 256, T[1], 32, NN_RELU, NULL, NULL);
        new_step(net);
        add_conv(net, &b->b1b, T[0], h, w, 32, CAT + 32, 96, NN_RELU, NULL, NULL);
        add_conv(net, &b->b2b, T[1], h, w, 32, T[2], 32, NN_RELU, NULL, NULL);
        new_step(net);
        add_conv(net, &b->b2c, T[2], h, w, 32, CAT + 64, 96, NN_RELU, NULL, NULL);
        new_step(net);
        add_conv(net, &b->up, CAT, h, w, 96, X, 256, NN_ACCUM | NN_RELU, NULL, NULL);
    }
    /* Mixed_6a: A (17x17x256) -> B (8x8x896) */
    int h2, w2;
    new_step(net);
    add_conv(net, &nf->m6_b0, X, h, w, 256, B, 896, NN_RELU, &h2, &w2);
    add_conv(net, &nf->m6_b1a, X, h, w, 256, T[0], 192, NN_RELU, NULL, NULL);
    add_maxpool(net, X, h, w, 256, 256, B + 640, 896);
    new_step(net);
    add_conv(net, &nf->m6_b1b, T[0], h, w, 192, T[1], 192, NN_RELU, NULL, NULL);
    new_step(net);
    add_conv(net, &nf->m6_b1c, T[1], h, w, 192, B + 384, 896, NN_RELU, NULL, NULL);
    h = h2;
    w = w2;
    X = B;
    int c = 896;
    for (int i = 0; i < 16; i++) {
        if (i == 10) {
            /* Mixed_7a: B (8x8x896) -> A (3x3x1792) */
            new_step(net);
            add_conv(net, &nf->m7_b0a, X, h, w, 896, T[0], 256, NN_RELU, NULL, NULL);
            add_conv(net, &nf->m7_b1a, X, h, w, 896, T[1], 256, NN_RELU, NULL, NULL);
            add_conv(net, &nf->m7_b2a, X, h, w, 896, T[2], 256, NN_RELU, NULL, NULL);
            add_maxpool(net, X, h, w, 896, 896, A + 896, 1792);
            new_step(net);
            add_conv(net, &nf->m7_b0b, T[0], h, w, 256, A, 1792, NN_RELU, &h2, &w2);
            add_conv(net, &nf->m7_b1b, T[1], h, w, 256, A + 384, 1792, NN_RELU, NULL, NULL);
            add_conv(net, &nf->m7_b2b, T[2], h, w, 256, T[3], 256, NN_RELU, NULL, NULL);
            new_step(net);
            add_conv(net, &nf->m7_b2c, T[3], h, w, 256, A + 640, 1792, NN_RELU, NULL, NULL);
            h = h2;
            w = w2;
            X = A;
            c = 1792;
        }
        const block_k *b = i < 10 ? &nf->b17[i] : &nf->b8[i - 10];
        int bw = b->b0.cout;
        new_step(net);
        add_conv(net, &b->b0, X, h, w, c, CAT, 2 * bw, NN_RELU, NULL, NULL);
        add_conv(net, &b->b1a, X, h, w, c, T[0], bw, NN_RELU, NULL, NULL);
        new_step(net);
        add_conv(net, &b->b1b, T[0], h, w, bw, T[1], bw, NN_RELU, NULL, NULL);
        new_step(net);
        add_conv(net, &b->b1c, T[1], h, w, bw, CAT + bw, 2 * bw, NN_RELU, NULL, NULL);
        new_step(net);
        add_conv(net, &b->up, CAT, h, w, 2 * bw, X, c, i == 15 ? NN_ACCUM : NN_ACCUM | NN_RELU, NULL, NULL);
    }
    /* global average pool -> P, bottleneck -> E */
    new_step(net);
    {
        job *j = add_job(net);
        j->kind = J_AVGPOOL;
        j->in = X;
        j->out = net->P;
        j->n = n;
        j->h = h;
        j->w = w;
        j->ch = c;
        j->ntasks = 1;
        job_done(net, j);
    }
    new_step(net);
    add_conv(net, &nf->fc, net->P, 1, 1, 1792, net->E, 512, 0, NULL, NULL);
}

/* ---------------------------------------------------------------- execution */

static void run_job_task(fn_ctx *x, const job *j, int t, float *ws) {
    switch (j->kind) {
    case J_INPUT: {
        size_t px = (size_t)NN_FACENET_SIZE * NN_FACENET_SIZE * 3;
        nn_input_rgb(x->plan_rgb + px * (size_t)t, px, j->out + px * (size_t)t);
        break;
    }
    case J_CONV: nn_conv_task_ws(&j->conv, t, ws); break;
    case J_MAXPOOL: {
        int r0 = (int)((long)j->rows * t / j->ntasks), r1 = (int)((long)j->rows * (t + 1) / j->ntasks);
        nn_maxpool3s2_rows(j->in, j->n, j->h, j->w, j->ch, j->in_ld, j->out, j->out_ld, r0, r1);
        break;
    }
    case J_AVGPOOL: nn_global_avgpool(j->in, j->n, j->h * j->w, j->ch, j->out); break;
    }
}

static void run_step_task(fn_ctx *x, const step *s, int t, float *ws) {
    for (int i = 0; i < s->njobs; i++) {
        const job *j = &x->jobs[s->first + i];
        if (t < j->ntasks) {
            run_job_task(x, j, t, ws);
            return;
        }
        t -= j->ntasks;
    }
}

static void run_serial(fn_ctx *x, float *ws) {
    for (int s = 0; s < x->nsteps; s++)
        for (int t = 0; t < x->steps[s].ntasks; t++) run_step_task(x, &x->steps[s], t, ws);
}

/* Waits until every task of step s has finished.  Threads wait for the work, not for each other: a thread
 * the OS has not scheduled yet holds nothing up (the others claim all tasks), it catches up later. */
static void wait_step(const fn_ctx *x, int s) {
    for (unsigned spins = 0; __atomic_load_n(&x->done[s], __ATOMIC_ACQUIRE) < x->steps[s].ntasks; spins++) {
        if (spins > 2000) sched_yield();
#if defined(__x86_64__)
        else __builtin_ia32_pause();
#endif
    }
}

/* All threads on one pass (ctx[0]): claim tasks of a step, wait until the step is complete, next step. */
static void forward_split(void *arg, int task, int thread) {
    nn_facenet *net = arg;
    fn_ctx *x = &net->ctx[0];
    float *ws = net->ws[thread]; /* this thread's Winograd scratch */
    (void)task;
    for (int s = 0; s < x->nsteps; s++) {
        const step *st = &x->steps[s];
        for (;;) {
            int t = __atomic_fetch_add(&x->counters[s], 1, __ATOMIC_RELAXED);
            if (t >= st->ntasks) break;
            run_step_task(x, st, t, ws);
            __atomic_fetch_add(&x->done[s], 1, __ATOMIC_RELEASE);
        }
        wait_step(x, s);
    }
}

static void finish(const fn_ctx *x, float *out, int nb) {
    memcpy(out, x->E, (size_t)nb * NN_FACENET_DIM * sizeof(float));
    nn_l2_normalize(out, nb, NN_FACENET_DIM);
}

/* Whole faces in parallel: each task owns one context and claims groups of fp_chunk faces until none are left. */
static void forward_faces(void *arg, int task, int thread) {
    nn_facenet *net = arg;
    fn_ctx *x = &net->ctx[task];
    const size_t px = (size_t)NN_FACENET_SIZE * NN_FACENET_SIZE * 3;
    float *ws = net->ws[thread]; /* this thread's Winograd scratch */
    for (;;) {
        int f = __atomic_fetch_add(&net->fp_next, net->fp_chunk, __ATOMIC_RELAXED);
        if (f >= net->fp_n) break;
        int nb = net->fp_n - f < net->fp_chunk ? net->fp_n - f : net->fp_chunk;
        plan(net, x, nb, 1);
        x->plan_rgb = net->fp_rgb + px * (size_t)f;
        run_serial(x, ws);
        finish(x, net->fp_out + (size_t)f * NN_FACENET_DIM, nb);
    }
}

int nn_facenet_embed(nn_facenet *net, const unsigned char *rgb, int n, float *out) {
    if (!net || n < 0 || (n > 0 && (!rgb || !out))) return -1;
    if (net->q) return nn_fq_embed(net->q, rgb, n, out);
    const size_t px = (size_t)NN_FACENET_SIZE * NN_FACENET_SIZE * 3;
    const int T = net->nthreads;
    int done = 0;
    /* At least a face per thread: whole faces in parallel (no synchronisation inside a pass), in groups of
     * up to `batch` faces per pass, as many as divide evenly over the threads. */
    while (T > 1 && n - done >= T) {
        int chunk = (n - done) / T < net->batch ? (n - done) / T : net->batch;
        int whole = (n - done) / (T * chunk) * T * chunk;
        if (arena_alloc(net, net->batch, T)) break;
        net->fp_rgb = rgb + px * (size_t)done;
        net->fp_out = out + (size_t)done * NN_FACENET_DIM;
        net->fp_n = whole;
        net->fp_next = 0;
        net->fp_chunk = chunk;
        nn_pool_run(net->pool, T, forward_faces, net);
        done += whole;
    }
    /* The rest (or a single face): each pass split over all threads. */
    fn_ctx *x = &net->ctx[0];
    while (done < n) {
        int nb = n - done < net->batch ? n - done : net->batch;
        plan(net, x, nb, net->nthreads);
        x->plan_rgb = rgb + px * (size_t)done;
        if (net->nthreads <= 1) {
            run_serial(x, net->ws[0]);
        } else {
            memset(x->counters, 0, sizeof x->counters);
            memset(x->done, 0, sizeof x->done);
            nn_pool_run(net->pool, net->nthreads, forward_split, net);
        }
        finish(x, out + (size_t)done * NN_FACENET_DIM, nb);
        done += nb;
    }
    return 0;
}
