// Engine benchmark: training and inference images/s of a model on random data (not a test).
// usage: bench_engine [--bf16] MODEL WIDTH CHANNELS SIZE BATCH [SECONDS]
//        bench_engine [--bf16] --rss MODEL WIDTH CHANNELS SIZE BATCH STEPS   (peak RSS of a training run, own process)
//        bench_engine --conv-peak
// Prints one JSON line: {"model":..., "train_img_s":..., "infer_img_s":..., "infer_fused_img_s":..., ...}
// infer_img_s is the training graph in eval mode, infer_fused_img_s the inference plan (BN folded, ReLU
// and residual adds fused as post-ops: sr_infer_*), with its 3x3 convolutions as Winograd F(4x4, 3x3) where
// the plan's rule picks it (winograd_convs; off with SR_WINOGRAD=0); infer_fused_direct_img_s is the same plan
// with every convolution direct (oneDNN), measured in the same process.
#include <omp.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simreg/layers.h"
#include "simreg/model.h"
#include "simreg/optim.h"

static sr_status train_step(sr_model *m, sr_sgd *o, sr_tape *t, const float *x, const int32_t *y, float *logits,
                            float *dl, int n, sr_err *err) {
  sr_status st = sr_tape_forward(t, x, 1, logits, err);
  if (st) return st;
  sr_softmax_ce(dl, logits, y, n, m->cfg.classes, NULL);
  sr_model_zero_grad(m);
  if ((st = sr_tape_backward(t, dl, NULL, err))) return st;
  sr_sgd_step(o, m->params, m->grads, 0.01);
  m->params_version++;
  return SR_OK;
}

static double run_train(sr_model *m, sr_sgd *o, sr_tape *t, const float *x, const int32_t *y, float *logits,
                        float *dl, int n, double budget, int *iters) {
  sr_err err = {0};
  double t0 = sr_now();
  int it = 0;
  while (it < 3 || sr_now() - t0 < budget) {
    if (train_step(m, o, t, x, y, logits, dl, n, &err)) break;
    it++;
  }
  if (err.msg[0]) fprintf(stderr, "bench: %s\n", err.msg);
  *iters = it;
  return (double)it * n / (sr_now() - t0);
}

static double run_infer(sr_tape *t, const float *x, float *logits, int n, double budget) {
  sr_err err = {0};
  double t0 = sr_now();
  int it = 0;
  while (it < 3 || sr_now() - t0 < budget) {
    if (sr_tape_forward(t, x, 0, logits, &err)) break;
    it++;
  }
  return (double)it * n / (sr_now() - t0);
}

static double run_fused(sr_infer *p, const float *x, float *logits, int n, double budget) {
  sr_err err = {0};
  double t0 = sr_now();
  int it = 0;
  while (it < 3 || sr_now() - t0 < budget) {
    if (sr_infer_forward(p, x, logits, &err)) break;
    it++;
  }
  if (err.msg[0]) fprintf(stderr, "bench: %s\n", err.msg);
  return (double)it * n / (sr_now() - t0);
}

static double peak_rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0;  // Linux: kilobytes
}

