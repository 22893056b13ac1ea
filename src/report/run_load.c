// Reading one run directory (docs/FORMATS.md). Every file is optional; what is present must be well formed.
#include <libgen.h>
#include <math.h>
#include <string.h>

#include "report_internal.h"
#include "run_json.h"
#include "simreg/npy.h"
#include "simreg/report.h"

static void join(char *out, size_t cap, const char *dir, const char *name) {
  snprintf(out, cap, "%s/%s", dir, name);
}

// "alpha=10, threshold=0.8, target=pixel": scalar members of the reg object in file order.
static void reg_summary(const cJSON *reg, char *out, size_t cap) {
  size_t k = 0;
  out[0] = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, reg) {
    char val[96];
    if (cJSON_IsNumber(e))
      snprintf(val, sizeof val, "%g", e->valuedouble);
    else if (cJSON_IsString(e))
      snprintf(val, sizeof val, "%s", e->valuestring);
    else if (cJSON_IsBool(e))
      snprintf(val, sizeof val, "%s", cJSON_IsTrue(e) ? "true" : "false");
    else
      continue;
    int w = snprintf(out + k, cap - k, "%s%s=%s", k ? ", " : "", e->string, val);
    if (w < 0 || (size_t)w >= cap - k) break;
    k += (size_t)w;
  }
  if (!out[0]) snprintf(out, cap, "none");
}

static sr_status load_config(sr_run *r, sr_err *err) {
  char path[1100];
  join(path, sizeof path, r->dir, "config.json");
  cJSON *j;
  int missing;
  sr_status st = sr_json_load(path, &j, &missing, err);
  if (st || missing) return st;
  r->has_config = 1;
  double seed = 0;
  if (!(st = sr_json_string(j, "name", r->name, sizeof r->name, path, err)) &&
      !(st = sr_json_string(j, "model", r->model, sizeof r->model, path, err)) &&
      !(st = sr_json_string(j, "dataset", r->dataset, sizeof r->dataset, path, err)))
    st = sr_json_number(j, "seed", &seed, &r->has_seed, path, err);
  r->seed = (int64_t)seed;
  const cJSON *reg = cJSON_GetObjectItemCaseSensitive(j, "reg");
  if (!st && reg && !cJSON_IsNull(reg)) {
    if (!cJSON_IsObject(reg))
      st = sr_fail(err, SR_ERR_FORMAT, "%s: \"reg\" must be an object", path);
    else
      reg_summary(reg, r->reg, sizeof r->reg);
  }
  cJSON_Delete(j);
  return st;
}

// ---- metrics.jsonl: one object per line ----
enum { M_EPOCH, M_LR, M_TLOSS, M_TACC, M_VLOSS, M_VACC, M_TEST, M_REG, M_SEC, M_COUNT };
static const char *const METRIC_KEYS[M_COUNT] = {"epoch",   "lr",       "train_loss", "train_acc", "val_loss",
                                                 "val_acc", "test_acc", "reg_loss",   "seconds"};

static double **metric_slot(sr_run *r, int k) {
  double **slots[M_COUNT] = {&r->epoch,   &r->lr,       &r->train_loss, &r->train_acc, &r->val_loss,
                             &r->val_acc, &r->test_acc, &r->reg_loss,   &r->seconds};
  return slots[k];
}

