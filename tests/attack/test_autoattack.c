// The white-box attacks of AutoAttack on a cnn-small trained here for two short epochs: the DLR losses and
// their gradients against central differences (double); APGD (CE, DLR, targeted DLR; L-inf and L2) stays in
// the eps ball and [0,1], its best loss never falls within a run, what it finds is confirmed by an
// independent forward pass, a misclassified image costs nothing, the same seed repeats bit for bit; a model
// with all weights zero (constant logits, zero gradients) ends cleanly with nothing found and no NaN.
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simreg/attack.h"
#include "simreg/train.h"
#include "small_model.h"
#include "sr_test.h"

enum { N = 16 };

static void test_dlr_fd(void) {
  sr_rng rng;
  sr_rng_seed(&rng, 3, 0);
  double worst = 0;
  for (int trial = 0; trial < 60; trial++) {
    int nc = 4 + trial % 7;
    double z[16], g[16], zp[16];
    for (int j = 0; j < nc; j++) z[j] = 3 * sr_rng_normal(&rng);
    int32_t y = (int32_t)sr_rng_below(&rng, (uint32_t)nc);
    int32_t t = trial % 2 ? (int32_t)((y + 1 + sr_rng_below(&rng, (uint32_t)nc - 1)) % nc) : -1;
    double l = sr_apgd_dlr(z, nc, y, t, g);
    CHECK(isfinite(l), "trial %d: finite loss", trial);
    for (int j = 0; j < nc; j++) {
      double h = 1e-6;
      memcpy(zp, z, sizeof z);
      zp[j] = z[j] + h;
      double lp = sr_apgd_dlr(zp, nc, y, t, NULL);
      zp[j] = z[j] - h;
      double lm = sr_apgd_dlr(zp, nc, y, t, NULL);
      double fd = (lp - lm) / (2 * h);
      double e = fabs(fd - g[j]) / (fabs(g[j]) > 1 ? fabs(g[j]) : 1);
      worst = e > worst ? e : worst;
    }
  }
  CHECK(worst < 1e-6, "DLR gradients match central differences: worst relative error %.2e", worst);
  // the value itself: y on top, margin 1 to the runner-up, z_pi1 - z_pi3 = 3
  double z[4] = {4, 3, 1, 0};
  CHECK(fabs(sr_apgd_dlr(z, 4, 0, -1, NULL) + 1.0 / 3) < 1e-9, "DLR of a known vector");
  CHECK(fabs(sr_apgd_dlr(z, 4, 0, 2, NULL) + 3.0 / 3.5) < 1e-9, "targeted DLR of a known vector");
  printf("dlr: worst relative gradient error %.2e\n", worst);
}

typedef struct mono {
  double last[N];
  int ok;
  int64_t calls;
} mono;

static void on_iter(void *ctx, int run, int64_t it, int64_t first, int64_t k, const double *best) {
  (void)run;
  mono *m = ctx;
  m->calls++;
  for (int64_t i = 0; i < k; i++) {
    if (it > 0 && best[i] < m->last[first + i]) m->ok = 0;
    m->last[first + i] = best[i];
  }
}

static int64_t sum64(const int64_t *v, int n) {
  int64_t s = 0;
  for (int i = 0; i < n; i++) s += v[i];
  return s;
}

