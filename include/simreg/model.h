// Models: a small layer graph with flat parameter/gradient/state buffers, run by oneDNN "tapes".
//
// A model is a list of nodes in topological order (node 0 is the input). Parameters live in one flat
// float buffer (PyTorch layouts: conv OIHW, linear (O,I)), gradients in another of the same size,
// BatchNorm running statistics in a third ("state"). The optimizer, checkpoints, allreduce and the
// regularizer all see these flat vectors.
//
// A tape is the oneDNN executor for one batch size: primitives created once, activations and gradients
// allocated once, blocked layouts inside and reorders only at the boundaries (input, output, features).
// Several tapes of the same batch size can coexist ("slots"), e.g. for the two halves of a pair batch.
#ifndef SIMREG_MODEL_H
#define SIMREG_MODEL_H

#include <stdint.h>

#include "simreg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sr_op {
  SR_OP_INPUT,
  SR_OP_CONV,
  SR_OP_BN,
  SR_OP_RELU,
  SR_OP_MAXPOOL,
  SR_OP_AVGPOOL,
  SR_OP_GAP,
  SR_OP_LINEAR,
  SR_OP_FLATTEN,
  SR_OP_ADD,
  SR_OP_AFFINE,
  SR_OP_ACT,
  SR_OP_CONCAT,
  SR_OP_COUNT
} sr_op;

// Elementwise activations of SR_OP_ACT (imported models): y = f(x) with the node's alpha, beta.
typedef enum sr_act {
  SR_ACT_LEAKY_RELU,  // x > 0 ? x : alpha * x
  SR_ACT_CLIP,        // min(max(x, alpha), beta) (ReLU6: 0, 6)
  SR_ACT_SIGMOID,
  SR_ACT_TANH
} sr_act;

// A model's scores (sr_model_scores): its logits, or a softmax / log-softmax of them: what an imported graph
// that ends in Softmax / LogSoftmax returns. Decisions (argmax), losses and attacks always use the logits.
typedef enum sr_scores { SR_SCORES_LOGITS, SR_SCORES_SOFTMAX, SR_SCORES_LOG_SOFTMAX } sr_scores;

typedef struct sr_node {
  sr_op op;
  int in[2];              // producer nodes (-1: none)
  int c, h, w;            // output shape of one image (linear/flatten: h = w = 1)
  int ic, ih, iw;         // shape of input 0 (one image)
  int k, stride, pad;     // conv / pooling
  int groups, dil;        // conv: groups (1: dense; ic: depthwise), dilation (1: none)
  int pads[4];            // conv: padding top, left, bottom, right (pad = pads[0])
  int bias;               // conv / linear: has a bias
  int64_t p_w, p_b;       // offsets in params: weight/bias, or BN gamma/beta (-1: none)
  int64_t s_mean, s_var;  // BN: offsets of running mean/var in state
  int bn_index;           // BN: index into num_batches_tracked
  double eps, momentum;   // BN
  int act;                // SR_OP_ACT: which sr_act
  double alpha, beta;     // SR_OP_ACT: its parameters
  char name[48];          // PyTorch module path, e.g. "layer1.0.conv1"
} sr_node;

// A conv node's geometry; nodes built by hand with only k, stride, pad (groups, dil, pads 0) read as dense,
// undilated and padded by pad on every side.
static inline int sr_conv_groups(const sr_node *nd) { return nd->groups > 1 ? nd->groups : 1; }
static inline int sr_conv_dil(const sr_node *nd) { return nd->dil > 1 ? nd->dil : 1; }
static inline int sr_conv_pad(const sr_node *nd, int side) {  // side: 0 top, 1 left, 2 bottom, 3 right
  return nd->pads[0] | nd->pads[1] | nd->pads[2] | nd->pads[3] ? nd->pads[side] : nd->pad;
}

// A named tensor of the model, in PyTorch state_dict order and naming.
typedef struct sr_tensor_info {
  char name[64];
  int ndim;
  int64_t shape[4];
  int where;       // 0: params, 1: state (running stats), 2: num_batches_tracked (int64)
  int64_t offset;  // into params/state, or the BN index
  int64_t count;
} sr_tensor_info;

