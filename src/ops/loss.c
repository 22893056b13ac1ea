// Softmax cross-entropy, mean over the batch (PyTorch's CrossEntropyLoss with reduction='mean').
#include <math.h>

#include "simreg/layers.h"
#include "simreg/model.h"

// logits, dlogits: (N,K)  labels: (N)
double sr_softmax_ce_ref(double *dlogits, const double *logits, const int32_t *labels, int N, int K) {
  double loss = 0;
  for (int n = 0; n < N; n++) {
    const double *z = logits + (int64_t)n * K;
    double m = z[0], s = 0;
    for (int k = 1; k < K; k++) m = z[k] > m ? z[k] : m;
    for (int k = 0; k < K; k++) s += exp(z[k] - m);
    double lse = m + log(s);
    loss += lse - z[labels[n]];
    if (dlogits)
      for (int k = 0; k < K; k++) dlogits[(int64_t)n * K + k] = (exp(z[k] - lse) - (k == labels[n])) / N;
  }
  return loss / N;
}

// Same in float with double accumulation; counts argmax hits in *correct when non-NULL.
float sr_softmax_ce(float *dlogits, const float *logits, const int32_t *labels, int N, int K,
                    int64_t *correct) {
  double loss = 0;
  int64_t hits = 0;
  for (int n = 0; n < N; n++) {
    const float *z = logits + (int64_t)n * K;
    float m = z[0];
    int arg = 0;
    for (int k = 1; k < K; k++)
      if (z[k] > m) {
        m = z[k];
        arg = k;
      }
    double s = 0;
    for (int k = 0; k < K; k++) s += exp((double)z[k] - m);
    double lse = m + log(s);
    loss += lse - z[labels[n]];
    hits += arg == labels[n];
    if (dlogits)
      for (int k = 0; k < K; k++)
        dlogits[(int64_t)n * K + k] = (float)((exp((double)z[k] - lse) - (k == labels[n])) / N);
  }
  if (correct) *correct = hits;
  return (float)(loss / N);
}

// One row: log-sum-exp in double (no overflow for large logits), then softmax or log-softmax.
static void scores_row(sr_scores s, float *z, int k) {
  double m = z[0], sum = 0;
  for (int j = 1; j < k; j++) m = z[j] > m ? z[j] : m;
  for (int j = 0; j < k; j++) sum += exp((double)z[j] - m);
  double lse = m + log(sum);
  for (int j = 0; j < k; j++) {
    double l = (double)z[j] - lse;
    z[j] = (float)(s == SR_SCORES_SOFTMAX ? exp(l) : l);
  }
}

void sr_scores_apply(sr_scores s, float *z, int64_t n, int k) {
  if (s != SR_SCORES_SOFTMAX && s != SR_SCORES_LOG_SOFTMAX) return;
  for (int64_t i = 0; i < n; i++) scores_row(s, z + i * k, k);
}

const char *sr_scores_name(sr_scores s) {
  return s == SR_SCORES_SOFTMAX ? "softmax" : s == SR_SCORES_LOG_SOFTMAX ? "log_softmax" : "logits";
}

sr_status sr_model_scores(sr_model *m, const float *x, int64_t n, float *out, sr_err *err) {
  sr_status st = sr_model_infer(m, x, n, out, err);
  if (!st) sr_scores_apply(m->scores, out, n, m->cfg.classes);
  return st;
}
