// sr_tape_backward_input (the attacks' backward) skips every parameter gradient: its input gradient must be
// exactly the full backward's, and the model's gradient buffer must stay as it was. Eval mode (as attacks
// run) and training mode, resnet18 (convolutions, BN, fused adds) and cnn-small (linear layers with bias),
// with Winograd on and off where the CPU has it.
#include <math.h>
#include <string.h>

#include "simreg/model.h"
#include "sr_test.h"

static void check(const char *arch, double width, int hw, int training, int wino) {
  sr_err err = {0};
  sr_rng rng;
  sr_rng_seed(&rng, 99, (uint64_t)training);
  sr_model m;
  sr_model_config cfg = {.in_c = 1, .in_h = hw, .in_w = hw, .classes = 10, .width = width};
  snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
  CHECK_OK(sr_model_create(&m, &cfg, &rng, &err), &err);
  CHECK_OK(sr_model_set_winograd(&m, wino, &err), &err);
  int64_t n = 8, d = (int64_t)hw * hw;
  size_t np = (size_t)m.n_params;
  float *x = malloc(sizeof(float) * (size_t)(n * d)), *dy = malloc(sizeof(float) * (size_t)(n * 10));
  float *out = malloc(sizeof(float) * (size_t)(n * 10)), *dx_full = malloc(sizeof(float) * (size_t)(n * d));
  float *dx_in = malloc(sizeof(float) * (size_t)(n * d)), *mark = malloc(sizeof(float) * np);
  for (int64_t i = 0; i < n * d; i++) x[i] = (float)sr_rng_normal(&rng);
  for (int64_t i = 0; i < n * 10; i++) dy[i] = (float)sr_rng_normal(&rng);
  sr_tape *t = NULL;
  CHECK_OK(sr_model_tape(&m, n, 0, &t, &err), &err);
  // training mode moves the running statistics: both passes start from the same ones
  float *st0 = malloc(sizeof(float) * (size_t)m.n_state);
  memcpy(st0, m.state, sizeof(float) * (size_t)m.n_state);
  sr_model_zero_grad(&m);
  CHECK_OK(sr_tape_forward(t, x, training, out, &err), &err);
  CHECK_OK(sr_tape_backward(t, dy, dx_full, &err), &err);
  double gsum = 0;
  for (size_t i = 0; i < np; i++) gsum += fabs(m.grads[i]);
  CHECK(gsum > 0, "%s: the full backward wrote parameter gradients", arch);
  for (size_t i = 0; i < np; i++) mark[i] = m.grads[i] = (float)i * 1e-3f;
  memcpy(m.state, st0, sizeof(float) * (size_t)m.n_state);
  CHECK_OK(sr_tape_forward(t, x, training, out, &err), &err);
  CHECK_OK(sr_tape_backward_input(t, dy, dx_in, &err), &err);
  CHECK(memcmp(dx_full, dx_in, sizeof(float) * (size_t)(n * d)) == 0,
        "%s training %d winograd %d: input gradient differs from the full backward's", arch, training, wino);
  CHECK(memcmp(mark, m.grads, sizeof(float) * np) == 0,
        "%s training %d winograd %d: parameter gradients were touched", arch, training, wino);
  printf(
      "%-9s w%.3g %dx%d training %d winograd %d (%d convs): input gradient identical, parameters untouched\n",
      arch, width, hw, hw, training, wino, sr_tape_winograd_convs(t));
  CHECK(sr_tape_backward_input(t, dy, NULL, &err) == SR_ERR_ARG, "a NULL input-gradient buffer is refused");
  free(x);
  free(dy);
  free(out);
  free(dx_full);
  free(dx_in);
  free(mark);
  free(st0);
  sr_model_free(&m);
}

int main(void) {
  for (int training = 0; training <= 1; training++) {
    for (int wino = 0; wino <= 1; wino++) check("resnet18", 0.25, 16, training, wino);
    check("cnn-small", 1, 28, training, 0);
  }
  return sr_test_done();
}
