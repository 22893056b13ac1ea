// Non-finite detection after each training step. A fast pass per buffer (0 * x is NaN exactly when x is
// Inf or NaN, so one vectorised sum tells whether anything is wrong); only then a scan per tensor to name it.
#include "finite.h"

#include <math.h>

// Whether x[0..n) are all finite.
static int all_finite(const float *x, int64_t n) {
  float acc = 0;
#pragma omp parallel for simd reduction(+ : acc) schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; i++) acc += 0.0f * x[i];
  return acc == 0.0f;
}

// First parameter tensor of m with a non-finite value in buf (params or grads), or NULL; *at: its index.
static const sr_tensor_info *first_bad(const sr_model *m, const float *buf, int64_t *at) {
  for (int t = 0; t < m->n_tensors; t++) {
    const sr_tensor_info *ti = &m->tensors[t];
    if (ti->where != 0) continue;  // running statistics are not trained
    for (int64_t i = 0; i < ti->count; i++)
      if (!isfinite(buf[ti->offset + i])) {
        *at = i;
        return ti;
      }
  }
  return NULL;
}

// The weight tensor with the largest magnitude (the usual culprit when a finite update overflowed the
// next forward pass); *mag: that magnitude.
static const sr_tensor_info *largest_weight(const sr_model *m, double *mag) {
  const sr_tensor_info *best = NULL;
  *mag = -1;
  for (int t = 0; t < m->n_tensors; t++) {
    const sr_tensor_info *ti = &m->tensors[t];
    if (ti->where != 0) continue;
    for (int64_t i = 0; i < ti->count; i++) {
      double a = fabs((double)m->params[ti->offset + i]);
      if (a > *mag) {
        *mag = a;
        best = ti;
      }
    }
  }
  return best;
}

sr_status sr_train_check_finite(const sr_model *m, double loss, int epoch, int64_t step, sr_err *err) {
  static const char *const what[2] = {"gradient", "weight after the update"};
  const float *bufs[2] = {m->grads, m->params};
  if (!isfinite(loss)) {  // before backward: the weights the forward pass used are to blame
    double mag;
    if (!all_finite(m->params, m->n_params))
      bufs[0] = NULL;  // name the non-finite weight below
    else {
      const sr_tensor_info *ti = largest_weight(m, &mag);
      return sr_fail(
          err, SR_ERR_NUMERIC,
          "training diverged at epoch %d step %lld: the loss is %g; the weights are finite but reach "
          "|w| = %.3g in layer '%s' (the forward pass overflowed); lower --lr",
          epoch + 1, (long long)step, loss, mag, ti ? ti->name : "?");
    }
  }
  for (int k = 0; k < 2; k++) {
    if (!bufs[k] || all_finite(bufs[k], m->n_params)) continue;
    int64_t at = 0;
    const sr_tensor_info *ti = first_bad(m, bufs[k], &at);
    return sr_fail(
        err, SR_ERR_NUMERIC,
        "training diverged at epoch %d step %lld: non-finite %s in layer '%s' (element %lld is %g; "
        "the loss was %g); lower --lr",
        epoch + 1, (long long)step, what[k], ti ? ti->name : "?", (long long)at,
        ti ? (double)bufs[k][ti->offset + at] : NAN, loss);
  }
  return SR_OK;
}
