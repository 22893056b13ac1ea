// HopSkipJump (L2, L-inf) and the Square attack (L-inf, L2) on a cnn-small trained here for two short
// epochs: they find adversarials, their per-image query counts are exact (an independent counting oracle /
// the wrapper's own counts), seeds repeat, Square stays inside the eps ball exactly. HopSkipJump against an
// oracle that makes every gradient estimate zero ends, with finite results and the expected query counts.
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simreg/attack.h"
#include "simreg/train.h"
#include "small_model.h"
#include "sr_test.h"

enum { N = 12 };

// Counts every query per row on its own, then asks the wrapped oracle.
typedef struct counting {
  const sr_oracle *inner;
  int64_t counts[64];
  int64_t calls;
} counting;

static sr_status count_decide(void *ctx, const float *x, const int64_t *rows, int64_t m, int *adv,
                              sr_err *err) {
  counting *c = ctx;
  for (int64_t j = 0; j < m; j++) c->counts[rows[j]]++;
  c->calls++;
  return c->inner->decide(c->inner->ctx, x, rows, m, adv, err);
}

static void test_hsj(sr_amodel *am, const float *x, const int32_t *pred0) {
  sr_err err = {0};
  for (int ni = 0; ni < 2; ni++) {
    sr_norm norm = ni ? SR_NORM_LINF : SR_NORM_L2;
    const char *nm = ni ? "Linf" : "L2";
    sr_hsj_opts o = sr_hsj_opts_default(norm);
    o.iterations = 6;
    o.init_evals = 20;
    o.max_evals = 40;
    sr_model_oracle_ctx mctx;
    sr_oracle inner, orc;
    CHECK_OK(sr_model_oracle(am, pred0, &mctx, &inner, &err), &err);
    counting cnt = {.inner = &inner};
    orc = inner;
    orc.decide = count_decide;
    orc.ctx = &cnt;
    sr_attack_result r, r0, r2;
    int64_t q0 = am->queries;
    CHECK_OK(sr_hsj_oracle(&orc, x, N, &o, 5, &r, &err), &err);
    int64_t sum = 0;
    int found = 0, exact = 1;
    for (int i = 0; i < N; i++) {
      // the re-check is one more oracle call per image, not counted in r.queries
      exact &= cnt.counts[i] == r.queries[i] + 1;
      sum += r.queries[i];
      found += r.found[i];
      CHECK(r.steps_run[i] == 6, "%s image %d ran %lld iterations", nm, i, (long long)r.steps_run[i]);
    }
    CHECK(exact, "%s: per-image query counts equal the counting oracle's", nm);
    CHECK(am->queries - q0 == sum + N, "%s: wrapper forward passes %lld = %lld + %d re-check", nm,
          (long long)(am->queries - q0), (long long)sum, N);
    CHECK(found == N && r.recheck_failed == 0 && r.init_failed == 0, "%s: %d/%d confirmed", nm, found, N);
    int32_t p[N];
    CHECK_OK(sr_amodel_predict(am, r.adv, N, p, NULL, &err), &err);
    int flipped = 0, box = 1;
    for (int i = 0; i < N; i++) flipped += p[i] != pred0[i];
    for (int64_t q = 0; q < N * am->d; q++) box &= r.adv[q] >= 0 && r.adv[q] <= 1 && isfinite(r.adv[q]);
    CHECK(flipped == N && box, "%s: independent forward pass confirms %d/%d, inside [0,1]", nm, flipped, N);
    // progress: the iterations shrink the distance left by the initialisation
    o.iterations = 0;
    CHECK_OK(sr_hsj(am, &(sr_labeled){.x = x, .y = pred0, .n = N}, &o, 5, &r0, &err), &err);
    double before = 0, after = 0;
    for (int i = 0; i < N; i++) {
      const float *a = r.adv + i * am->d, *b = r0.adv + i * am->d, *xi = x + i * am->d;
      before += ni ? sr_dist_linf(b, xi, am->d) : sr_dist_l2(b, xi, am->d);
      after += ni ? sr_dist_linf(a, xi, am->d) : sr_dist_l2(a, xi, am->d);
      CHECK(r0.queries[i] == r.init_queries[i], "%s image %d: init queries %lld vs %lld", nm, i,
            (long long)r0.queries[i], (long long)r.init_queries[i]);
    }
    CHECK(after < 0.8 * before, "%s: 6 iterations shrink the mean distance %g -> %g", nm, before / N,
          after / N);
    printf("hsj %s: mean distance after init %.4f, after 6 iterations %.4f, %lld queries for %d images\n", nm,
           before / N, after / N, (long long)sum, N);
    if (!ni) {  // the same code path for both norms; once keeps the test short
      o.iterations = 6;
      CHECK_OK(sr_hsj(am, &(sr_labeled){.x = x, .y = pred0, .n = N}, &o, 5, &r2, &err), &err);
      CHECK(!memcmp(r.adv, r2.adv, (size_t)N * (size_t)am->d * sizeof(float)),
            "%s: same seed, same adversarials", nm);
      CHECK(!memcmp(r.queries, r2.queries, N * sizeof(int64_t)), "%s: same seed, same query counts", nm);
      sr_attack_result_free(&r2);
    }
    sr_attack_result_free(&r);
    sr_attack_result_free(&r0);
    sr_model_oracle_free(&mctx);
  }
}

