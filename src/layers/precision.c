// --precision: which number format the engine computes in. Only f32 has an engine. bf16 is checked against
// oneDNN's effective ISA so the user learns why it is refused on this CPU (oneDNN 2.6 has bf16 convolutions
// only from AVX-512 on; an AVX2 machine cannot run or test a bf16 path). See docs/PERFORMANCE.md.
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "simreg/model.h"

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

sr_status sr_precision_check(const char *precision, sr_err *err) {
  if (!precision || !strcmp(precision, "f32")) return SR_OK;
  if (strcmp(precision, "bf16"))
    return sr_fail(err, SR_ERR_ARG, "--precision must be f32 or bf16, not '%s'", precision);
  dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  int avx512 = isa == dnnl_cpu_isa_avx512_core || isa == dnnl_cpu_isa_avx512_core_vnni ||
               isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx;
  if (!avx512)
    return sr_fail(err, SR_ERR_ARG, "--precision bf16 needs AVX-512 (bf16 instructions); this CPU's oneDNN ISA is %s",
                   sr_cpu_isa_name());
  return sr_fail(err, SR_ERR_ARG, "--precision bf16: this CPU's oneDNN ISA (%s) could run bf16, but simreg's engine "
                 "computes in f32 only; use --precision f32", sr_cpu_isa_name());
}
