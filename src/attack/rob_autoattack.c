// AutoAttack (Croce & Hein 2020) on a run: APGD-CE, APGD-T, FAB-T and Square in turn, each only on the images
// every earlier attack left robust; an image counts as robust when all of them fail. Each attack is sharded
// over the MPI ranks in whole batches of the images still robust, the results gathered and shared, so every
// rank knows which images the next attack gets. One attack alone (apgd-ce, apgd-dlr, apgd-t, fab-t) is the
// same protocol with a list of one. Writes out.attacks.<name>_<norm> (docs/ATTACKS.md).
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "attack/rob_internal.h"

typedef enum aa_kind { AA_APGD_CE, AA_APGD_DLR, AA_APGD_T, AA_FAB_T, AA_SQUARE, AA_KINDS } aa_kind;

static const char *const aa_names[AA_KINDS] = {"apgd-ce", "apgd-dlr", "apgd-t", "fab-t", "square"};

// What one attack of the list spent and achieved (summed over the ranks).
typedef struct aa_stats {
  int64_t attacked, broken, queries, gradients, recheck_failed;
  double seconds;
} aa_stats;

typedef struct aa_plan {
  aa_kind list[AA_KINDS];
  int count;
  int targets;  // APGD-T and FAB-T
  int64_t square_queries;
  const char *version;  // NULL for a single attack
} aa_plan;

typedef struct aa_run {
  const sr_rob_opts *o;
  sr_rob_run *r;
  sr_norm norm;
  double eps;
  aa_plan plan;
  int *robust;  // (n) 1 while every attack so far failed (0 from the start when misclassified clean)
  int *broken;  // (n) index into plan.list of the first attack that broke it, -1: none, -2: misclassified
                // clean
} aa_run;

// "autoattack" with version standard | fast, or one attack by name.
static sr_status make_plan(const sr_rob_opts *o, int classes, aa_plan *p, sr_err *err) {
  *p = (aa_plan){.targets = o->targets > 0 ? o->targets : 9, .square_queries = 5000};
  if (!strcmp(o->attack, "autoattack")) {
    p->version = o->version ? o->version : "standard";
    if (!strcmp(p->version, "standard")) {
      aa_kind l[] = {AA_APGD_CE, AA_APGD_T, AA_FAB_T, AA_SQUARE};
      memcpy(p->list, l, sizeof l);
      p->count = 4;
    } else if (!strcmp(p->version, "fast")) {
      // fast: the two APGD attacks that break nearly everything the full list breaks, with 3 targets
      aa_kind l[] = {AA_APGD_CE, AA_APGD_T};
      memcpy(p->list, l, sizeof l);
      p->count = 2;
      if (o->targets <= 0) p->targets = 3;
    } else {
      return sr_fail(err, SR_ERR_ARG, "--version must be standard or fast, not '%s'", p->version);
    }
  } else {
    for (int k = 0; k < AA_KINDS && !p->count; k++)
      if (!strcmp(o->attack, aa_names[k])) p->list[p->count++] = (aa_kind)k;
    if (!p->count) return sr_fail(err, SR_ERR_ARG, "--attack: unknown attack '%s'", o->attack);
  }
  if (p->targets >= classes) p->targets = classes - 1;  // AutoAttack's own rule for few classes
  if (o->targets >= classes)
    return sr_fail(err, SR_ERR_ARG, "--targets %d: the model has %d classes (at most %d targets)", o->targets,
                   classes, classes - 1);
  if (o->queries > 0) p->square_queries = o->queries;
  return SR_OK;
}

// ---- one attack on this rank's share
// ------------------------------------------------------------------------
typedef struct aa_prog {
  sr_rob_tick *tick;
  int runs;
  int64_t iterations;
} aa_prog;

static void apgd_iter(void *ctx, int run, int64_t it, int64_t first, int64_t k, const double *best) {
  (void)best;
  aa_prog *p = ctx;
  double frac = ((double)run * (double)(p->iterations + 1) + (double)it + 1) /
                ((double)p->runs * (double)(p->iterations + 1));
  sr_rob_tick_update(p->tick, (double)first + (double)k * frac);
}

