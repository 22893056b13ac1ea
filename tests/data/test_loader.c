// Prefetching loader: bit-identical to sr_make_batch over the epoch order, resumable mid-epoch,
// buffers stable while held, clean shutdown mid-epoch; and the validation hold-out split.
#include "data/data_fixtures.h"

#include <time.h>

#include "simreg/data.h"
#include "sr_test.h"

enum { N = 203, S = 8, B = 16 };

static void make_ds(sr_dataset *ds) {
  memset(ds, 0, sizeof *ds);
  ds->n = N;
  ds->c = 3;
  ds->h = ds->w = S;
  ds->num_classes = 10;
  ds->images = sr_alloc((size_t)N * 3 * S * S);
  ds->labels = sr_alloc(sizeof(int32_t) * N);
  sr_rng r;
  sr_rng_seed(&r, 9, 0);
  for (size_t i = 0; i < (size_t)N * 3 * S * S; i++) ds->images[i] = (uint8_t)sr_rng_u64(&r);
  for (int i = 0; i < N; i++) ds->labels[i] = (int32_t)sr_rng_below(&r, 10);
}

static void sleep_ms(int ms) {
  struct timespec ts = {0, (long)ms * 1000000L};
  nanosleep(&ts, NULL);
}

// Run an epoch (from first_batch) and compare every batch with sr_make_batch on the epoch order.
// Returns the number of batches seen; slow: sleep before checking, so a producer overwriting a held
// buffer would be caught.
static int64_t check_epoch(sr_loader *l, const sr_dataset *ds, const int64_t *idx, int64_t n,
                           const sr_loader_opts *o, int epoch, int64_t first_batch, int slow) {
  sr_err err = {0};
  int64_t *order = sr_alloc(sizeof(int64_t) * (size_t)n);
  sr_epoch_order(idx, n, o, epoch, order);
  size_t per = (size_t)sr_batch_channels(ds, o) * S * S;
  float *want = sr_alloc(sizeof(float) * per * (size_t)o->batch);
  int32_t wy[64];
  CHECK_OK(sr_loader_start(l, epoch, first_batch, &err), &err);
  const float *x;
  const int32_t *y;
  int64_t nb, b = first_batch, bad = 0;
  while (sr_loader_next(l, &x, &y, &nb)) {
    int64_t pos = b * o->batch, expect_nb = n - pos < o->batch ? n - pos : o->batch;
    if (slow) sleep_ms(2);
    sr_make_batch(ds, &(sr_batch_rows){order + pos, expect_nb, epoch, pos}, o, want, wy, &err);
    if (nb != expect_nb || memcmp(x, want, sizeof(float) * per * (size_t)nb) ||
        memcmp(y, wy, sizeof(int32_t) * (size_t)nb))
      bad++;
    b++;
  }
  CHECK(bad == 0, "epoch %d from batch %lld: %lld batches differ from sr_make_batch", epoch,
        (long long)first_batch, (long long)bad);
  CHECK(!sr_loader_next(l, &x, &y, &nb), "after the epoch, next keeps returning 0");
  sr_free(order);
  sr_free(want);
  return b - first_batch;
}

