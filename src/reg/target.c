// Building a target from images: S^pix, then the threshold and/or the subset mask; cached as .npy.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "simreg/npy.h"

sr_status sr_reg_target_alloc(sr_reg_target *t, int64_t n, sr_err *err) {
  size_t nn;
  if (n < 1 || sr_mul_overflow((size_t)n, (size_t)n, &nn) || sr_mul_overflow(nn, sizeof(float), &nn))
    return sr_fail(err, SR_ERR_ARG, "a %lld x %lld target is too large", (long long)n, (long long)n);
  t->n = n;
  t->S = sr_alloc(nn);
  t->idx = sr_alloc(sizeof(int64_t) * (size_t)n);
  if (!t->S || !t->idx)
    return sr_fail(err, SR_ERR_NOMEM, "out of memory for a %lld x %lld target", (long long)n, (long long)n);
  for (int64_t i = 0; i < n; i++) t->idx[i] = i;
  t->n_pairs = n * (n - 1) / 2;
  return SR_OK;
}

sr_status sr_reg_mask_alloc(sr_reg_target *t, sr_err *err) {
  t->words = (t->n + 63) / 64;
  t->mask = sr_calloc((size_t)t->n * (size_t)t->words, sizeof(uint64_t));
  t->row_start = sr_calloc((size_t)t->n + 1, sizeof(int64_t));
  if (!t->mask || !t->row_start)
    return sr_fail(err, SR_ERR_NOMEM, "out of memory for the pair mask of %lld images", (long long)t->n);
  return SR_OK;
}

int sr_reg_mask_count(sr_reg_target *t) {
  int64_t total = 0;
  for (int64_t i = 0; i < t->n; i++) {
    t->row_start[i] = total;
    const uint64_t *row = t->mask + (size_t)i * (size_t)t->words;
    for (int64_t q = 0; q < t->words; q++) {
      uint64_t bits = row[q];
      // only bits for columns i+1 .. n-1 may be set
      int64_t lo = i + 1 - q * 64, hi = t->n - q * 64;  // allowed bit range [lo, hi)
      uint64_t allowed = 0;
      for (int64_t b = lo < 0 ? 0 : lo; b < 64 && b < hi; b++) allowed |= 1ULL << b;
      if (bits & ~allowed) return -1;
      total += __builtin_popcountll(bits);
    }
  }
  t->row_start[t->n] = total;
  t->n_pairs = total;
  return 0;
}

void sr_reg_target_free(sr_reg_target *t) {
  if (!t) return;
  sr_free(t->S);
  sr_free(t->idx);
  sr_free(t->mask);
  sr_free(t->row_start);
  memset(t, 0, sizeof *t);
}

static int uses_th(sr_reg_kind k) { return k != SR_REG_PIXEL; }

static uint64_t target_key(const sr_reg_target_opts *o, const uint8_t *images, int64_t n, int c, int h,
                           int w) {
  static const char tag[] = "simreg-reg-target-v1";
  int32_t kind = (int32_t)o->kind, vals = sr_reg_kind_is_subset(o->kind) ? o->subset_thresholded : 0;
  double th = uses_th(o->kind) ? o->th : 0.0;  // pixel targets do not depend on th
  int64_t dims[4] = {n, c, h, w};
  uint64_t k = sr_fnv1a64(SR_FNV1A_INIT, tag, sizeof tag);
  k = sr_fnv1a64(k, &kind, sizeof kind);
  k = sr_fnv1a64(k, &th, sizeof th);
  k = sr_fnv1a64(k, &vals, sizeof vals);
  k = sr_fnv1a64(k, dims, sizeof dims);
  return sr_fnv1a64(k, images, (size_t)n * (size_t)c * (size_t)h * (size_t)w);
}

static void cache_paths(const char *dir, uint64_t key, char *s_path, char *m_path, size_t cap) {
  snprintf(s_path, cap, "%s/reg-%016llx.npy", dir, (unsigned long long)key);
  snprintf(m_path, cap, "%s/reg-%016llx-pairs.npy", dir, (unsigned long long)key);
}

// 1 when a consistent cached target was loaded into t (already allocated for n); 0 otherwise.
static int cache_read(const char *s_path, const char *m_path, int subset, sr_reg_target *t) {
  sr_npy a = {0}, b = {0};
  int ok = 0;
  sr_err e = {0};
  if (sr_npy_read(s_path, &a, &e) == SR_OK && a.dtype == SR_F32 && a.ndim == 2 && a.shape[0] == t->n &&
      a.shape[1] == t->n) {
    memcpy(t->S, a.data, sizeof(float) * (size_t)a.count);
    ok = 1;
    for (int64_t i = 0; ok && i < t->n; i++) ok = t->S[(size_t)i * (size_t)t->n + (size_t)i] == 1.0f;
  }
  if (ok && subset) {
    ok = sr_npy_read(m_path, &b, &e) == SR_OK && b.dtype == SR_U8 && b.ndim == 2 && b.shape[0] == t->n &&
         b.shape[1] == t->words * 8;
    if (ok) memcpy(t->mask, b.data, (size_t)b.count);
    ok = ok && sr_reg_mask_count(t) == 0 && t->n_pairs > 0;
  }
  sr_npy_free(&a);
  sr_npy_free(&b);
  return ok;
}

