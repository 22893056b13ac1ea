// Attacks on a small cnn-small trained here for one short epoch on a Fashion-MNIST slice: noise lowers
// accuracy and is seeded; FGSM/PGD find adversarials and stay inside the eps ball and [0,1]; the Boundary
// attack finds adversarials, its distances never increase, its query counts are exact, seeds repeat.
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simreg/attack.h"
#include "simreg/train.h"
#include "small_model.h"
#include "sr_test.h"

enum { N = 24, NP = 16 };  // NP: images for the gradient attacks (input gradients cost more)

typedef struct trace {
  double last[N];
  int64_t increases, calls;
} trace;

static void on_step(void *ctx, int64_t step, int64_t first, int64_t n, const double *dist) {
  trace *t = ctx;
  (void)step;
  t->calls++;
  for (int64_t i = 0; i < n; i++) {
    if (isnan(dist[i])) continue;
    if (dist[i] > t->last[first + i]) t->increases++;
    t->last[first + i] = dist[i];
  }
}

static void test_noise(sr_amodel *am, const float *x, const int32_t *y, double clean) {
  sr_err err = {0};
  double lv[3] = {0, 0.2, 0.5};
  sr_level_acc acc[3], acc2[3];
  sr_labeled im = {.x = x, .y = y, .n = N};
  for (int k = 0; k < SR_NOISE_COUNT; k++) {
    sr_noise_sweep_opts o = {.kind = (sr_noise_kind)k, .levels = lv, .n_levels = 3, .repeats = 2, .seed = 7};
    CHECK_OK(sr_noise_sweep(am, &im, &o, acc, &err), &err);
    CHECK(fabs(acc[0].acc - clean) < 1e-12, "%s level 0 is the clean accuracy (%g vs %g)", sr_noise_name(k),
          acc[0].acc, clean);
    CHECK(acc[2].acc < acc[0].acc, "%s: strong noise lowers accuracy (%g -> %g)", sr_noise_name(k),
          acc[0].acc, acc[2].acc);
    CHECK(acc[1].ci_low <= acc[1].acc && acc[1].acc <= acc[1].ci_high, "CI brackets the accuracy");
    CHECK_OK(sr_noise_sweep(am, &im, &o, acc2, &err), &err);
    CHECK(!memcmp(acc, acc2, sizeof acc), "same seed, same accuracies");
  }
  // clamping to the image's own range
  float img[16];
  sr_rng rng;
  sr_rng_seed(&rng, 1, 1);
  for (int i = 0; i < 16; i++) img[i] = 0.2f + 0.03f * (float)i;
  sr_noise_apply(SR_NOISE_GAUSSIAN, 1.0, img, 1, 16, &rng);
  int inside = 1;
  for (int i = 0; i < 16; i++) inside &= img[i] >= 0.2f && img[i] <= 0.2f + 0.03f * 15;
  CHECK(inside, "noisy image clamped to the clean image's [min, max]");
}

