// Inference plans, oneDNN side: forward_inference primitives for the fused steps of infer_plan.c, folded
// weights, activation buffers shared by liveness, and the run. See docs/PERFORMANCE.md.
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "infer.h"

// Primitive from a descriptor (attr NULL: the plan's). keep: the pd is returned for queries (the caller
// destroys it), else destroyed.
static sr_status make_prim(sr_infer *p, const void *desc, const_dnnl_primitive_attr_t attr, dnnl_primitive_t *prim,
                           dnnl_primitive_desc_t *keep, sr_err *err) {
  dnnl_primitive_desc_t pd;
  sr_status e = sr_pd_create(&p->dnn, &pd, desc, attr, NULL, err);
  if (e) return e;
  if (!keep) return sr_prim_from_pd(&p->dnn, pd, prim, err);
  if ((e = sr_prim_create(&p->dnn, pd, prim, err))) dnnl_primitive_desc_destroy(pd);
  else *keep = pd;
  return e;
}

static sr_status make_reorder(sr_infer *p, const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
                              dnnl_primitive_t *prim, sr_err *err) {
  return sr_reorder_create(&p->dnn, prim, src, dst, 0, err);
}

static int new_value(sr_infer *p, const dnnl_memory_desc_t *md) {
  p->vals[p->n_vals] = (sr_ivalue){.md = *md, .buf = 0, .last = -1};
  return p->n_vals++;
}

// Weights: plain (O, I...) source memory (the shared fold buffer for convolutions, the params for linear
// layers), the primitive's layout, and the reorder between them.
static sr_status weights(sr_infer *p, sr_istep *s, const dnnl_memory_desc_t *wplain, const dnnl_memory_desc_t *wmd,
                         void *src, sr_err *err) {
  sr_status e;
  if ((e = sr_mem_create(&p->dnn, &s->wplain, wplain, src, err)) || (e = sr_mem_create(&p->dnn, &s->w, wmd, NULL, err)))
    return e;
  p->stats.weight_bytes += (int64_t)dnnl_memory_desc_get_size(wmd);
  return make_reorder(p, wplain, wmd, &s->wre, err);
}

static sr_status conv_io(sr_infer *p, int t, const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dmd,
                         sr_err *err);
static sr_status build_wino(sr_infer *p, int t, sr_err *err);

static sr_status build_conv(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  if (p->opts.winograd && sr_wino_eligible(nd, p->n)) return build_wino(p, t, err);
  int64_t wd[4] = {nd->c, nd->ic, nd->k, nd->k}, dd[4] = {p->n, nd->c, nd->h, nd->w}, bd[1] = {nd->c};
  int64_t sd[4] = {p->n, nd->ic, nd->ih, nd->iw};
  dnnl_dims_t st = {nd->stride, nd->stride}, pl = {nd->pad, nd->pad};
  // right padding that makes the output size exact (PyTorch floors)
  dnnl_dims_t pr = {(int64_t)(nd->h - 1) * nd->stride + nd->k - nd->ih - nd->pad,
                    (int64_t)(nd->w - 1) * nd->stride + nd->k - nd->iw - nd->pad};
  dnnl_memory_desc_t src_any, w_any, dst, b_md, w_plain;
  sr_md(&src_any, 4, sd, dnnl_format_tag_any);
  sr_md(&w_any, 4, wd, dnnl_format_tag_any);
  // with a fused add, dst takes the shortcut's layout: the sum post-op accumulates onto it in place
  if (s->add >= 0) dst = p->vals[s->in[1]].md;
  else sr_md(&dst, 4, dd, dnnl_format_tag_any);
  sr_plain_md(&b_md, 1, bd);
  sr_plain_md(&w_plain, 4, wd);
  int has_bias = nd->bias || s->bn >= 0;
  dnnl_convolution_desc_t cd;
  DNNL_TRY(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src_any, &w_any,
                                              has_bias ? &b_md : NULL, &dst, st, pl, pr), err);
  dnnl_primitive_attr_t attr;
  sr_status e = sr_post_ops_attr(s->add >= 0, s->relu >= 0, &attr, err);
  if (e) return e;
  dnnl_primitive_desc_t pd;
  e = make_prim(p, &cd, attr, &s->prim, &pd, err);
  dnnl_primitive_attr_destroy(attr);
  if (e) return e;
  dnnl_memory_desc_t src = *sr_pd_md(pd, dnnl_query_src_md), wmd = *sr_pd_md(pd, dnnl_query_weights_md);
  dnnl_memory_desc_t dmd = *sr_pd_md(pd, dnnl_query_dst_md);
  dnnl_primitive_desc_destroy(pd);
  if ((e = conv_io(p, t, &src, &dmd, err))) return e;
  return weights(p, s, &w_plain, &wmd, p->wtmp, err);
}

