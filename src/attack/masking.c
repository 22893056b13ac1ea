// Gradient-masking flags (after AutoAttack's checks): each flag is decided by one fixed rule on numbers the
// robustness runners measured, and reports them with the rule, as the report's verdicts do.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "simreg/robustness.h"

sr_masking_in sr_masking_in_none(void) {
  return (sr_masking_in){.square_success = NAN,
                         .pgd_success = NAN,
                         .acc_large = NAN,
                         .eps_large = NAN,
                         .acc_default = NAN,
                         .acc_strong = NAN,
                         .eps_pgd = NAN};
}

// (a) per image: the black-box minimum at least 10% below the white-box one, on more than 10% of the images
// both found; or Square's success rate above PGD's at the same eps by more than 2 points.
static void flag_black_box(const sr_masking_in *in, sr_masking_flag *f) {
  f->name = "black_box_beats_white_box";
  int64_t both = 0;
  int64_t below = 0;
  for (int64_t i = 0; in->bb_min && in->wb_min && i < in->n_min; i++) {
    if (!isfinite(in->bb_min[i]) || !isfinite(in->wb_min[i])) continue;
    both++;
    below += in->bb_min[i] < SR_MASK_BB_RATIO * in->wb_min[i];
  }
  int per_image = both > 0;
  int square = !isnan(in->square_success) && !isnan(in->pgd_success);
  f->measured = per_image || square;
  f->threshold = SR_MASK_BB_SHARE;
  f->value = per_image ? (double)below / (double)both : NAN;
  int fired_img = per_image && f->value > SR_MASK_BB_SHARE;
  int fired_sq = square && in->square_success > in->pgd_success + SR_MASK_SQUARE_MARGIN;
  f->fired = fired_img || fired_sq;
  snprintf(
      f->rule, sizeof f->rule,
      "fires when a black-box minimal perturbation is < %.2f x the white-box one on > %.0f%% of the images "
      "both found, or Square's success rate exceeds PGD's by > %.0f points at the same eps",
      SR_MASK_BB_RATIO, 100 * SR_MASK_BB_SHARE, 100 * SR_MASK_SQUARE_MARGIN);
  char sq[80] = "square vs pgd: not measured";
  if (square) snprintf(sq, sizeof sq, "square success %.3f vs pgd %.3f", in->square_success, in->pgd_success);
  if (per_image)
    snprintf(f->numbers, sizeof f->numbers, "black box smaller on %lld of %lld images (%.3f); %s",
             (long long)below, (long long)both, f->value, sq);
  else
    snprintf(f->numbers, sizeof f->numbers, "per-image black vs white box: not measured; %s", sq);
}

// (b) accuracy above 1% under PGD at a large eps (at eps 1 in L-inf any image can be replaced).
static void flag_large_eps(const sr_masking_in *in, sr_masking_flag *f) {
  f->name = "accuracy_at_large_eps";
  f->measured = !isnan(in->acc_large);
  f->value = in->acc_large;
  f->threshold = SR_MASK_LARGE_ACC;
  f->fired = f->measured && in->acc_large > SR_MASK_LARGE_ACC;
  snprintf(f->rule, sizeof f->rule,
           "fires when PGD leaves more than %.0f%% of the attacked images correct at a large eps",
           100 * SR_MASK_LARGE_ACC);
  if (f->measured)
    snprintf(f->numbers, sizeof f->numbers, "accuracy %.4f at eps %g", in->acc_large, in->eps_large);
  else
    snprintf(f->numbers, sizeof f->numbers, "not measured");
}

// (c) the stronger PGD (more steps, restarts) lowers accuracy by more than 3 points.
static void flag_stronger(const sr_masking_in *in, sr_masking_flag *f) {
  f->name = "stronger_pgd_finds_more";
  f->measured = !isnan(in->acc_default) && !isnan(in->acc_strong);
  f->value = f->measured ? in->acc_default - in->acc_strong : NAN;
  f->threshold = SR_MASK_STRONG_DROP;
  f->fired = f->measured && f->value > SR_MASK_STRONG_DROP;
  snprintf(f->rule, sizeof f->rule,
           "fires when PGD with more steps and restarts lowers the accuracy by more than %.0f "
           "points",
           100 * SR_MASK_STRONG_DROP);
  if (f->measured)
    snprintf(f->numbers, sizeof f->numbers, "accuracy %.4f (default PGD) vs %.4f (stronger) at eps %g",
             in->acc_default, in->acc_strong, in->eps_pgd);
  else
    snprintf(f->numbers, sizeof f->numbers, "not measured");
}

// (d) zero or non-finite input gradients on more than 1% of the images.
static void flag_zero_grad(const sr_masking_in *in, sr_masking_flag *f) {
  f->name = "zero_gradients";
  f->measured = in->n_grad > 0;
  f->value = f->measured ? (double)in->zero_grad / (double)in->n_grad : NAN;
  f->threshold = SR_MASK_ZERO_SHARE;
  f->fired = f->measured && f->value > SR_MASK_ZERO_SHARE;
  snprintf(f->rule, sizeof f->rule,
           "fires when the cross-entropy input gradient at the clean image is zero or not "
           "finite on more than %.0f%% of the images",
           100 * SR_MASK_ZERO_SHARE);
  if (f->measured)
    snprintf(f->numbers, sizeof f->numbers, "%lld of %lld images", (long long)in->zero_grad,
             (long long)in->n_grad);
  else
    snprintf(f->numbers, sizeof f->numbers, "not measured");
}

void sr_masking_flags(const sr_masking_in *in, sr_masking_flag out[SR_MASK_COUNT]) {
  memset(out, 0, SR_MASK_COUNT * sizeof *out);
  flag_black_box(in, &out[SR_MASK_BLACK_BOX]);
  flag_large_eps(in, &out[SR_MASK_LARGE_EPS]);
  flag_stronger(in, &out[SR_MASK_STRONGER_PGD]);
  flag_zero_grad(in, &out[SR_MASK_ZERO_GRAD]);
}

static cJSON *num_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

void sr_masking_json(const sr_masking_flag f[SR_MASK_COUNT], cJSON *out) {
  cJSON *m = cJSON_AddObjectToObject(out, "masking");
  cJSON *arr = cJSON_AddArrayToObject(m, "flags");
  int any = 0;
  int measured = 0;
  for (int k = 0; k < SR_MASK_COUNT; k++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", f[k].name);
    cJSON_AddBoolToObject(o, "measured", f[k].measured);
    cJSON_AddBoolToObject(o, "fired", f[k].fired);
    cJSON_AddItemToObject(o, "value", num_or_null(f[k].value));
    cJSON_AddNumberToObject(o, "threshold", f[k].threshold);
    cJSON_AddStringToObject(o, "numbers", f[k].numbers);
    cJSON_AddStringToObject(o, "rule", f[k].rule);
    cJSON_AddItemToArray(arr, o);
    any |= f[k].fired;
    measured += f[k].measured;
  }
  cJSON_AddBoolToObject(m, "any_fired", any);
  cJSON_AddNumberToObject(m, "measured", measured);
}
