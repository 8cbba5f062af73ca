/* nn/facenet_q.h — FaceNet on int8 weights (nn/qgemm.h): the graph of nn/facenet.c with 12-bit activations
 * between the convolutions and int8 weights, built from an int8 SBFW file (tools/quantize; weights/FORMAT.md),
 * and the same graph run in float32 with an observer on every activation quantisation point (calibration).
 * Internal to nn/ and tools: users call nn_facenet_load, which picks this for an int8 file.
 *
 * Precision: every convolution is int8 x 12-bit -> int32, its epilogue in float; the residual trunk (the
 * input and output of each Block35/17/8, the Mixed_6a/7a outputs) stays float32 (relu(x + up) summed in
 * float by the final 1x1 conv's epilogue, which also writes the 12-bit copy the next block's branches read);
 * the first layer reads the RGB bytes themselves (its input offset folded into the bias); global average
 * pool and the 1792 -> 512 bottleneck are float32. */
#ifndef NN_FACENET_Q_H
#define NN_FACENET_Q_H
#include <stddef.h>
#include "nn/weights.h"

typedef struct nn_facenet_q nn_facenet_q;

/* The activation quantisation points (12-bit tensors with one scale per channel), in graph order.  The weight
 * file holds the scales of point NAME as the float32 tensor "NAME_act_scale" [channels]; each layer reading a
 * point has these scales folded into its int8 weights and their per-output-channel scales (tools/quantize). */
int nn_fq_points(void);
/* The metadata value "activations" of an int8 file this engine runs (older files, with 8-bit activations, are
 * refused: `make setup` remakes them). */
#define NN_FQ_ACTIVATIONS "uint16, 0..4095 (12 bits)"
const char *nn_fq_point_name(int i);
int nn_fq_point_channels(int i);
/* The quantisation point an int8 layer (by weight name prefix, e.g. "Block35_1_Conv2d_1x1") reads and its input
 * channels: -1 for the first layer (the RGB bytes, scale 1/128), -2 for a name that is not an int8 layer. */
int nn_fq_layer_input(const char *name, int *cin);

/* 1 when f is an int8 FaceNet file (its Conv2d_2a_3x3_kernel is int8). */
int nn_fq_is_int8(const nnw_file *f);
/* Loads an int8 file (f stays the caller's; nothing of it is used after the call).  nthreads <= 0: all
 * cores.  The int8 kernels (kern; NULL: nn_qkern(), those of the ISA level in force) are fixed at load.
 * flags: NN_FACENET_DIRECT (nn/facenet.h) runs the 3x3 stride-1 layers directly instead of as exact Winograd
 * (nn/qwino.h: the same outputs), to compare the two.  NULL + a one-line reason on failure. */
struct nn_qkernels_s;
nn_facenet_q *nn_fq_load(nnw_file *f, int nthreads, const struct nn_qkernels_s *kern, int flags, char *err,
                         size_t errlen);
/* Calibration: a float32 (or float16) FaceNet file run in float32 on one thread through the same graph;
 * observer(ctx, point, x, pixels, ch, ld) sees each quantisation point's tensor (pixels x ch floats, pixel
 * stride ld) once per pass. */
typedef void (*nn_fq_observer)(void *ctx, int point, const float *x, int pixels, int ch, int ld);
nn_facenet_q *nn_fq_load_calib(nnw_file *f, nn_fq_observer observer, void *ctx, char *err, size_t errlen);
/* Emulation (choosing what to quantise, by measurement): the float graph of nn_fq_load_calib with each point
 * whose scales[i] is not NULL rounded to those scales (as its 12-bit form); with int8_weights the weights
 * rounded per output channel as tools/quantize does (input scales folded in; with means, the bias corrected
 * for the rounding's expected effect), except the layers whose names start with one of float_layers. */
typedef struct {
    const float *const *scales; /* per point: one scale per channel, or NULL (stays float) */
    int int8_weights;
    const char *const *float_layers; /* NULL-terminated name prefixes, or NULL */
    const float *const *means;       /* per point: the mean of each channel, or NULL (no bias correction) */
    const float *image_mean;         /* the first layer's input, R G B ((x - 127.5) / 128), or NULL */
} nn_fq_emulation;
nn_facenet_q *nn_fq_load_emulated(nnw_file *f, const nn_fq_emulation *emu, char *err, size_t errlen);

int nn_fq_embed(nn_facenet_q *q, const unsigned char *rgb, int n, float *out); /* as nn_facenet_embed */
void nn_fq_set_batch(nn_facenet_q *q, int batch);
int nn_fq_threads(const nn_facenet_q *q);
const char *nn_fq_kernels(const nn_facenet_q *q); /* the int8 flavour name ("float32" in calibration) */
/* How many of its 20 3x3 stride-1 layers run as exact Winograd (nn/qwino.h; 0 with NN_FACENET_DIRECT). */
int nn_fq_winograd_layers(const nn_facenet_q *q);
void nn_fq_free(nn_facenet_q *q);

#endif
