// The oneDNN executor: builds every node's primitives once per batch size, runs forward/backward.
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "engine.h"
#include "kernels/winograd.h"

const dnnl_memory_desc_t *sr_in_md(const sr_tape *t, int i, int k) { return &t->tn[t->m->nodes[i].in[k]].md; }

sr_status sr_node_outputs(sr_tape *t, int i, const dnnl_memory_desc_t *md, sr_err *err) {
  sr_tnode *tn = &t->tn[i];
  tn->md = *md;
  sr_status st = sr_mem_create(&t->dnn, &tn->dst, md, NULL, err);
  if (!st) st = sr_mem_create_unbound(&t->dnn, &tn->diff, md, err);
  size_t sz = dnnl_memory_desc_get_size(md);
  if (sz > t->tmp_size) t->tmp_size = sz;
  return st;
}

void sr_add_floats(float *dst, const float *src, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}

dnnl_memory_t sr_diff_target(sr_tape *t, int i, int k) {
  int p = t->m->nodes[i].in[k];
  if (p < 0 || (p == 0 && !t->want_dx)) return NULL;
  return t->tn[p].diff_written ? t->tn[p].dtmp : t->tn[p].diff;
}

void sr_diff_done(sr_tape *t, int i, int k) {
  int p = t->m->nodes[i].in[k];
  if (p < 0 || (p == 0 && !t->want_dx)) return;
  sr_tnode *pn = &t->tn[p];
  if (!pn->diff_written) {
    pn->diff_written = 1;
    return;
  }
  void *d, *s;
  dnnl_memory_get_data_handle(pn->diff, &d);
  dnnl_memory_get_data_handle(pn->dtmp, &s);
  sr_add_floats(d, s, (int64_t)(dnnl_memory_desc_get_size(&pn->md) / sizeof(float)));
}

static void tape_destroy(sr_tape *t) {
  if (!t) return;
  if (t->tn) {
    for (int i = 0; i < t->m->n_nodes; i++) {
      sr_tnode *tn = &t->tn[i];
      for (int k = 0; k < SR_TN_PRIMS; k++)
        if (tn->prim[k]) dnnl_primitive_destroy(tn->prim[k]);
      for (int k = 0; k < SR_TN_MEMS; k++)
        if (tn->mem[k]) dnnl_memory_destroy(tn->mem[k]);
      if (tn->dst) dnnl_memory_destroy(tn->dst);
      if (tn->diff) dnnl_memory_destroy(tn->diff);
      if (tn->dtmp) dnnl_memory_destroy(tn->dtmp);
      if (tn->wino) free(tn->wino);  // their u is the tape's shared wino_u
      free(tn->choice);
    }
    free(t->tn);
  }
  free(t->consumers);
  dnnl_primitive_t ps[] = {t->out_reorder, t->dout_reorder, t->dx_reorder};
  for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++)
    if (ps[k]) dnnl_primitive_destroy(ps[k]);
  for (int f = 0; f < SR_MAX_FEATURES; f++) {
    if (t->feat_reorder[f]) dnnl_primitive_destroy(t->feat_reorder[f]);
    if (t->featg_reorder[f]) dnnl_primitive_destroy(t->featg_reorder[f]);
    if (t->featg_sum_reorder[f]) dnnl_primitive_destroy(t->featg_sum_reorder[f]);
    if (t->feat_user[f]) dnnl_memory_destroy(t->feat_user[f]);
  }
  dnnl_memory_t ms[] = {t->in_user, t->out_user, t->dx_user};
  for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++)
    if (ms[k]) dnnl_memory_destroy(ms[k]);
  sr_dnn_free(&t->dnn);
  sr_free(t->tmp_buf);
  sr_free(t->sync_buf);
  sr_free(t->x_lp);
  sr_free(t->wino_u);
  sr_free(t->wino_work);
  for (int b = 0; b < t->n_diff_bufs; b++) sr_free(t->diff_bufs[b]);
  free(t->diff_bufs);
  free(t);
}

// A plain (NCHW / NC) descriptor with the same dimensions as node i's layout on this tape.
static void plain_like(const sr_tape *t, int i, dnnl_memory_desc_t *md) {
  sr_plain_md(md, t->tn[i].md.ndims, t->tn[i].md.dims);
}

