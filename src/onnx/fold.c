// ONNX constants: decoding initializers (raw bytes, typed fields, external data files), the value table,
// node attributes, and constant folding of initializer-only subgraphs (Constant, Identity, Cast, Reshape,
// Unsqueeze, Squeeze, Add, Sub, Mul, Div, Sqrt, Neg).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int sr_oconst_new(sr_oimp *im, int ndim, const int64_t *dims, int is_int) {
  if (ndim < 0 || ndim > SR_ONNX_MAX_DIMS) return -1;
  int64_t n = 1;
  for (int d = 0; d < ndim; d++) {
    if (dims[d] < 0 || (dims[d] > 0 && n > SR_ONNX_MAX_ELEMS / dims[d])) return -1;
    n *= dims[d];
  }
  if (im->n_consts == im->cap_consts) {
    int cap = im->cap_consts ? 2 * im->cap_consts : 64;
    sr_oconst *c = realloc(im->consts, sizeof *c * (size_t)cap);
    if (!c) return -1;
    im->consts = c;
    im->cap_consts = cap;
  }
  sr_oconst *c = &im->consts[im->n_consts];
  memset(c, 0, sizeof *c);
  c->ndim = ndim;
  for (int d = 0; d < ndim; d++) c->dims[d] = dims[d];
  c->n = n;
  c->is_int = is_int;
  c->v = calloc((size_t)n + 1, sizeof(double));
  if (!c->v) return -1;
  return im->n_consts++;
}

static size_t elem_size(int32_t type) {
  switch (type) {
    case 1:  // float
    case 6:  // int32
      return 4;
    case 7:   // int64
    case 11:  // double
      return 8;
    case 2:  // uint8
    case 3:  // int8
    case 9:  // bool
      return 1;
    default:
      return 0;
  }
}

static double raw_value(const unsigned char *p, int32_t type) {
  switch (type) {
    case 1: {
      float f;
      memcpy(&f, p, 4);
      return f;
    }
    case 6: {
      int32_t v;
      memcpy(&v, p, 4);
      return v;
    }
    case 7: {
      int64_t v;
      memcpy(&v, p, 8);
      return (double)v;
    }
    case 11: {
      double v;
      memcpy(&v, p, 8);
      return v;
    }
    case 3:
      return (signed char)p[0];
    default:
      return p[0];
  }
}

// External data: "location" relative to the model's directory (no absolute paths, no ".."), "offset",
// "length".
static sr_status read_external(sr_oimp *im, const Onnx__TensorProto *t, size_t bytes, unsigned char **out,
                               sr_err *err) {
  const char *loc = NULL;
  long long off = 0, len = -1;
  for (size_t k = 0; k < t->n_external_data; k++) {
    const Onnx__StringStringEntryProto *e = t->external_data[k];
    if (!e->key || !e->value) continue;
    if (!strcmp(e->key, "location")) loc = e->value;
    if (!strcmp(e->key, "offset")) off = atoll(e->value);
    if (!strcmp(e->key, "length")) len = atoll(e->value);
  }
  const char *tn = t->name ? t->name : "?";
  if (!loc || !*loc || loc[0] == '/' || strstr(loc, ".."))
    return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' has external data without a usable location",
                   im->path, tn);
  if (off < 0 || (len >= 0 && (size_t)len != bytes))
    return sr_fail(err, SR_ERR_FORMAT,
                   "%s: tensor '%s': external data offset %lld / length %lld do not fit its %zu bytes",
                   im->path, tn, off, len, bytes);
  char file[8192];
  snprintf(file, sizeof file, "%s/%s", im->dir, loc);
  FILE *fp = fopen(file, "rb");
  if (!fp)
    return sr_fail(err, SR_ERR_IO, "%s: tensor '%s': external data file %s is missing", im->path, tn, file);
  long size =
      fseek(fp, 0, SEEK_END) == 0 ? ftell(fp) : -1;  // the file must hold the bytes before we allocate
  int fits = size >= 0 && (unsigned long long)off + bytes <= (unsigned long long)size;
  unsigned char *b = fits ? malloc(bytes + 1) : NULL;
  int ok = b && fseek(fp, (long)off, SEEK_SET) == 0 && fread(b, 1, bytes, fp) == bytes;
  fclose(fp);
  if (!ok) {
    free(b);
    return sr_fail(err, SR_ERR_FORMAT,
                   "%s: tensor '%s': external data file %s is shorter than offset %lld + %zu bytes", im->path,
                   tn, file, off, bytes);
  }
  *out = b;
  return SR_OK;
}

