// Inference plans, the generic executor: the steps of infer_plan.c built by their ops' plan.build (each op's
// file), weights refolded by their plan.refresh, activation buffers shared by liveness, and the run (each
// step's plan.run). See docs/PERFORMANCE.md.
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "infer.h"

sr_status sr_plan_prim(sr_infer *p, const void *desc, const_dnnl_primitive_attr_t attr,
                       dnnl_primitive_t *prim, dnnl_primitive_desc_t *keep, sr_err *err) {
  dnnl_primitive_desc_t pd;
  sr_status e = sr_pd_create(&p->dnn, &pd, desc, attr, NULL, err);
  if (e) return e;
  if (!keep) return sr_prim_from_pd(&p->dnn, pd, prim, err);
  if ((e = sr_prim_create(&p->dnn, pd, prim, err)))
    dnnl_primitive_desc_destroy(pd);
  else
    *keep = pd;
  return e;
}

int sr_plan_value(sr_infer *p, const dnnl_memory_desc_t *md) {
  p->vals[p->n_vals] = (sr_ivalue){.md = *md, .buf = 0, .last = -1};
  return p->n_vals++;
}

// Weights: plain (O, I...) source memory (the shared fold buffer for convolutions, the params for linear
// layers), the primitive's layout, and the reorder between them.
sr_status sr_plan_weights(sr_infer *p, sr_istep *s, const dnnl_memory_desc_t *wplain,
                          const dnnl_memory_desc_t *wmd, void *src, sr_err *err) {
  sr_status e;
  if ((e = sr_mem_create(&p->dnn, &s->wplain, wplain, src, err)) ||
      (e = sr_mem_create(&p->dnn, &s->w, wmd, NULL, err)))
    return e;
  p->stats.weight_bytes += (int64_t)dnnl_memory_desc_get_size(wmd);
  return sr_reorder_create(&p->dnn, &s->wre, wplain, wmd, 0, err);
}

// ---- activation buffers: values whose lifetimes do not overlap share a buffer ----
static int acquire(sr_infer *p, int *busy, size_t need) {
  int best = sr_fit_buffer(p->buf_size, busy, &p->n_bufs, need);
  busy[best] = 1;
  return best;
}

static sr_status assign_buffers(sr_infer *p, sr_err *err) {
  int cap = p->n_vals + 1;
  int *busy = calloc((size_t)cap, sizeof *busy);
  p->buf_size = calloc((size_t)cap, sizeof *p->buf_size);
  p->bufs = calloc((size_t)cap, sizeof *p->bufs);
  if (!busy || !p->buf_size || !p->bufs) {
    free(busy);
    return sr_fail(err, SR_ERR_NOMEM, "inference buffer table");
  }
  for (int t = 0; t < p->n_steps; t++) {
    sr_istep *s = &p->steps[t];
    if (s->src_tmp >= 0)
      p->vals[s->src_tmp].buf = acquire(p, busy, dnnl_memory_desc_get_size(&p->vals[s->src_tmp].md));
    sr_ivalue *o = &p->vals[s->out];
    o->buf = s->in_place ? p->vals[s->in[1]].buf : acquire(p, busy, dnnl_memory_desc_get_size(&o->md));
    if (s->src_tmp >= 0) busy[p->vals[s->src_tmp].buf] = 0;
    for (int k = 0; k < 2; k++) {
      int v = s->in[k];
      if (v > 0 && p->vals[v].last == t && !(k == 1 && s->in_place)) busy[p->vals[v].buf] = 0;
    }
  }
  free(busy);
  for (int b = 0; b < p->n_bufs; b++) {
    if (!(p->bufs[b] = sr_alloc(p->buf_size[b] ? p->buf_size[b] : 64)))
      return sr_fail(err, SR_ERR_NOMEM, "cannot allocate %zu bytes of inference activations", p->buf_size[b]);
    p->stats.act_bytes += (int64_t)p->buf_size[b];
  }
  sr_status e = SR_OK;
  for (int v = 0; v < p->n_vals && !e; v++)
    e = p->vals[v].buf < 0
            ? sr_mem_create_unbound(&p->dnn, &p->vals[v].mem, &p->vals[v].md, err)
            : sr_mem_create(&p->dnn, &p->vals[v].mem, &p->vals[v].md, p->bufs[p->vals[v].buf], err);
  for (int t = 0; t < p->n_steps && !e; t++)
    if (p->steps[t].view_md.ndims > 0)  // flatten: its output viewed as 4-D
      e = sr_mem_create(&p->dnn, &p->steps[t].view, &p->steps[t].view_md,
                        p->bufs[p->vals[p->steps[t].out].buf], err);
  return e;
}

