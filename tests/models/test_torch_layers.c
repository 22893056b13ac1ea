// Every layer against PyTorch (tests/fixtures/layers.safetensors): forward output, input gradient,
// weight/bias gradients and BatchNorm running statistics, for both the oneDNN tape and the double
// reference path. The layer in each single-layer model is named "l", so its tensors are l.weight, ...
#include <stdlib.h>

#include "simreg/layers.h"
#include "torch_fixture.h"

#define TOL 1e-4

typedef int (*build_fn)(sr_model *m);

static int conv_k3s1p1_bias(sr_model *m) {
  return sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 4, .k = 3, .stride = 1, .pad = 1, .bias = 1}, "l");
}
static int conv_k7s1p3_c1(sr_model *m) {
  return sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 8, .k = 7, .stride = 1, .pad = 3, .bias = 0}, "l");
}
static int conv_k3s2p1_c16(sr_model *m) {
  return sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 16, .k = 3, .stride = 2, .pad = 1, .bias = 0}, "l");
}
static int conv_k1s2p0_c8(sr_model *m) {
  return sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 16, .k = 1, .stride = 2, .pad = 0, .bias = 0}, "l");
}
static int conv_k5s2p2_bias(sr_model *m) {
  return sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 8, .k = 5, .stride = 2, .pad = 2, .bias = 1}, "l");
}
static int bn(sr_model *m) { return sr_graph_bn(m, 0, "l"); }
static int relu(sr_model *m) { return sr_graph_relu(m, 0); }
static int maxpool_k2s2(sr_model *m) { return sr_graph_maxpool(m, 0, 2, 2, 0); }
static int maxpool_k3s2p1(sr_model *m) { return sr_graph_maxpool(m, 0, 3, 2, 1); }
static int avgpool_k2s2(sr_model *m) { return sr_graph_avgpool(m, 0, 2, 2, 0); }
static int avgpool_k3s1p1(sr_model *m) { return sr_graph_avgpool(m, 0, 3, 1, 1); }
static int gap(sr_model *m) { return sr_graph_gap(m, 0); }
static int flatten(sr_model *m) { return sr_graph_flatten(m, 0); }
static int linear_4d(sr_model *m) { return sr_graph_linear(m, 0, 5, 1, "l"); }
static int linear_2d(sr_model *m) { return sr_graph_linear(m, sr_graph_flatten(m, 0), 6, 0, "l"); }
static int add_fanout(sr_model *m) {
  return sr_graph_add(
      m, 0,
      sr_graph_relu(
          m,
          sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 8, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "l")));
}

typedef struct {
  const char *name;  // fixture prefix
  build_fn build;
  int training;
} layer_case;

static const layer_case CASES[] = {
    {"conv_k3s1p1_bias", conv_k3s1p1_bias, 1},
    {"conv_k7s1p3_c1", conv_k7s1p3_c1, 1},
    {"conv_k3s2p1_c16", conv_k3s2p1_c16, 1},
    {"conv_k1s2p0_c8", conv_k1s2p0_c8, 1},
    {"conv_k5s2p2_bias", conv_k5s2p2_bias, 1},
    {"bn_train", bn, 1},
    {"bn_eval", bn, 0},
    {"relu", relu, 1},
    {"maxpool_k2s2", maxpool_k2s2, 1},
    {"maxpool_k3s2p1", maxpool_k3s2p1, 1},
    {"avgpool_k2s2", avgpool_k2s2, 1},
    {"avgpool_k3s1p1", avgpool_k3s1p1, 1},
    {"gap", gap, 1},
    {"flatten", flatten, 1},
    {"linear_4d", linear_4d, 1},
    {"linear_2d", linear_2d, 1},
    {"add_fanout", add_fanout, 1},
};

// "l.weight" -> fixture "<case>.weight"; running stats come from "<case>.running_mean0" (initial values).
static void load_layer_params(sr_model *m, const sr_st_file *f, const char *cs) {
  for (int i = 0; i < m->n_tensors; i++) {
    const sr_tensor_info *ti = &m->tensors[i];
    if (ti->where == 2) continue;  // num_batches_tracked starts at 0 in both
    const char *suffix = strchr(ti->name, '.') + 1;
    char name[160];
    snprintf(name, sizeof name, "%s.%s%s", cs, suffix, ti->where == 1 ? "0" : "");
    const float *v = fx_f32(f, name, ti->count);
    if (v) memcpy(fx_tensor_ptr(m, ti), v, sizeof(float) * (size_t)ti->count);
  }
  m->params_version++;
}

