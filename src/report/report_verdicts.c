// The verdict section at the top of the report: for every run after the first, each claim of the method
// checked against the first run (the baseline) with a fixed rule (docs/REPORT.md, "Verdicts").
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "report_internal.h"

static const char *const CLAIMS[SR_REPORT_CLAIMS] = {"clean accuracy cost", "noise robustness",
                                                     "transferred attack", "decision-attack distance",
                                                     "spectral shift"};

const char *const SR_VERDICT_RULES[SR_REPORT_CLAIMS] = {
    "supports when the 95% CI of the clean-accuracy ratio (run / baseline) lies at or above 0.9 (the paper's "
    "selection rule), contradicts when it lies below 0.9, else inconclusive",
    "supports when the 95% CI of the accuracy difference (run - baseline, paired bootstrap over images) lies "
    "above 0 and McNemar's exact p < 0.05; contradicts when it lies below 0 with p < 0.05; else inconclusive",
    "as noise robustness, for the accuracy on adversarials transferred from the source model",
    "supports when the 95% CI of the ratio of median ||delta||^2/D (run / baseline, bootstrap) lies above 1 "
    "and "
    "the Mann-Whitney p < 0.05; contradicts when it lies below 1 with p < 0.05; else inconclusive; "
    "inconclusive "
    "whenever either attack did not converge (its last 20% of steps cut the median by more than 5%)",
    "supports when the 95% CI of the difference of high-frequency power shares (run - baseline, bootstrap "
    "over "
    "images) lies below 0; contradicts when it lies above 0; else inconclusive"};

// "KIND:LEVEL" or "KIND" (level < 0: the curve's largest).
static void parse_spec(const char *spec, const char *dflt, char *kind, size_t cap, double *level) {
  const char *s = spec ? spec : dflt;
  const char *colon = strchr(s, ':');
  size_t n = colon ? (size_t)(colon - s) : strlen(s);
  snprintf(kind, cap, "%.*s", (int)(n < cap ? n : cap - 1), s);
  *level = colon ? strtod(colon + 1, NULL) : -1;
}

// Index of `level` in the curve (relative tolerance 1e-9; level < 0: the largest), -1 when absent.
static int64_t level_index(const sr_curve *c, double level) {
  if (level < 0) return sr_curve_strongest(c);
  for (int64_t i = 0; i < c->n; i++)
    if (fabs(c->levels[i] - level) <= 1e-9 * fmax(1, fabs(level))) return i;
  return -1;
}

static void not_measured(sr_verdict *v, const char *why) {
  v->word = SR_VERDICT_NOT_MEASURED;
  v->p = NAN;
  v->effect.estimate = v->effect.lo = v->effect.hi = NAN;
  v->base = v->run = NAN;
  snprintf(v->note, sizeof v->note, "%s", why);
}

// A curve verdict's level: the noise (transfer 0) or transferred (1) curve `kind` at `level`.
typedef struct curve_level {
  int transfer;
  const char *kind;
  double level;
} curve_level;

// Per-image outcomes of one curve level in both runs, or a reason they cannot be paired.
static const char *pair_curve(const sr_run *b, const sr_run *r, const curve_level *c, sr_paired01 *p,
                              char *measure, size_t cap) {
  const int transfer = c->transfer;
  const char *kind = c->kind;
  const double level = c->level;
  const sr_curve *cb = sr_run_curve(b, transfer, kind), *cr = sr_run_curve(r, transfer, kind);
  if (!cb || !cr) return "the curve is missing in one of the runs";
  int64_t lb = level_index(cb, level), lr = level_index(cr, lb >= 0 ? cb->levels[lb] : level);
  if (lb < 0 || lr < 0) return "the level is missing in one of the runs";
  if (!cb->correct || !cr->correct)
    return "per-image results not recorded (robustness.json from an older simreg)";
  if (cb->n_correct != cr->n_correct) return "the runs were measured on different numbers of images";
  snprintf(measure, cap, "accuracy, %s %s at %g, %lld image draws", kind, transfer ? "transferred" : "noise",
           cb->levels[lb], (long long)cb->n_correct);
  *p = (sr_paired01){.a = cb->correct + lb * cb->n_correct,
                     .b = cr->correct + lr * cr->n_correct,
                     .n = cb->n_correct,
                     .reps = 1};
  return NULL;
}

