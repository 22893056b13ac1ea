// Training and evaluation loops: the paper's recipe over the engine, the data loader and SGD.
#ifndef SIMREG_TRAIN_H
#define SIMREG_TRAIN_H

#include <stdint.h>

#include "simreg/data.h"
#include "simreg/dist.h"
#include "simreg/model.h"
#include "simreg/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_train_config {
  char arch[32];
  double width;
  char data[1024];     // dataset spec (sr_dataset_load)
  int epochs;
  int batch;
  double lr, momentum, weight_decay;
  int nesterov;
  sr_lr_schedule sched;
  double val_fraction;
  uint64_t seed;
  int augment, crop_pad, flip, gray;
  double mean, scale;
  int64_t limit;       // use only the first `limit` training images (0: all) - for quick demos
  int eval_test;       // evaluate on the test split after each epoch
  int threads;         // OpenMP threads (0: all cores)
  char out[1024];      // run directory
  int quiet;
  int json;            // machine-readable summary on stdout
  int checkpoint_every;  // also write RUN/checkpoint.safetensors every N steps (0: only at epoch ends)
  int resume;          // continue from RUN/checkpoint.safetensors
  const volatile int *stop;  // when non-NULL and set (by a signal handler): checkpoint at the next step, stop
  // The similarity regularizer (docs/REGULARIZER.md); reg[0] == 0 or "none" trains the baseline.
  char reg[16];        // threshold | pixel | low | high | positive | negative | file | none
  double alpha, th;
  int64_t reg_n;       // regularization images (default 5000)
  int reg_pairs;       // k pairs per step (default 16)
  char reg_layers[256];     // comma-separated feature layers ("" = all)
  char reg_data[1024];      // dataset spec of other regularization images ("" = the training set)
  char reg_target[1024];    // --reg file: N x N .npy
  char reg_indices[1024];   // --reg file: the N image indices
  int reg_mse;         // plain squared difference instead of the g(x) transform
  // Data parallelism (docs/SCALING.md): NULL or one process trains alone. With R ranks each takes rows
  // [r*B/R, (r+1)*B/R) of every global batch and its share of the k pairs; gradients are summed in
  // buckets during the backward pass. Only rank 0 writes files; the checkpoint does not depend on R.
  sr_dist *dist;
  double bucket_mb;    // gradient bucket size in MiB (0: 1 MiB)
  int sync_bn;         // BatchNorm statistics over the whole global batch (default: per rank, as DDP)
  sr_precision precision;  // f32 (default) or bf16 mixed precision (model.h)
  int direct_conv;         // 1: every convolution direct, no Winograd (sr_model_set_winograd; not saved)
} sr_train_config;

sr_train_config sr_train_config_default(void);  // the paper's recipe on Fashion-MNIST, cnn-small

typedef struct sr_eval_result {
  int64_t n, correct;
  double loss, accuracy;
  int classes;
  int64_t *confusion;  // classes x classes (true, predicted), owned; NULL unless requested
} sr_eval_result;

// Evaluate in eval mode (running BN statistics) on ds[idx[0..n)] (all images when idx is NULL).
sr_status sr_evaluate(sr_model *m, const sr_dataset *ds, const int64_t *idx, int64_t n, const sr_loader_opts *o,
                      int want_confusion, sr_eval_result *r, sr_err *err);
void sr_eval_result_free(sr_eval_result *r);
// The same over data-parallel ranks: each evaluates its shard of the n images (sr_dist_shard), the sums
// (loss, hits, confusion) are reduced, and every rank gets the result of all n. Every rank must call it
// with the same model (weights and BN statistics). One process: sr_evaluate.
sr_status sr_evaluate_sharded(sr_dist *d, sr_model *m, const sr_dataset *ds, const int64_t *idx, int64_t n,
                              const sr_loader_opts *o, int want_confusion, sr_eval_result *r, sr_err *err);

// Train as configured, writing RUN/config.json, RUN/metrics.jsonl, RUN/last.safetensors,
// RUN/best.safetensors (lowest validation loss) and RUN/checkpoint.safetensors (weights, BN statistics,
// momentum buffer, epoch, step and running sums: resuming from it gives byte-identical final weights).
// Returns SR_ERR_INTERRUPTED after writing the checkpoint when *cfg->stop became set.
sr_status sr_train(const sr_train_config *cfg, sr_err *err);

// What a run directory says about its inputs (from RUN/config.json).
typedef struct sr_run_info {
  char data[1024];
  int gray;
  double mean, scale;
} sr_run_info;

// Read the training settings a run recorded in RUN/config.json (for --resume).
sr_status sr_train_config_load(const char *run, sr_train_config *cfg, sr_err *err);

// Rebuild the model of RUN (config.json) and load RUN/<which>.safetensors (which: "best" or "last").
sr_status sr_run_open(const char *run, const char *which, sr_model *m, sr_run_info *info, sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
