// maxpool2d: reference kernels (double) and the oneDNN layer (workspace keeps the argmax).
#include <math.h>

#include "pool_common.h"

// x: (N,C,H,W) -> y: (N,C,OH,OW); padded positions never win.
void sr_maxpool_forward_ref(double *y, const double *x, const sr_pool_shape *s) {
  const int N = s->n, C = s->c, H = s->h, W = s->w, K = s->k, stride = s->stride, pad = s->pad;
  int OH = sr_out_size(H, K, stride, pad), OW = sr_out_size(W, K, stride, pad);
  for (int64_t nc = 0; nc < (int64_t)N * C; nc++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        double m = -INFINITY;
        for (int kh = 0; kh < K; kh++)
          for (int kw = 0; kw < K; kw++) {
            int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W && x[(nc * H + ih) * W + iw] > m)
              m = x[(nc * H + ih) * W + iw];
          }
        y[(nc * OH + oh) * OW + ow] = m;
      }
}

// The gradient goes to the first maximum in scan order (PyTorch's and oneDNN's tie rule).
void sr_maxpool_backward_ref(double *dx, const double *dy, const double *x, const sr_pool_shape *s) {
  const int N = s->n, C = s->c, H = s->h, W = s->w, K = s->k, stride = s->stride, pad = s->pad;
  int OH = sr_out_size(H, K, stride, pad), OW = sr_out_size(W, K, stride, pad);
  for (int64_t nc = 0; nc < (int64_t)N * C; nc++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        double m = -INFINITY;
        int64_t arg = -1;
        for (int kh = 0; kh < K; kh++)
          for (int kw = 0; kw < K; kw++) {
            int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            int64_t j = (nc * H + ih) * W + iw;
            if (x[j] > m) {
              m = x[j];
              arg = j;
            }
          }
        if (arg >= 0) dx[arg] += dy[(nc * OH + oh) * OW + ow];
      }
}

const sr_layer_ops sr_ops_maxpool = {
    .name = "maxpool2d",
    .tape = {.build = sr_pool_window_build, .forward = sr_pool_forward, .backward = sr_pool_backward},
    .ref = {.forward = sr_pool_window_ref_forward, .backward = sr_pool_window_ref_backward},
    .flops = sr_pool_flops,
    .plan = {.build = sr_pool_window_plan_build, .run = sr_plan_run_src_dst, .keeps_values = 1}};
