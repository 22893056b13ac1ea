// An imported torchvision-style ResNet-18 runs on the same engine as the built-in one: its inference plan
// has the same steps and fusions (BatchNorm folded, ReLU and residual add as post-ops, adds in place) and the
// same Winograd choices, and its tape the same Winograd convolutions, as the built-in resnet18 of the same
// widths (width 0.125: 8, 16, 32, 64 channels). The stems differ (3x3 here, 7x7 built in), which changes
// no step. Speed is measured by bench/onnx_vs_builtin.sh; this is the structural reason it matches.
#include "simreg/onnx.h"
#include "sr_test.h"

static void stats(sr_model *m, int wino, sr_infer_stats *st, int *tape_wino) {
  sr_err err = {0};
  sr_infer *p = NULL;
  sr_infer_options o = {.winograd = wino};
  CHECK_OK(sr_infer_create_opts(m, 8, &o, &p, &err), &err);
  if (p) sr_infer_get_stats(p, st);
  sr_infer_free(p);
  sr_tape *t = NULL;
  CHECK_OK(sr_model_set_winograd(m, wino, &err), &err);
  CHECK_OK(sr_model_tape(m, 8, 0, &t, &err), &err);
  *tape_wino = t ? sr_tape_winograd_convs(t) : -1;
}

int main(void) {
  sr_err err = {0};
  sr_model a, b;
  sr_rng rng;
  sr_rng_seed(&rng, 0, 0);
  sr_model_config cfg = {
      .arch = "resnet18", .in_c = 3, .in_h = 32, .in_w = 32, .classes = 10, .width = 0.125};
  CHECK_OK(sr_model_create(&a, &cfg, &rng, &err), &err);
  CHECK_OK(sr_model_from_onnx(sr_test_src("tests/onnx/fixtures/resnet18.onnx"), NULL, &b, NULL, &err), &err);
  if (err.code) return sr_test_done();
  CHECK(a.n_nodes == b.n_nodes, "nodes: built-in %d, imported %d", a.n_nodes, b.n_nodes);
  for (int wino = 0; wino < 2; wino++) {
    sr_infer_stats sa = {0}, sb = {0};
    int ta = 0, tb = 0;
    stats(&a, wino, &sa, &ta);
    stats(&b, wino, &sb, &tb);
    printf(
        "winograd %d: steps %d/%d, bn folded %d/%d, relu fused %d/%d, add fused %d/%d, in place %d/%d, "
        "winograd plan %d/%d tape %d/%d (built-in/imported)\n",
        wino, sa.steps, sb.steps, sa.bn_folded, sb.bn_folded, sa.relu_fused, sb.relu_fused, sa.add_fused,
        sb.add_fused, sa.add_in_place, sb.add_in_place, sa.winograd, sb.winograd, ta, tb);
    CHECK(sa.steps == sb.steps && sa.bn_folded == sb.bn_folded && sa.relu_fused == sb.relu_fused &&
              sa.add_fused == sb.add_fused && sa.add_in_place == sb.add_in_place &&
              sa.winograd == sb.winograd,
          "plans differ (winograd %d)", wino);
    CHECK(ta == tb, "tape Winograd convolutions: %d vs %d", ta, tb);
  }
  sr_model_free(&a);
  sr_model_free(&b);
  return sr_test_done();
}
