// ONNX import: a ModelProto (parsed by protobuf-c) becomes an sr_model. Nodes are mapped one by one onto
// the model's ops; initializer-only subgraphs are folded (fold.c); the initializers' values are copied into
// the model's params and state after finalize (the fill list, which export.c reuses to write them back).
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *k_ops =
    "Conv (groups, dilation, pads, auto_pad), BatchNormalization, Relu, LeakyRelu, Clip, Sigmoid, Tanh, "
    "MaxPool, AveragePool, "
    "GlobalAveragePool, "
    "Add, Sub, Mul, Div (by constants; Add also of two tensors), Gemm, MatMul, Flatten, Reshape (to (N, "
    "-1)), "
    "Identity, Dropout, Pad (zero pads), Concat (channels), Softmax (last node: scores), Constant; folded "
    "when all "
    "inputs are constant: "
    "Cast, Reshape, Unsqueeze, Squeeze, Sqrt, Neg";

const char *sr_onnx_supported_ops(void) { return k_ops; }

void sr_onnx_free(sr_oimp *im) {
  if (!im) return;
  if (im->mp) onnx__model_proto__free_unpacked(im->mp, NULL);
  for (int i = 0; i < im->n_consts; i++) free(im->consts[i].v);
  for (int i = 0; i < im->n_vals; i++) free(im->vals[i].name);
  free(im->consts);
  free(im->vals);
  free(im->fills);
  memset(im, 0, sizeof *im);
}

sr_status sr_onnx_parse(sr_oimp *im, const void *buf, size_t n, sr_err *err) {
  im->mp = onnx__model_proto__unpack(NULL, n, buf);
  if (!im->mp)
    return sr_fail(err, SR_ERR_FORMAT,
                   "%s: not an ONNX model (protobuf parsing failed: truncated or another format)", im->path);
  const Onnx__ModelProto *mp = im->mp;
  if (!mp->graph || !mp->has_ir_version || mp->ir_version < 3 || mp->ir_version > 100)
    return sr_fail(err, SR_ERR_FORMAT, "%s: not an ONNX model (no graph or no IR version)", im->path);
  im->opset = -1;
  for (size_t k = 0; k < mp->n_opset_import; k++) {
    const Onnx__OperatorSetIdProto *o = mp->opset_import[k];
    if (!o->domain || !o->domain[0] || !strcmp(o->domain, "ai.onnx"))
      im->opset = o->has_version ? o->version : -1;
  }
  if (im->opset < 9 || im->opset > 17)
    return sr_fail(err, SR_ERR_FORMAT,
                   "%s: opset %lld of the default domain is not supported (supported: 9 to 17)", im->path,
                   (long long)im->opset);
  return SR_OK;
}

// ---- helpers ----
typedef struct ctx {
  sr_oimp *im;
  sr_model *m;
  const Onnx__NodeProto *nd;
  int first_new;  // model nodes from this index on were made for nd (named after it)
  sr_err *err;
} ctx;

static sr_status unsupported(ctx *c, const char *why) {
  const Onnx__NodeProto *nd = c->nd;
  return sr_fail(c->err, SR_ERR_FORMAT, "%s: node '%s' (op %s, opset %lld): %s. Supported: %s", c->im->path,
                 nd->name ? nd->name : "?", nd->op_type, (long long)c->im->opset, why, k_ops);
}

static sr_status bad_shape(ctx *c, const char *why) {
  const Onnx__NodeProto *nd = c->nd;
  return sr_fail(c->err, SR_ERR_SHAPE, "%s: node '%s' (%s): %s", c->im->path, nd->name ? nd->name : "?",
                 nd->op_type, why);
}

// The model node producing input k (-1 with an error when it is a constant or unknown).
static int in_node(ctx *c, size_t k) {
  if (k >= c->nd->n_input || !c->nd->input[k][0]) return -1;
  int v = sr_oval_find(c->im, c->nd->input[k]);
  return v >= 0 ? c->im->vals[v].node : -1;
}

static int in_const_idx(ctx *c, size_t k) {
  if (k >= c->nd->n_input || !c->nd->input[k][0]) return -1;
  int v = sr_oval_find(c->im, c->nd->input[k]);
  return v >= 0 ? c->im->vals[v].cst : -1;
}

static sr_status set_out(ctx *c, int node) {
  if (node < 0) {
    if (c->m->graph_oom)
      return sr_fail(c->err, SR_ERR_NOMEM, "%s: out of memory building the graph", c->im->path);
    return bad_shape(c, "its input shape does not fit");
  }
  if (c->nd->n_output < 1) return bad_shape(c, "no output");
  sr_node *n = &c->m->nodes[node];
  if (c->nd->name && c->nd->name[0] && node >= c->first_new)
    snprintf(n->name, sizeof n->name, "%s", c->nd->name);
  return sr_oval_set(c->im, c->nd->output[0], node, -1, c->err);
}

