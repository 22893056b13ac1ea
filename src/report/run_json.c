// Small cJSON helpers for reading run files: whole-file parse with a message naming the file, typed field
// access, number arrays checked for type and finiteness.
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "run_json.h"

#define SR_JSON_MAX_BYTES ((size_t)256 << 20)

int sr_file_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

sr_status sr_json_parse_text(const char *text, size_t n, const char *path, cJSON **out, sr_err *err) {
  const char *end = NULL;
  *out = cJSON_ParseWithLengthOpts(text, n, &end, 0);
  if (!*out) {
    long off = end ? (long)(end - text) : -1;
    return sr_fail(err, SR_ERR_FORMAT, "%s: malformed JSON near byte %ld", path, off);
  }
  return SR_OK;
}

sr_status sr_json_load(const char *path, cJSON **out, int *missing, sr_err *err) {
  *out = NULL;
  *missing = 0;
  if (!sr_file_exists(path)) {
    *missing = 1;
    return SR_OK;
  }
  void *data;
  size_t n;
  sr_status st = sr_read_file(path, SR_JSON_MAX_BYTES, &data, &n, err);
  if (st) return st;
  st = sr_json_parse_text(data, n, path, out, err);
  sr_free(data);
  if (!st && !cJSON_IsObject(*out)) {
    cJSON_Delete(*out);
    *out = NULL;
    return sr_fail(err, SR_ERR_FORMAT, "%s: the top level must be a JSON object", path);
  }
  return st;
}

sr_status sr_json_string(const cJSON *obj, const char *key, char *dst, size_t cap, const char *path,
                         sr_err *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!v || cJSON_IsNull(v)) return SR_OK;
  if (!cJSON_IsString(v)) return sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\" must be a string", path, key);
  snprintf(dst, cap, "%s", v->valuestring);
  return SR_OK;
}

sr_status sr_json_number(const cJSON *obj, const char *key, double *dst, int *present, const char *path,
                         sr_err *err) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (present) *present = 0;
  if (!v || cJSON_IsNull(v)) return SR_OK;
  if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
    return sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\" must be a finite number", path, key);
  *dst = v->valuedouble;
  if (present) *present = 1;
  return SR_OK;
}

sr_status sr_json_doubles(const cJSON *arr, const char *key, const char *path, double **out, int64_t *n,
                          sr_err *err) {
  *out = NULL;
  *n = 0;
  if (!cJSON_IsArray(arr))
    return sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\" must be an array of numbers", path, key);
  int64_t k = cJSON_GetArraySize(arr);
  double *v = sr_alloc((size_t)(k > 0 ? k : 1) * sizeof(double));
  if (!v) return sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate %lld numbers", path, (long long)k);
  int64_t i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, arr) {
    if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) {
      sr_free(v);
      return sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\"[%lld] is not a finite number", path, key, (long long)i);
    }
    v[i++] = e->valuedouble;
  }
  *out = v;
  *n = k;
  return SR_OK;
}
