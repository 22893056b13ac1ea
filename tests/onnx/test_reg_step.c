// One SGD step on the similarity regularizer alone through an imported model, against PyTorch
// (tests/onnx/gen_fixtures.py reg_step): the torchvision-style ResNet-18 fixture, its auto feature layers
// (the four stage outputs), k = 4 pairs through tape slots 1 and 2 in training mode, L_reg (threshold target,
// alpha 10, atanh), feature gradients seeded, backward, params -= 0.1 * grad; then weights and BatchNorm
// running statistics against the model PyTorch exported after the same step.
#include "simreg/npy.h"
#include "simreg/onnx.h"
#include "simreg/reg.h"
#include "sr_test.h"

#define K  4
#define LR 0.1f

static float *npy(const char *what, int64_t want) {
  char rel[128];
  snprintf(rel, sizeof rel, "tests/onnx/fixtures/resnet18_reg_%s.npy", what);
  sr_npy a;
  sr_err err = {0};
  float *f = NULL;
  if (sr_npy_read(sr_test_src(rel), &a, &err)) return NULL;
  if (a.count == want) sr_npy_as_f32(&a, &f, &err);
  sr_npy_free(&a);
  return f;
}

int main(void) {
  sr_err err = {0};
  sr_model m, after;
  const int64_t nx = (int64_t)K * 3 * 32 * 32;
  float *xa = npy("xa", nx), *xb = npy("xb", nx), *target = npy("target", K), *w = npy("w", 4),
        *lw = npy("loss", 1);
  if (!xa || !xb || !target || !w || !lw) {
    CHECK(0, "fixtures missing");
    return sr_test_done();
  }
  CHECK_OK(sr_model_from_onnx(sr_test_src("tests/onnx/fixtures/resnet18.onnx"), NULL, &m, NULL, &err), &err);
  CHECK_OK(sr_model_from_onnx(sr_test_src("tests/onnx/fixtures/resnet18_reg.onnx"), NULL, &after, NULL, &err),
           &err);
  if (err.code) return sr_test_done();
  CHECK(m.n_feat == 4, "auto features: %d", m.n_feat);
  sr_tape *ta, *tb;
  sr_reg_state s;
  CHECK_OK(sr_model_tape(&m, K, 1, &ta, &err), &err);
  CHECK_OK(sr_model_tape(&m, K, 2, &tb, &err), &err);
  CHECK_OK(sr_reg_state_init(&s, &m, NULL, 0, &err), &err);
  if (err.code || s.n_layers != 4) return sr_test_done();
  for (int l = 0; l < 4; l++) s.w[l] = w[l];
  float *out = calloc(K * 10, sizeof(float)), *fa[4], *fb[4], *ga[4], *gb[4];
  sr_model_zero_grad(&m);
  CHECK_OK(sr_tape_forward(ta, xa, 1, out, &err), &err);
  CHECK_OK(sr_tape_forward(tb, xb, 1, out, &err), &err);
  for (int l = 0; l < 4; l++) {
    size_t n = (size_t)K * (size_t)s.chw[l];
    fa[l] = malloc(4 * n);
    fb[l] = malloc(4 * n);
    ga[l] = malloc(4 * n);
    gb[l] = malloc(4 * n);
    CHECK_OK(sr_tape_feature(ta, s.feat[l], fa[l], &err), &err);
    CHECK_OK(sr_tape_feature(tb, s.feat[l], fb[l], &err), &err);
  }
  double loss;
  float s_cnn[K];
  CHECK_OK(sr_reg_loss(&s,
                       &(sr_reg_step){.feats_a = fa,
                                      .feats_b = fb,
                                      .k = K,
                                      .target = target,
                                      .alpha = 10.0,
                                      .loss = &loss,
                                      .s_cnn = s_cnn,
                                      .grad_a = ga,
                                      .grad_b = gb},
                       &err),
           &err);
  for (int l = 0; l < 4; l++) {
    CHECK_OK(sr_tape_feature_grad(ta, s.feat[l], ga[l], &err), &err);
    CHECK_OK(sr_tape_feature_grad(tb, s.feat[l], gb[l], &err), &err);
  }
  CHECK_OK(sr_tape_backward(ta, NULL, NULL, &err), &err);
  CHECK_OK(sr_tape_backward(tb, NULL, NULL, &err), &err);
  CHECK(fabs(loss - lw[0]) <= 1e-4 * fabs(lw[0]), "L_reg %.7g, PyTorch %.7g", loss, lw[0]);
  for (int64_t j = 0; j < m.n_params; j++) m.params[j] -= LR * m.grads[j];
  double worst = 0;
  for (int k = 0; k < m.n_tensors; k++) {
    const sr_tensor_info *ti = &m.tensors[k];
    if (ti->where == 2) continue;
    const float *a = (ti->where ? m.state : m.params) + ti->offset,
                *b = (ti->where ? after.state : after.params) + ti->offset;
    double e = sr_test_rel_to_max(a, b, (size_t)ti->count);
    CHECK(e <= 1e-4, "after the regularized step: %s rel err %.3g", ti->name, e);
    if (e > worst) worst = e;
  }
  printf(
      "resnet18 (imported), %d pairs, 4 auto feature layers: L_reg %.6f (PyTorch %.6f), worst tensor after "
      "the "
      "step %.2e\n",
      K, loss, lw[0], worst);
  for (int l = 0; l < 4; l++) {
    free(fa[l]);
    free(fb[l]);
    free(ga[l]);
    free(gb[l]);
  }
  free(out);
  sr_reg_state_free(&s);
  sr_model_free(&m);
  sr_model_free(&after);
  sr_free(xa);
  sr_free(xb);
  sr_free(target);
  sr_free(w);
  sr_free(lw);
  return sr_test_done();
}
