// simreg train: the paper's training recipe (see docs/TRAINING.md).
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "simreg/train.h"

// The one piece of global state: set by SIGINT/SIGTERM, read by the training loop at step boundaries.
static volatile int stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

// What the command prints: progress and per-epoch lines on stderr (unless --quiet), the final epoch's
// metrics as JSON on stdout (--json). The library reports through these callbacks on rank 0 only.
typedef struct printer {
  int quiet, json, tty;
  const char *out;
} printer;

static void print_start(void *ctx, const sr_train_start_info *s) {
  const printer *p = ctx;
  if (p->quiet) return;
  if (s->reg)
    fprintf(stderr,
            "regularizer: %s target, N = %lld, Th = %g, alpha = %g, %d pairs/step, %d layers (%s, %.2f s)\n",
            s->reg_kind, (long long)s->reg_n, s->th, s->alpha, s->pairs, s->layers,
            s->target_cached ? "from cache" : "built", s->target_seconds);
  if (s->resumed)
    fprintf(stderr, "resuming %s at epoch %d, step %lld\n", s->out, s->epoch + 1, (long long)s->step);
}

static void print_step(void *ctx, const sr_train_step_info *s) {
  const printer *p = ctx;
  int final = s->step == s->steps;
  if (p->quiet) return;
  if (p->tty) {
    int w = 24;
    int fill = (int)(w * (double)s->step / (double)(s->steps ? s->steps : 1));
    fprintf(stderr, "\repoch %d/%d [%.*s%*s] %lld/%lld loss %.4f acc %.3f %.0f img/s ETA %.0fs%s",
            s->epoch + 1, s->epochs, fill, "########################", w - fill, "", (long long)s->step,
            (long long)s->steps, s->loss, s->acc, s->img_per_s, s->eta_s, final ? "\n" : "");
  } else if (final || s->step % 200 == 0) {
    fprintf(stderr, "epoch %d/%d step %lld/%lld loss %.4f acc %.3f %.0f img/s ETA %.0fs\n", s->epoch + 1,
            s->epochs, (long long)s->step, (long long)s->steps, s->loss, s->acc, s->img_per_s, s->eta_s);
  }
}

static void print_epoch(void *ctx, const sr_train_epoch_info *e) {
  const printer *p = ctx;
  if (p->quiet) return;
  if (e->reg)
    fprintf(stderr,
            "epoch %d: reg loss %.4f | S^CNN vs target on %d probe pairs: Pearson %.3f Spearman %.3f\n",
            e->epoch + 1, e->reg_loss, e->probes, e->similarity_pearson, e->similarity_spearman);
  char tbuf[32] = "";
  if (!isnan(e->test_acc)) snprintf(tbuf, sizeof tbuf, " | test acc %.4f", e->test_acc);
  fprintf(
      stderr,
      "epoch %d: train loss %.4f acc %.4f | val loss %.4f acc %.4f%s | %.1f s (%.1f%% waiting for data)\n",
      e->epoch + 1, e->train_loss, e->train_acc, e->val_loss, e->val_acc, tbuf, e->seconds,
      100 * e->data_wait_share);
}

// --json: the run's own record of its last epoch (RUN/metrics.jsonl's last line), byte for byte.
static void print_done(void *ctx, const sr_train_epoch_info *last) {
  (void)last;
  const printer *p = ctx;
  if (!p->json) return;
  char path[2048], line[65536], keep[65536] = "{}";
  snprintf(path, sizeof path, "%s/metrics.jsonl", p->out);
  FILE *f = fopen(path, "r");
  while (f && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (line[0]) snprintf(keep, sizeof keep, "%s", line);
  }
  if (f) fclose(f);
  printf("%s\n", keep);
}

static void print_warning(void *ctx, const char *msg) {
  (void)ctx;
  fprintf(stderr, "simreg train: warning: %s\n", msg);
}

