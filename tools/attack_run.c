// The attack runners behind `simreg attack` and `simreg robustness`: each fills its part of a
// RUN/robustness.json patch (docs/FORMATS.md, docs/ATTACKS.md).
#include "attack_run.h"
#include "cli.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simreg/npy.h"
#include "simreg/stats.h"

atk_args atk_args_default(void) {
  return (atk_args){.split = "test", .which = "best", .noise = "gaussian,uniform,salt_pepper", .norm = "linf",
                    .images = 1000, .batch = 128, .repeats = 1, .n_levels = 10, .queries = 10000,
                    .iterations = 64, .init_evals = 100, .max_evals = 10000};
}

void atk_threads(const atk_args *a) {
  if (a->threads > 0) omp_set_num_threads(a->threads);
}

// Level l of per-image results (n, levels, repeats) as one string, repeat-major: character r * n + i.
static cJSON *level_bits(const uint8_t *v, int64_t n, int levels, int64_t repeats, int l) {
  char *s = sr_alloc((size_t)(n * repeats) + 1);
  if (!s) return cJSON_CreateNull();
  for (int64_t k = 0; k < repeats; k++)
    for (int64_t i = 0; i < n; i++) s[k * n + i] = v[(i * levels + l) * repeats + k] ? '1' : '0';
  s[n * repeats] = 0;
  cJSON *out = cJSON_CreateString(s);
  sr_free(s);
  return out;
}

