// relu: reference kernels (double) and the oneDNN layer.
#include "exec/infer.h"

// x, y: (n)
void sr_relu_forward_ref(double *y, const double *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

// Gradient is 0 at x == 0, as in PyTorch.
void sr_relu_backward_ref(double *dx, const double *dy, const double *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) dx[i] += x[i] > 0 ? dy[i] : 0;
}

static int64_t numel(const sr_node *nd) { return (int64_t)nd->c * nd->h * nd->w; }

static void ref_fwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  sr_relu_forward_ref(io->y, io->x0, io->n * numel(nd));
}

static void ref_bwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  if (io->dx0) sr_relu_backward_ref(io->dx0, io->dy, io->x0, io->n * numel(nd));
}

static int64_t flops(const sr_node *nd, const sr_node *in) {
  (void)in;
  return numel(nd);
}

// ---- oneDNN ---- prim: 0 fwd, 1 bwd
// After a fused BN or add (tn->fused) that node writes this node's output, so the forward is a no-op;
// backward masks with the output (relu_use_dst_for_bwd: same gradient, x > 0 iff y > 0), except after a
// BN in training, where it hands over to the fused BN backward.
static sr_status build(sr_tape *t, int i, sr_err *err) {
  sr_tnode *tn = &t->tn[i];
  const dnnl_memory_desc_t *src = sr_in_md(t, i, 0);
  dnnl_alg_kind_t alg = dnnl_eltwise_relu_use_dst_for_bwd;
  dnnl_eltwise_desc_t fd, bd;
  DNNL_TRY(dnnl_eltwise_forward_desc_init(&fd, dnnl_forward_training, alg, src, 0.f, 0.f), err);
  DNNL_TRY(dnnl_eltwise_backward_desc_init(&bd, alg, src, src, 0.f, 0.f), err);
  dnnl_primitive_desc_t fp, bp;
  sr_status s;
  if ((s = sr_pd_create(&t->dnn, &fp, &fd, NULL, NULL, err))) return s;
  if ((s = sr_pd_create(&t->dnn, &bp, &bd, NULL, fp, err)) ||
      (s = sr_prim_from_pd(&t->dnn, bp, &tn->prim[1], err)) ||
      (s = sr_prim_from_pd(&t->dnn, fp, &tn->prim[0], err)))
    return s;
  return sr_node_outputs(t, i, src, err);
}

static sr_status forward(sr_tape *t, int i, sr_err *err) {
  if (t->tn[i].fused) return SR_OK;
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, t->tn[t->m->nodes[i].in[0]].dst}, {DNNL_ARG_DST, t->tn[i].dst}};
  return sr_exec(&t->dnn, t->tn[i].prim[0], 2, a, err);
}

static sr_status backward(sr_tape *t, int i, sr_err *err) {
  int f = t->tn[i].fused;
  if (f && t->training && t->m->nodes[f].op == SR_OP_BN) return sr_bn_backward_fused(t, f, err);
  dnnl_memory_t dsrc = sr_diff_target(t, i, 0);
  if (!dsrc) return SR_OK;
  dnnl_exec_arg_t a[] = {
      {DNNL_ARG_DST, t->tn[i].dst}, {DNNL_ARG_DIFF_DST, t->tn[i].diff}, {DNNL_ARG_DIFF_SRC, dsrc}};
  sr_status s = sr_exec(&t->dnn, t->tn[i].prim[1], 3, a, err);
  if (!s) sr_diff_done(t, i, 0);
  return s;
}

// ---- inference plan (infer.c): a ReLU no conv, linear, BN or add step absorbed ----
static sr_status plan_build(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const dnnl_memory_desc_t *src = &p->vals[s->in[0]].md;
  dnnl_eltwise_desc_t ed;
  DNNL_TRY(dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, dnnl_eltwise_relu, src, 0.f, 0.f),
           err);
  p->vals[s->out].md = *src;
  return sr_plan_prim(p, &ed, NULL, &s->prim, NULL, err);
}

const sr_layer_ops sr_ops_relu = {
    .name = "relu",
    .tape = {.build = build, .forward = forward, .backward = backward},
    .ref = {.forward = ref_fwd, .backward = ref_bwd},
    .flops = flops,
    .plan = {.build = plan_build, .run = sr_plan_run_src_dst, .keeps_values = 1}};
