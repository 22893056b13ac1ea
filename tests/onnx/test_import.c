// ONNX import against PyTorch (fixtures from tests/onnx/gen_fixtures.py): eval-mode logits through the tape,
// the inference plan and the double reference path; the input gradient of the cross-entropy; one plain SGD
// step in training mode (weights and BatchNorm running statistics) against PyTorch's model after the step.
#include "simreg/layers.h"
#include "simreg/npy.h"
#include "simreg/onnx.h"
#include "sr_test.h"

#define LR 0.1f

static float *load_npy(const char *name, const char *what, int64_t *count) {
  char rel[256];
  snprintf(rel, sizeof rel, "tests/onnx/fixtures/%s_%s.npy", name, what);
  sr_npy a;
  sr_err err = {0};
  float *f = NULL;
  if (sr_npy_read(sr_test_src(rel), &a, &err)) return NULL;
  if (!sr_npy_as_f32(&a, &f, &err)) *count = a.count;
  sr_npy_free(&a);
  return f;
}

static int import(const char *name, const char *suffix, sr_model *m) {
  char rel[256];
  snprintf(rel, sizeof rel, "tests/onnx/fixtures/%s%s.onnx", name, suffix);
  sr_err err = {0};
  sr_onnx_info info;
  sr_status s = sr_model_from_onnx(sr_test_src(rel), NULL, m, &info, &err);
  CHECK(s == SR_OK, "import %s: %s", rel, err.msg);
  if (!s)
    CHECK(info.opset == 13 && !strcmp(info.input, "input"), "%s: opset %lld input %s", rel,
          (long long)info.opset, info.input);
  return s == SR_OK;
}

static void check_net(const char *name) {
  int64_t nx = 0, nl = 0, nd = 0;
  float *x = load_npy(name, "x", &nx), *want = load_npy(name, "logits", &nl),
        *dx_want = load_npy(name, "dx", &nd);
  sr_model m;
  if (!x || !want || !dx_want || !import(name, "", &m)) {
    CHECK(0, "%s: fixtures missing", name);
    return;
  }
  sr_err err = {0};
  const int N = 4;
  int K = m.cfg.classes;
  CHECK(K == 10 && nl == N * K && nx == nd, "%s: %d classes", name, K);
  float *out = calloc((size_t)nl, sizeof(float)), *dl = calloc((size_t)nl, sizeof(float)),
        *dx = calloc((size_t)nx, sizeof(float));
  int32_t labels[4] = {0, 1, 2, 3};
  // eval-mode logits: tape, plan, reference
  CHECK_OK(sr_model_forward(&m, x, N, 0, out, &err), &err);
  double r = sr_test_rel_to_max(out, want, (size_t)nl);
  CHECK(r <= 1e-4, "%s tape logits rel err %.3g", name, r);
  printf("%s: tape logits rel %.2e", name, r);
  CHECK_OK(sr_model_infer(&m, x, N, out, &err), &err);
  r = sr_test_rel_to_max(out, want, (size_t)nl);
  CHECK(r <= 1e-4, "%s plan logits rel err %.3g", name, r);
  printf(", plan %.2e", r);
  double *xd = calloc((size_t)nx, sizeof(double)), *od = calloc((size_t)nl, sizeof(double));
  sr_ref_run *run = NULL;
  for (int64_t j = 0; j < nx; j++) xd[j] = x[j];
  CHECK_OK(sr_ref_forward(&m, xd, N, 0, od, &run, &err), &err);
  for (int64_t j = 0; j < nl; j++) out[j] = (float)od[j];
  r = sr_test_rel_to_max(out, want, (size_t)nl);
  CHECK(r <= 1e-4, "%s reference logits rel err %.3g", name, r);
  printf(", ref %.2e", r);
  sr_ref_free(run);
  // input gradient of the mean cross-entropy (eval mode)
  sr_tape *t;
  CHECK_OK(sr_model_tape(&m, N, 0, &t, &err), &err);
  CHECK_OK(sr_tape_forward(t, x, 0, out, &err), &err);
  sr_softmax_ce(dl, out, labels, N, K, NULL);
  sr_model_zero_grad(&m);
  CHECK_OK(sr_tape_backward(t, dl, dx, &err), &err);
  r = sr_test_rel_to_max(dx, dx_want, (size_t)nx);
  CHECK(r <= 1e-4, "%s input gradient rel err %.3g", name, r);
  printf(", dx %.2e", r);
  // one SGD step in training mode
  sr_model_zero_grad(&m);
  CHECK_OK(sr_tape_forward(t, x, 1, out, &err), &err);
  sr_softmax_ce(dl, out, labels, N, K, NULL);
  CHECK_OK(sr_tape_backward(t, dl, NULL, &err), &err);
  for (int64_t j = 0; j < m.n_params; j++) m.params[j] -= LR * m.grads[j];
  m.params_version++;
  sr_model after;
  if (import(name, "_sgd", &after)) {
    CHECK(after.n_params == m.n_params && after.n_state == m.n_state, "%s: sizes", name);
    double worst = 0;
    for (int k = 0; k < m.n_tensors && after.n_params == m.n_params; k++) {
      const sr_tensor_info *ti = &m.tensors[k];
      if (ti->where == 2) continue;
      const float *a = (ti->where ? m.state : m.params) + ti->offset,
                  *b = (ti->where ? after.state : after.params) + ti->offset;
      double e = sr_test_rel_to_max(a, b, (size_t)ti->count);
      CHECK(e <= 1e-4, "%s after SGD: %s rel err %.3g", name, ti->name, e);
      CHECK(!strcmp(ti->name, after.tensors[k].name), "%s: tensor names %s / %s", name, ti->name,
            after.tensors[k].name);
      if (e > worst) worst = e;
    }
    printf(", SGD step worst tensor %.2e\n", worst);
    sr_model_free(&after);
  }
  sr_model_free(&m);
  free(out);
  free(dl);
  free(dx);
  free(xd);
  free(od);
  sr_free(x);
  sr_free(want);
  sr_free(dx_want);
}

