// simreg train: the paper's training recipe (see docs/TRAINING.md).
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "simreg/train.h"

// The one piece of global state: set by SIGINT/SIGTERM, read by the training loop at step boundaries.
static volatile int stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

// Under mpirun every rank runs this; a rank that fails ends the whole job (sr_dist_abort), since the
// others would wait for it in the next collective.
static int run_training(sr_train_config *c) {
  c->direct_conv = !sr_cli_winograd();
  sr_err err = {0};
  if (sr_dist_init(&c->dist, &err)) return sr_cli_fail("train", &err);
  int rc = 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  c->stop = &stop_signal;
  sr_status st = sr_train(c, &err);
  int rank = sr_dist_rank(c->dist), size = sr_dist_size(c->dist);
  if (st == SR_ERR_INTERRUPTED) {
    if (rank == 0) fprintf(stderr, "simreg train: %s\n", err.msg);
    rc = 128 + (stop_signal ? stop_signal : SIGTERM);
  } else if (st) {
    rc = sr_cli_fail("train", &err);
    if (size > 1) fprintf(stderr, "simreg train: rank %d of %d failed; stopping every rank\n", rank, size);
    sr_dist_abort(c->dist, rc);
  } else if (!c->quiet && rank == 0) {
    fprintf(stderr, "run written to %s\n", c->out);
  }
  sr_dist_finalize(c->dist);
  c->dist = NULL;
  return rc;
}

// --resume RUN: every setting comes from RUN/config.json; only a few may change.
static int resume(const char *run, const sr_opt *opts, sr_train_config *c, int epochs, int threads, int quiet, int json,
                  sr_precision precision) {
  static const char *allowed[] = {"resume", "epochs", "threads", "quiet", "json", "bucket-mb", "precision"};
  for (const sr_opt *o = opts; o->name; o++) {
    int ok = 0;
    for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++) ok |= !strcmp(o->name, allowed[k]);
    if (o->seen && !ok) {
      fprintf(stderr, "simreg train: --%s cannot be combined with --resume (settings come from %s/config.json)\n",
              o->name, run);
      return SR_EXIT_USAGE;
    }
  }
  sr_err err = {0};
  if (sr_train_config_load(run, c, &err)) return sr_cli_fail("train", &err);
  if (sr_cli_seen(opts, "epochs")) c->epochs = epochs, c->sched.total_epochs = epochs;
  c->threads = threads, c->quiet = quiet, c->json = json, c->resume = 1;
  if (sr_cli_seen(opts, "precision")) c->precision = precision;  // master weights are f32 either way
  return run_training(c);
}

