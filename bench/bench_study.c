// The study's workload through the public API (not a test; bench/study_mix.sh runs it beside PyTorch):
//   bench_study train MODEL WIDTH DATA REG SECONDS     steps of sr_train itself (the trainer's real code
//   path:
//                                                       loader thread, augmentation, tapes, regularizer,
//                                                       SGD), timed by its on_step callback after a warm-up
//   bench_study query MODEL WIDTH BATCH SECONDS        decision-attack queries: sr_amodel_predict
//   (pixel-space
//                                                       wrapper: gray + normalise, the fused inference plan,
//                                                       argmax)
//   bench_study fourier MODEL WIDTH SECONDS            the Fourier-map stream: sr_fourier_errors itself
// DATA: a CIFAR-10 binary directory (the study's input: colour 32x32 made gray by the loader). REG: none or
// threshold (alpha 1, Th 0.8, N 5000, k 16 pairs: the study's arms). Models are freshly initialised (seed 0);
// timings do not depend on the weights. Prints one JSON line.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "simreg/attack.h"
#include "simreg/fourier.h"
#include "simreg/train.h"

#define WARMUP_STEPS 3  // first-touch, primitive creation, the loader's first batches

// CPU seconds of the whole process (all threads, user + system): under OMP_WAIT_POLICY=passive it is the
// work a step does, nearly independent of other tenants (wall time is not); spinning threads count too.
static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
         1e-6 * (double)ru.ru_stime.tv_usec;
}

static double peak_rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0;  // Linux: kilobytes
}

// ---- training steps -------------------------------------------------------------------------------------

typedef struct step_clock {
  double budget;    // seconds of timed steps
  double prev;      // time of the previous step's end
  int prev_epoch;   // and its epoch
  double timed;     // seconds of the timed steps
  double prev_cpu;  // process CPU seconds at the previous step's end
  double cpu;       // CPU seconds of the timed steps
  int64_t steps;    // steps seen
  int64_t counted;  // timed steps
  double setup_mb;  // peak RSS when training starts (model, data, target, loader built)
  volatile int stop;
} step_clock;

static void on_start(void *ctx, const sr_train_start_info *s) {
  (void)s;
  step_clock *c = ctx;
  c->setup_mb = peak_rss_mb();
}

// A step's time is the interval between two consecutive step ends of the same epoch: an epoch's end
// (validation, checkpoint) falls between epochs and is not counted.
static void on_step(void *ctx, const sr_train_step_info *s) {
  step_clock *c = ctx;
  double now = sr_now(), cpu = cpu_seconds();
  c->steps++;
  if (c->steps > WARMUP_STEPS && s->epoch == c->prev_epoch) {
    c->timed += now - c->prev;
    c->cpu += cpu - c->prev_cpu;
    c->counted++;
  }
  c->prev = now;
  c->prev_cpu = cpu;
  c->prev_epoch = s->epoch;
  // at least 5 timed steps; then stop at the next step (sr_train writes a checkpoint and returns)
  if (c->counted >= 5 && c->timed >= c->budget) c->stop = 1;
}

// As the CLI: measured per shape unless SR_CONV_ALGO says otherwise (train, attack and fourier-map alike).
static const char *conv_algo(void) {
  const char *algo = getenv("SR_CONV_ALGO");
  return algo && *algo ? algo : "measure";
}

