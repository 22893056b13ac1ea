// Building a report: load runs, derive statistics (bootstrap CIs, spectra, Mann-Whitney against the first
// run), then figures and files.
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "report_fourier.h"
#include "report_internal.h"
#include "simreg/npy.h"

void sr_report_note(sr_report *rep, const char *fmt, ...) {
  if (rep->nnotes >= SR_REPORT_MAX_NOTES) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rep->notes[rep->nnotes++], sizeof rep->notes[0], fmt, ap);
  va_end(ap);
}

void sr_report_add_figure(sr_report *rep, const char *base, const char *caption) {
  if (rep->nfigures >= (int)(sizeof rep->figures / sizeof rep->figures[0])) return;
  snprintf(rep->figures[rep->nfigures], sizeof rep->figures[0], "%s", base);
  snprintf(rep->captions[rep->nfigures], sizeof rep->captions[0], "%s", caption);
  rep->nfigures++;
}

const sr_curve *sr_run_curve(const sr_run *r, int transfer, const char *name) {
  const sr_curve *c = transfer ? r->transfer : r->noise;
  int n = transfer ? r->n_transfer : r->n_noise;
  for (int i = 0; i < n; i++)
    if (!strcmp(c[i].name, name)) return &c[i];
  return NULL;
}

static void add_name(sr_names *out, const char *name, int cap) {
  for (int i = 0; i < out->n; i++)
    if (!strcmp(out->name[i], name)) return;
  if (out->n < cap) snprintf(out->name[out->n++], sizeof out->name[0], "%s", name);
}

void sr_report_curve_names(const sr_report *rep, int transfer, sr_names *out) {
  out->n = 0;
  for (int r = 0; r < rep->nruns; r++) {
    const sr_run *run = &rep->runs[r];
    int n = transfer ? run->n_transfer : run->n_noise;
    for (int i = 0; i < n; i++)
      add_name(out, transfer ? run->transfer[i].name : run->noise[i].name, SR_REPORT_MAX_CURVES * 2);
  }
}

void sr_report_groups(const sr_report *rep, sr_names *out) {
  out->n = 0;
  for (int r = 0; r < rep->nruns; r++)
    for (int i = 0; i < rep->runs[r].n_corr; i++)
      add_name(out, rep->runs[r].corr[i].group, SR_REPORT_MAX_GROUPS);
}

int64_t sr_curve_strongest(const sr_curve *c) {
  int64_t best = 0;
  for (int64_t i = 1; i < c->n; i++)
    if (c->levels[i] > c->levels[best]) best = i;
  return best;
}

double sr_run_clean(const sr_run *r) {
  if (isfinite(r->clean_acc)) return r->clean_acc;
  for (int i = 0; i < r->n_noise; i++)
    for (int64_t k = 0; k < r->noise[i].n; k++)
      if (r->noise[i].levels[k] == 0) return r->noise[i].acc[k];
  for (int64_t e = r->n_epochs - 1; e >= 0; e--)
    if (isfinite(r->test_acc[e])) return r->test_acc[e];
  return NAN;
}

int sr_run_severity_index(const sr_run *r, int severity) {
  if (severity == 0) return -1;
  for (int i = 0; i < r->n_sev; i++)
    if (r->severities[i] == severity) return i;
  return -2;
}

double sr_run_group_acc(const sr_run *r, const char *group, int s) {
  if (s < -1) return NAN;
  double sum = 0;
  int n = 0;
  for (int i = 0; i < r->n_corr; i++) {
    if (strcmp(r->corr[i].group, group)) continue;
    for (int k = 0; k < r->n_sev; k++)
      if (s < 0 || k == s) sum += r->corr[i].acc[k], n++;
  }
  return n ? sum / n : NAN;
}

static sr_status analyze_boundary(sr_report *rep, sr_run *r, int idx, const sr_report_opts *o, sr_err *err) {
  if (!r->n_norms) return SR_OK;
  double given = r->boundary.estimate;
  int had = r->boundary_median_given;
  sr_rng rng;
  sr_rng_seed(&rng, o->seed, 2 * (uint64_t)idx);
  sr_status st = sr_bootstrap_median(r->norms, r->n_norms, o->bootstrap_b, 0.95, &rng, &r->boundary, err);
  if (st) return sr_err_context(err, "%s: boundary norms", r->dir);
  if (had && fabs(given - r->boundary.estimate) > 1e-6 * fabs(r->boundary.estimate))
    sr_report_note(
        rep, "%s: robustness.json gives boundary median %g but its norms give %g; the report uses the latter",
        r->name, given, r->boundary.estimate);
  return SR_OK;
}

