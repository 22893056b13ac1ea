// Reference layer kernels: plain C in double precision. They are the oracle the oneDNN path is tested
// against, and what finite-difference gradient checks run on. Convention (llm.c): outputs first, sizes
// last; every *_backward ADDS into the gradients it is given (dx, dw, db) and always yields dx.
#ifndef SIMREG_LAYERS_H
#define SIMREG_LAYERS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Output size of a conv/pool along one axis, PyTorch's floor rule.
static inline int sr_out_size(int in, int k, int stride, int pad) { return (in + 2 * pad - k) / stride + 1; }

// x: (N,C,H,W)  w: (O,C/groups,K,K)  b: (O) or NULL  ->  y: (N,O,OH,OW)
typedef struct sr_conv_shape {
  int n, c, h, w;  // input
  int o, k;        // output channels, kernel k x k
  int stride, pad;
  int groups, dil;  // 0 or 1: dense, undilated
  const int *pads;  // top, left, bottom, right, or NULL: pad on every side
} sr_conv_shape;
void sr_conv2d_forward_ref(double *y, const double *x, const double *w, const double *b,
                           const sr_conv_shape *s);
void sr_conv2d_backward_ref(double *dx, double *dw, double *db, const double *dy, const double *x,
                            const double *w, const sr_conv_shape *s);

// Batch norm over (N,H,W) per channel. Training: batch statistics (biased variance for normalisation),
// mean/invstd saved for backward. Eval: the running statistics rmean/rvar.
// x, y: (N,C,H,W)  gamma, beta, mean, invstd, rmean, rvar: (C)
typedef struct sr_bn_ref {
  const double *x;             // input (N, C, HW)
  const double *gamma, *beta;  // (C)
  const double *rmean, *rvar;  // (C) running statistics: eval mode only
  double eps;
  int n, c, hw;
} sr_bn_ref;
void sr_batchnorm_forward_train_ref(double *y, double *mean, double *invstd, const sr_bn_ref *bn);
void sr_batchnorm_backward_train_ref(double *dx, double *dgamma, double *dbeta, const double *dy,
                                     const double *mean, const double *invstd, const sr_bn_ref *bn);
void sr_batchnorm_forward_eval_ref(double *y, const sr_bn_ref *bn);
void sr_batchnorm_backward_eval_ref(double *dx, double *dgamma, double *dbeta, const double *dy,
                                    const sr_bn_ref *bn);

// x, y: (n)
void sr_relu_forward_ref(double *y, const double *x, int64_t n);
void sr_relu_backward_ref(double *dx, const double *dy, const double *x, int64_t n);

// x: (N,C,H,W) -> y: (N,C,OH,OW); padding is -inf for max, counted (PyTorch count_include_pad) for avg.
typedef struct sr_pool_shape {
  int n, c, h, w;  // input
  int k, stride, pad;
} sr_pool_shape;
void sr_maxpool_forward_ref(double *y, const double *x, const sr_pool_shape *s);
void sr_maxpool_backward_ref(double *dx, const double *dy, const double *x, const sr_pool_shape *s);
void sr_avgpool_forward_ref(double *y, const double *x, const sr_pool_shape *s);
void sr_avgpool_backward_ref(double *dx, const double *dy, const sr_pool_shape *s);

// Global average pool. x: (N,C,H,W) -> y: (N,C)
void sr_gap_forward_ref(double *y, const double *x, int N, int C, int HW);
void sr_gap_backward_ref(double *dx, const double *dy, int N, int C, int HW);

// x: (N,I)  w: (O,I)  b: (O) or NULL  ->  y: (N,O)
typedef struct sr_linear_shape {
  int n, i, o;  // batch, in features, out features
} sr_linear_shape;
void sr_linear_forward_ref(double *y, const double *x, const double *w, const double *b,
                           const sr_linear_shape *s);
void sr_linear_backward_ref(double *dx, double *dw, double *db, const double *dy, const double *x,
                            const double *w, const sr_linear_shape *s);

// y = a + b, all (n); backward adds dy into both da and db.
void sr_add_forward_ref(double *y, const double *a, const double *b, int64_t n);
void sr_add_backward_ref(double *da, double *db, const double *dy, int64_t n);

// Eval-mode BatchNorm folded into the convolution before it (inference plans): s = gamma / sqrt(var + eps)
// per output channel, wf = w * s, bf = beta + (b - mean) * s, computed in double. w, wf: (O, I) with
// I = C*K*K; b (O) may be NULL (no conv bias); gamma, beta, mean, var, bf: (O).
typedef struct sr_bn_eval {
  const float *gamma, *beta, *mean, *var;  // (O)
  double eps;
} sr_bn_eval;
void sr_fold_bn(float *wf, float *bf, const float *w, const float *b, const sr_bn_eval *bn, int O, int64_t I);

// Softmax cross-entropy, mean over the batch. logits: (N,K), labels: (N). Returns the loss; dlogits
// (may be NULL) receives d(loss)/d(logits), overwritten. The float version is the production path.
double sr_softmax_ce_ref(double *dlogits, const double *logits, const int32_t *labels, int N, int K);
float sr_softmax_ce(float *dlogits, const float *logits, const int32_t *labels, int N, int K,
                    int64_t *correct);

#ifdef __cplusplus
}
#endif
#endif
