// The training loop: loader -> model (oneDNN tape) -> softmax CE -> backward -> SGD, with per-epoch
// validation, metrics and checkpoints of the weights.
#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convcache.h"
#include "finite.h"
#include "regrun.h"
#include "simreg/layers.h"
#include "simreg/safetensors.h"
#include "simreg/train.h"

sr_train_config sr_train_config_default(void) {
  sr_train_config c;
  memset(&c, 0, sizeof c);
  snprintf(c.model.arch, sizeof c.model.arch, "cnn-small");
  snprintf(c.data.spec, sizeof c.data.spec, "fashion-mnist");
  snprintf(c.run.out, sizeof c.run.out, "runs/train");
  c.model.width = 1.0;
  c.optim.epochs = 20;
  c.optim.batch = 64;
  c.optim.lr = 0.1;
  c.optim.momentum = 0.9;
  c.optim.sched =
      (sr_lr_schedule){.kind = SR_LR_CYCLIC, .lr0 = 0.1, .step_size = 10, .gamma = 0.1, .total_epochs = 20};
  c.data.val_fraction = 0.01;
  c.data.augment = 1;
  c.data.crop_pad = 4;
  c.data.flip = 1;
  c.data.gray = 1;
  c.data.mean = 0.5;
  c.data.scale = 5.0;
  c.data.eval_test = 1;
  snprintf(c.reg.kind, sizeof c.reg.kind, "none");
  c.reg.alpha = 10;
  c.reg.th = 0.8;
  c.reg.n = 5000;
  c.reg.pairs = 16;
  return c;
}

// Where training stands: everything a checkpoint must hold besides weights and momentum.
typedef struct progress_state {
  int epoch;     // current epoch (0-based)
  int64_t step;  // batches done in it
  double lsum;   // running sums of the current epoch
  int64_t seen, hits;
  double secs;   // training seconds spent in the current epoch before a resume
  double wait0;  // loader wait seconds at the epoch's (or resume's) start
  double best;   // lowest validation loss so far
} progress_state;

typedef struct run_state {
  const sr_train_config *cfg;
  sr_dataset train, test;
  int64_t *tr_idx, *va_idx, n_tr, n_va;
  sr_model model;
  sr_sgd sgd;
  sr_loader *loader;
  sr_loader_opts opts, eval_opts;
  float *dlogits, *logits;
  cJSON *metrics;  // array of epoch objects
  progress_state pos;
  sr_reg_run reg;
  sr_dist *dist;  // data-parallel ranks (NULL: one process)
  int rank, size;
  sr_dist_grads *buckets;    // gradient allreduce overlapped with the backward pass
  double comm_wait0;         // the buckets' wait seconds at the epoch's start
  int resumed;               // continued from a checkpoint
  int conv_recorded;         // convolution choices config.json holds (sr_conv_choices_recorded)
  sr_train_epoch_info last;  // the last epoch's report
  int have_last;
} run_state;

static void run_free(run_state *r) {
  sr_dist_grads_free(r->buckets);
  sr_reg_run_free(&r->reg);
  sr_loader_destroy(r->loader);
  sr_sgd_free(&r->sgd);
  sr_model_free(&r->model);
  sr_dataset_free(&r->train);
  sr_dataset_free(&r->test);
  sr_free(r->tr_idx);
  sr_free(r->va_idx);
  sr_free(r->dlogits);
  sr_free(r->logits);
  cJSON_Delete(r->metrics);
}

static sr_status write_json(const char *dir, const char *name, const cJSON *j, int lines, sr_err *err) {
  char path[2048];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  sr_afile f;
  sr_status st = sr_afile_open(&f, path, err);
  if (st) return st;
  int n = lines ? cJSON_GetArraySize(j) : 1;
  for (int i = 0; i < n; i++) {
    char *s = lines ? cJSON_PrintUnformatted(cJSON_GetArrayItem(j, i)) : cJSON_Print(j);
    if (!s) {
      sr_afile_abort(&f);
      return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
    }
    fprintf(f.fp, "%s\n", s);
    free(s);
  }
  return sr_afile_commit(&f, err);
}

// An imported model's graph is part of its run: OUT/model.onnx (unless it is that file already).
static sr_status copy_onnx(const sr_train_config *c, sr_err *err) {
  if (strncmp(c->model.arch, "onnx:", 5)) return SR_OK;
  char dst[2200];
  snprintf(dst, sizeof dst, "%s/model.onnx", c->run.out);
  if (!strcmp(dst, c->model.arch + 5)) return SR_OK;
  void *buf;
  size_t n;
  sr_status st = sr_read_file(c->model.arch + 5, (size_t)2 << 30, &buf, &n, err);
  if (st) return st;
  st = sr_write_file_atomic(dst, buf, n, err);
  sr_free(buf);
  return st;
}

