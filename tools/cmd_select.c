// simreg select --baseline RUN [--metric noise:gaussian] [--ratio 0.9] [--json FILE] RUN...
// The paper's selection rule over regularized runs (docs/RESULTS.md).
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "simreg/report.h"

#define SEL_MAX 64

static void print_table(const sr_selection *sel, const sr_run *base, const sr_run *runs,
                        const sr_select_row *rows, int n) {
  const char *metric = sel->metric;
  const double ratio = sel->ratio, bc = sel->base_clean, bs = sel->base_score;
  printf(
      "selection rule: clean accuracy >= %.2f x baseline's (%.4f), ranked by %s at the highest distortion\n",
      ratio, bc, metric);
  printf("%-40s %8s %10s %6s\n", "run", "clean", "score", "rank");
  printf("%-40s %8.4f %10.4g %6s\n", base->dir, bc, bs, "base");
  for (int i = 0; i < n; i++) {
    char rk[16];
    if (rows[i].kept)
      snprintf(rk, sizeof rk, "%d", rows[i].rank);
    else
      snprintf(rk, sizeof rk, "%s", isfinite(rows[i].score) ? "out" : "n/a");
    printf("%-40s %8.4f %10.4g %6s\n", runs[i].dir, rows[i].clean, rows[i].score, rk);
  }
}

static cJSON *num(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

static int write_json(const char *path, const sr_selection *sel, const sr_run *base, const sr_run *runs,
                      const sr_select_row *rows, int n, sr_err *err) {
  const char *metric = sel->metric;
  const double ratio = sel->ratio, bc = sel->base_clean, bs = sel->base_score;
  cJSON *j = cJSON_CreateObject(), *arr = cJSON_CreateArray();
  cJSON_AddStringToObject(j, "metric", metric);
  cJSON_AddNumberToObject(j, "ratio", ratio);
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "run", base->dir);
  cJSON_AddItemToObject(b, "clean", num(bc));
  cJSON_AddItemToObject(b, "score", num(bs));
  cJSON_AddItemToObject(j, "baseline", b);
  for (int i = 0; i < n; i++) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "run", runs[i].dir);
    cJSON_AddStringToObject(r, "reg", runs[i].reg);
    cJSON_AddItemToObject(r, "clean", num(rows[i].clean));
    cJSON_AddItemToObject(r, "score", num(rows[i].score));
    cJSON_AddBoolToObject(r, "kept", rows[i].kept);
    cJSON_AddNumberToObject(r, "rank", rows[i].rank);
    cJSON_AddItemToArray(arr, r);
  }
  cJSON_AddItemToObject(j, "runs", arr);
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  if (!text) return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
  sr_status st = sr_write_file_atomic(path, text, strlen(text), err);
  cJSON_free(text);
  return st;
}

int sr_cmd_select(int argc, char **argv) {
  const char *baseline = NULL, *metric = "noise:gaussian", *json = NULL;
  double ratio = 0.9;
  sr_opt opts[] = {{"baseline", SR_OPT_STRING, &baseline, "the unregularized run (required)", 0, 0, 0},
                   {"metric", SR_OPT_STRING, &metric,
                    "noise:KIND | transfer:KIND | boundary (default noise:gaussian)", 0, 0, 0},
                   {"ratio", SR_OPT_DOUBLE, &ratio,
                    "keep runs with clean accuracy >= ratio x baseline's (default 0.9)", 1e-9, 1, 0},
                   {"json", SR_OPT_STRING, &json, "also write the ranking as JSON to this file", 0, 0, 0},
                   {0}};
  const char *pos[SEL_MAX + 1];
  int npos;
  int rc = sr_cli_parse("select", "--baseline RUN [options] RUN...", opts,
                        &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2}, pos, SEL_MAX + 1, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  if (!baseline || npos < 1 || npos > SEL_MAX) {
    fprintf(stderr,
            "simreg select: need --baseline RUN and 1 to %d runs to rank (see simreg select --help)\n",
            SEL_MAX);
    return SR_EXIT_USAGE;
  }
  sr_run *runs = sr_calloc((size_t)npos + 1, sizeof *runs);
  sr_select_row rows[SEL_MAX];
  if (!runs) return SR_EXIT_FAIL;
  sr_err err = {0};
  sr_status st = sr_run_load(baseline, &runs[npos], &err);
  int loaded = 0;
  for (; !st && loaded < npos; loaded++) st = sr_run_load(pos[loaded], &runs[loaded], &err);
  sr_selection sel = {.metric = metric, .ratio = ratio, .base_clean = NAN, .base_score = NAN};
  if (!st) st = sr_select_rank(&runs[npos], runs, npos, &sel, rows, &err);
  if (!st) {
    print_table(&sel, &runs[npos], runs, rows, npos);
    if (json) st = write_json(json, &sel, &runs[npos], runs, rows, npos, &err);
  }
  for (int i = 0; i < loaded; i++) sr_run_free(&runs[i]);
  sr_run_free(&runs[npos]);
  sr_free(runs);
  return st ? sr_cli_fail("select", &err) : 0;
}
