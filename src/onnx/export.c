// ONNX export of an imported model: the source graph unchanged, each initializer the model owns rewritten
// with the model's current values (float32 raw data). The fill list of a fresh import of the source says
// where each initializer lives in the model (params or state, offset, transposed, scaled).
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static Onnx__TensorProto *find_init(Onnx__GraphProto *g, const char *name) {
  for (size_t k = 0; k < g->n_initializer; k++)
    if (g->initializer[k]->name && !strcmp(g->initializer[k]->name, name)) return g->initializer[k];
  return NULL;
}

// Replace t's data with n floats (raw, little-endian as on this host), dropping typed and external data.
static sr_status set_floats(Onnx__TensorProto *t, const float *v, size_t n, sr_err *err) {
  uint8_t *raw = malloc(n * sizeof(float) + 1);
  if (!raw) return sr_fail(err, SR_ERR_NOMEM, "out of memory exporting '%s'", t->name);
  memcpy(raw, v, n * sizeof(float));
  free(t->raw_data.data);
  t->raw_data.data = raw;
  t->raw_data.len = n * sizeof(float);
  t->has_raw_data = 1;
  free(t->float_data);
  t->float_data = NULL;
  t->n_float_data = 0;
  free(t->double_data);
  t->double_data = NULL;
  t->n_double_data = 0;
  t->has_data_type = 1;
  t->data_type = 1;
  for (size_t k = 0; k < t->n_external_data; k++)
    protobuf_c_message_free_unpacked(&t->external_data[k]->base, NULL);
  free(t->external_data);
  t->external_data = NULL;
  t->n_external_data = 0;
  t->has_data_location = 0;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT;
  return SR_OK;
}

// The model's values of fill f in the ONNX layout.
static void gather(const sr_model *m, const sr_ofill *f, float *out) {
  const float *src = (f->where ? m->state : m->params) + f->offset;
  double inv = f->scale != 0 ? 1.0 / f->scale : 0.0;
  for (int64_t j = 0; j < f->count; j++) {
    int64_t dst = f->transpose ? (j % f->rows) * f->cols + j / f->rows : j;
    out[dst] = (float)(src[j] * inv);
  }
}

static sr_status write_back(sr_oimp *im, const sr_model *fresh, const sr_model *m, sr_err *err) {
  if (fresh->n_params != m->n_params || fresh->n_state != m->n_state)
    return sr_fail(err, SR_ERR_SHAPE, "%s: the model does not have this graph's shape (%lld/%lld parameters)",
                   im->path, (long long)m->n_params, (long long)fresh->n_params);
  for (int k = 0; k < im->n_fills; k++) {
    const sr_ofill *f = &im->fills[k];
    if (!f->name[0] && f->where == 0)
      return sr_fail(err, SR_ERR_FORMAT,
                     "%s: trained weights at parameter %lld come from a computed constant, "
                     "not an initializer: cannot write them back",
                     im->path, (long long)f->offset);
    if (!f->name[0])
      continue;  // constant pre-processing (affine): not trained, the graph keeps its constants
    Onnx__TensorProto *t = find_init(im->mp->graph, f->name);
    if (!t) return sr_fail(err, SR_ERR_FORMAT, "%s: initializer '%s' vanished", im->path, f->name);
    float *v = malloc(sizeof(float) * (size_t)f->count + 1);
    if (!v) return sr_fail(err, SR_ERR_NOMEM, "out of memory exporting '%s'", f->name);
    gather(m, f, v);
    sr_status s = set_floats(t, v, (size_t)f->count, err);
    free(v);
    if (s) return s;
  }
  return SR_OK;
}

sr_status sr_onnx_export(const sr_model *m, const char *src, const char *dst, sr_err *err) {
  void *buf;
  size_t n;
  sr_status s = sr_read_file(src, (size_t)2 << 30, &buf, &n, err);
  if (s) return s;
  sr_oimp im = {.path = src};
  sr_model fresh;
  memset(&fresh, 0, sizeof fresh);
  sr_onnx_opts o = {.in_c = m->cfg.in_c, .in_h = m->cfg.in_h, .in_w = m->cfg.in_w, .classes = m->cfg.classes};
  s = sr_onnx_parse(&im, buf, n, err);
  sr_free(buf);
  if (!s) s = sr_onnx_build(&im, &o, &fresh, NULL, err);
  if (!s) s = write_back(&im, &fresh, m, err);
  uint8_t *out = NULL;
  if (!s) {
    size_t len = onnx__model_proto__get_packed_size(im.mp);
    out = malloc(len + 1);
    if (!out)
      s = sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", dst);
    else if (onnx__model_proto__pack(im.mp, out) != len)
      s = sr_fail(err, SR_ERR_BACKEND, "%s: protobuf packing failed", dst);
    else
      s = sr_write_file_atomic(dst, out, len, err);
  }
  free(out);
  sr_model_free(&fresh);
  sr_onnx_free(&im);
  return s;
}
