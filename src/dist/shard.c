// Sharding n items over ranks and gathering per-item results back to rank 0 in item order.
#include <limits.h>
#include <mpi.h>
#include <string.h>

#include "dist/internal.h"

void sr_dist_shard(int64_t n, int rank, int size, int64_t *lo, int64_t *hi) {
  if (size < 1) size = 1;
  // n*r/size without overflow for any n < 2^62 / size (int64 products of an item count and a rank).
  *lo = n / size * rank + n % size * rank / size;
  *hi = n / size * (rank + 1) + n % size * (rank + 1) / size;
}

void sr_dist_shard_batches(int64_t n, int64_t batch, int rank, int size, int64_t *lo, int64_t *hi) {
  if (batch < 1) batch = 1;
  int64_t blo, bhi;
  sr_dist_shard((n + batch - 1) / batch, rank, size, &blo, &bhi);
  *lo = blo * batch < n ? blo * batch : n;
  *hi = bhi * batch < n ? bhi * batch : n;
}

// Rank r's items [lo, hi) of its batch shard land at out + lo*item_bytes on rank 0 (batch 1: item shards).
static sr_status gather(sr_dist *d, const void *local, int64_t n, int64_t batch, size_t item_bytes, void *out,
                        sr_err *err) {
  int R = sr_dist_size(d), me = sr_dist_rank(d);
  int64_t lo, hi;
  sr_dist_shard_batches(n, batch, me, R, &lo, &hi);
  if (!sr_dist_active(d)) {
    if (hi > lo) memmove((char *)out + (size_t)lo * item_bytes, local, (size_t)(hi - lo) * item_bytes);
    return SR_OK;
  }
  size_t total;
  if (sr_mul_overflow((size_t)n, item_bytes, &total) || total > INT_MAX)
    return sr_fail(err, SR_ERR_ARG, "dist: gathering %lld items of %zu bytes exceeds MPI's int counts",
                   (long long)n, item_bytes);
  if (R > 4096) return sr_fail(err, SR_ERR_ARG, "dist: gathers support up to 4096 ranks, not %d", R);
  int counts[4096], displs[4096];
  for (int r = 0; r < R; r++) {
    int64_t a, b;
    sr_dist_shard_batches(n, batch, r, R, &a, &b);
    counts[r] = (int)((size_t)(b - a) * item_bytes);
    displs[r] = (int)((size_t)a * item_bytes);
  }
  return sr_dist_mpi_check(
      MPI_Gatherv(local, counts[me], MPI_BYTE, out, counts, displs, MPI_BYTE, 0, MPI_COMM_WORLD),
      "gather of per-item results", err);
}

sr_status sr_dist_gather_items(sr_dist *d, const void *local, int64_t n, size_t item_bytes, void *out,
                               sr_err *err) {
  return gather(d, local, n, 1, item_bytes, out, err);
}

sr_status sr_dist_gather_batches(sr_dist *d, const void *local, int64_t n, int64_t batch, size_t item_bytes,
                                 void *out, sr_err *err) {
  return gather(d, local, n, batch, item_bytes, out, err);
}
