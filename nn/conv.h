/* nn/conv.h — the fast 2-D convolution / fully-connected operator on NHWC float32 activations:
 * weights packed once into 16-column panels (float32 or binary16), an indirect (im2col-free)
 * register-blocked GEMM over output-pixel x output-channel tiles, fused bias, residual add and ReLU,
 * writing into a channel slice of the output (concatenation without copies). */
#ifndef NN_CONV_H
#define NN_CONV_H
#include <stddef.h>
#include <stdint.h>
#include "nn/kernels.h"
#include "nn/threadpool.h"
#include "nn/weights.h"
#include "nn/wino.h"

typedef enum { NN_PAD_VALID = 0, NN_PAD_SAME = 1 } nn_padding; /* TensorFlow's rules */

typedef struct {
    int cout, cin, kh, kw, sh, sw;
    nn_padding pad;
    int npanels;      /* ceil(cout / NN_NR) */
    int f16;          /* panels hold binary16 */
    void *panels;     /* npanels x (kh*kw*cin) x NN_NR, 64-byte aligned; only read once set up */
    int panels_owned; /* 0: panels live in caller-provided memory (nn_conv_init_at, nn_conv_init_packed) */
    float *bias;      /* npanels * NN_NR (zero padded) */
    nn_wino *wino;    /* set by nn_conv_winograd: runs as Winograd F(4x4, 3x3) (nn/wino.h) */
} nn_conv;

/* Packs OHWI weights w[cout][kh][kw][cin] (float32, or binary16 when w_f16) and bias[cout] (may be
 * NULL = 0).  pack_f16 stores the panels as binary16.  0 on success, -1 on bad arguments/no memory. */
int nn_conv_init(nn_conv *cv, const void *w, int w_f16, const float *bias, int cout, int kh, int kw, int cin, int sh,
                 int sw, nn_padding pad, int pack_f16);
/* Same, packing into caller memory (64-byte aligned, nn_conv_panel_bytes long), e.g. one huge-page arena
 * for a whole network; nn_conv_free then leaves it alone. */
int nn_conv_init_at(nn_conv *cv, void *mem, const void *w, int w_f16, const float *bias, int cout, int kh, int kw,
                    int cin, int sh, int sw, nn_padding pad, int pack_f16);
size_t nn_conv_panel_bytes(int cout, int kh, int kw, int cin, int pack_f16); /* a multiple of 64 */
/* The panel layout, also how weight files store kernels ready to use (weights/FORMAT.md, "Packed kernels"):
 * panel p holds output channels 16p..16p+15, element [(ky*kw + kx)*cin + c][j] = w[16p + j][ky][kx][c], columns
 * past cout zero; i.e. C order over [ceil(cout/16), kh, kw, cin*16].  nn_conv_pack writes it from OHWI w
 * (float32, or binary16 when w_f16) as float32 or binary16 (pack_f16); nn_conv_unpack reads it back to OHWI
 * float32 (e.g. for tools that need the plain kernel). */
#define NN_PANEL_SUFFIX "_p16" /* a weight file's tensor NAME_p16 holds kernel NAME in this layout */
void nn_conv_pack(void *dst, int pack_f16, const void *w, int w_f16, int cout, int kh, int kw, int cin);
void nn_conv_unpack(float *w, const void *panels, int f16, int cout, int kh, int kw, int cin);
/* Kernel NAME of a weight file as plain OHWI float32 w[cout][kh][kw][cin] (malloc'ed; a fully connected [out,
 * in] kernel: kh = kw = 1), whichever way the file stores it: NAME (OHWI, float32 or binary16; a rank-2 [out, in]
 * when kh = kw = 1 is accepted too) or NAME_p16 (panels).  NULL and a one-line reason when absent or of
 * another shape.  For tools that need the plain kernel (e.g. quantisation). */
float *nn_conv_read_ohwi(const nnw_file *f, const char *name, int cout, int kh, int kw, int cin, char *err,
                         size_t errlen);
