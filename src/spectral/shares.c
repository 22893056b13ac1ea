// Power shares of a perturbation set as ratios of sums over images (high-frequency, high-frequency of the
// mean-removed spectrum, DC), their bootstrap CIs and the CI of a difference between two sets. Images are the
// resampling unit: a share is a ratio of sums over images, not a mean of per-image ratios.
#include <math.h>

#include "simreg/spectral.h"

static const double *share_num(const sr_spectrum *s, sr_share which) {
  return which == SR_SHARE_DC ? s->img_dc : s->img_high;
}

static const double *share_den(const sr_spectrum *s, sr_share which) {
  return which == SR_SHARE_HF_AC ? s->img_ac : s->img_total;
}

static double share_full(const sr_spectrum *s, sr_share which) {
  return which == SR_SHARE_DC ? s->dc_share : which == SR_SHARE_HF_AC ? s->hf_share_ac : s->hf_share;
}

double sr_spectrum_share_of(const sr_spectrum *s, sr_share which, const int64_t *idx, int64_t k) {
  const double *num = share_num(s, which), *den = share_den(s, which);
  double a = 0, b = 0;
  for (int64_t i = 0; i < k; i++) {
    a += num[idx[i]];
    b += den[idx[i]];
  }
  // A resample made only of images without power (in the denominator) carries no information: give it the
  // sample's share, as sr_spectrum_hf_share_of does.
  return b > 0 ? a / b : share_full(s, which);
}

typedef struct {
  const sr_spectrum *s;
  sr_share which;
} share_ctx;

static double share_stat(const int64_t *idx, int64_t k, void *ctx) {
  const share_ctx *c = ctx;
  return sr_spectrum_share_of(c->s, c->which, idx, k);
}

static sr_status check_set(const sr_spectrum *s, sr_share which, const char *what, sr_err *err) {
  if (!s->img_high || !s->img_dc || s->n < 1) return sr_fail(err, SR_ERR_ARG, "%s: no spectrum", what);
  if (which == SR_SHARE_HF_AC && !s->has_ac)
    return sr_fail(err, SR_ERR_NUMERIC, "%s: the mean-removed spectrum has no power (constant perturbations)",
                   what);
  return SR_OK;
}

sr_status sr_spectrum_share_ci(const sr_spectrum *s, sr_share which, int64_t b, double level, sr_rng *rng,
                               sr_ci *out, sr_err *err) {
  sr_status st = check_set(s, which, "share CI", err);
  if (st) return st;
  share_ctx c = {s, which};
  return sr_bootstrap(&(sr_boot_sample){.n = s->n, .stat = share_stat, .ctx = &c},
                      &(sr_boot_opts){.b = b, .level = level, .rng = rng}, out, err);
}

sr_status sr_spectrum_share_diff_ci(const sr_spectrum *ref, const sr_spectrum *s, sr_share which,
                                    const sr_boot_opts *bo, sr_ci *out, sr_err *err) {
  sr_status st = check_set(ref, which, "share difference CI (reference set)", err);
  if (!st) st = check_set(s, which, "share difference CI", err);
  if (st) return st;
  share_ctx c1 = {ref, which}, c2 = {s, which};
  return sr_bootstrap_diff(&(sr_boot_sample){.n = ref->n, .stat = share_stat, .ctx = &c1},
                           &(sr_boot_sample){.n = s->n, .stat = share_stat, .ctx = &c2}, bo, out, err);
}