static void square_iter(void *ctx, int64_t it, int64_t first, int64_t n, int64_t active) {
  (void)active;
  aa_prog *p = ctx;
  sr_rob_tick_update(p->tick, (double)first + (double)n * (double)(it + 1) / (double)p->iterations);
}

static void fab_iter(void *ctx, int run, int64_t it, int64_t first, int64_t k) {
  aa_prog *p = ctx;
  double frac =
      ((double)run * (double)p->iterations + (double)it) / ((double)p->runs * (double)p->iterations);
  sr_rob_tick_update(p->tick, (double)first + (double)k * frac);
}

// FAB returns its smallest adversarial whatever its size: only those within eps break an image.
static void within_eps(const aa_run *a, const float *x, int64_t n, sr_attack_result *res) {
  int64_t d = a->r->d;
  for (int64_t i = 0; i < n; i++) {
    const float *v = res->adv + i * d;
    double dn = a->norm == SR_NORM_L2 ? sr_dist_l2(v, x + i * d, d) : sr_dist_linf(v, x + i * d, d);
    if (res->found[i] && !(dn <= a->eps)) res->found[i] = 0;
  }
}

static sr_status attack_share(aa_run *a, aa_kind kind, const sr_labeled *in, int64_t first, sr_rob_tick *tick,
                              sr_attack_result *res, sr_err *err) {
  const float *x = in->x;
  const int32_t *y = in->y;
  int64_t n = in->n;
  sr_amodel *am = &a->r->t.am;
  uint64_t seed = a->o->seed;
  if (kind == AA_SQUARE) {
    sr_square_opts so = sr_square_opts_default(a->norm, a->eps);
    so.queries = a->plan.square_queries;
    if (a->o->p_init > 0)
      so.p_init = a->o->p_init;
    else
      so.p_init = 0.8;  // AutoAttack runs Square with p_init 0.8 for both norms
    so.first_index = first;
    aa_prog p = {.tick = tick, .runs = 1, .iterations = so.queries};
    so.on_iter = square_iter;
    so.ctx = &p;
    return sr_square(am, &(sr_labeled){.x = x, .y = y, .n = n}, &so, seed, res, err);
  }
  if (kind == AA_FAB_T) {
    sr_fab_opts fo = sr_fab_opts_default(a->norm, a->eps);
    fo.targets = a->plan.targets;
    if (a->o->steps > 0) fo.iterations = (int)a->o->steps;
    aa_prog p = {.tick = tick, .runs = fo.targets, .iterations = fo.iterations};
    fo.on_iter = fab_iter;
    fo.ctx = &p;
    sr_status st = sr_fab(am, &(sr_labeled){.x = x, .y = y, .n = n}, &fo, seed, res, err);
    if (!st) within_eps(a, x, n, res);
    return st;
  }
  sr_apgd_loss loss = kind == AA_APGD_CE    ? SR_APGD_CE
                      : kind == AA_APGD_DLR ? SR_APGD_DLR
                                            : SR_APGD_DLR_TARGETED;
  sr_apgd_opts ao = sr_apgd_opts_default(a->norm, a->eps, loss);
  ao.targets = a->plan.targets;
  ao.first_index = first;
  if (a->o->steps > 0) ao.iterations = (int)a->o->steps;
  ao.clean_pred = y;  // the images given are the ones still robust: correctly classified
  aa_prog p = {
      .tick = tick, .runs = loss == SR_APGD_DLR_TARGETED ? ao.targets : 1, .iterations = ao.iterations};
  ao.on_iter = apgd_iter;
  ao.ctx = &p;
  return sr_apgd(am, &(sr_labeled){.x = x, .y = y, .n = n}, &ao, seed, res, err);
}

// ---- the protocol
// ------------------------------------------------------------------------------------------- The images
// still robust, in order: their indices, pixels and labels.
static sr_status pack_robust(aa_run *a, int64_t *idx, float *xs, int32_t *ys, int64_t *nr) {
  sr_rob_run *r = a->r;
  int64_t m = 0;
  for (int64_t i = 0; i < r->n; i++) {
    if (!a->robust[i]) continue;
    idx[m] = i;
    memcpy(xs + m * r->d, r->x + i * r->d, (size_t)r->d * sizeof(float));
    ys[m] = r->y[i];
    m++;
  }
  *nr = m;
  return SR_OK;
}

