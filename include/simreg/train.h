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

// What training reports, rank 0 only: the library prints nothing, the program renders these.
typedef struct sr_train_start_info {
  const char *out;  // the run directory
  int resumed;      // 1: continuing from RUN/checkpoint.safetensors at (epoch, step)
  int epoch;        // 0-based
  int64_t step;
  int reg;  // 1: the regularizer is on and the members below describe it
  const char *reg_kind;
  int64_t reg_n;  // regularization images
  double th, alpha;
  int pairs, layers;  // pairs per step, feature layers
  int target_cached;  // the target came from RUN/cache
  double target_seconds;
} sr_train_start_info;

typedef struct sr_train_step_info {
  int epoch, epochs;    // epoch 0-based
  int64_t step, steps;  // batches done in this epoch, batches per epoch
  double loss, acc;     // running means over the epoch so far
  double img_per_s, eta_s;
} sr_train_step_info;

typedef struct sr_train_epoch_info {
  int epoch, epochs;  // epoch 0-based
  double lr, train_loss, train_acc, val_loss, val_acc;
  double test_acc;  // NaN without eval_test
  double seconds, data_wait_share;
  int reg;                                                   // 1: the regularizer's numbers are set
  double reg_loss, similarity_pearson, similarity_spearman;  // NaN where not computed
  int probes;                                                // probe pairs of the two correlations
} sr_train_epoch_info;

typedef struct sr_train_callbacks {
  void (*on_start)(void *ctx, const sr_train_start_info *s);
  void (*on_step)(void *ctx, const sr_train_step_info *s);  // after every SGD step
  void (*on_epoch)(void *ctx, const sr_train_epoch_info *e);
  void (*on_done)(void *ctx, const sr_train_epoch_info *last);  // training finished (not when interrupted)
  void (*on_warning)(void *ctx, const char *msg);  // a problem training goes on after (a cache not written)
  void *ctx;
} sr_train_callbacks;

typedef struct sr_train_data {
  char spec[1024];  // dataset spec (sr_dataset_load)
  double val_fraction;
  int augment, crop_pad, flip, gray;
  double mean, scale;  // x' = (x - mean) * scale
  int64_t limit;       // use only the first `limit` training images (0: all) - for quick demos
  int eval_test;       // evaluate on the test split after each epoch
} sr_train_data;

typedef struct sr_train_model {
  char arch[256];  // a zoo name or "onnx:PATH"
  char
      features[512];  // onnx: feature layers, ONNX tensor names comma-separated, or "" = auto (simreg/onnx.h)
  char init[2048];    // weights loaded after the model is built (a run's best.safetensors; --init), or ""
  double width;
  sr_precision precision;  // f32 (default) or bf16 mixed precision (model.h)
  int direct_conv;         // 1: every convolution direct, no Winograd (sr_model_set_winograd; not saved)
  char conv_algo[16];      // sr_model_set_conv_algo name ("measure", ...); "" leaves direct_conv's rule.
                           // The choices are recorded in config.json's "conv_algo" and reused on resume
} sr_train_model;

typedef struct sr_train_optim {
  int epochs;
  int batch;
  double lr, momentum, weight_decay;
  int nesterov;
  sr_lr_schedule sched;
  uint64_t seed;
} sr_train_optim;

// The similarity regularizer (docs/REGULARIZER.md); kind[0] == 0 or "none" trains the baseline.
typedef struct sr_train_reg {
  char kind[16];  // threshold | pixel | low | high | positive | negative | file | none
  double alpha, th;
  int64_t n;           // regularization images (default 5000)
  int pairs;           // k pairs per step (default 16)
  char layers[256];    // comma-separated feature layers ("" = all)
  char data[1024];     // dataset spec of other regularization images ("" = the training set)
  char target[1024];   // --reg file: N x N .npy
  char indices[1024];  // --reg file: the N image indices
  int mse;             // plain squared difference instead of the g(x) transform
  // The pair batch as two tapes of k images (the path before ghost BatchNorm; also SyncBN's) instead of one
  // tape of 2k with per-half BatchNorm statistics: the same step within float rounding; for A/B checks.
  int two_tapes;
} sr_train_reg;

