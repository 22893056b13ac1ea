// FMN (L2, L-inf) and DDN on a cnn-small trained here for two short epochs: every returned adversarial is
// confirmed by an independent forward pass and lies in [0,1]; the best distance never grows over the steps
// and ends no larger than an adversarial starting point; per-image queries and gradient calls are exact; an
// already-misclassified image costs one forward pass, no gradient, and comes back as itself; the same seed
// gives the same result; a model whose input gradient is zero ends cleanly with "not found".
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simreg/attack.h"
#include "simreg/train.h"
#include "small_model.h"
#include "sr_test.h"

enum { N = 10, STEPS = 40 };

static float clip01(double v) { return v < 0 ? 0.0f : v > 1 ? 1.0f : (float)v; }

static double dist(sr_norm norm, const float *a, const float *b, int64_t d) {
  return norm == SR_NORM_L2 ? sr_dist_l2(a, b, d) : sr_dist_linf(a, b, d);
}

static sr_status run(int which, sr_amodel *am, const float *x, const int32_t *y, int64_t n,
                     const sr_wbmin_opts *o, sr_attack_result *r, sr_err *err) {
  return which == 2 ? sr_ddn(am, &(sr_labeled){.x = x, .y = y, .n = n}, o, 7, r, err)
                    : sr_fmn(am, &(sr_labeled){.x = x, .y = y, .n = n}, o, r, err);
}

// The trace of the best distance: NaN until the first adversarial, then never increasing.
static int trace_monotone(const sr_attack_result *r, int64_t n) {
  int ok = 1;
  for (int64_t i = 0; i < n; i++) {
    double prev = INFINITY;
    for (int k = 0; k < SR_TRACE_POINTS; k++) {
      double v = r->trace[i * SR_TRACE_POINTS + k];
      if (isnan(v)) {
        ok &= prev == INFINITY;
        continue;
      }
      ok &= v <= prev;
      prev = v;
    }
  }
  return ok;
}

static void test_attack(int which, sr_amodel *am, const float *x, const int32_t *pred0) {
  const char *nm = which == 0 ? "fmn L2" : which == 1 ? "fmn Linf" : "ddn L2";
  sr_norm norm = which == 1 ? SR_NORM_LINF : SR_NORM_L2;
  sr_wbmin_opts o = which == 2 ? sr_ddn_opts_default() : sr_fmn_opts_default(norm);
  o.steps = STEPS;
  sr_err err = {0};
  sr_attack_result r;
  sr_attack_result r2;
  int64_t q0 = am->queries;
  int64_t g0 = am->gradients;
  CHECK_OK(run(which, am, x, pred0, N, &o, &r, &err), &err);
  int found = 0;
  int box = 1;
  int exact = 1;
  int64_t qsum = 0;
  int64_t gsum = 0;
  for (int i = 0; i < N; i++) {
    found += r.found[i];
    qsum += r.queries[i];
    gsum += r.wb.gradients[i];
    exact &= r.wb.gradients[i] == STEPS && r.queries[i] == STEPS + 1 && r.steps_run[i] == STEPS;
    for (int64_t p = 0; p < am->d; p++)
      box &= isfinite(r.adv[i * am->d + p]) && r.adv[i * am->d + p] >= 0 && r.adv[i * am->d + p] <= 1;
  }
  // FMN L2 on this weak model oscillates near the box edge on a few images (the reference's rule does too)
  CHECK(found >= N / 2 && r.recheck_failed == 0, "%s: %d/%d found, %lld re-check failures", nm, found, N,
        (long long)r.recheck_failed);
  CHECK(box, "%s: adversarials finite and inside [0,1]", nm);
  CHECK(exact, "%s: one forward pass, then %d gradient calls per image", nm, STEPS);
  CHECK(am->queries - q0 == qsum + N && am->gradients - g0 == gsum,
        "%s: wrapper counts %lld / %lld vs %lld + %d / %lld", nm, (long long)(am->queries - q0),
        (long long)(am->gradients - g0), (long long)qsum, N, (long long)gsum);
  int32_t p[N];
  CHECK_OK(sr_amodel_predict(am, r.adv, N, p, NULL, &err), &err);
  int confirmed = 1;
  double mean = 0;
  for (int i = 0; i < N; i++) {
    if (!r.found[i]) continue;
    confirmed &= p[i] != pred0[i];
    mean += dist(norm, r.adv + i * am->d, x + i * am->d, am->d) / found;
  }
  CHECK(confirmed, "%s: an independent forward pass confirms every adversarial", nm);
  CHECK(trace_monotone(&r, N), "%s: the best distance never grows over the steps", nm);
  printf("%s: %d/%d found in %d steps, mean distance %.4f\n", nm, found, N, STEPS, mean);
  CHECK_OK(run(which, am, x, pred0, N, &o, &r2, &err), &err);
  CHECK(!memcmp(r.adv, r2.adv, (size_t)N * (size_t)am->d * sizeof(float)) &&
            !memcmp(r.found, r2.found, N * sizeof(int)),
        "%s: the same seed gives the same result", nm);
  sr_attack_result_free(&r2);
  if (which < 2) {
    // starting from r's adversarials pushed outward: the result is never farther than the start
    float *start = sr_alloc((size_t)N * (size_t)am->d * sizeof(float));
    for (int i = 0; i < N; i++) {
      for (int64_t q = 0; q < am->d; q++) {
        int64_t k = i * am->d + q;
        start[k] = r.found[i] ? clip01(x[k] + 1.5 * (r.adv[k] - x[k])) : x[k];
      }
    }
    sr_attack_result rs;
    o.start = start;
    o.steps = 10;
    CHECK_OK(run(which, am, x, pred0, N, &o, &rs, &err), &err);
    int no_larger = 1;
    int64_t started = 0;
    for (int i = 0; i < N; i++) {
      if (!r.found[i]) continue;
      int32_t ps;
      CHECK_OK(sr_amodel_predict(am, start + i * am->d, 1, &ps, NULL, &err), &err);
      if (ps == pred0[i]) continue;
      started++;
      double ds = dist(norm, start + i * am->d, x + i * am->d, am->d);
      no_larger &= rs.found[i] && dist(norm, rs.adv + i * am->d, x + i * am->d, am->d) <= ds;
    }
    CHECK(started >= N / 2 && no_larger, "%s: %lld adversarial starts, each result no farther than its start",
          nm, (long long)started);
    sr_attack_result_free(&rs);
    sr_free(start);
  }
  sr_attack_result_free(&r);
}

