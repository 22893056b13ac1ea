// The training tape's activation gradients share buffers by backward liveness (tape.c bind_diffs). Checks
// that the sharing is real (far below one buffer per node) and harmless: a training-mode forward + backward
// of resnet18 width 0.25 and 0.125 (residual adds, aliased add inputs, fused BN/add -> ReLU, Winograd
// forward and backward-data) and cnn-small (flatten) gives the double reference's parameter and input
// gradients, twice in a row on the same tape.
#include "simreg/model.h"
#include "sr_test.h"

static double grads_vs_ref(sr_model *m, sr_tape *t, const float *x, const float *dy, int64_t n, int64_t d) {
  sr_err err = {0};
  int64_t k = m->cfg.classes;
  float *out = malloc(sizeof(float) * (size_t)(n * k)), *dx = malloc(sizeof(float) * (size_t)(n * d));
  float *gref = malloc(sizeof(float) * (size_t)m->n_params), *dxref = malloc(sizeof(float) * (size_t)(n * d));
  double *xd = malloc(sizeof(double) * (size_t)(n * d)), *dyd = malloc(sizeof(double) * (size_t)(n * k));
  double *od = malloc(sizeof(double) * (size_t)(n * k)), *gd = calloc((size_t)m->n_params, sizeof(double));
  double *dxd = calloc((size_t)(n * d), sizeof(double));
  for (int64_t i = 0; i < n * d; i++) xd[i] = x[i];
  for (int64_t i = 0; i < n * k; i++) dyd[i] = dy[i];
  // the reference first: the tape's training forward moves the running statistics it would read
  sr_ref_run *run = NULL;
  CHECK_OK(sr_ref_forward(m, xd, n, 1, od, &run, &err), &err);
  CHECK_OK(sr_ref_backward(run, dyd, gd, dxd, &err), &err);
  sr_ref_free(run);
  sr_model_zero_grad(m);
  CHECK_OK(sr_tape_forward(t, x, 1, out, &err), &err);
  CHECK_OK(sr_tape_backward(t, dy, dx, &err), &err);
  for (int64_t i = 0; i < m->n_params; i++) gref[i] = (float)gd[i];
  for (int64_t i = 0; i < n * d; i++) dxref[i] = (float)dxd[i];
  double eg = sr_test_rel_to_max(m->grads, gref, (size_t)m->n_params);
  double ex = sr_test_rel_to_max(dx, dxref, (size_t)(n * d));
  free(out);
  free(dx);
  free(gref);
  free(dxref);
  free(xd);
  free(dyd);
  free(od);
  free(gd);
  free(dxd);
  return eg > ex ? eg : ex;
}

static void check(const char *arch, double width, int hw, double max_share, int want_wino) {
  sr_err err = {0};
  sr_rng rng;
  sr_rng_seed(&rng, 4242, 0);
  sr_model m;
  sr_model_config cfg = {.in_c = 1, .in_h = hw, .in_w = hw, .classes = 10, .width = width};
  snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
  CHECK_OK(sr_model_create(&m, &cfg, &rng, &err), &err);
  int64_t n = 4, d = (int64_t)hw * hw;
  sr_tape *t = NULL;
  CHECK_OK(sr_model_tape(&m, n, 0, &t, &err), &err);
  size_t per_node = 0;  // what one plain gradient buffer per node would take
  for (int i = 0; i < m.n_nodes; i++)
    per_node +=
        sizeof(float) * (size_t)n * (size_t)m.nodes[i].c * (size_t)m.nodes[i].h * (size_t)m.nodes[i].w;
  size_t shared = sr_tape_diff_bytes(t);
  if (!sr_wino_native()) {
    want_wino = 0;
    max_share += 0.1;
  }  // AVX-512: direct convolutions, other sharing
  CHECK(sr_tape_winograd_convs(t) == want_wino, "%s: %d Winograd convolutions, expected %d", arch,
        sr_tape_winograd_convs(t), want_wino);
  printf(
      "%-9s width %.3g batch %lld: %d Winograd convs, gradient buffers %.2f MB shared vs %.2f MB one per "
      "node "
      "(%.0f%%)\n",
      arch, width, (long long)n, sr_tape_winograd_convs(t), (double)shared / 1e6, (double)per_node / 1e6,
      100.0 * (double)shared / (double)per_node);
  CHECK(shared > 0 && (double)shared < max_share * (double)per_node,
        "%s: %zu bytes of gradient buffers (one per node: %zu)", arch, shared, per_node);
  float *x = malloc(sizeof(float) * (size_t)(n * d)), *dy = malloc(sizeof(float) * (size_t)(n * 10));
  for (int rep = 0; rep < 2; rep++) {  // the second pass reuses buffers holding the first pass's gradients
    for (int64_t i = 0; i < n * d; i++) x[i] = (float)sr_rng_normal(&rng);
    for (int64_t i = 0; i < n * 10; i++) dy[i] = (float)sr_rng_normal(&rng);
    double e = grads_vs_ref(&m, t, x, dy, n, d);
    printf("  pass %d: parameter and input gradients vs double reference, rel err %.2e\n", rep + 1, e);
    CHECK(e < 1e-4, "%s pass %d: rel err %.3g", arch, rep + 1, e);
  }
  free(x);
  free(dy);
  sr_model_free(&m);
}

