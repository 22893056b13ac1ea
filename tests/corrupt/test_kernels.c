// Corruption kernels: every corruption x severity is deterministic and changes the image; noise hits its
// parameter; blurs remove high frequencies monotonically; brightness/contrast/JPEG move the right way.
#include <omp.h>

#include "simreg/corrupt.h"
#include "sr_test.h"
#include "synth.h"

static const int RANDOM_KIND[SR_NUM_CORRUPTIONS] = {
    [SR_GAUSSIAN_NOISE] = 1, [SR_SHOT_NOISE] = 1,  [SR_IMPULSE_NOISE] = 1,
    [SR_GLASS_BLUR] = 1,     [SR_MOTION_BLUR] = 1, [SR_SNOW] = 1,
    [SR_FROST] = 1,          [SR_FOG] = 1,         [SR_ELASTIC_TRANSFORM] = 1};

// For each shape: every kind x severity gives the same bytes twice with one seed, differs from the clean
// image, and (for random corruptions) differs under another seed.
static void test_all_deterministic(int c, int h, int w) {
  size_t n = (size_t)c * h * w;
  uint8_t *img = malloc(n), *a = malloc(n), *b = malloc(n), *d = malloc(n);
  synth_texture(img, c, h, w, 7);
  sr_err err = {0};
  for (int k = 0; k < SR_NUM_CORRUPTIONS; k++)
    for (int s = 1; s <= 5; s++) {
      sr_rng r1, r2, r3;
      sr_rng_seed(&r1, 5, 0);
      sr_rng_seed(&r2, 5, 0);
      sr_rng_seed(&r3, 6, 0);
      CHECK_OK(sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 1, .c = c, .h = h, .w = w}, (sr_corruption)k,
                                s, &r1, a, &err),
               &err);
      CHECK_OK(sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 1, .c = c, .h = h, .w = w}, (sr_corruption)k,
                                s, &r2, b, &err),
               &err);
      CHECK_OK(sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 1, .c = c, .h = h, .w = w}, (sr_corruption)k,
                                s, &r3, d, &err),
               &err);
      const char *nm = sr_corruption_name((sr_corruption)k);
      CHECK(!memcmp(a, b, n), "%s s%d %dx%dx%d: same seed must give the same bytes", nm, s, c, h, w);
      size_t changed = 0, differ = 0;
      for (size_t i = 0; i < n; i++) {
        changed += a[i] != img[i];
        differ += a[i] != d[i];
      }
      CHECK(changed > n / 200, "%s s%d %dx%dx%d: only %zu of %zu values changed", nm, s, c, h, w, changed, n);
      if (RANDOM_KIND[k]) CHECK(differ > 0, "%s s%d: another seed must give other bytes", nm, s);
    }
  free(img);
  free(a);
  free(b);
  free(d);
}

// The batch equals per-image application with the derived rngs, for 1 and 2 threads and any split.
static void test_batch_threads(void) {
  int c = 3, h = 32, w = 32, n = 12;
  size_t per = (size_t)c * h * w;
  uint8_t *imgs = malloc(n * per), *o1 = malloc(n * per), *o2 = malloc(n * per), *o3 = malloc(n * per);
  for (int i = 0; i < n; i++) synth_texture(imgs + i * per, c, h, w, 100 + i);
  sr_err err = {0};
  for (int k = 0; k < SR_NUM_CORRUPTIONS; k++) {
    omp_set_num_threads(1);
    CHECK_OK(sr_corrupt_batch(&(sr_u8_images){imgs, n, c, h, w},
                              &(sr_corrupt_spec){(sr_corruption)k, 3, 42, 0}, o1, &err),
             &err);
    omp_set_num_threads(2);
    CHECK_OK(sr_corrupt_batch(&(sr_u8_images){imgs, n, c, h, w},
                              &(sr_corrupt_spec){(sr_corruption)k, 3, 42, 0}, o2, &err),
             &err);
    CHECK(!memcmp(o1, o2, n * per), "%s: 1 vs 2 threads differ", sr_corruption_name((sr_corruption)k));
    // Two halves with first_index give the same as one batch.
    CHECK_OK(sr_corrupt_batch(&(sr_u8_images){imgs, 5, c, h, w},
                              &(sr_corrupt_spec){(sr_corruption)k, 3, 42, 0}, o3, &err),
             &err);
    CHECK_OK(sr_corrupt_batch(&(sr_u8_images){imgs + 5 * per, n - 5, c, h, w},
                              &(sr_corrupt_spec){(sr_corruption)k, 3, 42, 5}, o3 + 5 * per, &err),
             &err);
    CHECK(!memcmp(o1, o3, n * per), "%s: split batch differs", sr_corruption_name((sr_corruption)k));
    sr_rng r;
    sr_corrupt_image_rng(&r, 42, (sr_corruption)k, 3, 7);
    CHECK_OK(sr_corrupt_apply(&(sr_u8_images){.px = imgs + 7 * per, .n = 1, .c = c, .h = h, .w = w},
                              (sr_corruption)k, 3, &r, o3, &err),
             &err);
    CHECK(!memcmp(o3, o1 + 7 * per, per), "%s: batch image 7 differs from sr_corrupt_apply",
          sr_corruption_name((sr_corruption)k));
  }
  free(imgs);
  free(o1);
  free(o2);
  free(o3);
}