static sr_status write_config(const run_state *r, sr_err *err) {
  const sr_train_config *c = r->cfg;
  cJSON *j = cJSON_CreateObject();
  int ok = j != NULL;  // every member must make it in: a config.json missing a setting is not the run's
  ok &= cJSON_AddStringToObject(j, "name",
                                strrchr(c->run.out, '/') ? strrchr(c->run.out, '/') + 1 : c->run.out) != NULL;
  ok &= cJSON_AddStringToObject(j, "version", SR_VERSION_STRING) != NULL;
  // an imported graph travels with the run (copied by copy_onnx), named relative to it
  ok &= cJSON_AddStringToObject(
            j, "model", strncmp(c->model.arch, "onnx:", 5) ? c->model.arch : "onnx:model.onnx") != NULL;
  if (c->model.features[0]) ok &= cJSON_AddStringToObject(j, "features", c->model.features) != NULL;
  ok &= cJSON_AddNumberToObject(j, "width", c->model.width) != NULL;
  ok &= cJSON_AddStringToObject(j, "dataset", r->train.name) != NULL;
  ok &= cJSON_AddStringToObject(j, "data", c->data.spec) != NULL;
  ok &= cJSON_AddNumberToObject(j, "in_channels", r->model.cfg.in_c) != NULL;
  ok &= cJSON_AddNumberToObject(j, "in_height", r->model.cfg.in_h) != NULL;
  ok &= cJSON_AddNumberToObject(j, "in_width", r->model.cfg.in_w) != NULL;
  ok &= cJSON_AddNumberToObject(j, "classes", r->model.cfg.classes) != NULL;
  ok &= cJSON_AddNumberToObject(j, "parameters", (double)r->model.n_params) != NULL;
  ok &= cJSON_AddNumberToObject(j, "epochs", c->optim.epochs) != NULL;
  ok &= cJSON_AddNumberToObject(j, "batch", c->optim.batch) != NULL;
  ok &= cJSON_AddNumberToObject(j, "lr", c->optim.lr) != NULL;
  ok &= cJSON_AddStringToObject(j, "lr_schedule", sr_lr_name(c->optim.sched.kind)) != NULL;
  ok &= cJSON_AddNumberToObject(j, "momentum", c->optim.momentum) != NULL;
  ok &= cJSON_AddNumberToObject(j, "weight_decay", c->optim.weight_decay) != NULL;
  ok &= cJSON_AddBoolToObject(j, "nesterov", c->optim.nesterov) != NULL;
  ok &= cJSON_AddNumberToObject(j, "val_fraction", c->data.val_fraction) != NULL;
  ok &= cJSON_AddNumberToObject(j, "seed", (double)c->optim.seed) != NULL;
  ok &= cJSON_AddBoolToObject(j, "augment", c->data.augment) != NULL;
  ok &= cJSON_AddNumberToObject(j, "crop_pad", c->data.crop_pad) != NULL;
  ok &= cJSON_AddBoolToObject(j, "flip", c->data.flip) != NULL;
  ok &= cJSON_AddBoolToObject(j, "gray", c->data.gray) != NULL;
  ok &= cJSON_AddNumberToObject(j, "input_mean", c->data.mean) != NULL;
  ok &= cJSON_AddNumberToObject(j, "input_scale", c->data.scale) != NULL;
  ok &= cJSON_AddNumberToObject(j, "limit", (double)c->data.limit) != NULL;
  ok &= cJSON_AddNumberToObject(j, "threads", omp_get_max_threads()) != NULL;
  ok &= cJSON_AddNumberToObject(j, "ranks", r->size) != NULL;
  ok &= cJSON_AddBoolToObject(j, "sync_bn", c->run.sync_bn) != NULL;
  ok &= cJSON_AddStringToObject(j, "precision", sr_precision_name(c->model.precision)) != NULL;
  ok &= cJSON_AddBoolToObject(j, "eval_test", c->data.eval_test) != NULL;
  ok &= cJSON_AddNumberToObject(j, "checkpoint_every", c->run.checkpoint_every) != NULL;
  cJSON *algo = sr_conv_choices_json(&r->model);                // what a resumed run, eval and attack reuse
  if (!algo || !cJSON_AddItemToObject(j, "conv_algo", algo)) {  // not attached: still ours to free
    cJSON_Delete(algo);
    ok = 0;
  }
  cJSON *reg = cJSON_AddObjectToObject(j, "reg");
  ok &= reg != NULL;
  ok &= cJSON_AddStringToObject(reg, "type", r->reg.on ? c->reg.kind : "none") != NULL;
  if (r->reg.on) {
    ok &= cJSON_AddNumberToObject(reg, "alpha", c->reg.alpha) != NULL;
    ok &= cJSON_AddNumberToObject(reg, "threshold", c->reg.th) != NULL;
    ok &= cJSON_AddNumberToObject(reg, "images", (double)r->reg.target.n) != NULL;
    ok &= cJSON_AddNumberToObject(reg, "pairs", c->reg.pairs) != NULL;
    ok &= cJSON_AddStringToObject(reg, "layers", c->reg.layers[0] ? c->reg.layers : "all") != NULL;
    ok &= cJSON_AddStringToObject(reg, "loss", c->reg.mse ? "mse" : "log") != NULL;
    ok &= cJSON_AddStringToObject(reg, "pair_pass", r->reg.ghost ? "ghost" : "two-tapes") != NULL;
    if (c->reg.data[0]) ok &= cJSON_AddStringToObject(reg, "data", c->reg.data) != NULL;
    if (c->reg.target[0]) ok &= cJSON_AddStringToObject(reg, "target", c->reg.target) != NULL;
    if (c->reg.indices[0]) ok &= cJSON_AddStringToObject(reg, "indices", c->reg.indices) != NULL;
  }
  sr_status st = ok ? write_json(c->run.out, "config.json", j, 0, err)
                    : sr_fail(err, SR_ERR_NOMEM, "%s/config.json: out of memory", c->run.out);
  cJSON_Delete(j);
  return st ? st : sr_run_save_conv_choices(c->run.out, &r->model, err);
}

