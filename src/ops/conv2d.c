// conv2d: reference kernels (double) and the oneDNN layer.
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "exec/infer.h"
#include "kernels/winograd.h"

// The reference kernels' view of a shape: groups, dilation and the four paddings resolved.
typedef struct ref_geom {
  int G, D, Cg, Og, pt, pl, OH, OW;
} ref_geom;

static ref_geom ref_geom_of(const sr_conv_shape *s) {
  ref_geom g = {.G = s->groups > 1 ? s->groups : 1, .D = s->dil > 1 ? s->dil : 1};
  int pt = s->pads ? s->pads[0] : s->pad, pl = s->pads ? s->pads[1] : s->pad;
  int pb = s->pads ? s->pads[2] : s->pad, pr = s->pads ? s->pads[3] : s->pad;
  int span = g.D * (s->k - 1) + 1;
  g.Cg = s->c / g.G;
  g.Og = s->o / g.G;
  g.pt = pt;
  g.pl = pl;
  g.OH = (s->h + pt + pb - span) / s->stride + 1;
  g.OW = (s->w + pl + pr - span) / s->stride + 1;
  return g;
}

// x: (N,C,H,W)  w: (O,C/G,K,K)  b: (O) or NULL  ->  y: (N,O,OH,OW); output o reads channels of group o / Og
void sr_conv2d_forward_ref(double *y, const double *x, const double *w, const double *b,
                           const sr_conv_shape *s) {
  const int N = s->n, C = s->c, H = s->h, W = s->w, O = s->o, K = s->k, stride = s->stride;
  const ref_geom g = ref_geom_of(s);
  const int OH = g.OH, OW = g.OW;
  for (int n = 0; n < N; n++)
    for (int o = 0; o < O; o++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
          double acc = b ? b[o] : 0.0;
          for (int cg = 0; cg < g.Cg; cg++) {
            int c = o / g.Og * g.Cg + cg;
            for (int kh = 0; kh < K; kh++) {
              int ih = oh * stride - g.pt + kh * g.D;
              if (ih < 0 || ih >= H) continue;
              for (int kw = 0; kw < K; kw++) {
                int iw = ow * stride - g.pl + kw * g.D;
                if (iw < 0 || iw >= W) continue;
                acc += x[(((int64_t)n * C + c) * H + ih) * W + iw] *
                       w[(((int64_t)o * g.Cg + cg) * K + kh) * K + kw];
              }
            }
          }
          y[(((int64_t)n * O + o) * OH + oh) * OW + ow] = acc;
        }
}

void sr_conv2d_backward_ref(double *dx, double *dw, double *db, const double *dy, const double *x,
                            const double *w, const sr_conv_shape *s) {
  const int N = s->n, C = s->c, H = s->h, W = s->w, O = s->o, K = s->k, stride = s->stride;
  const ref_geom g = ref_geom_of(s);
  const int OH = g.OH, OW = g.OW;
  for (int n = 0; n < N; n++)
    for (int o = 0; o < O; o++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
          double gy = dy[(((int64_t)n * O + o) * OH + oh) * OW + ow];
          if (db) db[o] += gy;
          for (int cg = 0; cg < g.Cg; cg++) {
            int c = o / g.Og * g.Cg + cg;
            for (int kh = 0; kh < K; kh++) {
              int ih = oh * stride - g.pt + kh * g.D;
              if (ih < 0 || ih >= H) continue;
              for (int kw = 0; kw < K; kw++) {
                int iw = ow * stride - g.pl + kw * g.D;
                if (iw < 0 || iw >= W) continue;
                int64_t xi = (((int64_t)n * C + c) * H + ih) * W + iw;
                int64_t wi = (((int64_t)o * g.Cg + cg) * K + kh) * K + kw;
                if (dw) dw[wi] += gy * x[xi];
                if (dx) dx[xi] += gy * w[wi];
              }
            }
          }
        }
}

static sr_conv_shape shape_of(const sr_node *nd, int64_t n) {
  return (sr_conv_shape){.n = (int)n,
                         .c = nd->ic,
                         .h = nd->ih,
                         .w = nd->iw,
                         .o = nd->c,
                         .k = nd->k,
                         .stride = nd->stride,
                         .pad = nd->pad,
                         .groups = sr_conv_groups(nd),
                         .dil = sr_conv_dil(nd),
                         .pads = nd->pads[0] | nd->pads[1] | nd->pads[2] | nd->pads[3] ? nd->pads : NULL};
}

static void ref_fwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  sr_conv_shape sh = shape_of(nd, io->n);
  sr_conv2d_forward_ref(io->y, io->x0, io->p + nd->p_w, nd->bias ? io->p + nd->p_b : NULL, &sh);
}

static void ref_bwd(const sr_ref_io *io) {
  const sr_node *nd = io->nd;
  sr_conv_shape sh = shape_of(nd, io->n);
  sr_conv2d_backward_ref(io->dx0, io->dp + nd->p_w, nd->bias ? io->dp + nd->p_b : NULL, io->dy, io->x0,
                         io->p + nd->p_w, &sh);
}

static int64_t flops(const sr_node *nd, const sr_node *in) {
  return 2LL * nd->c * nd->h * nd->w * (in->c / sr_conv_groups(nd)) * nd->k * nd->k;
}

