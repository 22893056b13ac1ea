// SGD with momentum, weight decay and Nesterov (PyTorch's update rule), and learning-rate schedules.
#ifndef SIMREG_OPTIM_H
#define SIMREG_OPTIM_H

#include <stdint.h>

#include "simreg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_sgd {
  double momentum, dampening, weight_decay;
  int nesterov;
  int64_t n;
  float *buf;   // momentum buffer (n floats), part of the checkpointed state
  int has_buf;  // PyTorch starts the buffer at the first gradient, not at zero
} sr_sgd;

sr_status sr_sgd_init(sr_sgd *o, int64_t n, double momentum, double weight_decay, int nesterov, sr_err *err);
// p, g: (n). One step with learning rate lr:
//   d = g + wd*p;  buf = d (first step) or momentum*buf + (1-dampening)*d;
//   d = nesterov ? d + momentum*buf : buf (when momentum != 0);  p -= lr*d
void sr_sgd_step(sr_sgd *o, float *p, const float *g, double lr);
// The same step (bit for bit), also telling whether every g and every updated p is finite (1) or not (0),
// read in the update's own pass over memory instead of two more passes after it.
int sr_sgd_step_checked(sr_sgd *o, float *p, const float *g, double lr);
void sr_sgd_free(sr_sgd *o);

typedef enum sr_lr_kind { SR_LR_CONSTANT, SR_LR_STEP, SR_LR_COSINE, SR_LR_CYCLIC } sr_lr_kind;

typedef struct sr_lr_schedule {
  sr_lr_kind kind;
  double lr0;
  int step_size;     // step: epochs per decay
  double gamma;      // step: decay factor
  int total_epochs;  // cosine: T_max
  double eta_min;    // cosine
} sr_lr_schedule;

// lr for a 0-based epoch. cyclic (the paper's): lr0 * 0.3^floor((epoch mod 20) / 4).
double sr_lr_at(const sr_lr_schedule *s, int epoch);
// "constant", "step", "cosine", "cyclic" -> kind; other fields keep their values.
sr_status sr_lr_parse(const char *name, sr_lr_schedule *s, sr_err *err);
const char *sr_lr_name(sr_lr_kind k);

#ifdef __cplusplus
}
#endif
#endif
