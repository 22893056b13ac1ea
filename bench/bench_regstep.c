// The regularizer's pair batch in one process (not a test): two tapes of k (the path before issue 25)
// against one ghost-BatchNorm tape of 2k (sr_model_tape_groups), alternating, plus the plain training step
// of the classification batch for the regularizer's share. The pair-batch work is what sr_reg_run_step
// does on the tapes (forward in training mode, every feature layer read, every feature gradient seeded,
// backward without an output gradient); the loss itself (src/reg) is the same in both and left out.
// usage: bench_regstep MODEL WIDTH SIZE BATCH K [ROUNDS] [REPS]
// Prints per round the wall and process-CPU seconds of each, then medians and minima as one JSON line. On a
// loaded machine both vary severalfold between rounds (other processes' cache and core contention); the
// minimum over rounds is then the steadier estimate of the cost itself.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simreg/layers.h"
#include "simreg/model.h"

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
  sr_model *m;
  float *x2, *logits, *dl, *x64;
  int32_t *y;
  float *feat[SR_MAX_FEATURES], *grad[SR_MAX_FEATURES];
  int k, batch;
} bench;

// The pair batch on two tapes of k: a, b forward; features; seeds; backward a, b.
static sr_status pairs_two(bench *b, sr_err *err) {
  sr_tape *ta, *tb;
  sr_model *m = b->m;
  int64_t in = (int64_t)m->cfg.in_c * m->cfg.in_h * m->cfg.in_w;
  sr_status st = sr_model_tape(m, b->k, 1, &ta, err);
  if (!st) st = sr_model_tape(m, b->k, 2, &tb, err);
  if (!st) st = sr_tape_forward(ta, b->x2, 1, NULL, err);
  if (!st) st = sr_tape_forward(tb, b->x2 + b->k * in, 1, NULL, err);
  for (int f = 0; f < m->n_feat && !st; f++) {
    int64_t half = b->k * sr_model_feature_size(m, f);
    if (!(st = sr_tape_feature(ta, f, b->feat[f], err))) st = sr_tape_feature(tb, f, b->feat[f] + half, err);
  }
  for (int f = 0; f < m->n_feat && !st; f++) {
    int64_t half = b->k * sr_model_feature_size(m, f);
    if (!(st = sr_tape_feature_grad(ta, f, b->grad[f], err)))
      st = sr_tape_feature_grad(tb, f, b->grad[f] + half, err);
  }
  if (!st) st = sr_tape_backward(ta, NULL, NULL, err);
  if (!st) st = sr_tape_backward(tb, NULL, NULL, err);
  return st;
}

// The same on one ghost tape of 2k.
static sr_status pairs_ghost(bench *b, sr_err *err) {
  sr_tape *t;
  sr_model *m = b->m;
  sr_status st = sr_model_tape_groups(m, 2 * (int64_t)b->k, 2, 3, &t, err);
  if (!st) st = sr_tape_forward(t, b->x2, 1, NULL, err);
  for (int f = 0; f < m->n_feat && !st; f++) st = sr_tape_feature(t, f, b->feat[f], err);
  for (int f = 0; f < m->n_feat && !st; f++) st = sr_tape_feature_grad(t, f, b->grad[f], err);
  if (!st) st = sr_tape_backward(t, NULL, NULL, err);
  return st;
}

// The classification batch: forward, softmax CE, backward (the optimizer step is left out everywhere).
static sr_status plain(bench *b, sr_err *err) {
  sr_tape *t;
  sr_status st = sr_model_tape(b->m, b->batch, 0, &t, err);
  if (!st) st = sr_tape_forward(t, b->x64, 1, b->logits, err);
  if (st) return st;
  sr_softmax_ce(b->dl, b->logits, b->y, b->batch, b->m->cfg.classes, NULL);
  return sr_tape_backward(t, b->dl, NULL, err);
}

typedef sr_status (*step_fn)(bench *b, sr_err *err);

