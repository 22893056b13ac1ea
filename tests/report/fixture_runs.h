// Synthetic run directories for the report tests, written by the test itself (docs/FORMATS.md).
// Run "baseline": white-noise perturbations, smaller boundary norms. Run "pixel-reg": low-pass perturbations
// (less high-frequency power), larger norms. Run 3: a config only, with a hostile name.
#ifndef SR_TEST_FIXTURE_RUNS_H
#define SR_TEST_FIXTURE_RUNS_H

#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include "simreg/core.h"
#include "simreg/npy.h"

static int fx_write(const char *dir, const char *name, const char *text) {
  char path[600];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  fputs(text, f);
  return fclose(f) != 0;
}

static void fx_numbers(char *buf, size_t cap, const double *v, int n) {
  size_t k = 0;
  k += (size_t)snprintf(buf + k, cap - k, "[");
  for (int i = 0; i < n && k < cap; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%s%.6g", i ? "," : "", v[i]);
  if (k < cap) snprintf(buf + k, cap - k, "]");
}

// Perturbations (N,1,16,16): white noise, or white noise smoothed by a 3x3 box filter (twice) when lowpass.
static int fx_perturbations(const char *path, int lowpass, uint64_t seed) {
  enum { N = 40, S = 16 };
  static float x[N * S * S];
  double tmp[S * S], out[S * S];
  sr_rng rng;
  sr_rng_seed(&rng, seed, 0);
  for (int i = 0; i < N; i++) {
    for (int p = 0; p < S * S; p++) tmp[p] = 0.01 * sr_rng_normal(&rng);
    for (int pass = 0; lowpass && pass < 2; pass++) {
      for (int y = 0; y < S; y++)
        for (int xx = 0; xx < S; xx++) {
          double s = 0;
          for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) s += tmp[((y + dy + S) % S) * S + (xx + dx + S) % S];
          out[y * S + xx] = s / 9;
        }
      for (int p = 0; p < S * S; p++) tmp[p] = out[p];
    }
    for (int p = 0; p < S * S; p++) x[i * S * S + p] = (float)tmp[p];
  }
  int64_t shape[4] = {N, 1, S, S};
  sr_err err = {0};
  return sr_npy_write(path, SR_F32, 4, shape, x, &err) != SR_OK;
}

static int fx_similarity(const char *dir, double phase) {
  enum { K = 12 };
  double t[K * K], m[K * K];
  for (int i = 0; i < K; i++)
    for (int j = 0; j < K; j++) {
      double s = i == j ? 1 : cos(0.7 * (i - j));
      t[i * K + j] = s > 0.8 || i == j ? 1 : s < -0.8 ? -1 : 0;
      m[i * K + j] = i == j ? 1 : 0.9 * cos(0.7 * (i - j) + phase);
    }
  char sub[600], p[700];
  snprintf(sub, sizeof sub, "%s/similarity", dir);
  mkdir(sub, 0755);
  int64_t shape[2] = {K, K};
  sr_err err = {0};
  snprintf(p, sizeof p, "%s/target.npy", sub);
  if (sr_npy_write(p, SR_F64, 2, shape, t, &err)) return 1;
  snprintf(p, sizeof p, "%s/model.npy", sub);
  return sr_npy_write(p, SR_F64, 2, shape, m, &err) != SR_OK;
}