typedef struct sr_train_run {
  char out[1024];            // run directory
  int threads;               // OpenMP threads (0: all cores)
  int checkpoint_every;      // also write RUN/checkpoint.safetensors every N steps (0: only at epoch ends)
  int resume;                // continue from RUN/checkpoint.safetensors
  const volatile int *stop;  // when non-NULL and set (by a signal handler): checkpoint at the next step, stop
  // Data parallelism (docs/SCALING.md): NULL or one process trains alone. With R ranks each takes rows
  // [r*B/R, (r+1)*B/R) of every global batch and its share of the k pairs; gradients are summed in
  // buckets during the backward pass. Only rank 0 writes files; the checkpoint does not depend on R.
  sr_dist *dist;
  double bucket_mb;  // gradient bucket size in MiB (0: 1 MiB)
  int sync_bn;       // BatchNorm statistics over the whole global batch (default: per rank, as DDP)
  // The machine-wide convolution choice cache (sr_conv_cache_load, "": none): loaded after the run's own
  // choices on every rank; rank 0 merges what the run measured into it whenever it records its choices.
  char conv_cache[1024];
  sr_train_callbacks cb;  // progress, per-epoch and final reports (all may be NULL)
} sr_train_run;

typedef struct sr_train_config {
  sr_train_data data;
  sr_train_model model;
  sr_train_optim optim;
  sr_train_reg reg;
  sr_train_run run;
} sr_train_config;

sr_train_config sr_train_config_default(void);  // the paper's recipe on Fashion-MNIST, cnn-small

typedef struct sr_eval_result {
  int64_t n, correct;
  double loss, accuracy;
  int classes;
  int64_t *confusion;  // classes x classes (true, predicted), owned; NULL unless requested
} sr_eval_result;

// The images evaluated: ds[idx[0..n)] (all of ds when idx is NULL).
typedef struct sr_eval_set {
  const sr_dataset *ds;
  const int64_t *idx;
  int64_t n;
} sr_eval_set;
// Evaluate in eval mode (running BN statistics) on the set's images.
sr_status sr_evaluate(sr_model *m, const sr_eval_set *set, const sr_loader_opts *o, int want_confusion,
                      sr_eval_result *r, sr_err *err);
void sr_eval_result_free(sr_eval_result *r);
// The same over data-parallel ranks: each evaluates its shard of the n images (sr_dist_shard), the sums
// (loss, hits, confusion) are reduced, and every rank gets the result of all n. Every rank must call it
// with the same model (weights and BN statistics). One process: sr_evaluate.
sr_status sr_evaluate_sharded(sr_dist *d, sr_model *m, const sr_eval_set *set, const sr_loader_opts *o,
                              int want_confusion, sr_eval_result *r, sr_err *err);

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

// A run's convolution algorithm choices (sr_model_conv_choices): RUN/config.json's "conv_algo", then the
// cache file RUN/conv_algo.json, each where present, added to m for keys m does not have yet (marked
// SR_CONV_SRC_RUN; sr_run_open does this). A file that is not valid JSON of that shape is SR_ERR_FORMAT
// naming it.
#define SR_CONV_CACHE_FILE "conv_algo.json"
sr_status sr_run_load_conv_choices(const char *run, sr_model *m, sr_err *err);
// m's choices written to RUN/conv_algo.json (temp file, fsync, rename): those measured, given or read from
// the run, and the machine-cache entries its tapes and plans took.
sr_status sr_run_save_conv_choices(const char *run, const sr_model *m, sr_err *err);
// The machine-wide choice cache (docs/PERFORMANCE.md): one file of RUN/conv_algo.json's format shared by
// the runs of a machine, so that fresh runs with the same seed and threads take the same algorithms. The
// library reads no environment: the caller names the file (the CLI: SR_CONV_CACHE).
// Its choices added to m for keys m does not have yet (marked SR_CONV_SRC_CACHE): load a run's own choices
// first, they win. A missing file adds nothing; a malformed one is SR_ERR_FORMAT naming it.
sr_status sr_conv_cache_load(const char *path, sr_model *m, sr_err *err);
// m's choices that were measured or given (not read from a run or a cache) merged into path: under an
// exclusive flock on PATH.lock the file is read again, the keys it lacks appended (a key already there is
// never replaced: the first measurement on a machine wins) and written back (temp, fsync, rename), so
// concurrent merges keep each other's keys. *added (may be NULL): the new keys. Nothing to merge: no lock,
// no write. path's directory must exist; a malformed file is SR_ERR_FORMAT naming it.
sr_status sr_conv_cache_merge(const char *path, const sr_model *m, int *added, sr_err *err);
// Rebuild the model of RUN (config.json) and load RUN/<which>.safetensors (which: "best" or "last").
// An imported model's config.json names its graph "onnx:model.onnx", relative to RUN.
sr_status sr_run_open(const char *run, const char *which, sr_model *m, sr_run_info *info, sr_err *err);
// arch as a run records it -> as the model builder takes it: "onnx:REL" becomes "onnx:RUN/REL" (absolute
// kept).
void sr_run_resolve_arch(const char *run, const char *arch, char *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