static void test_loader_matches_sync(void) {
  sr_dataset ds;
  make_ds(&ds);
  int64_t idx[N];
  for (int i = 0; i < N; i++) idx[i] = (i * 11) % N;  // a permutation (gcd(11, 203) = 1), not the identity
  sr_loader_opts o = sr_loader_opts_default();
  o.batch = B;
  o.crop_pad = 2;
  o.seed = 5;
  sr_err err = {0};
  sr_loader *l = NULL;
  CHECK_OK(sr_loader_create(&ds, idx, N, &o, &l, &err), &err);
  const float *x;
  const int32_t *y;
  int64_t nb;
  CHECK(!sr_loader_next(l, &x, &y, &nb), "next before start returns 0");
  CHECK(sr_loader_batches(l) == (N + B - 1) / B && sr_loader_channels(l) == 1, "batches %lld",
        (long long)sr_loader_batches(l));
  CHECK(check_epoch(l, &ds, idx, N, &o, 3, 0, 0) == 13, "13 batches, the last one partial (11)");
  CHECK(check_epoch(l, &ds, idx, N, &o, 3, 5, 1) == 8, "resumed at batch 5: the same batches 5..12");
  check_epoch(l, &ds, idx, N, &o, 4, 0, 1);
  double w = sr_loader_wait_seconds(l);
  CHECK(w >= 0 && w < 60, "wait seconds %g", w);
  sr_loader_destroy(l);

  // Epoch order: a permutation of idx, different per epoch, the idx itself without shuffle.
  int64_t a[N], b[N], seen[N];
  sr_epoch_order(idx, N, &o, 3, a);
  sr_epoch_order(idx, N, &o, 4, b);
  memset(seen, 0, sizeof seen);
  for (int i = 0; i < N; i++) seen[a[i]]++;
  int perm = 1, moved = 0;
  for (int i = 0; i < N; i++) {
    perm &= seen[i] == 1;
    moved += a[i] != b[i];
  }
  CHECK(perm, "epoch order is a permutation of the index list");
  CHECK(moved > N / 2, "epochs 3 and 4 differ in %d places", moved);
  o.shuffle = 0;
  o.augment = 0;
  o.gray = 0;
  o.drop_last = 1;
  sr_epoch_order(idx, N, &o, 3, a);
  CHECK(!memcmp(a, idx, sizeof a), "no shuffle: the given order");
  CHECK_OK(sr_loader_create(&ds, idx, N, &o, &l, &err), &err);
  CHECK(sr_loader_batches(l) == N / B && sr_loader_channels(l) == 3, "drop_last: %lld batches",
        (long long)sr_loader_batches(l));
  CHECK(check_epoch(l, &ds, idx, N, &o, 0, 0, 0) == N / B, "drop_last epoch: only full batches");
  sr_loader_destroy(l);
  sr_dataset_free(&ds);
}

static void test_shutdown(void) {
  sr_dataset ds;
  make_ds(&ds);
  int64_t idx[N];
  for (int i = 0; i < N; i++) idx[i] = i;
  sr_loader_opts o = sr_loader_opts_default();
  o.batch = 4;
  sr_err err = {0};
  const float *x;
  const int32_t *y;
  int64_t nb;
  for (int trial = 0; trial < 20; trial++) {  // destroy at various points mid-epoch, with a full ring
    sr_loader *l = NULL;
    CHECK_OK(sr_loader_create(&ds, idx, N, &o, &l, &err), &err);
    CHECK_OK(sr_loader_start(l, trial, 0, &err), &err);
    for (int k = 0; k < trial % 5; k++) sr_loader_next(l, &x, &y, &nb);
    if (trial % 2) sleep_ms(1);
    if (trial % 3 == 0) CHECK_OK(sr_loader_start(l, trial + 1, 7, &err), &err);  // restart mid-epoch
    sr_loader_destroy(l);
  }
  sr_loader *l = NULL;
  CHECK_OK(sr_loader_create(&ds, idx, N, &o, &l, &err), &err);
  CHECK(sr_loader_start(l, 0, sr_loader_batches(l) + 1, &err) == SR_ERR_ARG, "first batch past the end: %s",
        err.msg);
  CHECK(!sr_loader_next(l, &x, &y, &nb), "a failed start leaves no epoch running");
  CHECK_OK(sr_loader_start(l, 0, sr_loader_batches(l), &err), &err);
  CHECK(!sr_loader_next(l, &x, &y, &nb), "starting at the last batch index gives an empty epoch");
  sr_loader_destroy(l);
  sr_loader_destroy(NULL);
  idx[3] = N;
  CHECK(sr_loader_create(&ds, idx, N, &o, &l, &err) == SR_ERR_ARG && l == NULL && strstr(err.msg, "entry 3"),
        "index out of range refused: %s", err.msg);
  CHECK(sr_loader_create(&ds, idx, 0, &o, &l, &err) == SR_ERR_ARG, "empty index list refused");
  sr_dataset_free(&ds);
}