// The run's choices recorded (config.json, RUN/conv_algo.json) and the new measurements merged into the
// machine cache. The machine cache is a cache, not an output: failing to write it is a warning.
static sr_status record_choices(run_state *r, sr_err *err) {
  sr_status st = write_config(r, err);
  if (st) return st;
  r->conv_recorded = sr_conv_choices_recorded(&r->model);
  const sr_train_callbacks *cb = &r->cfg->run.cb;
  sr_err e2 = {0};
  if (r->cfg->run.conv_cache[0] && sr_conv_cache_merge(r->cfg->run.conv_cache, &r->model, NULL, &e2) &&
      cb->on_warning)
    cb->on_warning(cb->ctx, e2.msg);
  return SR_OK;
}

// Every rank needs rows of every batch (two with batch norm), the last partial batch included.
static sr_status check_shards(const run_state *r, sr_err *err) {
  if (r->size == 1) return SR_OK;
  int64_t B = r->cfg->optim.batch, last = r->n_tr % B, need = r->model.n_bn ? 2 : 1;
  if (B / r->size < need)
    return sr_fail(err, SR_ERR_ARG, "--batch %lld over %d ranks leaves %lld rows on some rank; %s needs %lld",
                   (long long)B, r->size, (long long)(B / r->size), r->model.n_bn ? "batch norm" : "training",
                   (long long)need);
  if (last && last / r->size < need)
    return sr_fail(err, SR_ERR_ARG,
                   "the last batch of an epoch has %lld rows (%lld training images), too few for %d ranks; "
                   "change --batch or --limit",
                   (long long)last, (long long)r->n_tr, r->size);
  return SR_OK;
}

// Make every rank's BatchNorm running statistics rank 0's (as DDP broadcasts buffers): before
// evaluating (each rank evaluates a shard) and before checkpoints (resuming gives every rank these).
static sr_status sync_buffers(run_state *r, sr_err *err) {
  sr_model *m = &r->model;
  sr_status st = sr_dist_bcast(r->dist, m->state, sizeof(float) * (size_t)m->n_state, 0, err);
  return st ? st : sr_dist_bcast(r->dist, m->bn_tracked, sizeof(int64_t) * (size_t)m->n_bn, 0, err);
}

#define SHARE_SIZES 6  // shards differ by at most a row: 2 sizes each of batch, last batch, pairs

static void add_size(int64_t *sizes, int *n, int64_t rows) {
  int seen = rows <= 0;
  for (int i = 0; i < *n; i++) seen |= sizes[i] == rows;
  if (!seen && *n < SHARE_SIZES) sizes[(*n)++] = rows;
}

