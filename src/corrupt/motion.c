// Motion blur: a one-sided Gaussian line kernel at a random angle (our replacement for ImageMagick's
// MotionBlurImage, which the reference calls through Wand).
#include <math.h>

#include "internal.h"

static const double MOTION[5][2] = {{6, 1}, {6, 1.5}, {6, 2}, {8, 2}, {9, 2.5}};  // radius, sigma

void sr_line_blur(sr_cws *ws, const float *in, float *out, int h, int w, const sr_streak *s) {
  const double radius = s->radius, sigma = s->sigma, angle_deg = s->angle_deg;
  // in, out: (h, w). Tap i samples the pixel i steps along the angle (trailing streak).
  int taps = 2 * (int)ceil(radius) + 1;
  if (taps > 128) taps = 128;
  float *k = ws->fa;
  int *ox = ws->ia, *oy = ws->ib;
  double a = angle_deg * M_PI / 180.0, ca = cos(a), sa = sin(a), sum = 0;
  for (int i = 0; i < taps; i++) {
    double v = exp(-(double)(i * i) / (2 * sigma * sigma));
    k[i] = (float)v;
    sum += v;
    ox[i] = (int)ceil(i * ca - 0.5);
    oy[i] = (int)ceil(i * sa - 0.5);
  }
  for (int i = 0; i < taps; i++) k[i] = (float)(k[i] / sum);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      float acc = 0;
      for (int i = 0; i < taps; i++) {
        int yy = y + oy[i], xx = x + ox[i];
        yy = yy < 0 ? 0 : yy >= h ? h - 1 : yy;
        xx = xx < 0 ? 0 : xx >= w ? w - 1 : xx;
        acc += k[i] * in[(size_t)yy * (size_t)w + xx];
      }
      out[(size_t)y * (size_t)w + x] = acc;
    }
}

sr_status sr_cor_motion_blur(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)err;
  double angle = -45.0 + 90.0 * sr_rng_uniform(rng);
  for (int ch = 0; ch < ws->c; ch++) {
    size_t off = (size_t)ch * ws->plane;
    sr_streak s = {.radius = MOTION[severity - 1][0], .sigma = MOTION[severity - 1][1], .angle_deg = angle};
    sr_line_blur(ws, ws->x + off, ws->y + off, ws->h, ws->w, &s);
  }
  // The reference gets the result back as an 8-bit PNG: round to the nearest level.
  for (size_t i = 0; i < ws->n; i++) ws->y[i] = roundf(ws->y[i] * 255.f) * (1.f / 255.f);
  return SR_OK;
}