// One Winograd convolution (64 -> 64 at 32x32, batch 8: 512 tiles, so its weight gradient sums two chunks of
// tiles) behind a conv that gives it an nChw8c input; with a bias its weight gradient stays oneDNN's.
static void check_conv(int bias) {
  sr_err err = {0};
  sr_rng rng;
  sr_rng_seed(&rng, 77, (uint64_t)bias);
  sr_model m;
  sr_model_config cfg = {.arch = "custom", .in_c = 8, .in_h = 32, .in_w = 32, .classes = 10};
  CHECK_OK(sr_model_init(&m, &cfg, &err), &err);
  int h = sr_graph_relu(
      &m, sr_graph_conv(&m, 0, &(sr_conv_spec){.out_c = 64, .k = 3, .stride = 1, .pad = 1, .bias = 1}, "c1"));
  h = sr_graph_relu(
      &m,
      sr_graph_conv(&m, h, &(sr_conv_spec){.out_c = 64, .k = 3, .stride = 1, .pad = 1, .bias = bias}, "c2"));
  CHECK(sr_graph_linear(&m, sr_graph_gap(&m, h), 10, 1, "fc") > 0, "graph");
  CHECK_OK(sr_model_finalize(&m, &rng, &err), &err);
  int64_t n = 8, d = 8 * 32 * 32;
  sr_tape *t = NULL;
  CHECK_OK(sr_model_tape(&m, n, 0, &t, &err), &err);
  CHECK(sr_tape_winograd_convs(t) == sr_wino_native(), "conv 64 -> 64 runs as Winograd where native (%d)",
        sr_tape_winograd_convs(t));
  float *x = malloc(sizeof(float) * (size_t)(n * d)), *dy = malloc(sizeof(float) * (size_t)(n * 10));
  for (int64_t i = 0; i < n * d; i++) x[i] = (float)sr_rng_normal(&rng);
  for (int64_t i = 0; i < n * 10; i++) dy[i] = (float)sr_rng_normal(&rng);
  double e = grads_vs_ref(&m, t, x, dy, n, d);
  printf("conv 64 -> 64, 32x32, batch 8, bias %d: gradients vs double reference, rel err %.2e\n", bias, e);
  CHECK(e < 1e-4, "conv bias %d: rel err %.3g", bias, e);
  free(x);
  free(dy);
  sr_model_free(&m);
}

int main(void) {
  check_conv(0);
  check_conv(1);
  // Winograd (winograd.c's rule): layers 1-4 at width 0.25 on 16x16 (4 + 3 + 3 + 3 convs), layers 2-4 at
  // width 0.125 on 28x28 (14x14, 7x7 and 4x4: partial tiles)
  check("resnet18", 0.25, 16, 0.3, 13);
  check("resnet18", 0.125, 28, 0.3, 9);
  // few nodes: around a fused BN -> ReLU three gradients of the widest layer are live at once
  check("cnn-small", 1.0, 28, 0.7, 1);  // its 32 -> 64 conv at 14x14
  return sr_test_done();
}
