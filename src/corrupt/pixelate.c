// Pixelate: shrink by a factor with a box filter, then enlarge back with it (PIL's Image.BOX resize,
// which rounds to 8 bits after each of its horizontal and vertical passes).
#include <math.h>

#include "internal.h"

static const double PIXELATE[5] = {.95, .9, .85, .75, .65};

#define MAX_TAPS 8

// Pillow's coefficients for resizing n_in -> n_out with the box filter: output o averages the inputs
// whose centres fall inside its footprint [o, o + 1) * n_in / n_out (at least the nearest one when
// enlarging). start[o], count[o], weights wt[o * MAX_TAPS + t].
static void box_coeffs(int n_in, int n_out, int *start, int *count, float *wt) {
  double scale = (double)n_in / n_out, fs = scale > 1 ? scale : 1, support = 0.5 * fs;
  for (int o = 0; o < n_out; o++) {
    double centre = (o + 0.5) * scale;
    int lo = (int)(centre - support + 0.5), hi = (int)(centre + support + 0.5);
    lo = lo < 0 ? 0 : lo;
    hi = hi > n_in ? n_in : hi;
    int k = hi - lo > MAX_TAPS ? MAX_TAPS : hi - lo;
    double sum = 0, v[MAX_TAPS];
    for (int t = 0; t < k; t++) {
      double u = (t + lo - centre + 0.5) / fs;
      sum += v[t] = (u > -0.5 && u <= 0.5) ? 1.0 : 0.0;
    }
    for (int t = 0; t < k; t++) wt[o * MAX_TAPS + t] = (float)(sum > 0 ? v[t] / sum : 0);
    start[o] = lo;
    count[o] = k;
  }
}

// A strided view of lines of n elements: line l, element i at l * line + i * step.
typedef struct box_view {
  int n;
  size_t line, step;
} box_view;

// One pass over `lines` lines: out[l][o] = round(sum_t wt * in[l][start + t]), strides in elements.
static void box_pass(const float *in, box_view iv, float *out, box_view ov, int lines, sr_cws *ws) {
  const int n_in = iv.n, n_out = ov.n;
  const size_t in_line = iv.line, in_step = iv.step, out_line = ov.line, out_step = ov.step;
  box_coeffs(n_in, n_out, ws->ia, ws->ib, ws->fa);
  for (int l = 0; l < lines; l++)
    for (int o = 0; o < n_out; o++) {
      const float *src = in + (size_t)l * in_line + (size_t)ws->ia[o] * in_step;
      const float *wt = ws->fa + (size_t)o * MAX_TAPS;
      float acc = 0;
      for (int t = 0; t < ws->ib[o]; t++) acc += wt[t] * src[(size_t)t * in_step];
      out[(size_t)l * out_line + (size_t)o * out_step] = floorf(acc + 0.5f);
    }
}

sr_status sr_cor_pixelate(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)rng;
  (void)err;
  int h = ws->h, w = ws->w;
  int h2 = (int)(h * PIXELATE[severity - 1]), w2 = (int)(w * PIXELATE[severity - 1]);
  float *a = ws->t0, *b = ws->t1;  // (h, w)-sized scratch, values in 0..255
  for (int ch = 0; ch < ws->c; ch++) {
    const uint8_t *src = ws->in + (size_t)ch * ws->plane;
    float *y = ws->y + (size_t)ch * ws->plane;
    for (size_t i = 0; i < ws->plane; i++) y[i] = src[i];
    box_pass(y, (box_view){w, (size_t)w, 1}, a, (box_view){w2, (size_t)w2, 1}, h, ws);    // (h, w) -> (h, w2)
    box_pass(a, (box_view){h, 1, (size_t)w2}, b, (box_view){h2, 1, (size_t)w2}, w2, ws);  // -> (h2, w2)
    box_pass(b, (box_view){w2, (size_t)w2, 1}, a, (box_view){w, (size_t)w, 1}, h2, ws);   // -> (h2, w)
    box_pass(a, (box_view){h2, 1, (size_t)w}, y, (box_view){h, 1, (size_t)w}, w, ws);     // -> (h, w)
    for (size_t i = 0; i < ws->plane; i++) y[i] *= 1.f / 255.f;
  }
  return SR_OK;
}
