// Similarity sources that are not a model's: a user's N x N matrix (validated) and the colour pixel cosine.
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "simreg/npy.h"
#include "simreg/reg.h"
#include "simreg/rsa.h"

static sr_status check_matrix(const char *path, const float *S, int64_t n, double tol, sr_err *err) {
  double worst = 0;
  int64_t wi = 0, wj = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) {
      const float v = S[(size_t)i * (size_t)n + (size_t)j];
      if (!isfinite(v))
        return sr_fail(err, SR_ERR_FORMAT, "%s: S[%lld][%lld] = %g is not finite", path, (long long)i,
                       (long long)j, (double)v);
      if (j > i) {
        double d = fabs((double)v - (double)S[(size_t)j * (size_t)n + (size_t)i]);
        if (d > worst) {
          worst = d;
          wi = i;
          wj = j;
        }
      }
    }
  if (worst > tol)
    return sr_fail(err, SR_ERR_FORMAT,
                   "%s: not symmetric: max |S[i][j] - S[j][i]| = %.3g (at [%lld][%lld]) > tolerance %g", path,
                   worst, (long long)wi, (long long)wj, tol);
  return SR_OK;
}

sr_status sr_rsa_load_matrix(const char *npy, const char *indices, double tol, sr_rsa_matrix *out,
                             sr_err *err) {
  memset(out, 0, sizeof *out);
  sr_npy a;
  sr_status st = sr_npy_read(npy, &a, err);
  if (st) return st;
  if (a.ndim != 2 || a.shape[0] != a.shape[1] || a.shape[0] < 3)
    st = a.ndim != 2
             ? sr_fail(err, SR_ERR_FORMAT, "%s: a similarity matrix must be 2-D, got %d-D", npy, a.ndim)
             : sr_fail(err, SR_ERR_FORMAT,
                       "%s: a similarity matrix must be square with N >= 3, got %lld x %lld", npy,
                       (long long)a.shape[0], (long long)a.shape[1]);
  if (!st && (a.dtype != SR_F32 && a.dtype != SR_F64))
    st =
        sr_fail(err, SR_ERR_FORMAT, "%s: dtype %s, expected float32 or float64", npy, sr_dtype_name(a.dtype));
  if (!st) st = sr_npy_as_f32(&a, &out->S, err);
  if (!st) {
    out->n = a.shape[0];
    st = check_matrix(npy, out->S, out->n, tol, err);
  }
  sr_npy_free(&a);
  if (!st && indices) {
    int64_t ni = 0;
    st = sr_reg_read_indices(indices, &out->idx, &ni, err);
    if (!st && ni != out->n)
      st = sr_fail(err, SR_ERR_FORMAT, "%s: %lld indices for the %lld x %lld matrix %s", indices,
                   (long long)ni, (long long)out->n, (long long)out->n, npy);
  }
  if (st) sr_rsa_matrix_free(out);
  return st;
}

void sr_rsa_matrix_free(sr_rsa_matrix *m) {
  if (!m) return;
  sr_free(m->S);
  sr_free(m->idx);
  memset(m, 0, sizeof *m);
}

sr_status sr_rsa_pixel_color(const uint8_t *images, int64_t n, int c, int h, int w, float *S, sr_err *err) {
  const int64_t d = (int64_t)c * h * w;
  if (n < 2 || d < 1 || d > INT32_MAX)
    return sr_fail(err, SR_ERR_ARG, "colour pixel similarity of %lld images", (long long)n);
  double *U = sr_alloc(sizeof(double) * (size_t)n * (size_t)d), *mean = sr_calloc((size_t)d, sizeof(double));
  double *G = sr_alloc(sizeof(double) * (size_t)n * (size_t)n);
  if (!U || !mean || !G) {
    sr_free(U);
    sr_free(mean);
    sr_free(G);
    return sr_fail(err, SR_ERR_NOMEM, "out of memory for %lld x %lld pixels", (long long)n, (long long)d);
  }
  for (int64_t i = 0; i < n; i++)
    for (int64_t p = 0; p < d; p++) mean[p] += images[(size_t)i * (size_t)d + (size_t)p];
  for (int64_t p = 0; p < d; p++) mean[p] /= (double)n;
  for (int64_t i = 0; i < n; i++)
    for (int64_t p = 0; p < d; p++)
      U[(size_t)i * (size_t)d + (size_t)p] = images[(size_t)i * (size_t)d + (size_t)p] - mean[p];
  // G = U U^T (upper), then cosine; a row equal to the mean image has similarity 0 to the others
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n, (int)d, 1.0, U, (int)d, 0.0, G, (int)n);
  for (int64_t i = 0; i < n; i++) {
    S[(size_t)i * (size_t)n + (size_t)i] = 1.0f;
    for (int64_t j = i + 1; j < n; j++) {
      double den = sqrt(G[(size_t)i * (size_t)n + (size_t)i] * G[(size_t)j * (size_t)n + (size_t)j]);
      double v = den > 0 ? G[(size_t)i * (size_t)n + (size_t)j] / den : 0;
      float f = (float)(v > 1 ? 1 : v < -1 ? -1 : v);
      S[(size_t)i * (size_t)n + (size_t)j] = S[(size_t)j * (size_t)n + (size_t)i] = f;
    }
  }
  sr_free(U);
  sr_free(mean);
  sr_free(G);
  return SR_OK;
}
