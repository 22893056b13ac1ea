// Inference plans of the zoo models (resnet18 width 0.25, cnn-small, mlp) against the training graph's
// eval forward: random weights, running statistics from training-mode forwards plus random gamma/beta,
// batch sizes 1, odd and even. Also what got fused, and that a plan's image i does not depend on the batch.
#include "simreg/model.h"
#include "sr_test.h"

static void nontrivial_bn(sr_model *m, sr_rng *rng) {
  sr_err err = {0};
  int64_t n = 6, nin = n * m->cfg.in_c * m->cfg.in_h * m->cfg.in_w;
  float *x = malloc(sizeof(float) * (size_t)nin), *z = malloc(sizeof(float) * (size_t)(n * m->cfg.classes));
  for (int k = 0; k < 3; k++) {  // running statistics of real activations (momentum 0.1, three updates)
    for (int64_t i = 0; i < nin; i++) x[i] = (float)(0.5 * sr_rng_normal(rng) + 0.2);
    CHECK_OK(sr_model_forward(m, x, n, 1, z, &err), &err);
  }
  for (int i = 1; i < m->n_nodes; i++) {
    const sr_node *nd = &m->nodes[i];
    if (nd->op != SR_OP_BN) continue;
    for (int c = 0; c < nd->c; c++) {
      m->params[nd->p_w + c] = (float)(0.6 + 0.8 * sr_rng_uniform(rng));
      m->params[nd->p_b + c] = (float)(0.2 * sr_rng_normal(rng));
    }
  }
  m->params_version++;
  free(x);
  free(z);
}

static void check_model(const char *arch, double width, int c, int hw, int want_bn, int want_relu,
                        int want_add) {
  sr_err err = {0};
  sr_rng rng;
  sr_rng_seed(&rng, 1212, 0);
  sr_model m;
  sr_model_config cfg = {.in_c = c, .in_h = hw, .in_w = hw, .classes = 10, .width = width};
  snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
  CHECK_OK(sr_model_create(&m, &cfg, &rng, &err), &err);
  nontrivial_bn(&m, &rng);
  int64_t d = (int64_t)c * hw * hw, sizes[] = {1, 5, 8};
  float *x = malloc(sizeof(float) * (size_t)(8 * d)), *a = malloc(sizeof(float) * 80),
        *b = malloc(sizeof(float) * 80);
  float *one = malloc(sizeof(float) * 10);
  for (int64_t i = 0; i < 8 * d; i++) x[i] = (float)sr_rng_normal(&rng);
  for (int k = 0; k < 3; k++) {
    int64_t n = sizes[k];
    sr_infer *p = NULL;
    CHECK_OK(sr_infer_create(&m, n, &p, &err), &err);
    if (!p) continue;
    CHECK_OK(sr_infer_forward(p, x, a, &err), &err);
    CHECK_OK(sr_model_forward(&m, x, n, 0, b, &err), &err);
    double e = sr_test_rel_to_max(a, b, (size_t)(n * 10));
    printf("%-9s width %.2f batch %lld: plan vs eval forward rel err %.2e\n", arch, width, (long long)n, e);
    CHECK(e < 1e-4, "%s batch %lld: rel err %.3g", arch, (long long)n, e);
    if (k == 2) {  // the last image alone gives the same logits
      CHECK_OK(sr_model_infer(&m, x + 7 * d, 1, one, &err), &err);
      CHECK(sr_test_rel_to_max(one, a + 70, 10) < 1e-5, "%s: image 7 alone vs in a batch of 8", arch);
      sr_infer_stats st;
      sr_infer_get_stats(p, &st);
      printf("  %d steps, %d BN folded, %d ReLU fused, %d adds fused (%d in place), %.1f MB activations\n",
             st.steps, st.bn_folded, st.relu_fused, st.add_fused, st.add_in_place,
             (double)st.act_bytes / 1e6);
      CHECK(st.bn_folded == want_bn && st.relu_fused == want_relu && st.add_fused == want_add,
            "%s: %d BN folded, %d ReLU fused, %d adds fused", arch, st.bn_folded, st.relu_fused,
            st.add_fused);
      CHECK(st.add_in_place == st.add_fused, "%s: every residual add writes onto its shortcut (%d of %d)",
            arch, st.add_in_place, st.add_fused);
    }
    sr_infer_free(p);
  }
  free(x);
  free(a);
  free(b);
  free(one);
  sr_model_free(&m);
}

// Two plans of one model share its Winograd weights (the model's Winograd cache, exec/cache.h): after the
// parameters change, and again after the running statistics change, each plan (the second finds the cache
// already refreshed by the first) must give the eval forward's logits.
static void check_shared_wino(void) {
  sr_err err = {0};
  sr_rng rng;
  sr_rng_seed(&rng, 3131, 0);
  sr_model m;
  sr_model_config cfg = {.arch = "resnet18", .in_c = 1, .in_h = 28, .in_w = 28, .classes = 10, .width = 0.25};
  CHECK_OK(sr_model_create(&m, &cfg, &rng, &err), &err);
  nontrivial_bn(&m, &rng);
  int64_t d = 28 * 28;
  float *x = malloc(sizeof(float) * (size_t)(8 * d)), *a = malloc(sizeof(float) * 80),
        *b = malloc(sizeof(float) * 80);
  for (int64_t i = 0; i < 8 * d; i++) x[i] = (float)sr_rng_normal(&rng);
  sr_infer *p[2] = {NULL, NULL};
  int64_t ns[2] = {5, 8};
  for (int k = 0; k < 2; k++) CHECK_OK(sr_infer_create(&m, ns[k], &p[k], &err), &err);
  for (int change = 0; change < 3; change++) {
    if (change == 1) {  // new weights everywhere
      for (int64_t i = 0; i < m.n_params; i++) m.params[i] *= (float)(0.9 + 0.2 * sr_rng_uniform(&rng));
      m.params_version++;
    } else if (change == 2) {  // new running statistics only
      for (int64_t i = 0; i < m.n_state; i++) m.state[i] *= (float)(0.8 + 0.4 * sr_rng_uniform(&rng));
      m.state_version++;
    }
    for (int k = 0; k < 2; k++) {
      sr_infer_stats st;
      sr_infer_get_stats(p[k], &st);
      CHECK(st.winograd == (sr_wino_native() ? 13 : 0), "resnet18 plan of %lld: %d Winograd convolutions",
            (long long)ns[k], st.winograd);
      CHECK_OK(sr_infer_forward(p[k], x, a, &err), &err);
      CHECK_OK(sr_model_forward(&m, x, ns[k], 0, b, &err), &err);
      double e = sr_test_rel_to_max(a, b, (size_t)(ns[k] * 10));
      printf("shared Winograd weights, change %d, plan of %lld: rel err %.2e\n", change, (long long)ns[k], e);
      CHECK(e < 1e-4, "change %d, plan of %lld: rel err %.3g", change, (long long)ns[k], e);
    }
  }
  for (int k = 0; k < 2; k++) sr_infer_free(p[k]);
  free(x);
  free(a);
  free(b);
  sr_model_free(&m);
}

int main(void) {
  check_shared_wino();
  // resnet18: 20 BNs (stem, 16 in blocks, 3 projections), 17 ReLUs, 8 adds
  check_model("resnet18", 0.25, 1, 28, 20, 17, 8);
  check_model("cnn-small", 1, 1, 28, 2, 2, 0);
  check_model("mlp", 1, 1, 28, 0, 2, 0);
  return sr_test_done();
}