// Record that constant spec->cst fills spec->count values at (where, offset) of the model (spec->name
// unused), named by tensor ti (renamed to the initializer's name, which the safetensors file and export use).
static sr_status fill(ctx *c, const sr_ofill *spec, int ti) {
  const int cst = spec->cst, transpose = spec->transpose;
  const int64_t count = spec->count;
  const double scale = spec->scale;
  sr_oimp *im = c->im;
  sr_oconst *k = &im->consts[cst];
  if (k->n != count) return bad_shape(c, "a weight tensor's size does not fit the layer");
  if (k->init && k->used)
    return unsupported(c, "an initializer used as weights by two nodes (shared weights)");
  k->used = 1;
  if (im->n_fills == im->cap_fills) {
    int cap = im->cap_fills ? 2 * im->cap_fills : 64;
    sr_ofill *f = realloc(im->fills, sizeof *f * (size_t)cap);
    if (!f) return sr_fail(c->err, SR_ERR_NOMEM, "%s: out of memory", im->path);
    im->fills = f;
    im->cap_fills = cap;
  }
  sr_ofill *f = &im->fills[im->n_fills++];
  *f = (sr_ofill){.where = spec->where,
                  .offset = spec->offset,
                  .count = count,
                  .cst = cst,
                  .rows = spec->rows,
                  .cols = spec->cols,
                  .transpose = transpose,
                  .scale = scale};
  // the initializer's own name, when the constant is one unchanged
  for (int v = 0; k->init && transpose == 0 && scale == 1.0 && v < im->n_vals; v++)
    if (im->vals[v].cst == cst) {
      if (strlen(im->vals[v].name) >= sizeof f->name)
        return unsupported(c, "an initializer name longer than 63 characters");
      snprintf(f->name, sizeof f->name, "%s", im->vals[v].name);
      break;
    }
  if (f->name[0] && ti >= 0) snprintf(c->m->tensors[ti].name, sizeof c->m->tensors[ti].name, "%s", f->name);
  return SR_OK;
}

// Square kernel, equal strides, equal pads on all sides, no dilation: what the model's conv/pool take.
static sr_status window(ctx *c, int64_t kdef, int *k, int *stride, int *pad) {
  const Onnx__AttributeProto *ks = sr_oattr(c->nd, "kernel_shape"), *st = sr_oattr(c->nd, "strides"),
                             *pd = sr_oattr(c->nd, "pads"), *dl = sr_oattr(c->nd, "dilations");
  const Onnx__AttributeProto *ap = sr_oattr(c->nd, "auto_pad");
  if (ap && ap->has_s && ap->s.len && !(ap->s.len == 6 && !memcmp(ap->s.data, "NOTSET", 6)) &&
      !(ap->s.len == 5 && !memcmp(ap->s.data, "VALID", 5)))
    return unsupported(c, "auto_pad SAME_UPPER/SAME_LOWER (export with explicit pads)");
  int64_t kk = kdef;
  if (ks) {
    if (ks->n_ints != 2 || ks->ints[0] != ks->ints[1])
      return unsupported(c, "a non-square or non-2-D kernel");
    kk = ks->ints[0];
  }
  int64_t s = 1, p = 0;
  if (st) {
    if (st->n_ints != 2 || st->ints[0] != st->ints[1]) return unsupported(c, "unequal strides");
    s = st->ints[0];
  }
  if (pd) {
    if (pd->n_ints != 4) return unsupported(c, "pads not of a 2-D window");
    for (int j = 1; j < 4; j++)
      if (pd->ints[j] != pd->ints[0]) return unsupported(c, "asymmetric padding");
    p = pd->ints[0];
  }
  if (dl)
    for (size_t j = 0; j < dl->n_ints; j++)
      if (dl->ints[j] != 1) return unsupported(c, "dilation other than 1");
  if (kk < 1 || kk > 1024 || s < 1 || s > 1024 || p < 0 || p > 1024)
    return bad_shape(c, "absurd kernel, stride or pad");
  *k = (int)kk;
  *stride = (int)s;
  *pad = (int)p;
  return SR_OK;
}

static int is_spatial(const sr_node *n) { return n->op != SR_OP_LINEAR && n->op != SR_OP_FLATTEN; }

// A (C, 1, 1) output is already flat for the ops that follow a Flatten (linear, affine, the logits), as in
// the built-in models (GAP -> linear): no flatten node, no reorder step.
static int needs_flatten(const sr_node *n) { return is_spatial(n) && (n->h != 1 || n->w != 1); }

// ---- operators ----
static int attr_is(const Onnx__AttributeProto *a, const char *v) {
  return a && a->has_s && a->s.len == strlen(v) && !memcmp(a->s.data, v, a->s.len);
}

// SAME_UPPER / SAME_LOWER: the output is ceil(n / stride); the odd pixel of padding goes to the end (UPPER)
// or the beginning (LOWER).
static void same_pads(int n, const sr_conv_geom *g, int lower, int *begin, int *end) {
  int64_t out = ((int64_t)n + g->stride - 1) / g->stride;
  int64_t total = (out - 1) * g->stride + (int64_t)g->dil * (g->k - 1) + 1 - n;
  if (total < 0) total = 0;
  *begin = (int)(lower ? total - total / 2 : total / 2);
  *end = (int)(total - *begin);
}

