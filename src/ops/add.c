// Residual add: y = a + b. oneDNN binary add; backward hands dy to both inputs.
#include "exec/infer.h"

// a, b, y: (n)
void sr_add_forward_ref(double *y, const double *a, const double *b, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

void sr_add_backward_ref(double *da, double *db, const double *dy, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    if (da) da[i] += dy[i];
    if (db) db[i] += dy[i];
  }
}

static int64_t numel(const sr_node *nd) { return (int64_t)nd->c * nd->h * nd->w; }

static void ref_fwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  sr_add_forward_ref(io->y, io->x0, io->x1, io->n * numel(nd));
}

static void ref_bwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  sr_add_backward_ref(io->dx0, io->dx1, io->dy, io->n * numel(nd));
}

static int64_t flops(const sr_node *nd, const sr_node *in) {
  (void)in;
  return numel(nd);
}

// An input whose only consumer is this add gets no copy of the gradient: its diff shares this node's diff
// buffer (the gradient of an add is the identity), saving a full pass per block. tape.c binds the buffer.
static void alias_input_diff(sr_tape *t, int i, int k) {
  int p = t->m->nodes[i].in[k];
  sr_tnode *pn = &t->tn[p];
  if (p == 0 || t->consumers[p] != 1 || !dnnl_memory_desc_equal(&pn->md, &t->tn[i].md) ||
      t->m->nodes[i].in[0] == t->m->nodes[i].in[1])
    return;
  pn->diff_aliased = 1;
  pn->diff_alias = i;
}

// prim: 0 binary add (with a ReLU post-op when fused), 1 reorder diff -> input 0 layout, 2 reorder diff ->
// input 1 layout
static sr_status build(sr_tape *t, int i, sr_err *err) {
  sr_tnode *tn = &t->tn[i];
  const dnnl_memory_desc_t *a = sr_in_md(t, i, 0), *b = sr_in_md(t, i, 1);
  dnnl_binary_desc_t bd;
  DNNL_TRY(dnnl_binary_desc_init(&bd, dnnl_binary_add, a, b, a), err);
  dnnl_primitive_desc_t pd;
  dnnl_primitive_attr_t attr = NULL;
  sr_status s = tn->fused ? sr_post_ops_attr(0, 1, &attr, err) : SR_OK;
  if (!s) s = sr_pd_create(&t->dnn, &pd, &bd, attr, NULL, err);
  if (attr) dnnl_primitive_attr_destroy(attr);
  if (s) return s;
  if ((s = sr_prim_from_pd(&t->dnn, pd, &tn->prim[0], err)) || (s = sr_node_outputs(t, i, a, err)) ||
      (s = sr_reorder_create(&t->dnn, &tn->prim[1], a, a, 0, err)) ||
      (s = sr_reorder_create(&t->dnn, &tn->prim[2], a, b, 0, err)))
    return s;
  alias_input_diff(t, i, 0);
  alias_input_diff(t, i, 1);
  return SR_OK;
}

static sr_status forward(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  int f = t->tn[i].fused;
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC_0, t->tn[nd->in[0]].dst},
                         {DNNL_ARG_SRC_1, t->tn[nd->in[1]].dst},
                         {DNNL_ARG_DST, f ? t->tn[f].dst : t->tn[i].dst}};
  return sr_exec(&t->dnn, t->tn[i].prim[0], 3, a, err);
}

static sr_status backward(sr_tape *t, int i, sr_err *err) {
  for (int k = 0; k < 2; k++) {
    sr_tnode *pn = &t->tn[t->m->nodes[i].in[k]];
    if (pn->diff_aliased) {  // already holds this node's gradient
      pn->diff_written = 1;
      continue;
    }
    dnnl_memory_t d = sr_diff_target(t, i, k);
    if (!d) continue;
    dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, t->tn[i].diff}, {DNNL_ARG_TO, d}};
    sr_status s = sr_exec(&t->dnn, t->tn[i].prim[1 + k], 2, a, err);
    if (s) return s;
    sr_diff_done(t, i, k);
  }
  return SR_OK;
}

// ---- inference plan (infer.c): an add no convolution took as its sum post-op [-> ReLU post-op] ----
static sr_status plan_build(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const dnnl_memory_desc_t *a = &p->vals[s->in[0]].md, *b = &p->vals[s->in[1]].md;
  dnnl_binary_desc_t bd;
  DNNL_TRY(dnnl_binary_desc_init(&bd, dnnl_binary_add, a, b, a), err);
  dnnl_primitive_attr_t attr;
  sr_status e = sr_post_ops_attr(0, s->relu >= 0, &attr, err);
  if (e) return e;
  e = sr_plan_prim(p, &bd, attr, &s->prim, NULL, err);
  dnnl_primitive_attr_destroy(attr);
  p->vals[s->out].md = *a;
  p->stats.relu_fused += s->relu >= 0;
  return e;
}

static sr_status plan_run(sr_infer *p, const sr_istep *s, sr_err *err) {
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC_0, p->vals[s->in[0]].mem},
                         {DNNL_ARG_SRC_1, p->vals[s->in[1]].mem},
                         {DNNL_ARG_DST, p->vals[s->out].mem}};
  return sr_exec(&p->dnn, s->prim, 3, a, err);
}

const sr_layer_ops sr_ops_add = {.name = "add",
                                 .tape = {.build = build, .forward = forward, .backward = backward},
                                 .ref = {.forward = ref_fwd, .backward = ref_bwd},
                                 .flops = flops,
                                 .plan = {.fuse = sr_plan_fuse_relu, .build = plan_build, .run = plan_run}};
