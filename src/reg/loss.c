// The regularization loss: centred cosine similarities per layer, softmax-weighted over layers, compared
// with the target through g(x) = ln(1+x+eps) - ln(1-x+eps) (or plainly), with exact gradients.
#include <math.h>
#include <string.h>

#include "internal.h"

double sr_reg_g(double x) { return log(1 + x + SR_REG_G_EPS) - log(1 - x + SR_REG_G_EPS); }
double sr_reg_dg(double x) { return 1 / (1 + x + SR_REG_G_EPS) + 1 / (1 - x + SR_REG_G_EPS); }

static sr_status ensure_scratch(sr_reg_state *s, int k, sr_err *err) {
  if (k <= s->k_cap) return SR_OK;
  int cmax = 1;
  for (int l = 0; l < s->n_layers; l++) cmax = s->channels[l] > cmax ? s->channels[l] : cmax;
  sr_free(s->s_layer);
  sr_free(s->norm);
  sr_free(s->bmean);
  s->s_layer = sr_alloc(sizeof(double) * (size_t)k * (size_t)s->n_layers);
  s->norm = sr_alloc(sizeof(double) * (size_t)k * (size_t)s->n_layers * 2);
  s->bmean = sr_alloc(sizeof(double) * (size_t)cmax);
  s->k_cap = s->s_layer && s->norm && s->bmean ? k : 0;
  return s->k_cap ? SR_OK
                  : sr_fail(err, SR_ERR_NOMEM, "out of memory for the regularizer scratch (k = %d)", k);
}

// Per-channel sums over both halves of k pairs, layer after layer. a, b: (k, C, HW).
// Below this many feature values per call the loops stay on one thread (a parallel region costs more).
#define SR_REG_PAR_MIN 32768

// Feature values of k pairs over all layers (both halves).
static int64_t pair_values(const sr_reg_state *s, int k) {
  int64_t n = 0;
  for (int l = 0; l < s->n_layers; l++) n += 2 * (int64_t)k * s->chw[l];
  return n;
}

// One channel's sum over both halves of k pairs, in the fixed order pairs, then pixels.
static double channel_sum(const float *a, const float *b, int k, int C, int c, int64_t hw) {
  double sum = 0;
  for (int p = 0; p < k; p++) {
    const float *x = a + ((size_t)p * (size_t)C + (size_t)c) * (size_t)hw,
                *y = b + ((size_t)p * (size_t)C + (size_t)c) * (size_t)hw;
    for (int64_t q = 0; q < hw; q++) sum += (double)x[q] + (double)y[q];
  }
  return sum;
}

void sr_reg_channel_sums(const sr_reg_state *s, float *const *feats_a, float *const *feats_b, int k,
                         double *sums) {
  // Channels are independent (each summed in its own fixed order): the threads split them, the result does
  // not depend on how.
  int64_t first[SR_MAX_FEATURES + 1] = {0};
  for (int l = 0; l < s->n_layers; l++) first[l + 1] = first[l] + s->channels[l];
  const int64_t nc = first[s->n_layers];
#pragma omp parallel for schedule(dynamic, 4) if (pair_values(s, k) > SR_REG_PAR_MIN)
  for (int64_t t = 0; t < nc; t++) {
    int l = 0;
    while (t >= first[l + 1]) l++;
    sums[t] = channel_sum(feats_a[l], feats_b[l], k, s->channels[l], (int)(t - first[l]), s->hw[l]);
  }
}

int64_t sr_reg_channel_count(const sr_reg_state *s) {
  int64_t n = 0;
  for (int l = 0; l < s->n_layers; l++) n += s->channels[l];
  return n;
}

// mu = beta mu + (1 - beta) * per-channel mean over both halves of k pairs, from their channel sums.
static void update_mean(sr_reg_state *s, int l, const double *sums, int k) {
  const int C = s->channels[l];
  for (int c = 0; c < C; c++) s->bmean[c] = sums[c] / (2.0 * k * (double)s->hw[l]);
  for (int c = 0; c < C; c++)
    s->run_mean[l][c] = (float)(s->beta * s->run_mean[l][c] + (1 - s->beta) * s->bmean[c]);
}

