// Decoupling Direction and Norm (Rony et al., CVPR 2019), L2, untargeted: a step of size alpha (cosine from 1
// to 0.01) along the normalised cross-entropy gradient, then the perturbation rescaled to norm epsilon, which
// shrinks by (1 - gamma) while the current point is adversarial and grows by (1 + gamma) otherwise; pixel
// values are rounded to `levels` levels after every step.
#include <math.h>

#include "attack/wbmin.h"

// Cross-entropy of the label: softmax - onehot.
static sr_status ddn_dlogits(void *ctx, const float *logits, int64_t first, int64_t k, int classes,
                             float *dlogits, sr_err *err) {
  (void)err;
  const int32_t *y = (const int32_t *)ctx + first;
  for (int64_t i = 0; i < k; i++) {
    const float *z = logits + i * classes;
    float *g = dlogits + i * classes;
    double mx = z[0];
    for (int j = 1; j < classes; j++) mx = z[j] > mx ? z[j] : mx;
    double sum = 0;
    for (int j = 0; j < classes; j++) sum += exp((double)z[j] - mx);
    for (int j = 0; j < classes; j++) g[j] = (float)(exp((double)z[j] - mx) / sum);
    g[y[i]] -= 1.0f;
  }
  return SR_OK;
}

static void ddn_update(sr_wb_state *s, int64_t j, int step, int steps, int is_adv, double dist) {
  (void)dist;
  const sr_wbmin_opts *o = s->o;
  int64_t d = s->d;
  float *g = s->g + j * d;
  const float *x = s->x + j * d;
  float *a = s->a + j * d;
  double alpha =
      o->alpha_final + (o->alpha_init - o->alpha_final) * (1 + cos(M_PI * step / (double)steps)) / 2;
  double g2 = 0;
  for (int64_t p = 0; p < d; p++) g2 += (double)g[p] * g[p];
  g2 = sqrt(g2);
  if (!(g2 >= 1e-12)) {  // a zero gradient: a random direction instead (a unit one)
    sr_attack_normals(&s->rng[j], g, d);
    g2 = 0;
    for (int64_t p = 0; p < d; p++) g2 += (double)g[p] * g[p];
    g2 = sqrt(g2);
  }
  double eps = s->eps[j] == INFINITY ? o->init_norm : s->eps[j];
  eps = is_adv ? (1 - o->gamma_init) * eps : (1 + o->gamma_init) * eps;
  eps = fmin(eps, s->worst[j]);
  s->eps[j] = eps;
  double n2 = 0;
  for (int64_t p = 0; p < d; p++) {
    double v = (double)a[p] - x[p] + alpha * g[p] / g2;
    g[p] = (float)v;  // the new perturbation, for now
    n2 += v * v;
  }
  double f = n2 > 0 ? eps / sqrt(n2) : 0;
  double lv = o->levels > 1 ? (double)(o->levels - 1) : 0;
  for (int64_t p = 0; p < d; p++) {
    double v = sr_clip01f(x[p] + f * g[p]);
    a[p] = lv > 0 ? (float)(nearbyint(v * lv) / lv) : (float)v;
  }
}

static const sr_wb_algo ddn_algo = {.name = "ddn", .dlogits = ddn_dlogits, .update = ddn_update};

sr_status sr_ddn(sr_amodel *am, const sr_labeled *in, const sr_wbmin_opts *o, uint64_t seed,
                 sr_attack_result *r, sr_err *err) {
  if (o->norm != SR_NORM_L2) return sr_fail(err, SR_ERR_ARG, "ddn: only the L2 norm");
  if (!(o->init_norm > 0) || !(o->gamma_init > 0 && o->gamma_init < 1) || !(o->alpha_init > 0) ||
      o->levels < 0)
    return sr_fail(err, SR_ERR_ARG, "ddn: init_norm and alpha must be > 0, gamma in (0, 1), levels >= 0");
  return sr_wbmin_run(am, in, o, &ddn_algo, seed, r, err);
}