typedef struct sr_model_config {
  // "resnet18", "resnet34", "cnn-small", "mlp", "onnx:PATH" (an imported graph, include/simreg/onnx.h), or
  // "custom" for hand-built graphs
  char arch[256];
  int in_c, in_h, in_w;
  int classes;
  double width;  // channel multiplier for resnets (1.0 = 64,128,256,512)
  // onnx: the feature layers (comma-separated ONNX tensor names, or "" / "auto": the output of the last node
  // of each spatial resolution; include/simreg/onnx.h)
  char features[512];
} sr_model_config;

#define SR_MAX_FEATURES 8
#define SR_MAX_TAPES    16
#define SR_MAX_INFERS   12

typedef struct sr_tape sr_tape;
typedef struct sr_infer sr_infer;
typedef enum sr_precision { SR_PRECISION_F32 = 0, SR_PRECISION_BF16 = 1 } sr_precision;
struct sr_exec_cache;

typedef struct sr_model {
  sr_model_config cfg;
  sr_node *nodes;
  int n_nodes, cap_nodes;
  int feat[SR_MAX_FEATURES];  // nodes whose outputs are the named feature layers
  char feat_name[SR_MAX_FEATURES][64];
  int n_feat;
  int64_t n_params, n_state;
  float *params, *grads, *state;  // flat buffers, allocated by sr_model_finalize
  int64_t *bn_tracked;            // num_batches_tracked per BN layer
  int n_bn;
  sr_tensor_info *tensors;
  int n_tensors;
  uint64_t params_version;  // bump after changing params (optimizer, load) so tapes re-read them
  uint64_t state_version;   // bumped when BN running statistics change (training forward); bump by hand too
  void *engine;             // oneDNN engine + stream (opaque)
  struct sr_exec_cache *exec;  // the executors' caches: tapes, plans, Winograd weights, options (opaque)
  sr_precision precision;      // set with sr_model_set_precision (tapes and plans follow it)
  int finalized;
  int graph_oom;  // an allocation failed while building the graph: its -1 means out of memory, not a bad
                  // shape
  // Called by sr_tape_backward after it has handled node i (from the last node down to 1), when set:
  // gradients of nodes >= i are then final for that pass (the MPI gradient buckets, src/dist).
  void (*grad_hook)(void *ctx, int node);
  void *grad_hook_ctx;
  // SyncBN (src/dist, --sync-bn), when set before the tapes are built: BatchNorm in training mode sums its
  // per-channel statistics (forward: counts, sums, squares; backward: the two gradient sums) over the
  // data-parallel ranks with this in-place allreduce of doubles, so it normalises with the whole batch.
  sr_status (*bn_allreduce)(void *ctx, double *buf, int64_t n, sr_err *err);
  void *bn_allreduce_ctx;
  sr_scores scores;  // what sr_model_scores returns (the importer sets it; 0: logits)
} sr_model;

// ---- building (graph API; the zoo below uses it) ----
sr_status sr_model_init(sr_model *m, const sr_model_config *cfg, sr_err *err);  // adds the input node 0
// A k x k convolution to out_c channels, one stride, the same padding on every side, a bias when bias != 0.
typedef struct sr_conv_spec {
  int out_c, k, stride, pad, bias;
} sr_conv_spec;
int sr_graph_conv(sr_model *m, int in, const sr_conv_spec *s, const char *name);
// A convolution of any geometry (imported graphs): k x k kernel, one stride, dilation, groups (in and out
// channels divisible by them), asymmetric padding (top, left, bottom, right, each < the dilated kernel).
typedef struct sr_conv_geom {
  int k, stride, dil, groups;
  int pads[4];
} sr_conv_geom;
int sr_graph_conv_geom(sr_model *m, int in, int out_c, const sr_conv_geom *g, int bias, const char *name);
int sr_graph_bn(sr_model *m, int in, const char *name);
int sr_graph_relu(sr_model *m, int in);
int sr_graph_maxpool(sr_model *m, int in, int k, int stride, int pad);
int sr_graph_avgpool(sr_model *m, int in, int k, int stride, int pad);
int sr_graph_gap(sr_model *m, int in);
int sr_graph_linear(sr_model *m, int in, int out, int bias, const char *name);
int sr_graph_flatten(sr_model *m, int in);
int sr_graph_add(sr_model *m, int a, int b);
// Constant per-channel y = x * scale[c] + shift[c] (an imported model's Sub/Div/Mul/Add by constants): scale
// and shift are state tensors "<name>.scale", "<name>.shift" (1 and 0 after finalize), not trained.
int sr_graph_affine(sr_model *m, int in, const char *name);
int sr_graph_act(sr_model *m, int in, sr_act act, double alpha, double beta);
// Concatenation along channels of two (C, H, W) outputs with the same H, W.
int sr_graph_concat(sr_model *m, int a, int b);
// Graph functions return the new node index, or -1 on a bad shape/argument (then finalize fails).
sr_status sr_model_add_feature(sr_model *m, int node, const char *name, sr_err *err);
// Allocate params/grads/state and initialise them as PyTorch does (kaiming-uniform a=sqrt(5) for
// conv/linear weights, U(+-1/sqrt(fan_in)) biases, BN gamma 1, beta 0, running mean 0, var 1).
sr_status sr_model_finalize(sr_model *m, sr_rng *rng, sr_err *err);
void sr_model_free(sr_model *m);