// Winograd step: src and dst forced to nChw8c (what the direct convolutions pick on AVX2 for these widths,
// so no extra reorders in a resnet); weights transformed at every fold, no oneDNN primitive.
static sr_status build_wino(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  int64_t sd[4] = {p->n, nd->ic, nd->ih, nd->iw}, dd[4] = {p->n, nd->c, nd->h, nd->w};
  dnnl_memory_desc_t src, dmd;
  sr_md(&src, 4, sd, dnnl_nChw8c);
  sr_md(&dmd, 4, dd, dnnl_nChw8c);
  if (!(s->wino = calloc(1, sizeof *s->wino))) return sr_fail(err, SR_ERR_NOMEM, "Winograd step of %s", nd->name);
  sr_wino_init(s->wino, nd, p->n, omp_get_max_threads());  // weights: the model's cache (shared_wino_weights)
  size_t need = sr_wino_scratch_floats(s->wino);
  if (need > p->wino_floats) p->wino_floats = need;
  p->stats.winograd++;
  p->stats.weight_bytes += (int64_t)sizeof(float) * SR_WINO_XI * nd->ic * nd->c;
  return conv_io(p, t, &src, &dmd, err);
}

static sr_status conv_io(sr_infer *p, int t, const dnnl_memory_desc_t *srcp, const dnnl_memory_desc_t *dmdp,
                         sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  dnnl_memory_desc_t src = *srcp, dmd = *dmdp, b_md;
  int64_t bd[1] = {nd->c};
  sr_plain_md(&b_md, 1, bd);
  int has_bias = nd->bias || s->bn >= 0;
  sr_status e;
  p->vals[s->out].md = dmd;
  if (!dnnl_memory_desc_equal(&src, &p->vals[s->in[0]].md)) {
    s->src_tmp = new_value(p, &src);
    if ((e = make_reorder(p, &p->vals[s->in[0]].md, &src, &s->pre, err))) return e;
  }
  if (s->add >= 0) {
    sr_ivalue *sc = &p->vals[s->in[1]];
    s->in_place = sc->last == t && s->in[1] != 0 && s->in[1] != s->in[0] && dnnl_memory_desc_equal(&sc->md, &dmd);
    if (!s->in_place && (e = make_reorder(p, &sc->md, &dmd, &s->copy, err))) return e;
    p->stats.add_fused++;
    p->stats.add_in_place += s->in_place;
  }
  if (has_bias) {
    if (!(s->bias = sr_alloc(sizeof(float) * (size_t)nd->c)))
      return sr_fail(err, SR_ERR_NOMEM, "inference bias of %s", nd->name);
    if ((e = sr_mem_create(&p->dnn, &s->b, &b_md, s->bias, err))) return e;
  }
  p->stats.bn_folded += s->bn >= 0;
  p->stats.relu_fused += s->relu >= 0;
  return SR_OK;
}

