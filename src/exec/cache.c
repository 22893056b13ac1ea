// The model's executor caches (cache.h) and the options its executors follow.
#include "cache.h"
#include "engine.h"

sr_status sr_model_set_winograd(sr_model *m, int on, sr_err *err) {
  if (!m->exec) return sr_fail(err, SR_ERR_ARG, "model is not initialised");
  if (on != 0 && on != 1) return sr_fail(err, SR_ERR_ARG, "Winograd switch must be 0 or 1 (got %d)", on);
  if (on == m->exec->winograd) return SR_OK;
  // tapes and plans pick Winograd or direct convolutions when they are built
  sr_model_free_tapes(m);
  sr_model_free_infers(m);
  m->exec->winograd = on;
  return SR_OK;
}

int sr_model_winograd(const sr_model *m) { return m->exec ? m->exec->winograd : sr_wino_native(); }