// ---- oneDNN ----
// The source layout is oneDNN's choice (format any). When it differs from the producer's (only at the
// model input, in practice), the input is reordered in and its gradient reordered back out.
// prim: the weight slots (engine.h), then reorder input -> src layout, reorder dsrc -> producer layout,
//       reorder src -> bwd-weights src layout, reorder diff_dst -> bwd-weights layout
// mem:  the weight slots, then src copy, dsrc copy, src for bwd-weights, diff_dst for bwd-weights
//       (NULL: the forward layouts are used)
// Backward-weights picks its own layouts: for the 1-channel stem no jit kernel takes the forward's
// plain src with a blocked diff_dst, and the reference fallback is ~100x slower.
enum {
  P_FWD = SR_WP_FWD,
  P_BWD_D = SR_WP_BWD_D,
  P_BWD_W = SR_WP_BWD_W,
  P_RSRC = SR_WP_NEXT,
  P_RDSRC,
  P_RSW,
  P_RDDW
};
enum {
  M_WF = SR_WM_WF,
  M_WB = SR_WM_WB,
  M_DW = SR_WM_DW,
  M_B = SR_WM_B,
  M_DB = SR_WM_DB,
  M_SRC = SR_WM_NEXT,
  M_DSRC,
  M_SRCW,
  M_DDW
};

// Strides, dilations (oneDNN counts d - 1) and the paddings. oneDNN wants the bottom/right padding that makes
// the output size exact (PyTorch and ONNX floor), so it is derived from the output size.
static void conv_geometry(const sr_node *nd, int64_t *st, int64_t *dl, int64_t *pl, int64_t *pr) {
  int64_t span = (int64_t)sr_conv_dil(nd) * (nd->k - 1) + 1;
  st[0] = st[1] = nd->stride;
  dl[0] = dl[1] = sr_conv_dil(nd) - 1;
  pl[0] = sr_conv_pad(nd, 0);
  pl[1] = sr_conv_pad(nd, 1);
  pr[0] = (int64_t)(nd->h - 1) * nd->stride + span - nd->ih - pl[0];
  pr[1] = (int64_t)(nd->w - 1) * nd->stride + span - nd->iw - pl[1];
}

// Weight dims: (O, C, K, K), or (G, O/G, C/G, K, K) grouped (PyTorch's (O, C/G, K, K) in the same order).
static int weight_dims(const sr_node *nd, int64_t *wd) {
  int G = sr_conv_groups(nd);
  int64_t d[5] = {G, nd->c / G, nd->ic / G, nd->k, nd->k};
  int nd5 = G > 1, off = nd5 ? 0 : 1;
  if (!nd5) d[1] = nd->c;
  for (int k = 0; k < 4 + nd5; k++) wd[k] = d[k + off];
  return 4 + nd5;
}

// ---- Winograd (winograd.c, winograd_train.c): all three passes of eligible 3x3 stride-1 convs ----
static int is_nchw8c(const dnnl_memory_desc_t *md) {
  dnnl_memory_desc_t b;
  return md->ndims == 4 &&
         dnnl_memory_desc_init_by_tag(&b, 4, md->dims, dnnl_f32, dnnl_aBcd8b) == dnnl_success &&
         dnnl_memory_desc_equal(md, &b);
}

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

// The chosen algorithm is the project's Winograd (train_choose checked the layouts: the kernels read and
// write the tape's nChw8c buffers in place).
static sr_status build_wino(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  if (!(tn->wino = calloc(2, sizeof *tn->wino)))
    return sr_fail(err, SR_ERR_NOMEM, "Winograd state of %s", nd->name);
  sr_node swapped = *nd;  // backward-data: the same convolution with input and output channels swapped
  swapped.ic = nd->c;
  swapped.c = nd->ic;
  int nthr = omp_get_max_threads();
  for (int d = 0; d < 2; d++) {  // their weight buffer is the tape's shared one (bind_shared)
    sr_wino_init(&tn->wino[d], d ? &swapped : nd, t->n, nthr);
    t->dnn.scratch_size = max_size(t->dnn.scratch_size, sizeof(float) * sr_wino_scratch_floats(&tn->wino[d]));
  }
  t->dnn.scratch_size =
      max_size(t->dnn.scratch_size, sizeof(float) * sr_wino_bwdw_scratch_floats(&tn->wino[0]));
  t->wino_u_floats = max_size(t->wino_u_floats, (size_t)SR_WINO_XI * (size_t)nd->c * (size_t)nd->ic);
  t->wino_work_floats = max_size(t->wino_work_floats, sr_wino_weights_work_floats(nd->c, nd->ic, nthr));
  return SR_OK;
}

// d = 0: dst = conv(src) (+ bias); d = 1: dst = the input gradient from src = the output gradient.
static sr_status wino_run(sr_tape *t, int i, int d, dnnl_memory_t src, dnnl_memory_t dst, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  void *x, *y;
  dnnl_memory_get_data_handle(src, &x);
  dnnl_memory_get_data_handle(dst, &y);
  // weights change every step: transformed at each use into one buffer all Winograd convs share (U per
  // layer and direction would cost resnet18 width 1 about 360 MB)
  sr_wino_weights(t->wino_u, sr_param(t, nd->p_w), nd->c, nd->ic, d, t->m->precision == SR_PRECISION_BF16,
                  t->wino_work);
  const float *bias = !d && nd->bias ? sr_param(t, nd->p_b) : NULL;
  sr_wino_post post = {.bias = bias};
  return sr_wino_forward(&t->tn[i].wino[d], x, y, &post, t->dnn.scratch_buf, err);
}

