// The loss alone: against a float64 PyTorch reference (two successive steps, atanh and mse variants, the
// running-mean EMA carried across steps), then central finite differences in double of g, of the
// feature gradients (centred cosine with a fixed non-zero mean, softmax layer weights) and of dL/dw.
#include <stdlib.h>

#include "reg_fixture.h"
#include "simreg/reg.h"

#define L 3
#define K 4
static const int CH[L] = {3, 5, 2};
static const int64_t HW[L] = {16, 4, 3};

static void fixture_case(const sr_st_file *f, const char *var, double alpha, int mse) {
  sr_err err = {0};
  sr_reg_state s;
  char key[128], what[128];
  CHECK_OK(sr_reg_state_init_dims(&s, L, CH, HW, &err), &err);
  const float *target = fx_f32(f, "loss.target", K);
  const double *w = rx_f64(f, "loss.w", L);
  if (!target || !w) return;
  for (int l = 0; l < L; l++) {
    s.w[l] = w[l];
    snprintf(key, sizeof key, "loss.run_mean0.%d", l);
    const float *rm = fx_f32(f, key, CH[l]);
    if (rm) memcpy(s.run_mean[l], rm, sizeof(float) * (size_t)CH[l]);
  }
  for (int step = 0; step < 2; step++) {
    float *fa[L], *fb[L], *ga[L], *gb[L], s_cnn[K];
    for (int l = 0; l < L; l++) {
      snprintf(key, sizeof key, "loss.fa%d.%d", step, l);
      fa[l] = (float *)fx_f32(f, key, K * CH[l] * HW[l]);
      snprintf(key, sizeof key, "loss.fb%d.%d", step, l);
      fb[l] = (float *)fx_f32(f, key, K * CH[l] * HW[l]);
      ga[l] = malloc(sizeof(float) * K * (size_t)s.chw[l]);
      gb[l] = malloc(sizeof(float) * K * (size_t)s.chw[l]);
      if (!fa[l] || !fb[l]) return;
    }
    double loss;
    sr_reg_zero_grad(&s);
    printf("%s step %d\n", var, step);
    CHECK_OK(sr_reg_loss(&s,
                         &(sr_reg_step){.feats_a = fa,
                                        .feats_b = fb,
                                        .k = K,
                                        .target = target,
                                        .alpha = alpha,
                                        .mse = mse,
                                        .loss = &loss,
                                        .s_cnn = s_cnn,
                                        .grad_a = ga,
                                        .grad_b = gb},
                         &err),
             &err);
    snprintf(key, sizeof key, "loss.%s%d.", var, step);
    char k2[160];
    snprintf(k2, sizeof k2, "%sloss", key);
    float lf = (float)loss;
    rx_expect("loss", &lf, rx_f64(f, k2, 1), 1, 1e-5);
    snprintf(k2, sizeof k2, "%ss_cnn", key);
    rx_expect("S^CNN", s_cnn, rx_f64(f, k2, K), K, 1e-5);
    float dw[L];
    for (int l = 0; l < L; l++) dw[l] = (float)s.dw[l];
    snprintf(k2, sizeof k2, "%sdw", key);
    rx_expect("dL/dw", dw, rx_f64(f, k2, L), L, 1e-5);
    for (int l = 0; l < L; l++) {
      int64_t n = K * s.chw[l];
      snprintf(k2, sizeof k2, "%srun_mean.%d", key, l);
      snprintf(what, sizeof what, "running mean, layer %d", l);
      rx_expect(what, s.run_mean[l], rx_f64(f, k2, CH[l]), CH[l], 1e-6);
      snprintf(k2, sizeof k2, "%sga.%d", key, l);
      snprintf(what, sizeof what, "dL/d(half A), layer %d", l);
      rx_expect(what, ga[l], rx_f64(f, k2, n), n, 1e-5);
      snprintf(k2, sizeof k2, "%sgb.%d", key, l);
      snprintf(what, sizeof what, "dL/d(half B), layer %d", l);
      rx_expect(what, gb[l], rx_f64(f, k2, n), n, 1e-5);
      free(ga[l]);
      free(gb[l]);
    }
  }
  CHECK(s.updates == 2, "two running-mean updates, got %lld", (long long)s.updates);
  sr_reg_state_free(&s);
}

static void fd_g(void) {
  double worst = 0;
  for (double x = -0.99; x <= 0.99; x += 0.0275) {
    const double h = 1e-6;
    double fd = (sr_reg_g(x + h) - sr_reg_g(x - h)) / (2 * h), an = sr_reg_dg(x);
    worst = fmax(worst, fabs(fd - an) / fabs(an));
  }
  // g is an odd function, ~2 atanh(x)
  CHECK(fabs(sr_reg_g(0.3) + sr_reg_g(-0.3)) < 1e-15 && fabs(sr_reg_g(0.5) - 2 * atanh(0.5)) < 1e-4,
        "g shape");
  printf("finite differences of g: worst relative error %.2e\n", worst);
  CHECK(worst < 1e-7, "g' vs finite differences: %.3e", worst);
}

