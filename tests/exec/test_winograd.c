// Winograd F(4x4, 3x3) (src/kernels/winograd.c): against a double-precision direct convolution and oneDNN's
// direct convolution on random data, with bias, shortcut and ReLU, spatial sizes that are and are not
// multiples of 4; the plan's fixed rule; and an inference plan with Winograd on against the same plan with
// it off and the tape's eval forward.
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include "kernels/winograd.h"
#include "simreg/layers.h"
#include "simreg/model.h"
#include "sr_test.h"

#define LIMIT 1e-4  // max |err| / max |ref|

static double worst;  // largest error measured against the double reference, reported at the end

// x: (N, C, H, W) plain <-> (N, C/8, H, W, 8)
static void to_blocked(float *b, const float *x, int N, int C, int HW) {
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (int i = 0; i < HW; i++)
        b[(((int64_t)n * (C / 8) + c / 8) * HW + i) * 8 + c % 8] = x[((int64_t)n * C + c) * HW + i];
}

static void from_blocked(float *x, const float *b, int N, int C, int HW) {
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (int i = 0; i < HW; i++)
        x[((int64_t)n * C + c) * HW + i] = b[(((int64_t)n * (C / 8) + c / 8) * HW + i) * 8 + c % 8];
}

// oneDNN's direct convolution (3x3, stride 1, pad 1) with bias on plain layouts: y (N, K, H, W)
static void dnnl_direct(float *y, const float *x, const float *w, const float *b, int N, int C, int K, int H,
                        int W) {
  dnnl_engine_t eng;
  dnnl_stream_t st;
  dnnl_memory_desc_t xm, wm, bm, ym;
  dnnl_dims_t xd = {N, C, H, W}, wd = {K, C, 3, 3}, bd = {K}, yd = {N, K, H, W}, s = {1, 1}, p = {1, 1};
  dnnl_memory_desc_init_by_tag(&xm, 4, xd, dnnl_f32, dnnl_nchw);
  dnnl_memory_desc_init_by_tag(&wm, 4, wd, dnnl_f32, dnnl_oihw);
  dnnl_memory_desc_init_by_tag(&bm, 1, bd, dnnl_f32, dnnl_a);
  dnnl_memory_desc_init_by_tag(&ym, 4, yd, dnnl_f32, dnnl_nchw);
  dnnl_convolution_desc_t cd;
  dnnl_primitive_desc_t pd;
  dnnl_primitive_t prim;
  dnnl_memory_t mx, mw, mb, my;
  int ok = dnnl_engine_create(&eng, dnnl_cpu, 0) == dnnl_success &&
           dnnl_stream_create(&st, eng, dnnl_stream_default_flags) == dnnl_success &&
           dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &xm, &wm,
                                              &bm, &ym, s, p, p) == dnnl_success &&
           dnnl_primitive_desc_create(&pd, &cd, NULL, eng, NULL) == dnnl_success &&
           dnnl_primitive_create(&prim, pd) == dnnl_success &&
           dnnl_memory_create(&mx, &xm, eng, (void *)x) == dnnl_success &&
           dnnl_memory_create(&mw, &wm, eng, (void *)w) == dnnl_success &&
           dnnl_memory_create(&mb, &bm, eng, (void *)b) == dnnl_success &&
           dnnl_memory_create(&my, &ym, eng, y) == dnnl_success;
  CHECK(ok, "oneDNN direct convolution set up");
  if (!ok) return;
  dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, mx}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mb}, {DNNL_ARG_DST, my}};
  CHECK(dnnl_primitive_execute(prim, st, 4, a) == dnnl_success && dnnl_stream_wait(st) == dnnl_success,
        "direct conv runs");
  dnnl_memory_t ms[] = {mx, mw, mb, my};
  for (int k = 0; k < 4; k++) dnnl_memory_destroy(ms[k]);
  dnnl_primitive_destroy(prim);
  dnnl_primitive_desc_destroy(pd);
  dnnl_stream_destroy(st);
  dnnl_engine_destroy(eng);
}

