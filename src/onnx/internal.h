// Internal to src/onnx: constants (initializers and folded subgraphs) and the import state shared by
// import.c, fold.c and export.c. Not a public header.
#ifndef SR_ONNX_INTERNAL_H
#define SR_ONNX_INTERNAL_H

#include "onnx/onnx.pb-c.h"
#include "simreg/onnx.h"

#define SR_ONNX_MAX_DIMS  8
#define SR_ONNX_MAX_ELEMS ((int64_t)1 << 31)  // elements of one constant: anything above is an absurd size
#define SR_ONNX_MAX_FOLD  ((int64_t)1 << 24)  // elements of a folded (broadcast) result: shapes and constants

// A constant tensor: an initializer, a Constant node's value or a folded result. Values are doubles
// (float, double and integer tensors all fit one code path; int64 shapes are exact below 2^53).
typedef struct sr_oconst {
  int ndim;
  int64_t dims[SR_ONNX_MAX_DIMS];
  int64_t n;
  double *v;
  int is_int;  // integer data type (shapes, axes)
  int init;    // an initializer of the graph (its name can name a model tensor)
  int used;    // taken by a node as its weights (a second use would share them: refused)
} sr_oconst;

// A named value of the graph: a model node's output or a constant.
typedef struct sr_oval {
  char *name;
  int node;  // >= 0: the model node whose output it is
  int cst;   // >= 0: index into consts
} sr_oval;

// Where an imported weight goes: model params (where 0) or state (1) at offset, from constant cst, stored
// transposed ((rows, cols) in ONNX -> (cols, rows) in the model) when transpose, times scale.
typedef struct sr_ofill {
  int where;
  int64_t offset, count;
  int cst;
  int64_t rows, cols;
  int transpose;
  double scale;
  char name[64];  // the ONNX initializer it came from ("" when none: a derived constant)
} sr_ofill;

typedef struct sr_oimp {
  const char *path;  // for messages
  char dir[4096];    // for external data
  Onnx__ModelProto *mp;
  int64_t opset;
  sr_oconst *consts;
  int n_consts, cap_consts;
  sr_oval *vals;
  int n_vals, cap_vals;
  sr_ofill *fills;
  int n_fills, cap_fills;
} sr_oimp;

// Parse buf as a ModelProto and check the basics (a graph, an opset of the default domain in 9..17).
sr_status sr_onnx_parse(sr_oimp *im, const void *buf, size_t n, sr_err *err);
// Import into *m (not finalized until the end); im stays alive for export's fill list.
sr_status sr_onnx_build(sr_oimp *im, const sr_onnx_opts *opts, sr_model *m, sr_onnx_info *info, sr_err *err);
void sr_onnx_free(sr_oimp *im);

// ---- constants (fold.c) ----
// Decode a TensorProto (raw, typed fields or external data next to the model) into a new constant.
sr_status sr_oconst_from_tensor(sr_oimp *im, const Onnx__TensorProto *t, int init, int *idx, sr_err *err);
int sr_oconst_new(sr_oimp *im, int ndim, const int64_t *dims, int is_int);  // -1: out of memory / too big
// Evaluate node nd whose inputs are all constants; *done = 0 when the op is not one folding knows.
sr_status sr_onnx_fold(sr_oimp *im, const Onnx__NodeProto *nd, int *done, sr_err *err);
// Values: lookup by name (-1: unknown), define (a later definition of a name wins).
int sr_oval_find(const sr_oimp *im, const char *name);
sr_status sr_oval_set(sr_oimp *im, const char *name, int node, int cst, sr_err *err);
// Attributes of a node (NULL: absent).
const Onnx__AttributeProto *sr_oattr(const Onnx__NodeProto *nd, const char *name);
int64_t sr_oattr_int(const Onnx__NodeProto *nd, const char *name, int64_t def);
double sr_oattr_float(const Onnx__NodeProto *nd, const char *name, double def);

#endif