// Loss with fixed running means (beta = 1 keeps them), in double via float inputs.
static double loss_at(sr_reg_state *s, float **fa, float **fb, const float *target, int mse) {
  double loss = 0, dw[SR_MAX_FEATURES];
  memcpy(dw, s->dw, sizeof dw);
  sr_err err = {0};
  CHECK_OK(sr_reg_loss(s,
                       &(sr_reg_step){.feats_a = fa,
                                      .feats_b = fb,
                                      .k = K,
                                      .target = target,
                                      .alpha = 3.0,
                                      .mse = mse,
                                      .loss = &loss},
                       &err),
           &err);
  memcpy(s->dw, dw, sizeof dw);  // probes must not accumulate into dw
  return loss;
}

static void fd_loss(int mse) {
  sr_err err = {0};
  sr_reg_state s;
  CHECK_OK(sr_reg_state_init_dims(&s, L, CH, HW, &err), &err);
  s.beta = 1.0;  // the running mean stays fixed: it is a constant for the gradient
  sr_rng rng;
  sr_rng_seed(&rng, 99, (uint64_t)mse);
  float *fa[L], *fb[L], *ga[L], *gb[L];
  for (int l = 0; l < L; l++) {
    for (int c = 0; c < CH[l]; c++) s.run_mean[l][c] = (float)(0.5 * sr_rng_normal(&rng));
    s.w[l] = 0.4 * sr_rng_normal(&rng);
    size_t n = K * (size_t)s.chw[l];
    fa[l] = malloc(sizeof(float) * n);
    fb[l] = malloc(sizeof(float) * n);
    ga[l] = malloc(sizeof(float) * n);
    gb[l] = malloc(sizeof(float) * n);
    for (size_t q = 0; q < n; q++) {
      fa[l][q] = (float)(sr_rng_normal(&rng) + 0.3);
      fb[l][q] = (float)(sr_rng_normal(&rng) + 0.3);
    }
  }
  const float target[K] = {1.0f, -1.0f, 0.0f, 0.45f};
  double loss;
  CHECK_OK(sr_reg_loss(&s,
                       &(sr_reg_step){.feats_a = fa,
                                      .feats_b = fb,
                                      .k = K,
                                      .target = target,
                                      .alpha = 3.0,
                                      .mse = mse,
                                      .loss = &loss,
                                      .grad_a = ga,
                                      .grad_b = gb},
                       &err),
           &err);
  double worst = 0, gmax = 0;
  // Feature gradients: every element of every layer, both halves. Perturbations are exact float values.
  for (int l = 0; l < L; l++)
    for (int half = 0; half < 2; half++) {
      float *x = half ? fb[l] : fa[l], *g = half ? gb[l] : ga[l];
      for (int64_t q = 0; q < K * s.chw[l]; q++) {
        float x0 = x[q], xp = x0 + 1e-3f, xm = x0 - 1e-3f;
        x[q] = xp;
        double lp = loss_at(&s, fa, fb, target, mse);
        x[q] = xm;
        double lm = loss_at(&s, fa, fb, target, mse);
        x[q] = x0;
        double fd = (lp - lm) / ((double)xp - (double)xm);
        worst = fmax(worst, fabs(fd - g[q]));
        gmax = fmax(gmax, fabs(g[q]));
      }
    }
  printf("finite differences (%s) of the feature gradients: max |fd - analytic| / max |grad| = %.2e\n",
         mse ? "mse" : "atanh", worst / gmax);
  CHECK(worst / gmax < 1e-4, "feature gradients vs finite differences: %.3e", worst / gmax);
  // Layer weights through the softmax.
  double wworst = 0, wmax = 0;
  for (int l = 0; l < L; l++) {
    double w0 = s.w[l], h = 1e-5;
    s.w[l] = w0 + h;
    double lp = loss_at(&s, fa, fb, target, mse);
    s.w[l] = w0 - h;
    double lm = loss_at(&s, fa, fb, target, mse);
    s.w[l] = w0;
    wworst = fmax(wworst, fabs((lp - lm) / (2 * h) - s.dw[l]));
    wmax = fmax(wmax, fabs(s.dw[l]));
  }
  printf("finite differences (%s) of dL/dw: max |fd - analytic| / max |dw| = %.2e\n", mse ? "mse" : "atanh",
         wworst / wmax);
  CHECK(wworst / wmax < 1e-6, "dL/dw vs finite differences: %.3e", wworst / wmax);
  // Softmax weights sum to one; zero w is uniform.
  double gam[L], sum = 0;
  sr_reg_gamma(&s, gam);
  for (int l = 0; l < L; l++) sum += gam[l];
  CHECK(fabs(sum - 1) < 1e-15, "gamma sums to %.17g", sum);
  for (int l = 0; l < L; l++) {
    free(fa[l]);
    free(fb[l]);
    free(ga[l]);
    free(gb[l]);
  }
  sr_reg_state_free(&s);
}

