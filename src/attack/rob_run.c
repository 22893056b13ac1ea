// Loading a run for the robustness protocol, its clean predictions, the levels, and what the runners share
// (sharding, per-image strings, quartiles, progress).
#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "attack/rob_internal.h"
#include "simreg/stats.h"

sr_rob_opts sr_rob_opts_default(void) {
  return (sr_rob_opts){.split = "test",
                       .which = "best",
                       .noise = "gaussian,uniform,salt_pepper",
                       .norm = "linf",
                       .images = 1000,
                       .batch = 128,
                       .repeats = 1,
                       .n_levels = 10,
                       .queries = 10000,
                       .iterations = 64,
                       .init_evals = 100,
                       .max_evals = 10000};
}

void sr_rob_threads(const sr_rob_opts *a) {
  if (a->threads > 0) omp_set_num_threads(a->threads);
}

// Level l of per-image results (n, levels, repeats) as one string, repeat-major: character r * n + i.
cJSON *sr_rob_bits(const uint8_t *v, int64_t n, int levels, int64_t repeats, int l) {
  char *s = sr_alloc((size_t)(n * repeats) + 1);
  if (!s) return cJSON_CreateNull();
  for (int64_t k = 0; k < repeats; k++)
    for (int64_t i = 0; i < n; i++) s[k * n + i] = v[(i * levels + l) * repeats + k] ? '1' : '0';
  s[n * repeats] = 0;
  cJSON *out = cJSON_CreateString(s);
  sr_free(s);
  return out;
}

