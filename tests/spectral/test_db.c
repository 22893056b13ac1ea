// Log-power map and DC handling: a cosine plus a constant offset puts all mean-removed power in the two
// mirrored bins of its frequency, the DC share is the offset's power share in closed form, the mean-removed
// spectrum equals the spectrum of the literally mean-subtracted input and has no DC power; constant input has
// no mean-removed spectrum.
#include "simreg/spectral.h"
#include "sr_test.h"

#define FLOOR_DB (-200.0)

// x (N,C,H,W): image i, channel ch = amp[i][ch] cos(2 pi (kx x / W + ky y / H)) + off[i][ch].
static double *cosine_set(int n, int c, int h, int w, int ky, int kx, const double *amp, const double *off) {
  double *x = sr_alloc(sizeof(double) * (size_t)(n * c * h * w));
  for (int p = 0; p < n * c; p++)
    for (int y = 0; y < h; y++)
      for (int xx = 0; xx < w; xx++)
        x[(p * h + y) * w + xx] =
            amp[p] * cos(2 * M_PI * ((double)kx * xx / w + (double)ky * y / h)) + off[p];
  return x;
}

static void test_cosine_offset(int h, int w, int ky, int kx) {
  enum { N = 2, C = 2 };
  const double amp[N * C] = {0.3, 0.1, 0.2, 0.05}, off[N * C] = {0.2, -0.05, 0.0, 0.1};
  double *x = cosine_set(N, C, h, w, ky, kx, amp, off);
  sr_err err = {0};
  sr_spectrum s;
  CHECK_OK(sr_spectrum_compute(&(sr_perturbations){x, N, C, h, w, SR_LAYOUT_NCHW}, 0.25, &s, &err), &err);
  if (!s.map) {
    sr_free(x);
    return;
  }
  // Parseval per plane: DC power (HW c)^2, total HW^2 (c^2 + a^2/2) for a non-Nyquist cosine.
  double num = 0, den = 0;
  for (int p = 0; p < N * C; p++) {
    num += off[p] * off[p];
    den += off[p] * off[p] + amp[p] * amp[p] / 2;
  }
  CHECK(fabs(s.dc_share - num / den) < 1e-12, "%dx%d: DC share %.15g, closed form %.15g", h, w, s.dc_share,
        num / den);
  CHECK(s.has_ac && fabs(s.ac_total_power - s.total_power * (1 - num / den)) < 1e-10 * s.total_power,
        "%dx%d: mean-removed total is the rest", h, w);
  double r = sqrt((double)kx * kx / ((double)w * w) + (double)ky * ky / ((double)h * h));
  double want_hf = r >= 0.25 ? 1.0 : 0.0;
  CHECK(fabs(s.hf_share_ac - want_hf) < 1e-12, "%dx%d: mean-removed HF share %g", h, w, s.hf_share_ac);
  CHECK(fabs(s.hf_share - want_hf * (1 - num / den)) < 1e-12, "%dx%d: HF share with DC %g", h, w, s.hf_share);

  double *db = sr_alloc(sizeof(double) * (size_t)(h * w)), peak;
  CHECK_OK(sr_spectrum_db_map(&s, FLOOR_DB, db, &peak, &err), &err);
  int64_t dc = (h / 2) * w + w / 2, at = (h / 2 + ky) * w + (w / 2 + kx),
          mirror = (h / 2 - ky) * w + (w / 2 - kx);
  CHECK(isnan(db[dc]), "%dx%d: DC pixel masked", h, w);
  // All mean-removed power sits in the two mirrored bins, half each: -3.01 dB of the mean-removed total.
  double half = 10 * log10(0.5), other = FLOOR_DB;
  CHECK(fabs(db[at] - half) < 1e-9 && fabs(db[mirror] - half) < 1e-9 && fabs(peak - half) < 1e-9,
        "%dx%d: peaks at +-(%d,%d): %g %g (peak %g)", h, w, ky, kx, db[at], db[mirror], peak);
  for (int64_t i = 0; i < h * w; i++)
    if (i != dc && i != at && i != mirror && db[i] > other) other = db[i];
  CHECK(other < -150, "%dx%d: nothing elsewhere (max %g dB)", h, w, other);

  // The same set with each image-channel's mean subtracted before the FFT: no DC power, same dB map.
  for (int p = 0; p < N * C; p++)
    for (int q = 0; q < h * w; q++) x[p * h * w + q] -= off[p];
  sr_spectrum m;
  CHECK_OK(sr_spectrum_compute(&(sr_perturbations){x, N, C, h, w, SR_LAYOUT_NCHW}, 0.25, &m, &err), &err);
  if (m.map) {
    CHECK(m.dc_share < 1e-25, "%dx%d: mean-subtracted input has no DC power (%g)", h, w, m.dc_share);
    CHECK(fabs(m.total_power - s.ac_total_power) < 1e-10 * m.total_power, "%dx%d: mean-removed total", h, w);
    double *db2 = sr_alloc(sizeof(double) * (size_t)(h * w)), worst = 0;
    CHECK_OK(sr_spectrum_db_map(&m, FLOOR_DB, db2, NULL, &err), &err);
    for (int64_t i = 0; i < h * w; i++)
      if (i != dc && db[i] > -100 && fabs(db[i] - db2[i]) > worst) worst = fabs(db[i] - db2[i]);
    CHECK(worst < 1e-9, "%dx%d: dB map equals the mean-subtracted input's (max diff %g dB)", h, w, worst);
    sr_free(db2);
  }
  sr_spectrum_free(&m);

  // Mean-removed radial profile: the cosine's bin holds 2 of its count_ac pixels' share, others none.
  double px[SR_SPEC_NBINS], py[SR_SPEC_NBINS];
  int np_ = sr_spectrum_radial_db_points(&s, FLOOR_DB, px, py), bin = sr_spectral_bin(r), found = 0;
  for (int i = 0; i < np_; i++) {
    int k = (int)floor(px[i] / (SR_SPEC_RMAX / SR_SPEC_NBINS));
    if (k == bin) {
      found = 1;
      CHECK(fabs(py[i] - 10 * log10(1.0 / (double)s.bin_count_ac[k])) < 1e-9,
            "%dx%d: radial dB at the peak %g", h, w, py[i]);
    } else {
      CHECK(py[i] < -150, "%dx%d: radial bin %d empty of power (%g dB)", h, w, k, py[i]);
    }
  }
  CHECK(found, "%dx%d: the cosine's bin %d is a radial point", h, w, bin);
  CHECK(s.bin_count_ac[0] == s.bin_count[0] - 1, "%dx%d: DC pixel left out of bin 0", h, w);
  sr_free(db);
  sr_free(x);
  sr_spectrum_free(&s);
}

