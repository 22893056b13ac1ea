// Shared oneDNN plumbing of the pooling layers (max, avg, global avg): one forward, one backward.
#include "pool_common.h"

// prim: 0 fwd, 1 bwd;  mem: 0 workspace (max pooling only)
sr_status sr_pool_build(sr_tape *t, int i, dnnl_alg_kind_t alg, int kh, int kw, int stride, int pad, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  const dnnl_memory_desc_t *src = sr_in_md(t, i, 0);
  int64_t dd[4] = {t->n, nd->c, nd->h, nd->w};
  dnnl_dims_t st = {stride, stride}, k = {kh, kw}, dil = {0, 0}, pl = {pad, pad};
  dnnl_dims_t pr = {(int64_t)(nd->h - 1) * stride + kh - nd->ih - pad, (int64_t)(nd->w - 1) * stride + kw - nd->iw - pad};
  dnnl_memory_desc_t dst_any;
  sr_any_md(&dst_any, 4, dd);
  dnnl_pooling_v2_desc_t fd, bd;
  DNNL_TRY(dnnl_pooling_v2_forward_desc_init(&fd, dnnl_forward_training, alg, src, &dst_any, st, k, dil, pl, pr), err);
  dnnl_primitive_desc_t fp, bp;
  sr_status s;
  if ((s = sr_pd_create(&t->dnn, &fp, &fd, NULL, NULL, err))) return s;
  dnnl_memory_desc_t dst = *sr_pd_md(fp, dnnl_query_dst_md);
  const dnnl_memory_desc_t *ws = sr_pd_md(fp, dnnl_query_workspace_md);
  if (ws && ws->ndims > 0 && (s = sr_mem_create(&t->dnn, &tn->mem[0], ws, NULL, err))) return s;
  DNNL_TRY(dnnl_pooling_v2_backward_desc_init(&bd, alg, src, &dst, st, k, dil, pl, pr), err);
  if ((s = sr_pd_create(&t->dnn, &bp, &bd, NULL, fp, err)) || (s = sr_prim_from_pd(&t->dnn, bp, &tn->prim[1], err)) ||
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
  dnnl_exec_arg_t a[] = {{DNNL_ARG_DIFF_DST, tn->diff}, {DNNL_ARG_DIFF_SRC, dsrc}, {DNNL_ARG_WORKSPACE, tn->mem[0]}};
  sr_status s = sr_exec(&t->dnn, tn->prim[1], tn->mem[0] ? 3 : 2, a, err);
  if (!s) sr_diff_done(t, i, 0);
  return s;
}

// Inference plan (infer.c): one forward_inference pooling step.
sr_status sr_pool_plan_build(sr_infer *p, int t, dnnl_alg_kind_t alg, int64_t kh, int64_t kw, int64_t stride,
                             int64_t pad, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  int64_t dd[4] = {p->n, nd->c, nd->h, nd->w};
  dnnl_dims_t st = {stride, stride}, k = {kh, kw}, dil = {0, 0}, pl = {pad, pad};
  dnnl_dims_t pr = {(int64_t)(nd->h - 1) * stride + kh - nd->ih - pad, (int64_t)(nd->w - 1) * stride + kw - nd->iw - pad};
  dnnl_memory_desc_t dst_any;
  sr_md(&dst_any, 4, dd, dnnl_format_tag_any);
  dnnl_pooling_v2_desc_t pd_desc;
  DNNL_TRY(dnnl_pooling_v2_forward_desc_init(&pd_desc, dnnl_forward_inference, alg, &p->vals[s->in[0]].md, &dst_any,
                                             st, k, dil, pl, pr), err);
  dnnl_primitive_desc_t pd;
  sr_status e = sr_plan_prim(p, &pd_desc, NULL, &s->prim, &pd, err);
  if (e) return e;
  p->vals[s->out].md = *sr_pd_md(pd, dnnl_query_dst_md);
  dnnl_primitive_desc_destroy(pd);
  return SR_OK;
}
