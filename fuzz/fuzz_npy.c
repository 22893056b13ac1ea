// .npy reader: any bytes either load as a consistent array or fail with a message.
#include "fuzz_util.h"
#include "simreg/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[1024];
  fz_write("a.npy", data, size, path, sizeof path);
  sr_npy a;
  sr_err err = {0};
  sr_status st = sr_npy_read(path, &a, &err);
  fz_check_err(st, &err);
  if (st) return 0;
  int64_t count = 1;
  for (int i = 0; i < a.ndim; i++) count *= a.shape[i];
  // The data must have come from the file: header + count * dtype size cannot exceed the input.
  if (count != a.count || (size_t)count * sr_dtype_size(a.dtype) > size) abort();
  double *f;
  if (sr_npy_as_f64(&a, &f, &err) == SR_OK) sr_free(f);
  sr_npy_free(&a);
  return 0;
}
