/* nn/facenet.h — FaceNet 20180402-114759 (Inception-ResNet-v1, 512-D): the graph built by tensor name from
 * an SBFW weight file (its kernels used in place when stored ready-packed, else packed once at load), run on
 * the nn/ kernels with a planned activation arena. */
#ifndef NN_FACENET_H
#define NN_FACENET_H
#include <stddef.h>
#include "nn/cpu.h" /* nn_set_isa / nn_isa_name: the kernels every family runs (SORTBYFACE_ISA) */

#define NN_FACENET_SIZE 160
#define NN_FACENET_DIM 512

typedef struct nn_facenet nn_facenet;

/* Loads (and validates) the weight file; float32 or float16 tensors (a float16 file keeps float16 panels:
 * ~50 MB instead of ~94 MB resident), or an int8 file (tools/quantize: int8 weights and 12-bit activations,
 * nn/facenet_q.h; its kernel flavour is fixed at load by the ISA in use).  nthreads <= 0: all cores.  NULL and a
 * one-line reason in err on failure.  Float kernels stored in the kernels' panel layout (NAME_p16 tensors, what
 * `make setup` writes) are used in place from the mapped file (its pages are shared with the page cache and with
 * every process using the file); plain OHWI kernels are packed once and their mapped pages dropped.  One net may
 * be used by one thread at a time (it owns its thread pool and arenas); load one per concurrent user. */
nn_facenet *nn_facenet_load(const char *path, int nthreads, char *err, size_t errlen);
/* Like nn_facenet_load, with flags: NN_FACENET_F16 keeps the packed weights as binary16 (half the memory;
 * converted per tile in the kernels) when the kernel flavour supports it; NN_FACENET_DIRECT runs the 3x3
 * stride-1 convolutions directly instead of as Winograd F(4x4, 3x3) (nn/wino.h; float32 panels only), e.g. to
 * compare the two. */
#define NN_FACENET_F16 1
#define NN_FACENET_DIRECT 2
nn_facenet *nn_facenet_load_ex(const char *path, int nthreads, int flags, char *err, size_t errlen);
/* n crops of 160x160x3 uint8 RGB (interleaved, row-major) -> n x 512 L2-normalised floats. 0 on success.
 * With n >= threads, whole faces run in parallel (one per thread, fastest per face); a single face is split
 * over all threads. */
int nn_facenet_embed(nn_facenet *net, const unsigned char *rgb, int n, float *out);
/* 1 when the weight file at path holds FaceNet's float kernels ready-packed (NAME_p16, weights/FORMAT.md), so
 * a float32 or float16 FaceNet file; 0 otherwise, also when it cannot be opened. */
int nn_facenet_file_packed(const char *path);
void nn_facenet_free(nn_facenet *net);
int nn_facenet_threads(const nn_facenet *net);
/* "float32", "float16" or "int8": the arithmetic of the loaded file. */
const char *nn_facenet_precision(const nn_facenet *net);
/* Faces run through the network together in one pass (default 4; ~4 MB of arena per face per thread). */
void nn_facenet_set_batch(nn_facenet *net, int batch);
/* Of a weight file without loading it: 1 an int8 FaceNet file, 0 a float32 or float16 one, -1 (reason in
 * err) when it is not a FaceNet file, -2 when it cannot be opened or read as a weight file.  (nn/facenet_q.c) */
int nn_facenet_file_int8(const char *path, char *err, size_t errlen);
/* The int8 kernels an int8 file loaded now would run: "scalar", "avx2", "avx512vnni", "neon" (widening) or
 * "neondot" (sdot); they follow the ISA level in force (nn/cpu.h).  (nn/facenet_q.c) */
const char *nn_facenet_int8_kernels(void);

#endif
