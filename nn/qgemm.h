/* nn/qgemm.h — int8-weight convolution / fully connected (the quantised FaceNet's operator): 12-bit activations
 * in uint16 with one scale per channel (real = scale x q, q in 0..NN_QMAX; 0 is exactly 0, so padding is a row of
 * zeros) times int8 weights with one scale per output channel (symmetric, q in -127..127), exact int32
 * accumulation (|sum| <= taps x channels x 127 x NN_QMAX < 2^31: checked at packing) in register tiles over the
 * same indirection rows as nn/conv.h (no im2col), and a fused float epilogue:
 *     v = (float)acc * scale[j] + bias[j]   (scale[j] = input scale x weight scale of column j; no FMA)
 *     (+ the float already in the output: residual, in place) (ReLU)
 * stored as float and/or requantised to uint16 with one scale per channel: q = trunc(min(max(v x (1 / scale[j]),
 * 0), NN_QMAX) + 0.5).  (8-bit activations lose too much: docs/MEASUREMENTS.md "FaceNet int8".)
 * Kernel flavours, one table each, chosen by the ISA level of every kernel family (nn/cpu.h): portable scalar (the
 * reference), AVX2 (vpmovsxbw + vpmaddwd), AVX-512 VNNI (vpdpbusd on each activation's low byte and high 4 bits, two
 * dot products; within the avx512 level when the CPU has it, else AVX2), NEON widening multiply (vmlal_lane_s16; armv7
 * and ARMv8.0) and NEON sdot (ARMv8.2 dotprod, within the neon level when the CPU has it: each activation split into
 * its low 7 and high 5 bits, two int8 dot products).  All flavours give bit-identical outputs (tests/test_qgemm.c). */
#ifndef NN_QGEMM_H
#define NN_QGEMM_H
#include <stddef.h>
#include <stdint.h>
#include "nn/conv.h"
#include "nn/kernels.h"

#define NN_QMR 6     /* tile rows (output pixels) */
#define NN_QNR 16    /* tile columns (output channels) = panel width */
#define NN_QMAX 4095 /* largest activation value (12 bits) */

/* Epilogue of one tile; per-column arrays and output pointers start at the tile's first column. */
typedef struct {
    const float *scale, *bias; /* per column */
    float *outf;               /* float output rows (NULL: none); NN_ACCUM adds onto it */
    size_t ldf;
    uint16_t *outq; /* requantised output rows (NULL: none) */
    size_t ldq;
    const float *qinv; /* per column: 1 / output scale (with outq) */
    int flags;         /* NN_RELU, NN_ACCUM */
} nn_qepi;

/* One tile of rows r < mr, columns j < nr of one 16-column panel b: for each tap t, a[t*NN_QMR + r] points to
 * the kc activations of row r (rows >= mr point to readable memory; values past the channel count meet
 * zero weights, but must be readable).  kc = channels rounded up to the flavour's k block. */
typedef void (*nn_qgemm_fn)(int ntaps, int kc, const uint16_t *const *a, const int8_t *b, const nn_qepi *e, int mr,
                            int nr);
/* Two adjacent panels (columns 0..31, nr <= 32); the second starts pstride bytes after the first. */
typedef void (*nn_qgemm2_fn)(int ntaps, int kc, const uint16_t *const *a, const int8_t *b, size_t pstride,
                             const nn_qepi *e, int mr, int nr);

/* Prepared rows (optional per flavour): prep writes rows r < mr of every tap (a as above) in the flavour's own form
 * into x (NN_QPREP_BYTES(ntaps, kc) bytes, 64-byte aligned), and gemmp / gemm2p are gemm / gemm2 reading those
 * instead of a: the caller prepares a tile once per block of panels, not per call (VNNI: the rows split into
 * bytes). */
#define NN_QPREP_BYTES(ntaps, kc) ((size_t)2 * NN_QMR * (size_t)(ntaps) * (size_t)(kc))
typedef void (*nn_qprep_fn)(int ntaps, int kc, const uint16_t *const *a, int mr, uint8_t *x);
typedef void (*nn_qgemmp_fn)(int ntaps, int kc, const uint8_t *x, const int8_t *b, const nn_qepi *e, int mr, int nr);
typedef void (*nn_qgemm2p_fn)(int ntaps, int kc, const uint8_t *x, const int8_t *b, size_t pstride, const nn_qepi *e,
                              int mr, int nr);

/* The products of the exact Winograd convolution (nn/qwino.h): NN_QMR rows of int16 (a; rows >= mr readable) times
 * np (1 or 2) panels of int16 in k pairs ([kc/2][NN_QNR][2]; the second pstride values after the first), raw int32
 * sums into rows r < mr of c (ldc values apart, np x 16 columns).  The sums wrap modulo 2^32 (as vpmaddwd / vpdpwssd
 * / vmlal do): the Winograd output transform is exact in that ring. */
