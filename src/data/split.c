// A fixed random validation hold-out: a seeded permutation, its head is the validation set.
#include <math.h>
#include <stdlib.h>

#include "data/internal.h"

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

sr_status sr_split_holdout(const sr_holdout_spec *sp, int64_t **train_idx, int64_t *n_train,
                           int64_t **val_idx, int64_t *n_val, sr_err *err) {
  const int64_t n = sp->n;
  const double fraction = sp->fraction;
  const uint64_t seed = sp->seed;
  *train_idx = *val_idx = NULL;
  *n_train = *n_val = 0;
  if (n < 2) return sr_fail(err, SR_ERR_ARG, "hold-out split of %lld samples: need at least 2", (long long)n);
  if (!(fraction >= 0 && fraction < 1))
    return sr_fail(err, SR_ERR_ARG, "hold-out fraction %g: must be in [0, 1)", fraction);
  int64_t nv = (int64_t)llround(fraction * (double)n);
  if (fraction > 0 && nv < 1) nv = 1;
  if (nv > n - 1) nv = n - 1;
  int64_t *perm = sr_alloc(sizeof(int64_t) * (size_t)n);
  int64_t *val = sr_alloc(sizeof(int64_t) * (size_t)(nv ? nv : 1));
  int64_t *train = sr_alloc(sizeof(int64_t) * (size_t)(n - nv));
  if (!perm || !val || !train) {
    sr_free(perm);
    sr_free(val);
    sr_free(train);
    return sr_fail(err, SR_ERR_NOMEM, "hold-out split: cannot allocate %lld indices", (long long)n);
  }
  for (int64_t i = 0; i < n; i++) perm[i] = i;
  sr_rng r;
  sr_rng_seed(&r, sr_data_key(seed, 0, SR_DATA_KEY_HOLDOUT), (uint64_t)n);
  sr_rng_shuffle(&r, perm, n);
  for (int64_t i = 0; i < nv; i++) val[i] = perm[i];
  for (int64_t i = nv; i < n; i++) train[i - nv] = perm[i];
  sr_free(perm);
  qsort(val, (size_t)nv, sizeof(int64_t), cmp_i64);
  qsort(train, (size_t)(n - nv), sizeof(int64_t), cmp_i64);
  *train_idx = train;
  *n_train = n - nv;
  *val_idx = val;
  *n_val = nv;
  return SR_OK;
}
