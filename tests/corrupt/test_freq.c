// Frequency measurement: the high-frequency share of known spectra, tercile grouping, and the measured
// groups of synthetic and Fashion-MNIST images.
#include <unistd.h>

#include "simreg/corrupt.h"
#include "sr_test.h"
#include "synth.h"

// Fraction of the (h, w) frequency grid at normalized radius > 0.25: a white difference's expected share.
static double grid_fraction(int h, int w) {
  int cnt = 0;
  for (int ky = 0; ky < h; ky++)
    for (int kx = 0; kx < w; kx++) {
      double fy = (double)(ky <= h / 2 ? ky : ky - h) / h, fx = (double)(kx <= w / 2 ? kx : kx - w) / w;
      cnt += fy * fy + fx * fx > 0.0625;
    }
  return (double)cnt / (h * w);
}

static void test_known_spectra(void) {
  int n = 40, c = 3, h = 32, w = 32;
  size_t per = (size_t)c * h * w;
  uint8_t *a = malloc(n * per), *b = malloc(n * per);
  sr_err err = {0};
  double share;
  int64_t used;
  sr_rng r;
  sr_rng_seed(&r, 1, 0);
  // White noise difference: flat spectrum, share = grid fraction (about 1 - pi/16).
  for (size_t i = 0; i < n * per; i++) {
    a[i] = 128;
    b[i] = (uint8_t)(78 + sr_rng_below(&r, 101));
  }
  CHECK_OK(sr_corrupt_hf_share(&(sr_u8_images){a, n, c, h, w}, b, &share, &used, &err), &err);
  double want = grid_fraction(h, w);
  CHECK(used == n && fabs(share - want) < 0.01, "white: share %.4f want %.4f (used %lld)", share, want,
        (long long)used);
  CHECK(fabs(want - (1 - M_PI / 16)) < 0.01, "grid fraction %.4f", want);
  // Constant offset: all power at DC.
  for (size_t i = 0; i < n * per; i++) b[i] = 140;
  CHECK_OK(sr_corrupt_hf_share(&(sr_u8_images){a, n, c, h, w}, b, &share, &used, &err), &err);
  CHECK(share < 1e-9, "constant: share %.3g", share);
  // Low (3/32 cycles/px) and high (13/32) cosines on their grid bins.
  for (int f = 0; f < 2; f++) {
    double fr = f ? 13.0 / 32 : 3.0 / 32;
    for (int k = 0; k < n; k++)
      for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
          for (int x = 0; x < w; x++)
            b[k * per + ((size_t)ch * h + y) * w + x] = (uint8_t)(128 + 60 * cos(2 * M_PI * fr * x));
    CHECK_OK(sr_corrupt_hf_share(&(sr_u8_images){a, n, c, h, w}, b, &share, &used, &err), &err);
    CHECK(f ? share > 0.999 : share < 1e-3, "cosine at %.3f: share %.4f", fr, share);
  }
  // Identical pairs carry no power and are skipped; odd sizes work.
  CHECK_OK(sr_corrupt_hf_share(&(sr_u8_images){a, n, c, h, w}, a, &share, &used, &err), &err);
  CHECK(used == 0 && share == 0, "identical: used %lld share %g", (long long)used, share);
  for (size_t i = 0; i < 3 * 27 * 13; i++) b[i] = (uint8_t)(78 + sr_rng_below(&r, 101));
  CHECK_OK(sr_corrupt_hf_share(&(sr_u8_images){a, 1, 3, 27, 13}, b, &share, &used, &err), &err);
  CHECK(fabs(share - grid_fraction(27, 13)) < 0.08, "odd size white: %.3f vs %.3f", share,
        grid_fraction(27, 13));
  free(a);
  free(b);
}

