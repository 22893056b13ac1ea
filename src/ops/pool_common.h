// Internal: oneDNN pooling shared by maxpool.c, avgpool.c and gap.c.
#ifndef SR_POOL_COMMON_H
#define SR_POOL_COMMON_H
#include "exec/infer.h"
// A pooling window: kh x kw, stride, pad on the top/left (bottom/right follow from the output size).
typedef struct sr_pool_geom {
  dnnl_alg_kind_t alg;
  int64_t kh, kw, stride, pad;
} sr_pool_geom;
// A max/avg pool node's window (its k, stride, pad); a global pool's (the whole input).
sr_pool_geom sr_pool_window(const sr_node *nd, dnnl_alg_kind_t alg);
sr_pool_geom sr_pool_global(const sr_node *nd);
// A max/avg pool node's shape for the reference kernels, batch n.
sr_pool_shape sr_pool_ref_shape(const sr_node *nd, int64_t n);
// Forward FLOPs per image of a windowed pool.
int64_t sr_pool_flops(const sr_node *nd, const sr_node *in);
sr_status sr_pool_build(sr_tape *t, int i, const sr_pool_geom *g, sr_err *err);
sr_status sr_pool_forward(sr_tape *t, int i, sr_err *err);
sr_status sr_pool_backward(sr_tape *t, int i, sr_err *err);
sr_status sr_pool_plan_build(sr_infer *p, int t, const sr_pool_geom *g, sr_err *err);
// A windowed pool's (maxpool, avgpool: they differ only in oneDNN algorithm and reference kernels, chosen by
// the node's op) tape build, plan build and reference forward / backward.
sr_status sr_pool_window_build(sr_tape *t, int i, sr_err *err);
sr_status sr_pool_window_plan_build(sr_infer *p, int t, sr_err *err);
void sr_pool_window_ref_forward(const sr_ref_io *io);
void sr_pool_window_ref_backward(const sr_ref_io *io);
#endif