static sr_status verdict_clean(const sr_run *b, const sr_run *r, const sr_report_opts *o, sr_rng *rng,
                               sr_verdict *v, sr_err *err) {
  if (!b->clean_correct || !r->clean_correct) {
    not_measured(v, "per-image clean results not recorded");
    return SR_OK;
  }
  if (b->clean_n != r->clean_n) {
    not_measured(v, "the runs' clean accuracies come from different numbers of images");
    return SR_OK;
  }
  snprintf(v->measure, sizeof v->measure, "clean accuracy, ratio to the baseline, %lld test images",
           (long long)b->clean_n);
  sr_paired01 p = {.a = b->clean_correct, .b = r->clean_correct, .n = b->clean_n, .reps = 1};
  return sr_verdict_accuracy(&p, 1, o->bootstrap_b, rng, v, err);
}

// A curve verdict as the options ask for it: the noise (transfer 0) or transferred (1) curve and level of
// spec (dflt when spec is unset).
typedef struct curve_spec {
  int transfer;
  const char *spec, *dflt;
} curve_spec;

static sr_status verdict_curve(const sr_run *b, const sr_run *r, const curve_spec *cs,
                               const sr_report_opts *o, sr_rng *rng, sr_verdict *v, sr_err *err) {
  char kind[64];
  double level;
  const int transfer = cs->transfer;
  parse_spec(cs->spec, cs->dflt, kind, sizeof kind, &level);
  sr_paired01 p;
  curve_level c = {.transfer = transfer, .kind = kind, .level = level};
  const char *why = pair_curve(b, r, &c, &p, v->measure, sizeof v->measure);
  if (why) {
    snprintf(v->measure, sizeof v->measure, "accuracy, %s %s", kind, transfer ? "transferred" : "noise");
    not_measured(v, why);
    return SR_OK;
  }
  return sr_verdict_accuracy(&p, 0, o->bootstrap_b, rng, v, err);
}

static sr_status verdict_distance(const sr_report *rep, const sr_run *b, const sr_run *r,
                                  const sr_report_opts *o, sr_rng *rng, sr_verdict *v, sr_err *err) {
  snprintf(v->measure, sizeof v->measure, "median ||delta||^2/D of the %s minimal perturbations",
           rep->minimal);
  if (!b->n_norms || !r->n_norms) {
    not_measured(v, "no per-image minimal perturbations in one of the runs");
    return SR_OK;
  }
  int conv = b->has_convergence && r->has_convergence && b->converged && r->converged;
  sr_status st =
      sr_verdict_distance(&(sr_values){.x = b->norms, .n = b->n_norms},
                          &(sr_values){.x = r->norms, .n = r->n_norms}, conv, o->bootstrap_b, rng, v, err);
  if (!st && (!b->has_convergence || !r->has_convergence) && v->word != SR_VERDICT_NOT_MEASURED)
    snprintf(v->note, sizeof v->note, "convergence not recorded in at least one run");
  return st;
}

static void verdict_spectrum(const sr_report *rep, int i, const sr_report_opts *o, sr_verdict *v) {
  const sr_run *b = &rep->runs[0], *r = &rep->runs[i];
  snprintf(v->measure, sizeof v->measure,
           "share of the minimal perturbations' power at r >= %g (DC included)", o->r0);
  if (!b->has_spectrum || !r->has_spectrum || !rep->has_hf_diff[i]) {
    not_measured(v, "no spectrum in one of the runs");
    return;
  }
  v->base = b->spectrum.hf_share, v->run = r->spectrum.hf_share, v->p = NAN;
  v->effect = rep->hf_diff[i];
  snprintf(v->effect_kind, sizeof v->effect_kind, "difference");
  snprintf(v->test, sizeof v->test, "bootstrap CI (images resampled per run)");
  v->word = sr_verdict_reduction(&v->effect, 0);
}

