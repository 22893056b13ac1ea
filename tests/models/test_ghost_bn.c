// Ghost BatchNorm (sr_model_tape_groups): one tape over two stacked groups of k images against two
// separate tapes of k (outputs, feature layers, running statistics, parameter and input gradients), and
// the double reference path with groups against two reference passes and against the oneDNN tape.
#include <string.h>

#include "../exec/check.h"

// max|a-b| and max|a-b| / max|b| over n floats.
static void diff_f(const float *a, const float *b, int64_t n, double *abs_d, double *rel_d) {
  double md = 0, mb = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - (double)b[i]);
    if (!(d <= md)) md = d;
    if (fabs((double)b[i]) > mb) mb = fabs((double)b[i]);
  }
  *abs_d = md;
  *rel_d = md / (mb > 1e-30 ? mb : 1e-30);
}

static void make_model(sr_model *m, const char *arch, double width, int hw) {
  sr_err err = {0};
  sr_model_config cfg = {.in_c = 1, .in_h = hw, .in_w = hw, .classes = 10, .width = width};
  snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
  sr_rng rng;
  sr_rng_seed(&rng, 5, 0);
  CHECK_OK(sr_model_create(m, &cfg, &rng, &err), &err);
}

typedef struct {
  double worst_rel;  // over every compared tensor
  int exact;         // every compared tensor bit-for-bit
} verdict;

static void report(verdict *v, const char *what, const float *a, const float *b, int64_t n) {
  double ad, rd;
  diff_f(a, b, n, &ad, &rd);
  int same = !memcmp(a, b, sizeof(float) * (size_t)n);
  printf("    %-22s max abs %.3e  rel %.3e%s\n", what, ad, rd, same ? "  (bit-for-bit)" : "");
  if (rd > v->worst_rel || rd != rd) v->worst_rel = rd != rd ? INFINITY : rd;
  v->exact = v->exact && same;
}

