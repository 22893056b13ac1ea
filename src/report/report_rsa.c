// The per-layer RSA profile (docs/RSA.md) from an rsa.json: similarity of each layer of each run to each
// target, with bootstrap CIs, baseline beside regularized. Drawn by `simreg rsa` and, for runs that carry
// RUN/rsa.json or RUN/rsa/rsa.json, by `simreg report`.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"
#include "simreg/plot.h"
#include "simreg/rsa.h"

#define PROF_MAX_LAYERS 16

typedef struct {
  double x[PROF_MAX_LAYERS], y[PROF_MAX_LAYERS], lo[PROF_MAX_LAYERS], hi[PROF_MAX_LAYERS];
  char label[160];
  int n, has_ci, run, target;
} prof_series;

static double arr_num(const cJSON *a, int i) {
  const cJSON *v = cJSON_GetArrayItem(a, i);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

// Position (1-based) of a layer name in the union of all runs' layer names (appended in order of appearance).
static int layer_pos(char names[][32], int *nn, const char *name) {
  for (int q = 0; q < *nn; q++)
    if (!strcmp(names[q], name)) return q + 1;
  if (*nn >= PROF_MAX_LAYERS) return 0;
  snprintf(names[*nn], 32, "%s", name);
  return ++*nn;
}

static void read_target(const cJSON *tg, const cJSON *layers, char names[][32], int *nn, prof_series *p) {
  const cJSON *y = cJSON_GetObjectItemCaseSensitive(tg, "pearson"),
              *lo = cJSON_GetObjectItemCaseSensitive(tg, "lo"),
              *hi = cJSON_GetObjectItemCaseSensitive(tg, "hi");
  p->has_ci = 1;
  for (int l = 0; l < cJSON_GetArraySize(layers) && p->n < PROF_MAX_LAYERS; l++) {
    const cJSON *ln = cJSON_GetArrayItem(layers, l);
    const double v = arr_num(y, l);
    const int x = layer_pos(names, nn, cJSON_IsString(ln) ? ln->valuestring : "?");
    if (!isfinite(v) || !x) continue;
    p->x[p->n] = x;
    p->y[p->n] = v;
    p->lo[p->n] = arr_num(lo, l);
    p->hi[p->n] = arr_num(hi, l);
    p->has_ci &= isfinite(p->lo[p->n]) && isfinite(p->hi[p->n]);
    p->n++;
  }
}

// One series per (run, target) from profile[].targets[]; x = the layer's position among all runs' layers.
static int read_series(const cJSON *profile, prof_series *s, int cap, char *xlab, size_t xcap) {
  char names[PROF_MAX_LAYERS][32];
  int ns = 0, r = 0, nn = 0;
  for (const cJSON *run = profile ? profile->child : NULL; run; run = run->next, r++) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(run, "run"),
                *layers = cJSON_GetObjectItemCaseSensitive(run, "layers");
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(run, "targets");
    int t = 0;
    for (const cJSON *tg = targets ? targets->child : NULL; tg && ns < cap; tg = tg->next, t++) {
      const cJSON *tn = cJSON_GetObjectItemCaseSensitive(tg, "target");
      prof_series *p = &s[ns];
      memset(p, 0, sizeof *p);
      p->run = r;
      p->target = t;
      const char *tl = cJSON_IsString(tn) ? tn->valuestring : "target";
      // short legend text (the legend box is sized by an estimate that long labels overrun)
      snprintf(p->label, sizeof p->label, "%s / %s%s", cJSON_IsString(name) ? name->valuestring : "run",
               strncmp(tl, "threshold:", 10) ? "" : "Th ", strncmp(tl, "threshold:", 10) ? tl : tl + 10);
      read_target(tg, layers, names, &nn, p);
      if (p->n) ns++;
    }
  }
  xlab[0] = 0;
  for (int q = 0; q < nn; q++) {
    size_t used = strlen(xlab);
    snprintf(xlab + used, xcap - used, "%s%d %s", q ? ", " : "layer: ", q + 1, names[q]);
  }
  return ns;
}

sr_status sr_rsa_plot_profile(const char *rsa_json, const char *base, sr_err *err) {
  void *buf = NULL;
  size_t size = 0;
  sr_status st = sr_read_file(rsa_json, (size_t)64 << 20, &buf, &size, err);
  if (st) return st;
  cJSON *root = cJSON_ParseWithLength(buf, size);
  sr_free(buf);
  if (!root) return sr_fail(err, SR_ERR_FORMAT, "%s: not JSON", rsa_json);
  prof_series *s = calloc(SR_PLOT_MAX_SERIES, sizeof *s);
  if (!s) {
    cJSON_Delete(root);
    return sr_fail(err, SR_ERR_NOMEM, "profile series");
  }
  const cJSON *set = cJSON_GetObjectItemCaseSensitive(root, "settings");
  const cJSON *lv = set ? cJSON_GetObjectItemCaseSensitive(set, "level") : NULL;
  char xlab[512], title[96];
  snprintf(title, sizeof title, "RSA profile: Pearson r per layer, %g%% CI",
           cJSON_IsNumber(lv) ? 100 * lv->valuedouble : 95.0);
  int ns = read_series(cJSON_GetObjectItemCaseSensitive(root, "profile"), s, SR_PLOT_MAX_SERIES, xlab,
                       sizeof xlab);
  cJSON_Delete(root);
  if (!ns) {
    free(s);
    return sr_fail(err, SR_ERR_FORMAT, "%s: no per-layer profile (no run:DIR:LAYER source against a target)",
                   rsa_json);
  }
  sr_series ser[SR_PLOT_MAX_SERIES];
  for (int q = 0; q < ns; q++)
    ser[q] = (sr_series){.label = s[q].label,
                         .x = s[q].x,
                         .y = s[q].y,
                         .lo = s[q].has_ci ? s[q].lo : NULL,
                         .hi = s[q].has_ci ? s[q].hi : NULL,
                         .n = s[q].n,
                         .color = s[q].run,
                         .style = s[q].target % 4,
                         .marker = 1};
  sr_plot_opts po = {.title = title, .xlabel = xlab, .ylabel = "Pearson r (pairs i<j)", .legend = 1};
  st = sr_plot_lines(base, &po, ser, ns, err);
  free(s);
  return st;
}

// Hook for sr_report_figures: one profile figure per run that carries an rsa.json.
sr_status sr_report_rsa_figures(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  for (int r = 0; r < rep->nruns; r++) {
    static const char *const where[2] = {"rsa.json", "rsa/rsa.json"};
    char path[1200], base[1200], name[64];
    FILE *f = NULL;
    for (int w = 0; w < 2 && !f; w++) {
      snprintf(path, sizeof path, "%s/%s", rep->runs[r].dir, where[w]);
      f = fopen(path, "rb");
    }
    if (!f) continue;
    fclose(f);
    snprintf(name, sizeof name, "rsa_profile_%d", r + 1);
    snprintf(base, sizeof base, "%s/%s", o->out_dir, name);
    sr_err e = {0};
    if (sr_rsa_plot_profile(path, base, &e)) {
      sr_report_note(rep, "%s: RSA profile not drawn: %s", rep->runs[r].name, e.msg);
      continue;
    }
    char cap[160];
    snprintf(cap, sizeof cap, "RSA per-layer profile from %s/%s (simreg rsa)", rep->runs[r].name,
             path + strlen(rep->runs[r].dir) + 1);
    sr_report_add_figure(rep, name, cap);
  }
  (void)err;
  return SR_OK;
}
