// The loop shared by the minimal-norm white-box attacks (wbmin.h): FMN (fmn.c) and DDN (ddn.c).
#include "attack/wbmin.h"

#include <math.h>
#include <string.h>

double sr_wb_dist(sr_norm norm, const float *a, const float *x, int64_t d) {
  return norm == SR_NORM_L2 ? sr_dist_l2(a, x, d) : sr_dist_linf(a, x, d);
}

// The defaults FMN and DDN share (100 steps, step size 1 -> 0.01, gamma from 0.05), then each one's own.
static sr_wbmin_opts opts_common(sr_norm norm) {
  sr_wbmin_opts o = {.norm = norm, .steps = 100, .alpha_init = 1.0, .alpha_final = 0.01, .gamma_init = 0.05};
  return o;
}

sr_wbmin_opts sr_fmn_opts_default(sr_norm norm) {
  sr_wbmin_opts o = opts_common(norm);
  o.gamma_final = 0.001;
  o.binary_search_steps = 10;
  return o;
}

sr_wbmin_opts sr_ddn_opts_default(void) {
  sr_wbmin_opts o = opts_common(SR_NORM_L2);
  o.init_norm = 1.0;
  o.levels = 256;
  return o;
}

static int32_t argmax_row(const float *z, int classes) {
  int32_t b = 0;
  for (int j = 1; j < classes; j++) {
    if (z[j] > z[b]) b = j;
  }
  return b;
}

static void state_free(sr_wb_state *s) {
  SR_FREE_ALL(s->rows, s->x, s->a, s->g, s->logits, s->y, s->eps, s->best, s->worst, s->adv_found, s->rng);
  memset(s, 0, sizeof *s);
}

static sr_status state_alloc(sr_wb_state *s, int64_t k, int64_t d, int classes, sr_err *err) {
  size_t img = (size_t)k * (size_t)d * sizeof(float);
  s->d = d;
  s->classes = classes;
  s->rows = sr_alloc((size_t)k * sizeof(int64_t));
  s->x = sr_alloc(img);
  s->a = sr_alloc(img);
  s->g = sr_alloc(img);
  s->logits = sr_alloc((size_t)k * (size_t)classes * sizeof(float));
  s->y = sr_alloc((size_t)k * sizeof(int32_t));
  s->eps = sr_alloc((size_t)k * sizeof(double));
  s->best = sr_alloc((size_t)k * sizeof(double));
  s->worst = sr_alloc((size_t)k * sizeof(double));
  s->adv_found = sr_alloc((size_t)k * sizeof(int));
  s->rng = sr_alloc((size_t)k * sizeof(sr_rng));
  if (!s->rows || !s->x || !s->a || !s->g || !s->logits || !s->y || !s->eps || !s->best || !s->worst ||
      !s->adv_found || !s->rng)
    return sr_fail(err, SR_ERR_NOMEM, "white-box attack state for %lld images", (long long)k);
  return SR_OK;
}

// The norm of the largest perturbation that stays in [0,1]: max(x, 1 - x) per value.
static double worst_norm(sr_norm norm, const float *x, int64_t d) {
  double s = 0;
  for (int64_t p = 0; p < d; p++) {
    double v = x[p] > 1 - x[p] ? x[p] : 1 - x[p];
    if (norm == SR_NORM_L2)
      s += v * v;
    else if (v > s)
      s = v;
  }
  return norm == SR_NORM_L2 ? sqrt(s) : s;
}

// Row j of the call's result takes the current point of packed row j when it is the closest adversarial yet.
static void keep_best(sr_wb_state *s, sr_attack_result *r, int64_t j, double dist) {
  int64_t i = s->rows[j];
  if (r->found[i] && !(dist < s->best[j])) return;
  r->found[i] = 1;
  s->best[j] = dist;
  memcpy(r->adv + i * s->d, s->a + j * s->d, (size_t)s->d * sizeof(float));
}

// A point between x (e = 0) and the start (e = 1): along the line for L2, the start clipped to the L-inf box
// of radius e otherwise.
static void mid_point(sr_norm norm, const float *x, const float *st, double e, float *out, int64_t d) {
  for (int64_t p = 0; p < d; p++) {
    double v = st[p] - x[p];
    if (norm == SR_NORM_L2)
      v *= e;
    else
      v = v > e ? e : v < -e ? -e : v;
    out[p] = sr_clip01f(x[p] + v);
  }
}

