// HopSkipJump (Chen, Jordan, Wainwright 2020), untargeted, L2 or L-inf, against a decision oracle.
// Per iteration t (1-based) and image: a Monte-Carlo estimate of the boundary's normal at the current
// point from B_t = min(init_evals * sqrt(t), max_evals) queries at radius delta_t (baseline-subtracted, as
// the paper's Eq. 16), a geometric step-size search from dist / sqrt(t) (halve until adversarial), then a
// binary search back to the boundary between the original and the new point (threshold theta).
// Images are attacked in groups of the oracle's batch; the estimate's queries of all images of a group are
// packed into full batches. See docs/ATTACKS.md.
#include <math.h>
#include <string.h>

#include "attack/internal.h"

#define MAX_BSEARCH_ROUNDS 200  // never reached: rounds <= log2(range / theta) + 1 (about 30 for d = 3072)

sr_hsj_opts sr_hsj_opts_default(sr_norm norm) {
  return (sr_hsj_opts){.norm = norm,
                       .iterations = 64,
                       .init_evals = 100,
                       .max_evals = 10000,
                       .gamma = 1.0,
                       .max_halvings = 40,
                       .init_draws = 1000,
                       .init_search_steps = 50};
}

typedef struct hstate {
  const sr_oracle *orc;
  const sr_hsj_opts *o;
  int64_t d, k, first, qcap;
  double theta;
  const float *x;            // (k, d) originals
  float *cur, *best, *keep;  // (k, d) current boundary point, closest so far, step direction
  float *qbuf, *rv;          // (qcap, d) queries and the directions they probe
  int64_t *qrow, *rows;      // (qcap) local image of a query, its row for the oracle
  int *adv;                  // (qcap)
  double *s1, *s0;           // (k, d) sum f_b u_b and sum u_b of the estimate
  double *dist, *bestd, *lo, *hi, *eps, *delta;  // (k)
  int64_t *pos;                                  // (k) adversarial samples of the estimate
  int *ok, *pend;                                // (k)
  int64_t *queries;                              // (k) into the result
  int64_t zero_estimates;
  sr_rng *rng;  // (k)
} hstate;

static double hdist(const hstate *h, const float *a, const float *b) {
  return h->o->norm == SR_NORM_L2 ? sr_dist_l2(a, b, h->d) : sr_dist_linf(a, b, h->d);
}

// Ask the oracle about qbuf[0..m); every answer is one query of its image.
static sr_status ask(hstate *h, int64_t m, sr_err *err) {
  for (int64_t j = 0; j < m; j++) h->rows[j] = h->first + h->qrow[j];
  sr_status st = h->orc->decide(h->orc->ctx, h->qbuf, h->rows, m, h->adv, err);
  for (int64_t j = 0; j < m && !st; j++) h->queries[h->qrow[j]]++;
  return st;
}

// Point between x (alpha 0) and cur: L2 blends, L-inf clips cur to the box of radius alpha around x.
static void project(const hstate *h, int64_t i, double alpha, float *out) {
  const float *x = h->x + i * h->d, *c = h->cur + i * h->d;
  if (h->o->norm == SR_NORM_L2) {
    for (int64_t p = 0; p < h->d; p++) out[p] = (float)((1 - alpha) * x[p] + alpha * c[p]);
  } else {
    for (int64_t p = 0; p < h->d; p++) {
      double lo = x[p] - alpha, hi = x[p] + alpha, v = c[p];
      out[p] = (float)(v < lo ? lo : v > hi ? hi : v);
    }
  }
}

// Binary search between x and cur (adversarial) for the images with sel[i]; cur ends on the adversarial
// side within the paper's threshold: theta (L2, on the blend factor), min(theta * dist, theta) (L-inf).
static sr_status bsearch(hstate *h, const int *sel, sr_err *err) {
  int l2 = h->o->norm == SR_NORM_L2;
  double *thr = h->eps;  // scratch
  for (int64_t i = 0; i < h->k; i++) {
    if (!sel[i]) continue;
    h->lo[i] = 0;
    h->hi[i] = l2 ? 1 : sr_dist_linf(h->cur + i * h->d, h->x + i * h->d, h->d);
    thr[i] = l2 ? h->theta : fmin(h->hi[i] * h->theta, h->theta);
  }
  sr_status st = SR_OK;
  for (int round = 0; round < MAX_BSEARCH_ROUNDS && !st; round++) {
    int64_t m = 0;
    for (int64_t i = 0; i < h->k; i++) {
      if (!sel[i] || !(h->hi[i] - h->lo[i] > thr[i])) continue;
      if (m == h->qcap) break;  // k <= qcap: cannot happen
      h->qrow[m] = i;
      project(h, i, (h->lo[i] + h->hi[i]) / 2, h->qbuf + m * h->d);
      m++;
    }
    if (!m) break;
    if ((st = ask(h, m, err))) break;
    for (int64_t j = 0; j < m; j++) {
      int64_t i = h->qrow[j];
      double mid = (h->lo[i] + h->hi[i]) / 2;
      if (h->adv[j])
        h->hi[i] = mid;
      else
        h->lo[i] = mid;
    }
  }
  for (int64_t i = 0; i < h->k && !st; i++) {
    if (!sel[i]) continue;
    // the queried point at hi (same arithmetic, same floats) was adversarial; hi unchanged = cur itself
    float *tmp = h->qbuf;
    project(h, i, h->hi[i], tmp);
    memcpy(h->cur + i * h->d, tmp, (size_t)h->d * sizeof(float));
    h->dist[i] = hdist(h, h->cur + i * h->d, h->x + i * h->d);
    if (h->dist[i] < h->bestd[i]) {
      h->bestd[i] = h->dist[i];
      memcpy(h->best + i * h->d, h->cur + i * h->d, (size_t)h->d * sizeof(float));
    }
  }
  return st;
}

