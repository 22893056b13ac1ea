// affine: constant per-channel y = x * scale[c] + shift[c] (the Sub/Div/Mul/Add by constants of an imported
// model, e.g. input normalisation inside the graph). scale and shift live in the model's state (not trained).
// oneDNN: a binary multiply by the (1, C, 1, 1) scale with a binary-add post-op of the shift; backward
// dx = dy * scale, the same multiply without the post-op.
#include "exec/infer.h"

static int64_t plane(const sr_node *nd) { return (int64_t)nd->h * nd->w; }

static void ref_fwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  int64_t hw = plane(nd);
  for (int64_t n = 0; n < io->n; n++)
    for (int c = 0; c < nd->c; c++) {
      int64_t o = (n * nd->c + c) * hw;
      for (int64_t j = 0; j < hw; j++)
        io->y[o + j] = io->x0[o + j] * io->st[nd->s_mean + c] + io->st[nd->s_var + c];
    }
}

static void ref_bwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  if (!io->dx0) return;
  int64_t hw = plane(nd);
  for (int64_t n = 0; n < io->n; n++)
    for (int c = 0; c < nd->c; c++) {
      int64_t o = (n * nd->c + c) * hw;
      for (int64_t j = 0; j < hw; j++) io->dx0[o + j] += io->dy[o + j] * io->st[nd->s_mean + c];
    }
}

static int64_t flops(const sr_node *nd, const sr_node *in) {
  (void)in;
  return 2 * (int64_t)nd->c * plane(nd);
}

// The (1, C[, 1, 1]) plain layout of scale and shift, broadcast against a src of ndims dimensions.
static void channel_md(dnnl_memory_desc_t *md, int ndims, int c) {
  int64_t d[4] = {1, c, 1, 1};
  sr_plain_md(md, ndims, d);
}

// Attributes: user scratchpad, and with shift_md a binary-add post-op.
static sr_status attr_create(const dnnl_memory_desc_t *shift_md, dnnl_primitive_attr_t *attr, sr_err *err) {
  dnnl_post_ops_t po = NULL;
  *attr = NULL;
  if (dnnl_primitive_attr_create(attr) ||
      dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user) ||
      dnnl_post_ops_create(&po) || (shift_md && dnnl_post_ops_append_binary(po, dnnl_binary_add, shift_md)) ||
      dnnl_primitive_attr_set_post_ops(*attr, po)) {
    if (po) dnnl_post_ops_destroy(po);
    if (*attr) dnnl_primitive_attr_destroy(*attr);
    *attr = NULL;
    return sr_fail(err, SR_ERR_BACKEND, "oneDNN: cannot create the affine attributes");
  }
  dnnl_post_ops_destroy(po);
  return SR_OK;
}

// A binary multiply of src by the channel vector, with the shift post-op when with_shift.
static sr_status mul_pd(sr_dnn *d, const dnnl_memory_desc_t *src, int c, int with_shift,
                        dnnl_primitive_desc_t *pd, sr_err *err) {
  dnnl_memory_desc_t cm;
  channel_md(&cm, src->ndims, c);
  dnnl_binary_desc_t bd;
  DNNL_TRY(dnnl_binary_desc_init(&bd, dnnl_binary_mul, src, &cm, src), err);
  dnnl_primitive_attr_t attr;
  sr_status s = attr_create(with_shift ? &cm : NULL, &attr, err);
  if (s) return s;
  s = sr_pd_create(d, pd, &bd, attr, NULL, err);
  dnnl_primitive_attr_destroy(attr);
  return s;
}

// prim: 0 forward, 1 backward; mem: 0 scale, 1 shift (both in the model's state)
static sr_status build(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  const dnnl_memory_desc_t *src = sr_in_md(t, i, 0);
  dnnl_memory_desc_t cm;
  channel_md(&cm, src->ndims, nd->c);
  dnnl_primitive_desc_t pd;
  sr_status s;
  if ((s = mul_pd(&t->dnn, src, nd->c, 1, &pd, err)) ||
      (s = sr_prim_from_pd(&t->dnn, pd, &tn->prim[0], err)) ||
      (s = mul_pd(&t->dnn, src, nd->c, 0, &pd, err)) ||
      (s = sr_prim_from_pd(&t->dnn, pd, &tn->prim[1], err)) ||
      (s = sr_mem_create(&t->dnn, &tn->mem[0], &cm, t->m->state + nd->s_mean, err)) ||
      (s = sr_mem_create(&t->dnn, &tn->mem[1], &cm, t->m->state + nd->s_var, err)))
    return s;
  return sr_node_outputs(t, i, src, err);
}

static sr_status forward(sr_tape *t, int i, sr_err *err) {
  sr_tnode *tn = &t->tn[i];
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC_0, t->tn[t->m->nodes[i].in[0]].dst},
                         {DNNL_ARG_SRC_1, tn->mem[0]},
                         {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, tn->mem[1]},
                         {DNNL_ARG_DST, tn->dst}};
  return sr_exec(&t->dnn, tn->prim[0], 4, a, err);
}

static sr_status backward(sr_tape *t, int i, sr_err *err) {
  dnnl_memory_t dsrc = sr_diff_target(t, i, 0);
  if (!dsrc) return SR_OK;
  sr_tnode *tn = &t->tn[i];
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC_0, tn->diff}, {DNNL_ARG_SRC_1, tn->mem[0]}, {DNNL_ARG_DST, dsrc}};
  sr_status s = sr_exec(&t->dnn, tn->prim[1], 3, a, err);
  if (!s) sr_diff_done(t, i, 0);
  return s;
}

// ---- inference plan (infer.c): one step, the same multiply-add; bn_mem 0, 1: scale, shift ----
static sr_status plan_build(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  const dnnl_memory_desc_t *src = &p->vals[s->in[0]].md;
  dnnl_memory_desc_t cm;
  channel_md(&cm, src->ndims, nd->c);
  dnnl_primitive_desc_t pd;
  sr_status e;
  if ((e = mul_pd(&p->dnn, src, nd->c, 1, &pd, err)) || (e = sr_prim_from_pd(&p->dnn, pd, &s->prim, err)) ||
      (e = sr_mem_create(&p->dnn, &s->bn_mem[0], &cm, p->m->state + nd->s_mean, err)) ||
      (e = sr_mem_create(&p->dnn, &s->bn_mem[1], &cm, p->m->state + nd->s_var, err)))
    return e;
  p->vals[s->out].md = *src;
  return SR_OK;
}

static sr_status plan_run(sr_infer *p, const sr_istep *s, sr_err *err) {
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC_0, p->vals[s->in[0]].mem},
                         {DNNL_ARG_SRC_1, s->bn_mem[0]},
                         {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, s->bn_mem[1]},
                         {DNNL_ARG_DST, p->vals[s->out].mem}};
  return sr_exec(&p->dnn, s->prim, 4, a, err);
}

const sr_layer_ops sr_ops_affine = {.name = "affine",
                                    .tape = {.build = build, .forward = forward, .backward = backward},
                                    .ref = {.forward = ref_fwd, .backward = ref_bwd},
                                    .flops = flops,
                                    .plan = {.build = plan_build, .run = plan_run}};