// Conv's geometry: a square kernel, equal strides and dilations, pads [top, left, bottom, right] as given or
// from auto_pad.
static sr_status conv_geom(ctx *c, int64_t kdef, const sr_node *in, sr_conv_geom *g) {
  const Onnx__AttributeProto *ks = sr_oattr(c->nd, "kernel_shape"), *st = sr_oattr(c->nd, "strides"),
                             *pd = sr_oattr(c->nd, "pads"), *dl = sr_oattr(c->nd, "dilations");
  const Onnx__AttributeProto *ap = sr_oattr(c->nd, "auto_pad");
  int64_t k = kdef, s = 1, d = 1, p[4] = {0, 0, 0, 0};
  if (ks && (ks->n_ints != 2 || ks->ints[0] != ks->ints[1]))
    return unsupported(c, "a non-square or non-2-D kernel");
  if (ks) k = ks->ints[0];
  if (st && (st->n_ints != 2 || st->ints[0] != st->ints[1])) return unsupported(c, "unequal strides");
  if (st) s = st->ints[0];
  if (dl && (dl->n_ints != 2 || dl->ints[0] != dl->ints[1])) return unsupported(c, "unequal dilations");
  if (dl) d = dl->ints[0];
  if (pd && pd->n_ints != 4) return unsupported(c, "pads not of a 2-D window");
  for (int j = 0; pd && j < 4; j++) p[j] = pd->ints[j];
  if (k < 1 || k > 1024 || s < 1 || s > 1024 || d < 1 || d > 1024)
    return bad_shape(c, "absurd kernel, stride or dilation");
  for (int j = 0; j < 4; j++)
    if (p[j] < 0 || p[j] > 1024) return bad_shape(c, "absurd pads");
  *g = (sr_conv_geom){.k = (int)k, .stride = (int)s, .dil = (int)d, .groups = 1};
  for (int j = 0; j < 4; j++) g->pads[j] = (int)p[j];
  int upper = attr_is(ap, "SAME_UPPER"), lower = attr_is(ap, "SAME_LOWER");
  if (ap && ap->has_s && ap->s.len && !attr_is(ap, "NOTSET") && !attr_is(ap, "VALID") && !upper && !lower)
    return unsupported(c, "an unknown auto_pad");
  if (attr_is(ap, "VALID")) memset(g->pads, 0, sizeof g->pads);
  if (upper || lower) {
    same_pads(in->h, g, lower, &g->pads[0], &g->pads[2]);
    same_pads(in->w, g, lower, &g->pads[1], &g->pads[3]);
  }
  return SR_OK;
}

static sr_status op_conv(ctx *c) {
  int x = in_node(c, 0), w = in_const_idx(c, 1), b = in_const_idx(c, 2);
  if (x < 0 || w < 0) return unsupported(c, "the input must be a tensor and the weights an initializer");
  if (c->nd->n_input > 2 && c->nd->input[2][0] && b < 0)
    return unsupported(c, "a bias that is not an initializer");
  const sr_oconst *W = &c->im->consts[w];
  if (W->ndim != 4) return bad_shape(c, "weights are not 4-D");
  sr_node *in = &c->m->nodes[x];
  if (!is_spatial(in)) return bad_shape(c, "input is not an image tensor");
  sr_conv_geom g;
  sr_status e = conv_geom(c, W->dims[2], in, &g);
  if (e) return e;
  int64_t groups = sr_oattr_int(c->nd, "group", 1);
  if (groups < 1 || groups > in->c || in->c % groups || W->dims[0] % groups)
    return bad_shape(c, "group does not divide the input and output channels");
  g.groups = (int)groups;
  int k = g.k;
  if (W->dims[1] != in->c / groups || W->dims[2] != k || W->dims[3] != k || W->dims[0] < 1 ||
      W->dims[0] > 65536)
    return bad_shape(c, "weights do not fit the input channels or the kernel");
  for (int j = 0; j < 4; j++)
    if (g.pads[j] >= g.dil * (k - 1) + 1) return unsupported(c, "padding as large as the (dilated) kernel");
  int o = (int)W->dims[0];
  int i = sr_graph_conv_geom(c->m, x, o, &g, b >= 0, c->nd->name);
  if (i < 0) return set_out(c, i);
  sr_node *nd = &c->m->nodes[i];
  int ti = c->m->n_tensors - (b >= 0 ? 2 : 1);
  if ((e = fill(c,
                &(sr_ofill){.where = 0,
                            .offset = nd->p_w,
                            .count = (int64_t)o * (in->c / groups) * k * k,
                            .cst = w,
                            .scale = 1.0},
                ti)))
    return e;
  if (b >= 0 &&
      (e = fill(c, &(sr_ofill){.where = 0, .offset = nd->p_b, .count = o, .cst = b, .scale = 1.0}, ti + 1)))
    return e;
  return set_out(c, i);
}

static sr_status op_bn(ctx *c) {
  int x = in_node(c, 0);
  int cs[4];
  for (int k = 0; k < 4; k++) cs[k] = in_const_idx(c, (size_t)k + 1);
  if (x < 0 || cs[0] < 0 || cs[1] < 0 || cs[2] < 0 || cs[3] < 0)
    return unsupported(c, "scale, bias, mean and variance must be initializers");
  if (sr_oattr_int(c->nd, "training_mode", 0) != 0 || c->nd->n_output > 1)
    return unsupported(c, "training mode (export the model in eval mode)");
  if (!is_spatial(&c->m->nodes[x])) return unsupported(c, "BatchNorm of a flat (N, C) tensor");
  int i = sr_graph_bn(c->m, x, c->nd->name);
  if (i < 0) return set_out(c, i);
  sr_node *nd = &c->m->nodes[i];
  nd->eps = sr_oattr_float(c->nd, "epsilon", 1e-5);
  nd->momentum = 1.0 - sr_oattr_float(c->nd, "momentum", 0.9);  // ONNX keeps the old running value's share
  int ti = c->m->n_tensors - 5;
  int64_t off[4] = {nd->p_w, nd->p_b, nd->s_mean, nd->s_var};
  sr_status e = SR_OK;
  for (int k = 0; k < 4 && !e; k++)
    e = fill(
        c, &(sr_ofill){.where = k < 2 ? 0 : 1, .offset = off[k], .count = nd->c, .cst = cs[k], .scale = 1.0},
        ti + k);
  if (!e && c->nd->name && c->nd->name[0])
    snprintf(c->m->tensors[ti + 4].name, sizeof c->m->tensors[0].name, "%.40s.num_batches_tracked",
             c->nd->name);
  return e ? e : set_out(c, i);
}

