// .npy reader/writer. Untrusted input: every header field is checked before allocation.
#include "simreg/npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
  sr_dtype dt;
  const char *descr[2];
  size_t size;
  const char *name;
} DTYPES[] = {
    {SR_U8, {"|u1", "<u1"}, 1, "uint8"},   {SR_I32, {"<i4", NULL}, 4, "int32"},
    {SR_I64, {"<i8", NULL}, 8, "int64"},   {SR_F32, {"<f4", NULL}, 4, "float32"},
    {SR_F64, {"<f8", NULL}, 8, "float64"},
};
#define NDTYPES (sizeof DTYPES / sizeof DTYPES[0])

size_t sr_dtype_size(sr_dtype dt) { return (unsigned)dt < NDTYPES ? DTYPES[dt].size : 0; }
const char *sr_dtype_name(sr_dtype dt) { return (unsigned)dt < NDTYPES ? DTYPES[dt].name : "?"; }

// Find the value text after 'key': in a Python dict literal.
static const char *dict_value(const char *h, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "'%s'", key);
  const char *p = strstr(h, pat);
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ') p++;
  if (*p != ':') return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

static sr_status parse_header(const char *path, const char *h, sr_npy *a, sr_err *err) {
  const char *d = dict_value(h, "descr");
  if (!d || *d != '\'') return sr_fail(err, SR_ERR_FORMAT, "%s: npy header has no 'descr'", path);
  char descr[16] = {0};
  const char *end = strchr(d + 1, '\'');
  if (!end || end - d - 1 >= (long)sizeof descr)
    return sr_fail(err, SR_ERR_FORMAT, "%s: npy header has a malformed 'descr'", path);
  memcpy(descr, d + 1, (size_t)(end - d - 1));
  int found = 0;
  for (size_t i = 0; i < NDTYPES && !found; i++)
    for (int k = 0; k < 2; k++)
      if (DTYPES[i].descr[k] && !strcmp(descr, DTYPES[i].descr[k])) {
        a->dtype = DTYPES[i].dt;
        found = 1;
      }
  if (!found)
    return sr_fail(
        err, SR_ERR_FORMAT,
        "%s: unsupported npy dtype '%s' (supported: uint8, int32, int64, float32, float64, little-endian)",
        path, descr);
  const char *fo = dict_value(h, "fortran_order");
  if (!fo || strncmp(fo, "False", 5) != 0)
    return sr_fail(err, SR_ERR_FORMAT, "%s: only C-order npy arrays are supported", path);
  const char *s = dict_value(h, "shape");
  if (!s || *s != '(') return sr_fail(err, SR_ERR_FORMAT, "%s: npy header has no 'shape'", path);
  s++;
  a->ndim = 0;
  a->count = 1;
  for (;;) {
    while (*s == ' ' || *s == ',') s++;
    if (*s == ')') break;
    if (!isdigit((unsigned char)*s)) return sr_fail(err, SR_ERR_FORMAT, "%s: malformed npy shape", path);
    if (a->ndim == SR_NPY_MAX_DIMS)
      return sr_fail(err, SR_ERR_FORMAT, "%s: npy array has more than %d dimensions", path, SR_NPY_MAX_DIMS);
    errno = 0;
    char *e;
    long long v = strtoll(s, &e, 10);
    if (errno || v < 0 || v > ((int64_t)1 << 40))
      return sr_fail(err, SR_ERR_FORMAT, "%s: npy dimension out of range", path);
    a->shape[a->ndim++] = v;
    if (__builtin_mul_overflow(a->count, (int64_t)v, &a->count) || a->count > ((int64_t)1 << 40))
      return sr_fail(err, SR_ERR_FORMAT, "%s: npy shape is too large", path);
    s = e;
  }
  return SR_OK;
}

