// Defocus blur (anti-aliased disk kernel) and glass blur (Gaussian, local pixel shuffling, Gaussian).
#include <math.h>
#include <string.h>

#include "internal.h"

static const double DEFOCUS[5][2] = {{.3, .4}, {.4, .5}, {.5, .6}, {1, .2}, {1.5, .1}};  // radius, alias blur
static const struct {
  double sigma;
  int delta, iterations;
} GLASS[5] = {{.05, 1, 1}, {.25, 1, 1}, {.4, 1, 1}, {.25, 1, 2}, {.4, 1, 2}};

#define DISK_MAX 6  // kernel half-size bound: floor(radius) + 2 for radius <= 4

// The reference kernel: a {x^2 + y^2 <= r^2} disk on an integer grid, normalized, then smoothed by a
// 3x3 Gaussian of sigma `alias` (cv2.GaussianBlur). Returns the half-size R of the (2R+1)^2 kernel.
static int disk_kernel(double radius, double alias, float *k) {
  int rd = (int)floor(radius), R = rd + 1;
  int n = 2 * R + 1;
  double disk[(2 * DISK_MAX + 1) * (2 * DISK_MAX + 1)] = {0}, sum = 0;
  for (int y = -rd; y <= rd; y++)
    for (int x = -rd; x <= rd; x++)
      if (x * x + y * y <= radius * radius) sum += disk[(y + R) * n + x + R] = 1;
  double g[3], gs = 0;  // cv2.getGaussianKernel(3, alias)
  for (int i = 0; i < 3; i++) gs += g[i] = exp(-(double)((i - 1) * (i - 1)) / (2 * alias * alias));
  for (int i = 0; i < 3; i++) g[i] /= gs;
  // Outside the grid the reference's 17x17 kernel is zero, so zero padding is exact here.
  for (int y = 0; y < n; y++)
    for (int x = 0; x < n; x++) {
      double acc = 0;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          int yy = y + dy, xx = x + dx;
          if (yy >= 0 && yy < n && xx >= 0 && xx < n) acc += g[dy + 1] * g[dx + 1] * disk[yy * n + xx];
        }
      k[y * n + x] = (float)(acc / sum);
    }
  return R;
}

sr_status sr_cor_defocus_blur(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)rng;
  (void)err;
  float k[(2 * DISK_MAX + 1) * (2 * DISK_MAX + 1)];
  int R = disk_kernel(DEFOCUS[severity - 1][0], DEFOCUS[severity - 1][1], k);
  int n = 2 * R + 1, h = ws->h, w = ws->w;
  int *iy = ws->ia, *ix = ws->ib;  // folded indices of -R .. size+R (cv2.filter2D: BORDER_REFLECT_101)
  for (int i = -R; i < h + R; i++) iy[i + R] = sr_border_index(i, h, SR_BORDER_REFLECT101);
  for (int i = -R; i < w + R; i++) ix[i + R] = sr_border_index(i, w, SR_BORDER_REFLECT101);
  for (int ch = 0; ch < ws->c; ch++) {
    const float *src = ws->x + (size_t)ch * ws->plane;
    float *dst = ws->y + (size_t)ch * ws->plane;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        float acc = 0;
        for (int a = 0; a < n; a++) {
          const float *row = src + (size_t)iy[y + a] * (size_t)w;
          for (int b = 0; b < n; b++) acc += k[a * n + b] * row[ix[x + b]];
        }
        dst[(size_t)y * (size_t)w + x] = acc;
      }
  }
  return SR_OK;
}

// skimage.filters.gaussian(..., sigma) per channel: truncate 4, mode 'nearest'.
static void gaussian_channels(sr_cws *ws, const float *in, float *out, double sigma) {
  float k[64];
  int r = sr_gauss_taps(sigma, 4.0, k, 31);
  for (int ch = 0; ch < ws->c; ch++) {
    size_t off = (size_t)ch * ws->plane;
    if (r == 0) {
      memcpy(out + off, in + off, ws->plane * sizeof(float));
      continue;
    }
    sr_sep_filter(in + off, out + off, ws->t1, ws->h, ws->w,
                  &(sr_taps){.k = k, .r = r, .border = SR_BORDER_CLAMP, .idx = ws->ia});
  }
}

sr_status sr_cor_glass_blur(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)err;
  double sigma = GLASS[severity - 1].sigma;
  int d = GLASS[severity - 1].delta, h = ws->h, w = ws->w, c = ws->c;
  gaussian_channels(ws, ws->x, ws->t0, sigma);
  uint8_t *u = ws->u8;  // np.uint8(blurred * 255): truncation
  for (size_t i = 0; i < ws->n; i++) {
    float v = ws->t0[i];
    u[i] = (uint8_t)(v <= 0 ? 0 : v >= 1 ? 255 : v * 255.f + 1e-3f);
  }
  // Swap each pixel (all channels) with a neighbour at offset in [-d, d) per axis, scanning
  // bottom-right to top-left like the reference (numpy randint's high bound is exclusive).
  for (int it = 0; it < GLASS[severity - 1].iterations; it++)
    for (int y = h - d; y > d; y--)
      for (int x = w - d; x > d; x--) {
        int dx = (int)sr_rng_below(rng, (uint32_t)(2 * d)) - d;
        int dy = (int)sr_rng_below(rng, (uint32_t)(2 * d)) - d;
        size_t p = (size_t)y * (size_t)w + x, q = (size_t)(y + dy) * (size_t)w + (x + dx);
        for (int ch = 0; ch < c; ch++) {
          uint8_t *pl = u + (size_t)ch * ws->plane, t = pl[p];
          pl[p] = pl[q];
          pl[q] = t;
        }
      }
  for (size_t i = 0; i < ws->n; i++) ws->t0[i] = (float)u[i] * (1.f / 255.f);
  gaussian_channels(ws, ws->t0, ws->y, sigma);
  return SR_OK;
}
