// Feature layers of a trained run on a set of images, in eval mode, through the model's oneDNN tape.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "simreg/npy.h"
#include "simreg/rsa.h"
#include "simreg/safetensors.h"
#include "simreg/train.h"

#define FEAT_BATCH 256

void sr_rsa_run_feats_free(sr_rsa_run_feats *f) {
  if (!f) return;
  for (int l = 0; l < SR_MAX_FEATURES; l++) sr_free(f->feats[l]);
  memset(f, 0, sizeof *f);
}

// gamma = softmax(reg.w) from RUN/checkpoint.safetensors; uniform when the run has no regularizer weights.
static void read_gamma(const char *run, sr_rsa_run_feats *f) {
  for (int l = 0; l < f->n_layers; l++) f->gamma[l] = 1.0 / f->n_layers;
  char path[4200];
  snprintf(path, sizeof path, "%s/checkpoint.safetensors", run);
  sr_st_file st;
  sr_err e = {0};
  if (sr_st_read(path, &st, &e)) return;
  const sr_st_tensor *w = sr_st_find(&st, "reg.w");
  if (w && w->dtype == SR_F64 && w->count == f->n_layers) {
    const double *v = w->data;
    double mx = v[0], s = 0;
    for (int l = 1; l < f->n_layers; l++) mx = v[l] > mx ? v[l] : mx;
    for (int l = 0; l < f->n_layers; l++) s += exp(v[l] - mx);
    for (int l = 0; l < f->n_layers; l++) f->gamma[l] = exp(v[l] - mx) / s;
    f->gamma_from_ckpt = 1;
  }
  sr_st_free(&st);
}

static sr_status alloc_layers(const sr_model *m, int64_t n, sr_rsa_run_feats *f, sr_err *err) {
  f->n_layers = m->n_feat;
  for (int l = 0; l < m->n_feat; l++) {
    const sr_node *nd = &m->nodes[m->feat[l]];
    snprintf(f->names[l], sizeof f->names[l], "%s", m->feat_name[l]);
    f->channels[l] = nd->c;
    f->hw[l] = (int64_t)nd->h * nd->w;
    f->feats[l] = sr_alloc(sizeof(float) * (size_t)n * (size_t)sr_model_feature_size(m, l));
    if (!f->feats[l])
      return sr_fail(err, SR_ERR_NOMEM, "out of memory for layer %s of %lld images", f->names[l],
                     (long long)n);
  }
  return m->n_feat ? SR_OK : sr_fail(err, SR_ERR_ARG, "the model has no feature layers");
}

static sr_status forward_all(sr_model *m, const sr_dataset *ds, const int64_t *idx, int64_t n,
                             const sr_loader_opts *o, sr_rsa_run_feats *f, sr_err *err) {
  const int64_t chw = (int64_t)sr_batch_channels(ds, o) * ds->h * ds->w;
  float *x = sr_alloc(sizeof(float) * (size_t)FEAT_BATCH * (size_t)chw);
  float *out = sr_alloc(sizeof(float) * (size_t)FEAT_BATCH * (size_t)sr_model_out_size(m));
  int32_t *y = sr_alloc(sizeof(int32_t) * FEAT_BATCH);
  sr_status st = x && out && y ? SR_OK : sr_fail(err, SR_ERR_NOMEM, "feature batch buffers");
  for (int64_t s = 0; s < n && !st; s += FEAT_BATCH) {
    const int64_t nb = n - s < FEAT_BATCH ? n - s : FEAT_BATCH;
    sr_tape *t;
    st = sr_make_batch(ds, &(sr_batch_rows){.idx = idx + s, .n = nb, .epoch = 0, .first_position = s}, o, x,
                       y, err);
    if (!st) st = sr_model_tape(m, nb, 0, &t, err);
    if (!st) st = sr_tape_forward(t, x, 0, out, err);  // eval mode: running BatchNorm statistics
    for (int l = 0; l < f->n_layers && !st; l++)
      st = sr_tape_feature(t, l, f->feats[l] + (size_t)s * (size_t)sr_model_feature_size(m, l), err);
  }
  sr_free(x);
  sr_free(out);
  sr_free(y);
  return st;
}

sr_status sr_rsa_run_features(const char *run, const char *which, const sr_dataset *ds, const int64_t *idx,
                              int64_t n, sr_rsa_run_feats *f, sr_err *err) {
  memset(f, 0, sizeof *f);
  sr_model m;
  sr_run_info info;
  sr_status st = sr_run_open(run, which, &m, &info, err);
  if (st) return st;
  sr_loader_opts o = sr_loader_opts_default();
  o.batch = FEAT_BATCH, o.shuffle = 0, o.augment = 0, o.gray = info.gray, o.mean = (float)info.mean,
  o.scale = (float)info.scale;
  if (sr_batch_channels(ds, &o) != m.cfg.in_c || ds->h != m.cfg.in_h || ds->w != m.cfg.in_w)
    st = sr_fail(err, SR_ERR_SHAPE, "%s expects %dx%dx%d images, the data gives %dx%dx%d", run, m.cfg.in_c,
                 m.cfg.in_h, m.cfg.in_w, sr_batch_channels(ds, &o), ds->h, ds->w);
  if (!st) st = alloc_layers(&m, n, f, err);
  if (!st) st = forward_all(&m, ds, idx, n, &o, f, err);
  if (!st) read_gamma(run, f);
  sr_model_free(&m);
  if (st) sr_rsa_run_feats_free(f);
  return st ? sr_err_context(err, "features of %s", run) : SR_OK;
}