sr_status sr_oconst_from_tensor(sr_oimp *im, const Onnx__TensorProto *t, int init, int *idx, sr_err *err) {
  const char *tn = t->name ? t->name : "?";
  int32_t type = t->has_data_type ? t->data_type : 0;
  size_t es = elem_size(type);
  if (!es)
    return sr_fail(err, SR_ERR_FORMAT,
                   "%s: tensor '%s' has data type %d (supported: float, double, int8/16/32/64, "
                   "uint8, bool)",
                   im->path, tn, (int)type);
  if (t->n_dims > SR_ONNX_MAX_DIMS)
    return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' has %zu dimensions (at most %d)", im->path, tn,
                   t->n_dims, SR_ONNX_MAX_DIMS);
  int64_t ne = 1;  // elements, checked against the data before anything is allocated for them
  for (size_t d = 0; d < t->n_dims; d++) {
    if (t->dims[d] < 0 || (t->dims[d] > 0 && ne > SR_ONNX_MAX_ELEMS / t->dims[d]))
      return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' has an absurd or negative size", im->path, tn);
    ne *= t->dims[d];
  }
  size_t n = (size_t)ne, bytes = n * es;
  const unsigned char *raw = NULL;
  unsigned char *ext = NULL;
  int external = t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  if (!external && t->has_raw_data && t->raw_data.len != bytes)
    return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' holds %zu bytes of data, its shape needs %zu",
                   im->path, tn, t->raw_data.len, bytes);
  size_t typed = type == 1    ? t->n_float_data
                 : type == 7  ? t->n_int64_data
                 : type == 11 ? t->n_double_data
                              : t->n_int32_data;
  if (!external && !t->has_raw_data && typed != n)
    return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' has %zu values for its %zu elements (truncated?)",
                   im->path, tn, typed, n);
  if (external) {
    sr_status s = read_external(im, t, bytes, &ext, err);
    if (s) return s;
    raw = ext;
  } else if (t->has_raw_data) {
    raw = t->raw_data.data;
  }
  int c = sr_oconst_new(im, (int)t->n_dims, t->dims, type != 1 && type != 11);
  if (c < 0) {
    free(ext);
    return sr_fail(err, SR_ERR_NOMEM, "%s: tensor '%s': out of memory", im->path, tn);
  }
  sr_oconst *k = &im->consts[c];
  k->init = init;
  if (raw) {
    for (size_t j = 0; j < n; j++) k->v[j] = raw_value(raw + j * es, type);
    free(ext);
  } else if (type == 1 && t->n_float_data == n) {
    for (size_t j = 0; j < n; j++) k->v[j] = t->float_data[j];
  } else if (type == 7 && t->n_int64_data == n) {
    for (size_t j = 0; j < n; j++) k->v[j] = (double)t->int64_data[j];
  } else if (type == 11 && t->n_double_data == n) {
    for (size_t j = 0; j < n; j++) k->v[j] = t->double_data[j];
  } else if ((type == 6 || type == 2 || type == 3 || type == 9) && t->n_int32_data == n) {
    for (size_t j = 0; j < n; j++) k->v[j] = t->int32_data[j];
  } else {
    return sr_fail(err, SR_ERR_FORMAT, "%s: tensor '%s' has no data for its %zu elements (truncated?)",
                   im->path, tn, n);
  }
  *idx = c;
  return SR_OK;
}

int sr_oval_find(const sr_oimp *im, const char *name) {
  for (int i = im->n_vals - 1; i >= 0; i--)
    if (!strcmp(im->vals[i].name, name)) return i;
  return -1;
}

