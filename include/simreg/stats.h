// Statistics for comparing runs: medians, percentile-bootstrap confidence intervals, Mann-Whitney U.
// Lives in src/spectral/stats.c (area sr_spectral). Deterministic: randomness only from the caller's sr_rng.
#ifndef SIMREG_STATS_H
#define SIMREG_STATS_H

#include "simreg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SR_BOOT_DEFAULT_B 2000

// Median of n finite values (mean of the two middle ones for even n). SR_ERR_ARG for n < 1,
// SR_ERR_NUMERIC for a non-finite value.
sr_status sr_median(const double *x, int64_t n, double *out, sr_err *err);
// qsort comparator of doubles, ascending.
int sr_cmp_double(const void *a, const void *b);
// Quantile q in [0,1] of sorted values, linear interpolation between order statistics (NumPy's default).
double sr_quantile_sorted(const double *sorted, int64_t n, double q);

// A statistic of a resample: idx[0..k) are indices (with repeats) into the caller's data in ctx.
typedef double (*sr_boot_stat)(const int64_t *idx, int64_t k, void *ctx);

typedef struct sr_ci {
  double estimate;  // the statistic on the original sample
  double lo, hi;    // percentile interval
  double level;     // e.g. 0.95
  int64_t b;        // resamples used
} sr_ci;

// Percentile bootstrap: B resamples of n indices drawn uniformly with replacement (sr_rng_below), the
// statistic on each, interval = quantiles (1-level)/2 and (1+level)/2 of the B values (linear interpolation).
// SR_ERR_ARG: n < 1, B < 2, level outside (0,1); SR_ERR_NUMERIC: the statistic returned a non-finite value.
// A sample to resample: n items, the statistic on a resample's indices, its context.
typedef struct sr_boot_sample {
  int64_t n;
  sr_boot_stat stat;
  void *ctx;
} sr_boot_sample;
// B = b resamples, confidence level, the rng drawing the indices.
typedef struct sr_boot_opts {
  int64_t b;
  double level;
  sr_rng *rng;
} sr_boot_opts;
sr_status sr_bootstrap(const sr_boot_sample *s, const sr_boot_opts *o, sr_ci *out, sr_err *err);
// Two-sample percentile bootstrap of stat2(sample 2) - stat1(sample 1): each resample draws n1 indices for
// sample 1, then n2 for sample 2, independently with replacement; estimate = the difference on the original
// samples. Same errors as sr_bootstrap (for either sample size).
sr_status sr_bootstrap_diff(const sr_boot_sample *s1, const sr_boot_sample *s2, const sr_boot_opts *o,
                            sr_ci *out, sr_err *err);
// Convenience: bootstrap CI of the median of x.
sr_status sr_bootstrap_median(const double *x, int64_t n, int64_t b, double level, sr_rng *rng, sr_ci *out,
                              sr_err *err);

typedef struct sr_mwu {
  double u1;      // U of the first sample: R1 - n1(n1+1)/2 (midranks for ties)
  double u2;      // n1*n2 - u1
  double z;       // (|u1 - n1 n2/2| - 0.5) / sd, tie-corrected sd; 0 when sd is 0
  double p;       // two-sided p-value of the normal approximation with continuity correction, <= 1
  double effect;  // u1 / (n1 n2): probability that a draw of sample 1 exceeds one of sample 2 (ties 1/2)
  int64_t n1, n2;
} sr_mwu;

// Mann-Whitney U test (two-sided) of x (n1) against y (n2). SR_ERR_ARG for an empty sample,
// SR_ERR_NUMERIC for a non-finite value. With all values tied, p = 1.
sr_status sr_mann_whitney(const double *x, int64_t n1, const double *y, int64_t n2, sr_mwu *out, sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