typedef void (*nn_qgemm16_fn)(int kc, const int16_t *const *a, const int16_t *b, size_t pstride, int np, int32_t *c,
                              size_t ldc, int mr);
/* The epilogue of one row of nr <= 16 columns from its int32 sums: nn_qepi_row in the flavour's form. */
typedef void (*nn_qepi_fn)(const int32_t *acc, const nn_qepi *e, int r, int nr);

typedef struct nn_qkernels_s {
    const char *name; /* "scalar", "avx2", "avx512vnni", "neon" (widening), "neondot" */
    int kb;           /* k block of the panel layout: [panel][tap][kc/kb][NN_QNR][kb] int8 */
    nn_qgemm_fn gemm;
    nn_qgemm2_fn gemm2;   /* optional */
    nn_qgemm16_fn gemm16; /* Winograd products */
    nn_qepi_fn epi;       /* Winograd epilogue */
    nn_qprep_fn prep;     /* optional, with gemmp (and gemm2p when gemm2 is set) */
    nn_qgemmp_fn gemmp;
    nn_qgemm2p_fn gemm2p;
} nn_qkernels;

/* The CPU features that pick a second flavour within a level: VNNI within avx512, sdot within neon. */
#define NN_QCPU_VNNI (NN_CPU_AVX512BW | NN_CPU_AVX512VL | NN_CPU_AVX512VNNI)
#define NN_QCPU_SDOT NN_CPU_ASIMDDP

/* The int8 kernels of an ISA level on a CPU with these features: scalar -> scalar; avx2 -> AVX2; avx512 ->
 * VNNI when the features hold NN_QCPU_VNNI, else AVX2; neon -> sdot (aarch64) when they hold NN_QCPU_SDOT,
 * else widening.  NULL when this build has no kernels for the level (no check that the CPU runs the level:
 * see nn_isa_runs). */
const nn_qkernels *nn_qkernels_for(nn_isa isa, unsigned features);
/* nn_qkernels_for(nn_isa_get(), nn_cpu_features()): the kernels of the level in force. */
const nn_qkernels *nn_qkern(void);

#if defined(__x86_64__)
extern const nn_qkernels nn_qkernels_avx2;       /* qgemm_avx2.c */
extern const nn_qkernels nn_qkernels_avx512vnni; /* qgemm_avx512vnni.c */
#endif
#if defined(__ARM_NEON)
extern const nn_qkernels nn_qkernels_neon; /* qgemm_neon.c */
#endif
#if defined(__ARM_NEON) && defined(__aarch64__)
extern const nn_qkernels nn_qkernels_neondot; /* qgemm_neondot.c */
#endif

/* ---- the int8 convolution ---- */
typedef struct {
    int cout, cin, kh, kw, sh, sw;
    nn_padding pad;
    int npanels, kc;
    const nn_qkernels *kern; /* the flavour the panels are packed for (fixed at packing) */
    int8_t *panels;          /* npanels x (kh*kw*kc) x NN_QNR, 64-byte aligned */
    int panels_owned;
    float *scale, *bias;   /* npanels x NN_QNR, zero padded */
    struct nn_qwino *wino; /* set by nn_qconv_winograd: runs as exact Winograd F(2x2, 3x3) (nn/qwino.h) */
} nn_qconv;

size_t nn_qconv_panel_bytes(const nn_qkernels *k, int cout, int kh, int kw, int cin); /* a multiple of 64 */
/* Packs int8 OHWI weights w[cout][kh][kw][cin] for flavour k (NULL: nn_qkern()) with per-column scale
 * in_scale * wscale[j] and bias[j] (NULL = 0); into mem (nn_qconv_panel_bytes, 64-byte aligned) or, when mem
 * is NULL, an allocation of its own.  0, or -1 on bad arguments (a weight of -128, so many taps x channels that
 * the int32 sums could overflow) / no memory. */
int nn_qconv_init(nn_qconv *cv, void *mem, const nn_qkernels *k, const int8_t *w, const float *wscale,
                  const float *bias, float in_scale, int cout, int kh, int kw, int cin, int sh, int sw, nn_padding pad);
void nn_qconv_free(nn_qconv *cv);
/* Switches a 3x3 stride-1 convolution to the exact integer Winograd F(2x2, 3x3) of nn/qwino.h, from the same OHWI
 * weights nn_qconv_init packed: the same int32 sums as the direct form, so bit-identical outputs, with 16 products
 * per 4 outputs instead of 36.  0 when switched (or already), 1 when it cannot be (the shape; the flavour has no
 * Winograd products; a weight sum too large for the exact transform; out of memory): left direct.  Once switched,
 * the direct panels (when the conv's own) are freed and cv->panels is NULL.  A call then needs scratch: see
 * nn_qconv_task_ws. */
