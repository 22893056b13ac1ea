// simreg attack: noise sweeps, white-box and transferred FGSM/PGD, and the Boundary attack on a trained
// run; results merged into RUN/robustness.json (docs/FORMATS.md, docs/ATTACKS.md).
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "simreg/attack.h"
#include "simreg/npy.h"
#include "simreg/stats.h"
#include "simreg/train.h"

#define MAX_LEVELS 64

typedef struct attack_args {
  const char *attack, *data, *split, *which, *levels, *noise, *norm, *source;
  int64_t images, batch, steps;
  int repeats, n_levels, quiet, no_random_start;
  double max_level, eps, step_size;
  uint64_t seed;
} attack_args;

// A loaded run: model, wrapper, and the first `images` images of the split in pixel space.
typedef struct target {
  sr_model m;
  sr_run_info info;
  sr_amodel am;
  int open, wrapped;
} target;

static int parse_levels(const char *s, double *v, int *n, sr_err *err) {
  *n = 0;
  while (s && *s) {
    char *end;
    double x = strtod(s, &end);
    if (end == s || !isfinite(x) || x < 0 || *n >= MAX_LEVELS)
      return sr_fail(err, SR_ERR_ARG, "--levels: '%s' is not a list of up to %d non-negative numbers", s, MAX_LEVELS);
    v[(*n)++] = x;
    s = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') return sr_fail(err, SR_ERR_ARG, "--levels: unexpected '%s'", end);
  }
  return *n ? SR_OK : sr_fail(err, SR_ERR_ARG, "--levels is empty");
}

static void linspace(double hi, int n, double *v) {
  for (int i = 0; i < n; i++) v[i] = n > 1 ? hi * i / (n - 1) : hi;
}

