// The one bf16 rounding rule, shared by the bulk passes (precision.c) and the kernels that round
// operands as they load them (winograd.c).
#ifndef SR_LAYERS_BF16_H
#define SR_LAYERS_BF16_H

#include <stdint.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

// Round to nearest, ties to even, on the bit pattern (what oneDNN's f32 -> bf16 conversion does); NaN stays
// a (quiet) NaN, overflow goes to infinity. Branch-free so that loops over it vectorise.
static inline float sr_bf16_round1(float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  uint32_t nan = (u & 0x7fffffffu) > 0x7f800000u;
  uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  u = nan ? ((u | 0x00400000u) & 0xffff0000u) : r;
  memcpy(&v, &u, 4);
  return v;
}

// Round a oneDNN memory in place, whatever its layout (padding zeros stay zero). precision.c.
void sr_bf16_round_mem(dnnl_memory_t mem);

#endif
