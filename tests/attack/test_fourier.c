// Fourier sensitivity maps through the pixel-space wrapper:
// 1. closed form: a linear model whose logit difference is g . x with g = sum_k A_k b_k (b_k the orthonormal
//    basis images of the canonical cells, A_k the frequency response of a 3x3 box filter) has
//    g . b_k = A_k exactly, so on constant grey images (no clipping) image i is misclassified at cell k iff
//    s_i A_k c > tau, with c = 1 (--channels each, on the weighted channel), 0 on the other channels, and
//    1/sqrt(C) (--channels all). The maps must equal this prediction exactly, with and without random signs.
// 2. a nonlinear model with clipping: the half-plane stream mapped to the full plane equals a brute-force
//    run over every position of the plane, the map is symmetric under (u,v) -> (-u,-v), and shards add up.
#include "simreg/attack.h"
#include "simreg/fourier.h"
#include "sr_test.h"

enum { C = 3, H = 12, W = 10, WCH = 1 };
static const double TAU = 0.3, EPS = 2.0, SCALE = 2.0;

// 3x3 box filter's frequency response at shifted position (ky, kx).
static double box_response(int64_t ky, int64_t kx) {
  double fy = (double)(ky - H / 2) / H, fx = (double)(kx - W / 2) / W;
  return (1 + 2 * cos(2 * M_PI * fx)) * (1 + 2 * cos(2 * M_PI * fy)) / 9.0;
}

// flatten -> linear(2): logit1 - logit0 = g . x_model - SCALE * EPS * TAU, g on channel WCH only.
static void linear_model(sr_model *m, const sr_fourier_cells *c, sr_err *err) {
  sr_model_config cfg = {.arch = "custom", .in_c = C, .in_h = H, .in_w = W, .classes = 2};
  CHECK_OK(sr_model_init(m, &cfg, err), err);
  int fc = sr_graph_linear(m, sr_graph_flatten(m, 0), 2, 1, "fc");
  sr_rng rng;
  sr_rng_seed(&rng, 1, 0);
  CHECK_OK(sr_model_finalize(m, &rng, err), err);
  const sr_node *nd = &m->nodes[fc];
  float *w0 = m->params + nd->p_w, *w1 = w0 + C * H * W, *b = m->params + nd->p_b;
  memset(w0, 0, 2 * C * H * W * sizeof(float));
  double basis[H * W], g[H * W] = {0};
  for (int64_t k = 0; k < c->n; k++) {
    sr_fourier_basis(c->ky[k], c->kx[k], H, W, basis);
    for (int p = 0; p < H * W; p++) g[p] += box_response(c->ky[k], c->kx[k]) * basis[p];
  }
  for (int p = 0; p < H * W; p++) w1[WCH * H * W + p] = (float)g[p];
  b[0] = 0;
  b[1] = (float)(-SCALE * EPS * TAU);
  m->params_version++;
}

// The map predicted in closed form for map channel ch (-1: all channels) and signs s.
static int predicted_error(int64_t ky, int64_t kx, int ch, int s) {
  double c = ch < 0 ? 1 / sqrt((double)C) : ch == WCH ? 1 : 0;
  return s * box_response(ky, kx) * c > TAU;
}