// The three training passes' primitive descriptors with one algorithm (oneDNN picks every layout). A
// dnnl status, not an sr_status: a Winograd descriptor that cannot be created is an answer, not an error.
static dnnl_status_t train_pds(sr_tape *t, int i, dnnl_alg_kind_t alg, dnnl_primitive_desc_t pd[3]) {
  const sr_node *nd = &t->m->nodes[i];
  int64_t wd[5], dd[4] = {t->n, nd->c, nd->h, nd->w}, bd[1] = {nd->c};
  int nw = weight_dims(nd, wd);
  dnnl_dims_t st, dl, pl, pr;
  conv_geometry(nd, st, dl, pl, pr);
  int64_t sd[4] = {t->n, nd->ic, nd->ih, nd->iw};
  dnnl_memory_desc_t w_any, dst_any, b_md, src_any;
  sr_any_md(&src_any, 4, sd);
  sr_any_md(&w_any, nw, wd);
  sr_any_md(&dst_any, 4, dd);
  sr_plain_md(&b_md, 1, bd);
  dnnl_convolution_desc_t fd, bdd, bwd;
  pd[0] = pd[1] = pd[2] = NULL;
  dnnl_status_t s = dnnl_dilated_convolution_forward_desc_init(
      &fd, dnnl_forward_training, alg, &src_any, &w_any, nd->bias ? &b_md : NULL, &dst_any, st, dl, pl, pr);
  if (!s) s = dnnl_primitive_desc_create(&pd[0], &fd, t->dnn.attr, t->dnn.e->eng, NULL);
  if (s) return s;
  const dnnl_memory_desc_t *dst = sr_pd_md(pd[0], dnnl_query_dst_md);
  s = dnnl_dilated_convolution_backward_data_desc_init(&bdd, alg, &src_any, &w_any, dst, st, dl, pl, pr);
  if (!s) s = dnnl_primitive_desc_create(&pd[1], &bdd, t->dnn.attr, t->dnn.e->eng, pd[0]);
  if (!s)
    s = dnnl_dilated_convolution_backward_weights_desc_init(
        &bwd, alg, &src_any, &w_any, nd->bias ? &b_md : NULL, &dst_any, st, dl, pl, pr);
  if (!s) s = dnnl_primitive_desc_create(&pd[2], &bwd, t->dnn.attr, t->dnn.e->eng, pd[0]);
  return s;
}

static void free_pds(dnnl_primitive_desc_t pd[3]) {
  for (int k = 0; k < 3; k++)
    if (pd[k]) dnnl_primitive_desc_destroy(pd[k]);
}

// Where the project's Winograd can run in a tape: eligible, and oneDNN chose nChw8c for the input (the
// producer's own layout), its gradient and the output, so the kernels read and write the tape's buffers.
static int wino_fits_tape(sr_tape *t, int i, const_dnnl_primitive_desc_t fpd) {
  const dnnl_memory_desc_t *src = sr_pd_md(fpd, dnnl_query_src_md), *dst = sr_pd_md(fpd, dnnl_query_dst_md);
  return sr_wino_eligible(&t->m->nodes[i], t->n) && is_nchw8c(src) && is_nchw8c(dst) &&
         dnnl_memory_desc_equal(src, sr_in_md(t, i, 0));
}

// The project's Winograd in all three passes on scratch buffers (zeros), as wino_run and
// wino_backward_weights run it: the weight transform of each direction included.
typedef struct wino_timing {
  sr_wino w[2];
  float *x, *y, *dx, *wt, *dw, *u, *work, *scratch;
  int train;
  sr_wino_post post;
} wino_timing;

static sr_status wino_timed_run(void *ctx, sr_err *err) {
  wino_timing *c = ctx;
  sr_wino_post none = {0};
  if (!c->train) return sr_wino_forward(&c->w[0], c->x, c->y, &c->post, c->scratch, err);
  sr_wino_weights(c->u, c->wt, c->w[0].K, c->w[0].C, 0, 0, c->work);
  sr_status s = sr_wino_forward(&c->w[0], c->x, c->y, &none, c->scratch, err);
  if (s) return s;
  sr_wino_weights(c->u, c->wt, c->w[0].K, c->w[0].C, 1, 0, c->work);
  if ((s = sr_wino_forward(&c->w[1], c->y, c->dx, &none, c->scratch, err))) return s;
  return sr_wino_backward_weights(&c->w[0], c->x, c->y, c->dw, c->u, c->scratch, err);
}

static float *zero_floats(size_t n) { return sr_calloc(n ? n : 1, sizeof(float)); }

// train 0: the plan's forward with its post-ops; 1: the tape's three passes.
static sr_status time_wino(const sr_node *nd, int64_t n, int train, const sr_wino_post *post, double *ms,
                           sr_err *err) {
  wino_timing c = {.train = train, .post = post ? *post : (sr_wino_post){0}};
  int nthr = omp_get_max_threads();
  sr_node swapped = *nd;
  swapped.ic = nd->c;
  swapped.c = nd->ic;
  sr_wino_init(&c.w[0], nd, n, nthr);
  sr_wino_init(&c.w[1], &swapped, n, nthr);
  size_t xs = (size_t)n * (size_t)nd->ic * (size_t)nd->ih * (size_t)nd->iw;
  size_t ys = (size_t)n * (size_t)nd->c * (size_t)nd->h * (size_t)nd->w,
         ws = (size_t)nd->c * (size_t)nd->ic * 9;
  size_t scr = max_size(sr_wino_scratch_floats(&c.w[0]), sr_wino_scratch_floats(&c.w[1]));
  scr = max_size(scr, sr_wino_bwdw_scratch_floats(&c.w[0]));
  c.x = zero_floats(xs);
  c.y = zero_floats(ys);
  c.dx = zero_floats(xs);
  c.wt = zero_floats(ws);
  c.dw = zero_floats(ws);
  c.u = zero_floats((size_t)SR_WINO_XI * (size_t)nd->c * (size_t)nd->ic);
  c.work = zero_floats(sr_wino_weights_work_floats(nd->c, nd->ic, nthr));
  c.scratch = zero_floats(scr);
  c.post.bias = NULL;  // the bias add costs the same in every candidate
  c.w[0].u = c.w[1].u = c.u;
  sr_status s = SR_OK;
  if (!c.x || !c.y || !c.dx || !c.wt || !c.dw || !c.u || !c.work || !c.scratch)
    s = sr_fail(err, SR_ERR_NOMEM, "buffers to time Winograd on %s", nd->name);
  if (!s) s = sr_time_median(wino_timed_run, &c, ms, err);
  SR_FREE_ALL(c.x, c.y, c.dx, c.wt, c.dw, c.u, c.work, c.scratch);
  return s;
}