static void test_apgd(sr_amodel *am, const float *x, const int32_t *pred) {
  sr_err err = {0};
  struct {
    sr_norm norm;
    double eps;
    sr_apgd_loss loss;
    const char *name;
  } cases[] = {{SR_NORM_LINF, 0.03, SR_APGD_CE, "linf ce"},
               {SR_NORM_L2, 0.6, SR_APGD_DLR, "l2 dlr"},
               {SR_NORM_LINF, 0.03, SR_APGD_DLR_TARGETED, "linf apgd-t"}};
  for (int c = 0; c < 3; c++) {
    sr_apgd_opts o = sr_apgd_opts_default(cases[c].norm, cases[c].eps, cases[c].loss);
    o.iterations = 20;
    o.targets = 3;
    o.clean_pred = pred;
    mono mn = {.ok = 1};
    o.on_iter = on_iter;
    o.ctx = &mn;
    sr_attack_result r, r2;
    CHECK_OK(sr_apgd(am, &(sr_labeled){.x = x, .y = pred, .n = N}, &o, 11, &r, &err), &err);
    if (err.code) return;
    CHECK(mn.ok && mn.calls > 0, "%s: the best loss never falls within a run (%lld calls)", cases[c].name,
          (long long)mn.calls);
    int inside = 1, found = 0, flipped = 0;
    int32_t p[N];
    CHECK_OK(sr_amodel_predict(am, r.adv, N, p, NULL, &err), &err);
    for (int i = 0; i < N; i++) {
      const float *a = r.adv + i * am->d, *xi = x + i * am->d;
      double dn = cases[c].norm == SR_NORM_LINF ? sr_dist_linf(a, xi, am->d) : sr_dist_l2(a, xi, am->d);
      inside &= dn <= cases[c].eps;
      for (int64_t q = 0; q < am->d; q++) inside &= a[q] >= 0 && a[q] <= 1;
      found += r.found[i];
      flipped += r.found[i] && p[i] != pred[i];
      int64_t runs = cases[c].loss == SR_APGD_DLR_TARGETED ? 3 : 1;
      CHECK(r.found[i] || r.queries[i] - r.init_queries[i] == runs * (o.iterations + 1),
            "%s image %d: not found after %lld gradient calls", cases[c].name, i,
            (long long)(r.queries[i] - r.init_queries[i]));
    }
    CHECK(inside, "%s: every returned point lies in the eps ball and [0,1]", cases[c].name);
    CHECK(found > 0 && flipped == found && r.recheck_failed == 0,
          "%s: %d found, %d confirmed by an independent forward pass", cases[c].name, found, flipped);
    // the same seed repeats exactly
    o.on_iter = NULL;
    CHECK_OK(sr_apgd(am, &(sr_labeled){.x = x, .y = pred, .n = N}, &o, 11, &r2, &err), &err);
    CHECK(!memcmp(r.adv, r2.adv, (size_t)N * (size_t)am->d * sizeof(float)) &&
              !memcmp(r.queries, r2.queries, N * sizeof(int64_t)) &&
              !memcmp(r.found, r2.found, N * sizeof(int)),
          "%s: same seed, same result", cases[c].name);
    printf("apgd %s eps %g: %d/%d found, %lld gradient calls\n", cases[c].name, cases[c].eps, found, N,
           (long long)(sum64(r.queries, N) - sum64(r.init_queries, N)));
    sr_attack_result_free(&r);
    sr_attack_result_free(&r2);
  }
}

// FAB-T: confirmed adversarials in [0,1]; more iterations never return a larger one (the same deterministic
// path, the smallest kept); repeats exactly.
static void test_fab(sr_amodel *am, const float *x, const int32_t *pred) {
  sr_err err = {0};
  for (int nm = 0; nm < 2; nm++) {
    sr_fab_opts o = sr_fab_opts_default(nm ? SR_NORM_L2 : SR_NORM_LINF, 0);
    o.targets = 2;
    o.iterations = 4;
    sr_attack_result a, b, c;
    CHECK_OK(sr_fab(am, &(sr_labeled){.x = x, .y = pred, .n = N}, &o, 0, &a, &err), &err);
    o.iterations = 20;
    CHECK_OK(sr_fab(am, &(sr_labeled){.x = x, .y = pred, .n = N}, &o, 0, &b, &err), &err);
    CHECK_OK(sr_fab(am, &(sr_labeled){.x = x, .y = pred, .n = N}, &o, 0, &c, &err), &err);
    if (err.code) return;
    int32_t p[N];
    CHECK_OK(sr_amodel_predict(am, b.adv, N, p, NULL, &err), &err);
    int found = 0, ok = 1, shrink = 1, box = 1;
    double mean = 0;
    for (int i = 0; i < N; i++) {
      const float *xi = x + i * am->d;
      double da = nm ? sr_dist_l2(a.adv + i * am->d, xi, am->d) : sr_dist_linf(a.adv + i * am->d, xi, am->d);
      double db = nm ? sr_dist_l2(b.adv + i * am->d, xi, am->d) : sr_dist_linf(b.adv + i * am->d, xi, am->d);
      found += b.found[i];
      ok &= !b.found[i] || p[i] != pred[i];
      if (b.found[i]) mean += db;
      shrink &= !a.found[i] || (b.found[i] && db <= da);
      for (int64_t q = 0; q < am->d; q++) box &= b.adv[i * am->d + q] >= 0 && b.adv[i * am->d + q] <= 1;
    }
    CHECK(found >= N / 2 && ok && b.recheck_failed == 0 && box, "fab %s: %d/%d found, confirmed, in [0,1]",
          nm ? "l2" : "linf", found, N);
    CHECK(shrink, "fab %s: 20 iterations return no larger adversarial than 4", nm ? "l2" : "linf");
    CHECK(!memcmp(b.adv, c.adv, (size_t)N * (size_t)am->d * sizeof(float)) &&
              !memcmp(b.queries, c.queries, N * sizeof(int64_t)),
          "fab %s: repeats exactly", nm ? "l2" : "linf");
    printf("fab-t %s: %d/%d found, mean distance %.4f, %lld gradient calls\n", nm ? "l2" : "linf", found, N,
           found ? mean / found : NAN, (long long)(sum64(b.queries, N) - sum64(b.init_queries, N)));
    sr_attack_result_free(&a);
    sr_attack_result_free(&b);
    sr_attack_result_free(&c);
  }
}

