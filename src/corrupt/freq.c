// Frequency character of a corruption: the share of the power spectrum of (corrupted - clean) above
// half the Nyquist radius, and low/mid/high groups by terciles of that share.
#include <fftw3.h>
#include <math.h>
#include <string.h>

#include "internal.h"

sr_status sr_corrupt_hf_share(const sr_u8_images *ia, const uint8_t *b, double *share, int64_t *used,
                              sr_err *err) {
  const uint8_t *a = ia->px;
  const int64_t n = ia->n;
  const int c = ia->c, h = ia->h, w = ia->w;
  *share = 0;
  *used = 0;
  if (n < 0 || c < 1 || h < 1 || w < 1)
    return sr_fail(err, SR_ERR_ARG, "hf_share: bad shape n=%lld c=%d h=%d w=%d", (long long)n, c, h, w);
  int wc = w / 2 + 1;
  size_t plane = (size_t)h * (size_t)w, per = (size_t)c * plane;
  float *in = fftwf_alloc_real(plane);
  fftwf_complex *out = fftwf_alloc_complex((size_t)h * (size_t)wc);
  double *weight = sr_alloc((size_t)h * (size_t)wc * sizeof(double));  // multiplicity in the full plane
  uint8_t *high = sr_alloc((size_t)h * (size_t)wc);                    // 1 where r > SR_CORRUPT_HF_RADIUS
  fftwf_plan plan = in && out ? fftwf_plan_dft_r2c_2d(h, w, in, out, FFTW_ESTIMATE) : NULL;
  if (!in || !out || !weight || !high || !plan) {
    if (plan) fftwf_destroy_plan(plan);
    fftwf_free(in);
    fftwf_free(out);
    sr_free(weight);
    sr_free(high);
    return sr_fail(err, SR_ERR_NOMEM, "hf_share: cannot allocate FFT buffers for %dx%d", h, w);
  }
  // r2c keeps columns 0..w/2; every other column stands for itself and its mirror image.
  for (int ky = 0; ky < h; ky++)
    for (int kx = 0; kx < wc; kx++) {
      double fy = (double)(ky <= h / 2 ? ky : ky - h) / h, fx = (double)kx / w;
      size_t i = (size_t)ky * (size_t)wc + (size_t)kx;
      weight[i] = (kx == 0 || (w % 2 == 0 && kx == w / 2)) ? 1.0 : 2.0;
      high[i] = sqrt(fy * fy + fx * fx) > SR_CORRUPT_HF_RADIUS;
    }
  double sum = 0;
  for (int64_t k = 0; k < n; k++) {
    double total = 0, hf = 0;
    for (int ch = 0; ch < c; ch++) {
      const uint8_t *pa = a + (size_t)k * per + (size_t)ch * plane,
                    *pb = b + (size_t)k * per + (size_t)ch * plane;
      for (size_t i = 0; i < plane; i++) in[i] = ((float)pb[i] - (float)pa[i]) * (1.f / 255.f);
      fftwf_execute(plan);
      for (size_t i = 0; i < (size_t)h * (size_t)wc; i++) {
        double p = weight[i] * ((double)out[i][0] * out[i][0] + (double)out[i][1] * out[i][1]);
        total += p;
        if (high[i]) hf += p;
      }
    }
    if (total > 0) {
      sum += hf / total;
      (*used)++;
    }
  }
  if (*used) *share = sum / (double)*used;
  fftwf_destroy_plan(plan);
  fftwf_free(in);
  fftwf_free(out);
  sr_free(weight);
  sr_free(high);
  return SR_OK;
}

void sr_corrupt_groups(const double *share, int n, sr_freq_group *group) {
  int order[SR_NUM_CORRUPTIONS * 4];
  if (n > (int)(sizeof order / sizeof order[0])) n = (int)(sizeof order / sizeof order[0]);
  for (int i = 0; i < n; i++) order[i] = i;
  for (int i = 1; i < n; i++)  // insertion sort: stable, so ties keep corruption order
    for (int j = i; j > 0 && share[order[j]] < share[order[j - 1]]; j--) {
      int t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  int third = (int)floor(n / 3.0 + 0.5);
  for (int r = 0; r < n; r++)
    group[order[r]] = r < third ? SR_FREQ_LOW : r >= n - third ? SR_FREQ_HIGH : SR_FREQ_MID;
}

sr_status sr_corrupt_measure_freq(const sr_dataset *ds, const sr_corruption *kinds, int n_kinds,
                                  int64_t n_images, uint64_t seed, sr_corrupt_freq *out, sr_err *err) {
  memset(out, 0, sizeof *out);
  if (n_kinds < 1 || n_kinds > SR_NUM_CORRUPTIONS)
    return sr_fail(err, SR_ERR_ARG, "measure_freq: %d corruptions (1..%d)", n_kinds, SR_NUM_CORRUPTIONS);
  int64_t m = n_images < ds->n ? n_images : ds->n;
  if (m < 1)
    return sr_fail(err, SR_ERR_ARG, "measure_freq: no images to measure (n_images=%lld, dataset has %lld)",
                   (long long)n_images, (long long)ds->n);
  size_t per = (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
  uint8_t *buf = sr_alloc((size_t)m * per);
  if (!buf) return sr_fail(err, SR_ERR_NOMEM, "measure_freq: cannot allocate %lld images", (long long)m);
  sr_status st = SR_OK;
  out->n_kinds = n_kinds;
  out->images = m;
  for (int k = 0; k < n_kinds && !st; k++) {
    out->kinds[k] = kinds[k];
    double sum = 0;
    for (int s = 1; s <= SR_NUM_SEVERITIES && !st; s++) {
      int64_t used;
      sr_u8_images clean = {.px = ds->images, .n = m, .c = ds->c, .h = ds->h, .w = ds->w};
      sr_corrupt_spec cs = {.kind = kinds[k], .severity = s, .seed = seed};
      st = sr_corrupt_batch(&clean, &cs, buf, err);
      if (!st) st = sr_corrupt_hf_share(&clean, buf, &out->share[k][s - 1], &used, err);
      sum += out->share[k][s - 1];
    }
    out->mean[k] = sum / SR_NUM_SEVERITIES;
  }
  sr_free(buf);
  if (!st) sr_corrupt_groups(out->mean, n_kinds, out->group);
  return st;
}
