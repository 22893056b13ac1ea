// Building a model graph: nodes, parameter/state offsets, PyTorch-named tensors, initialisation.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "engine.h"

sr_status sr_model_init(sr_model *m, const sr_model_config *cfg, sr_err *err) {
  memset(m, 0, sizeof *m);
  m->cfg = *cfg;
  // Node sizes are ints (c*h*w of a flatten): bound the input so no product can overflow.
  if (cfg->in_c < 1 || cfg->in_h < 1 || cfg->in_w < 1 || cfg->classes < 1 || cfg->in_c > 4096 ||
      cfg->in_h > 16384 || cfg->in_w > 16384 ||
      (int64_t)cfg->in_c * cfg->in_h * cfg->in_w > ((int64_t)1 << 28) || cfg->classes > (1 << 20))
    return sr_fail(err, SR_ERR_ARG,
                   "model input %dx%dx%d with %d classes is invalid (at most 4096 channels, "
                   "16384 pixels a side, 2^28 values, 2^20 classes)",
                   cfg->in_c, cfg->in_h, cfg->in_w, cfg->classes);
  sr_engine *e = calloc(1, sizeof *e);
  if (!e) return sr_fail(err, SR_ERR_NOMEM, "cannot allocate engine");
  m->engine = e;
  if (!(m->exec = calloc(1, sizeof *m->exec)))
    return sr_fail(err, SR_ERR_NOMEM, "cannot allocate the executor cache");
  m->exec->winograd = sr_wino_native();
  DNNL_TRY(dnnl_engine_create(&e->eng, dnnl_cpu, 0), err);
  DNNL_TRY(dnnl_stream_create(&e->stream, e->eng, dnnl_stream_default_flags), err);
  sr_node in = {.op = SR_OP_INPUT,
                .in = {-1, -1},
                .c = cfg->in_c,
                .h = cfg->in_h,
                .w = cfg->in_w,
                .p_w = -1,
                .p_b = -1,
                .s_mean = -1,
                .s_var = -1};
  snprintf(in.name, sizeof in.name, "input");
  m->nodes = calloc(64, sizeof *m->nodes);
  if (!m->nodes) return sr_fail(err, SR_ERR_NOMEM, "cannot allocate nodes");
  m->cap_nodes = 64;
  m->nodes[0] = in;
  m->n_nodes = 1;
  return SR_OK;
}

static int add_tensor(sr_model *m, const char *mod, const char *leaf, int where, int64_t off, int ndim,
                      const int64_t *shape) {
  sr_tensor_info *ti = realloc(m->tensors, sizeof *ti * (size_t)(m->n_tensors + 1));
  if (!ti) return m->graph_oom = 1, -1;
  m->tensors = ti;
  ti = &m->tensors[m->n_tensors++];
  memset(ti, 0, sizeof *ti);
  snprintf(ti->name, sizeof ti->name, "%s.%s", mod, leaf);
  ti->where = where;
  ti->offset = off;
  ti->ndim = ndim;
  ti->count = 1;
  for (int d = 0; d < ndim; d++) {
    ti->shape[d] = shape[d];
    ti->count *= shape[d];
  }
  return 0;
}

static int64_t take_params(sr_model *m, int64_t n) {
  int64_t off = m->n_params;
  m->n_params += n;
  return off;
}

