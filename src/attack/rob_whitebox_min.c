// The minimal-norm white-box attacks (FMN L2 / L-inf, DDN L2) in the robustness protocol: the correctly
// classified images, sharded in whole batches, gathered and summarised on rank 0 as Boundary / HopSkipJump
// are (per-image norms, quartiles, bootstrap CI of the median, convergence, RUN/<name>_delta.npy).
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "attack/rob_internal.h"
#include "simreg/npy.h"
#include "simreg/stats.h"

typedef struct wb_tick {
  sr_rob_tick *p;
  int64_t steps;
} wb_tick;

static void wb_step(void *ctx, int64_t step, int64_t first, int64_t n, const double *dist) {
  wb_tick *c = ctx;
  (void)dist;
  sr_rob_tick_update(c->p, (double)first + (double)n * (double)step / (double)c->steps);
}

// Every rank's per-image results, in image order on rank 0.
typedef struct wb_full {
  float *adv;
  int *found;
  double *trace;
  int64_t *queries, *gradients;
  int64_t counters[2];  // recheck_failed, zero_gradients
} wb_full;

static void wb_full_free(wb_full *f) { SR_FREE_ALL(f->adv, f->found, f->trace, f->queries, f->gradients); }

static sr_status wb_gather(const sr_rob_opts *a, const sr_attack_result *res, int64_t nc, int64_t d,
                           int64_t batch, wb_full *f, sr_err *err) {
  size_t n = (size_t)(nc > 0 ? nc : 1);
  f->adv = sr_alloc(n * (size_t)d * sizeof(float));
  f->found = sr_alloc(n * sizeof(int));
  f->trace = sr_alloc(n * SR_TRACE_POINTS * sizeof(double));
  f->queries = sr_alloc(n * sizeof(int64_t));
  f->gradients = sr_alloc(n * sizeof(int64_t));
  if (!f->adv || !f->found || !f->trace || !f->queries || !f->gradients)
    return sr_fail(err, SR_ERR_NOMEM, "white-box results of %lld images", (long long)nc);
  f->counters[0] = res->recheck_failed;
  f->counters[1] = res->wb.zero_gradients;
  sr_status st = sr_dist_gather_batches(a->dist, res->adv, nc, batch, (size_t)d * sizeof(float), f->adv, err);
  if (!st) st = sr_dist_gather_batches(a->dist, res->found, nc, batch, sizeof(int), f->found, err);
  if (!st) st = sr_dist_gather_batches(a->dist, res->queries, nc, batch, sizeof(int64_t), f->queries, err);
  if (!st)
    st = sr_dist_gather_batches(a->dist, res->wb.gradients, nc, batch, sizeof(int64_t), f->gradients, err);
  if (!st)
    st = sr_dist_gather_batches(a->dist, res->trace, nc, batch, SR_TRACE_POINTS * sizeof(double), f->trace,
                                err);
  if (!st) st = sr_dist_allreduce_i64(a->dist, f->counters, 2, err);
  return st;
}

// The found images' rows: distances, queries, image index, perturbations; *nf of them.
typedef struct wb_rows {
  double *nsq, *l2, *li, *qs, *gs, *idx, *rep, *scratch, *trace;
  float *delta;
  int64_t nf;
} wb_rows;

static void wb_rows_free(wb_rows *w) {
  SR_FREE_ALL(w->nsq, w->l2, w->li, w->qs, w->gs, w->idx, w->rep, w->scratch, w->trace, w->delta);
}

static sr_status wb_collect(const wb_full *f, const float *xc, int64_t nc, int64_t d, wb_rows *w,
                            sr_err *err) {
  size_t n = (size_t)(nc > 0 ? nc : 1);
  double **arr[] = {&w->nsq, &w->l2, &w->li, &w->qs, &w->gs, &w->idx, &w->rep, &w->scratch};
  for (size_t k = 0; k < sizeof arr / sizeof arr[0]; k++) *arr[k] = sr_alloc(n * sizeof(double));
  w->trace = sr_alloc(n * SR_TRACE_POINTS * sizeof(double));
  w->delta = sr_alloc(n * (size_t)d * sizeof(float));
  for (size_t k = 0; k < sizeof arr / sizeof arr[0]; k++) {
    if (!*arr[k]) return sr_fail(err, SR_ERR_NOMEM, "white-box rows");
  }
  if (!w->trace || !w->delta) return sr_fail(err, SR_ERR_NOMEM, "white-box rows");
  w->nf = 0;
  for (int64_t i = 0; i < nc; i++) {
    if (!f->found[i]) continue;
    const float *adv = f->adv + i * d;
    const float *x = xc + i * d;
    int64_t k = w->nf;
    for (int64_t q = 0; q < d; q++) w->delta[(size_t)k * (size_t)d + (size_t)q] = adv[q] - x[q];
    w->l2[k] = sr_dist_l2(adv, x, d);
    w->nsq[k] = w->l2[k] * w->l2[k] / (double)d;
    w->li[k] = sr_dist_linf(adv, x, d);
    w->qs[k] = (double)f->queries[i];
    w->gs[k] = (double)f->gradients[i];
    w->idx[k] = (double)i;
    w->rep[k] = 0;
    memcpy(w->trace + (size_t)k * SR_TRACE_POINTS, f->trace + (size_t)i * SR_TRACE_POINTS,
           SR_TRACE_POINTS * sizeof(double));
    w->nf++;
  }
  return SR_OK;
}

