// --precision bf16 (src/kernels/precision.c): the rounding itself against an independent double-arithmetic
// oracle; one convolution and one linear layer bit-exactly against the f32 engine fed bf16-rounded operands
// (what bf16 kernels with f32 accumulation compute); a resnet with Winograd convolutions, in training, close
// to f32 but not equal, with bf16 outputs and input gradient and untouched f32 master weights; the inference
// plan against the tape; and the switch back to f32.
#include <float.h>
#include <stdint.h>

#include "simreg/model.h"
#include "sr_test.h"

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

// The nearest number with an 8-bit significand, ties to even (nearbyint in the default rounding mode).
static float oracle(float f) {
  if (isnan(f) || isinf(f) || f == 0) return f;
  int e;
  double m = frexp((double)f, &e);  // f = m * 2^e, 0.5 <= |m| < 1
  double r = ldexp(nearbyint(ldexp(m, 8)), e - 8);
  return r > FLT_MAX ? INFINITY : r < -FLT_MAX ? -INFINITY : (float)r;
}

static int all_bf16(const float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (bits(x[i]) & 0xffffu) return 0;
  return 1;
}

static void check_rounding(void) {
  float v[] = {1.0f,
               1.0f + 0x1p-8f,
               1.0f + 3 * 0x1p-8f,
               1.0f + 0x1p-8f + 0x1p-20f,
               -2.5f,
               FLT_MAX,
               -FLT_MAX,
               0x1.fefffep127f,
               -0.0f,
               INFINITY,
               1e-30f};
  float want[] = {1.0f,      1.0f,        1.0f + 0x1p-6f, 1.0f + 0x1p-7f, -2.5f,         INFINITY,
                  -INFINITY, 0x1.fep127f, -0.0f,          INFINITY,       oracle(1e-30f)};
  int n = (int)(sizeof v / sizeof v[0]);
  float got[16];
  memcpy(got, v, sizeof v);
  sr_bf16_round(got, n);
  for (int i = 0; i < n; i++)
    CHECK(bits(got[i]) == bits(want[i]), "round(%a) = %a, want %a", (double)v[i], (double)got[i],
          (double)want[i]);
  float nan = NAN;
  sr_bf16_round(&nan, 1);
  CHECK(isnan(nan), "NaN stays NaN (%a)", (double)nan);
  // 200k values spread over the exponent range (normal numbers), and the parallel path (n > 65536)
  int64_t m = 200000, bad = 0;
  float *x = malloc(sizeof(float) * (size_t)m);
  sr_rng rng;
  sr_rng_seed(&rng, 16, 0);
  for (int64_t i = 0; i < m; i++)
    x[i] = (float)(sr_rng_normal(&rng) * ldexp(1.0, (int)(sr_rng_uniform(&rng) * 200) - 100));
  float *y = malloc(sizeof(float) * (size_t)m);
  memcpy(y, x, sizeof(float) * (size_t)m);
  sr_bf16_round(y, m);
  for (int64_t i = 0; i < m; i++) bad += bits(y[i]) != bits(oracle(x[i]));
  CHECK(bad == 0, "%lld of %lld random values round differently from the oracle", (long long)bad,
        (long long)m);
  printf("rounding: %d edge cases and %lld random values match the double oracle\n", n, (long long)m);
  free(x);
  free(y);
}

static float *rand_floats(sr_rng *rng, int64_t n) {
  float *x = malloc(sizeof(float) * (size_t)n);
  for (int64_t i = 0; i < n; i++) x[i] = (float)sr_rng_normal(rng);
  return x;
}

static int64_t count_diff(const float *a, const float *b, int64_t n) {
  int64_t d = 0;
  for (int64_t i = 0; i < n; i++) d += bits(a[i]) != bits(b[i]);
  return d;
}