sr_status sr_npy_read(const char *path, sr_npy *a, sr_err *err) {
  memset(a, 0, sizeof *a);
  FILE *fp = fopen(path, "rb");
  if (!fp) return sr_fail(err, SR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  unsigned char pre[12];
  sr_status st = SR_OK;
  char *h = NULL;
  if (fstat(fileno(fp), &sb) != 0 || fread(pre, 1, 10, fp) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
    st = sr_fail(err, SR_ERR_FORMAT, "%s: not an .npy file (bad magic or too short)", path);
    goto out;
  }
  size_t hlen, off;
  if (pre[6] == 1) {
    hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    off = 10;
  } else if (pre[6] == 2 || pre[6] == 3) {
    if (fread(pre + 10, 1, 2, fp) != 2) {
      st = sr_fail(err, SR_ERR_FORMAT, "%s: truncated npy header", path);
      goto out;
    }
    hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    off = 12;
  } else {
    st = sr_fail(err, SR_ERR_FORMAT, "%s: unsupported npy version %d", path, pre[6]);
    goto out;
  }
  if (hlen > 65536 || off + hlen > (size_t)sb.st_size) {
    st = sr_fail(err, SR_ERR_FORMAT, "%s: npy header length %zu is invalid for a %lld-byte file", path, hlen,
                 (long long)sb.st_size);
    goto out;
  }
  h = malloc(hlen + 1);
  if (!h || fread(h, 1, hlen, fp) != hlen) {
    st = sr_fail(err, h ? SR_ERR_FORMAT : SR_ERR_NOMEM, "%s: cannot read npy header", path);
    goto out;
  }
  h[hlen] = 0;
  if ((st = parse_header(path, h, a, err))) goto out;
  size_t nbytes = (size_t)a->count * sr_dtype_size(a->dtype);
  if ((uint64_t)sb.st_size != off + hlen + nbytes) {
    st = sr_fail(err, SR_ERR_FORMAT,
                 "%s: npy data is %lld bytes but shape and dtype need %zu (truncated or corrupt)", path,
                 (long long)sb.st_size - (long long)(off + hlen), nbytes);
    goto out;
  }
  a->data = sr_alloc(nbytes);
  if (!a->data) {
    st = sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, nbytes);
    goto out;
  }
  if (fread(a->data, 1, nbytes, fp) != nbytes) st = sr_fail(err, SR_ERR_IO, "%s: short read", path);
out:
  free(h);
  fclose(fp);
  if (st) sr_npy_free(a);
  return st;
}

sr_status sr_npy_write(const char *path, sr_dtype dt, int ndim, const int64_t *shape, const void *data,
                       sr_err *err) {
  if ((unsigned)dt >= NDTYPES || ndim < 0 || ndim > SR_NPY_MAX_DIMS)
    return sr_fail(err, SR_ERR_ARG, "%s: bad dtype or rank for npy", path);
  char h[512];
  int k = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (", DTYPES[dt].descr[0]);
  size_t count = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) return sr_fail(err, SR_ERR_ARG, "%s: negative dimension", path);
    k += snprintf(h + k, sizeof h - (size_t)k, "%lld%s", (long long)shape[i],
                  ndim == 1      ? ","
                  : i + 1 < ndim ? ", "
                                 : "");
    if (sr_mul_overflow(count, (size_t)shape[i], &count))
      return sr_fail(err, SR_ERR_ARG, "%s: shape too large", path);
  }
  k += snprintf(h + k, sizeof h - (size_t)k, "), }");
  size_t total = 10 + (size_t)k + 1;
  size_t pad = (64 - total % 64) % 64;
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  size_t hlen = (size_t)k + pad + 1;
  pre[8] = (unsigned char)(hlen & 0xff);
  pre[9] = (unsigned char)(hlen >> 8);
  sr_afile f;
  sr_status st = sr_afile_open(&f, path, err);
  if (st) return st;
  size_t nbytes = count * sr_dtype_size(dt);
  int ok = fwrite(pre, 1, 10, f.fp) == 10 && fwrite(h, 1, (size_t)k, f.fp) == (size_t)k;
  for (size_t i = 0; ok && i < pad; i++) ok = fputc(' ', f.fp) != EOF;
  ok = ok && fputc('\n', f.fp) != EOF && (nbytes == 0 || fwrite(data, 1, nbytes, f.fp) == nbytes);
  if (!ok) {
    sr_afile_abort(&f);
    return sr_fail(err, SR_ERR_IO, "%s: write failed", path);
  }
  return sr_afile_commit(&f, err);
}

void sr_npy_free(sr_npy *a) {
  sr_free(a->data);
  a->data = NULL;
}

static double get_as_double(const sr_npy *a, int64_t i) {
  switch (a->dtype) {
    case SR_U8:
      return ((const uint8_t *)a->data)[i];
    case SR_I32:
      return ((const int32_t *)a->data)[i];
    case SR_I64:
      return (double)((const int64_t *)a->data)[i];
    case SR_F32:
      return ((const float *)a->data)[i];
    case SR_F64:
      return ((const double *)a->data)[i];
  }
  return 0;
}

sr_status sr_npy_as_f32(const sr_npy *a, float **out, sr_err *err) {
  *out = sr_alloc((size_t)a->count * sizeof(float));
  if (!*out) return sr_fail(err, SR_ERR_NOMEM, "cannot allocate %lld floats", (long long)a->count);
  for (int64_t i = 0; i < a->count; i++) (*out)[i] = (float)get_as_double(a, i);
  return SR_OK;
}

sr_status sr_npy_as_f64(const sr_npy *a, double **out, sr_err *err) {
  *out = sr_alloc((size_t)a->count * sizeof(double));
  if (!*out) return sr_fail(err, SR_ERR_NOMEM, "cannot allocate %lld doubles", (long long)a->count);
  for (int64_t i = 0; i < a->count; i++) (*out)[i] = get_as_double(a, i);
  return SR_OK;
}