static sr_status time_train_pds(sr_tape *t, dnnl_primitive_desc_t pd[3], double *ms, sr_err *err) {
  *ms = 0;
  for (int k = 0; k < 3; k++) {
    double one;
    sr_status s = sr_time_pd(&t->dnn, pd[k], &one, err);
    if (s) return s;
    *ms += one;
  }
  return SR_OK;
}

// Which algorithm the tape runs node i with (the policy; a measured choice is timed once per key and kept
// in the model). pd: the chosen oneDNN descriptors (direct ones for the project's Winograd, whose layouts
// the tape still uses).
static sr_status train_choose(sr_tape *t, int i, sr_conv_choice *c, dnnl_primitive_desc_t pd[3],
                              sr_err *err) {
  sr_model *m = t->m;
  const sr_node *nd = &m->nodes[i];
  char key[sizeof c->key];
  sr_conv_key(key, sizeof key, "train", nd, t->n);
  sr_conv_choice_clear(c, key);
  dnnl_primitive_desc_t wpd[3] = {NULL, NULL, NULL};
  sr_conv_policy pol = sr_model_conv_policy(m);
  const sr_conv_choice *known = pol == SR_CONV_MEASURE ? sr_conv_choice_take(m, key) : NULL;
  if (known) *c = *known;
  if (pol != SR_CONV_RULE && (!known || known->algo == SR_CONV_DNNL_WINOGRAD) &&
      train_pds(t, i, dnnl_convolution_winograd, wpd))
    free_pds(wpd);  // not available for this shape: direct or ours
  if (train_pds(t, i, dnnl_convolution_direct, pd)) {
    free_pds(pd);
    free_pds(wpd);
    return sr_fail(err, SR_ERR_BACKEND, "oneDNN: no direct convolution for %s", nd->name);
  }
  int ours = wino_fits_tape(t, i, pd[0]);
  sr_status s = SR_OK;
  if (pol == SR_CONV_RULE) {
    c->algo = sr_model_winograd(m) && ours ? SR_CONV_WINOGRAD : SR_CONV_DIRECT;
  } else if (pol == SR_CONV_DNNL_WINOGRAD_ALL) {
    c->algo = wpd[0] ? SR_CONV_DNNL_WINOGRAD : SR_CONV_DIRECT;
  } else if (!known) {
    // rounds over the candidates, in turn: a burst of another process's load hits them alike
    for (int r = 0; r < SR_ALGO_ROUNDS && !s; r++) {
      double ms[SR_CONV_ALGOS] = {-1, -1, -1};
      s = time_train_pds(t, pd, &ms[SR_CONV_DIRECT], err);
      if (!s && wpd[0]) s = time_train_pds(t, wpd, &ms[SR_CONV_DNNL_WINOGRAD], err);
      if (!s && ours) s = time_wino(nd, t->n, 1, NULL, &ms[SR_CONV_WINOGRAD], err);
      sr_conv_choice_fold(c, ms);
    }
    sr_conv_choice_best(c);
    if (!s) s = sr_conv_choice_put(m, c, err);
  }
  // a given choice this CPU or layout cannot run falls back to direct (the cached entry stays)
  if ((c->algo == SR_CONV_WINOGRAD && !ours) || (c->algo == SR_CONV_DNNL_WINOGRAD && !wpd[0]))
    c->algo = SR_CONV_DIRECT;
  if (!s && c->algo == SR_CONV_DNNL_WINOGRAD) {
    free_pds(pd);
    memcpy(pd, wpd, sizeof wpd);
  } else {
    free_pds(wpd);
  }
  if (!s && !(t->tn[i].choice = malloc(sizeof *c))) s = sr_fail(err, SR_ERR_NOMEM, "choice of %s", nd->name);
  if (s) {
    free_pds(pd);
    return s;
  }
  *t->tn[i].choice = *c;
  return SR_OK;
}

