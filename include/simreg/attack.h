// Robustness evaluation: a query-counting model wrapper in pixel space, noise sweeps, FGSM/PGD (white-box
// and transferred) and the Boundary attack (Foolbox 3 behaviour). See docs/ATTACKS.md.
//
// Pixel space: images (N, C, H, W) float in [0,1] with the dataset's channels. The wrapper applies the run's
// input normalisation (gray = channel mean when the run is gray, x' = (x - mean) * scale) itself, so every
// attack and every distance lives on the [0,1] scale. Randomness: per image, from (seed, image index), so
// results do not depend on the batch size.
#ifndef SIMREG_ATTACK_H
#define SIMREG_ATTACK_H

#include <stdint.h>

#include "simreg/model.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- the model wrapper ---------------------------------------------------------------------------------
typedef struct sr_amodel {
  sr_model *m;  // not owned
  int c, h, w;  // pixel-space image shape (dataset channels)
  int mc;       // model input channels (1 when gray)
  int gray;
  float mean, scale;
  int classes;
  int64_t d;          // c*h*w
  int64_t batch;      // largest tape; larger calls are split, smaller ones run on a tape of the next power
                      // of two (zero padding, never counted)
  float *xin, *dxin;  // (batch, mc, h, w) normalised input and its gradient
  float *logits, *dlogits;  // (batch, classes)
  int64_t queries;          // forward passes, images (gradient calls included)
  int64_t gradients;        // input-gradient computations, images
  double seconds;  // wall time inside the model (forward, backward): the rest of an attack is bookkeeping
} sr_amodel;

// How pixel-space images ([0,1], c channels) become the model's input: averaged over channels when gray,
// then (x - mean) * scale. c must equal m's input channels, or be any count when gray and m takes 1.
typedef struct sr_pixel_map {
  int c;
  int gray;
  double mean, scale;
} sr_pixel_map;

// Images with their labels: x (n, c, h, w) in pixel space, y (n).
typedef struct sr_labeled {
  const float *x;
  const int32_t *y;
  int64_t n;
} sr_labeled;

// m must be in eval-ready state (loaded weights) and outlive the wrapper.
sr_status sr_amodel_init(sr_amodel *am, sr_model *m, sr_pixel_map px, int64_t batch, sr_err *err);
void sr_amodel_free(sr_amodel *am);
// x: (n, c, h, w) in pixel space -> logits (n, classes), eval mode. counts (n, may be NULL): += 1 per image.
sr_status sr_amodel_logits(sr_amodel *am, const float *x, int64_t n, float *logits, int64_t *counts,
                           sr_err *err);
// Argmax class per image (first maximum on ties).
sr_status sr_amodel_predict(sr_amodel *am, const float *x, int64_t n, int32_t *pred, int64_t *counts,
                            sr_err *err);
// What a gradient call returns: g (n, c, h, w), dLoss/dx in pixel space (required); the logits (n, classes)
// of x and counts (n, += 1 per image) may be NULL.
typedef struct sr_grad_out {
  float *g;
  float *logits;
  int64_t *counts;
} sr_grad_out;
// Gradient of the summed cross-entropy of the labels. One query per image.
sr_status sr_amodel_grad_ce(sr_amodel *am, const sr_labeled *in, const sr_grad_out *out, sr_err *err);
// A loss of the logits, given by its gradient: for each chunk of k <= am->batch images starting at image
// `first`, fn gets their logits (k, classes) and writes dLoss/dlogits (k, classes) (zeroed before the call).
typedef sr_status (*sr_dlogits_fn)(void *ctx, const float *logits, int64_t first, int64_t k, int classes,
                                   float *dlogits, sr_err *err);
typedef struct sr_loss {
  sr_dlogits_fn fn;
  void *ctx;
} sr_loss;
// Gradient of any loss of the logits of x (n, c, h, w). One query per image.
sr_status sr_amodel_grad(sr_amodel *am, const float *x, int64_t n, const sr_loss *loss,
                         const sr_grad_out *out, sr_err *err);

