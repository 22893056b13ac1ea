// Inference plans on hand-built graphs: BN folding checked in double on one conv+BN, and a residual graph
// whose adds run as sum post-ops (one in place on the shortcut's buffer, one onto a copy of the model input)
// against the training graph's eval forward and the double reference.
#include "check.h"
#include "simreg/layers.h"
#include "simreg/model.h"

// Non-trivial BN: gamma, beta, running mean and variance far from their initial 1, 0, 0, 1.
static void randomise_bn(sr_model *m, sr_rng *rng) {
  for (int i = 1; i < m->n_nodes; i++) {
    const sr_node *nd = &m->nodes[i];
    if (nd->op != SR_OP_BN) continue;
    for (int c = 0; c < nd->c; c++) {
      m->params[nd->p_w + c] = (float)(0.5 + sr_rng_uniform(rng));
      m->params[nd->p_b + c] = (float)(0.3 * sr_rng_normal(rng));
      m->state[nd->s_mean + c] = (float)(0.3 * sr_rng_normal(rng));
      m->state[nd->s_var + c] = (float)(0.3 + 2 * sr_rng_uniform(rng));
    }
  }
  m->params_version++;
}

// w' = w*s, b' = beta + (b - mean)*s against conv then eval BN, all in double.
static void check_fold_double(sr_rng *rng) {
  enum { N = 2, C = 3, H = 7, W = 6, O = 5, K = 3 };
  int OH = sr_out_size(H, K, 2, 1), OW = sr_out_size(W, K, 2, 1), ny = N * O * OH * OW;
  double x[N * C * H * W], wd[O * C * K * K], bd[O], g[O], be[O], mu[O], var[O], wfd[O * C * K * K], bfd[O];
  float w[O * C * K * K], b[O], gf[O], bef[O], muf[O], varf[O], wf[O * C * K * K], bf[O];
  double y[N * O * 4 * 3], yb[N * O * 4 * 3], yf[N * O * 4 * 3];
  for (int i = 0; i < N * C * H * W; i++) x[i] = sr_rng_normal(rng);
  for (int i = 0; i < O * C * K * K; i++) {
    w[i] = (float)sr_rng_normal(rng);
    wd[i] = w[i];
  }
  for (int o = 0; o < O; o++) {
    b[o] = (float)sr_rng_normal(rng);
    gf[o] = (float)(0.5 + sr_rng_uniform(rng));
    bef[o] = (float)sr_rng_normal(rng);
    muf[o] = (float)sr_rng_normal(rng);
    varf[o] = (float)(0.2 + 3 * sr_rng_uniform(rng));
    bd[o] = b[o];
    g[o] = gf[o];
    be[o] = bef[o];
    mu[o] = muf[o];
    var[o] = varf[o];
  }
  for (int withb = 0; withb < 2; withb++) {
    sr_conv_shape sh = {.n = N, .c = C, .h = H, .w = W, .o = O, .k = K, .stride = 2, .pad = 1};
    sr_conv2d_forward_ref(y, x, wd, withb ? bd : NULL, &sh);
    sr_bn_ref bn_r = {
        .x = y, .gamma = g, .beta = be, .rmean = mu, .rvar = var, .eps = 1e-5, .n = N, .c = O, .hw = OH * OW};
    sr_batchnorm_forward_eval_ref(yb, &bn_r);
    sr_bn_eval bn_e = {.gamma = gf, .beta = bef, .mean = muf, .var = varf, .eps = 1e-5};
    sr_fold_bn(wf, bf, w, withb ? b : NULL, &bn_e, O, C * K * K);
    for (int i = 0; i < O * C * K * K; i++) wfd[i] = wf[i];
    for (int o = 0; o < O; o++) bfd[o] = bf[o];
    sr_conv2d_forward_ref(yf, x, wfd, bfd, &sh);
    double e = rel_err_d(yf, yb, ny);
    // the only error is rounding the folded weights to float
    CHECK(e < 1e-6, "folded conv vs conv+BN (bias %d): rel err %.3g", withb, e);
  }
  // the fold itself, exactly: s = gamma / sqrt(var + eps)
  double s0 = g[0] / sqrt(var[0] + 1e-5);
  CHECK(fabs(wf[0] - w[0] * s0) <= 1e-6 * fabs(w[0] * s0) + 1e-12, "w'[0] = w[0] s");
  CHECK(fabs(bf[0] - (be[0] + (b[0] - mu[0]) * s0)) <=
            1e-6 * (fabs(be[0]) + fabs(b[0] * s0) + fabs(mu[0] * s0)),
        "b'[0] = beta + (b - mean) s");
}

