// What every attack shares: the result's arrays, the blended-noise start of the decision attacks, and the
// final re-check by a fresh oracle call that decides which adversarials count.
#include <math.h>
#include <string.h>

#include "attack/internal.h"

sr_status sr_attack_result_alloc(sr_attack_result *r, int64_t n, int64_t d, sr_err *err) {
  memset(r, 0, sizeof *r);
  r->adv = sr_calloc((size_t)n * (size_t)d, sizeof(float));
  r->found = sr_calloc((size_t)n, sizeof(int));
  r->norm_sq_per_dim = sr_calloc((size_t)n, sizeof(double));
  r->queries = sr_calloc((size_t)n, sizeof(int64_t));
  r->init_queries = sr_calloc((size_t)n, sizeof(int64_t));
  r->steps_run = sr_calloc((size_t)n, sizeof(int64_t));
  if (!r->adv || !r->found || !r->norm_sq_per_dim || !r->queries || !r->init_queries || !r->steps_run) {
    sr_attack_result_free(r);
    return sr_fail(err, SR_ERR_NOMEM, "attack results for %lld images", (long long)n);
  }
  return SR_OK;
}

void sr_attack_result_free(sr_attack_result *r) {
  sr_free(r->adv);
  sr_free(r->found);
  sr_free(r->norm_sq_per_dim);
  sr_free(r->queries);
  sr_free(r->init_queries);
  sr_free(r->steps_run);
  sr_free(r->trace);
  sr_free(r->wb.gradients);
  memset(r, 0, sizeof *r);
}

// Scratch of one blended start: the images still searching are packed into q (m of k rows).
typedef struct blend {
  const sr_oracle *orc;
  int64_t k, d, first;
  float *noise, *q;  // (k, d)
  int64_t *idx, *rows;
  int *adv, *done;   // (k)
  int64_t *queries;  // (k) into the caller's counters
} blend;

static sr_status blend_ask(blend *b, int64_t m, sr_err *err) {
  for (int64_t j = 0; j < m; j++) b->rows[j] = b->first + b->idx[j];
  sr_status st = b->orc->decide(b->orc->ctx, b->q, b->rows, m, b->adv, err);
  for (int64_t j = 0; j < m && !st; j++) b->queries[b->idx[j]]++;
  return st;
}

// Uniform noise for every image without an adversarial draw, at most `draws` rounds.
static sr_status blend_draws(blend *b, int draws, sr_rng *rng, int *ok, sr_err *err) {
  sr_status st = SR_OK;
  for (int draw = 0; draw < draws && !st; draw++) {
    int64_t m = 0;
    for (int64_t i = 0; i < b->k; i++) {
      if (ok[i]) continue;
      b->idx[m] = i;
      float *q = b->q + m * b->d;
      float *noise = b->noise + i * b->d;
      for (int64_t p = 0; p < b->d; p++) {
        noise[p] = sr_rng_uniformf(&rng[i]);
        q[p] = noise[p];
      }
      m++;
    }
    if (!m) break;
    st = blend_ask(b, m, err);
    for (int64_t j = 0; j < m && !st; j++) ok[b->idx[j]] = b->adv[j];
  }
  return st;
}

// The first adversarial blend (1 - e) x + e noise on e = 0, 1/steps, ..., 1 (a linear search).
static sr_status blend_search(blend *b, const float *x, int steps, const int *ok, float *start, sr_err *err) {
  int64_t d = b->d;
  for (int64_t i = 0; i < b->k; i++) {
    b->done[i] = !ok[i];
    // e = 1 is the draw itself: kept if no blend is adversarial (only a non-deterministic model does that)
    if (ok[i]) memcpy(start + i * d, b->noise + i * d, (size_t)d * sizeof(float));
  }
  sr_status st = SR_OK;
  for (int s = 0; s <= steps && !st; s++) {
    float e = (float)((double)s / steps);
    int64_t m = 0;
    for (int64_t i = 0; i < b->k; i++) {
      if (b->done[i]) continue;
      b->idx[m] = i;
      float *q = b->q + m * d;
      const float *xi = x + i * d;
      const float *noise = b->noise + i * d;
      for (int64_t p = 0; p < d; p++) q[p] = (1 - e) * xi[p] + e * noise[p];
      m++;
    }
    if (!m) break;
    st = blend_ask(b, m, err);
    for (int64_t j = 0; j < m && !st; j++) {
      if (!b->adv[j]) continue;
      b->done[b->idx[j]] = 1;
      memcpy(start + b->idx[j] * d, b->q + j * d, (size_t)d * sizeof(float));
    }
  }
  return st;
}

