// Reading a run directory back: its config.json rebuilds the model, its checkpoint restores weights.
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "simreg/train.h"

// Converting a double outside int's range to int is undefined: such values become 0 (invalid everywhere
// they are read, so the caller's checks reject them).
static int to_int(double v) { return v >= -2147483648.0 && v <= 2147483647.0 ? (int)v : 0; }

static int json_int(const cJSON *j, const char *k, int def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
  return cJSON_IsNumber(v) ? to_int(v->valuedouble) : def;
}

// RUN/config.json parsed; *path gets its name for messages.
static sr_status read_config(const char *run, char *path, size_t np, cJSON **out, sr_err *err) {
  snprintf(path, np, "%s/config.json", run);
  void *buf;
  size_t n;
  sr_status st = sr_read_file(path, 1 << 20, &buf, &n, err);
  if (st) return st;
  cJSON *j = cJSON_ParseWithLength(buf, n);
  sr_free(buf);
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return sr_fail(err, SR_ERR_FORMAT, "%s: not a JSON object", path);
  }
  *out = j;
  return SR_OK;
}

void sr_run_resolve_arch(const char *run, const char *arch, char *out, size_t n) {
  if (!strncmp(arch, "onnx:", 5) && arch[5] && arch[5] != '/')
    snprintf(out, n, "onnx:%s/%s", run, arch + 5);
  else
    snprintf(out, n, "%s", arch);
}

sr_status sr_run_open(const char *run, const char *which, sr_model *m, sr_run_info *info, sr_err *err) {
  char path[2048];
  cJSON *j;
  sr_status st = read_config(run, path, sizeof path, &j, err);
  if (st) return st;
  memset(info, 0, sizeof *info);
  const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model"),
              *w = cJSON_GetObjectItemCaseSensitive(j, "width");
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
  sr_model_config cfg = {.in_c = json_int(j, "in_channels", 0),
                         .in_h = json_int(j, "in_height", 0),
                         .in_w = json_int(j, "in_width", 0),
                         .classes = json_int(j, "classes", 0),
                         .width = cJSON_IsNumber(w) ? w->valuedouble : 1.0};
  if (!cJSON_IsString(model) || cfg.in_c < 1 || cfg.in_h < 1 || cfg.in_w < 1 || cfg.classes < 1) {
    cJSON_Delete(j);
    return sr_fail(err, SR_ERR_FORMAT, "%s: lacks model, in_channels, in_height, in_width or classes", path);
  }
  sr_run_resolve_arch(run, model->valuestring, cfg.arch, sizeof cfg.arch);
  const cJSON *feats = cJSON_GetObjectItemCaseSensitive(j, "features");
  if (cJSON_IsString(feats)) snprintf(cfg.features, sizeof cfg.features, "%s", feats->valuestring);
  snprintf(info->data, sizeof info->data, "%s", cJSON_IsString(data) ? data->valuestring : "fashion-mnist");
  const cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "gray"),
              *mean = cJSON_GetObjectItemCaseSensitive(j, "input_mean"),
              *scale = cJSON_GetObjectItemCaseSensitive(j, "input_scale");
  info->gray = cJSON_IsBool(g) ? cJSON_IsTrue(g) : 1;
  info->mean = cJSON_IsNumber(mean) ? mean->valuedouble : 0.5;
  info->scale = cJSON_IsNumber(scale) ? scale->valuedouble : 5.0;
  cJSON_Delete(j);
  sr_rng rng;
  sr_rng_seed(&rng, 0, 0);
  if ((st = sr_model_create(m, &cfg, &rng, err))) return sr_err_context(err, "%s", path);
  snprintf(path, sizeof path, "%s/%s.safetensors", run, which ? which : "best");
  // the run's recorded convolution choices: a measuring model reuses them instead of timing again
  if ((st = sr_run_load_conv_choices(run, m, err)) || (st = sr_model_load(m, path, err))) sr_model_free(m);
  return st;
}

static const cJSON *item(const cJSON *j, const char *k) { return cJSON_GetObjectItemCaseSensitive(j, k); }

static void get_num(const cJSON *j, const char *k, double *v) {
  if (cJSON_IsNumber(item(j, k))) *v = item(j, k)->valuedouble;
}

static void get_int(const cJSON *j, const char *k, int *v) {
  if (cJSON_IsNumber(item(j, k))) *v = to_int(item(j, k)->valuedouble);
}

static void get_bool(const cJSON *j, const char *k, int *v) {
  if (cJSON_IsBool(item(j, k))) *v = cJSON_IsTrue(item(j, k));
}

