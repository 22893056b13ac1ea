// Internal to src/dist.
#ifndef SR_DIST_INTERNAL_H
#define SR_DIST_INTERNAL_H

#include "simreg/dist.h"

struct sr_dist {
  int mpi;        // MPI was initialised (launched by an MPI starter)
  int owns_init;  // we called MPI_Init_thread, so we finalize
  int rank, size;
};

// Collectives only when there is more than one MPI process.
int sr_dist_active(const sr_dist *d);
// An MPI return code as an sr_status with the MPI error text.
sr_status sr_dist_mpi_check(int rc, const char *what, sr_err *err);

#endif
