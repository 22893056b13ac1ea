// dist: shard ranges, the one-process communicator, the backward hook's "final gradient" offsets, and
// (re-run under mpirun with 3 ranks) the collectives and the bucketed gradient allreduce.
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "simreg/dist.h"
#include "sr_test.h"

static void test_shard(void) {
  const int64_t ns[] = {0, 1, 2, 5, 7, 10, 64, 1000003, (int64_t)1 << 50};
  const int sizes[] = {1, 2, 3, 7, 64};
  for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
    for (size_t b = 0; b < sizeof sizes / sizeof sizes[0]; b++) {
      int64_t n = ns[a], prev = 0, mn = n, mx = 0;
      int R = sizes[b], ok = 1;
      for (int r = 0; r < R; r++) {
        int64_t lo, hi;
        sr_dist_shard(n, r, R, &lo, &hi);
        ok &= lo == prev && hi >= lo;
        prev = hi;
        mn = hi - lo < mn ? hi - lo : mn;
        mx = hi - lo > mx ? hi - lo : mx;
      }
      CHECK(ok && prev == n, "shards of %lld over %d ranks are not contiguous or do not cover", (long long)n,
            R);
      CHECK(mx - mn <= 1, "shard sizes of %lld over %d ranks differ by %lld", (long long)n, R,
            (long long)(mx - mn));
    }
  int64_t lo, hi;
  sr_dist_shard(64, 1, 2, &lo, &hi);  // the documented rows [r*B/R, (r+1)*B/R)
  CHECK(lo == 32 && hi == 64, "rank 1 of 2 of a batch of 64: [%lld, %lld)", (long long)lo, (long long)hi);
}

// Batch shards: contiguous, covering, cut only at multiples of the batch, batch counts within one.
static void test_shard_batches(void) {
  const int64_t ns[] = {0, 1, 15, 16, 17, 40, 1000};
  const int64_t bs[] = {1, 16, 128};
  for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
    for (size_t b = 0; b < sizeof bs / sizeof bs[0]; b++)
      for (int R = 1; R <= 5; R++) {
        int64_t n = ns[a], B = bs[b], prev = 0, mn = n, mx = 0;
        int ok = 1;
        for (int r = 0; r < R; r++) {
          int64_t lo, hi;
          sr_dist_shard_batches(n, B, r, R, &lo, &hi);
          ok &= lo == prev && hi >= lo && (lo % B == 0 || lo == n) && (hi % B == 0 || hi == n);
          prev = hi;
          int64_t nb = (hi - lo + B - 1) / B;
          mn = nb < mn ? nb : mn;
          mx = nb > mx ? nb : mx;
        }
        CHECK(ok && prev == n, "batch shards of %lld (batch %lld) over %d ranks", (long long)n, (long long)B,
              R);
        CHECK(mx - mn <= 1, "batch counts of %lld (batch %lld) over %d ranks differ by %lld", (long long)n,
              (long long)B, R, (long long)(mx - mn));
      }
}

static void test_local(void) {
  sr_err err = {0};
  sr_dist *d;
  CHECK_OK(sr_dist_init(&d, &err), &err);
  CHECK(sr_dist_rank(d) == 0 && sr_dist_size(d) == 1, "without mpirun: rank %d of %d", sr_dist_rank(d),
        sr_dist_size(d));
  float f[3] = {1, 2, 3};
  double g[2] = {0.5, -1};
  CHECK_OK(sr_dist_allreduce_f32(d, f, 3, &err), &err);
  CHECK_OK(sr_dist_allreduce_f64(d, g, 2, &err), &err);
  CHECK(f[0] == 1 && f[2] == 3 && g[1] == -1, "one-process sums must be the identity");
  int64_t items[5] = {4, 5, 6, 7, 8}, out[5] = {0};
  CHECK_OK(sr_dist_gather_items(d, items, 5, sizeof(int64_t), out, &err), &err);
  CHECK(!memcmp(items, out, sizeof items), "one-process gather must copy");
  sr_dist_finalize(d);
}

// A small model with BN, residual adds and a classifier.
static sr_status make_model(sr_model *m, const char *arch, int hw, sr_err *err) {
  sr_model_config c = {.in_c = 1, .in_h = hw, .in_w = hw, .classes = 10, .width = 0.0625};
  snprintf(c.arch, sizeof c.arch, "%s", arch);
  sr_rng rng;
  sr_rng_seed(&rng, 3, 1);
  return sr_model_create(m, &c, &rng, err);
}