// Mean and standard deviation of (out - clean)/255 over many draws on a flat image.
static void noise_stats(sr_corruption k, int s, uint8_t level, double *mean, double *sd, double *frac0,
                        double *frac255) {
  int c = 3, h = 64, w = 64, reps = 8;
  size_t n = (size_t)c * h * w;
  uint8_t *img = malloc(n), *out = malloc(n);
  synth_flat(img, c, h, w, level);
  double s1 = 0, s2 = 0, z = 0, f = 0;
  sr_err err = {0};
  for (int r = 0; r < reps; r++) {
    sr_rng rng;
    sr_rng_seed(&rng, 1234 + r, 0);
    CHECK_OK(
        sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 1, .c = c, .h = h, .w = w}, k, s, &rng, out, &err),
        &err);
    for (size_t i = 0; i < n; i++) {
      double d = ((double)out[i] - level) / 255.0;
      s1 += d;
      s2 += d * d;
      z += out[i] == 0;
      f += out[i] == 255;
    }
  }
  double cnt = (double)n * reps;
  *mean = s1 / cnt;
  *sd = sqrt(s2 / cnt - *mean * *mean);
  *frac0 = z / cnt;
  *frac255 = f / cnt;
  free(img);
  free(out);
}

static void test_noise_levels(void) {
  static const double sigma[5] = {.04, .06, .08, .09, .10}, lam[5] = {500, 250, 100, 75, 50},
                      amount[5] = {.01, .02, .03, .05, .07};
  for (int s = 1; s <= 5; s++) {
    double m, sd, z, f;
    // Mid-gray 128: clipping at 0/1 is > 3.7 sigma away, so the spread is the Gaussian's (plus the
    // 1/sqrt(12)-level quantization); truncation to uint8 shifts the mean by about half a level.
    noise_stats(SR_GAUSSIAN_NOISE, s, 128, &m, &sd, &z, &f);
    double want = sqrt(sigma[s - 1] * sigma[s - 1] + 1.0 / (12.0 * 255 * 255));
    CHECK(fabs(sd / want - 1) < 0.02, "gaussian_noise s%d: sd %.4f, want %.4f", s, sd, want);
    CHECK(fabs(m + 0.5 / 255) < 0.002, "gaussian_noise s%d: mean shift %.4f", s, m);
    // Poisson(lam x)/lam has variance x/lam.
    noise_stats(SR_SHOT_NOISE, s, 128, &m, &sd, &z, &f);
    want = sqrt((128.0 / 255) / lam[s - 1] + 1.0 / (12.0 * 255 * 255));
    CHECK(fabs(sd / want - 1) < 0.03, "shot_noise s%d: sd %.4f, want %.4f", s, sd, want);
    CHECK(fabs(m + 0.5 / 255) < 0.002, "shot_noise s%d: mean shift %.4f", s, m);
    // Salt and pepper: `amount` of the values become 0 or 255, evenly.
    noise_stats(SR_IMPULSE_NOISE, s, 128, &m, &sd, &z, &f);
    double a = amount[s - 1], tol = 4 * sqrt(a / (3 * 64 * 64 * 8.0));
    CHECK(fabs(z + f - a) < tol, "impulse_noise s%d: %.4f of values hit, want %.3f", s, z + f, a);
    CHECK(fabs(z - f) < tol, "impulse_noise s%d: salt %.4f vs pepper %.4f", s, f, z);
  }
  // Shot noise of a black image stays black (Poisson(0) = 0); of a dark one its mean stays put.
  double m, sd, z, f;
  noise_stats(SR_SHOT_NOISE, 5, 0, &m, &sd, &z, &f);
  CHECK(z == 1.0, "shot_noise of black must stay black (%.4f zeros)", z);
  noise_stats(SR_SHOT_NOISE, 5, 10, &m, &sd, &z, &f);  // lambda = 50 * 10/255 ~ 2: the small-mean sampler
  double want = sqrt((10.0 / 255) / 50 + 1.0 / (12.0 * 255 * 255));
  CHECK(fabs(sd / want - 1) < 0.04, "shot_noise at level 10: sd %.4f, want %.4f", sd, want);
  // Clipping: at level 250 (0.980) with sigma 0.1, P(N > 0.0196) = 0.422 of the values clip to 255.
  noise_stats(SR_GAUSSIAN_NOISE, 5, 250, &m, &sd, &z, &f);
  CHECK(fabs(f - 0.422) < 0.02, "gaussian_noise at 250: %.3f clipped at 255 (expect 0.422)", f);
}