static sr_status build_linear(sr_infer *p, int t, sr_err *err) {
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
  DNNL_TRY(dnnl_inner_product_forward_desc_init(&id, dnnl_forward_inference, src, &w_any, nd->bias ? &b_md : NULL,
                                                &dst_any), err);
  dnnl_primitive_attr_t attr;
  sr_status e = sr_post_ops_attr(0, s->relu >= 0, &attr, err);
  if (e) return e;
  dnnl_primitive_desc_t pd;
  e = make_prim(p, &id, attr, &s->prim, &pd, err);
  dnnl_primitive_attr_destroy(attr);
  if (e) return e;
  dnnl_memory_desc_t wmd = *sr_pd_md(pd, dnnl_query_weights_md);
  p->vals[s->out].md = *sr_pd_md(pd, dnnl_query_dst_md);
  dnnl_primitive_desc_destroy(pd);
  if (nd->bias && (e = sr_mem_create(&p->dnn, &s->b, &b_md, p->m->params + nd->p_b, err))) return e;
  p->stats.relu_fused += s->relu >= 0;
  return weights(p, s, &w_plain, &wmd, p->m->params + nd->p_w, err);  // bf16: rounded after the reorder
}

// A BN that does not follow a convolution: oneDNN's inference BN on the running statistics (read live).
static sr_status build_bn(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  const dnnl_memory_desc_t *src = &p->vals[s->in[0]].md;
  unsigned flags = dnnl_use_scale | dnnl_use_shift | dnnl_use_global_stats | (s->relu >= 0 ? dnnl_fuse_norm_relu : 0);
  dnnl_batch_normalization_desc_t bd;
  DNNL_TRY(dnnl_batch_normalization_forward_desc_init(&bd, dnnl_forward_inference, src, (float)nd->eps, flags), err);
  sr_status e = make_prim(p, &bd, NULL, &s->prim, NULL, err);
  if (e) return e;
  p->vals[s->out].md = *src;
  int64_t cd[1] = {nd->c};
  dnnl_memory_desc_t v;
  sr_plain_md(&v, 1, cd);
  float *at[4] = {p->m->params + nd->p_w, p->m->params + nd->p_b, p->m->state + nd->s_mean, p->m->state + nd->s_var};
  for (int k = 0; k < 4; k++)
    if ((e = sr_mem_create(&p->dnn, &s->bn_mem[k], &v, at[k], err))) return e;
  p->stats.relu_fused += s->relu >= 0;
  return SR_OK;
}

static sr_status build_relu(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const dnnl_memory_desc_t *src = &p->vals[s->in[0]].md;
  dnnl_eltwise_desc_t ed;
  DNNL_TRY(dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, dnnl_eltwise_relu, src, 0.f, 0.f), err);
  p->vals[s->out].md = *src;
  return make_prim(p, &ed, NULL, &s->prim, NULL, err);
}

static sr_status build_pool(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  int gap = nd->op == SR_OP_GAP;
  int64_t kh = gap ? nd->ih : nd->k, kw = gap ? nd->iw : nd->k, stride = gap ? 1 : nd->stride, pad = gap ? 0 : nd->pad;
  dnnl_alg_kind_t alg = nd->op == SR_OP_MAXPOOL ? dnnl_pooling_max : dnnl_pooling_avg_include_padding;
  int64_t dd[4] = {p->n, nd->c, nd->h, nd->w};
  dnnl_dims_t st = {stride, stride}, k = {kh, kw}, dil = {0, 0}, pl = {pad, pad};
  dnnl_dims_t pr = {(int64_t)(nd->h - 1) * stride + kh - nd->ih - pad, (int64_t)(nd->w - 1) * stride + kw - nd->iw - pad};
  dnnl_memory_desc_t dst_any;
  sr_md(&dst_any, 4, dd, dnnl_format_tag_any);
  dnnl_pooling_v2_desc_t pd_desc;
  DNNL_TRY(dnnl_pooling_v2_forward_desc_init(&pd_desc, dnnl_forward_inference, alg, &p->vals[s->in[0]].md, &dst_any,
                                             st, k, dil, pl, pr), err);
  dnnl_primitive_desc_t pd;
  sr_status e = make_prim(p, &pd_desc, NULL, &s->prim, &pd, err);
  if (e) return e;
  p->vals[s->out].md = *sr_pd_md(pd, dnnl_query_dst_md);
  dnnl_primitive_desc_destroy(pd);
  return SR_OK;
}

