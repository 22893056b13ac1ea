// simreg attack: noise sweeps, white-box and transferred FGSM/PGD, the Boundary attack, HopSkipJump and the
// Square attack on a trained run; results merged into RUN/robustness.json (docs/FORMATS.md, docs/ATTACKS.md).
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attack_run.h"
#include "cli.h"
#include "simreg/train.h"

// The noise levels or budgets of a sweep (sr_rob_levels).
typedef struct {
  const double *lv;
  int nl;
} atk_levels;

// The runner for a->attack; rank 0 (quiet == 0) prints its summary line.
static sr_status run_one(const sr_rob_opts *a, sr_rob_run *r, sr_rob_target *src, const atk_levels *lev,
                         cJSON *out, int quiet, sr_err *err) {
  const double *lv = lev->lv;
  const int nl = lev->nl;
  sr_status st;
  if (!strcmp(a->attack, "noise")) {
    st = sr_rob_noise(a, r, lv, nl, out, err);
    if (!st && !quiet) atk_print_noise(a, out);
  } else if (!strcmp(a->attack, "boundary") || !strcmp(a->attack, "hsj")) {
    st = sr_rob_minpert(a, r, out, err);
    if (!st) atk_print_minpert(a, out, quiet);
  } else if (!strcmp(a->attack, "fmn") || !strcmp(a->attack, "ddn")) {
    st = sr_rob_wbmin(a, r, out, err);
    if (!st) atk_print_wbmin(a, out, quiet);
  } else if (atk_is_autoattack(a->attack)) {
    st = sr_rob_autoattack(a, r, out, err);
    if (!st && !quiet) atk_print_autoattack(a, out);
  } else if (!strcmp(a->attack, "square")) {
    st = sr_rob_square(a, r, out, err);
    if (!st && !quiet) atk_print_square(a, out);
  } else {
    st = sr_rob_gradient(a, r, src, lv, nl, out, err);
    if (!quiet) atk_print_gradient(a, src != NULL, out);
  }
  return st;
}

static sr_status attack(const char *dir, const sr_rob_opts *a, cJSON *out, int quiet, sr_err *err) {
  sr_rob_run r;
  sr_rob_target src = {0};
  int transfer = !strcmp(a->attack, "transfer");
  sr_status st = sr_rob_open(dir, a, &r, out, err);
  if (!st && transfer) {
    if (!a->source)
      st = sr_fail(err, SR_ERR_ARG, "--attack transfer needs --source RUN (the model to craft on)");
    else
      st = sr_rob_open_target(a->source, a, r.ds.c, &src, err);
  }
  double lv[SR_ROB_MAX_LEVELS];
  int nl = 0;
  if (!st) st = sr_rob_levels(a, &r, !strcmp(a->attack, "noise"), lv, &nl, err);
  if (!st) st = run_one(a, &r, transfer ? &src : NULL, &(atk_levels){.lv = lv, .nl = nl}, out, quiet, err);
  if (!st && sr_dist_rank(a->dist) == 0) {  // what the plans measured, for the machine's next commands
    sr_cli_conv_cache_save("attack", a->conv_cache, &r.t.m);
    if (transfer) sr_cli_conv_cache_save("attack", a->conv_cache, &src.m);
  }
  sr_rob_close_target(&src);
  sr_rob_close(&r);
  return st;
}

// --source onnx:PATH: the transfer source imported into a temporary run, on the target's dataset (--data or
// the run's); its pixel scaling is the import's default (normalisation inside the graph).
static int open_onnx_source(sr_rob_opts *a, sr_cli_model *smo, const sr_opt *opts, const char *run) {
  sr_model m;
  sr_run_info info;
  sr_err err = {0};
  if (!a->data) {
    if (sr_run_open(run, a->which, &m, &info, &err)) return sr_cli_fail("attack", &err);
    sr_model_free(&m);
  }
  smo->model = a->source;
  a->source_label = a->source;  // robustness.json names the file, not the temporary run
  const char *p[1];
  int np = 0;
  int rc = sr_cli_model_open("attack", smo, opts, a->data ? a->data : info.data, NULL, p, &np);
  if (!rc) a->source = smo->dir;
  return rc;
}

