// Verdicts on the method's claims, computed from statistics with fixed rules (docs/REPORT.md, "Verdicts").
// Paired tests for accuracies measured on the same images (McNemar, paired bootstrap), ratio of medians for
// distances (bootstrap, Mann-Whitney), and the rule that turns an effect and its interval into a word.
// The statistics live in src/spectral/paired.c, the rules in src/report/verdict.c.
#ifndef SIMREG_VERDICT_H
#define SIMREG_VERDICT_H

#include <stdint.h>

#include "simreg/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- paired statistics (src/spectral/paired.c) ------------------------------------------------------------
// Exact two-sided McNemar test: b pairs where only the first was correct, c where only the second was.
// p = min(1, 2 P(X <= min(b, c))), X ~ Binomial(b + c, 1/2); 1 when b + c = 0.
double sr_mcnemar_p(int64_t b, int64_t c);

// Per-image 0/1 outcomes of two models on the same n images x reps draws (character layout of
// robustness.json: index r * n + i). The bootstrap resamples images (all reps of an image together).
typedef struct sr_paired01 {
  const uint8_t *a, *b;  // (reps * n) 0/1 each
  int64_t n, reps;
} sr_paired01;
// mean(b) - mean(a) with its percentile-bootstrap interval.
sr_status sr_paired_diff_ci(const sr_paired01 *p, int64_t nboot, double level, sr_rng *rng, sr_ci *out,
                            sr_err *err);
// mean(b) / mean(a) with its percentile-bootstrap interval (SR_ERR_NUMERIC when mean(a) is 0).
sr_status sr_paired_ratio_ci(const sr_paired01 *p, int64_t nboot, double level, sr_rng *rng, sr_ci *out,
                             sr_err *err);
// Discordant counts of the pairs: only_a = a correct and b wrong, only_b the reverse.
void sr_paired_discordant(const sr_paired01 *p, int64_t *only_a, int64_t *only_b);

// A sample of n values.
typedef struct sr_values {
  const double *x;
  int64_t n;
} sr_values;
// median(y) / median(x) of two independent samples, each resampled on its own (bo: B, level, rng).
sr_status sr_median_ratio_ci(const sr_values *x, const sr_values *y, const sr_boot_opts *bo, sr_ci *out,
                             sr_err *err);

// ---- verdict rules (src/report/verdict.c)
// -------------------------------------------------------------------
typedef enum sr_verdict_word {
  SR_VERDICT_NOT_MEASURED = 0,
  SR_VERDICT_SUPPORTS,
  SR_VERDICT_CONTRADICTS,
  SR_VERDICT_INCONCLUSIVE,
} sr_verdict_word;
const char *sr_verdict_name(sr_verdict_word w);  // "supports", "contradicts", "inconclusive", "not measured"

#define SR_VERDICT_ALPHA       0.05
#define SR_VERDICT_CLEAN_RATIO 0.9

// A gain the method claims (accuracy under noise or attack, a distance ratio): effect is better for the
// method when above `null` (0 for a difference, 1 for a ratio). supports: interval entirely above null and p
// < alpha; contradicts: entirely below and p < alpha; else inconclusive.
sr_verdict_word sr_verdict_gain(const sr_ci *effect, double null, double p);
// A reduction the method claims (high-frequency share): supports when the interval is entirely below null,
// contradicts when entirely above, else inconclusive (the interval is the test).
sr_verdict_word sr_verdict_reduction(const sr_ci *effect, double null);
// The cost it accepts (clean accuracy ratio): supports when the interval's low end >= SR_VERDICT_CLEAN_RATIO,
// contradicts when its high end < SR_VERDICT_CLEAN_RATIO, else inconclusive.
sr_verdict_word sr_verdict_cost(const sr_ci *ratio);

// One claim checked: what was compared, the effect with its interval, the test, the word and its rule.
typedef struct sr_verdict {
  char claim[64];        // "clean accuracy cost", "noise robustness", ...
  char measure[160];     // what exactly: "accuracy, gaussian noise at 0.2, 2000 images x 1 draw"
  char effect_kind[16];  // "difference", "ratio"
  double base, run;      // the measure for the baseline and for the run
  sr_ci effect;
  char test[64];  // "McNemar exact", "Mann-Whitney U", "bootstrap CI"
  double p;       // NaN when the interval is the test
  sr_verdict_word word;
  char note[160];  // why not measured, or a caveat the rule applied ("attack not converged")
} sr_verdict;

// From per-image outcomes: an accuracy gain (difference run - base, McNemar) or the clean cost (ratio).
sr_status sr_verdict_accuracy(const sr_paired01 *p, int cost, int64_t nboot, sr_rng *rng, sr_verdict *v,
                              sr_err *err);
// From minimal-perturbation distances: ratio of medians run / base, Mann-Whitney. Not converged (either run)
// makes the word inconclusive with a note.
// nboot resamples drawn from rng.
sr_status sr_verdict_distance(const sr_values *base, const sr_values *run, int converged, int64_t nboot,
                              sr_rng *rng, sr_verdict *v, sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
