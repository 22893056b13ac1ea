// simreg eval --corruptions DIR: accuracy per corruption, severity and frequency group on a CIFAR-10-C
// style directory (simreg corrupt's output or the original), written to RUN/corruptions.json.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "eval_corrupt.h"
#include "simreg/corrupt.h"

static sr_status eval_one(sr_model *m, const char *dir, sr_corruption k, const sr_loader_opts *o, double *acc,
                          sr_err *err) {
  sr_dataset ds;
  sr_status st =
      sr_corrupt_load(dir, sr_corruption_name(k), 0, m->cfg.classes, &ds, err);  // all 5 severities
  int64_t n = ds.n / SR_NUM_SEVERITIES;
  int64_t *idx = st ? NULL : malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
  if (!st && !idx) st = sr_fail(err, SR_ERR_NOMEM, "out of memory");
  if (!st && (sr_batch_channels(&ds, o) != m->cfg.in_c || ds.h != m->cfg.in_h || ds.w != m->cfg.in_w))
    st = sr_fail(err, SR_ERR_SHAPE, "%s/%s.npy: images are %dx%dx%d, the model takes %dx%dx%d", dir,
                 sr_corruption_name(k), sr_batch_channels(&ds, o), ds.h, ds.w, m->cfg.in_c, m->cfg.in_h,
                 m->cfg.in_w);
  for (int s = 0; !st && s < SR_NUM_SEVERITIES; s++) {
    for (int64_t i = 0; i < n; i++) idx[i] = (int64_t)s * n + i;
    sr_eval_result r;
    if (!(st = sr_evaluate(m, &(sr_eval_set){.ds = &ds, .idx = idx, .n = n}, o, 0, &r, err)))
      acc[s] = r.accuracy;
  }
  free(idx);
  sr_dataset_free(&ds);
  return st;
}

static sr_status write_json(const char *run, cJSON *j, sr_err *err) {
  char path[2048], *s = cJSON_Print(j);
  snprintf(path, sizeof path, "%s/corruptions.json", run);
  sr_status st =
      s ? sr_write_file_atomic(path, s, strlen(s), err) : sr_fail(err, SR_ERR_NOMEM, "out of memory");
  free(s);
  return st;
}

int sr_eval_corruptions(const char *run, sr_model *m, const sr_loader_opts *o, const char *dir, int json) {
  sr_err err = {0};
  sr_corrupt_freq freq;
  int have_freq = sr_corrupt_read_freq(dir, &freq, &err) == SR_OK;
  cJSON *j = cJSON_CreateObject(), *cs = cJSON_AddObjectToObject(j, "corruptions");
  int sev[SR_NUM_SEVERITIES] = {1, 2, 3, 4, 5}, found = 0;
  cJSON_AddItemToObject(j, "severities", cJSON_CreateIntArray(sev, SR_NUM_SEVERITIES));
  sr_status st = SR_OK;
  if (!json)
    printf("%-20s %-6s %7s %7s %7s %7s %7s %7s\n", "corruption", "group", "s1", "s2", "s3", "s4", "s5",
           "mean");
  for (int k = 0; k < SR_NUM_CORRUPTIONS && !st; k++) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s.npy", dir, sr_corruption_name((sr_corruption)k));
    if (access(path, F_OK) != 0) continue;
    double acc[SR_NUM_SEVERITIES], mean = 0;
    if ((st = eval_one(m, dir, (sr_corruption)k, o, acc, &err))) break;
    const char *group = "all";
    for (int q = 0; have_freq && q < freq.n_kinds; q++)
      if (freq.kinds[q] == (sr_corruption)k) group = sr_freq_group_name(freq.group[q]);
    cJSON *c = cJSON_AddObjectToObject(cs, sr_corruption_name((sr_corruption)k));
    cJSON_AddStringToObject(c, "group", group);
    cJSON_AddItemToObject(c, "accuracy", cJSON_CreateDoubleArray(acc, SR_NUM_SEVERITIES));
    for (int s = 0; s < SR_NUM_SEVERITIES; s++) mean += acc[s] / SR_NUM_SEVERITIES;
    if (!json)
      printf("%-20s %-6s %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f\n", sr_corruption_name((sr_corruption)k), group,
             acc[0], acc[1], acc[2], acc[3], acc[4], mean);
    found++;
  }
  if (!st && !found) st = sr_fail(&err, SR_ERR_IO, "%s: no corruption files (<name>.npy) found", dir);
  if (!st) st = write_json(run, j, &err);
  if (!st && json) {
    char *s = cJSON_PrintUnformatted(j);
    printf("%s\n", s);
    free(s);
  }
  cJSON_Delete(j);
  if (st) return sr_cli_fail("eval", &err);
  if (!json) fprintf(stderr, "wrote %s/corruptions.json\n", run);
  return 0;
}
