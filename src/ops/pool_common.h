// Internal: oneDNN pooling shared by maxpool.c, avgpool.c and gap.c.
#ifndef SR_POOL_COMMON_H
#define SR_POOL_COMMON_H
#include "exec/infer.h"
sr_status sr_pool_build(sr_tape *t, int i, dnnl_alg_kind_t alg, int kh, int kw, int stride, int pad, sr_err *err);
sr_status sr_pool_forward(sr_tape *t, int i, sr_err *err);
sr_status sr_pool_backward(sr_tape *t, int i, sr_err *err);
sr_status sr_pool_plan_build(sr_infer *p, int t, dnnl_alg_kind_t alg, int64_t kh, int64_t kw, int64_t stride,
                             int64_t pad, sr_err *err);
#endif