sr_status sr_attack_init_blended(const sr_blend_start *s, sr_err *err) {
  int64_t k = s->k;
  size_t img = (size_t)k * (size_t)s->orc->d * sizeof(float);
  blend b = {.orc = s->orc, .k = k, .d = s->orc->d, .first = s->first, .queries = s->queries};
  b.noise = sr_alloc(img);
  b.q = sr_alloc(img);
  b.idx = sr_alloc((size_t)k * sizeof(int64_t));
  b.rows = sr_alloc((size_t)k * sizeof(int64_t));
  b.adv = sr_alloc((size_t)k * sizeof(int));
  b.done = sr_alloc((size_t)k * sizeof(int));
  sr_status st = SR_OK;
  if (!b.noise || !b.q || !b.idx || !b.rows || !b.adv || !b.done)
    st = sr_fail(err, SR_ERR_NOMEM, "attack start for %lld images", (long long)k);
  memset(s->ok, 0, (size_t)k * sizeof(int));
  if (!st) st = blend_draws(&b, s->draws, s->rng, s->ok, err);
  if (!st) st = blend_search(&b, s->x, s->steps, s->ok, s->start, err);
  sr_free(b.noise);
  sr_free(b.q);
  sr_free(b.idx);
  sr_free(b.rows);
  sr_free(b.adv);
  sr_free(b.done);
  return st;
}

static int in_unit_box(const float *a, int64_t d) {
  int inside = 1;
  for (int64_t p = 0; p < d; p++) inside &= a[p] >= 0 && a[p] <= 1;
  return inside;
}

// One reported adversarial: confirmed by the oracle, inside [0,1] and (ball given) inside the ball.
static int confirmed(const sr_attack_ball *ball, const float *a, const float *xi, int64_t d, int adv) {
  if (!adv || !in_unit_box(a, d)) return 0;
  if (!ball) return 1;
  double dn = ball->norm == SR_NORM_L2 ? sr_dist_l2(a, xi, d) : sr_dist_linf(a, xi, d);
  return dn <= ball->eps;
}

sr_status sr_attack_recheck(const sr_oracle *orc, const float *x, int64_t n, const sr_attack_ball *ball,
                            sr_attack_result *r, sr_err *err) {
  int64_t d = orc->d;
  int64_t *rows = sr_alloc((size_t)n * sizeof(int64_t));
  int *adv = sr_alloc((size_t)n * sizeof(int));
  sr_status st = SR_OK;
  if (!rows || !adv) st = sr_fail(err, SR_ERR_NOMEM, "re-check of %lld adversarials", (long long)n);
  for (int64_t i = 0; i < n && !st; i++) rows[i] = i;
  if (!st) st = orc->decide(orc->ctx, r->adv, rows, n, adv, err);
  for (int64_t i = 0; i < n && !st; i++) {
    r->norm_sq_per_dim[i] = NAN;
    if (!r->found[i]) continue;
    const float *a = r->adv + i * d;
    if (!confirmed(ball, a, x + i * d, d, adv[i])) {
      r->found[i] = 0;
      r->recheck_failed++;
      continue;
    }
    double dn = sr_dist_l2(a, x + i * d, d);
    r->norm_sq_per_dim[i] = dn * dn / (double)d;
  }
  sr_free(rows);
  sr_free(adv);
  return st;
}
