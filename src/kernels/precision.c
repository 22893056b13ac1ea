// --precision f32 | bf16. bf16 is mixed precision as oneDNN's bf16 primitives define it: activations,
// activation gradients and conv/linear weights are bf16 numbers at every layer boundary, products are
// accumulated in f32, master weights, weight gradients, BatchNorm parameters, the loss and the regularizer
// stay f32. oneDNN 2.6 creates bf16 convolutions only from AVX-512 on, so the engine rounds: the same f32
// kernels run on bf16-rounded inputs and weights, and each output and gradient is rounded to bf16. A product
// of two bf16 numbers is exact in f32, so this computes what bf16 kernels with f32 accumulation compute, up
// to the order of the sums; it changes the numbers, not the speed (docs/PERFORMANCE.md).
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "bf16.h"
#include "simreg/model.h"

const char *sr_cpu_isa_name(void) {
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41:
      return "sse41";
    case dnnl_cpu_isa_avx:
      return "avx";
    case dnnl_cpu_isa_avx2:
      return "avx2";
    case dnnl_cpu_isa_avx2_vnni:
      return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic:
      return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops:
      return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core:
      return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "generic";
  }
}

sr_status sr_precision_parse(const char *s, sr_precision *p, sr_err *err) {
  if (!s || !strcmp(s, "f32"))
    *p = SR_PRECISION_F32;
  else if (!strcmp(s, "bf16"))
    *p = SR_PRECISION_BF16;
  else
    return sr_fail(err, SR_ERR_ARG, "--precision must be f32 or bf16, not '%s'", s);
  return SR_OK;
}

const char *sr_precision_name(sr_precision p) { return p == SR_PRECISION_BF16 ? "bf16" : "f32"; }

void sr_bf16_round_copy(float *dst, const float *src, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; i++) dst[i] = sr_bf16_round1(src[i]);
}

void sr_bf16_round(float *x, int64_t n) { sr_bf16_round_copy(x, x, n); }

void sr_bf16_round_mem(dnnl_memory_t mem) {
  void *p = NULL;
  const dnnl_memory_desc_t *md = NULL;
  if (dnnl_memory_get_data_handle(mem, &p) != dnnl_success ||
      dnnl_memory_get_memory_desc(mem, &md) != dnnl_success)
    return;  // only for memories the engine created itself: neither call can fail on those
  sr_bf16_round(p, (int64_t)(dnnl_memory_desc_get_size(md) / sizeof(float)));
}