static sr_status op_pool(ctx *c, int max) {
  int x = in_node(c, 0);
  if (x < 0) return unsupported(c, "a constant input");
  if (c->nd->n_output > 1) return unsupported(c, "MaxPool's indices output");
  if (sr_oattr_int(c->nd, "ceil_mode", 0)) return unsupported(c, "ceil_mode 1");
  if (sr_oattr_int(c->nd, "storage_order", 0)) return unsupported(c, "storage_order 1");
  int k = 0, s = 1, p = 0;  // set by window() on success (gcc cannot tell once it is not inlined)
  sr_status e = window(c, 0, &k, &s, &p);
  if (e) return e;
  if (!sr_oattr(c->nd, "kernel_shape")) return bad_shape(c, "no kernel_shape");
  if (!max && p > 0 && !sr_oattr_int(c->nd, "count_include_pad", 0))
    return unsupported(c, "padded average pooling without count_include_pad");
  if (!is_spatial(&c->m->nodes[x])) return bad_shape(c, "input is not an image tensor");
  return set_out(c, max ? sr_graph_maxpool(c->m, x, k, s, p) : sr_graph_avgpool(c->m, x, k, s, p));
}

// Per-channel vector of a constant that broadcasts against node x's (N, C, H, W) or (N, C) output.
static sr_status channel_vector(ctx *c, int cst, int x, double *v) {
  const sr_oconst *k = &c->im->consts[cst];
  const sr_node *n = &c->m->nodes[x];
  // (C, 1, 1) outputs stand for ONNX's flat (N, C) too (needs_flatten): a constant of rank <= 2 is per
  // channel
  int rank = is_spatial(n) && !(n->h == 1 && n->w == 1 && k->ndim <= 2) ? 4 : 2;
  if (k->ndim > rank) return bad_shape(c, "a constant operand of higher rank than the tensor");
  int64_t d[4] = {1, 1, 1, 1};
  for (int j = 0; j < k->ndim; j++) d[rank - k->ndim + j] = k->dims[j];
  int64_t cc = d[1];
  if (d[0] != 1 || (rank == 4 && (d[2] != 1 || d[3] != 1)) || (cc != 1 && cc != n->c))
    return unsupported(c, "a constant operand that is not a scalar or per-channel");
  for (int j = 0; j < n->c; j++) v[j] = k->v[cc == 1 ? 0 : j];
  return SR_OK;
}

// Add/Sub/Mul/Div with one constant operand: an affine node (scale, shift) in the model's state.
static sr_status op_arith(ctx *c) {
  const char *op = c->nd->op_type;
  int a = in_node(c, 0), b = in_node(c, 1);
  if (a >= 0 && b >= 0) {
    if (strcmp(op, "Add")) return unsupported(c, "Sub/Mul/Div of two tensors");
    const sr_node *na = &c->m->nodes[a], *nb = &c->m->nodes[b];
    if (na->c != nb->c || na->h != nb->h || na->w != nb->w) return bad_shape(c, "operand shapes differ");
    return set_out(c, sr_graph_add(c->m, a, b));
  }
  int x = a >= 0 ? a : b, first = a >= 0;
  int k = in_const_idx(c, first ? 1 : 0);
  if (x < 0 || k < 0) return unsupported(c, "operands that are neither tensors nor constants");
  int C = c->m->nodes[x].c;
  double *v = calloc((size_t)C, sizeof(double));
  if (!v) return sr_fail(c->err, SR_ERR_NOMEM, "%s: out of memory", c->im->path);
  sr_status e = channel_vector(c, k, x, v);
  if (!e && !first && (!strcmp(op, "Div"))) e = unsupported(c, "a constant divided by a tensor");
  int i = -1;
  if (!e) {
    char name[64];
    snprintf(name, sizeof name, "%.56s", c->nd->name && c->nd->name[0] ? c->nd->name : c->nd->output[0]);
    i = sr_graph_affine(c->m, x, name);
    if (i < 0) e = set_out(c, i);
  }
  if (!e) {
    // scale in consts (derived, not an initializer): filled into state after finalize
    int64_t dims[1] = {C};
    int cs = sr_oconst_new(c->im, 1, dims, 0), ch = sr_oconst_new(c->im, 1, dims, 0);
    if (cs < 0 || ch < 0) e = sr_fail(c->err, SR_ERR_NOMEM, "%s: out of memory", c->im->path);
    for (int j = 0; !e && j < C; j++) {
      double s = 1, h = 0;
      if (op[0] == 'A') h = v[j];
      if (op[0] == 'S') {
        s = first ? 1 : -1;
        h = first ? -v[j] : v[j];
      }
      if (op[0] == 'M') s = v[j];
      if (op[0] == 'D') s = 1.0 / v[j];
      c->im->consts[cs].v[j] = s;
      c->im->consts[ch].v[j] = h;
    }
    const sr_node *nd = &c->m->nodes[i];
    int ti = c->m->n_tensors - 2;
    if (!e)
      e = fill(c, &(sr_ofill){.where = 1, .offset = nd->s_mean, .count = C, .cst = cs, .scale = 1.0}, ti);
    if (!e)
      e = fill(c, &(sr_ofill){.where = 1, .offset = nd->s_var, .count = C, .cst = ch, .scale = 1.0}, ti + 1);
  }
  free(v);
  return e ? e : set_out(c, i);
}

