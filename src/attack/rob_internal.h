// Shared by the robustness runners (rob_*.c) only.
#ifndef SR_ROB_INTERNAL_H
#define SR_ROB_INTERNAL_H

#include <cjson/cJSON.h>

#include "attack/internal.h"
#include "simreg/robustness.h"

// Level l of per-image results (n, levels, repeats) as one string, repeat-major: character r * n + i.
cJSON *sr_rob_bits(const uint8_t *v, int64_t n, int levels, int64_t repeats, int l);
cJSON *sr_rob_doubles(const double *v, int64_t n);
double sr_rob_per_sec(double n, double secs);
// This rank's rows [lo, hi) of n images attacked in batches (whole batches per rank: see dist.h).
void sr_rob_shard(const sr_rob_opts *a, int64_t n, int64_t batch, int64_t *lo, int64_t *hi);
int sr_rob_root(const sr_rob_opts *a);
// Get or add an object member (several results may share "attacks").
cJSON *sr_rob_member(cJSON *o, const char *key);
// Quartiles of v (n values, sorted in scratch).
cJSON *sr_rob_quartiles_of(const double *v, int64_t n, double *scratch);

// Correctly classified images: among the first r->n loaded ones, or (a->first_correct) the first `want` of
// the whole split; labels = the model's predictions; *seen: images looked at. *xc and *lab are the caller's.
// Correctly classified images picked for an attack: x (n, d) and their labels (owned: sr_free); seen: images
// looked at to find them.
typedef struct sr_rob_picked {
  float *x;
  int32_t *y;
  int64_t n, seen;
} sr_rob_picked;
sr_status sr_rob_correct_images(const sr_rob_opts *a, sr_rob_run *r, int64_t want, sr_rob_picked *out,
                                sr_err *err);
// The same for a->images, failing when none is correctly classified (nothing to attack).
sr_status sr_rob_attackable_images(const sr_rob_opts *a, sr_rob_run *r, sr_rob_picked *out, sr_err *err);

// Per image, the smallest L2 norm over the black-box attacks (boundary, hsj) and over the white-box ones
// (fmn, ddn) in the patch (INFINITY: none); *n = 0 (and NULL arrays) unless both groups ran on the same
// images.
sr_status sr_rob_minimal_groups(const cJSON *patch, double **bb, double **wb, int64_t *n, sr_err *err);

// Progress of one runner through o->on_progress.
typedef struct sr_rob_tick {
  const sr_rob_opts *o;
  const char *label;
  const sr_amodel *am;
  int64_t q0, total;
  double t0;
} sr_rob_tick;
void sr_rob_tick_start(sr_rob_tick *t, const sr_rob_opts *o, const char *label, const sr_amodel *am,
                       int64_t total);
void sr_rob_tick_update(sr_rob_tick *t, double done);
void sr_rob_tick_end(sr_rob_tick *t);

// b.convergence from a summary: the steps, the median curve, images, last20_drop, tolerance, converged and
// the rule; distance names what the median measures.
void sr_rob_convergence_json(struct cJSON *b, const sr_convergence *c, const char *distance);

#endif
