// Bad ONNX input: every problem is an error value naming the file (the CLI exits 2 on these statuses).
// Variants of a fixture are made with protobuf-c (unpack, edit, pack): an unsupported operator, missing
// external data, a dynamic input size, absurd and mismatched shapes, truncated and non-ONNX bytes.
#include "onnx/onnx.pb-c.h"
#include "simreg/onnx.h"
#include "sr_test.h"

#define NAME "variant.onnx"

static void *fixture(size_t *n) {
  void *buf = NULL;
  sr_err err = {0};
  if (sr_read_file(sr_test_src("tests/onnx/fixtures/normnet.onnx"), 1 << 24, &buf, n, &err)) return NULL;
  return buf;
}

// Import buf and expect failure with status want (0: any) and every needle in the message.
static void expect_fail(const void *buf, size_t n, const sr_onnx_opts *o, sr_status want, const char *what,
                        const char *needle1, const char *needle2) {
  sr_model m;
  sr_err err = {0};
  sr_status s = sr_model_from_onnx_buffer(buf, n, NAME, o, &m, NULL, &err);
  CHECK(s != SR_OK, "%s: imported", what);
  if (s == SR_OK) {
    sr_model_free(&m);
    return;
  }
  CHECK(!want || s == want, "%s: status %s", what, sr_status_name(s));
  CHECK(sr_status_exit_code(s) == 2, "%s: exit code %d", what, sr_status_exit_code(s));
  CHECK(strstr(err.msg, NAME) != NULL, "%s: message does not name the file: %s", what, err.msg);
  CHECK(!needle1 || strstr(err.msg, needle1), "%s: no '%s' in: %s", what, needle1, err.msg);
  CHECK(!needle2 || strstr(err.msg, needle2), "%s: no '%s' in: %s", what, needle2, err.msg);
  printf("%-22s -> %s\n", what, err.msg);
}

// Pack a modified model into a fresh buffer.
static uint8_t *pack(Onnx__ModelProto *mp, size_t *n) {
  *n = onnx__model_proto__get_packed_size(mp);
  uint8_t *b = malloc(*n + 1);
  onnx__model_proto__pack(mp, b);
  return b;
}

static Onnx__TensorProto *init_named(Onnx__ModelProto *mp, const char *name) {
  for (size_t k = 0; k < mp->graph->n_initializer; k++)
    if (!strcmp(mp->graph->initializer[k]->name, name)) return mp->graph->initializer[k];
  return NULL;
}