// Share of an image's own power above radius 0.25 (DC included in the total).
static double hf_of(const uint8_t *img, int n, int c, int h, int w) {
  size_t per = (size_t)c * h * w;
  uint8_t *zero = calloc((size_t)n * per, 1);
  double share;
  int64_t used;
  sr_err err = {0};
  CHECK_OK(sr_corrupt_hf_share(&(sr_u8_images){zero, n, c, h, w}, img, &share, &used, &err), &err);
  free(zero);
  return share;
}

static void test_blur_monotone(void) {
  int c = 1, h = 32, w = 32, n = 16;
  size_t per = (size_t)c * h * w;
  uint8_t *imgs = malloc(n * per), *out = malloc(n * per);
  for (int i = 0; i < n; i++) {
    sr_rng r;  // white noise in [40, 215]: plenty of high-frequency power to remove
    sr_rng_seed(&r, 500 + i, 0);
    for (size_t p = 0; p < per; p++) imgs[i * per + p] = (uint8_t)(40 + sr_rng_below(&r, 176));
  }
  double clean = hf_of(imgs, n, c, h, w);
  sr_corruption blurs[] = {SR_DEFOCUS_BLUR, SR_MOTION_BLUR, SR_ZOOM_BLUR, SR_GLASS_BLUR};
  sr_err err = {0};
  for (int b = 0; b < 4; b++) {
    double prev = clean, hf[6];
    for (int s = 1; s <= 5; s++) {
      CHECK_OK(sr_corrupt_batch(&(sr_u8_images){imgs, n, c, h, w}, &(sr_corrupt_spec){blurs[b], s, 3, 0}, out,
                                &err),
               &err);
      hf[s] = hf_of(out, n, c, h, w);
      const char *nm = sr_corruption_name(blurs[b]);
      if (blurs[b] == SR_GLASS_BLUR) {
        // Its sigma sequence is .05 .25 .4 .25 .4: monotone within each iteration count only, and
        // severity 1 (sigma .05 is no blur at all) only shuffles pixels.
        CHECK(s == 1 || hf[s] < clean, "glass_blur s%d: hf share %.4f not below clean %.4f", s, hf[s], clean);
      } else {
        CHECK(hf[s] < prev, "%s s%d: hf share %.4f not below s%d's %.4f", nm, s, hf[s], s - 1, prev);
      }
      prev = hf[s];
    }
    if (blurs[b] == SR_GLASS_BLUR)
      CHECK(hf[3] < hf[2] && hf[2] < hf[1] && hf[5] < hf[4], "glass_blur hf %.4f %.4f %.4f | %.4f %.4f",
            hf[1], hf[2], hf[3], hf[4], hf[5]);
  }
  free(imgs);
  free(out);
}