// Under MPI every rank's training tapes run rank 0's measured algorithms (convcache.c): for the rows each
// rank takes of a full batch, of the epoch's last, partial one and of the regularizer's pairs (a ghost
// tape of 2k rows has the convolution keys of a plain one).
static sr_status share_choices(run_state *r, sr_err *err) {
  int64_t B = r->cfg->optim.batch, sizes[SHARE_SIZES], lo, hi;
  int n = 0;
  for (int q = 0; q < r->size; q++) {
    add_size(sizes, &n, B * (q + 1) / r->size - B * q / r->size);
    add_size(sizes, &n, r->n_tr % B * (q + 1) / r->size - r->n_tr % B * q / r->size);
    sr_dist_shard(r->reg.on ? r->reg.k : 0, q, r->size, &lo, &hi);
    add_size(sizes, &n, (r->reg.ghost ? 2 : 1) * (hi - lo));
  }
  return sr_conv_share_choices(&r->model, r->dist, sizes, n, err);
}

static sr_status setup(run_state *r, sr_err *err) {
  const sr_train_config *c = r->cfg;
  sr_status st;
  if (c->optim.epochs < 0) return sr_fail(err, SR_ERR_ARG, "--epochs must be >= 0 (got %d)", c->optim.epochs);
  if (c->optim.batch < 2)
    return sr_fail(err, SR_ERR_ARG, "--batch must be >= 2 for batch norm (got %d)", c->optim.batch);
  if (!(c->optim.lr > 0) || !isfinite(c->optim.lr))
    return sr_fail(err, SR_ERR_ARG, "--lr must be a positive number");
  if ((st = sr_dataset_load(c->data.spec, "train", &r->train, err))) return st;
  if (c->data.limit > 0 && c->data.limit < r->train.n) r->train.n = c->data.limit;
  if (c->data.eval_test && (st = sr_dataset_load(c->data.spec, "test", &r->test, err))) return st;
  if ((st = sr_split_holdout(
           &(sr_holdout_spec){.n = r->train.n, .fraction = c->data.val_fraction, .seed = c->optim.seed},
           &r->tr_idx, &r->n_tr, &r->va_idx, &r->n_va, err)))
    return st;
  r->opts = sr_loader_opts_default();
  r->opts.batch = c->optim.batch;
  r->opts.augment = c->data.augment;
  r->opts.crop_pad = c->data.crop_pad;
  r->opts.flip = c->data.flip;
  r->opts.gray = c->data.gray;
  r->opts.mean = (float)c->data.mean;
  r->opts.scale = (float)c->data.scale;
  r->opts.seed = c->optim.seed;
  r->eval_opts = r->opts;
  r->eval_opts.shuffle = 0;
  r->eval_opts.augment = 0;
  r->eval_opts.batch = 256;
  r->opts.shard_rank = r->rank;
  r->opts.shard_size = r->size;  // training batches: this rank's rows
  if ((st = sr_loader_opts_check(&r->train, &r->opts, err))) return st;
  sr_model_config mc = {.in_c = sr_batch_channels(&r->train, &r->opts),
                        .in_h = r->train.h,
                        .in_w = r->train.w,
                        .classes = r->train.num_classes,
                        .width = c->model.width};
  snprintf(mc.arch, sizeof mc.arch, "%s", c->model.arch);
  snprintf(mc.features, sizeof mc.features, "%s", c->model.features);
  sr_rng rng;
  sr_rng_seed(&rng, c->optim.seed, 1);
  if ((st = sr_model_create(&r->model, &mc, &rng, err))) return st;
  if (c->model.init[0] && (st = sr_model_load(&r->model, c->model.init, err))) return st;
  if ((st = sr_model_set_precision(&r->model, c->model.precision, err)) ||
      (st = sr_model_set_winograd(&r->model, !c->model.direct_conv, err)))
    return st;
  if (c->model.conv_algo[0] && (st = sr_model_set_conv_algo(&r->model, c->model.conv_algo, err))) return st;
  // a resumed run reuses the choices it recorded (the same algorithms, not a new timing)
  if (c->run.resume && (st = sr_run_load_conv_choices(c->run.out, &r->model, err))) return st;
  // then the machine's cache for the keys the run lacks: fresh runs take the choices earlier ones measured
  if (c->run.conv_cache[0] && (st = sr_conv_cache_load(c->run.conv_cache, &r->model, err))) return st;
  if ((st = sr_sgd_init(&r->sgd, r->model.n_params, c->optim.momentum, c->optim.weight_decay,
                        c->optim.nesterov, err)))
    return st;
  if ((st = check_shards(r, err))) return st;
  if (c->run.sync_bn) sr_dist_sync_bn(r->dist, &r->model);  // before any tape exists
  double mb = c->run.bucket_mb > 0 ? c->run.bucket_mb : 1.0;
  if ((st = sr_dist_grads_create(r->dist, &r->model, (size_t)(mb * 1048576.0), &r->buckets, err))) return st;
  if ((st = sr_loader_create(&r->train, r->tr_idx, r->n_tr, &r->opts, &r->loader, err))) return st;
  r->logits = sr_alloc(sizeof(float) * (size_t)c->optim.batch * (size_t)mc.classes);
  r->dlogits = sr_alloc(sizeof(float) * (size_t)c->optim.batch * (size_t)mc.classes);
  r->metrics = cJSON_CreateArray();
  if (!r->logits || !r->dlogits || !r->metrics) return sr_fail(err, SR_ERR_NOMEM, "training buffers");
  if ((st = sr_reg_run_setup(&r->reg, c, &(sr_eval_set){.ds = &r->train, .idx = r->tr_idx, .n = r->n_tr},
                             &r->model, &r->opts, err)))
    return st;
  if ((st = share_choices(r, err))) return st;
  if (r->rank > 0) return SR_OK;  // only rank 0 writes
  if ((st = sr_mkdir_p(c->run.out, err))) return st;
  if ((st = copy_onnx(c, err))) return st;
  return record_choices(r, err);
}

