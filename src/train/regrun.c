// The similarity regularizer in the training loop: each pair batch as one tape of 2k images ([a; b], slot 1)
// whose BatchNorm layers normalise each half with its own statistics (ghost BatchNorm), exactly as two tapes
// of k would; two tapes (slots 1, 2) under SyncBN or with reg.two_tapes.
#include "regrun.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void sr_reg_run_free(sr_reg_run *r) {
  sr_reg_target_free(&r->target);
  sr_reg_state_free(&r->state);
  sr_free(r->images.images);
  sr_free(r->images.labels);
  sr_free(r->xa);  // xb, fb, gb point into xa, fa, ga
  sr_free(r->y);
  sr_free(r->pi);
  sr_free(r->pj);
  sr_free(r->tgt);
  sr_free(r->scnn);
  sr_free(r->sums);
  for (int l = 0; l < SR_MAX_FEATURES; l++) {
    sr_free(r->fa[l]);
    sr_free(r->ga[l]);
  }
  memset(r, 0, sizeof *r);
}

// The N regularization images as one uint8 array shaped like the model's input (channels per opts).
static sr_status gather_images(sr_reg_run *r, const sr_train_config *c, const sr_dataset *train,
                               const int64_t *tr_idx, int64_t n_tr, const sr_model *m, sr_err *err) {
  sr_dataset other = {0}, *src = (sr_dataset *)train;
  sr_status st = SR_OK;
  if (c->reg.data[0] && (st = sr_dataset_load(c->reg.data, "train", &other, err))) return st;
  if (c->reg.data[0]) src = &other;
  int64_t avail = c->reg.data[0] ? src->n : n_tr, n = c->reg.n < avail ? c->reg.n : avail;
  int oc = c->data.gray ? 1 : m->cfg.in_c;
  size_t img = (size_t)src->c * src->h * src->w, out = (size_t)oc * m->cfg.in_h * m->cfg.in_w;
  uint8_t *tmp = sr_alloc(img * (size_t)n);
  r->images = (sr_dataset){.n = n, .c = oc, .h = m->cfg.in_h, .w = m->cfg.in_w, .num_classes = 1};
  r->images.images = sr_alloc(out * (size_t)n);
  r->images.labels = sr_calloc((size_t)n, sizeof(int32_t));
  if (!tmp || !r->images.images || !r->images.labels)
    st = sr_fail(err, SR_ERR_NOMEM, "regularization images");
  for (int64_t i = 0; !st && i < n; i++)  // the first N training images after the hold-out, or of --reg-data
    memcpy(tmp + img * (size_t)i, src->images + img * (size_t)(c->reg.data[0] ? i : tr_idx[i]), img);
  if (!st && n < 2)
    st = sr_fail(err, SR_ERR_ARG, "--reg-n: need at least 2 regularization images (have %lld)", (long long)n);
  if (!st)
    st = sr_reg_resize_images(&(sr_u8_images){.px = tmp, .n = n, .c = src->c, .h = src->h, .w = src->w}, oc,
                              m->cfg.in_h, m->cfg.in_w, SR_RESIZE_AREA, r->images.images, err);
  sr_free(tmp);
  sr_dataset_free(&other);
  return st;
}

static sr_status build_target(sr_reg_run *r, const sr_train_config *c, sr_err *err) {
  sr_reg_target_opts o = sr_reg_target_opts_default();
  sr_status st = sr_reg_kind_parse(c->reg.kind, &o.kind, err);
  if (st) return sr_err_context(err, "--reg");
  o.th = c->reg.th;
  if (o.kind == SR_REG_FILE) {
    if (!c->reg.target[0] || !c->reg.indices[0])
      return sr_fail(err, SR_ERR_ARG, "--reg file needs --reg-target FILE.npy and --reg-indices FILE");
    return sr_reg_target_from_file(c->reg.target, c->reg.indices, r->images.n, &r->target, err);
  }
  char cache[1100];
  snprintf(cache, sizeof cache, "%s/cache", c->run.out);
  const sr_dataset *d = &r->images;
  return sr_reg_target_build(&o, &(sr_u8_images){.px = d->images, .n = d->n, .c = d->c, .h = d->h, .w = d->w},
                             cache, &r->target, err);
}

