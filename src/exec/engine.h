// Internal: the training tape (tape.c) as the op files see it, and the op vtable every executor calls (each
// op's file in src/ops defines its sr_layer_ops; src/ops/registry.c maps sr_op to it). Not a public header.
#ifndef SR_ENGINE_H
#define SR_ENGINE_H

#include <oneapi/dnnl/dnnl.h>

#include "dnn.h"
#include "kernels/bf16.h"
#include "simreg/layers.h"
#include "simreg/model.h"

#define SR_TN_MEMS  20
#define SR_TN_PRIMS 12

// Per-node state of a tape. Each layer file documents what it keeps in mem[] / prim[].
typedef struct sr_tnode {
  dnnl_memory_desc_t md;  // layout of this node's output (and of its gradient)
  dnnl_memory_t dst;      // output
  dnnl_memory_t diff;     // gradient w.r.t. the output; its buffer is bound by liveness (tape.c bind_diffs)
  dnnl_memory_t dtmp;     // same layout as diff, backed by the tape's shared temp buffer
  int diff_written;       // diff holds a value this backward pass (else it is garbage)
  int diff_aliased;       // diff shares its consumer's diff buffer (single-consumer residual-add input)
  int diff_alias;         // with diff_aliased: the add node whose diff buffer this one shares
  int fused;  // BN, add: index of the ReLU fused into it; ReLU: index of its BN or add (0: not fused)
  dnnl_primitive_t prim[SR_TN_PRIMS];
  dnnl_memory_t mem[SR_TN_MEMS];
  dnnl_memory_desc_t mds[SR_TN_MEMS];
  uint64_t version;  // params_version this node's reordered weights reflect
  int round_out,
      round_diff;        // bf16: the output / gradient needs rounding (else it holds bf16 values already)
  struct sr_wino *wino;  // conv run as Winograd: [0] forward, [1] backward-data (winograd_train.c); else NULL
  sr_conv_choice *choice;  // conv: the algorithm its passes run and why (else NULL)
} sr_tnode;

struct sr_tape {
  sr_model *m;
  sr_dnn dnn;  // engine, stream, attributes, the shared user scratchpad (also Winograd's)
  int64_t n;
  int groups;  // ghost BatchNorm: n is groups x n/groups images, BN statistics per group (batchnorm.c)
  sr_tnode *tn;
  void *tmp_buf;  // shared temp for accumulating gradients into fanned-out nodes
  size_t tmp_size;
  float *wino_u;     // transformed weights, shared by every Winograd conv (rebuilt at each use)
  float *wino_work;  // per-thread temp of the weight transform
  size_t wino_u_floats, wino_work_floats;
  void **diff_bufs;  // gradient buffers shared by nodes whose backward lifetimes do not overlap
  int n_diff_bufs;
  size_t diff_bytes;       // their total size
  float *x_lp;             // bf16 (m->precision): the input rounded, bound as node 0's output
  double *sync_buf;        // SyncBN: 2*C+1 doubles for the largest BN (NULL without m->bn_allreduce)
  dnnl_memory_t in_user;   // plain user input (handle set per call)
  dnnl_memory_t out_user;  // plain user output
  dnnl_primitive_t out_reorder, dout_reorder;
  dnnl_memory_t dx_user;  // plain input gradient
  dnnl_primitive_t dx_reorder;
  dnnl_primitive_t feat_reorder[SR_MAX_FEATURES], featg_reorder[SR_MAX_FEATURES];
  dnnl_primitive_t featg_sum_reorder[SR_MAX_FEATURES];
  dnnl_memory_t feat_user[SR_MAX_FEATURES];
  int *consumers;   // per node: how many nodes (and feature reads) use its output
  int training;     // mode of the last forward
  int want_dx;      // set during backward: whether node 0 needs its gradient
  int want_params;  // set during backward: whether parameter gradients are computed (0: input only)
};

// One node's step on the reference path. Forward reads x0 / x1 (x1: a second input or NULL), writes y and
// aux (ref.aux_size doubles kept for backward) and, in training mode, may update the running statistics st;
// backward reads dy and adds into dx0, dx1 and dp (each may be NULL). p, st, dp: the whole flat buffers
// (the node's p_w / p_b / s_mean / s_var index them).
typedef struct sr_ref_io {
  const sr_node *nd;
  const double *p;
  double *st;
  int training;
  int64_t n;   // batch
  int groups;  // training-mode BatchNorm statistics per group of n/groups images (1: the whole batch)
  const double *x0, *x1;
  double *y, *aux;
  const double *dy;
  double *dx0, *dx1, *dp;
} sr_ref_io;