static void check_closed_form(int each, int random_sign) {
  sr_err err = {0};
  sr_fourier_cells cells;
  CHECK_OK(sr_fourier_cells_init(&cells, H, W, &err), &err);
  sr_model m;
  linear_model(&m, &cells, &err);
  sr_amodel am;
  CHECK_OK(sr_amodel_init(&am, &m, (sr_pixel_map){.c = C, .gray = 0, .mean = 0.5, .scale = SCALE}, 16, &err),
           &err);
  enum { N = 7 };
  float x[N * C * H * W];
  int32_t y[N] = {0};
  for (int i = 0; i < N * C * H * W; i++) x[i] = 0.5f;
  double eps[1] = {EPS};
  sr_fmap_opts o = {.eps = eps, .n_eps = 1, .each = each, .random_sign = random_sign, .seed = 3};
  int64_t maps = sr_fourier_n_maps(&o, C);
  uint8_t *e = calloc((size_t)(maps * cells.n * N), 1);
  CHECK_OK(sr_fourier_errors(&am, &(sr_labeled){.x = x, .y = y, .n = N}, &cells, &o, e, &err), &err);
  int bad = 0, ones = 0, near = 0;
  for (int64_t mi = 0; mi < maps; mi++)
    for (int64_t p = 0; p < H * W; p++)
      for (int i = 0; i < N; i++) {
        int s = random_sign ? sr_fourier_sign(3, i) : 1, ch = each ? (int)mi : -1;
        int want = predicted_error(p / W, p % W, ch, s);
        double c = ch < 0 ? 1 / sqrt((double)C) : ch == WCH ? 1 : 0;
        near += c > 0 && fabs(fabs(box_response(p / W, p % W)) * c - TAU) < 1e-3;  // no ties at the threshold
        bad += e[(mi * cells.n + cells.of[p]) * N + i] != want;
        ones += want;
      }
  CHECK(!near, "%d cells within 1e-3 of the threshold: the closed form would be fragile", near);
  CHECK(!bad, "each=%d sign=%d: %d of %lld errors differ from the closed form", each, random_sign, bad,
        (long long)(maps * H * W * N));
  CHECK(ones > 0 && ones < maps * H * W * N / 2, "the prediction has %d errors (both outcomes must occur)",
        ones);
  if (random_sign) {
    int neg = 0;
    for (int i = 0; i < N; i++) neg += sr_fourier_sign(3, i) < 0;
    CHECK(neg > 0 && neg < N, "seed 3 gives %d negative signs of %d", neg, N);
  }
  free(e);
  sr_amodel_free(&am);
  sr_model_free(&m);
  sr_fourier_cells_free(&cells);
}

// conv 3x3 -> relu -> flatten -> linear(3), random weights
static void cnn_model(sr_model *m, sr_err *err) {
  sr_model_config cfg = {.arch = "custom", .in_c = C, .in_h = H, .in_w = W, .classes = 3};
  CHECK_OK(sr_model_init(m, &cfg, err), err);
  int cv = sr_graph_relu(
      m, sr_graph_conv(m, 0, &(sr_conv_spec){.out_c = 4, .k = 3, .stride = 1, .pad = 1, .bias = 1}, "conv"));
  sr_graph_linear(m, sr_graph_flatten(m, cv), 3, 1, "fc");
  sr_rng rng;
  sr_rng_seed(&rng, 7, 0);
  CHECK_OK(sr_model_finalize(m, &rng, err), err);
}

