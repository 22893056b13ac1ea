// The oneDNN context shared by the executors (dnn.h): attributes, scratchpad accounting, descriptor,
// primitive, memory and reorder helpers.
#include <string.h>

#include "dnn.h"

sr_status sr_dnn_init(sr_dnn *c, sr_engine *e, sr_err *err) {
  *c = (sr_dnn){.e = e};
  dnnl_post_ops_t po = NULL;
  int bad = dnnl_primitive_attr_create(&c->attr) || dnnl_primitive_attr_create(&c->attr_sum) ||
            dnnl_primitive_attr_set_scratchpad_mode(c->attr, dnnl_scratchpad_mode_user) ||
            dnnl_primitive_attr_set_scratchpad_mode(c->attr_sum, dnnl_scratchpad_mode_user) ||
            dnnl_post_ops_create(&po) || dnnl_post_ops_append_sum(po, 1.0f) ||
            dnnl_primitive_attr_set_post_ops(c->attr_sum, po);
  if (po) dnnl_post_ops_destroy(po);
  return bad ? sr_fail(err, SR_ERR_BACKEND, "oneDNN: cannot create primitive attributes") : SR_OK;
}

sr_status sr_dnn_bind_scratch(sr_dnn *c, sr_err *err) {
  size_t size = c->scratch_size ? c->scratch_size : 64;
  if (!(c->scratch_buf = sr_alloc(size)))
    return sr_fail(err, SR_ERR_NOMEM, "cannot allocate a oneDNN scratchpad of %zu bytes", size);
  dnnl_memory_desc_t smd;
  dnnl_dims_t sd = {(int64_t)size};
  DNNL_TRY(dnnl_memory_desc_init_by_tag(&smd, 1, sd, dnnl_u8, dnnl_a), err);
  return sr_mem_create(c, &c->scratch, &smd, c->scratch_buf, err);
}

void sr_dnn_free(sr_dnn *c) {
  if (c->scratch) dnnl_memory_destroy(c->scratch);
  if (c->attr) dnnl_primitive_attr_destroy(c->attr);
  if (c->attr_sum) dnnl_primitive_attr_destroy(c->attr_sum);
  sr_free(c->scratch_buf);
  *c = (sr_dnn){0};
}

void sr_md(dnnl_memory_desc_t *md, int ndims, const int64_t *dims, dnnl_format_tag_t tag) {
  dnnl_dims_t d = {0};
  for (int i = 0; i < ndims; i++) d[i] = dims[i];
  dnnl_memory_desc_init_by_tag(md, ndims, d, dnnl_f32, tag);
}

void sr_plain_md(dnnl_memory_desc_t *md, int ndims, const int64_t *dims) {
  sr_md(md, ndims, dims, ndims == 4 ? dnnl_abcd : ndims == 2 ? dnnl_ab : dnnl_a);
}

void sr_any_md(dnnl_memory_desc_t *md, int ndims, const int64_t *dims) {
  sr_md(md, ndims, dims, dnnl_format_tag_any);
}

const dnnl_memory_desc_t *sr_pd_md(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
  return dnnl_primitive_desc_query_md(pd, what, 0);
}

sr_status sr_pd_create(sr_dnn *c, dnnl_primitive_desc_t *pd, const void *desc,
                       const_dnnl_primitive_attr_t attr, const_dnnl_primitive_desc_t hint, sr_err *err) {
  DNNL_TRY(dnnl_primitive_desc_create(pd, desc, attr ? attr : c->attr, c->e->eng, hint), err);
  return SR_OK;
}

sr_status sr_prim_create(sr_dnn *c, const_dnnl_primitive_desc_t pd, dnnl_primitive_t *prim, sr_err *err) {
  const dnnl_memory_desc_t *sp = sr_pd_md(pd, dnnl_query_scratchpad_md);
  if (sp) sr_dnn_need_scratch(c, dnnl_memory_desc_get_size(sp));
  dnnl_status_t s = dnnl_primitive_create(prim, pd);
  if (s != dnnl_success)
    return sr_fail(err, SR_ERR_BACKEND, "oneDNN: primitive creation failed (%d)", (int)s);
  return SR_OK;
}

sr_status sr_prim_from_pd(sr_dnn *c, dnnl_primitive_desc_t pd, dnnl_primitive_t *prim, sr_err *err) {
  sr_status s = sr_prim_create(c, pd, prim, err);
  dnnl_primitive_desc_destroy(pd);
  return s;
}

sr_status sr_mem_create(sr_dnn *c, dnnl_memory_t *mem, const dnnl_memory_desc_t *md, void *handle,
                        sr_err *err) {
  DNNL_TRY(dnnl_memory_create(mem, md, c->e->eng, handle ? handle : DNNL_MEMORY_ALLOCATE), err);
  return SR_OK;
}

sr_status sr_mem_create_unbound(sr_dnn *c, dnnl_memory_t *mem, const dnnl_memory_desc_t *md, sr_err *err) {
  DNNL_TRY(dnnl_memory_create(mem, md, c->e->eng, DNNL_MEMORY_NONE), err);
  return SR_OK;
}

sr_status sr_reorder_create(sr_dnn *c, dnnl_primitive_t *prim, const dnnl_memory_desc_t *src,
                            const dnnl_memory_desc_t *dst, int accumulate, sr_err *err) {
  dnnl_primitive_desc_t pd;
  DNNL_TRY(dnnl_reorder_primitive_desc_create(&pd, src, c->e->eng, dst, c->e->eng,
                                              accumulate ? c->attr_sum : c->attr),
           err);
  return sr_prim_from_pd(c, pd, prim, err);
}

sr_status sr_post_ops_attr(int sum, int relu, dnnl_primitive_attr_t *attr, sr_err *err) {
  dnnl_post_ops_t po = NULL;
  *attr = NULL;
  if (dnnl_primitive_attr_create(attr) ||
      dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user) ||
      dnnl_post_ops_create(&po) || (sum && dnnl_post_ops_append_sum(po, 1.0f)) ||
      (relu && dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.f, 0.f)) ||
      dnnl_primitive_attr_set_post_ops(*attr, po)) {
    if (po) dnnl_post_ops_destroy(po);
    if (*attr) dnnl_primitive_attr_destroy(*attr);
    *attr = NULL;
    return sr_fail(err, SR_ERR_BACKEND, "oneDNN: cannot create post-op attributes");
  }
  dnnl_post_ops_destroy(po);
  return SR_OK;
}

sr_status sr_exec(sr_dnn *c, dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args, sr_err *err) {
  dnnl_exec_arg_t a[16];
  if (nargs < 0 || nargs > 15) return sr_fail(err, SR_ERR_ARG, "sr_exec: %d arguments (at most 15)", nargs);
  memcpy(a, args, sizeof(dnnl_exec_arg_t) * (size_t)nargs);
  a[nargs] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, c->scratch};
  DNNL_TRY(dnnl_primitive_execute(p, c->e->stream, nargs + 1, a), err);
  return SR_OK;
}

sr_status sr_reorder_run(sr_dnn *c, dnnl_primitive_t p, dnnl_memory_t from, dnnl_memory_t to, sr_err *err) {
  dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
  return sr_exec(c, p, 2, a, err);
}
