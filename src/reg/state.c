// The regularizer's state: chosen feature layers, running means, layer weights w and their momentum.
#include <math.h>
#include <string.h>

#include "internal.h"

sr_status sr_reg_state_init_dims(sr_reg_state *s, int n_layers, const int *channels, const int64_t *hw,
                                 sr_err *err) {
  memset(s, 0, sizeof *s);
  if (n_layers < 1 || n_layers > SR_MAX_FEATURES)
    return sr_fail(err, SR_ERR_ARG, "the regularizer needs 1..%d feature layers, got %d", SR_MAX_FEATURES,
                   n_layers);
  int64_t total = 0;
  for (int l = 0; l < n_layers; l++) {
    if (channels[l] < 1 || hw[l] < 1)
      return sr_fail(err, SR_ERR_ARG, "feature layer %d has %d channels of %lld pixels", l, channels[l],
                     (long long)hw[l]);
    s->feat[l] = -1;
    s->channels[l] = channels[l];
    s->hw[l] = hw[l];
    s->chw[l] = channels[l] * hw[l];
    total += channels[l];
  }
  s->n_layers = n_layers;
  s->beta = SR_REG_BETA;
  s->mem = sr_calloc((size_t)total, sizeof(float));
  if (!s->mem) return sr_fail(err, SR_ERR_NOMEM, "out of memory for the running means");
  float *p = s->mem;
  for (int l = 0; l < n_layers; l++) {
    s->run_mean[l] = p;
    p += channels[l];
  }
  return SR_OK;
}

sr_status sr_reg_state_init(sr_reg_state *s, const sr_model *m, const int *layers, int n_layers,
                            sr_err *err) {
  memset(s, 0, sizeof *s);
  int all[SR_MAX_FEATURES];
  if (!layers) {
    for (int f = 0; f < m->n_feat; f++) all[f] = f;
    layers = all;
    n_layers = m->n_feat;
  }
  if (n_layers < 1)
    return sr_fail(err, SR_ERR_ARG, "model %s has no feature layers to regularize", m->cfg.arch);
  if (n_layers > SR_MAX_FEATURES)
    return sr_fail(err, SR_ERR_ARG, "at most %d regularized layers, got %d", SR_MAX_FEATURES, n_layers);
  int ch[SR_MAX_FEATURES];
  int64_t hw[SR_MAX_FEATURES];
  for (int l = 0; l < n_layers; l++) {
    if (layers[l] < 0 || layers[l] >= m->n_feat)
      return sr_fail(err, SR_ERR_ARG, "feature layer %d does not exist (model %s has %d)", layers[l],
                     m->cfg.arch, m->n_feat);
    for (int q = 0; q < l; q++)
      if (layers[q] == layers[l])
        return sr_fail(err, SR_ERR_ARG, "feature layer '%s' is listed twice", m->feat_name[layers[l]]);
    const sr_node *nd = &m->nodes[m->feat[layers[l]]];
    ch[l] = nd->c;
    hw[l] = (int64_t)nd->h * nd->w;
  }
  sr_status st = sr_reg_state_init_dims(s, n_layers, ch, hw, err);
  for (int l = 0; !st && l < n_layers; l++) s->feat[l] = layers[l];
  return st;
}

sr_status sr_reg_parse_layers(const sr_model *m, const char *names, int *layers, int *n_layers, sr_err *err) {
  *n_layers = 0;
  const char *p = names;
  while (p && *p) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    int found = -1;
    for (int f = 0; f < m->n_feat; f++)
      if (strlen(m->feat_name[f]) == len && !strncmp(m->feat_name[f], p, len)) found = f;
    if (found < 0 || *n_layers >= SR_MAX_FEATURES) {
      char avail[SR_MAX_FEATURES * 33] = "";
      for (int f = 0; f < m->n_feat; f++) {
        if (f) strcat(avail, ",");
        strcat(avail, m->feat_name[f]);
      }
      return sr_fail(err, SR_ERR_ARG, "feature layer '%.*s' is not one of the model's (%s)", (int)len, p,
                     avail);
    }
    layers[(*n_layers)++] = found;
    p = e ? e + 1 : NULL;
  }
  if (*n_layers == 0) return sr_fail(err, SR_ERR_ARG, "empty list of feature layers");
  return SR_OK;
}

void sr_reg_state_free(sr_reg_state *s) {
  if (!s) return;
  sr_free(s->mem);
  sr_free(s->s_layer);
  sr_free(s->norm);
  sr_free(s->bmean);
  memset(s, 0, sizeof *s);
}

void sr_reg_gamma(const sr_reg_state *s, double *gamma) {
  double mx = -INFINITY, z = 0;
  for (int l = 0; l < s->n_layers; l++) mx = fmax(mx, s->w[l]);
  for (int l = 0; l < s->n_layers; l++) z += gamma[l] = exp(s->w[l] - mx);
  for (int l = 0; l < s->n_layers; l++) gamma[l] /= z;
}

void sr_reg_zero_grad(sr_reg_state *s) { memset(s->dw, 0, sizeof s->dw); }

void sr_reg_step_w(sr_reg_state *s, double lr, double momentum) {
  for (int l = 0; l < s->n_layers; l++) {
    double d = s->dw[l];
    if (momentum != 0) {
      s->w_buf[l] = s->w_has_buf ? momentum * s->w_buf[l] + d : d;
      d = s->w_buf[l];
    }
    s->w[l] -= lr * d;
  }
  if (momentum != 0) s->w_has_buf = 1;
}