sr_status sr_plan_run_src_dst(sr_infer *p, const sr_istep *s, sr_err *err) {
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, p->vals[s->in[0]].mem}, {DNNL_ARG_DST, p->vals[s->out].mem}};
  return sr_exec(&p->dnn, s->prim, 2, a, err);
}

// Every plan of a model folds the same weights, so their Winograd transforms (4x the weights) are kept once
// per model, stamped with the versions they were folded from: an attack's plans of 8 batch sizes share them.
struct sr_wino_cache {
  float **u;
  uint64_t *version, *state_version;
};

void sr_model_free_wino_cache(sr_model *m) {
  struct sr_wino_cache *c = m->exec ? m->exec->wino : NULL;
  if (!c) return;
  for (int i = 0; c->u && i < m->n_nodes; i++) sr_free(c->u[i]);
  free(c->u);
  free(c->version);
  free(c->state_version);
  free(c);
  m->exec->wino = NULL;
}

sr_status sr_plan_wino_weights(sr_infer *p, sr_istep *s, sr_err *err) {
  sr_model *m = p->m;
  int n = m->n_nodes, i = s->node;
  struct sr_wino_cache *c = m->exec->wino;
  if (!c && (!(c = m->exec->wino = calloc(1, sizeof *c)) || !(c->u = calloc((size_t)n, sizeof *c->u)) ||
             !(c->version = calloc((size_t)n, sizeof *c->version)) ||
             !(c->state_version = calloc((size_t)n, sizeof *c->state_version)))) {
    sr_model_free_wino_cache(m);
    return sr_fail(err, SR_ERR_NOMEM, "Winograd weight cache of %d nodes", n);
  }
  if (!c->u[i]) {
    if (!(c->u[i] = sr_alloc(sizeof(float) * SR_WINO_XI * (size_t)s->wino->C * (size_t)s->wino->K)))
      return sr_fail(err, SR_ERR_NOMEM, "Winograd weights of %s", m->nodes[i].name);
    c->version[i] = 0;  // params_version starts at 1: nothing is stamped yet
  }
  s->wino->u = c->u[i];
  if (c->version[i] == m->params_version && c->state_version[i] == m->state_version) return SR_OK;
  sr_status e = sr_wino_set_weights(s->wino, p->wtmp, err);
  if (!e) {
    c->version[i] = m->params_version;
    c->state_version[i] = m->state_version;
  }
  return e;
}

static const sr_layer_ops *step_ops(const sr_infer *p, const sr_istep *s) {
  return sr_layer_ops_for(p->m->nodes[s->node].op);
}

sr_status sr_infer_refresh(sr_infer *p, sr_err *err) {
  sr_model *m = p->m;
  for (int t = 0; t < p->n_steps; t++) {
    sr_istep *s = &p->steps[t];
    const sr_layer_ops *ops = step_ops(p, s);
    sr_status e = ops->plan.refresh ? ops->plan.refresh(p, s, err) : SR_OK;
    if (e) return e;
  }
  DNNL_TRY(dnnl_stream_wait(p->dnn.e->stream), err);  // the fold buffer is reused by the next convolution
  p->version = m->params_version;
  p->state_version = m->state_version;
  return SR_OK;
}

