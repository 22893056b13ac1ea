// safetensors reader/writer. The header is untrusted: every size and offset is checked before use.
#include "simreg/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ST_MAX_FILE   ((size_t)1 << 34)
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
    if (!cJSON_IsString(it))
      return sr_fail(err, SR_ERR_FORMAT, "%s: __metadata__ value '%s' is not a string", path, it->string);
    char *key = strdup(it->string), *val = key ? strdup(it->valuestring) : NULL;
    if (!val) {  // the list ends at the first NULL: store pairs only
      free(key);
      return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
    }
    f->meta[k++] = key;
    f->meta[k++] = val;
  }
  return SR_OK;
}

typedef struct st_range {
  size_t begin, end;
  const char *name;
  int index;  // of the tensor
} st_range;

// A JSON number that is a whole byte offset/size: finite, >= 0, < 2^53 (exact in a double).
static int json_size(const cJSON *x, size_t *out) {
  if (!cJSON_IsNumber(x)) return 0;
  double v = x->valuedouble;
  if (!(v >= 0 && v < 9007199254740992.0) || v != (double)(uint64_t)v) return 0;
  *out = (size_t)v;
  return 1;
}

static sr_status parse_tensor(const char *path, const cJSON *it, size_t data_size, sr_st_tensor *t,
                              st_range *r, sr_err *err) {
  if (strlen(it->string) >= sizeof t->name)
    return sr_fail(err, SR_ERR_FORMAT, "%s: tensor name too long", path);
  snprintf(t->name, sizeof t->name, "%s", it->string);
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
  const cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
  const cJSON *of = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
  if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2)
    return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' lacks dtype/shape/data_offsets", path, t->name);
  int found = 0;
  for (size_t i = 0; i < sizeof ST_DTYPES / sizeof ST_DTYPES[0]; i++)
    if (!strcmp(dt->valuestring, ST_DTYPES[i].name)) {
      t->dtype = ST_DTYPES[i].dt;
      found = 1;
    }
  if (!found)
    return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' has unsupported dtype %s", path, t->name,
                   dt->valuestring);
  t->ndim = cJSON_GetArraySize(sh);
  if (t->ndim > SR_NPY_MAX_DIMS)
    return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' has too many dims", path, t->name);
  t->count = 1;
  int d = 0;
  for (const cJSON *x = sh->child; x; x = x->next, d++) {
    size_t dim;
    if (!json_size(x, &dim) || dim > ((size_t)1 << 40))
      return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' has an invalid shape", path, t->name);
    t->shape[d] = (int64_t)dim;
    if (__builtin_mul_overflow(t->count, t->shape[d], &t->count) || t->count > ((int64_t)1 << 40))
      return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' is too large", path, t->name);
  }
  size_t b, e, need = (size_t)t->count * sr_dtype_size(t->dtype);
  if (!json_size(of->child, &b) || !json_size(of->child->next, &e) || e < b || e > data_size || e - b != need)
    return sr_fail(err, SR_ERR_FORMAT,
                   "%s: tensor '%s' has data offsets [%.0f, %.0f] inconsistent with its shape (%zu bytes) or "
                   "the file size (%zu data bytes)",
                   path, t->name, of->child->valuedouble, of->child->next->valuedouble, need, data_size);
  r->begin = b;
  r->end = e;
  return SR_OK;
}

static int cmp_range(const void *a, const void *b) {
  const st_range *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : x->end < y->end ? -1 : x->end > y->end;
}

// The format's rule: tensor byte ranges tile the data section exactly (no overlap, no hole, nothing after),
// so every byte belongs to one tensor. ranges: n of them, sorted here (each keeps its tensor's index).
static sr_status check_tiling(const char *path, st_range *ranges, int n, size_t data_size, sr_err *err) {
  if (n > 1) qsort(ranges, (size_t)n, sizeof ranges[0], cmp_range);
  size_t at = 0;
  for (int i = 0; i < n; i++) {
    if (ranges[i].begin < at)
      return sr_fail(err, SR_ERR_FORMAT,
                     "%s: tensor data ranges overlap ('%s' starts at byte %zu, before %zu)", path,
                     ranges[i].name, ranges[i].begin, at);
    if (ranges[i].begin > at)
      return sr_fail(err, SR_ERR_FORMAT, "%s: tensor data has a hole (bytes %zu to %zu belong to no tensor)",
                     path, at, ranges[i].begin);
    at = ranges[i].end;
  }
  if (at != data_size)
    return sr_fail(err, SR_ERR_FORMAT,
                   "%s: %zu data bytes after the last tensor (the data section is %zu bytes)", path,
                   data_size - at, data_size);
  return SR_OK;
}

// Parse and validate the header: tensors (with data pointers relative to NULL until the data is read),
// metadata, and the tiling of the data section. Nothing here allocates more than the header's size.
static sr_status parse_header(const char *path, const char *text, size_t hl, size_t data_size, sr_st_file *f,
                              st_range **ranges, sr_err *err) {
  cJSON *root = cJSON_ParseWithLength(text, hl);
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return sr_fail(err, SR_ERR_FORMAT, "%s: safetensors header is not valid JSON", path);
  }
  sr_status st = SR_OK;
  int n = cJSON_GetArraySize(root);
  f->tensors = calloc((size_t)n + 1, sizeof *f->tensors);
  *ranges = calloc((size_t)n + 1, sizeof **ranges);
  if (!f->tensors || !*ranges) st = sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
  for (const cJSON *it = root->child; it && !st; it = it->next) {
    if (!strcmp(it->string, "__metadata__")) {
      st = f->meta              ? sr_fail(err, SR_ERR_FORMAT, "%s: __metadata__ appears twice", path)
           : cJSON_IsObject(it) ? parse_meta(path, it, f, err)
                                : sr_fail(err, SR_ERR_FORMAT, "%s: __metadata__ is not an object", path);
      continue;
    }
    if (!cJSON_IsObject(it)) {
      st = sr_fail(err, SR_ERR_FORMAT, "%s: entry '%s' is not an object", path, it->string);
      break;
    }
    if ((st = parse_tensor(path, it, data_size, &f->tensors[f->n], &(*ranges)[f->n], err))) break;
    (*ranges)[f->n].name = f->tensors[f->n].name;
    (*ranges)[f->n].index = f->n;
    for (int j = 0; j < f->n && !st; j++)
      if (!strcmp(f->tensors[j].name, f->tensors[f->n].name))
        st = sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' appears twice", path, f->tensors[j].name);
    f->n++;
  }
  cJSON_Delete(root);
  return st;
}