static cJSON *doubles(const double *v, int64_t n) {
  cJSON *a = cJSON_CreateArray();
  for (int64_t i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
  return a;
}

static sr_status open_target(const char *run, const attack_args *a, int c, target *t, sr_err *err) {
  sr_status st = sr_run_open(run, a->which, &t->m, &t->info, err);
  if (st) return sr_err_context(err, "%s", run);
  t->open = 1;
  if ((st = sr_amodel_init(&t->am, &t->m, c, t->info.gray, t->info.mean, t->info.scale, a->batch, err)))
    return sr_err_context(err, "%s", run);
  t->wrapped = 1;
  return SR_OK;
}

static void close_target(target *t) {
  if (t->wrapped) sr_amodel_free(&t->am);
  if (t->open) sr_model_free(&t->m);
}

static sr_status run_noise(const attack_args *a, target *t, const float *x, const int32_t *y, int64_t n,
                           const double *lv, int nl, cJSON *out, sr_err *err) {
  cJSON *noise = cJSON_AddObjectToObject(out, "noise");
  char kinds[256];
  snprintf(kinds, sizeof kinds, "%s", a->noise);
  for (char *save = NULL, *k = strtok_r(kinds, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
    int kind = sr_noise_parse(k);
    if (kind < 0) return sr_fail(err, SR_ERR_ARG, "--noise: unknown kind '%s' (gaussian, uniform, salt_pepper)", k);
    double acc[MAX_LEVELS], lo[MAX_LEVELS], hi[MAX_LEVELS], t0 = sr_now();
    int64_t q0 = t->am.queries;
    sr_status st = sr_noise_sweep(&t->am, x, y, n, (sr_noise_kind)kind, lv, nl, a->repeats, a->seed, acc, lo, hi, err);
    if (st) return st;
    double secs = sr_now() - t0;
    cJSON *c = cJSON_AddObjectToObject(noise, k);
    cJSON_AddItemToObject(c, "levels", doubles(lv, nl));
    cJSON_AddItemToObject(c, "accuracy", doubles(acc, nl));
    cJSON_AddItemToObject(c, "ci_low", doubles(lo, nl));
    cJSON_AddItemToObject(c, "ci_high", doubles(hi, nl));
    cJSON_AddNumberToObject(c, "repeats", a->repeats);
    cJSON_AddNumberToObject(c, "images", (double)n);
    cJSON_AddNumberToObject(c, "seed", (double)a->seed);
    if (!a->quiet)
      fprintf(stderr, "noise %s: accuracy %.4f at %g .. %.4f at %g (%.0f queries/s)\n", k, acc[0], lv[0], acc[nl - 1],
              lv[nl - 1], (double)(t->am.queries - q0) / (secs > 0 ? secs : 1e-9));
  }
  return SR_OK;
}

static sr_status run_gradient(const attack_args *a, target *t, target *src, const float *x, const int32_t *y,
                              int64_t n, const double *lv, int nl, cJSON *out, sr_err *err) {
  int fgsm = !strcmp(a->attack, "fgsm") || (src && !strcmp(a->attack, "transfer") && a->steps <= 1);
  sr_norm norm = !strcmp(a->norm, "l2") ? SR_NORM_L2 : SR_NORM_LINF;
  double top = lv[nl - 1] > 0 ? lv[nl - 1] : 1;
  sr_pgd_opts o = fgsm ? sr_fgsm_opts(norm, top) : sr_pgd_opts_default(norm, top);
  if (!fgsm && a->steps > 0) o.steps = (int)a->steps, o.step = 2.5 * top / (double)o.steps;
  if (!fgsm && a->step_size > 0) o.step = a->step_size * top;  // relative to eps: scales along the sweep
  if (a->no_random_start) o.random_start = 0;
  sr_eps_curve c[MAX_LEVELS];
  double t0 = sr_now();
  sr_status st = sr_gradient_sweep(src ? &src->am : &t->am, &t->am, x, y, n, &o, lv, nl, a->seed, c, err);
  if (st) return st;
  double acc[MAX_LEVELS], oob = 0;
  for (int l = 0; l < nl; l++) acc[l] = c[l].acc, oob += (double)c[l].out_of_bounds;
  char key[32];
  snprintf(key, sizeof key, "%s%s", fgsm ? "fgsm" : "pgd", norm == SR_NORM_L2 ? "_l2" : "");
  cJSON *group = cJSON_AddObjectToObject(out, src ? "transfer" : "white_box");
  cJSON *cv = cJSON_AddObjectToObject(group, key);
  cJSON_AddItemToObject(cv, "levels", doubles(lv, nl));
  cJSON_AddItemToObject(cv, "accuracy", doubles(acc, nl));
  if (src) cJSON_AddStringToObject(cv, "source", a->source);
  cJSON_AddNumberToObject(cv, "steps", o.steps);
  cJSON_AddNumberToObject(cv, "step_relative", o.step / top);
  cJSON_AddBoolToObject(cv, "random_start", o.random_start);
  cJSON_AddNumberToObject(cv, "out_of_bounds", oob);
  cJSON_AddNumberToObject(cv, "images", (double)n);
  cJSON_AddNumberToObject(cv, "seed", (double)a->seed);
  if (!a->quiet)
    fprintf(stderr, "%s%s: accuracy %.4f at eps %g .. %.4f at eps %g (%.1f s)%s\n", src ? "transfer " : "", key, acc[0],
            lv[0], acc[nl - 1], lv[nl - 1], sr_now() - t0, oob ? " - ADVERSARIALS OUT OF BOUNDS" : "");
  return oob ? sr_fail(err, SR_ERR_NUMERIC, "%g adversarials left the eps ball or [0,1]", oob) : SR_OK;
}

typedef struct progress {
  const sr_amodel *am;
  double t0;
  int64_t total, steps;
  int quiet;
} progress;

static void on_step(void *ctx, int64_t step, int64_t first, int64_t n, const double *dist) {
  progress *p = ctx;
  (void)dist;
  if (p->quiet || (step % 500 && step != p->steps)) return;
  double secs = sr_now() - p->t0, frac = ((double)first + (double)n * (double)step / (double)p->steps) / (double)p->total;
  fprintf(stderr, "\rboundary: images %lld-%lld of %lld, step %lld, %.0f queries/s, ETA %.0f s   ", (long long)first,
          (long long)(first + n), (long long)p->total, (long long)step, (double)p->am->queries / (secs > 0 ? secs : 1e-9),
          frac > 0 ? secs / frac - secs : 0.0);
}

static sr_status run_boundary(const char *run, const attack_args *a, target *t, const float *x, const int32_t *y,
                              int64_t n, cJSON *out, sr_err *err) {
  int64_t d = t->am.d, nc = 0;
  int32_t *pred = sr_alloc((size_t)n * sizeof(int32_t)), *lab = sr_alloc((size_t)n * sizeof(int32_t));
  float *xc = sr_alloc((size_t)n * (size_t)d * sizeof(float));
  sr_boundary_result r = {0};
  double *norms = sr_alloc((size_t)n * sizeof(double));
  float *delta = NULL;
  sr_status st = !pred || !lab || !xc || !norms ? sr_fail(err, SR_ERR_NOMEM, "boundary buffers") : SR_OK;
  if (!st) st = sr_amodel_predict(&t->am, x, n, pred, NULL, err);
  // only correctly classified images are attacked; misclassified ones are reported apart
  for (int64_t i = 0; i < n && !st; i++)
    if (pred[i] == y[i]) memcpy(xc + nc * d, x + i * d, (size_t)d * sizeof(float)), lab[nc++] = pred[i];
  if (!st && !nc) st = sr_fail(err, SR_ERR_ARG, "the model misclassifies all %lld images: nothing to attack", (long long)n);
  sr_boundary_opts o = sr_boundary_opts_default();
  if (a->steps > 0) o.steps = a->steps;
  progress p = {.am = &t->am, .t0 = sr_now(), .total = nc, .steps = o.steps, .quiet = a->quiet};
  o.on_step = on_step, o.ctx = &p;
  t->am.queries = 0;
  if (!st) st = sr_boundary(&t->am, xc, lab, nc, &o, a->seed, &r, err);
  double secs = sr_now() - p.t0;
  if (!a->quiet) fprintf(stderr, "\n");
  int64_t nf = 0, qsum = 0;
  if (!st) {
    delta = sr_alloc((size_t)nc * (size_t)d * sizeof(float));
    if (!delta) st = sr_fail(err, SR_ERR_NOMEM, "perturbations");
  }
  for (int64_t i = 0; i < nc && !st; i++) {
    qsum += r.queries[i];
    if (!r.found[i]) continue;
    for (int64_t p2 = 0; p2 < d; p2++) delta[nf * d + p2] = r.adv[i * d + p2] - xc[i * d + p2];
    norms[nf++] = r.norm_sq_per_dim[i];
  }
  if (!st && !nf) st = sr_fail(err, SR_ERR_NUMERIC, "boundary attack: no confirmed adversarial");
  sr_ci ci = {0};
  if (!st) {
    sr_rng rng;
    sr_rng_seed(&rng, a->seed, 77);
    st = sr_bootstrap_median(norms, nf, SR_BOOT_DEFAULT_B, 0.95, &rng, &ci, err);
  }
  if (!st) {
    char path[4096];
    snprintf(path, sizeof path, "%s/boundary_delta.npy", run);
    int64_t shape[4] = {nf, t->am.c, t->am.h, t->am.w};
    st = sr_npy_write(path, SR_F32, 4, shape, delta, err);
  }
  if (!st) {
    cJSON *b = cJSON_AddObjectToObject(out, "boundary");
    cJSON_AddItemToObject(b, "norms_sq_per_dim", doubles(norms, nf));
    cJSON_AddNumberToObject(b, "median", ci.estimate);
    cJSON_AddNumberToObject(b, "ci_low", ci.lo);
    cJSON_AddNumberToObject(b, "ci_high", ci.hi);
    cJSON_AddStringToObject(b, "perturbations", "boundary_delta.npy");
    cJSON *q = cJSON_AddArrayToObject(b, "queries");
    for (int64_t i = 0; i < nc; i++)
      if (r.found[i]) cJSON_AddItemToArray(q, cJSON_CreateNumber((double)r.queries[i]));
    cJSON_AddNumberToObject(b, "steps", (double)o.steps);
    cJSON_AddNumberToObject(b, "seed", (double)a->seed);
    cJSON_AddNumberToObject(b, "images", (double)n);
    cJSON_AddNumberToObject(b, "attacked", (double)nc);
    cJSON_AddNumberToObject(b, "misclassified_clean", (double)(n - nc));
    cJSON_AddNumberToObject(b, "init_failed", (double)r.init_failed);
    cJSON_AddNumberToObject(b, "recheck_failed", (double)r.recheck_failed);
    cJSON_AddNumberToObject(b, "queries_per_second", (double)qsum / (secs > 0 ? secs : 1e-9));
    if (!a->quiet)
      printf("boundary: %lld/%lld adversarials (%lld misclassified clean, %lld init failures, %lld re-check failures), "
             "median ||d||^2/D %.4g [%.4g, %.4g], %.0f queries/s\n", (long long)nf, (long long)nc, (long long)(n - nc),
             (long long)r.init_failed, (long long)r.recheck_failed, ci.estimate, ci.lo, ci.hi, (double)qsum / secs);
  }
  sr_boundary_result_free(&r);
  sr_free(pred), sr_free(lab), sr_free(xc), sr_free(norms), sr_free(delta);
  return st;
}

static sr_status attack(const char *run, const attack_args *a, cJSON *out, sr_err *err) {
  target t = {0}, src = {0};
  sr_dataset ds = {0};
  float *x = NULL;
  int32_t *y = NULL, *pred = NULL;
  sr_status st = sr_run_open(run, a->which, &t.m, &t.info, err);
  if (st) return sr_err_context(err, "%s", run);
  t.open = 1;
  st = sr_dataset_load(a->data ? a->data : t.info.data, a->split, &ds, err);
  if (!st) st = sr_amodel_init(&t.am, &t.m, ds.c, t.info.gray, t.info.mean, t.info.scale, a->batch, err);
  if (!st) t.wrapped = 1;
  if (!st && (ds.h != t.m.cfg.in_h || ds.w != t.m.cfg.in_w))
    st = sr_fail(err, SR_ERR_SHAPE, "%s images are %dx%d, the model takes %dx%d", ds.name, ds.h, ds.w, t.m.cfg.in_h, t.m.cfg.in_w);
  int64_t n = a->images < ds.n ? a->images : ds.n, d = (int64_t)ds.c * ds.h * ds.w;
  if (!st && !strcmp(a->attack, "transfer")) {
    if (!a->source) st = sr_fail(err, SR_ERR_ARG, "--attack transfer needs --source RUN (the model to craft on)");
    else st = open_target(a->source, a, ds.c, &src, err);
  }
  if (!st) {
    x = sr_alloc((size_t)n * (size_t)d * sizeof(float));
    y = sr_alloc((size_t)n * sizeof(int32_t)), pred = sr_alloc((size_t)n * sizeof(int32_t));
    if (!x || !y || !pred) st = sr_fail(err, SR_ERR_NOMEM, "%lld images", (long long)n);
  }
  for (int64_t i = 0; i < n * d && !st; i++) x[i] = ds.images[i] / 255.0f;
  for (int64_t i = 0; i < n && !st; i++) y[i] = ds.labels[i];
  if (!st) st = sr_amodel_predict(&t.am, x, n, pred, NULL, err);
  if (!st) {
    int64_t ok = 0;
    for (int64_t i = 0; i < n; i++) ok += pred[i] == y[i];
    cJSON_AddNumberToObject(out, "clean_accuracy", (double)ok / (double)n);
    cJSON_AddNumberToObject(out, "clean_images", (double)n);
  }
  // default levels: CIFAR-like (color) data gets the paper's small ranges, MNIST-like (gray) larger ones
  double lv[MAX_LEVELS];
  int nl = a->n_levels;
  int mnist_like = ds.c == 1;
  if (!st && a->levels) st = parse_levels(a->levels, lv, &nl, err);
  else if (!st && !strcmp(a->attack, "noise")) linspace(a->max_level > 0 ? a->max_level : mnist_like ? 0.5 : 0.1, nl, lv);
  else if (!st) linspace(a->max_level > 0 ? a->max_level : a->eps > 0 ? a->eps : mnist_like ? 0.1 : 0.02, nl, lv);
  if (!st) {
    if (!strcmp(a->attack, "noise")) st = run_noise(a, &t, x, y, n, lv, nl, out, err);
    else if (!strcmp(a->attack, "boundary")) st = run_boundary(run, a, &t, x, y, n, out, err);
    else st = run_gradient(a, &t, !strcmp(a->attack, "transfer") ? &src : NULL, x, y, n, lv, nl, out, err);
  }
  sr_free(x), sr_free(y), sr_free(pred);
  sr_dataset_free(&ds);
  close_target(&src);
  close_target(&t);
  return st;
}

int sr_cmd_attack(int argc, char **argv) {
  attack_args a = {.attack = NULL, .split = "test", .which = "best", .noise = "gaussian,uniform,salt_pepper",
                   .norm = "linf", .images = 1000, .batch = 128, .repeats = 1, .n_levels = 10};
  double seed = 0;
  sr_opt opts[] = {
      {"attack", SR_OPT_STRING, &a.attack, "noise | fgsm | pgd | transfer | boundary (required)", 0, 0, 0},
      {"images", SR_OPT_I64, &a.images, "first N images of the split (default 1000)", 1, 1e9, 0},
      {"data", SR_OPT_STRING, &a.data, "dataset spec (default: the run's)", 0, 0, 0},
      {"split", SR_OPT_STRING, &a.split, "train | test (default test)", 0, 0, 0},
      {"checkpoint", SR_OPT_STRING, &a.which, "best | last (default best)", 0, 0, 0},
      {"seed", SR_OPT_DOUBLE, &seed, "random seed (default 0)", 0, 9007199254740992.0, 0},
      {"batch", SR_OPT_I64, &a.batch, "images per forward pass (default 128)", 1, 65536, 0},
      {"levels", SR_OPT_STRING, &a.levels, "comma-separated noise levels / eps values", 0, 0, 0},
      {"max-level", SR_OPT_DOUBLE, &a.max_level, "levels = linspace(0, X, --n-levels) (default: 0.1 color / 0.5 gray "
                                                 "for noise, 0.02 color / 0.1 gray for eps)", 0, 1e6, 0},
      {"n-levels", SR_OPT_INT, &a.n_levels, "number of levels (default 10)", 1, MAX_LEVELS, 0},
      {"noise", SR_OPT_STRING, &a.noise, "noise kinds (default gaussian,uniform,salt_pepper)", 0, 0, 0},
      {"repeats", SR_OPT_INT, &a.repeats, "noise draws per image and level (default 1)", 1, 1000, 0},
      {"norm", SR_OPT_STRING, &a.norm, "linf | l2 (fgsm, pgd, transfer; default linf)", 0, 0, 0},
      {"eps", SR_OPT_DOUBLE, &a.eps, "largest eps of the sweep (same as --max-level)", 0, 1e6, 0},
      {"steps", SR_OPT_I64, &a.steps, "PGD steps (default 40 linf / 50 l2; transfer: 1 = FGSM, the default) or "
                                      "Boundary steps (default 5000)", 0, 1e9, 0},
      {"step-size", SR_OPT_DOUBLE, &a.step_size, "PGD step relative to eps (default 2.5/steps)", 0, 1e6, 0},
      {"no-random-start", SR_OPT_FLAG, &a.no_random_start, "PGD starts at the clean image", 0, 0, 0},
      {"source", SR_OPT_STRING, &a.source, "transfer: run whose gradients craft the adversarials", 0, 0, 0},
      {"quiet", SR_OPT_FLAG, &a.quiet, "no progress output", 0, 0, 0},
      {0},
  };
  const char *pos[1];
  int npos;
  int rc = sr_cli_parse("attack", "--attack KIND [options] RUN", opts, argc, argv, 2, pos, 1, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  a.seed = (uint64_t)seed;
  if (npos != 1) {
    fprintf(stderr, "simreg attack: give one run directory (see simreg attack --help)\n");
    return SR_EXIT_USAGE;
  }
  const char *kinds[] = {"noise", "fgsm", "pgd", "transfer", "boundary"};
  int known = 0;
  for (int i = 0; i < 5; i++) known |= a.attack && !strcmp(a.attack, kinds[i]);
  if (!known) {
    fprintf(stderr, "simreg attack: --attack must be noise, fgsm, pgd, transfer or boundary%s%s%s\n",
            a.attack ? ", not '" : "", a.attack ? a.attack : "", a.attack ? "'" : "");
    return SR_EXIT_USAGE;
  }
  if (strcmp(a.norm, "linf") && strcmp(a.norm, "l2")) {
    fprintf(stderr, "simreg attack: --norm must be linf or l2, not '%s'\n", a.norm);
    return SR_EXIT_USAGE;
  }
  if (strcmp(a.which, "best") && strcmp(a.which, "last")) {
    fprintf(stderr, "simreg attack: --checkpoint must be best or last, not '%s'\n", a.which);
    return SR_EXIT_USAGE;
  }
  if (a.source && strcmp(a.attack, "transfer")) {
    fprintf(stderr, "simreg attack: --source only applies to --attack transfer\n");
    return SR_EXIT_USAGE;
  }
  if (!strcmp(a.attack, "transfer") && !sr_cli_seen(opts, "steps")) a.steps = 1;
  sr_err err = {0};
  cJSON *out = cJSON_CreateObject();
  sr_status st = attack(pos[0], &a, out, &err);
  if (st) {
    cJSON_Delete(out);
    return sr_cli_fail("attack", &err);
  }
  if ((st = sr_robustness_merge(pos[0], out, &err))) return sr_cli_fail("attack", &err);
  if (!a.quiet) fprintf(stderr, "results merged into %s/robustness.json\n", pos[0]);
  return 0;
}