static sr_status build(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  int64_t wd[5], bd[1] = {nd->c};
  int nw = weight_dims(nd, wd);
  dnnl_memory_desc_t b_md, w_plain;
  sr_plain_md(&b_md, 1, bd);
  sr_md(&w_plain, nw, wd, nw == 5 ? dnnl_abcde : dnnl_abcd);
  const dnnl_memory_desc_t *in = sr_in_md(t, i, 0);
  sr_conv_choice choice;
  dnnl_primitive_desc_t pds[3];
  sr_status s = train_choose(t, i, &choice, pds, err);
  if (s) return s;
  dnnl_primitive_desc_t fpd = pds[0], dpd = pds[1], wpd = pds[2];
  dnnl_memory_desc_t dst = *sr_pd_md(fpd, dnnl_query_dst_md);
  dnnl_memory_desc_t srcmd = *sr_pd_md(fpd, dnnl_query_src_md);
  const dnnl_memory_desc_t *src = &srcmd;
  tn->mds[M_WF] = *sr_pd_md(fpd, dnnl_query_weights_md);
  tn->mds[M_WB] = *sr_pd_md(dpd, dnnl_query_weights_md);
  tn->mds[M_DW] = *sr_pd_md(wpd, dnnl_query_diff_weights_md);
  dnnl_memory_desc_t wsrc = *sr_pd_md(wpd, dnnl_query_src_md), wddst = *sr_pd_md(wpd, dnnl_query_diff_dst_md);
  dnnl_memory_desc_t dsrcmd = *sr_pd_md(dpd, dnnl_query_diff_src_md);
  if ((s = sr_prim_from_pd(&t->dnn, fpd, &tn->prim[P_FWD], err))) {
    dnnl_primitive_desc_destroy(dpd);
    dnnl_primitive_desc_destroy(wpd);
    return s;
  }
  if ((s = sr_prim_from_pd(&t->dnn, dpd, &tn->prim[P_BWD_D], err))) {
    dnnl_primitive_desc_destroy(wpd);
    return s;
  }
  if ((s = sr_prim_from_pd(&t->dnn, wpd, &tn->prim[P_BWD_W], err)) || (s = sr_node_outputs(t, i, &dst, err)))
    return s;
  if ((s = sr_weights_build(t, i, &w_plain, &b_md, err))) return s;
  if (!dnnl_memory_desc_equal(&wsrc, src) &&
      ((s = sr_mem_create(&t->dnn, &tn->mem[M_SRCW], &wsrc, NULL, err)) ||
       (s = sr_reorder_create(&t->dnn, &tn->prim[P_RSW], src, &wsrc, 0, err))))
    return s;
  if (!dnnl_memory_desc_equal(&wddst, &dst) &&
      ((s = sr_mem_create(&t->dnn, &tn->mem[M_DDW], &wddst, NULL, err)) ||
       (s = sr_reorder_create(&t->dnn, &tn->prim[P_RDDW], &dst, &wddst, 0, err))))
    return s;
  if (!dnnl_memory_desc_equal(src, in) &&
      ((s = sr_mem_create(&t->dnn, &tn->mem[M_SRC], src, NULL, err)) ||
       (s = sr_reorder_create(&t->dnn, &tn->prim[P_RSRC], in, src, 0, err))))
    return s;
  // Backward-data picks its gradient layout too (for the 1-channel stem oneDNN has no jit kernel writing a
  // plain gradient: its reference kernel is ~50x slower); the result is reordered into the producer's.
  if (!dnnl_memory_desc_equal(&dsrcmd, in) &&
      ((s = sr_mem_create(&t->dnn, &tn->mem[M_DSRC], &dsrcmd, NULL, err)) ||
       (s = sr_reorder_create(&t->dnn, &tn->prim[P_RDSRC], &dsrcmd, in, 0, err))))
    return s;
  return choice.algo == SR_CONV_WINOGRAD ? build_wino(t, i, err) : SR_OK;
}

// The input in the layout the convolution wants.
static dnnl_memory_t conv_src(const sr_tape *t, int i) {
  return t->tn[i].mem[M_SRC] ? t->tn[i].mem[M_SRC] : t->tn[t->m->nodes[i].in[0]].dst;
}

static sr_status forward(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  if (tn->wino)
    return wino_run(t, i, 0, t->tn[nd->in[0]].dst, tn->dst, err);  // no oneDNN weight layouts needed
  sr_status s = sr_weights_refresh(t, i, err);
  if (s) return s;
  if (tn->mem[M_SRC]) {
    dnnl_exec_arg_t r[] = {{DNNL_ARG_FROM, t->tn[nd->in[0]].dst}, {DNNL_ARG_TO, tn->mem[M_SRC]}};
    if ((s = sr_exec(&t->dnn, tn->prim[P_RSRC], 2, r, err))) return s;
  }
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, conv_src(t, i)},
                         {DNNL_ARG_WEIGHTS, tn->mem[M_WF]},
                         {DNNL_ARG_DST, tn->dst},
                         {DNNL_ARG_BIAS, tn->mem[M_B]}};
  return sr_exec(&t->dnn, tn->prim[P_FWD], nd->bias ? 4 : 3, a, err);
}

static sr_status backward_data(sr_tape *t, int i, sr_err *err) {
  sr_tnode *tn = &t->tn[i];
  sr_status s;
  dnnl_memory_t dsrc = sr_diff_target(t, i, 0);
  if (!dsrc) return SR_OK;
  if (tn->wino) {  // the producer's gradient layout is the input's, nChw8c
    if ((s = wino_run(t, i, 1, tn->diff, dsrc, err))) return s;
    sr_diff_done(t, i, 0);
    return SR_OK;
  }
  dnnl_exec_arg_t d[] = {{DNNL_ARG_DIFF_DST, tn->diff},
                         {DNNL_ARG_WEIGHTS, sr_weights_for_bwd_data(t, i)},
                         {DNNL_ARG_DIFF_SRC, tn->mem[M_DSRC] ? tn->mem[M_DSRC] : dsrc}};
  if ((s = sr_exec(&t->dnn, tn->prim[P_BWD_D], 3, d, err))) return s;
  if (tn->mem[M_DSRC]) {
    dnnl_exec_arg_t r2[] = {{DNNL_ARG_FROM, tn->mem[M_DSRC]}, {DNNL_ARG_TO, dsrc}};
    if ((s = sr_exec(&t->dnn, tn->prim[P_RDSRC], 2, r2, err))) return s;
  }
  sr_diff_done(t, i, 0);
  return SR_OK;
}

// dW += from the forward's input and this node's output gradient (t->wino_u is free here: work for M).
static sr_status wino_backward_weights(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  void *x, *dy;
  dnnl_memory_get_data_handle(t->tn[nd->in[0]].dst, &x);
  dnnl_memory_get_data_handle(t->tn[i].diff, &dy);
  return sr_wino_backward_weights(&t->tn[i].wino[0], x, dy, sr_grad(t, nd->p_w), t->wino_u,
                                  t->dnn.scratch_buf, err);
}