sr_status sr_report_verdicts(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  const sr_run *b = &rep->runs[0];
  sr_status st = SR_OK;
  for (int i = 1; i < rep->nruns && !st; i++) {
    const sr_run *r = &rep->runs[i];
    sr_verdict *v = rep->verdicts[i];
    sr_rng rng;
    sr_rng_seed(&rng, o->seed, 1000 + (uint64_t)i);
    for (int k = 0; k < SR_REPORT_CLAIMS; k++) {
      memset(&v[k], 0, sizeof v[k]);
      snprintf(v[k].claim, sizeof v[k].claim, "%s", CLAIMS[k]);
      v[k].p = NAN;
    }
    st = verdict_clean(b, r, o, &rng, &v[0], err);
    curve_spec noise = {.transfer = 0, .spec = o->verdict_noise, .dflt = "gaussian:0.2"};
    curve_spec transfer = {.transfer = 1, .spec = o->verdict_transfer, .dflt = "fgsm"};
    if (!st) st = verdict_curve(b, r, &noise, o, &rng, &v[1], err);
    if (!st) st = verdict_curve(b, r, &transfer, o, &rng, &v[2], err);
    if (!st) st = verdict_distance(rep, b, r, o, &rng, &v[3], err);
    if (!st) verdict_spectrum(rep, i, o, &v[4]);
    if (st) sr_err_context(err, "verdicts for %s", r->name);
  }
  return st;
}

// ---- output
// -------------------------------------------------------------------------------------------------
static void fmt_value(char *out, size_t cap, double v) {
  if (!isfinite(v))
    snprintf(out, cap, "-");
  else if (fabs(v) < 1e-2 && v != 0)
    snprintf(out, cap, "%.3e", v);
  else
    snprintf(out, cap, "%.4f", v);
}

// "+0.291 [0.262, 0.320]" or "4.12x [3.01, 5.60]"
static void fmt_effect(const sr_verdict *v, char *out, size_t cap) {
  if (!isfinite(v->effect.estimate)) {
    snprintf(out, cap, "-");
    return;
  }
  if (!strcmp(v->effect_kind, "ratio"))
    snprintf(out, cap, "%.3gx [%.3g, %.3g]", v->effect.estimate, v->effect.lo, v->effect.hi);
  else
    snprintf(out, cap, "%+.4f [%+.4f, %+.4f]", v->effect.estimate, v->effect.lo, v->effect.hi);
}

static void fmt_p(const sr_verdict *v, char *out, size_t cap) {
  if (isnan(v->p))
    snprintf(out, cap, "%s", v->test[0] ? v->test : "-");
  else
    snprintf(out, cap, "%s: p = %.3g", v->test, v->p);
}

static void html_text(FILE *h, const char *s) {
  char buf[1024];
  sr_html_escape(buf, sizeof buf, s);
  fputs(buf, h);
}

// The nine cells of verdict k of run i, as text.
typedef struct vrow {
  char value[2][64], effect[96], test[160];
  const char *cell[9];
} vrow;

static void verdict_row(const sr_report *rep, int i, int k, vrow *r) {
  const sr_verdict *v = &rep->verdicts[i][k];
  fmt_value(r->value[0], sizeof r->value[0], v->base);
  fmt_value(r->value[1], sizeof r->value[1], v->run);
  fmt_effect(v, r->effect, sizeof r->effect);
  fmt_p(v, r->test, sizeof r->test);
  const char *cells[9] = {
      rep->runs[i].name,        v->claim, v->measure, r->value[0], r->value[1], r->effect, r->test,
      sr_verdict_name(v->word), v->note};
  memcpy(r->cell, cells, sizeof cells);
}

static const char INTRO[] =
    "Each claim of the method, checked against the first run (the baseline) by the fixed "
    "rule listed below the table; no verdict is written by hand.";

