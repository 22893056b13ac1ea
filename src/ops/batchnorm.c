// batchnorm2d: reference kernels (double) and the oneDNN layer. Running statistics follow PyTorch:
// momentum 0.1, running variance updated with the unbiased batch variance.
#include <math.h>
#include <string.h>

#include "exec/infer.h"

// x, y: (N,C,HW)  gamma, beta, mean, invstd: (C)
void sr_batchnorm_forward_train_ref(double *y, double *mean, double *invstd, const sr_bn_ref *bn) {
  const double *x = bn->x, *gamma = bn->gamma, *beta = bn->beta;
  const double eps = bn->eps;
  const int N = bn->n, C = bn->c, HW = bn->hw;
  double cnt = (double)N * HW;
  for (int c = 0; c < C; c++) {
    double s = 0, s2 = 0;
    for (int n = 0; n < N; n++)
      for (int k = 0; k < HW; k++) s += x[((int64_t)n * C + c) * HW + k];
    double mu = s / cnt;
    for (int n = 0; n < N; n++)
      for (int k = 0; k < HW; k++) {
        double d = x[((int64_t)n * C + c) * HW + k] - mu;
        s2 += d * d;
      }
    double is = 1.0 / sqrt(s2 / cnt + eps);
    mean[c] = mu;
    invstd[c] = is;
    for (int n = 0; n < N; n++)
      for (int k = 0; k < HW; k++) {
        int64_t j = ((int64_t)n * C + c) * HW + k;
        y[j] = gamma[c] * (x[j] - mu) * is + beta[c];
      }
  }
}

void sr_batchnorm_backward_train_ref(double *dx, double *dgamma, double *dbeta, const double *dy,
                                     const double *mean, const double *invstd, const sr_bn_ref *bn) {
  const double *x = bn->x, *gamma = bn->gamma;
  const int N = bn->n, C = bn->c, HW = bn->hw;
  double cnt = (double)N * HW;
  for (int c = 0; c < C; c++) {
    double sdy = 0, sdyx = 0;
    for (int n = 0; n < N; n++)
      for (int k = 0; k < HW; k++) {
        int64_t j = ((int64_t)n * C + c) * HW + k;
        sdy += dy[j];
        sdyx += dy[j] * (x[j] - mean[c]) * invstd[c];
      }
    if (dgamma) dgamma[c] += sdyx;
    if (dbeta) dbeta[c] += sdy;
    if (!dx) continue;
    for (int n = 0; n < N; n++)
      for (int k = 0; k < HW; k++) {
        int64_t j = ((int64_t)n * C + c) * HW + k;
        double xh = (x[j] - mean[c]) * invstd[c];
        dx[j] += gamma[c] * invstd[c] * (dy[j] - sdy / cnt - xh * sdyx / cnt);
      }
  }
}

void sr_batchnorm_forward_eval_ref(double *y, const sr_bn_ref *bn) {
  const double *x = bn->x, *gamma = bn->gamma, *beta = bn->beta, *rmean = bn->rmean, *rvar = bn->rvar;
  const double eps = bn->eps;
  const int N = bn->n, C = bn->c, HW = bn->hw;
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++) {
      double is = 1.0 / sqrt(rvar[c] + eps);
      for (int k = 0; k < HW; k++) {
        int64_t j = ((int64_t)n * C + c) * HW + k;
        y[j] = gamma[c] * (x[j] - rmean[c]) * is + beta[c];
      }
    }
}

void sr_batchnorm_backward_eval_ref(double *dx, double *dgamma, double *dbeta, const double *dy,
                                    const sr_bn_ref *bn) {
  const double *x = bn->x, *gamma = bn->gamma, *rmean = bn->rmean, *rvar = bn->rvar;
  const double eps = bn->eps;
  const int N = bn->n, C = bn->c, HW = bn->hw;
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++) {
      double is = 1.0 / sqrt(rvar[c] + eps);
      for (int k = 0; k < HW; k++) {
        int64_t j = ((int64_t)n * C + c) * HW + k;
        if (dgamma) dgamma[c] += dy[j] * (x[j] - rmean[c]) * is;
        if (dbeta) dbeta[c] += dy[j];
        if (dx) dx[j] += gamma[c] * is * dy[j];
      }
    }
}

