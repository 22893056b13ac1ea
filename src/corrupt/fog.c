// Fog: a diamond-square plasma fractal added to the image, rescaled to keep the maximum.
#include <string.h>

#include "internal.h"

static const double FOG[5][2] = {{.2, 3}, {.5, 3}, {.75, 2.5}, {1, 2}, {1.5, 1.75}};  // amplitude, decay

// Diamond-square on an S x S torus (S a power of two), as the reference's plasma_fractal with its
// np.roll wrap-around and its "wibble * U(-wibble, wibble)" perturbation; normalized to [0, 1].
static void plasma(float *m, int S, double decay, sr_rng *rng) {
  memset(m, 0, (size_t)S * (size_t)S * sizeof(float));
  double wibble = 100;
#define AT(i, j) m[(size_t)(i) * (size_t)S + (size_t)(j)]
  for (int step = S; step >= 2; step /= 2, wibble /= decay) {
    int half = step / 2, g = S / step;  // g x g grid of corners
    // Squares: centre = mean of its 4 corners + noise.
    for (int i = 0; i < g; i++)
      for (int j = 0; j < g; j++) {
        int i1 = (i + 1) % g, j1 = (j + 1) % g;
        double s = AT(i * step, j * step) + AT(i1 * step, j * step) + AT(i * step, j1 * step) +
                   AT(i1 * step, j1 * step);
        AT(i * step + half, j * step + half) =
            (float)(s / 4 + wibble * wibble * (2 * sr_rng_uniform(rng) - 1));
      }
    // Diamonds on the top edges: the centres above and below, the corners left and right.
    for (int i = 0; i < g; i++)
      for (int j = 0; j < g; j++) {
        int im = (i + g - 1) % g, j1 = (j + 1) % g;
        double s = AT(i * step + half, j * step + half) + AT(im * step + half, j * step + half) +
                   AT(i * step, j * step) + AT(i * step, j1 * step);
        AT(i * step, j * step + half) = (float)(s / 4 + wibble * wibble * (2 * sr_rng_uniform(rng) - 1));
      }
    // Diamonds on the left edges.
    for (int i = 0; i < g; i++)
      for (int j = 0; j < g; j++) {
        int jm = (j + g - 1) % g, i1 = (i + 1) % g;
        double s = AT(i * step + half, j * step + half) + AT(i * step + half, jm * step + half) +
                   AT(i * step, j * step) + AT(i1 * step, j * step);
        AT(i * step + half, j * step) = (float)(s / 4 + wibble * wibble * (2 * sr_rng_uniform(rng) - 1));
      }
  }
#undef AT
  size_t n = (size_t)S * (size_t)S;
  float lo = m[0], hi = m[0];
  for (size_t i = 1; i < n; i++) {
    lo = m[i] < lo ? m[i] : lo;
    hi = m[i] > hi ? m[i] : hi;
  }
  float inv = hi > lo ? 1.f / (hi - lo) : 0.f;
  for (size_t i = 0; i < n; i++) m[i] = (m[i] - lo) * inv;
}

sr_status sr_cor_fog(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)err;
  float amp = (float)FOG[severity - 1][0];
  plasma(ws->p0, ws->side, FOG[severity - 1][1], rng);
  float maxv = 0;
  for (size_t i = 0; i < ws->n; i++) maxv = ws->x[i] > maxv ? ws->x[i] : maxv;
  float scale = maxv / (maxv + amp);
  for (int ch = 0; ch < ws->c; ch++)
    for (int y = 0; y < ws->h; y++) {
      const float *f = ws->p0 + (size_t)y * (size_t)ws->side;  // top-left h x w crop of the map
      size_t off = (size_t)ch * ws->plane + (size_t)y * (size_t)ws->w;
      for (int x = 0; x < ws->w; x++) ws->y[off + x] = (ws->x[off + x] + amp * f[x]) * scale;
    }
  return SR_OK;
}
