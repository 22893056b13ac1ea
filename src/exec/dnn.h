// Internal: one oneDNN context per executor (a training tape, an inference plan). Not a public header.
// It holds what every primitive of one executor shares: the model's engine and stream, the attributes
// primitives are created with (user-mode scratchpad; the same plus a sum post-op for accumulating
// reorders), and one scratchpad sized for the largest primitive, bound once every primitive exists.
#ifndef SR_DNN_H
#define SR_DNN_H

#include <stddef.h>

#include <oneapi/dnnl/dnnl.h>

#include "simreg/core.h"

// Convert a oneDNN status into an sr_status with a message naming the call.
#define DNNL_TRY(call, err)                                                                   \
  do {                                                                                        \
    dnnl_status_t s_ = (call);                                                                \
    if (s_ != dnnl_success)                                                                   \
      return sr_fail((err), SR_ERR_BACKEND, "oneDNN: %s failed (status %d)", #call, (int)s_); \
  } while (0)

// A model's oneDNN engine and stream (graph.c creates them with the model).
typedef struct sr_engine {
  dnnl_engine_t eng;
  dnnl_stream_t stream;
} sr_engine;

typedef struct sr_dnn {
  sr_engine *e;                    // the model's; not owned
  dnnl_primitive_attr_t attr;      // scratchpad_mode_user
  dnnl_primitive_attr_t attr_sum;  // scratchpad_mode_user + sum post-op (accumulating reorders)
  size_t scratch_size;             // largest need so far (primitives, and what else the executor adds)
  void *scratch_buf;
  dnnl_memory_t scratch;
} sr_dnn;

sr_status sr_dnn_init(sr_dnn *c, sr_engine *e, sr_err *err);
// After every primitive exists: allocate the scratchpad (scratch_size bytes, at least 64).
sr_status sr_dnn_bind_scratch(sr_dnn *c, sr_err *err);
void sr_dnn_free(sr_dnn *c);  // a zeroed context too
static inline void sr_dnn_need_scratch(sr_dnn *c, size_t bytes) {
  if (bytes > c->scratch_size) c->scratch_size = bytes;
}

// ---- memory descriptors (f32) ----
void sr_md(dnnl_memory_desc_t *md, int ndims, const int64_t *dims, dnnl_format_tag_t tag);
void sr_plain_md(dnnl_memory_desc_t *md, int ndims, const int64_t *dims);  // nchw / nc / oihw / x
void sr_any_md(dnnl_memory_desc_t *md, int ndims, const int64_t *dims);
const dnnl_memory_desc_t *sr_pd_md(const_dnnl_primitive_desc_t pd, dnnl_query_t what);

// ---- primitives and memories ----
// attr NULL: the context's (user scratchpad).
sr_status sr_pd_create(sr_dnn *c, dnnl_primitive_desc_t *pd, const void *desc,
                       const_dnnl_primitive_attr_t attr, const_dnnl_primitive_desc_t hint, sr_err *err);
// Create the primitive from pd and account its scratchpad; pd stays the caller's.
sr_status sr_prim_create(sr_dnn *c, const_dnnl_primitive_desc_t pd, dnnl_primitive_t *prim, sr_err *err);
// The same, then destroy pd (also on failure).
sr_status sr_prim_from_pd(sr_dnn *c, dnnl_primitive_desc_t pd, dnnl_primitive_t *prim, sr_err *err);
// handle NULL: oneDNN allocates the buffer.
sr_status sr_mem_create(sr_dnn *c, dnnl_memory_t *mem, const dnnl_memory_desc_t *md, void *handle,
                        sr_err *err);
// A memory with no buffer yet (DNNL_MEMORY_NONE); its handle is set later.
sr_status sr_mem_create_unbound(sr_dnn *c, dnnl_memory_t *mem, const dnnl_memory_desc_t *md, sr_err *err);
// accumulate: dst += src (the sum post-op) instead of dst = src.
sr_status sr_reorder_create(sr_dnn *c, dnnl_primitive_t *prim, const dnnl_memory_desc_t *src,
                            const dnnl_memory_desc_t *dst, int accumulate, sr_err *err);
// Attributes of a fused primitive: user scratchpad, then the post-ops (sum before relu: relu(op + dst)).
// The caller destroys *attr.
sr_status sr_post_ops_attr(int sum, int relu, dnnl_primitive_attr_t *attr, sr_err *err);
// Execute a primitive with nargs (arg, memory) pairs (at most 15); the context's scratchpad is added.
sr_status sr_exec(sr_dnn *c, dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args, sr_err *err);
// Run a reorder primitive: to = from (or += with an accumulating one).
sr_status sr_reorder_run(sr_dnn *c, dnnl_primitive_t p, dnnl_memory_t from, dnnl_memory_t to, sr_err *err);

#endif