static sr_status alloc_buffers(sr_reg_run *r, const sr_model *m, sr_err *err) {
  size_t k = (size_t)r->k, in = (size_t)m->cfg.in_c * m->cfg.in_h * m->cfg.in_w;
  r->xa = sr_alloc(sizeof(float) * 2 * k * in);
  r->y = sr_alloc(sizeof(int32_t) * k);
  r->pi = sr_alloc(sizeof(int64_t) * k);
  r->pj = sr_alloc(sizeof(int64_t) * k);
  r->tgt = sr_alloc(sizeof(float) * k);
  r->scnn = sr_alloc(sizeof(float) * k);
  r->sums = sr_alloc(sizeof(double) * (size_t)sr_reg_channel_count(&r->state));
  int ok = r->xa && r->y && r->pi && r->pj && r->tgt && r->scnn && r->sums;
  for (int l = 0; ok && l < r->state.n_layers; l++) {
    size_t n = sizeof(float) * 2 * k * (size_t)r->state.chw[l];
    ok = (r->fa[l] = sr_alloc(n)) && (r->ga[l] = sr_alloc(n));
  }
  return ok ? SR_OK : sr_fail(err, SR_ERR_NOMEM, "regularizer buffers");
}

sr_status sr_reg_run_setup(sr_reg_run *r, const sr_train_config *c, const sr_eval_set *train, sr_model *m,
                           const sr_loader_opts *train_opts, sr_err *err) {
  memset(r, 0, sizeof *r);
  if (!c->reg.kind[0] || !strcmp(c->reg.kind, "none")) return SR_OK;
  r->on = 1;
  r->k = c->reg.pairs;
  r->alpha = c->reg.alpha;
  r->mse = c->reg.mse;
  r->dist = c->run.dist;
  r->ghost = !c->reg.two_tapes && !c->run.sync_bn;  // SyncBN's statistics are over ranks: two tapes
  if (r->k < 2 || r->k > SR_REG_PROBES)
    return sr_fail(err, SR_ERR_ARG, "--reg-pairs must be in [2, %d] (batch norm needs 2), got %d",
                   SR_REG_PROBES, r->k);
  int R = sr_dist_size(r->dist), need = m->n_bn ? 2 : 1;
  if (r->k / R < need)
    return sr_fail(err, SR_ERR_ARG, "--reg-pairs %d over %d ranks leaves %d pairs on some rank; %s needs %d",
                   r->k, R, r->k / R, m->n_bn ? "batch norm" : "the regularizer", need);
  if (!(c->reg.alpha >= 0)) return sr_fail(err, SR_ERR_ARG, "--alpha must be >= 0");
  int layers[SR_MAX_FEATURES], nl = 0;
  sr_status st = c->reg.layers[0] ? sr_reg_parse_layers(m, c->reg.layers, layers, &nl, err) : SR_OK;
  if (!st) st = sr_reg_state_init(&r->state, m, nl ? layers : NULL, nl, err);
  if (!st) st = gather_images(r, c, train->ds, train->idx, train->n, m, err);
  // Rank 0 builds the target and fills the cache; the other ranks then read it from there.
  if (!st && sr_dist_rank(r->dist) > 0) st = sr_dist_barrier(r->dist, err);
  if (!st) st = build_target(r, c, err);
  if (!st && sr_dist_rank(r->dist) == 0) st = sr_dist_barrier(r->dist, err);
  if (!st) st = alloc_buffers(r, m, err);
  if (st) return st;
  r->opts = *train_opts;
  r->opts.augment = 0;
  r->opts.shuffle = 0;
  r->opts.gray = 0;
  r->opts.batch = r->k;  // images already in model channels
  sr_rng_seed(&r->rng, c->optim.seed, 7);
  sr_rng probe;
  sr_rng_seed(&probe, c->optim.seed, 8);
  sr_reg_sample_pairs(&r->target, SR_REG_PROBES, &probe, r->probe_i, r->probe_j);
  sr_reg_pair_targets(&r->target, SR_REG_PROBES, r->probe_i, r->probe_j, r->probe_t);
  return SR_OK;
}

// k pairs of target indices: pair p is (a[p], b[p]).
typedef struct {
  const int64_t *a, *b;
  int k;
} pair_list;

// The b-half views for a pass of k pairs: images, features and feature gradients follow the a-half.
static void point_halves(sr_reg_run *r, const sr_model *m, int k) {
  size_t in = (size_t)m->cfg.in_c * m->cfg.in_h * m->cfg.in_w;
  r->xb = r->xa + (size_t)k * in;
  for (int l = 0; l < r->state.n_layers; l++) {
    r->fb[l] = r->fa[l] + (size_t)k * (size_t)r->state.chw[l];
    r->gb[l] = r->ga[l] + (size_t)k * (size_t)r->state.chw[l];
  }
}