// Adversarial = differs from the original anywhere: every sample around a boundary point is adversarial,
// so every baseline-subtracted estimate is exactly zero.
typedef struct anychange {
  const float *x0;
  int64_t d, counts[4];
} anychange;

static sr_status any_decide(void *ctx, const float *x, const int64_t *rows, int64_t m, int *adv,
                            sr_err *err) {
  anychange *a = ctx;
  (void)err;
  for (int64_t j = 0; j < m; j++) {
    adv[j] = memcmp(x + j * a->d, a->x0 + rows[j] * a->d, (size_t)a->d * sizeof(float)) != 0;
    a->counts[rows[j]]++;
  }
  return SR_OK;
}

static void test_hsj_zero(void) {
  enum { D = 64, M = 3 };
  static float x0[M * D];
  sr_rng rng;
  sr_rng_seed(&rng, 9, 0);
  for (int i = 0; i < M * D; i++) x0[i] = sr_rng_uniformf(&rng);
  anychange a = {.x0 = x0, .d = D};
  sr_oracle orc = {.decide = any_decide, .ctx = &a, .d = D, .batch = 2};
  for (int ni = 0; ni < 2; ni++) {
    memset(a.counts, 0, sizeof a.counts);
    sr_hsj_opts o = sr_hsj_opts_default(ni ? SR_NORM_LINF : SR_NORM_L2);
    o.iterations = 5;
    sr_attack_result r;
    sr_err err = {0};
    CHECK_OK(sr_hsj_oracle(&orc, x0, M, &o, 1, &r, &err), &err);
    int64_t est = 0;
    for (int t = 1; t <= 5; t++) est += (int64_t)(100 * sqrt((double)t));
    CHECK(r.hsj.zero_estimates == M * 5, "every estimate was zero: %lld", (long long)r.hsj.zero_estimates);
    for (int i = 0; i < M; i++) {
      int finite = 1;
      for (int p = 0; p < D; p++)
        finite &= isfinite(r.adv[i * D + p]) && r.adv[i * D + p] >= 0 && r.adv[i * D + p] <= 1;
      CHECK(finite && r.found[i] && isfinite(r.norm_sq_per_dim[i]), "image %d: finite adversarial", i);
      CHECK(r.queries[i] - r.init_queries[i] == est, "image %d: %lld queries after init = sum of B_t %lld", i,
            (long long)(r.queries[i] - r.init_queries[i]), (long long)est);
      CHECK(a.counts[i] == r.queries[i] + 1, "image %d: counted %lld vs reported %lld + re-check", i,
            (long long)a.counts[i], (long long)r.queries[i]);
    }
    sr_attack_result_free(&r);
  }
}

