// The ops' registration: each sr_op's vtable (defined in the op's own file). Adding an op: its file here in
// src/ops, its sr_op value (include/simreg/model.h), its extern below (exec/engine.h) and its row in this
// table, and a graph builder (sr_graph_<op>, src/exec/graph.c) to put it in a model.
#include "exec/engine.h"

const sr_layer_ops *sr_layer_ops_for(sr_op op) {
  static const sr_layer_ops *table[SR_OP_COUNT] = {
      [SR_OP_INPUT] = &sr_ops_input,   [SR_OP_CONV] = &sr_ops_conv,       [SR_OP_BN] = &sr_ops_bn,
      [SR_OP_RELU] = &sr_ops_relu,     [SR_OP_MAXPOOL] = &sr_ops_maxpool, [SR_OP_AVGPOOL] = &sr_ops_avgpool,
      [SR_OP_GAP] = &sr_ops_gap,       [SR_OP_LINEAR] = &sr_ops_linear,   [SR_OP_FLATTEN] = &sr_ops_flatten,
      [SR_OP_ADD] = &sr_ops_add,       [SR_OP_AFFINE] = &sr_ops_affine,   [SR_OP_ACT] = &sr_ops_act,
      [SR_OP_CONCAT] = &sr_ops_concat,
  };
  return (unsigned)op < SR_OP_COUNT ? table[op] : NULL;
}