// ---- the zoo ----
// resnet18/resnet34: 7x7 stride-1 stem, no max-pool, BasicBlocks, GAP, linear; cnn-small; mlp.
sr_status sr_model_create(sr_model *m, const sr_model_config *cfg, sr_rng *rng, sr_err *err);
const char *sr_model_arch_list(void);
int64_t sr_model_flops(const sr_model *m);  // multiply-adds x2 per image, forward

// ---- running (oneDNN) ----
// Get (create on first use) the tape for batch size n in the given slot (0..3).
sr_status sr_model_tape(sr_model *m, int64_t n, int slot, sr_tape **t, sr_err *err);
// The same for a batch of `groups` equal groups of n/groups images stacked along N ("ghost" BatchNorm): in
// training mode every BatchNorm normalises each group with that group's own batch statistics and updates
// its running statistics once per group, in group order, exactly as `groups` separate tapes of n/groups
// run one after another would; the backward is per group for BatchNorm (dgamma, dbeta summed over groups)
// and over the whole batch for every other layer. Eval mode is the plain batch. groups must divide n; not
// with SyncBN (m->bn_allreduce). A tape is cached per (n, slot, groups); groups 1 is sr_model_tape.
sr_status sr_model_tape_groups(sr_model *m, int64_t n, int groups, int slot, sr_tape **t, sr_err *err);
int64_t sr_tape_batch(const sr_tape *t);
int sr_tape_groups(const sr_tape *t);
// Bytes of activation-gradient buffers the tape holds (nodes share them by backward liveness).
size_t sr_tape_diff_bytes(const sr_tape *t);
// Convolutions that run as Winograd F(4x4, 3x3) on this tape, in all three passes (forward, backward-data,
// and backward-weights unless the convolution has a bias): the inference plan's rule (sr_infer_options),
// where oneDNN picked nChw8c for the input, its gradient and the output; off with sr_model_set_winograd(m,
// 0).
int sr_tape_winograd_convs(const sr_tape *t);
// x: (n, in_c, in_h, in_w) plain, values as the model sees them. out: (n, classes) or the last node's
// output in plain NCHW. training: BN uses batch statistics and updates running stats.
sr_status sr_tape_forward(sr_tape *t, const float *x, int training, float *out, sr_err *err);
// Seed the gradient of a feature layer's output (plain NCHW, same shape as sr_tape_feature gives);
// call after forward, before backward. Adds to what is already there.
sr_status sr_tape_feature_grad(sr_tape *t, int f, const float *g, sr_err *err);
// Backward from dout (same shape as out; may be NULL if only feature gradients are seeded).
// Adds parameter gradients into m->grads; writes the input gradient into dx when dx != NULL.
sr_status sr_tape_backward(sr_tape *t, const float *dout, float *dx, sr_err *err);
// The same backward for the input gradient alone (attacks): no parameter gradient is computed or added,
// which skips every backward-weights convolution. dx is required.
sr_status sr_tape_backward_input(sr_tape *t, const float *dout, float *dx, sr_err *err);
// Copy feature layer f of the last forward into out (plain NCHW).
sr_status sr_tape_feature(sr_tape *t, int f, float *out, sr_err *err);
int64_t sr_model_feature_size(const sr_model *m, int f);  // C*H*W of one image