// Labels the model does not predict: every image is adversarial already.
static void test_misclassified(sr_amodel *am, const float *x, const int32_t *pred0) {
  int32_t wrong[N];
  for (int i = 0; i < N; i++) wrong[i] = (pred0[i] + 1) % am->classes;
  for (int which = 0; which < 3; which++) {
    sr_wbmin_opts o =
        which == 2 ? sr_ddn_opts_default() : sr_fmn_opts_default(which ? SR_NORM_LINF : SR_NORM_L2);
    sr_err err = {0};
    sr_attack_result r;
    int64_t g0 = am->gradients;
    CHECK_OK(run(which, am, x, wrong, N, &o, &r, &err), &err);
    int ok = 1;
    for (int i = 0; i < N; i++) {
      ok &= r.found[i] && r.queries[i] == 1 && r.wb.gradients[i] == 0 && r.norm_sq_per_dim[i] == 0;
      ok &= !memcmp(r.adv + i * am->d, x + i * am->d, (size_t)am->d * sizeof(float));
    }
    CHECK(ok && am->gradients == g0, "attack %d: misclassified images cost 1 query, 0 gradients, distance 0",
          which);
    sr_attack_result_free(&r);
  }
}

// All parameters zero: constant logits (class 0 everywhere), input gradient exactly zero.
static void test_zero_gradient(sr_model *m, sr_amodel *am, const float *x) {
  memset(m->params, 0, (size_t)m->n_params * sizeof(float));
  m->params_version++;
  int32_t y[N];
  sr_err err = {0};
  CHECK_OK(sr_amodel_predict(am, x, N, y, NULL, &err), &err);
  for (int which = 0; which < 3; which++) {
    sr_wbmin_opts o =
        which == 2 ? sr_ddn_opts_default() : sr_fmn_opts_default(which ? SR_NORM_LINF : SR_NORM_L2);
    o.steps = 8;
    sr_attack_result r;
    CHECK_OK(run(which, am, x, y, N, &o, &r, &err), &err);
    int ok = 1;
    for (int i = 0; i < N; i++) {
      ok &= !r.found[i] && isnan(r.norm_sq_per_dim[i]) && r.wb.gradients[i] == 8;
      for (int64_t p = 0; p < am->d; p++) ok &= isfinite(r.adv[i * am->d + p]);
    }
    CHECK(ok && r.wb.zero_gradients == N * 8, "attack %d: zero gradients (%lld) end with not found, finite",
          which, (long long)r.wb.zero_gradients);
    sr_attack_result_free(&r);
  }
}

int main(void) {
  sr_err err = {0};
  omp_set_num_threads(1);
  char dir[] = "/tmp/sr_wbmin_XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "temp dir");
  small_target t;
  int32_t pred[N];
  small_target_open(dir, 8, N, &t, pred, &err);
  if (sr_test_fail_) return sr_test_done();
  sr_amodel *am = &t.am;
  float *x = t.x;
  double t0 = sr_now();
  for (int which = 0; which < 3; which++) test_attack(which, am, x, pred);
  test_misclassified(am, x, pred);
  test_zero_gradient(&t.m, am, x);
  printf("attacks %.1f s\n", sr_now() - t0);
  small_target_close(&t);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0, "cleanup");
  return sr_test_done();
}