// Two tapes of k (slots 1, 2) on model a vs one 2-group tape of 2k on model b (same weights and state),
// training mode, seeded with output and feature gradients, input gradient asked for.
static void tape_vs_tapes(const char *arch, double width, int hw, int k) {
  sr_err err = {0};
  sr_model a, b;
  make_model(&a, arch, width, hw);
  make_model(&b, arch, width, hw);
  int64_t in = (int64_t)hw * hw, no = sr_model_out_size(&a), nf = a.n_feat;
  float *x = malloc(sizeof(float) * (size_t)(2 * k * in)),
        *dx1 = malloc(sizeof(float) * (size_t)(2 * k * in));
  float *dx2 = malloc(sizeof(float) * (size_t)(2 * k * in)),
        *o1 = malloc(sizeof(float) * (size_t)(2 * k * no));
  float *o2 = malloc(sizeof(float) * (size_t)(2 * k * no)),
        *dout = malloc(sizeof(float) * (size_t)(2 * k * no));
  sr_rng rng;
  sr_rng_seed(&rng, 3, 1);
  for (int64_t i = 0; i < 2 * k * in; i++) x[i] = (float)sr_rng_normal(&rng);
  for (int64_t i = 0; i < 2 * k * no; i++) dout[i] = (float)sr_rng_normal(&rng);
  float *f1[SR_MAX_FEATURES], *f2[SR_MAX_FEATURES], *g[SR_MAX_FEATURES];
  for (int f = 0; f < nf; f++) {
    int64_t fs = 2 * k * sr_model_feature_size(&a, f);
    f1[f] = malloc(sizeof(float) * (size_t)fs);
    f2[f] = malloc(sizeof(float) * (size_t)fs);
    g[f] = malloc(sizeof(float) * (size_t)fs);
    for (int64_t i = 0; i < fs; i++) g[f][i] = (float)(0.1 * sr_rng_normal(&rng));
  }
  // two tapes, the old regularizer path: forward a, forward b, features, seeds, backward a, backward b
  sr_tape *ta, *tb, *tg;
  sr_model_zero_grad(&a);
  CHECK_OK(sr_model_tape(&a, k, 1, &ta, &err), &err);
  CHECK_OK(sr_model_tape(&a, k, 2, &tb, &err), &err);
  CHECK_OK(sr_tape_forward(ta, x, 1, o1, &err), &err);
  CHECK_OK(sr_tape_forward(tb, x + k * in, 1, o1 + k * no, &err), &err);
  for (int f = 0; f < nf; f++) {
    int64_t fs = k * sr_model_feature_size(&a, f);
    CHECK_OK(sr_tape_feature(ta, f, f1[f], &err), &err);
    CHECK_OK(sr_tape_feature(tb, f, f1[f] + fs, &err), &err);
    CHECK_OK(sr_tape_feature_grad(ta, f, g[f], &err), &err);
    CHECK_OK(sr_tape_feature_grad(tb, f, g[f] + fs, &err), &err);
  }
  CHECK_OK(sr_tape_backward(ta, dout, dx1, &err), &err);
  CHECK_OK(sr_tape_backward(tb, dout + k * no, dx1 + k * in, &err), &err);
  // one ghost tape
  sr_model_zero_grad(&b);
  CHECK_OK(sr_model_tape_groups(&b, 2 * k, 2, 1, &tg, &err), &err);
  CHECK(sr_tape_groups(tg) == 2 && sr_tape_batch(tg) == 2 * k, "ghost tape: 2 groups of %d", k);
  CHECK_OK(sr_tape_forward(tg, x, 1, o2, &err), &err);
  for (int f = 0; f < nf; f++) {
    CHECK_OK(sr_tape_feature(tg, f, f2[f], &err), &err);
    CHECK_OK(sr_tape_feature_grad(tg, f, g[f], &err), &err);
  }
  CHECK_OK(sr_tape_backward(tg, dout, dx2, &err), &err);
  printf("  %s w%.3g %dx%d, 2 groups of %d: ghost tape vs two tapes\n", arch, width, hw, hw, k);
  verdict fwd = {0, 1}, bwd = {0, 1};
  report(&fwd, "output", o2, o1, 2 * k * no);
  for (int f = 0; f < nf; f++)
    report(&fwd, a.feat_name[f], f2[f], f1[f], 2 * k * sr_model_feature_size(&a, f));
  report(&fwd, "running stats", b.state, a.state, a.n_state);
  report(&bwd, "parameter gradients", b.grads, a.grads, a.n_params);
  report(&bwd, "input gradient", dx2, dx1, 2 * k * in);
  int tracked = 1;
  for (int i = 0; i < a.n_bn; i++) tracked = tracked && a.bn_tracked[i] == 2 && b.bn_tracked[i] == 2;
  CHECK(tracked, "num_batches_tracked counts both groups");
  // Forward: the same per-group primitives on the same values - measured bit-for-bit here; asserted
  // within float rounding (a oneDNN version may block the batch differently). Backward: the weight
  // gradients are one reduction over 2k images instead of two of k, so float rounding.
  CHECK(fwd.worst_rel <= 1e-6, "%s forward: ghost vs two tapes rel %.3e", arch, fwd.worst_rel);
  CHECK(bwd.worst_rel <= 1e-5, "%s backward: ghost vs two tapes rel %.3e", arch, bwd.worst_rel);
  printf("    forward %s, backward %s\n", fwd.exact ? "bit-for-bit" : "within float rounding",
         bwd.exact ? "bit-for-bit" : "within float rounding");
  // eval mode: the plain batch (no batch statistics), the same values as two eval passes
  CHECK_OK(sr_tape_forward(ta, x, 0, o1, &err), &err);
  CHECK_OK(sr_tape_forward(tb, x + k * in, 0, o1 + k * no, &err), &err);
  CHECK_OK(sr_tape_forward(tg, x, 0, o2, &err), &err);
  verdict ev = {0, 1};
  report(&ev, "eval output", o2, o1, 2 * k * no);
  CHECK(ev.worst_rel <= 1e-6, "%s eval: ghost vs two tapes rel %.3e", arch, ev.worst_rel);
  for (int f = 0; f < nf; f++) {
    free(f1[f]);
    free(f2[f]);
    free(g[f]);
  }
  free(x), free(dx1), free(dx2), free(o1), free(o2), free(dout);
  sr_model_free(&a);
  sr_model_free(&b);
}

