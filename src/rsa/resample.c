// Image bootstrap: quadratic forms of the count vectors, one triangular product for all resamples (the Mantel
// test is in mantel.c).
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "simreg/rsa.h"

sr_status sr_rsa_boot_draw(int64_t n, int64_t b, uint64_t seed, sr_rsa_boot *bt, sr_err *err) {
  memset(bt, 0, sizeof *bt);
  if (n < 2 || b < 1 || n > (int64_t)UINT32_MAX)
    return sr_fail(err, SR_ERR_ARG, "bootstrap needs n >= 2 images and b >= 1 resamples (got %lld, %lld)",
                   (long long)n, (long long)b);
  bt->n = n;
  bt->b = b;
  bt->C = sr_calloc((size_t)n * (size_t)b, sizeof(float));
  bt->w = sr_alloc(sizeof(double) * (size_t)b);
  if (!bt->C || !bt->w) {
    sr_rsa_boot_free(bt);
    return sr_fail(err, SR_ERR_NOMEM, "out of memory for %lld x %lld bootstrap counts", (long long)n,
                   (long long)b);
  }
  sr_rng rng;
  sr_rng_seed(&rng, seed, 0x45a);
  for (int64_t r = 0; r < b; r++) {
    for (int64_t q = 0; q < n; q++)
      bt->C[(size_t)sr_rng_below(&rng, (uint32_t)n) * (size_t)b + (size_t)r] += 1.0f;
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) {
      double c = bt->C[(size_t)i * (size_t)b + (size_t)r];
      s += c;
      s2 += c * c;
    }
    bt->w[r] = 0.5 * (s * s - s2);  // pairs of draws of different images
  }
  return SR_OK;
}

void sr_rsa_boot_free(sr_rsa_boot *bt) {
  if (!bt) return;
  sr_free(bt->C);
  sr_free(bt->w);
  memset(bt, 0, sizeof *bt);
}

// Per block of resamples: Y = U C with U the upper triangle of M (strmm: half the work of a full product),
// then q[r] = sum_i c_i (U c)_i - sum_i c_i^2 M_ii = sum_{i<j} c_i c_j M_ij.
#define BOOT_COLS 256

sr_status sr_rsa_boot_quad(const sr_rsa_boot *bt, const float *M, double *q, sr_err *err) {
  const int64_t n = bt->n, b = bt->b, cols = b < BOOT_COLS ? b : BOOT_COLS;
  float *Y = sr_alloc(sizeof(float) * (size_t)n * (size_t)cols);
  if (!Y) return sr_fail(err, SR_ERR_NOMEM, "out of memory for the bootstrap product");
  for (int64_t r0 = 0; r0 < b; r0 += cols) {
    const int64_t nc = b - r0 < cols ? b - r0 : cols;
    for (int64_t i = 0; i < n; i++)
      memcpy(Y + (size_t)i * (size_t)nc, bt->C + (size_t)i * (size_t)b + (size_t)r0,
             sizeof(float) * (size_t)nc);
    // Y (n, nc) <- triu(M) (n, n) . Y
    cblas_strmm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, (int)n, (int)nc, 1.0f, M,
                (int)n, Y, (int)nc);
    for (int64_t r = 0; r < nc; r++) q[r0 + r] = 0;
    for (int64_t i = 0; i < n; i++) {
      const float *c = bt->C + (size_t)i * (size_t)b + (size_t)r0, *y = Y + (size_t)i * (size_t)nc;
      const double mii = M[(size_t)i * (size_t)n + (size_t)i];
      for (int64_t r = 0; r < nc; r++) q[r0 + r] += (double)c[r] * ((double)y[r] - (double)c[r] * mii);
    }
  }
  sr_free(Y);
  return SR_OK;
}

void sr_rsa_boot_pearson(const sr_rsa_boot *bt, const double *sa, const double *saa, const double *sb,
                         const double *sbb, const double *sab, double *r) {
  for (int64_t k = 0; k < bt->b; k++) {
    const double w = bt->w[k];
    const double ma = sa[k] / w, mb = sb[k] / w;
    const double cov = sab[k] / w - ma * mb, va = saa[k] / w - ma * ma, vb = sbb[k] / w - mb * mb;
    r[k] = w > 0 && va > 0 && vb > 0 ? cov / sqrt(va * vb) : NAN;
  }
}