// Given adversarial starting points: a binary search toward x on the mid-points, the result adversarial.
static sr_status start_search(sr_amodel *am, sr_wb_state *s, const float *start, sr_attack_result *r,
                              sr_err *err) {
  int64_t m = s->m;
  int64_t d = s->d;
  int32_t *pred = sr_alloc((size_t)(m > 0 ? m : 1) * sizeof(int32_t));
  double *lo = sr_alloc((size_t)(m > 0 ? m : 1) * sizeof(double));
  double *hi = sr_alloc((size_t)(m > 0 ? m : 1) * sizeof(double));
  sr_status st = !pred || !lo || !hi ? sr_fail(err, SR_ERR_NOMEM, "start search") : SR_OK;
  for (int64_t j = 0; j < m && !st; j++) {
    memcpy(s->a + j * d, start + s->rows[j] * d, (size_t)d * sizeof(float));
    lo[j] = 0;
    hi[j] = 1;
  }
  if (!st) st = sr_amodel_predict(am, s->a, m, pred, NULL, err);
  for (int64_t j = 0; j < m && !st; j++) {
    r->queries[s->rows[j]]++;
    r->init_queries[s->rows[j]]++;
    if (pred[j] == s->y[j]) hi[j] = -1;  // not adversarial: this image starts at x
  }
  for (int b = 0; b < s->o->binary_search_steps && !st; b++) {
    for (int64_t j = 0; j < m; j++) {
      const float *xs = s->x + j * d;
      if (hi[j] < 0)
        memcpy(s->a + j * d, xs, (size_t)d * sizeof(float));
      else
        mid_point(s->o->norm, xs, start + s->rows[j] * d, (lo[j] + hi[j]) / 2, s->a + j * d, d);
    }
    st = sr_amodel_predict(am, s->a, m, pred, NULL, err);
    for (int64_t j = 0; j < m && !st; j++) {
      if (hi[j] < 0) continue;
      r->queries[s->rows[j]]++;
      r->init_queries[s->rows[j]]++;
      if (pred[j] != s->y[j])
        hi[j] = (lo[j] + hi[j]) / 2;
      else
        lo[j] = (lo[j] + hi[j]) / 2;
    }
  }
  for (int64_t j = 0; j < m && !st; j++) {
    const float *xs = s->x + j * d;
    if (hi[j] < 0) {
      memcpy(s->a + j * d, xs, (size_t)d * sizeof(float));
      continue;
    }
    mid_point(s->o->norm, xs, start + s->rows[j] * d, hi[j], s->a + j * d, d);
    keep_best(s, r, j, sr_wb_dist(s->o->norm, s->a + j * d, xs, d));
    s->adv_found[j] = 1;
  }
  sr_free(pred);
  sr_free(lo);
  sr_free(hi);
  return st;
}

// One chunk of the call's images: rows i0 .. i0+k of in, attacked by algo with streams of seed.
typedef struct wb_chunk {
  const sr_labeled *in;
  int64_t i0, k;
  const sr_wb_algo *algo;
  uint64_t seed;
} wb_chunk;

// Images the model already gets wrong are done (found, distance 0); the others are packed into s.
static sr_status pack_chunk(sr_amodel *am, const wb_chunk *c, sr_wb_state *s, sr_attack_result *r,
                            sr_err *err) {
  const float *x = c->in->x;
  const int32_t *label = c->in->y;
  const int64_t i0 = c->i0, k = c->k;
  const uint64_t seed = c->seed;
  int64_t d = s->d;
  int32_t *pred = s->y;  // scratch until the labels are packed
  sr_status st = sr_amodel_predict(am, x + i0 * d, k, pred, NULL, err);
  if (st) return st;
  int64_t m = 0;
  for (int64_t i = 0; i < k; i++) {
    int64_t row = i0 + i;
    r->queries[row]++;
    r->init_queries[row]++;
    if (pred[i] != label[row]) {
      r->found[row] = 1;
      memcpy(r->adv + row * d, x + row * d, (size_t)d * sizeof(float));
      continue;
    }
    s->rows[m] = row;
    m++;
  }
  s->m = m;
  for (int64_t j = 0; j < m; j++) {
    int64_t row = s->rows[j];
    memcpy(s->x + j * d, x + row * d, (size_t)d * sizeof(float));
    memcpy(s->a + j * d, x + row * d, (size_t)d * sizeof(float));
    s->y[j] = label[row];
    s->eps[j] = INFINITY;
    s->best[j] = INFINITY;
    s->worst[j] = worst_norm(s->o->norm, x + row * d, d);
    s->adv_found[j] = 0;
    sr_rng_seed(&s->rng[j], seed, (uint64_t)(s->o->first_index + row));
  }
  return SR_OK;
}

// Zero a gradient row that is not finite; 1 when the row is (now) all zero.
static int sanitise(float *g, int64_t d) {
  int finite = 1;
  int zero = 1;
  for (int64_t p = 0; p < d; p++) {
    finite &= isfinite(g[p]) != 0;
    zero &= g[p] == 0;
  }
  if (!finite) memset(g, 0, (size_t)d * sizeof(float));
  return !finite || zero;
}

