// A final Softmax is kept for scores: the cbr fuzz seed (Conv, BN, ReLU, GAP, Gemm, Softmax) imports with
// softmax scores, sr_model_scores gives the probabilities of the torch logits (fixtures from
// tests/onnx/gen_fixtures.py) while the logits drive decisions, and an export keeps the Softmax (re-import).
// A graph without Softmax scores with its logits; log-softmax of extreme logits stays finite.
#include <math.h>
#include <unistd.h>

#include "simreg/npy.h"
#include "simreg/onnx.h"
#include "sr_test.h"

static float *load_npy(const char *rel, int64_t *count) {
  sr_npy a;
  sr_err err = {0};
  float *f = NULL;
  if (sr_npy_read(sr_test_src(rel), &a, &err)) return NULL;
  if (!sr_npy_as_f32(&a, &f, &err)) *count = a.count;
  sr_npy_free(&a);
  return f;
}

static int argmax(const float *z, int k) {
  int a = 0;
  for (int j = 1; j < k; j++)
    if (z[j] > z[a]) a = j;
  return a;
}

// scores of x against softmax(want) computed here in double; decisions of the logits
static void check_softmax(sr_model *m, const float *x, const float *want, int n) {
  int K = m->cfg.classes;
  float scores[64], logits[64];
  sr_err err = {0};
  CHECK(n * K <= 64, "fixture too large");
  CHECK_OK(sr_model_scores(m, x, n, scores, &err), &err);
  CHECK_OK(sr_model_infer(m, x, n, logits, &err), &err);
  double worst = 0;
  for (int i = 0; i < n; i++) {
    const float *z = want + i * K;
    double mx = z[argmax(z, K)], s = 0, sum = 0;
    for (int j = 0; j < K; j++) s += exp((double)z[j] - mx);
    for (int j = 0; j < K; j++) {
      double p = exp((double)z[j] - mx) / s, d = fabs(p - scores[i * K + j]);
      worst = d > worst ? d : worst;
      sum += scores[i * K + j];
    }
    CHECK(fabs(sum - 1) < 1e-5, "image %d: probabilities sum to %.8f", i, sum);
    CHECK(argmax(scores + i * K, K) == argmax(logits + i * K, K), "image %d: argmax of scores and logits", i);
    CHECK(fabs(logits[i * K] - z[0]) <= 1e-4 * (1 + fabs(z[0])), "image %d: infer gives logits", i);
  }
  CHECK(worst <= 1e-5, "softmax scores: max abs err %.3g", worst);
  printf("cbr: softmax scores max abs err %.2e\n", worst);
}

static void softmax_graph(void) {
  char src[4096];  // sr_test_src's buffer is reused by the next call
  snprintf(src, sizeof src, "%s", sr_test_src("fuzz/corpus/onnx/cbr.onnx"));
  int64_t nx = 0, nl = 0;
  float *x = load_npy("tests/onnx/fixtures/seed_cbr_x.npy", &nx);
  float *want = load_npy("tests/onnx/fixtures/seed_cbr_logits.npy", &nl);
  sr_model m;
  sr_onnx_info info;
  sr_err err = {0};
  if (!x || !want || sr_model_from_onnx(src, NULL, &m, &info, &err)) {
    CHECK(0, "cbr fixtures or import: %s", err.msg);
    return;
  }
  CHECK(m.scores == SR_SCORES_SOFTMAX && info.softmax, "cbr: scores %s", sr_scores_name(m.scores));
  check_softmax(&m, x, want, (int)(nl / m.cfg.classes));
  // export (weights changed a little) and re-import: the Softmax is still the graph's output
  char dst[] = "/tmp/sr_scores_XXXXXX.onnx";
  int fd = mkstemps(dst, 5);
  CHECK(fd >= 0, "temp file");
  if (fd >= 0) close(fd);
  m.params[0] += 0.25f;
  m.params_version++;
  float before[64];
  CHECK_OK(sr_model_scores(&m, x, 4, before, &err), &err);
  CHECK_OK(sr_onnx_export(&m, src, dst, &err), &err);
  sr_model back;
  if (!sr_model_from_onnx(dst, NULL, &back, NULL, &err)) {
    float after[64];
    CHECK(back.scores == SR_SCORES_SOFTMAX, "re-imported export: scores %s", sr_scores_name(back.scores));
    CHECK_OK(sr_model_scores(&back, x, 4, after, &err), &err);
    double r = sr_test_rel_to_max(after, before, (size_t)(4 * back.cfg.classes));
    CHECK(r <= 1e-6, "re-imported scores differ: rel %.3g", r);
    sr_model_free(&back);
  } else {
    CHECK(0, "re-import of the export: %s", err.msg);
  }
  unlink(dst);
  sr_model_free(&m);
  sr_free(x);
  sr_free(want);
}

static void logits_graph(void) {
  int64_t nx = 0;
  float *x = load_npy("tests/onnx/fixtures/normnet_x.npy", &nx);
  sr_model m;
  sr_err err = {0};
  if (!x || sr_model_from_onnx(sr_test_src("tests/onnx/fixtures/normnet.onnx"), NULL, &m, NULL, &err)) {
    CHECK(0, "normnet: %s", err.msg);
    return;
  }
  CHECK(m.scores == SR_SCORES_LOGITS, "normnet: scores %s", sr_scores_name(m.scores));
  float *a = calloc(40, sizeof(float)), *b = calloc(40, sizeof(float));
  CHECK(m.cfg.classes == 10, "normnet classes %d", m.cfg.classes);
  CHECK_OK(sr_model_scores(&m, x, 4, a, &err), &err);
  CHECK_OK(sr_model_infer(&m, x, 4, b, &err), &err);
  CHECK(!memcmp(a, b, 40 * sizeof(float)), "normnet: scores are not its logits");
  free(a);
  free(b);
  sr_model_free(&m);
  sr_free(x);
}

static void log_softmax_extremes(void) {
  float z[6] = {1000, 0, -1000, 1, 2, 3};
  sr_scores_apply(SR_SCORES_LOG_SOFTMAX, z, 2, 3);
  CHECK(z[0] == 0 && z[1] == -1000 && z[2] == -2000, "log-softmax of extremes: %g %g %g", z[0], z[1], z[2]);
  double lse = log(exp(1.0) + exp(2.0) + exp(3.0));
  CHECK(fabs(z[3] - (1 - lse)) < 1e-6 && fabs(z[5] - (3 - lse)) < 1e-6, "log-softmax row 2: %g %g", z[3],
        z[5]);
  float l[2] = {3, 4};
  sr_scores_apply(SR_SCORES_LOGITS, l, 1, 2);
  CHECK(l[0] == 3 && l[1] == 4, "logits scores changed the logits");
}

int main(void) {
  softmax_graph();
  logits_graph();
  log_softmax_extremes();
  return sr_test_done();
}
