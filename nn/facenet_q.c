/* nn/facenet_q.c — Inception-ResNet-v1 on the int8 operator (nn/qgemm.h), and the same graph in float32 for
 * calibration.  Mirrors nn/facenet.c: one arena per context planned at load, a forward pass as a list of
 * steps of jobs, all threads claiming the tasks of a step (one face), or whole faces in parallel.
 *
 * quantised (12-bit) tensors: stem ping-pong QA/QB, branch temps TQ[4], the block concat CATQ, the trunk's
 * 12-bit copy XQ.
 * float tensors: the trunk FX/FY (residual sums), the pooled vector and the embedding. */
#include "nn/facenet_q.h"
#include "nn/conv.h"
#include "nn/facenet.h"
#include "nn/half.h"
#include "nn/ops.h"
#include "nn/qgemm.h"
#include "nn/threadpool.h"
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

/* ---------------------------------------------------------------- quantisation points */

#define NPOINTS 102
static int pt_b35(int i, int k) { return 6 + 5 * i + k; }  /* k: 0 b1a, 1 b2a, 2 b2b, 3 concat, 4 block */
static int pt_m6(int k) { return 31 + k; }                 /* k: 0 b1a, 1 b1b, 2 output */
static int pt_b17(int i, int k) { return 34 + 4 * i + k; } /* k: 0 b1a, 1 b1b, 2 concat, 3 block */
static int pt_m7(int k) { return 74 + k; }                 /* k: 0 b0a, 1 b1a, 2 b2a, 3 b2b, 4 output */
static int pt_b8(int i, int k) { return k < 3 ? 79 + 3 * i + k : i < 5 ? 97 + i : -1; } /* Block8_6: float */
/* Block17 (i < 10) and Block8 (i >= 10) by the index used in the plan */
static int pt_bk(int i, int k) { return i < 10 ? pt_b17(i, k) : pt_b8(i - 10, k); }

static char g_names[NPOINTS][64];
static int g_ch[NPOINTS];
static pthread_once_t g_names_once = PTHREAD_ONCE_INIT;
static void names_init(void) {
    static const int stem_ch[] = {32, 32, 64, 80, 192, 256}, b35_ch[] = {32, 32, 32, 96, 256};
    for (int i = 0; i < 6; i++) g_ch[i] = stem_ch[i];
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 5; k++) g_ch[pt_b35(i, k)] = b35_ch[k];
    g_ch[pt_m6(0)] = g_ch[pt_m6(1)] = 192;
    g_ch[pt_m6(2)] = 896;
    for (int i = 0; i < 16; i++) {
        int w = i < 10 ? 128 : 192;
        g_ch[pt_bk(i, 0)] = g_ch[pt_bk(i, 1)] = w;
        g_ch[pt_bk(i, 2)] = 2 * w;
        if (pt_bk(i, 3) >= 0) g_ch[pt_bk(i, 3)] = i < 10 ? 896 : 1792;
    }
    for (int k = 0; k < 4; k++) g_ch[pt_m7(k)] = 256;
    g_ch[pt_m7(4)] = 1792;
    static const char *stem[] = {"Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3",
                                 "Conv2d_3b_1x1", "Conv2d_4a_3x3", "Conv2d_4b_3x3"};
    for (int i = 0; i < 6; i++) snprintf(g_names[i], 64, "%s", stem[i]);
    static const char *b35[] = {"Branch_1_Conv2d_0a_1x1", "Branch_2_Conv2d_0a_1x1", "Branch_2_Conv2d_0b_3x3", "concat",
                                ""};
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 5; k++)
            snprintf(g_names[pt_b35(i, k)], 64, "Block35_%d%s%s", i + 1, *b35[k] ? "_" : "", b35[k]);
    snprintf(g_names[pt_m6(0)], 64, "Mixed_6a_Branch_1_Conv2d_0a_1x1");
    snprintf(g_names[pt_m6(1)], 64, "Mixed_6a_Branch_1_Conv2d_0b_3x3");
    snprintf(g_names[pt_m6(2)], 64, "Mixed_6a");
    for (int i = 0; i < 16; i++) {
        int is17 = i < 10, idx = is17 ? i + 1 : i - 9;
        const char *blk = is17 ? "Block17" : "Block8";
        snprintf(g_names[pt_bk(i, 0)], 64, "%s_%d_Branch_1_Conv2d_0a_1x1", blk, idx);
        snprintf(g_names[pt_bk(i, 1)], 64, "%s_%d_Branch_1_Conv2d_0b_1x%d", blk, idx, is17 ? 7 : 3);
        snprintf(g_names[pt_bk(i, 2)], 64, "%s_%d_concat", blk, idx);
        if (pt_bk(i, 3) >= 0) snprintf(g_names[pt_bk(i, 3)], 64, "%s_%d", blk, idx);
    }
    static const char *m7[] = {"Branch_0_Conv2d_0a_1x1", "Branch_1_Conv2d_0a_1x1", "Branch_2_Conv2d_0a_1x1",
                               "Branch_2_Conv2d_0b_3x3", ""};
    for (int k = 0; k < 5; k++) snprintf(g_names[pt_m7(k)], 64, "Mixed_7a%s%s", *m7[k] ? "_" : "", m7[k]);
}

int nn_fq_points(void) { return NPOINTS; }
const char *nn_fq_point_name(int i) {
    pthread_once(&g_names_once, names_init);
    return i >= 0 && i < NPOINTS ? g_names[i] : NULL;
}
int nn_fq_point_channels(int i) {
    pthread_once(&g_names_once, names_init);
    return i >= 0 && i < NPOINTS ? g_ch[i] : 0;
}

/* ---------------------------------------------------------------- graph */

typedef struct {
    nn_conv f;
    nn_qconv q;
} qlayer; /* f in calibration, q in int8 */
typedef struct {
    qlayer b0, b1a, b1b, b2a, b2b, b2c, up;
} qblock35;
typedef struct {
    qlayer b0, b1a, b1b, b1c, up;
} qblock_k;

/* bytes per face of each arena region (int8 / calibration) */
#define SZ_BIG (77 * 77 * 64)
#define SZ_TMP (17 * 17 * 192)
#define SZ_CAT (17 * 17 * 96)
#define SZ_TRUNK (17 * 17 * 256)
#define SZ_IMG (160 * 160 * 3)

enum { J_INPUT, J_CONV, J_QCONV, J_MAXPOOL, J_QMAXPOOL, J_AVGPOOL, J_QUANT, J_OBSERVE, J_FAKE };
typedef struct {
    int kind, ntasks;
    nn_conv_call conv;
    nn_qconv_call qconv;
    const float *in;
    float *out; /* float pools, quantise source, observe */
    const uint16_t *qin;
    uint16_t *qout; /* quantised pool, quantise target */
    int n, h, w, ch, in_ld, out_ld, rows, pt;
    const float *scales; /* quantise: 1 / scale per channel; fake: scale per channel */
} qjob;
typedef struct {
    int first, njobs, ntasks;
} qstep;

#define MAX_JOBS 512
#define MAX_STEPS 320