static sr_status analyze_spectrum(sr_report *rep, sr_run *r, int idx, const sr_report_opts *o, sr_err *err) {
  if (!r->perturbations[0]) return SR_OK;
  sr_npy a;
  sr_status st = sr_npy_read(r->perturbations, &a, err);
  if (st) return sr_err_context(err, "%s: boundary.perturbations", r->dir);
  st = sr_spectrum_from_npy(&a, SR_LAYOUT_AUTO, o->r0, &r->spectrum, err);
  sr_npy_free(&a);
  if (st == SR_ERR_NUMERIC) {  // a property of the data (e.g. all-zero perturbations): say so, keep going
    sr_report_note(rep, "%s: no spectrum: %s", r->name, err->msg);
    return SR_OK;
  }
  if (st) return sr_err_context(err, "%s", r->perturbations);
  r->has_spectrum = 1;
  sr_rng rng;
  sr_rng_seed(&rng, o->seed, 2 * (uint64_t)idx + 1);
  st = sr_spectrum_hf_ci(&r->spectrum, o->bootstrap_b, 0.95, &rng, &r->hf, err);
  return st ? sr_err_context(err, "%s: high-frequency share", r->dir) : SR_OK;
}

static sr_status load_all(const char *const *dirs, int ndirs, const char *minimal, sr_report *rep,
                          sr_err *err) {
  sr_status st = SR_OK;
  for (int i = 0; i < ndirs && !st; i++) {
    st = sr_run_load_minimal(dirs[i], minimal, &rep->runs[i], err);
    if (!st) rep->nruns++;
  }
  snprintf(rep->minimal, sizeof rep->minimal, "%s%s", !strcmp(minimal, "boundary") ? "boundary" : minimal,
           strcmp(minimal, "boundary") ? "_l2" : "");
  return st;
}

// minimal "auto" (or NULL): HopSkipJump's perturbations when every run has them, else the Boundary attack's.
static sr_status load_runs(const char *const *dirs, int ndirs, const char *minimal, sr_report *rep,
                           sr_err *err) {
  if (minimal && strcmp(minimal, "auto")) return load_all(dirs, ndirs, minimal, rep, err);
  sr_status st = load_all(dirs, ndirs, "hsj", rep, err);
  int all = !st;
  for (int i = 0; i < rep->nruns; i++) all &= rep->runs[i].has_boundary;
  if (all || st) return st;
  sr_report_free(rep);
  return load_all(dirs, ndirs, "boundary", rep, err);
}

void sr_report_free(sr_report *rep) {
  for (int i = 0; i < rep->nruns; i++) sr_run_free(&rep->runs[i]);
  rep->nruns = 0;
  sr_report_fourier_free(rep);
}

sr_status sr_report_build(const char *const *dirs, int ndirs, const sr_report_opts *in, sr_report *rep,
                          sr_err *err) {
  memset(rep, 0, sizeof *rep);
  if (ndirs < 1 || ndirs > SR_REPORT_MAX_RUNS)
    return sr_fail(err, SR_ERR_ARG, "report: give 1..%d run directories (got %d)", SR_REPORT_MAX_RUNS, ndirs);
  if (!in->out_dir || !in->out_dir[0]) return sr_fail(err, SR_ERR_ARG, "report: no output directory");
  sr_report_opts o = *in;
  if (!o.bootstrap_b) o.bootstrap_b = SR_BOOT_DEFAULT_B;
  if (o.r0 == 0) o.r0 = SR_SPEC_R0_DEFAULT;
  if (!o.title) o.title = "simreg report";
  sr_status st = load_runs(dirs, ndirs, o.minimal, rep, err);
  for (int i = 0; i < rep->nruns && !st; i++) {
    sr_run *r = &rep->runs[i];
    for (int j = 0; j < i; j++)
      if (!strcmp(rep->runs[j].name, r->name)) snprintf(r->name + strnlen(r->name, 100), 28, " (%d)", i + 1);
    st = analyze_boundary(rep, r, i, &o, err);
    if (!st) st = analyze_spectrum(rep, r, i, &o, err);
    if (!st) st = sr_report_spectrum_cis(rep, r, i, &o, err);
    if (!st && !r->has_config) sr_report_note(rep, "%s: no config.json", r->name);
  }
  if (!st) st = sr_report_spectrum_diffs(rep, &o, err);
  for (int i = 1; i < rep->nruns && !st; i++)
    if (rep->runs[0].n_norms && rep->runs[i].n_norms) {
      st = sr_mann_whitney(rep->runs[i].norms, rep->runs[i].n_norms, rep->runs[0].norms, rep->runs[0].n_norms,
                           &rep->mwu[i], err);
      rep->has_mwu[i] = !st;
    }
  if (!st) st = sr_report_verdicts(rep, &o, err);
  if (!st) st = sr_mkdir_p(o.out_dir, err);
  if (!st) st = sr_report_figures(rep, &o, err);
  if (!st) st = sr_report_fourier(rep, &o, err);
  if (!st) st = sr_report_write_files(rep, &o, err);
  if (st) sr_report_free(rep);
  return st;
}