void sr_report_verdicts_html(const sr_report *rep, FILE *h) {
  if (rep->nruns < 2) return;
  fprintf(
      h,
      "<h2>Verdicts</h2>\n<p>%s</p>\n<div class=\"wide\"><table>\n<tr><th>Run</th><th>Claim</th>"
      "<th>Measure</th><th>Baseline</th><th>Run</th><th>Effect [95%% CI]</th><th>Test</th><th>Verdict</th>"
      "<th>Note</th></tr>\n",
      INTRO);
  vrow r;
  for (int i = 1; i < rep->nruns; i++)
    for (int k = 0; k < SR_REPORT_CLAIMS; k++) {
      verdict_row(rep, i, k, &r);
      fputs("<tr>", h);
      for (int c = 0; c < 9; c++) {
        fprintf(h, c == 7 ? "<td class=\"v-%s\"><b>" : "<td>", r.cell[7]);
        html_text(h, r.cell[c]);
        fputs(c == 7 ? "</b></td>" : "</td>", h);
      }
      fputs("</tr>\n", h);
    }
  fputs("</table></div>\n<p>Rules:</p>\n<ul>\n", h);
  for (int k = 0; k < SR_REPORT_CLAIMS; k++) {
    fputs("<li><b>", h);
    html_text(h, rep->verdicts[1][k].claim);
    fputs("</b>: ", h);
    html_text(h, SR_VERDICT_RULES[k]);
    fputs(".</li>\n", h);
  }
  fputs("</ul>\n", h);
}

void sr_report_verdicts_md(const sr_report *rep, FILE *m) {
  if (rep->nruns < 2) return;
  fprintf(m,
          "## Verdicts\n\n%s\n\n| Run | Claim | Measure | Baseline | Run | Effect [95%% CI] | Test | Verdict "
          "| Note |\n"
          "|---|---|---|---|---|---|---|---|---|\n",
          INTRO);
  vrow r;
  for (int i = 1; i < rep->nruns; i++)
    for (int k = 0; k < SR_REPORT_CLAIMS; k++) {
      verdict_row(rep, i, k, &r);
      for (int c = 0; c < 9; c++) {
        char buf[512];
        sr_report_md_escape(buf, sizeof buf, r.cell[c]);
        fprintf(m, c == 7 ? "| **%s** " : "| %s ", buf);
      }
      fputs("|\n", m);
    }
  fputs("\nRules:\n\n", m);
  for (int k = 0; k < SR_REPORT_CLAIMS; k++) {
    char buf[1024];
    sr_report_md_escape(buf, sizeof buf, SR_VERDICT_RULES[k]);
    fprintf(m, "- **%s**: %s.\n", rep->verdicts[1][k].claim, buf);
  }
  fputs("\n", m);
}

static cJSON *num_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

cJSON *sr_report_verdicts_json(const sr_report *rep) {
  cJSON *arr = cJSON_CreateArray();
  for (int i = 1; i < rep->nruns; i++)
    for (int k = 0; k < SR_REPORT_CLAIMS; k++) {
      const sr_verdict *v = &rep->verdicts[i][k];
      cJSON *j = cJSON_CreateObject();
      cJSON_AddStringToObject(j, "run", rep->runs[i].name);
      cJSON_AddStringToObject(j, "baseline", rep->runs[0].name);
      cJSON_AddStringToObject(j, "claim", v->claim);
      cJSON_AddStringToObject(j, "measure", v->measure);
      cJSON_AddItemToObject(j, "baseline_value", num_or_null(v->base));
      cJSON_AddItemToObject(j, "run_value", num_or_null(v->run));
      cJSON_AddStringToObject(j, "effect", v->effect_kind);
      cJSON_AddItemToObject(j, "estimate", num_or_null(v->effect.estimate));
      cJSON_AddItemToObject(j, "ci_low", num_or_null(v->effect.lo));
      cJSON_AddItemToObject(j, "ci_high", num_or_null(v->effect.hi));
      cJSON_AddStringToObject(j, "test", v->test);
      cJSON_AddItemToObject(j, "p", num_or_null(v->p));
      cJSON_AddStringToObject(j, "verdict", sr_verdict_name(v->word));
      cJSON_AddStringToObject(j, "rule", SR_VERDICT_RULES[k]);
      cJSON_AddStringToObject(j, "note", v->note);
      cJSON_AddItemToArray(arr, j);
    }
  return arr;
}
