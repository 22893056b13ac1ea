// Fourier sensitivity maps, model-free parts: basis images (unit norm, real, power only at (u,v) and
// (-u,-v)), the canonical half-plane and its mirror map, radial bands, band counts, band bootstrap, verdicts.
#include "simreg/fourier.h"
#include "simreg/spectral.h"
#include "sr_test.h"

// Every position of an h x w plane: ||b|| = 1, and the (max-normalised) power spectrum of b is 1 at (ky,kx)
// and at its mirror and below 1e-20 everywhere else.
static void check_plane(int64_t h, int64_t w) {
  double *b = calloc((size_t)(h * w), sizeof(double));
  int bad_norm = 0, bad_peak = 0, bad_leak = 0;
  sr_err err = {0};
  for (int64_t ky = 0; ky < h; ky++)
    for (int64_t kx = 0; kx < w; kx++) {
      sr_fourier_basis(ky, kx, h, w, b);
      double ss = 0;
      for (int64_t p = 0; p < h * w; p++) ss += b[p] * b[p];
      bad_norm += fabs(sqrt(ss) - 1) > 1e-6;
      sr_spectrum s;
      CHECK_OK(sr_spectrum_compute(&(sr_perturbations){b, 1, 1, h, w, SR_LAYOUT_NCHW}, 0.25, &s, &err), &err);
      int64_t my = sr_fourier_mirror(ky, h), mx = sr_fourier_mirror(kx, w);
      bad_peak += fabs(s.map[ky * w + kx] - 1) > 1e-12 || fabs(s.map[my * w + mx] - 1) > 1e-12;
      for (int64_t p = 0; p < h * w; p++)
        if (p != ky * w + kx && p != my * w + mx) bad_leak += s.map[p] > 1e-20;
      sr_spectrum_free(&s);
    }
  CHECK(!bad_norm, "%lldx%lld: %d basis images without unit norm", (long long)h, (long long)w, bad_norm);
  CHECK(!bad_peak, "%lldx%lld: %d basis images without power 1 at (u,v) and (-u,-v)", (long long)h,
        (long long)w, bad_peak);
  CHECK(!bad_leak, "%lldx%lld: %d positions with power away from (u,v), (-u,-v)", (long long)h, (long long)w,
        bad_leak);
  free(b);
}

// The canonical half: (h*w + self-mirrored)/2 cells, a position and its mirror share a cell and an image.
static void check_cells(int64_t h, int64_t w) {
  sr_fourier_cells c;
  sr_err err = {0};
  CHECK_OK(sr_fourier_cells_init(&c, h, w, &err), &err);
  int64_t self = 0, bad_of = 0;
  double *b1 = calloc((size_t)(h * w), sizeof(double)), *b2 = calloc((size_t)(h * w), sizeof(double)), md = 0;
  for (int64_t ky = 0; ky < h; ky++)
    for (int64_t kx = 0; kx < w; kx++) {
      int64_t my = sr_fourier_mirror(ky, h), mx = sr_fourier_mirror(kx, w), p = ky * w + kx, q = my * w + mx;
      self += p == q;
      bad_of += c.of[p] != c.of[q] || c.of[p] < 0 || c.of[p] >= c.n;
      CHECK(sr_fourier_mirror(my, h) == ky && sr_fourier_mirror(mx, w) == kx, "mirror is an involution");
      sr_fourier_basis(ky, kx, h, w, b1);
      sr_fourier_basis(my, mx, h, w, b2);
      for (int64_t i = 0; i < h * w; i++) md = fmax(md, fabs(b1[i] - b2[i]));
    }
  CHECK(c.n == (h * w + self) / 2, "%lldx%lld: %lld cells, want %lld", (long long)h, (long long)w,
        (long long)c.n, (long long)((h * w + self) / 2));
  CHECK(self == ((h % 2) ? 1 : 2) * ((w % 2) ? 1 : 2), "%lld self-mirrored positions", (long long)self);
  CHECK(!bad_of, "%lld positions not sharing their mirror's cell", (long long)bad_of);
  CHECK(md < 1e-12, "basis of a position and of its mirror differ by %g", md);
  for (int64_t k = 0; k < c.n; k++)
    CHECK(c.of[c.ky[k] * w + c.kx[k]] == k, "cell %lld maps back", (long long)k);
  free(b1);
  free(b2);
  sr_fourier_cells_free(&c);
}

