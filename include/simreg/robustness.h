// The robustness protocol on a trained run: load it with its images, run noise sweeps, white-box or
// transferred FGSM/PGD, the minimal-perturbation attacks (Boundary, HopSkipJump) and Square, sharded over MPI
// ranks in whole batches and gathered on rank 0, each filling its part of a RUN/robustness.json patch
// (docs/FORMATS.md, docs/ATTACKS.md). The library prints nothing: progress goes to a callback, results into
// the patch; `simreg attack` and `simreg robustness` render both.
#ifndef SIMREG_ROBUSTNESS_H
#define SIMREG_ROBUSTNESS_H

#include <stdint.h>

#include "simreg/attack.h"
#include "simreg/data.h"
#include "simreg/dist.h"
#include "simreg/train.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SR_ROB_MAX_LEVELS 64

typedef enum sr_rob_phase { SR_ROB_START, SR_ROB_UPDATE, SR_ROB_END } sr_rob_phase;

// Where a runner stands: `done` of `total` work units (images x repeats, fractional), the queries its model
// answered since the start and the seconds spent.
typedef struct sr_rob_progress {
  sr_rob_phase phase;
  const char *label;
  double done;
  int64_t total;
  int64_t queries;
  double seconds;
} sr_rob_progress;

typedef struct sr_rob_opts {
  const char *attack, *data, *split, *which, *levels, *noise, *norm, *source;
  int64_t images, batch, steps, queries;
  int repeats;  // noise draws per image and level; runs of boundary / hsj (seeds seed + r)
  int n_levels, no_random_start, iterations, init_evals, max_evals;
  int first_correct;  // boundary / hsj: the first `images` correctly classified images of the split
  int threads;        // OpenMP threads, 0: the runtime's default
  double max_level, eps, step_size, p_init;
  uint64_t seed;
  const char *version;       // autoattack: standard (default) | fast
  int targets;               // apgd-t / fab-t target classes (0: 9; autoattack fast: 3)
  sr_precision precision;    // of the attacked model and of a transfer source
  int winograd;              // sr_model_set_winograd for every model opened (sr_wino_native() by default)
  const char *conv_algo;     // then sr_model_set_conv_algo (NULL: the winograd field alone)
  const char *conv_cache;    // then the machine's choice cache (sr_conv_cache_load; NULL: none)
  const char *source_label;  // what robustness.json records as the transfer source (NULL: source)
  // Under mpirun: the images are shared out over the ranks in whole batches and the results gathered on
  // rank 0, which alone fills the patch (docs/SCALING.md). NULL: one process.
  sr_dist *dist;
  void (*on_progress)(void *ctx, const sr_rob_progress *p);  // may be NULL; called on every rank
  void *progress_ctx;
} sr_rob_opts;

sr_rob_opts sr_rob_opts_default(void);
// Apply o->threads (omp_set_num_threads) when > 0.
void sr_rob_threads(const sr_rob_opts *o);

typedef struct sr_rob_target {
  sr_model m;
  sr_run_info info;
  sr_amodel am;
  int open, wrapped;
} sr_rob_target;

// A run under attack: the first n images of the split in pixel space, labels, the clean predictions.
typedef struct sr_rob_run {
  const char *dir;
  sr_rob_target t;
  sr_dataset ds;
  float *x;
  int32_t *y, *pred;
  int64_t n, d;
} sr_rob_run;

struct cJSON;
// Opens the run and its dataset, predicts the clean images; adds clean_accuracy, clean_images and
// clean_correct to out.
sr_status sr_rob_open(const char *dir, const sr_rob_opts *o, sr_rob_run *r, struct cJSON *out, sr_err *err);
void sr_rob_close(sr_rob_run *r);
// A second model (a transfer source) for images of c channels.
sr_status sr_rob_open_target(const char *dir, const sr_rob_opts *o, int c, sr_rob_target *t, sr_err *err);
void sr_rob_close_target(sr_rob_target *t);

// o->levels parsed, or the defaults: noise linspace(0, 0.5 | 0.1, n), eps linspace(0, 0.1 | 0.02, n) for
// gray | color data. lv: SR_ROB_MAX_LEVELS values.
sr_status sr_rob_levels(const sr_rob_opts *o, const sr_rob_run *r, int noise, double *lv, int *nl,
                        sr_err *err);

// out.noise.<kind> for each kind of o->noise.
sr_status sr_rob_noise(const sr_rob_opts *o, sr_rob_run *r, const double *lv, int nl, struct cJSON *out,
                       sr_err *err);
// White-box (src NULL: out.white_box) or transferred (out.transfer) FGSM/PGD.
sr_status sr_rob_gradient(const sr_rob_opts *o, sr_rob_run *r, sr_rob_target *src, const double *lv, int nl,
                          struct cJSON *out, sr_err *err);
// Boundary (o->attack "boundary": out.boundary) or HopSkipJump ("hsj": out.attacks.hsj_l2 / hsj_linf):
// minimal perturbations over images x repeats, RUN/<name>_delta.npy.
sr_status sr_rob_minpert(const sr_rob_opts *o, sr_rob_run *r, struct cJSON *out, sr_err *err);
// FMN (o->attack "fmn", o->norm l2 | linf: out.attacks.fmn_l2 / fmn_linf) or DDN ("ddn": out.attacks.ddn_l2):
// minimal perturbations of the correctly classified images by white-box gradients, RUN/<name>_delta.npy.
sr_status sr_rob_wbmin(const sr_rob_opts *o, sr_rob_run *r, struct cJSON *out, sr_err *err);
// Square (out.attacks.square_linf / square_l2): success rate and queries within a budget.
sr_status sr_rob_square(const sr_rob_opts *o, sr_rob_run *r, struct cJSON *out, sr_err *err);

