// Attack bookkeeping benchmark (not a test): pure inference throughput of the attack wrapper
// (sr_amodel_logits on a fixed batch) against the query throughput of the noise sweep, the Boundary attack
// and HopSkipJump on the same model, images and batch. overhead = 1 - (attack queries/s) / (inference img/s):
// what the attacks spend outside the forward pass (noise/proposal generation, copies, bookkeeping, padding).
// usage: bench_attack RUN [BATCH] [SECONDS] [grad]   (threads: OMP_NUM_THREADS; grad: input-gradient rate
// only) Prints one JSON line.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simreg/attack.h"
#include "simreg/train.h"

static void die(const sr_err *err) {
  fprintf(stderr, "bench_attack: %s\n", err->msg);
  exit(1);
}

// One attack's numbers: queries/s over the whole call; overhead against the inference rate; in_model: share
// of the wall time spent inside the model (load-independent view of the same overhead); steady: queries/s
// after the initialisation (Boundary, HopSkipJump), whose straggler images query in small batches.
typedef struct rate {
  double qps, overhead, secs, in_model, steady;
  int64_t queries;
} rate;

typedef struct mark {
  const sr_amodel *am;
  double t;
  int64_t q;
} mark;

static rate measure(const sr_amodel *am, int64_t q0, double t0, double s0, double infer, const mark *mk) {
  double now = sr_now();
  rate r = {.secs = now - t0, .queries = am->queries - q0};
  r.qps = (double)r.queries / r.secs;
  r.overhead = 1 - r.qps / infer;
  r.in_model = (am->seconds - s0) / r.secs;
  r.steady = mk && mk->t > 0 && now > mk->t ? (double)(am->queries - mk->q) / (now - mk->t) : r.qps;
  return r;
}

static void put(const char *name, rate r, double infer, int last) {
  printf(
      "\"%s\":{\"queries_s\":%.1f,\"overhead\":%.4f,\"in_model\":%.4f,\"steady_queries_s\":%.1f,"
      "\"steady_overhead\":%.4f,\"queries\":%lld,\"seconds\":%.2f}%s",
      name, r.qps, r.overhead, r.in_model, r.steady, 1 - r.steady / infer, (long long)r.queries, r.secs,
      last ? "" : ",");
}

// First step / iteration callback: the initialisation is over.
static void on_first(void *ctx, int64_t step, int64_t first, int64_t n, const double *dist) {
  mark *mk = ctx;
  (void)first;
  (void)n;
  (void)dist;
  if (step == 1 && mk->t == 0) {
    mk->t = sr_now();
    mk->q = mk->am->queries;
  }
}

static double infer_rate(sr_amodel *am, const float *x, int64_t b, float *logits, double budget) {
  sr_err err = {0};
  double t0 = sr_now();
  int64_t it = 0;
  while (it < 3 || sr_now() - t0 < budget)
    if (sr_amodel_logits(am, x, b, logits, NULL, &err))
      die(&err);
    else
      it++;
  return (double)(it * b) / (sr_now() - t0);
}

