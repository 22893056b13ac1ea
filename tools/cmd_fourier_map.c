// simreg fourier-map RUN: Fourier sensitivity maps (Yin et al. 2019) of a trained run: error rate under
// x + eps * s * basis(u, v) for every frequency of the centred spectrum (docs/SPECTRAL.md).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attack_run.h"
#include "cli.h"
#include "fourier_map.h"

static const char CMD[] = "fourier-map";

static int usage_error(const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "simreg fourier-map: ");
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  return SR_EXIT_USAGE;
}

// "4" or "2,4,8": each > 0 and finite, at most FMAP_MAX_EPS.
static int parse_eps(const char *s, double *v, int *n) {
  *n = 0;
  for (const char *p = s; *p;) {
    char *end;
    double e = strtod(p, &end);
    if (end == p || (*end && *end != ',') || !isfinite(e) || e <= 0 || *n >= FMAP_MAX_EPS)
      return usage_error("--eps: '%s' is not a list of up to 16 numbers > 0%s", s, "");
    v[(*n)++] = e;
    p = *end ? end + 1 : end;
  }
  return *n ? 0 : usage_error("--eps: empty list%s%s", "", "");
}

static int is_run(const char *dir) {
  char path[4096];
  struct stat sb;
  snprintf(path, sizeof path, "%s/config.json", dir);
  return stat(path, &sb) == 0;
}

static void on_progress(void *ctx, double done) { atk_progress_update(ctx, done); }

// Each rank runs its shard of the (map, cell) jobs; rank 0 gathers every row of err.
static sr_status compute(const sr_rob_opts *a, int quiet, sr_rob_run *r, fmap_result *res, uint8_t *err,
                         sr_err *e) {
  int64_t jobs = res->n_maps * res->cells->n, lo, hi;
  sr_dist_shard(jobs, sr_dist_rank(a->dist), sr_dist_size(a->dist), &lo, &hi);
  atk_progress p;
  atk_progress_start(&p, CMD, &r->t.am, (hi - lo) * r->n, quiet);
  sr_fmap_opts o = res->o;
  o.job_lo = lo;
  o.job_hi = hi;
  o.on_progress = on_progress;
  o.ctx = &p;
  sr_status st = hi > lo ? sr_fourier_errors(&r->t.am, &(sr_labeled){.x = r->x, .y = r->y, .n = r->n},
                                             res->cells, &o, err, e)
                         : SR_OK;
  atk_progress_end(&p);
  if (!st && sr_dist_size(a->dist) > 1) {
    uint8_t *mine = sr_alloc((size_t)((hi > lo ? hi - lo : 1) * r->n));
    if (!mine) return sr_fail(e, SR_ERR_NOMEM, "Fourier map shard");
    memcpy(mine, err + lo * r->n, (size_t)((hi - lo) * r->n));
    st = sr_dist_gather_items(a->dist, mine, jobs, (size_t)r->n, err, e);
    sr_free(mine);
  }
  return st;
}

static sr_status run_map(const sr_rob_opts *a, int quiet, const char *dir, fmap_result *res, sr_err *e) {
  sr_rob_run r;
  cJSON *clean = cJSON_CreateObject();
  sr_status st = sr_rob_open(dir, a, &r, clean, e);
  cJSON_Delete(clean);
  if (!st && a->images > r.ds.n)
    st = sr_fail(e, SR_ERR_ARG, "--images %lld: the %s split of %s has only %lld images",
                 (long long)a->images, a->split, r.ds.name, (long long)r.ds.n);
  sr_fourier_cells cells = {0};
  uint8_t *err = NULL;
  if (!st) st = sr_fourier_cells_init(&cells, r.ds.h, r.ds.w, e);
  if (!st) {
    res->n = r.n;
    res->h = r.ds.h;
    res->w = r.ds.w;
    res->c = r.ds.c;
    res->dataset = r.ds.name;
    res->cells = &cells;
    res->n_maps = sr_fourier_n_maps(&res->o, r.ds.c);
    err = sr_calloc((size_t)(res->n_maps * cells.n), (size_t)r.n);
    if (!err)
      st = sr_fail(e, SR_ERR_NOMEM, "Fourier map: %lld x %lld results", (long long)(res->n_maps * cells.n),
                   (long long)r.n);
  }
  int64_t wrong = 0;
  for (int64_t i = 0; !st && i < r.n; i++) wrong += r.pred[i] != r.y[i];
  res->clean_error = (double)wrong / (double)(r.n ? r.n : 1);
  double t0 = sr_now();
  if (!st) st = compute(a, quiet, &r, res, err, e);
  res->seconds = sr_now() - t0;
  res->err = err;
  if (!st && sr_dist_rank(a->dist) == 0) st = fmap_write(res, e);
  if (!st && sr_dist_rank(a->dist) == 0) sr_cli_conv_cache_save(CMD, a->conv_cache, &r.t.m);
  if (!st && !quiet)
    printf(
        "%s: %lld maps x %lld frequencies (%lld computed, Hermitian half) x %lld images in %.1f s, %.0f "
        "images/s; "
        "wrote %s/fourier_map.json\n",
        dir, (long long)res->n_maps, (long long)(res->h * res->w), (long long)cells.n, (long long)r.n,
        res->seconds, (double)(res->n_maps * cells.n * r.n) / (res->seconds > 0 ? res->seconds : 1e-9),
        res->out);
  sr_free(err);
  sr_fourier_cells_free(&cells);
  sr_rob_close(&r);
  return st;
}