typedef struct {
    void *arena;
    /* int8 */
    uint16_t *img, *qa, *qb, *xq, *tq[4], *catq;
    float *fx, *fy;
    /* calibration (float) */
    float *a, *b, *t[4], *cat;
    float *P, *E;
    qjob jobs[MAX_JOBS];
    qstep steps[MAX_STEPS];
    int njobs, nsteps, plan_n, split;
    const unsigned char *plan_rgb;
    int counters[MAX_STEPS], done[MAX_STEPS];
} qctx;

struct nn_facenet_q {
    int calib;
    nn_fq_emulation emu;  /* calibration: what to emulate (fake[] holds the scales) */
    float *fake[NPOINTS]; /* calibration: non-NULL: round the point's tensor to these scales (emulation) */
    nn_fq_observer obs;
    void *obs_ctx;
    nn_pool *pool;
    int nthreads, batch, direct, nwino; /* nwino: layers run as Winograd */
    const nn_qkernels *kern;
    void **ws;                             /* per thread: scratch of the Winograd convolutions (nn/qwino.h) */
    size_t ws_bytes;                       /* 0: none */
    float *scale[NPOINTS], *qinv[NPOINTS]; /* per channel of each point (int8) */
    float *scale_mem;
    qlayer c1a, c2a, c2b, c3b, c4a, c4b;
    qblock35 b35[5];
    qlayer m6_b0, m6_b1a, m6_b1b, m6_b1c;
    qblock_k bk[16]; /* Block17_1..10, Block8_1..6 */
    qlayer m7_b0a, m7_b0b, m7_b1a, m7_b1b, m7_b2a, m7_b2b, m7_b2c;
    nn_conv fc;
    qctx *ctx;
    const unsigned char *fp_rgb;
    float *fp_out;
    int fp_n, fp_next, fp_chunk;
};

/* The int8 layers: name, shape, input point (-1: the RGB bytes), where the layer lives in nn_facenet_q. */
typedef struct {
    char name[64];
    int cout, kh, kw, cin, stride, in_pt;
    nn_padding pad;
    size_t off;
} qlayer_def;
#define NLAYERS 132
static qlayer_def g_layers[NLAYERS];
static int g_nlayers;
static nn_facenet_q g_dummy; /* for the layers' offsets */
static pthread_once_t g_layers_once = PTHREAD_ONCE_INIT;

static void def(const qlayer *field, const char *name, int cout, int kh, int kw, int cin, int stride, nn_padding pad,
                int in_pt) {
    qlayer_def *d = &g_layers[g_nlayers++];
    snprintf(d->name, sizeof d->name, "%s", name);
    d->cout = cout;
    d->kh = kh;
    d->kw = kw;
    d->cin = cin;
    d->stride = stride;
    d->pad = pad;
    d->in_pt = in_pt;
    d->off = (size_t)((const char *)field - (const char *)&g_dummy);
}

static void layers_init(void) {
    char nm[96];
#define L(field, name, cout, kh, kw, cin, stride, pad, in_pt) def(field, name, cout, kh, kw, cin, stride, pad, in_pt)
    L(&g_dummy.c1a, "Conv2d_1a_3x3", 32, 3, 3, 3, 2, NN_PAD_VALID, -1);
    L(&g_dummy.c2a, "Conv2d_2a_3x3", 32, 3, 3, 32, 1, NN_PAD_VALID, 0);
    L(&g_dummy.c2b, "Conv2d_2b_3x3", 64, 3, 3, 32, 1, NN_PAD_SAME, 1);
    L(&g_dummy.c3b, "Conv2d_3b_1x1", 80, 1, 1, 64, 1, NN_PAD_VALID, 2);
    L(&g_dummy.c4a, "Conv2d_4a_3x3", 192, 3, 3, 80, 1, NN_PAD_VALID, 3);
    L(&g_dummy.c4b, "Conv2d_4b_3x3", 256, 3, 3, 192, 2, NN_PAD_VALID, 4);
    for (int i = 0; i < 5; i++) {
        qblock35 *b = &g_dummy.b35[i];
        int in = i == 0 ? 5 : pt_b35(i - 1, 4);
#define B35(field, suffix, cout, k, cin, in_pt)                                                                        \
    snprintf(nm, sizeof nm, "Block35_%d_%s", i + 1, suffix);                                                           \
    L(&b->field, nm, cout, k, k, cin, 1, NN_PAD_SAME, in_pt)
        B35(b0, "Branch_0_Conv2d_1x1", 32, 1, 256, in);
        B35(b1a, "Branch_1_Conv2d_0a_1x1", 32, 1, 256, in);
        B35(b1b, "Branch_1_Conv2d_0b_3x3", 32, 3, 32, pt_b35(i, 0));
        B35(b2a, "Branch_2_Conv2d_0a_1x1", 32, 1, 256, in);
        B35(b2b, "Branch_2_Conv2d_0b_3x3", 32, 3, 32, pt_b35(i, 1));
        B35(b2c, "Branch_2_Conv2d_0c_3x3", 32, 3, 32, pt_b35(i, 2));
        B35(up, "Conv2d_1x1", 256, 1, 96, pt_b35(i, 3));
#undef B35
    }
    L(&g_dummy.m6_b0, "Mixed_6a_Branch_0_Conv2d_1a_3x3", 384, 3, 3, 256, 2, NN_PAD_VALID, pt_b35(4, 4));
    L(&g_dummy.m6_b1a, "Mixed_6a_Branch_1_Conv2d_0a_1x1", 192, 1, 1, 256, 1, NN_PAD_SAME, pt_b35(4, 4));
    L(&g_dummy.m6_b1b, "Mixed_6a_Branch_1_Conv2d_0b_3x3", 192, 3, 3, 192, 1, NN_PAD_SAME, pt_m6(0));
    L(&g_dummy.m6_b1c, "Mixed_6a_Branch_1_Conv2d_1a_3x3", 256, 3, 3, 192, 2, NN_PAD_VALID, pt_m6(1));
    for (int i = 0; i < 16; i++) {
        int is17 = i < 10, idx = is17 ? i + 1 : i - 9, c = is17 ? 896 : 1792, w = is17 ? 128 : 192, k = is17 ? 7 : 3;
        int in = i == 0 ? pt_m6(2) : i == 10 ? pt_m7(4) : pt_bk(i - 1, 3);
        qblock_k *b = &g_dummy.bk[i];
        char n2[32];
        snprintf(n2, sizeof n2, "Block%s_%d_", is17 ? "17" : "8", idx);
        snprintf(nm, sizeof nm, "%sBranch_0_Conv2d_1x1", n2);
        L(&b->b0, nm, w, 1, 1, c, 1, NN_PAD_SAME, in);
        snprintf(nm, sizeof nm, "%sBranch_1_Conv2d_0a_1x1", n2);
        L(&b->b1a, nm, w, 1, 1, c, 1, NN_PAD_SAME, in);
        snprintf(nm, sizeof nm, "%sBranch_1_Conv2d_0b_1x%d", n2, k);
        L(&b->b1b, nm, w, 1, k, w, 1, NN_PAD_SAME, pt_bk(i, 0));
        snprintf(nm, sizeof nm, "%sBranch_1_Conv2d_0c_%dx1", n2, k);
        L(&b->b1c, nm, w, k, 1, w, 1, NN_PAD_SAME, pt_bk(i, 1));
        snprintf(nm, sizeof nm, "%sConv2d_1x1", n2);
        L(&b->up, nm, c, 1, 1, 2 * w, 1, NN_PAD_SAME, pt_bk(i, 2));
    }
    L(&g_dummy.m7_b0a, "Mixed_7a_Branch_0_Conv2d_0a_1x1", 256, 1, 1, 896, 1, NN_PAD_SAME, pt_b17(9, 3));
    L(&g_dummy.m7_b0b, "Mixed_7a_Branch_0_Conv2d_1a_3x3", 384, 3, 3, 256, 2, NN_PAD_VALID, pt_m7(0));
    L(&g_dummy.m7_b1a, "Mixed_7a_Branch_1_Conv2d_0a_1x1", 256, 1, 1, 896, 1, NN_PAD_SAME, pt_b17(9, 3));
    L(&g_dummy.m7_b1b, "Mixed_7a_Branch_1_Conv2d_1a_3x3", 256, 3, 3, 256, 2, NN_PAD_VALID, pt_m7(1));
    L(&g_dummy.m7_b2a, "Mixed_7a_Branch_2_Conv2d_0a_1x1", 256, 1, 1, 896, 1, NN_PAD_SAME, pt_b17(9, 3));
    L(&g_dummy.m7_b2b, "Mixed_7a_Branch_2_Conv2d_0b_3x3", 256, 3, 3, 256, 1, NN_PAD_SAME, pt_m7(2));
    L(&g_dummy.m7_b2c, "Mixed_7a_Branch_2_Conv2d_1a_3x3", 256, 3, 3, 256, 2, NN_PAD_VALID, pt_m7(3));
#undef L
}