// Gemm (A (N, I) x B, + C) and MatMul (A x B): a linear layer with weights (O, I).
static sr_status op_linear(ctx *c, int gemm) {
  int x = in_node(c, 0), w = in_const_idx(c, 1), b = gemm ? in_const_idx(c, 2) : -1;
  if (x < 0 || w < 0) return unsupported(c, "the input must be a tensor and B an initializer");
  if (gemm && c->nd->n_input > 2 && c->nd->input[2][0] && b < 0)
    return unsupported(c, "C that is not an initializer");
  if (gemm && sr_oattr_int(c->nd, "transA", 0)) return unsupported(c, "transA = 1");
  int tb = gemm ? (int)sr_oattr_int(c->nd, "transB", 0) : 0;
  double alpha = gemm ? sr_oattr_float(c->nd, "alpha", 1.0) : 1.0,
         beta = gemm ? sr_oattr_float(c->nd, "beta", 1.0) : 1.0;
  const sr_oconst *W = &c->im->consts[w];
  const sr_node *in = &c->m->nodes[x];
  int64_t fan_in = (int64_t)in->c * in->h * in->w;
  if (is_spatial(in) && !(in->h == 1 && in->w == 1)) return bad_shape(c, "input is not flat (add a Flatten)");
  if (W->ndim != 2) return bad_shape(c, "B is not 2-D");
  int64_t o = tb ? W->dims[0] : W->dims[1], i_ = tb ? W->dims[1] : W->dims[0];
  if (i_ != fan_in || o < 1 || o > (1 << 24)) return bad_shape(c, "B does not fit the input features");
  int i = sr_graph_linear(c->m, x, (int)o, b >= 0, c->nd->name);
  if (i < 0) return set_out(c, i);
  const sr_node *nd = &c->m->nodes[i];
  int ti = c->m->n_tensors - (b >= 0 ? 2 : 1);
  sr_status e = fill(c,
                     &(sr_ofill){.where = 0,
                                 .offset = nd->p_w,
                                 .count = o * fan_in,
                                 .cst = w,
                                 .transpose = !tb,
                                 .rows = W->dims[0],
                                 .cols = W->dims[1],
                                 .scale = alpha},
                     ti);
  if (!e && b >= 0) {
    const sr_oconst *B = &c->im->consts[b];
    if (B->n != o) return bad_shape(c, "C is not one value per output");
    e = fill(c, &(sr_ofill){.where = 0, .offset = nd->p_b, .count = o, .cst = b, .scale = beta}, ti + 1);
  }
  return e ? e : set_out(c, i);
}

// Reshape to (N, -1) (or (N, C*H*W)) of an image tensor: a flatten.
static sr_status op_reshape(ctx *c) {
  int x = in_node(c, 0), s = in_const_idx(c, 1);
  if (x < 0 || s < 0) return unsupported(c, "a shape that is not constant");
  const sr_oconst *S = &c->im->consts[s];
  const sr_node *in = &c->m->nodes[x];
  int64_t flat = (int64_t)in->c * in->h * in->w;
  if (S->n != 2 || !(S->v[0] == 0 || S->v[0] == -1 || S->v[0] >= 1) ||
      !(S->v[1] == -1 || S->v[1] == (double)flat) || (S->v[0] == -1 && S->v[1] == -1))
    return unsupported(c, "a Reshape to a shape other than (N, -1)");
  return set_out(c, needs_flatten(in) ? sr_graph_flatten(c->m, x) : x);
}

static sr_status op_act(ctx *c) {
  const char *op = c->nd->op_type;
  int x = in_node(c, 0);
  if (x < 0) return unsupported(c, "a constant input");
  if (!strcmp(op, "Relu")) return set_out(c, sr_graph_relu(c->m, x));
  if (!strcmp(op, "LeakyRelu"))
    return set_out(c, sr_graph_act(c->m, x, SR_ACT_LEAKY_RELU, sr_oattr_float(c->nd, "alpha", 0.01), 0));
  if (!strcmp(op, "Sigmoid")) return set_out(c, sr_graph_act(c->m, x, SR_ACT_SIGMOID, 0, 0));
  if (!strcmp(op, "Tanh")) return set_out(c, sr_graph_act(c->m, x, SR_ACT_TANH, 0, 0));
  // Clip: min/max attributes before opset 11, optional constant inputs from 11
  double lo = -INFINITY, hi = INFINITY;
  if (c->im->opset < 11) {
    lo = sr_oattr_float(c->nd, "min", -INFINITY);
    hi = sr_oattr_float(c->nd, "max", INFINITY);
  } else {
    for (size_t k = 1; k < 3 && k < c->nd->n_input; k++) {
      if (!c->nd->input[k][0]) continue;
      int ci = in_const_idx(c, k);
      if (ci < 0 || c->im->consts[ci].n != 1) return unsupported(c, "min/max that are not constant scalars");
      *(k == 1 ? &lo : &hi) = c->im->consts[ci].v[0];
    }
  }
  if (!(lo <= hi)) return bad_shape(c, "min > max");
  if (lo == 0 && hi == INFINITY) return set_out(c, sr_graph_relu(c->m, x));
  return set_out(c, sr_graph_act(c->m, x, SR_ACT_CLIP, lo < -3e38 ? -3e38 : lo, hi > 3e38 ? 3e38 : hi));
}