// Boundary reorders: plain user buffers <-> the layouts oneDNN chose.
static sr_status build_boundaries(sr_tape *t, sr_err *err) {
  sr_model *m = t->m;
  dnnl_memory_desc_t md;
  sr_status st;
  plain_like(t, m->n_nodes - 1, &md);
  if ((st = sr_mem_create(&t->dnn, &t->out_user, &md, (void *)m->params, err))) return st;
  if ((st = sr_reorder_create(&t->dnn, &t->out_reorder, &t->tn[m->n_nodes - 1].md, &md, 0, err))) return st;
  if ((st = sr_reorder_create(&t->dnn, &t->dout_reorder, &md, &t->tn[m->n_nodes - 1].md, 0, err))) return st;
  plain_like(t, 0, &md);
  if ((st = sr_mem_create(&t->dnn, &t->dx_user, &md, (void *)m->params, err))) return st;
  if ((st = sr_reorder_create(&t->dnn, &t->dx_reorder, &t->tn[0].md, &md, 0, err))) return st;
  for (int f = 0; f < m->n_feat; f++) {
    plain_like(t, m->feat[f], &md);
    const dnnl_memory_desc_t *fmd = &t->tn[m->feat[f]].md;
    if ((st = sr_mem_create(&t->dnn, &t->feat_user[f], &md, (void *)m->params, err))) return st;
    if ((st = sr_reorder_create(&t->dnn, &t->feat_reorder[f], fmd, &md, 0, err))) return st;
    if ((st = sr_reorder_create(&t->dnn, &t->featg_reorder[f], &md, fmd, 0, err))) return st;
    if ((st = sr_reorder_create(&t->dnn, &t->featg_sum_reorder[f], &md, fmd, 1, err))) return st;
  }
  return SR_OK;
}

// ---- gradient buffers by liveness ----
// Backward visits nodes last..1; call node i's visit step last - i. Node p's gradient is written first by
// its latest consumer (or by the ReLU that consumer is fused with, which runs the fused backward) and read
// last by p's own backward (node 0: by the dx reorder after the loop). The output's gradient and the
// regularizer's feature gradients are written before the loop (step -1). Inclusive intervals: at the
// step where a node reads its own gradient it writes its inputs', so those two must not share.
static int node_root(const sr_tape *t, int p) {
  while (t->tn[p].diff_aliased) p = t->tn[p].diff_alias;
  return p;
}

static void diff_lifetimes(const sr_tape *t, int *start, int *end) {
  const sr_model *m = t->m;
  int last = m->n_nodes - 1;
  for (int p = 0; p <= last; p++) start[p] = INT_MAX, end[p] = p == 0 ? last + 1 : last - p;
  start[last] = -1;
  for (int f = 0; f < m->n_feat; f++) start[m->feat[f]] = -1;
  for (int c = 1; c <= last; c++) {
    int w = t->tn[c].fused > c ? t->tn[c].fused : c;  // a fused BN/add's backward runs from its ReLU
    for (int k = 0; k < 2; k++) {
      int p = m->nodes[c].in[k];
      if (p >= 0 && last - w < start[p]) start[p] = last - w;
    }
  }
  for (int p = 0; p <= last; p++) {
    if (start[p] == INT_MAX) start[p] = end[p];  // never written: live only at its own step
    int r = node_root(t, p);
    if (r == p) continue;
    if (start[p] < start[r]) start[r] = start[p];
    if (end[p] > end[r]) end[r] = end[p];
  }
}

int sr_fit_buffer(size_t *size, const int *busy, int *nb, size_t need) {
  int best = -1, grow = -1;
  for (int b = 0; b < *nb; b++) {
    if (busy[b]) continue;
    if (size[b] >= need && (best < 0 || size[b] < size[best])) best = b;
    if (grow < 0 || size[b] > size[grow]) grow = b;
  }
  if (best < 0 && grow >= 0) {
    best = grow;
    size[grow] = need;
  }
  if (best < 0) {
    best = (*nb)++;
    size[best] = need;
  }
  return best;
}