static void check_bands(void) {
  // 28x28: DC and r = 3/28 low, 4/28 = 0.143 mid, 7/28 = 0.25 exactly high, corners high
  CHECK(sr_fourier_band(14, 14, 28, 28) == 0, "DC is low");
  CHECK(sr_fourier_band(17, 14, 28, 28) == 0, "r = 3/28 is low");
  CHECK(sr_fourier_band(18, 14, 28, 28) == 1, "r = 4/28 is mid");
  CHECK(sr_fourier_band(14, 7, 28, 28) == 2, "r = 0.25 is high");
  CHECK(sr_fourier_band(0, 0, 28, 28) == 2, "corner is high");
  CHECK(!strcmp(sr_fourier_band_name(1), "mid"), "band name");
  // counts: a 4x4 plane (10 cells), 3 images; image i wrong at cell k when (k + i) % 3 == 0
  sr_fourier_cells c;
  sr_err err = {0};
  CHECK_OK(sr_fourier_cells_init(&c, 4, 4, &err), &err);
  CHECK(c.n == 10, "4x4: %lld cells", (long long)c.n);
  uint8_t e[10 * 3];
  for (int k = 0; k < 10; k++)
    for (int i = 0; i < 3; i++) e[k * 3 + i] = (k + i) % 3 == 0;
  int64_t count[3 * 3], pixels[3], want[3 * 3] = {0}, wpix[3] = {0};
  for (int64_t p = 0; p < 16; p++) {
    int b = sr_fourier_band(p / 4, p % 4, 4, 4);
    wpix[b]++;
    for (int i = 0; i < 3; i++) want[b * 3 + i] += e[c.of[p] * 3 + i];
  }
  sr_fourier_band_counts(&c, e, 3, count, pixels);
  CHECK(!memcmp(count, want, sizeof want) && !memcmp(pixels, wpix, sizeof wpix), "band counts");
  CHECK(pixels[0] + pixels[1] + pixels[2] == 16, "every position in one band");
  sr_fourier_cells_free(&c);
}

static void check_band_ci(void) {
  enum { N = 400 };
  int64_t a[N], b[N];
  sr_rng r;
  sr_rng_seed(&r, 5, 0);
  double ma = 0;
  for (int i = 0; i < N; i++) {
    a[i] = sr_rng_below(&r, 11);
    b[i] = a[i] + 2;
    ma += (double)a[i] / (10.0 * N);
  }
  sr_err err = {0};
  sr_ci ci, d;
  sr_rng_seed(&r, 1, 0);
  CHECK_OK(sr_fourier_band_ci(a, NULL, N, 10, &(sr_boot_opts){500, 0.95, &r}, &ci, &err), &err);
  CHECK(fabs(ci.estimate - ma) < 1e-12 && ci.lo < ma && ma < ci.hi && ci.hi - ci.lo < 0.1,
        "band mean %g [%g, %g]", ci.estimate, ci.lo, ci.hi);
  // b - a = 2 for every image: the paired difference is exactly 0.2 whatever the resample (an unpaired
  // bootstrap would spread it); and its verdict "contradicts" (more error)
  CHECK_OK(sr_fourier_band_ci(b, a, N, 10, &(sr_boot_opts){500, 0.95, &r}, &d, &err), &err);
  CHECK(fabs(d.estimate - 0.2) < 1e-12 && fabs(d.lo - 0.2) < 1e-12 && fabs(d.hi - 0.2) < 1e-12,
        "paired %g [%g, %g]", d.estimate, d.lo, d.hi);
  CHECK(!strcmp(sr_fourier_verdict(&d), "contradicts"), "positive difference");
  CHECK_OK(sr_fourier_band_ci(a, b, N, 10, &(sr_boot_opts){500, 0.95, &r}, &d, &err), &err);
  CHECK(!strcmp(sr_fourier_verdict(&d), "supports"), "negative difference");
  d.lo = -0.01;
  d.hi = 0.02;
  CHECK(!strcmp(sr_fourier_verdict(&d), "inconclusive"), "CI containing 0");
  CHECK(sr_fourier_band_ci(a, NULL, N, 0, &(sr_boot_opts){500, 0.95, &r}, &d, &err) == SR_ERR_ARG,
        "empty band");
}

int main(void) {
  check_plane(28, 28);
  check_plane(5, 7);
  check_plane(6, 9);
  check_cells(28, 28);
  check_cells(5, 7);
  check_cells(4, 9);
  check_bands();
  check_band_ci();
  return sr_test_done();
}
