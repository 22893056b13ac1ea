// Internal: the convolution algorithm choices as JSON (convcache.c), for config.json and the cache file.
#ifndef SR_CONVCACHE_H
#define SR_CONVCACHE_H

#include <cjson/cJSON.h>

#include "simreg/dist.h"
#include "simreg/train.h"

// {"setting": "measure", "choices": [{"key": ..., "algo": "direct", "ms": {"direct": 0.8, ...}}, ...]}:
// the choices the run records (sr_conv_choice_recorded: not machine-cache entries no tape or plan took).
cJSON *sr_conv_choices_json(const sr_model *m);
int sr_conv_choices_recorded(const sr_model *m);  // how many sr_conv_choices_json lists
// The same object back into m's choices, marked source, for keys m does not have yet; SR_ERR_FORMAT naming
// path when it is malformed.
sr_status sr_conv_choices_from_json(sr_model *m, const cJSON *j, const char *path, sr_conv_source source,
                                    sr_err *err);

// Under MPI with SR_CONV_MEASURE (else nothing): rank 0 builds a training tape (slot 0) of each batch size
// in sizes, timing what no file gave it, drops its tapes again, and broadcasts its choices; the other ranks
// take them (over their own entries) before they build any tape, so every rank runs rank 0's algorithm for
// those keys. Collective.
sr_status sr_conv_share_choices(sr_model *m, sr_dist *d, const int64_t *sizes, int n, sr_err *err);

#endif
