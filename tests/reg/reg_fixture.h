// Accessors for tests/fixtures/reg.safetensors (written by tests/fixtures/gen_reg_fixtures.py).
#ifndef SR_REG_FIXTURE_H
#define SR_REG_FIXTURE_H

#include "models/torch_fixture.h"

// A fixture tensor of the given dtype and element count (count < 0: any); NULL and a failed check if not.
static inline const void *rx_get(const sr_st_file *f, const char *name, sr_dtype dt, int64_t count) {
  const sr_st_tensor *t = sr_st_find(f, name);
  CHECK(t != NULL, "fixture tensor '%s' missing", name);
  if (!t) return NULL;
  int ok = t->dtype == dt && (count < 0 || t->count == count);
  CHECK(ok, "fixture tensor '%s': %s[%lld], expected %s[%lld]", name, sr_dtype_name(t->dtype),
        (long long)t->count, sr_dtype_name(dt), (long long)count);
  return ok ? t->data : NULL;
}

static inline const double *rx_f64(const sr_st_file *f, const char *name, int64_t count) {
  return rx_get(f, name, SR_F64, count);
}

// max|got - want| / max|want| (floor 1e-30), printed; fails above tol.
static inline double rx_expect(const char *what, const float *got, const double *want, int64_t n,
                               double tol) {
  if (!want) return INFINITY;
  double md = 0, mb = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (!(d <= md)) md = d;
    if (fabs(want[i]) > mb) mb = fabs(want[i]);
  }
  double e = md / (mb > 1e-30 ? mb : 1e-30);
  printf("  %-46s %9.2e\n", what, e);
  CHECK(e <= tol, "%s: max relative error %.3e > %.1e", what, e, tol);
  return e;
}

#endif
