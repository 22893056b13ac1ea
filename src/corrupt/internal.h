// Shared internals of the corruption kernels: the per-thread workspace and the filtering helpers.
#ifndef SR_CORRUPT_INTERNAL_H
#define SR_CORRUPT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "simreg/corrupt.h"

// Scratch for one image of a fixed shape, allocated once per thread: kernels never allocate per pixel
// (JPEG's libjpeg buffers are the one per-image allocation).
typedef struct sr_cws {
  int c, h, w;
  size_t plane;         // h * w
  size_t n;             // c * h * w
  const uint8_t *in;    // (c, h, w) the clean image
  float *x;             // (c, h, w) clean image / 255
  float *y;             // (c, h, w) corrupted, in [0, 1] units before clipping
  float *t0, *t1;       // (c, h, w) scratch
  float *p0, *p1, *p2;  // (S, S) planes, S = max(h, w, plasma map size)
  int side;             // S
  int *ia, *ib;         // index tables, tab_len entries each
  float *fa, *fb;       // weight tables, tab_len entries each
  size_t tab_len;
  uint8_t *u8;   // (c, h, w) byte scratch
  double *dtab;  // SR_CWS_DTAB doubles: per-level tables a kernel may cache across images
  int dtab_key;  // which kernel/severity dtab holds (0: none)
  void *block;   // the one allocation behind all of the above
} sr_cws;

#define SR_CWS_DTAB (256 * 8)

sr_status sr_cws_init(sr_cws *ws, int c, int h, int w, sr_err *err);
void sr_cws_free(sr_cws *ws);

// One corruption kernel: reads ws->x (and ws->in), writes ws->y.
typedef sr_status (*sr_corrupt_fn)(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);

sr_status sr_cor_gaussian_noise(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_shot_noise(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_impulse_noise(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_defocus_blur(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_glass_blur(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_motion_blur(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_zoom_blur(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_snow(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_frost(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_fog(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_brightness(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_contrast(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_elastic(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_pixelate(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);
sr_status sr_cor_jpeg(sr_cws *ws, int severity, sr_rng *rng, sr_err *err);

// ---- helpers (filter.c) -----------------------------------------------------------------------------
typedef enum { SR_BORDER_CLAMP, SR_BORDER_REFLECT, SR_BORDER_REFLECT101 } sr_border;

// Index i folded into [0, n) by the border rule: clamp (scipy "nearest"), reflect (scipy "reflect",
// d c b a | a b c d) or reflect101 (OpenCV default, d c b | a b c d).
int sr_border_index(int i, int n, sr_border b);
// Normalized Gaussian taps k[0..2r] with r = (int)(truncate * sigma + 0.5), as scipy.ndimage computes
// them; returns r (0 means identity). k must hold 2 * rmax + 1 floats; r is capped at rmax.
int sr_gauss_taps(double sigma, double truncate, float *k, int rmax);
// Symmetric taps k[0..2r], the border rule, and idx: a table of at least max(h, w) + 2r ints.
typedef struct sr_taps {
  const float *k;
  int r;
  sr_border border;
  int *idx;
} sr_taps;
// Separable filter of one (h, w) plane with the taps t: out may alias in. tmp: h*w floats.
void sr_sep_filter(const float *in, float *out, float *tmp, int h, int w, const sr_taps *t);
// Bilinear sample of an (h, w) plane at (y, x), out-of-range coordinates folded by the border rule.
float sr_bilinear(const float *p, int h, int w, float y, float x, sr_border b);
// Fill dst[0..n) with N(mean, sd) draws (Box-Muller, both outputs used).
void sr_fill_normal(sr_rng *rng, float *dst, size_t n, float mean, float sd);

// scipy.ndimage.zoom(order=1)-style "clipped zoom" of an (h, w) plane about its centre by factor z >= 1,
// trimmed back to (h, w), as the reference's clipped_zoom. Uses ws->ia/ib/fa/fb.
void sr_clipped_zoom(sr_cws *ws, const float *in, float *out, double z);
// One-sided Gaussian line blur of an (h, w) plane (our replacement for ImageMagick's -motion-blur):
// out(y, x) = sum_i k_i in(y + round(i sin a), x + round(i cos a)), i = 0 .. 2 ceil(radius),
// k_i ~ exp(-i^2 / (2 sigma^2)), edges clamped. Uses ws->ia/ib/fa.
typedef struct sr_streak {
  double radius, sigma, angle_deg;
} sr_streak;
void sr_line_blur(sr_cws *ws, const float *in, float *out, int h, int w, const sr_streak *s);

#endif