sr_status sr_oval_set(sr_oimp *im, const char *name, int node, int cst, sr_err *err) {
  if (im->n_vals == im->cap_vals) {
    int cap = im->cap_vals ? 2 * im->cap_vals : 128;
    sr_oval *v = realloc(im->vals, sizeof *v * (size_t)cap);
    if (!v) return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", im->path);
    im->vals = v;
    im->cap_vals = cap;
  }
  char *dup = strdup(name);
  if (!dup) return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", im->path);
  im->vals[im->n_vals++] = (sr_oval){.name = dup, .node = node, .cst = cst};
  return SR_OK;
}

const Onnx__AttributeProto *sr_oattr(const Onnx__NodeProto *nd, const char *name) {
  for (size_t k = 0; k < nd->n_attribute; k++)
    if (nd->attribute[k]->name && !strcmp(nd->attribute[k]->name, name)) return nd->attribute[k];
  return NULL;
}

int64_t sr_oattr_int(const Onnx__NodeProto *nd, const char *name, int64_t def) {
  const Onnx__AttributeProto *a = sr_oattr(nd, name);
  return a && a->has_i ? a->i : def;
}

double sr_oattr_float(const Onnx__NodeProto *nd, const char *name, double def) {
  const Onnx__AttributeProto *a = sr_oattr(nd, name);
  return a && a->has_f ? a->f : def;
}

// ---- folding ----
static const sr_oconst *in_const(const sr_oimp *im, const Onnx__NodeProto *nd, size_t k) {
  if (k >= nd->n_input || !nd->input[k][0]) return NULL;
  int v = sr_oval_find(im, nd->input[k]);
  return v >= 0 && im->vals[v].cst >= 0 ? &im->consts[im->vals[v].cst] : NULL;
}

static sr_status fold_fail(const sr_oimp *im, const Onnx__NodeProto *nd, const char *why, sr_err *err) {
  return sr_fail(err, SR_ERR_FORMAT, "%s: node '%s' (%s): %s", im->path, nd->name ? nd->name : "?",
                 nd->op_type, why);
}

// Numpy broadcasting of a and b into out (dims given); op: + - * /.
static sr_status fold_binary(sr_oimp *im, const Onnx__NodeProto *nd, const sr_oconst *a, const sr_oconst *b,
                             char op, int *out, sr_err *err) {
  int nd_ = a->ndim > b->ndim ? a->ndim : b->ndim;
  int64_t dims[SR_ONNX_MAX_DIMS], da[SR_ONNX_MAX_DIMS], db[SR_ONNX_MAX_DIMS];
  for (int d = 0; d < nd_; d++) {
    int ia = d - (nd_ - a->ndim), ib = d - (nd_ - b->ndim);
    da[d] = ia >= 0 ? a->dims[ia] : 1;
    db[d] = ib >= 0 ? b->dims[ib] : 1;
    if (da[d] != db[d] && da[d] != 1 && db[d] != 1)
      return fold_fail(im, nd, "operand shapes do not broadcast", err);
    dims[d] = da[d] == 1 ? db[d] : da[d];
  }
  int64_t total = 1;
  for (int d = 0; d < nd_; d++)
    total = dims[d] && total > SR_ONNX_MAX_FOLD / dims[d] ? SR_ONNX_MAX_FOLD + 1 : total * dims[d];
  int c = total > SR_ONNX_MAX_FOLD ? -1 : sr_oconst_new(im, nd_, dims, a->is_int && b->is_int);
  if (c < 0) return fold_fail(im, nd, "folded constant too large", err);
  sr_oconst *o = &im->consts[c];
  a = NULL;  // consts may have moved
  const sr_oconst *ca = in_const(im, nd, 0), *cb = in_const(im, nd, 1);
  for (int64_t j = 0; j < o->n; j++) {
    int64_t r = j, ja = 0, jb = 0, sa = 1, sb = 1;
    for (int d = nd_ - 1; d >= 0; d--) {
      int64_t x = r % dims[d];
      r /= dims[d];
      ja += (da[d] == 1 ? 0 : x) * sa;
      jb += (db[d] == 1 ? 0 : x) * sb;
      sa *= da[d];
      sb *= db[d];
    }
    double x = ca->v[ja], y = cb->v[jb];
    double z = op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y;
    if (o->is_int && op == '/') z = y != 0 ? trunc(x / y) : 0;
    o->v[j] = z;
  }
  *out = c;
  return SR_OK;
}

