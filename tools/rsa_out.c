// simreg rsa outputs: the table on stdout, DIR/rsa.json and the figures (comparison heat map, pair-density
// plots, CKA heat map, per-layer profile).
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsa_cli.h"
#include "simreg/plot.h"

#define HEX_BINS 64
#define MAX_HEX  24

static const char *kind_name(rsa_kind k) {
  static const char *const names[] = {"pixel", "threshold", "file", "run", "mix", "cka"};
  return names[k];
}

static const rsa_source *rsa_src(const rsa_job *j, int a) { return &j->src[j->rsa_of[a]]; }

static const sr_rsa_pair *pair_of(const rsa_job *j, int a, int b) {
  if (a > b) {
    int t = a;
    a = b;
    b = t;
  }
  return &j->pairs[(int64_t)a * (2 * j->k - a - 1) / 2 + (b - a - 1)];
}

static int heavy_ties(const rsa_job *j, int a) { return j->info[a].tie_fraction > 0.5; }

void rsa_print(const rsa_job *j) {
  printf("rsa: %lld images, %lld pairs (i < j) per matrix\n", (long long)j->n,
         (long long)(j->n * (j->n - 1) / 2));
  for (int a = 0; a < j->k; a++)
    printf("  [%d] %-28s %s distinct values %lld, tied pairs %.1f%%%s\n", a + 1, rsa_src(j, a)->label,
           rsa_src(j, a)->is_target ? "target" : "      ", (long long)j->info[a].n_distinct,
           100 * j->info[a].tie_fraction,
           heavy_ties(j, a) ? " (mostly ties: read Spearman with care, see Kendall tau-b)" : "");
  if (j->k >= 2)
    printf("  %-7s %-8s %-26s %-8s %-26s %-8s\n", "pair", "pearson", "CI / p", "spearman", "CI / p",
           "kendall");
  for (int64_t q = 0; j->k >= 2 && q < (int64_t)j->k * (j->k - 1) / 2; q++) {
    const sr_rsa_pair *p = &j->pairs[q];
    char ci1[64] = "", ci2[64] = "";
    if (p->has_ci || p->has_p) {
      snprintf(ci1, sizeof ci1, "[%.4f, %.4f] p=%.4g", p->pearson.lo, p->pearson.hi, p->pearson.p);
      snprintf(ci2, sizeof ci2, "[%.4f, %.4f] p=%.4g", p->spearman.lo, p->spearman.hi, p->spearman.p);
    }
    char pr[32];
    snprintf(pr, sizeof pr, "%d-%d", p->a + 1, p->b + 1);
    printf("  %-7s %8.4f %-26s %8.4f %-26s %8.4f\n", pr, p->pearson.r, ci1, p->spearman.r, ci2, p->kendall);
  }
  for (int a = 0; a < j->ncka; a++) {
    printf("  CKA %-26s", j->src[j->cka_of[a]].label);
    for (int b = 0; b < j->ncka; b++) printf(" %.4f", j->cka[a * j->ncka + b]);
    printf("\n");
  }
  printf(
      "rsa: sources %.1f s, statistics %.1f s (ranks %.1f, estimates %.1f, bootstrap %.1f, Mantel %.1f), "
      "total %.1f s wall; "
      "CPU %.1f s sources, %.1f s statistics\n",
      j->seconds_sources, j->timing.total, j->timing.rank, j->timing.kendall, j->timing.boot,
      j->timing.mantel, j->seconds_total, j->cpu_sources, j->timing.cpu_total);
}

static cJSON *num(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

static cJSON *stat_json(const sr_rsa_stat *s, const char *ci_note) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "r", num(s->r));
  cJSON_AddItemToObject(o, "ci_lo", num(s->lo));
  cJSON_AddItemToObject(o, "ci_hi", num(s->hi));
  cJSON_AddItemToObject(o, "p", num(s->p));
  cJSON_AddNumberToObject(o, "bootstrap_used", (double)s->boot_used);
  if (ci_note) cJSON_AddStringToObject(o, "ci_note", ci_note);
  return o;
}