// Append a node whose input is `in`; returns its index or -1.
static int push(sr_model *m, sr_op op, int in, int c, int h, int w, const char *name) {
  if (in < 0 || in >= m->n_nodes || c < 1 || h < 1 || w < 1 || m->finalized) return -1;
  if (m->n_nodes == m->cap_nodes) {
    sr_node *nn = realloc(m->nodes, sizeof *nn * (size_t)m->cap_nodes * 2);
    if (!nn) return m->graph_oom = 1, -1;
    m->nodes = nn;
    m->cap_nodes *= 2;
  }
  sr_node *nd = &m->nodes[m->n_nodes];
  const sr_node *p = &m->nodes[in];
  memset(nd, 0, sizeof *nd);
  *nd = (sr_node){.op = op,
                  .in = {in, -1},
                  .c = c,
                  .h = h,
                  .w = w,
                  .ic = p->c,
                  .ih = p->h,
                  .iw = p->w,
                  .p_w = -1,
                  .p_b = -1,
                  .s_mean = -1,
                  .s_var = -1};
  snprintf(nd->name, sizeof nd->name, "%s", name ? name : "");
  return m->n_nodes++;
}

int sr_graph_conv(sr_model *m, int in, const sr_conv_spec *s, const char *name) {
  const int pad = s->pad;
  sr_conv_geom g = {.k = s->k, .stride = s->stride, .dil = 1, .groups = 1, .pads = {pad, pad, pad, pad}};
  return sr_graph_conv_geom(m, in, s->out_c, &g, s->bias, name);
}

// Output size of one dimension: floor((n + pad_begin + pad_end - dilated kernel) / stride) + 1.
static int conv_out(int n, const sr_conv_geom *g, int begin, int end) {
  int64_t span = (int64_t)g->dil * (g->k - 1) + 1, in = (int64_t)n + begin + end;
  return in < span ? -1 : (int)((in - span) / g->stride + 1);
}

int sr_graph_conv_geom(sr_model *m, int in, int out_c, const sr_conv_geom *g, int bias, const char *name) {
  if (in < 0 || in >= m->n_nodes || g->k < 1 || g->stride < 1 || g->dil < 1 || g->groups < 1) return -1;
  int64_t span = (int64_t)g->dil * (g->k - 1) + 1;
  for (int s = 0; s < 4; s++)
    if (g->pads[s] < 0 || g->pads[s] >= span) return -1;
  const sr_node *p = &m->nodes[in];
  if (p->op == SR_OP_LINEAR || p->op == SR_OP_FLATTEN || p->c % g->groups || out_c % g->groups) return -1;
  int oh = conv_out(p->h, g, g->pads[0], g->pads[2]), ow = conv_out(p->w, g, g->pads[1], g->pads[3]);
  if (oh < 1 || ow < 1) return -1;
  int icg = p->c / g->groups;
  int i = push(m, SR_OP_CONV, in, out_c, oh, ow, name);
  if (i < 0) return -1;
  sr_node *nd = &m->nodes[i];
  nd->k = g->k;
  nd->stride = g->stride;
  nd->pad = g->pads[0];
  nd->groups = g->groups;
  nd->dil = g->dil;
  memcpy(nd->pads, g->pads, sizeof nd->pads);
  nd->bias = bias;
  int64_t ws[4] = {out_c, icg, g->k, g->k}, bs[1] = {out_c};
  nd->p_w = take_params(m, (int64_t)out_c * icg * g->k * g->k);
  if (add_tensor(m, name, "weight", 0, nd->p_w, 4, ws)) return -1;
  if (bias) {
    nd->p_b = take_params(m, out_c);
    if (add_tensor(m, name, "bias", 0, nd->p_b, 1, bs)) return -1;
  }
  return i;
}

int sr_graph_bn(sr_model *m, int in, const char *name) {
  if (in < 0 || in >= m->n_nodes) return -1;
  const sr_node *p = &m->nodes[in];
  if (p->op == SR_OP_LINEAR || p->op == SR_OP_FLATTEN) return -1;
  int i = push(m, SR_OP_BN, in, p->c, p->h, p->w, name);
  if (i < 0) return -1;
  sr_node *nd = &m->nodes[i];
  int64_t cs[1] = {nd->c}, none[1] = {0};
  nd->eps = 1e-5;
  nd->momentum = 0.1;
  nd->p_w = take_params(m, nd->c);
  nd->p_b = take_params(m, nd->c);
  nd->s_mean = m->n_state;
  nd->s_var = m->n_state + nd->c;
  m->n_state += 2 * (int64_t)nd->c;
  nd->bn_index = m->n_bn++;
  if (add_tensor(m, name, "weight", 0, nd->p_w, 1, cs) || add_tensor(m, name, "bias", 0, nd->p_b, 1, cs) ||
      add_tensor(m, name, "running_mean", 1, nd->s_mean, 1, cs) ||
      add_tensor(m, name, "running_var", 1, nd->s_var, 1, cs) ||
      add_tensor(m, name, "num_batches_tracked", 2, nd->bn_index, 0, none))
    return -1;
  return i;
}

