// simreg robustness --suite paper RUN...: the paper's robustness protocol on every run (noise sweeps,
// transferred FGSM from --source, Boundary minimal perturbations over images x repeats), each run's results
// merged into RUN/robustness.json as `simreg attack` does, and all of them in one combined file.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "attack_run.h"
#include "cli.h"

#define MAX_RUNS 256

#define MAX_MINIMAL 4

typedef struct suite {
  sr_rob_opts a;
  int quiet;
  const char *source, *out, *minimal, *minimal_eps;
  int64_t boundary_steps, wb_steps, masking_images;
  const char *names[MAX_MINIMAL];  // --minimal parsed
  char names_buf[64];
  int k;
  double eps[SR_ROB_MAX_LEVELS];
  int n_eps;  // 0: the default grid
} suite;

// --minimal LIST: boundary, hsj, fmn, ddn, each at most once.
static int parse_minimal(suite *s) {
  if (strlen(s->minimal) >= sizeof s->names_buf) return 0;
  snprintf(s->names_buf, sizeof s->names_buf, "%s", s->minimal);
  s->k = 0;
  char *save = NULL;
  for (char *t = strtok_r(s->names_buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    int known = !strcmp(t, "boundary") || !strcmp(t, "hsj") || !strcmp(t, "fmn") || !strcmp(t, "ddn");
    for (int j = 0; j < s->k; j++) known &= strcmp(s->names[j], t) != 0;
    if (!known || s->k >= MAX_MINIMAL) return 0;
    s->names[s->k] = t;
    s->k++;
  }
  return s->k > 0;
}

// --minimal-eps LIST: non-negative numbers.
static int parse_eps(suite *s) {
  s->n_eps = 0;
  const char *p = s->minimal_eps;
  while (p && *p) {
    char *end;
    double v = strtod(p, &end);
    if (end == p || !isfinite(v) || v < 0 || s->n_eps >= SR_ROB_MAX_LEVELS) return 0;
    s->eps[s->n_eps] = v;
    s->n_eps++;
    if (*end && *end != ',') return 0;
    p = *end ? end + 1 : end;
  }
  return !s->minimal_eps || s->n_eps > 0;
}

// The minimal-perturbation attacks of --minimal on the first correctly classified images, then (two or more)
// the per-image minimum over them.
static sr_status run_minimal(const suite *s, sr_rob_run *r, cJSON *patch, sr_err *err) {
  sr_status st = SR_OK;
  for (int j = 0; j < s->k && !st; j++) {
    sr_rob_opts a = s->a;
    a.attack = s->names[j];
    a.first_correct = 1;
    a.norm = "l2";
    int wb = !strcmp(a.attack, "fmn") || !strcmp(a.attack, "ddn");
    a.steps = wb ? s->wb_steps : s->boundary_steps;
    st = wb ? sr_rob_wbmin(&a, r, patch, err) : sr_rob_minpert(&a, r, patch, err);
    if (!st && wb)
      atk_print_wbmin(&a, patch, s->quiet);
    else if (!st)
      atk_print_minpert(&a, patch, s->quiet);
  }
  if (!st && s->k > 1 && sr_dist_rank(s->a.dist) == 0) {
    st = sr_rob_minimal(s->names, s->k, s->n_eps ? s->eps : NULL, s->n_eps, patch, err);
    if (!st && !s->quiet) atk_print_minimal(patch);
  }
  return st;
}

static int is_run(const char *dir) {
  char path[4096];
  struct stat sb;
  snprintf(path, sizeof path, "%s/config.json", dir);
  return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && stat(path, &sb) == 0;
}

// The protocol on one run; its robustness.json patch goes to *patch (owned by the caller).
static sr_status one_run(const suite *s, const char *dir, int k, int nruns, cJSON *patch, cJSON *notes,
                         sr_err *err) {
  sr_rob_opts a = s->a;
  sr_rob_run r;
  sr_rob_target src = {0};
  double t0 = sr_now();
  if (!s->quiet) fprintf(stderr, "[%d/%d] %s\n", k + 1, nruns, dir);
  sr_status st = sr_rob_open(dir, &a, &r, patch, err);
  double lv[SR_ROB_MAX_LEVELS];
  int nl = 0;
  a.attack = "noise";
  if (!st) st = sr_rob_levels(&a, &r, 1, lv, &nl, err);
  if (!st) st = sr_rob_noise(&a, &r, lv, nl, patch, err);
  if (!st && !s->quiet) atk_print_noise(&a, patch);
  if (!st && s->source) {
    a.attack = "transfer";
    a.source = s->source;
    a.steps = 1;
    a.norm = "linf";
    st = sr_rob_open_target(s->source, &a, r.ds.c, &src, err);
    if (!st) st = sr_rob_levels(&a, &r, 0, lv, &nl, err);
    if (!st) st = sr_rob_gradient(&a, &r, &src, lv, nl, patch, err);
    if (!s->quiet) atk_print_gradient(&a, 1, patch);
  } else if (!st) {
    char note[4200];
    snprintf(note, sizeof note, "%s: transferred FGSM skipped (no --source RUN given)", dir);
    cJSON_AddItemToArray(notes, cJSON_CreateString(note));
    if (!s->quiet) fprintf(stderr, "transfer: skipped, no --source RUN given\n");
  }
  if (!st) st = run_minimal(s, &r, patch, err);
  if (!st && s->masking_images > 0) {
    int64_t n = s->masking_images < s->a.images ? s->masking_images : s->a.images;
    st = sr_rob_masking(&s->a, &r, n, patch, err);
    if (!st && !s->quiet) atk_print_masking(patch);
  }
  if (!st && !s->quiet) fprintf(stderr, "[%d/%d] %s done in %.0f s\n", k + 1, nruns, dir, sr_now() - t0);
  if (!st && sr_dist_rank(a.dist) == 0) {  // what the plans measured, for the machine's next commands
    sr_cli_conv_cache_save("robustness", a.conv_cache, &r.t.m);
    if (src.open) sr_cli_conv_cache_save("robustness", a.conv_cache, &src.m);
  }
  sr_rob_close_target(&src);
  sr_rob_close(&r);
  return st ? sr_err_context(err, "%s", dir) : SR_OK;
}

static sr_status write_combined(const suite *s, cJSON *runs, cJSON *notes, const char *status, sr_err *err) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "suite", "paper");
  cJSON_AddStringToObject(j, "status", status);
  cJSON *set = cJSON_AddObjectToObject(j, "settings");
  cJSON_AddNumberToObject(set, "images", (double)s->a.images);
  cJSON_AddNumberToObject(set, "repeats", s->a.repeats);
  cJSON_AddStringToObject(set, "minimal", s->minimal);
  cJSON_AddNumberToObject(set, "boundary_steps", (double)s->boundary_steps);
  cJSON_AddNumberToObject(set, "white_box_steps", (double)s->wb_steps);
  cJSON_AddNumberToObject(set, "masking_images", (double)s->masking_images);
  cJSON_AddNumberToObject(set, "hsj_iterations", s->a.iterations);
  cJSON_AddNumberToObject(set, "seed", (double)s->a.seed);
  cJSON_AddStringToObject(set, "checkpoint", s->a.which);
  cJSON_AddStringToObject(set, "split", s->a.split);
  cJSON_AddNumberToObject(set, "threads", s->a.threads);
  if (s->source)
    cJSON_AddStringToObject(set, "source", s->source);
  else
    cJSON_AddNullToObject(set, "source");
  cJSON_AddItemReferenceToObject(j, "runs", runs);
  cJSON_AddItemReferenceToObject(j, "notes", notes);
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  if (!text) return sr_fail(err, SR_ERR_NOMEM, "%s: serialising", s->out);
  sr_status st = sr_write_file_atomic(s->out, text, strlen(text), err);
  cJSON_free(text);
  return st;
}