static sr_status op_concat(ctx *c) {
  if (c->nd->n_input < 1) return bad_shape(c, "no inputs");
  int x = in_node(c, 0);
  if (x < 0) return unsupported(c, "constant inputs");
  int64_t axis = sr_oattr_int(c->nd, "axis", 1);
  if (!is_spatial(&c->m->nodes[x]) || !(axis == 1 || axis == -3))
    return unsupported(c, "a Concat not along channels of images");
  for (size_t k = 1; k < c->nd->n_input; k++) {
    int y = in_node(c, k);
    if (y < 0) return unsupported(c, "constant inputs");
    const sr_node *a = &c->m->nodes[x], *b = &c->m->nodes[y];
    if (!is_spatial(b) || a->h != b->h || a->w != b->w)
      return bad_shape(c, "inputs of different height/width");
    x = sr_graph_concat(c->m, x, y);
    if (x < 0) return set_out(c, x);
  }
  return set_out(c, x);
}

static sr_status op_flatten(ctx *c) {
  int x = in_node(c, 0);
  if (x < 0) return unsupported(c, "a constant input");
  if (sr_oattr_int(c->nd, "axis", 1) != 1) return unsupported(c, "axis other than 1");
  return set_out(c, needs_flatten(&c->m->nodes[x]) ? sr_graph_flatten(c->m, x) : x);
}

static sr_status op_passthrough(ctx *c) {
  int x = in_node(c, 0);
  if (x < 0) return unsupported(c, "a constant input");
  for (size_t k = 1; k < c->nd->n_output; k++)
    if (c->nd->output[k][0]) return unsupported(c, "a second output (Dropout's mask)");
  return set_out(c, x);
}

// Pad that pads nothing (torch exports one before avg_pool2d): the identity. Real padding is refused.
static sr_status op_pad(ctx *c) {
  int x = in_node(c, 0);
  if (x < 0) return unsupported(c, "a constant input");
  const Onnx__AttributeProto *a = sr_oattr(c->nd, "pads");
  int p = in_const_idx(c, 1);
  if (c->im->opset >= 11 && p < 0) return unsupported(c, "pads that are not constant");
  int64_t n = c->im->opset >= 11 ? c->im->consts[p].n : (a ? (int64_t)a->n_ints : 0);
  for (int64_t j = 0; j < n; j++) {
    double v = c->im->opset >= 11 ? c->im->consts[p].v[j] : (double)a->ints[j];
    if (v != 0) return unsupported(c, "a Pad that pads (only zero pads, the identity, are supported)");
  }
  return set_out(c, x);
}

static sr_status node(ctx *c, int last) {
  const char *op = c->nd->op_type ? c->nd->op_type : "";
  if (c->nd->n_output < 1 || !c->nd->output[0][0]) return bad_shape(c, "no output");
  if (c->nd->domain && c->nd->domain[0] && strcmp(c->nd->domain, "ai.onnx"))
    return unsupported(c, "an operator of another domain");
  int done;
  sr_status e = sr_onnx_fold(c->im, c->nd, &done, c->err);
  if (e || done) return e;
  if (!strcmp(op, "Conv")) return op_conv(c);
  if (!strcmp(op, "BatchNormalization")) return op_bn(c);
  if (!strcmp(op, "MaxPool")) return op_pool(c, 1);
  if (!strcmp(op, "AveragePool")) return op_pool(c, 0);
  if (!strcmp(op, "GlobalAveragePool")) {
    int x = in_node(c, 0);
    if (x < 0 || !is_spatial(&c->m->nodes[x])) return unsupported(c, "an input that is not an image tensor");
    return set_out(c, sr_graph_gap(c->m, x));
  }
  if (!strcmp(op, "Add") || !strcmp(op, "Sub") || !strcmp(op, "Mul") || !strcmp(op, "Div"))
    return op_arith(c);
  if (!strcmp(op, "Gemm")) return op_linear(c, 1);
  if (!strcmp(op, "MatMul")) return op_linear(c, 0);
  if (!strcmp(op, "Flatten")) return op_flatten(c);
  if (!strcmp(op, "Reshape")) return op_reshape(c);
  if (!strcmp(op, "Identity") || !strcmp(op, "Dropout")) return op_passthrough(c);
  if (!strcmp(op, "Relu") || !strcmp(op, "LeakyRelu") || !strcmp(op, "Sigmoid") || !strcmp(op, "Tanh") ||
      !strcmp(op, "Clip"))
    return op_act(c);
  if (!strcmp(op, "Concat")) return op_concat(c);
  if (!strcmp(op, "Pad")) return op_pad(c);
  if (!strcmp(op, "Softmax") || !strcmp(op, "LogSoftmax")) {
    if (!last) return unsupported(c, "a Softmax that is not the last node");
    // only over all the classes: axis 1 or -1 of a 2-D output; of a 4-D one axis 1 where H = W = 1 (opsets
    // below 13 flatten from the axis, 13 and up take that one axis)
    int64_t axis = sr_oattr_int(c->nd, "axis", c->im->opset < 13 ? 1 : -1);
    const sr_node *y = &c->m->nodes[c->m->n_nodes - 1];
    int two_d = y->op == SR_OP_LINEAR || y->op == SR_OP_FLATTEN;
    int classes =
        two_d ? axis == 1 || axis == -1 : axis == 1 && (c->im->opset < 13 || (y->h == 1 && y->w == 1));
    if (!classes) return unsupported(c, "a Softmax over another axis than the classes");
    return op_passthrough(c);
  }
  return unsupported(c, "operator not supported");
}