// ---- noise sweeps ----------------------------------------------------------------------------------------
typedef enum sr_noise_kind {
  SR_NOISE_GAUSSIAN,
  SR_NOISE_UNIFORM,
  SR_NOISE_SALT_PEPPER,
  SR_NOISE_COUNT
} sr_noise_kind;
const char *sr_noise_name(sr_noise_kind k);  // "gaussian", "uniform", "salt_pepper"
int sr_noise_parse(const char *name);        // -1 when unknown

// Add noise of strength `level` to one image (c*h*w values in [0,1]) in place, then clamp to the clean
// image's own [min, max]. gaussian: sigma; uniform: +-level; salt_pepper: probability per pixel position
// (all channels together) of becoming the image's max (half) or min (half).
void sr_noise_apply(sr_noise_kind k, double level, float *img, int c, int64_t hw, sr_rng *rng);

// Labelled images: x (n, c, h, w) in pixel space [0,1], y (n) their labels.

// A noise sweep: levels of one kind, `repeats` draws per image and level. Image i, level l, repeat r draws
// from an RNG keyed by (seed, kind, l, r, first_index + i), so a shard of a larger set (first_index > 0)
// draws what the whole set would, and two models' per-image results are paired.
typedef struct sr_noise_sweep_opts {
  sr_noise_kind kind;
  const double *levels;
  int n_levels, repeats;
  uint64_t seed;
  int64_t first_index;
} sr_noise_sweep_opts;
// Accuracy at one level with its 95% Wilson interval over all n*repeats noisy images.
typedef struct sr_level_acc {
  double acc, ci_low, ci_high;
} sr_level_acc;
sr_status sr_noise_sweep(sr_amodel *am, const sr_labeled *im, const sr_noise_sweep_opts *o, sr_level_acc *out,
                         sr_err *err);
// The same as counts: correct[l] = correctly classified noisy images at level l over all repeats (sum them
// over shards); per_image (n, n_levels, repeats), may be NULL: 1 where image i was classified correctly at
// level l, repeat r.
sr_status sr_noise_sweep_counts(sr_amodel *am, const sr_labeled *im, const sr_noise_sweep_opts *o,
                                int64_t *correct, uint8_t *per_image, sr_err *err);
// 95% Wilson score interval for k successes out of n.
void sr_wilson_ci(int64_t k, int64_t n, double *lo, double *hi);

// ---- FGSM / PGD
// --------------------------------------------------------------------------------------------
typedef enum sr_norm { SR_NORM_LINF = 0, SR_NORM_L2 = 2 } sr_norm;

typedef struct sr_pgd_opts {
  sr_norm norm;
  double eps;           // radius on the [0,1] scale
  int steps;            // 1 with step = eps and no random start is FGSM
  double step;          // step size (absolute)
  int random_start;     // uniform in the L-inf box / the L2 ball
  int64_t first_index;  // index of x[0] in the whole image set: random starts are keyed by it (sharding)
} sr_pgd_opts;

sr_pgd_opts sr_fgsm_opts(sr_norm norm, double eps);
sr_pgd_opts sr_pgd_opts_default(sr_norm norm,
                                double eps);  // 40 (Linf) / 50 (L2) steps, 2.5*eps/steps, random start

// Untargeted, maximising cross-entropy of the true labels y. adv (n, c, h, w): inside the eps ball
// around x and inside [0,1]. counts (may be NULL) += forward passes per image.
sr_status sr_pgd(sr_amodel *am, const sr_labeled *in, const sr_pgd_opts *o, uint64_t seed, float *adv,
                 int64_t *counts, sr_err *err);

// Accuracy of `target` on adversarials crafted on `source` (may be the same wrapper: white-box), per eps
// level; a fresh forward pass of target decides. Eps 0 evaluates the clean images.
typedef struct sr_eps_curve {
  double acc;
  int64_t correct;        // images target still classifies correctly (acc = correct / n)
  int64_t out_of_bounds;  // adversarials outside the ball or [0,1] (must be 0; counted, never dropped)
} sr_eps_curve;
// The eps levels of a sweep; each level's attack is `base` with eps (and a step scaled with it) replaced.
typedef struct sr_eps_sweep {
  const sr_pgd_opts *base;
  const double *eps;
  int n_eps;
  uint64_t seed;
} sr_eps_sweep;
// per_image (n, n_eps), may be NULL: 1 where target classified image i correctly at eps l.
sr_status sr_gradient_sweep(sr_amodel *source, sr_amodel *target, const sr_labeled *im,
                            const sr_eps_sweep *sw, sr_eps_curve *out, uint8_t *per_image, sr_err *err);

