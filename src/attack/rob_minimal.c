// The per-image minimum over minimal-perturbation attacks (Boundary, HopSkipJump, FMN, DDN: all L2) and the
// robust-accuracy curve it gives, from the attacks' results already in a robustness.json patch.
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "attack/rob_internal.h"
#include "simreg/stats.h"

void sr_min_over_attacks(const double *norms, int k, int64_t n, double *min, int *argmin) {
  for (int64_t i = 0; i < n; i++) {
    min[i] = INFINITY;
    argmin[i] = -1;
    for (int a = 0; a < k; a++) {
      double v = norms[(size_t)a * (size_t)n + (size_t)i];
      if (isfinite(v) && v < min[i]) {
        min[i] = v;
        argmin[i] = a;
      }
    }
  }
}

void sr_min_curve(const double *min, int64_t n, int64_t total, const double *eps, int n_eps, double *acc) {
  for (int l = 0; l < n_eps; l++) {
    int64_t robust = 0;
    for (int64_t i = 0; i < n; i++) robust += !(min[i] <= eps[l]);
    acc[l] = total > 0 ? (double)robust / (double)total : NAN;
  }
}

// An attack's results in the patch: "boundary" at the top, the others under "attacks".
static const cJSON *attack_obj(const cJSON *patch, const char *name) {
  if (!strcmp(name, "boundary")) return cJSON_GetObjectItemCaseSensitive(patch, "boundary");
  const char *key = !strcmp(name, "hsj")   ? "hsj_l2"
                    : !strcmp(name, "fmn") ? "fmn_l2"
                    : !strcmp(name, "ddn") ? "ddn_l2"
                                           : name;
  return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(patch, "attacks"), key);
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

// Row a of norms: the smallest norm per image over the attack's repeats (INFINITY where none).
static sr_status fill_row(const cJSON *b, const char *name, int64_t n, double *row, sr_err *err) {
  const cJSON *img = cJSON_GetObjectItemCaseSensitive(b, "image");
  const cJSON *l2 = cJSON_GetObjectItemCaseSensitive(b, "l2");
  if (!cJSON_IsArray(img) || !cJSON_IsArray(l2) || cJSON_GetArraySize(img) != cJSON_GetArraySize(l2))
    return sr_fail(err, SR_ERR_FORMAT, "minimal: %s has no per-image \"image\" and \"l2\" arrays", name);
  for (int64_t i = 0; i < n; i++) row[i] = INFINITY;
  const cJSON *v = l2->child;
  for (const cJSON *c = img->child; c && v; c = c->next) {
    int64_t i = cJSON_IsNumber(c) ? (int64_t)c->valuedouble : -1;
    if (i < 0 || i >= n || !cJSON_IsNumber(v))
      return sr_fail(err, SR_ERR_FORMAT, "minimal: %s: image index outside [0, %lld)", name, (long long)n);
    if (v->valuedouble < row[i]) row[i] = v->valuedouble;
    v = v->next;
  }
  return SR_OK;
}

typedef struct min_out {
  const char *const *names;
  int k;
  int64_t n, seen;
  const double *min;
  const int *argmin;
  const double *eps;
  const double *acc;
  int n_eps;
} min_out;

static void write_minimal(const min_out *m, double *scratch, cJSON *patch) {
  cJSON *o = cJSON_AddObjectToObject(patch, "minimal");
  cJSON *names = cJSON_AddArrayToObject(o, "attacks");
  for (int a = 0; a < m->k; a++) cJSON_AddItemToArray(names, cJSON_CreateString(m->names[a]));
  cJSON_AddStringToObject(o, "norm", "l2");
  cJSON_AddNumberToObject(o, "images", (double)m->seen);
  cJSON_AddNumberToObject(o, "attacked", (double)m->n);
  cJSON *l2 = cJSON_AddArrayToObject(o, "l2");
  cJSON *arg = cJSON_AddArrayToObject(o, "attack");
  int64_t nf = 0;
  for (int64_t i = 0; i < m->n; i++) {
    int f = isfinite(m->min[i]);
    cJSON_AddItemToArray(l2, f ? cJSON_CreateNumber(m->min[i]) : cJSON_CreateNull());
    cJSON_AddItemToArray(arg, f ? cJSON_CreateString(m->names[m->argmin[i]]) : cJSON_CreateNull());
    if (f) scratch[nf++] = m->min[i];
  }
  cJSON *wins = cJSON_AddObjectToObject(o, "smallest_by");
  for (int a = 0; a < m->k; a++) {
    int64_t c = 0;
    for (int64_t i = 0; i < m->n; i++) c += m->argmin[i] == a;
    cJSON_AddNumberToObject(wins, m->names[a], (double)c);
  }
  cJSON_AddNumberToObject(o, "not_found", (double)(m->n - nf));
  cJSON_AddItemToObject(o, "quartiles_l2", sr_rob_quartiles_of(scratch, nf, scratch));
  cJSON *cv = cJSON_AddObjectToObject(o, "curve");
  cJSON_AddItemToObject(cv, "eps", sr_rob_doubles(m->eps, m->n_eps));
  cJSON_AddItemToObject(cv, "robust_accuracy", sr_rob_doubles(m->acc, m->n_eps));
  cJSON_AddStringToObject(cv, "rule",
                          "an image counts as robust at eps when it is classified correctly and no "
                          "listed attack found a verified adversarial with ||delta||_2 <= eps; "
                          "over all images looked at");
}

