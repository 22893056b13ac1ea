// CIFAR-10/100 binary loader on synthetic batches: exact round trips, layout detection, malformed files.
#include "data/data_fixtures.h"

#include "simreg/data.h"
#include "sr_test.h"

// Write a CIFAR file of n records; label bytes: (fine) or (coarse, fine). Record i gets image id base+i.
static void write_batch(const char *path, int label_bytes, int n, int base, int classes) {
  FILE *fp = fopen(path, "wb");
  CHECK(fp != NULL, "open %s", path);
  if (!fp) return;
  for (int i = 0; i < n; i++) {
    int id = base + i;
    if (label_bytes == 2) fputc(id % 20, fp);
    fputc(id % classes, fp);
    for (int ch = 0; ch < 3; ch++)
      for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++) fputc(fx_pixel(id, ch, y, x), fp);
  }
  fclose(fp);
}

static int matches(const sr_dataset *ds, int n, int base, int classes) {
  if (ds->n != n || ds->c != 3 || ds->h != 32 || ds->w != 32 || ds->num_classes != classes) return 0;
  for (int i = 0; i < n; i++) {
    if (ds->labels[i] != (base + i) % classes) return 0;
    for (int ch = 0; ch < 3; ch++)
      for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++)
          if (ds->images[(size_t)i * 3072 + (size_t)ch * 1024 + (size_t)y * 32 + (size_t)x] !=
              fx_pixel(base + i, ch, y, x))
            return 0;
  }
  return 1;
}

static void expect_fail(const char *spec, sr_status want, const char *file, const char *also,
                        const char *what) {
  sr_err err = {0};
  sr_dataset ds;
  sr_status st = sr_dataset_load(spec, "train", &ds, &err);
  if (getenv("SR_TEST_VERBOSE")) printf("%-40s -> %s\n", what, err.msg);
  CHECK(st == want, "%s: got %s (%s), want %s", what, sr_status_name(st), err.msg, sr_status_name(want));
  CHECK(strstr(err.msg, file) != NULL, "%s: message names %s: %s", what, file, err.msg);
  if (also) CHECK(strstr(err.msg, also) != NULL, "%s: message mentions '%s': %s", what, also, err.msg);
  CHECK(ds.images == NULL && ds.n == 0, "%s: output left empty", what);
}

static void test_cifar10(void) {
  char root[64], dir[256], path[512], spec[300];
  fx_tmpdir(root, sizeof root, "cifar10");
  snprintf(dir, sizeof dir, "%s/cifar-10-batches-bin", root);
  mkdir(dir, 0755);
  for (int b = 1; b <= 5; b++) {
    char name[64];
    snprintf(name, sizeof name, "data_batch_%d.bin", b);
    write_batch(fx_path(path, sizeof path, dir, name), 1, b, (b - 1) * b / 2, 10);  // 1+2+3+4+5 records
  }
  write_batch(fx_path(path, sizeof path, dir, "test_batch.bin"), 1, 4, 100, 10);
  sr_err err = {0};
  sr_dataset ds;
  snprintf(spec, sizeof spec, "cifar10:%s", root);  // the directory that contains cifar-10-batches-bin
  CHECK_OK(sr_dataset_load(spec, "train", &ds, &err), &err);
  CHECK(matches(&ds, 15, 0, 10), "train batches 1..5 concatenated in order");
  CHECK(!strcmp(ds.name, "cifar10") && !strcmp(ds.class_names[0], "airplane") &&
            !strcmp(ds.class_names[9], "truck"),
        "default names: %s %s %s", ds.name, ds.class_names[0], ds.class_names[9]);
  sr_dataset_free(&ds);
  // batches.meta.txt overrides the names; the directory itself is accepted; auto-detection from a bare path.
  const char *meta = "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n\n";
  fx_write(fx_path(path, sizeof path, dir, "batches.meta.txt"), meta, strlen(meta));
  CHECK_OK(sr_dataset_load(dir, "test", &ds, &err), &err);
  CHECK(matches(&ds, 4, 100, 10), "test_batch round trip");
  CHECK(!strcmp(ds.class_names[0], "zero") && !strcmp(ds.class_names[9], "nine"), "meta names: %s",
        ds.class_names[9]);
  sr_dataset_free(&ds);
  fx_write(fx_path(path, sizeof path, dir, "batches.meta.txt"), "a\nb\n", 4);
  expect_fail(spec, SR_ERR_FORMAT, "batches.meta.txt", "class names", "meta file with 2 names");
  remove(path);

  char b3[512];
  fx_path(b3, sizeof b3, dir, "data_batch_3.bin");
  write_batch(b3, 1, 3, 3, 11);  // ids 3..5 -> labels 3,4,5 (fine); then make one 10
  FILE *fp = fopen(b3, "r+b");
  fseek(fp, 3073L * 2, SEEK_SET);
  fputc(10, fp);
  fclose(fp);
  expect_fail(spec, SR_ERR_FORMAT, b3, "out of range", "label 10 in CIFAR-10");
  write_batch(b3, 1, 3, 3, 10);
  fp = fopen(b3, "ab");
  fputc(0, fp);
  fclose(fp);
  expect_fail(spec, SR_ERR_FORMAT, b3, "multiple", "file length not a multiple of 3073");
  fx_write(b3, "", 0);
  expect_fail(spec, SR_ERR_FORMAT, b3, NULL, "empty batch file");
  remove(b3);
  expect_fail(spec, SR_ERR_IO, b3, NULL, "missing data_batch_3.bin");
  char gone[300];
  snprintf(gone, sizeof gone, "cifar10:%s/absent", root);
  expect_fail(gone, SR_ERR_IO, "absent", NULL, "missing directory");
  fx_rmtree(root);
}

