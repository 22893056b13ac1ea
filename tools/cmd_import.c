// simreg import: an ONNX model (e.g. from torch.onnx.export) becomes a run directory every command accepts:
// RUN/model.onnx (the graph), RUN/best.safetensors and RUN/last.safetensors (its weights, ONNX initializer
// names), RUN/config.json (input size, channels, pixel scaling, dataset).
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "simreg/data.h"
#include "simreg/onnx.h"
#include "simreg/train.h"

static cJSON *config_json(const sr_cli_import *a, const sr_model *m, const sr_dataset *ds, int gray,
                          const sr_onnx_info *info) {
  cJSON *j = cJSON_CreateObject(), *reg = NULL, *o = NULL;
  const char *name = strrchr(a->out, '/') ? strrchr(a->out, '/') + 1 : a->out;
  int ok = j != NULL;
  ok = ok && cJSON_AddStringToObject(j, "name", name) &&
       cJSON_AddStringToObject(j, "model", a->by_path ? a->by_path : "onnx:model.onnx");
  if (a->features && strcmp(a->features, "auto"))
    ok = ok && cJSON_AddStringToObject(j, "features", a->features);
  ok = ok && cJSON_AddNumberToObject(j, "width", 1.0) && cJSON_AddStringToObject(j, "dataset", ds->name) &&
       cJSON_AddStringToObject(j, "data", a->data) &&
       cJSON_AddNumberToObject(j, "in_channels", m->cfg.in_c) &&
       cJSON_AddNumberToObject(j, "in_height", m->cfg.in_h) &&
       cJSON_AddNumberToObject(j, "in_width", m->cfg.in_w) &&
       cJSON_AddNumberToObject(j, "classes", m->cfg.classes) &&
       cJSON_AddNumberToObject(j, "parameters", (double)m->n_params) &&
       cJSON_AddNumberToObject(j, "epochs", 0) && cJSON_AddNumberToObject(j, "batch", 64) &&
       cJSON_AddNumberToObject(j, "lr", 0.01) && cJSON_AddStringToObject(j, "lr_schedule", "constant") &&
       cJSON_AddNumberToObject(j, "momentum", 0.9) && cJSON_AddNumberToObject(j, "weight_decay", 0) &&
       cJSON_AddBoolToObject(j, "nesterov", 0) && cJSON_AddNumberToObject(j, "val_fraction", 0.01) &&
       cJSON_AddNumberToObject(j, "seed", 0) && cJSON_AddBoolToObject(j, "augment", 1) &&
       cJSON_AddNumberToObject(j, "crop_pad", 4) && cJSON_AddBoolToObject(j, "flip", 1) &&
       cJSON_AddBoolToObject(j, "gray", gray) && cJSON_AddNumberToObject(j, "input_mean", a->mean) &&
       cJSON_AddNumberToObject(j, "input_scale", a->scale) &&
       cJSON_AddStringToObject(j, "precision", "f32") && cJSON_AddBoolToObject(j, "eval_test", 1) &&
       (reg = cJSON_AddObjectToObject(j, "reg")) && cJSON_AddStringToObject(reg, "type", "none") &&
       (o = cJSON_AddObjectToObject(j, "onnx")) && cJSON_AddStringToObject(o, "source", a->src) &&
       cJSON_AddNumberToObject(o, "ir_version", (double)info->ir_version) &&
       cJSON_AddNumberToObject(o, "opset", (double)info->opset) &&
       cJSON_AddStringToObject(o, "input", info->input) &&
       cJSON_AddStringToObject(o, "output", info->output) &&
       cJSON_AddStringToObject(o, "scores", sr_scores_name(m->scores));
  if (!ok) {
    cJSON_Delete(j);
    return NULL;
  }
  return j;
}

static sr_status write_run(const sr_cli_import *a, const sr_model *m, const sr_dataset *ds, int gray,
                           const sr_onnx_info *info, sr_err *err) {
  char path[4200];
  void *buf;
  size_t n;
  sr_status s = sr_mkdir_p(a->out, err);
  if (s) return s;
  if (!a->by_path) {
    if ((s = sr_read_file(a->src, (size_t)2 << 30, &buf, &n, err))) return s;
    snprintf(path, sizeof path, "%s/model.onnx", a->out);
    s = sr_write_file_atomic(path, buf, n, err);
    sr_free(buf);
  }
  const char *which[2] = {"best", "last"};
  for (int k = 0; k < 2 && !s; k++) {
    snprintf(path, sizeof path, "%s/%s.safetensors", a->out, which[k]);
    s = sr_model_save(m, path, err);
  }
  if (s) return s;
  cJSON *j = config_json(a, m, ds, gray, info);
  char *txt = j ? cJSON_Print(j) : NULL;
  cJSON_Delete(j);
  if (!txt) return sr_fail(err, SR_ERR_NOMEM, "%s/config.json: out of memory", a->out);
  snprintf(path, sizeof path, "%s/config.json", a->out);
  s = sr_write_file_atomic(path, txt, strlen(txt), err);
  free(txt);
  return s;
}

