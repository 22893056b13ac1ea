// Evaluation: accuracy, mean loss and the confusion matrix, in eval mode, on the model's inference plans.
#include <stdlib.h>
#include <string.h>

#include "simreg/layers.h"
#include "simreg/train.h"

void sr_eval_result_free(sr_eval_result *r) {
  free(r->confusion);
  r->confusion = NULL;
}

static void tally(sr_eval_result *r, const float *logits, const int32_t *y, int64_t nb, int K) {
  for (int64_t i = 0; i < nb; i++) {
    const float *z = logits + i * K;
    int arg = 0;
    for (int k = 1; k < K; k++)
      if (z[k] > z[arg]) arg = k;
    r->correct += arg == y[i];
    if (r->confusion) r->confusion[(int64_t)y[i] * K + arg]++;
  }
}

sr_status sr_evaluate(sr_model *m, const sr_eval_set *set, const sr_loader_opts *o, int want_confusion,
                      sr_eval_result *r, sr_err *err) {
  const sr_dataset *ds = set->ds;
  const int64_t *idx = set->idx;
  int64_t n = set->n;
  memset(r, 0, sizeof *r);
  int K = m->cfg.classes;
  if (!idx) n = ds->n;
  if (ds->num_classes > K)
    return sr_fail(err, SR_ERR_SHAPE, "dataset %s has %d classes, the model %d", ds->name, ds->num_classes,
                   K);
  int64_t B = o->batch > 0 ? o->batch : 256, chw = (int64_t)sr_batch_channels(ds, o) * ds->h * ds->w;
  float *x = sr_alloc(sizeof(float) * (size_t)(B * chw)), *logits = sr_alloc(sizeof(float) * (size_t)(B * K));
  int32_t *y = sr_alloc(sizeof(int32_t) * (size_t)B);
  int64_t *ids = sr_alloc(sizeof(int64_t) * (size_t)B);
  r->classes = K;
  if (want_confusion) r->confusion = calloc((size_t)K * (size_t)K, sizeof(int64_t));
  sr_status st = (!x || !logits || !y || !ids || (want_confusion && !r->confusion))
                     ? sr_fail(err, SR_ERR_NOMEM, "evaluation buffers")
                     : SR_OK;
  double loss_sum = 0;
  for (int64_t s = 0; s < n && !st; s += B) {
    int64_t nb = n - s < B ? n - s : B;
    for (int64_t i = 0; i < nb; i++) ids[i] = idx ? idx[s + i] : s + i;
    st = sr_make_batch(ds, &(sr_batch_rows){.idx = ids, .n = nb, .epoch = 0, .first_position = s}, o, x, y,
                       err);
    if (!st) st = sr_model_infer(m, x, nb, logits, err);  // fused inference plan (BN folded)
    if (st) break;
    loss_sum += (double)sr_softmax_ce(NULL, logits, y, (int)nb, K, NULL) * (double)nb;
    tally(r, logits, y, nb, K);
  }
  r->n = n;
  r->loss = n ? loss_sum / (double)n : 0;
  r->accuracy = n ? (double)r->correct / (double)n : 0;
  sr_free(x);
  sr_free(logits);
  sr_free(y);
  sr_free(ids);
  if (st) sr_eval_result_free(r);
  return st;
}
