// What `simreg attack` and `simreg robustness` share: a loaded run with its images, the attack runners that
// fill a robustness.json patch, and the progress line (docs/ATTACKS.md).
#ifndef SIMREG_ATTACK_RUN_H
#define SIMREG_ATTACK_RUN_H

#include <cjson/cJSON.h>

#include "simreg/attack.h"
#include "simreg/dist.h"
#include "simreg/train.h"

#define ATK_MAX_LEVELS 64

typedef struct atk_args {
  const char *attack, *data, *split, *which, *levels, *noise, *norm, *source;
  int64_t images, batch, steps, queries;
  int repeats;         // noise draws per image and level; runs of boundary / hsj (seeds seed + r)
  int n_levels, quiet, no_random_start, iterations, init_evals, max_evals;
  int first_correct;   // boundary / hsj: the first `images` correctly classified images of the split
  int threads;         // OpenMP threads, 0: the runtime's default
  double max_level, eps, step_size, p_init;
  uint64_t seed;
  sr_precision precision;  // of the attacked model and of a transfer source
  // Under mpirun: the images are shared out over the ranks in whole batches and the results gathered on
  // rank 0, which alone reports (docs/SCALING.md). NULL: one process.
  sr_dist *dist;
} atk_args;

atk_args atk_args_default(void);
// Apply a->threads (omp_set_num_threads) when > 0.
void atk_threads(const atk_args *a);

typedef struct atk_target {
  sr_model m;
  sr_run_info info;
  sr_amodel am;
  int open, wrapped;
} atk_target;

// A run under attack: the first n images of the split in pixel space, labels, the clean predictions.
typedef struct atk_run {
  const char *dir;
  atk_target t;
  sr_dataset ds;
  float *x;
  int32_t *y, *pred;
  int64_t n, d;
} atk_run;

// Opens the run and its dataset; adds clean_accuracy / clean_images to out.
sr_status atk_open(const char *dir, const atk_args *a, atk_run *r, cJSON *out, sr_err *err);
void atk_close(atk_run *r);
sr_status atk_open_target(const char *dir, const atk_args *a, int c, atk_target *t, sr_err *err);
void atk_close_target(atk_target *t);

// Default levels: noise linspace(0, 0.5 | 0.1, n), eps linspace(0, 0.1 | 0.02, n) for gray | color data.
sr_status atk_levels(const atk_args *a, const atk_run *r, int noise, double *lv, int *nl, sr_err *err);

sr_status atk_noise(const atk_args *a, atk_run *r, const double *lv, int nl, cJSON *out, sr_err *err);
// White-box (src NULL) or transferred FGSM/PGD.
sr_status atk_gradient(const atk_args *a, atk_run *r, atk_target *src, const double *lv, int nl, cJSON *out,
                       sr_err *err);
// Boundary (a->attack "boundary") or HopSkipJump ("hsj"): minimal perturbations, repeats, .npy.
sr_status atk_minpert(const atk_args *a, atk_run *r, cJSON *out, sr_err *err);
sr_status atk_square(const atk_args *a, atk_run *r, cJSON *out, sr_err *err);

// Progress on stderr: a redrawn bar on a terminal, a plain line every 20 s otherwise, nothing when quiet.
typedef struct atk_progress {
  const char *label;
  const sr_amodel *am;
  int64_t q0, total;  // total: work units (images x repeats)
  double t0, last;
  int tty, quiet, drawn;
} atk_progress;

void atk_progress_start(atk_progress *p, const char *label, const sr_amodel *am, int64_t total, int quiet);
void atk_progress_update(atk_progress *p, double done);  // done: units finished, fractional
void atk_progress_end(atk_progress *p);

#endif
