// The communicator: MPI_COMM_WORLD under an MPI starter, else one process and no MPI calls.
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "dist/internal.h"

// Started by mpirun (OpenMPI), a PMIx/PMI launcher (srun, hydra) or MVAPICH's mpirun_rsh?
static int launched_by_mpi(void) {
  static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK",
                               "MV2_COMM_WORLD_SIZE"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
    if (getenv(vars[i])) return 1;
  return 0;
}

sr_status sr_dist_mpi_check(int rc, const char *what, sr_err *err) {
  if (rc == MPI_SUCCESS) return SR_OK;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "error %d", rc);
  return sr_fail(err, SR_ERR_BACKEND, "MPI %s failed: %s (a rank died or the network failed?)", what, msg);
}

sr_status sr_dist_init(sr_dist **out, sr_err *err) {
  *out = NULL;
  sr_dist *d = sr_calloc(1, sizeof *d);
  if (!d) return sr_fail(err, SR_ERR_NOMEM, "dist: out of memory");
  d->size = 1;
  if (launched_by_mpi()) {
    int provided = 0, inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
      sr_free(d);
      return sr_fail(err, SR_ERR_BACKEND,
                     "MPI_Init_thread failed (started by mpirun, but MPI could not start)");
    }
    d->owns_init = !inited;
    // Errors come back as values; the caller decides (sr_dist_abort) instead of MPI killing the job silently.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    d->mpi = 1;
  }
  *out = d;
  return SR_OK;
}

void sr_dist_finalize(sr_dist *d) {
  if (!d) return;
  if (d->mpi && d->owns_init) MPI_Finalize();
  sr_free(d);
}

int sr_dist_rank(const sr_dist *d) { return d ? d->rank : 0; }
int sr_dist_size(const sr_dist *d) { return d ? d->size : 1; }

void sr_dist_abort(sr_dist *d, int code) {
  if (d && d->mpi && d->size > 1) {
    fflush(stdout);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
  }
}

int sr_dist_active(const sr_dist *d) { return d && d->mpi && d->size > 1; }

// MPI counts are int: long buffers go in chunks.
#define CHUNK ((int64_t)1 << 28)

static sr_status allreduce(sr_dist *d, void *buf, int64_t n, MPI_Datatype t, size_t esz, sr_err *err) {
  if (!sr_dist_active(d)) return SR_OK;
  for (int64_t o = 0; o < n; o += CHUNK) {
    int c = (int)(n - o < CHUNK ? n - o : CHUNK);
    sr_status st = sr_dist_mpi_check(
        MPI_Allreduce(MPI_IN_PLACE, (char *)buf + (size_t)o * esz, c, t, MPI_SUM, MPI_COMM_WORLD),
        "allreduce", err);
    if (st) return st;
  }
  return SR_OK;
}

sr_status sr_dist_allreduce_f32(sr_dist *d, float *buf, int64_t n, sr_err *err) {
  return allreduce(d, buf, n, MPI_FLOAT, sizeof(float), err);
}
sr_status sr_dist_allreduce_f64(sr_dist *d, double *buf, int64_t n, sr_err *err) {
  return allreduce(d, buf, n, MPI_DOUBLE, sizeof(double), err);
}
sr_status sr_dist_allreduce_i64(sr_dist *d, int64_t *buf, int64_t n, sr_err *err) {
  return allreduce(d, buf, n, MPI_INT64_T, sizeof(int64_t), err);
}

sr_status sr_dist_bcast(sr_dist *d, void *buf, size_t bytes, int root, sr_err *err) {
  if (!sr_dist_active(d)) return SR_OK;
  for (size_t o = 0; o < bytes; o += (size_t)CHUNK) {
    int c = (int)(bytes - o < (size_t)CHUNK ? bytes - o : (size_t)CHUNK);
    sr_status st =
        sr_dist_mpi_check(MPI_Bcast((char *)buf + o, c, MPI_BYTE, root, MPI_COMM_WORLD), "broadcast", err);
    if (st) return st;
  }
  return SR_OK;
}

sr_status sr_dist_barrier(sr_dist *d, sr_err *err) {
  return sr_dist_active(d) ? sr_dist_mpi_check(MPI_Barrier(MPI_COMM_WORLD), "barrier", err) : SR_OK;
}

sr_status sr_dist_gather(sr_dist *d, const void *send, size_t bytes, void *recv, int root, sr_err *err) {
  if (!sr_dist_active(d)) {
    if (bytes) memmove(recv, send, bytes);
    return SR_OK;
  }
  if (bytes > INT_MAX)
    return sr_fail(err, SR_ERR_ARG, "dist: gather of %zu bytes per rank is too large", bytes);
  return sr_dist_mpi_check(
      MPI_Gather(send, (int)bytes, MPI_BYTE, recv, (int)bytes, MPI_BYTE, root, MPI_COMM_WORLD), "gather",
      err);
}

static sr_status bn_allreduce(void *ctx, double *buf, int64_t n, sr_err *err) {
  return sr_dist_allreduce_f64(ctx, buf, n, err);
}

void sr_dist_sync_bn(sr_dist *d, sr_model *m) {
  if (!sr_dist_active(d)) return;
  m->bn_allreduce = bn_allreduce;
  m->bn_allreduce_ctx = d;
}
