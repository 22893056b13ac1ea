// Helpers for tests that compare simreg against the PyTorch fixtures in tests/fixtures/*.safetensors
// (written by tests/fixtures/gen_fixtures.py). Error measure, as tests/exec/check.h: max|a-b| / max|b|
// over the whole tensor.
#ifndef SR_TORCH_FIXTURE_H
#define SR_TORCH_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "simreg/model.h"
#include "simreg/safetensors.h"
#include "sr_test.h"

static inline double fx_rel(const float *got, const float *want, int64_t n) {
  return sr_test_rel_to_max(got, want, (size_t)n);
}

static inline double fx_rel_d(const double *got, const float *want, int64_t n) {
  double md = 0, mb = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs(got[i] - (double)want[i]);
    if (!(d <= md)) md = d;
    if (fabs((double)want[i]) > mb) mb = fabs((double)want[i]);
  }
  return md / (mb > 1e-30 ? mb : 1e-30);
}

static inline sr_status fx_open(const char *file, sr_st_file *f) {
  char rel[256];
  snprintf(rel, sizeof rel, "tests/fixtures/%s", file);
  sr_err err = {0};
  sr_status st = sr_st_read(sr_test_src(rel), f, &err);
  CHECK(st == SR_OK, "cannot read fixture %s: %s", rel, err.msg);
  return st;
}

// A float32 fixture tensor with exactly `count` elements (count < 0: any); NULL (and a failed check) if not.
static inline const float *fx_f32(const sr_st_file *f, const char *name, int64_t count) {
  const sr_st_tensor *t = sr_st_find(f, name);
  CHECK(t != NULL, "fixture tensor '%s' missing", name);
  if (!t) return NULL;
  CHECK(t->dtype == SR_F32, "fixture tensor '%s' is not F32", name);
  CHECK(count < 0 || t->count == count, "fixture tensor '%s' has %lld elements, expected %lld", name,
        (long long)t->count, (long long)count);
  return t->dtype == SR_F32 && (count < 0 || t->count == count) ? (const float *)t->data : NULL;
}

// Compare and print one tensor; the check fails above tol.
static inline double fx_expect(const char *what, const float *got, const float *want, int64_t n, double tol) {
  if (!want) return INFINITY;
  double e = fx_rel(got, want, n);
  printf("  %-46s %9.2e\n", what, e);
  CHECK(e <= tol, "%s: max relative error %.3e > %.1e", what, e, tol);
  return e;
}

static inline double fx_expect_d(const char *what, const double *got, const float *want, int64_t n,
                                 double tol) {
  if (!want) return INFINITY;
  double e = fx_rel_d(got, want, n);
  printf("  %-46s %9.2e\n", what, e);
  CHECK(e <= tol, "%s: max relative error %.3e > %.1e", what, e, tol);
  return e;
}

static inline void *fx_tensor_ptr(sr_model *m, const sr_tensor_info *ti) {
  return ti->where == 0   ? (void *)(m->params + ti->offset)
         : ti->where == 1 ? (void *)(m->state + ti->offset)
                          : (void *)(m->bn_tracked + ti->offset);
}

// Copy the fixture tensors prefix+<name> into the model, for every tensor of the model (strict: each
// must exist with the model's element count and dtype). Returns the number of tensors copied.
static inline int fx_load_prefixed(sr_model *m, const sr_st_file *f, const char *prefix) {
  int copied = 0;
  for (int i = 0; i < m->n_tensors; i++) {
    const sr_tensor_info *ti = &m->tensors[i];
    char name[192];
    snprintf(name, sizeof name, "%s%s", prefix, ti->name);
    const sr_st_tensor *t = sr_st_find(f, name);
    sr_dtype want = ti->where == 2 ? SR_I64 : SR_F32;
    CHECK(t && t->dtype == want && t->count == ti->count, "fixture tensor '%s' missing or of the wrong kind",
          name);
    if (!t || t->dtype != want || t->count != ti->count) continue;
    memcpy(fx_tensor_ptr(m, ti), t->data, (size_t)t->count * sr_dtype_size(t->dtype));
    copied++;
  }
  m->params_version++;
  return copied;
}

// Number of fixture tensors whose name starts with prefix.
static inline int fx_count_prefixed(const sr_st_file *f, const char *prefix) {
  int n = 0;
  for (int i = 0; i < f->n; i++) n += !strncmp(f->tensors[i].name, prefix, strlen(prefix));
  return n;
}

// Labels stored as I64 -> int32 for sr_softmax_ce.
static inline int fx_labels(const sr_st_file *f, const char *name, int32_t *out, int64_t n) {
  const sr_st_tensor *t = sr_st_find(f, name);
  CHECK(t && t->dtype == SR_I64 && t->count == n, "fixture labels '%s' missing or not I64[%lld]", name,
        (long long)n);
  if (!t || t->dtype != SR_I64 || t->count != n) return -1;
  const int64_t *l = t->data;
  for (int64_t i = 0; i < n; i++) out[i] = (int32_t)l[i];
  return 0;
}

// Path for a scratch file under the build directory (or /tmp).
static inline const char *fx_tmp(const char *name) {
  static char buf[2][4096];
  static int k;
  const char *root = getenv("SR_BUILD_DIR");
  k ^= 1;
  snprintf(buf[k], sizeof buf[k], "%s/%s", root ? root : "/tmp", name);
  return buf[k];
}

#endif