static void report_step(const run_state *r, int64_t steps, int64_t first, double t_start, double elapsed) {
  const sr_train_callbacks *cb = &r->cfg->run.cb;
  if (!cb->on_step) return;
  const progress_state *p = &r->pos;
  sr_train_step_info s = {.epoch = p->epoch, .epochs = r->cfg->optim.epochs, .step = p->step, .steps = steps};
  s.loss = p->lsum / (double)p->seen;
  s.acc = (double)p->hits / (double)p->seen;
  s.img_per_s = (double)(p->step - first) * (double)r->cfg->optim.batch / (sr_now() - t_start);
  s.eta_s = elapsed / (double)p->step * (double)(steps - p->step);
  cb->on_step(cb->ctx, &s);
}

static sr_status write_checkpoint(run_state *r, sr_err *err) {
  sr_status sst = sync_buffers(r, err);  // collective: every rank calls write_checkpoint at the same step
  if (sst || r->rank > 0) return sst;
  // a resume from here must take the choices the steps so far ran (an interrupted epoch records none)
  if (sr_conv_choices_recorded(&r->model) != r->conv_recorded && (sst = record_choices(r, err))) return sst;
  char path[2048], meta[8][64];
  const progress_state *p = &r->pos;
  snprintf(path, sizeof path, "%s/checkpoint.safetensors", r->cfg->run.out);
  snprintf(meta[0], 64, "%d", p->epoch);
  snprintf(meta[1], 64, "%lld", (long long)p->step);
  snprintf(meta[2], 64, "%a", p->lsum);  // hex floats: exact round trip
  snprintf(meta[3], 64, "%lld", (long long)p->seen);
  snprintf(meta[4], 64, "%lld", (long long)p->hits);
  snprintf(meta[5], 64, "%a", p->best);
  snprintf(meta[6], 64, "%d", r->sgd.has_buf);
  snprintf(meta[7], 64, "%a", p->secs);
  char *metrics = cJSON_PrintUnformatted(r->metrics);
  if (!metrics) return sr_fail(err, SR_ERR_NOMEM, "checkpoint: out of memory");
  const char *kv[40] = {"epoch",
                        meta[0],
                        "step",
                        meta[1],
                        "loss_sum",
                        meta[2],
                        "seen",
                        meta[3],
                        "hits",
                        meta[4],
                        "best_val_loss",
                        meta[5],
                        "momentum_started",
                        meta[6],
                        "epoch_seconds",
                        meta[7],
                        "metrics",
                        metrics,
                        NULL};
  char regbuf[8][80];
  sr_reg_run_ckpt_meta(&r->reg, regbuf, kv + 18);
  int64_t shapes[1 + SR_MAX_FEATURES + 1] = {r->model.n_params};
  sr_st_entry e[3 + SR_MAX_FEATURES];
  int n = 0;
  if (r->sgd.buf) e[n++] = (sr_st_entry){"optimizer.momentum_buffer", SR_F32, 1, shapes, r->sgd.buf};
  n += sr_reg_run_ckpt_entries(&r->reg, e + n, shapes + 1);
  sr_status st = sr_model_save_with(&r->model, path, e, n, kv, err);
  free(metrics);
  return st;
}