/* A weight file with every packed kernel NAME_p16 given back as the plain float32 kernel NAME, in memory: OHWI
 * [out, kh, kw, in], or [out, in] for a NAME ending in _kernel_transpose with kh = kw = 1 (npy2sbfw's rule),
 * out = 16 x the panel count (every FaceNet layer's; a kernel with another count comes back with zero rows and
 * is then refused by the reader's shape check, not misread); the other tensors and the metadata as they are,
 * but `layout` saying the kernels were unpacked.  A file without packed kernels is just opened (nnw_open).
 * For tools that read plain kernels by name (quantisation, calibration); the engine uses the panels in
 * place.  NULL and a one-line reason on failure. */
nnw_file *nn_conv_open_plain(const char *path, char *err, size_t errlen);
/* Uses panels already in that layout in place, e.g. inside a mapped weight file: nothing is copied (only the
 * bias); panels must be 64-byte aligned and outlive cv; f16: they are binary16 (the kernel flavour must have
 * a float16 kernel, see nn_kernels.gemm_f16). */
int nn_conv_init_packed(nn_conv *cv, const void *panels, int f16, const float *bias, int cout, int kh, int kw, int cin,
                        int sh, int sw, nn_padding pad);
void nn_conv_free(nn_conv *cv);
/* Switches a 3x3 stride-1 convolution to Winograd F(4x4, 3x3) (nn/wino.h: the kernel transformed once, 4x its
 * float32 panel memory; results within float32 rounding of the direct convolution, 2-4x fewer multiplications).
 * 0 when switched (or already), 1 when the shape has no Winograd form (left direct), -1 out of memory (left
 * direct).  A call then needs scratch: see nn_conv_task_ws. */
int nn_conv_winograd(nn_conv *cv);
/* Output size and top/left padding for an h x w input (TF VALID/SAME rules). */
void nn_conv_geometry(const nn_conv *cv, int h, int w, int *oh, int *ow, int *pt, int *pl);

/* One invocation: in is n x h x w pixels with pixel stride in_ld floats (channels 0..cin-1 used);
 * out is n x oh x ow pixels with pixel stride out_ld (channels 0..cout-1 written; point out at a
 * channel offset to write a slice).  flags: NN_RELU, NN_ACCUM. */
typedef struct {
    const nn_conv *cv;
    const float *in;
    int n, h, w, in_ld;
    float *out;
    int out_ld, flags;
    /* filled by nn_conv_plan */
    int oh, ow, pt, pl, m, mtiles, tasks_m, tasks_n; /* Winograd: m counts 4x4 output tiles */
} nn_conv_call;

/* Splits the work for nthreads threads; returns the number of independent tasks. */
int nn_conv_plan(nn_conv_call *call, int nthreads);
/* The split both convolution engines use (nn/conv.c, nn/qgemm.c): m output pixels in tiles of mr rows and npanels
 * weight panels into *tasks_m x *tasks_n tasks for nthreads threads (*mtiles: the tiles); returns the tasks. */
int nn_conv_split(int m, int mr, int npanels, int nthreads, int *mtiles, int *tasks_m, int *tasks_n);
void nn_conv_task(const nn_conv_call *call, int task);
/* The same with the caller's scratch for a Winograd convolution: ws holds nn_conv_ws_bytes(cv) bytes, 64-byte
 * aligned, used by one task at a time (e.g. one per thread); nn_conv_task allocates it per task instead. */
void nn_conv_task_ws(const nn_conv_call *call, int task, float *ws);
size_t nn_conv_ws_bytes(const nn_conv *cv); /* 0 for a direct convolution */
/* Convenience: plan + run all tasks on pool (NULL = inline). */
void nn_conv_run(const nn_conv *cv, nn_pool *pool, const float *in, int n, int h, int w, int in_ld, float *out,
                 int out_ld, int flags);

#endif
