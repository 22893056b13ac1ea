// CIFAR-10-C directory: written HWC with labels repeated per severity, loaded back CHW and equal to the
// batch output; frequency.csv round trip; malformed directories give clear errors.
#include <unistd.h>

#include "simreg/corrupt.h"
#include "simreg/npy.h"
#include "sr_test.h"
#include "synth.h"

static char dir[64];

static void make_ds(sr_dataset *ds, int n, int c, int h, int w) {
  memset(ds, 0, sizeof *ds);
  ds->n = n;
  ds->c = c;
  ds->h = h;
  ds->w = w;
  ds->num_classes = 10;
  size_t per = (size_t)c * h * w;
  ds->images = sr_alloc(n * per);
  ds->labels = sr_alloc(n * sizeof(int32_t));
  for (int i = 0; i < n; i++) {
    synth_texture(ds->images + i * per, c, h, w, 300 + i);
    ds->labels[i] = (7 * i) % 10;
  }
}

static void test_roundtrip(void) {
  sr_dataset ds;
  make_ds(&ds, 9, 3, 16, 20);
  sr_corruption kinds[2] = {SR_FOG, SR_JPEG_COMPRESSION};
  sr_err err = {0};
  sr_corrupt_freq f;
  // limit 7 of the 9 images, frequency table on 5 of them.
  CHECK_OK(sr_corrupt_write_dir(&ds, dir, &(sr_corrupt_dir_opts){kinds, 2, 7, 11, 5, NULL, NULL}, &f, &err),
           &err);
  size_t per = 3 * 16 * 20;
  uint8_t *want = malloc(7 * per);
  char path[256];
  snprintf(path, sizeof path, "%s/fog.npy", dir);
  sr_npy raw;
  CHECK_OK(sr_npy_read(path, &raw, &err), &err);
  CHECK(raw.dtype == SR_U8 && raw.ndim == 4 && raw.shape[0] == 35 && raw.shape[1] == 16 &&
            raw.shape[2] == 20 && raw.shape[3] == 3,
        "fog.npy shape");
  for (int s = 1; s <= 5; s++) {
    CHECK_OK(sr_corrupt_batch(&(sr_u8_images){ds.images, 7, 3, 16, 20}, &(sr_corrupt_spec){SR_FOG, s, 11, 0},
                              want, &err),
             &err);
    // HWC on disk: element (s-1)*7 + i, y, x, ch.
    int ok = 1;
    const uint8_t *d = raw.data;
    for (int i = 0; i < 7; i++)
      for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < 16; y++)
          for (int x = 0; x < 20; x++)
            ok &= d[((((size_t)(s - 1) * 7 + i) * 16 + y) * 20 + x) * 3 + ch] ==
                  want[i * per + (ch * 16 + y) * 20 + x];
    CHECK(ok, "fog.npy severity %d is not the batch output in HWC order", s);
    sr_dataset got;
    CHECK_OK(sr_corrupt_load(dir, "fog", s, 0, &got, &err), &err);
    CHECK(got.n == 7 && got.c == 3 && got.h == 16 && got.w == 20, "loaded shape");
    CHECK(got.images && !memcmp(got.images, want, 7 * per), "loaded severity %d differs", s);
    int lab = 1;
    for (int i = 0; i < 7 && got.labels; i++) lab &= got.labels[i] == ds.labels[i];
    CHECK(lab && got.num_classes == 9, "labels / num_classes %d", got.num_classes);  // max label 8 -> 9
    sr_dataset_free(&got);
  }
  sr_npy_free(&raw);
  sr_dataset all;
  CHECK_OK(sr_corrupt_load(dir, "jpeg_compression", 0, 10, &all, &err), &err);
  CHECK(all.n == 35 && all.num_classes == 10 && all.labels[7 + 3] == ds.labels[3],
        "severity 0 loads all five");
  sr_dataset_free(&all);
  snprintf(path, sizeof path, "%s/labels.npy", dir);
  CHECK_OK(sr_npy_read(path, &raw, &err), &err);
  CHECK(
      raw.dtype == SR_U8 && raw.ndim == 1 && raw.shape[0] == 35 && ((uint8_t *)raw.data)[30] == ds.labels[2],
      "labels.npy: uint8, 5*N, repeated");
  sr_npy_free(&raw);
  // frequency.csv round trip
  sr_corrupt_freq back;
  CHECK_OK(sr_corrupt_read_freq(dir, &back, &err), &err);
  CHECK(back.n_kinds == 2 && back.images == 5 && back.kinds[1] == SR_JPEG_COMPRESSION, "csv rows");
  for (int k = 0; k < 2; k++) {
    for (int s = 0; s < 5; s++) CHECK(fabs(back.share[k][s] - f.share[k][s]) < 1e-6, "csv share");
    CHECK(back.group[k] == f.group[k], "csv group");
  }
  CHECK(f.mean[0] < f.mean[1] && f.group[0] == SR_FREQ_LOW && f.group[1] == SR_FREQ_HIGH,
        "fog (%.3f) below jpeg (%.3f)", f.mean[0], f.mean[1]);
  // No leftover temp files: every write was atomic.
  snprintf(path, sizeof path, "ls %s | grep -c tmp > /dev/null", dir);
  CHECK(system(path) != 0, "temp files left in %s", dir);
  sr_dataset_free(&ds);
  free(want);
}

