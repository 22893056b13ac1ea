// The robustness protocol's library API (simreg/robustness.h) on a cnn-small trained here: the clean numbers
// agree with the wrapper's own predictions, a noise sweep at level 0 is the clean accuracy, the per-image
// strings have one character per image, Boundary's perturbation file holds exactly the confirmed
// adversarials, progress ends at its total, and a missing run is an error that names it.
#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simreg/npy.h"
#include "simreg/robustness.h"
#include "small_model.h"
#include "sr_test.h"

typedef struct seen {
  int starts, ends, updates;
  double last_done;
  int64_t last_total;
} seen;

static void on_progress(void *ctx, const sr_rob_progress *p) {
  seen *s = ctx;
  s->starts += p->phase == SR_ROB_START;
  s->updates += p->phase == SR_ROB_UPDATE;
  s->ends += p->phase == SR_ROB_END;
  s->last_done = p->done;
  s->last_total = p->total;
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void test_clean_and_noise(const sr_rob_opts *o, sr_rob_run *r, const cJSON *out) {
  sr_err err = {0};
  int64_t ok = 0;
  for (int64_t i = 0; i < r->n; i++) ok += r->pred[i] == r->y[i];
  CHECK(num(out, "clean_accuracy") == (double)ok / (double)r->n, "clean accuracy %g vs %lld/%lld",
        num(out, "clean_accuracy"), (long long)ok, (long long)r->n);
  const cJSON *cc = cJSON_GetObjectItemCaseSensitive(out, "clean_correct");
  CHECK(cJSON_IsString(cc) && (int64_t)strlen(cc->valuestring) == r->n,
        "clean_correct: one character per image");
  double lv[2] = {0, 0.3};
  cJSON *patch = cJSON_CreateObject();
  CHECK_OK(sr_rob_noise(o, r, lv, 2, patch, &err), &err);
  const cJSON *g =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(patch, "noise"), "gaussian");
  const cJSON *acc = cJSON_GetObjectItemCaseSensitive(g, "accuracy");
  CHECK(cJSON_GetArraySize(acc) == 2, "two levels");
  CHECK(cJSON_GetArrayItem(acc, 0)->valuedouble == (double)ok / (double)r->n,
        "noise level 0 is the clean accuracy");
  const cJSON *bits = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(g, "correct"), 1);
  int64_t ones = 0;
  for (const char *c = bits ? bits->valuestring : ""; *c; c++) ones += *c == '1';
  CHECK(fabs((double)ones / (double)r->n - cJSON_GetArrayItem(acc, 1)->valuedouble) < 1e-12,
        "the per-image string agrees with the accuracy at 0.3");
  cJSON_Delete(patch);
}

static void test_boundary(sr_rob_opts o, sr_rob_run *r, seen *s) {
  sr_err err = {0};
  o.attack = "boundary";
  o.steps = 30;
  int64_t ok = 0;  // every correctly classified loaded image is attacked
  for (int64_t i = 0; i < r->n; i++) ok += r->pred[i] == r->y[i];
  cJSON *patch = cJSON_CreateObject();
  *s = (seen){0};
  CHECK_OK(sr_rob_minpert(&o, r, patch, &err), &err);
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(patch, "boundary");
  int nf = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "norms_sq_per_dim"));
  CHECK(num(b, "attacked") == (double)ok, "attacked %g, correctly classified %lld", num(b, "attacked"),
        (long long)ok);
  CHECK(nf >= 1 && nf <= ok, "%d adversarials of %lld images", nf, (long long)ok);
  char path[4096];
  snprintf(path, sizeof path, "%s/boundary_delta.npy", r->dir);
  sr_npy a = {0};
  CHECK_OK(sr_npy_read(path, &a, &err), &err);
  CHECK(a.ndim == 4 && a.shape[0] == nf, "the .npy holds the %d confirmed perturbations", nf);
  sr_npy_free(&a);
  CHECK(s->starts == 1 && s->ends == 1 && s->last_done == (double)s->last_total && s->updates > 0,
        "progress: %d start, %d updates, %d end at %g of %lld", s->starts, s->updates, s->ends, s->last_done,
        (long long)s->last_total);
  cJSON_Delete(patch);
}

int main(void) {
  sr_err err = {0};
  omp_set_num_threads(1);
  char dir[] = "/tmp/sr_rob_XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "temp dir");
  sr_model m;
  sr_run_info info;
  sr_dataset ds;
  small_model(dir, &m, &info, &ds, &err);
  sr_dataset_free(&ds);
  sr_model_free(&m);
  if (sr_test_fail_) return sr_test_done();
  seen s = {0};
  sr_rob_opts o = sr_rob_opts_default();
  o.images = 200;
  o.batch = 64;
  o.winograd = 0;
  o.which = "last";
  o.noise = "gaussian";
  o.seed = 3;
  o.on_progress = on_progress;
  o.progress_ctx = &s;
  sr_rob_run r;
  cJSON *out = cJSON_CreateObject();
  CHECK_OK(sr_rob_open(dir, &o, &r, out, &err), &err);
  if (!sr_test_fail_) {
    test_clean_and_noise(&o, &r, out);
    test_boundary(o, &r, &s);
  }
  sr_rob_close(&r);
  cJSON_Delete(out);
  out = cJSON_CreateObject();
  sr_status st = sr_rob_open("/nonexistent/run", &o, &r, out, &err);
  CHECK(st != SR_OK && strstr(err.msg, "/nonexistent/run"), "a missing run fails naming it: %s", err.msg);
  sr_rob_close(&r);
  cJSON_Delete(out);
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0, "cleanup");
  return sr_test_done();
}
