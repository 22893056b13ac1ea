// Model weights as safetensors with PyTorch state_dict names (strict loading, like strict=True).
#include <stdlib.h>
#include <string.h>

#include "simreg/model.h"
#include "simreg/safetensors.h"

static void *tensor_data(const sr_model *m, const sr_tensor_info *ti) {
  return ti->where == 0   ? (void *)(m->params + ti->offset)
         : ti->where == 1 ? (void *)(m->state + ti->offset)
                          : (void *)(m->bn_tracked + ti->offset);
}

sr_status sr_model_save(const sr_model *m, const char *path, sr_err *err) {
  return sr_model_save_with(m, path, NULL, 0, NULL, err);
}

sr_status sr_model_save_with(const sr_model *m, const char *path, const sr_st_entry *extra, int n_extra,
                             const char *const *extra_meta, sr_err *err) {
  sr_st_entry *e = calloc((size_t)(m->n_tensors + n_extra) + 1, sizeof *e);
  if (!e) return sr_fail(err, SR_ERR_NOMEM, "out of memory");
  for (int i = 0; i < m->n_tensors; i++) {
    const sr_tensor_info *ti = &m->tensors[i];
    e[i] = (sr_st_entry){ti->name, ti->where == 2 ? SR_I64 : SR_F32, ti->ndim, ti->shape, tensor_data(m, ti)};
  }
  char c[16], h[16], w[16], k[16], wd[32];
  snprintf(c, sizeof c, "%d", m->cfg.in_c);
  snprintf(h, sizeof h, "%d", m->cfg.in_h);
  snprintf(w, sizeof w, "%d", m->cfg.in_w);
  snprintf(k, sizeof k, "%d", m->cfg.classes);
  snprintf(wd, sizeof wd, "%.17g", m->cfg.width);
  for (int i = 0; i < n_extra; i++) e[m->n_tensors + i] = extra[i];
  const char *meta[64] = {"format",    "pt",        "producer",    "simreg " SR_VERSION_STRING,
                          "arch",      m->cfg.arch, "in_channels", c,
                          "in_height", h,           "in_width",    w,
                          "classes",   k,           "width",       wd,
                          NULL};
  int nm = 16;
  for (int i = 0; extra_meta && extra_meta[i] && extra_meta[i + 1] && nm < 62; i += 2) {
    meta[nm++] = extra_meta[i];
    meta[nm++] = extra_meta[i + 1];
  }
  meta[nm] = NULL;
  sr_status st = sr_st_write(path, e, m->n_tensors + n_extra, meta, err);
  free(e);
  return st;
}

static sr_status check_meta(const sr_model *m, const sr_st_file *f, const char *path, sr_err *err) {
  const char *arch = sr_st_meta(f, "arch");
  // imported graphs move with their runs: any onnx: file, its tensors' names and shapes checked below
  int both_onnx = arch && !strncmp(arch, "onnx:", 5) && !strncmp(m->cfg.arch, "onnx:", 5);
  if (arch && !both_onnx && strcmp(arch, m->cfg.arch))
    return sr_fail(err, SR_ERR_SHAPE, "%s: holds a %s model, expected %s", path, arch, m->cfg.arch);
  const char *keys[] = {"in_channels", "in_height", "in_width", "classes"};
  int want[] = {m->cfg.in_c, m->cfg.in_h, m->cfg.in_w, m->cfg.classes};
  for (int i = 0; i < 4; i++) {
    const char *v = sr_st_meta(f, keys[i]);
    if (v && atoi(v) != want[i])
      return sr_fail(err, SR_ERR_SHAPE, "%s: %s is %s, the model has %d", path, keys[i], v, want[i]);
  }
  return SR_OK;
}

static sr_status check_tensor(const sr_tensor_info *ti, const sr_st_tensor *t, const char *path,
                              sr_err *err) {
  if (!t)
    return sr_fail(err, SR_ERR_SHAPE, "%s: missing tensor '%s' (file of another architecture?)", path,
                   ti->name);
  sr_dtype want = ti->where == 2 ? SR_I64 : SR_F32;
  if (t->dtype != want)
    return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' is %s, expected %s", path, ti->name,
                   sr_dtype_name(t->dtype), sr_dtype_name(want));
  int same = t->ndim == ti->ndim;
  for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == ti->shape[d];
  if (!same) {
    char a[96] = "", b[96] = "";
    for (int d = 0; d < t->ndim; d++)
      snprintf(a + strlen(a), sizeof a - strlen(a), "%s%lld", d ? "," : "", (long long)t->shape[d]);
    for (int d = 0; d < ti->ndim; d++)
      snprintf(b + strlen(b), sizeof b - strlen(b), "%s%lld", d ? "," : "", (long long)ti->shape[d]);
    return sr_fail(err, SR_ERR_SHAPE, "%s: tensor '%s' has shape [%s], the model expects [%s]", path,
                   ti->name, a, b);
  }
  return SR_OK;
}

sr_status sr_model_load(sr_model *m, const char *path, sr_err *err) {
  sr_st_file f;
  sr_status st = sr_st_read(path, &f, err);
  if (st) return st;
  st = sr_model_load_st(m, &f, path, NULL, err);
  sr_st_free(&f);
  return st;
}

// Whether name starts with one of the comma-separated prefixes.
static int has_prefix(const char *name, const char *prefixes) {
  for (const char *p = prefixes; p && *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len && !strncmp(name, p, len)) return 1;
    p = end ? end + 1 : NULL;
  }
  return 0;
}

sr_status sr_model_load_st(sr_model *m, const sr_st_file *fp, const char *path, const char *ignore_prefix,
                           sr_err *err) {
  const sr_st_file f = *fp;
  sr_status st = check_meta(m, &f, path, err);
  for (int i = 0; !st && i < m->n_tensors; i++)
    st = check_tensor(&m->tensors[i], sr_st_find(&f, m->tensors[i].name), path, err);
  for (int i = 0; !st && i < f.n; i++) {
    if (has_prefix(f.tensors[i].name, ignore_prefix)) continue;
    int known = 0;
    for (int k = 0; k < m->n_tensors && !known; k++) known = !strcmp(m->tensors[k].name, f.tensors[i].name);
    if (!known)
      st = sr_fail(err, SR_ERR_SHAPE, "%s: unexpected tensor '%s' for a %s model", path, f.tensors[i].name,
                   m->cfg.arch);
  }
  // Only copy once everything checked out: a failed load leaves the model untouched.
  for (int i = 0; !st && i < m->n_tensors; i++) {
    const sr_tensor_info *ti = &m->tensors[i];
    const sr_st_tensor *t = sr_st_find(&f, ti->name);
    memcpy(tensor_data(m, ti), t->data, (size_t)t->count * sr_dtype_size(t->dtype));
  }
  if (!st) m->params_version++;
  return st;
}
