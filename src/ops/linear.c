// linear: reference kernels (double) and the oneDNN inner-product layer. A 4-D input (N,C,H,W) is read
// as (N, C*H*W) in NCHW order, the same as PyTorch's flatten; weights keep PyTorch's (O, I) layout.
#include "exec/infer.h"

// x: (N,I)  w: (O,I)  b: (O) or NULL  ->  y: (N,O)
void sr_linear_forward_ref(double *y, const double *x, const double *w, const double *b,
                           const sr_linear_shape *s) {
  const int N = s->n, I = s->i, O = s->o;
  for (int n = 0; n < N; n++)
    for (int o = 0; o < O; o++) {
      double acc = b ? b[o] : 0;
      for (int i = 0; i < I; i++) acc += x[(int64_t)n * I + i] * w[(int64_t)o * I + i];
      y[(int64_t)n * O + o] = acc;
    }
}

void sr_linear_backward_ref(double *dx, double *dw, double *db, const double *dy, const double *x,
                            const double *w, const sr_linear_shape *s) {
  const int N = s->n, I = s->i, O = s->o;
  for (int n = 0; n < N; n++)
    for (int o = 0; o < O; o++) {
      double g = dy[(int64_t)n * O + o];
      if (db) db[o] += g;
      for (int i = 0; i < I; i++) {
        if (dw) dw[(int64_t)o * I + i] += g * x[(int64_t)n * I + i];
        if (dx) dx[(int64_t)n * I + i] += g * w[(int64_t)o * I + i];
      }
    }
}

static int in_features(const sr_node *nd) { return nd->ic * nd->ih * nd->iw; }

static sr_linear_shape ref_shape(const sr_ref_io *io) {
  return (sr_linear_shape){.n = (int)io->n, .i = in_features(io->nd), .o = io->nd->c};
}

static void ref_fwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  sr_linear_shape sh = ref_shape(io);
  sr_linear_forward_ref(io->y, io->x0, io->p + nd->p_w, nd->bias ? io->p + nd->p_b : NULL, &sh);
}

static void ref_bwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  sr_linear_shape sh = ref_shape(io);
  sr_linear_backward_ref(io->dx0, io->dp + nd->p_w, nd->bias ? io->dp + nd->p_b : NULL, io->dy, io->x0,
                         io->p + nd->p_w, &sh);
}

static int64_t flops(const sr_node *nd, const sr_node *in) {
  (void)in;
  return 2LL * nd->c * in_features(nd);
}

// ---- oneDNN ----
// prim and mem: the weight slots of engine.h.
enum { P_FWD = SR_WP_FWD, P_BWD_D = SR_WP_BWD_D, P_BWD_W = SR_WP_BWD_W };
enum { M_WF = SR_WM_WF, M_WB = SR_WM_WB, M_DW = SR_WM_DW, M_B = SR_WM_B, M_DB = SR_WM_DB };

static sr_status build(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  const dnnl_memory_desc_t *src = sr_in_md(t, i, 0);
  int four = src->ndims == 4;
  int64_t wd[4] = {nd->c, nd->ic, nd->ih, nd->iw}, w2[2] = {nd->c, in_features(nd)};
  int64_t dd[2] = {t->n, nd->c}, bd[1] = {nd->c};
  dnnl_memory_desc_t w_any, w_plain, dst_any, b_md;
  if (four) {
    sr_any_md(&w_any, 4, wd);
    sr_plain_md(&w_plain, 4, wd);
  } else {
    sr_any_md(&w_any, 2, w2);
    sr_plain_md(&w_plain, 2, w2);
  }
  sr_any_md(&dst_any, 2, dd);
  sr_plain_md(&b_md, 1, bd);
  dnnl_inner_product_desc_t fd, bdd, bwd;
  DNNL_TRY(dnnl_inner_product_forward_desc_init(&fd, dnnl_forward_training, src, &w_any,
                                                nd->bias ? &b_md : NULL, &dst_any),
           err);
  dnnl_primitive_desc_t fpd, dpd, wpd;
  sr_status s;
  if ((s = sr_pd_create(&t->dnn, &fpd, &fd, NULL, NULL, err))) return s;
  dnnl_memory_desc_t dst = *sr_pd_md(fpd, dnnl_query_dst_md);
  DNNL_TRY(dnnl_inner_product_backward_data_desc_init(&bdd, src, &w_any, &dst), err);
  DNNL_TRY(dnnl_inner_product_backward_weights_desc_init(&bwd, src, &w_any, nd->bias ? &b_md : NULL, &dst),
           err);
  if ((s = sr_pd_create(&t->dnn, &dpd, &bdd, NULL, fpd, err)) ||
      (s = sr_pd_create(&t->dnn, &wpd, &bwd, NULL, fpd, err)))
    return s;
  tn->mds[M_WF] = *sr_pd_md(fpd, dnnl_query_weights_md);
  tn->mds[M_WB] = *sr_pd_md(dpd, dnnl_query_weights_md);
  tn->mds[M_DW] = *sr_pd_md(wpd, dnnl_query_diff_weights_md);
  if ((s = sr_prim_from_pd(&t->dnn, fpd, &tn->prim[P_FWD], err)) ||
      (s = sr_prim_from_pd(&t->dnn, dpd, &tn->prim[P_BWD_D], err)) ||
      (s = sr_prim_from_pd(&t->dnn, wpd, &tn->prim[P_BWD_W], err)) || (s = sr_node_outputs(t, i, &dst, err)))
    return s;
  return sr_weights_build(t, i, &w_plain, &b_md, err);
}