// Attack `which` (index into the plan) on the robust images; mark the ones it breaks.
static sr_status run_attack(aa_run *a, int which, int64_t *idx, float *xs, int32_t *ys, aa_stats *s,
                            sr_err *err) {
  const sr_rob_opts *o = a->o;
  sr_rob_run *r = a->r;
  int64_t nr = 0, lo = 0, hi = 0, b = r->t.am.batch;
  pack_robust(a, idx, xs, ys, &nr);
  memset(s, 0, sizeof *s);
  s->attacked = nr;
  if (!nr) return SR_OK;
  sr_rob_shard(o, nr, b, &lo, &hi);
  char label[64];
  snprintf(label, sizeof label, "%s", aa_names[a->plan.list[which]]);
  sr_rob_tick tick;
  sr_rob_tick_start(&tick, o, label, &r->t.am, hi - lo);
  double t0 = sr_now();
  sr_attack_result res = {0};
  int *found = sr_calloc((size_t)nr, sizeof(int));
  int *mine = sr_calloc((size_t)(hi > lo ? hi - lo : 1), sizeof(int));
  sr_status st =
      !found || !mine ? sr_fail(err, SR_ERR_NOMEM, "attack results for %lld images", (long long)nr) : SR_OK;
  if (!st && hi > lo)
    st = attack_share(a, a->plan.list[which], &(sr_labeled){.x = xs + lo * r->d, .y = ys + lo, .n = hi - lo},
                      lo, &tick, &res, err);
  int64_t sums[3] = {0, 0, 0};  // queries, gradients, recheck failures
  for (int64_t i = 0; i < hi - lo && !st; i++) {
    mine[i] = res.found[i];
    sums[0] += res.queries[i];
    sums[1] += a->plan.list[which] == AA_SQUARE ? 0 : res.queries[i] - res.init_queries[i];
  }
  sums[2] = res.recheck_failed;
  sr_attack_result_free(&res);
  if (!st) st = sr_dist_allreduce_i64(o->dist, sums, 3, err);
  if (!st) st = sr_dist_gather_batches(o->dist, mine, nr, b, sizeof(int), found, err);
  if (!st) st = sr_dist_bcast(o->dist, found, (size_t)nr * sizeof(int), 0, err);
  sr_rob_tick_end(&tick);
  for (int64_t j = 0; j < nr && !st; j++) {
    if (!found[j]) continue;
    a->robust[idx[j]] = 0;
    a->broken[idx[j]] = which;
    s->broken++;
  }
  s->queries = sums[0];
  s->gradients = sums[1];
  s->recheck_failed = sums[2];
  s->seconds = sr_now() - t0;
  sr_free(found);
  sr_free(mine);
  return st;
}

static int64_t count_robust(const aa_run *a) {
  int64_t c = 0;
  for (int64_t i = 0; i < a->r->n; i++) c += a->robust[i];
  return c;
}