static sr_status backward(sr_tape *t, int i, sr_err *err) {
  const sr_node *nd = &t->m->nodes[i];
  sr_tnode *tn = &t->tn[i];
  sr_status s;
  if (!t->want_params) return backward_data(t, i, err);
  if (tn->wino && !nd->bias) {
    if ((s = wino_backward_weights(t, i, err))) return s;
    return backward_data(t, i, err);
  }
  if (tn->mem[M_SRCW]) {
    dnnl_exec_arg_t r1[] = {{DNNL_ARG_FROM, conv_src(t, i)}, {DNNL_ARG_TO, tn->mem[M_SRCW]}};
    if ((s = sr_exec(&t->dnn, tn->prim[P_RSW], 2, r1, err))) return s;
  }
  if (tn->mem[M_DDW]) {
    dnnl_exec_arg_t r1[] = {{DNNL_ARG_FROM, tn->diff}, {DNNL_ARG_TO, tn->mem[M_DDW]}};
    if ((s = sr_exec(&t->dnn, tn->prim[P_RDDW], 2, r1, err))) return s;
  }
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, tn->mem[M_SRCW] ? tn->mem[M_SRCW] : conv_src(t, i)},
                         {DNNL_ARG_DIFF_DST, tn->mem[M_DDW] ? tn->mem[M_DDW] : tn->diff},
                         {DNNL_ARG_DIFF_WEIGHTS, tn->mem[M_DW]},
                         {DNNL_ARG_DIFF_BIAS, tn->mem[M_DB]}};
  if ((s = sr_exec(&t->dnn, tn->prim[P_BWD_W], nd->bias ? 4 : 3, a, err)) ||
      (s = sr_weights_accumulate(t, i, err)))
    return s;
  return backward_data(t, i, err);
}

// ---- inference plan (infer.c): one step covers conv [-> BN folded] [-> add: sum post-op] [-> ReLU post-op]
// ---- The step absorbs: the BN reading it, then an add whose other operand is computed earlier (so it is
// ready when the conv runs; of a block's two branches the later conv takes the add), then a ReLU.
static void plan_fuse(const sr_model *m, const int *one, int i, sr_istep *s) {
  int head = i;
  if (sr_plan_is_op(m, one[head], SR_OP_BN)) s->bn = head = one[head];
  int a = one[head];
  if (sr_plan_is_op(m, a, SR_OP_ADD)) {
    int other = m->nodes[a].in[0] == head ? m->nodes[a].in[1] : m->nodes[a].in[0];
    if (other < i) {
      s->add = head = a;
      s->in[1] = other;
    }  // a node index here; made a value by the caller
  }
  if (sr_plan_is_op(m, one[head], SR_OP_RELU)) s->relu = head = one[head];
  s->last = head;
}

// The step's input (reordered in if the convolution picked another layout), its sum operand (copied into
// dst unless dst can be the shortcut's own buffer), its bias (folded at refresh).
static sr_status plan_io(sr_infer *p, int t, const dnnl_memory_desc_t *srcp, const dnnl_memory_desc_t *dmdp,
                         sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  dnnl_memory_desc_t src = *srcp, dmd = *dmdp, b_md;
  int64_t bd[1] = {nd->c};
  sr_plain_md(&b_md, 1, bd);
  int has_bias = nd->bias || s->bn >= 0;
  sr_status e;
  p->vals[s->out].md = dmd;
  if (!dnnl_memory_desc_equal(&src, &p->vals[s->in[0]].md)) {
    s->src_tmp = sr_plan_value(p, &src);
    if ((e = sr_reorder_create(&p->dnn, &s->pre, &p->vals[s->in[0]].md, &src, 0, err))) return e;
  }
  if (s->add >= 0) {
    sr_ivalue *sc = &p->vals[s->in[1]];
    s->in_place =
        sc->last == t && s->in[1] != 0 && s->in[1] != s->in[0] && dnnl_memory_desc_equal(&sc->md, &dmd);
    if (!s->in_place && (e = sr_reorder_create(&p->dnn, &s->copy, &sc->md, &dmd, 0, err))) return e;
    p->stats.add_fused++;
    p->stats.add_in_place += s->in_place;
  }
  if (has_bias) {
    if (!(s->bias = sr_alloc(sizeof(float) * (size_t)nd->c)))
      return sr_fail(err, SR_ERR_NOMEM, "inference bias of %s", nd->name);
    if ((e = sr_mem_create(&p->dnn, &s->b, &b_md, s->bias, err))) return e;
  }
  p->stats.bn_folded += s->bn >= 0;
  p->stats.relu_fused += s->relu >= 0;
  return SR_OK;
}

// The step's input and output as nChw8c, the layout the project's Winograd kernels read and write.
static void wino_mds(const sr_infer *p, const sr_node *nd, dnnl_memory_desc_t *src, dnnl_memory_desc_t *dst) {
  int64_t sd[4] = {p->n, nd->ic, nd->ih, nd->iw}, dd[4] = {p->n, nd->c, nd->h, nd->w};
  sr_md(src, 4, sd, dnnl_nChw8c);
  sr_md(dst, 4, dd, dnnl_nChw8c);
}

// Winograd step: src and dst forced to nChw8c (what the direct convolutions pick on AVX2 for these widths,
// so no extra reorders in a resnet); weights transformed at every fold, no oneDNN primitive.
static sr_status plan_build_wino(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  dnnl_memory_desc_t src, dmd;
  wino_mds(p, nd, &src, &dmd);
  if (!(s->wino = calloc(1, sizeof *s->wino)))
    return sr_fail(err, SR_ERR_NOMEM, "Winograd step of %s", nd->name);
  sr_wino_init(s->wino, nd, p->n,
               omp_get_max_threads());  // weights: the model's cache (sr_plan_wino_weights)
  size_t need = sr_wino_scratch_floats(s->wino);
  if (need > p->wino_floats) p->wino_floats = need;
  p->stats.winograd++;
  p->stats.weight_bytes += (int64_t)sizeof(float) * SR_WINO_XI * nd->ic * nd->c;
  return plan_io(p, t, &src, &dmd, err);
}