// Offset of group g's values in an (n, C, H, W) tensor of G groups.
static size_t ref_group_off(const sr_ref_io *io, int g, int G) {
  const sr_node *nd = io->nd;
  return (size_t)g * (size_t)(io->n / G) * (size_t)nd->c * (size_t)(nd->h * nd->w);
}

// The node's batch norm on the reference path: group g's input (n/G images), parameters and running
// statistics.
static sr_bn_ref ref_bn(const sr_ref_io *io, int g, int G) {
  const sr_node *nd = io->nd;
  return (sr_bn_ref){.x = io->x0 + ref_group_off(io, g, G),
                     .gamma = io->p + nd->p_w,
                     .beta = io->p + nd->p_b,
                     .rmean = io->st ? io->st + nd->s_mean : NULL,
                     .rvar = io->st ? io->st + nd->s_var : NULL,
                     .eps = nd->eps,
                     .n = (int)(io->n / G),
                     .c = nd->c,
                     .hw = nd->h * nd->w};
}

// Training: each group normalised with its own statistics (ghost BatchNorm); aux holds 2C per group. Eval
// mode is per image, so the whole batch at once.
static void ref_fwd(const sr_ref_io *io) {
  int G = io->training && io->groups > 1 ? io->groups : 1;
  for (int g = 0; g < G; g++) {
    sr_bn_ref bn = ref_bn(io, g, G);
    double *y = io->y + ref_group_off(io, g, G), *aux = io->aux + (size_t)g * 2 * (size_t)io->nd->c;
    if (io->training)
      sr_batchnorm_forward_train_ref(y, aux, aux + io->nd->c, &bn);
    else
      sr_batchnorm_forward_eval_ref(y, &bn);
  }
}

static void ref_bwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  int G = io->training && io->groups > 1 ? io->groups : 1;
  for (int g = 0; g < G; g++) {
    sr_bn_ref bn = ref_bn(io, g, G);
    size_t off = ref_group_off(io, g, G);
    const double *aux = io->aux + (size_t)g * 2 * (size_t)nd->c;
    double *dx = io->dx0 ? io->dx0 + off : NULL;
    if (io->training)
      sr_batchnorm_backward_train_ref(dx, io->dp + nd->p_w, io->dp + nd->p_b, io->dy + off, aux, aux + nd->c,
                                      &bn);
    else
      sr_batchnorm_backward_eval_ref(dx, io->dp + nd->p_w, io->dp + nd->p_b, io->dy + off, &bn);
  }
}

static int64_t aux_size(const sr_node *nd, const sr_node *in, int64_t N) {
  (void)in;
  (void)N;
  return 2 * (int64_t)nd->c;
}

static int64_t flops(const sr_node *nd, const sr_node *in) {
  (void)in;
  return 2LL * nd->c * nd->h * nd->w;
}

// ---- oneDNN ----
// prim: 0 fwd training, 1 fwd inference (running stats), 2 bwd (batch stats), 3 bwd (running stats),
//       SyncBN only: 4 fwd training with given statistics, 5 affine of x-hat (backward correction)
// mem:  0 gamma, 1 beta (in params), 2 batch mean, 3 batch variance, 4 running mean, 5 running var
//       (in state), 6 dgamma temp, 7 dbeta temp, 8 ReLU workspace (fused), SyncBN only: 9 correction
//       (src layout), 10 its per-channel scale, 11 its shift; ghost BN only (t->groups > 1): 12, 13 every
//       group's mean and variance (2, 3 are views of one group's), 14 every group's ReLU workspace (8 is a
//       view), 15-18 views of one group of the src, dst, diff_dst and diff_src buffers (mds[15]: that md)
// Ghost BN: the primitives are built for one group of n/groups images and run once per group on views into
// the whole batch's buffers (N is the outermost dimension of every oneDNN activation layout, so group g
// starts at byte g * size / groups), each with its own statistics; in training every group updates the
// running statistics in group order, as separate tapes run one after another would.
// Fused with the following ReLU (tn->fused): the forward primitives apply the ReLU and write the ReLU
// node's output; training backward (fused, workspace = ReLU mask) runs from the ReLU node; eval-mode
// backward stays unfused (the ReLU node masks the gradient with its output first).
enum { P_FT, P_FI, P_BT, P_BI, P_FTG, P_CORR };
enum {
  M_G,
  M_B,
  M_MU,
  M_VAR,
  M_RMU,
  M_RVAR,
  M_DG,
  M_DB,
  M_WS,
  M_CORR,
  M_CS,
  M_CB,
  M_MUG,
  M_VARG,
  M_WSG,
  M_GX,
  M_GY,
  M_GDY,
  M_GDX
};