// Identical halves: every cosine is 1, S^CNN = 1, so the loss against target 1 is 0 with zero gradients.
static void identical_halves(void) {
  sr_err err = {0};
  sr_reg_state s;
  CHECK_OK(sr_reg_state_init_dims(&s, L, CH, HW, &err), &err);
  float *fa[L], *ga[L], *gb[L];
  for (int l = 0; l < L; l++) {
    size_t n = K * (size_t)s.chw[l];
    fa[l] = malloc(sizeof(float) * n);
    ga[l] = malloc(sizeof(float) * n);
    gb[l] = malloc(sizeof(float) * n);
    for (size_t q = 0; q < n; q++) fa[l][q] = (float)((q * 7919) % 13) - 4.0f;
  }
  const float one[K] = {1, 1, 1, 1};
  float sc[K];
  double loss;
  CHECK_OK(sr_reg_loss(&s,
                       &(sr_reg_step){.feats_a = fa,
                                      .feats_b = fa,
                                      .k = K,
                                      .target = one,
                                      .alpha = 10,
                                      .loss = &loss,
                                      .s_cnn = sc,
                                      .grad_a = ga,
                                      .grad_b = gb},
                       &err),
           &err);
  double gm = 0;
  for (int l = 0; l < L; l++)
    for (int64_t q = 0; q < K * s.chw[l]; q++) gm = fmax(gm, fabs(ga[l][q]) + fabs(gb[l][q]));
  CHECK(fabs(sc[0] - 1) < 1e-6 && loss < 1e-8 && gm < 1e-3, "identical halves: S %g, loss %g, |grad| %g",
        sc[0], loss, gm);
  float bad[K] = {1, 1, 1.5f, 1};
  CHECK(sr_reg_loss(&s,
                    &(sr_reg_step){.feats_a = fa,
                                   .feats_b = fa,
                                   .k = K,
                                   .target = bad,
                                   .alpha = 10,
                                   .loss = &loss,
                                   .s_cnn = sc,
                                   .grad_a = ga,
                                   .grad_b = gb},
                    &err) == SR_ERR_ARG &&
            strstr(err.msg, "1.5"),
        "target outside [-1, 1] rejected: %s", err.msg);
  fa[1][3] = NAN;
  CHECK(sr_reg_loss(&s,
                    &(sr_reg_step){.feats_a = fa,
                                   .feats_b = fa,
                                   .k = K,
                                   .target = one,
                                   .alpha = 10,
                                   .loss = &loss,
                                   .s_cnn = sc,
                                   .grad_a = ga,
                                   .grad_b = gb},
                    &err) == SR_ERR_NUMERIC,
        "NaN features rejected");
  for (int l = 0; l < L; l++) {
    free(fa[l]);
    free(ga[l]);
    free(gb[l]);
  }
  sr_reg_state_free(&s);
}

static void step_w(void) {
  sr_err err = {0};
  sr_reg_state s;
  CHECK_OK(sr_reg_state_init_dims(&s, L, CH, HW, &err), &err);
  s.dw[0] = 1;
  s.dw[1] = -2;
  sr_reg_step_w(&s, 0.1, 0.9);  // buf = g
  sr_reg_step_w(&s, 0.1, 0.9);  // buf = 0.9 g + g
  CHECK(fabs(s.w[0] + 0.1 * (1 + 1.9)) < 1e-15 && fabs(s.w[1] - 0.2 * (1 + 1.9)) < 1e-15 && s.w[2] == 0,
        "SGD on w: %g %g %g", s.w[0], s.w[1], s.w[2]);
  sr_reg_state_free(&s);
}

static void correlations(void) {
  sr_err err = {0};
  float x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {1, 8, 27, 64, 125, 216}, z[6] = {3, 1, 2, 2, 5, 4};
  double p, sp;
  CHECK_OK(sr_reg_correlations(x, y, 6, &p, &sp, &err), &err);
  // numpy: np.corrcoef(x, x**3)[0, 1] = 0.9379313244517968; Spearman 1
  CHECK(fabs(p - 0.9379313244517968) < 1e-7 && fabs(sp - 1) < 1e-15, "pearson %.9f spearman %.9f", p, sp);
  CHECK_OK(sr_reg_correlations(x, z, 6, &p, &sp, &err), &err);
  // ranks of z with the tie averaged: 4 1 2.5 2.5 6 5; np.corrcoef(1..6, those)[0, 1] = 0.5797710356524485
  CHECK(fabs(sp - 0.5797710356524485) < 1e-12, "spearman with ties %.16f", sp);
  float c[3] = {1, 1, 1};
  CHECK_OK(sr_reg_correlations(x, c, 3, &p, &sp, &err), &err);
  CHECK(isnan(p) && isnan(sp), "constant input gives NaN");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  sr_st_file f;
  if (fx_open("reg.safetensors", &f) == SR_OK) {
    fixture_case(&f, "atanh", 10.0, 0);
    fixture_case(&f, "mse", 4.0, 1);
    sr_st_free(&f);
  }
  fd_g();
  fd_loss(0);
  fd_loss(1);
  identical_halves();
  step_w();
  correlations();
  return sr_test_done();
}