// One layer, model A in bf16, model B in f32 with A's weights rounded: A(x) = round(B(round(x))), A's weight
// gradient from dy = B's from round(dy), A's input gradient = round(B's) - bit for bit. Two steps on the same
// tapes, A's weights changed in between (as SGD does): A must round its new weights, not reuse old copies.
static void check_exact(int linear) {
  sr_err err = {0};
  sr_rng rng;
  sr_rng_seed(&rng, 5, (uint64_t)linear);
  sr_model a, b;
  sr_model_config cfg = {.arch = "custom", .in_c = 16, .in_h = 12, .in_w = 12, .classes = 10};
  for (int k = 0; k < 2; k++) {
    sr_model *m = k ? &b : &a;
    CHECK_OK(sr_model_init(m, &cfg, &err), &err);
    int out = linear
                  ? sr_graph_linear(m, 0, 10, 1, "fc")
                  : sr_graph_conv(
                        m, 0, &(sr_conv_spec){.out_c = 24, .k = 3, .stride = 1, .pad = 1, .bias = 1}, "conv");
    CHECK(out > 0, "graph");
    sr_rng r2 = rng;
    CHECK_OK(sr_model_finalize(m, &r2, &err), &err);
  }
  CHECK_OK(sr_model_set_precision(&a, SR_PRECISION_BF16, &err), &err);
  CHECK(a.precision == SR_PRECISION_BF16 && b.precision == SR_PRECISION_F32, "precisions");
  const sr_node *nd = &a.nodes[1];
  int64_t nw = (int64_t)nd->c * nd->ic * (linear ? nd->ih * nd->iw : nd->k * nd->k);
  int64_t n = 4, d = 16 * 12 * 12, o = sr_model_out_size(&a) * n;
  float *x = rand_floats(&rng, n * d), *dy = rand_floats(&rng, o),
        *xr = malloc(sizeof(float) * (size_t)(n * d));
  float *dyr = malloc(sizeof(float) * (size_t)o);
  memcpy(xr, x, sizeof(float) * (size_t)(n * d));
  memcpy(dyr, dy, sizeof(float) * (size_t)o);
  sr_bf16_round(xr, n * d);
  sr_bf16_round(dyr, o);
  float *ya = malloc(sizeof(float) * (size_t)o), *yb = malloc(sizeof(float) * (size_t)o);
  float *dxa = malloc(sizeof(float) * (size_t)(n * d)), *dxb = malloc(sizeof(float) * (size_t)(n * d));
  sr_tape *ta, *tb;
  CHECK_OK(sr_model_tape(&a, n, 0, &ta, &err), &err);
  CHECK_OK(sr_model_tape(&b, n, 0, &tb, &err), &err);
  const char *what = linear ? "linear" : "conv";
  for (int step = 0; step < 2; step++) {
    if (step)  // a weight update that moves most weights to another bf16 number
      for (int64_t i = 0; i < nw; i++) a.params[nd->p_w + i] *= 1.0f + 0.03f * (float)sr_rng_normal(&rng);
    a.params_version++;
    memcpy(b.params, a.params, sizeof(float) * (size_t)a.n_params);
    sr_bf16_round(b.params + nd->p_w, nw);  // the weights; the bias stays f32
    b.params_version++;
    sr_model_zero_grad(&a);
    sr_model_zero_grad(&b);
    CHECK_OK(sr_tape_forward(ta, x, 1, ya, &err), &err);
    CHECK_OK(sr_tape_backward(ta, dy, dxa, &err), &err);
    CHECK_OK(sr_tape_forward(tb, xr, 1, yb, &err), &err);
    CHECK_OK(sr_tape_backward(tb, dyr, dxb, &err), &err);
    int64_t changed = count_diff(ya, yb, o);  // before rounding B: A really differs from plain f32
    sr_bf16_round(yb, o);
    sr_bf16_round(dxb, n * d);
    CHECK(count_diff(ya, yb, o) == 0, "%s step %d output: %lld of %lld differ", what, step,
          (long long)count_diff(ya, yb, o), (long long)o);
    CHECK(changed > o / 2, "%s: only %lld of %lld outputs were rounded", what, (long long)changed,
          (long long)o);
    CHECK(count_diff(dxa, dxb, n * d) == 0, "%s step %d input gradient: %lld differ", what, step,
          (long long)count_diff(dxa, dxb, n * d));
    CHECK(count_diff(a.grads, b.grads, a.n_params) == 0, "%s step %d weight gradient: %lld differ", what,
          step, (long long)count_diff(a.grads, b.grads, a.n_params));
    CHECK(!all_bf16(a.grads, a.n_params), "%s: weight gradients stay f32", what);
    CHECK(!all_bf16(a.params + nd->p_w, nw), "%s: master weights stay f32", what);
  }
  printf(
      "%s: bf16 = f32 on rounded operands, bit for bit, 2 steps (output, input gradient, %lld weight "
      "gradients)\n",
      what, (long long)a.n_params);
  free(x);
  free(dy);
  free(xr);
  free(dyr);
  free(ya);
  free(yb);
  free(dxa);
  free(dxb);
  sr_model_free(&a);
  sr_model_free(&b);
}