// The plan against the tape's eval forward and the double reference; returns the plan's stats.
static void compare(sr_model *m, int64_t n, sr_rng *rng, const char *what, sr_infer_stats *st) {
  sr_err err = {0};
  int64_t nin = n * m->cfg.in_c * m->cfg.in_h * m->cfg.in_w, nout = n * sr_model_out_size(m);
  float *x = malloc(sizeof(float) * (size_t)nin), *a = malloc(sizeof(float) * (size_t)nout);
  float *b = malloc(sizeof(float) * (size_t)nout);
  double *xd = malloc(sizeof(double) * (size_t)nin), *r = malloc(sizeof(double) * (size_t)nout);
  fill_normal(xd, nin, sr_rng_u64(rng));
  for (int64_t i = 0; i < nin; i++) {
    x[i] = (float)xd[i];
    xd[i] = x[i];
  }
  sr_infer *p = NULL;
  CHECK_OK(sr_infer_create(m, n, &p, &err), &err);
  if (p) {
    CHECK_OK(sr_infer_forward(p, x, a, &err), &err);
    CHECK_OK(sr_model_forward(m, x, n, 0, b, &err), &err);
    sr_ref_run *run = NULL;
    CHECK_OK(sr_ref_forward(m, xd, n, 0, r, &run, &err), &err);
    sr_ref_free(run);
    double eb = sr_test_rel_to_max(a, b, (size_t)(nout)), et = rel_err_fd(a, r, nout);
    CHECK(eb < 1e-4, "%s batch %lld: plan vs tape eval forward rel err %.3g", what, (long long)n, eb);
    CHECK(et < 1e-4, "%s batch %lld: plan vs double reference rel err %.3g", what, (long long)n, et);
    sr_infer_get_stats(p, st);
    sr_infer_free(p);
  }
  free(x);
  free(a);
  free(b);
  free(xd);
  free(r);
}