static sr_status meta_num(const sr_st_file *f, const char *path, const char *key, double *v, sr_err *err) {
  const char *s = sr_st_meta(f, key);
  char *end;
  if (!s || (*v = strtod(s, &end), end == s || *end))
    return sr_fail(err, SR_ERR_FORMAT, "%s: checkpoint metadata '%s' is missing or malformed", path, key);
  return SR_OK;
}

static sr_status read_checkpoint(run_state *r, sr_err *err) {
  char path[2048];
  snprintf(path, sizeof path, "%s/checkpoint.safetensors", r->cfg->run.out);
  sr_st_file f;
  sr_status st = sr_st_read(path, &f, err);
  if (st) return st;
  double v[8];
  const char *keys[] = {"epoch", "step",          "loss_sum",         "seen",
                        "hits",  "best_val_loss", "momentum_started", "epoch_seconds"};
  for (int k = 0; k < 8 && !st; k++) st = meta_num(&f, path, keys[k], &v[k], err);
  if (!st) st = sr_model_load_st(&r->model, &f, path, "optimizer.,reg.", err);
  if (!st) st = sr_reg_run_restore(&r->reg, &f, path, err);
  const sr_st_tensor *mom = sr_st_find(&f, "optimizer.momentum_buffer");
  if (!st && r->sgd.buf) {
    if (!mom || mom->dtype != SR_F32 || mom->count != r->model.n_params)
      st = sr_fail(err, SR_ERR_FORMAT, "%s: momentum buffer missing or of the wrong size", path);
    else
      memcpy(r->sgd.buf, mom->data, sizeof(float) * (size_t)r->model.n_params);
  }
  const char *metrics = sr_st_meta(&f, "metrics");
  if (!st) {
    cJSON_Delete(r->metrics);
    r->metrics = metrics ? cJSON_Parse(metrics) : NULL;
    if (!cJSON_IsArray(r->metrics))
      st = sr_fail(err, SR_ERR_FORMAT, "%s: checkpoint metrics are malformed", path);
  }
  if (!st) {
    r->pos = (progress_state){.epoch = (int)v[0],
                              .step = (int64_t)v[1],
                              .lsum = v[2],
                              .seen = (int64_t)v[3],
                              .hits = (int64_t)v[4],
                              .secs = v[7],
                              .best = v[5]};
    r->sgd.has_buf = v[6] != 0;
    r->resumed = 1;
  }
  sr_st_free(&f);
  return st;
}

// SGD over the rest of epoch r->pos.epoch (from r->pos.step). Leaves the epoch's sums in r->pos.
static sr_status train_epoch(run_state *r, sr_err *err) {
  sr_model *m = &r->model;
  progress_state *p = &r->pos;
  int K = m->cfg.classes, epoch = p->epoch;
  double lr = sr_lr_at(&r->cfg->optim.sched, epoch), t0 = sr_now() - p->secs, t_start = sr_now();
  int64_t steps = sr_loader_batches(r->loader), nb, first = p->step;
  p->wait0 = sr_loader_wait_seconds(r->loader);
  sr_status st = sr_loader_start(r->loader, epoch, p->step, err);
  const float *x;
  const int32_t *y;
  while (!st && sr_loader_next(r->loader, &x, &y, &nb)) {
    sr_tape *t;
    int64_t correct;
    if ((st = sr_model_tape(m, nb, 0, &t, err)) || (st = sr_tape_forward(t, x, 1, r->logits, err))) break;
    float l = sr_softmax_ce(r->dlogits, r->logits, y, (int)nb, K, &correct);
    if (!isfinite(l) && (st = sr_train_check_finite(m, l, epoch, p->step, err))) break;
    // The loss is a mean over the global batch of gb rows: this rank's rows weigh nb/gb, so the ranks'
    // gradients sum to the one-process gradient.
    int64_t gb = r->n_tr - p->step * r->cfg->optim.batch < r->cfg->optim.batch
                     ? r->n_tr - p->step * r->cfg->optim.batch
                     : r->cfg->optim.batch;
    if (r->size > 1) {
      const float w = (float)((double)nb / (double)gb);
      for (int64_t q = 0; q < nb * K; q++) r->dlogits[q] *= w;
    }
    sr_model_zero_grad(m);
    double rl =
        0;  // the pair batch first, so the batch's backward is the step's last and overlaps the allreduce
    if (r->reg.on && (st = sr_reg_run_step(&r->reg, m, &rl, err))) break;
    if (!isfinite(rl)) {
      st = sr_fail(err, SR_ERR_NUMERIC, "non-finite regularization loss at epoch %d step %lld", epoch + 1,
                   (long long)p->step);
      break;
    }
    sr_dist_grads_arm(r->buckets);
    if ((st = sr_tape_backward(t, r->dlogits, NULL, err)) || (st = sr_dist_grads_finish(r->buckets, err)))
      break;
    // Global loss sum and hits; a stop request on any rank stops all at this same step.
    double red[3] = {(double)l * (double)nb, (double)correct,
                     r->cfg->run.stop && *r->cfg->run.stop ? 1.0 : 0.0};
    if ((st = sr_dist_allreduce_f64(r->dist, red, 3, err))) break;
    // the update reads every gradient and weight anyway: it checks them in the same pass; only a
    // non-finite value takes the slow scan that names the layer (before any checkpoint is written)
    int finite = sr_sgd_step_checked(&r->sgd, m->params, m->grads, lr);
    m->params_version++;
    if (!finite && (st = sr_train_check_finite(m, l, epoch, p->step, err))) break;
    if (r->reg.on) {  // the layer weights w follow the same SGD (as in the paper's code)
      sr_reg_step_w(&r->reg.state, lr, r->cfg->optim.momentum);
      sr_reg_zero_grad(&r->reg.state);
    }
    p->lsum += red[0];
    p->seen += gb;
    p->hits += (int64_t)red[1];
    p->step++;
    double el = sr_now() - t0;
    p->secs = el;
    report_step(r, steps, first, t_start, el);
    int every = r->cfg->run.checkpoint_every;
    if (red[2] > 0) {
      if (!(st = write_checkpoint(r, err)))
        st = sr_fail(err, SR_ERR_INTERRUPTED, "interrupted at epoch %d step %lld; checkpoint written to %s",
                     epoch + 1, (long long)p->step, r->cfg->run.out);
      break;
    }
    if (every > 0 && p->step % every == 0 && p->step < steps) st = write_checkpoint(r, err);
  }
  return st;
}

