// Distances and the exact eps-ball guard shared by the attacks.
#include <math.h>
#include <string.h>

#include "attack/internal.h"

double sr_dist_l2(const float *a, const float *b, int64_t d) {
  double s = 0;
  for (int64_t p = 0; p < d; p++) s += ((double)a[p] - b[p]) * ((double)a[p] - b[p]);
  return sqrt(s);
}

double sr_dist_linf(const float *a, const float *b, int64_t d) {
  double m = 0;
  for (int64_t p = 0; p < d; p++) {
    double v = fabs((double)a[p] - b[p]);
    m = v > m ? v : m;
  }
  return m;
}

// Rounding x + delta to float can land an ulp outside the ball; the attacks promise "within eps exactly",
// so the guard works on the stored floats. Moving toward x keeps every value inside [0,1] (x is).
void sr_ball_fit(sr_norm norm, double eps, const float *x, float *adv, int64_t d) {
  if (norm == SR_NORM_LINF) {
    for (int64_t p = 0; p < d; p++)
      while (fabs((double)adv[p] - x[p]) > eps) adv[p] = nextafterf(adv[p], x[p]);
    return;
  }
  for (int shrink = 0; shrink < 64; shrink++) {
    double n = sr_dist_l2(adv, x, d);
    if (n <= eps) return;
    double f = eps / n * (1 - 1e-6 * (shrink + 1));
    for (int64_t p = 0; p < d; p++) adv[p] = (float)(x[p] + f * ((double)adv[p] - x[p]));
  }
  memcpy(adv, x, (size_t)d * sizeof(float));  // unreachable for finite eps >= 0; x is always inside
}

void sr_attack_normals(sr_rng *rng, float *out, int64_t n) {
  for (int64_t i = 0; i < n; i += 2) {
    double u1 = 1.0 - sr_rng_uniform(rng), u2 = sr_rng_uniform(rng);  // u1 in (0, 1]: log is finite
    double r = sqrt(-2.0 * log(u1)), s = sin(2.0 * M_PI * u2), c = cos(2.0 * M_PI * u2);
    out[i] = (float)(r * c);
    if (i + 1 < n) out[i + 1] = (float)(r * s);
  }
}
