// Global average pool: (N,C,H,W) -> (N,C,1,1). oneDNN runs it as an average pool over the whole map.
#include "pool_common.h"

// x: (N,C,HW) -> y: (N,C)
void sr_gap_forward_ref(double *y, const double *x, int N, int C, int HW) {
  for (int64_t nc = 0; nc < (int64_t)N * C; nc++) {
    double s = 0;
    for (int k = 0; k < HW; k++) s += x[nc * HW + k];
    y[nc] = s / HW;
  }
}

void sr_gap_backward_ref(double *dx, const double *dy, int N, int C, int HW) {
  for (int64_t nc = 0; nc < (int64_t)N * C; nc++)
    for (int k = 0; k < HW; k++) dx[nc * HW + k] += dy[nc] / HW;
}

static void ref_fwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  sr_gap_forward_ref(io->y, io->x0, (int)io->n, nd->c, nd->ih * nd->iw);
}

static void ref_bwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  if (io->dx0) sr_gap_backward_ref(io->dx0, io->dy, (int)io->n, nd->c, nd->ih * nd->iw);
}

static int64_t flops(const sr_node *nd, const sr_node *in) {
  (void)nd;
  return (int64_t)in->c * in->h * in->w;
}

static sr_status build(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_pool_geom g = sr_pool_global(nd);
  return sr_pool_build(t, i, &g, err);
}

static sr_status plan_build(sr_infer *p, int t, sr_err *err) {
  const sr_node *nd = &p->m->nodes[p->steps[t].node];
  sr_pool_geom g = sr_pool_global(nd);
  return sr_pool_plan_build(p, t, &g, err);
}

const sr_layer_ops sr_ops_gap = {
    .name = "global_avgpool",
    .tape = {.build = build, .forward = sr_pool_forward, .backward = sr_pool_backward},
    .ref = {.forward = ref_fwd, .backward = ref_bwd},
    .flops = flops,
    .plan = {.build = plan_build, .run = sr_plan_run_src_dst}};