int sr_graph_relu(sr_model *m, int in) {
  if (in < 0 || in >= m->n_nodes) return -1;
  const sr_node *p = &m->nodes[in];
  return push(m, SR_OP_RELU, in, p->c, p->h, p->w, "relu");
}

static int pool(sr_model *m, sr_op op, int in, int k, int stride, int pad) {
  if (in < 0 || in >= m->n_nodes || k < 1 || stride < 1 || pad < 0 || 2 * pad > k) return -1;
  const sr_node *p = &m->nodes[in];
  if (p->op == SR_OP_LINEAR || p->op == SR_OP_FLATTEN) return -1;
  int i = push(m, op, in, p->c, sr_out_size(p->h, k, stride, pad), sr_out_size(p->w, k, stride, pad),
               op == SR_OP_MAXPOOL ? "maxpool" : "avgpool");
  if (i >= 0) {
    m->nodes[i].k = k;
    m->nodes[i].stride = stride;
    m->nodes[i].pad = pad;
  }
  return i;
}

int sr_graph_maxpool(sr_model *m, int in, int k, int stride, int pad) {
  return pool(m, SR_OP_MAXPOOL, in, k, stride, pad);
}
int sr_graph_avgpool(sr_model *m, int in, int k, int stride, int pad) {
  return pool(m, SR_OP_AVGPOOL, in, k, stride, pad);
}

int sr_graph_gap(sr_model *m, int in) {
  if (in < 0 || in >= m->n_nodes) return -1;
  const sr_node *p = &m->nodes[in];
  if (p->op == SR_OP_LINEAR || p->op == SR_OP_FLATTEN) return -1;
  return push(m, SR_OP_GAP, in, p->c, 1, 1, "avgpool");
}

int sr_graph_flatten(sr_model *m, int in) {
  if (in < 0 || in >= m->n_nodes) return -1;
  const sr_node *p = &m->nodes[in];
  return push(m, SR_OP_FLATTEN, in, p->c * p->h * p->w, 1, 1, "flatten");
}

int sr_graph_linear(sr_model *m, int in, int out, int bias, const char *name) {
  if (in < 0 || in >= m->n_nodes) return -1;
  const sr_node *p = &m->nodes[in];
  int64_t fan_in = (int64_t)p->c * p->h * p->w;
  int i = push(m, SR_OP_LINEAR, in, out, 1, 1, name);
  if (i < 0) return -1;
  sr_node *nd = &m->nodes[i];
  nd->bias = bias;
  int64_t ws[2] = {out, fan_in}, bs[1] = {out};
  nd->p_w = take_params(m, out * fan_in);
  if (add_tensor(m, name, "weight", 0, nd->p_w, 2, ws)) return -1;
  if (bias) {
    nd->p_b = take_params(m, out);
    if (add_tensor(m, name, "bias", 0, nd->p_b, 1, bs)) return -1;
  }
  return i;
}

int sr_graph_add(sr_model *m, int a, int b) {
  if (a < 0 || b < 0 || a >= m->n_nodes || b >= m->n_nodes) return -1;
  const sr_node *pa = &m->nodes[a], *pb = &m->nodes[b];
  if (pa->c != pb->c || pa->h != pb->h || pa->w != pb->w) return -1;
  int i = push(m, SR_OP_ADD, a, pa->c, pa->h, pa->w, "add");
  if (i >= 0) m->nodes[i].in[1] = b;
  return i;
}

