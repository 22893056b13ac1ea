// The loop the minimal-norm white-box attacks (FMN, DDN) share: chunks of the wrapper's batch, the first
// forward pass that sets already-misclassified images aside, one input gradient per step for the images still
// attacked, the best adversarial per image, the trace, and the final re-check. An attack supplies the loss
// (its dLoss/dlogits) and the update of one image after each gradient.
#ifndef SR_ATTACK_WBMIN_H
#define SR_ATTACK_WBMIN_H

#include "attack/internal.h"

// One chunk's images still attacked, packed: row j is image rows[j] of the call.
typedef struct sr_wb_state {
  const sr_wbmin_opts *o;
  int64_t m, d;
  int classes;
  int64_t *rows;
  float *x, *a, *g, *logits;   // (m, d) clean, current point, gradient; (m, classes) logits at a
  int32_t *y;                  // (m) labels
  double *eps, *best, *worst;  // (m) the attack's radius, best distance so far, the largest possible
  int *adv_found;              // (m) an adversarial was seen (at any step)
  sr_rng *rng;                 // (m) per-image streams (seed, first_index + image)
} sr_wb_state;

typedef struct sr_wb_algo {
  const char *name;
  sr_dlogits_fn dlogits;  // ctx: the state's labels (int32_t *), first: the row offset
  // After the gradient at step `step` of `steps`: row j's logits, gradient (sanitised: zero where it was not
  // finite), is_adv and current distance are known; move s->a[j] and s->eps[j].
  void (*update)(sr_wb_state *s, int64_t j, int step, int steps, int is_adv, double dist);
} sr_wb_algo;

double sr_wb_dist(sr_norm norm, const float *a, const float *x, int64_t d);
// Attack the images in (labels: the classes to move away from) with algo; seed: the per-image streams.
sr_status sr_wbmin_run(sr_amodel *am, const sr_labeled *in, const sr_wbmin_opts *o, const sr_wb_algo *algo,
                       uint64_t seed, sr_attack_result *r, sr_err *err);

#endif
