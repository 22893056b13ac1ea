// Real data: Debian's Fashion-MNIST loads with the published counts and balanced classes; loader throughput.
#include "data/data_fixtures.h"

#include "simreg/data.h"
#include "sr_test.h"

static void check_split(const char *split, int64_t n, int64_t per_class, sr_dataset *ds) {
  sr_err err = {0};
  CHECK_OK(sr_dataset_load("fashion-mnist", split, ds, &err), &err);
  CHECK(ds->n == n && ds->c == 1 && ds->h == 28 && ds->w == 28 && ds->num_classes == 10,
        "%s: %lld x %dx%dx%d, %d classes", split, (long long)ds->n, ds->c, ds->h, ds->w, ds->num_classes);
  int64_t counts[10] = {0};
  for (int64_t i = 0; i < ds->n; i++) counts[ds->labels[i]]++;
  for (int k = 0; k < 10; k++)
    CHECK(counts[k] == per_class, "%s class %d: %lld images", split, k, (long long)counts[k]);
  double mean = 0;
  for (size_t i = 0; i < (size_t)ds->n * 784; i++) mean += ds->images[i];
  mean /= (double)ds->n * 784;
  // Fashion-MNIST's mean pixel is about 72.9/255 (0.286): a decoding error would not land there.
  CHECK(fabs(mean / 255 - 0.286) < 0.01, "%s mean pixel %.4f", split, mean / 255);
  CHECK(!strcmp(ds->name, "fashion-mnist") && !strcmp(ds->class_names[0], "T-shirt/top") &&
            !strcmp(ds->class_names[9], "Ankle boot"),
        "names: %s, %s, %s", ds->name, ds->class_names[0], ds->class_names[9]);
}

// Images/s of the prefetching loader over one augmented training epoch (batch 64, one producer thread),
// with a consumer that does nothing else; and of sr_make_batch alone on the calling thread.
static void throughput(const sr_dataset *ds) {
  sr_loader_opts o = sr_loader_opts_default();
  o.seed = 1;
  int64_t *idx = sr_alloc(sizeof(int64_t) * (size_t)ds->n);
  for (int64_t i = 0; i < ds->n; i++) idx[i] = i;
  sr_err err = {0};
  sr_loader *l = NULL;
  CHECK_OK(sr_loader_create(ds, idx, ds->n, &o, &l, &err), &err);
  CHECK_OK(sr_loader_start(l, 0, 0, &err), &err);
  double t0 = sr_now(), sum = 0;
  const float *x;
  const int32_t *y;
  int64_t nb, seen = 0;
  while (sr_loader_next(l, &x, &y, &nb)) {
    sum += x[0];
    seen += nb;
  }
  double dt = sr_now() - t0;
  CHECK(seen == ds->n, "one epoch delivers every image once (%lld)", (long long)seen);
  printf("loader: %lld images in %.3f s = %.0f images/s (consumer waited %.3f s); checksum %.3f\n",
         (long long)seen, dt, (double)seen / dt, sr_loader_wait_seconds(l), sum);
  sr_loader_destroy(l);
  float *xb = sr_alloc(sizeof(float) * 64 * 784);
  int32_t yb[64];
  t0 = sr_now();
  for (int64_t p = 0; p + 64 <= ds->n; p += 64)
    sr_make_batch(ds, &(sr_batch_rows){idx + p, 64, 0, p}, &o, xb, yb, &err);
  dt = sr_now() - t0;
  printf("sr_make_batch: %.0f images/s on the calling thread\n", (double)(ds->n / 64 * 64) / dt);
  sr_free(xb);
  sr_free(idx);
}

int main(void) {
  if (access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) != 0) {
    printf("SKIP: /usr/share/datasets/fashion-mnist is absent (install dataset-fashion-mnist)\n");
    return SR_TEST_SKIP;
  }
  sr_dataset train, test;
  check_split("train", 60000, 6000, &train);
  check_split("test", 10000, 1000, &test);
  if (train.n == 60000) throughput(&train);
  sr_dataset_free(&train);
  sr_dataset_free(&test);
  return sr_test_done();
}