// Full plane, one position at a time, perturbing as the library documents (all channels, 1/sqrt(C)).
static void brute_force(sr_amodel *am, const float *x, const int32_t *y, int n, double eps, uint64_t seed,
                        uint8_t *full) {
  double b[H * W];
  float *xb = calloc((size_t)(n * C * H * W), sizeof(float));
  int32_t pred[8];
  sr_err err = {0};
  for (int64_t p = 0; p < H * W; p++) {
    sr_fourier_basis(p / W, p % W, H, W, b);
    for (int i = 0; i < n; i++) {
      float a = (float)(eps / sqrt((double)C)) * (float)sr_fourier_sign(seed, i);
      for (int q = 0; q < C * H * W; q++) {
        float v = x[i * C * H * W + q] + a * (float)b[q % (H * W)];
        xb[i * C * H * W + q] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
    CHECK_OK(sr_amodel_predict(am, xb, n, pred, NULL, &err), &err);
    for (int i = 0; i < n; i++) full[p * n + i] = pred[i] != y[i];
  }
  free(xb);
}

static void check_stream(void) {
  sr_err err = {0};
  sr_model m;
  cnn_model(&m, &err);
  sr_amodel am;
  CHECK_OK(sr_amodel_init(&am, &m, (sr_pixel_map){.c = C, .gray = 0, .mean = 0.5, .scale = 4.0}, 16, &err),
           &err);  // batch 16: jobs of 5 images straddle batches
  enum { N = 5 };
  float x[N * C * H * W];
  int32_t y[N];
  sr_rng rng;
  sr_rng_seed(&rng, 11, 0);
  for (int i = 0; i < N * C * H * W; i++) x[i] = sr_rng_uniformf(&rng);
  for (int i = 0; i < N; i++) y[i] = i % 3;
  sr_fourier_cells cells;
  CHECK_OK(sr_fourier_cells_init(&cells, H, W, &err), &err);
  double eps[1] = {6.0};  // amplitude up to 0.8: clipping is active
  sr_fmap_opts o = {.eps = eps, .n_eps = 1, .random_sign = 1, .seed = 9};
  uint8_t *e = calloc((size_t)(cells.n * N), 1), *e2 = calloc((size_t)(cells.n * N), 1);
  uint8_t *full = calloc((size_t)(H * W * N), 1);
  CHECK_OK(sr_fourier_errors(&am, &(sr_labeled){.x = x, .y = y, .n = N}, &cells, &o, e, &err), &err);
  brute_force(&am, x, y, N, eps[0], 9, full);
  int bad = 0, asym = 0, ones = 0;
  for (int64_t p = 0; p < H * W; p++) {
    int64_t q = sr_fourier_mirror(p / W, H) * W + sr_fourier_mirror(p % W, W);
    for (int i = 0; i < N; i++) {
      bad += e[cells.of[p] * N + i] != full[p * N + i];
      asym += full[p * N + i] != full[q * N + i];
      ones += full[p * N + i];
    }
  }
  CHECK(!bad, "%d of %d (position, image) errors differ between the half-plane stream and the full plane",
        bad, H * W * N);
  CHECK(!asym, "brute force: %d entries differ between (u,v) and (-u,-v)", asym);
  CHECK(ones > 0 && ones < H * W * N, "%d errors of %d: the test must see both outcomes", ones, H * W * N);
  // two shards cover the same rows
  o.job_lo = 0;
  o.job_hi = 7;
  CHECK_OK(sr_fourier_errors(&am, &(sr_labeled){.x = x, .y = y, .n = N}, &cells, &o, e2, &err), &err);
  o.job_lo = 7;
  o.job_hi = cells.n;
  CHECK_OK(sr_fourier_errors(&am, &(sr_labeled){.x = x, .y = y, .n = N}, &cells, &o, e2, &err), &err);
  CHECK(!memcmp(e, e2, (size_t)(cells.n * N)), "shards differ from the whole");
  // errors as values
  eps[0] = 0;
  CHECK(sr_fourier_errors(&am, &(sr_labeled){.x = x, .y = y, .n = N}, &cells, &o, e2, &err) == SR_ERR_ARG,
        "eps 0 is rejected");
  eps[0] = 1;
  o.job_hi = cells.n + 1;
  CHECK(sr_fourier_errors(&am, &(sr_labeled){.x = x, .y = y, .n = N}, &cells, &o, e2, &err) == SR_ERR_ARG,
        "jobs past the end");
  sr_fourier_cells wrong;
  CHECK_OK(sr_fourier_cells_init(&wrong, W, H, &err), &err);
  o.job_lo = o.job_hi = 0;
  CHECK(sr_fourier_errors(&am, &(sr_labeled){.x = x, .y = y, .n = N}, &wrong, &o, e2, &err) == SR_ERR_SHAPE,
        "plane of the wrong size");
  sr_fourier_cells_free(&wrong);
  free(e);
  free(e2);
  free(full);
  sr_fourier_cells_free(&cells);
  sr_amodel_free(&am);
  sr_model_free(&m);
}

int main(void) {
  check_closed_form(1, 0);
  check_closed_form(1, 1);
  check_closed_form(0, 0);
  check_closed_form(0, 1);
  check_stream();
  return sr_test_done();
}
