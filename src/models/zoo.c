// The model zoo: the paper's ResNets (7x7 stride-1 stem, no max-pool), cnn-small and an MLP.
#include <math.h>
#include <string.h>

#include "simreg/model.h"
#include "simreg/onnx.h"

static int width_of(int base, double width) {
  long c = lround(base * width);
  return c < 1 ? 1 : (int)c;
}

// A graph function returned -1: a shape that does not fit, or an allocation that failed.
static sr_status unfit(const sr_model *m, sr_err *err, const char *what) {
  if (m->graph_oom)
    return sr_fail(err, SR_ERR_NOMEM, "out of memory while building the model graph (%s)", what);
  return sr_fail(err, SR_ERR_SHAPE, "%s does not fit the input", what);
}

// One BasicBlock: conv3x3-BN-ReLU-conv3x3-BN, plus an identity or 1x1-conv+BN projection, add, ReLU.
static int basic_block(sr_model *m, int x, int ch, int stride, const char *prefix) {
  char n[48];
  snprintf(n, sizeof n, "%s.conv1", prefix);
  int y = sr_graph_conv(m, x, &(sr_conv_spec){.out_c = ch, .k = 3, .stride = stride, .pad = 1, .bias = 0}, n);
  snprintf(n, sizeof n, "%s.bn1", prefix);
  y = sr_graph_relu(m, sr_graph_bn(m, y, n));
  snprintf(n, sizeof n, "%s.conv2", prefix);
  y = sr_graph_conv(m, y, &(sr_conv_spec){.out_c = ch, .k = 3, .stride = 1, .pad = 1, .bias = 0}, n);
  snprintf(n, sizeof n, "%s.bn2", prefix);
  y = sr_graph_bn(m, y, n);
  int sc = x;
  if (x >= 0 && (stride != 1 || m->nodes[x].c != ch)) {
    snprintf(n, sizeof n, "%s.downsample.0", prefix);
    sc = sr_graph_conv(m, x, &(sr_conv_spec){.out_c = ch, .k = 1, .stride = stride, .pad = 0, .bias = 0}, n);
    snprintf(n, sizeof n, "%s.downsample.1", prefix);
    sc = sr_graph_bn(m, sc, n);
  }
  return sr_graph_relu(m, sr_graph_add(m, y, sc));
}

static sr_status build_resnet(sr_model *m, const int *blocks, sr_err *err) {
  static const int base[4] = {64, 128, 256, 512};
  double w = m->cfg.width > 0 ? m->cfg.width : 1.0;
  int x = sr_graph_conv(
      m, 0, &(sr_conv_spec){.out_c = width_of(64, w), .k = 7, .stride = 1, .pad = 3, .bias = 0}, "conv1");
  x = sr_graph_relu(m, sr_graph_bn(m, x, "bn1"));
  sr_status st = x < 0 ? unfit(m, err, "resnet stem") : sr_model_add_feature(m, x, "stem", err);
  for (int s = 0; s < 4 && !st; s++) {
    for (int b = 0; b < blocks[s]; b++) {
      char prefix[32];
      snprintf(prefix, sizeof prefix, "layer%d.%d", s + 1, b);
      x = basic_block(m, x, width_of(base[s], w), (s > 0 && b == 0) ? 2 : 1, prefix);
    }
    char fname[16];
    snprintf(fname, sizeof fname, "layer%d", s + 1);
    char what[32];
    snprintf(what, sizeof what, "resnet stage %d", s + 1);
    st = x < 0 ? unfit(m, err, what) : sr_model_add_feature(m, x, fname, err);
  }
  if (st) return st;
  x = sr_graph_linear(m, sr_graph_gap(m, x), m->cfg.classes, 1, "fc");
  return x < 0 ? unfit(m, err, "resnet head") : SR_OK;
}

// cnn-small: two conv3x3-BN-ReLU-maxpool2 blocks (32, 64 channels) and a linear classifier.
static sr_status build_cnn_small(sr_model *m, sr_err *err) {
  int x =
      sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 32, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "conv1");
  x = sr_graph_maxpool(m, sr_graph_relu(m, sr_graph_bn(m, x, "bn1")), 2, 2, 0);
  sr_status st = x < 0 ? unfit(m, err, "cnn-small block 1") : sr_model_add_feature(m, x, "block1", err);
  if (st) return st;
  x = sr_graph_conv(m, x, &(sr_conv_spec){.out_c = 64, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "conv2");
  x = sr_graph_maxpool(m, sr_graph_relu(m, sr_graph_bn(m, x, "bn2")), 2, 2, 0);
  st = x < 0 ? unfit(m, err, "cnn-small block 2") : sr_model_add_feature(m, x, "block2", err);
  if (st) return st;
  x = sr_graph_linear(m, sr_graph_flatten(m, x), m->cfg.classes, 1, "fc");
  return x < 0 ? unfit(m, err, "cnn-small head") : SR_OK;
}

// mlp: flatten, two hidden layers of 256 with ReLU, linear classifier.
static sr_status build_mlp(sr_model *m, sr_err *err) {
  int x = sr_graph_relu(m, sr_graph_linear(m, sr_graph_flatten(m, 0), 256, 1, "fc1"));
  sr_status st = x < 0 ? unfit(m, err, "mlp layer 1") : sr_model_add_feature(m, x, "fc1", err);
  if (st) return st;
  x = sr_graph_relu(m, sr_graph_linear(m, x, 256, 1, "fc2"));
  st = x < 0 ? unfit(m, err, "mlp layer 2") : sr_model_add_feature(m, x, "fc2", err);
  if (st) return st;
  x = sr_graph_linear(m, x, m->cfg.classes, 1, "fc3");
  return x < 0 ? unfit(m, err, "mlp head") : SR_OK;
}

const char *sr_model_arch_list(void) { return "resnet18, resnet34, cnn-small, mlp, onnx:PATH"; }

sr_status sr_model_create(sr_model *m, const sr_model_config *cfg, sr_rng *rng, sr_err *err) {
  static const int r18[4] = {2, 2, 2, 2}, r34[4] = {3, 4, 6, 3};
  if (!strncmp(cfg->arch, "onnx:", 5)) {  // an imported graph with its own weights (rng unused)
    sr_onnx_opts o = {.in_c = cfg->in_c,
                      .in_h = cfg->in_h,
                      .in_w = cfg->in_w,
                      .classes = cfg->classes,
                      .features = cfg->features};
    (void)rng;
    return sr_model_from_onnx(cfg->arch + 5, &o, m, NULL, err);
  }
  sr_status st = sr_model_init(m, cfg, err);
  if (st) return st;
  if (!strcmp(cfg->arch, "resnet18"))
    st = build_resnet(m, r18, err);
  else if (!strcmp(cfg->arch, "resnet34"))
    st = build_resnet(m, r34, err);
  else if (!strcmp(cfg->arch, "cnn-small"))
    st = build_cnn_small(m, err);
  else if (!strcmp(cfg->arch, "mlp"))
    st = build_mlp(m, err);
  else
    st = sr_fail(err, SR_ERR_ARG, "unknown model '%s' (known: %s)", cfg->arch, sr_model_arch_list());
  if (!st) st = sr_model_finalize(m, rng, err);
  if (st) sr_model_free(m);
  return st;
}
