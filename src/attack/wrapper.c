// The attacked model in pixel space: normalisation inside, query counting, padded power-of-two batches.
#include <math.h>
#include <string.h>

#include "simreg/attack.h"

sr_status sr_amodel_init(sr_amodel *am, sr_model *m, sr_pixel_map px, int64_t batch, sr_err *err) {
  int c = px.c;
  int gray = px.gray;
  double mean = px.mean;
  double scale = px.scale;
  memset(am, 0, sizeof *am);
  if (batch < 1) return sr_fail(err, SR_ERR_ARG, "attack batch must be >= 1, not %lld", (long long)batch);
  if (!isfinite(mean) || !isfinite(scale) || scale == 0)
    return sr_fail(err, SR_ERR_ARG, "input normalisation mean %g scale %g is not usable", mean, scale);
  int mc = gray ? 1 : c;
  if (c < 1 || mc != m->cfg.in_c)
    return sr_fail(err, SR_ERR_SHAPE, "images have %d channel(s)%s, the model takes %d", c,
                   gray ? " (gray)" : "", m->cfg.in_c);
  *am = (sr_amodel){.m = m,
                    .c = c,
                    .h = m->cfg.in_h,
                    .w = m->cfg.in_w,
                    .mc = mc,
                    .gray = gray,
                    .mean = (float)mean,
                    .scale = (float)scale,
                    .classes = m->cfg.classes,
                    .batch = batch};
  am->d = (int64_t)c * am->h * am->w;
  size_t in = (size_t)batch * (size_t)mc * (size_t)am->h * (size_t)am->w,
         out = (size_t)batch * (size_t)am->classes;
  am->xin = sr_calloc(in, sizeof(float));
  am->dxin = sr_calloc(in, sizeof(float));
  am->logits = sr_calloc(out, sizeof(float));
  am->dlogits = sr_calloc(out, sizeof(float));
  if (!am->xin || !am->dxin || !am->logits || !am->dlogits) {
    sr_amodel_free(am);
    return sr_fail(err, SR_ERR_NOMEM, "attack wrapper buffers for batch %lld", (long long)batch);
  }
  return SR_OK;
}

void sr_amodel_free(sr_amodel *am) {
  sr_free(am->xin);
  sr_free(am->dxin);
  sr_free(am->logits);
  sr_free(am->dlogits);
  memset(am, 0, sizeof *am);
}

// Tape (or inference plan) size for a call of k images: the next power of two, at most the batch. Attacks
// often query a few images at a time (the last images of a Boundary batch, a binary search's stragglers);
// padding them to the full batch cost up to batch/k times the compute. At most log2(batch) + 1 tapes and
// plans exist (the model keeps SR_MAX_INFERS plans: up to batch 2048 none is ever rebuilt).
static int64_t tape_size(const sr_amodel *am, int64_t k) {
  int64_t t = 1;
  while (t < k) t *= 2;
  return t < am->batch ? t : am->batch;
}

// x: (k, c, h, w) pixel space -> xin: (batch, mc, h, w); rows past k are zero padding.
static void normalise(sr_amodel *am, const float *x, int64_t k) {
  int64_t hw = (int64_t)am->h * am->w, mdim = (int64_t)am->mc * hw;
  for (int64_t i = 0; i < k; i++) {
    const float *src = x + i * am->d;
    float *dst = am->xin + i * mdim;
    if (am->gray && am->c > 1) {
      for (int64_t p = 0; p < hw; p++) {
        float s = 0;
        for (int ch = 0; ch < am->c; ch++) s += src[(int64_t)ch * hw + p];
        dst[p] = (s / (float)am->c - am->mean) * am->scale;
      }
    } else {
      for (int64_t p = 0; p < mdim; p++) dst[p] = (src[p] - am->mean) * am->scale;
    }
  }
  memset(am->xin + k * mdim, 0, (size_t)(tape_size(am, k) - k) * (size_t)mdim * sizeof(float));
}

// Forward of k images. Queries without a gradient run the model's inference plan (BN folded, ReLU and
// residual adds fused, no gradient buffers); gradient calls run the training graph in eval mode (t != NULL),
// whose backward needs its activations.
static sr_status forward_chunk(sr_amodel *am, const float *x, int64_t k, sr_tape **t, sr_err *err) {
  int64_t n = tape_size(am, k);
  sr_status st = t ? sr_model_tape(am->m, n, 0, t, err) : SR_OK;
  if (st) return st;
  normalise(am, x, k);
  double t0 = sr_now();
  st = t ? sr_tape_forward(*t, am->xin, 0, am->logits, err)
         : sr_model_infer(am->m, am->xin, n, am->logits, err);
  am->seconds += sr_now() - t0;
  if (st) return st;
  am->queries += k;
  return SR_OK;
}