// Winograd on x (plain) with dst pre-filled from sc (plain, or NULL: no sum) -> y (plain)
static void wino_run(float *y, const float *x, const float *w, const float *b, const float *sc, int relu,
                     int N, int C, int K, int H, int W, int nthr) {
  sr_err err = {0};
  sr_node nd = {.op = SR_OP_CONV,
                .c = K,
                .h = H,
                .w = W,
                .ic = C,
                .ih = H,
                .iw = W,
                .k = 3,
                .stride = 1,
                .pad = 1,
                .name = "t"};
  sr_wino wn;
  sr_wino_init(&wn, &nd, N, nthr);
  wn.u = sr_alloc(sizeof(float) * SR_WINO_XI * (size_t)C * (size_t)K);
  size_t nx = (size_t)N * C * H * W, ny = (size_t)N * K * H * W;
  float *xb = sr_alloc(sizeof(float) * nx), *yb = sr_alloc(sizeof(float) * ny);
  float *scr = sr_alloc(sizeof(float) * sr_wino_scratch_floats(&wn));
  to_blocked(xb, x, N, C, H * W);
  if (sc) to_blocked(yb, sc, N, K, H * W);
  CHECK_OK(sr_wino_set_weights(&wn, w, &err), &err);
  CHECK_OK(sr_wino_forward(&wn, xb, yb, &(sr_wino_post){b, sc != NULL, relu}, scr, &err), &err);
  from_blocked(y, yb, N, K, H * W);
  sr_free(xb);
  sr_free(yb);
  sr_free(scr);
  sr_free(wn.u);
}

// max |a - r| / max |r|
static double err_to_max(const float *a, const double *r, size_t n) {
  double md = 0, mr = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - r[i]);
    if (!(d <= md)) md = d;  // NaN propagates as failure
    mr = fmax(mr, fabs(r[i]));
  }
  return md / (mr > 1e-30 ? mr : 1e-30);
}

static void check_shape(sr_rng *rng, int N, int C, int K, int H, int W) {
  size_t nx = (size_t)N * C * H * W, nw = (size_t)K * C * 9, ny = (size_t)N * K * H * W;
  float *x = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * nw),
        *b = malloc(sizeof(float) * (size_t)K);
  float *sc = malloc(sizeof(float) * ny), *y = malloc(sizeof(float) * ny), *yd = malloc(sizeof(float) * ny);
  float *y1 = malloc(sizeof(float) * ny);
  double *xdd = malloc(sizeof(double) * nx), *wdd = malloc(sizeof(double) * nw),
         *bdd = malloc(sizeof(double) * (size_t)K);
  double *r = malloc(sizeof(double) * ny), *rs = malloc(sizeof(double) * ny);
  double ws = sqrt(2.0 / (9.0 * C));  // He-scaled weights: outputs of order 1, as in a trained net
  for (size_t i = 0; i < nx; i++) {
    x[i] = (float)sr_rng_normal(rng);
    xdd[i] = x[i];
  }
  for (size_t i = 0; i < nw; i++) {
    w[i] = (float)(ws * sr_rng_normal(rng));
    wdd[i] = w[i];
  }
  for (int k = 0; k < K; k++) {
    b[k] = (float)(0.5 * sr_rng_normal(rng));
    bdd[k] = b[k];
  }
  for (size_t i = 0; i < ny; i++) sc[i] = (float)sr_rng_normal(rng);
  sr_conv2d_forward_ref(
      r, xdd, wdd, bdd,
      &(sr_conv_shape){.n = N, .c = C, .h = H, .w = W, .o = K, .k = 3, .stride = 1, .pad = 1});
  for (size_t i = 0; i < ny; i++) rs[i] = fmax(0.0, r[i] + sc[i]);  // relu(conv + bias + shortcut)

  wino_run(y, x, w, b, NULL, 0, N, C, K, H, W, 2);
  double e = err_to_max(y, r, ny);
  worst = fmax(worst, e);
  CHECK(e < LIMIT, "N%d C%d K%d %dx%d: Winograd vs double direct %.3g", N, C, K, H, W, e);
  dnnl_direct(yd, x, w, b, N, C, K, H, W);
  double ed = sr_test_rel_to_max(y, yd, ny), edd = err_to_max(yd, r, ny);
  CHECK(ed < LIMIT, "N%d C%d K%d %dx%d: Winograd vs oneDNN direct %.3g (oneDNN vs double %.3g)", N, C, K, H,
        W, ed, edd);

  wino_run(y, x, w, b, sc, 1, N, C, K, H, W, 2);
  e = err_to_max(y, rs, ny);
  worst = fmax(worst, e);
  CHECK(e < LIMIT, "N%d C%d K%d %dx%d: Winograd + shortcut + ReLU vs double %.3g", N, C, K, H, W, e);
  int neg = 0;
  for (size_t i = 0; i < ny; i++) neg += y[i] < 0;
  CHECK(neg == 0, "ReLU applied: %d negative outputs", neg);

  // one thread (other block size) against two: same numbers up to the GEMMs' rounding
  wino_run(y1, x, w, b, sc, 1, N, C, K, H, W, 1);
  double e1 = sr_test_rel_to_max(y1, y, ny);
  CHECK(e1 < LIMIT, "N%d C%d K%d %dx%d: 1 thread vs 2 threads %.3g", N, C, K, H, W, e1);
  e1 = err_to_max(y1, rs, ny);
  worst = fmax(worst, e1);
  printf("N%d C%-3d K%-3d %2dx%-2d  vs double %.2e  vs oneDNN %.2e  (oneDNN vs double %.2e)\n", N, C, K, H, W,
         e1, ed, edd);

  // the shortcut alone, and ReLU alone
  wino_run(y, x, w, b, sc, 0, N, C, K, H, W, 2);
  for (size_t i = 0; i < ny; i++) rs[i] = r[i] + sc[i];
  e = err_to_max(y, rs, ny);
  worst = fmax(worst, e);
  CHECK(e < LIMIT, "N%d C%d K%d %dx%d: Winograd + shortcut vs double %.3g", N, C, K, H, W, e);
  wino_run(y, x, w, b, NULL, 1, N, C, K, H, W, 2);
  for (size_t i = 0; i < ny; i++) rs[i] = fmax(0.0, r[i]);
  e = err_to_max(y, rs, ny);
  worst = fmax(worst, e);
  CHECK(e < LIMIT, "N%d C%d K%d %dx%d: Winograd + ReLU vs double %.3g", N, C, K, H, W, e);
  free(x);
  free(w);
  free(b);
  free(sc);
  free(y);
  free(yd);
  free(y1);
  free(xdd);
  free(wdd);
  free(bdd);
  free(r);
  free(rs);
}