static void fill(float *x, int64_t n, uint64_t seed) {
  sr_rng r;
  sr_rng_seed(&r, seed, 2);
  for (int64_t i = 0; i < n; i++) x[i] = (float)sr_rng_normal(&r);
}

typedef struct snap {
  const sr_model *m;
  float *copies;  // per node: the whole gradient buffer when the hook fired
  int fired[256];
} snap;

static void record(void *ctx, int node) {
  snap *s = ctx;
  memcpy(s->copies + (size_t)node * (size_t)s->m->n_params, s->m->grads,
         sizeof(float) * (size_t)s->m->n_params);
  s->fired[node]++;
}

// When the hook fires for node i, every gradient at or above sr_dist_ready_offset(m, i) already has its
// final value: what the bucketed allreduce relies on.
static void test_hook(const char *arch, int hw) {
  sr_err err = {0};
  sr_model m;
  CHECK_OK(make_model(&m, arch, hw, &err), &err);
  if (err.code) return;
  int64_t n = 4, in = (int64_t)hw * hw, P = m.n_params;
  float *x = sr_alloc(sizeof(float) * (size_t)(n * in)), *dout = sr_alloc(sizeof(float) * (size_t)(n * 10));
  snap s = {.m = &m, .copies = sr_alloc(sizeof(float) * (size_t)P * (size_t)m.n_nodes)};
  fill(x, n * in, 1);
  fill(dout, n * 10, 2);
  sr_tape *t;
  CHECK_OK(sr_model_tape(&m, n, 0, &t, &err), &err);
  CHECK_OK(sr_tape_forward(t, x, 1, NULL, &err), &err);
  sr_model_zero_grad(&m);
  m.grad_hook = record;
  m.grad_hook_ctx = &s;
  CHECK_OK(sr_tape_backward(t, dout, NULL, &err), &err);
  m.grad_hook = NULL;
  int bad = -1, early = 0;
  for (int i = 1; i < m.n_nodes; i++) {
    CHECK(s.fired[i] == 1, "%s: hook fired %d times for node %d", arch, s.fired[i], i);
    int64_t o = sr_dist_ready_offset(&m, i);
    if (memcmp(s.copies + (size_t)i * (size_t)P + o, m.grads + o, sizeof(float) * (size_t)(P - o)) && bad < 0)
      bad = i;
    early += o < P && i > 1;
  }
  CHECK(bad < 0, "%s: gradients above the ready offset of node %d changed after its hook", arch, bad);
  CHECK(sr_dist_ready_offset(&m, 1) == 0, "%s: after node 1 every gradient must be final", arch);
  CHECK(early > 0, "%s: no gradient is final before the backward ends (no overlap possible)", arch);
  double nz = 0;
  for (int64_t p = 0; p < P; p++) nz += m.grads[p] != 0;
  CHECK(nz > 0.5 * (double)P, "%s: the backward produced too few gradients (%.0f of %lld) to be meaningful",
        arch, nz, (long long)P);
  sr_free(x);
  sr_free(dout);
  sr_free(s.copies);
  sr_model_free(&m);
}