// The shared blended-noise start (as the Boundary attack's), then the binary search to the boundary.
static sr_status init_point(hstate *h, sr_err *err) {
  sr_blend_start bs = {.orc = h->orc,
                       .x = h->x,
                       .k = h->k,
                       .first = h->first,
                       .draws = h->o->init_draws,
                       .steps = h->o->init_search_steps,
                       .rng = h->rng,
                       .start = h->cur,
                       .ok = h->ok,
                       .queries = h->queries};
  sr_status st = sr_attack_init_blended(&bs, err);
  for (int64_t i = 0; i < h->k; i++) h->bestd[i] = INFINITY;
  return st ? st : bsearch(h, h->ok, err);
}

// A unit direction for image i: Gaussian (L2) or uniform in [-1,1]^d (L-inf), normalised.
static void direction(hstate *h, int64_t i, float *u) {
  double nn = 0;
  if (h->o->norm == SR_NORM_L2)
    sr_attack_normals(&h->rng[i], u, h->d);
  else
    for (int64_t p = 0; p < h->d; p++) u[p] = (float)(2 * sr_rng_uniform(&h->rng[i]) - 1);
  for (int64_t p = 0; p < h->d; p++) nn += (double)u[p] * u[p];
  float f = nn > 0 ? (float)(1 / sqrt(nn)) : 0;
  for (int64_t p = 0; p < h->d; p++) u[p] *= f;
}

// Estimate the boundary normal of every image with sel[i] from b samples each; on return s1 holds the
// unit estimate and sel[i] is cleared where it is zero (all samples on one side) or unusable.
static sr_status estimate(hstate *h, int *sel, int64_t b, sr_err *err) {
  int64_t d = h->d, nsel = 0;
  for (int64_t i = 0; i < h->k; i++) {
    if (!sel[i]) continue;
    memset(h->s1 + i * d, 0, (size_t)d * sizeof(double));
    memset(h->s0 + i * d, 0, (size_t)d * sizeof(double));
    h->pos[i] = 0;
    nsel++;
  }
  // walk (image, sample) pairs image-major, qcap at a time: each image draws from its own RNG in order
  int64_t img = -1, left = 0, total = nsel * b;
  sr_status st = SR_OK;
  for (int64_t e0 = 0; e0 < total && !st; e0 += h->qcap) {
    int64_t m = total - e0 < h->qcap ? total - e0 : h->qcap;
    for (int64_t j = 0; j < m; j++) {
      if (!left) {
        do img++;
        while (!sel[img]);
        left = b;
      }
      left--;
      h->qrow[j] = img;
      float *u = h->rv + j * d, *q = h->qbuf + j * d;
      const float *c = h->cur + img * d;
      float dl = (float)h->delta[img];
      direction(h, img, u);
      for (int64_t p = 0; p < d; p++) {
        q[p] = sr_clip01f((double)c[p] + (double)dl * u[p]);
        u[p] = (q[p] - c[p]) / dl;  // the direction actually probed (clipping shortens it)
      }
    }
    if ((st = ask(h, m, err))) break;
    for (int64_t j = 0; j < m; j++) {
      int64_t i = h->qrow[j];
      double f = h->adv[j] ? 1 : -1, *s1 = h->s1 + i * d, *s0 = h->s0 + i * d;
      const float *u = h->rv + j * d;
      for (int64_t p = 0; p < d; p++) {
        s1[p] += f * u[p];
        s0[p] += u[p];
      }
      h->pos[i] += h->adv[j];
    }
  }
  for (int64_t i = 0; i < h->k && !st; i++) {
    if (!sel[i]) continue;
    if (h->pos[i] == 0 || h->pos[i] == b) {  // baseline-subtracted estimate is exactly zero
      sel[i] = 0;
      h->zero_estimates++;
      continue;
    }
    double mean = 2.0 * (double)h->pos[i] / (double)b - 1, nn = 0, *s1 = h->s1 + i * d, *s0 = h->s0 + i * d;
    for (int64_t p = 0; p < d; p++) {
      s1[p] -= mean * s0[p];
      nn += s1[p] * s1[p];
    }
    if (!(nn > 0) || !isfinite(nn)) {
      sel[i] = 0;
      h->zero_estimates++;
      continue;
    }
    double f = 1 / sqrt(nn);
    for (int64_t p = 0; p < d; p++) s1[p] *= f;
  }
  return st;
}