// ---- decision oracle: what a decision-based attack may ask ----------------------------------------------
// adv[j] = 1 when x[j] (m images of d values, j < m) is adversarial for image rows[j] of the attacked set.
// One call = m queries. sr_model_oracle makes one from a wrapper and labels (adversarial = prediction
// differs).
typedef struct sr_oracle {
  sr_status (*decide)(void *ctx, const float *x, const int64_t *rows, int64_t m, int *adv, sr_err *err);
  void *ctx;
  int64_t d;      // values per image
  int64_t batch;  // queries per call the attacks aim for (a full batch of the model)
} sr_oracle;

typedef struct sr_model_oracle_ctx {
  sr_amodel *am;
  const int32_t *label;
  int32_t *pred;  // (am->batch) scratch
} sr_model_oracle_ctx;
// ctx must outlive the oracle; sr_model_oracle_free releases the scratch.
sr_status sr_model_oracle(sr_amodel *am, const int32_t *label, sr_model_oracle_ctx *ctx, sr_oracle *o,
                          sr_err *err);
void sr_model_oracle_free(sr_model_oracle_ctx *ctx);

// ---- Boundary attack (Brendel et al. 2018, as Foolbox 3 runs it) --------------------------------------
typedef struct sr_boundary_opts {
  int64_t steps;          // default 5000
  double spherical_step;  // 1e-2
  double source_step;     // 1e-2
  double convergence;     // 1e-7: an image has converged when its source step is below this
  double adaptation;      // 1.5
  int stats_every;        // 10: spherical candidates are checked and statistics updated every k steps
  int init_draws;         // 1000 uniform-noise draws at most
  int init_search_steps;  // 50: blends at linspace(0, 1, steps + 1)
  // Called after every step with the current distances ||adv - x||_2 of the n images of the batch being
  // attacked (first: their index in the whole call). May be NULL.
  void (*on_step)(void *ctx, int64_t step, int64_t first, int64_t n, const double *dist);
  void *ctx;
  // Index of x[0] in the whole image set: image i's random stream is keyed by first_index + i, so a shard
  // (an MPI rank's share, cut at batch boundaries) gets the same streams as one process. Default 0.
  int64_t first_index;
} sr_boundary_opts;

sr_boundary_opts sr_boundary_opts_default(void);

#define SR_TRACE_POINTS \
  11  // checkpoints of a convergence trace: after the start, then every 10% of the steps

// The result of every minimal-perturbation / query-budget attack (Boundary, HopSkipJump, Square, and the
// white-box minimal-norm attacks); what only one attack reports lives in its own member (hsj, ...).
typedef struct sr_attack_result {
  float *adv;  // (n, c, h, w)
  int *found;  // 1: adversarial, re-checked by a fresh forward pass; 0: init failed or re-check failed
  double *norm_sq_per_dim;  // ||adv - x||^2 / D (NaN where !found)
  int64_t *queries;         // forward passes per image, initialisation included
  int64_t *init_queries;    // of which the initialisation
  int64_t *steps_run;       // steps run on the image's batch
  int64_t recheck_failed;   // adversarials the final fresh forward pass did not confirm
  int64_t init_failed;      // images for which no adversarial uniform noise was found
  // Convergence trace (Boundary, HopSkipJump; NULL elsewhere): (n, SR_TRACE_POINTS) distance of the best
  // adversarial so far after the initialisation (point 0) and after each tenth of the steps / iterations
  // (point k after step trace_at[k] = round(k * steps / 10)); ||delta||^2 / D for L2 attacks, ||delta||_inf
  // for L-inf; NaN while an image has no adversarial. A batch that stops early repeats its final distances.
  double *trace;
  int64_t trace_at[SR_TRACE_POINTS];
  struct {
    int64_t zero_estimates;  // gradient estimates that were zero (step skipped)
  } hsj;
  struct {
    int64_t zero_gradients;  // FMN / DDN steps whose input gradient was zero or non-finite
    int64_t *gradients;      // (n) input-gradient calls per image (NULL elsewhere)
  } wb;
} sr_attack_result;

