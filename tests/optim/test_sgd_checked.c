// sr_sgd_step_checked (the trainer's step: the update with the finiteness check in the same pass) against
// sr_sgd_step: bit-identical weights and momentum for every update rule, below and above the size where
// the loop runs threaded, and 0 exactly when a gradient or an updated weight is not finite.
#include "simreg/optim.h"
#include "sr_test.h"

typedef struct {
  double momentum, dampening, weight_decay;
  int nesterov;
} rule;

static const rule RULES[] = {
    {0.9, 0.0, 5e-4, 0}, {0.9, 0.0, 5e-4, 1}, {0.0, 0.0, 5e-4, 0}, {0.9, 0.1, 0.0, 0}};

static sr_sgd make(const rule *ru, int64_t n) {
  sr_sgd o;
  sr_err err = {0};
  CHECK_OK(sr_sgd_init(&o, n, ru->momentum, ru->weight_decay, ru->nesterov, &err), &err);
  o.dampening = ru->dampening;
  return o;
}

// Five steps of both functions from the same start: same bits, and "finite" every time.
static void same_steps(const rule *ru, int64_t n, sr_rng *rng) {
  float *p0 = sr_alloc(sizeof(float) * (size_t)n), *p1 = sr_alloc(sizeof(float) * (size_t)n);
  float *g = sr_alloc(sizeof(float) * (size_t)n);
  sr_sgd a = make(ru, n), b = make(ru, n);
  for (int64_t i = 0; i < n; i++) p0[i] = p1[i] = (float)(sr_rng_uniform(rng) * 2 - 1);
  int finite = 1;
  for (int s = 0; s < 5; s++) {
    for (int64_t i = 0; i < n; i++) g[i] = (float)(sr_rng_uniform(rng) - 0.5) * 1e-2f;
    double lr = 0.1 / (s + 1);
    sr_sgd_step(&a, p0, g, lr);
    finite &= sr_sgd_step_checked(&b, p1, g, lr);
  }
  CHECK(finite, "finite steps reported as non-finite (n %lld)", (long long)n);
  CHECK(!memcmp(p0, p1, sizeof(float) * (size_t)n), "weights differ (n %lld, momentum %g, nesterov %d)",
        (long long)n, ru->momentum, ru->nesterov);
  CHECK(a.has_buf == b.has_buf, "has_buf differs");
  if (a.buf)
    CHECK(!memcmp(a.buf, b.buf, sizeof(float) * (size_t)n), "momentum buffers differ (n %lld)", (long long)n);
  sr_sgd_free(&a);
  sr_sgd_free(&b);
  sr_free(p0);
  sr_free(p1);
  sr_free(g);
}

// A NaN gradient, an Inf weight, or an update that overflows: each is reported, wherever it sits.
static void non_finite(int64_t n) {
  const rule ru = RULES[0];
  float *p = sr_alloc(sizeof(float) * (size_t)n), *g = sr_alloc(sizeof(float) * (size_t)n);
  const int64_t at[3] = {0, n / 2 + 3, n - 1};
  for (int k = 0; k < 3; k++)
    for (int kind = 0; kind < 3; kind++) {
      sr_sgd o = make(&ru, n);
      for (int64_t i = 0; i < n; i++) {
        p[i] = 0.5f;
        g[i] = 0.25f;
      }
      double lr = 0.1;
      if (kind == 0) g[at[k]] = NAN;
      if (kind == 1) p[at[k]] = -INFINITY;
      if (kind == 2) {
        g[at[k]] = 3e38f;  // finite, but the update p - lr * g overflows
        lr = 1e30;
      }
      CHECK(!sr_sgd_step_checked(&o, p, g, lr), "kind %d at %lld of %lld not reported", kind,
            (long long)at[k], (long long)n);
      sr_sgd_free(&o);
    }
  sr_free(p);
  sr_free(g);
}

int main(void) {
  sr_rng rng;
  sr_rng_seed(&rng, 11, 0);
  const int64_t sizes[2] = {1000, 200003};  // serial, and threaded (> 65536)
  for (int s = 0; s < 2; s++) {
    for (size_t r = 0; r < sizeof RULES / sizeof RULES[0]; r++) same_steps(&RULES[r], sizes[s], &rng);
    non_finite(sizes[s]);
  }
  return sr_test_done();
}
