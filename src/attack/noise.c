// Noise sweeps: Gaussian, uniform and salt-and-pepper noise at several strengths, accuracy per level.
#include <math.h>
#include <string.h>

#include "attack/internal.h"

static const char *const NAMES[SR_NOISE_COUNT] = {"gaussian", "uniform", "salt_pepper"};

const char *sr_noise_name(sr_noise_kind k) { return (unsigned)k < SR_NOISE_COUNT ? NAMES[k] : "?"; }

int sr_noise_parse(const char *name) {
  for (int k = 0; k < SR_NOISE_COUNT; k++)
    if (!strcmp(name, NAMES[k])) return k;
  return -1;
}

// img: (c, hw)
void sr_noise_apply(sr_noise_kind k, double level, float *img, int c, int64_t hw, sr_rng *rng) {
  int64_t d = (int64_t)c * hw;
  float lo = img[0], hi = img[0];
  for (int64_t i = 1; i < d; i++) {
    lo = img[i] < lo ? img[i] : lo;
    hi = img[i] > hi ? img[i] : hi;
  }
  if (level <= 0) return;
  if (k == SR_NOISE_GAUSSIAN) {
    float g[256];  // normals in blocks: both Box-Muller outputs (noise generation was ~8% of a sweep)
    for (int64_t i0 = 0; i0 < d; i0 += 256) {
      int64_t k = d - i0 < 256 ? d - i0 : 256;
      sr_attack_normals(rng, g, k);
      for (int64_t i = 0; i < k; i++) img[i0 + i] += (float)(level * g[i]);
    }
  } else if (k == SR_NOISE_UNIFORM) {
    for (int64_t i = 0; i < d; i++) img[i] += (float)(level * (2 * sr_rng_uniform(rng) - 1));
  } else {
    // one draw per pixel position so a salted pixel is salted in every channel
    for (int64_t p = 0; p < hw; p++) {
      double u = sr_rng_uniform(rng);
      if (u >= level) continue;
      float v = u < level / 2 ? hi : lo;
      for (int ch = 0; ch < c; ch++) img[(int64_t)ch * hw + p] = v;
    }
  }
  for (int64_t i = 0; i < d; i++) img[i] = img[i] < lo ? lo : img[i] > hi ? hi : img[i];
}

void sr_wilson_ci(int64_t k, int64_t n, double *lo, double *hi) {
  const double z = 1.959963984540054;
  double p = (double)k / (double)n, z2n = z * z / (double)n;
  double c = (p + z2n / 2) / (1 + z2n),
         h = z * sqrt(p * (1 - p) / (double)n + z2n / (4.0 * (double)n)) / (1 + z2n);
  *lo = c - h < 0 ? 0 : c - h;
  *hi = c + h > 1 ? 1 : c + h;
}

sr_status sr_noise_sweep_counts(sr_amodel *am, const sr_labeled *im, const sr_noise_sweep_opts *o,
                                int64_t *correct, uint8_t *per_image, sr_err *err) {
  const float *x = im->x;
  const int32_t *y = im->y;
  const int64_t n = im->n, first_index = o->first_index;
  const sr_noise_kind kind = o->kind;
  const double *levels = o->levels;
  const int n_levels = o->n_levels, repeats = o->repeats;
  const uint64_t seed = o->seed;
  if ((unsigned)kind >= SR_NOISE_COUNT) return sr_fail(err, SR_ERR_ARG, "unknown noise kind %d", (int)kind);
  if (n < 0 || first_index < 0 || n_levels < 1 || repeats < 1)
    return sr_fail(err, SR_ERR_ARG, "noise sweep needs levels and repeats >= 1");
  for (int l = 0; l < n_levels; l++)
    if (!(levels[l] >= 0) || (kind == SR_NOISE_SALT_PEPPER && levels[l] > 1))
      return sr_fail(err, SR_ERR_ARG, "noise level %g is out of range for %s", levels[l],
                     sr_noise_name(kind));
  int64_t b = am->batch, hw = (int64_t)am->h * am->w;
  float *buf = sr_alloc((size_t)b * (size_t)am->d * sizeof(float));
  int32_t *pred = sr_alloc((size_t)b * sizeof(int32_t));
  if (!buf || !pred) {
    sr_free(buf);
    sr_free(pred);
    return sr_fail(err, SR_ERR_NOMEM, "noise sweep buffers");
  }
  sr_status st = SR_OK;
  for (int l = 0; l < n_levels && !st; l++) {
    correct[l] = 0;
    for (int r = 0; r < repeats && !st; r++) {
      for (int64_t i0 = 0; i0 < n && !st; i0 += b) {
        int64_t k = n - i0 < b ? n - i0 : b;
        memcpy(buf, x + i0 * am->d, (size_t)k * (size_t)am->d * sizeof(float));
        for (int64_t i = 0; i < k; i++) {
          sr_rng rng;
          uint64_t key = seed ^ ((uint64_t)kind << 56) ^ ((uint64_t)l << 40) ^ ((uint64_t)r << 20);
          sr_rng_seed(&rng, key, (uint64_t)(first_index + i0 + i));
          sr_noise_apply(kind, levels[l], buf + i * am->d, am->c, hw, &rng);
        }
        st = sr_amodel_predict(am, buf, k, pred, NULL, err);
        for (int64_t i = 0; i < k && !st; i++) {
          correct[l] += pred[i] == y[i0 + i];
          if (per_image)
            per_image[((size_t)(i0 + i) * (size_t)n_levels + (size_t)l) * (size_t)repeats + (size_t)r] =
                pred[i] == y[i0 + i];
        }
      }
    }
  }
  sr_free(buf);
  sr_free(pred);
  return st;
}

sr_status sr_noise_sweep(sr_amodel *am, const sr_labeled *im, const sr_noise_sweep_opts *o, sr_level_acc *out,
                         sr_err *err) {
  const int64_t n = im->n;
  const int n_levels = o->n_levels, repeats = o->repeats;
  if (n < 1 || n_levels < 1 || repeats < 1)
    return sr_fail(err, SR_ERR_ARG, "noise sweep needs images, levels and repeats >= 1");
  int64_t *correct = sr_alloc((size_t)n_levels * sizeof(int64_t));
  if (!correct) return sr_fail(err, SR_ERR_NOMEM, "noise sweep counts");
  sr_status st = sr_noise_sweep_counts(am, im, o, correct, NULL, err);
  for (int l = 0; l < n_levels && !st; l++) {
    int64_t total = n * repeats;
    out[l].acc = (double)correct[l] / (double)total;
    sr_wilson_ci(correct[l], total, &out[l].ci_low, &out[l].ci_high);
  }
  sr_free(correct);
  return st;
}
