// The reference executor: the whole graph in double precision with the plain-C kernels.
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct sr_ref_run {
  sr_model *m;
  int64_t n;
  int training;
  int groups;  // BatchNorm statistics per group (sr_ref_input.groups)
  double *params, *state;
  double **y, **aux;
};

void sr_ref_free(sr_ref_run *r) {
  if (!r) return;
  for (int i = 0; i < r->m->n_nodes; i++) {
    if (r->y) free(r->y[i]);
    if (r->aux) free(r->aux[i]);
  }
  free(r->y);
  free(r->aux);
  free(r->params);
  free(r->state);
  free(r);
}

static int64_t node_numel(const sr_node *nd, int64_t n) { return n * nd->c * nd->h * nd->w; }

// bf16 models (m->precision): values rounded where the engine rounds them (src/kernels/precision.c), through
// float as the engine's values are.
static void round_bf16(double *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    float f = (float)x[i];
    sr_bf16_round(&f, 1);
    x[i] = f;
  }
}

static void round_weights(const sr_model *m, double *p) {
  for (int i = 1; i < m->n_nodes; i++)
    if (sr_node_weight_count(&m->nodes[i]))
      round_bf16(p + m->nodes[i].p_w, sr_node_weight_count(&m->nodes[i]));
}

sr_status sr_ref_forward_params(sr_model *m, const sr_ref_input *in, double *out, sr_ref_run **run,
                                sr_err *err) {
  const double *params = in->params, *x = in->x;
  const int64_t n = in->n;
  const int training = in->training;
  const int groups = in->groups > 1 ? in->groups : 1;
  if (n % groups)
    return sr_fail(err, SR_ERR_ARG, "reference run: batch %lld is not %d equal groups", (long long)n, groups);
  sr_ref_run *r = calloc(1, sizeof *r);
  if (!r) return sr_fail(err, SR_ERR_NOMEM, "cannot allocate reference run");
  r->m = m;
  r->n = n;
  r->training = training;
  r->groups = groups;
  r->params = malloc(sizeof(double) * (size_t)(m->n_params + 1));
  r->state = malloc(sizeof(double) * (size_t)(m->n_state + 1));
  r->y = calloc((size_t)m->n_nodes, sizeof(double *));
  r->aux = calloc((size_t)m->n_nodes, sizeof(double *));
  if (!r->params || !r->state || !r->y || !r->aux) goto nomem;
  for (int64_t i = 0; i < m->n_params; i++) r->params[i] = params ? params[i] : m->params[i];
  for (int64_t i = 0; i < m->n_state; i++) r->state[i] = m->state[i];
  int bf16 = m->precision == SR_PRECISION_BF16;
  if (bf16) round_weights(m, r->params);
  for (int i = 0; i < m->n_nodes; i++) {
    const sr_node *nd = &m->nodes[i];
    const sr_layer_ops *ops = sr_layer_ops_for(nd->op);
    if (!(r->y[i] = malloc(sizeof(double) * (size_t)node_numel(nd, n)))) goto nomem;
    if (i == 0) {
      memcpy(r->y[0], x, sizeof(double) * (size_t)node_numel(nd, n));
      if (bf16) round_bf16(r->y[0], node_numel(nd, n));
      continue;
    }
    // one aux per group (BatchNorm keeps each group's statistics)
    if (ops->ref.aux_size &&
        !(r->aux[i] = malloc(sizeof(double) * (size_t)groups * (size_t)ops->ref.aux_size(nd, NULL, n))))
      goto nomem;
    sr_ref_io io = {.nd = nd,
                    .p = r->params,
                    .st = r->state,
                    .training = training,
                    .n = n,
                    .groups = groups,
                    .x0 = r->y[nd->in[0]],
                    .x1 = nd->in[1] >= 0 ? r->y[nd->in[1]] : NULL,
                    .y = r->y[i],
                    .aux = r->aux[i]};
    ops->ref.forward(&io);
    // a BN or add before a ReLU is rounded too, where the engine rounds the fused ReLU's output: the same
    // (rounding keeps the sign)
    if (bf16) round_bf16(r->y[i], node_numel(nd, n));
  }
  if (out)
    memcpy(out, r->y[m->n_nodes - 1], sizeof(double) * (size_t)node_numel(&m->nodes[m->n_nodes - 1], n));
  *run = r;
  return SR_OK;
nomem:
  sr_ref_free(r);
  return sr_fail(err, SR_ERR_NOMEM, "reference run: out of memory");
}

sr_status sr_ref_forward(sr_model *m, const double *x, int64_t n, int training, double *out, sr_ref_run **run,
                         sr_err *err) {
  return sr_ref_forward_params(m, &(sr_ref_input){.params = NULL, .x = x, .n = n, .training = training}, out,
                               run, err);
}

const double *sr_ref_node_output(const sr_ref_run *r, int node) { return r->y[node]; }

sr_status sr_ref_backward(sr_ref_run *r, const double *dout, double *dgrads, double *dx, sr_err *err) {
  sr_model *m = r->m;
  double **dy = calloc((size_t)m->n_nodes, sizeof(double *));
  if (!dy) return sr_fail(err, SR_ERR_NOMEM, "reference backward: out of memory");
  sr_status st = SR_OK;
  for (int i = 0; i < m->n_nodes && !st; i++)
    if (!(dy[i] = calloc((size_t)node_numel(&m->nodes[i], r->n), sizeof(double))))
      st = sr_fail(err, SR_ERR_NOMEM, "reference backward: out of memory");
  if (!st) {
    int last = m->n_nodes - 1;
    memcpy(dy[last], dout, sizeof(double) * (size_t)node_numel(&m->nodes[last], r->n));
    int bf16 = m->precision == SR_PRECISION_BF16;
    for (int i = last; i >= 1; i--) {
      const sr_node *nd = &m->nodes[i];
      if (bf16) round_bf16(dy[i], node_numel(nd, r->n));
      sr_ref_io io = {.nd = nd,
                      .p = r->params,
                      .st = r->state,
                      .training = r->training,
                      .n = r->n,
                      .groups = r->groups,
                      .x0 = r->y[nd->in[0]],
                      .y = r->y[i],
                      .aux = r->aux[i],
                      .dy = dy[i],
                      .dx0 = dy[nd->in[0]],
                      .dx1 = nd->in[1] >= 0 ? dy[nd->in[1]] : NULL,
                      .dp = dgrads};
      sr_layer_ops_for(nd->op)->ref.backward(&io);
    }
    if (bf16) round_bf16(dy[0], node_numel(&m->nodes[0], r->n));
    if (dx) memcpy(dx, dy[0], sizeof(double) * (size_t)node_numel(&m->nodes[0], r->n));
  }
  for (int i = 0; i < m->n_nodes; i++) free(dy[i]);
  free(dy);
  return st;
}
