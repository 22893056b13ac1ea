// Bootstrap CI of the high-frequency share: the share is a ratio of sums over images, so resampling images
// and recomputing sum(high)/sum(total) is the right unit of resampling.
#include "simreg/spectral.h"

static double hf_stat(const int64_t *idx, int64_t k, void *ctx) {
  return sr_spectrum_hf_share_of((const sr_spectrum *)ctx, idx, k);
}

sr_status sr_spectrum_hf_ci(const sr_spectrum *s, int64_t b, double level, sr_rng *rng, sr_ci *out,
                            sr_err *err) {
  if (!s->img_high || s->n < 1) return sr_fail(err, SR_ERR_ARG, "hf share CI: no spectrum");
  return sr_bootstrap(&(sr_boot_sample){.n = s->n, .stat = hf_stat, .ctx = (void *)s},
                      &(sr_boot_opts){.b = b, .level = level, .rng = rng}, out, err);
}
