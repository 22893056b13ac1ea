// Pearson and Spearman correlation of S^CNN against the target on a probe set (per-epoch logging).
#include <math.h>
#include <stdlib.h>

#include "internal.h"

static double pearson_d(const double *x, const double *y, int64_t n) {
  double mx = 0, my = 0;
  for (int64_t i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= (double)n;
  my /= (double)n;
  double sxy = 0, sxx = 0, syy = 0;
  for (int64_t i = 0; i < n; i++) {
    double a = x[i] - mx, b = y[i] - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

typedef struct {
  double v;
  int64_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
  const keyed *p = a, *q = b;
  return p->v < q->v ? -1 : p->v > q->v ? 1 : (p->i > q->i) - (p->i < q->i);
}

// Ranks 1..n with ties given their average rank.
static void ranks(const double *x, int64_t n, keyed *tmp, double *r) {
  for (int64_t i = 0; i < n; i++) tmp[i] = (keyed){x[i], i};
  qsort(tmp, (size_t)n, sizeof *tmp, cmp_keyed);
  for (int64_t a = 0; a < n;) {
    int64_t b = a;
    while (b + 1 < n && tmp[b + 1].v == tmp[a].v) b++;
    double avg = 0.5 * (double)(a + b) + 1;
    for (int64_t q = a; q <= b; q++) r[tmp[q].i] = avg;
    a = b + 1;
  }
}

sr_status sr_reg_correlations(const float *x, const float *y, int64_t n, double *pearson, double *spearman,
                              sr_err *err) {
  *pearson = *spearman = NAN;
  if (n < 2) return SR_OK;
  double *buf = sr_alloc(sizeof(double) * (size_t)n * 4);
  keyed *tmp = sr_alloc(sizeof(keyed) * (size_t)n);
  if (!buf || !tmp) {
    sr_free(buf);
    sr_free(tmp);
    return sr_fail(err, SR_ERR_NOMEM, "out of memory for correlations of %lld values", (long long)n);
  }
  double *xd = buf, *yd = buf + n, *rx = buf + 2 * n, *ry = buf + 3 * n;
  for (int64_t i = 0; i < n; i++) {
    xd[i] = x[i];
    yd[i] = y[i];
  }
  *pearson = pearson_d(xd, yd, n);
  ranks(xd, n, tmp, rx);
  ranks(yd, n, tmp, ry);
  *spearman = pearson_d(rx, ry, n);
  sr_free(buf);
  sr_free(tmp);
  return SR_OK;
}
