// index.html, report.md and report.json from one table model, so the three always agree. The HTML is static
// and self-contained apart from the figure files beside it; every string that came from a run is escaped.
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "report_fourier.h"
#include "report_internal.h"

#define T_COLS 48

typedef struct {
  int ncols, nrows;
  char head[T_COLS][96];
  char cell[SR_REPORT_MAX_RUNS][T_COLS][288];
} table;

static const char NOT_RUN[] = "not run";

static void set(table *t, int r, int c, const char *fmt, double a, double b, double d) {
  if (!isfinite(a)) {
    snprintf(t->cell[r][c], sizeof t->cell[r][c], "%s", NOT_RUN);
    return;
  }
  snprintf(t->cell[r][c], sizeof t->cell[r][c], fmt, a, b, d);
}

static int add_col(table *t, const char *fmt, const char *a, const char *b) {
  if (t->ncols >= T_COLS) return -1;
  if (snprintf(t->head[t->ncols], sizeof t->head[0], fmt, a, b) < 0)
    t->head[t->ncols][0] = 0;  // long names are cut
  return t->ncols++;
}

static void build_table(const sr_report *rep, const sr_report_opts *o, table *t) {
  memset(t, 0, sizeof *t);
  t->nrows = rep->nruns;
  sr_names noise, transfer, groups;
  sr_report_curve_names(rep, 0, &noise);
  sr_report_curve_names(rep, 1, &transfer);
  sr_report_groups(rep, &groups);
  int c_run = add_col(t, "Run", "", ""), c_model = add_col(t, "Model", "", ""),
      c_reg = add_col(t, "Regularization", "", "");
  int c_clean = add_col(t, "Clean acc.", "", "");
  int c_noise = t->ncols;
  for (int i = 0; i < noise.n; i++) add_col(t, "%s, strongest%s", noise.name[i], "");
  int c_tr = t->ncols;
  for (int i = 0; i < transfer.n; i++) add_col(t, "%s transfer, strongest%s", transfer.name[i], "");
  int c_b = add_col(t, "%s median ||d||^2/D [95%% CI]%s", sr_report_minimal_label(rep->minimal), "");
  int c_conv = add_col(t, "%s converged (last-20%% drop)%s", sr_report_minimal_label(rep->minimal), "");
  char first[160];
  snprintf(first, sizeof first, "%s", rep->runs[0].name);
  int c_mw = add_col(t, "Mann-Whitney p vs %s%s", first, "");
  char r0[32];
  snprintf(r0, sizeof r0, "%g", o->r0);
  int c_hf = add_col(t, "HF share r>=%s (incl. DC) [95%% CI]%s", r0, "");
  int c_hfd = add_col(t, "HF share minus %s's [95%% CI]%s", first, "");
  int c_dc = add_col(t, "DC share [95%% CI]%s%s", "", "");
  int c_g = t->ncols;
  char sev[32];
  if (o->severity)
    snprintf(sev, sizeof sev, "severity %d", o->severity);
  else
    snprintf(sev, sizeof sev, "mean severity");
  for (int i = 0; i < groups.n; i++) add_col(t, "Corruptions %s (%s)", groups.name[i], sev);
  for (int r = 0; r < rep->nruns; r++) {
    const sr_run *run = &rep->runs[r];
    snprintf(t->cell[r][c_run], sizeof t->cell[0][0], "%s", run->name);
    snprintf(t->cell[r][c_model], sizeof t->cell[0][0], "%s", run->model[0] ? run->model : "-");
    snprintf(t->cell[r][c_reg], sizeof t->cell[0][0], "%s", run->reg);
    set(t, r, c_clean, "%.4f", sr_run_clean(run), 0, 0);
    for (int k = 0; k < noise.n + transfer.n; k++) {
      int tr = k >= noise.n;
      const sr_curve *c = sr_run_curve(run, tr, tr ? transfer.name[k - noise.n] : noise.name[k]);
      int col = tr ? c_tr + k - noise.n : c_noise + k;
      if (!c) {
        set(t, r, col, "", NAN, 0, 0);
        continue;
      }
      int64_t s = sr_curve_strongest(c);
      set(t, r, col, "%.4f @ %g", c->acc[s], c->levels[s], 0);
    }
    if (!run->has_boundary)
      set(t, r, c_b, "", NAN, 0, 0);
    else if (isfinite(run->boundary.lo) && isfinite(run->boundary.hi))
      set(t, r, c_b, "%.3e [%.3e, %.3e]", run->boundary.estimate, run->boundary.lo, run->boundary.hi);
    else
      set(t, r, c_b, "%.3e", run->boundary.estimate, 0, 0);
    if (r == 0)
      snprintf(t->cell[r][c_mw], sizeof t->cell[0][0], "(reference)");
    else if (rep->has_mwu[r])
      set(t, r, c_mw, "%.3g (U=%g)", rep->mwu[r].p, rep->mwu[r].u1, 0);
    else
      set(t, r, c_mw, "", NAN, 0, 0);
    if (run->has_convergence)
      snprintf(t->cell[r][c_conv], sizeof t->cell[r][c_conv], "%s (%.1f%%)", run->converged ? "yes" : "NO",
               100 * run->conv_drop);
    else
      snprintf(t->cell[r][c_conv], sizeof t->cell[r][c_conv], "%s",
               run->has_boundary ? "not recorded" : NOT_RUN);
    if (run->has_spectrum)
      set(t, r, c_hf, "%.4f [%.4f, %.4f]", run->spectrum.hf_share, run->hf.lo, run->hf.hi);
    else
      set(t, r, c_hf, "", NAN, 0, 0);
    if (r == 0 && run->has_spectrum)
      snprintf(t->cell[r][c_hfd], sizeof t->cell[0][0], "(reference)");
    else if (rep->has_hf_diff[r])
      set(t, r, c_hfd, "%+.4f [%+.4f, %+.4f]", rep->hf_diff[r].estimate, rep->hf_diff[r].lo,
          rep->hf_diff[r].hi);
    else
      set(t, r, c_hfd, "", NAN, 0, 0);
    if (run->has_spectrum)
      set(t, r, c_dc, "%.4f [%.4f, %.4f]", run->spectrum.dc_share, run->dc.lo, run->dc.hi);
    else
      set(t, r, c_dc, "", NAN, 0, 0);
    int si = sr_run_severity_index(run, o->severity);
    for (int g = 0; g < groups.n; g++)
      set(t, r, c_g + g, "%.4f", sr_run_group_acc(run, groups.name[g], si), 0, 0);
  }
}