static int time_reps(step_fn fn, bench *b, int reps, double *wall, double *cpu) {
  sr_err err = {0};
  double w0 = sr_now(), c0 = cpu_now();
  for (int r = 0; r < reps; r++)
    if (fn(b, &err)) {
      fprintf(stderr, "bench_regstep: %s\n", err.msg);
      return 1;
    }
  *wall = (sr_now() - w0) / reps;
  *cpu = (cpu_now() - c0) / reps;
  return 0;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double minimum(const double *v, int n) {
  double m = v[0];
  for (int i = 1; i < n; i++) m = v[i] < m ? v[i] : m;
  return m;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s MODEL WIDTH SIZE BATCH K [ROUNDS] [REPS]\n", argv[0]);
    return 2;
  }
  int size = atoi(argv[3]), batch = atoi(argv[4]), k = atoi(argv[5]);
  int rounds = argc > 6 ? atoi(argv[6]) : 7, reps = argc > 7 ? atoi(argv[7]) : 3;
  if (size < 8 || batch < 2 || k < 2 || rounds < 1 || reps < 1 || rounds > 99) {
    fprintf(stderr, "bench_regstep: bad arguments\n");
    return 2;
  }
  sr_model_config cfg = {.in_c = 1, .in_h = size, .in_w = size, .classes = 10, .width = atof(argv[2])};
  snprintf(cfg.arch, sizeof cfg.arch, "%s", argv[1]);
  sr_model m;
  sr_rng rng;
  sr_rng_seed(&rng, 1, 0);
  sr_err err = {0};
  if (sr_model_create(&m, &cfg, &rng, &err)) {
    fprintf(stderr, "bench_regstep: %s\n", err.msg);
    return 1;
  }
  int64_t in = (int64_t)size * size;
  bench b = {.m = &m, .k = k, .batch = batch};
  b.x2 = malloc(sizeof(float) * (size_t)(2 * k * in));
  b.x64 = malloc(sizeof(float) * (size_t)(batch * in));
  b.logits = malloc(sizeof(float) * (size_t)batch * 10);
  b.dl = malloc(sizeof(float) * (size_t)batch * 10);
  b.y = malloc(sizeof(int32_t) * (size_t)batch);
  for (int64_t i = 0; i < 2 * k * in; i++) b.x2[i] = (float)sr_rng_normal(&rng);
  for (int64_t i = 0; i < batch * in; i++) b.x64[i] = (float)sr_rng_normal(&rng);
  for (int i = 0; i < batch; i++) b.y[i] = i % 10;
  for (int f = 0; f < m.n_feat; f++) {
    int64_t n = 2 * k * sr_model_feature_size(&m, f);
    b.feat[f] = malloc(sizeof(float) * (size_t)n);
    b.grad[f] = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++) b.grad[f][i] = (float)(1e-3 * sr_rng_normal(&rng));
  }
  step_fn fns[3] = {pairs_two, pairs_ghost, plain};
  const char *names[3] = {"pairs_two_tapes", "pairs_ghost", "plain"};
  double wall[3][99], cpu[3][99], w, c;
  for (int i = 0; i < 3; i++)  // warm-up: build every tape, first-touch every buffer
    if (time_reps(fns[i], &b, 1, &w, &c)) return 1;
  for (int r = 0; r < rounds; r++) {
    for (int q = 0; q < 3; q++) {
      int i = r % 2 ? 2 - q : q;  // the order flips every round
      if (time_reps(fns[i], &b, reps, &wall[i][r], &cpu[i][r])) return 1;
    }
    printf("# round %d: two tapes %.4f s (cpu %.4f), ghost %.4f s (cpu %.4f), plain %.4f s (cpu %.4f)\n",
           r + 1, wall[0][r], cpu[0][r], wall[1][r], cpu[1][r], wall[2][r], cpu[2][r]);
  }
  printf("{\"model\":\"%s\",\"width\":%g,\"size\":%d,\"batch\":%d,\"k\":%d,\"rounds\":%d,\"reps\":%d",
         argv[1], cfg.width, size, batch, k, rounds, reps);
  for (int i = 0; i < 3; i++) {
    printf(",\"%s_min_s\":%.5f,\"%s_min_cpu_s\":%.5f", names[i], minimum(wall[i], rounds), names[i],
           minimum(cpu[i], rounds));
    printf(",\"%s_s\":%.5f,\"%s_cpu_s\":%.5f", names[i], median(wall[i], rounds), names[i],
           median(cpu[i], rounds));
  }
  printf("}\n");
  for (int f = 0; f < m.n_feat; f++) {
    free(b.feat[f]);
    free(b.grad[f]);
  }
  free(b.x2), free(b.x64), free(b.logits), free(b.dl), free(b.y);
  sr_model_free(&m);
  return 0;
}