static sr_status build_add(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const dnnl_memory_desc_t *a = &p->vals[s->in[0]].md, *b = &p->vals[s->in[1]].md;
  dnnl_binary_desc_t bd;
  DNNL_TRY(dnnl_binary_desc_init(&bd, dnnl_binary_add, a, b, a), err);
  dnnl_primitive_attr_t attr;
  sr_status e = sr_post_ops_attr(0, s->relu >= 0, &attr, err);
  if (e) return e;
  e = make_prim(p, &bd, attr, &s->prim, NULL, err);
  dnnl_primitive_attr_destroy(attr);
  p->vals[s->out].md = *a;
  p->stats.relu_fused += s->relu >= 0;
  return e;
}

// Flatten: reorder into a plain buffer, viewed as (N, C, H, W) for the reorder and (N, C*H*W) after it.
static sr_status build_flatten(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  const dnnl_memory_desc_t *src = &p->vals[s->in[0]].md;
  int64_t d4[4] = {p->n, nd->ic, nd->ih, nd->iw}, d2[2] = {p->n, nd->c};
  sr_plain_md(&s->view_md, src->ndims, src->ndims == 4 ? d4 : d2);
  sr_plain_md(&p->vals[s->out].md, 2, d2);
  return make_reorder(p, src, &s->view_md, &s->prim, err);
}

static sr_status build_step(sr_infer *p, int t, sr_err *err) {
  switch (p->steps[t].kind) {
    case SR_IS_CONV: return build_conv(p, t, err);
    case SR_IS_LINEAR: return build_linear(p, t, err);
    case SR_IS_BN: return build_bn(p, t, err);
    case SR_IS_RELU: return build_relu(p, t, err);
    case SR_IS_POOL: return build_pool(p, t, err);
    case SR_IS_ADD: return build_add(p, t, err);
    case SR_IS_FLATTEN: return build_flatten(p, t, err);
  }
  return sr_fail(err, SR_ERR_ARG, "unknown inference step");
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
    if (s->src_tmp >= 0) p->vals[s->src_tmp].buf = acquire(p, busy, dnnl_memory_desc_get_size(&p->vals[s->src_tmp].md));
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
    e = p->vals[v].buf < 0 ? sr_mem_create_unbound(&p->dnn, &p->vals[v].mem, &p->vals[v].md, err)
                           : sr_mem_create(&p->dnn, &p->vals[v].mem, &p->vals[v].md, p->bufs[p->vals[v].buf], err);
  for (int t = 0; t < p->n_steps && !e; t++)
    if (p->steps[t].kind == SR_IS_FLATTEN)
      e = sr_mem_create(&p->dnn, &p->steps[t].view, &p->steps[t].view_md, p->bufs[p->vals[p->steps[t].out].buf], err);
  return e;
}

static sr_status exec(sr_infer *p, dnnl_primitive_t prim, int nargs, const dnnl_exec_arg_t *args, sr_err *err) {
  return sr_exec(&p->dnn, prim, nargs, args, err);
}

static sr_status reorder(sr_infer *p, dnnl_primitive_t prim, dnnl_memory_t from, dnnl_memory_t to, sr_err *err) {
  return sr_reorder_run(&p->dnn, prim, from, to, err);
}

// Every plan of a model folds the same weights, so their Winograd transforms (4x the weights) are kept once
// per model, stamped with the versions they were folded from: an attack's plans of 8 batch sizes share them.
struct sr_wino_cache {
  float **u;
  uint64_t *version, *state_version;
};