// Winograd F(4x4, 3x3) for the convolutions its rule picks (sr_infer_options), in the model's tapes and in
// the plans of sr_infer_create / sr_model_infer: on (1, the default) or off (0: every convolution direct).
// Drops the model's tapes and plans (rebuilt on next use). The CLI reads SR_WINOGRAD=0 and calls this.
sr_status sr_model_set_winograd(sr_model *m, int on, sr_err *err);
int sr_model_winograd(const sr_model *m);

// ---- per-convolution algorithm choice (docs/PERFORMANCE.md) ----
// The algorithms a convolution can run as: oneDNN's direct kernel, the project's Winograd F(4x4, 3x3)
// (kernels/winograd.c, nChw8c; in a tape only where oneDNN picked nChw8c), oneDNN's own Winograd
// (dnnl_convolution_winograd, where its primitive descriptor can be created).
typedef enum sr_conv_algo {
  SR_CONV_DIRECT,
  SR_CONV_WINOGRAD,
  SR_CONV_DNNL_WINOGRAD,
  SR_CONV_ALGOS
} sr_conv_algo;
// How tapes and plans pick: RULE, the fixed rule (the Winograd switch above: ours where eligible, or every
// convolution direct); MEASURE, every candidate timed on the executor's batch when it is built (a few
// repetitions, the fastest kept), the choice cached in the model per (executor, shape, batch, threads, CPU
// ISA) and reused by every later tape or plan of that key; DNNL_WINOGRAD, oneDNN's Winograd wherever it
// can be created, else direct. A new model starts at RULE.
typedef enum sr_conv_policy { SR_CONV_RULE, SR_CONV_MEASURE, SR_CONV_DNNL_WINOGRAD_ALL } sr_conv_policy;
// One cached choice. key: "plan[+sum][+relu]|train c.. o.. k.. s.. p.. g.. d.. HxW n.. t.. ISA" (a plan
// step's post-ops are part of its key); ms: per candidate the fastest of 9 runs (3 rounds over the candidates
// in turn) in milliseconds (a tape: forward + backward-data
// + backward-weights; a plan step: the fused convolution plus the reorders Winograd forces on its
// neighbours), -1 where not a candidate or not timed (a choice given, not measured).
// Where a choice came from (simreg info --plan prints it; not saved in the JSON files): the policy's fixed
// setting (RULE, DNNL_WINOGRAD: nothing timed or looked up), timed by this process, added through
// sr_model_add_conv_choices, read from a run (sr_run_load_conv_choices) or from the machine-wide cache
// (sr_conv_cache_load, simreg/train.h).
typedef enum sr_conv_source {
  SR_CONV_SRC_SETTING,
  SR_CONV_SRC_MEASURED,
  SR_CONV_SRC_GIVEN,
  SR_CONV_SRC_RUN,
  SR_CONV_SRC_CACHE
} sr_conv_source;
typedef struct sr_conv_choice {
  char key[120];
  sr_conv_algo algo;
  double ms[SR_CONV_ALGOS];
  sr_conv_source source;
} sr_conv_choice;
// Drops the model's tapes and plans (rebuilt with the new policy on next use); the cached choices stay.
sr_status sr_model_set_conv_policy(sr_model *m, sr_conv_policy p, sr_err *err);
sr_conv_policy sr_model_conv_policy(const sr_model *m);
// The model's cached choices (valid until the next tape or plan is built or choices are added).
int sr_model_conv_choices(const sr_model *m, const sr_conv_choice **out);
// Add (or replace, by key) choices, marked SR_CONV_SRC_GIVEN: a measuring tape or plan then takes them
// instead of timing. Refuses an algorithm out of range.
sr_status sr_model_add_conv_choices(sr_model *m, const sr_conv_choice *c, int n, sr_err *err);
const char *sr_conv_algo_name(sr_conv_algo a);      // "direct", "winograd", "dnnl-winograd"
const char *sr_conv_source_name(sr_conv_source s);  // "setting", "measured", "given", "run", "cache"
int sr_conv_algo_parse(const char *s);              // the name back, -1 if unknown
// The CLI's SR_CONV_ALGO names: measure | direct (RULE, Winograd off) | winograd (RULE, on: ours where
// eligible) | rule (RULE, on where native) | dnnl-winograd. Applies the setting to m; SR_ERR_ARG if unknown.
sr_status sr_model_set_conv_algo(sr_model *m, const char *name, sr_err *err);
// The setting's name back ("measure", "direct", "winograd", "dnnl-winograd").
const char *sr_model_conv_algo(const sr_model *m);

