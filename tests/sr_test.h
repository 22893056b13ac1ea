// Minimal test harness: CHECK macros count failures; sr_test_done() prints "N passed, N failed".
#ifndef SR_TEST_H
#define SR_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sr_test_pass_, sr_test_fail_;

#define CHECK(cond, ...)                                          \
  do {                                                            \
    if (cond) {                                                   \
      sr_test_pass_++;                                            \
    } else {                                                      \
      sr_test_fail_++;                                            \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                               \
      fprintf(stderr, "\n");                                      \
    }                                                             \
  } while (0)

#define CHECK_OK(expr, errp)                                                     \
  do {                                                                           \
    sr_status st_ = (expr);                                                      \
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

static inline int sr_test_done(void) {
  printf("%d passed, %d failed\n", sr_test_pass_, sr_test_fail_);
  return sr_test_fail_ ? 1 : 0;
}

#endif