static double *to_double(const float *a, int64_t n) {
  double *d = malloc(sizeof(double) * (size_t)(n + 1));
  for (int64_t i = 0; i < n; i++) d[i] = a[i];
  return d;
}

static double run_case(const sr_st_file *f, const layer_case *lc) {
  char key[160];
  snprintf(key, sizeof key, "%s.x", lc->name);
  const sr_st_tensor *xt = sr_st_find(f, key);
  CHECK(xt && xt->ndim == 4 && xt->dtype == SR_F32, "%s: 4-D F32 input missing", key);
  if (!xt || xt->ndim != 4 || xt->dtype != SR_F32) return INFINITY;
  const int n = (int)xt->shape[0];
  sr_err err = {0};
  sr_model m;
  sr_model_config cfg = {.arch = "custom",
                         .in_c = (int)xt->shape[1],
                         .in_h = (int)xt->shape[2],
                         .in_w = (int)xt->shape[3],
                         .classes = 1};
  CHECK_OK(sr_model_init(&m, &cfg, &err), &err);
  int last = lc->build(&m);
  CHECK(last == m.n_nodes - 1, "%s: graph build", lc->name);
  sr_rng rng;
  sr_rng_seed(&rng, 5, 0);
  if (sr_model_finalize(&m, &rng, &err)) {
    CHECK(0, "%s: finalize: %s", lc->name, err.msg);
    return INFINITY;
  }
  load_layer_params(&m, f, lc->name);
  const int64_t nin = xt->count, nout = n * sr_model_out_size(&m);
  const float *x = xt->data;
  snprintf(key, sizeof key, "%s.y", lc->name);
  const float *y = fx_f32(f, key, nout);
  snprintf(key, sizeof key, "%s.dy", lc->name);
  const float *dy = fx_f32(f, key, nout);
  snprintf(key, sizeof key, "%s.dx", lc->name);
  const float *dx = fx_f32(f, key, nin);
  if (!y || !dy || !dx) {
    sr_model_free(&m);
    return INFINITY;
  }
  printf("%s (%s)\n", lc->name, lc->training ? "training" : "eval");
  double worst = 0, e;
  char what[128];

  // Reference path first: it does not touch the model's running statistics.
  double *xd = to_double(x, nin), *dyd = to_double(dy, nout);
  double *yd = malloc(sizeof(double) * (size_t)nout), *dxd = calloc((size_t)nin, sizeof(double));
  double *dpd = calloc((size_t)m.n_params + 1, sizeof(double));
  sr_ref_run *run = NULL;
  CHECK_OK(sr_ref_forward(&m, xd, n, lc->training, yd, &run, &err), &err);
  CHECK_OK(sr_ref_backward(run, dyd, dpd, dxd, &err), &err);
  sr_ref_free(run);
  e = fx_expect_d("reference y", yd, y, nout, TOL);
  worst = fmax(worst, e);
  e = fx_expect_d("reference dx", dxd, dx, nin, TOL);
  worst = fmax(worst, e);

  // oneDNN tape.
  float *yf = malloc(sizeof(float) * (size_t)nout), *dxf = malloc(sizeof(float) * (size_t)nin);
  sr_tape *t = NULL;
  sr_model_zero_grad(&m);
  CHECK_OK(sr_model_tape(&m, n, 0, &t, &err), &err);
  if (t) {
    CHECK_OK(sr_tape_forward(t, x, lc->training, yf, &err), &err);
    CHECK_OK(sr_tape_backward(t, dy, dxf, &err), &err);
    e = fx_expect("oneDNN y", yf, y, nout, TOL);
    worst = fmax(worst, e);
    e = fx_expect("oneDNN dx", dxf, dx, nin, TOL);
    worst = fmax(worst, e);
  }

  // Parameter gradients (both paths) and running statistics (oneDNN path updates them).
  for (int i = 0; i < m.n_tensors; i++) {
    const sr_tensor_info *ti = &m.tensors[i];
    const char *suffix = strchr(ti->name, '.') + 1;
    if (ti->where == 0) {
      snprintf(key, sizeof key, "%s.d%s", lc->name, suffix);
      const float *g = fx_f32(f, key, ti->count);
      snprintf(what, sizeof what, "reference d%s", suffix);
      e = fx_expect_d(what, dpd + ti->offset, g, ti->count, TOL);
      worst = fmax(worst, e);
      snprintf(what, sizeof what, "oneDNN d%s", suffix);
      e = fx_expect(what, m.grads + ti->offset, g, ti->count, TOL);
      worst = fmax(worst, e);
    } else if (ti->where == 1) {
      snprintf(key, sizeof key, "%s.%s", lc->name, suffix);
      const float *s = fx_f32(f, key, ti->count);
      snprintf(what, sizeof what, "oneDNN %s after forward", suffix);
      e = fx_expect(what, m.state + ti->offset, s, ti->count, TOL);
      worst = fmax(worst, e);
    } else {
      CHECK(m.bn_tracked[ti->offset] == lc->training, "%s: num_batches_tracked %lld after one forward",
            lc->name, (long long)m.bn_tracked[ti->offset]);
    }
  }
  free(xd);
  free(dyd);
  free(yd);
  free(dxd);
  free(dpd);
  free(yf);
  free(dxf);
  sr_model_free(&m);
  return worst;
}

