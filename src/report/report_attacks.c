// The report's view of the per-image minimum over attacks (robustness.json "minimal") and of the
// gradient-masking flags ("masking"): loading, the Markdown / HTML sections, report.json, the curve figure.
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "report_internal.h"
#include "run_json.h"
#include "simreg/plot.h"

const char *sr_report_minimal_label(const char *minimal) {
  if (!strcmp(minimal, "hsj_l2")) return "HopSkipJump L2";
  if (!strcmp(minimal, "fmn_l2")) return "FMN L2";
  if (!strcmp(minimal, "ddn_l2")) return "DDN L2";
  return "Boundary";
}

static void copy_str(const cJSON *o, const char *key, char *dst, size_t cap) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  snprintf(dst, cap, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static sr_status load_min_over(sr_run *r, const cJSON *m, const char *path, sr_err *err) {
  if (!cJSON_IsObject(m)) return SR_OK;
  char *w = r->min_over.attacks;
  size_t cap = sizeof r->min_over.attacks;
  w[0] = 0;
  const cJSON *names = cJSON_GetObjectItemCaseSensitive(m, "attacks");
  for (const cJSON *c = names ? names->child : NULL; c; c = c->next) {
    size_t len = strlen(w);
    if (cJSON_IsString(c)) snprintf(w + len, cap - len, "%s%s", len ? "," : "", c->valuestring);
  }
  double v = NAN;
  int present = 0;
  sr_status st = sr_json_number(m, "attacked", &v, &present, path, err);
  r->min_over.attacked = present ? (int64_t)v : 0;
  if (!st) st = sr_json_number(m, "not_found", &v, &present, path, err);
  r->min_over.not_found = present ? (int64_t)v : 0;
  const cJSON *q = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "quartiles_l2"), 1);
  r->min_over.median = cJSON_IsNumber(q) ? q->valuedouble : NAN;
  const cJSON *cv = cJSON_GetObjectItemCaseSensitive(m, "curve");
  double *eps = NULL;
  double *acc = NULL;
  int64_t ne = 0;
  int64_t na = 0;
  if (!st)
    st = sr_json_doubles(cJSON_GetObjectItemCaseSensitive(cv, "eps"), "minimal.curve.eps", path, &eps, &ne,
                         err);
  if (!st)
    st = sr_json_doubles(cJSON_GetObjectItemCaseSensitive(cv, "robust_accuracy"),
                         "minimal.curve.robust_accuracy", path, &acc, &na, err);
  if (!st && (ne != na || ne > SR_REPORT_MAX_MIN_EPS))
    st = sr_fail(err, SR_ERR_FORMAT,
                 "%s: minimal.curve: eps and robust_accuracy must have the same length <= %d", path,
                 SR_REPORT_MAX_MIN_EPS);
  for (int64_t l = 0; l < ne && !st; l++) {
    r->min_over.eps[l] = eps[l];
    r->min_over.acc[l] = acc[l];
  }
  if (!st) {
    r->min_over.n_eps = (int)ne;
    r->min_over.has = 1;
  }
  sr_free(eps);
  sr_free(acc);
  return st;
}

static void load_masking(sr_run *r, const cJSON *m) {
  if (!cJSON_IsObject(m)) return;
  const cJSON *flags = cJSON_GetObjectItemCaseSensitive(m, "flags");
  r->masking.n = 0;
  for (const cJSON *c = flags ? flags->child : NULL; c && r->masking.n < SR_REPORT_MAX_MASK; c = c->next) {
    int k = r->masking.n;
    copy_str(c, "name", r->masking.flag[k].name, sizeof r->masking.flag[k].name);
    copy_str(c, "numbers", r->masking.flag[k].numbers, sizeof r->masking.flag[k].numbers);
    copy_str(c, "rule", r->masking.flag[k].rule, sizeof r->masking.flag[k].rule);
    r->masking.flag[k].measured = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "measured"));
    r->masking.flag[k].fired = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "fired"));
    r->masking.n++;
  }
  r->masking.has = r->masking.n > 0;
}