static void test_terciles(void) {
  double s[6] = {.5, .1, .9, .3, .7, .2};
  sr_freq_group g[6];
  sr_corrupt_groups(s, 6, g);
  sr_freq_group want[6] = {SR_FREQ_MID, SR_FREQ_LOW, SR_FREQ_HIGH, SR_FREQ_MID, SR_FREQ_HIGH, SR_FREQ_LOW};
  for (int i = 0; i < 6; i++) CHECK(g[i] == want[i], "tercile of %.1f: %s", s[i], sr_freq_group_name(g[i]));
  double t[15];
  for (int i = 0; i < 15; i++) t[i] = 1.0 - i / 15.0;
  sr_freq_group g15[15];
  sr_corrupt_groups(t, 15, g15);
  int cnt[3] = {0};
  for (int i = 0; i < 15; i++) cnt[g15[i]]++;
  CHECK(cnt[0] == 5 && cnt[1] == 5 && cnt[2] == 5, "15 -> %d/%d/%d", cnt[0], cnt[1], cnt[2]);
  CHECK(g15[0] == SR_FREQ_HIGH && g15[14] == SR_FREQ_LOW, "order");
}

static int index_of(const sr_corrupt_freq *f, sr_corruption k) {
  for (int i = 0; i < f->n_kinds; i++)
    if (f->kinds[i] == k) return i;
  return -1;
}

// Noise is the most high-frequency change and brightness/contrast/fog the least, on any images.
static void check_groups(const sr_corrupt_freq *f, const char *what) {
  sr_corruption low[] = {SR_BRIGHTNESS, SR_CONTRAST, SR_FOG};
  for (int i = 0; i < 3; i++) {
    int k = index_of(f, low[i]);
    CHECK(f->group[k] == SR_FREQ_LOW && f->mean[k] < 0.5, "%s: %s share %.3f group %s", what,
          sr_corruption_name(low[i]), f->mean[k], sr_freq_group_name(f->group[k]));
  }
  sr_corruption noise[] = {SR_GAUSSIAN_NOISE, SR_SHOT_NOISE, SR_IMPULSE_NOISE};
  for (int i = 0; i < 3; i++) {
    int k = index_of(f, noise[i]);
    CHECK(f->group[k] != SR_FREQ_LOW && f->mean[k] > 0.6, "%s: %s share %.3f group %s", what,
          sr_corruption_name(noise[i]), f->mean[k], sr_freq_group_name(f->group[k]));
  }
}

static void test_measured_groups(void) {
  sr_dataset ds = {0};
  ds.n = 24;
  ds.c = 3;
  ds.h = 32;
  ds.w = 32;
  ds.num_classes = 10;
  size_t per = 3 * 32 * 32;
  ds.images = sr_alloc(ds.n * per);
  ds.labels = sr_alloc(ds.n * sizeof(int32_t));
  for (int i = 0; i < ds.n; i++) {
    synth_texture(ds.images + i * per, 3, 32, 32, 200 + i);
    ds.labels[i] = i % 10;
  }
  sr_corruption all[SR_NUM_CORRUPTIONS];
  int n;
  sr_err err = {0};
  CHECK_OK(sr_corruption_parse_list(NULL, all, &n, &err), &err);
  sr_corrupt_freq f;
  CHECK_OK(sr_corrupt_measure_freq(&ds, all, n, 24, 0, &f, &err), &err);
  CHECK(f.n_kinds == 15 && f.images == 24, "table size");
  check_groups(&f, "synthetic");
  sr_dataset_free(&ds);
  if (access("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", R_OK) != 0) {
    sr_test_skip("Fashion-MNIST not installed (/usr/share/datasets/fashion-mnist): its frequency groups");
    return;
  }
  CHECK_OK(sr_dataset_load("fashion-mnist", "test", &ds, &err), &err);
  if (ds.n > 0) {
    CHECK_OK(sr_corrupt_measure_freq(&ds, all, n, 100, 0, &f, &err), &err);
    check_groups(&f, "fashion-mnist");
  }
  sr_dataset_free(&ds);
}

int main(void) {
  test_known_spectra();
  test_terciles();
  test_measured_groups();
  return sr_test_done();
}