// Input gradients of the summed cross-entropy (what PGD/APGD/FAB/FMN/DDN call) per second.
static double grad_rate(sr_amodel *am, const float *x, const int32_t *y, int64_t b, float *g, double budget) {
  sr_err err = {0};
  double t0 = sr_now();
  int64_t it = 0;
  while (it < 3 || sr_now() - t0 < budget)
    if (sr_amodel_grad_ce(am, &(sr_labeled){.x = x, .y = y, .n = b}, &(sr_grad_out){.g = g}, &err))
      die(&err);
    else
      it++;
  return (double)(it * b) / (sr_now() - t0);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s RUN [BATCH] [SECONDS]\n", argv[0]);
    return 2;
  }
  int64_t b = argc > 2 ? atoll(argv[2]) : 128;
  double budget = argc > 3 ? atof(argv[3]) : 10.0;
  sr_err err = {0};
  sr_model m;
  sr_run_info info;
  sr_dataset ds;
  sr_amodel am;
  const char *wg = getenv("SR_WINOGRAD");  // 0: every convolution direct (the library reads no environment)
  if (sr_run_open(argv[1], "last", &m, &info, &err) ||
      sr_model_set_winograd(&m, !(wg && strcmp(wg, "0") == 0), &err) ||
      sr_dataset_load(info.data, "test", &ds, &err) ||
      sr_amodel_init(&am, &m,
                     (sr_pixel_map){.c = ds.c, .gray = info.gray, .mean = info.mean, .scale = info.scale}, b,
                     &err))
    die(&err);
  // the first b correctly classified test images; labels = predictions
  int64_t d = am.d, n = 0;
  float *x = sr_alloc((size_t)b * (size_t)d * sizeof(float)),
        *logits = sr_alloc((size_t)b * 64 * sizeof(float));
  int32_t *y = sr_alloc((size_t)b * sizeof(int32_t)), p;
  for (int64_t i = 0; i < ds.n && n < b; i++) {
    float *xi = x + n * d;
    for (int64_t q = 0; q < d; q++) xi[q] = ds.images[i * d + q] / 255.0f;
    if (sr_amodel_predict(&am, xi, 1, &p, NULL, &err)) die(&err);
    if (p == ds.labels[i]) y[n++] = p;
  }
  if (n < b) b = n;
  // warm-up: the tapes exist before anything is timed
  if (sr_amodel_logits(&am, x, b, logits, NULL, &err)) die(&err);

  // inference before and after the attacks, averaged: the machine's load may change in between
  double infer0 = infer_rate(&am, x, b, logits, budget / 2), infer = infer0;
  if (argc > 4 && strcmp(argv[4], "grad") == 0) {  // the white-box attacks' unit of work only
    float *g = sr_alloc((size_t)b * (size_t)d * sizeof(float));
    if (sr_amodel_grad_ce(&am, &(sr_labeled){.x = x, .y = y, .n = b}, &(sr_grad_out){.g = g}, &err))
      die(&err);
    double gr = grad_rate(&am, x, y, b, g, budget);
    printf("{\"model\":\"%s\",\"batch\":%lld,\"infer_img_s\":%.1f,\"grad_img_s\":%.1f}\n", m.cfg.arch,
           (long long)b, infer0, gr);
    sr_free(g);
    sr_free(x);
    sr_free(y);
    sr_free(logits);
    sr_amodel_free(&am);
    sr_dataset_free(&ds);
    sr_model_free(&m);
    return 0;
  }

  double levels[10];
  sr_level_acc acc[10];
  for (int l = 0; l < 10; l++) levels[l] = 0.5 * l / 9;
  int64_t q0 = am.queries;
  double t0 = sr_now(), s0 = am.seconds;
  while (am.queries - q0 < 3 * 10 * b || sr_now() - t0 < budget)
    if (sr_noise_sweep(
            &am, &(sr_labeled){.x = x, .y = y, .n = b},
            &(sr_noise_sweep_opts){
                .kind = SR_NOISE_GAUSSIAN, .levels = levels, .n_levels = 10, .repeats = 1, .seed = 1},
            acc, &err))
      die(&err);
  rate noise = measure(&am, q0, t0, s0, infer, NULL);

  // Boundary: steps sized from the inference rate to take about `budget` seconds after the initialisation
  sr_boundary_opts bo = sr_boundary_opts_default();
  bo.steps = (int64_t)fmax(20, infer * budget / (double)b / 1.1);
  mark mb = {.am = &am};
  bo.on_step = on_first;
  bo.ctx = &mb;
  sr_attack_result r;
  q0 = am.queries;
  t0 = sr_now();
  s0 = am.seconds;
  if (sr_boundary(&am, &(sr_labeled){.x = x, .y = y, .n = b}, &bo, 1, &r, &err)) die(&err);
  rate bnd = measure(&am, q0, t0, s0, infer, &mb);
  sr_attack_result_free(&r);

  rate hsj[2];
  for (int k = 0; k < 2; k++) {
    sr_hsj_opts ho = sr_hsj_opts_default(k ? SR_NORM_LINF : SR_NORM_L2);
    ho.iterations = 1;
    // iterations for about `budget` seconds: iteration t costs about 100 sqrt(t) + 20 rounds
    double per = infer * budget / (double)b, sum = 0;
    while (ho.iterations < 64 && sum + 100 * sqrt(ho.iterations + 1.0) + 20 < per)
      sum += 100 * sqrt(++ho.iterations) + 20;
    mark mh = {.am = &am};
    ho.on_iter = on_first;
    ho.ctx = &mh;
    q0 = am.queries;
    t0 = sr_now();
    s0 = am.seconds;
    if (sr_hsj(&am, &(sr_labeled){.x = x, .y = y, .n = b}, &ho, 1, &r, &err)) die(&err);
    hsj[k] = measure(&am, q0, t0, s0, infer, &mh);
    sr_attack_result_free(&r);
  }
  double infer1 = infer_rate(&am, x, b, logits, budget / 2);
  infer = (infer0 + infer1) / 2;
  noise.overhead = 1 - noise.qps / infer;
  bnd.overhead = 1 - bnd.qps / infer;
  for (int k = 0; k < 2; k++) hsj[k].overhead = 1 - hsj[k].qps / infer;
  printf(
      "{\"model\":\"%s\",\"batch\":%lld,\"threads\":\"%s\",\"infer_img_s\":%.1f,\"infer_before_after\":[%.1f,"
      "%.1f],",
      m.cfg.arch, (long long)b, getenv("OMP_NUM_THREADS") ? getenv("OMP_NUM_THREADS") : "default", infer,
      infer0, infer1);
  put("noise_gaussian", noise, infer, 0);
  put("boundary", bnd, infer, 0);
  put("hsj_l2", hsj[0], infer, 0);
  put("hsj_linf", hsj[1], infer, 1);
  printf(",\"boundary_steps\":%lld}\n", (long long)bo.steps);
  sr_free(x);
  sr_free(y);
  sr_free(logits);
  sr_amodel_free(&am);
  sr_dataset_free(&ds);
  sr_model_free(&m);
  return 0;
}