// ||got - want|| / ||want||
static double rel(const float *got, const float *want, int64_t n) {
  double s = 0, w = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = (double)got[i] - (double)want[i];
    s += d * d;
    w += (double)want[i] * want[i];
  }
  return sqrt(s / (w > 1e-300 ? w : 1e-300));
}

typedef struct pass {
  float *y, *dx, *g;
} pass;

static pass pass_new(const sr_model *m, int64_t n, int64_t d, int64_t k) {
  return (pass){malloc(sizeof(float) * (size_t)(n * k)), malloc(sizeof(float) * (size_t)(n * d)),
                malloc(sizeof(float) * (size_t)m->n_params)};
}

static void pass_free(pass *p) {
  free(p->y);
  free(p->dx);
  free(p->g);
}

// One forward + backward from running statistics st0, on the tape or on the double reference (which rounds
// where the engine does when the model is bf16).
static void run(sr_model *m, const float *st0, int ref, const float *x, const float *dy, int64_t n,
                int training, pass *p) {
  sr_err err = {0};
  int64_t d = (int64_t)m->cfg.in_c * m->cfg.in_h * m->cfg.in_w, k = m->cfg.classes;
  memcpy(m->state, st0, sizeof(float) * (size_t)m->n_state);
  m->state_version++;
  sr_model_zero_grad(m);
  if (!ref) {
    sr_tape *t;
    CHECK_OK(sr_model_tape(m, n, 0, &t, &err), &err);
    CHECK_OK(sr_tape_forward(t, x, training, p->y, &err), &err);
    CHECK_OK(sr_tape_backward(t, dy, p->dx, &err), &err);
    memcpy(p->g, m->grads, sizeof(float) * (size_t)m->n_params);
    return;
  }
  double *xd = malloc(sizeof(double) * (size_t)(n * d)), *dyd = malloc(sizeof(double) * (size_t)(n * k));
  double *yd = malloc(sizeof(double) * (size_t)(n * k)), *dxd = calloc((size_t)(n * d), sizeof(double));
  double *gd = calloc((size_t)m->n_params, sizeof(double));
  for (int64_t i = 0; i < n * d; i++) xd[i] = x[i];
  for (int64_t i = 0; i < n * k; i++) dyd[i] = dy[i];
  sr_ref_run *r = NULL;
  CHECK_OK(sr_ref_forward(m, xd, n, training, yd, &r, &err), &err);
  CHECK_OK(sr_ref_backward(r, dyd, gd, dxd, &err), &err);
  sr_ref_free(r);
  for (int64_t i = 0; i < n * k; i++) p->y[i] = (float)yd[i];
  for (int64_t i = 0; i < n * d; i++) p->dx[i] = (float)dxd[i];
  for (int64_t i = 0; i < m->n_params; i++) p->g[i] = (float)gd[i];
  free(xd);
  free(dyd);
  free(yd);
  free(dxd);
  free(gd);
}

