// Numerical faults in training (src/train/finite.c): a non-finite gradient or weight is reported with the
// step and the layer that holds it; a run whose learning rate makes the forward pass overflow (--lr 1e30)
// stops with SR_ERR_NUMERIC at the first bad step, names a layer, and leaves the checkpoint of the last
// good step on disk with finite weights.
#include <math.h>
#include <unistd.h>

#include "simreg/safetensors.h"
#include "simreg/train.h"
#include "sr_test.h"
#include "train/finite.h"

static char dir_[512];

static void write_idx(const char *prefix, int n, int side) {
  size_t ni = 16 + (size_t)n * side * side;
  unsigned char *img = calloc(ni, 1), lab[8 + 256] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
  unsigned char hi[16] = {
      0, 0, 8, 3, 0, 0, 0, (unsigned char)n, 0, 0, 0, (unsigned char)side, 0, 0, 0, (unsigned char)side};
  memcpy(img, hi, 16);
  for (size_t i = 16; i < ni; i++) img[i] = (unsigned char)(i * 37 % 251);
  for (int i = 0; i < n; i++) lab[8 + i] = (unsigned char)(i % 10);
  char p[1200];
  sr_err err = {0};
  snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte", dir_, prefix);
  CHECK_OK(sr_write_file_atomic(p, img, ni, &err), &err);
  snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte", dir_, prefix);
  CHECK_OK(sr_write_file_atomic(p, lab, 8 + (size_t)n, &err), &err);
  free(img);
}

static void direct_checks(void) {
  sr_model m;
  sr_model_config mc = {.in_c = 1, .in_h = 8, .in_w = 8, .classes = 10, .width = 1};
  snprintf(mc.arch, sizeof mc.arch, "mlp");
  sr_rng rng;
  sr_rng_seed(&rng, 1, 1);
  sr_err err = {0};
  CHECK_OK(sr_model_create(&m, &mc, &rng, &err), &err);
  if (err.code) return;
  sr_model_zero_grad(&m);
  CHECK_OK(sr_train_check_finite(&m, 2.3, 0, 5, &err), &err);
  // A NaN in the gradient of fc2.bias (found by name, not offset arithmetic in the test).
  const sr_tensor_info *bias = NULL;
  for (int t = 0; t < m.n_tensors; t++)
    if (!strcmp(m.tensors[t].name, "fc2.bias")) bias = &m.tensors[t];
  CHECK(bias != NULL, "mlp has fc2.bias");
  if (!bias) return;
  m.grads[bias->offset + 7] = NAN;
  sr_status st = sr_train_check_finite(&m, 2.3, 2, 41, &err);
  printf("  NaN gradient: %s\n", err.msg);
  CHECK(st == SR_ERR_NUMERIC && strstr(err.msg, "epoch 3 step 41") &&
            strstr(err.msg, "gradient in layer 'fc2.bias'") && strstr(err.msg, "element 7"),
        "NaN gradient message: %s", err.msg);
  m.grads[bias->offset + 7] = 0;
  m.params[m.n_params - 1] = -INFINITY;  // the last parameter: fc3.bias
  st = sr_train_check_finite(&m, 2.3, 0, 0, &err);
  printf("  Inf weight: %s\n", err.msg);
  CHECK(st == SR_ERR_NUMERIC && strstr(err.msg, "weight after the update in layer 'fc3.bias'"),
        "Inf weight: %s", err.msg);
  st = sr_train_check_finite(&m, NAN, 0, 3, &err);
  CHECK(st == SR_ERR_NUMERIC && strstr(err.msg, "step 3") && strstr(err.msg, "'fc3.bias'"),
        "NaN loss, Inf weight: %s", err.msg);
  m.params[m.n_params - 1] = 0;
  st = sr_train_check_finite(&m, INFINITY, 0, 3, &err);
  CHECK(st == SR_ERR_NUMERIC && strstr(err.msg, "the loss is inf") && strstr(err.msg, "layer '"),
        "Inf loss: %s", err.msg);
  sr_model_free(&m);
}

static void diverging_run(void) {
  sr_train_config c = sr_train_config_default();
  snprintf(c.model.arch, sizeof c.model.arch, "mlp");
  snprintf(c.data.spec, sizeof c.data.spec, "idx:%s", dir_);
  snprintf(c.run.out, sizeof c.run.out, "%s/run", dir_);
  c.optim.epochs = 1;
  c.optim.batch = 8;
  c.run.threads = 1;
  c.data.val_fraction = 0.25;
  c.run.checkpoint_every = 1;
  c.optim.lr = 1e30;
  c.optim.sched.lr0 = 1e30;
  c.optim.sched.total_epochs = 1;
  sr_err err = {0};
  sr_status st = sr_train(&c, &err);
  printf("  --lr 1e30: %s: %s\n", sr_status_name(st), err.msg);
  CHECK(st == SR_ERR_NUMERIC && strstr(err.msg, "diverged at epoch 1 step 1") && strstr(err.msg, "layer '"),
        "lr 1e30 must stop at step 1 naming a layer: %s", err.msg);
  // The checkpoint is the one written after step 0 (the last good one): readable, finite weights.
  char p[1200];
  snprintf(p, sizeof p, "%s/run/checkpoint.safetensors", dir_);
  sr_st_file f;
  memset(&err, 0, sizeof err);
  CHECK_OK(sr_st_read(p, &f, &err), &err);
  if (err.code) return;
  CHECK(sr_st_meta(&f, "step") && !strcmp(sr_st_meta(&f, "step"), "1"), "checkpoint step %s",
        sr_st_meta(&f, "step"));
  int64_t bad = 0, n = 0;
  for (int i = 0; i < f.n; i++)
    if (f.tensors[i].dtype == SR_F32)
      for (int64_t k = 0; k < f.tensors[i].count; k++, n++)
        bad += !isfinite(((const float *)f.tensors[i].data)[k]);
  CHECK(n > 0 && bad == 0, "%lld of %lld checkpoint values non-finite", (long long)bad, (long long)n);
  sr_st_free(&f);
  snprintf(p, sizeof p, "%s/run/last.safetensors", dir_);
  CHECK(access(p, F_OK) != 0, "no last.safetensors may be written by a diverged epoch");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  snprintf(dir_, sizeof dir_, "%s/finite_XXXXXX", getenv("SR_BUILD_DIR") ? getenv("SR_BUILD_DIR") : "/tmp");
  if (!mkdtemp(dir_)) return 1;
  write_idx("train", 64, 8);
  write_idx("t10k", 8, 8);
  direct_checks();
  diverging_run();
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir_);
  if (system(cmd) != 0) printf("could not remove %s\n", dir_);
  return sr_test_done();
}