static int bench_train(const char *arch, double width, const char *data, const char *reg, double budget) {
  char out[] = "/tmp/bench_study_XXXXXX";
  if (!mkdtemp(out)) {
    perror("bench_study: mkdtemp");
    return 1;
  }
  sr_train_config c = sr_train_config_default();
  snprintf(c.model.arch, sizeof c.model.arch, "%s", arch);
  c.model.width = width;
  snprintf(c.model.conv_algo, sizeof c.model.conv_algo, "%s", conv_algo());
  snprintf(c.data.spec, sizeof c.data.spec, "cifar10:%s", data);
  c.data.eval_test = 0;
  c.optim.epochs = 1000;  // stopped by the budget
  snprintf(c.reg.kind, sizeof c.reg.kind, "%s", reg);
  c.reg.alpha = 1;
  snprintf(c.run.out, sizeof c.run.out, "%s", out);
  c.run.threads = omp_get_max_threads();
  step_clock clk = {.budget = budget, .prev_epoch = -1};
  c.run.stop = &clk.stop;
  c.run.cb = (sr_train_callbacks){.on_start = on_start, .on_step = on_step, .ctx = &clk};
  sr_err err = {0};
  sr_status st = sr_train(&c, &err);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
  if (system(cmd) != 0) fprintf(stderr, "bench_study: could not remove %s\n", out);
  if (st != SR_OK && st != SR_ERR_INTERRUPTED) {
    fprintf(stderr, "bench_study: %s\n", err.msg);
    return 1;
  }
  if (!clk.stop) {
    fprintf(stderr, "bench_study: training ended after %lld timed steps\n", (long long)clk.counted);
    return 1;
  }
  double sps = (double)clk.counted / clk.timed;
  printf(
      "{\"item\":\"train\",\"model\":\"%s\",\"width\":%g,\"reg\":\"%s\",\"batch\":%d,\"pairs\":%d,"
      "\"threads\":%d,\"steps\":%lld,\"steps_s\":%.4f,\"img_s\":%.2f,\"setup_rss_mb\":%.1f,"
      "\"cpu_ms_step\":%.2f,\"peak_rss_mb\":%.1f}\n",
      arch, width, reg, c.optim.batch, strcmp(reg, "none") ? c.reg.pairs : 0, c.run.threads,
      (long long)clk.counted, sps, sps * c.optim.batch, clk.setup_mb, 1e3 * clk.cpu / (double)clk.counted,
      peak_rss_mb());
  return 0;
}

// ---- inference workloads ----------------------------------------------------------------------------------

typedef struct wl {
  sr_model m;
  sr_amodel am;
  float *x;  // (n, 3, 32, 32) pixel space in [0, 1]
  int32_t *y, *pred;
  int64_t n;
} wl;

// A gray 32x32 model behind the wrapper as the study's attacks see it: colour [0,1] images, gray, 5(x-0.5).
static int wl_open(wl *w, const char *arch, double width, int64_t batch, int64_t n, sr_err *err) {
  memset(w, 0, sizeof *w);
  sr_model_config cfg = {.in_c = 1, .in_h = 32, .in_w = 32, .classes = 10, .width = width};
  snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
  sr_rng rng;
  sr_rng_seed(&rng, 0, 0);
  if (sr_model_create(&w->m, &cfg, &rng, err)) return 1;
  if (sr_model_set_conv_algo(&w->m, conv_algo(), err)) return 1;
  sr_pixel_map px = {.c = 3, .gray = 1, .mean = 0.5, .scale = 5.0};
  if (sr_amodel_init(&w->am, &w->m, px, batch, err)) return 1;
  w->n = n;
  w->x = sr_alloc((size_t)n * 3 * 32 * 32 * sizeof(float));
  w->y = sr_alloc((size_t)n * sizeof(int32_t));
  w->pred = sr_alloc((size_t)n * sizeof(int32_t));
  if (!w->x || !w->y || !w->pred) {
    sr_fail(err, SR_ERR_NOMEM, "bench images");
    return 1;
  }
  for (int64_t i = 0; i < n * 3 * 32 * 32; i++) w->x[i] = (float)sr_rng_uniform(&rng);
  for (int64_t i = 0; i < n; i++) w->y[i] = (int32_t)sr_rng_below(&rng, 10);
  return 0;
}

static void wl_close(wl *w) {
  sr_amodel_free(&w->am);
  sr_model_free(&w->m);
  sr_free(w->x);
  sr_free(w->y);
  sr_free(w->pred);
}

// One query batch of k images, as a Boundary / HSJ step asks the oracle (sr_amodel_predict pads k to the
// next power of two of its plan sizes).
static double run_queries(wl *w, int64_t k, double budget, sr_err *err) {
  double t0 = sr_now();
  int64_t it = 0;
  while (it < 3 || sr_now() - t0 < budget) {
    if (sr_amodel_predict(&w->am, w->x, k, w->pred, NULL, err)) return -1;
    it++;
  }
  return (double)(it * k) / (sr_now() - t0);
}

