// The input node: a plain (N,C,H,W) view of the caller's buffer (handle set per forward call).
#include "exec/engine.h"

static sr_status build(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  int64_t d[4] = {t->n, nd->c, nd->h, nd->w};
  dnnl_memory_desc_t md;
  sr_plain_md(&md, 4, d);
  return sr_node_outputs(t, i, &md, err);
}

static sr_status nothing(sr_tape *t, int i, sr_err *err) {
  (void)t;
  (void)i;
  (void)err;
  return SR_OK;
}

const sr_layer_ops sr_ops_input = {.name = "input",
                                   .tape = {.build = build, .forward = nothing, .backward = nothing}};