static sr_status cache_write(const char *dir, const char *s_path, const char *m_path, const sr_reg_target *t,
                             sr_err *err) {
  sr_status st = sr_mkdir_p(dir, err);
  int64_t shape[2] = {t->n, t->n};
  if (!st && t->mask) {
    int64_t ms[2] = {t->n, t->words * 8};  // the uint64 words as little-endian bytes
    st = sr_npy_write(m_path, SR_U8, 2, ms, t->mask, err);
  }
  // S last: a reader finding S also finds the mask it belongs to.
  if (!st) st = sr_npy_write(s_path, SR_F32, 2, shape, t->S, err);
  return st ? sr_err_context(err, "writing the target cache in %s", dir) : SR_OK;
}

static void threshold_in_place(float *S, int64_t n, double th) {
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) {
      float *v = &S[(size_t)i * (size_t)n + (size_t)j];
      *v = i == j ? 1.0f : *v > th ? 1.0f : *v < -th ? -1.0f : 0.0f;
    }
}

static sr_status build_mask(sr_reg_target *t, sr_reg_kind kind, double th, sr_err *err) {
  sr_status st = sr_reg_mask_alloc(t, err);
  if (st) return st;
  for (int64_t i = 0; i < t->n; i++) {
    uint64_t *row = t->mask + (size_t)i * (size_t)t->words;
    const float *Si = t->S + (size_t)i * (size_t)t->n;
    for (int64_t j = i + 1; j < t->n; j++)
      if (sr_reg_subset_keeps(kind, th, Si[j])) row[j >> 6] |= 1ULL << (j & 63);
  }
  sr_reg_mask_count(t);
  if (t->n_pairs == 0)
    return sr_fail(err, SR_ERR_ARG, "target '%s' with th %g selects no pair of the %lld images",
                   sr_reg_kind_name(kind), th, (long long)t->n);
  return SR_OK;
}

sr_status sr_reg_target_build(const sr_reg_target_opts *o, const sr_u8_images *im, const char *cache_dir,
                              sr_reg_target *t, sr_err *err) {
  const uint8_t *images = im->px;
  const int64_t n = im->n;
  const int c = im->c, h = im->h, w = im->w;
  memset(t, 0, sizeof *t);
  if (o->kind == SR_REG_FILE || (unsigned)o->kind > SR_REG_FILE)
    return sr_fail(err, SR_ERR_ARG, "target kind '%s' is not built from images", sr_reg_kind_name(o->kind));
  if (uses_th(o->kind) && !(o->th >= 0 && o->th < 1))
    return sr_fail(err, SR_ERR_ARG, "threshold %g is outside [0, 1)", o->th);
  if (n < 2 || c < 1 || h < 1 || w < 1)
    return sr_fail(err, SR_ERR_ARG,
                   "a target needs at least 2 images of positive size (got %lld of %dx%dx%d)", (long long)n,
                   c, h, w);
  double t0 = sr_now();
  int subset = sr_reg_kind_is_subset(o->kind);
  t->kind = o->kind;
  t->th = uses_th(o->kind) ? o->th : 0.0;
  t->subset_thresholded = subset ? o->subset_thresholded != 0 : 0;
  t->key = target_key(o, images, n, c, h, w);
  sr_status st = sr_reg_target_alloc(t, n, err);
  if (!st && subset) st = sr_reg_mask_alloc(t, err);
  if (st) return st;
  char s_path[4200], m_path[4200];
  if (cache_dir) {
    cache_paths(cache_dir, t->key, s_path, m_path, sizeof s_path);
    if (cache_read(s_path, m_path, subset, t)) {
      t->from_cache = 1;
      t->seconds = sr_now() - t0;
      return SR_OK;
    }
  }
  if ((st = sr_reg_pixel_similarity(images, n, c, h, w, t->S, err))) return st;
  if (subset) {
    sr_free(t->mask);
    sr_free(t->row_start);
    t->mask = NULL, t->row_start = NULL;
    if ((st = build_mask(t, o->kind, o->th, err))) return st;
  }
  if (o->kind == SR_REG_THRESHOLD || (subset && t->subset_thresholded)) threshold_in_place(t->S, n, o->th);
  if (cache_dir && (st = cache_write(cache_dir, s_path, m_path, t, err))) return st;
  t->seconds = sr_now() - t0;
  return SR_OK;
}
