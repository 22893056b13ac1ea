// The Boundary attack (Brendel et al. 2018) with Foolbox 3's schedule: blended-uniform-noise start, then
// orthogonal (spherical) steps plus steps toward the original, with step sizes adapted from success rates.
// Every image of a batch takes part in every step until all have converged (as Foolbox runs a batch), so
// query counts per image are steps + steps / stats_every plus the initialisation's.
#include <math.h>
#include <string.h>

#include "attack/internal.h"

#define SPH_Q  100  // spherical-success queue length
#define STEP_Q 30   // step-success queue length

sr_boundary_opts sr_boundary_opts_default(void) {
  return (sr_boundary_opts){.steps = 5000,
                            .spherical_step = 1e-2,
                            .source_step = 1e-2,
                            .convergence = 1e-7,
                            .adaptation = 1.5,
                            .stats_every = 10,
                            .init_draws = 1000,
                            .init_search_steps = 50};
}

// Per-batch working state.
typedef struct bstate {
  const sr_oracle *orc;
  int64_t d, k, first;             // image size, images in this batch, oracle row of its first image
  const float *x;                  // (k, d) originals
  float *best, *cand, *sph, *buf;  // (k, d)
  int64_t *list, *rows;            // (k) indices of a query, their oracle rows
  int *packed;                     // (k) answers of a query
  int *adv_c, *adv_s;              // (k) candidate / spherical candidate adversarial
  int64_t *queries;                // (k) into the result
  sr_rng *rng;                     // (k)
} bstate;

// Query images src[list[j]*d] for j < m; adv[list[j]] = the oracle calls it adversarial.
static sr_status query(bstate *b, const float *src, const int64_t *list, int64_t m, int *adv, sr_err *err) {
  int64_t d = b->d;
  for (int64_t j = 0; j < m; j++) {
    memcpy(b->buf + j * d, src + list[j] * d, (size_t)d * sizeof(float));
    b->rows[j] = b->first + list[j];
  }
  sr_status st = b->orc->decide(b->orc->ctx, b->buf, b->rows, m, b->packed, err);
  if (st) return st;
  for (int64_t j = 0; j < m; j++) {
    adv[list[j]] = b->packed[j];
    b->queries[list[j]]++;
  }
  return SR_OK;
}

// One proposal for image i: a spherical step of relative size sph_step around x (orthogonal to the source
// direction, projected back onto the sphere), then a step of relative size src_step toward x.
static void propose(bstate *b, int64_t i, double sph_step, double src_step, double src_norm) {
  int64_t d = b->d;
  const float *x = b->x + i * d, *best = b->best + i * d;
  float *eta = b->buf + i * d, *sph = b->sph + i * d, *cand = b->cand + i * d;
  double dot = 0, nn = 0;
  sr_attack_normals(&b->rng[i], eta, d);
  for (int64_t p = 0; p < d; p++) dot += (double)eta[p] * ((double)x[p] - best[p]) / src_norm;
  for (int64_t p = 0; p < d; p++) {
    eta[p] -= (float)(dot * ((double)x[p] - best[p]) / src_norm);
    nn += (double)eta[p] * eta[p];
  }
  double scale = nn > 0 ? sph_step * src_norm / sqrt(nn) : 0, onsphere = sqrt(sph_step * sph_step + 1),
         nsd = 0;
  for (int64_t p = 0; p < d; p++) {
    double dir = eta[p] * scale - ((double)x[p] - best[p]);
    sph[p] = sr_clip01f(x[p] + dir / onsphere);
    nsd += ((double)x[p] - sph[p]) * ((double)x[p] - sph[p]);
  }
  nsd = sqrt(nsd);
  double len = src_step * src_norm + nsd - src_norm;  // corrected for leaving the sphere by clipping
  len = len > 0 && nsd > 0 ? len / nsd : 0;
  for (int64_t p = 0; p < d; p++) cand[p] = sr_clip01f(sph[p] + len * ((double)x[p] - sph[p]));
}

typedef struct queue {
  signed char *v;  // (k, len): 1 success, 0 failure, -1 empty
  int len, next;
} queue;

static void q_push(queue *q, const int *val, const int *active, int64_t k) {
  for (int64_t i = 0; i < k; i++) q->v[i * q->len + q->next] = active[i] ? (signed char)(val[i] != 0) : -1;
  q->next = (q->next + 1) % q->len;
}