static cJSON *settings_json(const rsa_job *j) {
  const rsa_args *a = j->a;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "data", a->data);
  cJSON_AddStringToObject(o, "split", a->split);
  cJSON_AddNumberToObject(o, "n", (double)j->n);
  cJSON_AddStringToObject(o, "images",
                          a->indices ? a->indices
                          : !strcmp(a->split, "train")
                              ? "first N of the training split after the validation hold-out"
                              : "first N of the test split");
  cJSON_AddNumberToObject(o, "val_fraction", a->val_fraction);
  cJSON_AddNumberToObject(o, "holdout_seed", (double)a->holdout_seed);
  cJSON_AddStringToObject(o, "weights", a->which);
  cJSON_AddNumberToObject(o, "bootstrap_b", (double)a->boot_b);
  cJSON_AddNumberToObject(o, "permutations", (double)a->perm_b);
  cJSON_AddNumberToObject(o, "seed", (double)a->seed);
  cJSON_AddNumberToObject(o, "level", a->level);
  cJSON_AddStringToObject(o, "resampled_pairs",
                          a->all_pairs ? "all" : "pairs with a target (pixel, threshold, file) on one side");
  cJSON_AddBoolToObject(o, "spearman_resampled", !a->no_rank_resampling);
  cJSON_AddStringToObject(o, "kendall_pairs",
                          a->kendall_all ? "all" : "pairs with a side whose pairs are >50% tied");
  cJSON_AddStringToObject(o, "bootstrap",
                          "images resampled with replacement; pairs of draws of two different images, weight "
                          "c_i c_j; pairs of two draws of one image left out; percentile interval");
  cJSON_AddStringToObject(
      o, "mantel",
      "one-sided (greater): p = (1 + #{r_perm >= r_obs}) / (B + 1), image labels of one matrix permuted");
  return o;
}

static cJSON *sources_json(const rsa_job *j) {
  cJSON *arr = cJSON_CreateArray();
  for (int s = 0; s < j->nsrc; s++) {
    const rsa_source *x = &j->src[s];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "label", x->label);
    cJSON_AddStringToObject(o, "kind", kind_name(x->kind));
    cJSON_AddBoolToObject(o, "target", x->is_target);
    if (x->kind == SRC_THRESHOLD) cJSON_AddNumberToObject(o, "th", x->th);
    if (x->kind == SRC_PIXEL) cJSON_AddStringToObject(o, "channels", x->color ? "colour" : "gray");
    if (x->kind == SRC_FILE) cJSON_AddStringToObject(o, "file", x->file);
    if (x->run[0]) {
      cJSON_AddStringToObject(o, "run", x->run);
      cJSON_AddStringToObject(o, "layer", x->layer);
    }
    if (x->kind == SRC_MIX) {
      cJSON_AddItemToObject(o, "gamma", cJSON_CreateDoubleArray(x->gamma, x->n_gamma));
      cJSON_AddStringToObject(
          o, "gamma_from",
          x->gamma_from_ckpt ? "checkpoint reg.w" : "uniform (no regularizer weights in the run)");
    }
    for (int a = 0; a < j->k; a++)
      if (j->rsa_of[a] == s) {
        cJSON_AddNumberToObject(o, "distinct_values", (double)j->info[a].n_distinct);
        cJSON_AddNumberToObject(o, "tie_fraction", j->info[a].tie_fraction);
        cJSON_AddNumberToObject(o, "mean", j->info[a].mean);
        cJSON_AddNumberToObject(o, "sd", j->info[a].sd);
        if (heavy_ties(j, a))
          cJSON_AddStringToObject(
              o, "note",
              "most pairs are tied (a thresholded target): Spearman uses midranks, see Kendall tau-b");
      }
    cJSON_AddItemToArray(arr, o);
  }
  return arr;
}