// Cosine of the centred vectors of pair p in layer l; stores |u|, |v| in nrm[0..1].
static double centred_cos(const sr_reg_state *s, int l, const float *a, const float *b, double *nrm) {
  const int C = s->channels[l];
  const int64_t hw = s->hw[l];
  double uu = 0, vv = 0, uv = 0;
  for (int c = 0; c < C; c++) {
    const double mu = s->run_mean[l][c];
    const float *x = a + (size_t)c * (size_t)hw, *y = b + (size_t)c * (size_t)hw;
    for (int64_t q = 0; q < hw; q++) {
      double u = x[q] - mu, v = y[q] - mu;
      uu += u * u;
      vv += v * v;
      uv += u * v;
    }
  }
  nrm[0] = sqrt(uu);
  nrm[1] = sqrt(vv);
  return uv / fmax(nrm[0] * nrm[1], SR_REG_COS_EPS);
}

// One pair's features at one layer and their forward results: the cosine cs and the norms nrm[2].
typedef struct {
  const float *a, *b;
  double cs;
  const double *nrm;
} cos_pair;

// ga = c * ds/du, gb = c * ds/dv for s = u.v / max(|u||v|, eps) (mu constant).
static void cos_backward(const sr_reg_state *s, int l, const cos_pair *pr, double coef, float *ga,
                         float *gb) {
  const float *a = pr->a, *b = pr->b;
  const double cs = pr->cs, *nrm = pr->nrm;
  const int C = s->channels[l];
  const int64_t hw = s->hw[l];
  const double den = nrm[0] * nrm[1];
  const int clamped = !(den >= SR_REG_COS_EPS);
  const double inv = coef / (clamped ? SR_REG_COS_EPS : den);
  const double su = clamped ? 0 : coef * cs / (nrm[0] * nrm[0]),
               sv = clamped ? 0 : coef * cs / (nrm[1] * nrm[1]);
  for (int c = 0; c < C; c++) {
    const double mu = s->run_mean[l][c];
    const size_t o = (size_t)c * (size_t)hw;
    for (int64_t q = 0; q < hw; q++) {
      double u = a[o + q] - mu, v = b[o + q] - mu;
      ga[o + q] = (float)(inv * v - su * u);
      gb[o + q] = (float)(inv * u - sv * v);
    }
  }
}

// Whether x[0..n) are all finite: 0 * x is NaN exactly when x is Inf or NaN, so one vectorised sum tells.
static int all_finite(const float *x, int64_t n) {
  float acc = 0;
#pragma omp parallel for simd reduction(+ : acc) schedule(static) if (n > 65536)
  for (int64_t q = 0; q < n; q++) acc += 0.0f * x[q];
  return acc == 0.0f;
}

static sr_status check_inputs(const sr_reg_state *s, float *const *fa, float *const *fb, int k, sr_err *err) {
  if (k < 1) return sr_fail(err, SR_ERR_ARG, "regularization batch of %d pairs", k);
  for (int l = 0; l < s->n_layers; l++) {
    int64_t n = (int64_t)k * s->chw[l];
    if (!all_finite(fa[l], n) || !all_finite(fb[l], n))
      return sr_fail(err, SR_ERR_NUMERIC, "regularized feature layer %d has a non-finite activation", l);
  }
  return SR_OK;
}

// Per-layer cosines into s->s_layer (k, L) and the weighted sum into S (k).
static void similarities(sr_reg_state *s, float *const *fa, float *const *fb, int k, double *S) {
  double gamma[SR_MAX_FEATURES];
  sr_reg_gamma(s, gamma);
  const int L = s->n_layers;
  // (pair, layer) cosines are independent: the threads split them; S sums them in layer order after.
#pragma omp parallel for schedule(dynamic, 1) if (pair_values(s, k) > SR_REG_PAR_MIN)
  for (int t = 0; t < k * L; t++) {
    const int p = t / L, l = t % L;
    size_t off = (size_t)p * (size_t)s->chw[l];
    s->s_layer[t] = centred_cos(s, l, fa[l] + off, fb[l] + off, &s->norm[(size_t)t * 2]);
  }
  for (int p = 0; p < k; p++) {
    S[p] = 0;
    for (int l = 0; l < L; l++) S[p] += gamma[l] * s->s_layer[(size_t)p * L + l];
  }
}

sr_status sr_reg_similarity(sr_reg_state *s, float *const *feats_a, float *const *feats_b, int k,
                            float *s_cnn, sr_err *err) {
  sr_status st = check_inputs(s, feats_a, feats_b, k, err);
  if (!st) st = ensure_scratch(s, k, err);
  if (st) return st;
  double S[64];
  for (int p0 = 0; p0 < k; p0 += 64) {  // in chunks so any k works without allocation
    int kk = k - p0 < 64 ? k - p0 : 64;
    float *a[SR_MAX_FEATURES], *b[SR_MAX_FEATURES];
    for (int l = 0; l < s->n_layers; l++) {
      a[l] = feats_a[l] + (size_t)p0 * (size_t)s->chw[l];
      b[l] = feats_b[l] + (size_t)p0 * (size_t)s->chw[l];
    }
    similarities(s, a, b, kk, S);
    for (int p = 0; p < kk; p++) s_cnn[p0 + p] = (float)S[p];
  }
  return SR_OK;
}

