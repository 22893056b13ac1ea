// IDX loader (MNIST family), through sr_dataset_load("idx:DIR"). Input: 16-bit length L, L bytes of the
// labels file, then the images file. Either file may be gzip data (the loader sniffs it).
#include "fuzz_util.h"
#include "simreg/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *lab, *img;
  size_t nl, ni;
  fz_split(data, size, &lab, &nl, &img, &ni);
  fz_reset();
  char path[1024], spec[1100];
  fz_write("train-labels-idx1-ubyte", lab, nl, path, sizeof path);
  fz_write("train-images-idx3-ubyte", img, ni, path, sizeof path);
  snprintf(spec, sizeof spec, "idx:%s", fz_dir());
  sr_dataset ds;
  sr_err err = {0};
  sr_status st = sr_dataset_load(spec, "train", &ds, &err);
  fz_check_err(st, &err);
  if (!st) {
    for (int64_t i = 0; i < ds.n; i++)
      if (ds.labels[i] < 0 || ds.labels[i] >= ds.num_classes) abort();
    size_t bytes = (size_t)ds.n * (size_t)ds.c * (size_t)ds.h * (size_t)ds.w;
    volatile uint8_t last = bytes ? ds.images[bytes - 1] : 0;  // the whole image block is readable
    (void)last;
  }
  sr_dataset_free(&ds);
  return 0;
}
