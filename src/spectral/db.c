// Log-power (dB) views of the mean-removed spectrum: the 2D map with the DC pixel masked and the radial
// profile, both relative to the mean-removed total power so that two sets compare as distributions of power
// over frequencies.
#include <math.h>

#include "simreg/spectral.h"

static double db_floored(double ratio, double floor_db) {
  double v = ratio > 0 ? 10.0 * log10(ratio) : -INFINITY;
  return v > floor_db ? v : floor_db;
}

sr_status sr_spectrum_db_map(const sr_spectrum *s, double floor_db, double *out, double *peak_db,
                             sr_err *err) {
  if (!s->map || s->h < 1 || s->w < 1) return sr_fail(err, SR_ERR_ARG, "dB map: no spectrum");
  if (!isfinite(floor_db)) return sr_fail(err, SR_ERR_ARG, "dB map: floor %g is not finite", floor_db);
  if (!s->has_ac)
    return sr_fail(err, SR_ERR_NUMERIC,
                   "dB map: the mean-removed spectrum has no power (constant perturbations)");
  int64_t hw = s->h * s->w, dc = (s->h / 2) * s->w + s->w / 2;
  // map is max-normalized; map * map_max is the mean power again.
  double scale = s->map_max / s->ac_total_power, peak = -INFINITY;
  for (int64_t i = 0; i < hw; i++) {
    if (i == dc) {
      out[i] = NAN;
      continue;
    }
    out[i] = db_floored(s->map[i] * scale, floor_db);
    if (out[i] > peak) peak = out[i];
  }
  if (peak_db) *peak_db = peak;
  return SR_OK;
}

int sr_spectrum_radial_db_points(const sr_spectrum *s, double floor_db, double *x, double *y) {
  if (!s->has_ac) return 0;
  int n = 0;
  for (int k = 0; k < SR_SPEC_NBINS; k++)
    if (s->bin_count_ac[k] > 0)
      x[n] = (k + 0.5) * SR_SPEC_RMAX / SR_SPEC_NBINS, y[n++] = db_floored(s->radial_ac[k], floor_db);
  return n;
}