int sr_cmd_robustness(int argc, char **argv) {
  suite s = {.a = sr_rob_opts_default(),
             .out = "robustness-suite.json",
             .boundary_steps = 5000,
             .minimal = "boundary",
             .wb_steps = 100,
             .masking_images = 100};
  s.a.repeats = 5;
  const char *name = NULL;
  double seed = 0;
  sr_cli_model mo = SR_CLI_MODEL_INIT;
  sr_opt opts[] = {
      {"suite", SR_OPT_STRING, &name, "protocol to run: paper (required)", 0, 0, 0},
      {"source", SR_OPT_STRING, &s.source,
       "run that crafts the transferred FGSM (skipped, with a note, if absent)", 0, 0, 0},
      {"images", SR_OPT_I64, &s.a.images,
       "noise / transfer: the first N test images; Boundary: the first N correctly "
       "classified ones (default 1000)",
       1, 1e9, 0},
      {"repeats", SR_OPT_INT, &s.a.repeats,
       "noise draws per image and level, Boundary runs per image (default 5)", 1, 1000, 0},
      {"boundary-steps", SR_OPT_I64, &s.boundary_steps, "Boundary attack steps (default 5000)", 1, 1e9, 0},
      {"minimal", SR_OPT_STRING, &s.minimal,
       "minimal perturbations from a list of boundary, hsj (HopSkipJump L2), fmn "
       "(FMN L2), ddn; two or more: also their per-image minimum (default boundary)",
       0, 0, 0},
      {"minimal-eps", SR_OPT_STRING, &s.minimal_eps,
       "eps of the per-image minimum's accuracy curve (default: 21 from 0 to the largest norm)", 0, 0, 0},
      {"wb-steps", SR_OPT_I64, &s.wb_steps, "FMN / DDN steps (default 100)", 1, 1e6, 0},
      {"masking-images", SR_OPT_I64, &s.masking_images,
       "gradient-masking checks on the first N correctly classified "
       "images (default 100, at most --images; 0: skipped)",
       0, 1e9, 0},
      {"iterations", SR_OPT_INT, &s.a.iterations, "HopSkipJump iterations (default 64)", 1, 100000, 0},
      {"init-evals", SR_OPT_INT, &s.a.init_evals,
       "HopSkipJump gradient-estimate queries at iteration 1 (default 100)", 1, 1e9, 0},
      {"out", SR_OPT_STRING, &s.out, "combined results file (default robustness-suite.json)", 0, 0, 0},
      {"seed", SR_OPT_DOUBLE, &seed, "random seed (default 0; Boundary repeat r uses seed + r)", 0,
       9007199254740992.0, 0},
      {"batch", SR_OPT_I64, &s.a.batch, "images per forward pass (default 128)", 1, 65536, 0},
      {"checkpoint", SR_OPT_STRING, &s.a.which, "best | last (default best)", 0, 0, 0},
      {"data", SR_OPT_STRING, &s.a.data, "dataset spec (default: each run's)", 0, 0, 0},
      {"quiet", SR_OPT_FLAG, &s.quiet, "no progress output", 0, 0, 0},
      {"threads", SR_OPT_INT, &s.a.threads,
       "OpenMP threads (default: all cores; 1 is often faster for the small batches of decision attacks)", 1,
       4096, 0},
      SR_CLI_MODEL_OPTS(mo),
      {0},
  };
  const char *runs[MAX_RUNS];
  int nruns;
  int rc = sr_cli_parse("robustness",
                        "--suite paper [options] RUN... | --model onnx:PATH --data SPEC --run-dir DIR", opts,
                        &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2}, runs, MAX_RUNS, &nruns);
  if (rc) return rc < 0 ? 0 : rc;
  s.a.seed = (uint64_t)seed;
  if (!name || strcmp(name, "paper")) {
    fprintf(stderr, "simreg robustness: --suite must be paper%s%s%s\n", name ? ", not '" : " (missing)",
            name ? name : "", name ? "'" : "");
    return SR_EXIT_USAGE;
  }
  if (!parse_minimal(&s)) {
    fprintf(stderr, "simreg robustness: --minimal must list boundary, hsj, fmn, ddn (each once), not '%s'\n",
            s.minimal);
    return SR_EXIT_USAGE;
  }
  if (!parse_eps(&s)) {
    fprintf(stderr, "simreg robustness: --minimal-eps: '%s' is not a list of up to %d non-negative numbers\n",
            s.minimal_eps, SR_ROB_MAX_LEVELS);
    return SR_EXIT_USAGE;
  }
  if (nruns < 1 && !mo.model) {
    fprintf(stderr, "simreg robustness: give at least one run directory (see simreg robustness --help)\n");
    return SR_EXIT_USAGE;
  }
  if (strcmp(s.a.which, "best") && strcmp(s.a.which, "last")) {
    fprintf(stderr, "simreg robustness: --checkpoint must be best or last, not '%s'\n", s.a.which);
    return SR_EXIT_USAGE;
  }
  // an ONNX model is imported into --run-dir first (its RUN/robustness.json gets the results)
  if ((rc = sr_cli_model_open("robustness", &mo, opts, s.a.data, "RUN/robustness.json", runs, &nruns)))
    return rc;
  // check every directory before hours of work start
  for (int k = 0; k <= nruns; k++) {
    const char *dir = k < nruns ? runs[k] : s.source;
    if (dir && !is_run(dir)) {
      fprintf(stderr, "simreg robustness: %s'%s' is not a run directory (no config.json)\n",
              k < nruns ? "" : "--source ", dir);
      return SR_EXIT_USAGE;
    }
  }
  sr_rob_threads(&s.a);
  s.a.winograd = sr_cli_winograd();
  if (!(s.a.conv_algo = sr_cli_conv_algo())) return SR_EXIT_USAGE;
  char cache[4096];
  s.a.conv_cache = sr_cli_conv_cache("robustness", s.a.conv_algo, cache, sizeof cache);
  sr_err err = {0};
  // Under mpirun every attack is sharded over the ranks (as simreg attack); rank 0 reports and writes.
  if (sr_dist_init(&s.a.dist, &err)) return sr_cli_fail("robustness", &err);
  int root = sr_dist_rank(s.a.dist) == 0;
  if (!root) s.quiet = 1;
  atk_progress bar;
  atk_progress_attach(&bar, &s.a, s.quiet);
  cJSON *all = cJSON_CreateArray(), *notes = cJSON_CreateArray();
  sr_status st = SR_OK;
  for (int k = 0; k < nruns && !st; k++) {
    cJSON *patch = cJSON_CreateObject();
    st = one_run(&s, runs[k], k, nruns, patch, notes, &err);
    if (st) {
      cJSON_Delete(patch);
      break;
    }
    if (!root) {
      cJSON_Delete(patch);
      continue;
    }
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "run", runs[k]);
    cJSON_AddItemToObject(entry, "results", cJSON_Duplicate(patch, 1));
    cJSON_AddItemToArray(all, entry);
    if ((st = sr_robustness_merge(runs[k], patch, &err))) break;
    // the combined file is rewritten after every run: a long job keeps what is done
    st = write_combined(&s, all, notes, k + 1 < nruns ? "partial" : "complete", &err);
  }
  if (st) {
    sr_err werr = {0};
    if (root && cJSON_GetArraySize(all) > 0) write_combined(&s, all, notes, "failed", &werr);
  } else if (!s.quiet) {
    fprintf(stderr, "results: %s and RUN/robustness.json of %d run(s)\n", s.out, nruns);
  }
  cJSON_Delete(all);
  cJSON_Delete(notes);
  int code = st ? sr_cli_fail("robustness", &err) : 0;
  if (st) sr_dist_abort(s.a.dist, code);  // the other ranks would wait in a collective forever
  sr_dist_finalize(s.a.dist);
  return code;
}