void sr_model_free_wino_cache(sr_model *m) {
  sr_wino_cache *c = m->wino_cache;
  if (!c) return;
  for (int i = 0; c->u && i < m->n_nodes; i++) sr_free(c->u[i]);
  free(c->u), free(c->version), free(c->state_version), free(c);
  m->wino_cache = NULL;
}

static sr_status shared_wino_weights(sr_infer *p, sr_istep *s, sr_err *err) {
  sr_model *m = p->m;
  int n = m->n_nodes, i = s->node;
  sr_wino_cache *c = m->wino_cache;
  if (!c && (!(c = m->wino_cache = calloc(1, sizeof *c)) || !(c->u = calloc((size_t)n, sizeof *c->u)) ||
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
  if (!e) c->version[i] = m->params_version, c->state_version[i] = m->state_version;
  return e;
}

sr_status sr_infer_refresh(sr_infer *p, sr_err *err) {
  sr_model *m = p->m;
  for (int t = 0; t < p->n_steps; t++) {
    sr_istep *s = &p->steps[t];
    if (s->kind != SR_IS_CONV && s->kind != SR_IS_LINEAR) continue;
    const sr_node *nd = &m->nodes[s->node];
    if (s->kind == SR_IS_CONV) {
      int64_t per = (int64_t)nd->ic * nd->k * nd->k;
      const float *w = m->params + nd->p_w, *b = nd->bias ? m->params + nd->p_b : NULL;
      if (s->bn >= 0) {
        const sr_node *bn = &m->nodes[s->bn];
        sr_fold_bn(p->wtmp, s->bias, w, b, m->params + bn->p_w, m->params + bn->p_b, m->state + bn->s_mean,
                   m->state + bn->s_var, (double)(float)bn->eps, nd->c, per);
      } else {
        memcpy(p->wtmp, w, sizeof(float) * (size_t)(per * nd->c));
        if (b) memcpy(s->bias, b, sizeof(float) * (size_t)nd->c);
      }
      // bf16: the folded weights are rounded (the bias stays f32), as a bf16 primitive would read them
      if (m->precision == SR_PRECISION_BF16) sr_bf16_round(p->wtmp, per * nd->c);
      if (s->wino) {
        sr_status e = shared_wino_weights(p, s, err);
        if (e) return e;
        continue;
      }
    }
    sr_status e = reorder(p, s->wre, s->wplain, s->w, err);
    if (e) return e;
    if (s->kind == SR_IS_LINEAR && m->precision == SR_PRECISION_BF16) {  // from the f32 master weights
      DNNL_TRY(dnnl_stream_wait(p->dnn.e->stream), err);
      sr_bf16_round_mem(s->w);
    }
  }
  DNNL_TRY(dnnl_stream_wait(p->dnn.e->stream), err);  // the fold buffer is reused by the next convolution
  p->version = m->params_version;
  p->state_version = m->state_version;
  return SR_OK;
}

static sr_status run_wino(sr_infer *p, const sr_istep *s, sr_err *err) {
  void *src, *dst;
  DNNL_TRY(dnnl_stream_wait(p->dnn.e->stream), err);  // the reorders above have written src / dst
  DNNL_TRY(dnnl_memory_get_data_handle(p->vals[s->pre ? s->src_tmp : s->in[0]].mem, &src), err);
  DNNL_TRY(dnnl_memory_get_data_handle(p->vals[s->out].mem, &dst), err);
  return sr_wino_forward(s->wino, src, dst, s->bias, s->add >= 0, s->relu >= 0, p->wino_scratch, err);
}

static sr_status run_step(sr_infer *p, const sr_istep *s, sr_err *err) {
  dnnl_memory_t in = p->vals[s->in[0]].mem, out = p->vals[s->out].mem;
  sr_status e = SR_OK;
  switch (s->kind) {
    case SR_IS_CONV: {
      if (s->pre && (e = reorder(p, s->pre, in, p->vals[s->src_tmp].mem, err))) return e;
      if (s->copy && (e = reorder(p, s->copy, p->vals[s->in[1]].mem, out, err))) return e;
      if (s->wino) return run_wino(p, s, err);
      dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, s->pre ? p->vals[s->src_tmp].mem : in},
                             {DNNL_ARG_WEIGHTS, s->w}, {DNNL_ARG_DST, out}, {DNNL_ARG_BIAS, s->b}};
      return exec(p, s->prim, s->b ? 4 : 3, a, err);
    }
    case SR_IS_LINEAR: {
      dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, in}, {DNNL_ARG_WEIGHTS, s->w}, {DNNL_ARG_DST, out}, {DNNL_ARG_BIAS, s->b}};
      return exec(p, s->prim, s->b ? 4 : 3, a, err);
    }
    case SR_IS_BN: {
      dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, out}, {DNNL_ARG_SCALE, s->bn_mem[0]},
                             {DNNL_ARG_SHIFT, s->bn_mem[1]}, {DNNL_ARG_MEAN, s->bn_mem[2]},
                             {DNNL_ARG_VARIANCE, s->bn_mem[3]}};
      return exec(p, s->prim, 6, a, err);
    }
    case SR_IS_ADD: {
      dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC_0, in}, {DNNL_ARG_SRC_1, p->vals[s->in[1]].mem}, {DNNL_ARG_DST, out}};
      return exec(p, s->prim, 3, a, err);
    }
    case SR_IS_FLATTEN: return reorder(p, s->prim, in, s->view, err);
    case SR_IS_RELU:
    case SR_IS_POOL: {
      dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, out}};
      return exec(p, s->prim, 2, a, err);
    }
  }
  return e;
}