int sr_graph_affine(sr_model *m, int in, const char *name) {
  if (in < 0 || in >= m->n_nodes) return -1;
  const sr_node *p = &m->nodes[in];
  int i = push(m, SR_OP_AFFINE, in, p->c, p->h, p->w, name);
  if (i < 0) return -1;
  sr_node *nd = &m->nodes[i];
  int64_t cs[1] = {nd->c};
  nd->s_mean = m->n_state;         // scale
  nd->s_var = m->n_state + nd->c;  // shift
  m->n_state += 2 * (int64_t)nd->c;
  if (add_tensor(m, name, "scale", 1, nd->s_mean, 1, cs) || add_tensor(m, name, "shift", 1, nd->s_var, 1, cs))
    return -1;
  return i;
}

int sr_graph_act(sr_model *m, int in, sr_act act, double alpha, double beta) {
  if (in < 0 || in >= m->n_nodes || (unsigned)act > SR_ACT_TANH) return -1;
  if (act == SR_ACT_CLIP && !(alpha <= beta)) return -1;
  const sr_node *p = &m->nodes[in];
  static const char *names[] = {"leaky_relu", "clip", "sigmoid", "tanh"};
  int i = push(m, SR_OP_ACT, in, p->c, p->h, p->w, names[act]);
  if (i < 0) return -1;
  m->nodes[i].act = act;
  m->nodes[i].alpha = alpha;
  m->nodes[i].beta = beta;
  return i;
}

int sr_graph_concat(sr_model *m, int a, int b) {
  if (a < 0 || b < 0 || a >= m->n_nodes || b >= m->n_nodes) return -1;
  const sr_node *pa = &m->nodes[a], *pb = &m->nodes[b];
  if (pa->h != pb->h || pa->w != pb->w || pa->op == SR_OP_LINEAR || pa->op == SR_OP_FLATTEN ||
      pb->op == SR_OP_LINEAR || pb->op == SR_OP_FLATTEN || (int64_t)pa->c + pb->c > 65536)
    return -1;
  int i = push(m, SR_OP_CONCAT, a, pa->c + pb->c, pa->h, pa->w, "concat");
  if (i >= 0) m->nodes[i].in[1] = b;
  return i;
}

sr_status sr_model_add_feature(sr_model *m, int node, const char *name, sr_err *err) {
  if (m->n_feat == SR_MAX_FEATURES) return sr_fail(err, SR_ERR_ARG, "too many feature layers");
  if (node < 0 || node >= m->n_nodes) return sr_fail(err, SR_ERR_ARG, "feature node %d does not exist", node);
  m->feat[m->n_feat] = node;
  snprintf(m->feat_name[m->n_feat], sizeof m->feat_name[0], "%s", name);
  m->n_feat++;
  return SR_OK;
}

// PyTorch's default init: kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fan_in)) for weights, same bound for
// biases.
static void init_uniform(float *p, int64_t n, double bound, sr_rng *rng) {
  for (int64_t i = 0; i < n; i++) p[i] = (float)((2.0 * sr_rng_uniform(rng) - 1.0) * bound);
}

