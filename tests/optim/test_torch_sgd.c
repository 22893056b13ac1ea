// sr_sgd_step and sr_lr_at against torch.optim (tests/fixtures/sgd.safetensors, "rule.*" and "lr.*"):
// five steps on a flat vector with fixed gradients and changing learning rates, for momentum + weight
// decay, Nesterov, no momentum and dampening; StepLR, CosineAnnealingLR and the paper's cyclic schedule
// (a LambdaLR) over 30 epochs.
#include "models/torch_fixture.h"
#include "simreg/optim.h"

typedef struct {
  const char *name;
  double momentum, dampening, weight_decay;
  int nesterov;
} rule;

static const rule RULES[] = {{"mom_wd", 0.9, 0.0, 5e-4, 0},
                             {"nesterov", 0.9, 0.0, 5e-4, 1},
                             {"no_mom", 0.0, 0.0, 5e-4, 0},
                             {"damp", 0.9, 0.1, 0.0, 0}};

static const double *f64(const sr_st_file *f, const char *name, int64_t n) {
  const sr_st_tensor *t = sr_st_find(f, name);
  CHECK(t && t->dtype == SR_F64 && t->count == n, "fixture '%s' missing or not F64[%lld]", name,
        (long long)n);
  return t && t->dtype == SR_F64 && t->count == n ? t->data : NULL;
}

static void check_rules(const sr_st_file *f) {
  const int64_t n = 1000;
  const float *p0 = fx_f32(f, "rule.p0", n);
  const double *lr = f64(f, "rule.lr", 5);
  const float *g[5];
  char key[64];
  for (int i = 0; i < 5; i++) {
    snprintf(key, sizeof key, "rule.g%d", i);
    g[i] = fx_f32(f, key, n);
    if (!g[i]) return;
  }
  if (!p0 || !lr) return;
  float *p = sr_alloc(sizeof(float) * (size_t)n);
  for (size_t r = 0; r < sizeof RULES / sizeof RULES[0]; r++) {
    const rule *ru = &RULES[r];
    sr_sgd o;
    sr_err err = {0};
    CHECK_OK(sr_sgd_init(&o, n, ru->momentum, ru->weight_decay, ru->nesterov, &err), &err);
    o.dampening = ru->dampening;
    memcpy(p, p0, sizeof(float) * (size_t)n);
    for (int i = 0; i < 5; i++) sr_sgd_step(&o, p, g[i], lr[i]);
    snprintf(key, sizeof key, "rule.%s", ru->name);
    snprintf(key + 32, 32, "SGD %s", ru->name);
    // Same float32 operations in the same order as torch's single-tensor SGD: expect (near) bit equality.
    fx_expect(key + 32, p, fx_f32(f, key, n), n, 1e-6);
    sr_sgd_free(&o);
  }
  sr_free(p);
  // Invalid settings are refused, as torch does.
  sr_sgd o;
  sr_err err = {0};
  CHECK(sr_sgd_init(&o, 10, 0.0, 0.0, 1, &err) == SR_ERR_ARG, "Nesterov without momentum accepted");
  CHECK(sr_sgd_init(&o, 10, -0.1, 0.0, 0, &err) == SR_ERR_ARG, "negative momentum accepted");
}

static void check_schedules(const sr_st_file *f) {
  const struct {
    const char *key;
    sr_lr_schedule s;
  } S[] = {
      {"lr.step", {.kind = SR_LR_STEP, .lr0 = 0.1, .step_size = 10, .gamma = 0.1}},
      {"lr.cosine", {.kind = SR_LR_COSINE, .lr0 = 0.1, .total_epochs = 30, .eta_min = 0.001}},
      {"lr.cyclic", {.kind = SR_LR_CYCLIC, .lr0 = 0.1}},
  };
  for (size_t k = 0; k < sizeof S / sizeof S[0]; k++) {
    const double *want = f64(f, S[k].key, 30);
    if (!want) continue;
    double worst = 0;
    for (int e = 0; e < 30; e++) {
      double got = sr_lr_at(&S[k].s, e), r = fabs(got - want[e]) / want[e];
      worst = fmax(worst, r);
      CHECK(r < 1e-12, "%s epoch %d: %.17g vs torch %.17g", S[k].key, e, got, want[e]);
    }
    printf("  %-46s %9.2e\n", S[k].key, worst);
  }
}

int main(void) {
  sr_st_file f;
  if (fx_open("sgd.safetensors", &f)) return sr_test_done();
  check_rules(&f);
  check_schedules(&f);
  sr_st_free(&f);
  return sr_test_done();
}