sr_status sr_report_load_attacks(sr_run *r, const cJSON *robustness, const char *path, sr_err *err) {
  load_masking(r, cJSON_GetObjectItemCaseSensitive(robustness, "masking"));
  return load_min_over(r, cJSON_GetObjectItemCaseSensitive(robustness, "minimal"), path, err);
}

static const char *flag_word(int measured, int fired) {
  return !measured ? "not measured" : fired ? "FIRED" : "off";
}

static int any_min(const sr_report *rep) {
  int any = 0;
  for (int r = 0; r < rep->nruns; r++) any |= rep->runs[r].min_over.has;
  return any;
}

static int any_masking(const sr_report *rep) {
  int any = 0;
  for (int r = 0; r < rep->nruns; r++) any |= rep->runs[r].masking.has;
  return any;
}

void sr_report_attacks_md(const sr_report *rep, FILE *m) {
  char buf[512];
  if (any_min(rep)) {
    fputs("\n## Minimal perturbations: the per-image minimum over attacks\n\n", m);
    fputs("| Run | Attacks | Images | Not found | Median ||d||_2 |\n|---|---|---|---|---|\n", m);
    for (int r = 0; r < rep->nruns; r++) {
      const sr_run *run = &rep->runs[r];
      if (!run->min_over.has) continue;
      sr_report_md_escape(buf, sizeof buf, run->name);
      fprintf(m, "| %s | %s | %lld | %lld | %.4g |\n", buf, run->min_over.attacks,
              (long long)run->min_over.attacked, (long long)run->min_over.not_found, run->min_over.median);
    }
  }
  if (!any_masking(rep)) return;
  fputs("\n## Gradient-masking flags\n\n| Run | Flag | Result | Numbers |\n|---|---|---|---|\n", m);
  const char *rule[SR_REPORT_MAX_MASK] = {0};
  const char *rname[SR_REPORT_MAX_MASK] = {0};
  for (int r = 0; r < rep->nruns; r++) {
    const sr_run *run = &rep->runs[r];
    for (int k = 0; k < run->masking.n; k++) {
      char name[160];
      char nums[512];
      sr_report_md_escape(name, sizeof name, run->name);
      sr_report_md_escape(nums, sizeof nums, run->masking.flag[k].numbers);
      fprintf(m, "| %s | %s | %s | %s |\n", name, run->masking.flag[k].name,
              flag_word(run->masking.flag[k].measured, run->masking.flag[k].fired), nums);
      rule[k] = run->masking.flag[k].rule;
      rname[k] = run->masking.flag[k].name;
    }
  }
  fputs("\nRules:\n\n", m);
  for (int k = 0; k < SR_REPORT_MAX_MASK; k++) {
    if (!rule[k]) continue;
    sr_report_md_escape(buf, sizeof buf, rule[k]);
    fprintf(m, "- %s: %s\n", rname[k], buf);
  }
}

static void html_text(FILE *h, const char *s) {
  char buf[1024];
  sr_html_escape(buf, sizeof buf, s);
  fputs(buf, h);
}

