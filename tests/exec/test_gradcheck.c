// Every layer: double-precision finite-difference gradient check of the reference kernels (input,
// weights, bias), and the oneDNN path against the reference path (forward, dx, dparams).
#include "check.h"

typedef int (*build_fn)(sr_model *m);

static int conv_k3s1p1_bias(sr_model *m) {
  return sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 4, .k = 3, .stride = 1, .pad = 1, .bias = 1}, "conv");
}
static int conv_k7s1p3(sr_model *m) {
  return sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 5, .k = 7, .stride = 1, .pad = 3, .bias = 0}, "conv");
}
static int conv_k3s2p1(sr_model *m) {
  return sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 6, .k = 3, .stride = 2, .pad = 1, .bias = 0}, "conv");
}
static int conv_k1s2p0(sr_model *m) {
  return sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 8, .k = 1, .stride = 2, .pad = 0, .bias = 0}, "conv");
}
static int conv_k5s2p2_bias(sr_model *m) {
  return sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 3, .k = 5, .stride = 2, .pad = 2, .bias = 1}, "conv");
}
static int conv_geom(sr_model *m, int in, int o, sr_conv_geom g, int bias) {
  return sr_graph_conv_geom(m, in, o, &g, bias, "conv");
}
// groups 2 (4 -> 6 channels), bias
static int conv_g2_bias(sr_model *m) {
  return conv_geom(m, 0, 6, (sr_conv_geom){.k = 3, .stride = 1, .dil = 1, .groups = 2, .pads = {1, 1, 1, 1}},
                   1);
}
// depthwise with a channel multiplier 2 (3 -> 6), stride 2
static int conv_depthwise_s2(sr_model *m) {
  return conv_geom(m, 0, 6, (sr_conv_geom){.k = 3, .stride = 2, .dil = 1, .groups = 3, .pads = {1, 1, 1, 1}},
                   0);
}
// dilation 2, pad 2
static int conv_dil2(sr_model *m) {
  return conv_geom(m, 0, 4, (sr_conv_geom){.k = 3, .stride = 1, .dil = 2, .groups = 1, .pads = {2, 2, 2, 2}},
                   1);
}
// asymmetric pads (SAME_UPPER of a 4x4 kernel at stride 1: 1 before, 2 after; here also top != left)
static int conv_asym(sr_model *m) {
  return conv_geom(m, 0, 3, (sr_conv_geom){.k = 4, .stride = 1, .dil = 1, .groups = 1, .pads = {1, 2, 2, 0}},
                   0);
}
// everything at once, 16 channels so oneDNN picks blocked layouts: depthwise dilated asymmetric, then grouped
static int conv_blocked_mix(sr_model *m) {
  int x = conv_geom(m, 0, 16,
                    (sr_conv_geom){.k = 3, .stride = 2, .dil = 2, .groups = 16, .pads = {2, 1, 1, 2}}, 1);
  x = sr_graph_relu(m, x);
  return conv_geom(m, x, 8, (sr_conv_geom){.k = 3, .stride = 1, .dil = 1, .groups = 4, .pads = {0, 1, 2, 1}},
                   0);
}
static int bn(sr_model *m) { return sr_graph_bn(m, 0, "bn"); }
static int relu(sr_model *m) { return sr_graph_relu(m, 0); }
static int maxpool_k2s2(sr_model *m) { return sr_graph_maxpool(m, 0, 2, 2, 0); }
static int maxpool_k3s2p1(sr_model *m) { return sr_graph_maxpool(m, 0, 3, 2, 1); }
static int avgpool_k2s2(sr_model *m) { return sr_graph_avgpool(m, 0, 2, 2, 0); }
static int avgpool_k3s1p1(sr_model *m) { return sr_graph_avgpool(m, 0, 3, 1, 1); }
static int gap(sr_model *m) { return sr_graph_gap(m, 0); }
static int flatten(sr_model *m) { return sr_graph_flatten(m, 0); }
static int linear_4d(sr_model *m) { return sr_graph_linear(m, 0, 5, 1, "fc"); }
static int linear_2d(sr_model *m) { return sr_graph_linear(m, sr_graph_flatten(m, 0), 6, 0, "fc"); }
// Residual add with fan-out: the input feeds both branches, so its gradient accumulates.
static int add_fanout(sr_model *m) {
  return sr_graph_add(
      m, 0,
      sr_graph_relu(
          m,
          sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 3, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "c")));
}

// 16 channels: oneDNN picks blocked layouts (nChw8c/16c), exercising reorders at the boundaries.
static int blocked_chain(sr_model *m) {
  int x = sr_graph_bn(
      m, sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 16, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "c1"),
      "bn");
  x = sr_graph_conv(m, sr_graph_maxpool(m, sr_graph_relu(m, x), 2, 2, 0),
                    &(sr_conv_spec){.out_c = 16, .k = 3, .stride = 2, .pad = 1, .bias = 1}, "c2");
  return sr_graph_linear(m, sr_graph_gap(m, x), 3, 1, "fc");
}

