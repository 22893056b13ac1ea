// Shared body of the PNG and JPEG targets: the image-folder loader's decode path on one class folder
// holding the input under `name`. Accepted images must be one image of the size and channels a
// decoder can produce.
#ifndef SR_FUZZ_IMAGE_H
#define SR_FUZZ_IMAGE_H

#include "fuzz_util.h"
#include "simreg/data.h"

static inline int fz_folder_image(const uint8_t *data, size_t size, const char *name) {
  fz_reset();
  char path[1024], spec[1100];
  fz_write(name, data, size, path, sizeof path);
  snprintf(spec, sizeof spec, "folder:%s", fz_dir());
  sr_dataset ds;
  sr_err err = {0};
  sr_status st = sr_dataset_load(spec, "train", &ds, &err);
  fz_check_err(st, &err);
  if (!st) {
    if (ds.n != 1 || ds.num_classes != 1 || (ds.c != 1 && ds.c != 3) || ds.h < 1 || ds.w < 1) abort();
    unsigned sum = 0;  // touch every pixel: ASan catches a buffer shorter than c*h*w
    for (size_t i = 0; i < (size_t)ds.c * (size_t)ds.h * (size_t)ds.w; i++) sum += ds.images[i];
    (void)sum;
  }
  sr_dataset_free(&ds);
  return 0;
}

#endif
