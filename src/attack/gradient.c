// FGSM and PGD (L-inf and L2) from the input gradient of the cross-entropy, white-box or transferred.
#include <math.h>
#include <string.h>

#include "simreg/attack.h"

sr_pgd_opts sr_fgsm_opts(sr_norm norm, double eps) {
  return (sr_pgd_opts){.norm = norm, .eps = eps, .steps = 1, .step = eps, .random_start = 0};
}

sr_pgd_opts sr_pgd_opts_default(sr_norm norm, double eps) {
  int steps = norm == SR_NORM_LINF ? 40 : 50;
  return (sr_pgd_opts){
      .norm = norm, .eps = eps, .steps = steps, .step = 2.5 * eps / steps, .random_start = 1};
}

static double l2(const float *v, int64_t d) {
  double s = 0;
  for (int64_t i = 0; i < d; i++) s += (double)v[i] * v[i];
  return sqrt(s);
}

// Project delta onto the eps ball, then make x + delta fall inside [0,1] (clipping only shrinks |delta_i|,
// so the result stays in the ball). delta is rewritten as the exact difference actually applied.
static void project(const sr_pgd_opts *o, const float *x, float *delta, float *adv, int64_t d) {
  float e = (float)o->eps;
  if (o->norm == SR_NORM_LINF) {
    for (int64_t i = 0; i < d; i++) delta[i] = delta[i] > e ? e : delta[i] < -e ? -e : delta[i];
  } else {
    double nrm = l2(delta, d);
    if (nrm > o->eps) {
      float f = (float)(o->eps / nrm);
      for (int64_t i = 0; i < d; i++) delta[i] *= f;
    }
  }
  for (int64_t i = 0; i < d; i++) {
    float a = x[i] + delta[i];
    a = a < 0 ? 0 : a > 1 ? 1 : a;
    // guard the rounding of x + delta: never step past the ball (L-inf) by an ulp
    if (o->norm == SR_NORM_LINF)
      while (fabs((double)a - x[i]) > (double)e) a = nextafterf(a, x[i]);
    adv[i] = a;
    delta[i] = a - x[i];
  }
}

static void random_start(const sr_pgd_opts *o, float *delta, int64_t d, sr_rng *rng) {
  if (o->norm == SR_NORM_LINF) {
    for (int64_t i = 0; i < d; i++) delta[i] = (float)(o->eps * (2 * sr_rng_uniform(rng) - 1));
    return;
  }
  // uniform in the L2 ball: Gaussian direction, radius eps * u^(1/d)
  for (int64_t i = 0; i < d; i++) delta[i] = (float)sr_rng_normal(rng);
  double nrm = l2(delta, d), r = o->eps * pow(sr_rng_uniform(rng), 1.0 / (double)d);
  for (int64_t i = 0; i < d; i++) delta[i] = nrm > 0 ? (float)(delta[i] * r / nrm) : 0;
}

static void ascend(const sr_pgd_opts *o, const float *g, float *delta, int64_t d) {
  if (o->norm == SR_NORM_LINF) {
    float s = (float)o->step;
    for (int64_t i = 0; i < d; i++) delta[i] += g[i] > 0 ? s : g[i] < 0 ? -s : 0;
    return;
  }
  double nrm = l2(g, d);
  if (nrm == 0) return;  // no direction to follow
  float f = (float)(o->step / nrm);
  for (int64_t i = 0; i < d; i++) delta[i] += g[i] * f;
}