static sr_status parse_metric_line(sr_run *r, const char *line, size_t len, int64_t e, int64_t lineno,
                                   const char *path, sr_err *err) {
  char where[1200];
  snprintf(where, sizeof where, "%s:%lld", path, (long long)lineno);
  cJSON *j;
  sr_status st = sr_json_parse_text(line, len, where, &j, err);
  if (st) return st;
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return sr_fail(err, SR_ERR_FORMAT, "%s: each line must be a JSON object", where);
  }
  int present;
  for (int k = 0; k < M_COUNT && !st; k++) {
    double *v = *metric_slot(r, k);
    st = sr_json_number(j, METRIC_KEYS[k], &v[e], &present, where, err);
    if (!st && k == M_EPOCH && !present) st = sr_fail(err, SR_ERR_FORMAT, "%s: \"epoch\" is required", where);
    int acc = k == M_TACC || k == M_VACC || k == M_TEST;
    if (!st && acc && present && !(v[e] >= 0 && v[e] <= 1))  // a percentage where a fraction belongs
      st = sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\" is %g, accuracies are fractions in [0,1]", where,
                   METRIC_KEYS[k], v[e]);
  }
  const cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "gamma");
  if (!st && g && !cJSON_IsNull(g)) {
    double *gv;
    int64_t ng;
    st = sr_json_doubles(g, "gamma", where, &gv, &ng, err);
    if (!st) {
      if (r->n_gamma == 0 && ng > 0 && ng <= 64) {
        r->n_gamma = (int)ng;
        r->gamma = sr_alloc(sizeof(double) * (size_t)(r->n_epochs * ng));
        if (!r->gamma) st = sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate gamma", where);
        for (int64_t i = 0; !st && i < r->n_epochs * ng; i++) r->gamma[i] = NAN;
      }
      if (!st && ng != r->n_gamma)
        st = sr_fail(err, SR_ERR_FORMAT, "%s: \"gamma\" has %lld entries, earlier lines had %d (at most 64)",
                     where, (long long)ng, r->n_gamma);
      for (int64_t i = 0; !st && i < ng; i++) r->gamma[e * ng + i] = gv[i];
      sr_free(gv);
    }
  }
  cJSON_Delete(j);
  return st;
}

static sr_status load_metrics(sr_run *r, sr_err *err) {
  char path[1100];
  join(path, sizeof path, r->dir, "metrics.jsonl");
  if (!sr_file_exists(path)) return SR_OK;
  char *text;
  size_t n;
  sr_status st = sr_read_file(path, (size_t)256 << 20, (void **)&text, &n, err);
  if (st) return st;
  int64_t lines = 0;
  for (size_t i = 0; i < n; i++) lines += text[i] == '\n';
  lines++;
  r->n_epochs = lines;  // upper bound while allocating; set to the real count below
  for (int k = 0; k < M_COUNT && !st; k++) {
    double **slot = metric_slot(r, k);
    *slot = sr_alloc(sizeof(double) * (size_t)lines);
    if (!*slot) st = sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate metrics", path);
    for (int64_t i = 0; !st && i < lines; i++) (*slot)[i] = NAN;
  }
  int64_t e = 0, lineno = 0;
  for (size_t i = 0; i < n && !st;) {
    size_t j = i;
    while (j < n && text[j] != '\n') j++;
    lineno++;
    size_t a = i;
    while (a < j && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r')) a++;
    if (a < j) st = parse_metric_line(r, text + a, j - a, e++, lineno, path, err);
    i = j + 1;
  }
  sr_free(text);
  if (!st) {
    r->n_epochs = e;
    r->has_metrics = e > 0;
  }
  return st;
}

// ---- robustness.json ----
// A string of '0'/'1' (per-image outcomes) into a fresh buffer of n bytes.
static sr_status load_bits(const cJSON *v, const char *key, const char *path, uint8_t **out, int64_t *n,
                           sr_err *err) {
  const char *s = cJSON_GetStringValue(v);
  if (!s) return sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\" must be a string of 0 and 1", path, key);
  size_t len = strlen(s);
  *out = sr_alloc(len ? len : 1);
  if (!*out) return sr_fail(err, SR_ERR_NOMEM, "%s: %s", path, key);
  for (size_t i = 0; i < len; i++) {
    if (s[i] != '0' && s[i] != '1') {
      sr_free(*out);
      *out = NULL;
      return sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\" has '%c' at %zu (only 0 and 1)", path, key, s[i], i);
    }
    (*out)[i] = s[i] == '1';
  }
  *n = (int64_t)len;
  return SR_OK;
}