// SyncBN primitives: forward training that normalises with the (global) statistics it is given, and
// y = scale * x-hat + shift with those statistics (no ReLU) for the backward correction.
static sr_status build_sync(sr_tape *t, int i, const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *v,
                            sr_err *err) {
  sr_tnode *tn = &t->tn[i];
  unsigned flags = dnnl_use_scale | dnnl_use_shift | dnnl_use_global_stats;
  float eps = (float)t->m->nodes[i].eps;
  dnnl_batch_normalization_desc_t fg, co;
  DNNL_TRY(dnnl_batch_normalization_forward_desc_init(&fg, dnnl_forward_training, src, eps,
                                                      flags | (tn->fused ? dnnl_fuse_norm_relu : 0)),
           err);
  DNNL_TRY(dnnl_batch_normalization_forward_desc_init(&co, dnnl_forward_inference, src, eps, flags), err);
  dnnl_primitive_desc_t fgp, cop;
  sr_status s;
  if ((s = sr_pd_create(&t->dnn, &fgp, &fg, NULL, NULL, err))) return s;
  if ((s = sr_prim_from_pd(&t->dnn, fgp, &tn->prim[P_FTG], err))) return s;
  if ((s = sr_pd_create(&t->dnn, &cop, &co, NULL, NULL, err)) ||
      (s = sr_prim_from_pd(&t->dnn, cop, &tn->prim[P_CORR], err)) ||
      (s = sr_mem_create(&t->dnn, &tn->mem[M_CORR], src, NULL, err)) ||
      (s = sr_mem_create(&t->dnn, &tn->mem[M_CS], v, NULL, err)))
    return s;
  return sr_mem_create(&t->dnn, &tn->mem[M_CB], v, NULL, err);
}

// One group's descriptor: the whole batch's with N divided by G. Refused unless N is the outermost,
// unblocked dimension of a dense layout (then group g is the byte range [g, g+1) * size / G).
static sr_status group_md(const dnnl_memory_desc_t *whole, int G, dnnl_memory_desc_t *md, sr_err *err) {
  *md = *whole;
  md->dims[0] /= G;
  md->padded_dims[0] /= G;
  size_t size = dnnl_memory_desc_get_size(whole);
  const dnnl_blocking_desc_t *b = &whole->format_desc.blocking;
  int ok = whole->format_kind == dnnl_blocked && whole->offset0 == 0 &&
           whole->padded_dims[0] == whole->dims[0] && whole->padded_offsets[0] == 0 &&
           (size_t)b->strides[0] * (size_t)whole->dims[0] * sizeof(float) == size &&
           dnnl_memory_desc_get_size(md) * (size_t)G == size;
  for (int k = 0; k < b->inner_nblks; k++) ok = ok && b->inner_idxs[k] != 0;
  return ok ? SR_OK : sr_fail(err, SR_ERR_BACKEND, "ghost BatchNorm: batch is not the outermost dimension");
}

