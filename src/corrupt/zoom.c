// Zoom blur: the mean of the image and centre crops zoomed back to full size (clipped_zoom).
#include <math.h>
#include <string.h>

#include "internal.h"

static const double ZOOM_END[5] = {1.06, 1.11, 1.16, 1.21, 1.26};

// Per output index along one axis of length n: the lower source index and the interpolation weight.
// Crop ceil(n / z) centred samples, zoom them to round(crop * z) with scipy's order-1 grid (corners
// aligned), then keep the centre n.
static void zoom_axis(int n, double z, int *i0, float *frac) {
  int crop = (int)ceil((double)n / z);
  if (crop > n) crop = n;
  int top = (n - crop) / 2;
  int zn = (int)nearbyint((double)crop * z);  // Python round(): half to even
  int trim = (zn - n) / 2;
  double scale = zn > 1 ? (double)(crop - 1) / (double)(zn - 1) : 0.0;
  for (int o = 0; o < n; o++) {
    double src = (double)(o + trim) * scale;
    int lo = (int)floor(src);
    if (lo > crop - 1) lo = crop - 1;
    i0[o] = top + lo;
    frac[o] = (float)(src - lo);
  }
}

void sr_clipped_zoom(sr_cws *ws, const float *in, float *out, double z) {
  // in, out: (h, w)
  int h = ws->h, w = ws->w;
  zoom_axis(h, z, ws->ia, ws->fa);
  zoom_axis(w, z, ws->ib, ws->fb);
  for (int y = 0; y < h; y++) {
    int y0 = ws->ia[y], y1 = y0 + 1 < h ? y0 + 1 : y0;
    float ay = ws->fa[y];
    const float *r0 = in + (size_t)y0 * (size_t)w, *r1 = in + (size_t)y1 * (size_t)w;
    float *dst = out + (size_t)y * (size_t)w;
    for (int x = 0; x < w; x++) {
      int x0 = ws->ib[x], x1 = x0 + 1 < w ? x0 + 1 : x0;
      float ax = ws->fb[x];
      float top = r0[x0] + ax * (r0[x1] - r0[x0]);
      float bot = r1[x0] + ax * (r1[x1] - r1[x0]);
      dst[x] = top + ay * (bot - top);
    }
  }
}

sr_status sr_cor_zoom_blur(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)rng;
  (void)err;
  // np.arange(1, end, 0.01): ceil((end - 1) / 0.01) factors 1 + i * 0.01 (float rounding makes the
  // end point itself part of severities 1 and 2: 7 and 12 factors, then 16, 21, 26).
  int count = (int)ceil((ZOOM_END[severity - 1] - 1.0) / 0.01);
  memcpy(ws->y, ws->x, ws->n * sizeof(float));
  for (int i = 0; i < count; i++) {
    double z = 1.0 + (double)i * 0.01;
    for (int ch = 0; ch < ws->c; ch++) {
      size_t off = (size_t)ch * ws->plane;
      sr_clipped_zoom(ws, ws->x + off, ws->t0, z);
      float *y = ws->y + off;
      for (size_t p = 0; p < ws->plane; p++) y[p] += ws->t0[p];
    }
  }
  float inv = 1.f / (float)(count + 1);
  for (size_t i = 0; i < ws->n; i++) ws->y[i] *= inv;
  return SR_OK;
}