typedef struct {
  const char *name;
  build_fn build;
  int n, c, h, w;
  int training;  // BN mode
  int rand_stats;
} layer_case;

static const layer_case CASES[] = {
    {"conv k3 s1 p1 +bias", conv_k3s1p1_bias, 2, 3, 6, 6, 1, 0},
    {"conv k7 s1 p3 (stem)", conv_k7s1p3, 2, 1, 8, 8, 1, 0},
    {"conv k3 s2 p1", conv_k3s2p1, 2, 4, 7, 7, 1, 0},
    {"conv k1 s2 p0 (projection)", conv_k1s2p0, 2, 5, 6, 6, 1, 0},
    {"conv k5 s2 p2 +bias", conv_k5s2p2_bias, 2, 2, 9, 9, 1, 0},
    {"conv groups 2 +bias", conv_g2_bias, 2, 4, 5, 5, 1, 0},
    {"conv depthwise x2 s2", conv_depthwise_s2, 2, 3, 7, 7, 1, 0},
    {"conv dilation 2 +bias", conv_dil2, 2, 2, 7, 7, 1, 0},
    {"conv asymmetric pads k4", conv_asym, 2, 2, 6, 5, 1, 0},
    {"conv blocked depthwise-dilated-asym, grouped", conv_blocked_mix, 2, 16, 9, 9, 1, 0},
    {"batchnorm (training)", bn, 4, 3, 4, 4, 1, 0},
    {"batchnorm (eval)", bn, 3, 3, 4, 4, 0, 1},
    {"relu", relu, 2, 3, 5, 5, 1, 0},
    {"maxpool k2 s2", maxpool_k2s2, 2, 3, 6, 6, 1, 0},
    {"maxpool k3 s2 p1", maxpool_k3s2p1, 2, 2, 7, 7, 1, 0},
    {"avgpool k2 s2", avgpool_k2s2, 2, 3, 6, 6, 1, 0},
    {"avgpool k3 s1 p1", avgpool_k3s1p1, 2, 2, 5, 5, 1, 0},
    {"global avgpool", gap, 3, 4, 5, 5, 1, 0},
    {"flatten", flatten, 2, 3, 4, 4, 1, 0},
    {"linear on (N,C,H,W)", linear_4d, 3, 4, 3, 3, 1, 0},
    {"linear on (N,F) no bias", linear_2d, 3, 2, 3, 3, 1, 0},
    {"residual add with fan-out", add_fanout, 2, 3, 5, 5, 1, 0},
    {"blocked conv-bn-relu-pool-conv-gap-fc", blocked_chain, 2, 16, 6, 6, 1, 0},
};

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
    const layer_case *lc = &CASES[c];
    sr_err err = {0};
    sr_model m;
    sr_model_config cfg = {.arch = "custom", .in_c = lc->c, .in_h = lc->h, .in_w = lc->w, .classes = 1};
    CHECK_OK(sr_model_init(&m, &cfg, &err), &err);
    int last = lc->build(&m);
    CHECK(last == m.n_nodes - 1, "%s: graph build", lc->name);
    sr_rng rng;
    sr_rng_seed(&rng, 1234 + c, 0);
    CHECK_OK(sr_model_finalize(&m, &rng, &err), &err);
    // Non-trivial BN parameters and running statistics.
    for (int i = 0; i < m.n_nodes; i++)
      if (m.nodes[i].op == SR_OP_BN)
        for (int k = 0; k < m.nodes[i].c; k++) {
          m.params[m.nodes[i].p_w + k] = (float)(0.5 + sr_rng_uniform(&rng));
          m.params[m.nodes[i].p_b + k] = (float)(sr_rng_uniform(&rng) - 0.5);
          if (lc->rand_stats) {
            m.state[m.nodes[i].s_mean + k] = (float)(sr_rng_uniform(&rng) - 0.5);
            m.state[m.nodes[i].s_var + k] = (float)(0.5 + sr_rng_uniform(&rng));
          }
        }
    int64_t nin = (int64_t)lc->n * lc->c * lc->h * lc->w;
    double *x = malloc(sizeof(double) * (size_t)nin);
    fill_normal(x, nin, 42 + c);
    for (int64_t i = 0; i < nin; i++) x[i] = (float)x[i];  // representable in f32 for the oneDNN run
    double efd = fd_check(&m, x, lc->n, lc->training, lc->name);
    CHECK(efd < 1e-6, "%s: finite-difference error %.3e", lc->name, efd);
    double ednn = dnnl_vs_ref(&m, x, lc->n, lc->training, lc->name);
    CHECK(ednn < 1e-5, "%s: oneDNN vs reference error %.3e", lc->name, ednn);
    free(x);
    sr_model_free(&m);
  }
  return sr_test_done();
}