// Greedy in step order: a gradient starting at this step takes a buffer free here (its last interval ended).
static int take_buffer(size_t *size, int *busy_until, int *busy, int *nb, int step, int until, size_t need) {
  for (int b = 0; b < *nb; b++) busy[b] = busy_until[b] >= step;
  int best = sr_fit_buffer(size, busy, nb, need);
  busy_until[best] = until;
  return best;
}

static sr_status bind_diffs(sr_tape *t, sr_err *err) {
  int n = t->m->n_nodes, nb = 0;
  int *start = malloc(sizeof(int) * (size_t)n * 5), *end = start + n, *buf = start + 2 * n,
      *until = start + 3 * n;
  int *busy = start + 4 * n;
  size_t *size = calloc((size_t)n, sizeof *size);
  if (!start || !size || !(t->diff_bufs = calloc((size_t)n, sizeof *t->diff_bufs))) {
    free(start);
    free(size);
    return sr_fail(err, SR_ERR_NOMEM, "cannot allocate the gradient buffer table");
  }
  diff_lifetimes(t, start, end);
  for (int s = -1; s <= n; s++)
    for (int p = 0; p < n; p++)
      if (node_root(t, p) == p && start[p] == s)
        buf[p] = take_buffer(size, until, busy, &nb, s, end[p], dnnl_memory_desc_get_size(&t->tn[p].md));
  sr_status st = SR_OK;
  t->n_diff_bufs = nb;
  for (int b = 0; b < nb && !st; b++) {
    t->diff_bytes += size[b];
    if (!(t->diff_bufs[b] = sr_alloc(size[b] ? size[b] : 64)))
      st = sr_fail(err, SR_ERR_NOMEM, "cannot allocate %zu bytes of gradient buffers", size[b]);
  }
  for (int p = 0; p < n && !st; p++)
    dnnl_memory_set_data_handle(t->tn[p].diff, t->diff_bufs[buf[node_root(t, p)]]);
  free(start);
  free(size);
  return st;
}

size_t sr_tape_diff_bytes(const sr_tape *t) { return t->diff_bytes; }

int sr_tape_conv_choice(const sr_tape *t, int node, sr_conv_choice *out) {
  if (node < 0 || node >= t->m->n_nodes || !t->tn[node].choice) return -1;
  if (out) *out = *t->tn[node].choice;
  return (int)t->tn[node].choice->algo;
}

int sr_tape_winograd_convs(const sr_tape *t) {
  int n = 0;
  for (int i = 0; i < t->m->n_nodes; i++) n += t->tn[i].wino != NULL;
  return n;
}

static int64_t input_floats(const sr_tape *t) {
  const sr_model_config *c = &t->m->cfg;
  return t->n * c->in_c * c->in_h * c->in_w;
}

// Shared buffers are sized once every primitive exists: one scratchpad, one gradient temp.
static sr_status bind_shared(sr_tape *t, sr_err *err) {
  sr_status st;
  if (!(t->tmp_buf = sr_alloc(t->tmp_size)))
    return sr_fail(err, SR_ERR_NOMEM, "cannot allocate tape buffers");
  if ((st = sr_dnn_bind_scratch(&t->dnn, err))) return st;
  if (t->wino_u_floats && (!(t->wino_u = sr_alloc(sizeof(float) * t->wino_u_floats)) ||
                           !(t->wino_work = sr_alloc(sizeof(float) * t->wino_work_floats))))
    return sr_fail(err, SR_ERR_NOMEM, "cannot allocate the Winograd weight buffers");
  for (int i = 0; i < t->m->n_nodes; i++)
    if (t->tn[i].wino) t->tn[i].wino[0].u = t->tn[i].wino[1].u = t->wino_u;
  if (t->m->precision == SR_PRECISION_BF16 && !(t->x_lp = sr_alloc(sizeof(float) * (size_t)input_floats(t))))
    return sr_fail(err, SR_ERR_NOMEM, "cannot allocate the bf16 input copy");
  if (t->m->bn_allreduce) {
    int cmax = 1;
    for (int i = 0; i < t->m->n_nodes; i++) cmax = t->m->nodes[i].c > cmax ? t->m->nodes[i].c : cmax;
    if (!(t->sync_buf = sr_alloc(sizeof(double) * (size_t)(2 * cmax + 1))))
      return sr_fail(err, SR_ERR_NOMEM, "cannot allocate the SyncBN buffer");
  }
  for (int i = 0; i < t->m->n_nodes; i++)
    if ((st = sr_mem_create(&t->dnn, &t->tn[i].dtmp, &t->tn[i].md, t->tmp_buf, err))) return st;
  return bind_diffs(t, err);
}