static cJSON *pairs_json(const rsa_job *j) {
  cJSON *arr = cJSON_CreateArray();
  for (int64_t q = 0; j->k >= 2 && q < (int64_t)j->k * (j->k - 1) / 2; q++) {
    const sr_rsa_pair *p = &j->pairs[q];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "a", rsa_src(j, p->a)->label);
    cJSON_AddStringToObject(o, "b", rsa_src(j, p->b)->label);
    cJSON_AddItemToObject(o, "pearson", stat_json(&p->pearson, NULL));
    cJSON_AddItemToObject(
        o, "spearman",
        stat_json(&p->spearman, p->has_ci ? "bootstrap with the full-sample midranks fixed" : NULL));
    cJSON_AddItemToObject(o, "kendall_tau_b", num(p->kendall));
    if (heavy_ties(j, p->a) || heavy_ties(j, p->b))
      cJSON_AddStringToObject(o, "ties", "one side is mostly ties");
    cJSON_AddItemToArray(arr, o);
  }
  return arr;
}

// For each run: every layer source (and mix) against every target, in source order.
static cJSON *profile_json(const rsa_job *j) {
  cJSON *arr = cJSON_CreateArray();
  for (int a = 0; a < j->k; a++) {
    const rsa_source *x = rsa_src(j, a);
    if (x->kind != SRC_RUN && x->kind != SRC_MIX) continue;
    int first = 1;
    for (int b = 0; b < a; b++) first &= !(rsa_src(j, b)->run[0] && !strcmp(rsa_src(j, b)->run, x->run));
    if (!first) continue;
    cJSON *run = cJSON_CreateObject(), *layers = cJSON_CreateArray(), *targets = cJSON_CreateArray();
    cJSON_AddStringToObject(run, "run", x->run_name);
    cJSON_AddStringToObject(run, "dir", x->run);
    for (int t = 0; t < j->k; t++) {
      if (!rsa_src(j, t)->is_target) continue;
      cJSON *tj = cJSON_CreateObject();
      cJSON *v[7];
      for (int q = 0; q < 7; q++) v[q] = cJSON_CreateArray();
      for (int b = a; b < j->k; b++) {
        const rsa_source *y = rsa_src(j, b);
        if ((y->kind != SRC_RUN && y->kind != SRC_MIX) || strcmp(y->run, x->run)) continue;
        if (cJSON_GetArraySize(targets) == 0)
          cJSON_AddItemToArray(layers, cJSON_CreateString(y->kind == SRC_MIX ? "mix" : y->layer));
        const sr_rsa_pair *p = pair_of(j, t, b);
        double vals[7] = {p->pearson.r,  p->pearson.lo,  p->pearson.hi, p->pearson.p,
                          p->spearman.r, p->spearman.lo, p->spearman.hi};
        for (int q = 0; q < 7; q++) cJSON_AddItemToArray(v[q], num(vals[q]));
      }
      static const char *const keys[7] = {"pearson",  "lo",          "hi",         "p",
                                          "spearman", "spearman_lo", "spearman_hi"};
      cJSON_AddStringToObject(tj, "target", rsa_src(j, t)->label);
      for (int q = 0; q < 7; q++) cJSON_AddItemToObject(tj, keys[q], v[q]);
      cJSON_AddItemToArray(targets, tj);
    }
    cJSON_AddItemToObject(run, "layers", layers);
    cJSON_AddItemToObject(run, "targets", targets);
    cJSON_AddItemToArray(arr, run);
  }
  return arr;
}

static cJSON *cka_json(const rsa_job *j) {
  cJSON *o = cJSON_CreateObject(), *labels = cJSON_CreateArray(), *m = cJSON_CreateArray();
  for (int a = 0; a < j->ncka; a++) {
    cJSON_AddItemToArray(labels, cJSON_CreateString(j->src[j->cka_of[a]].label));
    cJSON *row = cJSON_CreateArray();
    for (int b = 0; b < j->ncka; b++) cJSON_AddItemToArray(row, num(j->cka[a * j->ncka + b]));
    cJSON_AddItemToArray(m, row);
  }
  cJSON_AddItemToObject(o, "labels", labels);
  cJSON_AddItemToObject(o, "linear_cka", m);
  return o;
}

