// concat: two (C, H, W) outputs joined along channels (an imported model's Concat on axis 1; more inputs are
// a chain of these). oneDNN concat forward; backward reorders the gradient into a plain NCHW buffer and hands
// each input its channel slice (a sub-memory view, reordered into the input's layout).
#include <string.h>

#include "exec/infer.h"

static void ref_fwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  size_t hw = (size_t)nd->h * nd->w, ca = (size_t)nd->ic * hw, cb = (size_t)(nd->c - nd->ic) * hw;
  for (int64_t n = 0; n < io->n; n++) {
    memcpy(io->y + (size_t)n * (ca + cb), io->x0 + (size_t)n * ca, sizeof(double) * ca);
    memcpy(io->y + (size_t)n * (ca + cb) + ca, io->x1 + (size_t)n * cb, sizeof(double) * cb);
  }
}

static void ref_bwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  size_t hw = (size_t)nd->h * nd->w, ca = (size_t)nd->ic * hw, cb = (size_t)(nd->c - nd->ic) * hw;
  for (int64_t n = 0; n < io->n; n++)
    for (size_t j = 0; j < ca + cb; j++) {
      double g = io->dy[(size_t)n * (ca + cb) + j];
      if (j < ca && io->dx0) io->dx0[(size_t)n * ca + j] += g;
      if (j >= ca && io->dx1) io->dx1[(size_t)n * cb + j - ca] += g;
    }
}

static int64_t flops(const sr_node *nd, const sr_node *in) {
  (void)nd;
  (void)in;
  return 0;
}

// A concat primitive of srcs[0..1] along channels; *dst gets the layout it picked.
static sr_status concat_prim(sr_dnn *d, const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b,
                             dnnl_memory_desc_t *dst, dnnl_primitive_t *prim, sr_err *err) {
  dnnl_memory_desc_t srcs[2] = {*a, *b};
  dnnl_primitive_desc_t pd;
  DNNL_TRY(dnnl_concat_primitive_desc_create(&pd, NULL, 2, 1, srcs, d->attr, d->e->eng), err);
  *dst = *sr_pd_md(pd, dnnl_query_dst_md);
  return sr_prim_from_pd(d, pd, prim, err);
}

// prim: 0 concat, 1 reorder diff -> plain, 2 and 3 reorder slice -> input 0 / 1 gradient
// mem: 0 plain gradient buffer, 1 and 2 its channel slices
static sr_status build(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  const dnnl_memory_desc_t *src[2] = {sr_in_md(t, i, 0), sr_in_md(t, i, 1)};
  dnnl_memory_desc_t dst, plain;
  sr_status s = concat_prim(&t->dnn, src[0], src[1], &dst, &tn->prim[0], err);
  if (s || (s = sr_node_outputs(t, i, &dst, err))) return s;
  int64_t d4[4] = {t->n, nd->c, nd->h, nd->w};
  sr_plain_md(&plain, 4, d4);
  if ((s = sr_mem_create(&t->dnn, &tn->mem[0], &plain, NULL, err)) ||
      (s = sr_reorder_create(&t->dnn, &tn->prim[1], &dst, &plain, 0, err)))
    return s;
  void *buf;
  dnnl_memory_get_data_handle(tn->mem[0], &buf);
  int64_t off = 0;
  for (int k = 0; k < 2; k++) {
    int64_t ck = t->m->nodes[nd->in[k]].c;
    dnnl_dims_t dims = {t->n, ck, nd->h, nd->w}, offs = {0, off, 0, 0};
    dnnl_memory_desc_t sub;
    DNNL_TRY(dnnl_memory_desc_init_submemory(&sub, &plain, dims, offs), err);
    if ((s = sr_mem_create(&t->dnn, &tn->mem[1 + k], &sub, buf, err)) ||
        (s = sr_reorder_create(&t->dnn, &tn->prim[2 + k], &sub, src[k], 0, err)))
      return s;
    off += ck;
  }
  return SR_OK;
}

static sr_status forward(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  dnnl_exec_arg_t a[] = {{DNNL_ARG_MULTIPLE_SRC, t->tn[nd->in[0]].dst},
                         {DNNL_ARG_MULTIPLE_SRC + 1, t->tn[nd->in[1]].dst},
                         {DNNL_ARG_DST, t->tn[i].dst}};
  return sr_exec(&t->dnn, t->tn[i].prim[0], 3, a, err);
}

static sr_status backward(sr_tape *t, int i, sr_err *err) {
  sr_tnode *tn = &t->tn[i];
  sr_status s = sr_reorder_run(&t->dnn, tn->prim[1], tn->diff, tn->mem[0], err);
  for (int k = 0; k < 2 && !s; k++) {
    dnnl_memory_t d = sr_diff_target(t, i, k);
    if (!d) continue;
    s = sr_reorder_run(&t->dnn, tn->prim[2 + k], tn->mem[1 + k], d, err);
    if (!s) sr_diff_done(t, i, k);
  }
  return s;
}

// ---- inference plan (infer.c): one concat step ----
static sr_status plan_build(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  return concat_prim(&p->dnn, &p->vals[s->in[0]].md, &p->vals[s->in[1]].md, &p->vals[s->out].md, &s->prim,
                     err);
}

static sr_status plan_run(sr_infer *p, const sr_istep *s, sr_err *err) {
  dnnl_exec_arg_t a[] = {{DNNL_ARG_MULTIPLE_SRC, p->vals[s->in[0]].mem},
                         {DNNL_ARG_MULTIPLE_SRC + 1, p->vals[s->in[1]].mem},
                         {DNNL_ARG_DST, p->vals[s->out].mem}};
  return sr_exec(&p->dnn, s->prim, 3, a, err);
}

const sr_layer_ops sr_ops_concat = {.name = "concat",
                                    .tape = {.build = build, .forward = forward, .backward = backward},
                                    .ref = {.forward = ref_fwd, .backward = ref_bwd},
                                    .flops = flops,
                                    .plan = {.build = plan_build, .run = plan_run}};