// bf16: which buffers hold bf16 values without rounding. Unfused ReLU, max-pool and flatten outputs are
// values of their (bf16) inputs, or 0. A gradient written by a single consumer of those kinds is the
// consumer's (rounded) output gradient copied, masked or, for max-pool windows that do not overlap,
// scattered. A BN or add fused with a ReLU writes the ReLU's output, not its own.
static int keeps_values(const sr_tape *t, int i) {
  const sr_node *nd = &t->m->nodes[i];
  return (nd->op == SR_OP_RELU && !t->tn[i].fused) || nd->op == SR_OP_FLATTEN ||
         (nd->op == SR_OP_MAXPOOL && nd->stride >= nd->k);
}

static void plan_rounding(sr_tape *t) {
  const sr_model *m = t->m;
  for (int i = 1; i < m->n_nodes; i++) {
    sr_op op = m->nodes[i].op;
    int fused_away = t->tn[i].fused && (op == SR_OP_BN || op == SR_OP_ADD);
    t->tn[i].round_out = !fused_away && !keeps_values(t, i);
  }
  for (int p = 0; p < m->n_nodes; p++) {
    int c = -1;
    for (int i = p + 1; i < m->n_nodes && t->consumers[p] == 1; i++)
      if (m->nodes[i].in[0] == p || m->nodes[i].in[1] == p) c = i;
    t->tn[p].round_diff = p == m->n_nodes - 1 || c < 0 || !keeps_values(t, c);
  }
}

static sr_status tape_build(sr_model *m, int64_t n, int groups, sr_tape **out, sr_err *err) {
  sr_tape *t = calloc(1, sizeof *t);
  if (!t) return sr_fail(err, SR_ERR_NOMEM, "cannot allocate tape");
  t->m = m;
  t->n = n;
  t->groups = groups;
  t->tn = calloc((size_t)m->n_nodes, sizeof *t->tn);
  t->consumers = calloc((size_t)m->n_nodes, sizeof *t->consumers);
  sr_status st = SR_OK;
  if (!t->tn || !t->consumers) st = sr_fail(err, SR_ERR_NOMEM, "cannot allocate tape nodes");
  for (int i = 1; !st && i < m->n_nodes; i++)
    for (int k = 0; k < 2; k++)
      if (m->nodes[i].in[k] >= 0) t->consumers[m->nodes[i].in[k]]++;
  for (int f = 0; !st && f < m->n_feat; f++) t->consumers[m->feat[f]]++;
  // BN -> ReLU and add -> ReLU pairs run as one primitive writing the ReLU's output (the BN's or add's own
  // output is never written: the ReLU's backward needs only its output, BN's its input)
  for (int i = 1; !st && i < m->n_nodes; i++) {
    int b = m->nodes[i].in[0];
    sr_op op = m->nodes[b].op;
    if (m->nodes[i].op == SR_OP_RELU && (op == SR_OP_BN || op == SR_OP_ADD) && t->consumers[b] == 1) {
      t->tn[b].fused = i;
      t->tn[i].fused = b;
    }
  }
  if (!st) st = sr_dnn_init(&t->dnn, m->engine, err);
  for (int i = 0; !st && i < m->n_nodes; i++) {
    st = sr_layer_ops_for(m->nodes[i].op)->tape.build(t, i, err);
    if (st)
      sr_err_context(err, "building %s node %d (%s)", sr_layer_ops_for(m->nodes[i].op)->name, i,
                     m->nodes[i].name);
  }
  if (!st) st = build_boundaries(t, err);
  if (!st) st = bind_shared(t, err);
  if (!st) plan_rounding(t);
  if (st) {
    tape_destroy(t);
    return st;
  }
  *out = t;
  return SR_OK;
}

sr_status sr_model_tape(sr_model *m, int64_t n, int slot, sr_tape **t, sr_err *err) {
  return sr_model_tape_groups(m, n, 1, slot, t, err);
}

