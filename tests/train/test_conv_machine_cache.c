// The machine-wide convolution choice cache (src/train/convcache.c): a save/load round trip, loading never
// replaces a key the model has, merging never replaces a key the file has, merges of disjoint keys (one
// after the other and from concurrent processes) keep every key, a corrupt file is SR_ERR_FORMAT naming
// it and is left as it was, a run records only the cache entries its executors took, and a run's
// config.json wins over its conv_algo.json.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "simreg/train.h"
#include "sr_test.h"

static void make_model(sr_model *m) {
  sr_model_config cfg = {.arch = "cnn-small", .in_c = 1, .in_h = 28, .in_w = 28, .classes = 10, .width = 1};
  sr_rng rng;
  sr_rng_seed(&rng, 1, 0);
  sr_err err = {0};
  CHECK_OK(sr_model_create(m, &cfg, &rng, &err), &err);
}

static sr_conv_choice choice(const char *key, sr_conv_algo algo, double ms) {
  sr_conv_choice c = {.algo = algo, .ms = {-1, -1, -1}};
  snprintf(c.key, sizeof c.key, "%s", key);
  c.ms[algo] = ms;
  return c;
}

// The algorithm m has for key, -1 if none; *src its source.
static int algo_of(const sr_model *m, const char *key, sr_conv_source *src) {
  const sr_conv_choice *c;
  int n = sr_model_conv_choices(m, &c);
  for (int i = 0; i < n; i++)
    if (!strcmp(c[i].key, key)) {
      if (src) *src = c[i].source;
      return (int)c[i].algo;
    }
  return -1;
}

// A fresh model with the file's choices; returns how many.
static int load_count(const char *path, sr_model *m) {
  sr_err err = {0};
  make_model(m);
  CHECK_OK(sr_conv_cache_load(path, m, &err), &err);
  const sr_conv_choice *c;
  return sr_model_conv_choices(m, &c);
}

static void write_text(const char *path, const char *s) {
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(s, f);
    fclose(f);
  }
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = calloc(1, 1 << 20);
  if (buf && fread(buf, 1, (1 << 20) - 1, f) == 0) buf[0] = 0;
  fclose(f);
  return buf;
}

static void test_round_trip(const char *dir) {
  char path[256];
  snprintf(path, sizeof path, "%s/rt.json", dir);
  sr_model a, b;
  sr_err err = {0};
  make_model(&a);
  CHECK_OK(sr_model_set_conv_algo(&a, "measure", &err), &err);
  float x[4 * 28 * 28] = {0}, y[4 * 10];
  CHECK_OK(sr_model_infer(&a, x, 4, y, &err), &err);  // times its convolutions
  const sr_conv_choice *ca, *cb;
  int na = sr_model_conv_choices(&a, &ca), added = -1;
  CHECK(na >= 1 && ca[0].source == SR_CONV_SRC_MEASURED, "measured %d choices", na);
  CHECK(load_count(path, &b) == 0, "a missing cache file adds nothing");
  sr_model_free(&b);
  CHECK_OK(sr_conv_cache_merge(path, &a, &added, &err), &err);
  CHECK(added == na, "merged %d of %d choices into a new file", added, na);
  CHECK(access(path, F_OK) == 0, "the cache file exists");
  CHECK_OK(sr_conv_cache_merge(path, &a, &added, &err), &err);
  CHECK(added == 0, "merging the same choices again adds %d", added);
  load_count(path, &b);
  int nb = sr_model_conv_choices(&b, &cb);
  CHECK(nb == na, "read back %d of %d", nb, na);
  for (int i = 0; i < na && i < nb; i++) {
    CHECK(!strcmp(ca[i].key, cb[i].key) && ca[i].algo == cb[i].algo && cb[i].source == SR_CONV_SRC_CACHE,
          "choice %d: %s %d source %d", i, cb[i].key, cb[i].algo, cb[i].source);
    for (int k = 0; k < SR_CONV_ALGOS; k++)
      CHECK(ca[i].ms[k] == cb[i].ms[k], "choice %d time %d: %g vs %g", i, k, ca[i].ms[k], cb[i].ms[k]);
  }
  // b took its convolutions' choices from the cache: nothing timed, the same algorithms
  CHECK_OK(sr_model_set_conv_algo(&b, "measure", &err), &err);
  CHECK_OK(sr_model_infer(&b, x, 4, y, &err), &err);
  CHECK(sr_model_conv_choices(&b, &cb) == na, "a plan over cached keys measured nothing new");
  sr_infer *p;
  CHECK_OK(sr_infer_create(&b, 4, &p, &err), &err);
  sr_conv_choice got;
  for (int i = 1; i < b.n_nodes; i++)
    if (sr_infer_conv_choice(p, i, &got) >= 0)
      CHECK(got.source == SR_CONV_SRC_CACHE, "node %d's choice comes from the cache (%s)", i,
            sr_conv_source_name(got.source));
  sr_infer_free(p);
  CHECK_OK(sr_conv_cache_merge(path, &b, &added, &err), &err);
  CHECK(added == 0, "cache entries are not merged back (%d)", added);
  sr_model_free(&a);
  sr_model_free(&b);
}

