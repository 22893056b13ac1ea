// The CIFAR-10-C directory layout: writing a generated set, loading one corruption/severity back, and
// the frequency table (frequency.csv) that travels with it.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "simreg/npy.h"

// (n, c, h, w) -> (n, h, w, c)
static void chw_to_hwc(const uint8_t *src, int64_t n, int c, int h, int w, uint8_t *dst) {
  size_t plane = (size_t)h * (size_t)w, per = plane * (size_t)c;
  for (int64_t k = 0; k < n; k++)
    for (int ch = 0; ch < c; ch++)
      for (size_t i = 0; i < plane; i++)
        dst[(size_t)k * per + i * (size_t)c + (size_t)ch] = src[(size_t)k * per + (size_t)ch * plane + i];
}

static void hwc_to_chw(const uint8_t *src, int64_t n, int c, int h, int w, uint8_t *dst) {
  size_t plane = (size_t)h * (size_t)w, per = plane * (size_t)c;
  for (int64_t k = 0; k < n; k++)
    for (size_t i = 0; i < plane; i++)
      for (int ch = 0; ch < c; ch++)
        dst[(size_t)k * per + (size_t)ch * plane + i] = src[(size_t)k * per + i * (size_t)c + (size_t)ch];
}

static sr_status write_labels(const sr_dataset *ds, int64_t n, const char *dir, sr_err *err) {
  uint8_t *lab = sr_alloc((size_t)n * SR_NUM_SEVERITIES);
  if (!lab) return sr_fail(err, SR_ERR_NOMEM, "corrupt: cannot allocate labels");
  for (int s = 0; s < SR_NUM_SEVERITIES; s++)
    for (int64_t i = 0; i < n; i++) lab[(size_t)s * (size_t)n + (size_t)i] = (uint8_t)ds->labels[i];
  char path[4096];
  snprintf(path, sizeof path, "%s/labels.npy", dir);
  int64_t shape[1] = {n * SR_NUM_SEVERITIES};
  sr_status st = sr_npy_write(path, SR_U8, 1, shape, lab, err);
  sr_free(lab);
  return st;
}