// ---- graph input/output ----
static int dim_of(const Onnx__TensorShapeProto *s, int d) {
  if (!s || d >= (int)s->n_dim) return 0;
  const Onnx__TensorShapeProto__Dimension *x = s->dim[d];
  if (x->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) return 0;
  return x->dim_value > 0 && x->dim_value <= (1 << 20) ? (int)x->dim_value : -1;
}

static int is_initializer(const Onnx__GraphProto *g, const char *name) {
  for (size_t k = 0; k < g->n_initializer; k++)
    if (g->initializer[k]->name && !strcmp(g->initializer[k]->name, name)) return 1;
  return 0;
}

static sr_status input_shape(sr_oimp *im, const sr_onnx_opts *o, sr_model_config *cfg, const char **in_name,
                             sr_err *err) {
  const Onnx__GraphProto *g = im->mp->graph;
  const Onnx__ValueInfoProto *in = NULL;
  for (size_t k = 0; k < g->n_input; k++) {
    if (!g->input[k]->name || is_initializer(g, g->input[k]->name)) continue;
    if (in)
      return sr_fail(err, SR_ERR_FORMAT, "%s: the graph has more than one input (%s, %s)", im->path, in->name,
                     g->input[k]->name);
    in = g->input[k];
  }
  if (!in) return sr_fail(err, SR_ERR_FORMAT, "%s: the graph has no input", im->path);
  const Onnx__TensorShapeProto *s = NULL;
  if (in->type && in->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && in->type->tensor_type) {
    if (in->type->tensor_type->has_elem_type && in->type->tensor_type->elem_type != 1)
      return sr_fail(err, SR_ERR_FORMAT, "%s: input '%s' is not float32", im->path, in->name);
    s = in->type->tensor_type->shape;
  }
  if (s && s->n_dim != 4)
    return sr_fail(err, SR_ERR_SHAPE,
                   "%s: input '%s' has %zu dimensions (an image batch (N, C, H, W) is needed)", im->path,
                   in->name, s->n_dim);
  int got[3] = {dim_of(s, 1), dim_of(s, 2), dim_of(s, 3)},
      want[3] = {o ? o->in_c : 0, o ? o->in_h : 0, o ? o->in_w : 0};
  static const char *what[3] = {"channels", "height", "width"};
  int *dst[3] = {&cfg->in_c, &cfg->in_h, &cfg->in_w};
  for (int d = 0; d < 3; d++) {
    if (got[d] < 0)
      return sr_fail(err, SR_ERR_SHAPE, "%s: input '%s' has an absurd %s", im->path, in->name, what[d]);
    if (got[d] && want[d] && got[d] != want[d])
      return sr_fail(err, SR_ERR_SHAPE, "%s: input '%s' has %s %d, %d was given", im->path, in->name, what[d],
                     got[d], want[d]);
    *dst[d] = got[d] ? got[d] : want[d];
    if (!*dst[d])
      return sr_fail(err, SR_ERR_SHAPE,
                     "%s: input '%s' has a dynamic %s that cannot be resolved (give the input size)",
                     im->path, in->name, what[d]);
  }
  *in_name = in->name;
  return SR_OK;
}

// Feature layers: named tensors, or the last node of each spatial resolution ("auto").
static sr_status features(sr_oimp *im, sr_model *m, const char *spec, sr_err *err) {
  if (spec && spec[0] && strcmp(spec, "auto")) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      int v = sr_oval_find(im, t);
      if (v < 0 || im->vals[v].node <= 0)
        return sr_fail(err, SR_ERR_ARG, "%s: --features: '%s' is not a tensor computed by the graph",
                       im->path, t);
      sr_status s = sr_model_add_feature(m, im->vals[v].node, t, err);
      if (s) return s;
    }
    return SR_OK;
  }
  int cand[64], nc = 0;
  for (int i = 1; i < m->n_nodes; i++) {
    const sr_node *n = &m->nodes[i];
    if (!is_spatial(n) || n->h * n->w <= 1) continue;
    int next =
        -1;  // the last spatial node of this resolution: the next spatial node differs, or none follows
    for (int j = i + 1; j < m->n_nodes && next < 0; j++)
      if (is_spatial(&m->nodes[j])) next = j;
    if (next < 0 || m->nodes[next].h != n->h || m->nodes[next].w != n->w || !is_spatial(&m->nodes[next]) ||
        m->nodes[next].h * m->nodes[next].w <= 1)
      if (nc < 64) cand[nc++] = i;
  }
  int first = nc > SR_MAX_FEATURES ? nc - SR_MAX_FEATURES : 0;
  for (int k = first; k < nc; k++) {
    const char *name = NULL;  // its ONNX tensor name (the output of the node that computed it)
    for (int v = 0; v < im->n_vals && !name; v++)
      if (im->vals[v].node == cand[k]) name = im->vals[v].name;
    char nm[64];
    snprintf(nm, sizeof nm, "%s", name ? name : m->nodes[cand[k]].name);
    sr_status s = sr_model_add_feature(m, cand[k], nm, err);
    if (s) return s;
  }
  return SR_OK;
}

