// simreg corrupt: generate CIFAR-10-C-style corrupted copies of any dataset simreg loads, and measure
// which corruptions are low/mid/high frequency.
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "simreg/corrupt.h"
#include "simreg/data.h"

static const char *USAGE =
    "--data SPEC [--split test] (--out DIR | --groups) [options]\n\n"
    "Writes DIR/<corruption>.npy (uint8, 5*N x H x W x C: severities 1..5 stacked) and DIR/labels.npy\n"
    "(uint8, 5*N), the CIFAR-10-C layout, plus DIR/frequency.csv: the share of the power spectrum of\n"
    "(corrupted - clean) above normalized radius 0.25 per corruption and severity, and the low/mid/high\n"
    "group (terciles of the mean share). --groups prints that table (alone: measure only, write nothing).\n"
    "Corruptions: gaussian_noise shot_noise impulse_noise defocus_blur glass_blur motion_blur zoom_blur\n"
    "snow frost fog brightness contrast elastic_transform pixelate jpeg_compression";

typedef struct {
  int quiet;
} progress_ctx;

static void on_progress(void *ctx, const char *name, double seconds) {
  if (!((progress_ctx *)ctx)->quiet) fprintf(stderr, "simreg corrupt: %-18s %6.2f s\n", name, seconds);
}

static void print_table(const sr_corrupt_freq *f) {
  printf("%-18s %7s %7s %7s %7s %7s %7s  %s\n", "corruption", "s1", "s2", "s3", "s4", "s5", "mean", "group");
  for (int g = SR_FREQ_LOW; g <= SR_FREQ_HIGH; g++)  // grouped, each group by increasing share
    for (int pass = 0; pass < f->n_kinds; pass++) {
      int best = -1;
      for (int k = 0; k < f->n_kinds; k++) {
        if ((int)f->group[k] != g) continue;
        int rank = 0;  // rank of k within its group
        for (int j = 0; j < f->n_kinds; j++)
          if ((int)f->group[j] == g && (f->mean[j] < f->mean[k] || (f->mean[j] == f->mean[k] && j < k)))
            rank++;
        if (rank == pass) best = k;
      }
      if (best < 0) continue;
      printf("%-18s", sr_corruption_name(f->kinds[best]));
      for (int s = 0; s < SR_NUM_SEVERITIES; s++) printf(" %7.4f", f->share[best][s]);
      printf(" %7.4f  %s\n", f->mean[best], sr_freq_group_name(f->group[best]));
    }
  printf("(share of power of corrupted - clean at normalized radius > %.2f, mean over %lld images)\n",
         SR_CORRUPT_HF_RADIUS, (long long)f->images);
}

int sr_cmd_corrupt(int argc, char **argv) {
  const char *data = NULL, *split = "test", *out = NULL, *list = NULL;
  int64_t seed = 0, limit = 0, freq_images = 1000;
  int groups = 0, threads = 0, quiet = 0;
  sr_opt opts[] = {
      {"data", SR_OPT_STRING, &data, "dataset spec, as for every simreg command (e.g. cifar10:DIR)", 0, 0, 0},
      {"split", SR_OPT_STRING, &split, "split to corrupt: test (default) or train", 0, 0, 0},
      {"out", SR_OPT_STRING, &out, "output directory (created if missing)", 0, 0, 0},
      {"seed", SR_OPT_I64, &seed, "seed (default 0); image i uses rng(seed, corruption, severity, i)", 0,
       9e15, 0},
      {"corruptions", SR_OPT_STRING, &list, "comma-separated names (default: all 15)", 0, 0, 0},
      {"limit", SR_OPT_I64, &limit, "use only the first N images (default: all)", 0, 1e12, 0},
      {"freq-images", SR_OPT_I64, &freq_images, "images for the frequency table (default 1000; 0 = skip)", 0,
       1e12, 0},
      {"groups", SR_OPT_FLAG, &groups, "print the frequency table (without --out: measure only)", 0, 0, 0},
      {"threads", SR_OPT_INT, &threads, "OpenMP threads (default: OMP_NUM_THREADS or all cores)", 1, 1024, 0},
      {"quiet", SR_OPT_FLAG, &quiet, "no per-corruption progress on stderr", 0, 0, 0},
      {0},
  };
  int npos = 0;
  int rc = sr_cli_parse("corrupt", USAGE, opts, &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2}, NULL,
                        0, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  sr_err err = {0};
  if (!data) {
    fprintf(stderr, "simreg corrupt: --data is required (see simreg corrupt --help)\n");
    return SR_EXIT_USAGE;
  }
  if (!out && !groups) {
    fprintf(stderr,
            "simreg corrupt: give --out DIR to write the corrupted set, or --groups to measure only\n");
    return SR_EXIT_USAGE;
  }
  if (groups && freq_images == 0) {
    fprintf(stderr, "simreg corrupt: --groups needs --freq-images > 0\n");
    return SR_EXIT_USAGE;
  }
  if (threads > 0) omp_set_num_threads(threads);
  sr_corruption kinds[SR_NUM_CORRUPTIONS];
  int n_kinds = 0;
  sr_status st = sr_corruption_parse_list(list, kinds, &n_kinds, &err);
  if (st) {
    sr_err_context(&err, "--corruptions");
    return sr_cli_fail("corrupt", &err);
  }
  sr_dataset ds;
  if ((st = sr_dataset_load(data, split, &ds, &err))) return sr_cli_fail("corrupt", &err);
  if (ds.c != 1 && ds.c != 3) {
    sr_dataset_free(&ds);
    sr_fail(&err, SR_ERR_ARG, "--data %s: images have %d channels; corruptions need 1 or 3", data, ds.c);
    return sr_cli_fail("corrupt", &err);
  }
  sr_corrupt_freq freq;
  double t0 = sr_now();
  if (out) {
    progress_ctx ctx = {quiet};
    sr_corrupt_dir_opts co = {.kinds = kinds,
                              .n_kinds = n_kinds,
                              .limit = limit,
                              .seed = (uint64_t)seed,
                              .freq_images = freq_images,
                              .progress = on_progress,
                              .ctx = &ctx};
    st = sr_corrupt_write_dir(&ds, out, &co, &freq, &err);
  } else {
    int64_t m = limit > 0 && limit < freq_images ? limit : freq_images;
    st = sr_corrupt_measure_freq(&ds, kinds, n_kinds, m, (uint64_t)seed, &freq, &err);
  }
  int64_t n = limit > 0 && limit < ds.n ? limit : ds.n;
  int c = ds.c, h = ds.h, w = ds.w;
  sr_dataset_free(&ds);
  if (st) return sr_cli_fail("corrupt", &err);
  if (groups) print_table(&freq);
  if (out && !quiet)
    fprintf(stderr,
            "simreg corrupt: %d corruptions x 5 severities of %lld images (%dx%dx%d) in %.1f s -> %s\n",
            n_kinds, (long long)n, c, h, w, sr_now() - t0, out);
  return 0;
}