void sr_html_escape(char *out, size_t cap, const char *s) {
  size_t k = 0;
  for (; s && *s; s++) {
    const char *rep = NULL;
    switch (*s) {
      case '&':
        rep = "&amp;";
        break;
      case '<':
        rep = "&lt;";
        break;
      case '>':
        rep = "&gt;";
        break;
      case '"':
        rep = "&quot;";
        break;
      case '\'':
        rep = "&#39;";
        break;
    }
    size_t n = rep ? strlen(rep) : 1;
    if (k + n + 1 > cap) break;
    if (rep)
      memcpy(out + k, rep, n);
    else
      out[k] = *s;
    k += n;
  }
  out[k] = 0;
}

// Markdown table cells: escape the characters that would break the table or start markup.
void sr_report_md_escape(char *out, size_t cap, const char *s) {
  size_t k = 0;
  for (; s && *s && k + 3 < cap; s++) {
    if (strchr("|\\*_`[]<>#", *s)) out[k++] = '\\';
    out[k++] = *s == '\n' ? ' ' : *s;
  }
  out[k] = 0;
}

// Atomic output file that ends up world-readable like any web page (mkstemp creates 0600).
static sr_status open_public(sr_afile *f, const char *path, sr_err *err) {
  sr_status st = sr_afile_open(f, path, err);
  if (!st) fchmod(fileno(f->fp), 0644);
  return st;
}

static void hput(FILE *f, const char *s) {
  char buf[2048];
  sr_html_escape(buf, sizeof buf, s);
  fputs(buf, f);
}

