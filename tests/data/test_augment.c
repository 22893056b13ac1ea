// Preprocessing and augmentation: identity cases, exact mirror, reflect padding against a hand-computed
// example (checked against numpy.pad(mode="reflect")), gray + normalization values, and determinism.
#include "data/data_fixtures.h"

#include "simreg/data.h"
#include "sr_test.h"

// A dataset of n random images (c, h, w); labels i % 10.
static void make_ds(sr_dataset *ds, int64_t n, int c, int h, int w, uint64_t seed) {
  memset(ds, 0, sizeof *ds);
  ds->n = n;
  ds->c = c;
  ds->h = h;
  ds->w = w;
  ds->num_classes = 10;
  size_t bytes = (size_t)n * (size_t)(c * h * w);
  ds->images = sr_alloc(bytes);
  ds->labels = sr_alloc(sizeof(int32_t) * (size_t)n);
  sr_rng r;
  sr_rng_seed(&r, seed, 0);
  for (size_t i = 0; i < bytes; i++) ds->images[i] = (uint8_t)sr_rng_u64(&r);
  for (int64_t i = 0; i < n; i++) ds->labels[i] = (int32_t)(i % 10);
}

static float norm(unsigned v, float mean, float scale) { return ((float)v / 255.0f - mean) * scale; }

static void test_reflect_example(void) {
  uint8_t src[16], out[16];
  for (int i = 0; i < 16; i++) src[i] = (uint8_t)i;  // 4x4, value 4y + x
  // numpy.pad(arange(16).reshape(4,4), 2, mode="reflect") windows:
  static const uint8_t top_left[16] = {10, 9, 8, 9, 6, 5, 4, 5, 2, 1, 0, 1, 6, 5, 4, 5};
  static const uint8_t bottom_right[16] = {10, 11, 10, 9, 14, 15, 14, 13, 10, 11, 10, 9, 6, 7, 6, 5};
  static const uint8_t off13_flipped[16] = {6, 7, 6, 5, 2, 3, 2, 1, 6, 7, 6, 5, 10, 11, 10, 9};
  sr_augment_image(src, 1, 4, 4, &(sr_crop_flip){2, 0, 0, 0}, out);
  CHECK(!memcmp(out, top_left, 16), "pad 2, offset (0,0)");
  sr_augment_image(src, 1, 4, 4, &(sr_crop_flip){2, 4, 4, 0}, out);
  CHECK(!memcmp(out, bottom_right, 16), "pad 2, offset (4,4)");
  sr_augment_image(src, 1, 4, 4, &(sr_crop_flip){2, 1, 3, 1}, out);
  CHECK(!memcmp(out, off13_flipped, 16), "pad 2, offset (1,3), flipped");
  sr_augment_image(src, 1, 4, 4, &(sr_crop_flip){2, 2, 2, 0}, out);
  CHECK(!memcmp(out, src, 16), "centre offset is the identity");
}

static void test_identity_and_flip(void) {
  sr_dataset ds;
  make_ds(&ds, 300, 3, 6, 7, 1);
  size_t per = 3 * 6 * 7;
  int64_t idx[300];
  for (int i = 0; i < 300; i++) idx[i] = 299 - i;
  float *x = sr_alloc(sizeof(float) * 300 * per);
  int32_t y[300];
  sr_err err = {0};
  sr_loader_opts o = sr_loader_opts_default();
  o.gray = 0;
  o.crop_pad = 0;
  o.flip = 0;
  CHECK_OK(sr_make_batch(&ds, &(sr_batch_rows){idx, 300, 0, 0}, &o, x, y, &err), &err);
  int same = 1;
  for (int i = 0; i < 300; i++) {
    same &= y[i] == ds.labels[idx[i]];
    for (size_t k = 0; k < per; k++)
      same &= x[i * per + k] == norm(ds.images[(size_t)idx[i] * per + k], 0.5f, 5.0f);
  }
  CHECK(same, "crop padding 0 and no flip: exactly (v/255 - 0.5) * 5 of the source, labels follow idx");
  o.crop_pad = 4;
  o.flip = 1;
  o.augment = 0;
  float *x2 = sr_alloc(sizeof(float) * 300 * per);
  CHECK_OK(sr_make_batch(&ds, &(sr_batch_rows){idx, 300, 7, 0}, &o, x2, y, &err), &err);
  CHECK(!memcmp(x, x2, sizeof(float) * 300 * per), "augment = 0 disables crop and flip");
  o.augment = 1;
  o.crop_pad = 0;
  CHECK_OK(sr_make_batch(&ds, &(sr_batch_rows){idx, 300, 0, 0}, &o, x2, y, &err), &err);
  int flipped = 0, exact = 1;
  for (int i = 0; i < 300; i++) {
    int is_id = !memcmp(x + i * per, x2 + i * per, sizeof(float) * per), is_mirror = 1;
    for (int ch = 0; ch < 3; ch++)
      for (int r = 0; r < 6; r++)
        for (int c = 0; c < 7; c++)
          is_mirror &=
              x2[i * per + (size_t)(ch * 42 + r * 7 + c)] == x[i * per + (size_t)(ch * 42 + r * 7 + 6 - c)];
    exact &= is_id || is_mirror;
    flipped += !is_id && is_mirror;
  }
  CHECK(exact, "flip-only output is the image or its exact left-right mirror");
  CHECK(flipped > 115 && flipped < 185, "about half flipped: %d of 300", flipped);
  sr_free(x);
  sr_free(x2);
  sr_dataset_free(&ds);
}

