// simreg dist: data-parallel processes over MPI (OpenMPI), with a one-process fallback.
//
// A communicator (sr_dist) is MPI_COMM_WORLD when the program was started by mpirun/srun (their
// environment variables say so) and a one-process communicator otherwise: the same binary runs with
// and without mpirun, and with one process no MPI function is called at all. Every collective below is
// then a no-op (sums of one contribution) or a copy.
//
// Collectives must be called by every rank in the same order. A rank whose call fails gets an error
// value like any other; since the other ranks would then wait forever, the CLI answers a failure on any
// rank with sr_dist_abort (docs/SCALING.md).
#ifndef SIMREG_DIST_H
#define SIMREG_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "simreg/core.h"
#include "simreg/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_dist sr_dist;

// MPI_Init_thread (FUNNELED: only the calling thread talks to MPI) when launched by an MPI starter, else
// a one-process communicator. Call once per process; sr_dist_finalize ends MPI.
sr_status sr_dist_init(sr_dist **out, sr_err *err);
void sr_dist_finalize(sr_dist *d);
// Rank and size; a NULL communicator is rank 0 of 1.
int sr_dist_rank(const sr_dist *d);
int sr_dist_size(const sr_dist *d);
// Ends every rank of the job with this exit code (MPI_Abort), or only this process without MPI. The
// library never calls it; it is the CLI's answer to a failed rank, so the others do not hang.
void sr_dist_abort(sr_dist *d, int code);

// In-place sums over ranks (every rank gets the result).
sr_status sr_dist_allreduce_f32(sr_dist *d, float *buf, int64_t n, sr_err *err);
sr_status sr_dist_allreduce_f64(sr_dist *d, double *buf, int64_t n, sr_err *err);
sr_status sr_dist_allreduce_i64(sr_dist *d, int64_t *buf, int64_t n, sr_err *err);
// Copy `bytes` from root's buf to every rank's buf.
sr_status sr_dist_bcast(sr_dist *d, void *buf, size_t bytes, int root, sr_err *err);
sr_status sr_dist_barrier(sr_dist *d, sr_err *err);
// Fixed-size gather: rank r's `bytes` land at recv + r*bytes on root (recv is only read on root).
sr_status sr_dist_gather(sr_dist *d, const void *send, size_t bytes, void *recv, int root, sr_err *err);

// ---- sharding n items (test images, attack inputs, pairs) ------------------------------------------
// Rank r of size owns items [lo, hi) = [n*r/size, n*(r+1)/size): contiguous, in order, sizes differ by
// at most one.
void sr_dist_shard(int64_t n, int rank, int size, int64_t *lo, int64_t *hi);
// Each rank holds its shard of n items (item_bytes each, `local` = its hi-lo items); rank 0 receives all
// n in order into out (n * item_bytes; ignored elsewhere). Use it for per-item results: double losses,
// int64 predictions, per-image attack distances.
sr_status sr_dist_gather_items(sr_dist *d, const void *local, int64_t n, size_t item_bytes, void *out,
                               sr_err *err);

// Sharding n items processed in batches of `batch` (attacks: batch composition, and so every per-batch
// quantity, stays as in one process): rank r owns whole batches [blo, bhi) of the ceil(n/batch), i.e.
// items [blo*batch, min(bhi*batch, n)).
void sr_dist_shard_batches(int64_t n, int64_t batch, int rank, int size, int64_t *lo, int64_t *hi);
// As sr_dist_gather_items, for items sharded with sr_dist_shard_batches.
sr_status sr_dist_gather_batches(sr_dist *d, const void *local, int64_t n, int64_t batch, size_t item_bytes,
                                 void *out, sr_err *err);

// SyncBN: BatchNorm layers of m normalise with the statistics of the whole global batch in training
// (m->bn_allreduce). Call before the model's tapes are built. No-op with one process.
void sr_dist_sync_bn(sr_dist *d, sr_model *m);

// ---- gradient allreduce overlapped with the backward pass ------------------------------------------
// Buckets of about bucket_bytes over m->grads, from the end of the buffer (the last layers' gradients
// are final first). Arm before the last backward of a step: the model's gradient hook posts a bucket's
// MPI_Iallreduce (sum) as soon as every gradient in it is final and advances MPI between layers;
// finish posts the rest and waits. With one process both are no-ops.
typedef struct sr_dist_grads sr_dist_grads;

sr_status sr_dist_grads_create(sr_dist *d, sr_model *m, size_t bucket_bytes, sr_dist_grads **out,
                               sr_err *err);
void sr_dist_grads_arm(sr_dist_grads *g);
sr_status sr_dist_grads_finish(sr_dist_grads *g, sr_err *err);
// Seconds finish spent waiting for communication after the backward ended (the part not overlapped),
// and buckets posted during the backward vs after it, over the object's life.
void sr_dist_grads_stats(const sr_dist_grads *g, double *wait_s, int64_t *early, int64_t *late);
void sr_dist_grads_free(sr_dist_grads *g);
// The smallest offset o such that every gradient in [o, n_params) belongs to a node >= node, i.e. is
// final once the backward pass has handled nodes n_nodes-1 .. node (exposed for tests).
int64_t sr_dist_ready_offset(const sr_model *m, int node);

#ifdef __cplusplus
}
#endif
#endif