static double worst(const pass *a, const pass *b, const sr_model *m, int64_t n, int64_t d, int64_t k) {
  double e[3] = {rel(a->y, b->y, n * k), rel(a->dx, b->dx, n * d), rel(a->g, b->g, m->n_params)};
  return fmax(e[0], fmax(e[1], e[2]));
}

// The inference plan on a conv -> linear model (no BatchNorm to fold, direct convolution): the same bf16
// numbers as the tape's eval forward, also after a weight change (the plan rounds its own weight copies).
static void check_plan_exact(void) {
  sr_err err = {0};
  sr_rng rng;
  sr_rng_seed(&rng, 9, 0);
  sr_model m;
  sr_model_config cfg = {.arch = "custom", .in_c = 16, .in_h = 12, .in_w = 12, .classes = 10};
  CHECK_OK(sr_model_init(&m, &cfg, &err), &err);
  int c =
      sr_graph_conv(&m, 0, &(sr_conv_spec){.out_c = 24, .k = 3, .stride = 1, .pad = 1, .bias = 1}, "conv");
  CHECK(c > 0 && sr_graph_linear(&m, c, 10, 1, "fc") > 0, "graph");
  CHECK_OK(sr_model_finalize(&m, &rng, &err), &err);
  CHECK_OK(sr_model_set_precision(&m, SR_PRECISION_BF16, &err), &err);
  int64_t n = 4, d = 16 * 12 * 12, o = 10 * n;
  float *x = rand_floats(&rng, n * d), *yt = malloc(sizeof(float) * (size_t)o),
        *yp = malloc(sizeof(float) * (size_t)o);
  sr_tape *t;
  sr_infer *p;
  sr_infer_options direct = {.winograd = 0};
  CHECK_OK(sr_model_tape(&m, n, 0, &t, &err), &err);
  CHECK_OK(sr_infer_create_opts(&m, n, &direct, &p, &err), &err);
  for (int step = 0; step < 2; step++) {
    if (step)
      for (int64_t i = 0; i < m.n_params; i++) m.params[i] *= 1.0f + 0.03f * (float)sr_rng_normal(&rng);
    m.params_version++;
    CHECK_OK(sr_tape_forward(t, x, 0, yt, &err), &err);
    CHECK_OK(sr_infer_forward(p, x, yp, &err), &err);
    double e = rel(yp, yt, o);
    CHECK(e < 1e-6, "conv -> linear, step %d: plan vs tape rel %.3g", step, e);
    CHECK(all_bf16(yp, o), "plan logits are bf16 numbers");
    if (step) printf("conv -> linear plan vs tape in bf16, 2 weight versions: rel %.2e\n", e);
  }
  sr_infer_free(p);
  free(x);
  free(yt);
  free(yp);
  sr_model_free(&m);
}