// "correct": one string per level, all of one length (images x draws).
static sr_status load_curve_bits(const cJSON *c, const char *name, const char *path, sr_curve *out,
                                 sr_err *err) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(c, "correct");
  if (!arr || cJSON_IsNull(arr)) return SR_OK;
  char key[128];
  snprintf(key, sizeof key, "%s.correct", name);
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != out->n)
    return sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\" must hold one string per level", path, key);
  sr_status st = SR_OK;
  for (int64_t l = 0; l < out->n && !st; l++) {
    uint8_t *b = NULL;
    int64_t len = 0;
    st = load_bits(cJSON_GetArrayItem(arr, (int)l), key, path, &b, &len, err);
    if (!st && l == 0) {
      out->n_correct = len;
      out->correct = sr_alloc((size_t)(out->n * len) + 1);
      if (!out->correct) st = sr_fail(err, SR_ERR_NOMEM, "%s: %s", path, key);
    }
    if (!st && len != out->n_correct)
      st = sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\" strings differ in length", path, key);
    if (!st) memcpy(out->correct + l * len, b, (size_t)len);
    sr_free(b);
  }
  return st;
}

static sr_status load_curve(const cJSON *c, const char *name, const char *path, sr_curve *out, sr_err *err) {
  char key[128];
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", name);
  if (!cJSON_IsObject(c)) return sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\" must be an object", path, name);
  snprintf(key, sizeof key, "%s.levels", name);
  int64_t nl = 0, na = 0, n1 = 0, n2 = 0;
  sr_status st =
      sr_json_doubles(cJSON_GetObjectItemCaseSensitive(c, "levels"), key, path, &out->levels, &nl, err);
  snprintf(key, sizeof key, "%s.accuracy", name);
  if (!st)
    st = sr_json_doubles(cJSON_GetObjectItemCaseSensitive(c, "accuracy"), key, path, &out->acc, &na, err);
  if (!st && (nl != na || nl < 1))
    st = sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\": %lld levels but %lld accuracies (need equal and >= 1)",
                 path, name, (long long)nl, (long long)na);
  for (int64_t i = 0; !st && i < na; i++)
    if (out->acc[i] < 0 || out->acc[i] > 1)
      st = sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\".accuracy[%lld] = %g is outside [0,1]", path, name,
                   (long long)i, out->acc[i]);
  const cJSON *lo = cJSON_GetObjectItemCaseSensitive(c, "ci_low"),
              *hi = cJSON_GetObjectItemCaseSensitive(c, "ci_high");
  if (!st && (lo || hi)) {
    snprintf(key, sizeof key, "%s.ci_low", name);
    st = sr_json_doubles(lo, key, path, &out->lo, &n1, err);
    snprintf(key, sizeof key, "%s.ci_high", name);
    if (!st) st = sr_json_doubles(hi, key, path, &out->hi, &n2, err);
    if (!st && (n1 != na || n2 != na))
      st =
          sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\": ci_low/ci_high must have one entry per level", path, name);
  }
  if (!st) st = sr_json_string(c, "source", out->source, sizeof out->source, path, err);
  out->n = na;
  if (!st) st = load_curve_bits(c, name, path, out, err);
  return st;
}

static sr_status load_curves(const cJSON *obj, const char *key, const char *path, sr_curve *curves, int *n,
                             sr_err *err) {
  const cJSON *o = cJSON_GetObjectItemCaseSensitive(obj, key), *c;
  if (!o || cJSON_IsNull(o)) return SR_OK;
  if (!cJSON_IsObject(o))
    return sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\" must be an object of curves", path, key);
  cJSON_ArrayForEach(c, o) {
    if (*n >= SR_REPORT_MAX_CURVES)
      return sr_fail(err, SR_ERR_FORMAT, "%s: more than %d \"%s\" curves", path, SR_REPORT_MAX_CURVES, key);
    sr_status st = load_curve(c, c->string, path, &curves[*n], err);
    (*n)++;  // counted even on failure so sr_run_free releases its arrays
    if (st) return st;
  }
  return SR_OK;
}

