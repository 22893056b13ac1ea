// flatten: (N,C,H,W) -> (N, C*H*W) in NCHW order. oneDNN: a reorder of the (possibly blocked) input into
// a plain buffer viewed as 2-D, and the reverse reorder for the gradient.
#include <string.h>

#include "exec/infer.h"

static void ref_fwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  memcpy(io->y, io->x0, sizeof(double) * (size_t)(io->n * nd->c));
}

static void ref_bwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  if (io->dx0)
    for (int64_t j = 0; j < io->n * nd->c; j++) io->dx0[j] += io->dy[j];
}

static int64_t flops(const sr_node *nd, const sr_node *in) {
  (void)nd;
  (void)in;
  return 0;
}

// prim: 0 reorder in -> plain 4-D view of dst, 1 reorder plain 4-D view of diff -> input layout
// mem:  0 4-D view of dst, 1 4-D view of diff (handle set in backward)
static sr_status build(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  const dnnl_memory_desc_t *src = sr_in_md(t, i, 0);
  int64_t d4[4] = {t->n, nd->ic, nd->ih, nd->iw}, d2[2] = {t->n, nd->c};
  dnnl_memory_desc_t p4, p2;
  sr_plain_md(&p4, src->ndims, src->ndims == 4 ? d4 : d2);
  sr_plain_md(&p2, 2, d2);
  sr_status s;
  if ((s = sr_node_outputs(t, i, &p2, err))) return s;
  void *dst;
  dnnl_memory_get_data_handle(tn->dst, &dst);
  if ((s = sr_mem_create(&t->dnn, &tn->mem[0], &p4, dst, err)) ||
      (s = sr_mem_create_unbound(&t->dnn, &tn->mem[1], &p4, err)) ||
      (s = sr_reorder_create(&t->dnn, &tn->prim[0], src, &p4, 0, err)) ||
      (s = sr_reorder_create(&t->dnn, &tn->prim[1], &p4, src, 0, err)))
    return s;
  return SR_OK;
}

static sr_status forward(sr_tape *t, int i, sr_err *err) {
  dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, t->tn[t->m->nodes[i].in[0]].dst}, {DNNL_ARG_TO, t->tn[i].mem[0]}};
  return sr_exec(&t->dnn, t->tn[i].prim[0], 2, a, err);
}

static sr_status backward(sr_tape *t, int i, sr_err *err) {
  dnnl_memory_t dsrc = sr_diff_target(t, i, 0);
  if (!dsrc) return SR_OK;
  void *diff;  // the diff buffer is bound after build (liveness), so the 4-D view follows it here
  dnnl_memory_get_data_handle(t->tn[i].diff, &diff);
  dnnl_memory_set_data_handle(t->tn[i].mem[1], diff);
  dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, t->tn[i].mem[1]}, {DNNL_ARG_TO, dsrc}};
  sr_status s = sr_exec(&t->dnn, t->tn[i].prim[1], 2, a, err);
  if (!s) sr_diff_done(t, i, 0);
  return s;
}

// ---- inference plan (infer.c): reorder into a plain buffer, viewed as (N, C, H, W) for the reorder and
// (N, C*H*W) after it ----
static sr_status plan_build(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  const dnnl_memory_desc_t *src = &p->vals[s->in[0]].md;
  int64_t d4[4] = {p->n, nd->ic, nd->ih, nd->iw}, d2[2] = {p->n, nd->c};
  sr_plain_md(&s->view_md, src->ndims, src->ndims == 4 ? d4 : d2);
  sr_plain_md(&p->vals[s->out].md, 2, d2);
  return sr_reorder_create(&p->dnn, &s->prim, src, &s->view_md, 0, err);
}

static sr_status plan_run(sr_infer *p, const sr_istep *s, sr_err *err) {
  return sr_reorder_run(&p->dnn, s->prim, p->vals[s->in[0]].mem, s->view, err);
}

const sr_layer_ops sr_ops_flatten = {.name = "flatten",
                                     .tape = {.build = build, .forward = forward, .backward = backward},
                                     .ref = {.forward = ref_fwd, .backward = ref_bwd},
                                     .flops = flops,
                                     .plan = {.build = plan_build, .run = plan_run, .keeps_values = 1}};