static void test_never_overwrite(const char *dir) {
  char path[256];
  snprintf(path, sizeof path, "%s/keep.json", dir);
  sr_model a, b;
  sr_err err = {0};
  make_model(&a);
  make_model(&b);
  sr_conv_choice first = choice("plan k-shared", SR_CONV_WINOGRAD, 1.0);
  sr_conv_choice other = choice("plan k-shared", SR_CONV_DNNL_WINOGRAD, 0.5);
  CHECK_OK(sr_model_add_conv_choices(&a, &first, 1, &err), &err);
  int added = -1;
  CHECK_OK(sr_conv_cache_merge(path, &a, &added, &err), &err);
  CHECK(added == 1, "the first merge adds the key (%d)", added);
  // load: the model's own entry stays
  CHECK_OK(sr_model_add_conv_choices(&b, &other, 1, &err), &err);
  CHECK_OK(sr_conv_cache_load(path, &b, &err), &err);
  sr_conv_source src;
  CHECK(algo_of(&b, "plan k-shared", &src) == SR_CONV_DNNL_WINOGRAD && src == SR_CONV_SRC_GIVEN,
        "load kept the model's own choice (%d)", algo_of(&b, "plan k-shared", NULL));
  // merge: the file's entry stays (the first measurement on a machine wins)
  CHECK_OK(sr_conv_cache_merge(path, &b, &added, &err), &err);
  CHECK(added == 0, "a key the file has is not added again (%d)", added);
  sr_model c;
  CHECK(load_count(path, &c) == 1 && algo_of(&c, "plan k-shared", NULL) == SR_CONV_WINOGRAD,
        "the file kept its first choice");
  sr_model_free(&a);
  sr_model_free(&b);
  sr_model_free(&c);
}

// Model with n choices "prefix i".
static void keyed_model(sr_model *m, const char *prefix, int n) {
  sr_err err = {0};
  make_model(m);
  for (int i = 0; i < n; i++) {
    char key[64];
    snprintf(key, sizeof key, "%s %d", prefix, i);
    sr_conv_choice c = choice(key, (sr_conv_algo)(i % SR_CONV_ALGOS), 0.25 * i);
    CHECK_OK(sr_model_add_conv_choices(m, &c, 1, &err), &err);
  }
}

static void test_disjoint(const char *dir) {
  char path[256];
  snprintf(path, sizeof path, "%s/disjoint.json", dir);
  sr_model a, b, c;
  sr_err err = {0};
  keyed_model(&a, "train a", 5);
  keyed_model(&b, "train b", 7);
  CHECK_OK(sr_conv_cache_merge(path, &a, NULL, &err), &err);
  CHECK_OK(sr_conv_cache_merge(path, &b, NULL, &err), &err);
  CHECK(load_count(path, &c) == 12 && algo_of(&c, "train a 4", NULL) == 4 % SR_CONV_ALGOS &&
            algo_of(&c, "train b 6", NULL) == 6 % SR_CONV_ALGOS,
        "both models' keys are in the file");
  sr_model_free(&a);
  sr_model_free(&b);
  sr_model_free(&c);
}

// Concurrent merges (processes, as concurrent commands): the lock keeps every writer's keys.
static void test_concurrent(const char *dir) {
  enum { WRITERS = 6, KEYS = 25, ROUNDS = 4 };
  char path[256];
  snprintf(path, sizeof path, "%s/concurrent.json", dir);
  pid_t pid[WRITERS];
  for (int w = 0; w < WRITERS; w++) {
    pid[w] = fork();
    if (pid[w] == 0) {
      int bad = 0;
      for (int r = 0; r < ROUNDS; r++) {  // several merges each: the writers interleave
        char prefix[32];
        snprintf(prefix, sizeof prefix, "plan w%d r%d", w, r);
        sr_model m;
        keyed_model(&m, prefix, KEYS);
        sr_err err = {0};
        bad |= sr_conv_cache_merge(path, &m, NULL, &err) != SR_OK;
        sr_model_free(&m);
      }
      _exit(bad || sr_test_fail_);
    }
  }
  int ok = 1;
  for (int w = 0; w < WRITERS; w++) {
    int status = 0;
    ok &= pid[w] > 0 && waitpid(pid[w], &status, 0) == pid[w] && WIFEXITED(status) && !WEXITSTATUS(status);
  }
  CHECK(ok, "every writer merged without an error");
  sr_model m;
  int n = load_count(path, &m);
  CHECK(n == WRITERS * KEYS * ROUNDS, "%d writers x %d rounds x %d keys: %d in the file", WRITERS, ROUNDS,
        KEYS, n);
  sr_model_free(&m);
}

