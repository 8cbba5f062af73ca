/* nn/qgemm_neondot.c — int8 kernels (neondot): not written yet. */
#include "nn/qgemm.h"
const nn_qkernels *nn_qkernels_neondot(void) { return 0; }