// A label the model does not predict: found at once, no query, the clean image returned.
static void test_misclassified(sr_amodel *am, const float *x, const int32_t *pred) {
  sr_err err = {0};
  int32_t y[N];
  memcpy(y, pred, sizeof y);
  y[0] = (pred[0] + 1) % am->classes;
  y[5] = (pred[5] + 3) % am->classes;
  for (int l = 0; l < 2; l++) {
    sr_apgd_opts o = sr_apgd_opts_default(SR_NORM_LINF, 0.01, l ? SR_APGD_DLR_TARGETED : SR_APGD_CE);
    o.iterations = 5;
    o.clean_pred = pred;
    sr_attack_result r;
    CHECK_OK(sr_apgd(am, &(sr_labeled){.x = x, .y = y, .n = N}, &o, 2, &r, &err), &err);
    if (err.code) return;
    int finite = 1;
    for (int64_t q = 0; q < N * am->d; q++) finite &= isfinite(r.adv[q]);
    CHECK(r.found[0] && r.found[5] && r.queries[0] == 0 && r.queries[5] == 0 && finite &&
              !memcmp(r.adv, x, (size_t)am->d * sizeof(float)),
          "loss %d: misclassified images found with 0 queries (%lld, %lld), finite", l,
          (long long)r.queries[0], (long long)r.queries[5]);
    CHECK(r.norm_sq_per_dim[0] == 0, "loss %d: zero perturbation", l);
    sr_attack_result_free(&r);
  }
  sr_fab_opts fo = sr_fab_opts_default(SR_NORM_L2, 0);
  fo.iterations = 5;
  fo.targets = 2;
  sr_attack_result r;
  CHECK_OK(sr_fab(am, &(sr_labeled){.x = x, .y = y, .n = N}, &fo, 0, &r, &err), &err);
  if (err.code) return;
  int finite = 1;
  for (int64_t q = 0; q < N * am->d; q++) finite &= isfinite(r.adv[q]);
  CHECK(r.found[0] && r.found[5] && r.queries[0] == r.init_queries[0] && r.queries[5] == r.init_queries[5] &&
            finite,
        "fab: misclassified images found with no gradient call, finite");
  sr_attack_result_free(&r);
}

// All weights zero: every logit equal, every input gradient zero.
static void test_zero_model(sr_amodel *am, sr_model *m, const float *x) {
  sr_err err = {0};
  memset(m->params, 0, (size_t)m->n_params * sizeof(float));
  m->params_version++;
  int32_t pred[N];
  CHECK_OK(sr_amodel_predict(am, x, N, pred, NULL, &err), &err);
  for (int l = 0; l < 3; l++)
    for (int nm = 0; nm < 2; nm++) {
      sr_apgd_opts o = sr_apgd_opts_default(nm ? SR_NORM_L2 : SR_NORM_LINF, nm ? 1.0 : 0.1, (sr_apgd_loss)l);
      o.iterations = 10;
      o.targets = 3;
      sr_attack_result r;
      CHECK_OK(sr_apgd(am, &(sr_labeled){.x = x, .y = pred, .n = N}, &o, 4, &r, &err), &err);
      if (err.code) return;
      int finite = 1, found = 0;
      for (int64_t q = 0; q < N * am->d; q++) finite &= isfinite(r.adv[q]);
      for (int i = 0; i < N; i++) found += r.found[i];
      CHECK(finite && found == 0, "zero model, loss %d norm %d: %d found, finite %d", l, nm, found, finite);
      sr_attack_result_free(&r);
    }
  for (int nm = 0; nm < 2; nm++) {
    sr_fab_opts o = sr_fab_opts_default(nm ? SR_NORM_L2 : SR_NORM_LINF, 0.1);
    o.iterations = 10;
    o.targets = 3;
    sr_attack_result r;
    CHECK_OK(sr_fab(am, &(sr_labeled){.x = x, .y = pred, .n = N}, &o, 0, &r, &err), &err);
    if (err.code) return;
    int finite = 1, found = 0;
    for (int64_t q = 0; q < N * am->d; q++) finite &= isfinite(r.adv[q]);
    for (int i = 0; i < N; i++) found += r.found[i];
    CHECK(finite && found == 0, "zero model, fab norm %d: %d found, finite %d", nm, found, finite);
    sr_attack_result_free(&r);
  }
}

int main(void) {
  sr_err err = {0};
  omp_set_num_threads(1);
  test_dlr_fd();
  char dir[] = "/tmp/sr_autoattack_XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "temp dir");
  small_target t;
  int32_t pred[N];
  small_target_open(dir, 16, N, &t, pred, &err);
  if (sr_test_fail_) return sr_test_done();
  sr_amodel *am = &t.am;
  float *x = t.x;
  double t0 = sr_now();
  test_apgd(am, x, pred);
  test_fab(am, x, pred);
  test_misclassified(am, x, pred);
  printf("apgd / fab tests %.1f s\n", sr_now() - t0);
  test_zero_model(am, &t.m, x);
  small_target_close(&t);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0, "cleanup");
  return sr_test_done();
}
