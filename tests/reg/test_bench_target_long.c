// Benchmark (label "long"): building the N = 5000 targets the paper uses, from random 1x28x28 and 1x32x32
// images: S^pix alone, the threshold target, and sampling + the loss for one step of 16 pairs on resnet18
// width-1 sized features. Prints the timings documented in docs/REGULARIZER.md; asserts the "a few
// seconds" budget and that S^pix is exactly symmetric with unit diagonal.
#include <stdlib.h>

#include "simreg/reg.h"
#include "sr_test.h"

static void bench(int hw) {
  const int64_t n = 5000;
  const size_t d = (size_t)hw * hw;
  uint8_t *im = malloc((size_t)n * d);
  sr_rng rng;
  sr_rng_seed(&rng, 5, (uint64_t)hw);
  for (size_t q = 0; q < (size_t)n * d; q++) im[q] = (uint8_t)sr_rng_below(&rng, 256);
  float *S = malloc(sizeof(float) * (size_t)(n * n));
  sr_err err = {0};
  double t0 = sr_now();
  CHECK_OK(sr_reg_pixel_similarity(im, n, 1, hw, hw, S, &err), &err);
  double t_pix = sr_now() - t0;
  int sym = 1;
  for (int64_t i = 0; i < n; i += 97)
    for (int64_t j = 0; j < n; j++) sym &= S[i * n + j] == S[j * n + i] && (i != j || S[i * n + i] == 1.0f);
  CHECK(sym, "S^pix symmetric with unit diagonal");
  sr_reg_target t;
  sr_reg_target_opts o = sr_reg_target_opts_default();
  t0 = sr_now();
  CHECK_OK(sr_reg_target_build(&o, &(sr_u8_images){im, n, 1, hw, hw}, NULL, &t, &err), &err);
  double t_th = sr_now() - t0;
  o.kind = SR_REG_LOW;
  sr_reg_target_free(&t);
  t0 = sr_now();
  CHECK_OK(sr_reg_target_build(&o, &(sr_u8_images){im, n, 1, hw, hw}, NULL, &t, &err), &err);
  double t_low = sr_now() - t0;
  int64_t pi[16], pj[16];
  t0 = sr_now();
  for (int r = 0; r < 10000; r++) sr_reg_sample_pairs(&t, 16, &rng, pi, pj);
  double t_samp = (sr_now() - t0) / 10000;
  printf(
      "N = 5000, 1x%dx%d: S^pix %.3f s, threshold target %.3f s, low subset (%lld pairs) %.3f s, "
      "16 subset pairs %.2f us\n",
      hw, hw, t_pix, t_th, (long long)t.n_pairs, t_low, t_samp * 1e6);
  CHECK(t_th < 10, "threshold target took %.1f s", t_th);
  sr_reg_target_free(&t);
  free(S);
  free(im);
}

// One loss step on resnet18 width-1 feature shapes at 32x32 (stem 64x32x32, 64x32x32, 128x16x16,
// 256x8x8, 512x4x4) with k = 16.
static void bench_loss(void) {
  const int ch[5] = {64, 64, 128, 256, 512};
  const int64_t hw[5] = {1024, 1024, 256, 64, 16};
  sr_reg_state s;
  sr_err err = {0};
  CHECK_OK(sr_reg_state_init_dims(&s, 5, ch, hw, &err), &err);
  float *fa[5], *fb[5], *ga[5], *gb[5];
  sr_rng rng;
  sr_rng_seed(&rng, 1, 1);
  for (int l = 0; l < 5; l++) {
    size_t n = 16 * (size_t)s.chw[l];
    fa[l] = malloc(4 * n);
    fb[l] = malloc(4 * n);
    ga[l] = malloc(4 * n);
    gb[l] = malloc(4 * n);
    for (size_t q = 0; q < n; q++) {
      fa[l][q] = sr_rng_uniformf(&rng);
      fb[l][q] = sr_rng_uniformf(&rng);
    }
  }
  float target[16], sc[16];
  for (int p = 0; p < 16; p++) target[p] = (float)(p % 3) - 1;
  double loss, t0 = sr_now();
  for (int r = 0; r < 10; r++)
    CHECK_OK(sr_reg_loss(&s,
                         &(sr_reg_step){.feats_a = fa,
                                        .feats_b = fb,
                                        .k = 16,
                                        .target = target,
                                        .alpha = 10,
                                        .loss = &loss,
                                        .s_cnn = sc,
                                        .grad_a = ga,
                                        .grad_b = gb},
                         &err),
             &err);
  printf("sr_reg_loss, k = 16, resnet18 width 1 features (2.9 M floats per half): %.2f ms per step\n",
         (sr_now() - t0) / 10 * 1e3);
  for (int l = 0; l < 5; l++) {
    free(fa[l]);
    free(fb[l]);
    free(ga[l]);
    free(gb[l]);
  }
  sr_reg_state_free(&s);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  bench(28);
  bench(32);
  bench_loss();
  return sr_test_done();
}