static sr_status end_epoch(run_state *r, sr_err *err) {
  int epoch = r->pos.epoch;
  double tl = r->pos.seen ? r->pos.lsum / r->pos.seen : 0,
         ta = r->pos.seen ? (double)r->pos.hits / r->pos.seen : 0;
  double secs = r->pos.secs, *best = &r->pos.best;
  sr_eval_result val = {0}, test = {0};
  r->last = (sr_train_epoch_info){.reg_loss = NAN, .similarity_pearson = NAN, .similarity_spearman = NAN};
  sr_status st = sync_buffers(r, err);
  if (!st)
    st = sr_evaluate_sharded(r->dist, &r->model,
                             &(sr_eval_set){.ds = &r->train, .idx = r->va_idx, .n = r->n_va}, &r->eval_opts,
                             0, &val, err);
  if (!st && r->cfg->data.eval_test)
    st = sr_evaluate_sharded(r->dist, &r->model, &(sr_eval_set){.ds = &r->test, .idx = NULL, .n = 0},
                             &r->eval_opts, 0, &test, err);
  if (st) return st;
  cJSON *e = cJSON_CreateObject();
  cJSON_AddNumberToObject(e, "epoch", epoch + 1);
  cJSON_AddNumberToObject(e, "lr", sr_lr_at(&r->cfg->optim.sched, epoch));
  cJSON_AddNumberToObject(e, "train_loss", tl);
  cJSON_AddNumberToObject(e, "train_acc", ta);
  cJSON_AddNumberToObject(e, "val_loss", val.loss);
  cJSON_AddNumberToObject(e, "val_acc", val.accuracy);
  if (r->cfg->data.eval_test) cJSON_AddNumberToObject(e, "test_acc", test.accuracy);
  cJSON_AddNumberToObject(e, "seconds", secs);
  if (r->reg.on) {
    double gamma[SR_MAX_FEATURES], pearson = NAN, spearman = NAN;
    sr_reg_gamma(&r->reg.state, gamma);
    if (r->rank == 0 &&
        (st = sr_reg_run_probe(&r->reg, &r->model, &pearson, &spearman, err))) {  // logging only
      cJSON_Delete(e);
      return st;
    }
    cJSON_AddNumberToObject(e, "reg_loss", r->reg.loss_n ? r->reg.loss_sum / (double)r->reg.loss_n : 0);
    cJSON_AddItemToObject(e, "gamma", cJSON_CreateDoubleArray(gamma, r->reg.state.n_layers));
    if (isfinite(pearson)) cJSON_AddNumberToObject(e, "similarity_pearson", pearson);
    if (isfinite(spearman)) cJSON_AddNumberToObject(e, "similarity_spearman", spearman);
    r->last.reg = 1;
    r->last.reg_loss = r->reg.loss_n ? r->reg.loss_sum / (double)r->reg.loss_n : 0;
    r->last.similarity_pearson = pearson;
    r->last.similarity_spearman = spearman;
    r->last.probes = SR_REG_PROBES;
    r->reg.loss_sum = 0;
    r->reg.loss_n = 0;
  }
  double wait = sr_loader_wait_seconds(r->loader) - r->pos.wait0;
  cJSON_AddNumberToObject(e, "data_wait_share", secs > 0 ? wait / secs : 0);
  if (r->size > 1) {  // communication the backward pass did not hide (rank 0's view)
    double cw;
    int64_t early, late;
    sr_dist_grads_stats(r->buckets, &cw, &early, &late);
    cJSON_AddNumberToObject(e, "ranks", r->size);
    cJSON_AddNumberToObject(e, "allreduce_wait_share", secs > 0 ? (cw - r->comm_wait0) / secs : 0);
    r->comm_wait0 = cw;
  }
  cJSON_AddItemToArray(r->metrics, e);
  r->last.epoch = epoch;
  r->last.epochs = r->cfg->optim.epochs;
  r->last.lr = sr_lr_at(&r->cfg->optim.sched, epoch);
  r->last.train_loss = tl;
  r->last.train_acc = ta;
  r->last.val_loss = val.loss;
  r->last.val_acc = val.accuracy;
  r->last.test_acc = r->cfg->data.eval_test ? test.accuracy : NAN;
  r->last.seconds = secs;
  r->last.data_wait_share = secs > 0 ? wait / secs : 0;
  r->have_last = 1;
  if (r->cfg->run.cb.on_epoch) r->cfg->run.cb.on_epoch(r->cfg->run.cb.ctx, &r->last);
  char path[2048];
  if (r->rank == 0 && (st = write_json(r->cfg->run.out, "metrics.jsonl", r->metrics, 1, err))) return st;
  // tapes and plans built this epoch chose: record them
  if (r->rank == 0 && sr_conv_choices_recorded(&r->model) != r->conv_recorded &&
      (st = record_choices(r, err)))
    return st;
  snprintf(path, sizeof path, "%s/last.safetensors", r->cfg->run.out);
  if (r->rank == 0 && (st = sr_model_save(&r->model, path, err))) return st;
  if (val.loss < *best) {
    *best = val.loss;
    snprintf(path, sizeof path, "%s/best.safetensors", r->cfg->run.out);
    if (r->rank == 0) st = sr_model_save(&r->model, path, err);
  }
  r->pos = (progress_state){.epoch = epoch + 1, .best = *best};
  return st ? st : write_checkpoint(r, err);
}