sr_status sr_amodel_logits(sr_amodel *am, const float *x, int64_t n, float *logits, int64_t *counts,
                           sr_err *err) {
  for (int64_t i0 = 0; i0 < n; i0 += am->batch) {
    int64_t k = n - i0 < am->batch ? n - i0 : am->batch;
    sr_status st = forward_chunk(am, x + i0 * am->d, k, NULL, err);
    if (st) return st;
    memcpy(logits + i0 * am->classes, am->logits, (size_t)k * (size_t)am->classes * sizeof(float));
    if (counts)
      for (int64_t i = 0; i < k; i++) counts[i0 + i]++;
  }
  return SR_OK;
}

static int32_t argmax(const float *v, int n) {
  int32_t b = 0;
  for (int j = 1; j < n; j++)
    if (v[j] > v[b]) b = j;
  return b;
}

sr_status sr_amodel_predict(sr_amodel *am, const float *x, int64_t n, int32_t *pred, int64_t *counts,
                            sr_err *err) {
  for (int64_t i0 = 0; i0 < n; i0 += am->batch) {
    int64_t k = n - i0 < am->batch ? n - i0 : am->batch;
    sr_status st = forward_chunk(am, x + i0 * am->d, k, NULL, err);
    if (st) return st;
    for (int64_t i = 0; i < k; i++) {
      pred[i0 + i] = argmax(am->logits + i * am->classes, am->classes);
      if (counts) counts[i0 + i]++;
    }
  }
  return SR_OK;
}

// dlogits of the summed cross-entropy: softmax - onehot, for rows [0, k) of logits.
static sr_status ce_dlogits(void *ctx, const float *logits, int64_t first, int64_t k, int classes,
                            float *dlogits, sr_err *err) {
  (void)err;
  const int32_t *y = (const int32_t *)ctx + first;
  for (int64_t i = 0; i < k; i++) {
    const float *z = logits + i * classes;
    float *g = dlogits + i * classes;
    float mx = z[argmax(z, classes)];
    double s = 0;
    for (int j = 0; j < classes; j++) s += exp((double)(z[j] - mx));
    for (int j = 0; j < classes; j++) g[j] = (float)(exp((double)(z[j] - mx)) / s);
    g[y[i]] -= 1.0f;
  }
  return SR_OK;
}

// Chain rule through x' = (x - mean) * scale and the channel mean of gray runs: dxin (mc, h, w) -> g (c, h,
// w).
static void to_pixel_grad(const sr_amodel *am, const float *dn, float *gi) {
  int64_t hw = (int64_t)am->h * am->w, mdim = (int64_t)am->mc * hw;
  if (am->gray && am->c > 1) {
    float f = am->scale / (float)am->c;
    for (int ch = 0; ch < am->c; ch++)
      for (int64_t p = 0; p < hw; p++) gi[(int64_t)ch * hw + p] = dn[p] * f;
  } else {
    for (int64_t p = 0; p < mdim; p++) gi[p] = dn[p] * am->scale;
  }
}

sr_status sr_amodel_grad(sr_amodel *am, const float *x, int64_t n, const sr_loss *loss,
                         const sr_grad_out *out, sr_err *err) {
  float *g = out->g;
  float *logits = out->logits;
  int64_t *counts = out->counts;
  int64_t mdim = (int64_t)am->mc * am->h * am->w;
  for (int64_t i0 = 0; i0 < n; i0 += am->batch) {
    int64_t k = n - i0 < am->batch ? n - i0 : am->batch;
    sr_tape *t;
    sr_status st = forward_chunk(am, x + i0 * am->d, k, &t, err);
    if (st) return st;
    // padding rows get a zero cotangent
    memset(am->dlogits, 0, (size_t)am->batch * (size_t)am->classes * sizeof(float));
    st = loss->fn(loss->ctx, am->logits, i0, k, am->classes, am->dlogits, err);
    if (st) return st;
    double t0 = sr_now();
    st = sr_tape_backward_input(t, am->dlogits, am->dxin, err);  // no parameter gradients: no dW pass
    am->seconds += sr_now() - t0;
    if (st) return st;
    am->gradients += k;
    for (int64_t i = 0; i < k; i++) {
      to_pixel_grad(am, am->dxin + i * mdim, g + (i0 + i) * am->d);
      if (counts) counts[i0 + i]++;
    }
    if (logits)
      memcpy(logits + i0 * am->classes, am->logits, (size_t)k * (size_t)am->classes * sizeof(float));
  }
  return SR_OK;
}

sr_status sr_amodel_grad_ce(sr_amodel *am, const sr_labeled *in, const sr_grad_out *out, sr_err *err) {
  const int32_t *y = in->y;
  int64_t n = in->n;
  for (int64_t i = 0; i < n; i++)
    if (y[i] < 0 || y[i] >= am->classes)
      return sr_fail(err, SR_ERR_ARG, "label %d of image %lld is outside [0, %d)", y[i], (long long)i,
                     am->classes);
  return sr_amodel_grad(am, in->x, n, &(sr_loss){.fn = ce_dlogits, .ctx = (void *)y}, out, err);
}