// label: the class to move away from (the model's own prediction). Allocates the result arrays.
sr_status sr_boundary(sr_amodel *am, const sr_labeled *in, const sr_boundary_opts *o, uint64_t seed,
                      sr_attack_result *r, sr_err *err);
// The same against any oracle (the re-check is one more oracle call per image). Pixel range [0,1].
sr_status sr_boundary_oracle(const sr_oracle *orc, const float *x, int64_t n, const sr_boundary_opts *o,
                             uint64_t seed, sr_attack_result *r, sr_err *err);
void sr_attack_result_free(sr_attack_result *r);

// ---- what every attack ends with
// --------------------------------------------------------------------------- A fresh oracle call over r->adv
// (rows 0..n-1): an adversarial counts (found stays 1) only when the oracle confirms it, it lies in [0,1]
// and, when ball is given, inside the ball around x; others are cleared and counted in r->recheck_failed.
// r->norm_sq_per_dim = ||adv - x||_2^2 / D for the confirmed, NaN elsewhere.
typedef struct sr_attack_ball {
  sr_norm norm;
  double eps;
} sr_attack_ball;
sr_status sr_attack_recheck(const sr_oracle *orc, const float *x, int64_t n, const sr_attack_ball *ball,
                            sr_attack_result *r, sr_err *err);

// ---- HopSkipJump (Chen, Jordan, Wainwright 2020), untargeted, L2 or L-inf ----------------------------
typedef struct sr_hsj_opts {
  sr_norm norm;
  int iterations;    // 64
  int init_evals;    // 100: gradient-estimate queries at iteration t (1-based) = init_evals * sqrt(t) ...
  int max_evals;     // 10000: ... capped here
  double gamma;      // 1.0: binary-search threshold theta = gamma / d^(3/2) (L2), gamma / d^2 (L-inf)
  int max_halvings;  // 40: the geometric step search gives up (no step) after this many halvings
  int init_draws;    // 1000 uniform-noise draws at most (as the Boundary attack)
  int init_search_steps;  // 50: blends at linspace(0, 1, steps + 1), then a binary search to the boundary
  // Called after every iteration with the current distances (the attack's norm) of the images of the batch.
  void (*on_iter)(void *ctx, int64_t iter, int64_t first, int64_t n, const double *dist);
  void *ctx;
  int64_t first_index;  // as sr_boundary_opts.first_index
} sr_hsj_opts;

sr_hsj_opts sr_hsj_opts_default(sr_norm norm);

// label: the class to move away from. Images are attacked in groups of am->batch; randomness per image from
// (seed, image index). r->adv is the closest adversarial found (the attack's norm), re-checked by a fresh
// forward pass; r->queries counts the attack's queries per image (the re-check is not counted).
sr_status sr_hsj(sr_amodel *am, const sr_labeled *in, const sr_hsj_opts *o, uint64_t seed,
                 sr_attack_result *r, sr_err *err);
// The same against any oracle (the re-check is one more oracle call per image). Pixel range [0,1].
sr_status sr_hsj_oracle(const sr_oracle *orc, const float *x, int64_t n, const sr_hsj_opts *o, uint64_t seed,
                        sr_attack_result *r, sr_err *err);

// ---- Square attack (Andriushchenko et al. 2020), score-based, untargeted, L-inf or L2 -------------------
typedef struct sr_square_opts {
  sr_norm norm;
  double eps;
  int64_t queries;  // budget per image, initialisation included (default 10000)
  double p_init;    // fraction of pixels changed at the start: 0.8 (L-inf), 0.1 (L2)
  // Called after every iteration: it (0-based), images of the batch still being attacked.
  void (*on_iter)(void *ctx, int64_t it, int64_t first, int64_t n, int64_t active);
  void *ctx;
  int64_t first_index;  // as sr_boundary_opts.first_index
} sr_square_opts;

sr_square_opts sr_square_opts_default(sr_norm norm, double eps);
// The paper's schedule: p at iteration it (0-based) of a budget of n iterations.
double sr_square_p(double p_init, int64_t it, int64_t n);

