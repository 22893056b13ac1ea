// Shared by the attack sources only (not installed).
#ifndef SR_ATTACK_INTERNAL_H
#define SR_ATTACK_INTERNAL_H

#include "simreg/attack.h"

// Allocate the per-image arrays of a result for n images of d values (zeroed).
sr_status sr_attack_result_alloc(sr_attack_result *r, int64_t n, int64_t d, sr_err *err);

// n standard normals (both Box-Muller outputs used: half the log/sqrt/trig of sr_rng_normal per value).
void sr_attack_normals(sr_rng *rng, float *out, int64_t n);

static inline float sr_clip01f(double v) { return v < 0 ? 0.0f : v > 1 ? 1.0f : (float)v; }

#endif
