// safetensors files (8-byte header length, JSON header, raw little-endian data): the weights format
// NumPy/PyTorch users can read without simreg. Also the container of the test fixtures.
#ifndef SIMREG_SAFETENSORS_H
#define SIMREG_SAFETENSORS_H

#include "simreg/core.h"
#include "simreg/npy.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_st_tensor {
  char name[128];
  sr_dtype dtype;
  int ndim;
  int64_t shape[SR_NPY_MAX_DIMS];
  int64_t count;
  const void *data;  // points into buf (64-byte aligned)
} sr_st_tensor;

typedef struct sr_st_file {
  void *buf;    // the tensors' bytes, each tensor in its own 64-byte aligned slot
  size_t size;  // its length
  sr_st_tensor *tensors;
  int n;
  char **meta;  // key, value, key, value, ..., NULL
} sr_st_file;

// Read and validate (header bounds, dtypes, shapes, offsets inside the file, sizes consistent, tensor byte
// ranges tiling the data section without overlap or hole) before the data is allocated and read.
sr_status sr_st_read(const char *path, sr_st_file *f, sr_err *err);
const sr_st_tensor *sr_st_find(const sr_st_file *f, const char *name);
const char *sr_st_meta(const sr_st_file *f, const char *key);  // NULL if absent
void sr_st_free(sr_st_file *f);

typedef struct sr_st_entry {
  const char *name;
  sr_dtype dtype;
  int ndim;
  const int64_t *shape;
  const void *data;
} sr_st_entry;

// Write atomically. meta: key, value, ..., NULL (may be NULL).
sr_status sr_st_write(const char *path, const sr_st_entry *e, int n, const char *const *meta, sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