// The best distance of every image of the chunk (NaN where none yet), for the trace and the caller.
static void chunk_dist(const sr_wb_state *s, const sr_attack_result *r, int64_t i0, int64_t k, const float *x,
                       double *dist) {
  for (int64_t i = 0; i < k; i++)
    dist[i] =
        r->found[i0 + i] ? sr_wb_dist(s->o->norm, r->adv + (i0 + i) * s->d, x + (i0 + i) * s->d, s->d) : NAN;
}

static sr_status run_chunk(sr_amodel *am, const wb_chunk *c, sr_wb_state *s, sr_attack_result *r,
                           double *dist, sr_err *err) {
  const sr_wbmin_opts *o = s->o;
  const float *x = c->in->x;
  const int64_t i0 = c->i0, k = c->k;
  const sr_wb_algo *algo = c->algo;
  sr_status st = pack_chunk(am, c, s, r, err);
  if (!st && o->start && s->m) st = start_search(am, s, o->start, r, err);
  sr_tracer tr = {.r = r, .first = i0, .k = k, .d = s->d, .l2 = o->norm == SR_NORM_L2};
  if (!st) {
    chunk_dist(s, r, i0, k, x, dist);
    sr_trace_record(&tr, 0, dist);
  }
  for (int step = 0; step < o->steps && !st && s->m; step++) {
    st = sr_amodel_grad(am, s->a, s->m, &(sr_loss){.fn = algo->dlogits, .ctx = s->y},
                        &(sr_grad_out){.g = s->g, .logits = s->logits}, err);
    for (int64_t j = 0; j < s->m && !st; j++) {
      int64_t row = s->rows[j];
      r->queries[row]++;
      r->wb.gradients[row]++;
      r->steps_run[row]++;
      float *g = s->g + j * s->d;
      if (sanitise(g, s->d)) r->wb.zero_gradients++;
      int is_adv = argmax_row(s->logits + j * s->classes, s->classes) != s->y[j];
      double dn = sr_wb_dist(o->norm, s->a + j * s->d, s->x + j * s->d, s->d);
      if (is_adv) keep_best(s, r, j, dn);
      s->adv_found[j] |= is_adv;
      algo->update(s, j, step, o->steps, is_adv, dn);
    }
    if (st) break;
    chunk_dist(s, r, i0, k, x, dist);
    sr_trace_record(&tr, step + 1, dist);
    if (o->on_step) o->on_step(o->ctx, step + 1, i0, k, dist);
  }
  if (!st) {
    chunk_dist(s, r, i0, k, x, dist);
    sr_trace_finish(&tr, dist);
  }
  return st;
}

sr_status sr_wbmin_run(sr_amodel *am, const sr_labeled *in, const sr_wbmin_opts *o, const sr_wb_algo *algo,
                       uint64_t seed, sr_attack_result *r, sr_err *err) {
  const float *x = in->x;
  const int32_t *label = in->y;
  const int64_t n = in->n;
  memset(r, 0, sizeof *r);
  if (n < 0 || o->steps < 0 || o->binary_search_steps < 0)
    return sr_fail(err, SR_ERR_ARG, "%s: bad settings (images %lld, steps %d)", algo->name, (long long)n,
                   o->steps);
  for (int64_t i = 0; i < n; i++) {
    if (label[i] < 0 || label[i] >= am->classes)
      return sr_fail(err, SR_ERR_ARG, "%s: label %d of image %lld is outside [0, %d)", algo->name, label[i],
                     (long long)i, am->classes);
  }
  sr_status st = sr_attack_result_alloc(r, n, am->d, err);
  if (!st) st = sr_trace_alloc(r, n, o->steps, err);
  if (!st) {
    r->wb.gradients = sr_calloc((size_t)(n > 0 ? n : 1), sizeof(int64_t));
    if (!r->wb.gradients) st = sr_fail(err, SR_ERR_NOMEM, "%s: gradient counts", algo->name);
  }
  int64_t b = am->batch;
  sr_wb_state s = {.o = o};
  double *dist = sr_alloc((size_t)b * sizeof(double));
  if (!st && !dist) st = sr_fail(err, SR_ERR_NOMEM, "%s: distances", algo->name);
  if (!st) st = state_alloc(&s, b, am->d, am->classes, err);
  for (int64_t i0 = 0; i0 < n && !st; i0 += b) {
    int64_t k = n - i0 < b ? n - i0 : b;
    wb_chunk c = {.in = in, .i0 = i0, .k = k, .algo = algo, .seed = seed};
    st = run_chunk(am, &c, &s, r, dist, err);
  }
  state_free(&s);
  sr_free(dist);
  if (!st) st = sr_recheck_on_model(am, label, x, n, NULL, r, err);
  if (st) sr_attack_result_free(r);
  return st;
}
