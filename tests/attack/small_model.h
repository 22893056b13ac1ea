// The attack tests' target: cnn-small trained 2 epochs on 2000 Fashion-MNIST images (1 thread, no
// augmentation, constant lr 0.05) into `dir`, reopened from its run directory with its test split.
#ifndef SR_TEST_ATTACK_SMALL_MODEL_H
#define SR_TEST_ATTACK_SMALL_MODEL_H

#include "simreg/data.h"
#include "simreg/train.h"
#include "sr_test.h"

static void small_model(const char *dir, sr_model *m, sr_run_info *info, sr_dataset *ds, sr_err *err) {
  sr_train_config cfg = sr_train_config_default();
  cfg.optim.epochs = 2;
  cfg.data.limit = 2000;
  cfg.data.eval_test = 0;
  cfg.run.threads = 1;
  cfg.data.augment = 0;
  cfg.optim.lr = 0.05,
  cfg.optim.sched = (sr_lr_schedule){.kind = SR_LR_CONSTANT, .lr0 = 0.05, .total_epochs = 2};
  snprintf(cfg.run.out, sizeof cfg.run.out, "%s", dir);
  double t0 = sr_now();
  CHECK_OK(sr_train(&cfg, err), err);
  printf("trained in %.1f s\n", sr_now() - t0);
  CHECK_OK(sr_run_open(dir, "last", m, info, err), err);
  CHECK_OK(sr_dataset_load(info->data, "test", ds, err), err);
}

// small_model wrapped for attacks: the wrapper (batch), the first n test images in [0,1] and their clean
// predictions. Check sr_test_fail_ after it.
typedef struct small_target {
  sr_model m;
  sr_run_info info;
  sr_dataset ds;
  sr_amodel am;
  float *x;
} small_target;

static inline void small_target_open(const char *dir, int64_t batch, int64_t n, small_target *t,
                                     int32_t *pred, sr_err *err) {
  small_model(dir, &t->m, &t->info, &t->ds, err);
  if (sr_test_fail_) return;
  CHECK_OK(
      sr_amodel_init(
          &t->am, &t->m,
          (sr_pixel_map){.c = t->ds.c, .gray = t->info.gray, .mean = t->info.mean, .scale = t->info.scale},
          batch, err),
      err);
  t->x = sr_alloc((size_t)n * (size_t)t->am.d * sizeof(float));
  for (int64_t i = 0; i < n * t->am.d; i++) t->x[i] = t->ds.images[i] / 255.0f;
  CHECK_OK(sr_amodel_predict(&t->am, t->x, n, pred, NULL, err), err);
}

static inline void small_target_close(small_target *t) {
  sr_free(t->x);
  sr_amodel_free(&t->am);
  sr_dataset_free(&t->ds);
  sr_model_free(&t->m);
}

#endif