// Geometric step-size search along the estimate (sign of it for L-inf) from dist / sqrt(t), halving until
// the point is adversarial; sel[i] is cleared where no step was found within max_halvings.
static sr_status step(hstate *h, int *sel, int t, sr_err *err) {
  int64_t d = h->d;
  for (int64_t i = 0; i < h->k; i++) {
    if (!sel[i]) continue;
    h->eps[i] = h->dist[i] / sqrt((double)t);
    float *u = h->keep + i * d;
    const double *g = h->s1 + i * d;
    for (int64_t p = 0; p < d; p++)
      u[p] = h->o->norm == SR_NORM_L2 ? (float)g[p] : g[p] > 0 ? 1.0f : g[p] < 0 ? -1.0f : 0.0f;
  }
  sr_status st = SR_OK;
  for (int r = 0; r < h->o->max_halvings && !st; r++) {
    int64_t m = 0;
    for (int64_t i = 0; i < h->k; i++) {
      if (!sel[i] || !h->pend[i]) continue;
      h->qrow[m] = i;
      float *q = h->qbuf + m * d;
      const float *c = h->cur + i * d, *u = h->keep + i * d;
      for (int64_t p = 0; p < d; p++) q[p] = sr_clip01f((double)c[p] + h->eps[i] * u[p]);
      m++;
    }
    if (!m) break;
    if ((st = ask(h, m, err))) break;
    for (int64_t j = 0; j < m; j++) {
      int64_t i = h->qrow[j];
      if (h->adv[j]) {
        memcpy(h->cur + i * d, h->qbuf + j * d, (size_t)d * sizeof(float));
        h->pend[i] = 0;
      } else
        h->eps[i] /= 2;
    }
  }
  for (int64_t i = 0; i < h->k; i++)
    if (sel[i] && h->pend[i]) sel[i] = 0;  // gave up: keep the current point
  return st;
}

static sr_status run_group(hstate *h, int64_t *init_q, int64_t *iters, sr_tracer *tr, sr_err *err) {
  const sr_hsj_opts *o = h->o;
  int *sel = h->pend + h->k;  // second half of pend
  sr_status st = init_point(h, err);
  for (int64_t i = 0; i < h->k; i++) init_q[i] = h->queries[i];
  for (int64_t i = 0; i < h->k && !st; i++) h->delta[i] = 0.1;  // t = 1: a tenth of the pixel range
  if (!st) sr_trace_record(tr, 0, h->bestd);
  for (int t = 1; t <= o->iterations && !st; t++) {
    int64_t b = (int64_t)((double)o->init_evals * sqrt((double)t));
    if (b > o->max_evals) b = o->max_evals;
    if (b < 2) b = 2;
    int any = 0;
    for (int64_t i = 0; i < h->k; i++) {
      sel[i] = h->ok[i] && h->dist[i] > 0 && h->delta[i] > 0;
      any |= h->ok[i];
    }
    if (!any) break;
    if ((st = estimate(h, sel, b, err))) break;
    for (int64_t i = 0; i < h->k; i++) h->pend[i] = sel[i];
    if ((st = step(h, sel, t, err))) break;
    if ((st = bsearch(h, sel, err))) break;
    for (int64_t i = 0; i < h->k; i++) {
      if (!h->ok[i]) continue;
      iters[i] = t;
      // the next estimate's radius scales with the distance to the original (paper, Theorem 2)
      double dd = (double)h->d;
      h->delta[i] = o->norm == SR_NORM_L2 ? sqrt(dd) * h->theta * h->dist[i] : dd * h->theta * h->dist[i];
    }
    sr_trace_record(tr, t, h->bestd);
    if (o->on_iter) o->on_iter(o->ctx, t, h->first, h->k, h->bestd);
  }
  if (!st) sr_trace_finish(tr, h->bestd);
  return st;
}

static void free_state(hstate *h) {
  SR_FREE_ALL(h->cur, h->best, h->keep, h->qbuf, h->rv, h->qrow, h->rows, h->adv, h->s1, h->s0, h->dist,
              h->bestd, h->lo, h->hi, h->eps, h->delta, h->pos, h->ok, h->pend, h->rng);
}

