/* nn/qgemm_avx512vnni.c — int8 kernels (avx512vnni): not written yet. */
#include "nn/qgemm.h"
const nn_qkernels *nn_qkernels_avx512vnni(void) { return 0; }