static double mean_of(const uint8_t *p, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += p[i];
  return s / (double)n;
}

static double sd_of(const uint8_t *p, size_t n) {
  double m = mean_of(p, n), s = 0;
  for (size_t i = 0; i < n; i++) s += (p[i] - m) * (p[i] - m);
  return sqrt(s / (double)n);
}

static void test_tone_and_jpeg(int c) {
  int h = 32, w = 32;
  size_t n = (size_t)c * h * w;
  uint8_t *img = malloc(n), *prev = malloc(n), *out = malloc(n);
  synth_texture(img, c, h, w, 11);
  sr_err err = {0};
  sr_rng r;
  sr_rng_seed(&r, 0, 0);
  // Brightness: every value non-decreasing with severity, mean strictly increasing.
  memcpy(prev, img, n);
  for (int s = 1; s <= 5; s++) {
    CHECK_OK(sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 1, .c = c, .h = h, .w = w}, SR_BRIGHTNESS, s,
                              &r, out, &err),
             &err);
    int ok = 1;
    for (size_t i = 0; i < n; i++) ok &= out[i] >= prev[i];
    CHECK(ok, "brightness s%d (c=%d): some value got darker", s, c);
    CHECK(mean_of(out, n) > mean_of(prev, n) + 1, "brightness s%d: mean %.2f not above %.2f", s,
          mean_of(out, n), mean_of(prev, n));
    memcpy(prev, out, n);
  }
  if (c == 1) {  // gray: exactly clip(x + c) (truncated)
    CHECK_OK(sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 1, .c = c, .h = h, .w = w}, SR_BRIGHTNESS, 5,
                              &r, out, &err),
             &err);
    int exact = 1;
    for (size_t i = 0; i < n; i++) {
      int want = img[i] + 76.5 >= 255 ? 255 : (int)(img[i] + 76.5);
      exact &= abs(out[i] - want) <= 1;
    }
    CHECK(exact, "gray brightness must be clip(x + 0.3)");
  }
  // Contrast: spread strictly shrinking, mean kept.
  double prev_sd = sd_of(img, n);
  for (int s = 1; s <= 5; s++) {
    CHECK_OK(sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 1, .c = c, .h = h, .w = w}, SR_CONTRAST, s, &r,
                              out, &err),
             &err);
    double sd = sd_of(out, n);
    CHECK(sd < prev_sd, "contrast s%d: sd %.2f not below %.2f", s, sd, prev_sd);
    CHECK(fabs(mean_of(out, n) - mean_of(img, n)) < 1.0, "contrast s%d: mean moved %.2f -> %.2f", s,
          mean_of(img, n), mean_of(out, n));
    prev_sd = sd;
  }
  // JPEG: squared error grows as the quality falls (summed over several textures).
  double prev_e = 0;
  for (int s = 1; s <= 5; s++) {
    double e = 0;
    for (int t = 0; t < 6; t++) {
      synth_texture(img, c, h, w, 30 + t);
      CHECK_OK(sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 1, .c = c, .h = h, .w = w},
                                SR_JPEG_COMPRESSION, s, &r, out, &err),
               &err);
      for (size_t i = 0; i < n; i++) e += (out[i] - img[i]) * (out[i] - img[i]);
    }
    CHECK(e > prev_e, "jpeg s%d (c=%d): error %.0f not above %.0f", s, c, e, prev_e);
    prev_e = e;
  }
  free(img);
  free(prev);
  free(out);
}