// Success rate of a full queue, or -1 while it has empty slots.
static double q_rate(const queue *q, int64_t i) {
  int s = 0;
  for (int j = 0; j < q->len; j++) {
    if (q->v[i * q->len + j] < 0) return -1;
    s += q->v[i * q->len + j];
  }
  return (double)s / q->len;
}

static void q_clear(queue *q, int64_t i) { memset(q->v + i * q->len, -1, (size_t)q->len); }

static void adapt(const sr_boundary_opts *o, queue *qs, queue *qt, int64_t k, double *sph_step,
                  double *src_step) {
  double f = o->adaptation;
  for (int64_t i = 0; i < k; i++) {
    double p = q_rate(qs, i);
    if (p > 0.5) {
      sph_step[i] *= f;
      src_step[i] *= f;
      q_clear(qs, i);
    } else if (p >= 0 && p < 0.2) {
      sph_step[i] /= f;
      src_step[i] /= f;
      q_clear(qs, i);
    }
    p = q_rate(qt, i);
    if (p > 0.25) {
      src_step[i] *= f;
      q_clear(qt, i);
    } else if (p >= 0 && p < 0.1) {
      src_step[i] /= f;
      q_clear(qt, i);
    }
  }
}

static sr_status run_batch(bstate *b, const sr_boundary_opts *o, int64_t first, int *ok, int64_t *steps_run,
                           sr_tracer *tr, sr_err *err) {
  int64_t k = b->k, d = b->d;
  sr_status st = SR_OK;
  double *sph_step = sr_alloc((size_t)k * sizeof(double)), *src_step = sr_alloc((size_t)k * sizeof(double));
  double *norm = sr_alloc((size_t)k * sizeof(double));
  queue qs = {sr_alloc((size_t)k * SPH_Q), SPH_Q, 0}, qt = {sr_alloc((size_t)k * STEP_Q), STEP_Q, 0};
  if (!sph_step || !src_step || !norm || !qs.v || !qt.v) {
    st = sr_fail(err, SR_ERR_NOMEM, "boundary attack state");
    goto done;
  }
  memset(qs.v, -1, (size_t)k * SPH_Q);
  memset(qt.v, -1, (size_t)k * STEP_Q);
  int64_t m = 0;
  for (int64_t i = 0; i < k; i++) {
    sph_step[i] = o->spherical_step;
    src_step[i] = o->source_step;
    norm[i] = ok[i] ? sr_dist_l2(b->x + i * d, b->best + i * d, d) : NAN;
    if (ok[i]) b->list[m++] = i;
  }
  sr_trace_record(tr, 0, norm);
  for (int64_t step = 1; step <= o->steps && m > 0; step++) {
    int all = 1;
    for (int64_t j = 0; j < m; j++) all &= src_step[b->list[j]] < o->convergence;
    if (all) break;
    int check = step % o->stats_every == 0;
    for (int64_t j = 0; j < m; j++) {
      int64_t i = b->list[j];
      if (norm[i] > 0)
        propose(b, i, sph_step[i], src_step[i], norm[i]);
      else {
        memcpy(b->cand + i * d, b->best + i * d, (size_t)d * sizeof(float));
        memcpy(b->sph + i * d, b->best + i * d, (size_t)d * sizeof(float));
      }
    }
    if ((st = query(b, b->cand, b->list, m, b->adv_c, err))) break;
    if (check) {
      if ((st = query(b, b->sph, b->list, m, b->adv_s, err))) break;
      q_push(&qs, b->adv_s, ok, k);
      q_push(&qt, b->adv_c, ok, k);
    }
    for (int64_t j = 0; j < m; j++) {
      int64_t i = b->list[j];
      steps_run[i] = step;
      if (!b->adv_c[i] || src_step[i] < o->convergence) continue;
      double dn = sr_dist_l2(b->x + i * d, b->cand + i * d, d);
      if (dn < norm[i]) {
        memcpy(b->best + i * d, b->cand + i * d, (size_t)d * sizeof(float));
        norm[i] = dn;
      }
    }
    if (check) adapt(o, &qs, &qt, k, sph_step, src_step);
    sr_trace_record(tr, step, norm);
    if (o->on_step) o->on_step(o->ctx, step, first, k, norm);
  }
  if (!st) sr_trace_finish(tr, norm);
done:
  sr_free(sph_step), sr_free(src_step), sr_free(norm), sr_free(qs.v), sr_free(qt.v);
  return st;
}