// Margin loss logit[label] - max_{j != label} logit[j]; an image is fooled when it is < 0. r->found: fooled
// and confirmed by a fresh forward pass; r->queries: forward passes per image (<= budget); r->adv is inside
// the eps ball exactly and in [0,1] (also where not fooled: the last best point).
sr_status sr_square(sr_amodel *am, const sr_labeled *in, const sr_square_opts *o, uint64_t seed,
                    sr_attack_result *r, sr_err *err);

// ---- minimal-norm white-box attacks: FMN (Pintor et al. 2021), DDN (Rony et al. 2019) ---------------------
// Untargeted, from the clean image, through input gradients (sr_amodel_grad). An image the model already
// misclassifies (prediction != label on the first forward pass) costs that one query, no gradient, and is
// returned as itself (found, distance 0). r->adv: the smallest adversarial seen (the attack's norm),
// re-checked by a fresh forward pass; r->queries: forward passes per image (gradient calls included, the
// first check too, the re-check not); r->steps_run: gradient steps; r->trace: convergence trace as
// HopSkipJump's.
typedef struct sr_wbmin_opts {
  sr_norm norm;  // FMN: L2 or L-inf; DDN: L2 only
  int steps;     // 100
  // FMN: step size alpha cosine-annealed from alpha_init to alpha_final (default alpha_init / 100); the
  // epsilon factor gamma from gamma_init to gamma_final. DDN: alpha from 1 to 0.01, fixed gamma = gamma_init.
  double alpha_init, alpha_final, gamma_init, gamma_final;
  double init_norm;  // DDN: the first epsilon (1.0)
  int levels;        // DDN: pixel values rounded to this many levels after each step (256; 0: off)
  // FMN: optional adversarial starting points (n, d) (NULL: start at x); a binary search of
  // binary_search_steps moves each toward x along the norm's mid-points first.
  const float *start;
  int binary_search_steps;  // 10
  void (*on_step)(void *ctx, int64_t step, int64_t first, int64_t n, const double *dist);
  void *ctx;
  int64_t first_index;  // as sr_boundary_opts.first_index (DDN draws a random direction on zero gradients)
} sr_wbmin_opts;

sr_wbmin_opts sr_fmn_opts_default(sr_norm norm);
sr_wbmin_opts sr_ddn_opts_default(void);
// label: the class to move away from. r->wb.zero_gradients: steps whose input gradient was zero or
// non-finite.
sr_status sr_fmn(sr_amodel *am, const sr_labeled *in, const sr_wbmin_opts *o, sr_attack_result *r,
                 sr_err *err);
sr_status sr_ddn(sr_amodel *am, const sr_labeled *in, const sr_wbmin_opts *o, uint64_t seed,
                 sr_attack_result *r, sr_err *err);

// ---- Auto-PGD (Croce & Hein 2020), L-inf or L2: APGD-CE, APGD-DLR, APGD-T (targeted DLR)
// -------------------
typedef enum sr_apgd_loss { SR_APGD_CE, SR_APGD_DLR, SR_APGD_DLR_TARGETED } sr_apgd_loss;

typedef struct sr_apgd_opts {
  sr_norm norm;
  double eps;
  sr_apgd_loss loss;
  int iterations;   // 100 per run
  int restarts;     // 1 (per target for APGD-T)
  int targets;      // APGD-T: 9, the classes ranked 2nd .. 10th by the clean logits; < classes
  double rho;       // 0.75: halve the step when the loss rose in at most rho of the steps since a checkpoint
  double momentum;  // 0.75
  // Clean predictions of the n images (may be NULL): a misclassified image is done at no cost. Without them
  // one forward pass per image decides (counted in init_queries); APGD-T takes that pass for its targets.
  const int32_t *clean_pred;
  // Called at the start of each run (it 0) and after each iteration with the best losses of the batch's k
  // images (first: their index in the call); run counts restarts x targets.
  void (*on_iter)(void *ctx, int run, int64_t it, int64_t first, int64_t k, const double *best_loss);
  void *ctx;
  int64_t first_index;  // as sr_boundary_opts.first_index
} sr_apgd_opts;

sr_apgd_opts sr_apgd_opts_default(sr_norm norm, double eps, sr_apgd_loss loss);