static void write_json(const aa_run *a, const aa_stats *s, double clean, const double *after, double secs,
                       cJSON *out) {
  const sr_rob_run *r = a->r;
  char key[48];
  const char *nn = a->norm == SR_NORM_L2 ? "l2" : "linf";
  snprintf(key, sizeof key, "%s_%s", a->plan.version ? "autoattack" : a->o->attack, nn);
  for (char *c = key; *c; c++)
    if (*c == '-') *c = '_';
  cJSON *b = cJSON_AddObjectToObject(sr_rob_member(out, "attacks"), key);
  cJSON_AddStringToObject(b, "norm", nn);
  cJSON_AddNumberToObject(b, "eps", a->eps);
  if (a->plan.version) cJSON_AddStringToObject(b, "version", a->plan.version);
  cJSON_AddNumberToObject(b, "images", (double)r->n);
  cJSON_AddNumberToObject(b, "seed", (double)a->o->seed);
  cJSON_AddNumberToObject(b, "clean_accuracy", clean);
  cJSON_AddNumberToObject(b, "robust_accuracy", a->plan.count ? after[a->plan.count - 1] : clean);
  cJSON_AddNumberToObject(b, "seconds", secs);
  cJSON *at = cJSON_AddArrayToObject(b, "attacks");
  for (int k = 0; k < a->plan.count; k++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "attack", aa_names[a->plan.list[k]]);
    cJSON_AddNumberToObject(e, "robust_accuracy_after", after[k]);
    cJSON_AddNumberToObject(e, "attacked", (double)s[k].attacked);
    cJSON_AddNumberToObject(e, "broken", (double)s[k].broken);
    cJSON_AddNumberToObject(e, "queries", (double)s[k].queries);
    cJSON_AddNumberToObject(e, "gradients", (double)s[k].gradients);
    cJSON_AddNumberToObject(e, "recheck_failed", (double)s[k].recheck_failed);
    cJSON_AddNumberToObject(e, "seconds", s[k].seconds);
    if (a->plan.list[k] == AA_APGD_T || a->plan.list[k] == AA_FAB_T)
      cJSON_AddNumberToObject(e, "targets", a->plan.targets);
    if (a->plan.list[k] == AA_SQUARE) cJSON_AddNumberToObject(e, "budget", (double)a->plan.square_queries);
    cJSON_AddItemToArray(at, e);
  }
  // per image: the first attack that broke it, "clean" when misclassified unattacked, "" while robust
  cJSON *by = cJSON_AddArrayToObject(b, "broken_by");
  for (int64_t i = 0; i < r->n; i++) {
    int w = a->broken[i];
    cJSON_AddItemToArray(by, cJSON_CreateString(w == -2 ? "clean" : w < 0 ? "" : aa_names[a->plan.list[w]]));
  }
}

sr_status sr_rob_autoattack(const sr_rob_opts *o, sr_rob_run *r, cJSON *out, sr_err *err) {
  aa_run a = {.o = o, .r = r};
  if (!o->norm || (strcmp(o->norm, "linf") && strcmp(o->norm, "l2")))
    return sr_fail(err, SR_ERR_ARG, "--norm must be linf or l2, not '%s'", o->norm ? o->norm : "");
  a.norm = !strcmp(o->norm, "l2") ? SR_NORM_L2 : SR_NORM_LINF;
  a.eps = o->eps > 0             ? o->eps
          : a.norm == SR_NORM_L2 ? (r->ds.c == 1 ? 2.0 : 0.5)
                                 : (r->ds.c == 1 ? 0.1 : 8.0 / 255);
  if (!isfinite(a.eps)) return sr_fail(err, SR_ERR_ARG, "--eps must be finite and > 0");
  sr_status st = make_plan(o, r->t.am.classes, &a.plan, err);
  if (st) return st;
  if (r->n < 1) return sr_fail(err, SR_ERR_ARG, "%s: no images to attack", r->dir);
  a.robust = sr_alloc((size_t)r->n * sizeof(int));
  a.broken = sr_alloc((size_t)r->n * sizeof(int));
  int64_t *idx = sr_alloc((size_t)r->n * sizeof(int64_t));
  float *xs = sr_alloc((size_t)r->n * (size_t)r->d * sizeof(float));
  int32_t *ys = sr_alloc((size_t)r->n * sizeof(int32_t));
  if (!a.robust || !a.broken || !idx || !xs || !ys) st = sr_fail(err, SR_ERR_NOMEM, "autoattack buffers");
  for (int64_t i = 0; i < r->n && !st; i++) {
    a.robust[i] = r->pred[i] == r->y[i];
    a.broken[i] = a.robust[i] ? -1 : -2;
  }
  double t0 = sr_now(), clean = st ? 0 : (double)count_robust(&a) / (double)r->n, after[AA_KINDS];
  aa_stats s[AA_KINDS];
  for (int k = 0; k < a.plan.count && !st; k++) {
    st = run_attack(&a, k, idx, xs, ys, &s[k], err);
    after[k] = (double)count_robust(&a) / (double)r->n;
  }
  if (!st && sr_rob_root(o)) write_json(&a, s, clean, after, sr_now() - t0, out);
  sr_free(a.robust);
  sr_free(a.broken);
  sr_free(idx);
  sr_free(xs);
  sr_free(ys);
  return st;
}
