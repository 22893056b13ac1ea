// The per-convolution algorithm choices of a run (sr_model_conv_choices) as JSON: recorded in
// RUN/config.json ("conv_algo") and in the cache file RUN/conv_algo.json, read back so that a resumed run,
// eval and attack reuse them instead of timing again.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "convcache.h"

cJSON *sr_conv_choices_json(const sr_model *m) {
  const sr_conv_choice *c;
  int n = sr_model_conv_choices(m, &c);
  cJSON *j = cJSON_CreateObject();
  cJSON *arr = j ? cJSON_AddArrayToObject(j, "choices") : NULL;
  int ok = arr && cJSON_AddStringToObject(j, "setting", sr_model_conv_algo(m));
  for (int i = 0; ok && i < n; i++) {
    cJSON *e = cJSON_CreateObject();
    if (!e || !cJSON_AddItemToArray(arr, e)) {
      cJSON_Delete(e);
      ok = 0;
      break;
    }
    cJSON *ms = cJSON_AddObjectToObject(e, "ms");
    ok = ms && cJSON_AddStringToObject(e, "key", c[i].key) &&
         cJSON_AddStringToObject(e, "algo", sr_conv_algo_name(c[i].algo));
    for (int a = 0; ok && a < SR_CONV_ALGOS; a++)
      if (c[i].ms[a] >= 0)
        ok = cJSON_AddNumberToObject(ms, sr_conv_algo_name((sr_conv_algo)a), c[i].ms[a]) != NULL;
  }
  if (!ok) {
    cJSON_Delete(j);
    return NULL;
  }
  return j;
}

static sr_status parse_choice(const cJSON *e, const char *path, int i, sr_conv_choice *c, sr_err *err) {
  const cJSON *key = cJSON_GetObjectItemCaseSensitive(e, "key"),
              *algo = cJSON_GetObjectItemCaseSensitive(e, "algo");
  const cJSON *ms = cJSON_GetObjectItemCaseSensitive(e, "ms");
  int a = cJSON_IsString(algo) ? sr_conv_algo_parse(algo->valuestring) : -1;
  if (!cJSON_IsString(key) || strlen(key->valuestring) >= sizeof c->key || a < 0 ||
      (ms && !cJSON_IsObject(ms)))
    return sr_fail(err, SR_ERR_FORMAT, "%s: convolution choice %d is malformed (key, algo, ms)", path, i);
  memset(c, 0, sizeof *c);
  snprintf(c->key, sizeof c->key, "%s", key->valuestring);
  c->algo = (sr_conv_algo)a;
  for (int k = 0; k < SR_CONV_ALGOS; k++) {
    const cJSON *v = ms ? cJSON_GetObjectItemCaseSensitive(ms, sr_conv_algo_name((sr_conv_algo)k)) : NULL;
    c->ms[k] = cJSON_IsNumber(v) && v->valuedouble >= 0 ? v->valuedouble : -1;
  }
  return SR_OK;
}

sr_status sr_conv_choices_from_json(sr_model *m, const cJSON *j, const char *path, sr_err *err) {
  const cJSON *arr = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "choices") : NULL;
  if (!cJSON_IsArray(arr))
    return sr_fail(err, SR_ERR_FORMAT, "%s: convolution choices: not an object with a \"choices\" array",
                   path);
  int i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, arr) {
    sr_conv_choice c;
    sr_status s = parse_choice(e, path, i++, &c, err);
    if (!s) s = sr_model_add_conv_choices(m, &c, 1, err);
    if (s) return s;
  }
  return SR_OK;
}

static sr_status load_file(const char *path, int section, sr_model *m, sr_err *err) {
  struct stat sb;
  if (stat(path, &sb) != 0 && errno == ENOENT) return SR_OK;  // nothing recorded
  void *buf;
  size_t n;
  sr_status s = sr_read_file(path, 16 << 20, &buf, &n, err);
  if (s) return s;
  cJSON *j = cJSON_ParseWithLength(buf, n);
  sr_free(buf);
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return sr_fail(err, SR_ERR_FORMAT,
                   "%s: not a JSON object (a corrupt convolution algorithm cache? delete it)", path);
  }
  const cJSON *part = section ? cJSON_GetObjectItemCaseSensitive(j, "conv_algo") : j;
  s = part ? sr_conv_choices_from_json(m, part, path, err) : SR_OK;
  cJSON_Delete(j);
  return s;
}

sr_status sr_run_load_conv_choices(const char *run, sr_model *m, sr_err *err) {
  char path[2048];
  snprintf(path, sizeof path, "%s/config.json", run);
  sr_status s = load_file(path, 1, m, err);
  if (s) return s;
  snprintf(path, sizeof path, "%s/" SR_CONV_CACHE_FILE, run);
  return load_file(path, 0, m, err);
}

sr_status sr_run_save_conv_choices(const char *run, const sr_model *m, sr_err *err) {
  char path[2048];
  snprintf(path, sizeof path, "%s/" SR_CONV_CACHE_FILE, run);
  cJSON *j = sr_conv_choices_json(m);
  char *txt = j ? cJSON_Print(j) : NULL;
  cJSON_Delete(j);
  if (!txt) return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
  sr_status s = sr_write_file_atomic(path, txt, strlen(txt), err);
  cJSON_free(txt);
  return s;
}