// Reshape/Unsqueeze/Squeeze: the same values with new dims.
static sr_status fold_reshape(sr_oimp *im, const Onnx__NodeProto *nd, const sr_oconst *x, int ndim,
                              const int64_t *dims, int *out, sr_err *err) {
  int64_t n = 1;
  for (int d = 0; d < ndim; d++) n *= dims[d];
  if (n != x->n) return fold_fail(im, nd, "the new shape does not hold the constant's elements", err);
  int c = sr_oconst_new(im, ndim, dims, x->is_int);
  if (c < 0) return fold_fail(im, nd, "folded constant too large", err);
  const sr_oconst *src = in_const(im, nd, 0);
  memcpy(im->consts[c].v, src->v, sizeof(double) * (size_t)n);
  *out = c;
  return SR_OK;
}

// Axes of Unsqueeze/Squeeze: an attribute before opset 13, the second input from 13.
static int get_axes(const sr_oimp *im, const Onnx__NodeProto *nd, int64_t *axes) {
  const Onnx__AttributeProto *a = sr_oattr(nd, "axes");
  if (a) {
    if (a->n_ints > SR_ONNX_MAX_DIMS) return -1;
    for (size_t k = 0; k < a->n_ints; k++) axes[k] = a->ints[k];
    return (int)a->n_ints;
  }
  const sr_oconst *c = in_const(im, nd, 1);
  if (!c || c->n > SR_ONNX_MAX_DIMS) return nd->n_input > 1 && nd->input[1][0] ? -1 : 0;
  for (int64_t k = 0; k < c->n; k++) axes[k] = (int64_t)c->v[k];
  return (int)c->n;
}

static sr_status fold_unsqueeze(sr_oimp *im, const Onnx__NodeProto *nd, const sr_oconst *x, int squeeze,
                                int *out, sr_err *err) {
  int64_t axes[SR_ONNX_MAX_DIMS], dims[SR_ONNX_MAX_DIMS];
  int na = get_axes(im, nd, axes);
  if (na < 0) return fold_fail(im, nd, "axes are not constant", err);
  int ndim = squeeze ? x->ndim - na : x->ndim + na;
  if (squeeze && na == 0) ndim = 0;
  if (ndim < 0 || ndim > SR_ONNX_MAX_DIMS) return fold_fail(im, nd, "bad axes", err);
  int mark[SR_ONNX_MAX_DIMS] = {0};
  int rank = squeeze ? x->ndim : ndim;
  for (int k = 0; k < na; k++) {
    int64_t a = axes[k] < 0 ? axes[k] + rank : axes[k];
    if (a < 0 || a >= rank) return fold_fail(im, nd, "axis out of range", err);
    mark[a] = 1;
  }
  int o = 0;
  if (squeeze) {
    for (int d = 0; d < x->ndim; d++) {
      int drop = na ? mark[d] : x->dims[d] == 1;
      if (drop && x->dims[d] != 1) return fold_fail(im, nd, "squeezing a dimension that is not 1", err);
      if (!drop) dims[o++] = x->dims[d];
    }
  } else {
    int j = 0;
    for (int d = 0; d < ndim; d++) dims[o++] = mark[d] ? 1 : x->dims[j++];
  }
  return fold_reshape(im, nd, x, o, dims, out, err);
}