int sr_cmd_attack(int argc, char **argv) {
  sr_rob_opts a = sr_rob_opts_default();
  int quiet = 0;
  double seed = 0;
  const char *precision = "f32";
  sr_cli_model mo = SR_CLI_MODEL_INIT;
  sr_opt opts[] = {
      {"attack", SR_OPT_STRING, &a.attack,
       "noise | fgsm | pgd | transfer | boundary | hsj | fmn | ddn | square | "
       "autoattack | apgd-ce | apgd-dlr | apgd-t | fab-t (required)",
       0, 0, 0},
      {"version", SR_OPT_STRING, &a.version,
       "autoattack: standard (APGD-CE, APGD-T, FAB-T, Square; default) | fast "
       "(APGD-CE, APGD-T with 3 targets)",
       0, 0, 0},
      {"targets", SR_OPT_INT, &a.targets, "apgd-t, fab-t: target classes (default 9; autoattack fast: 3)", 1,
       1000, 0},
      {"images", SR_OPT_I64, &a.images, "first N images of the split (default 1000)", 1, 1e9, 0},
      {"data", SR_OPT_STRING, &a.data, "dataset spec (default: the run's)", 0, 0, 0},
      {"split", SR_OPT_STRING, &a.split, "train | test (default test)", 0, 0, 0},
      {"checkpoint", SR_OPT_STRING, &a.which, "best | last (default best)", 0, 0, 0},
      {"seed", SR_OPT_DOUBLE, &seed, "random seed (default 0)", 0, 9007199254740992.0, 0},
      {"batch", SR_OPT_I64, &a.batch, "images per forward pass (default 128)", 1, 65536, 0},
      {"levels", SR_OPT_STRING, &a.levels, "comma-separated noise levels / eps values", 0, 0, 0},
      {"max-level", SR_OPT_DOUBLE, &a.max_level,
       "levels = linspace(0, X, --n-levels) (default: 0.1 color / 0.5 gray "
       "for noise, 0.02 color / 0.1 gray for eps)",
       0, 1e6, 0},
      {"n-levels", SR_OPT_INT, &a.n_levels, "number of levels (default 10)", 1, SR_ROB_MAX_LEVELS, 0},
      {"noise", SR_OPT_STRING, &a.noise, "noise kinds (default gaussian,uniform,salt_pepper)", 0, 0, 0},
      {"repeats", SR_OPT_INT, &a.repeats,
       "noise: draws per image and level; boundary/hsj: runs with seeds seed+r "
       "(default 1)",
       1, 1000, 0},
      {"norm", SR_OPT_STRING, &a.norm,
       "linf | l2 (fgsm, pgd, transfer, square: default linf; hsj: default l2)", 0, 0, 0},
      {"eps", SR_OPT_DOUBLE, &a.eps,
       "largest eps of the sweep (same as --max-level); square: the radius (default "
       "0.1 gray / 8/255 color for linf, 2 gray / 0.5 color for l2)",
       0, 1e6, 0},
      {"steps", SR_OPT_I64, &a.steps,
       "PGD steps (default 40 linf / 50 l2; transfer: 1 = FGSM, the default), "
       "Boundary steps (default 5000), apgd / fab-t iterations (default 100) or fmn / ddn steps (default "
       "100)",
       0, 1e9, 0},
      {"step-size", SR_OPT_DOUBLE, &a.step_size, "PGD step relative to eps (default 2.5/steps)", 0, 1e6, 0},
      {"no-random-start", SR_OPT_FLAG, &a.no_random_start, "PGD starts at the clean image", 0, 0, 0},
      {"source", SR_OPT_STRING, &a.source,
       "transfer: run (or onnx:PATH) whose gradients craft the adversarials", 0, 0, 0},
      {"iterations", SR_OPT_INT, &a.iterations, "hsj iterations (default 64)", 0, 100000, 0},
      {"init-evals", SR_OPT_INT, &a.init_evals,
       "hsj gradient-estimate queries at iteration 1 (default 100; "
       "init*sqrt(t) later)",
       1, 1000000, 0},
      {"max-evals", SR_OPT_INT, &a.max_evals, "hsj cap on the estimate's queries (default 10000)", 1, 1000000,
       0},
      {"queries", SR_OPT_I64, &a.queries, "square: query budget per image (default 10000)", 1, 1e9, 0},
      {"p-init", SR_OPT_DOUBLE, &a.p_init,
       "square: initial fraction of pixels per window (default 0.8 linf, 0.1 l2)", 0, 1, 0},
      {"quiet", SR_OPT_FLAG, &quiet, "no progress output", 0, 0, 0},
      {"threads", SR_OPT_INT, &a.threads,
       "OpenMP threads (default: all cores; 1 is often faster for the small batches of decision attacks)", 1,
       4096, 0},
      {"precision", SR_OPT_STRING, &precision,
       "f32 (default) or bf16 mixed precision (bf16 rounding; f32 speed on this engine)", 0, 0, 0},
      SR_CLI_MODEL_OPTS(mo),
      {0},
  };
  const char *pos[1];
  int npos;
  int rc = sr_cli_parse("attack", "--attack KIND [options] RUN | --model onnx:PATH --data SPEC --run-dir DIR",
                        opts, &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2}, pos, 1, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  a.seed = (uint64_t)seed;
  if (npos != 1 && !mo.model) {
    fprintf(stderr,
            "simreg attack: give one run directory or --model onnx:PATH (see simreg attack --help)\n");
    return SR_EXIT_USAGE;
  }
  const char *kinds[] = {"noise", "fgsm", "pgd", "transfer", "boundary", "hsj", "square", "fmn", "ddn"};
  int known = a.attack && atk_is_autoattack(a.attack);
  for (int i = 0; i < 9; i++) known |= a.attack && !strcmp(a.attack, kinds[i]);
  if (!known) {
    fprintf(stderr,
            "simreg attack: --attack must be noise, fgsm, pgd, transfer, boundary, hsj, fmn, ddn, square, "
            "autoattack, apgd-ce, apgd-dlr, apgd-t or fab-t%s%s%s\n",
            a.attack ? ", not '" : "", a.attack ? a.attack : "", a.attack ? "'" : "");
    return SR_EXIT_USAGE;
  }
  int rc_aa = atk_check_autoattack(&a, sr_cli_seen(opts, "eps"), sr_cli_seen(opts, "queries"));
  if (rc_aa) return rc_aa;
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
  if (a.max_evals < a.init_evals) {
    fprintf(stderr, "simreg attack: --max-evals %d is below --init-evals %d\n", a.max_evals, a.init_evals);
    return SR_EXIT_USAGE;
  }
  if (sr_cli_seen(opts, "steps") && a.steps < 1) {  // 0 is "the attack's default" only when not given
    fprintf(stderr, "simreg attack: --steps must be >= 1, not %lld\n", (long long)a.steps);
    return SR_EXIT_USAGE;
  }
  if (!strcmp(a.attack, "transfer") && !sr_cli_seen(opts, "steps")) a.steps = 1;
  if (!strcmp(a.attack, "hsj") && !sr_cli_seen(opts, "norm")) a.norm = "l2";  // the paper's main setting
  if ((!strcmp(a.attack, "fmn") || !strcmp(a.attack, "ddn")) && !sr_cli_seen(opts, "norm")) a.norm = "l2";
  if (!strcmp(a.attack, "ddn") && strcmp(a.norm, "l2")) {
    fprintf(stderr, "simreg attack: --norm: ddn is an L2 attack, not '%s'\n", a.norm);
    return SR_EXIT_USAGE;
  }
  sr_rob_threads(&a);
  a.winograd = sr_cli_winograd();
  if (!(a.conv_algo = sr_cli_conv_algo())) return SR_EXIT_USAGE;
  char cache[4096];
  a.conv_cache = sr_cli_conv_cache("attack", a.conv_algo, cache, sizeof cache);
  sr_err err = {0};
  if (sr_precision_parse(precision, &a.precision, &err)) return sr_cli_fail("attack", &err);
  // an ONNX model is imported into --run-dir first: the results are merged into its robustness.json
  if ((rc = sr_cli_model_open("attack", &mo, opts, a.data, "RUN/robustness.json", pos, &npos))) return rc;
  sr_cli_model smo = SR_CLI_MODEL_INIT;
  if (a.source && !strncmp(a.source, "onnx:", 5) && (rc = open_onnx_source(&a, &smo, opts, pos[0])))
    return rc;
  // Under mpirun the images are shared out over the ranks; rank 0 reports and writes (docs/SCALING.md).
  if (sr_dist_init(&a.dist, &err)) {
    sr_cli_model_done(&smo);
    return sr_cli_fail("attack", &err);
  }
  int root = sr_dist_rank(a.dist) == 0;
  if (!root) quiet = 1;
  atk_progress bar;
  atk_progress_attach(&bar, &a, quiet);
  cJSON *out = cJSON_CreateObject();
  sr_status st = out ? attack(pos[0], &a, out, quiet, &err) : sr_fail(&err, SR_ERR_NOMEM, "results object");
  if (!st && root)
    st = sr_robustness_merge(pos[0], out, &err);  // takes out
  else
    cJSON_Delete(out);
  sr_cli_model_done(&smo);
  if (st) {
    int rc = sr_cli_fail("attack", &err);
    sr_dist_abort(a.dist, rc);  // the other ranks would wait in a collective forever
    sr_dist_finalize(a.dist);
    return rc;
  }
  if (!quiet) fprintf(stderr, "results merged into %s/robustness.json\n", pos[0]);
  sr_dist_finalize(a.dist);
  return 0;
}
