// Weight plumbing shared by the layers with weights (conv2d, linear): the flat PyTorch-layout parameters
// reordered into the layouts oneDNN chose (only when params_version moved), and weight/bias gradients
// accumulated back into the flat gradient buffer. Slots: SR_WP_* in prim[], SR_WM_* in mem[].
#include "exec/engine.h"

sr_status sr_weights_build(sr_tape *t, int i, const dnnl_memory_desc_t *w_plain,
                           const dnnl_memory_desc_t *b_md, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  sr_status s;
  if ((s = sr_mem_create(&t->dnn, &tn->mem[SR_WM_W], w_plain, sr_param(t, nd->p_w), err)) ||
      (s = sr_mem_create(&t->dnn, &tn->mem[SR_WM_WF], &tn->mds[SR_WM_WF], NULL, err)) ||
      (s = sr_mem_create(&t->dnn, &tn->mem[SR_WM_DW], &tn->mds[SR_WM_DW], NULL, err)) ||
      (s = sr_mem_create(&t->dnn, &tn->mem[SR_WM_DWU], w_plain, sr_grad(t, nd->p_w), err)) ||
      (s = sr_reorder_create(&t->dnn, &tn->prim[SR_WP_RW], w_plain, &tn->mds[SR_WM_WF], 0, err)) ||
      (s = sr_reorder_create(&t->dnn, &tn->prim[SR_WP_RDW], &tn->mds[SR_WM_DW], w_plain, 1, err)))
    return s;
  if (!dnnl_memory_desc_equal(&tn->mds[SR_WM_WB], &tn->mds[SR_WM_WF]) &&
      ((s = sr_mem_create(&t->dnn, &tn->mem[SR_WM_WB], &tn->mds[SR_WM_WB], NULL, err)) ||
       (s = sr_reorder_create(&t->dnn, &tn->prim[SR_WP_RWB], w_plain, &tn->mds[SR_WM_WB], 0, err))))
    return s;
  if (nd->bias && ((s = sr_mem_create(&t->dnn, &tn->mem[SR_WM_B], b_md, sr_param(t, nd->p_b), err)) ||
                   (s = sr_mem_create(&t->dnn, &tn->mem[SR_WM_DB], b_md, NULL, err))))
    return s;
  tn->version = (uint64_t)-1;
  return SR_OK;
}

sr_status sr_weights_refresh(sr_tape *t, int i, sr_err *err) {
  sr_tnode *tn = &t->tn[i];
  if (tn->version == t->m->params_version) return SR_OK;
  int bf16 = t->m->precision == SR_PRECISION_BF16;
  dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, tn->mem[SR_WM_W]}, {DNNL_ARG_TO, tn->mem[SR_WM_WF]}};
  sr_status s = sr_exec(&t->dnn, tn->prim[SR_WP_RW], 2, a, err);
  if (!s && bf16) sr_bf16_round_mem(tn->mem[SR_WM_WF]);
  if (!s && tn->mem[SR_WM_WB]) {
    dnnl_exec_arg_t b[] = {{DNNL_ARG_FROM, tn->mem[SR_WM_W]}, {DNNL_ARG_TO, tn->mem[SR_WM_WB]}};
    s = sr_exec(&t->dnn, tn->prim[SR_WP_RWB], 2, b, err);
    if (!s && bf16) sr_bf16_round_mem(tn->mem[SR_WM_WB]);
  }
  if (!s) tn->version = t->m->params_version;
  return s;
}

sr_status sr_weights_accumulate(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  dnnl_exec_arg_t r[] = {{DNNL_ARG_FROM, tn->mem[SR_WM_DW]}, {DNNL_ARG_TO, tn->mem[SR_WM_DWU]}};
  sr_status s = sr_exec(&t->dnn, tn->prim[SR_WP_RDW], 2, r, err);
  if (!s && nd->bias) {
    void *db;
    dnnl_memory_get_data_handle(tn->mem[SR_WM_DB], &db);
    sr_add_floats(sr_grad(t, nd->p_b), db, nd->c);
  }
  return s;
}

dnnl_memory_t sr_weights_for_bwd_data(const sr_tape *t, int i) {
  const sr_tnode *tn = &t->tn[i];
  return tn->mem[SR_WM_WB] ? tn->mem[SR_WM_WB] : tn->mem[SR_WM_WF];
}