// Convenience: tape(n, slot 0) forward.
sr_status sr_model_forward(sr_model *m, const float *x, int64_t n, int training, float *out, sr_err *err);
void sr_model_zero_grad(sr_model *m);
int64_t sr_model_out_size(const sr_model *m);  // per image

// ---- inference plans (forward only, eval mode) ----
// A plan runs the model's eval-mode forward for one batch size with BatchNorm folded into the preceding
// convolution's weights and bias, and ReLU and residual adds fused into the convolution as oneDNN post-ops
// (sum, then relu: relu(bn(conv(x)) + shortcut)). No gradient buffers; activations share buffers by
// liveness. Folded weights are recomputed when params_version or state_version moved. Outputs are the
// logits (the last node), equal to sr_model_forward(training = 0) up to float rounding.
sr_status sr_infer_create(sr_model *m, int64_t n, sr_infer **p, sr_err *err);
// Plan options. Winograd: 3x3 stride-1 pad-1 convolutions with >= 32 input and output channels, both
// multiples of 8, run as Winograd F(4x4, 3x3) instead of oneDNN's direct convolution (docs/PERFORMANCE.md).
typedef struct sr_infer_options {
  int winograd;         // 1: use the rule above; 0: every convolution direct
  sr_conv_policy conv;  // SR_CONV_RULE (0): the winograd field decides; else as sr_model_set_conv_policy
} sr_infer_options;
// Defaults: Winograd where it is native (below). sr_infer_create and sr_model_infer use the model's setting
// (sr_model_set_winograd), which starts at sr_wino_native().
void sr_infer_default_options(sr_infer_options *o);
// 1 when oneDNN's blocked f32 layout on this CPU is nChw8c (AVX2 and below), the layout the Winograd kernels
// work in; 0 on AVX-512 CPUs, where oneDNN blocks channels by 16: there the direct oneDNN convolutions run
// (Winograd can still be asked for in a plan, at the cost of layout reorders around it).
int sr_wino_native(void);
sr_status sr_infer_create_opts(sr_model *m, int64_t n, const sr_infer_options *o, sr_infer **p, sr_err *err);
// x: (n, in_c, in_h, in_w) plain -> out: (n, classes) plain.
sr_status sr_infer_forward(sr_infer *p, const float *x, float *out, sr_err *err);
sr_status sr_infer_refresh(sr_infer *p, sr_err *err);  // refold now (after editing params by hand)
void sr_infer_free(sr_infer *p);
typedef struct sr_infer_stats {
  int steps;          // primitives run per forward (reorders of inputs and sum operands included)
  int bn_folded;      // BatchNorms folded into convolutions
  int relu_fused;     // ReLUs run as a post-op (of a convolution, linear, add) or inside a BN primitive
  int add_fused;      // residual adds run as a convolution's sum post-op
  int add_in_place;   // of those, how many wrote into the shortcut's buffer (no copy)
  int winograd;       // convolutions run as Winograd F(4x4, 3x3) (the rest: oneDNN direct)
  int dnnl_winograd;  // convolutions run as oneDNN's Winograd (dnnl_convolution_winograd)
  int64_t act_bytes;  // activation buffers
  int64_t weight_bytes;
} sr_infer_stats;
void sr_infer_get_stats(const sr_infer *p, sr_infer_stats *s);
// The algorithm the plan runs node's convolution with, and the choice behind it (key, measured times);
// -1 where node is not the first node of a convolution step.
int sr_infer_conv_choice(const sr_infer *p, int node, sr_conv_choice *out);
// The same for a tape (its three passes run the one algorithm); -1 where node is not a convolution.
int sr_tape_conv_choice(const sr_tape *t, int node, sr_conv_choice *out);
// Convenience: the model's cached plan for batch n (created on first use, at most SR_MAX_INFERS kept), run.
sr_status sr_model_infer(sr_model *m, const float *x, int64_t n, float *out, sr_err *err);
void sr_model_free_infers(sr_model *m);
// The model's scores for n images (n x classes): sr_model_infer's logits with m->scores applied, e.g. the
// probabilities of a graph imported with its final Softmax. Argmax is the same as the logits'.
sr_status sr_model_scores(sr_model *m, const float *x, int64_t n, float *out, sr_err *err);
// z (n x k logits, in place) -> the scores s (softmax / log-softmax in double, rounded to float).
void sr_scores_apply(sr_scores s, float *z, int64_t n, int k);
const char *sr_scores_name(sr_scores s);  // "logits", "softmax", "log_softmax"

