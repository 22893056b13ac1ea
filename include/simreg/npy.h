// NumPy .npy files (format versions 1-3, little-endian, C order): what NumPy/PyTorch users exchange.
#ifndef SIMREG_NPY_H
#define SIMREG_NPY_H

#include "simreg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sr_dtype { SR_U8, SR_I32, SR_I64, SR_F32, SR_F64 } sr_dtype;

#define SR_NPY_MAX_DIMS 8

typedef struct sr_npy {
  sr_dtype dtype;
  int ndim;
  int64_t shape[SR_NPY_MAX_DIMS];
  int64_t count;  // product of shape
  void *data;     // count * sr_dtype_size(dtype) bytes, owned (sr_npy_free)
} sr_npy;

size_t sr_dtype_size(sr_dtype dt);
const char *sr_dtype_name(sr_dtype dt);  // "float32", ...

// Read a whole .npy. The header is validated (magic, version, dtype, order, shape, overflow) and the
// declared size checked against the file size before anything is allocated.
sr_status sr_npy_read(const char *path, sr_npy *out, sr_err *err);
// Write atomically (temp file, fsync, rename).
sr_status sr_npy_write(const char *path, sr_dtype dt, int ndim, const int64_t *shape, const void *data,
                       sr_err *err);
void sr_npy_free(sr_npy *a);
// Copy/convert any numeric npy to a fresh float32 (or float64) buffer; caller sr_free's it.
sr_status sr_npy_as_f32(const sr_npy *a, float **out, sr_err *err);
sr_status sr_npy_as_f64(const sr_npy *a, double **out, sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