// Ghost BN's buffers: every group's statistics and workspace, and the views the primitives run on.
static sr_status build_groups(sr_tape *t, int i, const dnnl_memory_desc_t *gmd, const dnnl_memory_desc_t *ws,
                              sr_err *err) {
  sr_tnode *tn = &t->tn[i];
  int64_t G = t->groups, all[1] = {G * t->m->nodes[i].c};
  dnnl_memory_desc_t v;
  sr_plain_md(&v, 1, all);
  sr_status s;
  tn->mds[M_GX] = *gmd;
  if ((s = sr_mem_create(&t->dnn, &tn->mem[M_MUG], &v, NULL, err)) ||
      (s = sr_mem_create(&t->dnn, &tn->mem[M_VARG], &v, NULL, err)))
    return s;
  for (int k = M_GX; k <= M_GDX; k++)
    if ((s = sr_mem_create_unbound(&t->dnn, &tn->mem[k], gmd, err))) return s;
  if (!ws) return SR_OK;
  tn->mds[M_WS] = *ws;
  dnnl_memory_desc_t wall;
  dnnl_dims_t wd = {(int64_t)(G * (int64_t)dnnl_memory_desc_get_size(ws))};
  DNNL_TRY(dnnl_memory_desc_init_by_tag(&wall, 1, wd, dnnl_u8, dnnl_a), err);
  if ((s = sr_mem_create(&t->dnn, &tn->mem[M_WSG], &wall, NULL, err))) return s;
  return sr_mem_create_unbound(&t->dnn, &tn->mem[M_WS], ws, err);
}

static sr_status build(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  const dnnl_memory_desc_t *whole = sr_in_md(t, i, 0), *src = whole;
  dnnl_memory_desc_t gmd;
  sr_status s;
  if (t->groups > 1) {
    if (t->m->bn_allreduce)
      return sr_fail(err, SR_ERR_ARG, "per-group BatchNorm statistics are not supported with SyncBN");
    if ((s = group_md(whole, t->groups, &gmd, err))) return s;
    src = &gmd;
  }
  unsigned flags = dnnl_use_scale | dnnl_use_shift, relu = tn->fused ? dnnl_fuse_norm_relu : 0;
  float eps = (float)nd->eps;
  dnnl_batch_normalization_desc_t ft, fi, bt, bi;
  DNNL_TRY(dnnl_batch_normalization_forward_desc_init(&ft, dnnl_forward_training, src, eps, flags | relu),
           err);
  DNNL_TRY(dnnl_batch_normalization_forward_desc_init(&fi, dnnl_forward_inference, src, eps,
                                                      flags | dnnl_use_global_stats | relu),
           err);
  DNNL_TRY(dnnl_batch_normalization_backward_desc_init(&bt, dnnl_backward, src, src, eps, flags | relu), err);
  DNNL_TRY(dnnl_batch_normalization_backward_desc_init(&bi, dnnl_backward, src, src, eps,
                                                       flags | dnnl_use_global_stats),
           err);
  dnnl_primitive_desc_t ftp, fip, btp, bip;
  if ((s = sr_pd_create(&t->dnn, &ftp, &ft, NULL, NULL, err))) return s;
  const dnnl_memory_desc_t *ws = sr_pd_md(ftp, dnnl_query_workspace_md);
  int has_ws = tn->fused && ws && ws->ndims > 0;
  dnnl_memory_desc_t wsmd = has_ws ? *ws : (dnnl_memory_desc_t){0};
  if (has_ws && t->groups == 1 && (s = sr_mem_create(&t->dnn, &tn->mem[M_WS], ws, NULL, err))) return s;
  if ((s = sr_pd_create(&t->dnn, &fip, &fi, NULL, NULL, err)) ||
      (s = sr_pd_create(&t->dnn, &btp, &bt, NULL, ftp, err)) ||
      (s = sr_pd_create(&t->dnn, &bip, &bi, NULL, ftp, err)))
    return s;
  if ((s = sr_prim_from_pd(&t->dnn, btp, &tn->prim[P_BT], err)) ||
      (s = sr_prim_from_pd(&t->dnn, bip, &tn->prim[P_BI], err)) ||
      (s = sr_prim_from_pd(&t->dnn, ftp, &tn->prim[P_FT], err)) ||
      (s = sr_prim_from_pd(&t->dnn, fip, &tn->prim[P_FI], err)) || (s = sr_node_outputs(t, i, whole, err)))
    return s;
  int64_t cd[1] = {nd->c};
  dnnl_memory_desc_t v;
  sr_plain_md(&v, 1, cd);
  float *state = t->m->state;
  if ((s = sr_mem_create(&t->dnn, &tn->mem[M_G], &v, sr_param(t, nd->p_w), err)) ||
      (s = sr_mem_create(&t->dnn, &tn->mem[M_B], &v, sr_param(t, nd->p_b), err)) ||
      (s = t->groups > 1 ? sr_mem_create_unbound(&t->dnn, &tn->mem[M_MU], &v, err)  // views (build_groups)
                         : sr_mem_create(&t->dnn, &tn->mem[M_MU], &v, NULL, err)) ||
      (s = t->groups > 1 ? sr_mem_create_unbound(&t->dnn, &tn->mem[M_VAR], &v, err)
                         : sr_mem_create(&t->dnn, &tn->mem[M_VAR], &v, NULL, err)) ||
      (s = sr_mem_create(&t->dnn, &tn->mem[M_RMU], &v, state + nd->s_mean, err)) ||
      (s = sr_mem_create(&t->dnn, &tn->mem[M_RVAR], &v, state + nd->s_var, err)) ||
      (s = sr_mem_create(&t->dnn, &tn->mem[M_DG], &v, NULL, err)) ||
      (s = sr_mem_create(&t->dnn, &tn->mem[M_DB], &v, NULL, err)))
    return s;
  if (t->groups > 1) return build_groups(t, i, &gmd, has_ws ? &wsmd : NULL, err);
  return t->m->bn_allreduce ? build_sync(t, i, src, &v, err) : SR_OK;
}

