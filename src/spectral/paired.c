// Paired statistics for the report's verdicts: McNemar's exact test, bootstrap intervals of paired accuracy
// differences and ratios (resampling images), and of the ratio of two independent medians.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simreg/verdict.h"

double sr_mcnemar_p(int64_t b, int64_t c) {
  int64_t n = b + c, m = b < c ? b : c;
  if (n <= 0) return 1.0;
  // P(X <= m) for X ~ Binomial(n, 1/2), summed in log space from the mode side for accuracy
  double lognorm = (double)n * log(2.0), sum = 0;
  for (int64_t k = 0; k <= m; k++)
    sum += exp(lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) - lognorm);
  double p = 2 * sum;
  return p < 1 ? p : 1;
}

typedef struct paired_ctx {
  const int32_t *sa, *sb;  // (n) correct draws per image
  int64_t reps;
  int ratio;
} paired_ctx;

static double paired_stat(const int64_t *idx, int64_t k, void *p) {
  const paired_ctx *c = p;
  double a = 0, b = 0;
  for (int64_t j = 0; j < k; j++) {
    a += c->sa[idx[j]];
    b += c->sb[idx[j]];
  }
  if (c->ratio) return a > 0 ? b / a : NAN;
  return (b - a) / ((double)k * (double)c->reps);
}

static sr_status paired_ci(const sr_paired01 *p, int ratio, int64_t nboot, double level, sr_rng *rng,
                           sr_ci *out, sr_err *err) {
  if (!p->a || !p->b || p->n < 1 || p->reps < 1)
    return sr_fail(err, SR_ERR_ARG, "paired interval: no images");
  int32_t *sa = sr_calloc((size_t)p->n, sizeof(int32_t)), *sb = sr_calloc((size_t)p->n, sizeof(int32_t));
  if (!sa || !sb) {
    sr_free(sa);
    sr_free(sb);
    return sr_fail(err, SR_ERR_NOMEM, "paired interval over %lld images", (long long)p->n);
  }
  for (int64_t r = 0; r < p->reps; r++)
    for (int64_t i = 0; i < p->n; i++) {
      sa[i] += p->a[r * p->n + i] != 0;
      sb[i] += p->b[r * p->n + i] != 0;
    }
  paired_ctx c = {.sa = sa, .sb = sb, .reps = p->reps, .ratio = ratio};
  sr_status st = sr_bootstrap(&(sr_boot_sample){.n = p->n, .stat = paired_stat, .ctx = &c},
                              &(sr_boot_opts){.b = nboot, .level = level, .rng = rng}, out, err);
  sr_free(sa);
  sr_free(sb);
  return st;
}

sr_status sr_paired_diff_ci(const sr_paired01 *p, int64_t nboot, double level, sr_rng *rng, sr_ci *out,
                            sr_err *err) {
  return paired_ci(p, 0, nboot, level, rng, out, err);
}

sr_status sr_paired_ratio_ci(const sr_paired01 *p, int64_t nboot, double level, sr_rng *rng, sr_ci *out,
                             sr_err *err) {
  return paired_ci(p, 1, nboot, level, rng, out, err);
}

void sr_paired_discordant(const sr_paired01 *p, int64_t *only_a, int64_t *only_b) {
  *only_a = *only_b = 0;
  for (int64_t j = 0; j < p->n * p->reps; j++) {
    int a = p->a[j] != 0, b = p->b[j] != 0;
    *only_a += a && !b;
    *only_b += b && !a;
  }
}

// Median of a resample of x (n values) drawn into buf.
static double resample_median(const double *x, int64_t n, double *buf, sr_rng *rng) {
  for (int64_t j = 0; j < n; j++) buf[j] = x[sr_rng_below(rng, (uint32_t)n)];
  qsort(buf, (size_t)n, sizeof(double), sr_cmp_double);
  return sr_quantile_sorted(buf, n, 0.5);
}

sr_status sr_median_ratio_ci(const sr_values *xs, const sr_values *ys, const sr_boot_opts *bo, sr_ci *out,
                             sr_err *err) {
  const double *x = xs->x, *y = ys->x;
  const int64_t nx = xs->n, ny = ys->n, nboot = bo->b;
  const double level = bo->level;
  sr_rng *rng = bo->rng;
  if (nx < 1 || ny < 1 || nboot < 2 || !(level > 0 && level < 1))
    return sr_fail(err, SR_ERR_ARG, "ratio of medians: need two non-empty samples, B >= 2, level in (0,1)");
  double mx, my;
  sr_status st = sr_median(x, nx, &mx, err);
  if (!st) st = sr_median(y, ny, &my, err);
  if (st) return st;
  if (!(mx > 0)) return sr_fail(err, SR_ERR_NUMERIC, "ratio of medians: the first median is %g", mx);
  double *buf = sr_alloc((size_t)(nx > ny ? nx : ny) * sizeof(double)),
         *v = sr_alloc((size_t)nboot * sizeof(double));
  if (!buf || !v) {
    sr_free(buf);
    sr_free(v);
    return sr_fail(err, SR_ERR_NOMEM, "ratio of medians bootstrap");
  }
  for (int64_t k = 0; k < nboot; k++) {
    double a = resample_median(x, nx, buf, rng), b = resample_median(y, ny, buf, rng);
    v[k] = a > 0 ? b / a : INFINITY;  // a resampled median of 0: the ratio is unbounded
  }
  qsort(v, (size_t)nboot, sizeof(double), sr_cmp_double);
  *out = (sr_ci){.estimate = my / mx,
                 .lo = sr_quantile_sorted(v, nboot, (1 - level) / 2),
                 .hi = sr_quantile_sorted(v, nboot, (1 + level) / 2),
                 .level = level,
                 .b = nboot};
  sr_free(buf);
  sr_free(v);
  return SR_OK;
}
