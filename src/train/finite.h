// Internal: non-finite detection in the training loop (docs/ERRORS.md, "Numerical faults").
#ifndef SR_TRAIN_FINITE_H
#define SR_TRAIN_FINITE_H

#include "simreg/model.h"

// Called once per step after the SGD update and before anything is written: the loss of the step, the
// gradients it produced and the updated weights must all be finite. Otherwise SR_ERR_NUMERIC with a message
// naming the epoch and step (1-based epoch, 0-based step within it) and the first parameter tensor (in
// state_dict order) holding a non-finite gradient or weight; the caller stops, so the checkpoint on disk
// stays the last one written from finite weights. Also called (before backward) when the loss alone is
// non-finite: then the message names the weight tensor with the largest magnitude, or a non-finite one.
sr_status sr_train_check_finite(const sr_model *m, double loss, int epoch, int64_t step, sr_err *err);

#endif