sr_status sr_model_finalize(sr_model *m, sr_rng *rng, sr_err *err) {
  for (int i = 1; i < m->n_nodes; i++)
    if (m->nodes[i].in[0] < 0) return sr_fail(err, SR_ERR_SHAPE, "graph node %d has no input", i);
  if (!m->tensors && m->n_params) return sr_fail(err, SR_ERR_NOMEM, "graph construction failed");
  m->params = sr_calloc((size_t)m->n_params + 1, sizeof(float));
  m->grads = sr_calloc((size_t)m->n_params + 1, sizeof(float));
  m->state = sr_calloc((size_t)m->n_state + 1, sizeof(float));
  m->bn_tracked = sr_calloc((size_t)m->n_bn + 1, sizeof(int64_t));
  if (!m->params || !m->grads || !m->state || !m->bn_tracked)
    return sr_fail(err, SR_ERR_NOMEM, "cannot allocate %lld parameters", (long long)m->n_params);
  for (int i = 1; i < m->n_nodes; i++) {
    sr_node *nd = &m->nodes[i];
    if (nd->op == SR_OP_CONV || nd->op == SR_OP_LINEAR) {
      int64_t fan_in = nd->op == SR_OP_CONV ? (int64_t)(nd->ic / sr_conv_groups(nd)) * nd->k * nd->k
                                            : (int64_t)nd->ic * nd->ih * nd->iw;
      double bound = 1.0 / sqrt((double)fan_in);
      init_uniform(m->params + nd->p_w, (int64_t)nd->c * fan_in, bound, rng);
      if (nd->bias) init_uniform(m->params + nd->p_b, nd->c, bound, rng);
    } else if (nd->op == SR_OP_AFFINE) {
      for (int c = 0; c < nd->c; c++) m->state[nd->s_mean + c] = 1.0f;
    } else if (nd->op == SR_OP_BN) {
      for (int c = 0; c < nd->c; c++) {
        m->params[nd->p_w + c] = 1.0f;
        m->state[nd->s_var + c] = 1.0f;
      }
    }
  }
  m->finalized = 1;
  m->params_version = 1;
  return SR_OK;
}

void sr_model_free(sr_model *m) {
  if (!m) return;
  sr_model_free_tapes(m);
  sr_model_free_infers(m);
  sr_model_free_wino_cache(m);
  sr_model_free_conv_choices(m);
  free(m->exec);
  sr_engine *e = m->engine;
  if (e) {
    if (e->stream) dnnl_stream_destroy(e->stream);
    if (e->eng) dnnl_engine_destroy(e->eng);
    free(e);
  }
  free(m->nodes);
  free(m->tensors);
  sr_free(m->params);
  sr_free(m->grads);
  sr_free(m->state);
  sr_free(m->bn_tracked);
  memset(m, 0, sizeof *m);
}

// Precision (kernels/precision.c rounds) is a property of the model its executors are built for.
sr_status sr_model_set_precision(sr_model *m, sr_precision p, sr_err *err) {
  if (!m->finalized) return sr_fail(err, SR_ERR_ARG, "model is not finalized");
  if (p != SR_PRECISION_F32 && p != SR_PRECISION_BF16)
    return sr_fail(err, SR_ERR_ARG, "unknown precision %d", (int)p);
  if (p == m->precision) return SR_OK;
  // tapes and plans bind weight pointers and input copies for one precision when they are built
  sr_model_free_tapes(m);
  sr_model_free_infers(m);
  sr_model_free_wino_cache(m);
  m->precision = p;
  return SR_OK;
}

void sr_model_zero_grad(sr_model *m) { memset(m->grads, 0, sizeof(float) * (size_t)m->n_params); }

int64_t sr_model_out_size(const sr_model *m) {
  const sr_node *nd = &m->nodes[m->n_nodes - 1];
  return (int64_t)nd->c * nd->h * nd->w;
}

int64_t sr_model_feature_size(const sr_model *m, int f) {
  const sr_node *nd = &m->nodes[m->feat[f]];
  return (int64_t)nd->c * nd->h * nd->w;
}

int64_t sr_model_flops(const sr_model *m) {
  int64_t f = 0;
  for (int i = 1; i < m->n_nodes; i++) {
    const sr_layer_ops *ops = sr_layer_ops_for(m->nodes[i].op);
    if (ops->flops) f += ops->flops(&m->nodes[i], &m->nodes[m->nodes[i].in[0]]);
  }
  return f;
}
