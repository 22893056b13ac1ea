// Shared by the attack sources only (not installed).
#ifndef SR_ATTACK_INTERNAL_H
#define SR_ATTACK_INTERNAL_H

#include "simreg/attack.h"

// Allocate the per-image arrays of a result for n images of d values (zeroed).
sr_status sr_attack_result_alloc(sr_attack_result *r, int64_t n, int64_t d, sr_err *err);

// The decision attacks' start (Foolbox's blended uniform noise + linear search) for k images x (k, d) of the
// oracle's rows first..first+k-1: uniform noise until adversarial (at most `draws` rounds), then the first
// adversarial blend (1 - e) x + e noise on e = linspace(0, 1, steps + 1). start (k, d) gets it; ok[i] = 0
// (start untouched) when no draw was adversarial. rng: (k) per-image streams; queries (k) += the queries
// spent.
typedef struct sr_blend_start {
  const sr_oracle *orc;
  const float *x;
  int64_t k, first;
  int draws, steps;
  sr_rng *rng;
  float *start;
  int *ok;
  int64_t *queries;
} sr_blend_start;
sr_status sr_attack_init_blended(const sr_blend_start *s, sr_err *err);

// Run fn against the model as a decision oracle (adversarial = prediction differs from label[row]).
typedef sr_status (*sr_oracle_fn)(const sr_oracle *orc, void *ctx, sr_err *err);
sr_status sr_with_model_oracle(sr_amodel *am, const int32_t *label, sr_oracle_fn fn, void *ctx, sr_err *err);

// The fresh-forward re-check of r against the model (adversarial = prediction != label[row]); ball: NULL or
// the eps ball an adversarial must also lie in (sr_attack_recheck).
sr_status sr_recheck_on_model(sr_amodel *am, const int32_t *label, const float *x, int64_t n,
                              const sr_attack_ball *ball, sr_attack_result *r, sr_err *err);

// n standard normals (both Box-Muller outputs used: half the log/sqrt/trig of sr_rng_normal per value).
void sr_attack_normals(sr_rng *rng, float *out, int64_t n);

// Convergence trace (trace.c): sr_trace_alloc sets r->trace to NaN and the checkpoint steps of a run of
// `steps`; a tracer records the k images of one batch (rows first..first+k of r) as the steps pass.
sr_status sr_trace_alloc(sr_attack_result *r, int64_t n, int64_t steps, sr_err *err);
typedef struct sr_tracer {
  sr_attack_result *r;
  int64_t first, k, d;
  int l2;    // 1: store ||delta||^2 / D from L2 distances; 0: the L-inf distance itself
  int next;  // next checkpoint to fill
} sr_tracer;
// After step `step` (0: after the initialisation): fills every checkpoint at or before it. dist: (k) current
// best distances (NaN or infinity where none).
void sr_trace_record(sr_tracer *t, int64_t step, const double *dist);
// The batch stopped: the remaining checkpoints get its final distances.
void sr_trace_finish(sr_tracer *t, const double *dist);

static inline float sr_clip01f(double v) { return v < 0 ? 0.0f : v > 1 ? 1.0f : (float)v; }

#endif