static void test_cifar100(void) {
  char root[64], path[512], spec[300];
  fx_tmpdir(root, sizeof root, "cifar100");                                   // files directly in DIR
  write_batch(fx_path(path, sizeof path, root, "train.bin"), 2, 6, 95, 100);  // fine labels 95..99, 0
  write_batch(fx_path(path, sizeof path, root, "test.bin"), 2, 3, 7, 100);
  sr_err err = {0};
  sr_dataset ds;
  snprintf(spec, sizeof spec, "cifar100:%s", root);
  CHECK_OK(sr_dataset_load(spec, "train", &ds, &err), &err);
  CHECK(matches(&ds, 6, 95, 100), "CIFAR-100 train: fine labels, pixels after 2 label bytes");
  CHECK(!strcmp(ds.name, "cifar100") && !strcmp(ds.class_names[99], "99"), "%s %s", ds.name,
        ds.class_names[99]);
  sr_dataset_free(&ds);
  CHECK_OK(sr_dataset_load(root, "test", &ds, &err), &err);  // auto-detected
  CHECK(matches(&ds, 3, 7, 100), "CIFAR-100 test, auto-detected: %s", ds.name);
  sr_dataset_free(&ds);
  FILE *fp = fopen(path, "r+b");  // test.bin: record 1's fine label := 100, then coarse := 20
  fseek(fp, 3074L + 1, SEEK_SET);
  fputc(100, fp);
  fclose(fp);
  sr_status st = sr_dataset_load(spec, "test", &ds, &err);
  CHECK(st == SR_ERR_FORMAT && strstr(err.msg, path) && strstr(err.msg, "100 classes"), "fine 100: %s",
        err.msg);
  write_batch(path, 2, 3, 7, 100);
  fp = fopen(path, "r+b");
  fseek(fp, 3074L, SEEK_SET);
  fputc(20, fp);
  fclose(fp);
  st = sr_dataset_load(spec, "test", &ds, &err);
  CHECK(st == SR_ERR_FORMAT && strstr(err.msg, path) && strstr(err.msg, "coarse"), "coarse 20: %s", err.msg);
  write_batch(fx_path(path, sizeof path, root, "train.bin"), 1, 6, 0, 10);  // CIFAR-10 records in a 100 file
  expect_fail(spec, SR_ERR_FORMAT, path, "3074", "3073-byte records in train.bin");
  fx_rmtree(root);
}

int main(void) {
  test_cifar10();
  test_cifar100();
  return sr_test_done();
}
