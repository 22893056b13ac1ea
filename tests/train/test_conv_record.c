// A measuring run records the convolution choices its steps ran when it writes a checkpoint, not only at an
// epoch's end: a run interrupted after its first step has its training tape's choices in config.json and
// RUN/conv_algo.json (so --resume takes them, not a new timing) and in the machine cache it was given; the
// resumed run reads them as the run's own and ends like an uninterrupted run with the same machine cache.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simreg/train.h"
#include "sr_test.h"

static char dir_[512];

static void write_idx(const char *prefix, int n, int side) {
  size_t ni = 16 + (size_t)n * side * side;
  unsigned char *img = calloc(ni, 1), lab[8 + 256] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
  unsigned char hi[16] = {
      0, 0, 8, 3, 0, 0, 0, (unsigned char)n, 0, 0, 0, (unsigned char)side, 0, 0, 0, (unsigned char)side};
  memcpy(img, hi, 16);
  for (size_t i = 16; i < ni; i++) img[i] = (unsigned char)(i * 37 % 251);
  for (int i = 0; i < n; i++) lab[8 + i] = (unsigned char)(i % 10);
  char p[1200];
  sr_err err = {0};
  snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte", dir_, prefix);
  CHECK_OK(sr_write_file_atomic(p, img, ni, &err), &err);
  snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte", dir_, prefix);
  CHECK_OK(sr_write_file_atomic(p, lab, 8 + (size_t)n, &err), &err);
  free(img);
}

static sr_train_config config(const char *out, const char *cache) {
  sr_train_config c = sr_train_config_default();
  snprintf(c.model.arch, sizeof c.model.arch, "cnn-small");
  snprintf(c.model.conv_algo, sizeof c.model.conv_algo, "measure");
  snprintf(c.data.spec, sizeof c.data.spec, "idx:%s", dir_);
  snprintf(c.run.out, sizeof c.run.out, "%s/%s", dir_, out);
  snprintf(c.run.conv_cache, sizeof c.run.conv_cache, "%s", cache);
  c.optim.epochs = 1;
  c.optim.batch = 8;
  c.run.threads = 1;
  c.data.val_fraction = 0.25;
  c.data.eval_test = 0;
  return c;
}

static int file_has(const char *path, const char *needle) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return strstr(buf, needle) != NULL;
}

static int same_file(const char *a, const char *b) {
  FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
  int same = fa && fb;
  for (int ca = 0, cb = 0; same && ca != EOF; same = ca == cb) {
    ca = fgetc(fa);
    cb = fgetc(fb);
  }
  if (fa) fclose(fa);
  if (fb) fclose(fb);
  return same;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  snprintf(dir_, sizeof dir_, "%s/conv_record_XXXXXX",
           getenv("SR_BUILD_DIR") ? getenv("SR_BUILD_DIR") : "/tmp");
  if (!mkdtemp(dir_)) return 1;
  write_idx("train", 64, 16);
  write_idx("t10k", 8, 16);
  char cache[600], path[1200], key[64];
  snprintf(cache, sizeof cache, "%s/cache.json", dir_);
  // 48 training images, batch 8: 6 steps of 8 rows; the key of the training tape's second convolution
  snprintf(key, sizeof key, "train c32 o64 k3 s1 p1,1,1,1 g1 d1 8x8 n8 t1 ");
  // interrupted after its first step (the stop flag is set from the start)
  sr_train_config c = config("cut", cache);
  volatile int stop = 1;
  c.run.stop = &stop;
  sr_err err = {0};
  sr_status st = sr_train(&c, &err);
  CHECK(st == SR_ERR_INTERRUPTED, "interrupted run: %s %s", sr_status_name(st), err.msg);
  snprintf(path, sizeof path, "%s/cut/config.json", dir_);
  CHECK(file_has(path, key), "config.json records the first step's training tape (%s)", key);
  snprintf(path, sizeof path, "%s/cut/%s", dir_, SR_CONV_CACHE_FILE);
  CHECK(file_has(path, key), "RUN/conv_algo.json records it");
  CHECK(file_has(cache, key), "the machine cache has it");
  // resumed: the run's own choices, the machine cache for the rest; the same end as an uninterrupted run
  sr_train_config r;
  memset(&err, 0, sizeof err);
  snprintf(path, sizeof path, "%s/cut", dir_);
  r = sr_train_config_default();
  CHECK_OK(sr_train_config_load(path, &r, &err), &err);
  snprintf(r.model.conv_algo, sizeof r.model.conv_algo, "measure");
  snprintf(r.run.conv_cache, sizeof r.run.conv_cache, "%s", cache);
  r.run.resume = 1;
  r.run.threads = 1;
  CHECK_OK(sr_train(&r, &err), &err);
  sr_train_config u = config("whole", cache);
  CHECK_OK(sr_train(&u, &err), &err);
  char a[1200], b[1200];
  snprintf(a, sizeof a, "%s/cut/last.safetensors", dir_);
  snprintf(b, sizeof b, "%s/whole/last.safetensors", dir_);
  CHECK(same_file(a, b), "interrupted + resumed vs uninterrupted, same machine cache: bit-identical weights");
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir_);
  if (!sr_test_fail_ && system(cmd) != 0) printf("could not remove %s\n", dir_);
  return sr_test_done();
}
