// End to end against PyTorch (reg.safetensors, e2e.*): a tiny resnet18 (width 0.0625, 1x16x16), the two
// halves of k = 4 pairs on tape slots 1 and 2 in training mode, L_reg over all five feature layers
// (stem, layer1..4), feature gradients seeded into both tapes and backward: the gradients of L_reg w.r.t.
// every parameter, the layer weights w and both inputs, as the training loop will run it: once as two tapes
// of k, once as one ghost-BatchNorm tape of 2k (sr_model_tape_groups, each half with its own statistics).
#include <stdlib.h>

#include "reg_fixture.h"
#include "simreg/reg.h"

#define TOL 1e-4
#define K   4
#define HWI 16

static void pass(sr_model *m, sr_st_file *f, const float *xa, const float *xb, const float *target,
                 const float *w, int ghost) {
  sr_err err = {0};
  sr_tape *ta = NULL, *tb = NULL;
  if (ghost) {
    CHECK_OK(sr_model_tape_groups(m, 2 * K, 2, 1, &ta, &err), &err);
  } else {
    CHECK_OK(sr_model_tape(m, K, 1, &ta, &err), &err);
    CHECK_OK(sr_model_tape(m, K, 2, &tb, &err), &err);
  }
  sr_reg_state s;
  CHECK_OK(sr_reg_state_init(&s, m, NULL, 0, &err), &err);
  CHECK(s.n_layers == 5, "resnet18 has 5 feature layers, got %d", s.n_layers);
  if (!xa || !xb || !target || !w || !ta || (!ghost && !tb) || s.n_layers != 5) return;
  for (int l = 0; l < 5; l++) s.w[l] = w[l];

  sr_model_zero_grad(m);
  // [a; b] stacked: the ghost tape's input, features and feature gradients; the halves for two tapes
  float *out = malloc(sizeof(float) * 2 * K * 10), *x = malloc(sizeof(float) * 2 * K * HWI * HWI),
        *dx = malloc(sizeof(float) * 2 * K * HWI * HWI), *dxa = dx, *dxb = dx + K * HWI * HWI;
  memcpy(x, xa, sizeof(float) * K * HWI * HWI);
  memcpy(x + K * HWI * HWI, xb, sizeof(float) * K * HWI * HWI);
  if (ghost) {
    CHECK_OK(sr_tape_forward(ta, x, 1, out, &err), &err);
  } else {
    CHECK_OK(sr_tape_forward(ta, xa, 1, out, &err), &err);
    CHECK_OK(sr_tape_forward(tb, xb, 1, out, &err), &err);
  }
  float *fa[5], *fb[5], *ga[5], *gb[5];
  for (int l = 0; l < 5; l++) {
    size_t n = K * (size_t)s.chw[l];
    CHECK(s.chw[l] == sr_model_feature_size(m, s.feat[l]), "layer %d size", l);
    fa[l] = malloc(4 * 2 * n);
    fb[l] = fa[l] + n;
    ga[l] = malloc(4 * 2 * n);
    gb[l] = ga[l] + n;
    if (ghost) {
      CHECK_OK(sr_tape_feature(ta, s.feat[l], fa[l], &err), &err);
    } else {
      CHECK_OK(sr_tape_feature(ta, s.feat[l], fa[l], &err), &err);
      CHECK_OK(sr_tape_feature(tb, s.feat[l], fb[l], &err), &err);
    }
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
  for (int l = 0; l < 5; l++) {
    CHECK_OK(sr_tape_feature_grad(ta, s.feat[l], ga[l], &err), &err);  // ghost: both halves
    if (!ghost) CHECK_OK(sr_tape_feature_grad(tb, s.feat[l], gb[l], &err), &err);
  }
  if (ghost) {
    CHECK_OK(sr_tape_backward(ta, NULL, dx, &err), &err);
  } else {
    CHECK_OK(sr_tape_backward(ta, NULL, dxa, &err), &err);
    CHECK_OK(sr_tape_backward(tb, NULL, dxb, &err), &err);
  }

  double worst = 0;
  float lf = (float)loss, dw[5];
  for (int l = 0; l < 5; l++) dw[l] = (float)s.dw[l];
  printf("%s: resnet18 width 0.0625, 1x%dx%d, %d pairs, alpha 10, atanh: L_reg = %.6f\n",
         ghost ? "one ghost-BN tape of 2k" : "two tapes of k", HWI, HWI, K, loss);
  worst = fmax(worst, fx_expect("L_reg", &lf, fx_f32(f, "e2e.loss", 1), 1, TOL));
  worst = fmax(worst, fx_expect("S^CNN", s_cnn, fx_f32(f, "e2e.s_cnn", K), K, TOL));
  worst = fmax(worst, fx_expect("dL/dw", dw, fx_f32(f, "e2e.dw", 5), 5, TOL));
  char key[192], what[192];
  for (int l = 0; l < 5; l++) {
    snprintf(key, sizeof key, "e2e.run_mean.%d", l);
    snprintf(what, sizeof what, "running mean %s", m->feat_name[s.feat[l]]);
    worst = fmax(worst, fx_expect(what, s.run_mean[l], fx_f32(f, key, s.channels[l]), s.channels[l], TOL));
  }
  worst =
      fmax(worst, fx_expect("dL/dx half A", dxa, fx_f32(f, "e2e.dxa", K * HWI * HWI), K * HWI * HWI, TOL));
  worst =
      fmax(worst, fx_expect("dL/dx half B", dxb, fx_f32(f, "e2e.dxb", K * HWI * HWI), K * HWI * HWI, TOL));
  double wg = 0;
  for (int i = 0; i < m->n_tensors; i++) {
    const sr_tensor_info *ti = &m->tensors[i];
    if (ti->where != 0) continue;
    snprintf(key, sizeof key, "e2e.grad.%s", ti->name);
    const float *want = fx_f32(f, key, ti->count);
    if (!strncmp(ti->name, "fc.", 3)) {  // the classifier is not on any regularized path
      int zero = 1;
      for (int64_t q = 0; q < ti->count; q++) zero &= m->grads[ti->offset + q] == 0.0f;
      CHECK(zero, "%s should get no gradient from L_reg", ti->name);
      continue;
    }
    snprintf(what, sizeof what, "grad %s", ti->name);
    wg = fmax(wg, fx_expect(what, m->grads + ti->offset, want, ti->count, TOL));
  }
  worst = fmax(worst, wg);
  printf("worst over parameter gradients %.2e; overall %.2e (limit %.0e)\n", wg, worst, TOL);
  for (int l = 0; l < 5; l++) {
    free(fa[l]);
    free(ga[l]);
  }
  free(out);
  free(x);
  free(dx);
  sr_reg_state_free(&s);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  sr_st_file f;
  if (fx_open("reg.safetensors", &f)) return sr_test_done();
  sr_err err = {0};
  sr_model m;
  sr_rng rng;
  sr_rng_seed(&rng, 1, 0);
  sr_model_config cfg = {
      .arch = "resnet18", .in_c = 1, .in_h = HWI, .in_w = HWI, .classes = 10, .width = 0.0625};
  if (sr_model_create(&m, &cfg, &rng, &err)) {
    CHECK(0, "create: %s", err.msg);
    return sr_test_done();
  }
  CHECK(fx_load_prefixed(&m, &f, "e2e.init.") == m.n_tensors, "all tensors loaded");
  const float *xa = fx_f32(&f, "e2e.xa", K * HWI * HWI), *xb = fx_f32(&f, "e2e.xb", K * HWI * HWI);
  const float *target = fx_f32(&f, "e2e.target", K), *w = fx_f32(&f, "e2e.w", 5);
  pass(&m, &f, xa, xb, target, w, 0);
  pass(&m, &f, xa, xb, target, w, 1);
  sr_model_free(&m);
  sr_st_free(&f);
  return sr_test_done();
}
