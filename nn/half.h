/* nn/half.h — IEEE-754 binary16 <-> float32 conversion (portable scalar; SIMD paths live in kernels). */
#ifndef NN_HALF_H
#define NN_HALF_H
#include <stdint.h>
#include <stddef.h>
uint16_t nn_f32_to_f16(float f); /* round to nearest even, handles inf/nan/subnormals */
float nn_f16_to_f32(uint16_t h);
void nn_f16_to_f32_array(const uint16_t *src, float *dst, size_t n);
#endif
