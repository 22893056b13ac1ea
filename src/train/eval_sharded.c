// Evaluation split over data-parallel ranks: each rank runs its contiguous shard, the sums are reduced.
#include <stdlib.h>
#include <string.h>

#include "simreg/train.h"

sr_status sr_evaluate_sharded(sr_dist *d, sr_model *m, const sr_eval_set *set, const sr_loader_opts *o,
                              int want_confusion, sr_eval_result *r, sr_err *err) {
  if (sr_dist_size(d) == 1) return sr_evaluate(m, set, o, want_confusion, r, err);
  const sr_dataset *ds = set->ds;
  const int64_t *idx = set->idx;
  int64_t n = set->n;
  memset(r, 0, sizeof *r);
  if (!idx) n = ds->n;
  int64_t lo, hi;
  sr_dist_shard(n, sr_dist_rank(d), sr_dist_size(d), &lo, &hi);
  int64_t *mine = sr_alloc(sizeof(int64_t) * (size_t)(hi - lo + 1));
  if (!mine) return sr_fail(err, SR_ERR_NOMEM, "evaluation shard of %lld images", (long long)(hi - lo));
  for (int64_t i = lo; i < hi; i++) mine[i - lo] = idx ? idx[i] : i;
  sr_eval_set shard = {.ds = ds, .idx = mine, .n = hi - lo};
  sr_status st = sr_evaluate(m, &shard, o, want_confusion, r, err);
  sr_free(mine);
  if (st) return st;
  // The loss as a sum, the hits and the confusion counts, summed over ranks. (A rank that failed above
  // returned before these collectives; the CLI then aborts the job, so nobody waits forever.)
  double loss_sum = r->loss * (double)r->n;
  int64_t hits = r->correct;
  if (!(st = sr_dist_allreduce_f64(d, &loss_sum, 1, err)) &&
      !(st = sr_dist_allreduce_i64(d, &hits, 1, err)) && r->confusion)
    st = sr_dist_allreduce_i64(d, r->confusion, (int64_t)r->classes * r->classes, err);
  if (st) {
    sr_eval_result_free(r);
    return st;
  }
  r->n = n;
  r->correct = hits;
  r->loss = n ? loss_sum / (double)n : 0;
  r->accuracy = n ? (double)hits / (double)n : 0;
  return SR_OK;
}
