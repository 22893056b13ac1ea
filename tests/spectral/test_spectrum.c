// Spectra: NumPy reference, layouts, pure sinusoids, white noise, Parseval, degenerate inputs.
#include "ref_data.h"
#include "simreg/spectral.h"
#include "sr_test.h"

static double max_abs_diff(const double *a, const double *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs(a[i] - b[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}

static void test_numpy_reference(void) {
  sr_err err = {0};
  sr_spectrum s;
  CHECK_OK(sr_spectrum_compute(&(sr_perturbations){ref_x, REF_N, REF_C, REF_H, REF_W, SR_LAYOUT_NCHW}, 0.25,
                               &s, &err),
           &err);
  if (!s.map) return;
  CHECK(max_abs_diff(s.map, ref_map, REF_H * REF_W) < 1e-12, "map vs NumPy: %g",
        max_abs_diff(s.map, ref_map, REF_H * REF_W));
  CHECK(max_abs_diff(s.radial, ref_radial, SR_SPEC_NBINS) < 1e-12, "radial vs NumPy");
  CHECK(max_abs_diff(s.cumulative, ref_cumulative, SR_SPEC_NBINS) < 1e-12, "cumulative vs NumPy");
  CHECK(fabs(s.hf_share - ref_hf) < 1e-12, "hf %.15g vs %.15g", s.hf_share, ref_hf);
  CHECK(fabs(s.corner_share - ref_corner) < 1e-12, "corner %.15g vs %.15g", s.corner_share, ref_corner);
  CHECK(fabs(s.cumulative[SR_SPEC_NBINS - 1] + s.corner_share - 1) < 1e-12, "cumulative + corners = 1");
  sr_spectrum
      e;  // r0 on a bin edge (0.2 = upper edge of bin 9): the share is the complement of the cumulative
  CHECK_OK(sr_spectrum_compute(&(sr_perturbations){ref_x, REF_N, REF_C, REF_H, REF_W, SR_LAYOUT_NCHW}, 0.2,
                               &e, &err),
           &err);
  if (e.map)
    CHECK(fabs(e.hf_share - (1 - e.cumulative[9])) < 1e-12, "hf(0.2) %g vs 1 - cum[9] %g", e.hf_share,
          1 - e.cumulative[9]);
  sr_spectrum_free(&e);
  int64_t id[REF_N] = {0, 1, 2};
  CHECK(fabs(sr_spectrum_hf_share_of(&s, id, REF_N) - s.hf_share) < 1e-12, "resample statistic on identity");

  // The same data as (N,H,W,C) gives the same spectrum.
  static double nhwc[REF_N * REF_C * REF_H * REF_W];
  for (int i = 0; i < REF_N; i++)
    for (int c = 0; c < REF_C; c++)
      for (int p = 0; p < REF_H * REF_W; p++)
        nhwc[(i * REF_H * REF_W + p) * REF_C + c] = ref_x[(i * REF_C + c) * REF_H * REF_W + p];
  sr_spectrum t;
  CHECK_OK(sr_spectrum_compute(&(sr_perturbations){nhwc, REF_N, REF_C, REF_H, REF_W, SR_LAYOUT_NHWC}, 0.25,
                               &t, &err),
           &err);
  if (t.map) CHECK(max_abs_diff(s.map, t.map, REF_H * REF_W) < 1e-12, "NHWC == NCHW");
  sr_spectrum_free(&t);
  sr_spectrum_free(&s);
}

// cos(2 pi (ky y / H + kx x / W)): all power at (+-ky, +-kx), radius sqrt((kx/W)^2 + (ky/H)^2).
static void test_sinusoid(int ky, int kx, int h, int w, double r0, double want_hf) {
  double *x = sr_alloc(sizeof(double) * (size_t)(h * w));
  for (int y = 0; y < h; y++)
    for (int xx = 0; xx < w; xx++)
      x[y * w + xx] = 0.3 * cos(2 * M_PI * ((double)ky * y / h + (double)kx * xx / w));
  sr_err err = {0};
  sr_spectrum s;
  CHECK_OK(sr_spectrum_compute(&(sr_perturbations){x, 1, 1, h, w, SR_LAYOUT_NCHW}, r0, &s, &err), &err);
  sr_free(x);
  if (!s.map) return;
  double r = sqrt((double)kx * kx / ((double)w * w) + (double)ky * ky / ((double)h * h));
  int want = sr_spectral_bin(r), best = 0;
  for (int k = 1; k < SR_SPEC_NBINS; k++)
    if (s.radial[k] > s.radial[best]) best = k;
  CHECK(best == want && fabs(s.radial[best] - 1) < 1e-12, "sinusoid (%d,%d): peak bin %d, want %d (r=%.4f)",
        ky, kx, best, want, r);
  double other = 0;
  for (int k = 0; k < SR_SPEC_NBINS; k++)
    if (k != want) other += s.radial[k];
  CHECK(other < 1e-20, "sinusoid (%d,%d): power outside its bin %g", ky, kx, other);
  double peak = s.map[(h / 2 + ky) * w + (w / 2 + kx)], mirror = s.map[(h / 2 - ky) * w + (w / 2 - kx)];
  CHECK(fabs(peak - 1) < 1e-12 && fabs(mirror - 1) < 1e-12, "peaks at +-(ky,kx): %g %g", peak, mirror);
  CHECK(fabs(s.hf_share - want_hf) < 1e-12, "hf share %g, want %g", s.hf_share, want_hf);
  // Cumulative power steps from 0 to 1 exactly at the sinusoid's bin.
  for (int k = 0; k < SR_SPEC_NBINS; k++)
    CHECK(fabs(s.cumulative[k] - (k >= want ? 1.0 : 0.0)) < 1e-12, "cumulative[%d] = %g", k, s.cumulative[k]);
  sr_spectrum_free(&s);
}

static void test_white_noise(void) {
  const int n = 400, h = 32, w = 32;
  double *x = sr_alloc(sizeof(double) * (size_t)(n * h * w));
  sr_rng rng;
  sr_rng_seed(&rng, 11, 0);
  for (int i = 0; i < n * h * w; i++) x[i] = sr_rng_normal(&rng);
  sr_err err = {0};
  sr_spectrum s;
  CHECK_OK(sr_spectrum_compute(&(sr_perturbations){x, n, 1, h, w, SR_LAYOUT_NCHW}, 0.25, &s, &err), &err);
  sr_free(x);
  if (!s.map) return;
  double lo = 1;
  for (int k = 0; k < SR_SPEC_NBINS; k++)
    if (s.radial[k] < lo) lo = s.radial[k];
  CHECK(lo > 0.7, "white noise radial profile must be flat: min/max = %g", lo);
  // Flat spectrum: the cumulative share at each edge equals the share of frequency pixels inside it.
  int64_t cum = 0;
  double worst = 0;
  for (int k = 0; k < SR_SPEC_NBINS; k++) {
    cum += s.bin_count[k];
    double d = fabs(s.cumulative[k] - (double)cum / (h * w));
    if (d > worst) worst = d;
  }
  CHECK(worst < 0.02, "white noise cumulative vs pixel share: max diff %g", worst);
  double px[SR_SPEC_NBINS], py[SR_SPEC_NBINS];
  int np_ = sr_spectrum_radial_points(&s, px, py), nonempty = 0;
  for (int k = 0; k < SR_SPEC_NBINS; k++) nonempty += s.bin_count[k] > 0;
  CHECK(np_ == nonempty && np_ >= 20 && px[0] == 0.01 && py[0] == s.radial[0],
        "radial points skip only empty bins (%d)", np_);
  double hf_pixels = 0;
  for (int y = 0; y < h; y++)
    for (int xx = 0; xx < w; xx++) hf_pixels += sr_spectral_radius(y, xx, h, w) >= 0.25 - 1e-12;
  CHECK(fabs(s.hf_share - hf_pixels / (h * w)) < 0.02, "white noise hf share %g vs pixel share %g",
        s.hf_share, hf_pixels / (h * w));
  sr_spectrum_free(&s);
}

static void test_parseval(void) {
  const int n = 2, c = 3, h = 16, w = 20;
  double x[2 * 3 * 16 * 20], sumsq = 0;
  sr_rng rng;
  sr_rng_seed(&rng, 5, 0);
  for (int i = 0; i < n * c * h * w; i++) {
    x[i] = sr_rng_uniform(&rng) - 0.5;
    sumsq += x[i] * x[i];
  }
  sr_err err = {0};
  sr_spectrum s;
  CHECK_OK(sr_spectrum_compute(&(sr_perturbations){x, n, c, h, w, SR_LAYOUT_NCHW}, 0.25, &s, &err), &err);
  // total_power is the channel- and image-mean of sum |F|^2, which Parseval ties to H*W*sum x^2.
  double want = (double)h * w * sumsq / (n * c);
  CHECK(fabs(s.total_power - want) < 1e-10 * want, "Parseval: %.15g vs %.15g", s.total_power, want);
  double per = 0;
  for (int i = 0; i < n; i++) per += s.img_total[i];
  CHECK(fabs(per / n - want) < 1e-10 * want, "per-image totals average to the total");
  sr_spectrum_free(&s);
}

static void test_degenerate(void) {
  double z[4 * 8 * 8] = {0};
  sr_err err = {0};
  sr_spectrum s;
  CHECK(sr_spectrum_compute(&(sr_perturbations){z, 4, 1, 8, 8, SR_LAYOUT_NCHW}, 0.25, &s, &err) ==
            SR_ERR_NUMERIC,
        "all-zero input is an error");
  CHECK(strstr(err.msg, "zero") != NULL, "message says why: %s", err.msg);
  CHECK(s.map == NULL && s.img_high == NULL, "nothing left allocated on error");
  z[5] = NAN;
  CHECK(sr_spectrum_compute(&(sr_perturbations){z, 4, 1, 8, 8, SR_LAYOUT_NCHW}, 0.25, &s, &err) ==
            SR_ERR_NUMERIC,
        "NaN input is an error");
  z[5] = 1;
  CHECK(sr_spectrum_compute(&(sr_perturbations){z, 4, 1, 8, 8, SR_LAYOUT_NCHW}, 0.7, &s, &err) == SR_ERR_ARG,
        "r0 > 0.5 rejected");
  CHECK(sr_spectrum_compute(&(sr_perturbations){z, 4, 1, 1, 8, SR_LAYOUT_NCHW}, 0.25, &s, &err) == SR_ERR_ARG,
        "1-row planes rejected");
  CHECK(sr_spectrum_compute(&(sr_perturbations){z, 0, 1, 8, 8, SR_LAYOUT_NCHW}, 0.25, &s, &err) == SR_ERR_ARG,
        "no images rejected");
}

static void test_layout(void) {
  sr_npy a = {.dtype = SR_F32, .ndim = 4, .shape = {10, 3, 32, 32}};
  sr_layout l;
  int64_t c, h, w;
  sr_err err = {0};
  CHECK_OK(sr_spectral_layout(&a, SR_LAYOUT_AUTO, &l, &c, &h, &w, &err), &err);
  CHECK(l == SR_LAYOUT_NCHW && c == 3 && h == 32 && w == 32, "(N,3,32,32) is NCHW");
  a.shape[1] = 28;
  a.shape[2] = 30;
  a.shape[3] = 1;
  CHECK_OK(sr_spectral_layout(&a, SR_LAYOUT_AUTO, &l, &c, &h, &w, &err), &err);
  CHECK(l == SR_LAYOUT_NHWC && c == 1 && h == 28 && w == 30, "(N,28,30,1) is NHWC");
  a.shape[3] = 5;
  CHECK(sr_spectral_layout(&a, SR_LAYOUT_AUTO, &l, &c, &h, &w, &err) == SR_ERR_SHAPE,
        "(N,28,30,5) is ambiguous");
  CHECK_OK(sr_spectral_layout(&a, SR_LAYOUT_NHWC, &l, &c, &h, &w, &err), &err);
  CHECK(c == 5 && h == 28 && w == 30, "explicit layout wins");
  a.ndim = 3;
  a.shape[1] = 8;
  a.shape[2] = 9;
  CHECK_OK(sr_spectral_layout(&a, SR_LAYOUT_AUTO, &l, &c, &h, &w, &err), &err);
  CHECK(c == 1 && h == 8 && w == 9, "(N,H,W)");
  a.ndim = 2;
  CHECK(sr_spectral_layout(&a, SR_LAYOUT_AUTO, &l, &c, &h, &w, &err) == SR_ERR_SHAPE, "2-D rejected");
}

int main(void) {
  test_numpy_reference();
  test_sinusoid(3, 5, 32, 32, 0.25, 0.0);  // r = 0.182: bin 9, low frequency
  test_sinusoid(0, 8, 32, 32, 0.25, 1.0);  // r = 0.25 exactly: bin 12, counted as high
  test_sinusoid(4, 7, 16, 24, 0.25, 1.0);  // non-square, r = 0.386
  test_sinusoid(1, 0, 9, 12, 0.1, 1.0);    // odd height: r = 1/9 = 0.111 >= r0 = 0.1
  test_white_noise();
  test_parseval();
  test_degenerate();
  test_layout();
  return sr_test_done();
}
