// avgpool2d: reference kernels (double) and the oneDNN layer. Padding counts in the divisor, as
// PyTorch's default count_include_pad=True (with floor mode every window has K*K positions).
#include "pool_common.h"

// x: (N,C,H,W) -> y: (N,C,OH,OW)
void sr_avgpool_forward_ref(double *y, const double *x, const sr_pool_shape *s) {
  const int N = s->n, C = s->c, H = s->h, W = s->w, K = s->k, stride = s->stride, pad = s->pad;
  int OH = sr_out_size(H, K, stride, pad), OW = sr_out_size(W, K, stride, pad);
  for (int64_t nc = 0; nc < (int64_t)N * C; nc++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        double s = 0;
        for (int kh = 0; kh < K; kh++)
          for (int kw = 0; kw < K; kw++) {
            int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) s += x[(nc * H + ih) * W + iw];
          }
        y[(nc * OH + oh) * OW + ow] = s / (K * K);
      }
}

void sr_avgpool_backward_ref(double *dx, const double *dy, const sr_pool_shape *s) {
  const int N = s->n, C = s->c, H = s->h, W = s->w, K = s->k, stride = s->stride, pad = s->pad;
  int OH = sr_out_size(H, K, stride, pad), OW = sr_out_size(W, K, stride, pad);
  for (int64_t nc = 0; nc < (int64_t)N * C; nc++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        double g = dy[(nc * OH + oh) * OW + ow] / (K * K);
        for (int kh = 0; kh < K; kh++)
          for (int kw = 0; kw < K; kw++) {
            int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) dx[(nc * H + ih) * W + iw] += g;
          }
      }
}

static void ref_fwd(const sr_ref_io *io) {
  sr_pool_shape sh = sr_pool_ref_shape(io->nd, io->n);
  sr_avgpool_forward_ref(io->y, io->x0, &sh);
}

static void ref_bwd(const sr_ref_io *io) {
  sr_pool_shape sh = sr_pool_ref_shape(io->nd, io->n);
  if (io->dx0) sr_avgpool_backward_ref(io->dx0, io->dy, &sh);
}

static sr_status build(sr_tape *t, int i, sr_err *err) {
  sr_pool_geom g = sr_pool_window(&t->m->nodes[i], dnnl_pooling_avg_include_padding);
  return sr_pool_build(t, i, &g, err);
}

static sr_status plan_build(sr_infer *p, int t, sr_err *err) {
  sr_pool_geom g = sr_pool_window(&p->m->nodes[p->steps[t].node], dnnl_pooling_avg_include_padding);
  return sr_pool_plan_build(p, t, &g, err);
}

const sr_layer_ops sr_ops_avgpool = {.name = "avgpool2d",
                                     .build = build,
                                     .forward = sr_pool_forward,
                                     .backward = sr_pool_backward,
                                     .ref_forward = ref_fwd,
                                     .ref_backward = ref_bwd,
                                     .flops = sr_pool_flops,
                                     .plan_build = plan_build,
                                     .plan_run = sr_plan_run_src_dst};
