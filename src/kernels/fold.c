// BatchNorm folding: an eval-mode BN after a convolution is an affine map per output channel, so it can
// be merged into the convolution's weights and bias (inference plans, infer.c).
#include <math.h>

#include "simreg/layers.h"

// w, wf: (O, I)  b, gamma, beta, mean, var, bf: (O)
void sr_fold_bn(float *wf, float *bf, const float *w, const float *b, const sr_bn_eval *bn, int O,
                int64_t I) {
  const float *gamma = bn->gamma, *beta = bn->beta, *mean = bn->mean, *var = bn->var;
  const double eps = bn->eps;
  for (int o = 0; o < O; o++) {
    double s = (double)gamma[o] / sqrt((double)var[o] + eps);
    const float *wo = w + (int64_t)o * I;
    float *fo = wf + (int64_t)o * I;
    for (int64_t k = 0; k < I; k++) fo[k] = (float)((double)wo[k] * s);
    bf[o] = (float)((double)beta[o] + ((b ? (double)b[o] : 0.0) - (double)mean[o]) * s);
  }
}