// The convergence curve of a minimal-perturbation attack (absent in older files).
static sr_status load_convergence(sr_run *r, const cJSON *b, const char *path, sr_err *err) {
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(b, "convergence");
  if (!c || cJSON_IsNull(c)) return SR_OK;
  double *steps = NULL;
  int64_t ns = 0, nm = 0;
  int present = 0;
  sr_status st =
      cJSON_IsObject(c) ? SR_OK : sr_fail(err, SR_ERR_FORMAT, "%s: \"convergence\" must be an object", path);
  if (!st)
    st = sr_json_doubles(cJSON_GetObjectItemCaseSensitive(c, "steps"), "convergence.steps", path, &steps, &ns,
                         err);
  if (!st) {  // medians may be null (no adversarial yet at a checkpoint): read them one by one
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "median"), *e;
    nm = cJSON_GetArraySize(m);
    int k = 0;
    cJSON_ArrayForEach(e, m) if (k < 11) r->conv_median[k++] = cJSON_IsNumber(e) ? e->valuedouble : NAN;
  }
  if (!st && (ns != 11 || nm != 11))
    st = sr_fail(err, SR_ERR_FORMAT, "%s: convergence needs 11 steps and 11 medians", path);
  for (int k = 0; k < 11 && !st; k++) r->conv_steps[k] = (int64_t)steps[k];
  r->conv_drop = NAN;
  if (!st) st = sr_json_number(c, "last20_drop", &r->conv_drop, &present, path, err);
  const cJSON *cv = cJSON_GetObjectItemCaseSensitive(c, "converged");
  if (!st && !cJSON_IsBool(cv))
    st = sr_fail(err, SR_ERR_FORMAT, "%s: convergence.converged must be true or false", path);
  if (!st) {
    r->converged = cJSON_IsTrue(cv);
    r->has_convergence = 1;
  }
  sr_free(steps);
  return st;
}

static sr_status load_boundary(sr_run *r, const cJSON *b, const char *path, sr_err *err) {
  if (!b || cJSON_IsNull(b)) return SR_OK;
  if (!cJSON_IsObject(b))
    return sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\" must be an object", path, r->minimal);
  sr_status st = SR_OK;
  const cJSON *norms = cJSON_GetObjectItemCaseSensitive(b, "norms_sq_per_dim");
  if (norms && !cJSON_IsNull(norms)) {
    st = sr_json_doubles(norms, "boundary.norms_sq_per_dim", path, &r->norms, &r->n_norms, err);
    for (int64_t i = 0; !st && i < r->n_norms; i++)
      if (r->norms[i] < 0)
        st = sr_fail(err, SR_ERR_FORMAT, "%s: boundary.norms_sq_per_dim[%lld] is negative", path,
                     (long long)i);
  }
  int has_med = 0, has_lo = 0, has_hi = 0;
  r->boundary.lo = r->boundary.hi = NAN;
  if (!st) st = sr_json_number(b, "median", &r->boundary.estimate, &has_med, path, err);
  if (!st) st = sr_json_number(b, "ci_low", &r->boundary.lo, &has_lo, path, err);
  if (!st) st = sr_json_number(b, "ci_high", &r->boundary.hi, &has_hi, path, err);
  char rel[1024] = "";
  if (!st) st = sr_json_string(b, "perturbations", rel, sizeof rel, path, err);
  if (st) return st;
  if (rel[0]) {
    int w = rel[0] == '/' ? snprintf(r->perturbations, sizeof r->perturbations, "%s", rel)
                          : snprintf(r->perturbations, sizeof r->perturbations, "%s/%s", r->dir, rel);
    if (w < 0 || (size_t)w >= sizeof r->perturbations)
      return sr_fail(err, SR_ERR_FORMAT, "%s: boundary.perturbations path is too long", path);
  }
  r->has_boundary = r->n_norms > 0 || has_med;
  r->boundary_median_given = has_med;
  return load_convergence(r, b, path, err);
}