// Where the engine and the reference compute the same f32 values (eval mode, direct convolutions), the bf16
// engine equals the reference with bf16 rounding at the same places. Elsewhere the two differ first by f32
// rounding (BatchNorm's batch statistics, Winograd); a bf16 rounding that differs is an error of 2^-9, and
// those flips multiply layer by layer, so a deep net in training mode ends as far from the reference as from
// f32: only the shallow cnn-small (no BatchNorm) is compared in training mode.
static void check_vs_ref(const char *arch, double width, int hw, int training, int winograd) {
  sr_err err = {0};
  sr_rng rng;
  sr_rng_seed(&rng, 1616, 0);
  sr_model m;
  sr_model_config cfg = {.in_c = 1, .in_h = hw, .in_w = hw, .classes = 10, .width = width};
  snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
  CHECK_OK(sr_model_create(&m, &cfg, &rng, &err), &err);
  CHECK_OK(sr_model_set_winograd(&m, winograd, &err), &err);
  int64_t n = 8, d = (int64_t)hw * hw, k = 10;
  float *x = rand_floats(&rng, n * d), *dy = rand_floats(&rng, n * k),
        *st0 = malloc(sizeof(float) * (size_t)m.n_state);
  memcpy(st0, m.state, sizeof(float) * (size_t)m.n_state);
  pass f32 = pass_new(&m, n, d, k), bf = pass_new(&m, n, d, k), ref = pass_new(&m, n, d, k);
  run(&m, st0, 0, x, dy, n, training, &f32);
  CHECK_OK(sr_model_set_precision(&m, SR_PRECISION_BF16, &err), &err);
  run(&m, st0, 0, x, dy, n, training, &bf);
  run(&m, st0, 1, x, dy, n, training, &ref);
  double eref = worst(&bf, &ref, &m, n, d, k), e32 = rel(bf.y, f32.y, n * k);
  printf(
      "%s w%.3g %s: bf16 engine vs bf16 reference %.2e (logits, input and parameter gradients); bf16 vs f32 "
      "logits %.2e\n",
      arch, width, training ? "training" : "eval", eref, e32);
  CHECK(e32 > 1e-4, "%s: bf16 logits equal f32's (%.3g)", arch, e32);
  if (training)
    CHECK(eref < 1e-2 && eref < 0.2 * worst(&bf, &f32, &m, n, d, k), "%s: vs reference %.3g", arch, eref);
  else
    CHECK(eref < 1e-5, "%s eval: bf16 engine vs bf16 reference %.3g", arch, eref);
  CHECK(all_bf16(bf.y, n * k) && all_bf16(bf.dx, n * d), "%s: logits and input gradient are bf16 numbers",
        arch);
  // the inference plan (ReLU fused into convolutions, max-pool and flatten steps left unrounded) vs the tape
  sr_tape *t;
  CHECK_OK(sr_model_tape(&m, n, 0, &t, &err), &err);
  CHECK_OK(sr_tape_forward(t, x, 0, f32.y, &err), &err);
  CHECK_OK(sr_model_infer(&m, x, n, ref.y, &err), &err);
  double ep = rel(ref.y, f32.y, n * k);
  printf("  bf16 plan vs bf16 tape (eval) %.2e\n", ep);
  CHECK(ep < 2e-2 && all_bf16(ref.y, n * k), "%s: plan vs tape %.3g", arch, ep);
  pass_free(&f32);
  pass_free(&bf);
  pass_free(&ref);
  free(x);
  free(dy);
  free(st0);
  sr_model_free(&m);
}