// ---- the per-image minimum over minimal-perturbation attacks ----------------------------------------------
// norms: (k, n) the verified ||delta||_2 of attack a on image i, row a * n + i (NaN or infinity: none found).
// min[i]: the smallest over the k attacks (INFINITY when none), argmin[i]: that attack (-1 when none; the
// first attack on ties).
void sr_min_over_attacks(const double *norms, int k, int64_t n, double *min, int *argmin);
// Robust accuracy at each eps from per-image minimal norms, as Foolbox's epsilons=[...] counts it: an
// attacked image is broken at eps when min <= eps; acc = (attacked images not broken) / total, total >= n
// counting the clean-misclassified images (never robust).
void sr_min_curve(const double *min, int64_t n, int64_t total, const double *eps, int n_eps, double *acc);
// out.minimal from the results of the attacks `names` (boundary, hsj, fmn, ddn; all L2) already in patch: per
// image (over repeats and attacks) the smallest norm and the attack that gave it, the counts per attack, the
// median, and the curve at eps (n_eps values; NULL: 21 points from 0 to the largest minimal norm).
sr_status sr_rob_minimal(const char *const *names, int k, const double *eps, int n_eps, struct cJSON *patch,
                         sr_err *err);

// ---- gradient-masking flags (after AutoAttack's checks)
// ---------------------------------------------------- What the flags are decided on; NaN (or n = 0) where
// not measured.
typedef struct sr_masking_in {
  // (a) black box beats white box: per-image minimal L2 norms of the best black-box attack (Boundary,
  // HopSkipJump) and the best white-box one (FMN, DDN) on the same n_min images (NaN / infinity: none) ...
  const double *bb_min, *wb_min;
  int64_t n_min;
  // ... or the success rates of Square and PGD at the same eps
  double square_success, pgd_success;
  // (b) PGD's robust accuracy at a large eps (eps_large)
  double acc_large, eps_large;
  // (c) PGD's robust accuracy with the default settings and with more steps and restarts, at eps_pgd
  double acc_default, acc_strong, eps_pgd;
  // (d) images whose input gradient (cross-entropy at the clean image) is zero or not finite, of n_grad
  int64_t zero_grad, n_grad;
} sr_masking_in;

sr_masking_in sr_masking_in_none(void);

enum { SR_MASK_BLACK_BOX, SR_MASK_LARGE_EPS, SR_MASK_STRONGER_PGD, SR_MASK_ZERO_GRAD, SR_MASK_COUNT };

// One flag: measured, fired, the value and threshold it was decided on, the rule and the numbers as text.
typedef struct sr_masking_flag {
  const char
      *name;  // black_box_beats_white_box | accuracy_at_large_eps | stronger_pgd_finds_more | zero_gradients
  int measured, fired;
  double value, threshold;
  char rule[200];
  char numbers[200];
} sr_masking_flag;

// The thresholds: (a) black box >= 10% smaller on more than 10% of the images both found, or Square's success
// rate above PGD's by more than 2 points; (b) accuracy above 1% at the large eps; (c) the stronger PGD lowers
// accuracy by more than 3 points; (d) more than 1% of the images.
#define SR_MASK_BB_RATIO      0.9
#define SR_MASK_BB_SHARE      0.10
#define SR_MASK_SQUARE_MARGIN 0.02
#define SR_MASK_LARGE_ACC     0.01
#define SR_MASK_STRONG_DROP   0.03
#define SR_MASK_ZERO_SHARE    0.01
void sr_masking_flags(const sr_masking_in *in, sr_masking_flag out[SR_MASK_COUNT]);
// The flags as out.masking {flags: [...], any_fired, measured}.
void sr_masking_json(const sr_masking_flag f[SR_MASK_COUNT], struct cJSON *out);

// The checks on a run: (d) the clean images' input gradients, (b) PGD L-inf at eps 1 (steps: 10), (c) PGD
// L-inf at o->eps (default 0.1 gray / 8/255 color) with the default 40 steps vs 4x the steps and 3 restarts,
// on the first `images` correctly classified images; (a) from out.minimal (per-image black- vs white-box) or
// out.attacks.square_linf and out.white_box.pgd at the same eps when present. Fills out.masking.
sr_status sr_rob_masking(const sr_rob_opts *o, sr_rob_run *r, int64_t images, struct cJSON *out, sr_err *err);

// AutoAttack (o->attack "autoattack", o->version standard | fast) or one of its attacks alone ("apgd-ce",
// "apgd-dlr", "apgd-t", "fab-t"), o->norm, o->eps (<= 0: 0.1 gray / 8/255 color for linf, 2 / 0.5 for l2),
// o->steps > 0: APGD / FAB iterations (default 100), o->queries: Square's budget (the CLI passes 5000):
// out.attacks.autoattack_<norm> or out.attacks.<attack>_<norm> with robust accuracy after each attack and per
// image the attack that broke it.
sr_status sr_rob_autoattack(const sr_rob_opts *o, sr_rob_run *r, struct cJSON *out, sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