static sr_status write_json(const rsa_job *j, const char *path, sr_err *err) {
  cJSON *root = cJSON_CreateObject(), *tm = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "format", "simreg-rsa-1");
  cJSON_AddItemToObject(root, "settings", settings_json(j));
  cJSON_AddItemToObject(root, "sources", sources_json(j));
  cJSON_AddItemToObject(root, "pairs", pairs_json(j));
  cJSON_AddItemToObject(root, "profile", profile_json(j));
  if (j->ncka) cJSON_AddItemToObject(root, "cka", cka_json(j));
  cJSON_AddNumberToObject(tm, "sources", j->seconds_sources);
  cJSON_AddNumberToObject(tm, "ranks_and_standardize", j->timing.rank);
  cJSON_AddNumberToObject(tm, "bootstrap", j->timing.boot);
  cJSON_AddNumberToObject(tm, "mantel", j->timing.mantel);
  cJSON_AddNumberToObject(tm, "point_estimates", j->timing.kendall);
  cJSON_AddNumberToObject(tm, "total", j->seconds_total);
  cJSON_AddNumberToObject(tm, "cpu_sources", j->cpu_sources);
  cJSON_AddNumberToObject(tm, "cpu_statistics", j->timing.cpu_total);
  cJSON_AddItemToObject(root, "seconds", tm);
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (!text) return sr_fail(err, SR_ERR_NOMEM, "rsa.json text");
  sr_status st = sr_write_file_atomic(path, text, strlen(text), err);
  free(text);
  return st;
}

// ---- figures ----

static sr_status fig_matrix(const rsa_job *j, sr_err *err) {
  const int k = j->k;
  double *m = malloc(sizeof(double) * (size_t)k * (size_t)k);
  if (!m) return sr_fail(err, SR_ERR_NOMEM, "heat map");
  for (int a = 0; a < k; a++)
    for (int b = 0; b < k; b++) m[a * k + b] = a == b ? 1.0 : pair_of(j, a, b)->pearson.r;
  char base[4200], title[128];
  snprintf(base, sizeof base, "%s/rsa_matrix", j->a->out);
  snprintf(title, sizeof title, "Pearson r between sources (numbers as in rsa.json), N = %lld",
           (long long)j->n);
  sr_plot_opts po = {.title = title, .xlabel = "source", .ylabel = "source"};
  sr_map_opts mo = {.vmin = -1,
                    .vmax = 1,
                    .x0 = 0.5,
                    .x1 = k + 0.5,
                    .y0 = 0.5,
                    .y1 = k + 0.5,
                    .cbar_label = "Pearson r",
                    .cmap = SR_CMAP_DIVERGING,
                    .origin_top = 1};
  sr_status st = sr_plot_heatmap(base, &po, &mo, m, k, k, err);
  free(m);
  return st;
}

static sr_status fig_cka(const rsa_job *j, sr_err *err) {
  char base[4200];
  snprintf(base, sizeof base, "%s/rsa_cka", j->a->out);
  sr_plot_opts po = {
      .title = "Linear CKA between layers (order as in rsa.json)", .xlabel = "layer", .ylabel = "layer"};
  sr_map_opts mo = {.vmin = 0,
                    .vmax = 1,
                    .x0 = 0.5,
                    .x1 = j->ncka + 0.5,
                    .y0 = 0.5,
                    .y1 = j->ncka + 0.5,
                    .cbar_label = "CKA",
                    .cmap = SR_CMAP_SEQUENTIAL,
                    .origin_top = 1};
  return sr_plot_heatmap(base, &po, &mo, j->cka, j->ncka, j->ncka, err);
}

