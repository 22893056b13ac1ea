// act: elementwise activations of imported models (sr_act: LeakyReLU, Clip/ReLU6, Sigmoid, Tanh).
// oneDNN eltwise primitives; backward from the input (PyTorch's gradients: LeakyReLU's slope below and at 0,
// Clip's zero outside the open interval (min, max)).
#include <math.h>

#include "exec/infer.h"

static int64_t numel(const sr_node *nd) { return (int64_t)nd->c * nd->h * nd->w; }

static double act_fwd(const sr_node *nd, double x) {
  switch ((sr_act)nd->act) {
    case SR_ACT_LEAKY_RELU:
      return x > 0 ? x : nd->alpha * x;
    case SR_ACT_CLIP:
      return x < nd->alpha ? nd->alpha : x > nd->beta ? nd->beta : x;
    case SR_ACT_SIGMOID:
      return 1.0 / (1.0 + exp(-x));
    case SR_ACT_TANH:
      return tanh(x);
  }
  return x;
}

// d f / d x at x, where f(x) = y.
static double act_slope(const sr_node *nd, double x, double y) {
  switch ((sr_act)nd->act) {
    case SR_ACT_LEAKY_RELU:
      return x > 0 ? 1.0 : nd->alpha;
    case SR_ACT_CLIP:
      return x > nd->alpha && x < nd->beta ? 1.0 : 0.0;
    case SR_ACT_SIGMOID:
      return y * (1.0 - y);
    case SR_ACT_TANH:
      return 1.0 - y * y;
  }
  return 1.0;
}

static void ref_fwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  for (int64_t j = 0; j < io->n * numel(nd); j++) io->y[j] = act_fwd(nd, io->x0[j]);
}

static void ref_bwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  if (!io->dx0) return;
  for (int64_t j = 0; j < io->n * numel(nd); j++)
    io->dx0[j] += io->dy[j] * act_slope(nd, io->x0[j], io->y[j]);
}

static int64_t flops(const sr_node *nd, const sr_node *in) {
  (void)in;
  return numel(nd);
}

static void dnnl_alg(const sr_node *nd, dnnl_alg_kind_t *alg, float *a, float *b) {
  *a = 0.f;
  *b = 0.f;
  switch ((sr_act)nd->act) {
    case SR_ACT_LEAKY_RELU:
      *alg = dnnl_eltwise_relu;
      *a = (float)nd->alpha;
      return;
    case SR_ACT_CLIP:
      *alg = dnnl_eltwise_clip_v2;
      *a = (float)nd->alpha;
      *b = (float)nd->beta;
      return;
    case SR_ACT_SIGMOID:
      *alg = dnnl_eltwise_logistic;
      return;
    case SR_ACT_TANH:
      *alg = dnnl_eltwise_tanh;
      return;
  }
  *alg = dnnl_eltwise_linear;
  *a = 1.f;
}

// prim: 0 forward, 1 backward (from src)
static sr_status build(sr_tape *t, int i, sr_err *err) {
  sr_tnode *tn = &t->tn[i];
  const dnnl_memory_desc_t *src = sr_in_md(t, i, 0);
  dnnl_alg_kind_t alg;
  float a, b;
  dnnl_alg(&t->m->nodes[i], &alg, &a, &b);
  dnnl_eltwise_desc_t fd, bd;
  DNNL_TRY(dnnl_eltwise_forward_desc_init(&fd, dnnl_forward_training, alg, src, a, b), err);
  DNNL_TRY(dnnl_eltwise_backward_desc_init(&bd, alg, src, src, a, b), err);
  dnnl_primitive_desc_t fp, bp;
  sr_status s;
  if ((s = sr_pd_create(&t->dnn, &fp, &fd, NULL, NULL, err))) return s;
  if ((s = sr_pd_create(&t->dnn, &bp, &bd, NULL, fp, err))) {
    dnnl_primitive_desc_destroy(fp);
    return s;
  }
  if ((s = sr_prim_from_pd(&t->dnn, bp, &tn->prim[1], err))) {
    dnnl_primitive_desc_destroy(fp);
    return s;
  }
  if ((s = sr_prim_from_pd(&t->dnn, fp, &tn->prim[0], err))) return s;
  return sr_node_outputs(t, i, src, err);
}

static sr_status forward(sr_tape *t, int i, sr_err *err) {
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, t->tn[t->m->nodes[i].in[0]].dst}, {DNNL_ARG_DST, t->tn[i].dst}};
  return sr_exec(&t->dnn, t->tn[i].prim[0], 2, a, err);
}

static sr_status backward(sr_tape *t, int i, sr_err *err) {
  dnnl_memory_t dsrc = sr_diff_target(t, i, 0);
  if (!dsrc) return SR_OK;
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, t->tn[t->m->nodes[i].in[0]].dst},
                         {DNNL_ARG_DIFF_DST, t->tn[i].diff},
                         {DNNL_ARG_DIFF_SRC, dsrc}};
  sr_status s = sr_exec(&t->dnn, t->tn[i].prim[1], 3, a, err);
  if (!s) sr_diff_done(t, i, 0);
  return s;
}

// ---- inference plan (infer.c): one eltwise step ----
static sr_status plan_build(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const dnnl_memory_desc_t *src = &p->vals[s->in[0]].md;
  dnnl_alg_kind_t alg;
  float a, b;
  dnnl_alg(&p->m->nodes[s->node], &alg, &a, &b);
  dnnl_eltwise_desc_t ed;
  DNNL_TRY(dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, alg, src, a, b), err);
  p->vals[s->out].md = *src;
  return sr_plan_prim(p, &ed, NULL, &s->prim, NULL, err);
}

const sr_layer_ops sr_ops_act = {.name = "act",
                                 .tape = {.build = build, .forward = forward, .backward = backward},
                                 .ref = {.forward = ref_fwd, .backward = ref_bwd},
                                 .flops = flops,
                                 .plan = {.build = plan_build, .run = sr_plan_run_src_dst}};
