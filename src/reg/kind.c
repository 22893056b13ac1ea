// Target kinds: names and the subset rules of the public code (docs/REGULARIZER.md).
#include <math.h>
#include <string.h>

#include "internal.h"

static const char *const NAMES[] = {"threshold", "pixel", "high", "low", "positive", "negative", "file"};

sr_status sr_reg_kind_parse(const char *name, sr_reg_kind *kind, sr_err *err) {
  for (int k = 0; k < (int)(sizeof NAMES / sizeof NAMES[0]); k++)
    if (name && !strcmp(name, NAMES[k])) {
      *kind = (sr_reg_kind)k;
      return SR_OK;
    }
  return sr_fail(err, SR_ERR_ARG,
                 "unknown regularization target '%s' (threshold, pixel, high, low, positive, negative, file)",
                 name ? name : "(null)");
}

const char *sr_reg_kind_name(sr_reg_kind kind) {
  return (unsigned)kind < sizeof NAMES / sizeof NAMES[0] ? NAMES[kind] : "?";
}

int sr_reg_kind_is_subset(sr_reg_kind kind) {
  return kind == SR_REG_HIGH || kind == SR_REG_LOW || kind == SR_REG_POSITIVE || kind == SR_REG_NEGATIVE;
}

int sr_reg_subset_keeps(sr_reg_kind kind, double th, float v) {
  double a = fabs((double)v);
  switch (kind) {
    case SR_REG_HIGH:
      return a > th;
    case SR_REG_LOW:
      return a < th;
    case SR_REG_POSITIVE:
      return v > th || a < th;
    case SR_REG_NEGATIVE:
      return v < -th || a < th;
    default:
      return 1;
  }
}

sr_reg_target_opts sr_reg_target_opts_default(void) {
  return (sr_reg_target_opts){.kind = SR_REG_THRESHOLD, .th = 0.8, .subset_thresholded = 0};
}