static void test_corrupt(const char *dir) {
  char path[256];
  snprintf(path, sizeof path, "%s/corrupt.json", dir);
  const char *bad[] = {"{\"choices\": [{\"key\": \"k\", \"alg", "[1, 2]", "{\"choices\": 3}",
                       "{\"choices\": [{\"key\": \"k\", \"algo\": \"fft\"}]}"};
  sr_model m;
  keyed_model(&m, "plan c", 2);
  for (int k = 0; k < 4; k++) {
    write_text(path, bad[k]);
    sr_err e1 = {0}, e2 = {0};
    CHECK(sr_conv_cache_load(path, &m, &e1) == SR_ERR_FORMAT && strstr(e1.msg, path) &&
              strstr(e1.msg, "delete"),
          "corrupt cache %d: load is SR_ERR_FORMAT naming the file: %s", k, e1.msg);
    CHECK(sr_conv_cache_merge(path, &m, NULL, &e2) == SR_ERR_FORMAT && strstr(e2.msg, path),
          "corrupt cache %d: merge is SR_ERR_FORMAT naming the file: %s", k, e2.msg);
    char *txt = read_text(path);
    CHECK(txt && !strcmp(txt, bad[k]), "corrupt cache %d: merge left the file as it was", k);
    free(txt);
  }
  sr_model_free(&m);
}

// A run records what it measured and the cache entries its plans took, not the rest of the cache; its
// config.json's choice wins over its conv_algo.json's for the same key.
static void test_run_record(const char *dir) {
  char path[256], run[256];
  snprintf(path, sizeof path, "%s/foreign.json", dir);
  snprintf(run, sizeof run, "%s/run", dir);
  sr_model a, b, c;
  sr_err err = {0};
  CHECK_OK(sr_mkdir_p(run, &err), &err);
  keyed_model(&a, "plan elsewhere", 3);  // keys no plan of this model has
  CHECK_OK(sr_conv_cache_merge(path, &a, NULL, &err), &err);
  make_model(&b);
  CHECK_OK(sr_model_set_conv_algo(&b, "measure", &err), &err);
  float x[2 * 28 * 28] = {0}, y[2 * 10];
  CHECK_OK(sr_model_infer(&b, x, 2, y, &err), &err);  // measured: recorded
  CHECK_OK(sr_conv_cache_merge(path, &b, NULL, &err), &err);
  make_model(&c);
  CHECK_OK(sr_model_set_conv_algo(&c, "measure", &err), &err);
  CHECK_OK(sr_conv_cache_load(path, &c, &err), &err);
  CHECK_OK(sr_model_infer(&c, x, 2, y, &err), &err);  // taken from the cache: recorded
  CHECK_OK(sr_run_save_conv_choices(run, &c, &err), &err);
  const sr_conv_choice *cb, *cc;
  int nb = sr_model_conv_choices(&b, &cb);
  sr_model d;
  make_model(&d);
  CHECK_OK(sr_run_load_conv_choices(run, &d, &err), &err);
  int nd = sr_model_conv_choices(&d, &cc);
  CHECK(nd == nb && algo_of(&d, "plan elsewhere 0", NULL) < 0,
        "the run recorded its %d plan choices (%d), not the cache's foreign keys", nb, nd);
  sr_conv_source src = SR_CONV_SRC_CACHE;
  CHECK(nd >= 1 && algo_of(&d, cc[0].key, &src) >= 0 && src == SR_CONV_SRC_RUN, "read as the run's own");
  // precedence inside a run: config.json, then conv_algo.json
  char cfg[512], file[300];
  snprintf(file, sizeof file, "%s/config.json", run);
  snprintf(cfg, sizeof cfg,
           "{\"model\": \"cnn-small\", \"conv_algo\": {\"setting\": \"measure\", \"choices\": "
           "[{\"key\": \"%s\", \"algo\": \"dnnl-winograd\", \"ms\": {}}]}}",
           cc[0].key);
  write_text(file, cfg);
  sr_model e;
  make_model(&e);
  CHECK_OK(sr_run_load_conv_choices(run, &e, &err), &err);
  CHECK(algo_of(&e, cc[0].key, NULL) == SR_CONV_DNNL_WINOGRAD, "config.json's choice wins");
  sr_model_free(&a);
  sr_model_free(&b);
  sr_model_free(&c);
  sr_model_free(&d);
  sr_model_free(&e);
}

int main(void) {
  char dir[] = "/tmp/sr_conv_machine_XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "temp dir");
  test_round_trip(dir);
  test_never_overwrite(dir);
  test_disjoint(dir);
  test_concurrent(dir);
  test_corrupt(dir);
  test_run_record(dir);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (!sr_test_fail_ && system(cmd) != 0) printf("could not remove %s\n", dir);
  return sr_test_done();
}