// bf16: a ReLU, max-pool or flatten step outputs values of its (bf16) input, or 0: no rounding needed.
static int keeps_values(const sr_model *m, const sr_istep *s) {
  return s->kind == SR_IS_RELU || s->kind == SR_IS_FLATTEN ||
         (s->kind == SR_IS_POOL && m->nodes[s->node].op == SR_OP_MAXPOOL);
}

sr_status sr_infer_forward(sr_infer *p, const float *x, float *out, sr_err *err) {
  sr_model *m = p->m;
  sr_status e;
  if ((p->version != m->params_version || p->state_version != m->state_version) && (e = sr_infer_refresh(p, err)))
    return e;
  if (p->x_lp) {  // bf16
    sr_bf16_round_copy(p->x_lp, x, p->n * m->cfg.in_c * m->cfg.in_h * m->cfg.in_w);
    x = p->x_lp;
  }
  dnnl_memory_set_data_handle(p->vals[0].mem, (void *)x);
  for (int t = 0; t < p->n_steps; t++) {
    const sr_istep *s = &p->steps[t];
    if ((e = run_step(p, s, err)))
      return sr_err_context(err, "inference step %d (%s)", t, m->nodes[s->node].name);
    if (p->x_lp && !keeps_values(m, s)) {  // bf16: every step's output is a bf16 tensor
      DNNL_TRY(dnnl_stream_wait(p->dnn.e->stream), err);
      sr_bf16_round_mem(p->vals[s->out].mem);
    }
  }
  dnnl_memory_set_data_handle(p->out_user, out);
  if ((e = reorder(p, p->out_reorder, p->vals[p->val_of[m->n_nodes - 1]].mem, p->out_user, err))) return e;
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
    dnnl_memory_t mems[] = {s->w, s->wplain, s->b, s->view, s->bn_mem[0], s->bn_mem[1], s->bn_mem[2], s->bn_mem[3]};
    for (size_t k = 0; k < sizeof mems / sizeof mems[0]; k++)
      if (mems[k]) dnnl_memory_destroy(mems[k]);
    sr_free(s->bias);
    free(s->wino);  // its u belongs to the model's cache
  }
  for (int v = 0; p->vals && v < p->n_vals; v++)
    if (p->vals[v].mem) dnnl_memory_destroy(p->vals[v].mem);
  for (int b = 0; p->bufs && b < p->n_bufs; b++) sr_free(p->bufs[b]);
  if (p->out_reorder) dnnl_primitive_destroy(p->out_reorder);
  if (p->out_user) dnnl_memory_destroy(p->out_user);
  sr_dnn_free(&p->dnn);
  sr_free(p->wtmp);
  sr_free(p->x_lp);
  sr_free(p->wino_scratch);
  free(p->steps), free(p->vals), free(p->val_of), free(p->bufs), free(p->buf_size);
  free(p);
}