static void test_square(sr_amodel *am, const float *x, const int32_t *pred0) {
  sr_err err = {0};
  CHECK(sr_square_p(0.8, 0, 1000) == 0.8 && sr_square_p(0.8, 3, 1000) == 0.4 &&
            sr_square_p(0.8, 10, 1000) == 0.2 && sr_square_p(0.8, 999, 1000) == 0.8 / 512,
        "p schedule: %g %g %g %g", sr_square_p(0.8, 0, 1000), sr_square_p(0.8, 3, 1000),
        sr_square_p(0.8, 10, 1000), sr_square_p(0.8, 999, 1000));
  for (int ni = 0; ni < 2; ni++) {
    sr_norm norm = ni ? SR_NORM_L2 : SR_NORM_LINF;
    const char *nm = ni ? "L2" : "Linf";
    sr_square_opts o = sr_square_opts_default(norm, ni ? 3.0 : 0.15);
    o.queries = 150;
    sr_attack_result r, r2;
    int64_t q0 = am->queries;
    CHECK_OK(sr_square(am, &(sr_labeled){.x = x, .y = pred0, .n = N}, &o, 3, &r, &err), &err);
    int64_t sum = 0;
    int found = 0, within = 1, budget = 1;
    double worst = 0;
    for (int i = 0; i < N; i++) {
      sum += r.queries[i];
      found += r.found[i];
      budget &= r.queries[i] >= 1 && r.queries[i] <= o.queries && r.queries[i] == 1 + r.steps_run[i];
      if (!r.found[i]) budget &= r.queries[i] == o.queries;  // only fooled images stop early
      const float *a = r.adv + i * am->d, *xi = x + i * am->d;
      double dn = ni ? sr_dist_l2(a, xi, am->d) : sr_dist_linf(a, xi, am->d);
      within &= dn <= o.eps;
      worst = dn > worst ? dn : worst;
      for (int64_t q = 0; q < am->d; q++) within &= a[q] >= 0 && a[q] <= 1;
    }
    CHECK(within, "%s: every adversarial inside the eps ball exactly and [0,1] (worst %.9g, eps %g)", nm,
          worst, o.eps);
    CHECK(budget, "%s: queries within budget, exact per image", nm);
    CHECK(am->queries - q0 == sum + N, "%s: wrapper forward passes %lld = %lld + %d re-check", nm,
          (long long)(am->queries - q0), (long long)sum, N);
    CHECK(found >= N / 2 && r.recheck_failed == 0, "%s: %d/%d fooled and confirmed", nm, found, N);
    int32_t p[N];
    CHECK_OK(sr_amodel_predict(am, r.adv, N, p, NULL, &err), &err);
    int agree = 1;
    for (int i = 0; i < N; i++) agree &= (p[i] != pred0[i]) == (r.found[i] != 0);
    CHECK(agree, "%s: an independent forward pass agrees on which images are fooled", nm);
    printf("square %s eps %g: %d/%d fooled, %lld queries\n", nm, o.eps, found, N, (long long)sum);
    CHECK_OK(sr_square(am, &(sr_labeled){.x = x, .y = pred0, .n = N}, &o, 3, &r2, &err), &err);
    CHECK(!memcmp(r.adv, r2.adv, (size_t)N * (size_t)am->d * sizeof(float)) &&
              !memcmp(r.queries, r2.queries, N * sizeof(int64_t)),
          "%s: same seed, same result", nm);
    sr_attack_result_free(&r);
    sr_attack_result_free(&r2);
  }
}

int main(void) {
  sr_err err = {0};
  omp_set_num_threads(1);  // the attacks' small batches: a second thread mostly waits (and spins under load)
  test_hsj_zero();
  char dir[] = "/tmp/sr_qattack_XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "temp dir");
  small_target t;
  int32_t pred[N];
  small_target_open(dir, 16, N, &t, pred, &err);
  if (sr_test_fail_) return sr_test_done();
  sr_amodel *am = &t.am;
  float *x = t.x;
  double t0 = sr_now();
  test_hsj(am, x, pred);
  double t1 = sr_now();
  test_square(am, x, pred);
  printf("hsj %.1f s, square %.1f s\n", t1 - t0, sr_now() - t1);
  small_target_close(&t);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0, "cleanup");
  return sr_test_done();
}
