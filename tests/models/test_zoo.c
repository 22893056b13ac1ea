// Whole zoo models: the oneDNN path against the double reference path (training and eval mode),
// and the architecture facts the paper fixes (no max-pool in the resnets, feature layers, names).
#include <string.h>

#include "../exec/check.h"

static void compare(const char *arch, double width, int c, int hw, int n) {
  sr_err err = {0};
  sr_model m;
  sr_model_config cfg = {.in_c = c, .in_h = hw, .in_w = hw, .classes = 10, .width = width};
  snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
  sr_rng rng;
  sr_rng_seed(&rng, 5, 0);
  CHECK_OK(sr_model_create(&m, &cfg, &rng, &err), &err);
  int64_t nin = (int64_t)n * c * hw * hw;
  double *x = malloc(sizeof(double) * (size_t)nin);
  fill_normal(x, nin, 11);
  for (int64_t i = 0; i < nin; i++) x[i] = (float)x[i];
  char what[96];
  for (int training = 1; training >= 0; training--) {
    snprintf(what, sizeof what, "%s w%.3g %dx%dx%d %s", arch, width, c, hw, hw, training ? "train" : "eval");
    double e = dnnl_vs_ref(&m, x, n, training, what);
    CHECK(e < 1e-4, "%s: oneDNN vs reference %.3e", what, e);
  }
  free(x);
  sr_model_free(&m);
}

static void structure(void) {
  sr_err err = {0};
  sr_model m;
  sr_model_config cfg = {.arch = "resnet18", .in_c = 1, .in_h = 28, .in_w = 28, .classes = 10, .width = 0.25};
  sr_rng rng;
  sr_rng_seed(&rng, 1, 0);
  CHECK_OK(sr_model_create(&m, &cfg, &rng, &err), &err);
  int pools = 0, convs = 0;
  for (int i = 0; i < m.n_nodes; i++) {
    pools += m.nodes[i].op == SR_OP_MAXPOOL;
    convs += m.nodes[i].op == SR_OP_CONV;
  }
  CHECK(pools == 0, "resnet has no max-pool");
  CHECK(convs == 1 + 16 + 3, "resnet18: stem + 16 block convs + 3 projections, got %d", convs);
  CHECK(m.nodes[1].op == SR_OP_CONV && m.nodes[1].k == 7 && m.nodes[1].stride == 1 && m.nodes[1].pad == 3,
        "7x7 s1 stem");
  CHECK(m.n_feat == 5 && !strcmp(m.feat_name[0], "stem") && !strcmp(m.feat_name[4], "layer4"),
        "feature layers");
  CHECK(m.nodes[m.feat[4]].c == 128 && m.nodes[m.feat[4]].h == 4, "layer4 is 128x4x4 at width 0.25, 28x28");
  int found = 0;
  for (int i = 0; i < m.n_tensors; i++)
    found += !strcmp(m.tensors[i].name, "layer2.0.downsample.1.running_var");
  CHECK(found == 1, "PyTorch state_dict names");
  sr_model_free(&m);
  cfg.width = 1.0;
  snprintf(cfg.arch, sizeof cfg.arch, "resnet34");
  CHECK_OK(sr_model_create(&m, &cfg, &rng, &err), &err);
  CHECK(m.n_params > 21000000 && m.n_params < 21400000, "resnet34 ~21.3M params: %lld",
        (long long)m.n_params);
  sr_model_free(&m);
  snprintf(cfg.arch, sizeof cfg.arch, "vgg");
  CHECK(sr_model_create(&m, &cfg, &rng, &err) == SR_ERR_ARG && strstr(err.msg, "vgg"), "unknown model: %s",
        err.msg);
}

// Many batch sizes evict old slot-0 tapes; a tape in another slot (a pair-batch half) survives and
// still computes the same outputs.
static void tape_cache(void) {
  sr_err err = {0};
  sr_model m;
  sr_model_config cfg = {.arch = "cnn-small", .in_c = 1, .in_h = 28, .in_w = 28, .classes = 10};
  sr_rng rng;
  sr_rng_seed(&rng, 3, 0);
  CHECK_OK(sr_model_create(&m, &cfg, &rng, &err), &err);
  float *x = calloc(40 * 784, sizeof(float)), *y0 = calloc(40 * 10, sizeof(float)),
        *y1 = calloc(40 * 10, sizeof(float));
  for (int i = 0; i < 40 * 784; i++) x[i] = (float)sr_rng_normal(&rng);
  sr_tape *keep, *t;
  CHECK_OK(sr_model_tape(&m, 4, 1, &keep, &err), &err);
  CHECK_OK(sr_tape_forward(keep, x, 0, y0, &err), &err);
  for (int n = 2; n < 2 + 2 * SR_MAX_TAPES; n++) {
    CHECK_OK(sr_model_tape(&m, n, 0, &t, &err), &err);
    CHECK_OK(sr_tape_forward(t, x, 0, y1, &err), &err);
  }
  sr_tape *again;
  CHECK_OK(sr_model_tape(&m, 4, 1, &again, &err), &err);
  CHECK(again == keep, "the slot-1 tape must not be evicted");
  CHECK_OK(sr_tape_forward(keep, x, 0, y1, &err), &err);
  CHECK(!memcmp(y0, y1, 4 * 10 * sizeof(float)), "same outputs after the cache churned");
  free(x);
  free(y0);
  free(y1);
  sr_model_free(&m);
}

int main(void) {
  tape_cache();
  setvbuf(stdout, NULL, _IONBF, 0);
  structure();
  compare("cnn-small", 1, 1, 28, 3);
  compare("mlp", 1, 1, 28, 3);
  compare("resnet18", 0.125, 1, 28, 2);
  compare("resnet18", 0.125, 3, 32, 2);
  return sr_test_done();
}
