/* nn/qwino_avx2.c — nn/qwino_impl.h compiled with AVX2 (the build gives *_avx2.c files those flags): the integer
 * Winograd transforms 16 int16 / 8 int32 per instruction; nn_qwino_tiles picks it with the AVX2 and VNNI kernels. */
#include "nn/qwino.h"
#if defined(__x86_64__)
#define QWINO_TILES nn_qwino_tiles_avx2
#include "nn/qwino_impl.h"
#else
typedef int nn_qwino_avx2_empty; /* x86-64 only */
#endif