// The step's oneDNN convolution with algorithm alg, post-ops included (a dnnl status: a Winograd one that
// cannot be created is an answer, not an error).
static dnnl_status_t plan_pd(sr_infer *p, int t, dnnl_alg_kind_t alg, dnnl_primitive_desc_t *pd) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  int64_t wd[5], dd[4] = {p->n, nd->c, nd->h, nd->w}, bd[1] = {nd->c};
  int nw = weight_dims(nd, wd);
  int64_t sd[4] = {p->n, nd->ic, nd->ih, nd->iw};
  dnnl_dims_t st, dl, pl, pr;
  conv_geometry(nd, st, dl, pl, pr);
  dnnl_memory_desc_t src_any, w_any, dst, b_md;
  sr_md(&src_any, 4, sd, dnnl_format_tag_any);
  sr_md(&w_any, nw, wd, dnnl_format_tag_any);
  // with a fused add, dst takes the shortcut's layout: the sum post-op accumulates onto it in place
  if (s->add >= 0)
    dst = p->vals[s->in[1]].md;
  else
    sr_md(&dst, 4, dd, dnnl_format_tag_any);
  sr_plain_md(&b_md, 1, bd);
  int has_bias = nd->bias || s->bn >= 0;
  dnnl_convolution_desc_t cd;
  *pd = NULL;
  dnnl_status_t e = dnnl_dilated_convolution_forward_desc_init(
      &cd, dnnl_forward_inference, alg, &src_any, &w_any, has_bias ? &b_md : NULL, &dst, st, dl, pl, pr);
  if (e) return e;
  dnnl_primitive_attr_t attr;
  sr_err ignore = {0};
  if (sr_post_ops_attr(s->add >= 0, s->relu >= 0, &attr, &ignore)) return dnnl_out_of_memory;
  e = dnnl_primitive_desc_create(pd, &cd, attr, p->dnn.e->eng, NULL);
  dnnl_primitive_attr_destroy(attr);
  return e;
}

// The project's Winograd for this step: its kernel with the step's post-ops, plus the reorders its nChw8c
// layout forces where the input, the shortcut or the consumer (the direct step's dst layout) differ.
static sr_status time_plan_wino(sr_infer *p, int t, const_dnnl_primitive_desc_t direct, double *ms,
                                sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  dnnl_memory_desc_t src8, dst8;
  wino_mds(p, nd, &src8, &dst8);
  sr_wino_post post = {.sum = s->add >= 0, .relu = s->relu >= 0};
  double in_ms = 0, out_ms = 0, sum_ms = 0;
  sr_status e = time_wino(nd, p->n, 0, &post, ms, err);
  if (!e) e = sr_time_reorder(&p->dnn, &p->vals[s->in[0]].md, &src8, &in_ms, err);
  if (!e) e = sr_time_reorder(&p->dnn, &dst8, sr_pd_md(direct, dnnl_query_dst_md), &out_ms, err);
  if (!e && s->add >= 0) e = sr_time_reorder(&p->dnn, &p->vals[s->in[1]].md, &dst8, &sum_ms, err);
  *ms += in_ms + out_ms + sum_ms;
  return e;
}

// Which algorithm the step runs (the plan's options; a measured choice is timed once per key and kept in
// the model for every later plan). *pd: the chosen oneDNN descriptor (NULL for the project's Winograd).
static sr_status plan_choose(sr_infer *p, int t, sr_conv_choice *c, dnnl_primitive_desc_t *pd, sr_err *err) {
  sr_istep *s = &p->steps[t];
  sr_model *m = p->m;
  const sr_node *nd = &m->nodes[s->node];
  char key[sizeof c->key];
  // the post-ops are part of the key: oneDNN's Winograd exists for some of them only, and they cost
  static const char *const exec[4] = {"plan", "plan+relu", "plan+sum", "plan+sum+relu"};
  sr_conv_key(key, sizeof key, exec[(s->add >= 0) * 2 + (s->relu >= 0)], nd, p->n);
  sr_conv_choice_clear(c, key);
  int ours = sr_wino_eligible(nd, p->n);
  const sr_conv_choice *known = p->opts.conv == SR_CONV_MEASURE ? sr_conv_choice_take(m, key) : NULL;
  if (known) *c = *known;
  dnnl_primitive_desc_t dpd = NULL, wpd = NULL;
  if (p->opts.conv != SR_CONV_RULE && (!known || known->algo == SR_CONV_DNNL_WINOGRAD) &&
      plan_pd(p, t, dnnl_convolution_winograd, &wpd) && wpd) {
    dnnl_primitive_desc_destroy(wpd);
    wpd = NULL;
  }
  if (plan_pd(p, t, dnnl_convolution_direct, &dpd)) {
    if (wpd) dnnl_primitive_desc_destroy(wpd);
    return sr_fail(err, SR_ERR_BACKEND, "oneDNN: no direct inference convolution for %s", nd->name);
  }
  sr_status e = SR_OK;
  if (p->opts.conv == SR_CONV_RULE) {
    c->algo = p->opts.winograd && ours ? SR_CONV_WINOGRAD : SR_CONV_DIRECT;
  } else if (p->opts.conv == SR_CONV_DNNL_WINOGRAD_ALL) {
    c->algo = wpd ? SR_CONV_DNNL_WINOGRAD : SR_CONV_DIRECT;
  } else if (!known) {
    for (int r = 0; r < SR_ALGO_ROUNDS && !e; r++) {  // rounds over the candidates, in turn
      double ms[SR_CONV_ALGOS] = {-1, -1, -1};
      e = sr_time_pd(&p->dnn, dpd, &ms[SR_CONV_DIRECT], err);
      if (!e && wpd) e = sr_time_pd(&p->dnn, wpd, &ms[SR_CONV_DNNL_WINOGRAD], err);
      if (!e && ours) e = time_plan_wino(p, t, dpd, &ms[SR_CONV_WINOGRAD], err);
      sr_conv_choice_fold(c, ms);
    }
    sr_conv_choice_best(c);
    if (!e) e = sr_conv_choice_put(m, c, err);
  }
  if ((c->algo == SR_CONV_WINOGRAD && !ours) || (c->algo == SR_CONV_DNNL_WINOGRAD && !wpd))
    c->algo = SR_CONV_DIRECT;  // a given choice this CPU or shape cannot run (the cached entry stays)
  *pd = c->algo == SR_CONV_DNNL_WINOGRAD ? wpd : c->algo == SR_CONV_DIRECT ? dpd : NULL;
  if (wpd && wpd != *pd) dnnl_primitive_desc_destroy(wpd);
  if (dpd != *pd) dnnl_primitive_desc_destroy(dpd);
  if (!e && !(s->choice = malloc(sizeof *c))) e = sr_fail(err, SR_ERR_NOMEM, "choice of %s", nd->name);
  if (e) {
    if (*pd) dnnl_primitive_desc_destroy(*pd);
    *pd = NULL;
    return e;
  }
  *s->choice = *c;
  return SR_OK;
}

