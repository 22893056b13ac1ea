// Engine benchmark: training and inference images/s of a model on random data (not a test).
// usage: bench_engine [--bf16] MODEL WIDTH CHANNELS SIZE BATCH [SECONDS]
//        bench_engine [--bf16] --rss MODEL WIDTH CHANNELS SIZE BATCH STEPS   (peak RSS of a training run, own
//        process) bench_engine --conv-peak   (the f32 engine's 3x3 convolution alone, and oneDNN's bf16 one
//        where it has one)
// Prints one JSON line: {"model":..., "train_img_s":..., "infer_img_s":..., "infer_fused_img_s":..., ...}
// infer_img_s is the training graph in eval mode, infer_fused_img_s the inference plan (BN folded, ReLU and
// residual adds fused as post-ops: sr_infer_*) with the convolution algorithms SR_CONV_ALGO gives (default
// measure; conv_algo, winograd_convs, dnnl_winograd_convs), infer_fused_direct_img_s the same plan with every
// convolution direct (oneDNN); the three are measured in turn, in the same process.
#include <dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "simreg/layers.h"
#include "simreg/model.h"
#include "simreg/optim.h"

static sr_status train_step(sr_model *m, sr_sgd *o, sr_tape *t, const float *x, const int32_t *y,
                            float *logits, float *dl, int n, sr_err *err) {
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
  if (sr_model_init(&m, &cfg, &err) ||
      sr_graph_conv(&m, 0, &(sr_conv_spec){.out_c = 64, .k = 3, .stride = 1, .pad = 1, .bias = 0}, "conv") <
          0 ||
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
  sr_free(x);
  sr_free(y);
  sr_model_free(&m);
  return rate;
}

// The same convolution as oneDNN's own bf16 primitive (bf16 src/weights/dst, f32 accumulation), outside
// the engine: the bf16 ceiling of this CPU. Returns 0 and sets *why when oneDNN has no such kernel here
// (CPUs without AVX-512: then --precision bf16 rounds around the f32 kernels, docs/PERFORMANCE.md).
static double conv_peak_bf16(double budget, const char **why) {
  const int n = 64, c = 64, hw = 32;
  dnnl_engine_t eng;
  dnnl_stream_t s;
  if (dnnl_engine_create(&eng, dnnl_cpu, 0) != dnnl_success) return *why = "no oneDNN CPU engine", 0;
  dnnl_stream_create(&s, eng, dnnl_stream_default_flags);
  dnnl_dims_t xd = {n, c, hw, hw}, wd = {c, c, 3, 3}, st = {1, 1}, pad = {1, 1};
  dnnl_memory_desc_t xa, wa, ya;
  dnnl_memory_desc_init_by_tag(&xa, 4, xd, dnnl_bf16, dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag(&wa, 4, wd, dnnl_bf16, dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag(&ya, 4, xd, dnnl_bf16, dnnl_format_tag_any);
  dnnl_convolution_desc_t cd;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_primitive_t conv = NULL;
  dnnl_memory_t mem[3] = {0};
  double rate = 0;
  *why = "oneDNN has no bf16 convolution on this CPU (unimplemented)";
  if (dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &xa, &wa, NULL,
                                         &ya, st, pad, pad) == dnnl_success &&
      dnnl_primitive_desc_create(&pd, &cd, NULL, eng, NULL) == dnnl_success &&
      dnnl_primitive_create(&conv, pd) == dnnl_success) {
    const dnnl_query_t q[3] = {dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_dst_md};
    int ok = 1;
    for (int k = 0; k < 3; k++) {
      const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, q[k], 0);
      ok = ok && dnnl_memory_create(&mem[k], md, eng, DNNL_MEMORY_ALLOCATE) == dnnl_success;
      void *h = NULL;
      if (ok && dnnl_memory_get_data_handle(mem[k], &h) == dnnl_success)  // bf16 0x3c00 = 2^-7: no denormals
        for (size_t i = 0; i < dnnl_memory_desc_get_size(md) / 2; i++) ((uint16_t *)h)[i] = 0x3c00;
    }
    dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, mem[0]}, {DNNL_ARG_WEIGHTS, mem[1]}, {DNNL_ARG_DST, mem[2]}};
    int it = 0;
    double t0 = 0;
    for (; ok && (it < 4 || sr_now() - t0 < budget); it++) {
      if (it == 1) t0 = sr_now();  // the first call is a warm-up
      ok = dnnl_primitive_execute(conv, s, 3, a) == dnnl_success && dnnl_stream_wait(s) == dnnl_success;
    }
    if (ok)
      rate = (double)(it - 1) * 2.0 * n * c * c * 9 * hw * hw / (sr_now() - t0) / 1e9, *why = NULL;
    else
      *why = "oneDNN failed to run its bf16 convolution";
  }
  for (int k = 0; k < 3; k++) dnnl_memory_destroy(mem[k]);
  dnnl_primitive_destroy(conv);
  dnnl_primitive_desc_destroy(pd);
  dnnl_stream_destroy(s);
  dnnl_engine_destroy(eng);
  return rate;
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "--conv-peak")) {
    const char *why;
    double f32 = conv_peak(5.0), bf16 = conv_peak_bf16(5.0, &why);
    printf("{\"conv3x3_64_32x32_b64_gflops\":%.1f,\"threads\":%d,", f32, omp_get_max_threads());
    if (why)
      printf("\"bf16_conv_gflops\":null,\"bf16_conv\":\"%s\"}\n", why);
    else
      printf("\"bf16_conv_gflops\":%.1f}\n", bf16);
    return 0;
  }
  int bf16 = argc > 1 && !strcmp(argv[1], "--bf16");  // --precision bf16 (model.h: rounding, f32 kernels)
  if (bf16) {
    argv++;
    argc--;
  }
  int rss = argc > 1 && !strcmp(argv[1], "--rss");
  if (rss) {
    argv++;
    argc--;
  }
  if (argc < 6) {
    fprintf(stderr, "usage: %s [--bf16] [--rss] MODEL WIDTH CHANNELS SIZE BATCH [SECONDS | STEPS]\n",
            argv[0]);
    return 2;
  }
  sr_model_config cfg = {.in_c = atoi(argv[3]),
                         .in_h = atoi(argv[4]),
                         .in_w = atoi(argv[4]),
                         .classes = 10,
                         .width = atof(argv[2])};
  snprintf(cfg.arch, sizeof cfg.arch, "%s", argv[1]);
  int n = atoi(argv[5]);
  double budget = argc > 6 ? atof(argv[6]) : 10.0;
  sr_err err = {0};
  sr_model m;
  sr_rng rng;
  sr_rng_seed(&rng, 0, 0);
  // SR_CONV_ALGO (default measure; SR_WINOGRAD=0 / 1 as before: direct / winograd), as the CLI reads it
  const char *wg = getenv("SR_WINOGRAD"), *algo = getenv("SR_CONV_ALGO");
  if (!algo) algo = wg && !strcmp(wg, "0") ? "direct" : wg && !strcmp(wg, "1") ? "winograd" : "measure";
  if (sr_model_create(&m, &cfg, &rng, &err) ||
      sr_model_set_precision(&m, bf16 ? SR_PRECISION_BF16 : SR_PRECISION_F32, &err) ||
      sr_model_set_conv_algo(&m, algo, &err)) {
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
    printf(
        "{\"model\":\"%s\",\"precision\":\"%s\",\"width\":%g,\"batch\":%d,\"steps\":%d,\"setup_rss_mb\":%.1f,"
        "\"train_peak_rss_mb\":%.1f}\n",
        cfg.arch, sr_precision_name(m.precision), cfg.width, n, steps, setup, peak_rss_mb());
    return 0;
  }
  run_train(&m, &o, t, x, y, logits, dl, n, 0.5, &iters);  // warm-up: first-touch, JIT kernels
  double tr = run_train(&m, &o, t, x, y, logits, dl, n, budget, &iters);
  run_infer(t, x, logits, n, 0.3);  // warm-up; measured below, in turn with the plans
  // the plan as configured (Winograd unless SR_WINOGRAD=0), then every convolution direct, same process
  sr_infer *p, *pd;
  sr_infer_options direct = {.winograd = 0};
  if (sr_infer_create(&m, n, &p, &err) || sr_infer_create_opts(&m, n, &direct, &pd, &err)) {
    fprintf(stderr, "bench: %s\n", err.msg);
    return 1;
  }
  sr_infer_stats st;
  sr_infer_get_stats(p, &st);
  int tape_dnnl = 0;
  for (int i = 0; i < m.n_nodes; i++) tape_dnnl += sr_tape_conv_choice(t, i, NULL) == SR_CONV_DNNL_WINOGRAD;
  run_fused(p, x, logits, n, 0.3);
  run_fused(pd, x, logits, n, 0.3);
  // alternating slices, so that a change in the machine's load hits the unfused graph and both plans alike
  double inf = 0, fused = 0, fused_direct = 0;
  for (int k = 0; k < 4; k++) {
    inf += run_infer(t, x, logits, n, budget / 4) / 4;
    fused += run_fused(p, x, logits, n, budget / 4) / 4;
    fused_direct += run_fused(pd, x, logits, n, budget / 4) / 4;
  }
  sr_infer_free(p);
  sr_infer_free(pd);
  double f = (double)sr_model_flops(&m);
  printf(
      "{\"model\":\"%s\",\"precision\":\"%s\",\"width\":%g,\"input\":\"%dx%dx%d\",\"batch\":%d,\"threads\":%"
      "d,\"train_img_s\":%.2f,"
      "\"infer_img_s\":%.2f,\"infer_fused_img_s\":%.2f,\"train_gflops\":%.2f,\"infer_gflops\":%.2f,"
      "\"infer_fused_gflops\":%.2f,\"winograd_convs\":%d,\"infer_fused_direct_img_s\":%.2f,"
      "\"conv_algo\":\"%s\",\"dnnl_winograd_convs\":%d,\"tape_winograd_convs\":%d,\"tape_dnnl_winograd_"
      "convs\":%d}\n",
      cfg.arch, sr_precision_name(m.precision), cfg.width, cfg.in_c, cfg.in_h, cfg.in_w, n,
      omp_get_max_threads(), tr, inf, fused, tr * 3 * f / 1e9, inf * f / 1e9, fused * f / 1e9, st.winograd,
      fused_direct, algo, st.dnnl_winograd, sr_tape_winograd_convs(t), tape_dnnl);
  sr_sgd_free(&o);
  sr_model_free(&m);
  sr_free(x);
  sr_free(logits);
  sr_free(dl);
  sr_free(y);
  return 0;
}