static void report_start(const run_state *r) {
  const sr_train_callbacks *cb = &r->cfg->run.cb;
  if (!cb->on_start) return;
  sr_train_start_info s = {
      .out = r->cfg->run.out, .resumed = r->resumed, .epoch = r->pos.epoch, .step = r->pos.step};
  if (r->reg.on) {
    s.reg = 1;
    s.reg_kind = r->cfg->reg.kind;
    s.reg_n = r->reg.target.n;
    s.th = r->cfg->reg.th;
    s.alpha = r->cfg->reg.alpha;
    s.pairs = r->reg.k;
    s.layers = r->reg.state.n_layers;
    s.target_cached = r->reg.target.from_cache;
    s.target_seconds = r->reg.target.seconds;
  }
  cb->on_start(cb->ctx, &s);
}

sr_status sr_train(const sr_train_config *cfg_in, sr_err *err) {
  run_state r;
  memset(&r, 0, sizeof r);
  sr_train_config local = *cfg_in;
  const sr_train_config *cfg = &local;
  r.cfg = cfg;
  r.dist = cfg->run.dist;
  r.rank = sr_dist_rank(r.dist);
  r.size = sr_dist_size(r.dist);
  if (r.rank > 0) memset(&local.run.cb, 0, sizeof local.run.cb);  // rank 0 alone reports
  if (cfg->run.threads > 0) omp_set_num_threads(cfg->run.threads);
  sr_status st = setup(&r, err);
  r.pos.best = INFINITY;
  if (!st && cfg->run.resume) st = read_checkpoint(&r, err);
  if (!st) report_start(&r);
  while (!st && r.pos.epoch < cfg->optim.epochs) {
    st = train_epoch(&r, err);
    if (!st) st = end_epoch(&r, err);
  }
  if (!st && cfg->run.cb.on_done) cfg->run.cb.on_done(cfg->run.cb.ctx, r.have_last ? &r.last : NULL);
  run_free(&r);
  return st;
}