int main(void) {
  size_t n;
  uint8_t *buf = fixture(&n);
  if (!buf) {
    sr_test_skip("tests/onnx/fixtures/normnet.onnx missing");
    return sr_test_done();
  }
  sr_model m;
  sr_err err = {0};
  CHECK_OK(sr_model_from_onnx_buffer(buf, n, NAME, NULL, &m, NULL, &err), &err);
  sr_model_free(&m);
  expect_fail(buf, n / 2, NULL, SR_ERR_FORMAT, "truncated", "not an ONNX model", NULL);
  expect_fail("hello, this is not ONNX\n", 24, NULL, SR_ERR_FORMAT, "text", NULL, NULL);
  expect_fail(buf, 0, NULL, SR_ERR_FORMAT, "empty", NULL, NULL);
  sr_onnx_opts wrong = {.in_c = 1};
  expect_fail(buf, n, &wrong, SR_ERR_SHAPE, "channels mismatch", "channels 3", NULL);
  sr_onnx_opts classes = {.classes = 7};
  expect_fail(buf, n, &classes, SR_ERR_SHAPE, "classes mismatch", "7 classes", NULL);

  Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, n, buf);
  CHECK(mp != NULL && mp->graph != NULL, "unpack");
  if (!mp) return sr_test_done();
  uint8_t *v;
  size_t vn;
  // an operator simreg lacks: named with its node and opset, and the supported list
  Onnx__NodeProto *nd = mp->graph->node[4];  // Relu after the first BN
  char *old_op = nd->op_type, *elu = strdup("Elu");
  nd->op_type = elu;
  v = pack(mp, &vn);
  expect_fail(v, vn, NULL, SR_ERR_FORMAT, "unsupported op", "op Elu", "opset 13");
  expect_fail(v, vn, NULL, SR_ERR_FORMAT, "unsupported op list", nd->name, "Supported: Conv");
  free(v);
  nd->op_type = old_op;
  free(elu);
  // a group count the weights do not fit (groups themselves are supported)
  Onnx__NodeProto *conv = mp->graph->node[2];
  CHECK(!strcmp(conv->op_type, "Conv"), "node 2 is %s", conv->op_type);
  Onnx__AttributeProto *grp = NULL;
  for (size_t k = 0; k < conv->n_attribute; k++)
    if (!strcmp(conv->attribute[k]->name, "group")) grp = conv->attribute[k];
  if (grp) {
    grp->i = 3;
    v = pack(mp, &vn);
    expect_fail(v, vn, NULL, SR_ERR_SHAPE, "grouped conv", "group", "/conv1/Conv");
    free(v);
    grp->i = 1;
  }
  // external data that is not there
  Onnx__TensorProto *w = init_named(mp, "conv1.weight");
  CHECK(w != NULL, "conv1.weight initializer");
  if (w) {
    Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT, *locp = &loc;
    loc.key = "location";
    loc.value = "missing_weights.bin";
    protobuf_c_boolean had_raw = w->has_raw_data;
    w->has_raw_data = 0;
    w->has_data_location = 1;
    w->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    w->n_external_data = 1;
    w->external_data = &locp;
    v = pack(mp, &vn);
    expect_fail(v, vn, NULL, SR_ERR_IO, "missing external data", "missing_weights.bin", "conv1.weight");
    free(v);
    w->n_external_data = 0;
    w->external_data = NULL;
    w->has_data_location = 0;
    w->data_location = 0;
    w->has_raw_data = had_raw;
    // absurd size: dims multiply past any sane tensor
    int64_t *dims = w->dims, huge[4] = {1 << 20, 1 << 20, 1 << 20, 3};
    w->dims = huge;
    v = pack(mp, &vn);
    expect_fail(v, vn, NULL, SR_ERR_FORMAT, "absurd size", "absurd", "conv1.weight");
    free(v);
    // weights that do not fit the layer (a shape mismatch)
    int64_t other[4] = {8, 3, 3, 1};
    w->dims = other;
    w->raw_data.len = 8 * 3 * 3 * 4;
    v = pack(mp, &vn);
    expect_fail(v, vn, NULL, 0, "shape mismatch", "conv1", NULL);
    free(v);
    w->dims = dims;
    w->raw_data.len = 8 * 3 * 3 * 3 * 4;
  }
  // a dynamic height that nothing resolves, then resolved by the caller
  Onnx__TensorShapeProto *shape = mp->graph->input[0]->type->tensor_type->shape;
  Onnx__TensorShapeProto__Dimension *h = shape->dim[2];
  int64_t hv = h->dim_value;
  h->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
  h->dim_param = "H";
  v = pack(mp, &vn);
  expect_fail(v, vn, NULL, SR_ERR_SHAPE, "dynamic height", "dynamic height", NULL);
  sr_onnx_opts res = {.in_h = 32};
  CHECK_OK(sr_model_from_onnx_buffer(v, vn, NAME, &res, &m, NULL, &err), &err);
  sr_model_free(&m);
  free(v);
  h->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
  h->dim_value = hv;
  // an opset outside 9..17
  int64_t opv = mp->opset_import[0]->version;
  mp->opset_import[0]->version = 18;
  v = pack(mp, &vn);
  expect_fail(v, vn, NULL, SR_ERR_FORMAT, "opset 18", "opset 18", NULL);
  free(v);
  mp->opset_import[0]->version = opv;
  // --features naming a tensor the graph does not compute
  sr_onnx_opts feat = {.features = "no_such_tensor"};
  expect_fail(buf, n, &feat, SR_ERR_ARG, "unknown feature", "no_such_tensor", NULL);
  onnx__model_proto__free_unpacked(mp, NULL);
  free(buf);
  return sr_test_done();
}
