// The paper's model-selection rule (PAPER.md, "selection"): a regularized setting counts only when it keeps
// >= 90% of the baseline's clean accuracy; the survivors are ranked by robustness at the highest distortion.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"
#include "simreg/report.h"

static const sr_curve *find_curve(const sr_curve *c, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (!strcmp(c[i].name, name)) return &c[i];
  return NULL;
}

static double level0(const sr_curve *c) {
  for (int64_t k = 0; k < c->n; k++)
    if (c->levels[k] == 0) return c->acc[k];
  return NAN;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(const double *v, int64_t n) {
  double *t = sr_alloc((size_t)n * sizeof *t);
  if (!t) return NAN;
  memcpy(t, v, (size_t)n * sizeof *t);
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  double m = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  sr_free(t);
  return m;
}

// clean and score of one run under `metric` (validated by the caller).
static void measure(const sr_run *r, const char *metric, double *clean, double *score) {
  *clean = NAN;
  *score = NAN;
  if (!strcmp(metric, "boundary")) {
    *clean = sr_run_clean(r);
    *score = r->n_norms > 0 ? median(r->norms, r->n_norms) : r->boundary.estimate;
    return;
  }
  int noise = !strncmp(metric, "noise:", 6);
  const char *kind = strchr(metric, ':') + 1;
  const sr_curve *c =
      noise ? find_curve(r->noise, r->n_noise, kind) : find_curve(r->transfer, r->n_transfer, kind);
  if (!c || c->n < 1) return;
  *score = c->acc[sr_curve_strongest(c)];
  *clean = level0(c);
  if (!isfinite(*clean)) *clean = sr_run_clean(r);
}

sr_status sr_select_rank(const sr_run *base, const sr_run *runs, int n, sr_selection *sel,
                         sr_select_row *rows, sr_err *err) {
  const char *metric = sel->metric;
  const double ratio = sel->ratio;
  double *base_clean = &sel->base_clean, *base_score = &sel->base_score;
  int ok = metric && (!strcmp(metric, "boundary") || (!strncmp(metric, "noise:", 6) && metric[6]) ||
                      (!strncmp(metric, "transfer:", 9) && metric[9]));
  if (!ok)
    return sr_fail(err, SR_ERR_ARG, "--metric: '%s' is not boundary, noise:KIND or transfer:KIND",
                   metric ? metric : "");
  if (!(ratio > 0 && ratio <= 1)) return sr_fail(err, SR_ERR_ARG, "--ratio: %g is not in (0, 1]", ratio);
  measure(base, metric, base_clean, base_score);
  if (!isfinite(*base_clean))
    return sr_fail(err, SR_ERR_FORMAT, "%s: the baseline has no clean accuracy for %s (run the attack first)",
                   base->dir, metric);
  for (int i = 0; i < n; i++) {
    measure(&runs[i], metric, &rows[i].clean, &rows[i].score);
    rows[i].kept = isfinite(rows[i].clean) && isfinite(rows[i].score) && rows[i].clean >= ratio * *base_clean;
    rows[i].rank = 0;
  }
  // Rank by score (descending); ties keep the given order.
  for (int i = 0; i < n; i++) {
    if (!rows[i].kept) continue;
    int r = 1;
    for (int j = 0; j < n; j++)
      if (j != i && rows[j].kept &&
          (rows[j].score > rows[i].score || (rows[j].score == rows[i].score && j < i)))
        r++;
    rows[i].rank = r;
  }
  return SR_OK;
}