static sr_status forward(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  sr_status s = sr_weights_refresh(t, i, err);
  if (s) return s;
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, t->tn[nd->in[0]].dst},
                         {DNNL_ARG_WEIGHTS, tn->mem[M_WF]},
                         {DNNL_ARG_DST, tn->dst},
                         {DNNL_ARG_BIAS, tn->mem[M_B]}};
  return sr_exec(&t->dnn, tn->prim[P_FWD], nd->bias ? 4 : 3, a, err);
}

static sr_status backward(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  sr_status s;
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, t->tn[nd->in[0]].dst},
                         {DNNL_ARG_DIFF_DST, tn->diff},
                         {DNNL_ARG_DIFF_WEIGHTS, tn->mem[M_DW]},
                         {DNNL_ARG_DIFF_BIAS, tn->mem[M_DB]}};
  if (t->want_params && ((s = sr_exec(&t->dnn, tn->prim[P_BWD_W], nd->bias ? 4 : 3, a, err)) ||
                         (s = sr_weights_accumulate(t, i, err))))
    return s;
  dnnl_memory_t dsrc = sr_diff_target(t, i, 0);
  if (!dsrc) return SR_OK;
  dnnl_exec_arg_t d[] = {{DNNL_ARG_DIFF_DST, tn->diff},
                         {DNNL_ARG_WEIGHTS, sr_weights_for_bwd_data(t, i)},
                         {DNNL_ARG_DIFF_SRC, dsrc}};
  if ((s = sr_exec(&t->dnn, tn->prim[P_BWD_D], 3, d, err))) return s;
  sr_diff_done(t, i, 0);
  return SR_OK;
}

// ---- inference plan (infer.c): linear [-> ReLU post-op], weights reordered from the params ----
static sr_status plan_build(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  const dnnl_memory_desc_t *src = &p->vals[s->in[0]].md;
  int64_t wd4[4] = {nd->c, nd->ic, nd->ih, nd->iw}, wd2[2] = {nd->c, (int64_t)nd->ic * nd->ih * nd->iw};
  int64_t dd[2] = {p->n, nd->c}, bd[1] = {nd->c};
  const int64_t *wd = src->ndims == 4 ? wd4 : wd2;
  dnnl_memory_desc_t w_any, w_plain, dst_any, b_md;
  sr_md(&w_any, src->ndims, wd, dnnl_format_tag_any);
  sr_plain_md(&w_plain, src->ndims, wd);
  sr_md(&dst_any, 2, dd, dnnl_format_tag_any);
  sr_plain_md(&b_md, 1, bd);
  dnnl_inner_product_desc_t id;
  DNNL_TRY(dnnl_inner_product_forward_desc_init(&id, dnnl_forward_inference, src, &w_any,
                                                nd->bias ? &b_md : NULL, &dst_any),
           err);
  dnnl_primitive_attr_t attr;
  sr_status e = sr_post_ops_attr(0, s->relu >= 0, &attr, err);
  if (e) return e;
  dnnl_primitive_desc_t pd;
  e = sr_plan_prim(p, &id, attr, &s->prim, &pd, err);
  dnnl_primitive_attr_destroy(attr);
  if (e) return e;
  dnnl_memory_desc_t wmd = *sr_pd_md(pd, dnnl_query_weights_md);
  p->vals[s->out].md = *sr_pd_md(pd, dnnl_query_dst_md);
  dnnl_primitive_desc_destroy(pd);
  if (nd->bias && (e = sr_mem_create(&p->dnn, &s->b, &b_md, p->m->params + nd->p_b, err))) return e;
  p->stats.relu_fused += s->relu >= 0;
  return sr_plan_weights(p, s, &w_plain, &wmd, p->m->params + nd->p_w,
                         err);  // bf16: rounded after the reorder
}

// bf16: rounded after the reorder, from the f32 master weights
static sr_status plan_refresh(sr_infer *p, sr_istep *s, sr_err *err) {
  sr_status e = sr_reorder_run(&p->dnn, s->wre, s->wplain, s->w, err);
  if (e || p->m->precision != SR_PRECISION_BF16) return e;
  DNNL_TRY(dnnl_stream_wait(p->dnn.e->stream), err);
  sr_bf16_round_mem(s->w);
  return SR_OK;
}

static sr_status plan_run(sr_infer *p, const sr_istep *s, sr_err *err) {
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, p->vals[s->in[0]].mem},
                         {DNNL_ARG_WEIGHTS, s->w},
                         {DNNL_ARG_DST, p->vals[s->out].mem},
                         {DNNL_ARG_BIAS, s->b}};
  return sr_exec(&p->dnn, s->prim, s->b ? 4 : 3, a, err);
}

const sr_layer_ops sr_ops_linear = {
    .name = "linear",
    .tape = {.build = build, .forward = forward, .backward = backward},
    .ref = {.forward = ref_fwd, .backward = ref_bwd},
    .flops = flops,
    .plan = {.fuse = sr_plan_fuse_relu, .build = plan_build, .refresh = plan_refresh, .run = plan_run}};