// Under mpirun every rank runs this; a rank that fails ends the whole job (sr_dist_abort), since the
// others would wait for it in the next collective.
static int run_training(sr_train_config *c, int quiet, int json) {
  printer pr = {.quiet = quiet, .json = json, .tty = isatty(2), .out = c->run.out};
  c->run.cb = (sr_train_callbacks){.on_start = print_start,
                                   .on_step = print_step,
                                   .on_epoch = print_epoch,
                                   .on_done = print_done,
                                   .on_warning = print_warning,
                                   .ctx = &pr};
  c->model.direct_conv = !sr_cli_winograd();
  const char *algo = sr_cli_conv_algo();
  if (!algo) return SR_EXIT_USAGE;
  snprintf(c->model.conv_algo, sizeof c->model.conv_algo, "%s", algo);
  char cache[4096];
  const char *cp = sr_cli_conv_cache("train", algo, cache, sizeof cache);
  if (cp && strlen(cp) >= sizeof c->run.conv_cache) {
    fprintf(stderr, "simreg train: warning: convolution choice cache off: path too long: %s\n", cp);
    cp = NULL;
  }
  snprintf(c->run.conv_cache, sizeof c->run.conv_cache, "%s", cp ? cp : "");
  sr_err err = {0};
  if (sr_dist_init(&c->run.dist, &err)) return sr_cli_fail("train", &err);
  int rc = 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  c->run.stop = &stop_signal;
  sr_status st = sr_train(c, &err);
  int rank = sr_dist_rank(c->run.dist), size = sr_dist_size(c->run.dist);
  if (st == SR_ERR_INTERRUPTED) {
    if (rank == 0) fprintf(stderr, "simreg train: %s\n", err.msg);
    rc = 128 + (stop_signal ? stop_signal : SIGTERM);
  } else if (st) {
    rc = sr_cli_fail("train", &err);
    if (size > 1) fprintf(stderr, "simreg train: rank %d of %d failed; stopping every rank\n", rank, size);
    sr_dist_abort(c->run.dist, rc);
  } else if (!quiet && rank == 0) {
    fprintf(stderr, "run written to %s\n", c->run.out);
  }
  sr_dist_finalize(c->run.dist);
  c->run.dist = NULL;
  return rc;
}

// The settings --resume may change (epochs and precision only where given on the command line).
typedef struct {
  int epochs, threads;
  sr_precision precision;
} resume_overrides;

// --resume RUN: every setting comes from RUN/config.json; only a few may change.
static int resume(const char *run, const sr_opt *opts, sr_train_config *c, const resume_overrides *ov,
                  int quiet, int json) {
  const int epochs = ov->epochs, threads = ov->threads;
  const sr_precision precision = ov->precision;
  static const char *allowed[] = {"resume", "epochs", "threads", "quiet", "json", "bucket-mb", "precision"};
  for (const sr_opt *o = opts; o->name; o++) {
    int ok = 0;
    for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++) ok |= !strcmp(o->name, allowed[k]);
    if (o->seen && !ok) {
      fprintf(stderr,
              "simreg train: --%s cannot be combined with --resume (settings come from %s/config.json)\n",
              o->name, run);
      return SR_EXIT_USAGE;
    }
  }
  sr_err err = {0};
  if (sr_train_config_load(run, c, &err)) return sr_cli_fail("train", &err);
  if (sr_cli_seen(opts, "epochs")) {
    c->optim.epochs = epochs;
    c->optim.sched.total_epochs = epochs;
  }
  c->run.threads = threads;
  c->run.resume = 1;
  if (sr_cli_seen(opts, "precision")) c->model.precision = precision;  // master weights are f32 either way
  return run_training(c, quiet, json);
}

