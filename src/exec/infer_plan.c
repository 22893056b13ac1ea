// Inference plans, graph side: which nodes run as one step. Pure graph logic, no oneDNN calls; what a step
// absorbs is its first node's op's rule (sr_layer_ops.plan.fuse, in the op's file).
#include <limits.h>
#include <stdlib.h>

#include "infer.h"

// Each node's only consumer, or -1 (no consumer, or several).
static int *single_consumers(const sr_model *m) {
  int *cnt = calloc((size_t)m->n_nodes, sizeof *cnt), *one = malloc(sizeof *one * (size_t)m->n_nodes);
  if (!cnt || !one) {
    free(cnt);
    free(one);
    return NULL;
  }
  for (int i = 0; i < m->n_nodes; i++) one[i] = -1;
  for (int i = 1; i < m->n_nodes; i++)
    for (int k = 0; k < 2; k++) {
      int q = m->nodes[i].in[k];
      if (q >= 0) {
        cnt[q]++;
        one[q] = i;
      }
    }
  for (int i = 0; i < m->n_nodes; i++)
    if (cnt[i] != 1) one[i] = -1;
  free(cnt);
  return one;
}

void sr_plan_fuse_relu(const sr_model *m, const int *one, int i, sr_istep *s) {
  if (sr_plan_is_op(m, one[i], SR_OP_RELU)) s->relu = s->last = one[i];
}

sr_status sr_infer_plan(sr_infer *p, sr_err *err) {
  const sr_model *m = p->m;
  int *one = single_consumers(m);
  p->steps = calloc((size_t)m->n_nodes, sizeof *p->steps);
  p->vals = calloc((size_t)(2 * m->n_nodes + 2), sizeof *p->vals);
  p->val_of = malloc(sizeof *p->val_of * (size_t)m->n_nodes);
  if (!one || !p->steps || !p->vals || !p->val_of) {
    free(one);
    return sr_fail(err, SR_ERR_NOMEM, "cannot allocate the inference plan of %d nodes", m->n_nodes);
  }
  for (int i = 0; i < m->n_nodes; i++) p->val_of[i] = -1;
  p->val_of[0] = 0;
  p->n_vals = 1;
  p->vals[0].buf = -1;
  for (int i = 1; i < m->n_nodes; i++) {
    if (p->val_of[i] >= 0) continue;  // covered by an earlier step
    const sr_node *nd = &m->nodes[i];
    sr_istep *s = &p->steps[p->n_steps];
    const sr_layer_ops *ops = sr_layer_ops_for(nd->op);
    if (!ops || !ops->plan.build) {
      free(one);
      return sr_fail(err, SR_ERR_ARG, "node %d (%s): no inference step for this op", i, nd->name);
    }
    *s = (sr_istep){
        .node = i, .bn = -1, .add = -1, .relu = -1, .last = i, .in = {nd->in[0], nd->in[1]}, .src_tmp = -1};
    if (ops->plan.fuse) ops->plan.fuse(m, one, i, s);  // the op's fusion rule
    // node indices -> values (the inputs precede the step, so they have values already)
    for (int k = 0; k < 2; k++)
      if (s->in[k] >= 0) s->in[k] = p->val_of[s->in[k]];
    s->out = p->n_vals++;
    int covered[4] = {i, s->bn, s->add, s->relu};
    for (int k = 0; k < 4; k++)
      if (covered[k] >= 0) p->val_of[covered[k]] = s->out;
    p->n_steps++;
  }
  free(one);
  for (int v = 0; v < p->n_vals; v++) p->vals[v].last = -1;
  for (int t = 0; t < p->n_steps; t++)
    for (int k = 0; k < 2; k++)
      if (p->steps[t].in[k] >= 0) p->vals[p->steps[t].in[k]].last = t;
  p->vals[p->val_of[m->n_nodes - 1]].last = INT_MAX;  // the logits are read after the last step
  return SR_OK;
}