sr_status sr_pgd(sr_amodel *am, const sr_labeled *in, const sr_pgd_opts *o, uint64_t seed, float *adv,
                 int64_t *counts, sr_err *err) {
  const float *x = in->x;
  const int32_t *y = in->y;
  int64_t n = in->n;
  if (o->norm != SR_NORM_LINF && o->norm != SR_NORM_L2)
    return sr_fail(err, SR_ERR_ARG, "norm must be linf or l2");
  if (!(o->eps >= 0) || o->steps < 1 || !(o->step >= 0))
    return sr_fail(err, SR_ERR_ARG, "pgd: eps %g, steps %d, step %g are not usable", o->eps, o->steps,
                   o->step);
  int64_t d = am->d;
  size_t bytes = (size_t)n * (size_t)d * sizeof(float);
  float *delta = sr_alloc(bytes), *g = sr_alloc(bytes);
  if (!delta || !g) {
    sr_free(delta);
    sr_free(g);
    return sr_fail(err, SR_ERR_NOMEM, "pgd buffers for %lld images", (long long)n);
  }
  memset(delta, 0, bytes);
  for (int64_t i = 0; i < n; i++) {
    if (o->random_start) {
      sr_rng rng;
      sr_rng_seed(&rng, seed, (uint64_t)(o->first_index + i));
      random_start(o, delta + i * d, d, &rng);
    }
    project(o, x + i * d, delta + i * d, adv + i * d, d);
  }
  sr_status st = SR_OK;
  for (int s = 0; s < o->steps && !st; s++) {
    st = sr_amodel_grad_ce(am, &(sr_labeled){.x = adv, .y = y, .n = n},
                           &(sr_grad_out){.g = g, .counts = counts}, err);
    for (int64_t i = 0; i < n && !st; i++) {
      ascend(o, g + i * d, delta + i * d, d);
      project(o, x + i * d, delta + i * d, adv + i * d, d);
    }
  }
  sr_free(delta);
  sr_free(g);
  return st;
}

static int64_t out_of_bounds(const sr_pgd_opts *o, const float *x, const float *adv, int64_t n, int64_t d) {
  int64_t bad = 0;
  for (int64_t i = 0; i < n; i++) {
    double s = 0, mx = 0;
    int box = 1;
    for (int64_t j = 0; j < d; j++) {
      float a = adv[i * d + j];
      double dd = fabs((double)a - x[i * d + j]);
      box &= a >= 0 && a <= 1;
      s += dd * dd;
      mx = dd > mx ? dd : mx;
    }
    double nrm = o->norm == SR_NORM_LINF ? mx : sqrt(s);
    bad += !box || nrm > o->eps * (1 + 1e-6);  // L2 norm is summed in float steps: allow its rounding
  }
  return bad;
}

sr_status sr_gradient_sweep(sr_amodel *source, sr_amodel *target, const sr_labeled *im,
                            const sr_eps_sweep *sw, sr_eps_curve *out, uint8_t *per_image, sr_err *err) {
  const float *x = im->x;
  const int32_t *y = im->y;
  const int64_t n = im->n;
  const sr_pgd_opts *base = sw->base;
  const double *eps = sw->eps;
  const int n_eps = sw->n_eps;
  const uint64_t seed = sw->seed;
  if (source->d != target->d)
    return sr_fail(err, SR_ERR_SHAPE, "source and target models take different images");
  size_t bytes = (size_t)n * (size_t)source->d * sizeof(float);
  float *adv = sr_alloc(bytes);
  int32_t *pred = sr_alloc((size_t)n * sizeof(int32_t));
  if (!adv || !pred) {
    sr_free(adv);
    sr_free(pred);
    return sr_fail(err, SR_ERR_NOMEM, "attack buffers for %lld images", (long long)n);
  }
  sr_status st = SR_OK;
  for (int l = 0; l < n_eps && !st; l++) {
    sr_pgd_opts o = *base;
    o.eps = eps[l];
    // step sizes scale with eps: FGSM's step is eps, PGD keeps base->step / base->eps
    o.step = base->eps > 0 ? base->step * eps[l] / base->eps : eps[l];
    if (eps[l] == 0) {
      memcpy(adv, x, bytes);
    } else {
      st = sr_pgd(source, &(sr_labeled){.x = x, .y = y, .n = n}, &o, seed, adv, NULL, err);
    }
    if (!st) st = sr_amodel_predict(target, adv, n, pred, NULL, err);
    if (st) break;
    int64_t correct = 0;
    for (int64_t i = 0; i < n; i++) {
      correct += pred[i] == y[i];
      if (per_image) per_image[(size_t)i * (size_t)n_eps + (size_t)l] = pred[i] == y[i];
    }
    out[l].acc = (double)correct / (double)n;
    out[l].correct = correct;
    out[l].out_of_bounds = out_of_bounds(&o, x, adv, n, source->d);
  }
  sr_free(adv);
  sr_free(pred);
  return st;
}