static float *mem_f32(dnnl_memory_t m) {
  void *p;
  dnnl_memory_get_data_handle(m, &p);
  return p;
}

// cnt: values per channel the statistics came from (all ranks' with SyncBN).
static void update_running(sr_tape *t, int i, double cnt) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  float *mu = mem_f32(tn->mem[M_MU]), *var = mem_f32(tn->mem[M_VAR]);
  float *rmu = t->m->state + nd->s_mean, *rvar = t->m->state + nd->s_var;
  double mom = nd->momentum;
  for (int c = 0; c < nd->c; c++) {
    rmu[c] = (float)((1 - mom) * rmu[c] + mom * mu[c]);
    rvar[c] = (float)((1 - mom) * rvar[c] + mom * var[c] * cnt / (cnt - 1));
  }
  t->m->bn_tracked[nd->bn_index]++;
  t->m->state_version++;  // inference plans refold
}

static void *handle_of(dnnl_memory_t m) {
  void *p;
  dnnl_memory_get_data_handle(m, &p);
  return p;
}

// Point a group view at byte offset off of a whole-batch buffer.
static void view_at(dnnl_memory_t view, dnnl_memory_t whole, size_t off) {
  dnnl_memory_set_data_handle(view, (char *)handle_of(whole) + off);
}

// Ghost BN: group g's statistics (and workspace) become the ones the primitives see.
static void bind_group_stats(sr_tape *t, int i, int g) {
  sr_tnode *tn = &t->tn[i];
  size_t c = sizeof(float) * (size_t)t->m->nodes[i].c;
  view_at(tn->mem[M_MU], tn->mem[M_MUG], (size_t)g * c);
  view_at(tn->mem[M_VAR], tn->mem[M_VARG], (size_t)g * c);
  if (tn->mem[M_WSG])
    view_at(tn->mem[M_WS], tn->mem[M_WSG], (size_t)g * dnnl_memory_desc_get_size(&tn->mds[M_WS]));
}

static sr_status forward_groups(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  int tr = t->training;
  size_t gb = dnnl_memory_desc_get_size(&tn->mds[M_GX]);
  dnnl_memory_t dst = tn->fused ? t->tn[tn->fused].dst : tn->dst;
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, tn->mem[M_GX]},
                         {DNNL_ARG_DST, tn->mem[M_GY]},
                         {DNNL_ARG_SCALE, tn->mem[M_G]},
                         {DNNL_ARG_SHIFT, tn->mem[M_B]},
                         {DNNL_ARG_MEAN, tn->mem[tr ? M_MU : M_RMU]},
                         {DNNL_ARG_VARIANCE, tn->mem[tr ? M_VAR : M_RVAR]},
                         {DNNL_ARG_WORKSPACE, tn->mem[M_WS]}};
  for (int g = 0; g < t->groups; g++) {
    view_at(tn->mem[M_GX], t->tn[nd->in[0]].dst, (size_t)g * gb);
    view_at(tn->mem[M_GY], dst, (size_t)g * gb);
    bind_group_stats(t, i, g);
    sr_status s = sr_exec(&t->dnn, tn->prim[tr ? P_FT : P_FI], (tr && tn->mem[M_WS]) ? 7 : 6, a, err);
    if (s) return s;
    if (tr) update_running(t, i, (double)(t->n / t->groups) * nd->h * nd->w);
  }
  return SR_OK;
}

