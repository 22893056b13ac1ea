// Fast Minimum-Norm attack (Pintor, Roli, Brendel, Biggio, NeurIPS 2021), L2 and L-inf, untargeted: steps on
// the normalised gradient of the logit difference inside a ball of radius epsilon, where epsilon jumps to the
// linear estimate of the boundary until an adversarial is seen, then shrinks by (1 - gamma) on adversarial
// points and grows by (1 + gamma) elsewhere; the step size alpha and gamma are cosine-annealed.
#include <math.h>

#include "attack/wbmin.h"

// Loss = max_{j != y} z_j - z_y (ascended): dLoss/dz = +1 at the best other class, -1 at the label.
static sr_status fmn_dlogits(void *ctx, const float *logits, int64_t first, int64_t k, int classes,
                             float *dlogits, sr_err *err) {
  (void)err;
  const int32_t *y = (const int32_t *)ctx + first;
  for (int64_t i = 0; i < k; i++) {
    const float *z = logits + i * classes;
    int other = y[i] == 0 ? 1 : 0;
    for (int j = 0; j < classes; j++) {
      if (j != y[i] && z[j] > z[other]) other = j;
    }
    dlogits[i * classes + other] += 1.0f;
    dlogits[i * classes + y[i]] -= 1.0f;
  }
  return SR_OK;
}

static double fmn_loss(const float *z, int32_t y, int classes) {
  double other = -INFINITY;
  for (int j = 0; j < classes; j++) {
    if (j != y && z[j] > other) other = z[j];
  }
  return other - z[y];
}

static double cosine_anneal(double from, double to, int step, int steps) {
  double c = (1 + cos(M_PI * (double)step / (double)steps)) / 2;
  return to + (from - to) * c;
}

static void fmn_update(sr_wb_state *s, int64_t j, int step, int steps, int is_adv, double dist) {
  const sr_wbmin_opts *o = s->o;
  int64_t d = s->d;
  const float *g = s->g + j * d;
  const float *x = s->x + j * d;
  float *a = s->a + j * d;
  double alpha = cosine_anneal(o->alpha_init, o->alpha_final, step, steps);
  double gamma = cosine_anneal(o->gamma_init, o->gamma_final, step, steps);
  double g2 = 0;
  double gdual = 0;  // the dual norm: L2 for L2, L1 for L-inf
  for (int64_t p = 0; p < d; p++) {
    g2 += (double)g[p] * g[p];
    gdual += fabs((double)g[p]);
  }
  g2 = sqrt(g2);
  if (o->norm == SR_NORM_L2) gdual = g2;
  double loss = fmn_loss(s->logits + j * s->classes, s->y[j], s->classes);
  double to_boundary = fabs(loss) / (gdual > 1e-12 ? gdual : 1e-12);
  double eps = s->eps[j];
  if (is_adv)
    eps = fmin(eps * (1 - gamma), s->best[j]);
  else if (s->adv_found[j])
    eps = eps * (1 + gamma);
  else
    eps = dist + to_boundary;
  eps = fmin(eps, s->worst[j]);
  s->eps[j] = eps;
  double step_scale = alpha / (g2 > 1e-12 ? g2 : 1e-12);
  // the step, then the projection onto the ball (L2: shrink when outside; L-inf: clip), then [0,1]
  double n2 = 0;
  for (int64_t p = 0; p < d; p++) {
    double v = (double)a[p] - x[p] + step_scale * g[p];
    if (o->norm == SR_NORM_LINF) v = v > eps ? eps : v < -eps ? -eps : v;
    a[p] = (float)v;  // the perturbation, for now
    n2 += v * v;
  }
  double f = o->norm == SR_NORM_L2 && sqrt(n2) > eps ? eps / sqrt(n2) : 1.0;
  for (int64_t p = 0; p < d; p++) a[p] = sr_clip01f(x[p] + f * a[p]);
}

static const sr_wb_algo fmn_algo = {.name = "fmn", .dlogits = fmn_dlogits, .update = fmn_update};

sr_status sr_fmn(sr_amodel *am, const sr_labeled *in, const sr_wbmin_opts *o, sr_attack_result *r,
                 sr_err *err) {
  if (o->norm != SR_NORM_L2 && o->norm != SR_NORM_LINF)
    return sr_fail(err, SR_ERR_ARG, "fmn: norm must be L2 or L-inf");
  if (!(o->alpha_init > 0) || !(o->alpha_final >= 0) || !(o->gamma_init >= 0 && o->gamma_init < 1) ||
      !(o->gamma_final >= 0 && o->gamma_final < 1))
    return sr_fail(err, SR_ERR_ARG, "fmn: alpha must be > 0 and gamma in [0, 1)");
  return sr_wbmin_run(am, in, o, &fmn_algo, 0, r, err);
}
