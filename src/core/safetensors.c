// safetensors reader/writer. The header is untrusted: every size and offset is checked before use.
#include "simreg/safetensors.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define ST_MAX_FILE ((size_t)1 << 34)
#define ST_MAX_HEADER ((size_t)100 << 20)

static const struct {
  const char *name;
  sr_dtype dt;
} ST_DTYPES[] = {{"F32", SR_F32}, {"F64", SR_F64}, {"I64", SR_I64}, {"I32", SR_I32}, {"U8", SR_U8}};

static const char *st_dtype_name(sr_dtype dt) {
  for (size_t i = 0; i < sizeof ST_DTYPES / sizeof ST_DTYPES[0]; i++)
    if (ST_DTYPES[i].dt == dt) return ST_DTYPES[i].name;
  return NULL;
}

void sr_st_free(sr_st_file *f) {
  if (f->meta)
    for (char **p = f->meta; *p; p++) free(*p);
  free(f->meta);
  free(f->tensors);
  sr_free(f->buf);
  memset(f, 0, sizeof *f);
}

static sr_status parse_meta(const char *path, const cJSON *md, sr_st_file *f, sr_err *err) {
  int n = cJSON_GetArraySize(md), k = 0;
  f->meta = calloc((size_t)(2 * n + 1), sizeof(char *));
  if (!f->meta) return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
  for (const cJSON *it = md->child; it; it = it->next) {
    if (!cJSON_IsString(it)) return sr_fail(err, SR_ERR_FORMAT, "%s: __metadata__ value '%s' is not a string", path, it->string);
    f->meta[k++] = strdup(it->string);
    f->meta[k++] = strdup(it->valuestring);
    if (!f->meta[k - 1] || !f->meta[k - 2]) return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
  }
  return SR_OK;
}

static sr_status parse_tensor(const char *path, const cJSON *it, size_t data_size, sr_st_tensor *t, size_t *begin,
                              sr_err *err) {
  if (strlen(it->string) >= sizeof t->name) return sr_fail(err, SR_ERR_FORMAT, "%s: tensor name too long", path);
  snprintf(t->name, sizeof t->name, "%s", it->string);
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
  const cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
  const cJSON *of = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
  if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2)
    return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' lacks dtype/shape/data_offsets", path, t->name);
  int found = 0;
  for (size_t i = 0; i < sizeof ST_DTYPES / sizeof ST_DTYPES[0]; i++)
    if (!strcmp(dt->valuestring, ST_DTYPES[i].name)) t->dtype = ST_DTYPES[i].dt, found = 1;
  if (!found) return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' has unsupported dtype %s", path, t->name, dt->valuestring);
  t->ndim = cJSON_GetArraySize(sh);
  if (t->ndim > SR_NPY_MAX_DIMS) return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' has too many dims", path, t->name);
  t->count = 1;
  int d = 0;
  for (const cJSON *x = sh->child; x; x = x->next, d++) {
    if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 1e12 || x->valuedouble != (double)(int64_t)x->valuedouble)
      return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' has an invalid shape", path, t->name);
    t->shape[d] = (int64_t)x->valuedouble;
    if (__builtin_mul_overflow(t->count, t->shape[d], &t->count) || t->count > ((int64_t)1 << 40))
      return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' is too large", path, t->name);
  }
  double b = cJSON_GetArrayItem(of, 0)->valuedouble, e = cJSON_GetArrayItem(of, 1)->valuedouble;
  size_t need = (size_t)t->count * sr_dtype_size(t->dtype);
  if (!(b >= 0 && e >= b && e <= (double)data_size) || (size_t)(e - b) != need)
    return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' has data offsets [%.0f, %.0f) inconsistent with its shape or the file size (%zu data bytes)",
                   path, t->name, b, e, data_size);
  *begin = (size_t)b;
  return SR_OK;
}

