// Brightness (V + c in HSV) and contrast (scaling about the per-channel mean).
#include "internal.h"

static const float BRIGHT[5] = {.05f, .1f, .15f, .2f, .3f};
static const float CONTRAST[5] = {.75f, .5f, .4f, .3f, .15f};

// For fixed hue and saturation RGB is proportional to V = max(R, G, B), so rgb2hsv -> V' = clip(V + c)
// -> hsv2rgb is exactly rgb * V'/V (and V' gray for black pixels). For one channel V is the value itself.
sr_status sr_cor_brightness(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)rng;
  (void)err;
  float c = BRIGHT[severity - 1];
  size_t np = ws->plane;
  if (ws->c == 1) {
    for (size_t i = 0; i < np; i++) {
      float v = ws->x[i] + c;
      ws->y[i] = v > 1.f ? 1.f : v;
    }
    return SR_OK;
  }
  const float *r = ws->x, *g = r + np, *b = g + np;
  for (size_t i = 0; i < np; i++) {
    float v = r[i] > g[i] ? r[i] : g[i];
    v = v > b[i] ? v : b[i];
    float v2 = v + c > 1.f ? 1.f : v + c;
    if (v > 0) {
      float s = v2 / v;
      ws->y[i] = r[i] * s;
      ws->y[np + i] = g[i] * s;
      ws->y[2 * np + i] = b[i] * s;
    } else {
      ws->y[i] = ws->y[np + i] = ws->y[2 * np + i] = v2;
    }
  }
  return SR_OK;
}

sr_status sr_cor_contrast(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)rng;
  (void)err;
  float c = CONTRAST[severity - 1];
  for (int ch = 0; ch < ws->c; ch++) {
    const float *x = ws->x + (size_t)ch * ws->plane;
    float *y = ws->y + (size_t)ch * ws->plane;
    double sum = 0;
    for (size_t i = 0; i < ws->plane; i++) sum += x[i];
    float mean = (float)(sum / (double)ws->plane);
    for (size_t i = 0; i < ws->plane; i++) y[i] = (x[i] - mean) * c + mean;
  }
  return SR_OK;
}