int nn_qconv_winograd(nn_qconv *cv, const int8_t *w);

/* One invocation: in is n x h x w pixels of uint16 activations with pixel stride in_ld values; outputs n x oh x
 * ow pixels, float (outf, stride ldf floats) and/or uint16 activations (outq, stride ldq values; out_qinv: 1 /
 * scale of each output channel, cout floats). */
typedef struct {
    const nn_qconv *cv;
    const uint16_t *in;
    int n, h, w, in_ld;
    float *outf;
    int ldf;
    uint16_t *outq;
    int ldq;
    const float *out_qinv;
    int flags;
    /* filled by nn_qconv_plan */
    int oh, ow, pt, pl, m, mtiles, tasks_m, tasks_n;
} nn_qconv_call;

int nn_qconv_plan(nn_qconv_call *c, int nthreads); /* the number of independent tasks */
void nn_qconv_task(const nn_qconv_call *c, int task);
/* The same with the caller's scratch for a Winograd convolution: ws holds nn_qconv_ws_bytes(cv) bytes, 64-byte
 * aligned, used by one task at a time; nn_qconv_task allocates it per task instead. */
void nn_qconv_task_ws(const nn_qconv_call *c, int task, void *ws);
size_t nn_qconv_ws_bytes(const nn_qconv *cv);       /* 0 for a direct convolution */
void nn_qconv_run(nn_qconv_call *c, nn_pool *pool); /* plan + all tasks (pool NULL: inline) */

/* Naive reference (tests): the same result from the unpacked weights, one output at a time. */
void nn_qref_conv2d(const uint16_t *in, int n, int h, int w, int cin, int in_ld, const int8_t *w_ohwi,
                    const float *scale, const float *bias, int cout, int kh, int kw, int sh, int sw, nn_padding pad,
                    float *outf, int ldf, uint16_t *outq, int ldq, const float *out_qinv, int flags);

/* ---- shared by the flavours ---- */

/* ROW(r) for the tile's first R rows (R a constant: the rest compile away). */
#define NN_QEACH_ROW(R, ROW)                                                                                           \
    do {                                                                                                               \
        ROW(0);                                                                                                        \
        if ((R) > 1) ROW(1);                                                                                           \
        if ((R) > 2) ROW(2);                                                                                           \
        if ((R) > 3) ROW(3);                                                                                           \
        if ((R) > 4) ROW(4);                                                                                           \
        if ((R) > 5) ROW(5);                                                                                           \
    } while (0)

/* A partial tile (the last of a layer: Block8's 9 pixels fill 6 + 3 rows) computes only its rows: fn(R, ...) with
 * R = mr, a constant in each case, for a kernel body inlined per row count. */
#define NN_QBY_ROWS(mr, fn, ...)                                                                                       \
    do {                                                                                                               \
        switch (mr) {                                                                                                  \
        case 1: fn(1, __VA_ARGS__); break;                                                                             \
        case 2: fn(2, __VA_ARGS__); break;                                                                             \
        case 3: fn(3, __VA_ARGS__); break;                                                                             \
        case 4: fn(4, __VA_ARGS__); break;                                                                             \
        case 5: fn(5, __VA_ARGS__); break;                                                                             \
        default: fn(6, __VA_ARGS__); break;                                                                            \
        }                                                                                                              \
    } while (0)
static inline uint16_t nn_q12(float x) {
    x = x > 0.0f ? x : 0.0f;
    x = x < (float)NN_QMAX ? x : (float)NN_QMAX;
    return (uint16_t)(int)(x + 0.5f);
}

/* The epilogue of row r of a tile from its int32 sums (the portable form; SIMD flavours do the same
 * operations in the same order). */
static inline void nn_qepi_row(const int32_t *acc, const nn_qepi *e, int r, int nr) {
    float *of = e->outf ? e->outf + (size_t)r * e->ldf : NULL;
    uint16_t *oq = e->outq ? e->outq + (size_t)r * e->ldq : NULL;
    for (int j = 0; j < nr; j++) {
        float v = (float)acc[j] * e->scale[j];
        v = v + e->bias[j];
        if (e->flags & NN_ACCUM) v = v + of[j];
        if ((e->flags & NN_RELU) && v < 0.0f) v = 0.0f;
        if (of) of[j] = v;
        if (oq) oq[j] = nn_q12(v * e->qinv[j]);
    }
}

#endif