sr_status sr_infer_forward(sr_infer *p, const float *x, float *out, sr_err *err) {
  sr_model *m = p->m;
  sr_status e;
  if ((p->version != m->params_version || p->state_version != m->state_version) &&
      (e = sr_infer_refresh(p, err)))
    return e;
  if (p->x_lp) {  // bf16
    sr_bf16_round_copy(p->x_lp, x, p->n * m->cfg.in_c * m->cfg.in_h * m->cfg.in_w);
    x = p->x_lp;
  }
  dnnl_memory_set_data_handle(p->vals[0].mem, (void *)x);
  for (int t = 0; t < p->n_steps; t++) {
    const sr_istep *s = &p->steps[t];
    const sr_layer_ops *ops = step_ops(p, s);
    if ((e = ops->plan.run(p, s, err)))
      return sr_err_context(err, "inference step %d (%s)", t, m->nodes[s->node].name);
    if (p->x_lp && !ops->plan.keeps_values) {  // bf16: every step's output is a bf16 tensor
      DNNL_TRY(dnnl_stream_wait(p->dnn.e->stream), err);
      sr_bf16_round_mem(p->vals[s->out].mem);
    }
  }
  dnnl_memory_set_data_handle(p->out_user, out);
  if ((e = sr_reorder_run(&p->dnn, p->out_reorder, p->vals[p->val_of[m->n_nodes - 1]].mem, p->out_user, err)))
    return e;
  DNNL_TRY(dnnl_stream_wait(p->dnn.e->stream), err);
  return SR_OK;
}

void sr_infer_free(sr_infer *p) {
  if (!p) return;
  for (int t = 0; t < p->n_steps; t++) {
    sr_istep *s = &p->steps[t];
    dnnl_primitive_t prims[] = {s->prim, s->pre, s->copy, s->wre};
    for (size_t k = 0; k < sizeof prims / sizeof prims[0]; k++)
      if (prims[k]) dnnl_primitive_destroy(prims[k]);
    dnnl_memory_t mems[] = {s->w,         s->wplain,    s->b,         s->view,
                            s->bn_mem[0], s->bn_mem[1], s->bn_mem[2], s->bn_mem[3]};
    for (size_t k = 0; k < sizeof mems / sizeof mems[0]; k++)
      if (mems[k]) dnnl_memory_destroy(mems[k]);
    sr_free(s->bias);
    free(s->wino);  // its u belongs to the model's cache
    free(s->choice);
  }
  for (int v = 0; p->vals && v < p->n_vals; v++)
    if (p->vals[v].mem) dnnl_memory_destroy(p->vals[v].mem);
  for (int b = 0; p->bufs && b < p->n_bufs; b++) sr_free(p->bufs[b]);
  if (p->out_reorder) dnnl_primitive_destroy(p->out_reorder);
  if (p->out_user) dnnl_memory_destroy(p->out_user);
  sr_dnn_free(&p->dnn);
  SR_FREE_ALL(p->wtmp, p->x_lp, p->wino_scratch, p->steps, p->vals, p->val_of, p->bufs, p->buf_size, p);
}

// Largest plain convolution weight tensor: the fold buffer's size.
static int64_t max_conv_weights(const sr_model *m) {
  int64_t mx = 1;
  for (int i = 1; i < m->n_nodes; i++) {
    const sr_node *nd = &m->nodes[i];
    int64_t c = nd->op == SR_OP_CONV ? sr_node_weight_count(nd) : 0;
    mx = c > mx ? c : mx;
  }
  return mx;
}

static sr_status finish(sr_infer *p, sr_err *err) {
  sr_model *m = p->m;
  const dnnl_memory_desc_t *omd = &p->vals[p->val_of[m->n_nodes - 1]].md;
  dnnl_memory_desc_t o;
  sr_plain_md(&o, omd->ndims, omd->dims);
  sr_status e = sr_reorder_create(&p->dnn, &p->out_reorder, omd, &o, 0, err);
  if (e) return e;
  if ((e = sr_mem_create_unbound(&p->dnn, &p->out_user, &o, err))) return e;
  if ((e = assign_buffers(p, err))) return e;
  if ((e = sr_dnn_bind_scratch(&p->dnn, err))) return e;
  if (p->wino_floats && !(p->wino_scratch = sr_alloc(sizeof(float) * p->wino_floats)))
    return sr_fail(err, SR_ERR_NOMEM, "Winograd scratch of %zu floats", p->wino_floats);
  if (m->precision == SR_PRECISION_BF16 &&
      !(p->x_lp = sr_alloc(sizeof(float) * (size_t)(p->n * m->cfg.in_c * m->cfg.in_h * m->cfg.in_w))))
    return sr_fail(err, SR_ERR_NOMEM, "bf16 input copy of the inference plan");
  for (int t = 0; t < p->n_steps; t++) {
    const sr_istep *s = &p->steps[t];
    p->stats.steps += 1 + (s->pre != NULL) + (s->copy != NULL);
  }
  return sr_infer_refresh(p, err);
}

