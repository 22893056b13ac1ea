// Minimal perturbations (Boundary, HopSkipJump) over images x repeats and the Square attack's budget runs of
// the robustness protocol: the correctly classified images, sharded, gathered, summarised on rank 0.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attack/rob_internal.h"
#include "simreg/npy.h"
#include "simreg/stats.h"

// ---- the images a minimal-perturbation or budget attack works on
// --------------------------------------------- Correctly classified images: among the first n loaded ones,
// or (first_correct) the first `want` of the whole split. *seen: images looked at.
sr_status sr_rob_correct_images(const sr_rob_opts *a, sr_rob_run *r, int64_t want, sr_rob_picked *out,
                                sr_err *err) {
  float **xc = &out->x;
  int32_t **lab = &out->y;
  int64_t *nc = &out->n;
  int64_t *seen = &out->seen;
  if (want > r->ds.n) want = r->ds.n;
  int64_t d = r->d, cap = a->first_correct ? want : r->n;
  *xc = sr_alloc((size_t)cap * (size_t)d * sizeof(float));
  *lab = sr_alloc((size_t)cap * sizeof(int32_t));
  if (!*xc || !*lab) return sr_fail(err, SR_ERR_NOMEM, "%lld images", (long long)cap);
  *nc = 0;
  *seen = 0;
  if (!a->first_correct) {
    for (int64_t i = 0; i < r->n; i++)
      if (r->pred[i] == r->y[i]) {
        memcpy(*xc + *nc * d, r->x + i * d, (size_t)d * sizeof(float));
        (*lab)[(*nc)++] = r->pred[i];
      }
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
  sr_free(buf);
  sr_free(pred);
  return st;
}

sr_status sr_rob_attackable_images(const sr_rob_opts *a, sr_rob_run *r, sr_rob_picked *out, sr_err *err) {
  sr_status st = sr_rob_correct_images(a, r, a->images, out, err);
  if (!st && !out->n)
    st = sr_fail(err, SR_ERR_ARG, "%s: the model misclassifies all %lld images: nothing to attack", r->dir,
                 (long long)out->seen);
  return st;
}

// ---- Boundary / HopSkipJump: minimal perturbations over images x repeats
// --------------------------------------
typedef struct mp_ctx {
  sr_rob_tick *p;
  int64_t base, steps;
} mp_ctx;

static void mp_step(void *ctx, int64_t step, int64_t first, int64_t n, const double *dist) {
  mp_ctx *c = ctx;
  (void)dist;
  sr_rob_tick_update(c->p, (double)c->base + (double)first + (double)n * (double)step / (double)c->steps);
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
  sr_rob_convergence_json(b, &c, m->hsj && m->norm == SR_NORM_LINF ? "linf" : "norm_sq_per_dim");
  return SR_OK;
}

static sr_status mp_write(const sr_rob_opts *a, const sr_rob_run *r, const mp_report *m, cJSON *out,
                          sr_err *err) {
  const char *name = m->name;
  int hsj = m->hsj;
  sr_norm norm = m->norm;
  sr_boundary_opts bo = *m->bo;
  sr_hsj_opts ho = *m->ho;
  double *nsq = m->nsq, *l2 = m->l2, *li = m->li, *qs = m->qs, *idx = m->idx, *rep = m->rep,
         *scratch = m->scratch;
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
    cJSON *b = hsj ? cJSON_AddObjectToObject(sr_rob_member(out, "attacks"), name)
                   : cJSON_AddObjectToObject(out, "boundary");
    cJSON_AddItemToObject(b, "norms_sq_per_dim", sr_rob_doubles(nsq, nf));
    cJSON_AddItemToObject(b, "l2", sr_rob_doubles(l2, nf));
    cJSON_AddItemToObject(b, "linf", sr_rob_doubles(li, nf));
    cJSON_AddNumberToObject(b, "median", ci.estimate);
    cJSON_AddNumberToObject(b, "ci_low", ci.lo);
    cJSON_AddNumberToObject(b, "ci_high", ci.hi);
    cJSON *qt = cJSON_AddObjectToObject(b, "quartiles");
    cJSON_AddItemToObject(qt, "norm_sq_per_dim", sr_rob_quartiles_of(nsq, nf, scratch));
    cJSON_AddItemToObject(qt, "l2", sr_rob_quartiles_of(l2, nf, scratch));
    cJSON_AddItemToObject(qt, "linf", sr_rob_quartiles_of(li, nf, scratch));
    cJSON_AddStringToObject(b, "perturbations", file);
    cJSON_AddItemToObject(b, "queries", sr_rob_doubles(qs, nf));
    cJSON_AddItemToObject(b, "image", sr_rob_doubles(idx, nf));
    cJSON_AddItemToObject(b, "repeat", sr_rob_doubles(rep, nf));
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
    cJSON_AddNumberToObject(b, "queries_per_second", sr_rob_per_sec((double)qsum, secs));
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

static sr_status mp_gather(const sr_rob_opts *a, const sr_attack_result *res, int64_t nc, int64_t d,
                           int64_t batch, mp_full *f, sr_err *err) {
  f->counters[0] = res->init_failed;
  f->counters[1] = res->recheck_failed;
  f->counters[2] = res->hsj.zero_estimates;
  sr_status st = sr_dist_gather_batches(a->dist, res->adv, nc, batch, (size_t)d * sizeof(float), f->adv, err);
  if (!st) st = sr_dist_gather_batches(a->dist, res->found, nc, batch, sizeof(int), f->found, err);
  if (!st) st = sr_dist_gather_batches(a->dist, res->norm_sq_per_dim, nc, batch, sizeof(double), f->nsq, err);
  if (!st) st = sr_dist_gather_batches(a->dist, res->queries, nc, batch, sizeof(int64_t), f->queries, err);
  if (!st)
    st = sr_dist_gather_batches(a->dist, res->trace, nc, batch, SR_TRACE_POINTS * sizeof(double), f->trace,
                                err);
  if (!st) st = sr_dist_allreduce_i64(a->dist, f->counters, 3, err);
  return st;
}

sr_status sr_rob_minpert(const sr_rob_opts *a, sr_rob_run *r, cJSON *out, sr_err *err) {
  int hsj = !strcmp(a->attack, "hsj");
  sr_norm norm = hsj && !strcmp(a->norm, "linf") ? SR_NORM_LINF : SR_NORM_L2;
  const char *name = !hsj ? "boundary" : norm == SR_NORM_L2 ? "hsj_l2" : "hsj_linf";
  int64_t d = r->d, nc = 0, seen = 0, R = a->repeats, nf = 0, qsum = 0, initf = 0, recf = 0, zero = 0, lo = 0,
          hi = 0;
  float *xc = NULL, *delta = NULL;
  int32_t *lab = NULL;
  mp_full f = {0};
  sr_rob_picked pk = {0};
  sr_status st = sr_rob_attackable_images(a, r, &pk, err);
  xc = pk.x;
  lab = pk.y;
  nc = pk.n;
  seen = pk.seen;
  size_t m = (size_t)(st ? 1 : nc) * (size_t)R;
  double *nsq = sr_alloc(m * sizeof(double)), *l2 = sr_alloc(m * sizeof(double)),
         *li = sr_alloc(m * sizeof(double));
  double *scratch = sr_alloc(m * sizeof(double)), *qs = sr_alloc(m * sizeof(double));
  double *idx = sr_alloc(m * sizeof(double)), *rep = sr_alloc(m * sizeof(double));
  double *trace = sr_alloc(m * SR_TRACE_POINTS * sizeof(double));
  int64_t trace_at[SR_TRACE_POINTS] = {0};
  if (!st) {
    delta = sr_alloc(m * (size_t)d * sizeof(float));
    f.adv = sr_alloc((size_t)nc * (size_t)d * sizeof(float));
    f.found = sr_alloc((size_t)nc * sizeof(int));
    f.nsq = sr_alloc((size_t)nc * sizeof(double));
    f.queries = sr_alloc((size_t)nc * sizeof(int64_t));
    f.trace = sr_alloc((size_t)nc * SR_TRACE_POINTS * sizeof(double));
    if (!nsq || !l2 || !li || !scratch || !qs || !idx || !rep || !delta || !f.adv || !f.found || !f.nsq ||
        !f.queries || !trace || !f.trace)
      st = sr_fail(err, SR_ERR_NOMEM, "%s results", name);
    sr_rob_shard(a, nc, r->t.am.batch, &lo, &hi);
  }
  sr_boundary_opts bo = sr_boundary_opts_default();
  if (a->steps > 0) bo.steps = a->steps;
  sr_hsj_opts ho = sr_hsj_opts_default(norm);
  ho.iterations = a->iterations;
  ho.init_evals = a->init_evals;
  ho.max_evals = a->max_evals;
  bo.first_index = ho.first_index = lo;
  sr_trace_steps(hsj ? ho.iterations : bo.steps, trace_at);  // every rank knows them, rows or not
  sr_rob_tick p;
  sr_rob_tick_start(&p, a, name, &r->t.am, (hi - lo) * R);
  mp_ctx mc = {.p = &p,
               .steps = hsj ? (ho.iterations > 0 ? ho.iterations : 1) : (bo.steps > 0 ? bo.steps : 1)};
  bo.on_step = mp_step;
  bo.ctx = &mc;
  ho.on_iter = mp_step;
  ho.ctx = &mc;
  double t0 = sr_now();
  for (int64_t k = 0; k < R && !st; k++) {
    sr_attack_result res = {0};
    mc.base = k * (hi - lo);
    uint64_t seed = a->seed + (uint64_t)k;
    const float *xs = xc + lo * d;
    if (hi > lo)
      st = hsj ? sr_hsj(&r->t.am, &(sr_labeled){.x = xs, .y = lab + lo, .n = hi - lo}, &ho, seed, &res, err)
               : sr_boundary(&r->t.am, &(sr_labeled){.x = xs, .y = lab + lo, .n = hi - lo}, &bo, seed, &res,
                             err);
    if (!st) st = mp_gather(a, &res, nc, d, r->t.am.batch, &f, err);
    sr_attack_result_free(&res);
    if (st || !sr_rob_root(a)) continue;
    for (int64_t i = 0; i < nc; i++) {
      qsum += f.queries[i];
      if (!f.found[i]) continue;
      const float *adv = f.adv + i * d, *x = xc + i * d;
      for (int64_t q = 0; q < d; q++) delta[(size_t)nf * (size_t)d + (size_t)q] = adv[q] - x[q];
      nsq[nf] = f.nsq[i];
      l2[nf] = sr_dist_l2(adv, x, d);
      li[nf] = sr_dist_linf(adv, x, d);
      qs[nf] = (double)f.queries[i];
      idx[nf] = (double)i;
      rep[nf] = (double)k;
      memcpy(trace + (size_t)nf * SR_TRACE_POINTS, f.trace + (size_t)i * SR_TRACE_POINTS,
             SR_TRACE_POINTS * sizeof(double));
      nf++;
    }
    initf += f.counters[0];
    recf += f.counters[1];
    zero += f.counters[2];
  }
  double secs = sr_now() - t0;
  sr_rob_tick_end(&p);
  sr_free(f.adv);
  sr_free(f.found);
  sr_free(f.nsq);
  sr_free(f.queries);
  sr_free(f.trace);
  if (!st && sr_rob_root(a)) {
    mp_report rep_ = {.name = name,
                      .hsj = hsj,
                      .norm = norm,
                      .bo = &bo,
                      .ho = &ho,
                      .nsq = nsq,
                      .l2 = l2,
                      .li = li,
                      .qs = qs,
                      .idx = idx,
                      .rep = rep,
                      .scratch = scratch,
                      .trace = trace,
                      .trace_at = trace_at,
                      .delta = delta,
                      .nf = nf,
                      .nc = nc,
                      .seen = seen,
                      .R = R,
                      .qsum = qsum,
                      .initf = initf,
                      .recf = recf,
                      .zero = zero,
                      .secs = secs};
    st = mp_write(a, r, &rep_, out, err);
  }
  sr_free(xc);
  sr_free(lab);
  sr_free(delta);
  sr_free(nsq);
  sr_free(l2);
  sr_free(li);
  sr_free(scratch);
  sr_free(qs);
  sr_free(idx);
  sr_free(rep);
  sr_free(trace);
  return st;
}

// ---- Square: success rate and queries within a budget
// -----------------------------------------------------------
typedef struct sq_ctx {
  sr_rob_tick *p;
  int64_t budget;
} sq_ctx;

static void sq_iter(void *ctx, int64_t it, int64_t first, int64_t n, int64_t active) {
  sq_ctx *c = ctx;
  (void)active;
  sr_rob_tick_update(c->p, (double)first + (double)n * (double)(it + 1) / (double)c->budget);
}

sr_status sr_rob_square(const sr_rob_opts *a, sr_rob_run *r, cJSON *out, sr_err *err) {
  sr_norm norm = !strcmp(a->norm, "l2") ? SR_NORM_L2 : SR_NORM_LINF;
  const char *name = norm == SR_NORM_L2 ? "square_l2" : "square_linf";
  double eps = a->eps > 0           ? a->eps
               : norm == SR_NORM_L2 ? (r->ds.c == 1 ? 2.0 : 0.5)
                                    : (r->ds.c == 1 ? 0.1 : 8.0 / 255);
  float *xc = NULL;
  int32_t *lab = NULL;
  int64_t nc = 0, seen = 0;
  sr_rob_picked pk = {0};
  sr_status st = sr_rob_attackable_images(a, r, &pk, err);
  xc = pk.x;
  lab = pk.y;
  nc = pk.n;
  seen = pk.seen;
  sr_square_opts o = sr_square_opts_default(norm, eps);
  o.queries = a->queries;
  if (a->p_init > 0) o.p_init = a->p_init;
  int64_t lo = 0, hi = 0, recf = 0;
  if (!st) sr_rob_shard(a, nc, r->t.am.batch, &lo, &hi);
  o.first_index = lo;
  sr_rob_tick p;
  sr_rob_tick_start(&p, a, name, &r->t.am, hi - lo);
  sq_ctx c = {.p = &p, .budget = o.queries};
  o.on_iter = sq_iter;
  o.ctx = &c;
  sr_attack_result res = {0};
  int64_t *fq = sr_alloc((size_t)(nc > 0 ? nc : 1) * sizeof(int64_t));
  int *ffound = sr_alloc((size_t)(nc > 0 ? nc : 1) * sizeof(int));
  if (!st && (!fq || !ffound)) st = sr_fail(err, SR_ERR_NOMEM, "square results");
  double t0 = sr_now();
  if (!st && hi > lo)
    st = sr_square(&r->t.am, &(sr_labeled){.x = xc + lo * r->d, .y = lab + lo, .n = hi - lo}, &o, a->seed,
                   &res, err);
  recf = res.recheck_failed;
  if (!st) st = sr_dist_gather_batches(a->dist, res.queries, nc, r->t.am.batch, sizeof(int64_t), fq, err);
  if (!st) st = sr_dist_gather_batches(a->dist, res.found, nc, r->t.am.batch, sizeof(int), ffound, err);
  if (!st) st = sr_dist_allreduce_i64(a->dist, &recf, 1, err);
  double secs = sr_now() - t0;
  sr_rob_tick_end(&p);
  if (!st && sr_rob_root(a)) {
    double *q = sr_alloc((size_t)nc * sizeof(double)), *qf = sr_alloc((size_t)nc * sizeof(double));
    double *fooled = sr_alloc((size_t)nc * sizeof(double)), *scratch = sr_alloc((size_t)nc * sizeof(double));
    if (!q || !qf || !fooled || !scratch) st = sr_fail(err, SR_ERR_NOMEM, "square results");
    int64_t nf = 0, qsum = 0;
    for (int64_t i = 0; i < nc && !st; i++) {
      q[i] = (double)fq[i];
      fooled[i] = ffound[i];
      qsum += fq[i];
      if (ffound[i]) qf[nf++] = (double)fq[i];
    }
    if (!st) {
      cJSON *b = cJSON_AddObjectToObject(sr_rob_member(out, "attacks"), name);
      cJSON_AddStringToObject(b, "norm", norm == SR_NORM_L2 ? "l2" : "linf");
      cJSON_AddNumberToObject(b, "eps", eps);
      cJSON_AddNumberToObject(b, "budget", (double)o.queries);
      cJSON_AddNumberToObject(b, "p_init", o.p_init);
      cJSON_AddNumberToObject(b, "success_rate", (double)nf / (double)nc);
      cJSON *mq = nf ? sr_rob_quartiles_of(qf, nf, scratch) : NULL;
      cJSON_AddNumberToObject(b, "median_queries", mq ? cJSON_GetArrayItem(mq, 1)->valuedouble : NAN);
      if (mq) cJSON_AddItemToObject(b, "queries_quartiles", mq);
      cJSON_AddItemToObject(b, "queries", sr_rob_doubles(q, nc));
      cJSON_AddItemToObject(b, "fooled", sr_rob_doubles(fooled, nc));
      cJSON_AddNumberToObject(b, "seed", (double)a->seed);
      cJSON_AddNumberToObject(b, "images", (double)seen);
      cJSON_AddNumberToObject(b, "attacked", (double)nc);
      cJSON_AddNumberToObject(b, "misclassified_clean", (double)(seen - nc));
      cJSON_AddNumberToObject(b, "recheck_failed", (double)recf);
      cJSON_AddNumberToObject(b, "queries_per_second", sr_rob_per_sec((double)qsum, secs));
    }
    sr_free(q);
    sr_free(qf);
    sr_free(fooled);
    sr_free(scratch);
  }
  sr_attack_result_free(&res);
  sr_free(xc);
  sr_free(lab);
  sr_free(fq);
  sr_free(ffound);
  return st;
}
