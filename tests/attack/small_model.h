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

#endif
