// Image-folder loader's decode path for PNG files: sr_dataset_load("folder:DIR") on one class folder
// holding the input as x.png. Accepted images have the size their header declared and pixels in range.
#include "fuzz_util.h"
#include "simreg/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_reset();
  char path[1024], spec[1100];
  fz_write("cls/x.png", data, size, path, sizeof path);
  snprintf(spec, sizeof spec, "folder:%s", fz_dir());
  sr_dataset ds;
  sr_err err = {0};
  sr_status st = sr_dataset_load(spec, "train", &ds, &err);
  fz_check_err(st, &err);
  if (!st) {
    if (ds.n != 1 || ds.num_classes != 1 || (ds.c != 1 && ds.c != 3) || ds.h < 1 || ds.w < 1) abort();
    unsigned sum = 0;
    for (size_t i = 0; i < (size_t)ds.c * (size_t)ds.h * (size_t)ds.w; i++) sum += ds.images[i];
    (void)sum;
  }
  sr_dataset_free(&ds);
  return 0;
}