// 2-D histogram of the pair values (x: source a, y: source b), log10(1 + count) per cell.
static sr_status fig_hexbin(const rsa_job *j, int a, int b, sr_err *err) {
  const float *A = rsa_src(j, a)->S, *B = rsa_src(j, b)->S;
  const int64_t n = j->n;
  double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
  for (int64_t i = 0; i < n; i++)
    for (int64_t q = i + 1; q < n; q++) {
      double x = A[i * n + q], y = B[i * n + q];
      lo[0] = fmin(lo[0], x);
      hi[0] = fmax(hi[0], x);
      lo[1] = fmin(lo[1], y);
      hi[1] = fmax(hi[1], y);
    }
  for (int d = 0; d < 2; d++)
    if (!(hi[d] > lo[d])) {
      lo[d] -= 0.5;
      hi[d] += 0.5;
    }
  double *h = calloc(HEX_BINS * HEX_BINS, sizeof(double));
  if (!h) return sr_fail(err, SR_ERR_NOMEM, "density plot");
  for (int64_t i = 0; i < n; i++)
    for (int64_t q = i + 1; q < n; q++) {
      int bx = (int)((A[i * n + q] - lo[0]) / (hi[0] - lo[0]) * HEX_BINS),
          by = (int)((B[i * n + q] - lo[1]) / (hi[1] - lo[1]) * HEX_BINS);
      h[(by >= HEX_BINS ? HEX_BINS - 1 : by) * HEX_BINS + (bx >= HEX_BINS ? HEX_BINS - 1 : bx)] += 1;
    }
  for (int c = 0; c < HEX_BINS * HEX_BINS; c++) h[c] = log10(1 + h[c]);
  char base[4200], title[256];
  snprintf(base, sizeof base, "%s/rsa_pairs_%d_%d", j->a->out, a + 1, b + 1);
  snprintf(title, sizeof title, "pairs i<j: r = %.3f (Pearson), %.3f (Spearman)", pair_of(j, a, b)->pearson.r,
           pair_of(j, a, b)->spearman.r);
  sr_plot_opts po = {.title = title, .xlabel = rsa_src(j, a)->label, .ylabel = rsa_src(j, b)->label};
  sr_map_opts mo = {.x0 = lo[0],
                    .x1 = hi[0],
                    .y0 = lo[1],
                    .y1 = hi[1],
                    .cbar_label = "log10(1 + pairs)",
                    .cmap = SR_CMAP_SEQUENTIAL};
  sr_status st = sr_plot_heatmap(base, &po, &mo, h, HEX_BINS, HEX_BINS, err);
  free(h);
  return st;
}

static sr_status fig_hexbins(const rsa_job *j, sr_err *err) {
  int pa[MAX_HEX], pb[MAX_HEX], np = 0;
  if (j->a->hexbin) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", j->a->hexbin);
    for (char *tok = strtok(buf, ","); tok && np < MAX_HEX; tok = strtok(NULL, ",")) {
      int a, b;
      if (sscanf(tok, "%d-%d", &a, &b) != 2 || a < 1 || b < 1 || a > j->k || b > j->k || a == b)
        return sr_fail(err, SR_ERR_ARG, "--hexbin: '%s' is not A-B with two different sources in 1..%d", tok,
                       j->k);
      pa[np] = a - 1;
      pb[np++] = b - 1;
    }
  } else {
    int t = -1;
    for (int a = 0; a < j->k && t < 0; a++)
      if (rsa_src(j, a)->is_target) t = a;
    for (int b = 0; b < j->k && np < MAX_HEX; b++)
      if (b != (t < 0 ? 0 : t)) {
        pa[np] = t < 0 ? 0 : t;
        pb[np++] = b;
      }
  }
  sr_status st = SR_OK;
  for (int q = 0; q < np && !st; q++) st = fig_hexbin(j, pa[q], pb[q], err);
  return st;
}

sr_status rsa_write_outputs(const rsa_job *j, sr_err *err) {
  sr_status st = sr_mkdir_p(j->a->out, err);
  char path[4200];
  snprintf(path, sizeof path, "%s/rsa.json", j->a->out);
  if (!st) st = write_json(j, path, err);
  if (!st && !j->a->no_plot) {
    if (j->k >= 2) st = fig_matrix(j, err);
    if (!st && j->k >= 2) st = fig_hexbins(j, err);
    if (!st && j->ncka >= 2) st = fig_cka(j, err);
    char base[4200];
    snprintf(base, sizeof base, "%s/rsa_profile", j->a->out);
    int has_profile = 0;
    for (int a = 0; a < j->k; a++)
      has_profile |= rsa_src(j, a)->kind == SRC_RUN || rsa_src(j, a)->kind == SRC_MIX;
    if (!st && has_profile) st = sr_rsa_plot_profile(path, base, err);
  }
  if (!st) printf("wrote %s%s\n", path, j->a->no_plot ? "" : " and the figures (rsa_*.png/.svg)");
  return st;
}
