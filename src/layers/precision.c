// --precision f32 | bf16. bf16 is mixed precision as oneDNN's bf16 primitives define it: activations,
// activation gradients and conv/linear weights are bf16 numbers at every layer boundary, products are
// accumulated in f32, master weights, weight gradients, BatchNorm parameters, the loss and the regularizer
// stay f32. oneDNN 2.6 creates bf16 convolutions only from AVX-512 on, so the engine rounds: the same f32
// kernels run on bf16-rounded inputs and weights, and each output and gradient is rounded to bf16. A product
// of two bf16 numbers is exact in f32, so this computes what bf16 kernels with f32 accumulation compute, up
// to the order of the sums; it changes the numbers, not the speed (docs/PERFORMANCE.md).
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "engine.h"

const char *sr_cpu_isa_name(void) {
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "generic";
  }
}

sr_status sr_precision_parse(const char *s, sr_precision *p, sr_err *err) {
  if (!s || !strcmp(s, "f32")) *p = SR_PRECISION_F32;
  else if (!strcmp(s, "bf16")) *p = SR_PRECISION_BF16;
  else return sr_fail(err, SR_ERR_ARG, "--precision must be f32 or bf16, not '%s'", s);
  return SR_OK;
}

const char *sr_precision_name(sr_precision p) { return p == SR_PRECISION_BF16 ? "bf16" : "f32"; }

// Round to nearest, ties to even, on the bit pattern (what oneDNN's f32 -> bf16 conversion does); NaN stays
// a (quiet) NaN, overflow goes to infinity. Branch-free so the loop vectorises.
void sr_bf16_round_copy(float *dst, const float *src, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &src[i], 4);
    uint32_t nan = (u & 0x7fffffffu) > 0x7f800000u;
    uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    u = nan ? ((u | 0x00400000u) & 0xffff0000u) : r;
    memcpy(&dst[i], &u, 4);
  }
}

void sr_bf16_round(float *x, int64_t n) { sr_bf16_round_copy(x, x, n); }

void sr_model_lp_refresh(sr_model *m) {
  if (!m->params_lp || m->params_lp_version == m->params_version) return;
  memcpy(m->params_lp, m->params, sizeof(float) * (size_t)m->n_params);
  for (int i = 1; i < m->n_nodes; i++)  // biases stay f32, as oneDNN's bf16 primitives allow
    if (sr_node_weight_count(&m->nodes[i]))
      sr_bf16_round(m->params_lp + m->nodes[i].p_w, sr_node_weight_count(&m->nodes[i]));
  m->params_lp_version = m->params_version;
}

sr_status sr_model_set_precision(sr_model *m, sr_precision p, sr_err *err) {
  if (!m->finalized) return sr_fail(err, SR_ERR_ARG, "model is not finalized");
  if (p != SR_PRECISION_F32 && p != SR_PRECISION_BF16) return sr_fail(err, SR_ERR_ARG, "unknown precision %d", (int)p);
  if (p == m->precision) return SR_OK;
  // tapes and plans bind weight pointers and input copies for one precision when they are built
  sr_model_free_tapes(m);
  sr_model_free_infers(m);
  sr_model_free_wino_cache(m);
  sr_free(m->params_lp);
  m->params_lp = NULL;
  m->precision = SR_PRECISION_F32;
  if (p == SR_PRECISION_BF16) {
    if (!(m->params_lp = sr_alloc(sizeof(float) * (size_t)(m->n_params + 1))))
      return sr_fail(err, SR_ERR_NOMEM, "cannot allocate the bf16 weight copy (%lld floats)", (long long)m->n_params);
    m->params_lp_version = m->params_version - 1;
    sr_model_lp_refresh(m);
  }
  m->precision = p;
  return SR_OK;
}