sr_status sr_rob_minimal(const char *const *names, int k, const double *eps, int n_eps, cJSON *patch,
                         sr_err *err) {
  if (k < 1) return sr_fail(err, SR_ERR_ARG, "minimal: no attacks listed");
  int64_t n = -1;
  int64_t seen = 0;
  for (int a = 0; a < k; a++) {
    const cJSON *b = attack_obj(patch, names[a]);
    if (!cJSON_IsObject(b))
      return sr_fail(err, SR_ERR_ARG, "minimal: no results of %s to take the minimum over", names[a]);
    int64_t na = (int64_t)num(b, "attacked");
    if (n >= 0 && na != n)
      return sr_fail(err, SR_ERR_ARG, "minimal: %s attacked %lld images, %s %lld: not the same images",
                     names[a], (long long)na, names[0], (long long)n);
    n = na;
    seen = (int64_t)num(b, "images");
  }
  size_t sz = (size_t)(n > 0 ? n : 1);
  double *norms = sr_alloc((size_t)k * sz * sizeof(double));
  double *min = sr_alloc(sz * sizeof(double));
  double *scratch = sr_alloc(sz * sizeof(double));
  int *argmin = sr_alloc(sz * sizeof(int));
  double grid[21];
  double *acc = sr_alloc((size_t)(n_eps > 21 ? n_eps : 21) * sizeof(double));
  sr_status st =
      !norms || !min || !scratch || !argmin || !acc ? sr_fail(err, SR_ERR_NOMEM, "minimal") : SR_OK;
  for (int a = 0; a < k && !st; a++)
    st = fill_row(attack_obj(patch, names[a]), names[a], n, norms + (size_t)a * sz, err);
  if (!st) {
    sr_min_over_attacks(norms, k, n, min, argmin);
    if (!eps) {  // 21 points from 0 to the largest minimal norm found
      double hi = 0;
      for (int64_t i = 0; i < n; i++) hi = isfinite(min[i]) && min[i] > hi ? min[i] : hi;
      for (int l = 0; l < 21; l++) grid[l] = hi * l / 20.0;
      eps = grid;
      n_eps = 21;
    }
    sr_min_curve(min, n, seen, eps, n_eps, acc);
    min_out m = {.names = names,
                 .k = k,
                 .n = n,
                 .seen = seen,
                 .min = min,
                 .argmin = argmin,
                 .eps = eps,
                 .acc = acc,
                 .n_eps = n_eps};
    write_minimal(&m, scratch, patch);
  }
  sr_free(norms);
  sr_free(min);
  sr_free(scratch);
  sr_free(argmin);
  sr_free(acc);
  return st;
}

// Per image, the smallest norm over the black-box attacks (boundary, hsj) and over the white-box ones (fmn,
// ddn) present in the patch, on the same images; *n = 0 when either group is absent.
sr_status sr_rob_minimal_groups(const cJSON *patch, double **bb, double **wb, int64_t *n, sr_err *err) {
  const char *groups[2][2] = {{"boundary", "hsj"}, {"fmn", "ddn"}};
  double **out[2] = {bb, wb};
  *bb = NULL;
  *wb = NULL;
  *n = 0;
  int64_t na[2][2];
  int present[2] = {0, 0};
  int64_t common = -1;
  for (int g = 0; g < 2; g++) {
    for (int a = 0; a < 2; a++) {
      const cJSON *b = attack_obj(patch, groups[g][a]);
      na[g][a] = cJSON_IsObject(b) ? (int64_t)num(b, "attacked") : -1;
      if (na[g][a] < 0) continue;
      if (common >= 0 && na[g][a] != common) return SR_OK;  // not the same images: nothing to compare
      common = na[g][a];
      present[g] = 1;
    }
  }
  if (!present[0] || !present[1] || common <= 0) return SR_OK;
  double *row = sr_alloc((size_t)common * sizeof(double));
  *bb = sr_alloc((size_t)common * sizeof(double));
  *wb = sr_alloc((size_t)common * sizeof(double));
  sr_status st = !row || !*bb || !*wb ? sr_fail(err, SR_ERR_NOMEM, "masking: per-image minima") : SR_OK;
  for (int g = 0; g < 2 && !st; g++) {
    for (int64_t i = 0; i < common; i++) (*out[g])[i] = INFINITY;
    for (int a = 0; a < 2 && !st; a++) {
      if (na[g][a] < 0) continue;
      st = fill_row(attack_obj(patch, groups[g][a]), groups[g][a], common, row, err);
      for (int64_t i = 0; i < common && !st; i++)
        (*out[g])[i] = row[i] < (*out[g])[i] ? row[i] : (*out[g])[i];
    }
  }
  sr_free(row);
  if (st) {
    sr_free(*bb);
    sr_free(*wb);
    *bb = NULL;
    *wb = NULL;
    return st;
  }
  *n = common;
  return SR_OK;
}