static void get_str(const cJSON *j, const char *k, char *dst, size_t n) {
  if (cJSON_IsString(item(j, k))) snprintf(dst, n, "%s", item(j, k)->valuestring);
}

sr_status sr_train_config_load(const char *run, sr_train_config *c, sr_err *err) {
  char path[2048];
  cJSON *j;
  sr_status st = read_config(run, path, sizeof path, &j, err);
  if (st) return st;
  if (!cJSON_IsString(item(j, "model")) || !cJSON_IsNumber(item(j, "seed"))) {
    cJSON_Delete(j);
    return sr_fail(err, SR_ERR_FORMAT, "%s: not a simreg training config (model, seed missing)", path);
  }
  double seed = 0, limit = 0;
  char sched[32] = "cyclic";
  char arch[sizeof c->model.arch] = "";
  get_str(j, "model", arch, sizeof arch);
  sr_run_resolve_arch(run, arch, c->model.arch, sizeof c->model.arch);
  get_str(j, "features", c->model.features, sizeof c->model.features);
  get_str(j, "data", c->data.spec, sizeof c->data.spec);
  get_str(j, "lr_schedule", sched, sizeof sched);
  get_num(j, "width", &c->model.width);
  get_int(j, "epochs", &c->optim.epochs);
  get_int(j, "batch", &c->optim.batch);
  get_num(j, "lr", &c->optim.lr);
  get_num(j, "momentum", &c->optim.momentum);
  get_num(j, "weight_decay", &c->optim.weight_decay);
  get_bool(j, "nesterov", &c->optim.nesterov);
  get_num(j, "val_fraction", &c->data.val_fraction);
  get_num(j, "seed", &seed);
  get_bool(j, "augment", &c->data.augment);
  get_int(j, "crop_pad", &c->data.crop_pad);
  get_bool(j, "flip", &c->data.flip);
  get_bool(j, "gray", &c->data.gray);
  get_num(j, "input_mean", &c->data.mean);
  get_num(j, "input_scale", &c->data.scale);
  get_num(j, "limit", &limit);
  get_bool(j, "eval_test", &c->data.eval_test);
  get_bool(j, "sync_bn", &c->run.sync_bn);
  char prec[8] = "f32";
  get_str(j, "precision", prec, sizeof prec);
  if ((st = sr_precision_parse(prec, &c->model.precision, err))) {
    cJSON_Delete(j);
    return sr_err_context(err, "%s", path);
  }
  get_int(j, "checkpoint_every", &c->run.checkpoint_every);
  const cJSON *reg = item(j, "reg");
  if (cJSON_IsObject(reg)) {
    double n = (double)c->reg.n, pairs = c->reg.pairs;
    char loss[16] = "log", pass[16] = "ghost";
    get_str(reg, "type", c->reg.kind, sizeof c->reg.kind);
    get_num(reg, "alpha", &c->reg.alpha);
    get_num(reg, "threshold", &c->reg.th);
    get_num(reg, "images", &n);
    get_num(reg, "pairs", &pairs);
    get_str(reg, "layers", c->reg.layers, sizeof c->reg.layers);
    if (!strcmp(c->reg.layers, "all")) c->reg.layers[0] = 0;
    get_str(reg, "loss", loss, sizeof loss);
    get_str(reg, "pair_pass", pass, sizeof pass);  // absent: a run from before ghost BN used two tapes
    if (!cJSON_GetObjectItemCaseSensitive(reg, "pair_pass")) snprintf(pass, sizeof pass, "two-tapes");
    get_str(reg, "data", c->reg.data, sizeof c->reg.data);
    get_str(reg, "target", c->reg.target, sizeof c->reg.target);
    get_str(reg, "indices", c->reg.indices, sizeof c->reg.indices);
    if (!(n >= 2 && n <= 1e8))
      seed = -1;  // reported below
    else
      c->reg.n = (int64_t)n;
    c->reg.pairs = to_int(pairs);
    c->reg.mse = !strcmp(loss, "mse");
    c->reg.two_tapes = !strcmp(pass, "two-tapes");
  }
  cJSON_Delete(j);
  if (!(seed >= 0 && seed <= 9007199254740992.0) || !(limit >= 0 && limit <= 9e15))
    return sr_fail(err, SR_ERR_FORMAT, "%s: seed, limit or reg.images out of range", path);
  c->optim.seed = (uint64_t)seed;
  c->data.limit = (int64_t)limit;
  if ((st = sr_lr_parse(sched, &c->optim.sched, err))) return sr_err_context(err, "%s", path);
  c->optim.sched.lr0 = c->optim.lr;
  c->optim.sched.total_epochs = c->optim.epochs;
  snprintf(c->run.out, sizeof c->run.out, "%s", run);
  return SR_OK;
}
