// Shared oneDNN plumbing of the pooling layers (max, avg, global avg): one forward, one backward.
#include "pool_common.h"

sr_pool_geom sr_pool_window(const sr_node *nd, dnnl_alg_kind_t alg) {
  return (sr_pool_geom){.alg = alg, .kh = nd->k, .kw = nd->k, .stride = nd->stride, .pad = nd->pad};
}

sr_pool_geom sr_pool_global(const sr_node *nd) {
  return (sr_pool_geom){.alg = dnnl_pooling_avg_include_padding, .kh = nd->ih, .kw = nd->iw, .stride = 1};
}

sr_pool_shape sr_pool_ref_shape(const sr_node *nd, int64_t n) {
  return (sr_pool_shape){
      .n = (int)n, .c = nd->c, .h = nd->ih, .w = nd->iw, .k = nd->k, .stride = nd->stride, .pad = nd->pad};
}

int64_t sr_pool_flops(const sr_node *nd, const sr_node *in) {
  (void)in;
  return (int64_t)nd->c * nd->h * nd->w * nd->k * nd->k;
}

// oneDNN's window arguments for node nd: strides, kernel, dilation, left and right padding.
typedef struct pool_dims {
  dnnl_dims_t st, k, dil, pl, pr;
} pool_dims;

static pool_dims dims_of(const sr_node *nd, const sr_pool_geom *g) {
  pool_dims d = {.st = {g->stride, g->stride}, .k = {g->kh, g->kw}, .pl = {g->pad, g->pad}};
  d.pr[0] = (int64_t)(nd->h - 1) * g->stride + g->kh - nd->ih - g->pad;
  d.pr[1] = (int64_t)(nd->w - 1) * g->stride + g->kw - nd->iw - g->pad;
  return d;
}

// prim: 0 fwd, 1 bwd;  mem: 0 workspace (max pooling only)
sr_status sr_pool_build(sr_tape *t, int i, const sr_pool_geom *g, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  const dnnl_memory_desc_t *src = sr_in_md(t, i, 0);
  int64_t dd[4] = {t->n, nd->c, nd->h, nd->w};
  pool_dims w = dims_of(nd, g);
  dnnl_memory_desc_t dst_any;
  sr_any_md(&dst_any, 4, dd);
  dnnl_pooling_v2_desc_t fd, bd;
  DNNL_TRY(dnnl_pooling_v2_forward_desc_init(&fd, dnnl_forward_training, g->alg, src, &dst_any, w.st, w.k,
                                             w.dil, w.pl, w.pr),
           err);
  dnnl_primitive_desc_t fp, bp;
  sr_status s;
  if ((s = sr_pd_create(&t->dnn, &fp, &fd, NULL, NULL, err))) return s;
  dnnl_memory_desc_t dst = *sr_pd_md(fp, dnnl_query_dst_md);
  const dnnl_memory_desc_t *ws = sr_pd_md(fp, dnnl_query_workspace_md);
  if (ws && ws->ndims > 0 && (s = sr_mem_create(&t->dnn, &tn->mem[0], ws, NULL, err))) return s;
  DNNL_TRY(dnnl_pooling_v2_backward_desc_init(&bd, g->alg, src, &dst, w.st, w.k, w.dil, w.pl, w.pr), err);
  if ((s = sr_pd_create(&t->dnn, &bp, &bd, NULL, fp, err)) ||
      (s = sr_prim_from_pd(&t->dnn, bp, &tn->prim[1], err)) ||
      (s = sr_prim_from_pd(&t->dnn, fp, &tn->prim[0], err)))
    return s;
  return sr_node_outputs(t, i, &dst, err);
}

sr_status sr_pool_forward(sr_tape *t, int i, sr_err *err) {
  sr_tnode *tn = &t->tn[i];
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, t->tn[t->m->nodes[i].in[0]].dst},
                         {DNNL_ARG_DST, tn->dst},
                         {DNNL_ARG_WORKSPACE, tn->mem[0]}};
  return sr_exec(&t->dnn, tn->prim[0], tn->mem[0] ? 3 : 2, a, err);
}

sr_status sr_pool_backward(sr_tape *t, int i, sr_err *err) {
  sr_tnode *tn = &t->tn[i];
  dnnl_memory_t dsrc = sr_diff_target(t, i, 0);
  if (!dsrc) return SR_OK;
  dnnl_exec_arg_t a[] = {
      {DNNL_ARG_DIFF_DST, tn->diff}, {DNNL_ARG_DIFF_SRC, dsrc}, {DNNL_ARG_WORKSPACE, tn->mem[0]}};
  sr_status s = sr_exec(&t->dnn, tn->prim[1], tn->mem[0] ? 3 : 2, a, err);
  if (!s) sr_diff_done(t, i, 0);
  return s;
}

// Inference plan (infer.c): one forward_inference pooling step.
sr_status sr_pool_plan_build(sr_infer *p, int t, const sr_pool_geom *g, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  int64_t dd[4] = {p->n, nd->c, nd->h, nd->w};
  pool_dims w = dims_of(nd, g);
  dnnl_memory_desc_t dst_any;
  sr_md(&dst_any, 4, dd, dnnl_format_tag_any);
  dnnl_pooling_v2_desc_t pd_desc;
  DNNL_TRY(dnnl_pooling_v2_forward_desc_init(&pd_desc, dnnl_forward_inference, g->alg, &p->vals[s->in[0]].md,
                                             &dst_any, w.st, w.k, w.dil, w.pl, w.pr),
           err);
  dnnl_primitive_desc_t pd;
  sr_status e = sr_plan_prim(p, &pd_desc, NULL, &s->prim, &pd, err);
  if (e) return e;
  p->vals[s->out].md = *sr_pd_md(pd, dnnl_query_dst_md);
  dnnl_primitive_desc_destroy(pd);
  return SR_OK;
}

// Padding counts in avgpool's divisor (PyTorch's count_include_pad=True).
static dnnl_alg_kind_t window_alg(const sr_node *nd) {
  return nd->op == SR_OP_MAXPOOL ? dnnl_pooling_max : dnnl_pooling_avg_include_padding;
}

sr_status sr_pool_window_build(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_pool_geom g = sr_pool_window(nd, window_alg(nd));
  return sr_pool_build(t, i, &g, err);
}

sr_status sr_pool_window_plan_build(sr_infer *p, int t, sr_err *err) {
  const sr_node *nd = &p->m->nodes[p->steps[t].node];
  sr_pool_geom g = sr_pool_window(nd, window_alg(nd));
  return sr_pool_plan_build(p, t, &g, err);
}

void sr_pool_window_ref_forward(const sr_ref_io *io) {
  sr_pool_shape sh = sr_pool_ref_shape(io->nd, io->n);
  if (io->nd->op == SR_OP_MAXPOOL)
    sr_maxpool_forward_ref(io->y, io->x0, &sh);
  else
    sr_avgpool_forward_ref(io->y, io->x0, &sh);
}

void sr_pool_window_ref_backward(const sr_ref_io *io) {
  sr_pool_shape sh = sr_pool_ref_shape(io->nd, io->n);
  if (!io->dx0) return;
  if (io->nd->op == SR_OP_MAXPOOL)
    sr_maxpool_backward_ref(io->dx0, io->dy, io->x0, &sh);
  else
    sr_avgpool_backward_ref(io->dx0, io->dy, &sh);
}
