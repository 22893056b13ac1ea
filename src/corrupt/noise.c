// Noise corruptions: additive Gaussian, Poisson (shot) and salt-and-pepper (impulse).
#include <math.h>

#include "internal.h"

static const float GAUSS_SIGMA[5] = {.04f, .06f, .08f, .09f, .10f};
static const double SHOT_LAMBDA[5] = {500, 250, 100, 75, 50};
static const double IMPULSE_AMOUNT[5] = {.01, .02, .03, .05, .07};

sr_status sr_cor_gaussian_noise(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)err;
  sr_fill_normal(rng, ws->y, ws->n, 0.f, GAUSS_SIGMA[severity - 1]);
  for (size_t i = 0; i < ws->n; i++) ws->y[i] += ws->x[i];
  return SR_OK;
}

// log(k!) : exact sum below 16, Stirling series above (error < 1e-12 there).
static double log_factorial(int64_t k) {
  if (k < 16) {
    double s = 0;
    for (int64_t i = 2; i <= k; i++) s += log((double)i);
    return s;
  }
  double n = (double)k + 1.0;  // log Gamma(n)
  double in = 1.0 / n, in2 = in * in;
  return (n - 0.5) * log(n) - n + 0.5 * log(2 * M_PI) + in * (1.0 / 12 - in2 * (1.0 / 360 - in2 / 1260));
}

// Poisson(lam) draws: inversion by sequential search for small means, Hoermann's PTRS transformed
// rejection (1993) for lam >= 10 -- both exact. Shot noise has one mean per 8-bit level, so the
// constants of each level are computed once per severity and cached in the workspace.
typedef struct {
  double lam, loglam, b, a, vr, log_inv_alpha, exp_neg;
  double pad;
} ptrs_t;

static void ptrs_init(ptrs_t *p, double lam) {
  p->lam = lam;
  p->exp_neg = exp(-lam);
  if (lam < 10) return;
  p->loglam = log(lam);
  p->b = 0.931 + 2.53 * sqrt(lam);
  p->a = -0.059 + 0.02483 * p->b;
  p->log_inv_alpha = log(1.1239 + 1.1328 / (p->b - 3.4));
  p->vr = 0.9277 - 3.6224 / (p->b - 2);
}

static int64_t poisson(sr_rng *rng, const ptrs_t *p) {
  double lam = p->lam;
  if (lam <= 0) return 0;
  if (lam < 10) {
    double q = p->exp_neg, cdf = q, u = sr_rng_uniform(rng);
    int64_t k = 0;
    while (u > cdf && k < 1000) {
      k++;
      q *= lam / (double)k;
      cdf += q;
    }
    return k;
  }
  for (;;) {
    double u = sr_rng_uniform(rng) - 0.5, v = sr_rng_uniform(rng);
    double us = 0.5 - fabs(u);
    double kf = floor((2 * p->a / us + p->b) * u + lam + 0.43);
    if (us >= 0.07 && v <= p->vr) return (int64_t)kf;
    if (kf < 0 || (us < 0.013 && v > us)) continue;
    int64_t k = (int64_t)kf;
    if (log(v) + p->log_inv_alpha - log(p->a / (us * us) + p->b) <=
        -lam + (double)k * p->loglam - log_factorial(k))
      return k;
  }
}

sr_status sr_cor_shot_noise(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)err;
  double lam = SHOT_LAMBDA[severity - 1];
  ptrs_t *tab = (ptrs_t *)ws->dtab;  // 256 levels x 8 doubles
  int key = 1000 + severity;
  if (ws->dtab_key != key) {
    for (int v = 0; v < 256; v++) ptrs_init(&tab[v], (double)((float)v * (1.f / 255.f)) * lam);
    ws->dtab_key = key;
  }
  for (size_t i = 0; i < ws->n; i++) ws->y[i] = (float)((double)poisson(rng, &tab[ws->in[i]]) / lam);
  return SR_OK;
}

// Each value independently becomes 0 or 1 (even odds) with probability `amount`, as
// skimage.util.random_noise(mode='s&p') does per array element (channels independently).
sr_status sr_cor_impulse_noise(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)err;
  uint64_t thresh = (uint64_t)(IMPULSE_AMOUNT[severity - 1] * 0x1p53);
  for (size_t i = 0; i < ws->n; i++) {
    uint64_t r = sr_rng_u64(rng);
    ws->y[i] = (r >> 11) < thresh ? (float)(r & 1) : ws->x[i];
  }
  return SR_OK;
}