int sr_wino_native(void) {
  dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  return (isa & dnnl_cpu_isa_avx512_core) != dnnl_cpu_isa_avx512_core;
}

void sr_infer_default_options(sr_infer_options *o) { *o = (sr_infer_options){.winograd = sr_wino_native()}; }

sr_status sr_infer_create(sr_model *m, int64_t n, sr_infer **out, sr_err *err) {
  sr_infer_options o = {.winograd = sr_model_winograd(m), .conv = sr_model_conv_policy(m)};
  return sr_infer_create_opts(m, n, &o, out, err);
}

sr_status sr_infer_create_opts(sr_model *m, int64_t n, const sr_infer_options *o, sr_infer **out,
                               sr_err *err) {
  *out = NULL;
  if (!m->finalized) return sr_fail(err, SR_ERR_ARG, "model is not finalized");
  if (n < 1 || n > (1 << 20))
    return sr_fail(err, SR_ERR_ARG, "inference batch size %lld out of range", (long long)n);
  sr_infer *p = calloc(1, sizeof *p);
  if (!p) return sr_fail(err, SR_ERR_NOMEM, "cannot allocate an inference plan");
  p->m = m;
  p->n = n;
  if (o)
    p->opts = *o;
  else
    sr_infer_default_options(&p->opts);
  sr_status e = sr_dnn_init(&p->dnn, m->engine, err);
  if (!e) e = sr_infer_plan(p, err);
  if (!e && !(p->wtmp = sr_alloc(sizeof(float) * (size_t)max_conv_weights(m))))
    e = sr_fail(err, SR_ERR_NOMEM, "inference weight fold buffer");
  if (!e) {
    const sr_model_config *c = &m->cfg;
    int64_t in[4] = {n, c->in_c, c->in_h, c->in_w};
    sr_plain_md(&p->vals[0].md, 4, in);
  }
  for (int t = 0; !e && t < p->n_steps; t++) {
    e = sr_layer_ops_for(m->nodes[p->steps[t].node].op)->plan.build(p, t, err);
    if (e)
      sr_err_context(err, "building inference step for node %d (%s)", p->steps[t].node,
                     m->nodes[p->steps[t].node].name);
  }
  if (!e) e = finish(p, err);
  if (e) {
    sr_infer_free(p);
    return e;
  }
  *out = p;
  return SR_OK;
}

void sr_infer_get_stats(const sr_infer *p, sr_infer_stats *s) { *s = p->stats; }

int sr_infer_conv_choice(const sr_infer *p, int node, sr_conv_choice *out) {
  for (int t = 0; t < p->n_steps; t++)
    if (p->steps[t].node == node && p->steps[t].choice) {
      if (out) *out = *p->steps[t].choice;
      return (int)p->steps[t].choice->algo;
    }
  return -1;
}

sr_status sr_model_infer(sr_model *m, const float *x, int64_t n, float *out, sr_err *err) {
  if (!m->finalized) return sr_fail(err, SR_ERR_ARG, "model is not finalized");
  struct sr_exec_cache *c = m->exec;
  int k = 0;
  while (k < SR_MAX_INFERS && c->infers[k] && c->infer_n[k] != n) k++;
  if (k == SR_MAX_INFERS) {  // full: drop the oldest
    sr_infer_free(c->infers[0]);
    memmove(c->infers, c->infers + 1, sizeof c->infers[0] * (SR_MAX_INFERS - 1));
    memmove(c->infer_n, c->infer_n + 1, sizeof c->infer_n[0] * (SR_MAX_INFERS - 1));
    k = SR_MAX_INFERS - 1;
    c->infers[k] = NULL;
  }
  if (!c->infers[k]) {
    sr_status e = sr_infer_create(m, n, &c->infers[k], err);
    if (e) return e;
    c->infer_n[k] = n;
  }
  return sr_infer_forward(c->infers[k], x, out, err);
}

void sr_model_free_infers(sr_model *m) {
  struct sr_exec_cache *c = m->exec;
  for (int k = 0; c && k < SR_MAX_INFERS; k++) {
    sr_infer_free(c->infers[k]);
    c->infers[k] = NULL;
  }
}