// Untargeted against the labels y (an image counts when the prediction differs from y). r->found: an iterate
// was misclassified and a fresh forward pass confirms it inside the eps ball and [0,1]; r->adv: that iterate,
// elsewhere the highest-loss point; r->queries: forward passes per image, of which r->init_queries without a
// gradient (so gradient calls = queries - init_queries); r->steps_run: iterations over all runs.
sr_status sr_apgd(sr_amodel *am, const sr_labeled *in, const sr_apgd_opts *o, uint64_t seed,
                  sr_attack_result *r, sr_err *err);
// The DLR loss of logits z (classes >= 3; targeted: target >= 0 and classes >= 4) and its gradient (may be
// NULL): -(z_y - max_{j!=y} z_j) / (z_pi1 - z_pi3 + 1e-12), targeted -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4)
// / 2
// + 1e-12), pi the classes sorted by descending logit.
double sr_apgd_dlr(const double *z, int classes, int32_t y, int32_t target, double *grad);

// ---- FAB-T (Croce & Hein 2020, targeted Fast Adaptive Boundary), L-inf or L2 ------------------------------
typedef struct sr_fab_opts {
  sr_norm norm;
  double eps;        // a target run is skipped for images with an adversarial within eps (<= 0: never)
  int iterations;    // 100 per target
  int targets;       // 9: the classes ranked 2nd .. 10th by the clean logits; < classes
  double alpha_max;  // 0.1
  double eta;        // 1.05 overshoot
  double beta;       // 0.9 backward step after an adversarial point
  // Called after each iteration of target run `run` for the batch's k images (first: their index in the
  // call).
  void (*on_iter)(void *ctx, int run, int64_t it, int64_t first, int64_t k);
  void *ctx;
} sr_fab_opts;

sr_fab_opts sr_fab_opts_default(sr_norm norm, double eps);
// y: the labels (an image counts when the prediction differs). r->adv: the smallest adversarial found (the
// attack's norm) over all targets, the clean image where none; r->found: one was found and a fresh forward
// pass confirms it (no eps ball: compare the distance with eps yourself); r->queries: forward passes per
// image, of which r->init_queries without a gradient (the clean pass and each iteration's check). No
// randomness: the seed is unused (AutoAttack's FAB-T starts at the clean image).
sr_status sr_fab(sr_amodel *am, const sr_labeled *in, const sr_fab_opts *o, uint64_t seed,
                 sr_attack_result *r, sr_err *err);

// ---- convergence of a minimal-perturbation attack -----------------------------------------------------
// The steps after which a trace of a run of `steps` records: round(k * steps / 10), k = 0..10.
void sr_trace_steps(int64_t steps, int64_t at[SR_TRACE_POINTS]);
// Median over images of a trace (rows with use[i] != 0, use may be NULL; NaN entries skipped) at each
// checkpoint; last_drop = (median at 80% - median at 100%) / median at 80% of the steps; converged when
// last_drop <= tol (default rule: 0.05, i.e. the last 20% of the steps cut the median by at most 5%).
typedef struct sr_convergence {
  int64_t at[SR_TRACE_POINTS];
  double median[SR_TRACE_POINTS];
  int64_t images;    // rows that entered the medians
  double last_drop;  // NaN when the medians at 80% or 100% are unknown or 0
  double tol;
  int converged;  // 0 also when last_drop is NaN
} sr_convergence;
sr_status sr_convergence_summary(const double *trace, const int *use, int64_t n, const int64_t *at,
                                 double tol, sr_convergence *out, sr_err *err);

// ---- helpers shared by the attacks
// ------------------------------------------------------------------------- Pull adv (d values, already in
// [0,1]) toward x until it is inside the ball of radius eps exactly, as measured in double: L-inf moves
// offending values by an ulp toward x, L2 shrinks the difference.
void sr_ball_fit(sr_norm norm, double eps, const float *x, float *adv, int64_t d);
double sr_dist_l2(const float *a, const float *b, int64_t d);
double sr_dist_linf(const float *a, const float *b, int64_t d);

// ---- results -------------------------------------------------------------------------------------------
// Merge `patch` (a cJSON object, consumed) into RUN/robustness.json: top-level objects (noise, transfer,
// boundary, attacks) are merged one level deep, everything else replaced. Atomic write.
struct cJSON;
sr_status sr_robustness_merge(const char *run, struct cJSON *patch, sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
