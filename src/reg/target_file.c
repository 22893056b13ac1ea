// A user-supplied similarity matrix (e.g. neural data) and the images it refers to, validated strictly.
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "simreg/npy.h"

#define TOL      1e-6
#define MAX_TEXT ((size_t)1 << 30)

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

// Indices from a text file: integers separated by white space (commas also accepted).
static sr_status read_text_indices(const char *path, int64_t **out, int64_t *count, sr_err *err) {
  void *buf = NULL;
  size_t size = 0;
  sr_status st = sr_read_file(path, MAX_TEXT, &buf, &size, err);
  if (st) return st;
  char *s = buf;
  int64_t cap = 64, n = 0;
  int64_t *v = sr_alloc(sizeof(int64_t) * (size_t)cap);
  size_t pos = 0;
  while (v && pos < size) {
    while (pos < size && (isspace((unsigned char)s[pos]) || s[pos] == ',')) pos++;
    if (pos >= size) break;
    char tok[32];
    size_t len = 0;
    while (pos < size && !isspace((unsigned char)s[pos]) && s[pos] != ',' && len < sizeof tok - 1)
      tok[len++] = s[pos++];
    tok[len] = 0;
    char *end;
    errno = 0;
    long long x = strtoll(tok, &end, 10);
    if (errno || *end || len == 0 || (pos < size && !isspace((unsigned char)s[pos]) && s[pos] != ',')) {
      sr_free(v);
      sr_free(buf);
      return sr_fail(err, SR_ERR_FORMAT, "%s: '%s' (entry %lld) is not an integer index", path, tok,
                     (long long)n);
    }
    if (n == cap) {
      int64_t *w = sr_alloc(sizeof(int64_t) * (size_t)cap * 2);
      if (w) memcpy(w, v, sizeof(int64_t) * (size_t)n);
      sr_free(v);
      v = w;
      cap *= 2;
      if (!v) break;
    }
    v[n++] = x;
  }
  sr_free(buf);
  if (!v) return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
  *out = v;
  *count = n;
  return SR_OK;
}

sr_status sr_reg_read_indices(const char *path, int64_t **out, int64_t *count, sr_err *err) {
  if (!ends_with(path, ".npy")) return read_text_indices(path, out, count, err);
  sr_npy a;
  sr_status st = sr_npy_read(path, &a, err);
  if (st) return st;
  if ((a.dtype != SR_I32 && a.dtype != SR_I64) || a.ndim != 1) {
    st = sr_fail(err, SR_ERR_FORMAT, "%s: indices must be a 1-D int32 or int64 array, got %d-D %s", path,
                 a.ndim, sr_dtype_name(a.dtype));
    sr_npy_free(&a);
    return st;
  }
  int64_t *v = sr_alloc(sizeof(int64_t) * (size_t)(a.count ? a.count : 1));
  if (!v) {
    sr_npy_free(&a);
    return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
  }
  for (int64_t i = 0; i < a.count; i++)
    v[i] = a.dtype == SR_I32 ? ((const int32_t *)a.data)[i] : ((const int64_t *)a.data)[i];
  *out = v;
  *count = a.count;
  sr_npy_free(&a);
  return SR_OK;
}

// Check the matrix (double, n x n) and store it as float into t->S.
static sr_status validate(const char *path, const double *S, int64_t n, sr_reg_target *t, sr_err *err) {
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) {
      double v = S[(size_t)i * (size_t)n + (size_t)j];
      if (!isfinite(v))
        return sr_fail(err, SR_ERR_FORMAT, "%s: S[%lld][%lld] = %g is not finite", path, (long long)i,
                       (long long)j, v);
      if (fabs(v) > 1 + TOL)
        return sr_fail(err, SR_ERR_FORMAT, "%s: S[%lld][%lld] = %g is outside [-1, 1]", path, (long long)i,
                       (long long)j, v);
      if (i == j && fabs(v - 1) > TOL)
        return sr_fail(err, SR_ERR_FORMAT, "%s: diagonal S[%lld][%lld] = %g is not 1", path, (long long)i,
                       (long long)j, v);
      double vt = S[(size_t)j * (size_t)n + (size_t)i];
      if (j > i && isfinite(vt) && fabs(v - vt) > TOL)
        return sr_fail(err, SR_ERR_FORMAT, "%s: not symmetric: S[%lld][%lld] = %.9g but S[%lld][%lld] = %.9g",
                       path, (long long)i, (long long)j, v, (long long)j, (long long)i, vt);
      t->S[(size_t)i * (size_t)n + (size_t)j] = (float)(i == j ? 1.0 : v > 1 ? 1.0 : v < -1 ? -1.0 : v);
    }
  return SR_OK;
}

sr_status sr_reg_target_from_file(const char *npy, const char *indices, int64_t n_images, sr_reg_target *t,
                                  sr_err *err) {
  memset(t, 0, sizeof *t);
  double t0 = sr_now();
  if (!npy || !indices)
    return sr_fail(err, SR_ERR_ARG, "a file target needs both the matrix and the indices file");
  int64_t *idx = NULL, ni = 0;
  sr_status st = sr_reg_read_indices(indices, &idx, &ni, err);
  if (st) return st;
  sr_npy a = {0};
  double *S = NULL;
  if (ni < 2)
    st = sr_fail(err, SR_ERR_FORMAT, "%s: %lld indices; a target needs at least 2 images", indices,
                 (long long)ni);
  for (int64_t i = 0; !st && i < ni; i++)
    if (idx[i] < 0 || idx[i] >= n_images)
      st = sr_fail(err, SR_ERR_ARG, "%s: index %lld (entry %lld) is outside [0, %lld)", indices,
                   (long long)idx[i], (long long)i, (long long)n_images);
  if (!st) st = sr_npy_read(npy, &a, err);
  if (!st && a.dtype != SR_F32 && a.dtype != SR_F64)
    st = sr_fail(err, SR_ERR_FORMAT, "%s: similarity matrix must be float32 or float64, got %s", npy,
                 sr_dtype_name(a.dtype));
  if (!st && (a.ndim != 2 || a.shape[0] != a.shape[1]))
    st = a.ndim != 2 ? sr_fail(err, SR_ERR_FORMAT,
                               "%s: similarity matrix must be 2-D (N x N), got %d dimensions", npy, a.ndim)
                     : sr_fail(err, SR_ERR_FORMAT, "%s: similarity matrix must be square, got %lld x %lld",
                               npy, (long long)a.shape[0], (long long)a.shape[1]);
  if (!st && a.shape[0] != ni)
    st = sr_fail(err, SR_ERR_FORMAT, "%s is %lld x %lld but %s lists %lld images", npy, (long long)a.shape[0],
                 (long long)a.shape[1], indices, (long long)ni);
  if (!st) st = sr_npy_as_f64(&a, &S, err);
  if (!st) st = sr_reg_target_alloc(t, ni, err);
  if (!st) st = validate(npy, S, ni, t, err);
  if (!st) {
    memcpy(t->idx, idx, sizeof(int64_t) * (size_t)ni);
    t->kind = SR_REG_FILE;
    t->seconds = sr_now() - t0;
  }
  sr_free(S);
  sr_free(idx);
  sr_npy_free(&a);
  if (st) sr_reg_target_free(t);
  return st;
}