static sr_status forward(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  if (t->training && t->n / t->groups * nd->h * nd->w < 2)
    return sr_fail(err, SR_ERR_ARG,
                   "batch norm in training needs more than one value per channel (batch %lld)",
                   (long long)(t->n / t->groups));
  if (t->groups > 1) return forward_groups(t, i, err);
  int tr = t->training;
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, t->tn[nd->in[0]].dst},
                         {DNNL_ARG_DST, tn->fused ? t->tn[tn->fused].dst : tn->dst},
                         {DNNL_ARG_SCALE, tn->mem[M_G]},
                         {DNNL_ARG_SHIFT, tn->mem[M_B]},
                         {DNNL_ARG_MEAN, tn->mem[tr ? M_MU : M_RMU]},
                         {DNNL_ARG_VARIANCE, tn->mem[tr ? M_VAR : M_RVAR]},
                         {DNNL_ARG_WORKSPACE, tn->mem[M_WS]}};
  sr_status s = sr_exec(&t->dnn, tn->prim[tr ? P_FT : P_FI], (tr && tn->mem[M_WS]) ? 7 : 6, a, err);
  double cnt = (double)t->n * nd->h * nd->w;
  if (!s && tr && t->m->bn_allreduce) {
    // SyncBN: this rank's mean and (biased) variance become sums, summed over ranks, and the output is
    // recomputed with the statistics of the whole batch.
    int C = nd->c;
    double *b = t->sync_buf;
    float *mu = mem_f32(tn->mem[M_MU]), *var = mem_f32(tn->mem[M_VAR]);
    for (int c = 0; c < C; c++) {
      b[c] = cnt * mu[c];
      b[C + c] = cnt * ((double)var[c] + (double)mu[c] * mu[c]);
    }
    b[2 * C] = cnt;
    if ((s = t->m->bn_allreduce(t->m->bn_allreduce_ctx, b, 2 * C + 1, err)))
      return sr_err_context(err, "SyncBN");
    cnt = b[2 * C];
    for (int c = 0; c < C; c++) {
      double m = b[c] / cnt, v = b[C + c] / cnt - m * m;
      mu[c] = (float)m;
      var[c] = (float)(v > 0 ? v : 0);
    }
    s = sr_exec(&t->dnn, tn->prim[P_FTG], tn->mem[M_WS] ? 7 : 6, a, err);
  }
  if (!s && tr) update_running(t, i, cnt);
  return s;
}