static void test_holdout(void) {
  sr_err err = {0};
  int64_t *tr, *va, ntr, nva, *tr2, *va2, ntr2, nva2;
  CHECK_OK(sr_split_holdout(&(sr_holdout_spec){.n = 60000, .fraction = 0.01, .seed = 42}, &tr, &ntr, &va,
                            &nva, &err),
           &err);
  CHECK(nva == 600 && ntr == 59400, "1%% of 60000: %lld / %lld", (long long)nva, (long long)ntr);
  static unsigned char mark[60000];
  int sorted = 1, dup = 0;
  for (int64_t i = 0; i < ntr; i++) {
    dup += mark[tr[i]]++ != 0;
    sorted &= i == 0 || tr[i] > tr[i - 1];
  }
  for (int64_t i = 0; i < nva; i++) {
    dup += mark[va[i]]++ != 0;
    sorted &= i == 0 || va[i] > va[i - 1];
  }
  int covered = 1;
  for (int i = 0; i < 60000; i++) covered &= mark[i] == 1;
  CHECK(dup == 0 && covered, "train and validation are disjoint and cover 0..n-1");
  CHECK(sorted, "both lists sorted ascending");
  CHECK(va[0] < 1000 && va[nva - 1] > 59000, "validation spread over the range: %lld..%lld", (long long)va[0],
        (long long)va[nva - 1]);
  CHECK_OK(sr_split_holdout(&(sr_holdout_spec){.n = 60000, .fraction = 0.01, .seed = 42}, &tr2, &ntr2, &va2,
                            &nva2, &err),
           &err);
  CHECK(nva2 == nva && !memcmp(va, va2, sizeof(int64_t) * (size_t)nva), "same seed: same split");
  sr_free(tr2);
  sr_free(va2);
  CHECK_OK(sr_split_holdout(&(sr_holdout_spec){.n = 60000, .fraction = 0.01, .seed = 43}, &tr2, &ntr2, &va2,
                            &nva2, &err),
           &err);
  int common = 0;
  for (int64_t i = 0, j = 0; i < nva && j < nva2;) {
    if (va[i] == va2[j]) {
      common++;
      i++;
      j++;
    } else if (va[i] < va2[j])
      i++;
    else
      j++;
  }
  CHECK(common < 40, "another seed: a different split (%d of 600 in common)", common);
  sr_free(tr2);
  sr_free(va2);
  sr_free(tr);
  sr_free(va);
  CHECK_OK(
      sr_split_holdout(&(sr_holdout_spec){.n = 50, .fraction = 0.01, .seed = 1}, &tr, &ntr, &va, &nva, &err),
      &err);
  CHECK(nva == 1 && ntr == 49, "a small set still holds out one sample");
  sr_free(tr);
  sr_free(va);
  CHECK_OK(
      sr_split_holdout(&(sr_holdout_spec){.n = 50, .fraction = 0, .seed = 1}, &tr, &ntr, &va, &nva, &err),
      &err);
  CHECK(nva == 0 && ntr == 50 && tr[49] == 49, "fraction 0 keeps everything for training");
  sr_free(tr);
  sr_free(va);
  CHECK(sr_split_holdout(&(sr_holdout_spec){.n = 50, .fraction = 1.0, .seed = 1}, &tr, &ntr, &va, &nva,
                         &err) == SR_ERR_ARG,
        "fraction 1 refused: %s", err.msg);
}

int main(void) {
  test_loader_matches_sync();
  test_shutdown();
  test_holdout();
  return sr_test_done();
}