static sr_status fold_constant(sr_oimp *im, const Onnx__NodeProto *nd, int *out, sr_err *err) {
  const Onnx__AttributeProto *a = sr_oattr(nd, "value");
  if (a && a->t) return sr_oconst_from_tensor(im, a->t, 0, out, err);
  int64_t one = 1;
  if ((a = sr_oattr(nd, "value_float")) || (a = sr_oattr(nd, "value_int"))) {
    int c = sr_oconst_new(im, 0, &one, a->has_i);
    if (c < 0) return fold_fail(im, nd, "out of memory", err);
    im->consts[c].v[0] = a->has_i ? (double)a->i : a->f;
    *out = c;
    return SR_OK;
  }
  if ((a = sr_oattr(nd, "value_floats")) || (a = sr_oattr(nd, "value_ints"))) {
    int64_t n = a->n_ints ? (int64_t)a->n_ints : (int64_t)a->n_floats;
    int c = sr_oconst_new(im, 1, &n, a->n_ints > 0);
    if (c < 0) return fold_fail(im, nd, "out of memory", err);
    for (int64_t j = 0; j < n; j++) im->consts[c].v[j] = a->n_ints ? (double)a->ints[j] : a->floats[j];
    *out = c;
    return SR_OK;
  }
  return fold_fail(im, nd, "a Constant without a supported value", err);
}

sr_status sr_onnx_fold(sr_oimp *im, const Onnx__NodeProto *nd, int *done, sr_err *err) {
  const char *op = nd->op_type;
  *done = 1;
  int out = -1;
  sr_status s = SR_OK;
  const sr_oconst *x = in_const(im, nd, 0), *y = in_const(im, nd, 1);
  if (!strcmp(op, "Constant")) {
    s = fold_constant(im, nd, &out, err);
  } else if (!x) {
    *done = 0;
    return SR_OK;
  } else if (!strcmp(op, "Identity") || !strcmp(op, "Cast")) {
    s = fold_reshape(im, nd, x, x->ndim, x->dims, &out, err);
    int64_t to = sr_oattr_int(nd, "to", 1);
    if (!s && !strcmp(op, "Cast")) {
      im->consts[out].is_int = to != 1 && to != 11;
      if (im->consts[out].is_int)
        for (int64_t j = 0; j < im->consts[out].n; j++) im->consts[out].v[j] = trunc(im->consts[out].v[j]);
    }
  } else if (!strcmp(op, "Reshape") && y) {
    int64_t dims[SR_ONNX_MAX_DIMS], known = 1;
    int neg = -1;
    if (y->n > SR_ONNX_MAX_DIMS) return fold_fail(im, nd, "too many dimensions", err);
    for (int d = 0; d < y->n; d++) {
      dims[d] = (int64_t)y->v[d];
      if (dims[d] == 0 && d < x->ndim) dims[d] = x->dims[d];
      if (dims[d] == -1)
        neg = d;
      else if (dims[d] < 0)
        return fold_fail(im, nd, "bad shape", err);
      else
        known *= dims[d];
    }
    if (neg >= 0) dims[neg] = known ? x->n / known : 0;
    s = fold_reshape(im, nd, x, (int)y->n, dims, &out, err);
  } else if (!strcmp(op, "Unsqueeze") || !strcmp(op, "Squeeze")) {
    s = fold_unsqueeze(im, nd, x, op[0] == 'S', &out, err);
  } else if ((!strcmp(op, "Add") || !strcmp(op, "Sub") || !strcmp(op, "Mul") || !strcmp(op, "Div")) && y) {
    s = fold_binary(im, nd, x, y,
                    op[0] == 'A'   ? '+'
                    : op[0] == 'S' ? '-'
                    : op[0] == 'M' ? '*'
                                   : '/',
                    &out, err);
  } else if (!strcmp(op, "Sqrt") || !strcmp(op, "Neg")) {
    s = fold_reshape(im, nd, x, x->ndim, x->dims, &out, err);
    for (int64_t j = 0; !s && j < im->consts[out].n; j++) {
      double v = im->consts[out].v[j];
      im->consts[out].v[j] = op[0] == 'S' ? sqrt(v) : -v;
    }
  } else {
    *done = 0;
    return SR_OK;
  }
  if (s) return s;
  if (nd->n_output < 1) return fold_fail(im, nd, "no output", err);
  return sr_oval_set(im, nd->output[0], -1, out, err);
}