static void test_pgd(sr_amodel *am, const float *x, const int32_t *y, double clean) {
  sr_err err = {0};
  size_t bytes = (size_t)NP * (size_t)am->d * sizeof(float);
  float *adv = sr_alloc(bytes), *adv2 = sr_alloc(bytes);
  int32_t pred[NP];
  for (int norm = 0; norm < 2; norm++) {
    sr_pgd_opts o = sr_pgd_opts_default(norm ? SR_NORM_L2 : SR_NORM_LINF, norm ? 2.0 : 0.1);
    o.steps = 5;
    o.step = 2.5 * o.eps / 5;
    int64_t counts[NP] = {0};
    CHECK_OK(sr_pgd(am, &(sr_labeled){.x = x, .y = y, .n = NP}, &o, 5, adv, counts, &err), &err);
    CHECK(counts[0] == 5 && counts[NP - 1] == 5, "one query per step per image");
    double worst = 0;
    int box = 1;
    for (int i = 0; i < NP; i++) {
      double s = 0, mx = 0;
      for (int64_t p = 0; p < am->d; p++) {
        double dd = fabs((double)adv[i * am->d + p] - x[i * am->d + p]);
        box &= adv[i * am->d + p] >= 0 && adv[i * am->d + p] <= 1;
        s += dd * dd;
        mx = dd > mx ? dd : mx;
      }
      double nrm = norm ? sqrt(s) : mx;
      worst = nrm > worst ? nrm : worst;
    }
    if (norm)
      CHECK(worst <= o.eps * (1 + 1e-6), "L2 PGD within eps: %.9g > %g", worst, o.eps);
    else
      CHECK(worst <= (double)(float)o.eps, "Linf PGD within eps exactly: %.9g > %g", worst, o.eps);
    CHECK(box, "inside [0,1]");
    CHECK_OK(sr_amodel_predict(am, adv, NP, pred, NULL, &err), &err);
    int correct = 0;
    for (int i = 0; i < NP; i++) correct += pred[i] == y[i];
    CHECK(correct < clean * NP / 2, "PGD %s eps %g: accuracy %d/%d from %g", norm ? "L2" : "Linf", o.eps,
          correct, NP, clean);
    CHECK_OK(sr_pgd(am, &(sr_labeled){.x = x, .y = y, .n = NP}, &o, 5, adv2, NULL, &err), &err);
    CHECK(!memcmp(adv, adv2, bytes), "same seed, same adversarials");
  }
  // FGSM sweep, white-box: accuracy falls with eps, eps 0 is clean, nothing out of bounds
  double eps[3] = {0, 0.05, 0.15};
  sr_eps_curve c[3];
  sr_pgd_opts f = sr_fgsm_opts(SR_NORM_LINF, 0.15);
  sr_labeled im = {.x = x, .y = y, .n = NP};
  sr_eps_sweep sw = {.base = &f, .eps = eps, .n_eps = 3, .seed = 1};
  CHECK_OK(sr_gradient_sweep(am, am, &im, &sw, c, NULL, &err), &err);
  CHECK(c[2].acc < c[0].acc, "FGSM: %g -> %g", c[0].acc, c[2].acc);
  CHECK(c[0].out_of_bounds + c[1].out_of_bounds + c[2].out_of_bounds == 0, "FGSM inside the ball");
  sr_free(adv);
  sr_free(adv2);
}

static void test_boundary(sr_amodel *am, const float *x, const int32_t *pred0) {
  sr_err err = {0};
  sr_boundary_opts o = sr_boundary_opts_default();
  o.steps = 60;
  trace t = {0};
  for (int i = 0; i < N; i++) t.last[i] = INFINITY;
  o.on_step = on_step;
  o.ctx = &t;
  sr_attack_result r, r2;
  CHECK_OK(sr_boundary(am, &(sr_labeled){.x = x, .y = pred0, .n = N}, &o, 11, &r, &err), &err);
  CHECK(t.increases == 0, "distances never increase (%lld increases)", (long long)t.increases);
  CHECK(t.calls == 60 * ((N + am->batch - 1) / am->batch), "one callback per step and batch: %lld",
        (long long)t.calls);
  int found = 0;
  double first_d = 0;
  for (int i = 0; i < N; i++) {
    found += r.found[i];
    CHECK(r.queries[i] == r.init_queries[i] + r.steps_run[i] + r.steps_run[i] / 10,
          "image %d: %lld queries = %lld init + %lld steps + stats", i, (long long)r.queries[i],
          (long long)r.init_queries[i], (long long)r.steps_run[i]);
    CHECK(r.init_queries[i] >= 2, "init: a draw and at least the blends 0 and one more");
    if (r.found[i]) {
      double nsq = 0;
      for (int64_t p = 0; p < am->d; p++) nsq += pow((double)r.adv[i * am->d + p] - x[i * am->d + p], 2);
      CHECK(fabs(nsq / (double)am->d - r.norm_sq_per_dim[i]) <= 1e-9 + 1e-6 * nsq,
            "norm of the reported adversarial");
      CHECK(fabs(sqrt(nsq) - t.last[i]) <= 1e-6 * sqrt(nsq), "last traced distance is the final one");
      first_d += r.norm_sq_per_dim[i];
    }
  }
  CHECK(found == N, "every image gets a confirmed adversarial (%d/%d)", found, N);
  CHECK(r.recheck_failed == 0 && r.init_failed == 0, "no failures");
  // convergence trace: checkpoints at 0, 6, ..., 60; best distances never grow; the last is the final norm
  for (int k = 0; k < SR_TRACE_POINTS; k++)
    CHECK(r.trace_at[k] == 6 * k, "checkpoint %d at step %lld", k, (long long)r.trace_at[k]);
  for (int i = 0; i < N; i++) {
    const double *tr = r.trace + (size_t)i * SR_TRACE_POINTS;
    for (int k = 1; k < SR_TRACE_POINTS; k++) CHECK(tr[k] <= tr[k - 1], "image %d: trace grows at %d", i, k);
    CHECK(fabs(tr[SR_TRACE_POINTS - 1] - r.norm_sq_per_dim[i]) <= 1e-9 * r.norm_sq_per_dim[i],
          "image %d: last trace %g vs %g", i, tr[SR_TRACE_POINTS - 1], r.norm_sq_per_dim[i]);
  }
  // confirm with an independent forward pass
  int32_t p[N];
  CHECK_OK(sr_amodel_predict(am, r.adv, N, p, NULL, &err), &err);
  int flipped = 0;
  for (int i = 0; i < N; i++) flipped += p[i] != pred0[i];
  CHECK(flipped == N, "adversarials change the prediction (%d/%d)", flipped, N);
  // same seed: same result; more steps only shrink the distances
  o.on_step = NULL;
  CHECK_OK(sr_boundary(am, &(sr_labeled){.x = x, .y = pred0, .n = N}, &o, 11, &r2, &err), &err);
  CHECK(!memcmp(r.adv, r2.adv, (size_t)N * (size_t)am->d * sizeof(float)), "same seed, same adversarials");
  CHECK(!memcmp(r.queries, r2.queries, sizeof(int64_t) * N), "same seed, same query counts");
  sr_attack_result_free(&r2);
  o.steps = 600;
  CHECK_OK(sr_boundary(am, &(sr_labeled){.x = x, .y = pred0, .n = N}, &o, 11, &r2, &err), &err);
  double later = 0;
  for (int i = 0; i < N; i++) {
    CHECK(r2.norm_sq_per_dim[i] <= r.norm_sq_per_dim[i], "image %d: 600 steps %g > 60 steps %g", i,
          r2.norm_sq_per_dim[i], r.norm_sq_per_dim[i]);
    later += r2.norm_sq_per_dim[i];
  }
  CHECK(later < 0.9 * first_d, "the attack makes progress: mean %g -> %g", first_d / N, later / N);
  // the 60-step run's last checkpoint is the 600-step run's first after the start (same seed, same path)
  CHECK(r2.trace_at[1] == 60 && r2.trace[1] == r.trace[SR_TRACE_POINTS - 1],
        "same path: step 60 of the longer run %g vs %g", r2.trace[1], r.trace[SR_TRACE_POINTS - 1]);
  printf("boundary: mean ||d||^2/D %.4g after 60 steps, %.4g after 600\n", first_d / N, later / N);
  sr_attack_result_free(&r);
  sr_attack_result_free(&r2);
}

