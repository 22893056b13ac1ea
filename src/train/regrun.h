// Internal: the similarity regularizer inside the training loop (one pair batch per training step).
#ifndef SR_REGRUN_H
#define SR_REGRUN_H

#include "simreg/dist.h"
#include "simreg/reg.h"
#include "simreg/safetensors.h"
#include "simreg/train.h"

#define SR_REG_PROBES 512

typedef struct sr_reg_run {
  int on;
  int k, mse;
  double alpha;
  sr_reg_target target;
  sr_reg_state state;
  sr_rng rng;           // pair sampling (checkpointed)
  sr_dataset images;    // the regularization images (uint8), labels unused
  sr_loader_opts opts;  // the training preprocessing without augmentation
  int ghost;            // one tape of 2k with per-half BatchNorm statistics (else two tapes of k)
  float *xa, *xb;       // (2k, C, H, W) [a-images; b-images]; xb points into xa's buffer (set per pass)
  int32_t *y;
  // features and their gradients, (2k, C, H, W) each: fb / gb point into fa / ga after the pass's a-half
  float *fa[SR_MAX_FEATURES], *fb[SR_MAX_FEATURES], *ga[SR_MAX_FEATURES], *gb[SR_MAX_FEATURES];
  int64_t *pi, *pj;
  float *tgt, *scnn;
  int64_t probe_i[SR_REG_PROBES], probe_j[SR_REG_PROBES];
  float probe_t[SR_REG_PROBES], probe_s[SR_REG_PROBES];
  char ckpt_names[SR_MAX_FEATURES][40];
  double loss_sum;  // this epoch (checkpointed)
  int64_t loss_n;
  sr_dist *dist;  // data-parallel ranks: each forwards its shard of the k pairs
  double *sums;   // per-channel sums of the pair batch (reduced over ranks)
} sr_reg_run;

// train: the training images (the regularization images come from them unless c->reg.data names others).
sr_status sr_reg_run_setup(sr_reg_run *r, const sr_train_config *c, const sr_eval_set *train, sr_model *m,
                           const sr_loader_opts *train_opts, sr_err *err);
// Forward both halves (training mode), the loss, feature gradients, backward: adds into m->grads and
// r->state.dw. Call between zero_grad and the SGD step.
sr_status sr_reg_run_step(sr_reg_run *r, sr_model *m, double *loss, sr_err *err);
// S^CNN of the fixed probe pairs in eval mode and its correlations with the target.
sr_status sr_reg_run_probe(sr_reg_run *r, sr_model *m, double *pearson, double *spearman, sr_err *err);
// Checkpoint: tensors (entries, up to 2 + 2*SR_MAX_FEATURES) and metadata strings (kv, up to 12 + NULL).
int sr_reg_run_ckpt_entries(sr_reg_run *r, sr_st_entry *e, int64_t *shapes);
void sr_reg_run_ckpt_meta(const sr_reg_run *r, char buf[][80], const char **kv);
sr_status sr_reg_run_restore(sr_reg_run *r, const sr_st_file *f, const char *path, sr_err *err);
void sr_reg_run_free(sr_reg_run *r);

#endif