static const char CSS[] =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:24px "
    "auto;max-width:1150px;color:#222;line-height:1.4}"
    "h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;font-size:0.85em;margin:8px 0}th,td{border:1px solid #bbb;padding:4px "
    "7px;"
    "text-align:left;vertical-align:top}th{background:#eef1f5}td.nr{color:#999;font-style:italic}"
    "figure{display:inline-block;margin:8px;vertical-align:top;max-width:100%}figure "
    "img{width:540px;max-width:100%;"
    "height:auto;border:1px solid #ddd}figcaption{font-size:0.85em;color:#444;max-width:540px}"
    ".wide{overflow-x:auto}"
    ".notes li{color:#8a4b00}code{font-size:0.9em}"
    ".v-supports{color:#1a7f37}.v-contradicts{color:#b3261e}.v-inconclusive{color:#8a4b00}";

static sr_status write_html(const sr_report *rep, const sr_report_opts *o, const table *t, sr_err *err) {
  char path[4200];
  snprintf(path, sizeof path, "%s/index.html", o->out_dir);
  sr_afile f;
  sr_status st = open_public(&f, path, err);
  if (st) return st;
  FILE *h = f.fp;
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", h);
  hput(h, o->title);
  fprintf(h, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", CSS);
  hput(h, o->title);
  fprintf(h,
          "</h1>\n<p>Generated by simreg %s from %d run%s. Accuracies are fractions; CIs are 95%% percentile "
          "bootstrap intervals (B = %lld, seed %llu).</p>\n",
          SR_VERSION_STRING, rep->nruns, rep->nruns == 1 ? "" : "s", (long long)o->bootstrap_b,
          (unsigned long long)o->seed);
  sr_report_verdicts_html(rep, h);
  fputs("<h2>Summary</h2>\n<div class=\"wide\"><table>\n<tr>", h);
  for (int c = 0; c < t->ncols; c++) {
    fputs("<th>", h);
    hput(h, t->head[c]);
    fputs("</th>", h);
  }
  fputs("</tr>\n", h);
  for (int r = 0; r < t->nrows; r++) {
    fputs("<tr>", h);
    for (int c = 0; c < t->ncols; c++) {
      fputs(strcmp(t->cell[r][c], NOT_RUN) ? "<td>" : "<td class=\"nr\">", h);
      hput(h, t->cell[r][c]);
      fputs("</td>", h);
    }
    fputs("</tr>\n", h);
  }
  fputs("</table></div>\n<h2>Runs</h2>\n<ul>\n", h);
  for (int r = 0; r < rep->nruns; r++) {
    const sr_run *run = &rep->runs[r];
    fputs("<li><b>", h);
    hput(h, run->name);
    fputs("</b>: <code>", h);
    hput(h, run->dir);
    fputs("</code>", h);
    if (run->dataset[0]) {
      fputs(", dataset ", h);
      hput(h, run->dataset);
    }
    if (run->has_seed) fprintf(h, ", seed %lld", (long long)run->seed);
    if (run->has_metrics) fprintf(h, ", %lld epochs", (long long)run->n_epochs);
    fputs("</li>\n", h);
  }
  fputs("</ul>\n", h);
  sr_report_fourier_html(rep, h);
  sr_report_attacks_html(rep, h);
  if (rep->nnotes) {
    fputs("<h2>Notes</h2>\n<ul class=\"notes\">\n", h);
    for (int i = 0; i < rep->nnotes; i++) {
      fputs("<li>", h);
      hput(h, rep->notes[i]);
      fputs("</li>\n", h);
    }
    fputs("</ul>\n", h);
  }
  fputs("<h2>Figures</h2>\n", h);
  if (!rep->nfigures) fputs("<p>No run had data to plot.</p>\n", h);
  for (int i = 0; i < rep->nfigures; i++) {
    fprintf(h, "<figure><a href=\"%s.svg\"><img src=\"%s.png\" alt=\"", rep->figures[i], rep->figures[i]);
    hput(h, rep->captions[i]);
    fputs("\"></a><figcaption>", h);
    hput(h, rep->captions[i]);
    fputs("</figcaption></figure>\n", h);
  }
  fputs("</body>\n</html>\n", h);
  return sr_afile_commit(&f, err);
}

static sr_status write_md(const sr_report *rep, const sr_report_opts *o, const table *t, sr_err *err) {
  char path[4200], buf[1024];
  snprintf(path, sizeof path, "%s/report.md", o->out_dir);
  sr_afile f;
  sr_status st = open_public(&f, path, err);
  if (st) return st;
  FILE *m = f.fp;
  sr_report_md_escape(buf, sizeof buf, o->title);
  fprintf(m, "# %s\n\nGenerated by simreg %s. CIs: 95%% percentile bootstrap, B = %lld, seed %llu.\n\n", buf,
          SR_VERSION_STRING, (long long)o->bootstrap_b, (unsigned long long)o->seed);
  sr_report_verdicts_md(rep, m);
  fputs("## Summary\n\n", m);
  for (int c = 0; c < t->ncols; c++) {
    sr_report_md_escape(buf, sizeof buf, t->head[c]);
    fprintf(m, "| %s ", buf);
  }
  fputs("|\n", m);
  for (int c = 0; c < t->ncols; c++) fputs("|---", m);
  fputs("|\n", m);
  for (int r = 0; r < t->nrows; r++) {
    for (int c = 0; c < t->ncols; c++) {
      sr_report_md_escape(buf, sizeof buf, t->cell[r][c]);
      fprintf(m, "| %s ", buf);
    }
    fputs("|\n", m);
  }
  sr_report_fourier_md(rep, m);
  sr_report_attacks_md(rep, m);
  if (rep->nnotes) {
    fputs("\n## Notes\n\n", m);
    for (int i = 0; i < rep->nnotes; i++) {
      sr_report_md_escape(buf, sizeof buf, rep->notes[i]);
      fprintf(m, "- %s\n", buf);
    }
  }
  fputs("\n## Figures\n\n", m);
  for (int i = 0; i < rep->nfigures; i++) {
    sr_report_md_escape(buf, sizeof buf, rep->captions[i]);
    fprintf(m, "![%s](%s.png) ([SVG](%s.svg))\n\n", buf, rep->figures[i], rep->figures[i]);
  }
  return sr_afile_commit(&f, err);
}

static cJSON *num(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

static cJSON *ci_json(const sr_ci *c) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddItemToObject(j, "estimate", num(c->estimate));
  cJSON_AddItemToObject(j, "ci_low", num(c->lo));
  cJSON_AddItemToObject(j, "ci_high", num(c->hi));
  return j;
}

static cJSON *run_json(const sr_report *rep, int idx, const sr_report_opts *o) {
  const sr_run *r = &rep->runs[idx];
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "name", r->name);
  cJSON_AddStringToObject(j, "dir", r->dir);
  cJSON_AddStringToObject(j, "model", r->model);
  cJSON_AddStringToObject(j, "dataset", r->dataset);
  cJSON_AddStringToObject(j, "reg", r->reg);
  cJSON_AddItemToObject(j, "seed", r->has_seed ? cJSON_CreateNumber((double)r->seed) : cJSON_CreateNull());
  cJSON_AddItemToObject(j, "clean_accuracy", num(sr_run_clean(r)));
  for (int tr = 0; tr < 2; tr++) {
    cJSON *c = cJSON_AddObjectToObject(j, tr ? "transfer" : "noise");
    int n = tr ? r->n_transfer : r->n_noise;
    for (int i = 0; i < n; i++) {
      const sr_curve *cv = tr ? &r->transfer[i] : &r->noise[i];
      int64_t s = sr_curve_strongest(cv);
      cJSON *e = cJSON_AddObjectToObject(c, cv->name);
      cJSON_AddNumberToObject(e, "strongest_level", cv->levels[s]);
      cJSON_AddNumberToObject(e, "accuracy", cv->acc[s]);
    }
  }
  if (r->has_boundary) {
    cJSON *b = ci_json(&r->boundary);
    cJSON_AddNumberToObject(b, "n", (double)r->n_norms);
    cJSON_AddStringToObject(b, "ci_source", r->n_norms ? "bootstrap" : "file");
    if (idx > 0 && rep->has_mwu[idx]) {
      cJSON *m = cJSON_AddObjectToObject(b, "mann_whitney_vs_first");
      cJSON_AddNumberToObject(m, "u1", rep->mwu[idx].u1);
      cJSON_AddNumberToObject(m, "z", rep->mwu[idx].z);
      cJSON_AddNumberToObject(m, "p", rep->mwu[idx].p);
      cJSON_AddNumberToObject(m, "effect", rep->mwu[idx].effect);
    }
    cJSON_AddItemToObject(j, "boundary_median_norm_sq_per_dim", b);
  } else {
    cJSON_AddNullToObject(j, "boundary_median_norm_sq_per_dim");
  }
  if (r->has_spectrum) {
    const sr_spectrum *s = &r->spectrum;
    cJSON *sp = ci_json(&r->hf);
    cJSON_AddNumberToObject(sp, "r0", s->r0);
    cJSON_AddNumberToObject(sp, "corner_share", s->corner_share);
    cJSON_AddNumberToObject(sp, "images", (double)s->n);
    cJSON_AddItemToObject(sp, "radial", cJSON_CreateDoubleArray(s->radial, SR_SPEC_NBINS));
    cJSON_AddItemToObject(sp, "cumulative", cJSON_CreateDoubleArray(s->cumulative, SR_SPEC_NBINS));
    cJSON_AddItemToObject(j, "hf_share", sp);
  } else {
    cJSON_AddNullToObject(j, "hf_share");
  }
  sr_report_spectrum_json(rep, idx, j);
  sr_report_attacks_json(r, j);
  sr_names groups;
  sr_report_groups(rep, &groups);
  cJSON *g = cJSON_AddObjectToObject(j, "corruptions");
  int si = sr_run_severity_index(r, o->severity);
  for (int i = 0; i < groups.n; i++)
    cJSON_AddItemToObject(g, groups.name[i], num(sr_run_group_acc(r, groups.name[i], si)));
  cJSON_AddNumberToObject(j, "epochs", (double)r->n_epochs);
  return j;
}