static sr_status load_robustness(sr_run *r, sr_err *err) {
  char path[1100];
  join(path, sizeof path, r->dir, "robustness.json");
  cJSON *j;
  int missing, present;
  sr_status st = sr_json_load(path, &j, &missing, err);
  if (st || missing) return st;
  r->has_robustness = 1;
  st = sr_json_number(j, "clean_accuracy", &r->clean_acc, &present, path, err);
  const cJSON *cc = cJSON_GetObjectItemCaseSensitive(j, "clean_correct");
  if (!st && cc && !cJSON_IsNull(cc))
    st = load_bits(cc, "clean_correct", path, &r->clean_correct, &r->clean_n, err);
  if (!st) st = load_curves(j, "noise", path, r->noise, &r->n_noise, err);
  if (!st) st = load_curves(j, "transfer", path, r->transfer, &r->n_transfer, err);
  const cJSON *mp =
      !strcmp(r->minimal, "boundary")
          ? cJSON_GetObjectItemCaseSensitive(j, "boundary")
          : cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "attacks"), r->minimal);
  if (!st) st = load_boundary(r, mp, path, err);
  if (!st) st = sr_report_load_attacks(r, j, path, err);
  cJSON_Delete(j);
  return st;
}

// ---- corruptions.json ----
static sr_status load_corruptions(sr_run *r, sr_err *err) {
  char path[1100];
  join(path, sizeof path, r->dir, "corruptions.json");
  cJSON *j;
  int missing;
  sr_status st = sr_json_load(path, &j, &missing, err);
  if (st || missing) return st;
  double *sev = NULL;
  int64_t ns = 0;
  st = sr_json_doubles(cJSON_GetObjectItemCaseSensitive(j, "severities"), "severities", path, &sev, &ns, err);
  if (!st && (ns < 1 || ns > SR_REPORT_MAX_SEV))
    st = sr_fail(err, SR_ERR_FORMAT, "%s: need 1..%d severities (got %lld)", path, SR_REPORT_MAX_SEV,
                 (long long)ns);
  for (int64_t i = 0; !st && i < ns; i++) r->severities[i] = sev[i];
  sr_free(sev);
  r->n_sev = (int)ns;
  const cJSON *cs = cJSON_GetObjectItemCaseSensitive(j, "corruptions"), *c;
  if (!st && !cJSON_IsObject(cs))
    st = sr_fail(err, SR_ERR_FORMAT, "%s: \"corruptions\" must be an object", path);
  if (!st) cJSON_ArrayForEach(c, cs) {
      if (r->n_corr >= SR_REPORT_MAX_CORR) {
        st = sr_fail(err, SR_ERR_FORMAT, "%s: more than %d corruptions", path, SR_REPORT_MAX_CORR);
        break;
      }
      sr_corruption *k = &r->corr[r->n_corr++];
      snprintf(k->name, sizeof k->name, "%s", c->string);
      snprintf(k->group, sizeof k->group, "all");
      char key[128];
      snprintf(key, sizeof key, "%s.accuracy", k->name);
      double *acc = NULL;
      int64_t na = 0;
      if (!cJSON_IsObject(c)) st = sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\" must be an object", path, k->name);
      if (!st) st = sr_json_string(c, "group", k->group, sizeof k->group, path, err);
      if (!st)
        st = sr_json_doubles(cJSON_GetObjectItemCaseSensitive(c, "accuracy"), key, path, &acc, &na, err);
      if (!st && na != ns)
        st = sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\" has %lld accuracies for %lld severities", path, k->name,
                     (long long)na, (long long)ns);
      for (int64_t i = 0; !st && i < na; i++) {
        if (acc[i] < 0 || acc[i] > 1)
          st = sr_fail(err, SR_ERR_FORMAT, "%s: \"%s\".accuracy[%lld] = %g is outside [0,1]", path, k->name,
                       (long long)i, acc[i]);
        k->acc[i] = acc[i];
      }
      sr_free(acc);
      if (st) break;
    }
  if (!st) r->has_corruptions = r->n_corr > 0;
  cJSON_Delete(j);
  return st;
}