// --init X: an .onnx file (its weights) or a run directory made by simreg import / train (its graph,
// features, pixel scaling and best weights). Returns 0 or an exit code.
static int init_from(const char *x, const sr_opt *opts, sr_train_config *c) {
  size_t n = strlen(x);
  if (n > 5 && !strcmp(x + n - 5, ".onnx")) {
    snprintf(c->model.arch, sizeof c->model.arch, "onnx:%s", x);
    c->data.mean = sr_cli_seen(opts, "input-mean") ? c->data.mean : 0.0;
    c->data.scale = sr_cli_seen(opts, "input-scale") ? c->data.scale : 1.0;
    c->data.gray = 0;
    if (!sr_cli_seen(opts, "lr")) c->optim.lr = 0.01;
    return 0;
  }
  sr_train_config r = sr_train_config_default();
  sr_err err = {0};
  if (sr_train_config_load(x, &r, &err)) return sr_cli_fail("train", &err);
  snprintf(c->model.arch, sizeof c->model.arch, "%s", r.model.arch);
  snprintf(c->model.features, sizeof c->model.features, "%s", r.model.features);
  c->model.width = r.model.width;
  snprintf(c->model.init, sizeof c->model.init, "%s/best.safetensors", x);
  if (!sr_cli_seen(opts, "input-mean")) c->data.mean = r.data.mean;
  if (!sr_cli_seen(opts, "input-scale")) c->data.scale = r.data.scale;
  c->data.gray = r.data.gray;
  if (!sr_cli_seen(opts, "lr")) c->optim.lr = 0.01;
  return 0;
}