// SyncBN backward: oneDNN's backward used this rank's sums of dy and dy*x-hat (L1, L2 over n values)
// where the whole batch's (G1, G2 over N) belong: dx += gamma*invstd*((L1/n - G1/N) + x-hat (L2/n - G2/N)),
// one more BN-inference pass with that per-channel scale and shift. dsrc may be NULL (no dx wanted).
static sr_status sync_backward(sr_tape *t, int i, dnnl_memory_t dsrc, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  int C = nd->c;
  double *b = t->sync_buf, n = (double)t->n * nd->h * nd->w;
  const float *l2 = mem_f32(tn->mem[M_DG]), *l1 = mem_f32(tn->mem[M_DB]), *var = mem_f32(tn->mem[M_VAR]);
  const float *gamma = sr_param(t, nd->p_w);
  for (int c = 0; c < C; c++) {
    b[c] = l1[c];
    b[C + c] = l2[c];
  }
  b[2 * C] = n;
  sr_status s = t->m->bn_allreduce(t->m->bn_allreduce_ctx, b, 2 * C + 1, err);
  if (s) return sr_err_context(err, "SyncBN backward");
  if (!dsrc) return SR_OK;
  double N = b[2 * C];
  float *cs = mem_f32(tn->mem[M_CS]), *cb = mem_f32(tn->mem[M_CB]);
  for (int c = 0; c < C; c++) {
    double k = gamma[c] / sqrt((double)var[c] + nd->eps);
    cb[c] = (float)(k * (l1[c] / n - b[c] / N));
    cs[c] = (float)(k * (l2[c] / n - b[C + c] / N));
  }
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, t->tn[nd->in[0]].dst}, {DNNL_ARG_DST, tn->mem[M_CORR]},
                         {DNNL_ARG_SCALE, tn->mem[M_CS]},      {DNNL_ARG_SHIFT, tn->mem[M_CB]},
                         {DNNL_ARG_MEAN, tn->mem[M_MU]},       {DNNL_ARG_VARIANCE, tn->mem[M_VAR]}};
  if ((s = sr_exec(&t->dnn, tn->prim[P_CORR], 6, a, err))) return s;
  sr_add_floats(mem_f32(dsrc), mem_f32(tn->mem[M_CORR]),
                (int64_t)(dnnl_memory_desc_get_size(&tn->md) / sizeof(float)));
  return SR_OK;
}

// diff_dst: the gradient at the BN output (unfused, or fused in eval mode) or at the ReLU output (fused
// training backward, which applies the ReLU mask from the workspace itself).
// Ghost BN backward: per group (its statistics, workspace and slices), dgamma and dbeta summed over groups in
// group order.
static sr_status backward_groups(sr_tape *t, int i, dnnl_memory_t diff_dst, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  int tr = t->training;
  dnnl_memory_t dsrc = sr_diff_target(t, i, 0);
  size_t gb = dnnl_memory_desc_get_size(&tn->mds[M_GX]);
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, tn->mem[M_GX]},
                         {DNNL_ARG_MEAN, tn->mem[tr ? M_MU : M_RMU]},
                         {DNNL_ARG_VARIANCE, tn->mem[tr ? M_VAR : M_RVAR]},
                         {DNNL_ARG_DIFF_DST, tn->mem[M_GDY]},
                         {DNNL_ARG_SCALE, tn->mem[M_G]},
                         {DNNL_ARG_SHIFT, tn->mem[M_B]},
                         {DNNL_ARG_DIFF_SRC, tn->mem[M_GDX]},
                         {DNNL_ARG_DIFF_SCALE, tn->mem[M_DG]},
                         {DNNL_ARG_DIFF_SHIFT, tn->mem[M_DB]},
                         {DNNL_ARG_WORKSPACE, tn->mem[M_WS]}};
  for (int g = 0; g < t->groups; g++) {
    size_t off = (size_t)g * gb;
    view_at(tn->mem[M_GX], t->tn[nd->in[0]].dst, off);
    view_at(tn->mem[M_GDY], diff_dst, off);
    view_at(tn->mem[M_GDX], dsrc ? dsrc : tn->dtmp, off);
    bind_group_stats(t, i, g);
    sr_status s = sr_exec(&t->dnn, tn->prim[tr ? P_BT : P_BI], (tr && tn->mem[M_WS]) ? 10 : 9, a, err);
    if (s) return s;
    if (t->want_params) {
      sr_add_floats(sr_grad(t, nd->p_w), mem_f32(tn->mem[M_DG]), nd->c);
      sr_add_floats(sr_grad(t, nd->p_b), mem_f32(tn->mem[M_DB]), nd->c);
    }
  }
  if (dsrc) sr_diff_done(t, i, 0);
  return SR_OK;
}