// Forward the images target.idx[a[p]] and target.idx[b[p]], reading every layer: one ghost tape of 2k
// (*tb = NULL), or the two halves on slots 1 and 2.
static sr_status forward_pairs(sr_reg_run *r, sr_model *m, const pair_list *pl, int training, sr_tape **ta,
                               sr_tape **tb, sr_err *err) {
  const int64_t *a = pl->a, *b = pl->b;
  const int k = pl->k;
  int64_t ia[SR_REG_PROBES], ib[SR_REG_PROBES];
  for (int p = 0; p < k; p++) {
    ia[p] = r->target.idx[a[p]];
    ib[p] = r->target.idx[b[p]];
  }
  point_halves(r, m, k);
  *tb = NULL;
  sr_status st;
  if ((st = sr_make_batch(&r->images, &(sr_batch_rows){.idx = ia, .n = k, .epoch = 0, .first_position = 0},
                          &r->opts, r->xa, r->y, err)) ||
      (st = sr_make_batch(&r->images, &(sr_batch_rows){.idx = ib, .n = k, .epoch = 0, .first_position = 0},
                          &r->opts, r->xb, r->y, err)))
    return st;
  if (r->ghost) {
    if ((st = sr_model_tape_groups(m, 2 * (int64_t)k, 2, 1, ta, err)) ||
        (st = sr_tape_forward(*ta, r->xa, training, NULL, err)))
      return st;
    for (int l = 0; l < r->state.n_layers && !st; l++)
      st = sr_tape_feature(*ta, r->state.feat[l], r->fa[l], err);
    return st;
  }
  if ((st = sr_model_tape(m, k, 1, ta, err)) || (st = sr_model_tape(m, k, 2, tb, err)) ||
      (st = sr_tape_forward(*ta, r->xa, training, NULL, err)) ||
      (st = sr_tape_forward(*tb, r->xb, training, NULL, err)))
    return st;
  for (int l = 0; l < r->state.n_layers && !st; l++)
    if (!(st = sr_tape_feature(*ta, r->state.feat[l], r->fa[l], err)))
      st = sr_tape_feature(*tb, r->state.feat[l], r->fb[l], err);
  return st;
}

// Every rank draws the same k pairs and forwards its shard [lo, hi) of them; the channel sums (running
// means), the loss and dw are summed over ranks, so the step is the one-process step on all k pairs.
sr_status sr_reg_run_step(sr_reg_run *r, sr_model *m, double *loss, sr_err *err) {
  sr_tape *ta, *tb;
  sr_reg_sample_pairs(&r->target, r->k, &r->rng, r->pi, r->pj);
  sr_reg_pair_targets(&r->target, r->k, r->pi, r->pj, r->tgt);
  int64_t lo, hi;
  sr_dist_shard(r->k, sr_dist_rank(r->dist), sr_dist_size(r->dist), &lo, &hi);
  int kl = (int)(hi - lo), L = r->state.n_layers;
  sr_status st =
      forward_pairs(r, m, &(pair_list){.a = r->pi + lo, .b = r->pj + lo, .k = kl}, 1, &ta, &tb, err);
  if (!st) {
    sr_reg_channel_sums(&r->state, r->fa, r->fb, kl, r->sums);
    st = sr_dist_allreduce_f64(r->dist, r->sums, sr_reg_channel_count(&r->state), err);
  }
  sr_reg_step step = {.feats_a = r->fa,
                      .feats_b = r->fb,
                      .k = kl,
                      .target = r->tgt + lo,
                      .alpha = r->alpha,
                      .mse = r->mse,
                      .loss = loss,
                      .s_cnn = r->scnn,
                      .grad_a = r->ga,
                      .grad_b = r->gb};
  if (!st) st = sr_reg_loss_shard(&r->state, &step, r->k, r->sums, err);
  for (int l = 0; l < L && !st; l++)  // ghost: ga[l] holds both halves' gradients, gb[l] points into it
    if (!(st = sr_tape_feature_grad(ta, r->state.feat[l], r->ga[l], err)) && tb)
      st = sr_tape_feature_grad(tb, r->state.feat[l], r->gb[l], err);
  if (!st) st = sr_tape_backward(ta, NULL, NULL, err);
  if (!st && tb) st = sr_tape_backward(tb, NULL, NULL, err);
  double red[SR_MAX_FEATURES + 1];  // dw (this step only: the trainer zeroes it after each step) and the loss
  memcpy(red, r->state.dw, sizeof(double) * (size_t)L);
  red[L] = st ? 0 : *loss;
  if (!st && !(st = sr_dist_allreduce_f64(r->dist, red, L + 1, err))) {
    memcpy(r->state.dw, red, sizeof(double) * (size_t)L);
    *loss = red[L];
  }
  if (!st) {
    r->loss_sum += *loss;
    r->loss_n++;
  }
  return st;
}