sr_status sr_reg_loss(sr_reg_state *s, const sr_reg_step *step, sr_err *err) {
  int64_t nc = sr_reg_channel_count(s);
  double *sums = sr_alloc(sizeof(double) * (size_t)nc);
  if (!sums) return sr_fail(err, SR_ERR_NOMEM, "out of memory for the regularizer's channel sums");
  sr_reg_channel_sums(s, step->feats_a, step->feats_b, step->k, sums);
  sr_status st = sr_reg_loss_shard(s, step, step->k, sums, err);
  sr_free(sums);
  return st;
}

sr_status sr_reg_loss_shard(sr_reg_state *s, const sr_reg_step *step, int k_total, const double *sums,
                            sr_err *err) {
  float *const *feats_a = step->feats_a;
  float *const *feats_b = step->feats_b;
  const float *target = step->target;
  const int k = step->k;
  const int mse = step->mse;
  const double alpha = step->alpha;
  float *s_cnn = step->s_cnn;
  float **grad_a = step->grad_a;
  float **grad_b = step->grad_b;
  sr_status st = k_total < k
                     ? sr_fail(err, SR_ERR_ARG, "regularization shard of %d pairs out of %d", k, k_total)
                     : check_inputs(s, feats_a, feats_b, k, err);
  for (int p = 0; !st && p < k; p++)
    if (!(fabsf(target[p]) <= 1.0f))
      st = sr_fail(err, SR_ERR_ARG, "pair %d: target %g is outside [-1, 1]", p, target[p]);
  if (!st) st = ensure_scratch(s, k, err);
  if (st) return st;
  const int L = s->n_layers;
  for (int l = 0, off = 0; l < L; off += s->channels[l], l++) update_mean(s, l, sums + off, k_total);
  s->updates++;
  double gamma[SR_MAX_FEATURES], total = 0;
  sr_reg_gamma(s, gamma);
  for (int p0 = 0; p0 < k; p0 += 64) {
    int kk = k - p0 < 64 ? k - p0 : 64;
    double S[64], coef[64];
    float *a[SR_MAX_FEATURES], *b[SR_MAX_FEATURES];
    for (int l = 0; l < L; l++) {
      a[l] = feats_a[l] + (size_t)p0 * (size_t)s->chw[l];
      b[l] = feats_b[l] + (size_t)p0 * (size_t)s->chw[l];
    }
    similarities(s, a, b, kk, S);
    for (int p = 0; p < kk; p++) {
      double t = target[p0 + p], d = mse ? S[p] - t : sr_reg_g(S[p]) - sr_reg_g(t);
      total += d * d;
      coef[p] = 2 * alpha / k_total * d * (mse ? 1.0 : sr_reg_dg(S[p]));  // dloss/dS_p
      if (s_cnn) s_cnn[p0 + p] = (float)S[p];
      // dS/dw_m = gamma_m (s_m - S)
      for (int m = 0; m < L; m++) s->dw[m] += coef[p] * gamma[m] * (s->s_layer[(size_t)p * L + m] - S[p]);
    }
    if (!grad_a || !grad_b) continue;
      // each (pair, layer) writes its own gradient rows: the threads split them
#pragma omp parallel for schedule(dynamic, 1) if (pair_values(s, kk) > SR_REG_PAR_MIN)
    for (int t = 0; t < kk * L; t++) {
      const int p = t / L, l = t % L;
      size_t off = (size_t)p * (size_t)s->chw[l];
      const cos_pair pr = {.a = a[l] + off,
                           .b = b[l] + off,
                           .cs = s->s_layer[(size_t)p * L + l],
                           .nrm = &s->norm[((size_t)p * L + l) * 2]};
      cos_backward(s, l, &pr, coef[p] * gamma[l], grad_a[l] + (size_t)(p0 + p) * (size_t)s->chw[l],
                   grad_b[l] + (size_t)(p0 + p) * (size_t)s->chw[l]);
    }
  }
  *step->loss = alpha * total / k_total;
  return SR_OK;
}