static void apply_fills(const sr_oimp *im, sr_model *m) {
  for (int f = 0; f < im->n_fills; f++) {
    const sr_ofill *fl = &im->fills[f];
    const double *v = im->consts[fl->cst].v;
    float *dst = (fl->where ? m->state : m->params) + fl->offset;
    for (int64_t j = 0; j < fl->count; j++) {
      // transposed: model (cols, rows) <- ONNX (rows, cols)
      int64_t src = fl->transpose ? (j % fl->rows) * fl->cols + j / fl->rows : j;
      dst[j] = (float)(v[src] * fl->scale);
    }
  }
  m->params_version++;
  m->state_version++;
}

sr_status sr_onnx_build(sr_oimp *im, const sr_onnx_opts *opts, sr_model *m, sr_onnx_info *info, sr_err *err) {
  const Onnx__GraphProto *g = im->mp->graph;
  sr_model_config cfg = {.classes = 1, .width = 1.0};
  snprintf(cfg.arch, sizeof cfg.arch, "onnx:%s", im->path);
  if (opts && opts->features) snprintf(cfg.features, sizeof cfg.features, "%s", opts->features);
  const char *in_name = "";
  sr_status s = input_shape(im, opts, &cfg, &in_name, err);
  if (s) return s;
  if (g->n_output != 1 || !g->output[0]->name)
    return sr_fail(err, SR_ERR_FORMAT, "%s: the graph has %zu outputs (one, the logits, is needed)", im->path,
                   g->n_output);
  if (g->n_node > 100000)
    return sr_fail(err, SR_ERR_FORMAT, "%s: %zu nodes is an absurd size", im->path, g->n_node);
  if ((s = sr_model_init(m, &cfg, err))) return sr_err_context(err, "%s", im->path);
  if ((s = sr_oval_set(im, in_name, 0, -1, err))) return s;
  for (size_t k = 0; k < g->n_initializer && !s; k++) {
    int ci;
    if (!(s = sr_oconst_from_tensor(im, g->initializer[k], 1, &ci, err)))
      s = sr_oval_set(im, g->initializer[k]->name ? g->initializer[k]->name : "", -1, ci, err);
  }
  ctx c = {.im = im, .m = m, .err = err};
  for (size_t k = 0; k < g->n_node && !s; k++) {
    c.nd = g->node[k];
    c.first_new = m->n_nodes;
    if (!c.nd->op_type)
      s = sr_fail(err, SR_ERR_FORMAT, "%s: node %zu has no op_type", im->path, k);
    else
      s = node(&c, k + 1 == g->n_node);
  }
  if (s) return s;
  int v = sr_oval_find(im, g->output[0]->name);
  if (v < 0 || im->vals[v].node < 0)
    return sr_fail(err, SR_ERR_FORMAT, "%s: output '%s' is not computed from the input", im->path,
                   g->output[0]->name);
  if (im->vals[v].node != m->n_nodes - 1 || m->n_nodes < 2)
    return sr_fail(err, SR_ERR_FORMAT, "%s: output '%s' is not the graph's last operation (unused branches?)",
                   im->path, g->output[0]->name);
  m->cfg.classes = (int)sr_model_out_size(m);
  if (opts && opts->classes && opts->classes != m->cfg.classes)
    return sr_fail(err, SR_ERR_SHAPE, "%s: output '%s' has %d values per image, %d classes were given",
                   im->path, g->output[0]->name, m->cfg.classes, opts->classes);
  if ((s = features(im, m, opts ? opts->features : NULL, err))) return s;
  sr_rng rng;
  sr_rng_seed(&rng, 0, 0);
  if ((s = sr_model_finalize(m, &rng, err))) return sr_err_context(err, "%s", im->path);
  apply_fills(im, m);
  // a final Softmax / LogSoftmax runs as no node (decisions use the logits) but gives the model's scores
  const char *last = g->n_node ? g->node[g->n_node - 1]->op_type : NULL;
  if (last && !strcmp(last, "Softmax")) m->scores = SR_SCORES_SOFTMAX;
  if (last && !strcmp(last, "LogSoftmax")) m->scores = SR_SCORES_LOG_SOFTMAX;
  if (info) {
    memset(info, 0, sizeof *info);
    info->ir_version = im->mp->ir_version;
    info->opset = im->opset;
    info->softmax = m->scores != SR_SCORES_LOGITS;
    snprintf(info->input, sizeof info->input, "%s", in_name);
    snprintf(info->output, sizeof info->output, "%s", g->output[0]->name);
  }
  return SR_OK;
}

static void set_dir(sr_oimp *im, const char *name) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", name);
  snprintf(im->dir, sizeof im->dir, "%s", dirname(tmp));
}

sr_status sr_model_from_onnx_buffer(const void *buf, size_t n, const char *name, const sr_onnx_opts *opts,
                                    sr_model *m, sr_onnx_info *info, sr_err *err) {
  sr_oimp im = {.path = name};
  set_dir(&im, name);
  memset(m, 0, sizeof *m);
  sr_status s = sr_onnx_parse(&im, buf, n, err);
  if (!s) s = sr_onnx_build(&im, opts, m, info, err);
  sr_onnx_free(&im);
  if (s) sr_model_free(m);
  return s;
}

sr_status sr_model_from_onnx(const char *path, const sr_onnx_opts *opts, sr_model *m, sr_onnx_info *info,
                             sr_err *err) {
  void *buf;
  size_t n;
  memset(m, 0, sizeof *m);
  sr_status s = sr_read_file(path, (size_t)2 << 30, &buf, &n, err);
  if (s) return s;
  s = sr_model_from_onnx_buffer(buf, n, path, opts, m, info, err);
  sr_free(buf);
  return s;
}