sr_status sr_corrupt_write_dir(const sr_dataset *ds, const char *dir, const sr_corrupt_dir_opts *o,
                               sr_corrupt_freq *freq, sr_err *err) {
  const sr_corruption *kinds = o->kinds;
  const int n_kinds = o->n_kinds;
  const int64_t limit = o->limit, freq_images = o->freq_images;
  if (freq) memset(freq, 0, sizeof *freq);
  int64_t n = limit > 0 && limit < ds->n ? limit : ds->n;
  if (n < 1) return sr_fail(err, SR_ERR_ARG, "corrupt: the dataset has no images");
  if (n_kinds < 1 || n_kinds > SR_NUM_CORRUPTIONS)
    return sr_fail(err, SR_ERR_ARG, "corrupt: %d corruptions requested (1..%d)", n_kinds, SR_NUM_CORRUPTIONS);
  if ((ds->c != 1 && ds->c != 3) || ds->h < 8 || ds->w < 8)
    return sr_fail(err, SR_ERR_ARG,
                   "corrupt: images are %dx%dx%d; corruptions need 1 or 3 channels and sides >= 8", ds->c,
                   ds->h, ds->w);
  for (int64_t i = 0; i < n; i++)
    if (ds->labels[i] < 0 || ds->labels[i] > 255)
      return sr_fail(err, SR_ERR_ARG,
                     "corrupt: label %d of image %lld does not fit CIFAR-10-C's uint8 labels", ds->labels[i],
                     (long long)i);
  sr_status st = sr_mkdir_p(dir, err);
  if (st) return st;
  if ((st = write_labels(ds, n, dir, err))) return st;
  size_t per = (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
  uint8_t *chw = sr_alloc((size_t)n * per), *all = sr_alloc((size_t)n * per * SR_NUM_SEVERITIES);
  if (!chw || !all) {
    sr_free(chw);
    sr_free(all);
    return sr_fail(err, SR_ERR_NOMEM, "corrupt: cannot allocate %lld images x 5 severities", (long long)n);
  }
  int64_t m = freq_images < n ? freq_images : n;
  sr_corrupt_freq f = {.n_kinds = n_kinds, .images = m > 0 ? m : 0};
  for (int k = 0; k < n_kinds && !st; k++) {
    double t0 = sr_now(), sum = 0;
    f.kinds[k] = kinds[k];
    for (int s = 1; s <= SR_NUM_SEVERITIES && !st; s++) {
      sr_u8_images clean = {.px = ds->images, .n = n, .c = ds->c, .h = ds->h, .w = ds->w};
      sr_corrupt_spec cs = {.kind = kinds[k], .severity = s, .seed = o->seed};
      st = sr_corrupt_batch(&clean, &cs, chw, err);
      if (st) break;
      chw_to_hwc(chw, n, ds->c, ds->h, ds->w, all + (size_t)(s - 1) * (size_t)n * per);
      if (m > 0) {
        int64_t used;
        clean.n = m;
        st = sr_corrupt_hf_share(&clean, chw, &f.share[k][s - 1], &used, err);
        sum += f.share[k][s - 1];
      }
    }
    f.mean[k] = sum / SR_NUM_SEVERITIES;
    if (st) break;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.npy", dir, sr_corruption_name(kinds[k]));
    int64_t shape[4] = {n * SR_NUM_SEVERITIES, ds->h, ds->w, ds->c};
    st = sr_npy_write(path, SR_U8, 4, shape, all, err);
    if (!st && o->progress) o->progress(o->ctx, sr_corruption_name(kinds[k]), sr_now() - t0);
  }
  sr_free(chw);
  sr_free(all);
  if (st) return st;
  if (m > 0) {
    sr_corrupt_groups(f.mean, n_kinds, f.group);
    char path[4096];
    snprintf(path, sizeof path, "%s/frequency.csv", dir);
    if ((st = sr_corrupt_write_freq(path, &f, err))) return st;
  }
  if (freq) *freq = f;
  return SR_OK;
}

// ---- loading ------------------------------------------------------------------------------------------
static sr_status read_labels(const char *dir, int64_t expect, int32_t *dst_all, sr_err *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/labels.npy", dir);
  sr_npy a;
  sr_status st = sr_npy_read(path, &a, err);
  if (st) return st;
  if (a.ndim != 1 || a.shape[0] != expect) {
    sr_npy_free(&a);
    return sr_fail(err, SR_ERR_SHAPE,
                   "%s: expected %lld labels (one per corrupted image), found shape of %d dims, %lld entries",
                   path, (long long)expect, a.ndim, (long long)a.count);
  }
  if (a.dtype != SR_U8 && a.dtype != SR_I32 && a.dtype != SR_I64) {
    sr_npy_free(&a);
    return sr_fail(err, SR_ERR_FORMAT, "%s: labels must be uint8, int32 or int64, not %s", path,
                   sr_dtype_name(a.dtype));
  }
  for (int64_t i = 0; i < expect; i++) {
    int64_t v = a.dtype == SR_U8    ? ((uint8_t *)a.data)[i]
                : a.dtype == SR_I32 ? ((int32_t *)a.data)[i]
                                    : ((int64_t *)a.data)[i];
    if (v < 0 || v >= SR_DATASET_MAX_CLASSES) {
      sr_npy_free(&a);
      return sr_fail(err, SR_ERR_FORMAT, "%s: label %lld at index %lld is outside [0, %d)", path,
                     (long long)v, (long long)i, SR_DATASET_MAX_CLASSES);
    }
    dst_all[i] = (int32_t)v;
  }
  sr_npy_free(&a);
  return SR_OK;
}

sr_status sr_corrupt_load(const char *dir, const char *name, int severity, int num_classes_hint,
                          sr_dataset *out, sr_err *err) {
  memset(out, 0, sizeof *out);
  sr_corruption kind;
  sr_status st = sr_corruption_parse(name, &kind, err);
  if (st) return st;
  if (severity < 0 || severity > SR_NUM_SEVERITIES)
    return sr_fail(err, SR_ERR_ARG, "corrupt load: severity %d is out of range 1..5 (0 = all five)",
                   severity);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.npy", dir, name);
  sr_npy a;
  if ((st = sr_npy_read(path, &a, err))) return st;
  int c = a.ndim == 4 ? (int)a.shape[3] : 1;
  if (a.dtype != SR_U8 || (a.ndim != 3 && a.ndim != 4) || (c != 1 && c != 3) ||
      a.shape[0] < SR_NUM_SEVERITIES || a.shape[0] % SR_NUM_SEVERITIES || a.shape[1] < 1 || a.shape[2] < 1) {
    sr_npy_free(&a);
    return sr_fail(err, SR_ERR_SHAPE,
                   "%s: expected uint8 (5*N, H, W, C) with C 1 or 3 (or (5*N, H, W)), got %s with %d dims, "
                   "first dim %lld",
                   path, sr_dtype_name(a.dtype), a.ndim, (long long)(a.ndim ? a.shape[0] : 0));
  }
  int64_t total = a.shape[0], per_sev = total / SR_NUM_SEVERITIES;
  int h = (int)a.shape[1], w = (int)a.shape[2];
  int32_t *labels = sr_alloc((size_t)total * sizeof(int32_t));
  if (!labels) {
    sr_npy_free(&a);
    return sr_fail(err, SR_ERR_NOMEM, "corrupt load: cannot allocate labels");
  }
  if ((st = read_labels(dir, total, labels, err))) {
    sr_free(labels);
    sr_npy_free(&a);
    return st;
  }
  int64_t first = severity ? (severity - 1) * per_sev : 0, n = severity ? per_sev : total;
  size_t per = (size_t)c * (size_t)h * (size_t)w;
  out->images = sr_alloc((size_t)n * per);
  out->labels = sr_alloc((size_t)n * sizeof(int32_t));
  if (!out->images || !out->labels) {
    sr_free(labels);
    sr_npy_free(&a);
    sr_dataset_free(out);
    return sr_fail(err, SR_ERR_NOMEM, "corrupt load: cannot allocate %lld images", (long long)n);
  }
  hwc_to_chw((const uint8_t *)a.data + (size_t)first * per, n, c, h, w, out->images);
  memcpy(out->labels, labels + first, (size_t)n * sizeof(int32_t));
  sr_free(labels);
  sr_npy_free(&a);
  out->n = n;
  out->c = c;
  out->h = h;
  out->w = w;
  int maxl = 0;
  for (int64_t i = 0; i < n; i++) maxl = out->labels[i] > maxl ? out->labels[i] : maxl;
  if (num_classes_hint > 0 && maxl >= num_classes_hint) {
    sr_dataset_free(out);
    return sr_fail(err, SR_ERR_FORMAT, "%s/labels.npy: label %d is not below the expected %d classes", dir,
                   maxl, num_classes_hint);
  }
  out->num_classes = num_classes_hint > 0 ? num_classes_hint : maxl + 1;
  if (out->num_classes > SR_DATASET_MAX_CLASSES) out->num_classes = SR_DATASET_MAX_CLASSES;
  snprintf(out->name, sizeof out->name, "%.40s-s%d", name, severity);
  for (int k = 0; k < out->num_classes; k++)
    snprintf(out->class_names[k], sizeof out->class_names[k], "%d", k);
  return SR_OK;
}

// ---- frequency.csv ------------------------------------------------------------------------------------
#define CSV_HEADER "corruption,images,share_s1,share_s2,share_s3,share_s4,share_s5,mean,group"

sr_status sr_corrupt_write_freq(const char *path, const sr_corrupt_freq *f, sr_err *err) {
  sr_afile af;
  sr_status st = sr_afile_open(&af, path, err);
  if (st) return st;
  fprintf(af.fp, "%s\n", CSV_HEADER);
  for (int k = 0; k < f->n_kinds; k++) {
    fprintf(af.fp, "%s,%lld", sr_corruption_name(f->kinds[k]), (long long)f->images);
    for (int s = 0; s < SR_NUM_SEVERITIES; s++) fprintf(af.fp, ",%.6f", f->share[k][s]);
    fprintf(af.fp, ",%.6f,%s\n", f->mean[k], sr_freq_group_name(f->group[k]));
  }
  return sr_afile_commit(&af, err);
}

static sr_status parse_row(const char *path, int line, char *row, sr_corrupt_freq *f, sr_err *err) {
  int k = f->n_kinds;
  char *save = NULL, *tok = strtok_r(row, ",", &save);
  sr_status st = sr_corruption_parse(tok, &f->kinds[k], err);
  if (st) return sr_err_context(err, "%s:%d", path, line);
  for (int i = 0; i < k; i++)
    if (f->kinds[i] == f->kinds[k])
      return sr_fail(err, SR_ERR_FORMAT, "%s:%d: '%s' listed twice", path, line, tok);
  double v[7];
  for (int i = 0; i < 7; i++) {
    tok = strtok_r(NULL, ",", &save);
    char *end = NULL;
    errno = 0;
    v[i] = tok ? strtod(tok, &end) : NAN;
    if (!tok || errno || end == tok || *end || !isfinite(v[i]) || v[i] < 0 || (i > 0 && v[i] > 1))
      return sr_fail(err, SR_ERR_FORMAT, "%s:%d: field %d is not a valid number", path, line, i + 2);
  }
  f->images = (int64_t)v[0];
  for (int s = 0; s < SR_NUM_SEVERITIES; s++) f->share[k][s] = v[1 + s];
  f->mean[k] = v[6];
  tok = strtok_r(NULL, ",\r\n", &save);
  int g = !tok                   ? -1
          : !strcmp(tok, "low")  ? SR_FREQ_LOW
          : !strcmp(tok, "mid")  ? SR_FREQ_MID
          : !strcmp(tok, "high") ? SR_FREQ_HIGH
                                 : -1;
  if (g < 0) return sr_fail(err, SR_ERR_FORMAT, "%s:%d: group must be low, mid or high", path, line);
  f->group[k] = (sr_freq_group)g;
  if (strtok_r(NULL, ",", &save)) return sr_fail(err, SR_ERR_FORMAT, "%s:%d: too many fields", path, line);
  f->n_kinds++;
  return SR_OK;
}

sr_status sr_corrupt_read_freq(const char *dir, sr_corrupt_freq *out, sr_err *err) {
  memset(out, 0, sizeof *out);
  char path[4096];
  snprintf(path, sizeof path, "%s/frequency.csv", dir);
  void *data;
  size_t len;
  sr_status st = sr_read_file(path, 1 << 16, &data, &len, err);
  if (st) return st;
  char *text = sr_alloc(len + 1);
  if (!text) {
    sr_free(data);
    return sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate", path);
  }
  memcpy(text, data, len);
  text[len] = 0;
  sr_free(data);
  char *save = NULL, *row = strtok_r(text, "\n", &save);
  if (!row || strncmp(row, CSV_HEADER, strlen(CSV_HEADER)))
    st = sr_fail(err, SR_ERR_FORMAT, "%s: first line must be '%s'", path, CSV_HEADER);
  int line = 1;
  while (!st && (row = strtok_r(NULL, "\n", &save))) {
    line++;
    if (out->n_kinds >= SR_NUM_CORRUPTIONS)
      st = sr_fail(err, SR_ERR_FORMAT, "%s: more than %d rows", path, SR_NUM_CORRUPTIONS);
    else
      st = parse_row(path, line, row, out, err);
  }
  if (!st && out->n_kinds == 0) st = sr_fail(err, SR_ERR_FORMAT, "%s: no rows", path);
  sr_free(text);
  return st;
}
