// Learning-rate schedules, as closed forms of the epoch (so a resumed run gets the same rates).
#include <math.h>
#include <string.h>

#include "simreg/optim.h"

double sr_lr_at(const sr_lr_schedule *s, int epoch) {
  switch (s->kind) {
    case SR_LR_CONSTANT:
      return s->lr0;
    case SR_LR_STEP:
      return s->lr0 * pow(s->gamma, (double)(epoch / (s->step_size > 0 ? s->step_size : 1)));
    case SR_LR_COSINE: {
      int T = s->total_epochs > 0 ? s->total_epochs : 1;
      return s->eta_min + (s->lr0 - s->eta_min) * (1 + cos(M_PI * (double)epoch / T)) / 2;
    }
    case SR_LR_CYCLIC:
      return s->lr0 * pow(0.3, (double)((epoch % 20) / 4));
  }
  return s->lr0;
}

static const char *NAMES[] = {"constant", "step", "cosine", "cyclic"};

const char *sr_lr_name(sr_lr_kind k) { return (unsigned)k < 4 ? NAMES[k] : "?"; }

sr_status sr_lr_parse(const char *name, sr_lr_schedule *s, sr_err *err) {
  for (int k = 0; k < 4; k++)
    if (!strcmp(name, NAMES[k])) {
      s->kind = (sr_lr_kind)k;
      return SR_OK;
    }
  return sr_fail(err, SR_ERR_ARG, "unknown learning-rate schedule '%s' (constant, step, cosine, cyclic)",
                 name);
}