static void test_constant(void) {
  double x[3 * 8 * 8];
  for (int i = 0; i < 3 * 8 * 8; i++) x[i] = 0.1 * (1 + i / 64);
  sr_err err = {0};
  sr_spectrum s;
  CHECK_OK(sr_spectrum_compute(&(sr_perturbations){x, 3, 1, 8, 8, SR_LAYOUT_NCHW}, 0.25, &s, &err), &err);
  if (!s.map) return;
  CHECK(!s.has_ac && fabs(s.dc_share - 1) < 1e-15 && s.ac_total_power == 0 && isnan(s.hf_share_ac),
        "constant perturbations: all DC, no mean-removed spectrum (dc %.17g)", s.dc_share);
  double db[64], px[SR_SPEC_NBINS], py[SR_SPEC_NBINS];
  CHECK(sr_spectrum_db_map(&s, FLOOR_DB, db, NULL, &err) == SR_ERR_NUMERIC, "no dB map: %s", err.msg);
  CHECK(sr_spectrum_radial_db_points(&s, FLOOR_DB, px, py) == 0, "no dB radial points");
  sr_rng rng;
  sr_rng_seed(&rng, 1, 0);
  sr_ci ci;
  CHECK(sr_spectrum_share_ci(&s, SR_SHARE_HF_AC, 50, 0.95, &rng, &ci, &err) == SR_ERR_NUMERIC,
        "no mean-removed share CI");
  CHECK_OK(sr_spectrum_share_ci(&s, SR_SHARE_DC, 50, 0.95, &rng, &ci, &err), &err);
  CHECK(fabs(ci.estimate - 1) < 1e-15 && fabs(ci.lo - 1) < 1e-15 && fabs(ci.hi - 1) < 1e-15,
        "DC share CI of constants is 1");
  sr_spectrum_free(&s);
}

int main(void) {
  test_cosine_offset(28, 28, 3, 5);  // r = 0.208: low frequency
  test_cosine_offset(32, 32, 2, 9);  // r = 0.285: high frequency
  test_cosine_offset(28, 32, 7, 4);  // non-square, r = 0.276
  test_constant();
  return sr_test_done();
}
