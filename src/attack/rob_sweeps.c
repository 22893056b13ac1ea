// The sweeps of the robustness protocol: noise (out.noise) and white-box / transferred FGSM and PGD.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attack/rob_internal.h"

// ---- noise and gradient attacks
// ------------------------------------------------------------------------------
sr_status sr_rob_noise(const sr_rob_opts *a, sr_rob_run *r, const double *lv, int nl, cJSON *out,
                       sr_err *err) {
  cJSON *noise = cJSON_AddObjectToObject(out, "noise");
  char kinds[256];
  snprintf(kinds, sizeof kinds, "%s", a->noise);
  int64_t lo, hi;
  sr_rob_shard(a, r->n, r->t.am.batch, &lo, &hi);
  for (char *save = NULL, *k = strtok_r(kinds, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
    int kind = sr_noise_parse(k);
    if (kind < 0)
      return sr_fail(err, SR_ERR_ARG, "--noise: unknown kind '%s' (gaussian, uniform, salt_pepper)", k);
    double acc[SR_ROB_MAX_LEVELS], lo_ci[SR_ROB_MAX_LEVELS], hi_ci[SR_ROB_MAX_LEVELS], t0 = sr_now();
    int64_t cnt[SR_ROB_MAX_LEVELS + 1], q0 = r->t.am.queries, total = r->n * a->repeats;  // cnt[nl]: queries
    size_t row = (size_t)nl * (size_t)a->repeats;  // per image: (level, repeat)
    uint8_t *mine = sr_alloc((size_t)(hi > lo ? hi - lo : 1) * row), *all = sr_alloc((size_t)r->n * row);
    sr_status st = !mine || !all ? sr_fail(err, SR_ERR_NOMEM, "per-image noise results") : SR_OK;
    sr_labeled im = {.x = r->x + lo * r->d, .y = r->y + lo, .n = hi - lo};
    sr_noise_sweep_opts no = {.kind = (sr_noise_kind)kind,
                              .levels = lv,
                              .n_levels = nl,
                              .repeats = a->repeats,
                              .seed = a->seed,
                              .first_index = lo};
    if (!st) st = sr_noise_sweep_counts(&r->t.am, &im, &no, cnt, mine, err);
    cnt[nl] = r->t.am.queries - q0;
    if (!st) st = sr_dist_allreduce_i64(a->dist, cnt, nl + 1, err);
    if (!st) st = sr_dist_gather_batches(a->dist, mine, r->n, r->t.am.batch, row, all, err);
    sr_free(mine);
    if (st) {
      sr_free(all);
      return st;
    }
    for (int l = 0; l < nl; l++) {
      acc[l] = (double)cnt[l] / (double)total;
      sr_wilson_ci(cnt[l], total, &lo_ci[l], &hi_ci[l]);
    }
    double qps = sr_rob_per_sec((double)cnt[nl], sr_now() - t0);
    cJSON *c = cJSON_AddObjectToObject(noise, k);
    cJSON_AddItemToObject(c, "levels", sr_rob_doubles(lv, nl));
    cJSON_AddItemToObject(c, "accuracy", sr_rob_doubles(acc, nl));
    cJSON_AddItemToObject(c, "ci_low", sr_rob_doubles(lo_ci, nl));
    cJSON_AddItemToObject(c, "ci_high", sr_rob_doubles(hi_ci, nl));
    cJSON_AddNumberToObject(c, "repeats", a->repeats);
    cJSON_AddNumberToObject(c, "images", (double)r->n);
    cJSON_AddNumberToObject(c, "seed", (double)a->seed);
    cJSON_AddNumberToObject(c, "queries_per_second", qps);
    // per level: character r * images + i is 1 when image i was still classified correctly in repeat r
    cJSON *pc = cJSON_AddArrayToObject(c, "correct");
    for (int l = 0; l < nl; l++) cJSON_AddItemToArray(pc, sr_rob_bits(all, r->n, nl, a->repeats, l));
    sr_free(all);
  }
  return SR_OK;
}

sr_status sr_rob_gradient(const sr_rob_opts *a, sr_rob_run *r, sr_rob_target *src, const double *lv, int nl,
                          cJSON *out, sr_err *err) {
  int fgsm = !strcmp(a->attack, "fgsm") || (src && a->steps <= 1);
  sr_norm norm = !strcmp(a->norm, "l2") ? SR_NORM_L2 : SR_NORM_LINF;
  double top = lv[nl - 1] > 0 ? lv[nl - 1] : 1;
  sr_pgd_opts o = fgsm ? sr_fgsm_opts(norm, top) : sr_pgd_opts_default(norm, top);
  if (!fgsm && a->steps > 0) {
    o.steps = (int)a->steps;
    o.step = 2.5 * top / (double)o.steps;
  }
  if (!fgsm && a->step_size > 0) o.step = a->step_size * top;  // relative to eps: scales along the sweep
  if (a->no_random_start) o.random_start = 0;
  sr_eps_curve c[SR_ROB_MAX_LEVELS] = {{0}};
  int64_t lo, hi, cnt[2 * SR_ROB_MAX_LEVELS];
  sr_rob_shard(a, r->n, r->t.am.batch, &lo, &hi);
  o.first_index = lo;
  double t0 = sr_now();
  uint8_t *mine = sr_alloc((size_t)(hi > lo ? hi - lo : 1) * (size_t)nl),
          *all = sr_alloc((size_t)r->n * (size_t)nl);
  sr_status st = !mine || !all ? sr_fail(err, SR_ERR_NOMEM, "per-image results") : SR_OK;
  sr_labeled im = {.x = r->x + lo * r->d, .y = r->y + lo, .n = hi - lo};
  sr_eps_sweep sw = {.base = &o, .eps = lv, .n_eps = nl, .seed = a->seed};
  if (!st && hi > lo) st = sr_gradient_sweep(src ? &src->am : &r->t.am, &r->t.am, &im, &sw, c, mine, err);
  for (int l = 0; l < nl; l++) {
    cnt[l] = c[l].correct;
    cnt[nl + l] = c[l].out_of_bounds;
  }
  if (!st) st = sr_dist_allreduce_i64(a->dist, cnt, 2 * nl, err);
  if (!st) st = sr_dist_gather_batches(a->dist, mine, r->n, r->t.am.batch, (size_t)nl, all, err);
  sr_free(mine);
  if (st) {
    sr_free(all);
    return st;
  }
  double acc[SR_ROB_MAX_LEVELS], oob = 0;
  for (int l = 0; l < nl; l++) {
    acc[l] = (double)cnt[l] / (double)r->n;
    oob += (double)cnt[nl + l];
  }
  char key[32];
  snprintf(key, sizeof key, "%s%s", fgsm ? "fgsm" : "pgd", norm == SR_NORM_L2 ? "_l2" : "");
  cJSON *group = cJSON_AddObjectToObject(out, src ? "transfer" : "white_box");
  cJSON *cv = cJSON_AddObjectToObject(group, key);
  cJSON_AddItemToObject(cv, "levels", sr_rob_doubles(lv, nl));
  cJSON_AddItemToObject(cv, "accuracy", sr_rob_doubles(acc, nl));
  if (src) cJSON_AddStringToObject(cv, "source", a->source_label ? a->source_label : a->source);
  cJSON_AddNumberToObject(cv, "steps", o.steps);
  cJSON_AddNumberToObject(cv, "step_relative", o.step / top);
  cJSON_AddBoolToObject(cv, "random_start", o.random_start);
  cJSON_AddNumberToObject(cv, "out_of_bounds", oob);
  cJSON_AddNumberToObject(cv, "images", (double)r->n);
  cJSON_AddNumberToObject(cv, "seed", (double)a->seed);
  cJSON_AddNumberToObject(cv, "seconds", sr_now() - t0);
  cJSON *pc =
      cJSON_AddArrayToObject(cv, "correct");  // per level: character i is 1 when image i stayed correct
  for (int l = 0; l < nl; l++) cJSON_AddItemToArray(pc, sr_rob_bits(all, r->n, nl, 1, l));
  sr_free(all);
  return oob ? sr_fail(err, SR_ERR_NUMERIC, "%g adversarials left the eps ball or [0,1]", oob) : SR_OK;
}
