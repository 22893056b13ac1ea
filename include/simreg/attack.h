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
  sr_model *m;          // not owned
  int c, h, w;          // pixel-space image shape (dataset channels)
  int mc;               // model input channels (1 when gray)
  int gray;
  float mean, scale;
  int classes;
  int64_t d;            // c*h*w
  int64_t batch;        // tape batch; larger calls are split, smaller ones padded (padding is not counted)
  float *xin, *dxin;    // (batch, mc, h, w) normalised input and its gradient
  float *logits, *dlogits;  // (batch, classes)
  int64_t queries;      // forward passes, images (gradient calls included)
  int64_t gradients;    // input-gradient computations, images
} sr_amodel;

// m must be in eval-ready state (loaded weights) and outlive the wrapper. c: pixel-space channels
// (must equal m's input channels, or be any count when gray and m takes 1 channel).
sr_status sr_amodel_init(sr_amodel *am, sr_model *m, int c, int gray, double mean, double scale, int64_t batch,
                         sr_err *err);
void sr_amodel_free(sr_amodel *am);
// x: (n, c, h, w) in pixel space -> logits (n, classes), eval mode. counts (n, may be NULL): += 1 per image.
sr_status sr_amodel_logits(sr_amodel *am, const float *x, int64_t n, float *logits, int64_t *counts, sr_err *err);
// Argmax class per image (first maximum on ties).
sr_status sr_amodel_predict(sr_amodel *am, const float *x, int64_t n, int32_t *pred, int64_t *counts, sr_err *err);
// Gradient of the summed cross-entropy with respect to the pixel-space input: g (n, c, h, w). logits
// (n, classes) may be NULL. One query per image.
sr_status sr_amodel_grad_ce(sr_amodel *am, const float *x, const int32_t *y, int64_t n, float *g, float *logits,
                            int64_t *counts, sr_err *err);

// ---- noise sweeps ----------------------------------------------------------------------------------------
typedef enum sr_noise_kind { SR_NOISE_GAUSSIAN, SR_NOISE_UNIFORM, SR_NOISE_SALT_PEPPER, SR_NOISE_COUNT } sr_noise_kind;
const char *sr_noise_name(sr_noise_kind k);  // "gaussian", "uniform", "salt_pepper"
int sr_noise_parse(const char *name);        // -1 when unknown

// Add noise of strength `level` to one image (c*h*w values in [0,1]) in place, then clamp to the clean
// image's own [min, max]. gaussian: sigma; uniform: +-level; salt_pepper: probability per pixel position
// (all channels together) of becoming the image's max (half) or min (half).
void sr_noise_apply(sr_noise_kind k, double level, float *img, int c, int64_t hw, sr_rng *rng);

// Accuracy per level (mean over repeats); ci_low/ci_high (may be NULL): 95% Wilson interval over all
// n*repeats noisy images. Image i, level l, repeat r draws from an RNG keyed by (seed, kind, l, r, i).
sr_status sr_noise_sweep(sr_amodel *am, const float *x, const int32_t *y, int64_t n, sr_noise_kind kind,
                         const double *levels, int n_levels, int repeats, uint64_t seed, double *acc,
                         double *ci_low, double *ci_high, sr_err *err);

// ---- FGSM / PGD --------------------------------------------------------------------------------------------
typedef enum sr_norm { SR_NORM_LINF = 0, SR_NORM_L2 = 2 } sr_norm;

typedef struct sr_pgd_opts {
  sr_norm norm;
  double eps;        // radius on the [0,1] scale
  int steps;         // 1 with step = eps and no random start is FGSM
  double step;       // step size (absolute)
  int random_start;  // uniform in the L-inf box / the L2 ball
} sr_pgd_opts;

sr_pgd_opts sr_fgsm_opts(sr_norm norm, double eps);
sr_pgd_opts sr_pgd_opts_default(sr_norm norm, double eps);  // 40 (Linf) / 50 (L2) steps, 2.5*eps/steps, random start

// Untargeted, maximising cross-entropy of the true labels y. adv (n, c, h, w): inside the eps ball
// around x and inside [0,1]. counts (may be NULL) += forward passes per image.
sr_status sr_pgd(sr_amodel *am, const float *x, const int32_t *y, int64_t n, const sr_pgd_opts *o, uint64_t seed,
                 float *adv, int64_t *counts, sr_err *err);

// Accuracy of `target` on adversarials crafted on `source` (may be the same wrapper: white-box), per eps
// level; a fresh forward pass of target decides. Eps 0 evaluates the clean images.
typedef struct sr_eps_curve {
  double acc;
  int64_t out_of_bounds;  // adversarials outside the ball or [0,1] (must be 0; counted, never dropped)
} sr_eps_curve;
sr_status sr_gradient_sweep(sr_amodel *source, sr_amodel *target, const float *x, const int32_t *y, int64_t n,
                            const sr_pgd_opts *base, const double *eps, int n_eps, uint64_t seed,
                            sr_eps_curve *out, sr_err *err);

// ---- Boundary attack (Brendel et al. 2018, as Foolbox 3 runs it) --------------------------------------
typedef struct sr_boundary_opts {
  int64_t steps;              // default 5000
  double spherical_step;      // 1e-2
  double source_step;         // 1e-2
  double convergence;         // 1e-7: an image has converged when its source step is below this
  double adaptation;          // 1.5
  int stats_every;            // 10: spherical candidates are checked and statistics updated every k steps
  int init_draws;             // 1000 uniform-noise draws at most
  int init_search_steps;      // 50: blends at linspace(0, 1, steps + 1)
  // Called after every step with the current distances ||adv - x||_2 of the n images of the batch being
  // attacked (first: their index in the whole call). May be NULL.
  void (*on_step)(void *ctx, int64_t step, int64_t first, int64_t n, const double *dist);
  void *ctx;
} sr_boundary_opts;

sr_boundary_opts sr_boundary_opts_default(void);

typedef struct sr_boundary_result {
  float *adv;              // (n, c, h, w)
  int *found;              // 1: adversarial, re-checked by a fresh forward pass; 0: init failed or re-check failed
  double *norm_sq_per_dim; // ||adv - x||^2 / D (NaN where !found)
  int64_t *queries;        // forward passes per image, initialisation included
  int64_t *init_queries;   // of which the initialisation
  int64_t *steps_run;      // steps run on the image's batch
  int64_t recheck_failed;  // adversarials the final fresh forward pass did not confirm
  int64_t init_failed;     // images for which no adversarial uniform noise was found
} sr_boundary_result;

// label: the class to move away from (the model's own prediction). Allocates the result arrays.
sr_status sr_boundary(sr_amodel *am, const float *x, const int32_t *label, int64_t n, const sr_boundary_opts *o,
                      uint64_t seed, sr_boundary_result *r, sr_err *err);
void sr_boundary_result_free(sr_boundary_result *r);

// ---- results -------------------------------------------------------------------------------------------
// Merge `patch` (a cJSON object, consumed) into RUN/robustness.json: top-level objects (noise, transfer,
// boundary, attacks) are merged one level deep, everything else replaced. Atomic write.
struct cJSON;
sr_status sr_robustness_merge(const char *run, struct cJSON *patch, sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