sr_status sr_model_tape_groups(sr_model *m, int64_t n, int groups, int slot, sr_tape **t, sr_err *err) {
  if (!m->finalized) return sr_fail(err, SR_ERR_ARG, "model is not finalized");
  struct sr_exec_cache *c = m->exec;
  if (n < 1 || n > (1 << 20)) return sr_fail(err, SR_ERR_ARG, "batch size %lld out of range", (long long)n);
  if (groups < 1 || n % groups)
    return sr_fail(err, SR_ERR_ARG, "batch %lld is not %d equal BatchNorm groups", (long long)n, groups);
  if (groups > 1 && m->bn_allreduce)
    return sr_fail(err, SR_ERR_ARG, "per-group BatchNorm statistics (%d groups) with SyncBN", groups);
  int freei = -1;
  for (int i = 0; i < SR_MAX_TAPES; i++) {
    if (c->tapes[i] && c->tape_n[i] == n && c->tape_slot[i] == slot && c->tape_groups[i] == groups) {
      *t = c->tapes[i];
      return SR_OK;
    }
    if (!c->tapes[i] && freei < 0) freei = i;
  }
  if (freei < 0) {
    // Evict the oldest slot-0 tape. Tapes of other slots hold state a caller is using across calls (the
    // two halves of a pair batch), so they are never evicted.
    int v = 0;
    while (v < SR_MAX_TAPES && c->tape_slot[v] != 0) v++;
    if (v == SR_MAX_TAPES) return sr_fail(err, SR_ERR_ARG, "too many tapes in use (%d)", SR_MAX_TAPES);
    tape_destroy(c->tapes[v]);
    int tail = SR_MAX_TAPES - 1 - v;
    memmove(c->tapes + v, c->tapes + v + 1, sizeof(c->tapes[0]) * (size_t)tail);
    memmove(c->tape_n + v, c->tape_n + v + 1, sizeof(c->tape_n[0]) * (size_t)tail);
    memmove(c->tape_slot + v, c->tape_slot + v + 1, sizeof(c->tape_slot[0]) * (size_t)tail);
    memmove(c->tape_groups + v, c->tape_groups + v + 1, sizeof(c->tape_groups[0]) * (size_t)tail);
    freei = SR_MAX_TAPES - 1;
    c->tapes[freei] = NULL;
  }
  sr_status st = tape_build(m, n, groups, &c->tapes[freei], err);
  if (st) return st;
  c->tape_n[freei] = n;
  c->tape_slot[freei] = slot;
  c->tape_groups[freei] = groups;
  *t = c->tapes[freei];
  return SR_OK;
}

void sr_model_free_tapes(sr_model *m) {
  struct sr_exec_cache *c = m->exec;
  for (int i = 0; c && i < SR_MAX_TAPES; i++) {
    tape_destroy(c->tapes[i]);
    c->tapes[i] = NULL;
  }
}

int64_t sr_tape_batch(const sr_tape *t) { return t->n; }

int sr_tape_groups(const sr_tape *t) { return t->groups; }

sr_status sr_tape_forward(sr_tape *t, const float *x, int training, float *out, sr_err *err) {
  sr_model *m = t->m;
  int bf16 = m->precision == SR_PRECISION_BF16;
  t->training = training;
  if (bf16) {
    sr_bf16_round_copy(t->x_lp, x, input_floats(t));
    x = t->x_lp;
  }
  dnnl_memory_set_data_handle(t->tn[0].dst, (void *)x);
  for (int i = 1; i < m->n_nodes; i++) {
    sr_status st = sr_layer_ops_for(m->nodes[i].op)->tape.forward(t, i, err);
    if (st) return sr_err_context(err, "forward %s", m->nodes[i].name);
    if (bf16 && t->tn[i].round_out) sr_bf16_round_mem(t->tn[i].dst);
  }
  if (out) {
    dnnl_memory_set_data_handle(t->out_user, out);
    dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, t->tn[m->n_nodes - 1].dst}, {DNNL_ARG_TO, t->out_user}};
    sr_status st = sr_exec(&t->dnn, t->out_reorder, 2, a, err);
    if (st) return st;
  }
  for (int i = 0; i < m->n_nodes; i++) t->tn[i].diff_written = 0;
  DNNL_TRY(dnnl_stream_wait(t->dnn.e->stream), err);
  return SR_OK;
}