static void test_errors(void) {
  sr_err err = {0};
  sr_dataset got;
  CHECK(sr_corrupt_load(dir, "fog", 6, 0, &got, &err) == SR_ERR_ARG, "severity 6");
  CHECK(sr_corrupt_load(dir, "spatter", 1, 0, &got, &err) == SR_ERR_ARG && strstr(err.msg, "spatter"),
        "unknown: %s", err.msg);
  CHECK(sr_corrupt_load(dir, "snow", 1, 0, &got, &err) == SR_ERR_IO && strstr(err.msg, "snow.npy"),
        "missing: %s", err.msg);
  CHECK(sr_corrupt_load(dir, "fog", 1, 5, &got, &err) == SR_ERR_FORMAT, "label above hint: %s", err.msg);
  char path[256];
  // Images of the wrong dtype.
  snprintf(path, sizeof path, "%s/snow.npy", dir);
  float fl[5 * 8 * 8 * 3] = {0};
  int64_t shape[4] = {5, 8, 8, 3};
  CHECK_OK(sr_npy_write(path, SR_F32, 4, shape, fl, &err), &err);
  CHECK(sr_corrupt_load(dir, "snow", 1, 0, &got, &err) == SR_ERR_SHAPE && strstr(err.msg, "uint8"),
        "dtype: %s", err.msg);
  // Image count not a multiple of 5.
  uint8_t u8[7 * 8 * 8 * 3] = {0};
  shape[0] = 7;
  CHECK_OK(sr_npy_write(path, SR_U8, 4, shape, u8, &err), &err);
  CHECK(sr_corrupt_load(dir, "snow", 1, 0, &got, &err) == SR_ERR_SHAPE, "7 images: %s", err.msg);
  // Label count different from the image count.
  shape[0] = 5;
  CHECK_OK(sr_npy_write(path, SR_U8, 4, shape, u8, &err), &err);
  CHECK(sr_corrupt_load(dir, "snow", 1, 0, &got, &err) == SR_ERR_SHAPE && strstr(err.msg, "labels.npy"),
        "labels: %s", err.msg);
  CHECK(got.images == NULL && got.labels == NULL, "nothing left allocated on failure");
  // Malformed frequency.csv.
  snprintf(path, sizeof path, "%s/frequency.csv", dir);
  const char *bad =
      "corruption,images,share_s1,share_s2,share_s3,share_s4,share_s5,mean,group\nfog,5,0.1,0.1,x,0.1,0.1,0."
      "1,low\n";
  CHECK_OK(sr_write_file_atomic(path, bad, strlen(bad), &err), &err);
  sr_corrupt_freq f;
  CHECK(sr_corrupt_read_freq(dir, &f, &err) == SR_ERR_FORMAT && strstr(err.msg, ":2"), "csv: %s", err.msg);
  // Labels that do not fit uint8 are refused before anything is written.
  sr_dataset ds;
  make_ds(&ds, 3, 1, 8, 8);
  ds.labels[1] = 300;
  sr_corruption k = SR_FOG;
  char sub[128];
  snprintf(sub, sizeof sub, "%s/sub", dir);
  CHECK(sr_corrupt_write_dir(&ds, sub, &(sr_corrupt_dir_opts){&k, 1, 0, 0, 0, NULL, NULL}, NULL, &err) ==
                SR_ERR_ARG &&
            strstr(err.msg, "300"),
        "label 300: %s", err.msg);
  CHECK(access(sub, F_OK) != 0, "nothing written for a refused dataset");
  sr_dataset_free(&ds);
}

// A real dataset through the loader: Fashion-MNIST (28x28 gray), if installed.
static void test_fashion_mnist(void) {
  if (access("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", R_OK) != 0) {
    sr_test_skip("Fashion-MNIST not installed (/usr/share/datasets/fashion-mnist): its corrupted directory");
    return;
  }
  sr_dataset ds;
  sr_err err = {0};
  CHECK_OK(sr_dataset_load("fashion-mnist", "test", &ds, &err), &err);
  if (ds.n == 0) return;
  char sub[128];
  snprintf(sub, sizeof sub, "%s/fm", dir);
  sr_corruption all[SR_NUM_CORRUPTIONS];
  int n;
  CHECK_OK(sr_corruption_parse_list("all", all, &n, &err), &err);
  CHECK_OK(sr_corrupt_write_dir(&ds, sub, &(sr_corrupt_dir_opts){all, n, 40, 3, 40, NULL, NULL}, NULL, &err),
           &err);
  for (int k = 0; k < n; k++) {
    sr_dataset got;
    CHECK_OK(sr_corrupt_load(sub, sr_corruption_name(all[k]), 5, 10, &got, &err), &err);
    CHECK(got.n == 40 && got.c == 1 && got.h == 28 && got.w == 28, "%s shape", sr_corruption_name(all[k]));
    int same = got.labels != NULL;
    for (int i = 0; i < 40 && same; i++) same = got.labels[i] == ds.labels[i];
    CHECK(same, "%s labels", sr_corruption_name(all[k]));
    sr_dataset_free(&got);
  }
  sr_dataset_free(&ds);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/sr_cdir_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  test_roundtrip();
  test_errors();
  test_fashion_mnist();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) printf("could not remove %s\n", dir);
  return sr_test_done();
}
