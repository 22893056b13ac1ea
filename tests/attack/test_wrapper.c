// The attack wrapper: normalisation inside (gray from 3 channels), batching with padding, exact query
// counts, and the pixel-space input gradient against central differences of the cross-entropy.
#include <math.h>

#include "simreg/attack.h"
#include "sr_test.h"

enum { C = 3, H = 8, W = 8, N = 5, K = 10 };

static double ce(sr_amodel *am, const float *x, int32_t y) {
  float z[K];
  sr_err err = {0};
  CHECK_OK(sr_amodel_logits(am, x, 1, z, NULL, &err), &err);
  double mx = z[0], s = 0;
  for (int j = 1; j < K; j++) mx = z[j] > mx ? z[j] : mx;
  for (int j = 0; j < K; j++) s += exp(z[j] - mx);
  return log(s) + mx - z[y];
}

int main(void) {
  sr_err err = {0};
  sr_model m;
  sr_rng rng;
  sr_rng_seed(&rng, 3, 0);
  sr_model_config cfg = {.arch = "mlp", .in_c = 1, .in_h = H, .in_w = W, .classes = K, .width = 1};
  CHECK_OK(sr_model_create(&m, &cfg, &rng, &err), &err);
  static float x[N * C * H * W], xn[8 * H * W], g[N * C * H * W];
  float z[N * K], z2[N * K], zref[8 * K];
  int32_t y[N];
  for (int i = 0; i < N * C * H * W; i++) x[i] = sr_rng_uniformf(&rng);
  for (int i = 0; i < N; i++) y[i] = i % K;

  sr_amodel am, big;
  CHECK(sr_amodel_init(&am, &m, (sr_pixel_map){.c = 3, .gray = 0, .mean = 0.5, .scale = 5}, 2, &err) ==
            SR_ERR_SHAPE,
        "3 channels into a 1-channel model");
  CHECK_OK(sr_amodel_init(&am, &m, (sr_pixel_map){.c = C, .gray = 1, .mean = 0.5, .scale = 5}, 2, &err),
           &err);
  CHECK_OK(sr_amodel_init(&big, &m, (sr_pixel_map){.c = C, .gray = 1, .mean = 0.5, .scale = 5}, 8, &err),
           &err);

  // normalisation: gray = channel mean, then (x - 0.5) * 5, fed to the model directly
  for (int i = 0; i < N; i++)
    for (int p = 0; p < H * W; p++) {
      float s = 0;
      for (int c = 0; c < C; c++) s += x[(i * C + c) * H * W + p];
      xn[i * H * W + p] = (s / C - 0.5f) * 5;
    }
  for (int i = N * H * W; i < 8 * H * W; i++) xn[i] = 0;
  CHECK_OK(sr_model_forward(&m, xn, 8, 0, zref, &err), &err);
  int64_t counts[N] = {0};
  CHECK_OK(sr_amodel_logits(&am, x, N, z, counts, &err), &err);
  CHECK_OK(sr_amodel_logits(&big, x, N, z2, NULL, &err), &err);
  CHECK(sr_test_max_rel(z, zref, N * K, 1e-3) < 1e-4, "wrapper logits vs normalised forward");
  CHECK(sr_test_max_rel(z, z2, N * K, 1e-3) < 1e-4, "batch 2 (split, padded) vs batch 8");
  for (int i = 0; i < N; i++) CHECK(counts[i] == 1, "image %d counted %lld times", i, (long long)counts[i]);
  CHECK(am.queries == N, "padding is not counted: %lld", (long long)am.queries);

  // gradient: directional derivatives along random directions vs central differences
  CHECK_OK(sr_amodel_grad_ce(&am, &(sr_labeled){.x = x, .y = y, .n = N},
                             &(sr_grad_out){.g = g, .counts = counts}, &err),
           &err);
  CHECK(counts[0] == 2 && am.gradients == N && am.queries == 2 * N, "gradient calls are queries");
  for (int i = 0; i < N; i++) {
    static float v[C * H * W], xp[C * H * W], xm[C * H * W];
    double gv = 0, h = 1e-4;
    for (int p = 0; p < C * H * W; p++) v[p] = (float)sr_rng_normal(&rng);
    for (int p = 0; p < C * H * W; p++) {
      gv += (double)g[i * C * H * W + p] * v[p];
      xp[p] = x[i * C * H * W + p] + (float)h * v[p];
      xm[p] = x[i * C * H * W + p] - (float)h * v[p];
    }
    double fd = (ce(&big, xp, y[i]) - ce(&big, xm, y[i])) / (2 * h);
    CHECK(fabs(fd - gv) <= 0.03 * fabs(gv) + 2e-3, "image %d: gradient.v %g vs finite difference %g", i, gv,
          fd);
  }
  CHECK(sr_amodel_grad_ce(&am, &(sr_labeled){.x = x, .y = (int32_t[]){0, 1, 2, 3, 99}, .n = N},
                          &(sr_grad_out){.g = g}, &err) == SR_ERR_ARG,
        "label out of range rejected");
  sr_amodel_free(&am);
  sr_amodel_free(&big);
  sr_model_free(&m);
  return sr_test_done();
}