int sr_cmd_train(int argc, char **argv) {
  sr_train_config c = sr_train_config_default();
  const char *arch = "cnn-small", *data = "fashion-mnist", *out = "runs/train", *sched = "cyclic",
             *resume_run = NULL, *precision = "f32";
  const char *init = NULL, *features = NULL;
  const char *reg = "none", *reg_layers = "", *reg_data = "", *reg_target = "", *reg_indices = "",
             *reg_loss = "log";
  int color = 0, no_crop = 0, no_flip = 0, no_test = 0, quiet = 0, json = 0;
  int64_t seed = 0;
  sr_opt opts[] = {
      {"model", SR_OPT_STRING, &arch, "resnet18 | resnet34 | cnn-small | mlp | onnx:PATH (default cnn-small)",
       0, 0, 0},
      {"init", SR_OPT_STRING, &init, "fine-tune: start from an imported run (simreg import) or an .onnx file",
       0, 0, 0},
      {"features", SR_OPT_STRING, &features,
       "ONNX models: feature layers for the regularizer, ONNX tensor names (a,b) or auto", 0, 0, 0},
      {"width", SR_OPT_DOUBLE, &c.model.width, "channel multiplier for resnets (default 1)", 0.01, 16, 0},
      {"data", SR_OPT_STRING, &data, "dataset spec (default fashion-mnist; cifar10:DIR, folder:DIR, ...)", 0,
       0, 0},
      {"epochs", SR_OPT_INT, &c.optim.epochs, "epochs (default 20)", 0, 0, 0},
      {"batch", SR_OPT_INT, &c.optim.batch, "batch size (default 64)", 0, 0, 0},
      {"lr", SR_OPT_DOUBLE, &c.optim.lr,
       "initial learning rate (default 0.1 for resnets, 0.02 for cnn-small/mlp)", 0, 0, 0},
      {"lr-schedule", SR_OPT_STRING, &sched,
       "constant | step | cosine | cyclic (default cyclic, the paper's)", 0, 0, 0},
      {"momentum", SR_OPT_DOUBLE, &c.optim.momentum, "SGD momentum (default 0.9)", 0, 1, 0},
      {"weight-decay", SR_OPT_DOUBLE, &c.optim.weight_decay, "weight decay (default 0)", 0, 1, 0},
      {"nesterov", SR_OPT_FLAG, &c.optim.nesterov, "Nesterov momentum", 0, 0, 0},
      {"val-fraction", SR_OPT_DOUBLE, &c.data.val_fraction, "held-out validation fraction (default 0.01)", 0,
       0.5, 0},
      {"seed", SR_OPT_I64, &seed, "random seed (default 0)", 0, 9.007199254740992e15, 0},
      {"color", SR_OPT_FLAG, &color, "keep RGB (default: gray = channel mean)", 0, 0, 0},
      {"no-crop", SR_OPT_FLAG, &no_crop, "disable random crop with reflect padding 4", 0, 0, 0},
      {"no-flip", SR_OPT_FLAG, &no_flip, "disable horizontal flips", 0, 0, 0},
      {"input-mean", SR_OPT_DOUBLE, &c.data.mean, "x' = (x - mean) * scale, x in [0,1] (default 0.5)", 0, 0,
       0},
      {"input-scale", SR_OPT_DOUBLE, &c.data.scale, "(default 5)", 0, 0, 0},
      {"limit", SR_OPT_I64, &c.data.limit, "use only the first N training images (quick runs)", 0, 1e12, 0},
      {"no-test", SR_OPT_FLAG, &no_test, "skip the per-epoch test-set evaluation", 0, 0, 0},
      {"threads", SR_OPT_INT, &c.run.threads, "OpenMP threads (default: all cores)", 0, 1024, 0},
      {"out", SR_OPT_STRING, &out, "run directory (default runs/train)", 0, 0, 0},
      {"reg", SR_OPT_STRING, &reg,
       "similarity regularizer: none | threshold | pixel | low | high | positive | negative | file", 0, 0, 0},
      {"alpha", SR_OPT_DOUBLE, &c.reg.alpha, "regularization strength (default 10)", 0, 1e6, 0},
      {"th", SR_OPT_DOUBLE, &c.reg.th, "similarity threshold Th (default 0.8)", 0, 0.999999, 0},
      {"reg-n", SR_OPT_I64, &c.reg.n, "regularization images (default 5000)", 2, 1e8, 0},
      {"reg-pairs", SR_OPT_INT, &c.reg.pairs, "pairs per step k (default 16)", 2, 512, 0},
      {"reg-layers", SR_OPT_STRING, &reg_layers,
       "comma-separated feature layers (default: all; see simreg info)", 0, 0, 0},
      {"reg-data", SR_OPT_STRING, &reg_data, "take regularization images from this dataset (resized)", 0, 0,
       0},
      {"reg-target", SR_OPT_STRING, &reg_target, "--reg file: the N x N target .npy", 0, 0, 0},
      {"reg-indices", SR_OPT_STRING, &reg_indices, "--reg file: the N image indices (.npy or text)", 0, 0, 0},
      {"reg-loss", SR_OPT_STRING, &reg_loss, "log (g(x) transform, default) | mse", 0, 0, 0},
      {"reg-two-tapes", SR_OPT_FLAG, &c.reg.two_tapes,
       "pair batch as two tapes of k (the pre-ghost-BatchNorm path, for A/B checks; default: one pass)", 0, 0,
       0},
      {"sync-bn", SR_OPT_FLAG, &c.run.sync_bn,
       "under mpirun: BatchNorm statistics over the whole batch (default: per rank)", 0, 0, 0},
      {"bucket-mb", SR_OPT_DOUBLE, &c.run.bucket_mb,
       "under mpirun: gradient allreduce bucket size in MiB (default 1)", 0.01, 1024, 0},
      {"checkpoint-every", SR_OPT_INT, &c.run.checkpoint_every, "checkpoint every N steps too (default 200)",
       0, 1e9, 0},
      {"resume", SR_OPT_STRING, &resume_run,
       "continue RUN from its checkpoint (same seed and threads: identical result)", 0, 0, 0},
      {"precision", SR_OPT_STRING, &precision,
       "f32 (default) or bf16 mixed precision (bf16 rounding; f32 speed on this engine)", 0, 0, 0},
      {"quiet", SR_OPT_FLAG, &quiet, "no progress output", 0, 0, 0},
      {"json", SR_OPT_FLAG, &json, "print the final epoch's metrics as JSON on stdout", 0, 0, 0},
      {0},
  };
  int npos;
  c.run.checkpoint_every = 200;
  int rc = sr_cli_parse("train", "[options]", opts, &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2},
                        NULL, 0, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  sr_err err = {0};
  if (sr_precision_parse(precision, &c.model.precision, &err)) return sr_cli_fail("train", &err);
  if (resume_run)
    return resume(resume_run, opts, &c,
                  &(resume_overrides){
                      .epochs = c.optim.epochs, .threads = c.run.threads, .precision = c.model.precision},
                  quiet, json);
  if (c.optim.epochs < 0) {
    fprintf(stderr, "simreg train: --epochs must be >= 0 (got %d)\n", c.optim.epochs);
    return SR_EXIT_USAGE;
  }
  if (c.optim.batch < 2) {
    fprintf(stderr, "simreg train: --batch must be >= 2 (got %d)\n", c.optim.batch);
    return SR_EXIT_USAGE;
  }
  if (sr_lr_parse(sched, &c.optim.sched, &err)) return sr_cli_fail("train", &err);
  // The paper's 0.1 is for its ResNets; cnn-small (no BN before a 3136-wide classifier) and the MLP
  // diverge at 0.1 in PyTorch as well, so they default lower.
  if (!sr_cli_seen(opts, "lr") && (!strcmp(arch, "cnn-small") || !strcmp(arch, "mlp"))) c.optim.lr = 0.02;
  snprintf(c.model.arch, sizeof c.model.arch, "%s", arch);
  if (init && (rc = init_from(init, opts, &c))) return rc;
  if (features) {
    if (strncmp(c.model.arch, "onnx:", 5)) {
      fprintf(stderr, "simreg train: --features is for ONNX models (--model onnx:PATH or --init)\n");
      return SR_EXIT_USAGE;
    }
    snprintf(c.model.features, sizeof c.model.features, "%s", strcmp(features, "auto") ? features : "");
  }
  // imported models see pixels as PyTorch's ToTensor gives them (RGB in [0, 1]) unless told otherwise
  if (!strncmp(c.model.arch, "onnx:", 5)) {
    if (!sr_cli_seen(opts, "input-mean") && !init) c.data.mean = 0.0;
    if (!sr_cli_seen(opts, "input-scale") && !init) c.data.scale = 1.0;
    if (!sr_cli_seen(opts, "color") && !init) color = 1;
    if (!sr_cli_seen(opts, "lr") && !init) c.optim.lr = 0.01;
  }
  snprintf(c.data.spec, sizeof c.data.spec, "%s", data);
  snprintf(c.run.out, sizeof c.run.out, "%s", out);
  if (strcmp(reg_loss, "log") && strcmp(reg_loss, "mse")) {
    fprintf(stderr, "simreg train: --reg-loss must be log or mse, not '%s'\n", reg_loss);
    return SR_EXIT_USAGE;
  }
  c.reg.mse = !strcmp(reg_loss, "mse");
  snprintf(c.reg.kind, sizeof c.reg.kind, "%s", reg);
  snprintf(c.reg.layers, sizeof c.reg.layers, "%s", reg_layers);
  snprintf(c.reg.data, sizeof c.reg.data, "%s", reg_data);
  snprintf(c.reg.target, sizeof c.reg.target, "%s", reg_target);
  snprintf(c.reg.indices, sizeof c.reg.indices, "%s", reg_indices);
  if (!init) c.data.gray = !color;
  c.data.crop_pad = no_crop ? 0 : 4;
  c.data.flip = !no_flip;
  c.data.augment = !(no_crop && no_flip);
  c.data.eval_test = !no_test;
  c.optim.seed = (uint64_t)seed;
  c.optim.sched.lr0 = c.optim.lr;
  c.optim.sched.total_epochs = c.optim.epochs;
  return run_training(&c, quiet, json);
}