cJSON *sr_rob_doubles(const double *v, int64_t n) {
  cJSON *a = cJSON_CreateArray();
  for (int64_t i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
  return a;
}

double sr_rob_per_sec(double n, double secs) { return n / (secs > 0 ? secs : 1e-9); }

// This rank's rows [lo, hi) of n images attacked in batches (whole batches per rank: see dist.h).
void sr_rob_shard(const sr_rob_opts *a, int64_t n, int64_t batch, int64_t *lo, int64_t *hi) {
  sr_dist_shard_batches(n, batch, sr_dist_rank(a->dist), sr_dist_size(a->dist), lo, hi);
}

int sr_rob_root(const sr_rob_opts *a) { return sr_dist_rank(a->dist) == 0; }

// Clean predictions of the n loaded images: each rank its rows, then everyone gets all of them (the
// minimal-perturbation attacks pick correctly classified images on every rank alike).
static sr_status clean_predictions(const sr_rob_opts *a, sr_rob_run *r, sr_err *err) {
  int64_t lo, hi, b = r->t.am.batch;
  sr_rob_shard(a, r->n, b, &lo, &hi);
  int32_t *mine = sr_alloc((size_t)(hi > lo ? hi - lo : 1) * sizeof(int32_t));
  if (!mine) return sr_fail(err, SR_ERR_NOMEM, "%lld predictions", (long long)r->n);
  sr_status st = hi > lo ? sr_amodel_predict(&r->t.am, r->x + lo * r->d, hi - lo, mine, NULL, err) : SR_OK;
  if (!st) st = sr_dist_gather_batches(a->dist, mine, r->n, b, sizeof(int32_t), r->pred, err);
  if (!st) st = sr_dist_bcast(a->dist, r->pred, (size_t)r->n * sizeof(int32_t), 0, err);
  sr_free(mine);
  return st;
}

// 25th, 50th, 75th percentiles of sorted values (NumPy's linear interpolation).
static cJSON *quartiles(const double *v, int64_t n) {
  double s[3] = {NAN, NAN, NAN};
  if (n > 0) {
    s[0] = sr_quantile_sorted(v, n, 0.25);
    s[1] = sr_quantile_sorted(v, n, 0.5);
    s[2] = sr_quantile_sorted(v, n, 0.75);
  }
  return sr_rob_doubles(s, 3);
}

// Get or add an object member (several results may share "attacks").
cJSON *sr_rob_member(cJSON *o, const char *key) {
  cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsObject(m) ? m : cJSON_AddObjectToObject(o, key);
}

cJSON *sr_rob_quartiles_of(const double *v, int64_t n, double *scratch) {
  memcpy(scratch, v, (size_t)n * sizeof(double));
  qsort(scratch, (size_t)n, sizeof(double), sr_cmp_double);
  return quartiles(scratch, n);
}

// ---- progress: the caller's callback, on every rank
// --------------------------------------------------------
static void tick(const sr_rob_tick *t, sr_rob_phase phase, double done) {
  if (!t->o->on_progress) return;
  sr_rob_progress p = {.phase = phase,
                       .label = t->label,
                       .done = done,
                       .total = t->total,
                       .queries = t->am->queries - t->q0,
                       .seconds = sr_now() - t->t0};
  t->o->on_progress(t->o->progress_ctx, &p);
}

void sr_rob_tick_start(sr_rob_tick *t, const sr_rob_opts *o, const char *label, const sr_amodel *am,
                       int64_t total) {
  *t = (sr_rob_tick){.o = o, .label = label, .am = am, .q0 = am->queries, .total = total, .t0 = sr_now()};
  tick(t, SR_ROB_START, 0);
}

void sr_rob_tick_update(sr_rob_tick *t, double done) { tick(t, SR_ROB_UPDATE, done); }

void sr_rob_tick_end(sr_rob_tick *t) { tick(t, SR_ROB_END, (double)t->total); }

// ---- loading
// -------------------------------------------------------------------------------------------------
sr_status sr_rob_open_target(const char *dir, const sr_rob_opts *a, int c, sr_rob_target *t, sr_err *err) {
  sr_status st = sr_run_open(dir, a->which, &t->m, &t->info, err);
  if (st) return sr_err_context(err, "%s", dir);
  t->open = 1;
  if ((st = sr_model_set_precision(&t->m, a->precision, err)) ||
      (st = sr_model_set_winograd(&t->m, a->winograd, err)) ||
      (a->conv_algo && (st = sr_model_set_conv_algo(&t->m, a->conv_algo, err))) ||
      (a->conv_cache && (st = sr_conv_cache_load(a->conv_cache, &t->m, err))))
    return st;
  if ((st = sr_amodel_init(
           &t->am, &t->m,
           (sr_pixel_map){.c = c, .gray = t->info.gray, .mean = t->info.mean, .scale = t->info.scale},
           a->batch, err)))
    return sr_err_context(err, "%s", dir);
  t->wrapped = 1;
  return SR_OK;
}

void sr_rob_close_target(sr_rob_target *t) {
  if (t->wrapped) sr_amodel_free(&t->am);
  if (t->open) sr_model_free(&t->m);
  t->wrapped = t->open = 0;
}

sr_status sr_rob_open(const char *dir, const sr_rob_opts *a, sr_rob_run *r, cJSON *out, sr_err *err) {
  memset(r, 0, sizeof *r);
  r->dir = dir;
  sr_status st = sr_run_open(dir, a->which, &r->t.m, &r->t.info, err);
  if (st) return sr_err_context(err, "%s", dir);
  r->t.open = 1;
  if ((st = sr_model_set_precision(&r->t.m, a->precision, err)) ||
      (st = sr_model_set_winograd(&r->t.m, a->winograd, err)) ||
      (a->conv_algo && (st = sr_model_set_conv_algo(&r->t.m, a->conv_algo, err))) ||
      (a->conv_cache && (st = sr_conv_cache_load(a->conv_cache, &r->t.m, err))))
    return st;
  st = sr_dataset_load(a->data ? a->data : r->t.info.data, a->split, &r->ds, err);
  if (!st && (r->ds.h != r->t.m.cfg.in_h || r->ds.w != r->t.m.cfg.in_w))
    st = sr_fail(err, SR_ERR_SHAPE, "%s images are %dx%d, the model of %s takes %dx%d", r->ds.name, r->ds.h,
                 r->ds.w, dir, r->t.m.cfg.in_h, r->t.m.cfg.in_w);
  if (!st)
    st = sr_amodel_init(
        &r->t.am, &r->t.m,
        (sr_pixel_map){
            .c = r->ds.c, .gray = r->t.info.gray, .mean = r->t.info.mean, .scale = r->t.info.scale},
        a->batch, err);
  if (st) return st;
  r->t.wrapped = 1;
  r->n = a->images < r->ds.n ? a->images : r->ds.n;
  r->d = (int64_t)r->ds.c * r->ds.h * r->ds.w;
  r->x = sr_alloc((size_t)r->n * (size_t)r->d * sizeof(float));
  r->y = sr_alloc((size_t)r->n * sizeof(int32_t));
  r->pred = sr_alloc((size_t)r->n * sizeof(int32_t));
  if (!r->x || !r->y || !r->pred) return sr_fail(err, SR_ERR_NOMEM, "%lld images", (long long)r->n);
  for (int64_t i = 0; i < r->n * r->d; i++) r->x[i] = r->ds.images[i] / 255.0f;
  for (int64_t i = 0; i < r->n; i++) r->y[i] = r->ds.labels[i];
  if ((st = clean_predictions(a, r, err))) return st;
  int64_t ok = 0;
  for (int64_t i = 0; i < r->n; i++) ok += r->pred[i] == r->y[i];
  cJSON_AddNumberToObject(out, "clean_accuracy", (double)ok / (double)r->n);
  cJSON_AddNumberToObject(out, "clean_images", (double)r->n);
  uint8_t *cc = sr_alloc((size_t)r->n);
  if (!cc) return sr_fail(err, SR_ERR_NOMEM, "%lld images", (long long)r->n);
  for (int64_t i = 0; i < r->n; i++) cc[i] = r->pred[i] == r->y[i];
  cJSON_AddItemToObject(out, "clean_correct", sr_rob_bits(cc, r->n, 1, 1, 0));
  sr_free(cc);
  return SR_OK;
}

void sr_rob_close(sr_rob_run *r) {
  sr_free(r->x);
  sr_free(r->y);
  sr_free(r->pred);
  sr_dataset_free(&r->ds);
  sr_rob_close_target(&r->t);
  memset(r, 0, sizeof *r);
}

static sr_status parse_levels(const char *s, double *v, int *n, sr_err *err) {
  *n = 0;
  while (s && *s) {
    char *end;
    double x = strtod(s, &end);
    if (end == s || !isfinite(x) || x < 0 || *n >= SR_ROB_MAX_LEVELS)
      return sr_fail(err, SR_ERR_ARG, "--levels: '%s' is not a list of up to %d non-negative numbers", s,
                     SR_ROB_MAX_LEVELS);
    v[(*n)++] = x;
    s = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') return sr_fail(err, SR_ERR_ARG, "--levels: unexpected '%s'", end);
  }
  return *n ? SR_OK : sr_fail(err, SR_ERR_ARG, "--levels is empty");
}

sr_status sr_rob_levels(const sr_rob_opts *a, const sr_rob_run *r, int noise, double *lv, int *nl,
                        sr_err *err) {
  if (a->levels) return parse_levels(a->levels, lv, nl, err);
  int gray = r->ds.c == 1;
  double hi = a->max_level > 0 ? a->max_level
              : noise          ? (gray ? 0.5 : 0.1)
              : a->eps > 0     ? a->eps
              : gray           ? 0.1
                               : 0.02;
  *nl = a->n_levels;
  for (int i = 0; i < *nl; i++) lv[i] = *nl > 1 ? hi * i / (*nl - 1) : hi;
  return SR_OK;
}

void sr_rob_convergence_json(cJSON *b, const sr_convergence *c, const char *distance) {
  double at[SR_TRACE_POINTS];
  for (int k = 0; k < SR_TRACE_POINTS; k++) at[k] = (double)c->at[k];
  cJSON *cv = cJSON_AddObjectToObject(b, "convergence");
  cJSON_AddStringToObject(cv, "distance", distance);
  cJSON_AddItemToObject(cv, "steps", sr_rob_doubles(at, SR_TRACE_POINTS));
  cJSON_AddItemToObject(cv, "median", sr_rob_doubles(c->median, SR_TRACE_POINTS));
  cJSON_AddNumberToObject(cv, "images", (double)c->images);
  if (isfinite(c->last_drop))
    cJSON_AddNumberToObject(cv, "last20_drop", c->last_drop);
  else
    cJSON_AddNullToObject(cv, "last20_drop");
  cJSON_AddNumberToObject(cv, "tolerance", c->tol);
  cJSON_AddBoolToObject(cv, "converged", c->converged);
  cJSON_AddStringToObject(cv, "rule",
                          "converged when the last 20% of the steps cut the median by at most 5%");
}