sr_status sr_reg_run_probe(sr_reg_run *r, sr_model *m, double *pearson, double *spearman, sr_err *err) {
  sr_status st = SR_OK;
  for (int s = 0; s + r->k <= SR_REG_PROBES && !st; s += r->k) {
    sr_tape *ta, *tb;
    if (!(st = forward_pairs(r, m, &(pair_list){.a = r->probe_i + s, .b = r->probe_j + s, .k = r->k}, 0, &ta,
                             &tb, err)))
      st = sr_reg_similarity(&r->state, r->fa, r->fb, r->k, r->probe_s + s, err);
  }
  int n = SR_REG_PROBES / r->k * r->k;
  return st ? st : sr_reg_correlations(r->probe_s, r->probe_t, n, pearson, spearman, err);
}

// Checkpointed regularizer state: layer weights w and their momentum, the running means (tensors), the
// pair RNG, counters and the epoch's loss sum (metadata; hex floats round-trip exactly).
int sr_reg_run_ckpt_entries(sr_reg_run *r, sr_st_entry *e, int64_t *shapes) {
  if (!r->on) return 0;
  int n = 0, L = r->state.n_layers;
  shapes[0] = L;
  e[n++] = (sr_st_entry){"reg.w", SR_F64, 1, &shapes[0], r->state.w};
  e[n++] = (sr_st_entry){"reg.w_momentum_buffer", SR_F64, 1, &shapes[0], r->state.w_buf};
  for (int l = 0; l < L; l++) {
    snprintf(r->ckpt_names[l], sizeof r->ckpt_names[l], "reg.running_mean.%d", l);
    shapes[1 + l] = r->state.channels[l];
    e[n++] = (sr_st_entry){r->ckpt_names[l], SR_F32, 1, &shapes[1 + l], r->state.run_mean[l]};
  }
  return n;
}

void sr_reg_run_ckpt_meta(const sr_reg_run *r, char buf[][80], const char **kv) {
  int n = 0;
  if (r->on) {
    snprintf(buf[0], 80, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, r->rng.s[0], r->rng.s[1],
             r->rng.s[2], r->rng.s[3]);
    snprintf(buf[1], 80, "%d", r->state.w_has_buf);
    snprintf(buf[2], 80, "%lld", (long long)r->state.updates);
    snprintf(buf[3], 80, "%a", r->loss_sum);
    snprintf(buf[4], 80, "%lld", (long long)r->loss_n);
    const char *keys[] = {"reg_rng", "reg_w_started", "reg_updates", "reg_loss_sum", "reg_loss_n"};
    for (int i = 0; i < 5; i++) {
      kv[n++] = keys[i];
      kv[n++] = buf[i];
    }
  }
  kv[n] = NULL;
}

static sr_status restore_tensor(const sr_st_file *f, const char *path, const char *name, sr_dtype dt,
                                int64_t count, void *dst, sr_err *err) {
  const sr_st_tensor *t = sr_st_find(f, name);
  if (!t || t->dtype != dt || t->count != count)
    return sr_fail(err, SR_ERR_FORMAT, "%s: regularizer tensor '%s' is missing or has the wrong size", path,
                   name);
  memcpy(dst, t->data, (size_t)count * sr_dtype_size(dt));
  return SR_OK;
}

sr_status sr_reg_run_restore(sr_reg_run *r, const sr_st_file *f, const char *path, sr_err *err) {
  if (!r->on) return SR_OK;
  int L = r->state.n_layers;
  sr_status st = restore_tensor(f, path, "reg.w", SR_F64, L, r->state.w, err);
  if (!st) st = restore_tensor(f, path, "reg.w_momentum_buffer", SR_F64, L, r->state.w_buf, err);
  for (int l = 0; l < L && !st; l++) {
    char name[40];
    snprintf(name, sizeof name, "reg.running_mean.%d", l);
    st = restore_tensor(f, path, name, SR_F32, r->state.channels[l], r->state.run_mean[l], err);
  }
  const char *rng = sr_st_meta(f, "reg_rng"), *wb = sr_st_meta(f, "reg_w_started"),
             *up = sr_st_meta(f, "reg_updates");
  const char *ls = sr_st_meta(f, "reg_loss_sum"), *ln = sr_st_meta(f, "reg_loss_n");
  if (!st && (!rng || strlen(rng) != 64 || !wb || !up || !ls || !ln))
    st =
        sr_fail(err, SR_ERR_FORMAT, "%s: regularizer metadata missing (checkpoint of a baseline run?)", path);
  for (int i = 0; !st && i < 4; i++) {
    char word[17];
    memcpy(word, rng + 16 * i, 16);
    word[16] = 0;
    r->rng.s[i] = strtoull(word, NULL, 16);
  }
  if (!st) {
    r->state.w_has_buf = atoi(wb);
    r->state.updates = atoll(up);
    r->loss_sum = strtod(ls, NULL);
    r->loss_n = atoll(ln);
  }
  return st;
}