static sr_status plan_build(sr_infer *p, int t, sr_err *err) {
  sr_istep *s = &p->steps[t];
  const sr_node *nd = &p->m->nodes[s->node];
  sr_conv_choice c;
  dnnl_primitive_desc_t pd = NULL;
  sr_status e = plan_choose(p, t, &c, &pd, err);
  if (e) return e;
  if (c.algo == SR_CONV_WINOGRAD) return plan_build_wino(p, t, err);
  int64_t wd[5];
  int nw = weight_dims(nd, wd);
  dnnl_memory_desc_t w_plain;
  sr_md(&w_plain, nw, wd, nw == 5 ? dnnl_abcde : dnnl_abcd);
  p->stats.dnnl_winograd += c.algo == SR_CONV_DNNL_WINOGRAD;
  if ((e = sr_prim_create(&p->dnn, pd, &s->prim, err))) {
    dnnl_primitive_desc_destroy(pd);
    return e;
  }
  dnnl_memory_desc_t src = *sr_pd_md(pd, dnnl_query_src_md), wmd = *sr_pd_md(pd, dnnl_query_weights_md);
  dnnl_memory_desc_t dmd = *sr_pd_md(pd, dnnl_query_dst_md);
  dnnl_primitive_desc_destroy(pd);
  if ((e = plan_io(p, t, &src, &dmd, err))) return e;
  return sr_plan_weights(p, s, &w_plain, &wmd, p->wtmp, err);
}

// Fold the BN (if any) into the weights and bias, bf16-round them, then into the primitive's layout, or
// Winograd's transform (kept once per model, sr_plan_wino_weights).
static sr_status plan_refresh(sr_infer *p, sr_istep *s, sr_err *err) {
  const sr_model *m = p->m;
  const sr_node *nd = &m->nodes[s->node];
  int64_t per = (int64_t)(nd->ic / sr_conv_groups(nd)) * nd->k * nd->k;
  const float *w = m->params + nd->p_w, *b = nd->bias ? m->params + nd->p_b : NULL;
  if (s->bn >= 0) {
    const sr_node *bn = &m->nodes[s->bn];
    sr_bn_eval e = {.gamma = m->params + bn->p_w,
                    .beta = m->params + bn->p_b,
                    .mean = m->state + bn->s_mean,
                    .var = m->state + bn->s_var,
                    .eps = (double)(float)bn->eps};
    sr_fold_bn(p->wtmp, s->bias, w, b, &e, nd->c, per);
  } else {
    memcpy(p->wtmp, w, sizeof(float) * (size_t)(per * nd->c));
    if (b) memcpy(s->bias, b, sizeof(float) * (size_t)nd->c);
  }
  // bf16: the folded weights are rounded (the bias stays f32), as a bf16 primitive would read them
  if (m->precision == SR_PRECISION_BF16) sr_bf16_round(p->wtmp, per * nd->c);
  if (s->wino) return sr_plan_wino_weights(p, s, err);
  return sr_reorder_run(&p->dnn, s->wre, s->wplain, s->w, err);  // the plan waits after the last step's
}

static sr_status plan_run_wino(sr_infer *p, const sr_istep *s, sr_err *err) {
  void *src, *dst;
  DNNL_TRY(dnnl_stream_wait(p->dnn.e->stream), err);  // the reorders above have written src / dst
  DNNL_TRY(dnnl_memory_get_data_handle(p->vals[s->pre ? s->src_tmp : s->in[0]].mem, &src), err);
  DNNL_TRY(dnnl_memory_get_data_handle(p->vals[s->out].mem, &dst), err);
  sr_wino_post post = {.bias = s->bias, .sum = s->add >= 0, .relu = s->relu >= 0};
  return sr_wino_forward(s->wino, src, dst, &post, p->wino_scratch, err);
}

static sr_status plan_run(sr_infer *p, const sr_istep *s, sr_err *err) {
  dnnl_memory_t in = p->vals[s->in[0]].mem, out = p->vals[s->out].mem;
  sr_status e;
  if (s->pre && (e = sr_reorder_run(&p->dnn, s->pre, in, p->vals[s->src_tmp].mem, err))) return e;
  if (s->copy && (e = sr_reorder_run(&p->dnn, s->copy, p->vals[s->in[1]].mem, out, err))) return e;
  if (s->wino) return plan_run_wino(p, s, err);
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, s->pre ? p->vals[s->src_tmp].mem : in},
                         {DNNL_ARG_WEIGHTS, s->w},
                         {DNNL_ARG_DST, out},
                         {DNNL_ARG_BIAS, s->b}};
  return sr_exec(&p->dnn, s->prim, s->b ? 4 : 3, a, err);
}

const sr_layer_ops sr_ops_conv = {
    .name = "conv2d",
    .tape = {.build = build, .forward = forward, .backward = backward},
    .ref = {.forward = ref_fwd, .backward = ref_bwd},
    .flops = flops,
    .plan = {.fuse = plan_fuse, .build = plan_build, .refresh = plan_refresh, .run = plan_run}};