// ---- similarity/{target,model}.npy ----
static sr_status load_matrix(const char *path, double **out, int64_t *k, sr_err *err) {
  sr_npy a;
  sr_status st = sr_npy_read(path, &a, err);
  if (st) return st;
  if (a.ndim != 2 || a.shape[0] != a.shape[1] || a.shape[0] < 2 || a.shape[0] > 4096)
    st = sr_fail(err, SR_ERR_FORMAT, "%s: a similarity matrix must be (K,K) with 2 <= K <= 4096", path);
  if (!st) st = sr_npy_as_f64(&a, out, err);
  if (!st) *k = a.shape[0];
  sr_npy_free(&a);
  return st;
}

static sr_status load_similarity(sr_run *r, sr_err *err) {
  char pt[1100], pm[1100];
  join(pt, sizeof pt, r->dir, "similarity/target.npy");
  join(pm, sizeof pm, r->dir, "similarity/model.npy");
  if (!sr_file_exists(pt) || !sr_file_exists(pm)) return SR_OK;
  int64_t kt = 0, km = 0;
  sr_status st = load_matrix(pt, &r->sim_target, &kt, err);
  if (!st) st = load_matrix(pm, &r->sim_model, &km, err);
  if (!st && kt != km)
    st = sr_fail(err, SR_ERR_FORMAT, "%s: %lldx%lld but the target is %lldx%lld", pm, (long long)km,
                 (long long)km, (long long)kt, (long long)kt);
  if (!st) {
    r->sim_k = kt;
    r->has_similarity = 1;
  }
  return st;
}

sr_status sr_run_load(const char *dir, sr_run *r, sr_err *err) {
  return sr_run_load_minimal(dir, "boundary", r, err);
}

sr_status sr_run_load_minimal(const char *dir, const char *minimal, sr_run *r, sr_err *err) {
  memset(r, 0, sizeof *r);
  r->clean_acc = NAN;
  if (!minimal || (strcmp(minimal, "boundary") && strcmp(minimal, "hsj") && strcmp(minimal, "fmn") &&
                   strcmp(minimal, "ddn")))
    return sr_fail(err, SR_ERR_ARG, "minimal perturbations: '%s' is not boundary, hsj, fmn or ddn",
                   minimal ? minimal : "");
  // the white-box attacks' results sit beside HopSkipJump's under "attacks" (fmn_l2, ddn_l2)
  snprintf(r->minimal, sizeof r->minimal, "%s%s", !strcmp(minimal, "boundary") ? "boundary" : minimal,
           strcmp(minimal, "boundary") ? "_l2" : "");
  if (strlen(dir) >= sizeof r->dir - 64)
    return sr_fail(err, SR_ERR_ARG, "%s: run directory path too long", dir);
  snprintf(r->dir, sizeof r->dir, "%s", dir);
  size_t len = strlen(r->dir);
  while (len > 1 && r->dir[len - 1] == '/') r->dir[--len] = 0;
  if (!sr_file_exists(r->dir)) return sr_fail(err, SR_ERR_IO, "%s: no such run directory", dir);
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", r->dir);
  snprintf(r->name, sizeof r->name, "%s", basename(tmp));
  snprintf(r->reg, sizeof r->reg, "not given");
  sr_status st = load_config(r, err);
  if (!st) st = load_metrics(r, err);
  if (!st) st = load_robustness(r, err);
  if (!st) st = load_corruptions(r, err);
  if (!st) st = load_similarity(r, err);
  if (st) sr_run_free(r);
  return st;
}

static void free_curve(sr_curve *c) {
  sr_free(c->correct);
  sr_free(c->levels);
  sr_free(c->acc);
  sr_free(c->lo);
  sr_free(c->hi);
}

void sr_run_free(sr_run *r) {
  for (int k = 0; k < M_COUNT; k++) sr_free(*metric_slot(r, k));
  sr_free(r->gamma);
  for (int i = 0; i < r->n_noise; i++) free_curve(&r->noise[i]);
  for (int i = 0; i < r->n_transfer; i++) free_curve(&r->transfer[i]);
  sr_free(r->norms);
  sr_free(r->clean_correct);
  sr_spectrum_free(&r->spectrum);
  sr_free(r->sim_target);
  sr_free(r->sim_model);
  memset(r, 0, sizeof *r);
}