static sr_status write_json(const sr_report *rep, const sr_report_opts *o, sr_err *err) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "title", o->title);
  cJSON_AddStringToObject(root, "generated_by", "simreg " SR_VERSION_STRING);
  cJSON *op = cJSON_AddObjectToObject(root, "options");
  cJSON_AddNumberToObject(op, "bootstrap_b", (double)o->bootstrap_b);
  cJSON_AddNumberToObject(op, "seed", (double)o->seed);
  cJSON_AddNumberToObject(op, "r0", o->r0);
  cJSON_AddNumberToObject(op, "severity", o->severity);
  cJSON_AddStringToObject(op, "minimal", rep->minimal);
  cJSON_AddItemToObject(root, "verdicts", sr_report_verdicts_json(rep));
  cJSON *runs = cJSON_AddArrayToObject(root, "runs");
  for (int i = 0; i < rep->nruns; i++) cJSON_AddItemToArray(runs, run_json(rep, i, o));
  sr_report_fourier_json(rep, root);
  cJSON *notes = cJSON_AddArrayToObject(root, "notes");
  for (int i = 0; i < rep->nnotes; i++) cJSON_AddItemToArray(notes, cJSON_CreateString(rep->notes[i]));
  cJSON *figs = cJSON_AddArrayToObject(root, "figures");
  for (int i = 0; i < rep->nfigures; i++) cJSON_AddItemToArray(figs, cJSON_CreateString(rep->figures[i]));
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (!text) return sr_fail(err, SR_ERR_NOMEM, "report.json: cannot serialize");
  char path[4200];
  snprintf(path, sizeof path, "%s/report.json", o->out_dir);
  size_t n = strlen(text);
  text[n] = 0;
  sr_afile f;
  sr_status st = open_public(&f, path, err);
  if (!st) {
    fwrite(text, 1, n, f.fp);
    fputc('\n', f.fp);
    st = sr_afile_commit(&f, err);
  }
  cJSON_free(text);
  return st;
}

sr_status sr_report_write_files(const sr_report *rep, const sr_report_opts *o, sr_err *err) {
  table *t = sr_alloc(sizeof *t);
  if (!t) return sr_fail(err, SR_ERR_NOMEM, "report: cannot allocate the table");
  build_table(rep, o, t);
  sr_status st = write_json(rep, o, err);
  if (!st) st = write_md(rep, o, t, err);
  if (!st) st = write_html(rep, o, t, err);
  sr_free(t);
  return st;
}
