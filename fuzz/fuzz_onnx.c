// ONNX importer (src/onnx): any bytes either import into a model whose forward pass runs, or fail with a
// message. The input is written to a file in the scratch directory, so external-data lookups stay there.
#include "fuzz_util.h"
#include "simreg/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[1024];
  fz_reset();
  fz_write("m.onnx", data, size, path, sizeof path);
  sr_model m;
  sr_err err = {0};
  sr_status st = sr_model_from_onnx(path, NULL, &m, NULL, &err);
  fz_check_err(st, &err);
  if (st) return 0;
  // run small models once (eval, batch 2), so shapes the importer accepted are ones the engine can build
  if (m.n_params < (1 << 20) && sr_model_flops(&m) < (int64_t)1e8) {
    int64_t in = (int64_t)m.cfg.in_c * m.cfg.in_h * m.cfg.in_w;
    float *x = calloc((size_t)(2 * in), sizeof(float)),
          *y = calloc((size_t)(2 * sr_model_out_size(&m)), sizeof(float));
    if (!x || !y) abort();
    st = sr_model_forward(&m, x, 2, 0, y, &err);
    fz_check_err(st, &err);
    free(x);
    free(y);
  }
  sr_model_free(&m);
  return 0;
}
