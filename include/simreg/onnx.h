// ONNX models: import a CNN graph (as torch.onnx.export writes it, opsets 9-17) as an sr_model, and export a
// model imported that way back to ONNX with its current weights. docs/ONNX.md lists the operators.
//
// Parsing uses protobuf-c with C generated at build time from Debian's onnx.proto. Every problem with the
// file (not ONNX, truncated, an unsupported operator or attribute, shapes that do not fit or cannot be
// resolved, missing external data, absurd sizes) is an error naming the file; nothing is printed.
#ifndef SIMREG_ONNX_H
#define SIMREG_ONNX_H

#include "simreg/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_onnx_opts {
  int in_c, in_h, in_w;  // 0: read from the graph's input; else required to match it (or to resolve
                         // symbolic dimensions)
  int classes;           // 0: from the graph's output; else checked
  // Feature layers: comma-separated ONNX tensor names, or NULL / "" / "auto": the output of the last node of
  // each spatial resolution (at most SR_MAX_FEATURES, the deepest kept).
  const char *features;
} sr_onnx_opts;

typedef struct sr_onnx_info {
  int64_t ir_version, opset;
  int softmax;                   // the graph ends in a Softmax (dropped: decisions and losses use the logits)
  char input[128], output[128];  // the graph's input and output tensor names
} sr_onnx_info;

// Build and finalize *m from the ONNX file at path: graph nodes, the initializers as weights (tensor names =
// ONNX initializer names), BatchNorm running statistics, constant pre-processing (Sub/Div/Mul/Add by
// constants) as state. m->cfg.arch becomes "onnx:<path>". info may be NULL.
sr_status sr_model_from_onnx(const char *path, const sr_onnx_opts *opts, sr_model *m, sr_onnx_info *info,
                             sr_err *err);
// Import from a buffer (the fuzzer); name is used in messages and to find external data (its directory).
sr_status sr_model_from_onnx_buffer(const void *buf, size_t n, const char *name, const sr_onnx_opts *opts,
                                    sr_model *m, sr_onnx_info *info, sr_err *err);
// The supported operators, comma-separated (for messages and docs).
const char *sr_onnx_supported_ops(void);

// Write m (imported from the ONNX file src) to dst: src's graph with every initializer the model owns
// replaced by the model's current values (BatchNorm running statistics included), written atomically.
sr_status sr_onnx_export(const sr_model *m, const char *src, const char *dst, sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