int main(void) {
  sr_err err = {0};
  omp_set_num_threads(1);  // the attacks' small batches: a second thread mostly waits (and spins under load)
  char dir[] = "/tmp/sr_attack_XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "temp dir");
  sr_model m;
  sr_run_info info;
  sr_dataset ds;
  small_model(dir, &m, &info, &ds, &err);
  if (sr_test_fail_) return sr_test_done();
  sr_amodel am;
  CHECK_OK(sr_amodel_init(
               &am, &m, (sr_pixel_map){.c = ds.c, .gray = info.gray, .mean = info.mean, .scale = info.scale},
               16, &err),
           &err);
  float *x = sr_alloc((size_t)N * (size_t)am.d * sizeof(float));
  int32_t y[N], pred[N];
  for (int64_t i = 0; i < N * am.d; i++) x[i] = ds.images[i] / 255.0f;
  for (int i = 0; i < N; i++) y[i] = ds.labels[i];
  CHECK_OK(sr_amodel_predict(&am, x, N, pred, NULL, &err), &err);
  int correct = 0;
  for (int i = 0; i < N; i++) correct += pred[i] == y[i];
  double clean = (double)correct / N;
  printf("clean accuracy on %d test images: %.3f\n", N, clean);
  CHECK(clean > 0.5, "the model learned something (%g)", clean);
  double t0 = sr_now();
  test_noise(&am, x, y, clean);
  printf("noise %.1f s, %lld queries\n", sr_now() - t0, (long long)am.queries);
  test_pgd(&am, x, y, clean);
  double t1 = sr_now();
  int64_t q0 = am.queries;
  test_boundary(&am, x, pred);
  double t2 = sr_now();
  printf("noise+pgd %.1f s; boundary %.1f s, %.0f queries/s\n", t1 - t0, t2 - t1,
         (double)(am.queries - q0) / (t2 - t1));
  sr_free(x);
  sr_amodel_free(&am);
  sr_dataset_free(&ds);
  sr_model_free(&m);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0, "cleanup");
  return sr_test_done();
}
