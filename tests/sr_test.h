// Minimal test harness: CHECK macros count failures; sr_test_done() prints "N passed, N failed".
// A test that cannot run (its data is absent) says why and exits SR_TEST_SKIP, which CTest reports as
// skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt), never as passed.
#ifndef SR_TEST_H
#define SR_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SR_TEST_SKIP 77

static int sr_test_pass_, sr_test_fail_, sr_test_skipped_;

#define CHECK(cond, ...)                                              \
  do {                                                                \
    if (cond) {                                                       \
      sr_test_pass_++;                                                \
    } else {                                                          \
      sr_test_fail_++;                                                \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                   \
      fprintf(stderr, "\n");                                          \
    }                                                                 \
  } while (0)

#define CHECK_OK(expr, errp)                                                      \
  do {                                                                            \
    sr_status st_ = (expr);                                                       \
    CHECK(st_ == SR_OK, "%s -> %s: %s", #expr, sr_status_name(st_), (errp)->msg); \
  } while (0)

// Max relative error with a floor on the denominator, as PyTorch-fixture comparisons report it.
// max|got - want| / max|want| over the whole array (one scale for all entries, as for logits).
static inline double sr_test_rel_to_max(const float *got, const float *want, size_t n) {
  double md = 0, mw = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - (double)want[i]);
    if (!(d <= md)) md = d;  // NaN propagates as failure
    if (fabs((double)want[i]) > mw) mw = fabs((double)want[i]);
  }
  return md / (mw > 1e-30 ? mw : 1e-30);
}

static inline double sr_test_max_rel(const float *got, const float *want, size_t n, double floor_) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - (double)want[i]);
    double s = fabs((double)want[i]);
    double r = d / (s > floor_ ? s : floor_);
    if (!(r <= m)) m = r;  // NaN propagates as failure
  }
  return m;
}

// Path of a file under the source tree (tests run from the build directory).
static inline const char *sr_test_src(const char *rel) {
  static char buf[4096];
  const char *root = getenv("SR_SRC_DIR");
  snprintf(buf, sizeof buf, "%s/%s", root ? root : ".", rel);
  return buf;
}

// Part of a test cannot run: say why; sr_test_done() then reports the test as skipped (unless a check
// failed).
static inline void sr_test_skip(const char *why) {
  printf("SKIP: %s\n", why);
  sr_test_skipped_++;
}

// 1 if a check failed or none ran, SR_TEST_SKIP if a part was skipped, else 0.
static inline int sr_test_done(void) {
  printf("%d passed, %d failed%s\n", sr_test_pass_, sr_test_fail_,
         sr_test_skipped_ ? " (parts skipped)" : "");
  if (sr_test_fail_) return 1;
  if (sr_test_pass_ == 0) {
    printf("FAIL: no check ran\n");
    return 1;
  }
  return sr_test_skipped_ ? SR_TEST_SKIP : 0;
}

#endif