static void wb_convergence(const wb_rows *w, const int64_t *at, int l2, cJSON *b) {
  sr_convergence c;
  sr_err e = {0};
  if (sr_convergence_summary(w->trace, NULL, w->nf, at, 0.05, &c, &e)) return;
  sr_rob_convergence_json(b, &c, l2 ? "norm_sq_per_dim" : "linf");
}

typedef struct wb_meta {
  const char *name;
  sr_norm norm;
  const sr_wbmin_opts *o;
  int64_t nc, seen, recf, zero, qsum, gsum;
  const int64_t *trace_at;
  double secs;
} wb_meta;

static sr_status wb_write(const sr_rob_opts *a, const sr_rob_run *r, const wb_meta *m, const wb_rows *w,
                          cJSON *out, sr_err *err) {
  // No adversarial at all (a model with zero gradients, say) is a result, not an error: the masking flags
  // and the minimum over attacks use it; median, CI and the perturbations file are then null.
  sr_ci ci = {.estimate = NAN, .lo = NAN, .hi = NAN};
  sr_rng rng;
  sr_rng_seed(&rng, a->seed, 77);
  sr_status st = w->nf ? sr_bootstrap_median(w->nsq, w->nf, SR_BOOT_DEFAULT_B, 0.95, &rng, &ci, err) : SR_OK;
  char file[64];
  snprintf(file, sizeof file, "%s_delta.npy", m->name);
  if (!st && w->nf) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", r->dir, file);
    int64_t shape[4] = {w->nf, r->ds.c, r->ds.h, r->ds.w};
    st = sr_npy_write(path, SR_F32, 4, shape, w->delta, err);
  }
  if (st) return st;
  cJSON *b = cJSON_AddObjectToObject(sr_rob_member(out, "attacks"), m->name);
  cJSON_AddStringToObject(b, "norm", m->norm == SR_NORM_L2 ? "l2" : "linf");
  cJSON_AddItemToObject(b, "norms_sq_per_dim", sr_rob_doubles(w->nsq, w->nf));
  cJSON_AddItemToObject(b, "l2", sr_rob_doubles(w->l2, w->nf));
  cJSON_AddItemToObject(b, "linf", sr_rob_doubles(w->li, w->nf));
  cJSON_AddItemToObject(b, "median", w->nf ? cJSON_CreateNumber(ci.estimate) : cJSON_CreateNull());
  cJSON_AddItemToObject(b, "ci_low", w->nf ? cJSON_CreateNumber(ci.lo) : cJSON_CreateNull());
  cJSON_AddItemToObject(b, "ci_high", w->nf ? cJSON_CreateNumber(ci.hi) : cJSON_CreateNull());
  cJSON *qt = cJSON_AddObjectToObject(b, "quartiles");
  cJSON_AddItemToObject(qt, "norm_sq_per_dim", sr_rob_quartiles_of(w->nsq, w->nf, w->scratch));
  cJSON_AddItemToObject(qt, "l2", sr_rob_quartiles_of(w->l2, w->nf, w->scratch));
  cJSON_AddItemToObject(qt, "linf", sr_rob_quartiles_of(w->li, w->nf, w->scratch));
  if (w->nf)
    cJSON_AddStringToObject(b, "perturbations", file);
  else
    cJSON_AddNullToObject(b, "perturbations");
  cJSON_AddItemToObject(b, "queries", sr_rob_doubles(w->qs, w->nf));
  cJSON_AddItemToObject(b, "gradients", sr_rob_doubles(w->gs, w->nf));
  cJSON_AddItemToObject(b, "image", sr_rob_doubles(w->idx, w->nf));
  cJSON_AddItemToObject(b, "repeat", sr_rob_doubles(w->rep, w->nf));
  cJSON_AddNumberToObject(b, "steps", m->o->steps);
  wb_convergence(w, m->trace_at, m->norm == SR_NORM_L2, b);
  cJSON_AddNumberToObject(b, "seed", (double)a->seed);
  cJSON_AddNumberToObject(b, "repeats", 1);
  cJSON_AddNumberToObject(b, "images", (double)m->seen);
  cJSON_AddNumberToObject(b, "attacked", (double)m->nc);
  cJSON_AddNumberToObject(b, "misclassified_clean", (double)(m->seen - m->nc));
  cJSON_AddNumberToObject(b, "not_found", (double)(m->nc - w->nf));
  cJSON_AddNumberToObject(b, "recheck_failed", (double)m->recf);
  cJSON_AddNumberToObject(b, "zero_gradients", (double)m->zero);
  cJSON_AddNumberToObject(b, "gradient_calls", (double)m->gsum);
  cJSON_AddNumberToObject(b, "seconds", m->secs);
  cJSON_AddNumberToObject(b, "queries_per_second", sr_rob_per_sec((double)m->qsum, m->secs));
  return SR_OK;
}

