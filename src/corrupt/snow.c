// Snow: a thresholded, zoomed noise layer streaked by a line blur, added twice (once rotated by 180
// degrees) onto a brightened image.
#include <math.h>

#include "internal.h"

static const struct {
  double loc, scale, zoom, threshold, radius, sigma, blend;
} SNOW[5] = {{.1, .2, 1, .6, 8, 3, .95},
             {.1, .2, 1, .5, 10, 4, .9},
             {.15, .3, 1.75, .55, 10, 4, .9},
             {.25, .3, 2.25, .6, 12, 6, .85},
             {.3, .3, 1.25, .65, 14, 12, .8}};

sr_status sr_cor_snow(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)err;
  int h = ws->h, w = ws->w;
  size_t np = ws->plane;
  float *layer = ws->p0, *tmp = ws->p1;  // (h, w)
  sr_fill_normal(rng, tmp, np, (float)SNOW[severity - 1].loc, (float)SNOW[severity - 1].scale);
  sr_clipped_zoom(ws, tmp, layer, SNOW[severity - 1].zoom);
  // Threshold, then the 8-bit round trip of the reference (np.uint8 truncation into a PNG).
  float thr = (float)SNOW[severity - 1].threshold;
  for (size_t i = 0; i < np; i++) {
    float v = layer[i] < thr ? 0.f : layer[i];
    v = v > 1.f ? 1.f : v;
    layer[i] = floorf(v * 255.f + 1e-3f) * (1.f / 255.f);
  }
  double angle = -135.0 + 90.0 * sr_rng_uniform(rng);
  sr_streak streak = {
      .radius = SNOW[severity - 1].radius, .sigma = SNOW[severity - 1].sigma, .angle_deg = angle};
  sr_line_blur(ws, layer, tmp, h, w, &streak);
  for (size_t i = 0; i < np; i++) tmp[i] = roundf(tmp[i] * 255.f) * (1.f / 255.f);  // back from PNG

  // x' = blend x + (1 - blend) max(x, 1.5 gray(x) + 0.5); gray = OpenCV's RGB2GRAY weights (or x itself).
  const float *x = ws->x;
  float *gray = layer;
  if (ws->c == 3) {
    for (size_t i = 0; i < np; i++) gray[i] = .299f * x[i] + .587f * x[np + i] + .114f * x[2 * np + i];
  } else {
    for (size_t i = 0; i < np; i++) gray[i] = x[i];
  }
  float b = (float)SNOW[severity - 1].blend;
  for (int ch = 0; ch < ws->c; ch++) {
    const float *xc = x + (size_t)ch * np;
    float *yc = ws->y + (size_t)ch * np;
    for (size_t i = 0; i < np; i++) {
      float lift = gray[i] * 1.5f + 0.5f;
      float m = xc[i] > lift ? xc[i] : lift;
      yc[i] = b * xc[i] + (1 - b) * m + tmp[i] + tmp[np - 1 - i];  // tmp[np-1-i]: the layer rotated 180
    }
  }
  return SR_OK;
}