int main(void) {
  sr_rng rng;
  sr_rng_seed(&rng, 12, 0);
  sr_err err = {0};
  check_fold_double(&rng);

  // conv+BN alone (the last node is the BN: its folded conv writes the output)
  sr_model m;
  sr_model_config cfg = {.arch = "custom", .in_c = 3, .in_h = 9, .in_w = 9, .classes = 1};
  CHECK_OK(sr_model_init(&m, &cfg, &err), &err);
  int c = sr_graph_conv(&m, 0, &(sr_conv_spec){.out_c = 6, .k = 3, .stride = 2, .pad = 1, .bias = 1}, "conv");
  CHECK(sr_graph_bn(&m, c, "bn") > 0, "graph");
  CHECK_OK(sr_model_finalize(&m, &rng, &err), &err);
  randomise_bn(&m, &rng);
  sr_infer_stats st;
  compare(&m, 3, &rng, "conv+bn", &st);
  // one step; on AVX-512 oneDNN's nChw16c output of 6 channels takes one more (the copy to the plain output)
  CHECK(st.bn_folded == 1 && st.steps == (sr_wino_native() ? 1 : st.steps) && st.steps <= 2,
        "conv+bn is one step: %d steps, %d folded", st.steps, st.bn_folded);
  sr_model_free(&m);

  // Residual graph: block 1 adds onto its input r1 (last use: in place), block 2 onto the model input
  // (a copy: the caller's buffer is read-only); a standalone BN+ReLU and an unfused add (both inputs
  // computed before either conv could take it) cover the other step kinds.
  cfg = (sr_model_config){.arch = "custom", .in_c = 4, .in_h = 8, .in_w = 8, .classes = 5};
  CHECK_OK(sr_model_init(&m, &cfg, &err), &err);
  int r1 = sr_graph_relu(
      &m, sr_graph_bn(&m,
                      sr_graph_conv(
                          &m, 0, &(sr_conv_spec){.out_c = 4, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "c1"),
                      "b1"));
  int h = sr_graph_relu(
      &m,
      sr_graph_bn(
          &m,
          sr_graph_conv(&m, r1, &(sr_conv_spec){.out_c = 4, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "ca"),
          "ba"));
  int b2 = sr_graph_bn(
      &m, sr_graph_conv(&m, h, &(sr_conv_spec){.out_c = 4, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "c2"),
      "b2");
  int a1 = sr_graph_relu(&m, sr_graph_add(&m, b2, r1));
  int c3 = sr_graph_conv(&m, a1, &(sr_conv_spec){.out_c = 4, .k = 1, .stride = 1, .pad = 0, .bias = 1}, "c3");
  int a2 = sr_graph_relu(&m, sr_graph_add(&m, c3, 0));
  int s1 = sr_graph_relu(&m, sr_graph_bn(&m, a2, "b4"));
  int s2 = sr_graph_maxpool(&m, a2, 3, 1, 1);
  int a3 = sr_graph_add(&m, s1, s2);
  int out = sr_graph_linear(&m, sr_graph_gap(&m, sr_graph_avgpool(&m, a3, 2, 2, 0)), 5, 1, "fc");
  CHECK(out > 0, "graph");
  CHECK_OK(sr_model_finalize(&m, &rng, &err), &err);
  randomise_bn(&m, &rng);
  int64_t sizes[] = {1, 3, 8};
  for (int k = 0; k < 3; k++) compare(&m, sizes[k], &rng, "residual graph", &st);
  CHECK(st.bn_folded == 3, "BNs folded: %d", st.bn_folded);
  CHECK(st.add_fused == 2 && st.add_in_place == 1, "adds fused %d, in place %d", st.add_fused,
        st.add_in_place);
  CHECK(st.relu_fused == 5, "ReLUs fused: %d", st.relu_fused);

  // weights changed after the plan was built: it refolds (params_version), and after a training-mode
  // forward moved the running statistics (state_version)
  sr_infer *p;
  CHECK_OK(sr_infer_create(&m, 2, &p, &err), &err);
  float x[2 * 4 * 8 * 8], z1[10], z2[10];
  for (int i = 0; i < 2 * 4 * 8 * 8; i++) x[i] = (float)sr_rng_normal(&rng);
  for (int64_t i = 0; i < m.n_params; i++) m.params[i] *= 1.1f;
  m.params_version++;
  CHECK_OK(sr_infer_forward(p, x, z1, &err), &err);
  CHECK_OK(sr_model_forward(&m, x, 2, 0, z2, &err), &err);
  CHECK(sr_test_max_rel(z1, z2, 10, 1e-2) < 1e-4, "refolded after a params change");
  CHECK_OK(sr_model_forward(&m, x, 2, 1, z2, &err), &err);  // training forward: running stats move
  CHECK_OK(sr_infer_forward(p, x, z1, &err), &err);
  CHECK_OK(sr_model_forward(&m, x, 2, 0, z2, &err), &err);
  CHECK(sr_test_max_rel(z1, z2, 10, 1e-2) < 1e-4, "refolded after the running statistics moved");
  sr_infer_free(p);
  // the model's plan cache: same answer, more batch sizes than slots
  for (int64_t n = 1; n <= SR_MAX_INFERS + 2; n++)
    CHECK_OK(sr_model_infer(&m, x, n > 2 ? 2 : n, z1, &err), &err);
  for (int64_t n = 3; n <= SR_MAX_INFERS + 3; n++) {
    static float big[16 * 4 * 8 * 8], zb[16 * 5];
    CHECK_OK(sr_model_infer(&m, big, n, zb, &err), &err);
  }
  CHECK_OK(sr_model_infer(&m, x, 2, z1, &err), &err);
  CHECK(sr_test_max_rel(z1, z2, 10, 1e-2) < 1e-4, "cached plan after evictions");
  CHECK(sr_infer_create(&m, 0, &p, &err) == SR_ERR_ARG && p == NULL, "batch 0 rejected");
  sr_model_free(&m);
  return sr_test_done();
}