// Layer vtable: one per op, defined in the op's file, in three parts: the training tape, the reference path
// and the inference plan.
struct sr_istep;
typedef struct sr_tape_ops {  // training tape (tape.c): primitives and buffers, one forward, one backward
  sr_status (*build)(sr_tape *t, int i, sr_err *err);
  sr_status (*forward)(sr_tape *t, int i, sr_err *err);
  sr_status (*backward)(sr_tape *t, int i, sr_err *err);
} sr_tape_ops;
typedef struct sr_ref_ops {                      // reference path (ref.c; double, plain layouts)
  void (*forward)(const struct sr_ref_io *io);   // writes io->y (and io->aux)
  void (*backward)(const struct sr_ref_io *io);  // adds into io->dx0 / io->dx1 / io->dp
  int64_t (*aux_size)(const sr_node *nd, const sr_node *in, int64_t N);  // doubles kept for backward
} sr_ref_ops;
// Inference plan (infer.h, infer.c; NULL build: the op cannot start a step). fuse: which of the following
// nodes the step starting at node i absorbs (one[]: each node's only consumer or -1; NULL: none); build:
// primitives and the output value's layout of step t; refresh: refold weights after params_version or
// state_version moved (NULL: nothing to do); run: one forward.
typedef struct sr_plan_ops {
  void (*fuse)(const sr_model *m, const int *one, int i, struct sr_istep *s);
  sr_status (*build)(sr_infer *p, int t, sr_err *err);
  sr_status (*refresh)(sr_infer *p, struct sr_istep *s, sr_err *err);
  sr_status (*run)(sr_infer *p, const struct sr_istep *s, sr_err *err);
  int keeps_values;  // bf16: the step outputs values of its (bf16) input, or 0: no rounding needed
} sr_plan_ops;
typedef struct sr_layer_ops {
  const char *name;
  sr_tape_ops tape;
  sr_ref_ops ref;
  int64_t (*flops)(const sr_node *nd, const sr_node *in);  // per image, forward
  sr_plan_ops plan;
} sr_layer_ops;

// The ops (src/ops/<op>.c), registered in src/ops/registry.c.
extern const sr_layer_ops sr_ops_input, sr_ops_conv, sr_ops_bn, sr_ops_relu, sr_ops_maxpool, sr_ops_avgpool,
    sr_ops_gap, sr_ops_linear, sr_ops_flatten, sr_ops_add, sr_ops_affine, sr_ops_act, sr_ops_concat;
const sr_layer_ops *sr_layer_ops_for(sr_op op);

// Drop a model's tapes (tape.c) and its plans' shared Winograd weights (infer.c).
void sr_model_free_tapes(sr_model *m);
void sr_model_free_wino_cache(sr_model *m);

// ---- per-convolution algorithm choice (algo.c) ----
#define SR_ALGO_REPS   3  // timed runs per candidate and round (after one warm-up); the fastest counts
#define SR_ALGO_ROUNDS 3  // rounds over all candidates in turn: the fastest of every round counts
// "plan+sum+relu c64 o64 k3 s1 p1,1,0,0 g1 d1 32x32 n64 t2 avx512_core": what a choice is cached by.
void sr_conv_key(char *key, size_t n, const char *exec, const sr_node *nd, int64_t batch);
const sr_conv_choice *sr_conv_choice_find(const sr_model *m, const char *key);
// The same, marking the entry as taken by a tape or plan (what the run records: sr_conv_choice_recorded).
const sr_conv_choice *sr_conv_choice_take(sr_model *m, const char *key);
// Whether the model's choice i belongs in the run's record (config.json, RUN/conv_algo.json): everything
// but a machine-cache entry no tape or plan took.
int sr_conv_choice_recorded(const sr_model *m, int i);
sr_status sr_conv_choice_put(sr_model *m, const sr_conv_choice *c, sr_err *err);  // add or replace, by key
sr_status sr_conv_choice_add_new(sr_model *m, const sr_conv_choice *c, sr_err *err);  // add; a key kept
void sr_model_free_conv_choices(sr_model *m);
void sr_conv_choice_clear(sr_conv_choice *c, const char *key);  // key set, every time -1, source SETTING
int sr_conv_choice_best(sr_conv_choice *c);  // the fastest timed one (direct if none); source MEASURED
void sr_conv_choice_fold(sr_conv_choice *c, const double *ms);  // keep the faster of c->ms[a] and ms[a]
typedef sr_status (*sr_timed_fn)(void *ctx, sr_err *err);
// One warm-up call, then SR_ALGO_REPS timed ones: the fastest in milliseconds.
sr_status sr_time_median(sr_timed_fn fn, void *ctx, double *ms, sr_err *err);
// A primitive built from pd on its own zeroed memories (and scratchpad), timed with sr_time_median.
sr_status sr_time_pd(sr_dnn *c, const_dnnl_primitive_desc_t pd, double *ms, sr_err *err);
// A reorder between two layouts timed the same way (0 when they are equal).
sr_status sr_time_reorder(sr_dnn *c, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, double *ms,
                          sr_err *err);