// ---- precision ----
// --precision f32 | bf16. bf16 is mixed precision: activations, activation gradients (the input gradient
// too) and conv/linear weights are bf16 numbers at every layer boundary; sums are accumulated in f32; master
// weights, weight gradients, biases, BatchNorm parameters and statistics, the loss and the regularizer stay
// f32. The engine rounds (f32 kernels on bf16-rounded operands): the numbers of bf16 kernels with f32
// accumulation, on any CPU, without their speed (docs/PERFORMANCE.md).
sr_status sr_precision_parse(const char *s, sr_precision *p, sr_err *err);  // NULL -> f32; else SR_ERR_ARG
const char *sr_precision_name(sr_precision p);                              // "f32" / "bf16"
// Switch a finalized model's precision: its tapes and plans are dropped and rebuilt on next use.
sr_status sr_model_set_precision(sr_model *m, sr_precision p, sr_err *err);
// x[i] = the nearest bf16 number (ties to even), in place; NaN stays NaN, overflow becomes infinity.
void sr_bf16_round(float *x, int64_t n);
void sr_bf16_round_copy(float *dst, const float *src, int64_t n);  // dst[i] = src[i] rounded (one pass)
const char *sr_cpu_isa_name(void);  // oneDNN's effective ISA: "avx2", "avx512_core_bf16", ...

// ---- reference path (double precision, plain C): the tests' oracle ----
typedef struct sr_ref_run sr_ref_run;
// Forward in double with the model's parameters (converted), keeping activations for backward.
sr_status sr_ref_forward(sr_model *m, const double *x, int64_t n, int training, double *out, sr_ref_run **run,
                         sr_err *err);
// dgrads: n_params doubles (added to); dx may be NULL.
sr_status sr_ref_backward(sr_ref_run *run, const double *dout, double *dgrads, double *dx, sr_err *err);
const double *sr_ref_node_output(const sr_ref_run *run, int node);
void sr_ref_free(sr_ref_run *run);
// The input of a reference forward: n images x, training or eval mode, the double parameters (params NULL:
// the model's).
// groups (0 or 1: one batch): training-mode BatchNorm statistics per group of n/groups images, as
// sr_model_tape_groups.
typedef struct sr_ref_input {
  const double *params;
  const double *x;
  int64_t n;
  int training;
  int groups;
} sr_ref_input;
// sr_ref_forward with the double parameters given (finite differences).
sr_status sr_ref_forward_params(sr_model *m, const sr_ref_input *in, double *out, sr_ref_run **run,
                                sr_err *err);

// ---- weights I/O: safetensors with PyTorch state_dict names ----
sr_status sr_model_save(const sr_model *m, const char *path, sr_err *err);
sr_status sr_model_load(sr_model *m, const char *path, sr_err *err);
// Save with extra tensors and metadata (checkpoints: optimizer state, progress). extra_meta: key, value,
// ..., NULL. Load from an opened file, ignoring tensors whose names start with one of the
// comma-separated prefixes in ignore_prefix (may be NULL).
struct sr_st_entry;
struct sr_st_file;
sr_status sr_model_save_with(const sr_model *m, const char *path, const struct sr_st_entry *extra,
                             int n_extra, const char *const *extra_meta, sr_err *err);
sr_status sr_model_load_st(sr_model *m, const struct sr_st_file *f, const char *path,
                           const char *ignore_prefix, sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