// The reference path: groups 2 over 2k vs two passes of k (outputs, dx, dparams), and the ghost tape vs
// the grouped reference.
static void reference(const char *arch, double width, int hw, int k) {
  sr_err err = {0};
  sr_model m;
  make_model(&m, arch, width, hw);
  int64_t in = (int64_t)hw * hw, no = sr_model_out_size(&m), np = m.n_params;
  double *x = malloc(sizeof(double) * (size_t)(2 * k * in)),
         *dout = malloc(sizeof(double) * (size_t)(2 * k * no));
  double *o1 = malloc(sizeof(double) * (size_t)(2 * k * no)),
         *o2 = malloc(sizeof(double) * (size_t)(2 * k * no));
  double *dx1 = calloc((size_t)(2 * k * in), sizeof(double)),
         *dx2 = calloc((size_t)(2 * k * in), sizeof(double));
  double *dp1 = calloc((size_t)np, sizeof(double)), *dp2 = calloc((size_t)np, sizeof(double));
  fill_normal(x, 2 * k * in, 21);
  fill_normal(dout, 2 * k * no, 22);
  for (int64_t i = 0; i < 2 * k * in; i++) x[i] = (float)x[i];
  sr_ref_run *r;
  for (int h = 0; h < 2; h++) {
    CHECK_OK(sr_ref_forward(&m, x + h * k * in, k, 1, o1 + h * k * no, &r, &err), &err);
    CHECK_OK(sr_ref_backward(r, dout + h * k * no, dp1, dx1 + h * k * in, &err), &err);
    sr_ref_free(r);
  }
  CHECK_OK(sr_ref_forward_params(&m, &(sr_ref_input){.x = x, .n = 2 * k, .training = 1, .groups = 2}, o2, &r,
                                 &err),
           &err);
  CHECK_OK(sr_ref_backward(r, dout, dp2, dx2, &err), &err);
  sr_ref_free(r);
  double eo = rel_err_d(o2, o1, 2 * k * no), ex = rel_err_d(dx2, dx1, 2 * k * in),
         ep = rel_err_d(dp2, dp1, np);
  printf("  %s reference, groups 2 vs two passes: out %.2e  dx %.2e  dparams %.2e\n", arch, eo, ex, ep);
  CHECK(eo <= 1e-13 && ex <= 1e-13 && ep <= 1e-13, "%s reference groups: %.2e %.2e %.2e", arch, eo, ex, ep);
  CHECK(sr_ref_forward_params(&m, &(sr_ref_input){.x = x, .n = 2 * k + 1, .training = 1, .groups = 2}, o2, &r,
                              &err) == SR_ERR_ARG,
        "reference: a batch that is not whole groups is refused");
  // the oneDNN ghost tape against the grouped reference
  float *xf = malloc(sizeof(float) * (size_t)(2 * k * in)),
        *of = malloc(sizeof(float) * (size_t)(2 * k * no));
  float *df = malloc(sizeof(float) * (size_t)(2 * k * no)),
        *dxf = malloc(sizeof(float) * (size_t)(2 * k * in));
  for (int64_t i = 0; i < 2 * k * in; i++) xf[i] = (float)x[i];
  for (int64_t i = 0; i < 2 * k * no; i++) df[i] = (float)dout[i];
  sr_tape *t;
  sr_model_zero_grad(&m);
  CHECK_OK(sr_model_tape_groups(&m, 2 * k, 2, 0, &t, &err), &err);
  CHECK_OK(sr_tape_forward(t, xf, 1, of, &err), &err);
  CHECK_OK(sr_tape_backward(t, df, dxf, &err), &err);
  double fo = rel_err_fd(of, o2, 2 * k * no), fx = rel_err_fd(dxf, dx2, 2 * k * in),
         fp = rel_err_fd(m.grads, dp2, np);
  printf("  %s ghost tape vs grouped reference: out %.2e  dx %.2e  dparams %.2e\n", arch, fo, fx, fp);
  CHECK(fo < 1e-4 && fx < 1e-4 && fp < 1e-4, "%s ghost tape vs reference", arch);
  free(xf), free(of), free(df), free(dxf);
  free(x), free(dout), free(o1), free(o2), free(dx1), free(dx2), free(dp1), free(dp2);
  sr_model_free(&m);
}

static void refusals(void) {
  sr_err err = {0};
  sr_model m;
  make_model(&m, "cnn-small", 1, 16);
  sr_tape *t;
  CHECK(sr_model_tape_groups(&m, 7, 2, 1, &t, &err) == SR_ERR_ARG, "7 images are not 2 groups: %s", err.msg);
  CHECK(sr_model_tape_groups(&m, 8, 0, 1, &t, &err) == SR_ERR_ARG, "0 groups refused");
  sr_model_free(&m);
}

int main(void) {
  tape_vs_tapes("cnn-small", 1, 32, 8);
  tape_vs_tapes("resnet18", 0.25, 32, 8);
  reference("cnn-small", 1, 12, 3);
  reference("resnet18", 0.25, 16, 2);
  refusals();
  return sr_test_done();
}