int nn_fq_layer_input(const char *name, int *cin) {
    pthread_once(&g_layers_once, layers_init);
    for (int i = 0; i < g_nlayers; i++)
        if (!strcmp(g_layers[i].name, name)) {
            if (cin) *cin = g_layers[i].cin;
            return g_layers[i].in_pt;
        }
    return -2;
}

/* ---------------------------------------------------------------- loading */

static int load_float(nnw_file *f, nn_conv *cv, const char *kname, const char *bname, int cout, int kh, int kw, int cin,
                      int stride, nn_padding pad, int fake_w, const float *in_scale, const float *in_mean, char *err,
                      size_t errlen) {
    const nnw_tensor *k = nnw_find(f, kname);
    if (!k) {
        snprintf(err, errlen, "weight file has no tensor %s (not a FaceNet 20180402 file?)", kname);
        return -1;
    }
    nnw_dtype dt = k->dtype == NNW_F16 ? NNW_F16 : NNW_F32;
    uint32_t ks[4] = {(uint32_t)cout, (uint32_t)kh, (uint32_t)kw, (uint32_t)cin};
    int ndim = 4;
    if (kh == 0) {
        ndim = 2;
        ks[1] = (uint32_t)cin;
        kh = kw = 1;
    }
    if (!(k = nnw_expect(f, kname, dt, ndim, ks, err, errlen))) return -1;
    uint32_t bs[1] = {(uint32_t)cout};
    const nnw_tensor *b = nnw_find(f, bname);
    if (!b) {
        snprintf(err, errlen, "weight file has no tensor %s", bname);
        return -1;
    }
    if (!nnw_expect(f, bname, b->dtype == NNW_F16 ? NNW_F16 : NNW_F32, 1, bs, err, errlen)) return -1;
    float *bias = malloc((size_t)cout * sizeof(float));
    if (!bias) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (b->dtype == NNW_F16) nn_f16_to_f32_array(b->data, bias, (size_t)cout);
    else memcpy(bias, b->data, (size_t)cout * sizeof(float));
    const void *wdata = k->data;
    float *wq = NULL;
    if (fake_w && ndim == 4) { /* emulate int8 weights: round per output channel, symmetric */
        size_t per = (size_t)kh * kw * cin;
        wq = malloc(sizeof(float) * per * (size_t)cout);
        if (!wq) {
            free(bias);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (dt == NNW_F16) nn_f16_to_f32_array(k->data, wq, per * (size_t)cout);
        else memcpy(wq, k->data, sizeof(float) * per * (size_t)cout);
        for (int o = 0; o < cout; o++) { /* the input's scales folded in first, as tools/quantize does */
            float m = 0, *r = wq + (size_t)o * per;
            for (size_t i = 0; i < per; i++) {
                if (in_scale) r[i] *= in_scale[i % (size_t)cin];
                m = fabsf(r[i]) > m ? fabsf(r[i]) : m;
            }
            float sc = m > 0 ? m / 127.0f : 1.0f;
            double corr = 0; /* bias correction: the rounding's expected effect, sum (w - w') E[x] */
            for (size_t i = 0; i < per; i++) {
                float orig = r[i];
                r[i] = sc * roundf(r[i] / sc);
                if (in_mean)
                    corr += (double)(orig - r[i]) * in_mean[i % (size_t)cin] /
                            (in_scale ? in_scale[i % (size_t)cin] : 1.0f);
                if (in_scale) r[i] /= in_scale[i % (size_t)cin];
            }
            bias[o] += (float)corr;
        }
        wdata = wq;
        dt = NNW_F32;
    }
    int rc = nn_conv_init(cv, wdata, dt == NNW_F16, bias, cout, kh, kw, cin, stride, stride, pad, 0);
    free(wq);
    free(bias);
    if (rc) {
        snprintf(err, errlen, "cannot prepare %s (out of memory?)", kname);
        return -1;
    }
    return 0;
}

/* in_pt: the quantisation point of the layer's input; -1 = the RGB bytes, real value (x - 127.5) / 128. */
static int load_layer(nn_facenet_q *net, nnw_file *f, qlayer *L, const char *name, int cout, int kh, int kw, int cin,
                      int stride, nn_padding pad, int in_pt, char *err, size_t errlen) {
    char kn[128], sn[128], bn[128];
    snprintf(kn, sizeof kn, "%.63s_kernel", name);
    snprintf(sn, sizeof sn, "%.63s_kernel_scale", name);
    snprintf(bn, sizeof bn, "%.63s_Conv2D_bias", name);
    if (net->calib) {
        int fake = net->emu.int8_weights;
        for (const char *const *p = net->emu.float_layers; fake && p && *p; p++)
            if (!strncmp(name, *p, strlen(*p))) fake = 0;
        const float *mean = in_pt >= 0 ? (net->emu.means ? net->emu.means[in_pt] : NULL) : net->emu.image_mean;
        return load_float(f, &L->f, kn, bn, cout, kh, kw, cin, stride, pad, fake, in_pt >= 0 ? net->fake[in_pt] : NULL,
                          mean, err, errlen);
    }
    uint32_t ks[4] = {(uint32_t)cout, (uint32_t)kh, (uint32_t)kw, (uint32_t)cin}, cs[1] = {(uint32_t)cout};
    const nnw_tensor *k = nnw_expect(f, kn, NNW_I8, 4, ks, err, errlen), *s, *b;
    if (!k || !(s = nnw_expect(f, sn, NNW_F32, 1, cs, err, errlen)) ||
        !(b = nnw_expect(f, bn, NNW_F32, 1, cs, err, errlen)))
        return -1;
    const float *ws = s->data;
    float *bias = malloc((size_t)cout * sizeof(float));
    if (!bias) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(bias, b->data, (size_t)cout * sizeof(float));
    const int8_t *w = k->data; /* the input's scales are folded into the weights and their scales */
    size_t per = (size_t)kh * kw * cin;
    for (int j = 0; j < cout; j++) {
        if (!(ws[j] > 0.0f) || !isfinite(ws[j])) {
            free(bias);
            snprintf(err, errlen, "%s: bad scale", sn);
            return -1;
        }
        if (in_pt < 0) { /* input scale 1/128 folded: sum w (x - 127.5)/128 = sum s q x - 127.5 sum s q */
            long sum = 0;
            for (size_t i = 0; i < per; i++) sum += w[(size_t)j * per + i];
            bias[j] -= (float)(127.5 * ws[j] * (double)sum);
        }
    }
    int rc = nn_qconv_init(&L->q, NULL, net->kern, w, ws, bias, 1.0f, cout, kh, kw, cin, stride, stride, pad);
    free(bias);
    if (rc) {
        snprintf(err, errlen, "cannot prepare %s (out of memory, or a weight of -128?)", kn);
        return -1;
    }
    /* Every 3x3 stride-1 layer runs as exact Winograd F(2x2, 3x3) (the same outputs, fewer products) unless its
     * weights' sums are too large for the transform (nn/qwino.h) or the caller asked for direct ones. */
    if (!net->direct && kh == 3 && kw == 3 && stride == 1 && nn_qconv_winograd(&L->q, w) == 0) {
        net->nwino++;
        if (nn_qconv_ws_bytes(&L->q) > net->ws_bytes) net->ws_bytes = nn_qconv_ws_bytes(&L->q);
    }
    return 0;
}

static void free_layer(qlayer *L) {
    nn_conv_free(&L->f);
    nn_qconv_free(&L->q);
}

static void all_layers(nn_facenet_q *net, void (*fn)(qlayer *)) {
    qlayer *stem[] = {&net->c1a,    &net->c2a,    &net->c2b,    &net->c3b,    &net->c4a,    &net->c4b,
                      &net->m6_b0,  &net->m6_b1a, &net->m6_b1b, &net->m6_b1c, &net->m7_b0a, &net->m7_b0b,
                      &net->m7_b1a, &net->m7_b1b, &net->m7_b2a, &net->m7_b2b, &net->m7_b2c};
    for (size_t i = 0; i < sizeof stem / sizeof *stem; i++) fn(stem[i]);
    for (int i = 0; i < 5; i++) {
        qblock35 *b = &net->b35[i];
        fn(&b->b0);
        fn(&b->b1a);
        fn(&b->b1b);
        fn(&b->b2a);
        fn(&b->b2b);
        fn(&b->b2c);
        fn(&b->up);
    }
    for (int i = 0; i < 16; i++) {
        qblock_k *b = &net->bk[i];
        fn(&b->b0);
        fn(&b->b1a);
        fn(&b->b1b);
        fn(&b->b1c);
        fn(&b->up);
    }
}

static size_t up64(size_t x) { return (x + 63) / 64 * 64; }
static void *carve(char **p, size_t bytes) {
    void *r = *p;
    *p += up64(bytes) + 64;
    return r;
} /* 64 B slack each */

static int ctx_alloc(const nn_facenet_q *net, qctx *x, int batch) {
    size_t B = (size_t)batch, per;
    if (net->calib) per = (2 * SZ_BIG + 4 * SZ_TMP + SZ_CAT + 1792 + 512) * sizeof(float) * B + 16 * 128;
    else
        per = (SZ_IMG + 2 * SZ_BIG + SZ_TRUNK + 4 * SZ_TMP + SZ_CAT) * sizeof(uint16_t) * B +
              (2 * SZ_TRUNK + 1792 + 512) * sizeof(float) * B + 16 * 128;
    char *a = NULL;
    if (posix_memalign((void **)&a, 64, per)) return -1;
    memset(a, 0, per);
    free(x->arena);
    x->arena = a;
    char *p = a;
    if (net->calib) {
        x->a = carve(&p, SZ_BIG * 4 * B);
        x->b = carve(&p, SZ_BIG * 4 * B);
        for (int i = 0; i < 4; i++) x->t[i] = carve(&p, SZ_TMP * 4 * B);
        x->cat = carve(&p, SZ_CAT * 4 * B);
    } else {
        const size_t q = sizeof(uint16_t) * B;
        x->img = carve(&p, SZ_IMG * q);
        x->qa = carve(&p, SZ_BIG * q);
        x->qb = carve(&p, SZ_BIG * q);
        x->xq = carve(&p, SZ_TRUNK * q);
        for (int i = 0; i < 4; i++) x->tq[i] = carve(&p, SZ_TMP * q);
        x->catq = carve(&p, SZ_CAT * q);
        x->fx = carve(&p, SZ_TRUNK * 4 * B);
        x->fy = carve(&p, SZ_TRUNK * 4 * B);
    }
    x->P = carve(&p, 1792 * 4 * B);
    x->E = carve(&p, 512 * 4 * B);
    return 0;
}

static int arena_alloc(nn_facenet_q *net, int batch, int nctx) {
    for (int i = 0; i < nctx; i++)
        if (!net->ctx[i].arena || batch != net->batch)
            if (ctx_alloc(net, &net->ctx[i], batch)) return -1;
    for (int i = nctx; i < net->nthreads && batch != net->batch; i++) {
        free(net->ctx[i].arena);
        net->ctx[i].arena = NULL;
    }
    net->batch = batch;
    return 0;
}

int nn_fq_is_int8(const nnw_file *f) {
    const nnw_tensor *t = nnw_find(f, "Conv2d_2a_3x3_kernel");
    return t && t->dtype == NNW_I8;
}

int nn_facenet_file_int8(const char *path, char *err, size_t errlen) {
    nnw_file *f = nnw_open(path, err, errlen);
    if (!f) return -2;
    const nnw_tensor *t = nnw_find(f, "Conv2d_2a_3x3_kernel");
    int r = !t ? -1 : t->dtype == NNW_I8;
    if (r < 0) snprintf(err, errlen, "not a FaceNet weight file (no Conv2d_2a_3x3_kernel)");
    nnw_close(f);
    return r;
}

const char *nn_facenet_int8_kernels(void) { return nn_qkern()->name; }

static nn_facenet_q *load(nnw_file *f, int nthreads, const nn_qkernels *kern, int flags, int calib, nn_fq_observer obs,
                          void *obs_ctx, const nn_fq_emulation *emu, char *err, size_t errlen) {
    char e2[256];
    if (!err) {
        err = e2;
        errlen = sizeof e2;
    }
    nn_facenet_q *net = calloc(1, sizeof *net);
    if (!net) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    net->calib = calib;
    net->direct = (flags & NN_FACENET_DIRECT) != 0;
    net->obs = obs;
    net->obs_ctx = obs_ctx;
    const float *const *fake = emu ? emu->scales : NULL;
    if (emu) net->emu = *emu;
    net->kern = kern ? kern : nn_qkern();
    pthread_once(&g_layers_once, layers_init);
    const char *acts = calib ? NULL : nnw_meta(f, "activations");
    if (!calib && (!acts || strcmp(acts, NN_FQ_ACTIVATIONS))) {
        snprintf(err, errlen, "an int8 file of an older format (8-bit activations): make it again (make setup)");
        goto fail;
    }
    size_t total = 0;
    for (int i = 0; i < NPOINTS; i++) total += (size_t)nn_fq_point_channels(i);
    if (!(net->scale_mem = malloc(sizeof(float) * 2 * total))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    float *sp = net->scale_mem;
    for (int i = 0; i < NPOINTS; i++) {
        int ch = nn_fq_point_channels(i);
        net->scale[i] = sp;
        net->qinv[i] = sp + ch;
        sp += 2 * ch;
        if (calib) {
            if (fake && fake[i]) {
                memcpy(net->scale[i], fake[i], sizeof(float) * (size_t)ch);
                net->fake[i] = net->scale[i];
            }
            continue;
        }
        char nm[96];
        uint32_t shape[1] = {(uint32_t)ch};
        snprintf(nm, sizeof nm, "%.63s_act_scale", nn_fq_point_name(i));
        const nnw_tensor *t = nnw_expect(f, nm, NNW_F32, 1, shape, err, errlen);
        if (!t) goto fail;
        memcpy(net->scale[i], t->data, sizeof(float) * (size_t)ch);
        for (int c = 0; c < ch; c++) {
            if (!(net->scale[i][c] > 0.0f) || !isfinite(net->scale[i][c])) {
                snprintf(err, errlen, "%s: bad scale", nm);
                goto fail;
            }
            net->qinv[i][c] = 1.0f / net->scale[i][c];
        }
    }
    for (int i = 0; i < g_nlayers; i++) {
        const qlayer_def *d = &g_layers[i];
        if (load_layer(net, f, (qlayer *)((char *)net + d->off), d->name, d->cout, d->kh, d->kw, d->cin, d->stride,
                       d->pad, d->in_pt, err, errlen))
            goto fail;
    }
    if (load_float(f, &net->fc, "Bottleneck_kernel_transpose", "Bottleneck_MatMul_bias", 512, 0, 0, 1792, 1,
                   NN_PAD_VALID, 0, NULL, NULL, err, errlen))
        goto fail;
    net->pool = nn_pool_new(calib ? 1 : nthreads);
    if (!net->pool) {
        snprintf(err, errlen, "cannot start threads");
        goto fail;
    }
    net->nthreads = nn_pool_threads(net->pool);
    net->ctx = calloc((size_t)net->nthreads, sizeof *net->ctx);
    net->batch = calib ? 1 : 2;
    net->ws = calloc((size_t)net->nthreads, sizeof *net->ws);
    if (!net->ctx || !net->ws || arena_alloc(net, net->batch, 1)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int i = 0; net->ws_bytes && i < net->nthreads; i++)
        if (posix_memalign(&net->ws[i], 64, net->ws_bytes)) {
            net->ws[i] = NULL;
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    return net;
fail:
    nn_fq_free(net);
    return NULL;
}

nn_facenet_q *nn_fq_load(nnw_file *f, int nthreads, const nn_qkernels *kern, int flags, char *err, size_t errlen) {
    return load(f, nthreads, kern, flags, 0, NULL, NULL, NULL, err, errlen);
}

nn_facenet_q *nn_fq_load_calib(nnw_file *f, nn_fq_observer observer, void *ctx, char *err, size_t errlen) {
    return load(f, 1, NULL, 0, 1, observer, ctx, NULL, err, errlen);
}

nn_facenet_q *nn_fq_load_emulated(nnw_file *f, const nn_fq_emulation *emu, char *err, size_t errlen) {
    return load(f, 1, NULL, 0, 1, NULL, NULL, emu, err, errlen);
}

void nn_fq_free(nn_facenet_q *net) {
    if (!net) return;
    all_layers(net, free_layer);
    nn_conv_free(&net->fc);
    free(net->scale_mem);
    nn_pool_free(net->pool);
    for (int i = 0; net->ctx && i < net->nthreads; i++) free(net->ctx[i].arena);
    for (int i = 0; net->ws && i < net->nthreads; i++) free(net->ws[i]);
    free(net->ctx);
    free(net->ws);
    free(net);
}

int nn_fq_threads(const nn_facenet_q *net) { return net->nthreads; }
int nn_fq_winograd_layers(const nn_facenet_q *net) { return net->nwino; }
const char *nn_fq_kernels(const nn_facenet_q *net) { return net->calib ? "float32" : net->kern->name; }

void nn_fq_set_batch(nn_facenet_q *net, int batch) {
    if (batch < 1) batch = 1;
    if (batch > 64) batch = 64;
    if (batch != net->batch && arena_alloc(net, batch, 1)) arena_alloc(net, 1, 1);
}

/* ---------------------------------------------------------------- small quantised / float ops */

/* 3x3 stride-2 VALID max-pool of quantised tensors, output rows [row0, row1) of n*oh. */
static void qmaxpool_rows(const uint16_t *in, int h, int w, int ch, int in_ld, uint16_t *out, int out_ld, int row0,
                          int row1) {
    int oh = (h - 3) / 2 + 1, ow = (w - 3) / 2 + 1;
    for (int row = row0; row < row1; row++) {
        int img = row / oh, oy = row % oh;
        const uint16_t *r0 = in + ((size_t)img * h + 2 * oy) * w * in_ld;
        for (int ox = 0; ox < ow; ox++) {
            const uint16_t *p = r0 + (size_t)2 * ox * in_ld;
            uint16_t *o = out + ((size_t)row * ow + ox) * out_ld;
            const size_t dy = (size_t)w * in_ld, dx = (size_t)in_ld;
            int c = 0;
#if defined(__SSE2__)
            for (; c + 8 <= ch; c += 8) { /* values <= NN_QMAX: the signed 16-bit max is the unsigned one */
                __m128i m = _mm_loadu_si128((const __m128i *)(p + c));
                for (int y = 0; y < 3; y++)
                    for (int x = 0; x < 3; x++)
                        m = _mm_max_epi16(m, _mm_loadu_si128((const __m128i *)(p + y * dy + x * dx + c)));
                _mm_storeu_si128((__m128i *)(o + c), m);
            }
#elif defined(__ARM_NEON)
            for (; c + 8 <= ch; c += 8) {
                uint16x8_t m = vld1q_u16(p + c);
                for (int y = 0; y < 3; y++)
                    for (int x = 0; x < 3; x++) m = vmaxq_u16(m, vld1q_u16(p + y * dy + x * dx + c));
                vst1q_u16(o + c, m);
            }
#endif
            for (; c < ch; c++) {
                uint16_t m = p[c];
                for (int y = 0; y < 3; y++)
                    for (int x = 0; x < 3; x++) {
                        uint16_t v = p[y * dy + x * dx + c];
                        if (v > m) m = v;
                    }
                o[c] = m;
            }
        }
    }
}

/* quantised copy (1 / scale per channel: qinv) of pixels [p0, p1) of a float tensor, as the conv epilogue writes. */
static void quantise(const float *in, int ch, int ld, uint16_t *out, const float *qinv, int p0, int p1) {
    for (int px = p0; px < p1; px++) {
        const float *s = in + (size_t)px * ld;
        uint16_t *d = out + (size_t)px * ld;
        for (int c = 0; c < ch; c++) d[c] = nn_q12(s[c] * qinv[c]);
    }
}

/* ---------------------------------------------------------------- planning */

/* a tensor (or a channel slice from channel c0 of its quantisation point) in either form */
typedef struct {
    float *f;
    uint16_t *q;
    int ld, pt, c0;
} ten;
static ten at(ten t, int ld, int pt) {
    t.ld = ld;
    t.pt = pt;
    t.c0 = 0;
    return t;
}
static ten sl(ten t, int c) {
    if (t.f) t.f += c;
    if (t.q) t.q += c;
    t.c0 += c;
    return t;
}

static void new_step(qctx *x) {
    qstep *s = &x->steps[x->nsteps++];
    s->first = x->njobs;
    s->njobs = s->ntasks = 0;
}
static qjob *add_job(qctx *x, int kind) {
    qjob *j = &x->jobs[x->njobs++];
    memset(j, 0, sizeof *j);
    j->kind = kind;
    x->steps[x->nsteps - 1].njobs++;
    return j;
}
static void job_done(qctx *x, qjob *j) { x->steps[x->nsteps - 1].ntasks += j->ntasks; }

static void conv(const nn_facenet_q *nf, qctx *x, const qlayer *L, ten in, int h, int w, ten out, int flags, int *oh,
                 int *ow) {
    qjob *j;
    if (nf->calib) {
        j = add_job(x, J_CONV);
        j->conv = (nn_conv_call){.cv = &L->f,
                                 .in = in.f,
                                 .n = x->plan_n,
                                 .h = h,
                                 .w = w,
                                 .in_ld = in.ld,
                                 .out = out.f,
                                 .out_ld = out.ld,
                                 .flags = flags};
        j->ntasks = nn_conv_plan(&j->conv, x->split);
        if (oh) {
            *oh = j->conv.oh;
            *ow = j->conv.ow;
        }
    } else {
        j = add_job(x, J_QCONV);
        j->qconv = (nn_qconv_call){.cv = &L->q,
                                   .in = in.q,
                                   .n = x->plan_n,
                                   .h = h,
                                   .w = w,
                                   .in_ld = in.ld,
                                   .outf = out.f,
                                   .ldf = out.ld,
                                   .outq = out.q,
                                   .ldq = out.ld,
                                   .out_qinv = out.q ? nf->qinv[out.pt] + out.c0 : NULL,
                                   .flags = flags};
        j->ntasks = nn_qconv_plan(&j->qconv, x->split);
        if (oh) {
            *oh = j->qconv.oh;
            *ow = j->qconv.ow;
        }
    }
    job_done(x, j);
}

static int row_tasks(const qctx *x, int rows) { return x->split > 1 ? (rows < 4 * x->split ? rows : 4 * x->split) : 1; }

static void maxpool(const nn_facenet_q *nf, qctx *x, ten in, int h, int w, int ch, ten out, int use_float) {
    qjob *j = add_job(x, use_float || nf->calib ? J_MAXPOOL : J_QMAXPOOL);
    j->in = in.f;
    j->qin = in.q;
    j->out = out.f;
    j->qout = out.q;
    j->n = x->plan_n;
    j->h = h;
    j->w = w;
    j->ch = ch;
    j->in_ld = in.ld;
    j->out_ld = out.ld;
    j->rows = x->plan_n * ((h - 3) / 2 + 1);
    j->ntasks = row_tasks(x, j->rows);
    job_done(x, j);
}

/* After the step that completes tensor t (pixels per face, ch channels): int8: its 12-bit copy (a step of its
 * own) when t.q is set and t.f is the source; calibration: the observer sees it. */
static void point(const nn_facenet_q *nf, qctx *x, ten t, int pixels, int ch, int quant) {
    if (nf->calib) {
        if (!nf->obs && !nf->fake[t.pt]) return;
        new_step(x);
        qjob *j = add_job(x, nf->obs ? J_OBSERVE : J_FAKE);
        j->in = t.f;
        j->out = t.f;
        j->ch = ch;
        j->in_ld = t.ld;
        j->rows = pixels * x->plan_n;
        j->pt = t.pt;
        j->ntasks = 1;
        j->scales = nf->fake[t.pt];
        job_done(x, j);
    } else if (quant) {
        new_step(x);
        qjob *j = add_job(x, J_QUANT);
        j->in = t.f;
        j->qout = t.q;
        j->ch = ch;
        j->in_ld = t.ld;
        j->rows = pixels * x->plan_n;
        j->scales = nf->qinv[t.pt];
        j->ntasks = row_tasks(x, j->rows);
        job_done(x, j);
    }
}

static void plan(const nn_facenet_q *nf, qctx *x, int n, int split) {
    x->njobs = x->nsteps = 0;
    x->plan_n = n;
    x->split = split;
    const int C = nf->calib;
    ten IMG, PA, PB, X, Y, Z, T[4], CAT;
    if (C) {
        IMG = (ten){x->b, NULL, 3, -1, 0};
        PA = (ten){x->a, NULL, 0, -1, 0};
        PB = (ten){x->b, NULL, 0, -1, 0};
        X = PA;
        Y = PB;
        Z = PA;
        for (int i = 0; i < 4; i++) T[i] = (ten){x->t[i], NULL, 0, -1, 0};
        CAT = (ten){x->cat, NULL, 0, -1, 0};
    } else {
        IMG = (ten){NULL, x->img, 3, -1, 0};
        PA = (ten){NULL, x->qa, 0, -1, 0};
        PB = (ten){NULL, x->qb, 0, -1, 0};
        X = (ten){x->fx, x->xq, 0, -1, 0};
        Y = (ten){x->fy, NULL, 0, -1, 0};
        Z = (ten){x->fx, NULL, 0, -1, 0};
        for (int i = 0; i < 4; i++) T[i] = (ten){NULL, x->tq[i], 0, -1, 0};
        CAT = (ten){NULL, x->catq, 0, -1, 0};
    }
    int h, w;
    new_step(x);
    {
        qjob *j = add_job(x, J_INPUT);
        j->n = n;
        j->ntasks = n;
        j->out = IMG.f;
        j->qout = IMG.q;
        job_done(x, j);
    }
    /* stem */
    new_step(x);
    conv(nf, x, &nf->c1a, IMG, 160, 160, at(PA, 32, 0), NN_RELU, &h, &w); /* 79 */
    point(nf, x, at(PA, 32, 0), h * w, 32, 0);
    new_step(x);
    conv(nf, x, &nf->c2a, at(PA, 32, 0), h, w, at(PB, 32, 1), NN_RELU, &h, &w); /* 77 */
    point(nf, x, at(PB, 32, 1), h * w, 32, 0);
    new_step(x);
    conv(nf, x, &nf->c2b, at(PB, 32, 1), h, w, at(PA, 64, 2), NN_RELU, &h, &w);
    point(nf, x, at(PA, 64, 2), h * w, 64, 0);
    new_step(x);
    maxpool(nf, x, at(PA, 64, 2), h, w, 64, at(PB, 64, 2), 0);
    h = (h - 3) / 2 + 1;
    w = (w - 3) / 2 + 1; /* 38 */
    new_step(x);
    conv(nf, x, &nf->c3b, at(PB, 64, 2), h, w, at(PA, 80, 3), NN_RELU, &h, &w);
    point(nf, x, at(PA, 80, 3), h * w, 80, 0);
    new_step(x);
    conv(nf, x, &nf->c4a, at(PA, 80, 3), h, w, at(PB, 192, 4), NN_RELU, &h, &w); /* 36 */
    point(nf, x, at(PB, 192, 4), h * w, 192, 0);
    new_step(x);
    conv(nf, x, &nf->c4b, at(PB, 192, 4), h, w, at(X, 256, 5), NN_RELU, &h, &w); /* 17 */
    point(nf, x, at(X, 256, 5), h * w, 256, 0);
    int xpt = 5, c = 256;
    for (int i = 0; i < 5; i++) {
        const qblock35 *b = &nf->b35[i];
        ten xi = at(X, 256, xpt), cat = at(CAT, 96, pt_b35(i, 3));
        new_step(x);
        conv(nf, x, &b->b0, xi, h, w, cat, NN_RELU, NULL, NULL);
        conv(nf, x, &b->b1a, xi, h, w, at(T[0], 32, pt_b35(i, 0)), NN_RELU, NULL, NULL);
        conv(nf, x, &b->b2a, xi, h, w, at(T[1], 32, pt_b35(i, 1)), NN_RELU, NULL, NULL);
        point(nf, x, at(T[0], 32, pt_b35(i, 0)), h * w, 32, 0);
        point(nf, x, at(T[1], 32, pt_b35(i, 1)), h * w, 32, 0);
        new_step(x);
        conv(nf, x, &b->b1b, at(T[0], 32, pt_b35(i, 0)), h, w, sl(cat, 32), NN_RELU, NULL, NULL);
        conv(nf, x, &b->b2b, at(T[1], 32, pt_b35(i, 1)), h, w, at(T[2], 32, pt_b35(i, 2)), NN_RELU, NULL, NULL);
        point(nf, x, at(T[2], 32, pt_b35(i, 2)), h * w, 32, 0);
        new_step(x);
        conv(nf, x, &b->b2c, at(T[2], 32, pt_b35(i, 2)), h, w, sl(cat, 64), NN_RELU, NULL, NULL);
        point(nf, x, cat, h * w, 96, 0);
        xpt = pt_b35(i, 4);
        new_step(x);
        conv(nf, x, &b->up, cat, h, w, at(X, 256, xpt), NN_ACCUM | NN_RELU, NULL, NULL);
        point(nf, x, at(X, 256, xpt), h * w, 256, 0);
    }
    /* Mixed_6a: 17x17x256 -> 8x8x896 (float, then its 12-bit copy) */
    int h2, w2;
    ten xi = at(X, 256, xpt), y = at(Y, 896, pt_m6(2));
    new_step(x);
    conv(nf, x, &nf->m6_b0, xi, h, w, y, NN_RELU, &h2, &w2);
    conv(nf, x, &nf->m6_b1a, xi, h, w, at(T[0], 192, pt_m6(0)), NN_RELU, NULL, NULL);
    maxpool(nf, x, xi, h, w, 256, sl(y, 640), 1);
    point(nf, x, at(T[0], 192, pt_m6(0)), h * w, 192, 0);
    new_step(x);
    conv(nf, x, &nf->m6_b1b, at(T[0], 192, pt_m6(0)), h, w, at(T[1], 192, pt_m6(1)), NN_RELU, NULL, NULL);
    point(nf, x, at(T[1], 192, pt_m6(1)), h * w, 192, 0);
    new_step(x);
    conv(nf, x, &nf->m6_b1c, at(T[1], 192, pt_m6(1)), h, w, sl(y, 384), NN_RELU, NULL, NULL);
    h = h2;
    w = w2;
    ten trunk = C ? y : (ten){x->fy, x->xq, 896, pt_m6(2), 0};
    point(nf, x, trunk, h * w, 896, 1);
    c = 896;
    for (int i = 0; i < 16; i++) {
        if (i == 10) {
            /* Mixed_7a: 8x8x896 -> 3x3x1792 */
            ten z = at(Z, 1792, pt_m7(4));
            new_step(x);
            conv(nf, x, &nf->m7_b0a, trunk, h, w, at(T[0], 256, pt_m7(0)), NN_RELU, NULL, NULL);
            conv(nf, x, &nf->m7_b1a, trunk, h, w, at(T[1], 256, pt_m7(1)), NN_RELU, NULL, NULL);
            conv(nf, x, &nf->m7_b2a, trunk, h, w, at(T[2], 256, pt_m7(2)), NN_RELU, NULL, NULL);
            maxpool(nf, x, trunk, h, w, 896, sl(z, 896), 1);
            for (int k = 0; k < 3; k++) point(nf, x, at(T[k], 256, pt_m7(k)), h * w, 256, 0);
            new_step(x);
            conv(nf, x, &nf->m7_b0b, at(T[0], 256, pt_m7(0)), h, w, z, NN_RELU, &h2, &w2);
            conv(nf, x, &nf->m7_b1b, at(T[1], 256, pt_m7(1)), h, w, sl(z, 384), NN_RELU, NULL, NULL);
            conv(nf, x, &nf->m7_b2b, at(T[2], 256, pt_m7(2)), h, w, at(T[3], 256, pt_m7(3)), NN_RELU, NULL, NULL);
            point(nf, x, at(T[3], 256, pt_m7(3)), h * w, 256, 0);
            new_step(x);
            conv(nf, x, &nf->m7_b2c, at(T[3], 256, pt_m7(3)), h, w, sl(z, 640), NN_RELU, NULL, NULL);
            h = h2;
            w = w2;
            trunk = C ? z : (ten){x->fx, x->xq, 1792, pt_m7(4), 0};
            point(nf, x, trunk, h * w, 1792, 1);
            c = 1792;
        }
        const qblock_k *b = &nf->bk[i];
        int bw = i < 10 ? 128 : 192;
        ten cat = at(CAT, 2 * bw, pt_bk(i, 2)), t0 = at(T[0], bw, pt_bk(i, 0)), t1 = at(T[1], bw, pt_bk(i, 1));
        new_step(x);
        conv(nf, x, &b->b0, trunk, h, w, cat, NN_RELU, NULL, NULL);
        conv(nf, x, &b->b1a, trunk, h, w, t0, NN_RELU, NULL, NULL);
        point(nf, x, t0, h * w, bw, 0);
        new_step(x);
        conv(nf, x, &b->b1b, t0, h, w, t1, NN_RELU, NULL, NULL);
        point(nf, x, t1, h * w, bw, 0);
        new_step(x);
        conv(nf, x, &b->b1c, t1, h, w, sl(cat, bw), NN_RELU, NULL, NULL);
        point(nf, x, cat, h * w, 2 * bw, 0);
        int opt = pt_bk(i, 3);
        ten out = trunk;
        out.pt = opt;
        if (opt < 0) out.q = NULL; /* Block8_6: no ReLU, float only (average pool + bottleneck) */
        new_step(x);
        conv(nf, x, &b->up, cat, h, w, out, opt < 0 ? NN_ACCUM : NN_ACCUM | NN_RELU, NULL, NULL);
        if (opt >= 0) point(nf, x, out, h * w, c, 0);
        trunk = out;
    }
    new_step(x);
    {
        qjob *j = add_job(x, J_AVGPOOL);
        j->in = trunk.f;
        j->out = x->P;
        j->n = n;
        j->h = h;
        j->w = w;
        j->ch = c;
        j->ntasks = 1;
        job_done(x, j);
    }
    new_step(x);
    {
        qjob *j = add_job(x, J_CONV);
        j->conv = (nn_conv_call){
            .cv = &nf->fc, .in = x->P, .n = n, .h = 1, .w = 1, .in_ld = 1792, .out = x->E, .out_ld = 512, .flags = 0};
        j->ntasks = nn_conv_plan(&j->conv, split);
        job_done(x, j);
    }
}

/* ---------------------------------------------------------------- execution */

static void run_job_task(const nn_facenet_q *nf, qctx *x, const qjob *j, int t, void *ws) {
    const size_t px = (size_t)NN_FACENET_SIZE * NN_FACENET_SIZE * 3;
    switch (j->kind) {
    case J_INPUT:
        if (j->out) nn_input_rgb(x->plan_rgb + px * (size_t)t, px, j->out + px * (size_t)t);
        else
            for (size_t i = 0; i < px; i++) j->qout[px * (size_t)t + i] = x->plan_rgb[px * (size_t)t + i];
        break;
    case J_CONV: nn_conv_task(&j->conv, t); break;
    case J_QCONV: nn_qconv_task_ws(&j->qconv, t, ws); break;
    case J_MAXPOOL:
    case J_QMAXPOOL: {
        int r0 = (int)((long)j->rows * t / j->ntasks), r1 = (int)((long)j->rows * (t + 1) / j->ntasks);
        if (j->kind == J_MAXPOOL)
            nn_maxpool3s2_rows(j->in, j->n, j->h, j->w, j->ch, j->in_ld, j->out, j->out_ld, r0, r1);
        else qmaxpool_rows(j->qin, j->h, j->w, j->ch, j->in_ld, j->qout, j->out_ld, r0, r1);
        break;
    }
    case J_AVGPOOL: nn_global_avgpool(j->in, j->n, j->h * j->w, j->ch, j->out); break;
    case J_QUANT: {
        int p0 = (int)((long)j->rows * t / j->ntasks), p1 = (int)((long)j->rows * (t + 1) / j->ntasks);
        quantise(j->in, j->ch, j->in_ld, j->qout, j->scales, p0, p1);
        break;
    }
    case J_OBSERVE: nf->obs(nf->obs_ctx, j->pt, j->in, j->rows, j->ch, j->in_ld); break;
    case J_FAKE: /* the float tensor rounded as its quantised form would be */
        for (int p = 0; p < j->rows; p++)
            for (int c = 0; c < j->ch; c++) {
                float *v = j->out + (size_t)p * j->in_ld + c;
                *v = j->scales[c] * (float)nn_q12(*v * (1.0f / j->scales[c]));
            }
        break;
    }
}

static void run_step_task(const nn_facenet_q *nf, qctx *x, const qstep *s, int t, void *ws) {
    for (int i = 0; i < s->njobs; i++) {
        const qjob *j = &x->jobs[s->first + i];
        if (t < j->ntasks) {
            run_job_task(nf, x, j, t, ws);
            return;
        }
        t -= j->ntasks;
    }
}

static void run_serial(const nn_facenet_q *nf, qctx *x, void *ws) {
    for (int s = 0; s < x->nsteps; s++)
        for (int t = 0; t < x->steps[s].ntasks; t++) run_step_task(nf, x, &x->steps[s], t, ws);
}

static void wait_step(const qctx *x, int s) {
    for (unsigned spins = 0; __atomic_load_n(&x->done[s], __ATOMIC_ACQUIRE) < x->steps[s].ntasks; spins++) {
        if (spins > 2000) sched_yield();
#if defined(__x86_64__)
        else __builtin_ia32_pause();
#endif
    }
}

static void forward_split(void *arg, int task, int thread) {
    nn_facenet_q *net = arg;
    qctx *x = &net->ctx[0];
    (void)task;
    for (int s = 0; s < x->nsteps; s++) {
        const qstep *st = &x->steps[s];
        for (;;) {
            int t = __atomic_fetch_add(&x->counters[s], 1, __ATOMIC_RELAXED);
            if (t >= st->ntasks) break;
            run_step_task(net, x, st, t, net->ws[thread]);
            __atomic_fetch_add(&x->done[s], 1, __ATOMIC_RELEASE);
        }
        wait_step(x, s);
    }
}

static void finish(const qctx *x, float *out, int nb) {
    memcpy(out, x->E, (size_t)nb * NN_FACENET_DIM * sizeof(float));
    nn_l2_normalize(out, nb, NN_FACENET_DIM);
}

static void forward_faces(void *arg, int task, int thread) {
    nn_facenet_q *net = arg;
    qctx *x = &net->ctx[task];
    const size_t px = (size_t)NN_FACENET_SIZE * NN_FACENET_SIZE * 3;
    for (;;) {
        int f = __atomic_fetch_add(&net->fp_next, net->fp_chunk, __ATOMIC_RELAXED);
        if (f >= net->fp_n) break;
        int nb = net->fp_n - f < net->fp_chunk ? net->fp_n - f : net->fp_chunk;
        plan(net, x, nb, 1);
        x->plan_rgb = net->fp_rgb + px * (size_t)f;
        run_serial(net, x, net->ws[thread]);
        finish(x, net->fp_out + (size_t)f * NN_FACENET_DIM, nb);
    }
}

int nn_fq_embed(nn_facenet_q *net, const unsigned char *rgb, int n, float *out) {
    if (!net || n < 0 || (n > 0 && (!rgb || !out))) return -1;
    const size_t px = (size_t)NN_FACENET_SIZE * NN_FACENET_SIZE * 3;
    const int T = net->nthreads;
    int done = 0;
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
    qctx *x = &net->ctx[0];
    while (done < n) {
        int nb = n - done < net->batch ? n - done : net->batch;
        plan(net, x, nb, net->nthreads);
        x->plan_rgb = rgb + px * (size_t)done;
        if (net->nthreads <= 1) {
            run_serial(net, x, net->ws[0]);
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
