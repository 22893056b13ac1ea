// safetensors reader: every tensor it accepts lies inside the file, ranges do not overlap, and reading all
// of its bytes is safe.
#include "fuzz_util.h"
#include "simreg/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[1024];
  fz_write("a.safetensors", data, size, path, sizeof path);
  sr_st_file f;
  sr_err err = {0};
  sr_status st = sr_st_read(path, &f, &err);
  fz_check_err(st, &err);
  if (st) return 0;
  unsigned sum = 0;
  for (int i = 0; i < f.n; i++) {
    const sr_st_tensor *t = &f.tensors[i];
    size_t bytes = (size_t)t->count * sr_dtype_size(t->dtype);
    const unsigned char *p = t->data;
    for (size_t k = 0; k < bytes; k++) sum += p[k];  // ASan flags any byte outside the buffer
    if (sr_st_find(&f, t->name) == NULL) abort();
    for (int j = 0; j < i; j++) {
      const sr_st_tensor *u = &f.tensors[j];
      size_t ub = (size_t)u->count * sr_dtype_size(u->dtype);
      const char *a0 = t->data, *b0 = u->data;
      if (bytes && ub && a0 < b0 + ub && b0 < a0 + bytes) abort();  // overlapping tensors
    }
  }
  (void)sr_st_meta(&f, "format");
  sr_st_free(&f);
  return (int)(sum & 0);
}