int sr_cmd_train(int argc, char **argv) {
  sr_train_config c = sr_train_config_default();
  const char *arch = "cnn-small", *data = "fashion-mnist", *out = "runs/train", *sched = "cyclic", *resume_run = NULL, *precision = "f32";
  const char *reg = "none", *reg_layers = "", *reg_data = "", *reg_target = "", *reg_indices = "", *reg_loss = "log";
  int color = 0, no_crop = 0, no_flip = 0, no_test = 0;
  int64_t seed = 0;
  sr_opt opts[] = {
      {"model", SR_OPT_STRING, &arch, "resnet18 | resnet34 | cnn-small | mlp (default cnn-small)", 0, 0, 0},
      {"width", SR_OPT_DOUBLE, &c.width, "channel multiplier for resnets (default 1)", 0.01, 16, 0},
      {"data", SR_OPT_STRING, &data, "dataset spec (default fashion-mnist; cifar10:DIR, folder:DIR, ...)", 0, 0, 0},
      {"epochs", SR_OPT_INT, &c.epochs, "epochs (default 20)", 0, 0, 0},
      {"batch", SR_OPT_INT, &c.batch, "batch size (default 64)", 0, 0, 0},
      {"lr", SR_OPT_DOUBLE, &c.lr, "initial learning rate (default 0.1 for resnets, 0.02 for cnn-small/mlp)", 0, 0, 0},
      {"lr-schedule", SR_OPT_STRING, &sched, "constant | step | cosine | cyclic (default cyclic, the paper's)", 0, 0, 0},
      {"momentum", SR_OPT_DOUBLE, &c.momentum, "SGD momentum (default 0.9)", 0, 1, 0},
      {"weight-decay", SR_OPT_DOUBLE, &c.weight_decay, "weight decay (default 0)", 0, 1, 0},
      {"nesterov", SR_OPT_FLAG, &c.nesterov, "Nesterov momentum", 0, 0, 0},
      {"val-fraction", SR_OPT_DOUBLE, &c.val_fraction, "held-out validation fraction (default 0.01)", 0, 0.5, 0},
      {"seed", SR_OPT_I64, &seed, "random seed (default 0)", 0, 9.007199254740992e15, 0},
      {"color", SR_OPT_FLAG, &color, "keep RGB (default: gray = channel mean)", 0, 0, 0},
      {"no-crop", SR_OPT_FLAG, &no_crop, "disable random crop with reflect padding 4", 0, 0, 0},
      {"no-flip", SR_OPT_FLAG, &no_flip, "disable horizontal flips", 0, 0, 0},
      {"input-mean", SR_OPT_DOUBLE, &c.mean, "x' = (x - mean) * scale, x in [0,1] (default 0.5)", 0, 0, 0},
      {"input-scale", SR_OPT_DOUBLE, &c.scale, "(default 5)", 0, 0, 0},
      {"limit", SR_OPT_I64, &c.limit, "use only the first N training images (quick runs)", 0, 1e12, 0},
      {"no-test", SR_OPT_FLAG, &no_test, "skip the per-epoch test-set evaluation", 0, 0, 0},
      {"threads", SR_OPT_INT, &c.threads, "OpenMP threads (default: all cores)", 0, 1024, 0},
      {"out", SR_OPT_STRING, &out, "run directory (default runs/train)", 0, 0, 0},
      {"reg", SR_OPT_STRING, &reg, "similarity regularizer: none | threshold | pixel | low | high | positive | negative | file", 0, 0, 0},
      {"alpha", SR_OPT_DOUBLE, &c.alpha, "regularization strength (default 10)", 0, 1e6, 0},
      {"th", SR_OPT_DOUBLE, &c.th, "similarity threshold Th (default 0.8)", 0, 0.999999, 0},
      {"reg-n", SR_OPT_I64, &c.reg_n, "regularization images (default 5000)", 2, 1e8, 0},
      {"reg-pairs", SR_OPT_INT, &c.reg_pairs, "pairs per step k (default 16)", 2, 512, 0},
      {"reg-layers", SR_OPT_STRING, &reg_layers, "comma-separated feature layers (default: all; see simreg info)", 0, 0, 0},
      {"reg-data", SR_OPT_STRING, &reg_data, "take regularization images from this dataset (resized)", 0, 0, 0},
      {"reg-target", SR_OPT_STRING, &reg_target, "--reg file: the N x N target .npy", 0, 0, 0},
      {"reg-indices", SR_OPT_STRING, &reg_indices, "--reg file: the N image indices (.npy or text)", 0, 0, 0},
      {"reg-loss", SR_OPT_STRING, &reg_loss, "log (g(x) transform, default) | mse", 0, 0, 0},
      {"sync-bn", SR_OPT_FLAG, &c.sync_bn, "under mpirun: BatchNorm statistics over the whole batch (default: per rank)", 0, 0, 0},
      {"bucket-mb", SR_OPT_DOUBLE, &c.bucket_mb, "under mpirun: gradient allreduce bucket size in MiB (default 1)", 0.01, 1024, 0},
      {"checkpoint-every", SR_OPT_INT, &c.checkpoint_every, "checkpoint every N steps too (default 200)", 0, 1e9, 0},
      {"resume", SR_OPT_STRING, &resume_run, "continue RUN from its checkpoint (same seed and threads: identical result)", 0, 0, 0},
      {"precision", SR_OPT_STRING, &precision, "f32 (default) or bf16 mixed precision (bf16 rounding; f32 speed on this engine)", 0, 0, 0},
      {"quiet", SR_OPT_FLAG, &c.quiet, "no progress output", 0, 0, 0},
      {"json", SR_OPT_FLAG, &c.json, "print the final epoch's metrics as JSON on stdout", 0, 0, 0},
      {0},
  };
  int npos;
  c.checkpoint_every = 200;
  int rc = sr_cli_parse("train", "[options]", opts, argc, argv, 2, NULL, 0, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  sr_err err = {0};
  if (sr_precision_parse(precision, &c.precision, &err)) return sr_cli_fail("train", &err);
  if (resume_run) return resume(resume_run, opts, &c, c.epochs, c.threads, c.quiet, c.json, c.precision);
  if (c.epochs < 0) {
    fprintf(stderr, "simreg train: --epochs must be >= 0 (got %d)\n", c.epochs);
    return SR_EXIT_USAGE;
  }
  if (c.batch < 2) {
    fprintf(stderr, "simreg train: --batch must be >= 2 (got %d)\n", c.batch);
    return SR_EXIT_USAGE;
  }
  if (sr_lr_parse(sched, &c.sched, &err)) return sr_cli_fail("train", &err);
  // The paper's 0.1 is for its ResNets; cnn-small (no BN before a 3136-wide classifier) and the MLP
  // diverge at 0.1 in PyTorch as well, so they default lower.
  if (!sr_cli_seen(opts, "lr") && (!strcmp(arch, "cnn-small") || !strcmp(arch, "mlp"))) c.lr = 0.02;
  snprintf(c.arch, sizeof c.arch, "%s", arch);
  snprintf(c.data, sizeof c.data, "%s", data);
  snprintf(c.out, sizeof c.out, "%s", out);
  if (strcmp(reg_loss, "log") && strcmp(reg_loss, "mse")) {
    fprintf(stderr, "simreg train: --reg-loss must be log or mse, not '%s'\n", reg_loss);
    return SR_EXIT_USAGE;
  }
  c.reg_mse = !strcmp(reg_loss, "mse");
  snprintf(c.reg, sizeof c.reg, "%s", reg);
  snprintf(c.reg_layers, sizeof c.reg_layers, "%s", reg_layers);
  snprintf(c.reg_data, sizeof c.reg_data, "%s", reg_data);
  snprintf(c.reg_target, sizeof c.reg_target, "%s", reg_target);
  snprintf(c.reg_indices, sizeof c.reg_indices, "%s", reg_indices);
  c.gray = !color, c.crop_pad = no_crop ? 0 : 4, c.flip = !no_flip, c.augment = !(no_crop && no_flip);
  c.eval_test = !no_test;
  c.seed = (uint64_t)seed;
  c.sched.lr0 = c.lr;
  c.sched.total_epochs = c.epochs;
  return run_training(&c);
}
