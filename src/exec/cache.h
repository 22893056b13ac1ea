// Internal: what a model caches for its executors (sr_model.exec; opaque in include/simreg/model.h).
#ifndef SR_CACHE_H
#define SR_CACHE_H

#include "simreg/model.h"

struct sr_wino_cache;

struct sr_exec_cache {
  sr_tape *tapes[SR_MAX_TAPES];  // sr_model_tape(_groups): one per (batch size, slot, groups)
  int64_t tape_n[SR_MAX_TAPES];
  int tape_slot[SR_MAX_TAPES];
  int tape_groups[SR_MAX_TAPES];    // ghost BatchNorm groups (sr_model_tape_groups; 1: a plain batch)
  sr_infer *infers[SR_MAX_INFERS];  // sr_model_infer: one per batch size
  int64_t infer_n[SR_MAX_INFERS];
  struct sr_wino_cache *wino;  // Winograd-transformed weights shared by the plans (infer.c)
  int winograd;                // sr_model_set_winograd: 1 (default) or 0, for tapes and plans
  sr_conv_policy policy;       // sr_model_set_conv_policy (algo.c)
  sr_conv_choice *choices;     // per (executor, shape, batch, threads, ISA): measured or given (algo.c)
  unsigned char *choice_used;  // per choice: a tape or plan took it (a cache entry is recorded only then)
  int n_choices, cap_choices;
};

#endif