// The fuzz seeds (Sigmoid, Tanh, MatMul, Clip, Sub/Div/Mul constants, folding, asymmetric pads, auto_pad,
// groups) against the torch interpreter of tests/onnx/eval_onnx.py: logits of tape, plan and reference path;
// input gradients of tape and reference.
static void check_seed(const char *name) {
  char rel[128], fx[64];
  snprintf(rel, sizeof rel, "fuzz/corpus/onnx/%s.onnx", name);
  snprintf(fx, sizeof fx, "seed_%s", name);
  int64_t nx = 0, nl = 0, nd = 0;
  float *x = load_npy(fx, "x", &nx), *want = load_npy(fx, "logits", &nl), *dx_want = load_npy(fx, "dx", &nd);
  sr_model m;
  sr_err err = {0};
  if (!x || !want || !dx_want || sr_model_from_onnx(sr_test_src(rel), NULL, &m, NULL, &err)) {
    CHECK(0, "%s: fixtures or import: %s", name, err.msg);
    return;
  }
  const int N = 4;
  int K = m.cfg.classes;
  int32_t labels[4];
  for (int i = 0; i < N; i++) labels[i] = i % K;
  float *out = calloc((size_t)nl, sizeof(float)), *dl = calloc((size_t)nl, sizeof(float)),
        *dx = calloc((size_t)nx, sizeof(float));
  double *xd = calloc((size_t)nx, sizeof(double)), *od = calloc((size_t)nl, sizeof(double)),
         *dld = calloc((size_t)nl, sizeof(double)), *dxd = calloc((size_t)nx, sizeof(double)),
         *dp = calloc((size_t)m.n_params + 1, sizeof(double));
  CHECK(nl == (int64_t)N * K, "%s: %lld logits", name, (long long)nl);
  CHECK_OK(sr_model_infer(&m, x, N, out, &err), &err);
  double r1 = sr_test_rel_to_max(out, want, (size_t)nl);
  sr_tape *t;
  CHECK_OK(sr_model_tape(&m, N, 0, &t, &err), &err);
  CHECK_OK(sr_tape_forward(t, x, 0, out, &err), &err);
  double r2 = sr_test_rel_to_max(out, want, (size_t)nl);
  sr_softmax_ce(dl, out, labels, N, K, NULL);
  CHECK_OK(sr_tape_backward(t, dl, dx, &err), &err);
  double r3 = sr_test_rel_to_max(dx, dx_want, (size_t)nx);
  sr_ref_run *run = NULL;
  for (int64_t j = 0; j < nx; j++) xd[j] = x[j];
  CHECK_OK(sr_ref_forward(&m, xd, N, 0, od, &run, &err), &err);
  sr_softmax_ce_ref(dld, od, labels, N, K);
  CHECK_OK(sr_ref_backward(run, dld, dp, dxd, &err), &err);
  sr_ref_free(run);
  for (int64_t j = 0; j < nl; j++) out[j] = (float)od[j];
  for (int64_t j = 0; j < nx; j++) dx[j] = (float)dxd[j];
  double r4 = sr_test_rel_to_max(out, want, (size_t)nl), r5 = sr_test_rel_to_max(dx, dx_want, (size_t)nx);
  CHECK(r1 <= 1e-4 && r2 <= 1e-4 && r4 <= 1e-4, "%s logits rel err plan %.3g tape %.3g ref %.3g", name, r1,
        r2, r4);
  CHECK(r3 <= 1e-4 && r5 <= 1e-4, "%s input gradient rel err tape %.3g ref %.3g", name, r3, r5);
  printf("seed %s: logits plan %.2e tape %.2e ref %.2e, dx tape %.2e ref %.2e\n", name, r1, r2, r4, r3, r5);
  sr_model_free(&m);
  free(out);
  free(dl);
  free(dx);
  free(xd);
  free(od);
  free(dld);
  free(dxd);
  free(dp);
  sr_free(x);
  sr_free(want);
  sr_free(dx_want);
}

int main(void) {
  const char *nets[] = {"resnet18", "vgg11bn", "normnet", "concatnet", "dwnet"};
  for (int k = 0; k < 5; k++) check_net(nets[k]);
  const char *seeds[] = {"cbr", "concat", "misc", "pads"};
  for (int k = 0; k < 4; k++) check_seed(seeds[k]);
  return sr_test_done();
}
