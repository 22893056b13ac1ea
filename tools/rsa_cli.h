// simreg rsa: the sources of one comparison and the writers of its outputs (cmd_rsa.c, rsa_out.c).
#ifndef SIMREG_RSA_CLI_H
#define SIMREG_RSA_CLI_H

#include "simreg/rsa.h"

#define RSA_MAX_SOURCES 48

typedef enum { SRC_PIXEL, SRC_THRESHOLD, SRC_FILE, SRC_RUN, SRC_MIX, SRC_CKA } rsa_kind;

typedef struct rsa_source {
  rsa_kind kind;
  char label[192];  // e.g. "threshold:0.8", "e1-th1:layer2"
  char run[1024];   // SRC_RUN / SRC_MIX / SRC_CKA: the run directory
  char run_name[128];
  char layer[32];     // layer name ("mix" for SRC_MIX)
  int layer_index;    // feature index in the run's model (-1: mix)
  double th;          // SRC_THRESHOLD
  int color, rh, rw;  // SRC_PIXEL: keep colour; resize to rh x rw (0: as stored)
  char file[1024], file_idx[1024];
  int is_target;                  // pixel, threshold, file
  double gamma[SR_MAX_FEATURES];  // SRC_MIX: the weights used
  int n_gamma, gamma_from_ckpt;
  float *S;  // (n, n) similarity (RSA sources), owned
  float *K;  // (n, n) double-centred Gram (CKA sources), owned
} rsa_source;

typedef struct rsa_args {
  const char *data, *split, *indices, *out, *which, *hexbin;
  int64_t n, boot_b, perm_b, seed, holdout_seed;
  double level, val_fraction, sym_tol;
  int all_pairs, kendall_all, no_rank_resampling, no_plot, quiet;
} rsa_args;

typedef struct rsa_job {
  const rsa_args *a;
  rsa_source src[RSA_MAX_SOURCES];
  int nsrc;                        // all sources, CKA ones included
  int64_t n;                       // images
  int64_t *idx;                    // (n) dataset indices of the rows (NULL when only files without indices)
  int rsa_of[RSA_MAX_SOURCES], k;  // the k sources compared by RSA (indices into src)
  sr_rsa_pair *pairs;              // k (k - 1) / 2
  sr_rsa_source_info info[RSA_MAX_SOURCES];
  sr_rsa_timing timing;
  double *cka;  // (ncka, ncka)
  int cka_of[RSA_MAX_SOURCES], ncka;
  double seconds_sources, seconds_total, cpu_sources, cpu_total;  // wall and process CPU seconds
} rsa_job;

// rsa.json, the comparison heat map, hexbin plots and the per-layer profile into a->out.
sr_status rsa_write_outputs(const rsa_job *j, sr_err *err);
// The table on stdout.
void rsa_print(const rsa_job *j);

#endif
