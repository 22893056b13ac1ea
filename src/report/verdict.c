// The verdict rules: a claim's effect and interval (and test) become "supports", "contradicts" or
// "inconclusive"; nothing else decides a verdict (docs/REPORT.md, "Verdicts").
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "simreg/verdict.h"

const char *sr_verdict_name(sr_verdict_word w) {
  switch (w) {
    case SR_VERDICT_SUPPORTS:
      return "supports";
    case SR_VERDICT_CONTRADICTS:
      return "contradicts";
    case SR_VERDICT_INCONCLUSIVE:
      return "inconclusive";
    default:
      return "not measured";
  }
}

static int finite_ci(const sr_ci *e) { return isfinite(e->estimate) && !isnan(e->lo) && !isnan(e->hi); }

sr_verdict_word sr_verdict_gain(const sr_ci *e, double null, double p) {
  if (!finite_ci(e) || isnan(p)) return SR_VERDICT_NOT_MEASURED;
  if (e->lo > null && p < SR_VERDICT_ALPHA) return SR_VERDICT_SUPPORTS;
  if (e->hi < null && p < SR_VERDICT_ALPHA) return SR_VERDICT_CONTRADICTS;
  return SR_VERDICT_INCONCLUSIVE;
}

sr_verdict_word sr_verdict_reduction(const sr_ci *e, double null) {
  if (!finite_ci(e)) return SR_VERDICT_NOT_MEASURED;
  if (e->hi < null) return SR_VERDICT_SUPPORTS;
  if (e->lo > null) return SR_VERDICT_CONTRADICTS;
  return SR_VERDICT_INCONCLUSIVE;
}

sr_verdict_word sr_verdict_cost(const sr_ci *ratio) {
  if (!finite_ci(ratio)) return SR_VERDICT_NOT_MEASURED;
  if (ratio->lo >= SR_VERDICT_CLEAN_RATIO) return SR_VERDICT_SUPPORTS;
  if (ratio->hi < SR_VERDICT_CLEAN_RATIO) return SR_VERDICT_CONTRADICTS;
  return SR_VERDICT_INCONCLUSIVE;
}

static double mean01(const uint8_t *v, int64_t n) {
  int64_t s = 0;
  for (int64_t j = 0; j < n; j++) s += v[j] != 0;
  return n ? (double)s / (double)n : NAN;
}

sr_status sr_verdict_accuracy(const sr_paired01 *p, int cost, int64_t nboot, sr_rng *rng, sr_verdict *v,
                              sr_err *err) {
  int64_t only_a, only_b;
  sr_paired_discordant(p, &only_a, &only_b);
  v->base = mean01(p->a, p->n * p->reps);
  v->run = mean01(p->b, p->n * p->reps);
  v->p = sr_mcnemar_p(only_a, only_b);
  snprintf(v->test, sizeof v->test, "McNemar exact (%lld vs %lld discordant)", (long long)only_a,
           (long long)only_b);
  snprintf(v->effect_kind, sizeof v->effect_kind, "%s", cost ? "ratio" : "difference");
  sr_status st = cost ? sr_paired_ratio_ci(p, nboot, 0.95, rng, &v->effect, err)
                      : sr_paired_diff_ci(p, nboot, 0.95, rng, &v->effect, err);
  if (st) return st;
  v->word = cost ? sr_verdict_cost(&v->effect) : sr_verdict_gain(&v->effect, 0, v->p);
  return SR_OK;
}

sr_status sr_verdict_distance(const sr_values *bs, const sr_values *rs, int converged, int64_t nboot,
                              sr_rng *rng, sr_verdict *v, sr_err *err) {
  const double *base = bs->x, *run = rs->x;
  const int64_t nb = bs->n, nr = rs->n;
  sr_mwu u;
  sr_status st = sr_mann_whitney(run, nr, base, nb, &u, err);
  sr_boot_opts bo = {.b = nboot, .level = 0.95, .rng = rng};
  if (!st) st = sr_median_ratio_ci(bs, rs, &bo, &v->effect, err);
  if (!st) st = sr_median(base, nb, &v->base, err);
  if (!st) st = sr_median(run, nr, &v->run, err);
  if (st) return st;
  v->p = u.p;
  snprintf(v->test, sizeof v->test, "Mann-Whitney U (%lld vs %lld images)", (long long)nr, (long long)nb);
  snprintf(v->effect_kind, sizeof v->effect_kind, "ratio");
  v->word = sr_verdict_gain(&v->effect, 1, v->p);
  if (!converged && v->word != SR_VERDICT_NOT_MEASURED) {
    v->word = SR_VERDICT_INCONCLUSIVE;
    snprintf(v->note, sizeof v->note, "the attack did not converge in at least one run");
  }
  return SR_OK;
}