// Largest plain convolution weight tensor: the fold buffer's size.
static int64_t max_conv_weights(const sr_model *m) {
  int64_t mx = 1;
  for (int i = 1; i < m->n_nodes; i++) {
    const sr_node *nd = &m->nodes[i];
    int64_t c = nd->op == SR_OP_CONV ? (int64_t)nd->c * nd->ic * nd->k * nd->k : 0;
    mx = c > mx ? c : mx;
  }
  return mx;
}

static sr_status finish(sr_infer *p, sr_err *err) {
  sr_model *m = p->m;
  const dnnl_memory_desc_t *omd = &p->vals[p->val_of[m->n_nodes - 1]].md;
  dnnl_memory_desc_t o;
  sr_plain_md(&o, omd->ndims, omd->dims);
  sr_status e = make_reorder(p, omd, &o, &p->out_reorder, err);
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

void sr_infer_default_options(sr_infer_options *o) {
  const char *w = getenv("SR_WINOGRAD");
  *o = (sr_infer_options){.winograd = !(w && strcmp(w, "0") == 0)};
}

sr_status sr_infer_create(sr_model *m, int64_t n, sr_infer **out, sr_err *err) {
  sr_infer_options o;
  sr_infer_default_options(&o);
  return sr_infer_create_opts(m, n, &o, out, err);
}

sr_status sr_infer_create_opts(sr_model *m, int64_t n, const sr_infer_options *o, sr_infer **out, sr_err *err) {
  *out = NULL;
  if (!m->finalized) return sr_fail(err, SR_ERR_ARG, "model is not finalized");
  if (n < 1 || n > (1 << 20)) return sr_fail(err, SR_ERR_ARG, "inference batch size %lld out of range", (long long)n);
  sr_infer *p = calloc(1, sizeof *p);
  if (!p) return sr_fail(err, SR_ERR_NOMEM, "cannot allocate an inference plan");
  p->m = m, p->n = n;
  if (o) p->opts = *o;
  else sr_infer_default_options(&p->opts);
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
    e = build_step(p, t, err);
    if (e) sr_err_context(err, "building inference step for node %d (%s)", p->steps[t].node, m->nodes[p->steps[t].node].name);
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

sr_status sr_model_infer(sr_model *m, const float *x, int64_t n, float *out, sr_err *err) {
  int k = 0;
  while (k < SR_MAX_INFERS && m->infers[k] && m->infer_n[k] != n) k++;
  if (k == SR_MAX_INFERS) {  // full: drop the oldest
    sr_infer_free(m->infers[0]);
    memmove(m->infers, m->infers + 1, sizeof m->infers[0] * (SR_MAX_INFERS - 1));
    memmove(m->infer_n, m->infer_n + 1, sizeof m->infer_n[0] * (SR_MAX_INFERS - 1));
    k = SR_MAX_INFERS - 1;
    m->infers[k] = NULL;
  }
  if (!m->infers[k]) {
    sr_status e = sr_infer_create(m, n, &m->infers[k], err);
    if (e) return e;
    m->infer_n[k] = n;
  }
  return sr_infer_forward(m->infers[k], x, out, err);
}

void sr_model_free_infers(sr_model *m) {
  for (int k = 0; k < SR_MAX_INFERS; k++) {
    sr_infer_free(m->infers[k]);
    m->infers[k] = NULL;
  }
}