// Corruptions without randomness act on structure as expected: a flat image stays flat under blurs,
// pixelate and JPEG (up to a level), and contrast of a flat image is the identity.
static void test_flat_invariants(void) {
  int c = 3, h = 28, w = 28;
  size_t n = (size_t)c * h * w;
  uint8_t *img = malloc(n), *out = malloc(n);
  synth_flat(img, c, h, w, 100);
  sr_corruption ks[] = {SR_DEFOCUS_BLUR, SR_ZOOM_BLUR,        SR_MOTION_BLUR, SR_GLASS_BLUR,
                        SR_PIXELATE,     SR_JPEG_COMPRESSION, SR_CONTRAST,    SR_ELASTIC_TRANSFORM};
  sr_err err = {0};
  for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++)
    for (int s = 1; s <= 5; s++) {
      sr_rng r;
      sr_rng_seed(&r, 9, 0);
      CHECK_OK(sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 1, .c = c, .h = h, .w = w}, ks[k], s, &r, out,
                                &err),
               &err);
      int maxd = 0;
      for (size_t i = 0; i < n; i++) maxd = abs(out[i] - 100) > maxd ? abs(out[i] - 100) : maxd;
      CHECK(maxd <= 1, "%s s%d on a flat image: max change %d", sr_corruption_name(ks[k]), s, maxd);
    }
  free(img);
  free(out);
}

static void test_bad_args(void) {
  uint8_t img[3 * 32 * 32] = {0}, out[3 * 32 * 32];
  sr_rng r;
  sr_rng_seed(&r, 0, 0);
  sr_err err = {0};
  for (int s = 0; s <= 6; s += 6) {
    CHECK(sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 1, .c = 3, .h = 32, .w = 32}, SR_FOG, s, &r, out,
                           &err) == SR_ERR_ARG,
          "severity %d accepted", s);
    CHECK(strstr(err.msg, "severity") && strstr(err.msg, "fog"), "message: %s", err.msg);
    CHECK(sr_corrupt_batch(&(sr_u8_images){img, 1, 3, 32, 32}, &(sr_corrupt_spec){SR_FOG, s, 0, 0}, out,
                           &err) == SR_ERR_ARG,
          "batch severity %d", s);
  }
  CHECK(sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 1, .c = 2, .h = 32, .w = 32}, SR_FOG, 1, &r, out,
                         &err) == SR_ERR_ARG,
        "2 channels accepted");
  CHECK(sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 1, .c = 3, .h = 4, .w = 4}, SR_FOG, 1, &r, out,
                         &err) == SR_ERR_ARG,
        "4x4 accepted");
  CHECK(sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 1, .c = 3, .h = 32, .w = 32}, (sr_corruption)15, 1,
                         &r, out, &err) == SR_ERR_ARG,
        "kind 15 accepted");
  CHECK(sr_corrupt_apply(&(sr_u8_images){.px = img, .n = 2, .c = 3, .h = 32, .w = 32}, SR_FOG, 1, &r, out,
                         &err) == SR_ERR_ARG,
        "two images accepted");
  sr_corruption k;
  CHECK(sr_corruption_parse("gaussian_blur", &k, &err) == SR_ERR_ARG, "unknown name accepted");
  CHECK(strstr(err.msg, "gaussian_blur") && strstr(err.msg, "gaussian_noise"), "message: %s", err.msg);
  CHECK_OK(sr_corruption_parse("jpeg_compression", &k, &err), &err);
  CHECK(k == SR_JPEG_COMPRESSION, "parse jpeg_compression");
  sr_corruption ks[SR_NUM_CORRUPTIONS];
  int n;
  CHECK_OK(sr_corruption_parse_list("fog,snow", ks, &n, &err), &err);
  CHECK(n == 2 && ks[0] == SR_FOG && ks[1] == SR_SNOW, "list fog,snow");
  CHECK_OK(sr_corruption_parse_list("all", ks, &n, &err), &err);
  CHECK(n == 15 && ks[14] == SR_JPEG_COMPRESSION, "list all");
  CHECK(sr_corruption_parse_list("fog,fog", ks, &n, &err) == SR_ERR_ARG, "duplicate accepted");
  CHECK(sr_corruption_parse_list("fog,", ks, &n, &err) == SR_ERR_ARG, "trailing comma accepted");
  CHECK(sr_corruption_parse_list("fog,,snow", ks, &n, &err) == SR_ERR_ARG, "empty entry accepted");
}

int main(void) {
  test_all_deterministic(3, 32, 32);
  test_all_deterministic(1, 28, 28);
  test_all_deterministic(3, 24, 40);  // non-square
  test_batch_threads();
  test_noise_levels();
  test_blur_monotone();
  test_tone_and_jpeg(3);
  test_tone_and_jpeg(1);
  test_flat_invariants();
  test_bad_args();
  return sr_test_done();
}
