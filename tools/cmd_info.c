// simreg info: layers, output shapes, parameter count and forward FLOPs per image of a model.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "simreg/model.h"

static const char *op_name(sr_op op) {
  static const char *n[SR_OP_COUNT] = {"input",     "conv2d",         "batchnorm2d", "relu",    "maxpool2d",
                                       "avgpool2d", "global_avgpool", "linear",      "flatten", "add",
                                       "affine",    "activation",     "concat"};
  return (unsigned)op < SR_OP_COUNT ? n[op] : "?";
}

static int64_t node_params(const sr_node *nd) {
  if (nd->op == SR_OP_CONV)
    return (int64_t)nd->c * (nd->ic / sr_conv_groups(nd)) * nd->k * nd->k + (nd->bias ? nd->c : 0);
  if (nd->op == SR_OP_LINEAR) return (int64_t)nd->c * nd->ic * nd->ih * nd->iw + (nd->bias ? nd->c : 0);
  if (nd->op == SR_OP_BN) return 2LL * nd->c;
  return 0;
}

int sr_cmd_info(int argc, char **argv) {
  const char *arch = "cnn-small", *weights = NULL;
  sr_model_config cfg = {.width = 1.0};  // input and classes: defaults below, or an ONNX graph's own
  int json = 0;
  sr_opt opts[] = {
      {"model", SR_OPT_STRING, &arch, "resnet18 | resnet34 | cnn-small | mlp | onnx:PATH", 0, 0, 0},
      {"width", SR_OPT_DOUBLE, &cfg.width, "channel multiplier for resnets (default 1)", 0.01, 16, 0},
      {"channels", SR_OPT_INT, &cfg.in_c, "input channels (default 1)", 1, 64, 0},
      {"size", SR_OPT_INT, &cfg.in_h, "input height = width (default 28)", 4, 4096, 0},
      {"classes", SR_OPT_INT, &cfg.classes, "classes (default 10)", 1, 100000, 0},
      {"weights", SR_OPT_STRING, &weights, "also check that a .safetensors file loads into this model", 0, 0,
       0},
      {"json", SR_OPT_FLAG, &json, "JSON output", 0, 0, 0},
      {0},
  };
  int npos;
  int rc = sr_cli_parse("info", "[options]", opts, &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2},
                        NULL, 0, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  if (strncmp(arch, "onnx:", 5)) {
    cfg.in_c = cfg.in_c ? cfg.in_c : 1;
    cfg.in_h = cfg.in_h ? cfg.in_h : 28;
    cfg.classes = cfg.classes ? cfg.classes : 10;
  }
  cfg.in_w = cfg.in_h;
  snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
  sr_model m;
  sr_rng rng;
  sr_rng_seed(&rng, 0, 0);
  sr_err err = {0};
  if (sr_model_create(&m, &cfg, &rng, &err)) return sr_cli_fail("info", &err);
  if (weights && sr_model_load(&m, weights, &err)) {
    sr_model_free(&m);
    return sr_cli_fail("info", &err);
  }
  if (json) {
    cJSON *j = cJSON_CreateObject(), *layers = cJSON_AddArrayToObject(j, "layers");
    cJSON_AddStringToObject(j, "model", arch);
    cJSON_AddNumberToObject(j, "parameters", (double)m.n_params);
    cJSON_AddNumberToObject(j, "flops_per_image", (double)sr_model_flops(&m));
    cJSON_AddStringToObject(j, "scores", sr_scores_name(m.scores));
    for (int i = 0; i < m.n_nodes; i++) {
      cJSON *l = cJSON_CreateObject();
      cJSON_AddStringToObject(l, "op", op_name(m.nodes[i].op));
      cJSON_AddStringToObject(l, "name", m.nodes[i].name);
      int shape[3] = {m.nodes[i].c, m.nodes[i].h, m.nodes[i].w};
      cJSON_AddItemToObject(l, "shape", cJSON_CreateIntArray(shape, 3));
      cJSON_AddNumberToObject(l, "parameters", (double)node_params(&m.nodes[i]));
      cJSON_AddItemToArray(layers, l);
    }
    cJSON *f = cJSON_AddArrayToObject(j, "features");
    for (int k = 0; k < m.n_feat; k++) cJSON_AddItemToArray(f, cJSON_CreateString(m.feat_name[k]));
    char *s = cJSON_Print(j);
    printf("%s\n", s);
    free(s);
    cJSON_Delete(j);
  } else {
    printf("%-4s %-16s %-24s %-16s %12s\n", "#", "op", "name", "output (C,H,W)", "parameters");
    for (int i = 0; i < m.n_nodes; i++) {
      const sr_node *nd = &m.nodes[i];
      char shape[48];
      snprintf(shape, sizeof shape, "(%d,%d,%d)", nd->c, nd->h, nd->w);
      printf("%-4d %-16s %-24s %-16s %12lld\n", i, op_name(nd->op), nd->name, shape,
             (long long)node_params(nd));
    }
    printf(
        "\nmodel %s  input %dx%dx%d  classes %d\nparameters %lld  forward FLOPs per image %.4g M\nfeature "
        "layers:",
        arch, m.cfg.in_c, m.cfg.in_h, m.cfg.in_w, m.cfg.classes, (long long)m.n_params,
        sr_model_flops(&m) / 1e6);
    for (int k = 0; k < m.n_feat; k++) printf(" %s", m.feat_name[k]);
    printf("\n");
    if (m.scores != SR_SCORES_LOGITS)
      printf("scores: %s of the logits (the graph's final node; decisions on the logits)\n",
             sr_scores_name(m.scores));
  }
  sr_model_free(&m);
  return 0;
}
