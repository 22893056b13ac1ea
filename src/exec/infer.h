// Internal: inference plans (infer_plan.c decides the fusion, infer.c builds and runs the primitives).
#ifndef SR_INFER_H
#define SR_INFER_H

#include "engine.h"
#include "kernels/winograd.h"

typedef enum sr_istep_kind { SR_IS_CONV, SR_IS_LINEAR, SR_IS_BN, SR_IS_RELU, SR_IS_POOL, SR_IS_ADD, SR_IS_FLATTEN } sr_istep_kind;

// One fused operation. A convolution step covers conv [-> BN] [-> add] [-> ReLU]; a linear, BN or add step
// covers the op [-> ReLU]; the others one node. Every covered node's value is the step's output: fusion
// only swallows a node whose single consumer is the next node of the group.
typedef struct sr_istep {
  sr_istep_kind kind;
  int node;             // the step's first node (conv, linear, bn, relu, pool, add, flatten)
  int bn, add, relu;    // fused nodes (-1: none)
  int last;             // the last node the step covers
  int in[2];            // values read: in[0] the input, in[1] the add's other operand (-1: none)
  int out;              // value written
  int src_tmp;          // conv: in[0] reordered into the layout the convolution picked (-1: none)
  int in_place;         // conv+add: dst is in[1]'s buffer (else in[1] is copied into dst first)
  dnnl_primitive_t prim, pre, copy, wre;  // the op; src reorder; sum-operand copy; weights reorder
  dnnl_memory_t w, wplain, b, view;       // weights (primitive layout, plain source), bias, flatten's 4-D view
  dnnl_memory_t bn_mem[4];                // standalone BN: scale, shift, mean, variance (live in the model)
  dnnl_memory_desc_t view_md;
  float *bias;          // conv: folded bias (O)
  sr_wino *wino;        // conv run as Winograd (winograd.c; prim, w, wre unused), else NULL
} sr_istep;

typedef struct sr_ivalue {
  dnnl_memory_desc_t md;
  dnnl_memory_t mem;
  int buf;              // activation buffer (-1: the user's input)
  int last;             // last step reading it
} sr_ivalue;

struct sr_infer {
  sr_model *m;
  sr_dnn dnn;           // engine, stream, attributes, the shared user scratchpad
  int64_t n;
  sr_istep *steps;
  int n_steps;
  sr_ivalue *vals;
  int n_vals;
  int *val_of;          // per graph node: the value holding its output
  void **bufs;
  size_t *buf_size;
  int n_bufs;
  dnnl_memory_t out_user;
  dnnl_primitive_t out_reorder;
  float *wtmp;          // folded plain weights before their reorder (largest conv)
  float *x_lp;          // bf16 (m->precision when built): the input rounded, read in place of the user's
  sr_infer_options opts;
  float *wino_scratch;  // transformed tiles, shared by every Winograd step (largest need)
  size_t wino_floats;
  uint64_t version, state_version;
  sr_infer_stats stats;
};

// Fill p->steps (kinds, fused nodes, in/out values) and p->val_of, p->n_vals and every value's last reader
// from the graph alone.
sr_status sr_infer_plan(sr_infer *p, sr_err *err);

#endif