// Every augmented sample is one of the (2*pad+1)^2 x 2 candidate crops, and all candidates occur.
static void test_crop_candidates(void) {
  enum { N = 2000, S = 12, PAD = 4 };
  sr_dataset ds;
  make_ds(&ds, 50, 1, S, S, 2);
  int64_t idx[N];
  for (int i = 0; i < N; i++) idx[i] = i % 50;
  float *x = sr_alloc(sizeof(float) * N * S * S);
  int32_t y[N];
  sr_err err = {0};
  sr_loader_opts o = sr_loader_opts_default();
  o.crop_pad = PAD;
  o.mean = 0;
  o.scale = 255;  // outputs are the pixel values themselves
  CHECK_OK(sr_make_batch(&ds, &(sr_batch_rows){idx, N, 3, 1000}, &o, x, y, &err), &err);
  int seen[2 * PAD + 1][2 * PAD + 1][2];
  memset(seen, 0, sizeof seen);
  int unmatched = 0;
  uint8_t got[S * S], cand[S * S];
  for (int i = 0; i < N; i++) {
    for (int k = 0; k < S * S; k++) got[k] = (uint8_t)lrintf(x[(size_t)i * S * S + (size_t)k]);
    int found = 0;
    for (int dy = 0; dy <= 2 * PAD && !found; dy++)
      for (int dx = 0; dx <= 2 * PAD && !found; dx++)
        for (int f = 0; f < 2 && !found; f++) {
          sr_augment_image(ds.images + (size_t)idx[i] * S * S, 1, S, S, &(sr_crop_flip){PAD, dy, dx, f},
                           cand);
          if (!memcmp(cand, got, sizeof got)) {
            found = 1;
            seen[dy][dx][f]++;
          }
        }
    unmatched += !found;
  }
  CHECK(unmatched == 0, "%d samples match no crop/flip candidate", unmatched);
  int missing = 0;
  for (int dy = 0; dy <= 2 * PAD; dy++)
    for (int dx = 0; dx <= 2 * PAD; dx++)
      for (int f = 0; f < 2; f++) missing += seen[dy][dx][f] == 0;
  CHECK(missing == 0, "%d of the 162 crop/flip combinations never drawn in 2000 samples", missing);
  sr_free(x);
  sr_dataset_free(&ds);
}

static void test_gray(void) {
  sr_dataset ds;
  make_ds(&ds, 20, 3, 5, 5, 3);
  int64_t idx[20];
  for (int i = 0; i < 20; i++) idx[i] = i;
  float x[20 * 25];
  int32_t y[20];
  sr_err err = {0};
  sr_loader_opts o = sr_loader_opts_default();
  o.augment = 0;
  o.mean = 0.25f;
  o.scale = 2.0f;
  CHECK(sr_batch_channels(&ds, &o) == 1, "gray gives one channel");
  CHECK_OK(sr_make_batch(&ds, &(sr_batch_rows){idx, 20, 0, 0}, &o, x, y, &err), &err);
  double worst = 0;
  for (int i = 0; i < 20; i++)
    for (int k = 0; k < 25; k++) {
      const uint8_t *p = ds.images + (size_t)i * 75;
      double want = ((p[k] + p[25 + k] + p[50 + k]) / 3.0 / 255.0 - 0.25) * 2.0;
      double d = fabs(x[i * 25 + k] - want);
      if (d > worst) worst = d;
    }
  CHECK(worst < 1e-6, "gray = channel mean, then (g - mean) * scale: max error %g", worst);
  sr_dataset_free(&ds);
}

