/* nn/wino_avx2.c — nn/wino_impl.h compiled with AVX2+FMA (the build gives *_avx2.c files those flags): the
 * Winograd transforms 8 channels per instruction; nn_wino_tiles picks it at the avx2 and avx512 levels. */
#include "nn/wino.h"
#if defined(__x86_64__)
#define WINO_TILES nn_wino_tiles_avx2
#include "nn/wino_impl.h"
#else
typedef int nn_wino_avx2_empty; /* x86-64 only */
#endif
