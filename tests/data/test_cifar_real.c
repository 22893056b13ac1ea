// Real CIFAR-10 from ../shared: the binary layout made by shared/tools/cifar10-bin (cached under the build
// directory, converted once) loads with the published counts; and the folder loader decoding the same JPEGs
// with libjpeg-turbo gives exactly the images the converter wrote (same multiset of image+label).
#include "data/data_fixtures.h"

#include "simreg/data.h"
#include "sr_test.h"

static int run(const char *cmd) {
  printf("running: %s\n", cmd);
  fflush(stdout);
  return system(cmd);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

// FNV-1a over an image and its label, one hash per item, sorted.
static uint64_t *item_hashes(const sr_dataset *ds) {
  uint64_t *h = sr_alloc(sizeof(uint64_t) * (size_t)ds->n);
  size_t per = (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
  for (int64_t i = 0; i < ds->n; i++) {
    uint64_t v = 0xcbf29ce484222325ULL ^ (uint64_t)ds->labels[i];
    const uint8_t *p = ds->images + (size_t)i * per;
    for (size_t k = 0; k < per; k++) v = (v ^ p[k]) * 0x100000001b3ULL;
    h[i] = v;
  }
  qsort(h, (size_t)ds->n, sizeof(uint64_t), cmp_u64);
  return h;
}

// Paths are built from buffers of at most 1100 bytes (cache) and grow by bounded suffixes.
static void check_binary(const char *cache, sr_dataset *test) {
  char spec[1200];
  snprintf(spec, sizeof spec, "cifar10:%s/cifar10", cache);
  sr_err err = {0};
  sr_dataset train;
  CHECK_OK(sr_dataset_load(spec, "train", &train, &err), &err);
  CHECK_OK(sr_dataset_load(spec, "test", test, &err), &err);
  CHECK(train.n == 50000 && test->n == 10000 && train.c == 3 && train.h == 32 && train.w == 32 &&
            train.num_classes == 10,
        "CIFAR-10: %lld / %lld images of %dx%dx%d", (long long)train.n, (long long)test->n, train.c, train.h,
        train.w);
  int64_t counts[2][10] = {{0}};
  for (int64_t i = 0; i < train.n; i++) counts[0][train.labels[i]]++;
  for (int64_t i = 0; i < test->n; i++) counts[1][test->labels[i]]++;
  for (int k = 0; k < 10; k++)
    CHECK(counts[0][k] == 5000 && counts[1][k] == 1000, "class %d: %lld train, %lld test", k,
          (long long)counts[0][k], (long long)counts[1][k]);
  CHECK(!strcmp(train.class_names[0], "airplane") && !strcmp(train.class_names[9], "truck"), "names %s %s",
        train.class_names[0], train.class_names[9]);
  // Channel means of CIFAR-10's training set are about 0.491, 0.482, 0.447.
  static const double want[3] = {0.491, 0.482, 0.447};
  for (int ch = 0; ch < 3; ch++) {
    double s = 0;
    for (int64_t i = 0; i < train.n; i++)
      for (int k = 0; k < 1024; k++) s += train.images[(size_t)i * 3072 + (size_t)ch * 1024 + (size_t)k];
    double m = s / (double)train.n / 1024 / 255;
    CHECK(fabs(m - want[ch]) < 0.01, "channel %d mean %.4f, expected about %.3f", ch, m, want[ch]);
  }
  sr_dataset_free(&train);
}

static void check_folder(const char *cache, const char *tarball, const sr_dataset *bin) {
  char dir[1200], tmp[1200], cmd[8192];
  snprintf(dir, sizeof dir, "%s/cifar10-jpeg", cache);
  if (!fx_is_dir(dir)) {
    snprintf(tmp, sizeof tmp, "%s/cifar10-jpeg.part", cache);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && tar -xJf '%s' -C '%s' test && mv '%s' '%s'",
             tmp, tmp, tarball, tmp, tmp, dir);
    if (run(cmd) != 0) {
      CHECK(0, "extracting %s failed", tarball);
      return;
    }
  }
  char spec[1300];
  snprintf(spec, sizeof spec, "folder:%s", dir);
  sr_err err = {0};
  sr_dataset ds;
  double t0 = sr_now();
  CHECK_OK(sr_dataset_load(spec, "test", &ds, &err), &err);
  double dt = sr_now() - t0;
  printf("folder loader: %lld JPEGs decoded in %.2f s\n", (long long)ds.n, dt);
  CHECK(ds.n == 10000 && ds.c == 3 && ds.h == 32 && ds.w == 32 && ds.num_classes == 10,
        "folder: %lld x %dx%dx%d", (long long)ds.n, ds.c, ds.h, ds.w);
  int names_ok = 1;
  for (int k = 0; k < 10; k++) names_ok &= !strcmp(ds.class_names[k], bin->class_names[k]);
  CHECK(names_ok, "folder classes (sorted directory names) coincide with CIFAR-10's label order");
  if (ds.n == bin->n && ds.c == 3) {
    uint64_t *a = item_hashes(&ds), *b = item_hashes(bin);
    int64_t same = 0;
    for (int64_t i = 0, j = 0; i < ds.n && j < bin->n;) {
      if (a[i] == b[j]) {
        same++;
        i++;
        j++;
      } else if (a[i] < b[j])
        i++;
      else
        j++;
    }
    // PIL (used by the converter) and this loader both decode with libjpeg-turbo's defaults.
    CHECK(same == ds.n, "%lld of %lld folder images equal a binary-batch image with the same label",
          (long long)same, (long long)ds.n);
    sr_free(a);
    sr_free(b);
  }
  sr_dataset_free(&ds);
}

// Images/s of the loader (one producer thread) over the test set: batch 64, crop + flip, gray.
static void throughput(const sr_dataset *ds) {
  sr_loader_opts o = sr_loader_opts_default();
  int64_t *idx = sr_alloc(sizeof(int64_t) * (size_t)ds->n);
  for (int64_t i = 0; i < ds->n; i++) idx[i] = i;
  sr_err err = {0};
  sr_loader *l = NULL;
  CHECK_OK(sr_loader_create(ds, idx, ds->n, &o, &l, &err), &err);
  CHECK_OK(sr_loader_start(l, 0, 0, &err), &err);
  const float *x;
  const int32_t *y;
  int64_t nb, seen = 0;
  double t0 = sr_now();
  while (sr_loader_next(l, &x, &y, &nb)) seen += nb;
  double dt = sr_now() - t0;
  CHECK(seen == ds->n, "epoch size %lld", (long long)seen);
  printf("loader (CIFAR-10, gray, augmented): %.0f images/s\n", (double)seen / dt);
  sr_loader_destroy(l);
  sr_free(idx);
}

int main(void) {
  const char *src = getenv("SR_SRC_DIR"), *build = getenv("SR_BUILD_DIR");
  char shared[1024], tool[1100], tarball[1100], cache[1100], cmd[8192];
  snprintf(shared, sizeof shared, "%s/../shared", src ? src : ".");
  snprintf(tool, sizeof tool, "%s/tools/cifar10-bin", shared);
  snprintf(tarball, sizeof tarball, "%s/data/cifar10-jpeg.tar.xz", shared);
  if (access(tool, X_OK) != 0 || access(tarball, R_OK) != 0) {
    printf("SKIP: %s or %s is absent\n", tool, tarball);
    return SR_TEST_SKIP;
  }
  snprintf(cache, sizeof cache, "%s/data-cache", build ? build : ".");
  snprintf(cmd, sizeof cmd, "mkdir -p '%s' && '%s' '%s/cifar10'", cache, tool, cache);
  if (run(cmd) != 0) {
    printf("SKIP: %s could not convert CIFAR-10 (python3-pil missing?)\n", tool);
    return SR_TEST_SKIP;
  }
  sr_dataset test;
  check_binary(cache, &test);
  if (test.n == 10000) {
    throughput(&test);
    check_folder(cache, tarball, &test);
  }
  sr_dataset_free(&test);
  return sr_test_done();
}