// GFLOP/s of one 3x3 convolution (64->64 channels, 32x32, batch 64) run alone: the ceiling the
// whole-model numbers are measured against.
static double conv_peak(double budget) {
  sr_err err = {0};
  sr_model m;
  sr_model_config cfg = {.arch = "custom", .in_c = 64, .in_h = 32, .in_w = 32, .classes = 1};
  sr_rng rng;
  sr_rng_seed(&rng, 0, 0);
  if (sr_model_init(&m, &cfg, &err) || sr_graph_conv(&m, 0, 64, 3, 1, 1, 0, "conv") < 0 ||
      sr_model_finalize(&m, &rng, &err))
    return 0;
  const int n = 64;
  size_t nin = (size_t)n * 64 * 32 * 32;
  float *x = sr_alloc(nin * sizeof(float)), *y = sr_alloc(nin * sizeof(float));
  for (size_t i = 0; i < nin; i++) x[i] = (float)sr_rng_normal(&rng);
  sr_tape *t;
  double rate = 0;
  if (!sr_model_tape(&m, n, 0, &t, &err)) {
    run_infer(t, x, y, n, 0.3);
    rate = run_infer(t, x, y, n, budget) * (double)sr_model_flops(&m) / 1e9;
  }
  sr_free(x), sr_free(y);
  sr_model_free(&m);
  return rate;
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "--conv-peak")) {
    printf("{\"conv3x3_64_32x32_b64_gflops\":%.1f,\"threads\":%d}\n", conv_peak(5.0), omp_get_max_threads());
    return 0;
  }
  int bf16 = argc > 1 && !strcmp(argv[1], "--bf16");  // --precision bf16 (model.h: rounding, f32 kernels)
  if (bf16) argv++, argc--;
  int rss = argc > 1 && !strcmp(argv[1], "--rss");
  if (rss) argv++, argc--;
  if (argc < 6) {
    fprintf(stderr, "usage: %s [--bf16] [--rss] MODEL WIDTH CHANNELS SIZE BATCH [SECONDS | STEPS]\n", argv[0]);
    return 2;
  }
  sr_model_config cfg = {.in_c = atoi(argv[3]), .in_h = atoi(argv[4]), .in_w = atoi(argv[4]), .classes = 10,
                         .width = atof(argv[2])};
  snprintf(cfg.arch, sizeof cfg.arch, "%s", argv[1]);
  int n = atoi(argv[5]);
  double budget = argc > 6 ? atof(argv[6]) : 10.0;
  sr_err err = {0};
  sr_model m;
  sr_rng rng;
  sr_rng_seed(&rng, 0, 0);
  if (sr_model_create(&m, &cfg, &rng, &err) ||
      sr_model_set_precision(&m, bf16 ? SR_PRECISION_BF16 : SR_PRECISION_F32, &err)) {
    fprintf(stderr, "bench: %s\n", err.msg);
    return 1;
  }
  size_t nin = (size_t)n * cfg.in_c * cfg.in_h * cfg.in_w;
  float *x = sr_alloc(nin * sizeof(float)), *logits = sr_alloc((size_t)n * 10 * sizeof(float));
  float *dl = sr_alloc((size_t)n * 10 * sizeof(float));
  int32_t *y = sr_alloc((size_t)n * sizeof(int32_t));
  for (size_t i = 0; i < nin; i++) x[i] = (float)sr_rng_normal(&rng);
  for (int i = 0; i < n; i++) y[i] = (int32_t)sr_rng_below(&rng, 10);
  sr_sgd o;
  sr_tape *t;
  if (sr_sgd_init(&o, m.n_params, 0.9, 0, 0, &err) || sr_model_tape(&m, n, 0, &t, &err)) {
    fprintf(stderr, "bench: %s\n", err.msg);
    return 1;
  }
  int iters;
  if (rss) {  // a training run of STEPS steps; setup: model, optimizer, data and tape created, no step yet
    double setup = peak_rss_mb();
    int steps = argc > 6 ? atoi(argv[6]) : 10;
    for (int k = 0; k < steps; k++)
      if (train_step(&m, &o, t, x, y, logits, dl, n, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
      }
    printf("{\"model\":\"%s\",\"width\":%g,\"batch\":%d,\"steps\":%d,\"setup_rss_mb\":%.1f,\"train_peak_rss_mb\":%.1f}\n",
           cfg.arch, cfg.width, n, steps, setup, peak_rss_mb());
    return 0;
  }
  run_train(&m, &o, t, x, y, logits, dl, n, 0.5, &iters);  // warm-up: first-touch, JIT kernels
  double tr = run_train(&m, &o, t, x, y, logits, dl, n, budget, &iters);
  run_infer(t, x, logits, n, 0.3);
  double inf = run_infer(t, x, logits, n, budget);
  // the plan as configured (Winograd unless SR_WINOGRAD=0), then every convolution direct, same process
  sr_infer *p, *pd;
  sr_infer_options direct = {.winograd = 0};
  if (sr_infer_create(&m, n, &p, &err) || sr_infer_create_opts(&m, n, &direct, &pd, &err)) {
    fprintf(stderr, "bench: %s\n", err.msg);
    return 1;
  }
  sr_infer_stats st;
  sr_infer_get_stats(p, &st);
  run_fused(p, x, logits, n, 0.3);
  run_fused(pd, x, logits, n, 0.3);
  // alternating slices, so that a change in the machine's load hits both plans alike
  double fused = 0, fused_direct = 0;
  for (int k = 0; k < 4; k++) {
    fused += run_fused(p, x, logits, n, budget / 4) / 4;
    fused_direct += run_fused(pd, x, logits, n, budget / 4) / 4;
  }
  sr_infer_free(p);
  sr_infer_free(pd);
  double f = (double)sr_model_flops(&m);
  printf("{\"model\":\"%s\",\"precision\":\"%s\",\"width\":%g,\"input\":\"%dx%dx%d\",\"batch\":%d,\"threads\":%d,\"train_img_s\":%.2f,"
         "\"infer_img_s\":%.2f,\"infer_fused_img_s\":%.2f,\"train_gflops\":%.2f,\"infer_gflops\":%.2f,"
         "\"infer_fused_gflops\":%.2f,\"winograd_convs\":%d,\"infer_fused_direct_img_s\":%.2f}\n",
         cfg.arch, sr_precision_name(m.precision), cfg.width, cfg.in_c, cfg.in_h, cfg.in_w, n, omp_get_max_threads(), tr, inf, fused, tr * 3 * f / 1e9,
         inf * f / 1e9, fused * f / 1e9, st.winograd, fused_direct);
  sr_sgd_free(&o);
  sr_model_free(&m);
  sr_free(x), sr_free(logits), sr_free(dl), sr_free(y);
  return 0;
}