// ---- under mpirun (3 ranks) --------------------------------------------------------------------------
// SyncBN: each rank forwards 2 of 6 images; the outputs of its rows, the running statistics and the summed
// parameter gradients equal one model's on all 6 (which every rank computes alone as the reference).
static void test_sync_bn(sr_dist *d) {
  sr_err err = {0};
  int R = sr_dist_size(d), me = sr_dist_rank(d);
  sr_model full, part;
  CHECK_OK(make_model(&full, "resnet18", 12, &err), &err);
  CHECK_OK(make_model(&part, "resnet18", 12, &err), &err);
  if (err.code) return;
  sr_dist_sync_bn(d, &part);
  CHECK(part.bn_allreduce != NULL, "sr_dist_sync_bn must set the hook with %d ranks", R);
  int64_t n = 2 * R, in = 144, P = full.n_params, K = 10;
  float *x = sr_alloc(sizeof(float) * (size_t)(n * in)), *dout = sr_alloc(sizeof(float) * (size_t)(n * K));
  float *yf = sr_alloc(sizeof(float) * (size_t)(n * K)), *yp = sr_alloc(sizeof(float) * (size_t)(2 * K));
  fill(x, n * in, 30);
  fill(dout, n * K, 31);
  sr_tape *tf, *tp;
  CHECK_OK(sr_model_tape(&full, n, 0, &tf, &err), &err);
  CHECK_OK(sr_model_tape(&part, 2, 0, &tp, &err), &err);
  sr_model_zero_grad(&full);
  sr_model_zero_grad(&part);
  CHECK_OK(sr_tape_forward(tf, x, 1, yf, &err), &err);
  CHECK_OK(sr_tape_forward(tp, x + 2 * me * in, 1, yp, &err), &err);
  CHECK_OK(sr_tape_backward(tf, dout, NULL, &err), &err);
  CHECK_OK(sr_tape_backward(tp, dout + 2 * me * K, NULL, &err), &err);
  CHECK_OK(sr_dist_allreduce_f32(d, part.grads, P, &err), &err);
  double ry = sr_test_max_rel(yp, yf + 2 * me * K, (size_t)(2 * K), 1e-2);
  double rs = sr_test_max_rel(part.state, full.state, (size_t)full.n_state, 1e-2);
  CHECK(ry < 1e-4, "rank %d: SyncBN outputs differ from the whole batch's by %g", me, ry);
  CHECK(rs < 1e-4, "rank %d: SyncBN running statistics differ by %g", me, rs);
  // Gradients: float sums with cancellation (BN's dbeta) differ by reduction order, so both are held
  // against the double-precision reference of the whole batch: SyncBN may not be much worse than oneDNN.
  double *xd = sr_alloc(sizeof(double) * (size_t)(n * in)), *dd = sr_alloc(sizeof(double) * (size_t)(n * K));
  double *gd = sr_calloc((size_t)P, sizeof(double));
  float *gref = sr_alloc(sizeof(float) * (size_t)P);
  for (int64_t i = 0; i < n * in; i++) xd[i] = x[i];
  for (int64_t i = 0; i < n * K; i++) dd[i] = dout[i];
  sr_ref_run *run = NULL;
  CHECK_OK(sr_ref_forward(&full, xd, n, 1, NULL, &run, &err), &err);
  if (run) CHECK_OK(sr_ref_backward(run, dd, gd, NULL, &err), &err);
  for (int64_t p = 0; p < P; p++) gref[p] = (float)gd[p];
  double e_one = sr_test_max_rel(full.grads, gref, (size_t)P, 1e-2),
         e_sync = sr_test_max_rel(part.grads, gref, (size_t)P, 1e-2);
  if (me == 0) printf("SyncBN gradients vs float64: one model %.3g, 3 ranks %.3g\n", e_one, e_sync);
  CHECK(e_sync <= 2 * e_one + 1e-5, "rank %d: SyncBN gradients err %g vs one model's %g (float64 reference)",
        me, e_sync, e_one);
  sr_ref_free(run);
  sr_free(xd);
  sr_free(dd);
  sr_free(gd);
  sr_free(gref);
  sr_free(x);
  sr_free(dout);
  sr_free(yf);
  sr_free(yp);
  sr_model_free(&full);
  sr_model_free(&part);
}