// A plan's block size is fixed when it is built; running it with fewer threads than it was sized for
// gives the same bits (each block's arithmetic does not depend on the thread that runs it).
static void check_thread_independence(sr_rng *rng) {
  enum { N = 2, C = 32, K = 48, H = 13, W = 11 };
  sr_err err = {0};
  sr_node nd = {.op = SR_OP_CONV,
                .c = K,
                .h = H,
                .w = W,
                .ic = C,
                .ih = H,
                .iw = W,
                .k = 3,
                .stride = 1,
                .pad = 1,
                .name = "t"};
  sr_wino wn;
  sr_wino_init(&wn, &nd, N, 2);
  wn.u = sr_alloc(sizeof(float) * SR_WINO_XI * (size_t)C * (size_t)K);
  size_t nx = (size_t)N * C * H * W, ny = (size_t)N * K * H * W;
  float *x = sr_alloc(sizeof(float) * nx), *wt = sr_alloc(sizeof(float) * K * C * 9),
        *b = sr_alloc(sizeof(float) * K);
  float *y2 = sr_alloc(sizeof(float) * ny), *y1 = sr_alloc(sizeof(float) * ny);
  float *scr = sr_alloc(sizeof(float) * sr_wino_scratch_floats(&wn));
  for (size_t i = 0; i < nx; i++) x[i] = (float)sr_rng_normal(rng);
  for (int i = 0; i < K * C * 9; i++) wt[i] = (float)(0.1 * sr_rng_normal(rng));
  for (int i = 0; i < K; i++) b[i] = (float)sr_rng_normal(rng);
  CHECK_OK(sr_wino_set_weights(&wn, wt, &err), &err);
  int threads = omp_get_max_threads();
  omp_set_num_threads(2);
  CHECK_OK(sr_wino_forward(&wn, x, y2, &(sr_wino_post){b, 0, 1}, scr, &err), &err);
  omp_set_num_threads(1);
  CHECK_OK(sr_wino_forward(&wn, x, y1, &(sr_wino_post){b, 0, 1}, scr, &err), &err);
  omp_set_num_threads(threads);
  CHECK(wn.tiles > wn.tb, "several blocks (%lld tiles, %lld per block)", (long long)wn.tiles,
        (long long)wn.tb);
  CHECK(memcmp(y1, y2, sizeof(float) * ny) == 0, "same bits with 1 and 2 threads");
  sr_free(x);
  sr_free(wt);
  sr_free(b);
  sr_free(y2);
  sr_free(y1);
  sr_free(scr);
  sr_free(wn.u);
}

