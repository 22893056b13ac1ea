// Filtering helpers shared by the kernels: border folding, Gaussian taps, separable filtering, bilinear
// sampling, normal draws.
#include <math.h>

#include "internal.h"

int sr_border_index(int i, int n, sr_border b) {
  if (i >= 0 && i < n) return i;
  if (b == SR_BORDER_CLAMP || n == 1) return i < 0 ? 0 : n - 1;
  int period = b == SR_BORDER_REFLECT ? 2 * n : 2 * n - 2;
  i %= period;
  if (i < 0) i += period;
  if (i >= n) i = b == SR_BORDER_REFLECT ? period - 1 - i : period - i;
  return i;
}

int sr_gauss_taps(double sigma, double truncate, float *k, int rmax) {
  int r = sigma > 0 ? (int)(truncate * sigma + 0.5) : 0;
  if (r > rmax) r = rmax;
  double sum = 0, t[2 * r + 1];
  for (int i = -r; i <= r; i++) sum += t[i + r] = r ? exp(-0.5 * (double)(i * i) / (sigma * sigma)) : 1.0;
  for (int i = 0; i <= 2 * r; i++) k[i] = (float)(t[i] / sum);
  return r;
}

// One 1-D pass along rows (stride 1) of each of `rows` lines of length n: out = taps (*) in, idx: the folded
// indices of the line (t->idx filled for this direction).
static void pass(const float *in, float *out, int rows, int n, size_t line_stride, size_t elem_stride,
                 const sr_taps *t) {
  const float *k = t->k;
  const int r = t->r;
  const int *idx = t->idx;
  for (int l = 0; l < rows; l++) {
    const float *src = in + (size_t)l * line_stride;
    float *dst = out + (size_t)l * line_stride;
    for (int i = 0; i < n; i++) {
      float acc = 0;
      const int *ix = idx + i;  // idx[i + t] is the folded index of i + t - r
      for (int t = 0; t <= 2 * r; t++) acc += k[t] * src[(size_t)ix[t] * elem_stride];
      dst[(size_t)i * elem_stride] = acc;
    }
  }
}

void sr_sep_filter(const float *in, float *out, float *tmp, int h, int w, const sr_taps *t) {
  // in, out, tmp: (h, w)
  const int r = t->r;
  const sr_border b = t->border;
  int *idx = t->idx;
  for (int i = -r; i < w + r; i++) idx[i + r] = sr_border_index(i, w, b);
  pass(in, tmp, h, w, (size_t)w, 1, t);
  for (int i = -r; i < h + r; i++) idx[i + r] = sr_border_index(i, h, b);
  pass(tmp, out, w, h, 1, (size_t)w, t);
}

float sr_bilinear(const float *p, int h, int w, float y, float x, sr_border b) {
  float fy = floorf(y), fx = floorf(x);
  int y0 = (int)fy, x0 = (int)fx;
  float ay = y - fy, ax = x - fx;
  int ya = y0, yb = y0 + 1, xa = x0, xb = x0 + 1;
  if (y0 < 0 || yb >= h || x0 < 0 || xb >= w) {  // only border samples pay for folding
    ya = sr_border_index(y0, h, b);
    yb = sr_border_index(y0 + 1, h, b);
    xa = sr_border_index(x0, w, b);
    xb = sr_border_index(x0 + 1, w, b);
  }
  const float *ra = p + (size_t)ya * (size_t)w, *rb = p + (size_t)yb * (size_t)w;
  float top = ra[xa] + ax * (ra[xb] - ra[xa]);
  float bot = rb[xa] + ax * (rb[xb] - rb[xa]);
  return top + ay * (bot - top);
}

void sr_fill_normal(sr_rng *rng, float *dst, size_t n, float mean, float sd) {
  size_t i = 0;
  while (i < n) {
    double u1 = 1.0 - sr_rng_uniform(rng);  // (0, 1]
    double u2 = sr_rng_uniform(rng);
    double rad = sqrt(-2.0 * log(u1)), th = 2.0 * M_PI * u2;
    dst[i++] = mean + sd * (float)(rad * cos(th));
    if (i < n) dst[i++] = mean + sd * (float)(rad * sin(th));
  }
}