static void free_state(bstate *b) {
  SR_FREE_ALL(b->best, b->cand, b->sph, b->buf, b->list, b->rows, b->packed, b->adv_c, b->adv_s, b->rng);
}

static sr_status alloc_state(bstate *b, int64_t bsz, sr_err *err) {
  size_t img = (size_t)bsz * (size_t)b->d * sizeof(float);
  b->best = sr_alloc(img);
  b->cand = sr_alloc(img);
  b->sph = sr_alloc(img);
  b->buf = sr_alloc(img);
  b->list = sr_alloc((size_t)bsz * sizeof(int64_t));
  b->rows = sr_alloc((size_t)bsz * sizeof(int64_t));
  b->packed = sr_alloc((size_t)bsz * sizeof(int));
  b->adv_c = sr_alloc((size_t)bsz * sizeof(int));
  b->adv_s = sr_alloc((size_t)bsz * sizeof(int));
  b->rng = sr_alloc((size_t)bsz * sizeof(sr_rng));
  if (!b->best || !b->cand || !b->sph || !b->buf || !b->list || !b->rows || !b->packed || !b->adv_c ||
      !b->adv_s || !b->rng)
    return sr_fail(err, SR_ERR_NOMEM, "boundary attack buffers");
  return SR_OK;
}

// One batch: the blended start, the steps, the best adversarial (or the original) into r's rows.
static sr_status attack_batch(bstate *b, const sr_boundary_opts *o, uint64_t seed, sr_attack_result *r,
                              sr_err *err) {
  int64_t i0 = b->first;
  int64_t d = b->d;
  for (int64_t i = 0; i < b->k; i++) sr_rng_seed(&b->rng[i], seed, (uint64_t)(o->first_index + i0 + i));
  sr_blend_start bs = {.orc = b->orc,
                       .x = b->x,
                       .k = b->k,
                       .first = i0,
                       .draws = o->init_draws,
                       .steps = o->init_search_steps,
                       .rng = b->rng,
                       .start = b->best,
                       .ok = r->found + i0,
                       .queries = b->queries};
  sr_status st = sr_attack_init_blended(&bs, err);
  for (int64_t i = 0; i < b->k && !st; i++) r->init_queries[i0 + i] = r->queries[i0 + i];
  sr_tracer tr = {.r = r, .first = i0, .k = b->k, .d = d, .l2 = 1};
  if (!st) st = run_batch(b, o, i0, r->found + i0, r->steps_run + i0, &tr, err);
  for (int64_t i = 0; i < b->k && !st; i++) {
    const float *src = r->found[i0 + i] ? b->best + i * d : b->x + i * d;
    memcpy(r->adv + (i0 + i) * d, src, (size_t)d * sizeof(float));
    r->init_failed += !r->found[i0 + i];
  }
  return st;
}

sr_status sr_boundary_oracle(const sr_oracle *orc, const float *x, int64_t n, const sr_boundary_opts *o,
                             uint64_t seed, sr_attack_result *r, sr_err *err) {
  if (n < 1 || orc->d < 1 || orc->batch < 1 || o->steps < 0 || o->stats_every < 1 || o->init_draws < 1 ||
      o->init_search_steps < 1 || !(o->adaptation > 1) || !(o->spherical_step > 0) || !(o->source_step > 0))
    return sr_fail(err, SR_ERR_ARG, "boundary attack: bad settings (images %lld, steps %lld)", (long long)n,
                   (long long)o->steps);
  int64_t d = orc->d;
  int64_t bsz = orc->batch;
  sr_status st = sr_attack_result_alloc(r, n, d, err);
  if (!st) st = sr_trace_alloc(r, n, o->steps, err);
  if (st) {
    sr_attack_result_free(r);
    return st;
  }
  bstate b = {.orc = orc, .d = d};
  st = alloc_state(&b, bsz, err);
  for (int64_t i0 = 0; i0 < n && !st; i0 += bsz) {
    b.k = n - i0 < bsz ? n - i0 : bsz;
    b.first = i0;
    b.x = x + i0 * d;
    b.queries = r->queries + i0;
    st = attack_batch(&b, o, seed, r, err);
  }
  if (!st) st = sr_attack_recheck(orc, x, n, NULL, r, err);
  free_state(&b);
  if (st) sr_attack_result_free(r);
  return st;
}