// Cross-entropy (mean): loss and dlogits, float production path and double reference.
static double run_ce(const sr_st_file *f) {
  const sr_st_tensor *lt = sr_st_find(f, "ce.logits");
  CHECK(lt && lt->ndim == 2 && lt->dtype == SR_F32, "ce.logits missing");
  if (!lt || lt->ndim != 2 || lt->dtype != SR_F32) return INFINITY;
  const int N = (int)lt->shape[0], K = (int)lt->shape[1];
  int32_t labels[64];
  if (N > 64 || fx_labels(f, "ce.labels", labels, N)) return INFINITY;
  const float *lf = fx_f32(f, "ce.labels_f32", N);
  for (int i = 0; lf && i < N; i++)
    CHECK(lf[i] == (float)labels[i], "ce.labels_f32[%d] %g vs I64 %d", i, lf[i], labels[i]);
  const float *loss = fx_f32(f, "ce.loss", 1), *dl = fx_f32(f, "ce.dlogits", (int64_t)N * K);
  if (!loss || !dl) return INFINITY;
  float *d = malloc(sizeof(float) * (size_t)N * K);
  double *dd = malloc(sizeof(double) * (size_t)N * K), *ld = to_double(lt->data, (int64_t)N * K);
  int64_t correct = -1;
  printf("cross-entropy\n");
  float l = sr_softmax_ce(d, lt->data, labels, N, K, &correct);
  double lr = sr_softmax_ce_ref(dd, ld, labels, N, K);
  double worst = fx_expect("loss", &l, loss, 1, TOL);
  worst = fmax(worst, fx_expect("dlogits", d, dl, (int64_t)N * K, TOL));
  worst = fmax(worst, fx_expect_d("reference loss", &lr, loss, 1, TOL));
  worst = fmax(worst, fx_expect_d("reference dlogits", dd, dl, (int64_t)N * K, TOL));
  // Accuracy count: argmax of each row against the labels, computed here independently.
  int64_t hits = 0;
  const float *z = lt->data;
  for (int i = 0; i < N; i++) {
    int a = 0;
    for (int k = 1; k < K; k++) a = z[i * K + k] > z[i * K + a] ? k : a;
    hits += a == labels[i];
  }
  CHECK(correct == hits, "correct %lld, expected %lld", (long long)correct, (long long)hits);
  free(d);
  free(dd);
  free(ld);
  return worst;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  sr_st_file f;
  if (fx_open("layers.safetensors", &f)) return sr_test_done();
  double worst = 0;
  for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) worst = fmax(worst, run_case(&f, &CASES[c]));
  worst = fmax(worst, run_ce(&f));
  printf("worst max relative error over all layers: %.2e (limit %.0e)\n", worst, TOL);
  sr_st_free(&f);
  return sr_test_done();
}