sr_status sr_rob_wbmin(const sr_rob_opts *a, sr_rob_run *r, cJSON *out, sr_err *err) {
  int ddn = !strcmp(a->attack, "ddn");
  sr_norm norm = !ddn && !strcmp(a->norm, "linf") ? SR_NORM_LINF : SR_NORM_L2;
  const char *name = ddn ? "ddn_l2" : norm == SR_NORM_L2 ? "fmn_l2" : "fmn_linf";
  if (ddn && !strcmp(a->norm, "linf")) return sr_fail(err, SR_ERR_ARG, "--attack ddn: only --norm l2");
  sr_wbmin_opts o = ddn ? sr_ddn_opts_default() : sr_fmn_opts_default(norm);
  if (a->steps > 0) o.steps = (int)a->steps;
  float *xc = NULL;
  int32_t *lab = NULL;
  int64_t nc = 0;
  int64_t seen = 0;
  sr_rob_picked pk = {0};
  sr_status st = sr_rob_attackable_images(a, r, &pk, err);
  xc = pk.x;
  lab = pk.y;
  nc = pk.n;
  seen = pk.seen;
  int64_t lo = 0;
  int64_t hi = 0;
  if (!st) sr_rob_shard(a, nc, r->t.am.batch, &lo, &hi);
  o.first_index = lo;
  sr_rob_tick p;
  sr_rob_tick_start(&p, a, name, &r->t.am, hi - lo);
  wb_tick wt = {.p = &p, .steps = o.steps > 0 ? o.steps : 1};
  o.on_step = wb_step;
  o.ctx = &wt;
  sr_attack_result res = {0};
  wb_full f = {0};
  wb_rows w = {0};
  int64_t trace_at[SR_TRACE_POINTS];
  sr_trace_steps(o.steps, trace_at);
  double t0 = sr_now();
  if (!st && hi > lo)
    st = ddn ? sr_ddn(&r->t.am, &(sr_labeled){.x = xc + lo * r->d, .y = lab + lo, .n = hi - lo}, &o, a->seed,
                      &res, err)
             : sr_fmn(&r->t.am, &(sr_labeled){.x = xc + lo * r->d, .y = lab + lo, .n = hi - lo}, &o, &res,
                      err);
  if (!st) st = wb_gather(a, &res, nc, r->d, r->t.am.batch, &f, err);
  double secs = sr_now() - t0;
  sr_rob_tick_end(&p);
  if (!st && sr_rob_root(a)) {
    st = wb_collect(&f, xc, nc, r->d, &w, err);
    int64_t qsum = 0;
    int64_t gsum = 0;
    for (int64_t i = 0; i < nc; i++) {
      qsum += f.queries[i];
      gsum += f.gradients[i];
    }
    wb_meta m = {.name = name,
                 .norm = norm,
                 .o = &o,
                 .nc = nc,
                 .seen = seen,
                 .recf = f.counters[0],
                 .zero = f.counters[1],
                 .qsum = qsum,
                 .gsum = gsum,
                 .trace_at = trace_at,
                 .secs = secs};
    if (!st) st = wb_write(a, r, &m, &w, out, err);
  }
  sr_attack_result_free(&res);
  wb_full_free(&f);
  wb_rows_free(&w);
  sr_free(xc);
  sr_free(lab);
  return st;
}