// ---- tape helpers for the op files (tape.c; the oneDNN ones, on t->dnn, are dnn.h's) ----
// The node's output memory descriptor as a consumer's src: producer's md.
const dnnl_memory_desc_t *sr_in_md(const sr_tape *t, int i, int k);
// Set up this node's dst and diff memories with the given md (diff's buffer is bound after build).
sr_status sr_node_outputs(sr_tape *t, int i, const dnnl_memory_desc_t *md, sr_err *err);
// Gradient flowing to input k of node i: returns the memory a backward primitive should write into
// (the producer's diff, or the shared temp if the producer already holds a gradient); call
// sr_diff_done afterwards to accumulate. Returns NULL when input k needs no gradient (node 0 during
// training without dx).
dnnl_memory_t sr_diff_target(sr_tape *t, int i, int k);
void sr_diff_done(sr_tape *t, int i, int k);
// Weights of a conv (O*(C/groups)*K*K) or linear (O*fan_in) node; 0 for the others.
static inline int64_t sr_node_weight_count(const sr_node *nd) {
  if (nd->op == SR_OP_CONV) return (int64_t)nd->c * (nd->ic / sr_conv_groups(nd)) * nd->k * nd->k;
  return nd->op == SR_OP_LINEAR ? (int64_t)nd->c * nd->ic * nd->ih * nd->iw : 0;
}
// Float pointers into params/grads for node parameters: the f32 master parameters. bf16 weights are rounded
// where the layer copies them (weights.c, Winograd's transform, the plan's refresh): no second copy of the
// parameters.
static inline float *sr_param(const sr_tape *t, int64_t off) { return t->m->params + off; }
static inline float *sr_grad(const sr_tape *t, int64_t off) { return t->m->grads + off; }
void sr_add_floats(float *dst, const float *src, int64_t n);
// Layers with weights (conv2d, linear) keep these slots: prims 0 fwd, 1 bwd-data, 2 bwd-weights,
// 3 reorder W -> fwd layout, 4 reorder W -> bwd-data layout, 5 accumulate dW into grads; mems 0 W (plain,
// in params), 1 W fwd layout, 2 W bwd-data layout (NULL: same as 1), 3 dW in oneDNN's layout, 4 dW plain
// (in grads), 5 bias (in params), 6 dbias temp. Layer-specific slots start after them.
enum { SR_WP_FWD, SR_WP_BWD_D, SR_WP_BWD_W, SR_WP_RW, SR_WP_RWB, SR_WP_RDW, SR_WP_NEXT };
enum { SR_WM_W, SR_WM_WF, SR_WM_WB, SR_WM_DW, SR_WM_DWU, SR_WM_B, SR_WM_DB, SR_WM_NEXT };
// After mds[SR_WM_WF/WB/DW] are set from the primitive descriptors: memories and reorders.
sr_status sr_weights_build(sr_tape *t, int i, const dnnl_memory_desc_t *w_plain,
                           const dnnl_memory_desc_t *b_md, sr_err *err);
sr_status sr_weights_refresh(sr_tape *t, int i, sr_err *err);     // before forward
sr_status sr_weights_accumulate(sr_tape *t, int i, sr_err *err);  // after backward-weights
dnnl_memory_t sr_weights_for_bwd_data(const sr_tape *t, int i);
// Buffers shared by liveness (tape gradients, plan activations): among buffers with busy[b] == 0 the
// smallest that fits, else the largest free one grown to need, else a new one (*nb grows). Returns it.
int sr_fit_buffer(size_t *size, const int *busy, int *nb, size_t need);
// BN+ReLU fusion (a BN whose only consumer is a ReLU): in training the fused BN backward runs from the
// ReLU node with the ReLU's output gradient (batchnorm.c).
sr_status sr_bn_backward_fused(sr_tape *t, int bn, sr_err *err);

#endif