int sr_cmd_fourier_map(int argc, char **argv) {
  sr_rob_opts a = sr_rob_opts_default();
  int quiet = 0;
  const char *eps_s = "4", *channels = "all", *out = NULL;
  double seed = 0;
  int64_t b = SR_BOOT_DEFAULT_B;
  fmap_result res = {0};
  sr_cli_model mo = SR_CLI_MODEL_INIT;
  sr_opt opts[] = {
      {"images", SR_OPT_I64, &a.images, "the first N images of the split (default 1000)", 1, 1e9, 0},
      {"eps", SR_OPT_STRING, &eps_s,
       "L2 size(s) of the perturbation on the [0,1] scale, E or E1,E2,... (default 4)", 0, 0, 0},
      {"random-sign", SR_OPT_FLAG, &res.o.random_sign,
       "perturb image i by s_i * eps * basis, s_i = +-1 from (seed, i)", 0, 0, 0},
      {"channels", SR_OPT_STRING, &channels, "all (one basis on every channel) | each (one map per channel)",
       0, 0, 0},
      {"o", SR_OPT_STRING, &out, "output directory (default RUN/fourier-map)", 0, 0, 0},
      {"out", SR_OPT_STRING, &out, "same as -o", 0, 0, 0},
      {"threads", SR_OPT_INT, &a.threads, "OpenMP threads (default: all cores)", 1, 4096, 0},
      {"seed", SR_OPT_DOUBLE, &seed, "seed of the signs and of the bootstrap (default 0)", 0,
       9007199254740992.0, 0},
      {"batch", SR_OPT_I64, &a.batch, "images per forward pass (default 256)", 1, 65536, 0},
      {"bootstrap", SR_OPT_I64, &b, "bootstrap resamples for the band CIs (default 2000)", 2, 1e7, 0},
      {"checkpoint", SR_OPT_STRING, &a.which, "best | last (default best)", 0, 0, 0},
      {"data", SR_OPT_STRING, &a.data, "dataset spec (default: the run's)", 0, 0, 0},
      {"quiet", SR_OPT_FLAG, &quiet, "no progress output", 0, 0, 0},
      SR_CLI_MODEL_OPTS(mo),
      {0},
  };
  a.batch = 256;
  const char *pos[1];
  int npos;
  int rc = sr_cli_parse(CMD, "RUN | --model onnx:PATH --data SPEC [options]", opts,
                        &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2}, pos, 1, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  double eps[FMAP_MAX_EPS];
  if (npos != 1 && !mo.model)
    return usage_error("give one run directory or --model onnx:PATH (see simreg fourier-map --help)%s%s", "",
                       "");
  if ((rc = parse_eps(eps_s, eps, &res.o.n_eps))) return rc;
  if (strcmp(channels, "all") && strcmp(channels, "each"))
    return usage_error("--channels must be all or each, not '%s'%s", channels, "");
  if (strcmp(a.which, "best") && strcmp(a.which, "last"))
    return usage_error("--checkpoint must be best or last, not '%s'%s", a.which, "");
  // an ONNX model: a temporary run with -o, else --run-dir (the maps go to RUN/fourier-map)
  if ((rc = sr_cli_model_open(CMD, &mo, opts, a.data, out ? NULL : "RUN/fourier-map", pos, &npos))) return rc;
  if (!is_run(pos[0])) return usage_error("'%s' is not a run directory (no %s/config.json)", pos[0], pos[0]);
  char defout[4200];
  if (!out) {
    snprintf(defout, sizeof defout, "%s/fourier-map", pos[0]);
    out = defout;
  }
  a.seed = (uint64_t)seed;
  res.o.eps = eps;
  res.o.each = !strcmp(channels, "each");
  res.o.seed = a.seed;
  res.run = mo.model ? mo.model : pos[0];
  res.checkpoint = a.which;
  res.split = a.split;
  res.out = out;
  res.b = b;
  res.threads = a.threads;
  sr_rob_threads(&a);
  a.winograd = sr_cli_winograd();
  if (!(a.conv_algo = sr_cli_conv_algo())) {
    sr_cli_model_done(&mo);
    return SR_EXIT_USAGE;
  }
  char cache[4096];
  a.conv_cache = sr_cli_conv_cache(CMD, a.conv_algo, cache, sizeof cache);
  sr_err err = {0};
  if (sr_dist_init(&a.dist, &err)) {
    sr_cli_model_done(&mo);
    return sr_cli_fail(CMD, &err);
  }
  res.ranks = sr_dist_size(a.dist);
  if (sr_dist_rank(a.dist) != 0) quiet = 1;
  sr_status st = run_map(&a, quiet, pos[0], &res, &err);
  sr_cli_model_done(&mo);
  if (st) {
    rc = sr_cli_fail(CMD, &err);
    if (sr_dist_size(a.dist) > 1) sr_dist_abort(a.dist, rc);
  }
  sr_dist_finalize(a.dist);
  return st ? rc : 0;
}
