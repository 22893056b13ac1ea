// Reading a run directory back: its config.json rebuilds the model, its checkpoint restores weights.
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "simreg/train.h"

static int json_int(const cJSON *j, const char *k, int def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
  return cJSON_IsNumber(v) ? (int)v->valuedouble : def;
}

sr_status sr_run_open(const char *run, const char *which, sr_model *m, sr_run_info *info, sr_err *err) {
  char path[2048];
  snprintf(path, sizeof path, "%s/config.json", run);
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
  memset(info, 0, sizeof *info);
  const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model"), *w = cJSON_GetObjectItemCaseSensitive(j, "width");
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
  sr_model_config cfg = {.in_c = json_int(j, "in_channels", 0), .in_h = json_int(j, "in_height", 0),
                         .in_w = json_int(j, "in_width", 0), .classes = json_int(j, "classes", 0),
                         .width = cJSON_IsNumber(w) ? w->valuedouble : 1.0};
  if (!cJSON_IsString(model) || cfg.in_c < 1 || cfg.in_h < 1 || cfg.in_w < 1 || cfg.classes < 1) {
    cJSON_Delete(j);
    return sr_fail(err, SR_ERR_FORMAT, "%s: lacks model, in_channels, in_height, in_width or classes", path);
  }
  snprintf(cfg.arch, sizeof cfg.arch, "%s", model->valuestring);
  snprintf(info->data, sizeof info->data, "%s", cJSON_IsString(data) ? data->valuestring : "fashion-mnist");
  const cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "gray"), *mean = cJSON_GetObjectItemCaseSensitive(j, "input_mean"),
              *scale = cJSON_GetObjectItemCaseSensitive(j, "input_scale");
  info->gray = cJSON_IsBool(g) ? cJSON_IsTrue(g) : 1;
  info->mean = cJSON_IsNumber(mean) ? mean->valuedouble : 0.5;
  info->scale = cJSON_IsNumber(scale) ? scale->valuedouble : 5.0;
  cJSON_Delete(j);
  sr_rng rng;
  sr_rng_seed(&rng, 0, 0);
  if ((st = sr_model_create(m, &cfg, &rng, err))) return sr_err_context(err, "%s", path);
  snprintf(path, sizeof path, "%s/%s.safetensors", run, which ? which : "best");
  if ((st = sr_model_load(m, path, err))) sr_model_free(m);
  return st;
}
