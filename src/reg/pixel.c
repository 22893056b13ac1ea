// S^pix: gray, centred, L2-normalized pixel rows and their Gram matrix (OpenBLAS dgemm in row blocks).
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "simreg/reg.h"

// Rows of U per dgemm block: the double block (ROWS x n) stays small while dgemm gets enough work.
#define ROWS 256

// U: (n, d) double, gray = channel mean of each pixel, then centred by the mean image and normalized.
static void unit_rows(const uint8_t *images, int64_t n, int c, int64_t d, double *U) {
  double *mean = U + (size_t)n * (size_t)d;  // caller allocated one extra row
  memset(mean, 0, sizeof(double) * (size_t)d);
  for (int64_t i = 0; i < n; i++) {
    const uint8_t *im = images + (size_t)i * (size_t)c * (size_t)d;
    double *u = U + (size_t)i * (size_t)d;
    for (int64_t p = 0; p < d; p++) {
      double s = 0;
      for (int ch = 0; ch < c; ch++) s += im[(size_t)ch * (size_t)d + (size_t)p];
      u[p] = s / c;
      mean[p] += u[p];
    }
  }
  for (int64_t p = 0; p < d; p++) mean[p] /= (double)n;
  for (int64_t i = 0; i < n; i++) {
    double *u = U + (size_t)i * (size_t)d, ss = 0;
    for (int64_t p = 0; p < d; p++) {
      u[p] -= mean[p];
      ss += u[p] * u[p];
    }
    // A row equal to the mean image has no direction: it stays zero (similarity 0 to every other image).
    double inv = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
    for (int64_t p = 0; p < d; p++) u[p] *= inv;
  }
}

sr_status sr_reg_pixel_similarity(const uint8_t *images, int64_t n, int c, int h, int w, float *S,
                                  sr_err *err) {
  if (n < 2 || c < 1 || h < 1 || w < 1)
    return sr_fail(err, SR_ERR_ARG,
                   "pixel similarity needs at least 2 images of positive size (got %lld of %dx%dx%d)",
                   (long long)n, c, h, w);
  const int64_t d = (int64_t)h * w;
  size_t nu, nb;
  if (sr_mul_overflow((size_t)n + 1, (size_t)d * sizeof(double), &nu) ||
      sr_mul_overflow((size_t)ROWS, (size_t)n * sizeof(double), &nb))
    return sr_fail(err, SR_ERR_NOMEM, "pixel similarity of %lld images of %lld pixels is too large",
                   (long long)n, (long long)d);
  double *U = sr_alloc(nu), *B = sr_alloc(nb);
  if (!U || !B) {
    sr_free(U);
    sr_free(B);
    return sr_fail(err, SR_ERR_NOMEM, "pixel similarity: out of memory for %lld x %lld rows", (long long)n,
                   (long long)d);
  }
  unit_rows(images, n, c, d, U);
  // Upper block-triangle: rows r0..r1 against columns r0..n-1, then mirror into the lower triangle.
  for (int64_t r0 = 0; r0 < n; r0 += ROWS) {
    int64_t rows = n - r0 < ROWS ? n - r0 : ROWS, cols = n - r0;
    // B (rows, cols) = U[r0:r0+rows] . U[r0:n]^T
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)cols, (int)d, 1.0,
                U + (size_t)r0 * (size_t)d, (int)d, U + (size_t)r0 * (size_t)d, (int)d, 0.0, B, (int)cols);
    for (int64_t a = 0; a < rows; a++) {
      int64_t i = r0 + a;
      float *Si = S + (size_t)i * (size_t)n;
      for (int64_t j = i + 1; j < n; j++) {
        double v = B[(size_t)a * (size_t)cols + (size_t)(j - r0)];
        float f = (float)(v > 1 ? 1 : v < -1 ? -1 : v);  // rounding can leave |v| a hair above 1
        Si[j] = f;
        S[(size_t)j * (size_t)n + (size_t)i] = f;
      }
      Si[i] = 1.0f;
    }
  }
  sr_free(U);
  sr_free(B);
  return SR_OK;
}
