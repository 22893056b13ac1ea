// Internal: inference plans. infer_plan.c groups the nodes into steps (each op's plan.fuse rule), infer.c is
// the generic executor; each op's file builds, refolds and runs its steps (sr_layer_ops.plan_*).
#ifndef SR_INFER_H
#define SR_INFER_H

#include "engine.h"
#include "kernels/winograd.h"

// One fused operation. A convolution step covers conv [-> BN] [-> add] [-> ReLU]; a linear, BN or add step
// covers the op [-> ReLU]; the others one node. Every covered node's value is the step's output: fusion
// only swallows a node whose single consumer is the next node of the group.
typedef struct sr_istep {
  int node;           // the step's first node: its op's sr_layer_ops builds and runs the step
  int bn, add, relu;  // fused nodes (-1: none)
  int last;           // the last node the step covers
  int in[2];          // values read: in[0] the input, in[1] the add's other operand (-1: none)
  int out;            // value written
  int src_tmp;        // conv: in[0] reordered into the layout the convolution picked (-1: none)
  int in_place;       // conv+add: dst is in[1]'s buffer (else in[1] is copied into dst first)
  dnnl_primitive_t prim, pre, copy, wre;  // the op; src reorder; sum-operand copy; weights reorder
  dnnl_memory_t w, wplain, b, view;  // weights (primitive layout, plain source), bias, flatten's 4-D view
  dnnl_memory_t bn_mem[4];           // standalone BN: scale, shift, mean, variance (live in the model)
  dnnl_memory_desc_t view_md;        // flatten: ndims > 0, its output gets a memory viewing it as 4-D
  float *bias;                       // conv: folded bias (O)
  sr_wino *wino;                     // conv run as Winograd (winograd.c; prim, w, wre unused), else NULL
  sr_conv_choice *choice;            // conv: the algorithm it runs and why (else NULL)
} sr_istep;

typedef struct sr_ivalue {
  dnnl_memory_desc_t md;
  dnnl_memory_t mem;
  int buf;   // activation buffer (-1: the user's input)
  int last;  // last step reading it
} sr_ivalue;

struct sr_infer {
  sr_model *m;
  sr_dnn dnn;  // engine, stream, attributes, the shared user scratchpad
  int64_t n;
  sr_istep *steps;
  int n_steps;
  sr_ivalue *vals;
  int n_vals;
  int *val_of;  // per graph node: the value holding its output
  void **bufs;
  size_t *buf_size;
  int n_bufs;
  dnnl_memory_t out_user;
  dnnl_primitive_t out_reorder;
  float *wtmp;  // folded plain weights before their reorder (largest conv)
  float *x_lp;  // bf16 (m->precision when built): the input rounded, read in place of the user's
  sr_infer_options opts;
  float *wino_scratch;  // transformed tiles, shared by every Winograd step (largest need)
  size_t wino_floats;
  uint64_t version, state_version;
  sr_infer_stats stats;
};

// Fill p->steps (first and fused nodes, in/out values) and p->val_of, p->n_vals and every value's last reader
// from the graph alone.
sr_status sr_infer_plan(sr_infer *p, sr_err *err);

// ---- for the ops' plan_* functions ----
// Each node's only consumer, or -1, is one[i] in plan.fuse. A fusion rule: absorb the ReLU that is node i's
// only consumer (linear, BN, add).
void sr_plan_fuse_relu(const sr_model *m, const int *one, int i, sr_istep *s);
static inline int sr_plan_is_op(const sr_model *m, int i, sr_op op) { return i >= 0 && m->nodes[i].op == op; }
// A primitive from a descriptor (attr NULL: the plan's). keep: the pd is returned for queries (the caller
// destroys it), else destroyed.
sr_status sr_plan_prim(sr_infer *p, const void *desc, const_dnnl_primitive_attr_t attr,
                       dnnl_primitive_t *prim, dnnl_primitive_desc_t *keep, sr_err *err);
// A new value (a step's temporary: an input reordered) with this layout; returns its index.
int sr_plan_value(sr_infer *p, const dnnl_memory_desc_t *md);
// Weights of a step: the plain source memory on src (the fold buffer p->wtmp for convolutions, the params
// for linear layers), the primitive's layout, the reorder between them.
sr_status sr_plan_weights(sr_infer *p, sr_istep *s, const dnnl_memory_desc_t *wplain,
                          const dnnl_memory_desc_t *wmd, void *src, sr_err *err);
// A Winograd conv step's transformed weights from p->wtmp, kept once per model for all its plans.
sr_status sr_plan_wino_weights(sr_infer *p, sr_istep *s, sr_err *err);
// plan.run of one-input steps: prim(src = in[0], dst = out).
sr_status sr_plan_run_src_dst(sr_infer *p, const sr_istep *s, sr_err *err);

#endif
