// FGSM against PyTorch (tests/fixtures/fgsm.safetensors, written by tests/fixtures/gen_fgsm.py): a cnn-small
// with PyTorch's weights and BatchNorm statistics behind the attack wrapper (normalisation (x - 0.5) * 5):
// eval logits and the input gradient of the summed cross-entropy against float64 PyTorch (relative 1e-5),
// then FGSM L-inf and L2 adversarials against PyTorch's float32 FGSM.
//
// L-inf: an adversarial value is x + eps * sign(g) rounded to float and clamped. Where simreg's float32
// gradient and PyTorch's have the same sign the values must be identical, except that simreg moves a value
// that rounding put outside the eps ball back by one ulp (PyTorch does not). Where the signs differ the
// gradient must be ambiguous: |g| within 1e-4 of the image's largest |g| in the float64 reference.
#include <math.h>

#include "models/torch_fixture.h"
#include "simreg/attack.h"

enum { N = 4, D = 28 * 28 };

static int sgn(float v) { return (v > 0) - (v < 0); }

int main(void) {
  sr_st_file f;
  if (fx_open("fgsm.safetensors", &f)) return sr_test_done();
  sr_err err = {0};
  double eps_inf = atof(sr_st_meta(&f, "eps_linf")), eps_l2 = atof(sr_st_meta(&f, "eps_l2"));
  double mean = atof(sr_st_meta(&f, "mean")), scale = atof(sr_st_meta(&f, "scale"));
  sr_model m;
  sr_rng rng;
  sr_rng_seed(&rng, 1, 0);
  sr_model_config cfg = {.arch = "cnn-small", .in_c = 1, .in_h = 28, .in_w = 28, .classes = 10, .width = 1};
  CHECK_OK(sr_model_create(&m, &cfg, &rng, &err), &err);
  CHECK(fx_load_prefixed(&m, &f, "model.") == m.n_tensors, "every cnn-small tensor loaded from the fixture");
  const float *x = fx_f32(&f, "x", N * D), *zref = fx_f32(&f, "logits", N * 10),
              *gref = fx_f32(&f, "grad", N * D);
  const float *g32 = fx_f32(&f, "grad_f32", N * D), *al = fx_f32(&f, "adv_linf", N * D),
              *a2 = fx_f32(&f, "adv_l2", N * D);
  int32_t y[N];
  if (!x || !zref || !gref || !g32 || !al || !a2 || fx_labels(&f, "y", y, N)) return sr_test_done();

  sr_amodel am;
  CHECK_OK(sr_amodel_init(&am, &m, (sr_pixel_map){.c = 1, .gray = 0, .mean = mean, .scale = scale}, N, &err),
           &err);
  static float g[N * D], adv[N * D];
  float z[N * 10];
  CHECK_OK(sr_amodel_grad_ce(&am, &(sr_labeled){.x = x, .y = y, .n = N}, &(sr_grad_out){.g = g, .logits = z},
                             &err),
           &err);
  fx_expect("eval logits vs float64 torch", z, zref, N * 10, 1e-5);
  fx_expect("input gradient vs float64 torch", g, gref, N * D, 1e-5);
  fx_expect("input gradient vs float32 torch", g, g32, N * D, 1e-5);

  // FGSM L-inf
  sr_pgd_opts o = sr_fgsm_opts(SR_NORM_LINF, eps_inf);
  CHECK_OK(sr_pgd(&am, &(sr_labeled){.x = x, .y = y, .n = N}, &o, 0, adv, NULL, &err), &err);
  int64_t same = 0, guarded = 0, ambiguous = 0, bad = 0;
  for (int i = 0; i < N; i++) {
    double gmax = 0;
    for (int p = 0; p < D; p++) gmax = fmax(gmax, fabs((double)gref[i * D + p]));
    for (int p = 0; p < D; p++) {
      int q = i * D + p;
      if (sgn(g[q]) != sgn(g32[q])) {
        ambiguous++;
        bad += !(fabs((double)gref[q]) <= 1e-4 * gmax);
      } else if (adv[q] == al[q]) {
        same++;
      } else {
        // only the ball guard may differ: torch's value is outside the ball, simreg's is one ulp closer to x
        int outside = fabs((double)al[q] - x[q]) > (double)(float)eps_inf;
        guarded += outside && adv[q] == nextafterf(al[q], x[q]);
        bad += !(outside && adv[q] == nextafterf(al[q], x[q]));
      }
    }
  }
  printf("  FGSM Linf eps %g: %lld identical, %lld moved inside the ball by one ulp, %lld ambiguous signs\n",
         eps_inf, (long long)same, (long long)guarded, (long long)ambiguous);
  CHECK(bad == 0, "FGSM Linf: %lld values differ from PyTorch without an ambiguous gradient or the ulp guard",
        (long long)bad);
  // about half the values not clamped to 0 or 1 round to just outside the ball in float (x + 0.1 rounds up)
  CHECK(same + guarded + ambiguous == N * D && ambiguous <= N * D / 100, "FGSM Linf: %lld ambiguous of %d",
        (long long)ambiguous, N * D);
  double worst = 0;
  for (int q = 0; q < N * D; q++) worst = fmax(worst, fabs((double)adv[q] - x[q]));
  CHECK(worst <= (double)(float)eps_inf, "FGSM Linf inside the ball: %.9g", worst);

  // FGSM L2: step eps along g / ||g||, clamp; values equal up to float rounding of the normalisation
  o = sr_fgsm_opts(SR_NORM_L2, eps_l2);
  CHECK_OK(sr_pgd(&am, &(sr_labeled){.x = x, .y = y, .n = N}, &o, 0, adv, NULL, &err), &err);
  double dmax = 0;
  for (int q = 0; q < N * D; q++) dmax = fmax(dmax, fabs((double)adv[q] - a2[q]));
  printf("  FGSM L2 eps %g: max |simreg - torch| %.3g\n", eps_l2, dmax);
  CHECK(dmax <= 1e-6, "FGSM L2 adversarials vs PyTorch: %.3g", dmax);

  sr_amodel_free(&am);
  sr_model_free(&m);
  sr_st_free(&f);
  return sr_test_done();
}