// resnet18 width 0.25 on 16x16 in training mode: 13 Winograd convolutions, fused BN/add -> ReLU, residual
// adds.
static void check_resnet(void) {
  sr_err err = {0};
  sr_rng rng;
  sr_rng_seed(&rng, 1616, 0);
  sr_model m;
  sr_model_config cfg = {.arch = "resnet18", .in_c = 1, .in_h = 16, .in_w = 16, .classes = 10, .width = 0.25};
  CHECK_OK(sr_model_create(&m, &cfg, &rng, &err), &err);
  int64_t n = 8, d = 16 * 16, k = 10;
  float *x = rand_floats(&rng, n * d), *dy = rand_floats(&rng, n * k),
        *st0 = malloc(sizeof(float) * (size_t)m.n_state);
  float *p0 = malloc(sizeof(float) * (size_t)m.n_params), *yp = malloc(sizeof(float) * (size_t)(n * k));
  float *ye = malloc(sizeof(float) * (size_t)(n * k));
  memcpy(st0, m.state, sizeof(float) * (size_t)m.n_state);
  memcpy(p0, m.params, sizeof(float) * (size_t)m.n_params);
  pass f32 = pass_new(&m, n, d, k), bf = pass_new(&m, n, d, k), again = pass_new(&m, n, d, k);
  run(&m, st0, 0, x, dy, n, 1, &f32);
  CHECK_OK(sr_model_set_precision(&m, SR_PRECISION_BF16, &err), &err);
  sr_tape *t;
  CHECK_OK(sr_model_tape(&m, n, 0, &t, &err), &err);
  CHECK(sr_tape_winograd_convs(t) == (sr_wino_native() ? 13 : 0), "Winograd convs in bf16: %d",
        sr_tape_winograd_convs(t));
  run(&m, st0, 0, x, dy, n, 1, &bf);
  double ey = rel(bf.y, f32.y, n * k), eg = rel(bf.g, f32.g, m.n_params), ex = rel(bf.dx, f32.dx, n * d);
  printf(
      "resnet18 w0.25, training step, bf16 vs f32: logits %.2e, parameter gradients %.2e, input gradient "
      "%.2e\n",
      ey, eg, ex);
  CHECK(ey > 1e-4 && ey < 5e-2, "logits rel %.3g", ey);
  CHECK(eg < 0.5 && ex < 0.5, "gradients rel %.3g, %.3g", eg, ex);
  CHECK(all_bf16(bf.y, n * k) && all_bf16(bf.dx, n * d), "logits and input gradient are bf16 numbers");
  CHECK(!all_bf16(bf.g, m.n_params), "parameter gradients stay f32");
  CHECK(count_diff(m.params, p0, m.n_params) == 0, "master weights untouched by a bf16 pass");
  CHECK(!all_bf16(m.params, m.n_params), "master weights are f32");
  // inference plan (BN folded, then rounded) vs the tape's eval forward, both bf16
  CHECK_OK(sr_tape_forward(t, x, 0, ye, &err), &err);
  CHECK_OK(sr_model_infer(&m, x, n, yp, &err), &err);
  double ep = rel(yp, ye, n * k);
  printf("bf16 inference plan vs bf16 tape (eval): %.2e\n", ep);
  CHECK(ep < 2e-2, "plan vs tape rel %.3g", ep);
  CHECK(all_bf16(yp, n * k), "plan logits are bf16 numbers");
  // back to f32: the same numbers as before the switch
  CHECK_OK(sr_model_set_precision(&m, SR_PRECISION_F32, &err), &err);
  run(&m, st0, 0, x, dy, n, 1, &again);
  CHECK(count_diff(again.y, f32.y, n * k) == 0 && count_diff(again.g, f32.g, m.n_params) == 0,
        "f32 after bf16 = f32 before");
  pass_free(&f32);
  pass_free(&bf);
  pass_free(&again);
  free(x);
  free(dy);
  free(st0);
  free(p0);
  free(yp);
  free(ye);
  sr_model_free(&m);
}

static void check_parse(void) {
  sr_err err = {0};
  sr_precision p = SR_PRECISION_BF16;
  CHECK(sr_precision_parse(NULL, &p, &err) == SR_OK && p == SR_PRECISION_F32, "NULL -> f32");
  CHECK(sr_precision_parse("bf16", &p, &err) == SR_OK && p == SR_PRECISION_BF16, "bf16");
  CHECK(sr_precision_parse("fp16", &p, &err) == SR_ERR_ARG && strstr(err.msg, "fp16"), "fp16 refused: %s",
        err.msg);
  CHECK(!strcmp(sr_precision_name(SR_PRECISION_BF16), "bf16") &&
            !strcmp(sr_precision_name(SR_PRECISION_F32), "f32"),
        "names");
}

int main(void) {
  check_parse();
  check_rounding();
  check_exact(0);
  check_exact(1);
  check_plan_exact();
  check_resnet();
  check_vs_ref("cnn-small", 1.0, 28, 1, 1);
  check_vs_ref("resnet18", 0.25, 16, 0, 0);  // the reference computes direct convolutions
  return sr_test_done();
}