void sr_report_attacks_html(const sr_report *rep, FILE *h) {
  if (any_min(rep)) {
    fputs(
        "<h2>Minimal perturbations: the per-image minimum over "
        "attacks</h2>\n<table>\n<tr><th>Run</th><th>Attacks"
        "</th><th>Images</th><th>Not found</th><th>Median ||d||<sub>2</sub></th></tr>\n",
        h);
    for (int r = 0; r < rep->nruns; r++) {
      const sr_run *run = &rep->runs[r];
      if (!run->min_over.has) continue;
      fputs("<tr><td>", h);
      html_text(h, run->name);
      fputs("</td><td>", h);
      html_text(h, run->min_over.attacks);
      fprintf(h, "</td><td>%lld</td><td>%lld</td><td>%.4g</td></tr>\n", (long long)run->min_over.attacked,
              (long long)run->min_over.not_found, run->min_over.median);
    }
    fputs("</table>\n", h);
  }
  if (!any_masking(rep)) return;
  fputs(
      "<h2>Gradient-masking flags</h2>\n<table>\n<tr><th>Run</th><th>Flag</th><th>Result</th><th>Numbers</th>"
      "<th>Rule</th></tr>\n",
      h);
  for (int r = 0; r < rep->nruns; r++) {
    const sr_run *run = &rep->runs[r];
    for (int k = 0; k < run->masking.n; k++) {
      fputs("<tr><td>", h);
      html_text(h, run->name);
      fputs("</td><td>", h);
      html_text(h, run->masking.flag[k].name);
      fprintf(h, "</td><td>%s</td><td>",
              flag_word(run->masking.flag[k].measured, run->masking.flag[k].fired));
      html_text(h, run->masking.flag[k].numbers);
      fputs("</td><td>", h);
      html_text(h, run->masking.flag[k].rule);
      fputs("</td></tr>\n", h);
    }
  }
  fputs("</table>\n", h);
}

void sr_report_attacks_json(const sr_run *r, cJSON *j) {
  if (r->min_over.has) {
    cJSON *m = cJSON_AddObjectToObject(j, "minimal_over_attacks");
    cJSON_AddStringToObject(m, "attacks", r->min_over.attacks);
    cJSON_AddNumberToObject(m, "attacked", (double)r->min_over.attacked);
    cJSON_AddNumberToObject(m, "not_found", (double)r->min_over.not_found);
    if (isfinite(r->min_over.median))
      cJSON_AddNumberToObject(m, "median_l2", r->min_over.median);
    else
      cJSON_AddNullToObject(m, "median_l2");
    cJSON_AddItemToObject(m, "eps", cJSON_CreateDoubleArray(r->min_over.eps, r->min_over.n_eps));
    cJSON_AddItemToObject(m, "robust_accuracy", cJSON_CreateDoubleArray(r->min_over.acc, r->min_over.n_eps));
  }
  if (r->masking.has) {
    cJSON *a = cJSON_AddArrayToObject(j, "masking");
    for (int k = 0; k < r->masking.n; k++) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "name", r->masking.flag[k].name);
      cJSON_AddStringToObject(o, "result", flag_word(r->masking.flag[k].measured, r->masking.flag[k].fired));
      cJSON_AddStringToObject(o, "numbers", r->masking.flag[k].numbers);
      cJSON_AddItemToArray(a, o);
    }
  }
}

// Robust accuracy against ||delta||_2 from the per-image minimum, one line per run.
sr_status sr_report_fig_min_over(sr_report *rep, const char *base, sr_err *err) {
  sr_series s[SR_REPORT_MAX_RUNS];
  int ns = 0;
  for (int r = 0; r < rep->nruns; r++) {
    const sr_run *run = &rep->runs[r];
    if (!run->min_over.has || run->min_over.n_eps < 2) continue;
    s[ns] = (sr_series){.label = run->name,
                        .x = run->min_over.eps,
                        .y = run->min_over.acc,
                        .n = run->min_over.n_eps,
                        .color = r,
                        .marker = 1};
    ns++;
  }
  if (!ns) return SR_OK;
  sr_plot_opts po = sr_report_axes("Robust accuracy, minimum over attacks", "||delta||_2", "robust accuracy");
  po.ymax = 1;  // y from 0 to 1
  sr_status st = sr_plot_lines(base, &po, s, ns, err);
  if (!st)
    sr_report_add_figure(
        rep, "min_over_attacks",
        "Robust accuracy against the L2 radius: an image counts as broken at eps when the smallest "
        "verified perturbation over the listed attacks is <= eps");
  return st;
}
