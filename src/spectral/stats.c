// Medians, percentile bootstrap and the Mann-Whitney U test (normal approximation, tie and continuity
// corrections), written to match the textbook formulas that tests/spectral/gen_ref.py evaluates with NumPy.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simreg/stats.h"

int sr_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static sr_status check_finite(const double *x, int64_t n, const char *what, sr_err *err) {
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return sr_fail(err, SR_ERR_NUMERIC, "%s: value %lld is not finite", what, (long long)i);
  return SR_OK;
}

double sr_quantile_sorted(const double *sorted, int64_t n, double q) {
  double pos = q * (double)(n - 1);
  int64_t lo = (int64_t)floor(pos);
  if (lo >= n - 1) return sorted[n - 1];
  if (lo < 0) return sorted[0];
  double t = pos - (double)lo;
  return sorted[lo] + t * (sorted[lo + 1] - sorted[lo]);
}

static double median_sorted(const double *s, int64_t n) {
  return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

sr_status sr_median(const double *x, int64_t n, double *out, sr_err *err) {
  if (n < 1) return sr_fail(err, SR_ERR_ARG, "median: empty sample");
  sr_status st = check_finite(x, n, "median", err);
  if (st) return st;
  double *s = sr_alloc((size_t)n * sizeof(double));
  if (!s) return sr_fail(err, SR_ERR_NOMEM, "median: cannot allocate %lld values", (long long)n);
  memcpy(s, x, (size_t)n * sizeof(double));
  qsort(s, (size_t)n, sizeof(double), sr_cmp_double);
  *out = median_sorted(s, n);
  sr_free(s);
  return SR_OK;
}

// Percentile interval of the B resampled statistics (sorted in place) into out->lo, hi, level, b.
static void percentile_ci(double *vals, int64_t b, double level, sr_ci *out) {
  qsort(vals, (size_t)b, sizeof(double), sr_cmp_double);
  out->lo = sr_quantile_sorted(vals, b, (1 - level) / 2);
  out->hi = sr_quantile_sorted(vals, b, (1 + level) / 2);
  out->level = level;
  out->b = b;
}

sr_status sr_bootstrap(const sr_boot_sample *s, const sr_boot_opts *o, sr_ci *out, sr_err *err) {
  const int64_t n = s->n, b = o->b;
  const sr_boot_stat stat = s->stat;
  void *ctx = s->ctx;
  const double level = o->level;
  sr_rng *rng = o->rng;
  if (n < 1 || n > (int64_t)UINT32_MAX)
    return sr_fail(err, SR_ERR_ARG, "bootstrap: sample size %lld", (long long)n);
  if (b < 2) return sr_fail(err, SR_ERR_ARG, "bootstrap: need at least 2 resamples (got %lld)", (long long)b);
  if (!(level > 0 && level < 1))
    return sr_fail(err, SR_ERR_ARG, "bootstrap: level %g is outside (0,1)", level);
  int64_t *idx = sr_alloc((size_t)n * sizeof(int64_t));
  double *vals = sr_alloc((size_t)b * sizeof(double));
  if (!idx || !vals) {
    sr_free(idx);
    sr_free(vals);
    return sr_fail(err, SR_ERR_NOMEM, "bootstrap: cannot allocate %lld resamples", (long long)b);
  }
  sr_status st = SR_OK;
  for (int64_t i = 0; i < n; i++) idx[i] = i;
  out->estimate = stat(idx, n, ctx);
  for (int64_t r = 0; r < b && !st; r++) {
    for (int64_t i = 0; i < n; i++) idx[i] = sr_rng_below(rng, (uint32_t)n);
    vals[r] = stat(idx, n, ctx);
    if (!isfinite(vals[r]))
      st = sr_fail(err, SR_ERR_NUMERIC, "bootstrap: resample %lld gave a non-finite statistic", (long long)r);
  }
  if (!st && !isfinite(out->estimate))
    st = sr_fail(err, SR_ERR_NUMERIC, "bootstrap: the statistic is not finite");
  if (!st) percentile_ci(vals, b, level, out);
  sr_free(idx);
  sr_free(vals);
  return st;
}

static sr_status check_boot_args(int64_t n, int64_t b, double level, const char *what, sr_err *err) {
  if (n < 1 || n > (int64_t)UINT32_MAX)
    return sr_fail(err, SR_ERR_ARG, "%s: sample size %lld", what, (long long)n);
  if (b < 2) return sr_fail(err, SR_ERR_ARG, "%s: need at least 2 resamples (got %lld)", what, (long long)b);
  if (!(level > 0 && level < 1))
    return sr_fail(err, SR_ERR_ARG, "%s: level %g is outside (0,1)", what, level);
  return SR_OK;
}

static void draw_indices(int64_t *idx, int64_t n, sr_rng *rng) {
  for (int64_t i = 0; i < n; i++) idx[i] = sr_rng_below(rng, (uint32_t)n);
}

sr_status sr_bootstrap_diff(const sr_boot_sample *s1, const sr_boot_sample *s2, const sr_boot_opts *o,
                            sr_ci *out, sr_err *err) {
  const int64_t n1 = s1->n, n2 = s2->n, b = o->b;
  const sr_boot_stat stat1 = s1->stat, stat2 = s2->stat;
  void *ctx1 = s1->ctx, *ctx2 = s2->ctx;
  const double level = o->level;
  sr_rng *rng = o->rng;
  sr_status st = check_boot_args(n1, b, level, "bootstrap difference (sample 1)", err);
  if (!st) st = check_boot_args(n2, b, level, "bootstrap difference (sample 2)", err);
  if (st) return st;
  int64_t *i1 = sr_alloc((size_t)n1 * sizeof(int64_t)), *i2 = sr_alloc((size_t)n2 * sizeof(int64_t));
  double *vals = sr_alloc((size_t)b * sizeof(double));
  if (!i1 || !i2 || !vals) {
    st = sr_fail(err, SR_ERR_NOMEM, "bootstrap difference: cannot allocate %lld resamples", (long long)b);
    goto done;
  }
  for (int64_t i = 0; i < n1; i++) i1[i] = i;
  for (int64_t i = 0; i < n2; i++) i2[i] = i;
  out->estimate = stat2(i2, n2, ctx2) - stat1(i1, n1, ctx1);
  if (!isfinite(out->estimate))
    st = sr_fail(err, SR_ERR_NUMERIC, "bootstrap difference: the statistic is not finite");
  for (int64_t r = 0; r < b && !st; r++) {
    draw_indices(i1, n1, rng);
    draw_indices(i2, n2, rng);
    vals[r] = stat2(i2, n2, ctx2) - stat1(i1, n1, ctx1);
    if (!isfinite(vals[r]))
      st = sr_fail(err, SR_ERR_NUMERIC, "bootstrap difference: resample %lld gave a non-finite statistic",
                   (long long)r);
  }
  if (!st) percentile_ci(vals, b, level, out);
done:
  sr_free(i1);
  sr_free(i2);
  sr_free(vals);
  return st;
}

typedef struct {
  const double *x;
  double *scratch;
} median_ctx;

static double median_of(const int64_t *idx, int64_t k, void *ctx) {
  median_ctx *m = ctx;
  for (int64_t i = 0; i < k; i++) m->scratch[i] = m->x[idx[i]];
  qsort(m->scratch, (size_t)k, sizeof(double), sr_cmp_double);
  return median_sorted(m->scratch, k);
}

sr_status sr_bootstrap_median(const double *x, int64_t n, int64_t b, double level, sr_rng *rng, sr_ci *out,
                              sr_err *err) {
  if (n < 1) return sr_fail(err, SR_ERR_ARG, "bootstrap median: empty sample");
  sr_status st = check_finite(x, n, "bootstrap median", err);
  if (st) return st;
  median_ctx m = {x, sr_alloc((size_t)n * sizeof(double))};
  if (!m.scratch)
    return sr_fail(err, SR_ERR_NOMEM, "bootstrap median: cannot allocate %lld values", (long long)n);
  st = sr_bootstrap(&(sr_boot_sample){.n = n, .stat = median_of, .ctx = &m},
                    &(sr_boot_opts){.b = b, .level = level, .rng = rng}, out, err);
  sr_free(m.scratch);
  return st;
}

typedef struct {
  double v;
  int g;  // 0: first sample, 1: second
} tagged;

static int cmp_tagged(const void *a, const void *b) {
  return sr_cmp_double(&((const tagged *)a)->v, &((const tagged *)b)->v);
}

sr_status sr_mann_whitney(const double *x, int64_t n1, const double *y, int64_t n2, sr_mwu *out,
                          sr_err *err) {
  if (n1 < 1 || n2 < 1)
    return sr_fail(err, SR_ERR_ARG, "Mann-Whitney: empty sample (n1=%lld, n2=%lld)", (long long)n1,
                   (long long)n2);
  sr_status st = check_finite(x, n1, "Mann-Whitney sample 1", err);
  if (!st) st = check_finite(y, n2, "Mann-Whitney sample 2", err);
  if (st) return st;
  int64_t n = n1 + n2;
  tagged *all = sr_alloc((size_t)n * sizeof(tagged));
  if (!all) return sr_fail(err, SR_ERR_NOMEM, "Mann-Whitney: cannot allocate %lld values", (long long)n);
  for (int64_t i = 0; i < n1; i++) all[i] = (tagged){x[i], 0};
  for (int64_t i = 0; i < n2; i++) all[n1 + i] = (tagged){y[i], 1};
  qsort(all, (size_t)n, sizeof(tagged), cmp_tagged);
  // Midranks: a run of t ties at 1-based ranks i+1..i+t all get i + (t+1)/2; the run adds t^3 - t to the
  // tie term of the variance.
  double r1 = 0, ties = 0;
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    while (j < n && all[j].v == all[i].v) j++;
    double t = (double)(j - i), rank = (double)i + (t + 1) / 2;
    for (int64_t k = i; k < j; k++)
      if (all[k].g == 0) r1 += rank;
    ties += t * t * t - t;
    i = j;
  }
  sr_free(all);
  double a = (double)n1, b = (double)n2, nn = (double)n;
  out->n1 = n1;
  out->n2 = n2;
  out->u1 = r1 - a * (a + 1) / 2;
  out->u2 = a * b - out->u1;
  out->effect = out->u1 / (a * b);
  double mu = a * b / 2;
  double var = n > 1 ? a * b / 12 * ((nn + 1) - ties / (nn * (nn - 1))) : 0;
  if (!(var > 0)) {  // every value tied: no evidence either way
    out->z = 0;
    out->p = 1;
    return SR_OK;
  }
  double d = fabs(out->u1 - mu) - 0.5;
  if (d < 0) d = 0;
  out->z = d / sqrt(var);
  out->p = erfc(out->z / sqrt(2.0));
  if (out->p > 1) out->p = 1;
  return SR_OK;
}
