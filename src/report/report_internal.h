// Pieces of the report shared by the analysis, figure and writer files.
#ifndef SR_REPORT_INTERNAL_H
#define SR_REPORT_INTERNAL_H

#include <stdio.h>

#include "simreg/plot.h"
#include "simreg/report.h"

#define SR_REPORT_MAX_GROUPS 8

typedef struct sr_names {
  char name[SR_REPORT_MAX_CURVES * 2][64];
  int n;
} sr_names;

// Union of noise (transfer = 0) or transfer (1) curve names across runs, in order of first appearance.
void sr_report_curve_names(const sr_report *rep, int transfer, sr_names *out);
// Union of corruption groups across runs (at most SR_REPORT_MAX_GROUPS).
void sr_report_groups(const sr_report *rep, sr_names *out);
// The run's curve of that name, or NULL.
const sr_curve *sr_run_curve(const sr_run *r, int transfer, const char *name);
// Index of the strongest (largest) level of a curve.
int64_t sr_curve_strongest(const sr_curve *c);
// Clean accuracy: robustness.json clean_accuracy, else the first noise curve's accuracy at level 0, else the
// last test_acc in metrics.jsonl; NaN when none.
double sr_run_clean(const sr_run *r);
// Mean accuracy over a group's corruptions at severity index s (s < 0: mean over all severities); NaN if
// none.
double sr_run_group_acc(const sr_run *r, const char *group, int s);
// Severity index for the table (opts.severity 0 -> -1 meaning "mean"); -2 when this run lacks it.
int sr_run_severity_index(const sr_run *r, int severity);

void sr_report_note(sr_report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sr_report_add_figure(sr_report *rep, const char *base, const char *caption);
// A report figure's axes: title and labels, a legend of its runs; the caller sets ranges and log scale.
sr_plot_opts sr_report_axes(const char *title, const char *xlabel, const char *ylabel);

// 10 log10 of the mean-removed radial profile per bin (null for bins without a non-DC pixel), or null
// without a mean-removed spectrum: report.json and spectrum.json share it (spectrum_out.c).
struct cJSON *sr_radial_db_json(const sr_spectrum *s);
// The axes of the radial power profile (cumulative 0) or cumulative power (1) figure, the same in the report
// and in spectrum outputs (spectrum_out.c); legend: several runs drawn.
sr_plot_opts sr_spectrum_axes(int cumulative, int legend);

// Markdown-escape text for a table cell (| \ * _ ` [ ] < > #; newlines become spaces).
void sr_report_md_escape(char *out, size_t cap, const char *s);

// Verdicts of every run after the first against the first (report_verdicts.c), and their sections.
extern const char *const SR_VERDICT_RULES[SR_REPORT_CLAIMS];
sr_status sr_report_verdicts(sr_report *rep, const sr_report_opts *o, sr_err *err);
void sr_report_verdicts_html(const sr_report *rep, FILE *h);
void sr_report_verdicts_md(const sr_report *rep, FILE *m);
struct cJSON *sr_report_verdicts_json(const sr_report *rep);

// The per-image minimum over attacks and the gradient-masking flags (report_attacks.c): loaded from
// robustness.json, their sections, report.json members and the curve figure (base: the file path sans
// extension).
struct cJSON;
// "Boundary", "HopSkipJump L2", "FMN L2", "DDN L2" for rep->minimal.
const char *sr_report_minimal_label(const char *minimal);
sr_status sr_report_load_attacks(sr_run *r, const struct cJSON *robustness, const char *path, sr_err *err);
void sr_report_attacks_md(const sr_report *rep, FILE *m);
void sr_report_attacks_html(const sr_report *rep, FILE *h);
void sr_report_attacks_json(const sr_run *r, struct cJSON *j);
sr_status sr_report_fig_min_over(sr_report *rep, const char *base, sr_err *err);

// Figures into o->out_dir; registers each in rep->figures.
sr_status sr_report_figures(sr_report *rep, const sr_report_opts *o, sr_err *err);
// RSA per-layer profiles of runs carrying RUN/rsa.json or RUN/rsa/rsa.json (report_rsa.c).
sr_status sr_report_rsa_figures(sr_report *rep, const sr_report_opts *o, sr_err *err);
// index.html, report.md, report.json into o->out_dir.
sr_status sr_report_write_files(const sr_report *rep, const sr_report_opts *o, sr_err *err);

// Spectra beyond the linear ones (report_spectra.c). Per-run bootstrap CIs of the DC share and the
// mean-removed HF share; HF share differences of every run against run 0; the figures spectra_2d_db,
// spectra_2d_diff and spectra_radial_db; the run's new spectrum fields in its report.json object.
sr_status sr_report_spectrum_cis(sr_report *rep, sr_run *r, int idx, const sr_report_opts *o, sr_err *err);
sr_status sr_report_spectrum_diffs(sr_report *rep, const sr_report_opts *o, sr_err *err);
sr_status sr_report_fig_spectra_db(sr_report *rep, const sr_report_opts *o, sr_err *err);
struct cJSON;
void sr_report_spectrum_json(const sr_report *rep, int idx, struct cJSON *j);

#endif