static int bench_query(const char *arch, double width, int64_t batch, double budget) {
  sr_err err = {0};
  wl w;
  int rc = wl_open(&w, arch, width, 128, batch, &err);  // the attacks' wrapper batch (--batch 128)
  double rate = -1;
  if (!rc && run_queries(&w, batch, 0.3, &err) >= 0) rate = run_queries(&w, batch, budget, &err);
  if (rc || rate < 0) {
    fprintf(stderr, "bench_study: %s\n", err.msg);
    wl_close(&w);
    return 1;
  }
  printf(
      "{\"item\":\"query\",\"model\":\"%s\",\"width\":%g,\"batch\":%lld,\"threads\":%d,\"img_s\":%.2f,"
      "\"conv_algo\":\"%s\"}\n",
      arch, width, (long long)batch, omp_get_max_threads(), rate, conv_algo());
  wl_close(&w);
  return 0;
}

// The stream of `simreg fourier-map --eps 4 --random-sign` (batch 256): consecutive job ranges of the
// whole map on n images until the budget is spent; each call builds the basis images, as the CLI's does.
static int bench_fourier(const char *arch, double width, double budget) {
  sr_err err = {0};
  wl w;
  const int64_t n = 128, jobs_per_call = 20;
  int rc = wl_open(&w, arch, width, 256, n, &err);
  sr_fourier_cells cells = {0};
  uint8_t *res = NULL;
  if (!rc) rc = sr_fourier_cells_init(&cells, 32, 32, &err) != SR_OK;
  if (!rc && !(res = sr_calloc((size_t)cells.n, (size_t)n))) {
    sr_fail(&err, SR_ERR_NOMEM, "Fourier map results");
    rc = 1;
  }
  double eps = 4.0, t0 = 0, images = 0;
  sr_fmap_opts o = {.eps = &eps, .n_eps = 1, .random_sign = 1, .seed = 0};
  for (int64_t lo = 0, calls = 0; !rc && (calls < 3 || sr_now() - t0 < budget);
       lo += jobs_per_call, calls++) {
    if (lo + jobs_per_call > cells.n) lo = 0;
    if (calls == 1) t0 = sr_now();  // the first call is a warm-up
    o.job_lo = lo;
    o.job_hi = lo + jobs_per_call;
    rc = sr_fourier_errors(&w.am, &(sr_labeled){.x = w.x, .y = w.y, .n = n}, &cells, &o, res, &err) != SR_OK;
    if (calls >= 1) images += (double)(jobs_per_call * n);
  }
  if (rc)
    fprintf(stderr, "bench_study: %s\n", err.msg);
  else
    printf(
        "{\"item\":\"fourier\",\"model\":\"%s\",\"width\":%g,\"batch\":256,\"threads\":%d,\"img_s\":%.2f,"
        "\"conv_algo\":\"%s\"}\n",
        arch, width, omp_get_max_threads(), images / (sr_now() - t0), conv_algo());
  sr_free(res);
  sr_fourier_cells_free(&cells);
  wl_close(&w);
  return rc;
}

static int usage(const char *prog) {
  fprintf(stderr,
          "usage: %s train MODEL WIDTH CIFAR10_DIR none|threshold SECONDS\n"
          "       %s query MODEL WIDTH BATCH SECONDS\n"
          "       %s fourier MODEL WIDTH SECONDS\n",
          prog, prog, prog);
  return 2;
}

int main(int argc, char **argv) {
  if (argc == 7 && !strcmp(argv[1], "train"))
    return bench_train(argv[2], atof(argv[3]), argv[4], argv[5], atof(argv[6]));
  if (argc == 6 && !strcmp(argv[1], "query"))
    return bench_query(argv[2], atof(argv[3]), atoll(argv[4]), atof(argv[5]));
  if (argc == 5 && !strcmp(argv[1], "fourier")) return bench_fourier(argv[2], atof(argv[3]), atof(argv[4]));
  return usage(argv[0]);
}
