// Feature Grams (ssyrk), the regularizer's centred cosine from a Gram, double centring and linear CKA.
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "simreg/reg.h"
#include "simreg/rsa.h"

static void fill_lower(float *G, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++)
      G[(size_t)j * (size_t)n + (size_t)i] = G[(size_t)i * (size_t)n + (size_t)j];
}

sr_status sr_rsa_feature_gram(const float *F, int64_t n, int c, int64_t hw, float *G, sr_err *err) {
  const int64_t d = (int64_t)c * hw;
  if (n < 2 || c < 1 || hw < 1 || d > INT32_MAX)
    return sr_fail(err, SR_ERR_ARG, "feature Gram of %lld images x %d x %lld", (long long)n, c,
                   (long long)hw);
  float *U = sr_alloc(sizeof(float) * (size_t)n * (size_t)d);
  double *mu = sr_calloc((size_t)c, sizeof(double));
  if (!U || !mu) {
    sr_free(U);
    sr_free(mu);
    return sr_fail(err, SR_ERR_NOMEM, "out of memory for %lld x %lld features", (long long)n, (long long)d);
  }
  // mu_c = mean of channel c over the n images and hw positions (the regularizer centres by channel)
  for (int64_t i = 0; i < n; i++)
    for (int ch = 0; ch < c; ch++) {
      const float *x = F + ((size_t)i * (size_t)c + (size_t)ch) * (size_t)hw;
      double s = 0;
      for (int64_t q = 0; q < hw; q++) s += x[q];
      mu[ch] += s;
    }
  for (int ch = 0; ch < c; ch++) mu[ch] /= (double)n * (double)hw;
  for (int64_t i = 0; i < n; i++)
    for (int ch = 0; ch < c; ch++) {
      const size_t off = ((size_t)i * (size_t)c + (size_t)ch) * (size_t)hw;
      for (int64_t q = 0; q < hw; q++) U[off + (size_t)q] = (float)(F[off + (size_t)q] - mu[ch]);
    }
  // G (n, n) = U U^T, upper triangle, then mirrored
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)d, 1.0f, U, (int)d, 0.0f, G, (int)n);
  fill_lower(G, n);
  sr_free(U);
  sr_free(mu);
  return SR_OK;
}

// S_ij = G_ij / max(|u_i| |u_j|, eps), as the regularizer's centred_cos (src/reg/loss.c).
sr_status sr_rsa_gram_cosine(const float *G, int64_t n, float *S, sr_err *err) {
  double *nrm = sr_alloc(sizeof(double) * (size_t)n);
  if (!nrm) return sr_fail(err, SR_ERR_NOMEM, "out of memory for %lld norms", (long long)n);
  for (int64_t i = 0; i < n; i++) {
    double g = G[(size_t)i * (size_t)n + (size_t)i];
    nrm[i] = g > 0 ? sqrt(g) : 0;
  }
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) {
      double v = i == j ? 1.0 : G[(size_t)i * (size_t)n + (size_t)j] / fmax(nrm[i] * nrm[j], SR_REG_COS_EPS);
      S[(size_t)i * (size_t)n + (size_t)j] = (float)(v > 1 ? 1 : v < -1 ? -1 : v);
    }
  sr_free(nrm);
  return SR_OK;
}

// (H K H)_ij = K_ij - rowmean_i - colmean_j + grand mean (K symmetric: row means = column means).
sr_status sr_rsa_double_centre(float *K, int64_t n, sr_err *err) {
  double *rm = sr_calloc((size_t)n, sizeof(double)), all = 0;
  if (!rm) return sr_fail(err, SR_ERR_NOMEM, "out of memory for %lld row means", (long long)n);
  for (int64_t i = 0; i < n; i++) {
    const float *k = K + (size_t)i * (size_t)n;
    for (int64_t j = 0; j < n; j++) rm[i] += k[j];
    all += rm[i];
    rm[i] /= (double)n;
  }
  all /= (double)n * (double)n;
  for (int64_t i = 0; i < n; i++) {
    float *k = K + (size_t)i * (size_t)n;
    for (int64_t j = 0; j < n; j++) k[j] = (float)(k[j] - rm[i] - rm[j] + all);
  }
  sr_free(rm);
  return SR_OK;
}

double sr_rsa_cka(const float *Kc, const float *Lc, int64_t n) {
  double kl = 0, kk = 0, ll = 0;
  for (size_t q = 0; q < (size_t)n * (size_t)n; q++) {
    double a = Kc[q], b = Lc[q];
    kl += a * b;
    kk += a * a;
    ll += b * b;
  }
  return kk > 0 && ll > 0 ? kl / sqrt(kk * ll) : NAN;
}