static void test_determinism(void) {
  enum { N = 64, S = 10 };
  sr_dataset ds;
  make_ds(&ds, N, 3, S, S, 4);
  int64_t idx[N];
  for (int i = 0; i < N; i++) idx[i] = i;
  size_t bytes = sizeof(float) * N * S * S;
  float *a = sr_alloc(bytes), *b = sr_alloc(bytes);
  int32_t y[N];
  sr_err err = {0};
  sr_loader_opts o = sr_loader_opts_default();
  o.seed = 77;
  CHECK_OK(sr_make_batch(&ds, &(sr_batch_rows){idx, N, 5, 128}, &o, a, y, &err), &err);
  CHECK_OK(sr_make_batch(&ds, &(sr_batch_rows){idx, N, 5, 128}, &o, b, y, &err), &err);
  CHECK(!memcmp(a, b, bytes), "same seed, epoch, positions: same batch");
  // The tail computed alone (resumed at position 128 + 40) equals the tail of the whole batch.
  CHECK_OK(sr_make_batch(&ds, &(sr_batch_rows){idx + 40, N - 40, 5, 128 + 40}, &o, b, y, &err), &err);
  CHECK(!memcmp(a + 40 * S * S, b, sizeof(float) * (N - 40) * S * S),
        "a sample depends only on its position");
  CHECK_OK(sr_make_batch(&ds, &(sr_batch_rows){idx, N, 6, 128}, &o, b, y, &err), &err);
  int differ = 0;
  for (int i = 0; i < N; i++) differ += memcmp(a + i * S * S, b + i * S * S, sizeof(float) * S * S) != 0;
  CHECK(differ > N / 2, "another epoch augments differently (%d of %d samples differ)", differ, N);
  o.seed = 78;
  CHECK_OK(sr_make_batch(&ds, &(sr_batch_rows){idx, N, 5, 128}, &o, b, y, &err), &err);
  differ = 0;
  for (int i = 0; i < N; i++) differ += memcmp(a + i * S * S, b + i * S * S, sizeof(float) * S * S) != 0;
  CHECK(differ > N / 2, "another seed augments differently (%d of %d samples differ)", differ, N);
  sr_free(a);
  sr_free(b);
  sr_dataset_free(&ds);
}

static void test_bad_opts(void) {
  sr_dataset ds;
  make_ds(&ds, 4, 1, 4, 6, 5);
  int64_t idx[2] = {0, 4};
  float x[2 * 24];
  int32_t y[2];
  sr_err err = {0};
  sr_loader_opts o = sr_loader_opts_default();
  CHECK(sr_make_batch(&ds, &(sr_batch_rows){idx, 2, 0, 0}, &o, x, y, &err) == SR_ERR_ARG &&
            strstr(err.msg, "crop padding 4"),
        "pad 4 on a 4-pixel side is refused: %s", err.msg);
  o.crop_pad = 3;
  CHECK(sr_make_batch(&ds, &(sr_batch_rows){idx, 2, 0, 0}, &o, x, y, &err) == SR_ERR_ARG &&
            strstr(err.msg, "index 4"),
        "index out of range is refused: %s", err.msg);
  o.batch = 0;
  CHECK(sr_loader_opts_check(&ds, &o, &err) == SR_ERR_ARG && strstr(err.msg, "batch"), "batch 0: %s",
        err.msg);
  o.batch = 8;
  o.scale = NAN;
  CHECK(sr_loader_opts_check(&ds, &o, &err) == SR_ERR_ARG, "NaN scale: %s", err.msg);
  sr_dataset_free(&ds);
}

int main(void) {
  test_reflect_example();
  test_identity_and_flip();
  test_crop_candidates();
  test_gray();
  test_determinism();
  test_bad_opts();
  return sr_test_done();
}