static cJSON *doubles(const double *v, int64_t n) {
  cJSON *a = cJSON_CreateArray();
  for (int64_t i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
  return a;
}

static double per_sec(double n, double secs) { return n / (secs > 0 ? secs : 1e-9); }

// This rank's rows [lo, hi) of n images attacked in batches (whole batches per rank: see dist.h).
static void shard_rows(const atk_args *a, int64_t n, int64_t batch, int64_t *lo, int64_t *hi) {
  sr_dist_shard_batches(n, batch, sr_dist_rank(a->dist), sr_dist_size(a->dist), lo, hi);
}

static int is_root(const atk_args *a) { return sr_dist_rank(a->dist) == 0; }

// Clean predictions of the n loaded images: each rank its rows, then everyone gets all of them (the
// minimal-perturbation attacks pick correctly classified images on every rank alike).
static sr_status clean_predictions(const atk_args *a, atk_run *r, sr_err *err) {
  int64_t lo, hi, b = r->t.am.batch;
  shard_rows(a, r->n, b, &lo, &hi);
  int32_t *mine = sr_alloc((size_t)(hi > lo ? hi - lo : 1) * sizeof(int32_t));
  if (!mine) return sr_fail(err, SR_ERR_NOMEM, "%lld predictions", (long long)r->n);
  sr_status st = hi > lo ? sr_amodel_predict(&r->t.am, r->x + lo * r->d, hi - lo, mine, NULL, err) : SR_OK;
  if (!st) st = sr_dist_gather_batches(a->dist, mine, r->n, b, sizeof(int32_t), r->pred, err);
  if (!st) st = sr_dist_bcast(a->dist, r->pred, (size_t)r->n * sizeof(int32_t), 0, err);
  sr_free(mine);
  return st;
}

// ---- progress ----------------------------------------------------------------------------------------------
void atk_progress_start(atk_progress *p, const char *label, const sr_amodel *am, int64_t total, int quiet) {
  *p = (atk_progress){.label = label, .am = am, .q0 = am ? am->queries : 0, .total = total, .t0 = sr_now(),
                      .tty = isatty(2), .quiet = quiet};
  p->last = p->t0;
}

void atk_progress_update(atk_progress *p, double done) {
  double now = sr_now();
  if (p->quiet || (now - p->last < (p->tty ? 0.5 : 20.0))) return;
  p->last = now;
  double secs = now - p->t0, frac = p->total > 0 ? done / (double)p->total : 0;
  double qps = per_sec((double)(p->am->queries - p->q0), secs), eta = frac > 0 ? secs / frac - secs : 0;
  if (p->tty) {
    char bar[21];
    int fill = (int)(frac * 20);
    for (int i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
    bar[20] = 0;
    fprintf(stderr, "\r%s [%s] %.0f/%lld images, %.0f queries/s, ETA %.0f s   ", p->label, bar, done,
            (long long)p->total, qps, eta);
    p->drawn = 1;
  } else {
    fprintf(stderr, "%s: %.0f/%lld images, %.0f queries/s, ETA %.0f s\n", p->label, done, (long long)p->total, qps, eta);
  }
}

void atk_progress_end(atk_progress *p) {
  if (p->drawn) fprintf(stderr, "\n");
  p->drawn = 0;
}

// ---- loading -------------------------------------------------------------------------------------------------
sr_status atk_open_target(const char *dir, const atk_args *a, int c, atk_target *t, sr_err *err) {
  sr_status st = sr_run_open(dir, a->which, &t->m, &t->info, err);
  if (st) return sr_err_context(err, "%s", dir);
  t->open = 1;
  if ((st = sr_model_set_precision(&t->m, a->precision, err)) ||
      (st = sr_model_set_winograd(&t->m, sr_cli_winograd(), err)))
    return st;
  if ((st = sr_amodel_init(&t->am, &t->m, c, t->info.gray, t->info.mean, t->info.scale, a->batch, err)))
    return sr_err_context(err, "%s", dir);
  t->wrapped = 1;
  return SR_OK;
}

void atk_close_target(atk_target *t) {
  if (t->wrapped) sr_amodel_free(&t->am);
  if (t->open) sr_model_free(&t->m);
  t->wrapped = t->open = 0;
}

sr_status atk_open(const char *dir, const atk_args *a, atk_run *r, cJSON *out, sr_err *err) {
  memset(r, 0, sizeof *r);
  r->dir = dir;
  sr_status st = sr_run_open(dir, a->which, &r->t.m, &r->t.info, err);
  if (st) return sr_err_context(err, "%s", dir);
  r->t.open = 1;
  if ((st = sr_model_set_precision(&r->t.m, a->precision, err)) ||
      (st = sr_model_set_winograd(&r->t.m, sr_cli_winograd(), err)))
    return st;
  st = sr_dataset_load(a->data ? a->data : r->t.info.data, a->split, &r->ds, err);
  if (!st && (r->ds.h != r->t.m.cfg.in_h || r->ds.w != r->t.m.cfg.in_w))
    st = sr_fail(err, SR_ERR_SHAPE, "%s images are %dx%d, the model of %s takes %dx%d", r->ds.name, r->ds.h, r->ds.w,
                 dir, r->t.m.cfg.in_h, r->t.m.cfg.in_w);
  if (!st) st = sr_amodel_init(&r->t.am, &r->t.m, r->ds.c, r->t.info.gray, r->t.info.mean, r->t.info.scale, a->batch, err);
  if (st) return st;
  r->t.wrapped = 1;
  r->n = a->images < r->ds.n ? a->images : r->ds.n, r->d = (int64_t)r->ds.c * r->ds.h * r->ds.w;
  r->x = sr_alloc((size_t)r->n * (size_t)r->d * sizeof(float));
  r->y = sr_alloc((size_t)r->n * sizeof(int32_t)), r->pred = sr_alloc((size_t)r->n * sizeof(int32_t));
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
  cJSON_AddItemToObject(out, "clean_correct", level_bits(cc, r->n, 1, 1, 0));
  sr_free(cc);
  return SR_OK;
}

void atk_close(atk_run *r) {
  sr_free(r->x), sr_free(r->y), sr_free(r->pred);
  sr_dataset_free(&r->ds);
  atk_close_target(&r->t);
  memset(r, 0, sizeof *r);
}

static sr_status parse_levels(const char *s, double *v, int *n, sr_err *err) {
  *n = 0;
  while (s && *s) {
    char *end;
    double x = strtod(s, &end);
    if (end == s || !isfinite(x) || x < 0 || *n >= ATK_MAX_LEVELS)
      return sr_fail(err, SR_ERR_ARG, "--levels: '%s' is not a list of up to %d non-negative numbers", s, ATK_MAX_LEVELS);
    v[(*n)++] = x;
    s = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') return sr_fail(err, SR_ERR_ARG, "--levels: unexpected '%s'", end);
  }
  return *n ? SR_OK : sr_fail(err, SR_ERR_ARG, "--levels is empty");
}

sr_status atk_levels(const atk_args *a, const atk_run *r, int noise, double *lv, int *nl, sr_err *err) {
  if (a->levels) return parse_levels(a->levels, lv, nl, err);
  int gray = r->ds.c == 1;
  double hi = a->max_level > 0 ? a->max_level : noise ? (gray ? 0.5 : 0.1) : a->eps > 0 ? a->eps : gray ? 0.1 : 0.02;
  *nl = a->n_levels;
  for (int i = 0; i < *nl; i++) lv[i] = *nl > 1 ? hi * i / (*nl - 1) : hi;
  return SR_OK;
}

// ---- noise and gradient attacks ------------------------------------------------------------------------------
sr_status atk_noise(const atk_args *a, atk_run *r, const double *lv, int nl, cJSON *out, sr_err *err) {
  cJSON *noise = cJSON_AddObjectToObject(out, "noise");
  char kinds[256];
  snprintf(kinds, sizeof kinds, "%s", a->noise);
  int64_t lo, hi;
  shard_rows(a, r->n, r->t.am.batch, &lo, &hi);
  for (char *save = NULL, *k = strtok_r(kinds, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
    int kind = sr_noise_parse(k);
    if (kind < 0) return sr_fail(err, SR_ERR_ARG, "--noise: unknown kind '%s' (gaussian, uniform, salt_pepper)", k);
    double acc[ATK_MAX_LEVELS], lo_ci[ATK_MAX_LEVELS], hi_ci[ATK_MAX_LEVELS], t0 = sr_now();
    int64_t cnt[ATK_MAX_LEVELS + 1], q0 = r->t.am.queries, total = r->n * a->repeats;  // cnt[nl]: queries
    size_t row = (size_t)nl * (size_t)a->repeats;  // per image: (level, repeat)
    uint8_t *mine = sr_alloc((size_t)(hi > lo ? hi - lo : 1) * row), *all = sr_alloc((size_t)r->n * row);
    sr_status st = !mine || !all ? sr_fail(err, SR_ERR_NOMEM, "per-image noise results") : SR_OK;
    if (!st)
      st = sr_noise_sweep_images(&r->t.am, r->x + lo * r->d, r->y + lo, hi - lo, lo, (sr_noise_kind)kind, lv, nl,
                                 a->repeats, a->seed, cnt, mine, err);
    cnt[nl] = r->t.am.queries - q0;
    if (!st) st = sr_dist_allreduce_i64(a->dist, cnt, nl + 1, err);
    if (!st) st = sr_dist_gather_batches(a->dist, mine, r->n, r->t.am.batch, row, all, err);
    sr_free(mine);
    if (st) {
      sr_free(all);
      return st;
    }
    for (int l = 0; l < nl; l++) acc[l] = (double)cnt[l] / (double)total, sr_wilson_ci(cnt[l], total, &lo_ci[l], &hi_ci[l]);
    double qps = per_sec((double)cnt[nl], sr_now() - t0);
    cJSON *c = cJSON_AddObjectToObject(noise, k);
    cJSON_AddItemToObject(c, "levels", doubles(lv, nl));
    cJSON_AddItemToObject(c, "accuracy", doubles(acc, nl));
    cJSON_AddItemToObject(c, "ci_low", doubles(lo_ci, nl));
    cJSON_AddItemToObject(c, "ci_high", doubles(hi_ci, nl));
    cJSON_AddNumberToObject(c, "repeats", a->repeats);
    cJSON_AddNumberToObject(c, "images", (double)r->n);
    cJSON_AddNumberToObject(c, "seed", (double)a->seed);
    cJSON_AddNumberToObject(c, "queries_per_second", qps);
    // per level: character r * images + i is 1 when image i was still classified correctly in repeat r
    cJSON *pc = cJSON_AddArrayToObject(c, "correct");
    for (int l = 0; l < nl; l++) cJSON_AddItemToArray(pc, level_bits(all, r->n, nl, a->repeats, l));
    sr_free(all);
    if (!a->quiet)
      fprintf(stderr, "noise %s: accuracy %.4f at %g .. %.4f at %g (%.0f queries/s)\n", k, acc[0], lv[0], acc[nl - 1],
              lv[nl - 1], qps);
  }
  return SR_OK;
}

sr_status atk_gradient(const atk_args *a, atk_run *r, atk_target *src, const double *lv, int nl, cJSON *out,
                       sr_err *err) {
  int fgsm = !strcmp(a->attack, "fgsm") || (src && a->steps <= 1);
  sr_norm norm = !strcmp(a->norm, "l2") ? SR_NORM_L2 : SR_NORM_LINF;
  double top = lv[nl - 1] > 0 ? lv[nl - 1] : 1;
  sr_pgd_opts o = fgsm ? sr_fgsm_opts(norm, top) : sr_pgd_opts_default(norm, top);
  if (!fgsm && a->steps > 0) o.steps = (int)a->steps, o.step = 2.5 * top / (double)o.steps;
  if (!fgsm && a->step_size > 0) o.step = a->step_size * top;  // relative to eps: scales along the sweep
  if (a->no_random_start) o.random_start = 0;
  sr_eps_curve c[ATK_MAX_LEVELS] = {{0}};
  int64_t lo, hi, cnt[2 * ATK_MAX_LEVELS];
  shard_rows(a, r->n, r->t.am.batch, &lo, &hi);
  o.first_index = lo;
  double t0 = sr_now();
  uint8_t *mine = sr_alloc((size_t)(hi > lo ? hi - lo : 1) * (size_t)nl), *all = sr_alloc((size_t)r->n * (size_t)nl);
  sr_status st = !mine || !all ? sr_fail(err, SR_ERR_NOMEM, "per-image results") : SR_OK;
  if (!st && hi > lo)
    st = sr_gradient_sweep_images(src ? &src->am : &r->t.am, &r->t.am, r->x + lo * r->d, r->y + lo, hi - lo, &o, lv,
                                  nl, a->seed, c, mine, err);
  for (int l = 0; l < nl; l++) cnt[l] = c[l].correct, cnt[nl + l] = c[l].out_of_bounds;
  if (!st) st = sr_dist_allreduce_i64(a->dist, cnt, 2 * nl, err);
  if (!st) st = sr_dist_gather_batches(a->dist, mine, r->n, r->t.am.batch, (size_t)nl, all, err);
  sr_free(mine);
  if (st) {
    sr_free(all);
    return st;
  }
  double acc[ATK_MAX_LEVELS], oob = 0;
  for (int l = 0; l < nl; l++) acc[l] = (double)cnt[l] / (double)r->n, oob += (double)cnt[nl + l];
  char key[32];
  snprintf(key, sizeof key, "%s%s", fgsm ? "fgsm" : "pgd", norm == SR_NORM_L2 ? "_l2" : "");
  cJSON *group = cJSON_AddObjectToObject(out, src ? "transfer" : "white_box");
  cJSON *cv = cJSON_AddObjectToObject(group, key);
  cJSON_AddItemToObject(cv, "levels", doubles(lv, nl));
  cJSON_AddItemToObject(cv, "accuracy", doubles(acc, nl));
  if (src) cJSON_AddStringToObject(cv, "source", a->source);
  cJSON_AddNumberToObject(cv, "steps", o.steps);
  cJSON_AddNumberToObject(cv, "step_relative", o.step / top);
  cJSON_AddBoolToObject(cv, "random_start", o.random_start);
  cJSON_AddNumberToObject(cv, "out_of_bounds", oob);
  cJSON_AddNumberToObject(cv, "images", (double)r->n);
  cJSON_AddNumberToObject(cv, "seed", (double)a->seed);
  cJSON *pc = cJSON_AddArrayToObject(cv, "correct");  // per level: character i is 1 when image i stayed correct
  for (int l = 0; l < nl; l++) cJSON_AddItemToArray(pc, level_bits(all, r->n, nl, 1, l));
  sr_free(all);
  if (!a->quiet)
    fprintf(stderr, "%s%s: accuracy %.4f at eps %g .. %.4f at eps %g (%.1f s)%s\n", src ? "transfer " : "", key, acc[0],
            lv[0], acc[nl - 1], lv[nl - 1], sr_now() - t0, oob ? " - ADVERSARIALS OUT OF BOUNDS" : "");
  return oob ? sr_fail(err, SR_ERR_NUMERIC, "%g adversarials left the eps ball or [0,1]", oob) : SR_OK;
}

// ---- the images a minimal-perturbation or budget attack works on ---------------------------------------------
// Correctly classified images: among the first n loaded ones, or (first_correct) the first `want` of the
// whole split. *seen: images looked at.
static sr_status correct_images(const atk_args *a, atk_run *r, int64_t want, float **xc, int32_t **lab, int64_t *nc,
                                int64_t *seen, sr_err *err) {
  if (want > r->ds.n) want = r->ds.n;
  int64_t d = r->d, cap = a->first_correct ? want : r->n;
  *xc = sr_alloc((size_t)cap * (size_t)d * sizeof(float)), *lab = sr_alloc((size_t)cap * sizeof(int32_t));
  if (!*xc || !*lab) return sr_fail(err, SR_ERR_NOMEM, "%lld images", (long long)cap);
  *nc = 0, *seen = 0;
  if (!a->first_correct) {
    for (int64_t i = 0; i < r->n; i++)
      if (r->pred[i] == r->y[i]) memcpy(*xc + *nc * d, r->x + i * d, (size_t)d * sizeof(float)), (*lab)[(*nc)++] = r->pred[i];
    *seen = r->n;
    return SR_OK;
  }
  int64_t b = r->t.am.batch;
  float *buf = sr_alloc((size_t)b * (size_t)d * sizeof(float));
  int32_t *pred = sr_alloc((size_t)b * sizeof(int32_t));
  sr_status st = !buf || !pred ? sr_fail(err, SR_ERR_NOMEM, "scan buffers") : SR_OK;
  for (int64_t i0 = 0; i0 < r->ds.n && *nc < want && !st; i0 += b) {
    int64_t k = r->ds.n - i0 < b ? r->ds.n - i0 : b;
    for (int64_t p = 0; p < k * d; p++) buf[p] = r->ds.images[i0 * d + p] / 255.0f;
    if ((st = sr_amodel_predict(&r->t.am, buf, k, pred, NULL, err))) break;
    for (int64_t i = 0; i < k && *nc < want; i++) {
      *seen = i0 + i + 1;
      if (pred[i] != r->ds.labels[i0 + i]) continue;
      memcpy(*xc + *nc * d, buf + i * d, (size_t)d * sizeof(float));
      (*lab)[(*nc)++] = pred[i];
    }
  }
  sr_free(buf), sr_free(pred);
  return st;
}

// ---- Boundary / HopSkipJump: minimal perturbations over images x repeats --------------------------------------
typedef struct mp_ctx {
  atk_progress *p;
  int64_t base, steps;
} mp_ctx;

static void mp_step(void *ctx, int64_t step, int64_t first, int64_t n, const double *dist) {
  mp_ctx *c = ctx;
  (void)dist;
  atk_progress_update(c->p, (double)c->base + (double)first + (double)n * (double)step / (double)c->steps);
}

// 25th, 50th, 75th percentiles of sorted values (NumPy's linear interpolation).
static cJSON *quartiles(const double *v, int64_t n) {
  double s[3] = {NAN, NAN, NAN};
  if (n > 0) s[0] = sr_quantile_sorted(v, n, 0.25), s[1] = sr_quantile_sorted(v, n, 0.5), s[2] = sr_quantile_sorted(v, n, 0.75);
  return doubles(s, 3);
}

// Get or add an object member (several results may share "attacks").
static cJSON *member(cJSON *o, const char *key) {
  cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsObject(m) ? m : cJSON_AddObjectToObject(o, key);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static cJSON *quartiles_of(const double *v, int64_t n, double *scratch) {
  memcpy(scratch, v, (size_t)n * sizeof(double));
  qsort(scratch, (size_t)n, sizeof(double), cmp_double);
  return quartiles(scratch, n);
}

// What rank 0 reports for a Boundary / HopSkipJump run: bootstrap CI, the perturbations file, the JSON.
typedef struct mp_report {
  const char *name;
  int hsj;
  sr_norm norm;
  const sr_boundary_opts *bo;
  const sr_hsj_opts *ho;
  double *nsq, *l2, *li, *qs, *idx, *rep, *scratch, *trace;  // trace: (nf, SR_TRACE_POINTS)
  const int64_t *trace_at;
  const float *delta;
  int64_t nf, nc, seen, R, qsum, initf, recf, zero;
  double secs;
} mp_report;

// The convergence curve (median distance at the start and after each tenth of the steps) and its flag.
static sr_status mp_convergence(const mp_report *m, cJSON *b, sr_err *err) {
  sr_convergence c;
  sr_status st = sr_convergence_summary(m->trace, NULL, m->nf, m->trace_at, 0.05, &c, err);
  if (st) return st;
  double at[SR_TRACE_POINTS];
  for (int k = 0; k < SR_TRACE_POINTS; k++) at[k] = (double)c.at[k];
  cJSON *cv = cJSON_AddObjectToObject(b, "convergence");
  cJSON_AddStringToObject(cv, "distance", m->hsj && m->norm == SR_NORM_LINF ? "linf" : "norm_sq_per_dim");
  cJSON_AddItemToObject(cv, "steps", doubles(at, SR_TRACE_POINTS));
  cJSON_AddItemToObject(cv, "median", doubles(c.median, SR_TRACE_POINTS));
  cJSON_AddNumberToObject(cv, "images", (double)c.images);
  if (isfinite(c.last_drop)) cJSON_AddNumberToObject(cv, "last20_drop", c.last_drop);
  else cJSON_AddNullToObject(cv, "last20_drop");
  cJSON_AddNumberToObject(cv, "tolerance", c.tol);
  cJSON_AddBoolToObject(cv, "converged", c.converged);
  cJSON_AddStringToObject(cv, "rule", "converged when the last 20% of the steps cut the median by at most 5%");
  if (!c.converged)
    fprintf(stderr, "%s: not converged: the last 20%% of the steps cut the median distance by %.1f%% (rule: <= 5%%)\n",
            m->name, 100 * c.last_drop);
  return SR_OK;
}

static sr_status mp_write(const atk_args *a, const atk_run *r, const mp_report *m, cJSON *out, sr_err *err) {
  const char *name = m->name;
  int hsj = m->hsj;
  sr_norm norm = m->norm;
  sr_boundary_opts bo = *m->bo;
  sr_hsj_opts ho = *m->ho;
  double *nsq = m->nsq, *l2 = m->l2, *li = m->li, *qs = m->qs, *idx = m->idx, *rep = m->rep, *scratch = m->scratch;
  const float *delta = m->delta;
  int64_t nf = m->nf, nc = m->nc, seen = m->seen, R = m->R, qsum = m->qsum, initf = m->initf, recf = m->recf;
  int64_t zero = m->zero;
  double secs = m->secs;
  sr_status st = SR_OK;
  if (!st && !nf) st = sr_fail(err, SR_ERR_NUMERIC, "%s: no confirmed adversarial", name);
  sr_ci ci = {0};
  if (!st) {
    sr_rng rng;
    sr_rng_seed(&rng, a->seed, 77);
    st = sr_bootstrap_median(nsq, nf, SR_BOOT_DEFAULT_B, 0.95, &rng, &ci, err);
  }
  char file[64];
  snprintf(file, sizeof file, "%s_delta.npy", name);
  if (!st) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", r->dir, file);
    int64_t shape[4] = {nf, r->ds.c, r->ds.h, r->ds.w};
    st = sr_npy_write(path, SR_F32, 4, shape, delta, err);
  }
  if (!st) {
    cJSON *b = hsj ? cJSON_AddObjectToObject(member(out, "attacks"), name)
                   : cJSON_AddObjectToObject(out, "boundary");
    cJSON_AddItemToObject(b, "norms_sq_per_dim", doubles(nsq, nf));
    cJSON_AddItemToObject(b, "l2", doubles(l2, nf));
    cJSON_AddItemToObject(b, "linf", doubles(li, nf));
    cJSON_AddNumberToObject(b, "median", ci.estimate);
    cJSON_AddNumberToObject(b, "ci_low", ci.lo);
    cJSON_AddNumberToObject(b, "ci_high", ci.hi);
    cJSON *qt = cJSON_AddObjectToObject(b, "quartiles");
    cJSON_AddItemToObject(qt, "norm_sq_per_dim", quartiles_of(nsq, nf, scratch));
    cJSON_AddItemToObject(qt, "l2", quartiles_of(l2, nf, scratch));
    cJSON_AddItemToObject(qt, "linf", quartiles_of(li, nf, scratch));
    cJSON_AddStringToObject(b, "perturbations", file);
    cJSON_AddItemToObject(b, "queries", doubles(qs, nf));
    cJSON_AddItemToObject(b, "image", doubles(idx, nf));
    cJSON_AddItemToObject(b, "repeat", doubles(rep, nf));
    if (hsj) {
      cJSON_AddStringToObject(b, "norm", norm == SR_NORM_L2 ? "l2" : "linf");
      cJSON_AddNumberToObject(b, "iterations", ho.iterations);
      cJSON_AddNumberToObject(b, "init_evals", ho.init_evals);
      cJSON_AddNumberToObject(b, "max_evals", ho.max_evals);
      cJSON_AddNumberToObject(b, "zero_estimates", (double)zero);
    } else {
      cJSON_AddNumberToObject(b, "steps", (double)bo.steps);
    }
    if (!st) st = mp_convergence(m, b, err);
    cJSON_AddNumberToObject(b, "seed", (double)a->seed);
    cJSON_AddNumberToObject(b, "repeats", (double)R);
    cJSON_AddNumberToObject(b, "images", (double)seen);
    cJSON_AddNumberToObject(b, "attacked", (double)nc);
    cJSON_AddNumberToObject(b, "misclassified_clean", (double)(seen - nc));
    cJSON_AddNumberToObject(b, "init_failed", (double)initf);
    cJSON_AddNumberToObject(b, "recheck_failed", (double)recf);
    cJSON_AddNumberToObject(b, "queries_per_second", per_sec((double)qsum, secs));
    if (!a->quiet)
      printf("%s: %lld/%lld adversarials over %lld repeat(s) (%lld misclassified clean, %lld init failures, %lld re-check "
             "failures), median ||d||^2/D %.4g [%.4g, %.4g], %.0f queries/s\n", name, (long long)nf, (long long)(nc * R),
             (long long)R, (long long)(seen - nc), (long long)initf, (long long)recf, ci.estimate, ci.lo, ci.hi,
             per_sec((double)qsum, secs));
  }
  return st;
}

// One repeat's per-image results of all ranks, in image order on rank 0.
typedef struct mp_full {
  float *adv;
  int *found;
  double *nsq, *trace;
  int64_t *queries;
  int64_t counters[3];  // init_failed, recheck_failed, zero_estimates (summed over ranks)
} mp_full;

static sr_status mp_gather(const atk_args *a, const sr_attack_result *res, int64_t nc, int64_t d, int64_t batch,
                           mp_full *f, sr_err *err) {
  f->counters[0] = res->init_failed, f->counters[1] = res->recheck_failed, f->counters[2] = res->hsj.zero_estimates;
  sr_status st = sr_dist_gather_batches(a->dist, res->adv, nc, batch, (size_t)d * sizeof(float), f->adv, err);
  if (!st) st = sr_dist_gather_batches(a->dist, res->found, nc, batch, sizeof(int), f->found, err);
  if (!st) st = sr_dist_gather_batches(a->dist, res->norm_sq_per_dim, nc, batch, sizeof(double), f->nsq, err);
  if (!st) st = sr_dist_gather_batches(a->dist, res->queries, nc, batch, sizeof(int64_t), f->queries, err);
  if (!st)
    st = sr_dist_gather_batches(a->dist, res->trace, nc, batch, SR_TRACE_POINTS * sizeof(double), f->trace, err);
  if (!st) st = sr_dist_allreduce_i64(a->dist, f->counters, 3, err);
  return st;
}

sr_status atk_minpert(const atk_args *a, atk_run *r, cJSON *out, sr_err *err) {
  int hsj = !strcmp(a->attack, "hsj");
  sr_norm norm = hsj && !strcmp(a->norm, "linf") ? SR_NORM_LINF : SR_NORM_L2;
  const char *name = !hsj ? "boundary" : norm == SR_NORM_L2 ? "hsj_l2" : "hsj_linf";
  int64_t d = r->d, nc = 0, seen = 0, R = a->repeats, nf = 0, qsum = 0, initf = 0, recf = 0, zero = 0, lo = 0, hi = 0;
  float *xc = NULL, *delta = NULL;
  int32_t *lab = NULL;
  mp_full f = {0};
  sr_status st = correct_images(a, r, a->images, &xc, &lab, &nc, &seen, err);
  if (!st && !nc)
    st = sr_fail(err, SR_ERR_ARG, "%s: the model misclassifies all %lld images: nothing to attack", r->dir, (long long)seen);
  size_t m = (size_t)(st ? 1 : nc) * (size_t)R;
  double *nsq = sr_alloc(m * sizeof(double)), *l2 = sr_alloc(m * sizeof(double)), *li = sr_alloc(m * sizeof(double));
  double *scratch = sr_alloc(m * sizeof(double)), *qs = sr_alloc(m * sizeof(double));
  double *idx = sr_alloc(m * sizeof(double)), *rep = sr_alloc(m * sizeof(double));
  double *trace = sr_alloc(m * SR_TRACE_POINTS * sizeof(double));
  int64_t trace_at[SR_TRACE_POINTS] = {0};
  if (!st) {
    delta = sr_alloc(m * (size_t)d * sizeof(float));
    f.adv = sr_alloc((size_t)nc * (size_t)d * sizeof(float)), f.found = sr_alloc((size_t)nc * sizeof(int));
    f.nsq = sr_alloc((size_t)nc * sizeof(double)), f.queries = sr_alloc((size_t)nc * sizeof(int64_t));
    f.trace = sr_alloc((size_t)nc * SR_TRACE_POINTS * sizeof(double));
    if (!nsq || !l2 || !li || !scratch || !qs || !idx || !rep || !delta || !f.adv || !f.found || !f.nsq || !f.queries ||
        !trace || !f.trace)
      st = sr_fail(err, SR_ERR_NOMEM, "%s results", name);
    shard_rows(a, nc, r->t.am.batch, &lo, &hi);
  }
  sr_boundary_opts bo = sr_boundary_opts_default();
  if (a->steps > 0) bo.steps = a->steps;
  sr_hsj_opts ho = sr_hsj_opts_default(norm);
  ho.iterations = a->iterations, ho.init_evals = a->init_evals, ho.max_evals = a->max_evals;
  bo.first_index = ho.first_index = lo;
  sr_trace_steps(hsj ? ho.iterations : bo.steps, trace_at);  // every rank knows them, rows or not
  atk_progress p;
  atk_progress_start(&p, name, &r->t.am, (hi - lo) * R, a->quiet);
  mp_ctx mc = {.p = &p, .steps = hsj ? (ho.iterations > 0 ? ho.iterations : 1) : (bo.steps > 0 ? bo.steps : 1)};
  bo.on_step = mp_step, bo.ctx = &mc, ho.on_iter = mp_step, ho.ctx = &mc;
  double t0 = sr_now();
  for (int64_t k = 0; k < R && !st; k++) {
    sr_attack_result res = {0};
    mc.base = k * (hi - lo);
    uint64_t seed = a->seed + (uint64_t)k;
    const float *xs = xc + lo * d;
    if (hi > lo)
      st = hsj ? sr_hsj(&r->t.am, xs, lab + lo, hi - lo, &ho, seed, &res, err)
               : sr_boundary(&r->t.am, xs, lab + lo, hi - lo, &bo, seed, &res, err);
    if (!st) st = mp_gather(a, &res, nc, d, r->t.am.batch, &f, err);
    sr_attack_result_free(&res);
    if (st || !is_root(a)) continue;
    for (int64_t i = 0; i < nc; i++) {
      qsum += f.queries[i];
      if (!f.found[i]) continue;
      const float *adv = f.adv + i * d, *x = xc + i * d;
      for (int64_t q = 0; q < d; q++) delta[(size_t)nf * (size_t)d + (size_t)q] = adv[q] - x[q];
      nsq[nf] = f.nsq[i], l2[nf] = sr_dist_l2(adv, x, d), li[nf] = sr_dist_linf(adv, x, d);
      qs[nf] = (double)f.queries[i], idx[nf] = (double)i, rep[nf] = (double)k;
      memcpy(trace + (size_t)nf * SR_TRACE_POINTS, f.trace + (size_t)i * SR_TRACE_POINTS, SR_TRACE_POINTS * sizeof(double));
      nf++;
    }
    initf += f.counters[0], recf += f.counters[1], zero += f.counters[2];
  }
  double secs = sr_now() - t0;
  atk_progress_end(&p);
  sr_free(f.adv), sr_free(f.found), sr_free(f.nsq), sr_free(f.queries), sr_free(f.trace);
  if (!st && is_root(a)) {
    mp_report rep_ = {.name = name, .hsj = hsj, .norm = norm, .bo = &bo, .ho = &ho, .nsq = nsq, .l2 = l2, .li = li,
                      .qs = qs, .idx = idx, .rep = rep, .scratch = scratch, .trace = trace, .trace_at = trace_at,
                      .delta = delta, .nf = nf, .nc = nc,
                      .seen = seen, .R = R, .qsum = qsum, .initf = initf, .recf = recf, .zero = zero, .secs = secs};
    st = mp_write(a, r, &rep_, out, err);
  }
  sr_free(xc), sr_free(lab), sr_free(delta), sr_free(nsq), sr_free(l2), sr_free(li), sr_free(scratch), sr_free(qs);
  sr_free(idx), sr_free(rep), sr_free(trace);
  return st;
}

// ---- Square: success rate and queries within a budget -----------------------------------------------------------
typedef struct sq_ctx {
  atk_progress *p;
  int64_t budget;
} sq_ctx;

static void sq_iter(void *ctx, int64_t it, int64_t first, int64_t n, int64_t active) {
  sq_ctx *c = ctx;
  (void)active;
  atk_progress_update(c->p, (double)first + (double)n * (double)(it + 1) / (double)c->budget);
}

sr_status atk_square(const atk_args *a, atk_run *r, cJSON *out, sr_err *err) {
  sr_norm norm = !strcmp(a->norm, "l2") ? SR_NORM_L2 : SR_NORM_LINF;
  const char *name = norm == SR_NORM_L2 ? "square_l2" : "square_linf";
  double eps = a->eps > 0 ? a->eps : norm == SR_NORM_L2 ? (r->ds.c == 1 ? 2.0 : 0.5) : (r->ds.c == 1 ? 0.1 : 8.0 / 255);
  float *xc = NULL;
  int32_t *lab = NULL;
  int64_t nc = 0, seen = 0;
  sr_status st = correct_images(a, r, a->images, &xc, &lab, &nc, &seen, err);
  if (!st && !nc)
    st = sr_fail(err, SR_ERR_ARG, "%s: the model misclassifies all %lld images: nothing to attack", r->dir, (long long)seen);
  sr_square_opts o = sr_square_opts_default(norm, eps);
  o.queries = a->queries;
  if (a->p_init > 0) o.p_init = a->p_init;
  int64_t lo = 0, hi = 0, recf = 0;
  if (!st) shard_rows(a, nc, r->t.am.batch, &lo, &hi);
  o.first_index = lo;
  atk_progress p;
  atk_progress_start(&p, name, &r->t.am, hi - lo, a->quiet);
  sq_ctx c = {.p = &p, .budget = o.queries};
  o.on_iter = sq_iter, o.ctx = &c;
  sr_attack_result res = {0};
  int64_t *fq = sr_alloc((size_t)(nc > 0 ? nc : 1) * sizeof(int64_t));
  int *ffound = sr_alloc((size_t)(nc > 0 ? nc : 1) * sizeof(int));
  if (!st && (!fq || !ffound)) st = sr_fail(err, SR_ERR_NOMEM, "square results");
  double t0 = sr_now();
  if (!st && hi > lo) st = sr_square(&r->t.am, xc + lo * r->d, lab + lo, hi - lo, &o, a->seed, &res, err);
  recf = res.recheck_failed;
  if (!st) st = sr_dist_gather_batches(a->dist, res.queries, nc, r->t.am.batch, sizeof(int64_t), fq, err);
  if (!st) st = sr_dist_gather_batches(a->dist, res.found, nc, r->t.am.batch, sizeof(int), ffound, err);
  if (!st) st = sr_dist_allreduce_i64(a->dist, &recf, 1, err);
  double secs = sr_now() - t0;
  atk_progress_end(&p);
  if (!st && is_root(a)) {
    double *q = sr_alloc((size_t)nc * sizeof(double)), *qf = sr_alloc((size_t)nc * sizeof(double));
    double *fooled = sr_alloc((size_t)nc * sizeof(double)), *scratch = sr_alloc((size_t)nc * sizeof(double));
    if (!q || !qf || !fooled || !scratch) st = sr_fail(err, SR_ERR_NOMEM, "square results");
    int64_t nf = 0, qsum = 0;
    for (int64_t i = 0; i < nc && !st; i++) {
      q[i] = (double)fq[i], fooled[i] = ffound[i], qsum += fq[i];
      if (ffound[i]) qf[nf++] = (double)fq[i];
    }
    if (!st) {
      cJSON *b = cJSON_AddObjectToObject(member(out, "attacks"), name);
      cJSON_AddStringToObject(b, "norm", norm == SR_NORM_L2 ? "l2" : "linf");
      cJSON_AddNumberToObject(b, "eps", eps);
      cJSON_AddNumberToObject(b, "budget", (double)o.queries);
      cJSON_AddNumberToObject(b, "p_init", o.p_init);
      cJSON_AddNumberToObject(b, "success_rate", (double)nf / (double)nc);
      cJSON *mq = nf ? quartiles_of(qf, nf, scratch) : NULL;
      cJSON_AddNumberToObject(b, "median_queries", mq ? cJSON_GetArrayItem(mq, 1)->valuedouble : NAN);
      if (mq) cJSON_AddItemToObject(b, "queries_quartiles", mq);
      cJSON_AddItemToObject(b, "queries", doubles(q, nc));
      cJSON_AddItemToObject(b, "fooled", doubles(fooled, nc));
      cJSON_AddNumberToObject(b, "seed", (double)a->seed);
      cJSON_AddNumberToObject(b, "images", (double)seen);
      cJSON_AddNumberToObject(b, "attacked", (double)nc);
      cJSON_AddNumberToObject(b, "misclassified_clean", (double)(seen - nc));
      cJSON_AddNumberToObject(b, "recheck_failed", (double)recf);
      cJSON_AddNumberToObject(b, "queries_per_second", per_sec((double)qsum, secs));
      if (!a->quiet)
        printf("%s eps %g: %lld/%lld fooled (%.3f), median %g queries of %lld, %lld re-check failures, %.0f queries/s\n",
               name, eps, (long long)nf, (long long)nc, (double)nf / (double)nc,
               mq ? cJSON_GetArrayItem(mq, 1)->valuedouble : NAN, (long long)o.queries, (long long)recf,
               per_sec((double)qsum, secs));
    }
    sr_free(q), sr_free(qf), sr_free(fooled), sr_free(scratch);
  }
  sr_attack_result_free(&res);
  sr_free(xc), sr_free(lab), sr_free(fq), sr_free(ffound);
  return st;
}
