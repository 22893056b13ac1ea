// CIFAR binary loader, through sr_dataset_load("cifar10:DIR" / "cifar100:DIR", "test"). Input: one flag
// byte (bit 0: CIFAR-100), 16-bit length L, L bytes of the class-name file, then the batch file.
#include "fuzz_util.h"
#include "simreg/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int c100 = data[0] & 1;
  const uint8_t *meta, *batch;
  size_t nm, nb;
  fz_split(data + 1, size - 1, &meta, &nm, &batch, &nb);
  fz_reset();
  char path[1024], spec[1100];
  fz_write(c100 ? "fine_label_names.txt" : "batches.meta.txt", meta, nm, path, sizeof path);
  fz_write(c100 ? "test.bin" : "test_batch.bin", batch, nb, path, sizeof path);
  snprintf(spec, sizeof spec, "%s:%s", c100 ? "cifar100" : "cifar10", fz_dir());
  sr_dataset ds;
  sr_err err = {0};
  sr_status st = sr_dataset_load(spec, "test", &ds, &err);
  fz_check_err(st, &err);
  if (!st) {
    for (int64_t i = 0; i < ds.n; i++)
      if (ds.labels[i] < 0 || ds.labels[i] >= ds.num_classes) abort();
    for (int k = 0; k < ds.num_classes; k++)
      if (!memchr(ds.class_names[k], 0, sizeof ds.class_names[k])) abort();  // names are terminated
  }
  sr_dataset_free(&ds);
  return 0;
}