static int mpi_child(void) {
  sr_err err = {0};
  sr_dist *d;
  CHECK_OK(sr_dist_init(&d, &err), &err);
  int R = sr_dist_size(d), me = sr_dist_rank(d);
  CHECK(R == 3, "expected 3 ranks, got %d", R);
  float f[3] = {(float)me, 1, (float)(me * me)};
  double g = me + 0.5;
  int64_t k = (int64_t)1 << (40 + me);
  CHECK_OK(sr_dist_allreduce_f32(d, f, 3, &err), &err);
  CHECK_OK(sr_dist_allreduce_f64(d, &g, 1, &err), &err);
  CHECK_OK(sr_dist_allreduce_i64(d, &k, 1, &err), &err);
  CHECK(f[0] == 3 && f[1] == 3 && f[2] == 5 && g == 4.5 && k == ((int64_t)7 << 40), "sums wrong on rank %d",
        me);
  char word[8] = "";
  if (me == 1) snprintf(word, sizeof word, "simreg");
  CHECK_OK(sr_dist_bcast(d, word, sizeof word, 1, &err), &err);
  CHECK(!strcmp(word, "simreg"), "broadcast from rank 1 gave '%s' on rank %d", word, me);
  int32_t all[3] = {-1, -1, -1}, mine = 10 * me;
  CHECK_OK(sr_dist_gather(d, &mine, sizeof mine, all, 0, &err), &err);
  CHECK(me || (all[0] == 0 && all[1] == 10 && all[2] == 20), "gather to rank 0 wrong");
  // Per-item results of 10 items (shards 3, 3, 4) gathered in item order.
  int64_t lo, hi, loc[4], out[10] = {0};
  sr_dist_shard(10, me, R, &lo, &hi);
  for (int64_t i = lo; i < hi; i++) loc[i - lo] = 100 + i;
  CHECK_OK(sr_dist_gather_items(d, loc, 10, sizeof(int64_t), out, &err), &err);
  for (int i = 0; me == 0 && i < 10; i++)
    CHECK(out[i] == 100 + i, "gathered item %d is %lld", i, (long long)out[i]);
  // The same by batches of 4 over 10 items: ranks hold [0,4), [4,8), [8,10).
  sr_dist_shard_batches(10, 4, me, R, &lo, &hi);
  for (int64_t i = lo; i < hi; i++) loc[i - lo] = 200 + i;
  memset(out, 0, sizeof out);
  CHECK_OK(sr_dist_gather_batches(d, loc, 10, 4, sizeof(int64_t), out, &err), &err);
  for (int i = 0; me == 0 && i < 10; i++)
    CHECK(out[i] == 200 + i, "batch-gathered item %d is %lld", i, (long long)out[i]);

  // Bucketed allreduce during a real backward: the result must equal the sum of every rank's gradient,
  // which each rank can compute alone by running the other ranks' batches.
  sr_model m;
  CHECK_OK(make_model(&m, "cnn-small", 12, &err), &err);
  if (err.code) return sr_test_done();
  int64_t n = 3, in = 144, P = m.n_params;
  float *x = sr_alloc(sizeof(float) * (size_t)(n * in)), *dout = sr_alloc(sizeof(float) * (size_t)(n * 10));
  float *want = sr_calloc((size_t)P, sizeof(float));
  sr_tape *t;
  CHECK_OK(sr_model_tape(&m, n, 0, &t, &err), &err);
  for (int r = 0; r < R; r++) {  // expected: the ranks' gradients summed in rank order
    fill(x, n * in, 10 + (uint64_t)r);
    fill(dout, n * 10, 20 + (uint64_t)r);
    sr_model_zero_grad(&m);
    CHECK_OK(sr_tape_forward(t, x, 1, NULL, &err), &err);
    CHECK_OK(sr_tape_backward(t, dout, NULL, &err), &err);
    for (int64_t p = 0; p < P; p++) want[p] += m.grads[p];
  }
  sr_dist_grads *gb;
  CHECK_OK(sr_dist_grads_create(d, &m, 4096, &gb, &err), &err);  // tiny buckets: many posted early
  fill(x, n * in, 10 + (uint64_t)me);
  fill(dout, n * 10, 20 + (uint64_t)me);
  sr_model_zero_grad(&m);
  CHECK_OK(sr_tape_forward(t, x, 1, NULL, &err), &err);
  sr_dist_grads_arm(gb);
  CHECK_OK(sr_tape_backward(t, dout, NULL, &err), &err);
  CHECK_OK(sr_dist_grads_finish(gb, &err), &err);
  double wait;
  int64_t early, late;
  sr_dist_grads_stats(gb, &wait, &early, &late);
  CHECK(early > 0, "no bucket was posted during the backward (early %lld, late %lld)", (long long)early,
        (long long)late);
  CHECK(m.grad_hook == NULL, "finish must remove the hook");
  double rel = sr_test_max_rel(m.grads, want, (size_t)P, 1e-3);
  CHECK(rel < 1e-5, "rank %d: allreduced gradients differ from the sum by %g (relative)", me, rel);
  sr_dist_grads_free(gb);
  sr_free(x);
  sr_free(dout);
  sr_free(want);
  sr_model_free(&m);
  test_sync_bn(d);
  sr_dist_finalize(d);
  return sr_test_done();
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--mpi-child")) return mpi_child();
  test_shard();
  test_shard_batches();
  test_local();
  test_hook("cnn-small", 12);
  test_hook("mlp", 8);
  test_hook("resnet18", 16);
  // The same checks with 3 real MPI ranks (shared memory only: no network in the container).
  char cmd[4600];
  snprintf(cmd, sizeof cmd,
           "OMP_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -np 3 '%s' "
           "--mpi-child",
           argv[0]);
  int rc = system(cmd);
  CHECK(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "the 3-rank run failed (status %d)", rc);
  return sr_test_done();
}
