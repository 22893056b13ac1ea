// Elastic transform: a random affine warp, then a smooth random displacement field (Simard et al.),
// with the reference's parameters expressed as fractions of the image side (it hard-codes 32).
#include <math.h>

#include "internal.h"

// alpha (displacement scale), sigma (field smoothness), affine jitter; times the image side.
static const double ELASTIC[5][3] = {
    {0, 0, .08}, {.05, .2, .07}, {.08, .06, .06}, {.1, .04, .05}, {.1, .03, .03}};

// Affine map A (2x3) with A * p_i = q_i for three points (solves two 3x3 systems by Cramer's rule).
static void affine_from_points(const double p[3][2], const double q[3][2], double A[2][3]) {
  double det =
      p[0][0] * (p[1][1] - p[2][1]) - p[0][1] * (p[1][0] - p[2][0]) + (p[1][0] * p[2][1] - p[2][0] * p[1][1]);
  for (int r = 0; r < 2; r++) {
    double b0 = q[0][r], b1 = q[1][r], b2 = q[2][r];
    A[r][0] = (b0 * (p[1][1] - p[2][1]) - p[0][1] * (b1 - b2) + (b1 * p[2][1] - b2 * p[1][1])) / det;
    A[r][1] = (p[0][0] * (b1 - b2) - b0 * (p[1][0] - p[2][0]) + (p[1][0] * b2 - p[2][0] * b1)) / det;
    A[r][2] = (p[0][0] * (p[1][1] * b2 - p[2][1] * b1) - p[0][1] * (p[1][0] * b2 - p[2][0] * b1) +
               b0 * (p[1][0] * p[2][1] - p[2][0] * p[1][1])) /
              det;
  }
}

// field (h, w): U(-1, 1) smoothed by a Gaussian (truncate 3, scipy 'reflect'), times alpha.
static void displacement(sr_cws *ws, sr_rng *rng, float *field, double sigma, double alpha) {
  size_t np = ws->plane;
  for (size_t i = 0; i < np; i++) field[i] = 2.f * sr_rng_uniformf(rng) - 1.f;
  int rmax = (int)((ws->tab_len - 1) / 2);
  int r = sr_gauss_taps(sigma, 3.0, ws->fb, rmax);
  if (r > 0)
    sr_sep_filter(field, field, ws->p2, ws->h, ws->w,
                  &(sr_taps){.k = ws->fb, .r = r, .border = SR_BORDER_REFLECT, .idx = ws->ia});
  for (size_t i = 0; i < np; i++) field[i] *= (float)alpha;
}

sr_status sr_cor_elastic(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)err;
  int h = ws->h, w = ws->w;
  double side = h < w ? h : w;
  double alpha = ELASTIC[severity - 1][0] * side, sigma = ELASTIC[severity - 1][1] * side;
  double jitter = ELASTIC[severity - 1][2] * side;
  // Three points around the centre, (x, y); each coordinate jittered by U(-jitter, jitter).
  double cx = w / 2, cy = h / 2, s = (int)side / 3;
  double p[3][2] = {{cx + s, cy + s}, {cx + s, cy - s}, {cx - s, cy - s}}, q[3][2];
  for (int i = 0; i < 3; i++)
    for (int k = 0; k < 2; k++) q[i][k] = p[i][k] + jitter * (2 * sr_rng_uniform(rng) - 1);
  // cv2.warpAffine(img, M(p -> q)) samples the source at M^-1(dst): build the q -> p map directly.
  double A[2][3];
  affine_from_points(q, p, A);
  for (int ch = 0; ch < ws->c; ch++) {
    const float *src = ws->x + (size_t)ch * ws->plane;
    float *dst = ws->t0 + (size_t)ch * ws->plane;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        float sx = (float)(A[0][0] * x + A[0][1] * y + A[0][2]);
        float sy = (float)(A[1][0] * x + A[1][1] * y + A[1][2]);
        dst[(size_t)y * (size_t)w + x] = sr_bilinear(src, h, w, sy, sx, SR_BORDER_REFLECT101);
      }
  }
  if (alpha == 0) {
    for (size_t i = 0; i < ws->n; i++) ws->y[i] = ws->t0[i];
    return SR_OK;
  }
  float *dx = ws->p0, *dy = ws->p1;
  displacement(ws, rng, dx, sigma, alpha);
  displacement(ws, rng, dy, sigma, alpha);
  for (int ch = 0; ch < ws->c; ch++) {
    const float *src = ws->t0 + (size_t)ch * ws->plane;
    float *dst = ws->y + (size_t)ch * ws->plane;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        size_t i = (size_t)y * (size_t)w + x;
        dst[i] = sr_bilinear(src, h, w, (float)y + dy[i], (float)x + dx[i], SR_BORDER_REFLECT);
      }
  }
  return SR_OK;
}