static sr_status alloc_state(hstate *h, int64_t g, sr_err *err) {
  size_t d = (size_t)h->d, fg = (size_t)g * d * sizeof(float), dg = (size_t)g * d * sizeof(double);
  size_t fq = (size_t)h->qcap * d * sizeof(float), vg = (size_t)g * sizeof(double);
  h->cur = sr_alloc(fg);
  h->best = sr_alloc(fg);
  h->keep = sr_alloc(fg);
  h->qbuf = sr_alloc(fq);
  h->rv = sr_alloc(fq);
  h->qrow = sr_alloc((size_t)h->qcap * sizeof(int64_t));
  h->rows = sr_alloc((size_t)h->qcap * sizeof(int64_t));
  h->adv = sr_alloc((size_t)h->qcap * sizeof(int));
  h->s1 = sr_alloc(dg);
  h->s0 = sr_alloc(dg);
  h->dist = sr_alloc(vg);
  h->bestd = sr_alloc(vg);
  h->lo = sr_alloc(vg);
  h->hi = sr_alloc(vg);
  h->eps = sr_alloc(vg);
  h->delta = sr_alloc(vg);
  h->pos = sr_alloc((size_t)g * sizeof(int64_t));
  h->ok = sr_alloc((size_t)g * sizeof(int));
  h->pend = sr_alloc(2 * (size_t)g * sizeof(int));
  h->rng = sr_alloc((size_t)g * sizeof(sr_rng));
  if (!h->cur || !h->best || !h->keep || !h->qbuf || !h->rv || !h->qrow || !h->rows || !h->adv || !h->s1 ||
      !h->s0 || !h->dist || !h->bestd || !h->lo || !h->hi || !h->eps || !h->delta || !h->pos || !h->ok ||
      !h->pend || !h->rng)
    return sr_fail(err, SR_ERR_NOMEM, "HopSkipJump buffers for %lld images of %lld values", (long long)g,
                   (long long)h->d);
  return SR_OK;
}

sr_status sr_hsj_oracle(const sr_oracle *orc, const float *x, int64_t n, const sr_hsj_opts *o, uint64_t seed,
                        sr_attack_result *r, sr_err *err) {
  if (n < 1 || orc->d < 1 || orc->batch < 1 || (o->norm != SR_NORM_L2 && o->norm != SR_NORM_LINF) ||
      o->iterations < 0 || o->init_evals < 1 || o->max_evals < o->init_evals || !(o->gamma > 0) ||
      o->max_halvings < 1 || o->init_draws < 1 || o->init_search_steps < 1)
    return sr_fail(err, SR_ERR_ARG,
                   "HopSkipJump: bad settings (images %lld, iterations %d, evals %d..%d, gamma %g)",
                   (long long)n, o->iterations, o->init_evals, o->max_evals, o->gamma);
  int64_t d = orc->d, g = orc->batch < n ? orc->batch : n;
  sr_status st = sr_attack_result_alloc(r, n, d, err);
  if (!st) st = sr_trace_alloc(r, n, o->iterations, err);
  if (st) {
    sr_attack_result_free(r);
    return st;
  }
  double dd = (double)d;
  hstate h = {.orc = orc,
              .o = o,
              .d = d,
              .qcap = orc->batch,  // estimate probes fill whole batches
              .theta = o->norm == SR_NORM_L2 ? o->gamma / (dd * sqrt(dd)) : o->gamma / (dd * dd)};
  st = alloc_state(&h, g, err);
  for (int64_t i0 = 0; i0 < n && !st; i0 += g) {
    h.k = n - i0 < g ? n - i0 : g;
    h.first = i0;
    h.x = x + i0 * d;
    h.queries = r->queries + i0;
    for (int64_t i = 0; i < h.k; i++) sr_rng_seed(&h.rng[i], seed, (uint64_t)(o->first_index + i0 + i));
    sr_tracer tr = {.r = r, .first = i0, .k = h.k, .d = d, .l2 = o->norm == SR_NORM_L2};
    st = run_group(&h, r->init_queries + i0, r->steps_run + i0, &tr, err);
    for (int64_t i = 0; i < h.k && !st; i++) {
      int64_t gi = i0 + i;
      r->found[gi] = h.ok[i];
      r->init_failed += !h.ok[i];
      memcpy(r->adv + gi * d, h.ok[i] ? h.best + i * d : h.x + i * d, (size_t)d * sizeof(float));
    }
  }
  r->hsj.zero_estimates = h.zero_estimates;
  if (!st) st = sr_attack_recheck(orc, x, n, NULL, r, err);
  free_state(&h);
  if (st) sr_attack_result_free(r);
  return st;
}
