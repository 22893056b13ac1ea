// simreg info: layers, output shapes, parameter count and forward FLOPs per image of a model; with --plan /
// --tape the convolution algorithm each one runs (measured or by rule) in a plan / tape of --batch.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "simreg/model.h"
#include "simreg/train.h"

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

// --plan / --tape: per convolution its shape, each candidate's measured time, the algorithm taken and where
// the choice came from ("from": measured now, the machine cache, the setting's rule).
static void conv_row(const sr_node *nd, int algo, const sr_conv_choice *c, cJSON *arr) {
  char shape[64], t[SR_CONV_ALGOS][16];
  snprintf(shape, sizeof shape, "%dx%dx%d->%dx%dx%d k%d s%d", nd->ic, nd->ih, nd->iw, nd->c, nd->h, nd->w,
           nd->k, nd->stride);
  for (int a = 0; a < SR_CONV_ALGOS; a++)
    if (c->ms[a] >= 0)
      snprintf(t[a], sizeof t[a], "%.3f", c->ms[a]);
    else
      snprintf(t[a], sizeof t[a], "-");
  if (!arr) {
    printf("%-24s %-28s %10s %10s %10s  %-8s %s\n", nd->name, shape, t[0], t[1], t[2],
           sr_conv_source_name(c->source), sr_conv_algo_name(algo));
    return;
  }
  cJSON *r = cJSON_CreateObject(), *ms = cJSON_AddObjectToObject(r, "ms");
  cJSON_AddStringToObject(r, "name", nd->name);
  cJSON_AddStringToObject(r, "shape", shape);
  cJSON_AddStringToObject(r, "key", c->key);
  for (int a = 0; a < SR_CONV_ALGOS; a++)
    if (c->ms[a] >= 0) cJSON_AddNumberToObject(ms, sr_conv_algo_name((sr_conv_algo)a), c->ms[a]);
  cJSON_AddStringToObject(r, "choice", sr_conv_algo_name(algo));
  cJSON_AddStringToObject(r, "source", sr_conv_source_name(c->source));
  cJSON_AddItemToArray(arr, r);
}

// Build the plan (tape 0: an inference plan; 1: a training tape) of batch n and list its convolutions.
static int conv_table(sr_model *m, int tape, int n, const char *cache, cJSON *j) {
  sr_err err = {0};
  sr_infer *p = NULL;
  sr_tape *t = NULL;
  if (tape ? sr_model_tape(m, n, 0, &t, &err) : sr_infer_create(m, n, &p, &err))
    return sr_cli_fail("info", &err);
  cJSON *arr = j ? cJSON_AddArrayToObject(j, tape ? "tape" : "plan") : NULL;
  if (!j) {
    printf("\n%s of batch %d, convolution algorithm setting %s (times: ms per %s, fastest of 9)\n",
           tape ? "training tape" : "inference plan", n, sr_model_conv_algo(m),
           tape ? "forward + backward" : "fused step");
    printf("choice cache: %s\n", cache ? cache : "off");
    printf("%-24s %-28s %10s %10s %10s  %-8s %s\n", "conv", "shape", "direct", "winograd", "dnnl-wino",
           "from", "choice");
  }
  for (int i = 1; i < m->n_nodes; i++) {
    sr_conv_choice c;
    int a = tape ? sr_tape_conv_choice(t, i, &c) : sr_infer_conv_choice(p, i, &c);
    if (a >= 0) conv_row(&m->nodes[i], a, &c, arr);
  }
  sr_infer_free(p);
  return 0;
}

int sr_cmd_info(int argc, char **argv) {
  const char *arch = "cnn-small", *weights = NULL;
  sr_model_config cfg = {.width = 1.0};  // input and classes: defaults below, or an ONNX graph's own
  int json = 0, plan = 0, tape = 0, batch = 64;
  sr_opt opts[] = {
      {"model", SR_OPT_STRING, &arch, "resnet18 | resnet34 | cnn-small | mlp | onnx:PATH", 0, 0, 0},
      {"width", SR_OPT_DOUBLE, &cfg.width, "channel multiplier for resnets (default 1)", 0.01, 16, 0},
      {"channels", SR_OPT_INT, &cfg.in_c, "input channels (default 1)", 1, 64, 0},
      {"size", SR_OPT_INT, &cfg.in_h, "input height = width (default 28)", 4, 4096, 0},
      {"classes", SR_OPT_INT, &cfg.classes, "classes (default 10)", 1, 100000, 0},
      {"weights", SR_OPT_STRING, &weights, "also check that a .safetensors file loads into this model", 0, 0,
       0},
      {"json", SR_OPT_FLAG, &json, "JSON output", 0, 0, 0},
      {"plan", SR_OPT_FLAG, &plan,
       "also build the inference plan and list per convolution the candidates' times and the choice "
       "(SR_CONV_ALGO: measure by default)",
       0, 0, 0},
      {"tape", SR_OPT_FLAG, &tape, "the same for the training tape", 0, 0, 0},
      {"batch", SR_OPT_INT, &batch, "batch of --plan / --tape (default 64)", 1, 65536, 0},
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
  const char *algo = sr_cli_conv_algo();
  if (!algo) {
    sr_model_free(&m);
    return SR_EXIT_USAGE;
  }
  char cache_buf[4096];
  const char *cache = plan || tape ? sr_cli_conv_cache("info", algo, cache_buf, sizeof cache_buf) : NULL;
  if (sr_model_set_conv_algo(&m, algo, &err) || (cache && sr_conv_cache_load(cache, &m, &err))) {
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
    if (plan || tape) {
      if (cache)
        cJSON_AddStringToObject(j, "conv_cache", cache);
      else
        cJSON_AddNullToObject(j, "conv_cache");
    }
    if ((plan && (rc = conv_table(&m, 0, batch, cache, j))) ||
        (tape && (rc = conv_table(&m, 1, batch, cache, j)))) {
      cJSON_Delete(j);
      sr_model_free(&m);
      return rc;
    }
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
    if ((plan && (rc = conv_table(&m, 0, batch, cache, NULL))) ||
        (tape && (rc = conv_table(&m, 1, batch, cache, NULL)))) {
      sr_model_free(&m);
      return rc;
    }
  }
  sr_cli_conv_cache_save("info", cache, &m);
  sr_model_free(&m);
  return 0;
}