sr_status sr_st_read(const char *path, sr_st_file *f, sr_err *err) {
  memset(f, 0, sizeof *f);
  sr_status st = sr_read_file(path, ST_MAX_FILE, &f->buf, &f->size, err);
  if (st) return st;
  const unsigned char *p = f->buf;
  uint64_t hl = 0;
  if (f->size >= 8)
    for (int i = 7; i >= 0; i--) hl = hl << 8 | p[i];
  if (f->size < 8 || hl > f->size - 8 || hl > ST_MAX_HEADER || hl < 2) {
    size_t size = f->size;
    sr_st_free(f);
    return sr_fail(err, SR_ERR_FORMAT, "%s: not a safetensors file (header length %llu, file %zu bytes)", path,
                   (unsigned long long)hl, size);
  }
  cJSON *root = cJSON_ParseWithLength((const char *)p + 8, (size_t)hl);
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    sr_st_free(f);
    return sr_fail(err, SR_ERR_FORMAT, "%s: safetensors header is not valid JSON", path);
  }
  size_t data_off = 8 + (size_t)hl, data_size = f->size - data_off;
  int n = cJSON_GetArraySize(root);
  f->tensors = calloc((size_t)n + 1, sizeof *f->tensors);
  if (!f->tensors) st = sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
  for (const cJSON *it = root->child; it && !st; it = it->next) {
    if (!strcmp(it->string, "__metadata__")) {
      st = cJSON_IsObject(it) ? parse_meta(path, it, f, err)
                              : sr_fail(err, SR_ERR_FORMAT, "%s: __metadata__ is not an object", path);
      continue;
    }
    if (!cJSON_IsObject(it)) {
      st = sr_fail(err, SR_ERR_FORMAT, "%s: entry '%s' is not an object", path, it->string);
      break;
    }
    sr_st_tensor *t = &f->tensors[f->n];
    size_t begin = 0;
    if (!(st = parse_tensor(path, it, data_size, t, &begin, err))) {
      t->data = (const char *)f->buf + data_off + begin;
      f->n++;
    }
  }
  cJSON_Delete(root);
  if (st) sr_st_free(f);
  return st;
}

const sr_st_tensor *sr_st_find(const sr_st_file *f, const char *name) {
  for (int i = 0; i < f->n; i++)
    if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
  return NULL;
}

const char *sr_st_meta(const sr_st_file *f, const char *key) {
  if (!f->meta) return NULL;
  for (char **p = f->meta; *p; p += 2)
    if (!strcmp(p[0], key)) return p[1];
  return NULL;
}

sr_status sr_st_write(const char *path, const sr_st_entry *e, int n, const char *const *meta, sr_err *err) {
  cJSON *root = cJSON_CreateObject();
  if (!root) return sr_fail(err, SR_ERR_NOMEM, "out of memory");
  if (meta && meta[0]) {
    cJSON *md = cJSON_AddObjectToObject(root, "__metadata__");
    for (const char *const *p = meta; md && p[0] && p[1]; p += 2) cJSON_AddStringToObject(md, p[0], p[1]);
  }
  size_t off = 0;
  for (int i = 0; i < n; i++) {
    const char *dn = st_dtype_name(e[i].dtype);
    size_t cnt = 1;
    for (int d = 0; d < e[i].ndim; d++) cnt *= (size_t)e[i].shape[d];
    size_t bytes = cnt * sr_dtype_size(e[i].dtype);
    cJSON *t = cJSON_AddObjectToObject(root, e[i].name);
    cJSON *sh = cJSON_AddArrayToObject(t, "shape"), *of = cJSON_AddArrayToObject(t, "data_offsets");
    cJSON_AddStringToObject(t, "dtype", dn ? dn : "F32");
    for (int d = 0; d < e[i].ndim; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)e[i].shape[d]));
    cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
    cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + bytes)));
    off += bytes;
  }
  char *json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (!json) return sr_fail(err, SR_ERR_NOMEM, "out of memory");
  size_t hl = strlen(json), padded = (hl + 7) & ~(size_t)7;
  unsigned char len[8];
  for (int i = 0; i < 8; i++) len[i] = (unsigned char)((uint64_t)padded >> (8 * i));
  sr_afile f;
  sr_status st = sr_afile_open(&f, path, err);
  if (st) {
    free(json);
    return st;
  }
  int ok = fwrite(len, 1, 8, f.fp) == 8 && fwrite(json, 1, hl, f.fp) == hl;
  for (size_t i = hl; ok && i < padded; i++) ok = fputc(' ', f.fp) != EOF;
  free(json);
  for (int i = 0; ok && i < n; i++) {
    size_t cnt = 1;
    for (int d = 0; d < e[i].ndim; d++) cnt *= (size_t)e[i].shape[d];
    size_t bytes = cnt * sr_dtype_size(e[i].dtype);
    ok = bytes == 0 || fwrite(e[i].data, 1, bytes, f.fp) == bytes;
  }
  if (!ok) {
    sr_afile_abort(&f);
    return sr_fail(err, SR_ERR_IO, "%s: write failed", path);
  }
  return sr_afile_commit(&f, err);
}