sr_status sr_st_read(const char *path, sr_st_file *f, sr_err *err) {
  memset(f, 0, sizeof *f);
  FILE *fp = fopen(path, "rb");
  if (!fp) return sr_fail(err, SR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  unsigned char len[8];
  uint64_t hl = 0, size = 0;
  int have_len = 0;
  if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    fclose(fp);
    return sr_fail(err, SR_ERR_IO, "%s: not a regular file", path);
  }
  size = (uint64_t)sb.st_size;
  if (size >= 8 && fread(len, 1, 8, fp) == 8) {
    have_len = 1;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | len[i];
  }
  if (!have_len || hl > size - 8 || hl > ST_MAX_HEADER || hl < 2 || size > ST_MAX_FILE) {
    fclose(fp);
    return sr_fail(err, SR_ERR_FORMAT, "%s: not a safetensors file (header length %llu, file %llu bytes)",
                   path, (unsigned long long)hl, (unsigned long long)size);
  }
  size_t data_size = (size_t)(size - 8 - hl);
  sr_status st = SR_OK;
  st_range *ranges = NULL;
  char *text = sr_alloc((size_t)hl);  // at most the file's own size
  if (!text)
    st = sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate the %llu-byte header", path, (unsigned long long)hl);
  else if (fread(text, 1, (size_t)hl, fp) != (size_t)hl)
    st = sr_fail(err, SR_ERR_IO, "%s: short read of the header", path);
  if (!st) st = parse_header(path, text, (size_t)hl, data_size, f, &ranges, err);
  sr_free(text);
  if (!st) st = check_tiling(path, ranges, f->n, data_size, err);
  // Only a validated header gets its data read. Each tensor gets its own 64-byte aligned slot (files may
  // place an F64 tensor at an odd offset; reading it through a double pointer there would be undefined).
  size_t total = 0;
  for (int i = 0; !st && i < f->n; i++) total += (ranges[i].end - ranges[i].begin + 63) & ~(size_t)63;
  if (!st && !(f->buf = sr_alloc(total)))
    st = sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate %zu data bytes", path, total);
  size_t slot = 0;
  for (int i = 0; !st && i < f->n; i++) {  // ranges are sorted and tile the data: one sequential read
    size_t bytes = ranges[i].end - ranges[i].begin;
    char *dst = (char *)f->buf + slot;
    if (bytes && fread(dst, 1, bytes, fp) != bytes)
      st = sr_fail(err, SR_ERR_IO, "%s: short read of tensor '%s'", path, ranges[i].name);
    f->tensors[ranges[i].index].data = dst;
    slot += (bytes + 63) & ~(size_t)63;
  }
  free(ranges);
  fclose(fp);
  if (st) {
    sr_st_free(f);
    return st;
  }
  f->size = total;
  return SR_OK;
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

// Build the header; 0 when cJSON ran out of memory (a silently incomplete header would corrupt the file).
static int build_header(cJSON *root, const sr_st_entry *e, int n, const char *const *meta) {
  int ok = 1;
  if (meta && meta[0]) {
    cJSON *md = cJSON_AddObjectToObject(root, "__metadata__");
    ok = md != NULL;
    for (const char *const *p = meta; ok && p[0] && p[1]; p += 2)
      ok = cJSON_AddStringToObject(md, p[0], p[1]) != NULL;
  }
  size_t off = 0;
  for (int i = 0; ok && i < n; i++) {
    const char *dn = st_dtype_name(e[i].dtype);
    size_t cnt = 1;
    for (int d = 0; d < e[i].ndim; d++) cnt *= (size_t)e[i].shape[d];
    size_t bytes = cnt * sr_dtype_size(e[i].dtype);
    cJSON *t = cJSON_AddObjectToObject(root, e[i].name);
    cJSON *sh = t ? cJSON_AddArrayToObject(t, "shape") : NULL,
          *of = sh ? cJSON_AddArrayToObject(t, "data_offsets") : NULL;
    ok = of && cJSON_AddStringToObject(t, "dtype", dn ? dn : "F32");
    for (int d = 0; ok && d < e[i].ndim; d++) {
      cJSON *x = cJSON_CreateNumber((double)e[i].shape[d]);
      ok = x && cJSON_AddItemToArray(sh, x);
    }
    cJSON *b = ok ? cJSON_CreateNumber((double)off) : NULL;
    ok = b && cJSON_AddItemToArray(of, b);
    cJSON *en = ok ? cJSON_CreateNumber((double)(off + bytes)) : NULL;
    ok = en && cJSON_AddItemToArray(of, en);
    off += bytes;
  }
  return ok;
}

sr_status sr_st_write(const char *path, const sr_st_entry *e, int n, const char *const *meta, sr_err *err) {
  cJSON *root = cJSON_CreateObject();
  if (!root || !build_header(root, e, n, meta)) {
    cJSON_Delete(root);
    return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory building the header", path);
  }
  char *json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (!json) return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory printing the header", path);
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