// The switch is explicit: the defaults are on whatever the environment says, and a model's plans and tapes
// follow sr_model_set_winograd.
static void check_switch(void) {
  sr_rng rng;
  sr_rng_seed(&rng, 34, 0);
  setenv("SR_WINOGRAD", "0", 1);  // read by the CLI only
  sr_infer_options o;
  sr_infer_default_options(&o);
  // on where the Winograd kernels' layout is oneDNN's own (AVX2); off by default on AVX-512 CPUs
  CHECK(o.winograd == sr_wino_native(), "defaults: native (%d), environment ignored", sr_wino_native());
  unsetenv("SR_WINOGRAD");
  sr_err err = {0};
  sr_model m;
  sr_model_config cfg = {.arch = "custom", .in_c = 32, .in_h = 8, .in_w = 8, .classes = 4};
  CHECK_OK(sr_model_init(&m, &cfg, &err), &err);
  int c =
      sr_graph_conv(&m, 0, &(sr_conv_spec){.out_c = 32, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "conv");
  int f = sr_graph_flatten(&m, c);
  sr_graph_linear(&m, f, 4, 1, "fc");
  CHECK_OK(sr_model_finalize(&m, &rng, &err), &err);
  CHECK(sr_model_winograd(&m) == sr_wino_native(), "a new model: Winograd where native");
  int64_t n = 4;
  for (int on = 1; on >= 0; on--) {
    CHECK_OK(sr_model_set_winograd(&m, on, &err), &err);
    sr_infer *p = NULL;
    CHECK_OK(sr_infer_create(&m, n, &p, &err), &err);
    sr_infer_stats st = {0};
    if (p) sr_infer_get_stats(p, &st);
    CHECK(st.winograd == on, "sr_infer_create follows the model's switch %d: %d Winograd convolutions", on,
          st.winograd);
    sr_infer_free(p);
  }
  CHECK(sr_model_set_winograd(&m, 2, &err) == SR_ERR_ARG, "switch 2 refused");
  sr_model_free(&m);
}

static void check_rule(void) {
  sr_node nd = {
      .op = SR_OP_CONV, .c = 64, .h = 8, .w = 8, .ic = 64, .ih = 8, .iw = 8, .k = 3, .stride = 1, .pad = 1};
  CHECK(sr_wino_eligible(&nd, 1), "3x3 s1 p1 64->64 is Winograd");
  sr_node x = nd;
  x.stride = 2;
  CHECK(!sr_wino_eligible(&x, 1), "stride 2 excluded");
  x = nd;
  x.k = 1;
  x.pad = 0;
  CHECK(!sr_wino_eligible(&x, 1), "1x1 excluded");
  x = nd;
  x.pad = 0;
  CHECK(!sr_wino_eligible(&x, 1), "pad 0 excluded");
  x = nd;
  x.groups = 2;
  CHECK(!sr_wino_eligible(&x, 1), "groups excluded");
  x = nd;
  x.dil = 2;
  CHECK(!sr_wino_eligible(&x, 1), "dilation excluded");
  x = nd;
  x.pads[0] = x.pads[1] = x.pads[3] = 1;
  x.pads[2] = 2;
  CHECK(!sr_wino_eligible(&x, 1), "asymmetric pads excluded");
  x.pads[2] = 1;
  CHECK(sr_wino_eligible(&x, 1), "pads 1 on every side");
  x = nd;
  x.ic = 36;
  CHECK(!sr_wino_eligible(&x, 1), "C not a multiple of 8 excluded");
  x = nd;
  x.c = 20;
  CHECK(!sr_wino_eligible(&x, 1), "K not a multiple of 8 excluded");
  x = nd;
  x.ic = 8;
  CHECK(!sr_wino_eligible(&x, 1), "C < 16 excluded");
  x = nd;
  x.c = 8;
  CHECK(!sr_wino_eligible(&x, 1), "K < 16 excluded");
  x = nd;
  x.ic = x.c = 16;
  x.h = x.w = x.ih = x.iw = 4;  // one tile per image, 16 x 16 channels: little work
  CHECK(!sr_wino_eligible(&x, 4) && !sr_wino_eligible(&x, 63) && sr_wino_eligible(&x, 64),
        "tiles * C * K >= 2^14");
  x = nd;
  x.h = x.w = x.ih = x.iw = 4;  // one 4x4 tile per image
  CHECK(!sr_wino_eligible(&x, 1) && !sr_wino_eligible(&x, 3) && sr_wino_eligible(&x, 4), "at least 4 tiles");
  x = nd;
  x.h = x.w = x.ih = x.iw = 5;  // 2x2 tiles, the last ones partial
  CHECK(sr_wino_eligible(&x, 1), "5x5: 4 tiles");
  x = nd;
  x.op = SR_OP_MAXPOOL;
  CHECK(!sr_wino_eligible(&x, 1), "not a convolution");
}

// A small residual net whose 3x3 convolutions pass the rule: plan with Winograd vs without vs tape.
static void check_plan(sr_rng *rng) {
  sr_err err = {0};
  sr_model m;
  sr_model_config cfg = {.arch = "custom", .in_c = 3, .in_h = 14, .in_w = 14, .classes = 7};
  CHECK_OK(sr_model_init(&m, &cfg, &err), &err);
  int r1 = sr_graph_relu(
      &m,
      sr_graph_bn(
          &m,
          sr_graph_conv(&m, 0, &(sr_conv_spec){.out_c = 32, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "c1"),
          "b1"));  // C = 3: direct
  int h = sr_graph_relu(
      &m,
      sr_graph_bn(
          &m,
          sr_graph_conv(&m, r1, &(sr_conv_spec){.out_c = 32, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "ca"),
          "ba"));
  int b2 = sr_graph_bn(
      &m, sr_graph_conv(&m, h, &(sr_conv_spec){.out_c = 32, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "c2"),
      "b2");
  int a1 = sr_graph_relu(&m, sr_graph_add(&m, b2, r1));  // sum + ReLU, in place
  int c3 = sr_graph_relu(
      &m, sr_graph_conv(&m, a1, &(sr_conv_spec){.out_c = 40, .k = 3, .stride = 1, .pad = 1, .bias = 1},
                        "c3"));  // own bias, no BN
  int out = sr_graph_linear(&m, sr_graph_gap(&m, c3), 7, 1, "fc");
  CHECK(out > 0, "graph");
  CHECK_OK(sr_model_finalize(&m, rng, &err), &err);
  for (int i = 1; i < m.n_nodes; i++) {
    const sr_node *nd = &m.nodes[i];
    if (nd->op != SR_OP_BN) continue;
    for (int c = 0; c < nd->c; c++) {
      m.params[nd->p_w + c] = (float)(0.5 + sr_rng_uniform(rng));
      m.params[nd->p_b + c] = (float)(0.3 * sr_rng_normal(rng));
      m.state[nd->s_mean + c] = (float)(0.3 * sr_rng_normal(rng));
      m.state[nd->s_var + c] = (float)(0.3 + 2 * sr_rng_uniform(rng));
    }
  }
  m.params_version++;
  int64_t ns[] = {1, 3};
  for (int k = 0; k < 2; k++) {
    int64_t n = ns[k], nin = n * 3 * 14 * 14, nout = n * 7;
    float *x = malloc(sizeof(float) * (size_t)nin), *a = malloc(sizeof(float) * (size_t)nout);
    float *b = malloc(sizeof(float) * (size_t)nout), *t = malloc(sizeof(float) * (size_t)nout);
    for (int64_t i = 0; i < nin; i++) x[i] = (float)sr_rng_normal(rng);
    sr_infer_options on = {.winograd = 1}, off = {.winograd = 0};
    sr_infer *pw = NULL, *pd = NULL;
    CHECK_OK(sr_infer_create_opts(&m, n, &on, &pw, &err), &err);
    CHECK_OK(sr_infer_create_opts(&m, n, &off, &pd, &err), &err);
    if (pw && pd) {
      CHECK_OK(sr_infer_forward(pw, x, a, &err), &err);
      CHECK_OK(sr_infer_forward(pd, x, b, &err), &err);
      CHECK_OK(sr_model_forward(&m, x, n, 0, t, &err), &err);
      double e = sr_test_rel_to_max(a, b, (size_t)nout), et = sr_test_rel_to_max(a, t, (size_t)nout);
      CHECK(e < LIMIT, "plan batch %lld: Winograd vs direct %.3g", (long long)n, e);
      CHECK_OK(sr_infer_forward(pw, x, b, &err), &err);  // deterministic: the same bits on a second run
      CHECK(memcmp(a, b, sizeof(float) * (size_t)nout) == 0, "plan batch %lld: Winograd run twice differs",
            (long long)n);
      CHECK(et < LIMIT, "plan batch %lld: Winograd vs tape eval %.3g", (long long)n, et);
      sr_infer_stats sw, sd;
      sr_infer_get_stats(pw, &sw);
      sr_infer_get_stats(pd, &sd);
      CHECK(sw.winograd == 3 && sd.winograd == 0, "Winograd convolutions: %d on, %d off", sw.winograd,
            sd.winograd);
      // in place only where the direct convolutions share the Winograd steps' nChw8c (AVX2): on AVX-512 the
      // shortcut is nChw16c and the add reads it through a reorder
      CHECK(sw.bn_folded == 3 && sw.add_fused == 1 &&
                sw.add_in_place == (sr_wino_native() ? 1 : sw.add_in_place) && sw.relu_fused == sd.relu_fused,
            "fusions kept with Winograd: bn %d add %d/%d relu %d/%d", sw.bn_folded, sw.add_fused,
            sw.add_in_place, sw.relu_fused, sd.relu_fused);
      // refold: a parameter change reaches the Winograd weights
      for (int64_t i = 0; i < m.n_params; i++) m.params[i] *= 0.9f;
      m.params_version++;
      CHECK_OK(sr_infer_forward(pw, x, a, &err), &err);
      CHECK_OK(sr_model_forward(&m, x, n, 0, t, &err), &err);
      et = sr_test_rel_to_max(a, t, (size_t)nout);
      CHECK(et < LIMIT, "plan batch %lld after a params change: Winograd vs tape %.3g", (long long)n, et);
      printf("plan batch %lld: Winograd vs direct plan %.2e, vs tape %.2e\n", (long long)n, e, et);
    }
    sr_infer_free(pw);
    sr_infer_free(pd);
    free(x);
    free(a);
    free(b);
    free(t);
  }
  sr_model_free(&m);
}

// The Winograd step reads the caller's plain input (a reorder to nChw8c first) and adds onto it (the
// shortcut is copied into dst: the input buffer is read-only): relu(bn(conv(x)) + x).
static void check_plan_input_shortcut(sr_rng *rng) {
  enum { N = 2, C = 32, S = 9 };  // 18 tiles x 32 x 32: over the work floor
  sr_err err = {0};
  sr_model m;
  sr_model_config cfg = {.arch = "custom", .in_c = C, .in_h = S, .in_w = S, .classes = 5};
  CHECK_OK(sr_model_init(&m, &cfg, &err), &err);
  int a = sr_graph_relu(
      &m,
      sr_graph_add(
          &m,
          sr_graph_bn(&m,
                      sr_graph_conv(
                          &m, 0, &(sr_conv_spec){.out_c = C, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "c"),
                      "b"),
          0));
  CHECK(sr_graph_linear(&m, sr_graph_gap(&m, a), 5, 1, "fc") > 0, "graph");
  CHECK_OK(sr_model_finalize(&m, rng, &err), &err);
  float x[N * C * S * S], z[N * 5], t[N * 5];
  for (int i = 0; i < N * C * S * S; i++) x[i] = (float)sr_rng_normal(rng);
  sr_infer_options on = {.winograd = 1};
  sr_infer *p = NULL;
  CHECK_OK(sr_infer_create_opts(&m, N, &on, &p, &err), &err);
  if (p) {
    sr_infer_stats st;
    sr_infer_get_stats(p, &st);
    CHECK(st.winograd == 1 && st.add_fused == 1 && st.add_in_place == 0,
          "Winograd %d, add fused %d, in place %d", st.winograd, st.add_fused, st.add_in_place);
    CHECK_OK(sr_infer_forward(p, x, z, &err), &err);
    CHECK_OK(sr_model_forward(&m, x, N, 0, t, &err), &err);
    double e = sr_test_rel_to_max(z, t, N * 5);
    CHECK(e < LIMIT, "input shortcut: Winograd plan vs tape %.3g", e);
    sr_infer_free(p);
  }
  sr_model_free(&m);
}

int main(void) {
  sr_rng rng;
  sr_rng_seed(&rng, 33, 0);
  check_rule();
  check_switch();
  check_thread_independence(&rng);
  // kernel shapes: spatial not multiples of 4, 1x1 spatial (all padding), batch 1 and 3, C != K
  int shapes[][5] = {{1, 32, 32, 7, 7},   {3, 32, 40, 5, 9}, {3, 64, 32, 1, 1},  {1, 32, 64, 4, 4},
                     {1, 32, 32, 32, 32}, {3, 8, 16, 6, 11}, {1, 256, 32, 8, 8}, {3, 48, 24, 3, 2}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    check_shape(&rng, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4]);
  printf("largest Winograd error vs the double direct convolution: %.3g (limit %g)\n", worst, LIMIT);
  check_plan(&rng);
  check_plan_input_shortcut(&rng);
  return sr_test_done();
}