// Import with the dataset's image size (unless --size) and check channels and classes against it.
int sr_cli_import_run(const char *cmd, const sr_cli_import *a) {
  sr_err err = {0};
  sr_dataset ds;
  if (sr_dataset_load(a->data, "test", &ds, &err)) return sr_cli_fail(cmd, &err);
  sr_onnx_opts o = {.in_c = a->channels,
                    .in_h = a->size ? a->size : ds.h,
                    .in_w = a->size ? a->size : ds.w,
                    .features = a->features};
  sr_model m;
  sr_onnx_info info;
  sr_status s = sr_model_from_onnx(a->src, &o, &m, &info, &err);
  if (s && !a->channels && s == SR_ERR_SHAPE && strstr(err.msg, "dynamic channels")) {
    o.in_c = ds.c;
    s = sr_model_from_onnx(a->src, &o, &m, &info, &err);
  }
  if (s) {
    sr_dataset_free(&ds);
    return sr_cli_fail(cmd, &err);
  }
  int gray = a->gray_flag || (!a->color_flag && m.cfg.in_c == 1 && ds.c != 1);
  int rc = 0;
  if ((gray ? 1 : ds.c) != m.cfg.in_c) {
    fprintf(stderr, "simreg %s: %s takes %d channels, %s gives %d%s\n", cmd, a->src, m.cfg.in_c, a->data,
            gray ? 1 : ds.c, gray ? " (--gray)" : "");
    rc = SR_EXIT_USAGE;
  } else if (m.cfg.classes != ds.num_classes) {
    fprintf(stderr, "simreg %s: %s has %d outputs, %s has %d classes\n", cmd, a->src, m.cfg.classes, a->data,
            ds.num_classes);
    rc = SR_EXIT_USAGE;
  } else if (write_run(a, &m, &ds, gray, &info, &err)) {
    rc = sr_cli_fail(cmd, &err);
  } else if (!a->quiet) {
    printf(
        "imported %s (opset %lld): %d nodes, %lld parameters, input %dx%dx%d, %d classes%s -> %s\nfeature "
        "layers:",
        a->src, (long long)info.opset, m.n_nodes, (long long)m.n_params, m.cfg.in_c, m.cfg.in_h, m.cfg.in_w,
        m.cfg.classes, info.softmax ? " (final Softmax: kept for scores, decisions on the logits)" : "",
        a->out);
    for (int f = 0; f < m.n_feat; f++) printf(" %s", m.feat_name[f]);
    printf("\n");
  }
  sr_model_free(&m);
  sr_dataset_free(&ds);
  return rc;
}

int sr_cmd_import(int argc, char **argv) {
  sr_cli_import a = {.mean = 0.0, .scale = 1.0};
  sr_opt opts[] = {
      {"data", SR_OPT_STRING, &a.data, "dataset spec the model classifies (required; e.g. cifar10:DIR)", 0, 0,
       0},
      {"out", SR_OPT_STRING, &a.out, "run directory to write (required)", 0, 0, 0},
      {"input-mean", SR_OPT_DOUBLE, &a.mean,
       "x' = (x - mean) * scale, x in [0,1] (default 0: PyTorch's ToTensor)", 0, 0, 0},
      {"input-scale", SR_OPT_DOUBLE, &a.scale, "(default 1)", 0, 0, 0},
      {"gray", SR_OPT_FLAG, &a.gray_flag,
       "feed gray images (channel mean; default: when the model takes 1 channel)", 0, 0, 0},
      {"color", SR_OPT_FLAG, &a.color_flag, "feed the dataset's channels as they are", 0, 0, 0},
      {"channels", SR_OPT_INT, &a.channels, "input channels when the graph leaves them dynamic", 1, 4096, 0},
      {"size", SR_OPT_INT, &a.size, "input height = width (default: the dataset's)", 1, 16384, 0},
      {"features", SR_OPT_STRING, &a.features, "feature layers: ONNX tensor names a,b,... or auto (default)",
       0, 0, 0},
      {0},
  };
  const char *pos[1];
  int npos;
  int rc = sr_cli_parse("import", "MODEL.onnx --data SPEC --out RUN [options]", opts,
                        &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2}, pos, 1, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  if (npos != 1 || !a.data || !a.out) {
    fprintf(stderr, "simreg import: give one .onnx file, --data and --out (see simreg import --help)\n");
    return SR_EXIT_USAGE;
  }
  if (a.gray_flag && a.color_flag) {
    fprintf(stderr, "simreg import: --gray and --color exclude each other\n");
    return SR_EXIT_USAGE;
  }
  a.src = pos[0];
  return sr_cli_import_run("import", &a);
}