sr_status sr_tape_feature(sr_tape *t, int f, float *out, sr_err *err) {
  if (f < 0 || f >= t->m->n_feat) return sr_fail(err, SR_ERR_ARG, "feature index %d out of range", f);
  dnnl_memory_set_data_handle(t->feat_user[f], out);
  dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, t->tn[t->m->feat[f]].dst}, {DNNL_ARG_TO, t->feat_user[f]}};
  return sr_exec(&t->dnn, t->feat_reorder[f], 2, a, err);
}

sr_status sr_tape_feature_grad(sr_tape *t, int f, const float *g, sr_err *err) {
  if (f < 0 || f >= t->m->n_feat) return sr_fail(err, SR_ERR_ARG, "feature index %d out of range", f);
  sr_tnode *tn = &t->tn[t->m->feat[f]];
  dnnl_memory_set_data_handle(t->feat_user[f], (void *)g);
  dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, t->feat_user[f]}, {DNNL_ARG_TO, tn->diff}};
  sr_status st =
      sr_exec(&t->dnn, tn->diff_written ? t->featg_sum_reorder[f] : t->featg_reorder[f], 2, a, err);
  tn->diff_written = 1;
  return st;
}

static sr_status backward_pass(sr_tape *t, const float *dout, float *dx, int params, sr_err *err) {
  sr_model *m = t->m;
  int last = m->n_nodes - 1;
  sr_status st;
  t->want_dx = dx != NULL;
  t->want_params = params;
  if (dout) {
    if (t->tn[last].diff_written) return sr_fail(err, SR_ERR_ARG, "output gradient seeded twice");
    dnnl_memory_set_data_handle(t->out_user, (void *)dout);
    dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, t->out_user}, {DNNL_ARG_TO, t->tn[last].diff}};
    if ((st = sr_exec(&t->dnn, t->dout_reorder, 2, a, err))) return st;
    t->tn[last].diff_written = 1;
  }
  int bf16 = m->precision == SR_PRECISION_BF16;
  for (int i = last; i >= 1; i--) {
    // bf16: a node's gradient is complete (every consumer has added to it) when its own backward starts
    if (bf16 && t->tn[i].diff_written && t->tn[i].round_diff) sr_bf16_round_mem(t->tn[i].diff);
    if (t->tn[i].diff_written && (st = sr_layer_ops_for(m->nodes[i].op)->tape.backward(t, i, err)))
      return sr_err_context(err, "backward %s", m->nodes[i].name);
    if (params && m->grad_hook) m->grad_hook(m->grad_hook_ctx, i);  // node i's parameter gradients are ready
  }
  if (dx) {
    if (!t->tn[0].diff_written) {
      memset(dx, 0, (size_t)t->n * (size_t)(m->cfg.in_c * m->cfg.in_h * m->cfg.in_w) * sizeof(float));
    } else {
      if (bf16 && t->tn[0].round_diff) sr_bf16_round_mem(t->tn[0].diff);
      dnnl_memory_set_data_handle(t->dx_user, dx);
      dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, t->tn[0].diff}, {DNNL_ARG_TO, t->dx_user}};
      if ((st = sr_exec(&t->dnn, t->dx_reorder, 2, a, err))) return st;
    }
  }
  for (int i = 0; i < m->n_nodes; i++) t->tn[i].diff_written = 0;
  DNNL_TRY(dnnl_stream_wait(t->dnn.e->stream), err);
  return SR_OK;
}

sr_status sr_tape_backward(sr_tape *t, const float *dout, float *dx, sr_err *err) {
  return backward_pass(t, dout, dx, 1, err);
}

sr_status sr_tape_backward_input(sr_tape *t, const float *dout, float *dx, sr_err *err) {
  if (!dx) return sr_fail(err, SR_ERR_ARG, "input-gradient backward without an input-gradient buffer");
  return backward_pass(t, dout, dx, 0, err);
}

sr_status sr_model_forward(sr_model *m, const float *x, int64_t n, int training, float *out, sr_err *err) {
  sr_tape *t;
  sr_status st = sr_model_tape(m, n, 0, &t, err);
  return st ? st : sr_tape_forward(t, x, training, out, err);
}