// A complete run. strength in [0,1] shifts every robustness number the way regularization does.
static int fx_full_run(const char *dir, const char *name, double strength, int lowpass, uint64_t seed) {
  mkdir(dir, 0755);
  char buf[8192], a[2048], b[2048], c[2048];
  int bad = 0;
  snprintf(buf, sizeof buf,
           "{\"name\": \"%s\", \"model\": \"resnet18\", \"dataset\": \"cifar10-gray\", \"seed\": %llu,\n"
           " \"reg\": {\"alpha\": %g, \"threshold\": 0.8, \"target\": \"pixel\", \"pairs\": 16}}\n",
           name, (unsigned long long)seed, strength > 0 ? 10.0 : 0.0);
  bad |= fx_write(dir, "config.json", buf);
  size_t k = 0;
  for (int e = 1; e <= 6; e++) {
    double g0 = 0.2 + 0.05 * e * strength, rest = (1 - g0) / 4;
    k += (size_t)snprintf(
        buf + k, sizeof buf - k,
        "{\"epoch\": %d, \"lr\": 0.1, \"train_loss\": %g, \"train_acc\": %g, \"val_loss\": %g, "
        "\"val_acc\": %g, \"test_acc\": %g, \"reg_loss\": %g, \"gamma\": [%g,%g,%g,%g,%g], \"seconds\": "
        "12.5}\n",
        e, 2.0 / e, 0.3 + 0.1 * e, 2.2 / e, 0.28 + 0.1 * e, 0.27 + 0.1 * e - 0.03 * strength,
        strength > 0 ? 0.5 / e : 0.0, g0, rest, rest, rest, rest);
  }
  bad |= fx_write(dir, "metrics.jsonl", buf);
  double lv[10], acc[10], lo[10], hi[10], ft[6], fa[6], norms[60];
  for (int i = 0; i < 10; i++) {
    lv[i] = 0.1 * i / 9;
    acc[i] = 0.1 + (0.78 - 0.03 * strength) * exp(-lv[i] * (30 - 18 * strength));
    lo[i] = acc[i] - 0.02, hi[i] = acc[i] + 0.02;
  }
  for (int i = 0; i < 6; i++) ft[i] = 0.004 * i, fa[i] = 0.85 * exp(-ft[i] * (60 - 30 * strength));
  sr_rng rng;
  sr_rng_seed(&rng, seed, 9);
  for (int i = 0; i < 60; i++) norms[i] = (2.8e-3 + 2.4e-3 * strength) * exp(0.3 * sr_rng_normal(&rng));
  char lvs[512], los[512], his[512], fts[256], fas[256];
  fx_numbers(lvs, sizeof lvs, lv, 10);
  fx_numbers(a, sizeof a, acc, 10);
  fx_numbers(los, sizeof los, lo, 10);
  fx_numbers(his, sizeof his, hi, 10);
  fx_numbers(fts, sizeof fts, ft, 6);
  fx_numbers(fas, sizeof fas, fa, 6);
  fx_numbers(c, sizeof c, norms, 60);
  for (int i = 0; i < 10; i++) acc[i] = fmin(1, acc[i] + 0.03);
  fx_numbers(b, sizeof b, acc, 10);
  int wrote = snprintf(
      buf, sizeof buf,
      "{\"clean_accuracy\": %g,\n \"noise\": {\"gaussian\": {\"levels\": %s, \"accuracy\": %s, \"ci_low\": "
      "%s, \"ci_high\": %s},\n"
      "  \"uniform\": {\"levels\": %s, \"accuracy\": %s}},\n"
      " \"transfer\": {\"fgsm\": {\"levels\": %s, \"accuracy\": %s, \"source\": \"runs/surrogate\"}},\n"
      " \"boundary\": {\"norms_sq_per_dim\": %s, \"perturbations\": \"boundary_delta.npy\"}}\n",
      0.88 - 0.04 * strength, lvs, a, los, his, lvs, b, fts, fas, c);
  if (wrote < 0 || wrote >= (int)sizeof buf) return 1;
  bad |= fx_write(dir, "robustness.json", buf);
  char p[700];
  snprintf(p, sizeof p, "%s/boundary_delta.npy", dir);
  bad |= fx_perturbations(p, lowpass, seed);
  snprintf(buf, sizeof buf,
           "{\"severities\": [1,2,3,4,5], \"corruptions\": {\n"
           " \"gaussian_noise\": {\"group\": \"high\", \"accuracy\": [%g,%g,%g,%g,%g]},\n"
           " \"contrast\": {\"group\": \"low\", \"accuracy\": [0.8,0.7,0.6,0.5,0.4]},\n"
           " \"jpeg\": {\"group\": \"mid\", \"accuracy\": [0.85,0.8,0.75,0.7,0.65]}}}\n",
           0.7 + 0.1 * strength, 0.6 + 0.1 * strength, 0.5 + 0.15 * strength, 0.43 + 0.18 * strength,
           0.35 + 0.2 * strength);
  bad |= fx_write(dir, "corruptions.json", buf);
  bad |= fx_similarity(dir, 0.3 * (1 - strength));
  return bad;
}

// Three runs under root: root/baseline, root/pixel, root/odd (config only, hostile name).
static int fx_make_runs(const char *root, char dirs[3][512]) {
  snprintf(dirs[0], 512, "%s/baseline", root);
  snprintf(dirs[1], 512, "%s/pixel", root);
  snprintf(dirs[2], 512, "%s/odd", root);
  int bad = fx_full_run(dirs[0], "baseline", 0.0, 0, 1);
  bad |= fx_full_run(dirs[1], "pixel-reg", 1.0, 1, 2);
  mkdir(dirs[2], 0755);
  bad |= fx_write(
      dirs[2], "config.json",
      "{\"name\": \"<script>alert('x')</script> & \\\"q\\\" | #1\", \"model\": \"mlp\", \"seed\": 3}\n");
  return bad;
}

#endif