static sr_status bn_backward(sr_tape *t, int i, dnnl_memory_t diff_dst, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  if (t->groups > 1) return backward_groups(t, i, diff_dst, err);
  int tr = t->training;
  dnnl_memory_t dsrc = sr_diff_target(t, i, 0);
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, t->tn[nd->in[0]].dst},
                         {DNNL_ARG_MEAN, tn->mem[tr ? M_MU : M_RMU]},
                         {DNNL_ARG_VARIANCE, tn->mem[tr ? M_VAR : M_RVAR]},
                         {DNNL_ARG_DIFF_DST, diff_dst},
                         {DNNL_ARG_SCALE, tn->mem[M_G]},
                         {DNNL_ARG_SHIFT, tn->mem[M_B]},  // oneDNN counts it as an input
                         {DNNL_ARG_DIFF_SRC, dsrc ? dsrc : tn->dtmp},
                         {DNNL_ARG_DIFF_SCALE, tn->mem[M_DG]},
                         {DNNL_ARG_DIFF_SHIFT, tn->mem[M_DB]},
                         {DNNL_ARG_WORKSPACE, tn->mem[M_WS]}};
  sr_status s = sr_exec(&t->dnn, tn->prim[tr ? P_BT : P_BI], (tr && tn->mem[M_WS]) ? 10 : 9, a, err);
  if (s) return s;
  // dgamma, dbeta: this rank's part (the gradient allreduce sums them) - with SyncBN, x-hat used the
  // whole batch's statistics, so the parts sum to the one-process gradient.
  if (t->want_params) {
    sr_add_floats(sr_grad(t, nd->p_w), mem_f32(tn->mem[M_DG]), nd->c);
    sr_add_floats(sr_grad(t, nd->p_b), mem_f32(tn->mem[M_DB]), nd->c);
  }
  if (tr && t->m->bn_allreduce && (s = sync_backward(t, i, dsrc, err))) return s;
  if (dsrc) sr_diff_done(t, i, 0);
  return SR_OK;
}

static sr_status backward(sr_tape *t, int i, sr_err *err) { return bn_backward(t, i, t->tn[i].diff, err); }

sr_status sr_bn_backward_fused(sr_tape *t, int bn, sr_err *err) {
  return bn_backward(t, bn, t->tn[t->tn[bn].fused].diff, err);
}

// ---- inference plan (infer.c): a BN that does not follow a convolution (those are folded into it,
// conv2d.c): oneDNN's inference BN on the running statistics (read live) [-> ReLU, fused in the primitive]
// ----
static sr_status plan_build(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  const dnnl_memory_desc_t *src = &p->vals[s->in[0]].md;
  unsigned flags =
      dnnl_use_scale | dnnl_use_shift | dnnl_use_global_stats | (s->relu >= 0 ? dnnl_fuse_norm_relu : 0);
  dnnl_batch_normalization_desc_t bd;
  DNNL_TRY(
      dnnl_batch_normalization_forward_desc_init(&bd, dnnl_forward_inference, src, (float)nd->eps, flags),
      err);
  sr_status e = sr_plan_prim(p, &bd, NULL, &s->prim, NULL, err);
  if (e) return e;
  p->vals[s->out].md = *src;
  int64_t cd[1] = {nd->c};
  dnnl_memory_desc_t v;
  sr_plain_md(&v, 1, cd);
  float *at[4] = {p->m->params + nd->p_w, p->m->params + nd->p_b, p->m->state + nd->s_mean,
                  p->m->state + nd->s_var};
  for (int k = 0; k < 4; k++)
    if ((e = sr_mem_create(&p->dnn, &s->bn_mem[k], &v, at[k], err))) return e;
  p->stats.relu_fused += s->relu >= 0;
  return SR_OK;
}

static sr_status plan_run(sr_infer *p, const sr_istep *s, sr_err *err) {
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, p->vals[s->in[0]].mem}, {DNNL_ARG_DST, p->vals[s->out].mem},
                         {DNNL_ARG_SCALE, s->bn_mem[0]},        {DNNL_ARG_SHIFT, s->bn_mem[1]},
                         {DNNL_ARG_MEAN, s->bn_mem[2]},         {DNNL_ARG_VARIANCE, s->bn_mem[3]}};
  return sr_exec(&p->dnn, s->prim, 6, a, err);
}

const sr_layer_ops sr_ops_bn = {.name = "batchnorm2d",
                                .tape = {.build = build, .forward = forward, .backward = backward},
                                .ref = {.forward = ref_fwd, .backward = ref_bwd, .aux_size = aux_size},
                                .flops = flops,
                                .plan = {.fuse = sr_plan_fuse_relu, .build = plan_build, .run = plan_run}};
