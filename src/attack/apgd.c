// Auto-PGD (Croce & Hein, ICML 2020), L-inf and L2: PGD with momentum 0.75 whose step size starts at 2 eps
// and is halved at checkpoints when the loss stopped rising often enough (or neither the step nor the best
// loss changed since the last checkpoint), restarting from the best point. Losses: cross-entropy, DLR and the
// targeted DLR of APGD-T (one run per target, the classes ranked 2nd, 3rd, ... by the clean logits).
// An image leaves the run as soon as an iterate is misclassified: the reference would only keep iterating it
// for the best loss, which AutoAttack does not use, so the per-image outcome is the same.
#include <math.h>
#include <string.h>

#include "attack/internal.h"

sr_apgd_opts sr_apgd_opts_default(sr_norm norm, double eps, sr_apgd_loss loss) {
  return (sr_apgd_opts){.norm = norm,
                        .eps = eps,
                        .loss = loss,
                        .iterations = 100,
                        .restarts = 1,
                        .targets = 9,
                        .rho = 0.75,
                        .momentum = 0.75};
}

// ---- losses
// ------------------------------------------------------------------------------------------------ Indices of
// the three / four largest logits (first index wins ties, as a stable sort would rank them).
static void top4(const double *z, int nc, int top[4]) {
  for (int t = 0; t < 4; t++) top[t] = -1;
  for (int j = 0; j < nc; j++) {
    int pos = 4;
    while (pos > 0 && (top[pos - 1] < 0 || z[j] > z[top[pos - 1]])) pos--;
    if (pos >= 4) continue;
    for (int t = 3; t > pos; t--) top[t] = top[t - 1];
    top[pos] = j;
  }
}

double sr_apgd_dlr(const double *z, int classes, int32_t y, int32_t target, double *grad) {
  int top[4];
  top4(z, classes, top);
  if (grad)
    for (int j = 0; j < classes; j++) grad[j] = 0;
  // untargeted: -(z_y - max_{j != y} z_j) / (z_pi1 - z_pi3); targeted: -(z_y - z_t) / (z_pi1 - (z_pi3 +
  // z_pi4) / 2)
  int other = target >= 0 ? target : top[0] == y ? top[1] : top[0];
  double u = z[y] - z[other];
  double v = target >= 0 ? z[top[0]] - 0.5 * (z[top[2]] + z[top[3]]) + 1e-12 : z[top[0]] - z[top[2]] + 1e-12;
  if (grad) {
    grad[y] -= 1 / v;
    grad[other] += 1 / v;
    grad[top[0]] += u / (v * v);
    if (target >= 0) {
      grad[top[2]] -= 0.5 * u / (v * v);
      grad[top[3]] -= 0.5 * u / (v * v);
    } else {
      grad[top[2]] -= u / (v * v);
    }
  }
  return -u / v;
}

static double ce_loss(const double *z, int nc, int32_t y, double *grad) {
  double mx = z[0], s = 0;
  for (int j = 1; j < nc; j++) mx = z[j] > mx ? z[j] : mx;
  for (int j = 0; j < nc; j++) s += exp(z[j] - mx);
  for (int j = 0; j < nc; j++) grad[j] = exp(z[j] - mx) / s - (j == y);
  return mx + log(s) - z[y];
}

// ---- state of one group of images
// --------------------------------------------------------------------------
typedef struct apgd_state {
  sr_amodel *am;
  const sr_apgd_opts *o;
  int64_t k, d;
  int nc;
  const float *x;                                       // (k, d)
  const int32_t *y;                                     // (k)
  int32_t *target;                                      // (k) of the current run, -1: untargeted
  float *adv, *old, *best, *grad, *gbest;               // (k, d)
  float *pack, *pgrad;                                  // (k, d) the active images, packed for the model
  float *logits;                                        // (k, classes)
  float *clean;                                         // (k, classes) clean logits (APGD-T's targets)
  double *loss, *lprev, *lbest, *lcheck, *lkeep, *eta;  // (k)
  double *zd, *gd;                                      // (classes) scratch of the loss
  int *reduced, *up, *found;                            // (k)
  int64_t *list, *queries, *init, *steps;               // (k); queries / init / steps: into the result
  float *out;  // (k, d) into the result: first misclassified iterate, or the
               // highest-loss point over the runs
} apgd_state;

// dLoss/dlogits of the packed images; their losses into s->loss.
static sr_status dlogits(void *ctx, const float *logits, int64_t first, int64_t k, int classes, float *dl,
                         sr_err *err) {
  (void)err;
  apgd_state *s = ctx;
  for (int64_t j = 0; j < k; j++) {
    int64_t i = s->list[first + j];
    for (int c = 0; c < classes; c++) s->zd[c] = logits[j * classes + c];
    double l;
    if (s->o->loss == SR_APGD_CE)
      l = ce_loss(s->zd, classes, s->y[i], s->gd);
    else
      l = sr_apgd_dlr(s->zd, classes, s->y[i], s->o->loss == SR_APGD_DLR_TARGETED ? s->target[i] : -1, s->gd);
    for (int c = 0; c < classes; c++) dl[j * classes + c] = (float)s->gd[c];
    s->loss[i] = l;
  }
  return SR_OK;
}

static int argmax(const float *z, int nc) {
  int b = 0;
  for (int j = 1; j < nc; j++)
    if (z[j] > z[b]) b = j;
  return b;
}

// Loss, gradient and prediction at adv for the m listed images (one gradient call each).
static sr_status evaluate(apgd_state *s, int64_t m, sr_err *err) {
  int64_t d = s->d;
  for (int64_t j = 0; j < m; j++) memcpy(s->pack + j * d, s->adv + s->list[j] * d, (size_t)d * sizeof(float));
  sr_status st = sr_amodel_grad(s->am, s->pack, m, &(sr_loss){.fn = dlogits, .ctx = s},
                                &(sr_grad_out){.g = s->pgrad, .logits = s->logits}, err);
  for (int64_t j = 0; j < m && !st; j++) {
    int64_t i = s->list[j];
    s->queries[i]++;
    memcpy(s->grad + i * d, s->pgrad + j * d, (size_t)d * sizeof(float));
    if (!s->found[i] && argmax(s->logits + j * s->nc, s->nc) != s->y[i]) {
      s->found[i] = 1;
      memcpy(s->out + i * d, s->adv + i * d, (size_t)d * sizeof(float));
    }
  }
  return st;
}

// ---- geometry
// ----------------------------------------------------------------------------------------------
static double l2n(const float *v, int64_t d) {
  double t = 0;
  for (int64_t p = 0; p < d; p++) t += (double)v[p] * v[p];
  return sqrt(t);
}

// L-inf: clip to the ball (never an ulp outside, measured in double) and to [0,1].
static float clip_linf(double v, float x, double eps) {
  double lo = (double)x - eps;
  double hi = (double)x + eps;
  float a = sr_clip01f(v < lo ? lo : v > hi ? hi : v);
  while (fabs((double)a - x) > eps) a = nextafterf(a, x);
  return a;
}

// L2: delta = v - x scaled to norm <= eps, then [0,1] (as the reference: project, then clip). v: d values.
static void proj_l2(const float *x, float *v, int64_t d, double eps) {
  double nrm = 0;
  for (int64_t p = 0; p < d; p++) nrm += ((double)v[p] - x[p]) * ((double)v[p] - x[p]);
  nrm = sqrt(nrm);
  double f = nrm > eps ? eps / (nrm + 1e-12) : 1;
  for (int64_t p = 0; p < d; p++) v[p] = sr_clip01f((double)x[p] + f * ((double)v[p] - x[p]));
  sr_ball_fit(SR_NORM_L2, eps, x, v, d);
}

static void random_start(apgd_state *s, int64_t i, sr_rng *rng) {
  int64_t d = s->d;
  const float *x = s->x + i * d;
  float *a = s->adv + i * d, *t = s->pack;  // pack is free between evaluations
  double nrm = 0;
  if (s->o->norm == SR_NORM_LINF) {
    for (int64_t p = 0; p < d; p++) {
      t[p] = (float)(2 * sr_rng_uniform(rng) - 1);
      nrm = fabs(t[p]) > nrm ? fabs(t[p]) : nrm;
    }
  } else {
    sr_attack_normals(rng, t, d);
    nrm = l2n(t, d);
  }
  double f = s->o->eps / (nrm + 1e-12);
  for (int64_t p = 0; p < d; p++) {
    double v = (double)x[p] + f * t[p];
    a[p] = s->o->norm == SR_NORM_LINF ? clip_linf(v, x[p], s->o->eps) : sr_clip01f(v);
  }
  if (s->o->norm == SR_NORM_L2) proj_l2(x, a, d, s->o->eps);
}

// One momentum step of image i from adv along grad: z = P(adv + eta dir(grad)), adv' = P(adv + a (z - adv) +
// (1 - a) (adv - old)), a = 1 on the first iteration.
static void step(apgd_state *s, int64_t i, double a) {
  int64_t d = s->d;
  const float *x = s->x + i * d, *g = s->grad + i * d;
  float *adv = s->adv + i * d, *old = s->old + i * d, *z = s->pack;
  double eps = s->o->eps, eta = s->eta[i];
  if (s->o->norm == SR_NORM_LINF) {
    for (int64_t p = 0; p < d; p++) {
      double sg = g[p] > 0 ? 1 : g[p] < 0 ? -1 : 0;
      z[p] = clip_linf((double)adv[p] + eta * sg, x[p], eps);
    }
    for (int64_t p = 0; p < d; p++) {
      double v = (double)adv[p] + a * ((double)z[p] - adv[p]) + (1 - a) * ((double)adv[p] - old[p]);
      old[p] = adv[p];
      adv[p] = clip_linf(v, x[p], eps);
    }
    return;
  }
  double gn = l2n(g, d) + 1e-12;
  for (int64_t p = 0; p < d; p++) z[p] = (float)((double)adv[p] + eta * g[p] / gn);
  proj_l2(x, z, d, eps);
  for (int64_t p = 0; p < d; p++) {
    double v = (double)adv[p] + a * ((double)z[p] - adv[p]) + (1 - a) * ((double)adv[p] - old[p]);
    old[p] = adv[p];
    adv[p] = (float)v;
  }
  proj_l2(x, adv, d, eps);
}

// ---- one run (a restart, or one target of APGD-T) over the images not yet found
// ---------------------------- The checkpoint test of image i after `len` iterations since the last one:
// halve eta and go back to the best point when the loss rose in at most rho * len of them (the reference's
// <=), or when the last checkpoint did not halve and the best loss has not risen since.
static void check_step(apgd_state *s, int64_t i, int64_t len) {
  int64_t d = s->d;
  int osc = (double)s->up[i] <= s->o->rho * (double)len;
  int stuck = !s->reduced[i] && s->lcheck[i] >= s->lbest[i];
  s->reduced[i] = osc || stuck;
  s->lcheck[i] = s->lbest[i];
  s->up[i] = 0;
  if (!s->reduced[i]) return;
  s->eta[i] /= 2;
  memcpy(s->adv + i * d, s->best + i * d, (size_t)d * sizeof(float));
  memcpy(s->grad + i * d, s->gbest + i * d, (size_t)d * sizeof(float));
}

// Images of the group still to attack into s->list; returns their count.
static int64_t active(apgd_state *s) {
  int64_t m = 0;
  for (int64_t i = 0; i < s->k; i++)
    if (!s->found[i]) s->list[m++] = i;
  return m;
}

static void start_run(apgd_state *s, int64_t m) {
  int64_t d = s->d;
  size_t bytes = (size_t)d * sizeof(float);
  for (int64_t j = 0; j < m; j++) {
    int64_t i = s->list[j];
    memcpy(s->old + i * d, s->adv + i * d, bytes);
    memcpy(s->best + i * d, s->adv + i * d, bytes);
    memcpy(s->gbest + i * d, s->grad + i * d, bytes);
    s->lbest[i] = s->loss[i];
    s->lcheck[i] = s->loss[i];
    s->eta[i] = 2 * s->o->eps;
    s->reduced[i] = 1;
    s->up[i] = 0;
  }
}

// After an evaluation: count a rise of the loss, keep the best point.
static void track(apgd_state *s, int64_t m) {
  int64_t d = s->d;
  for (int64_t j = 0; j < m; j++) {
    int64_t i = s->list[j];
    s->steps[i]++;
    s->up[i] += s->loss[i] > s->lprev[i];
    if (s->loss[i] > s->lbest[i]) {
      s->lbest[i] = s->loss[i];
      memcpy(s->best + i * d, s->adv + i * d, (size_t)d * sizeof(float));
      memcpy(s->gbest + i * d, s->grad + i * d, (size_t)d * sizeof(float));
    }
  }
}

static sr_status run_once(apgd_state *s, sr_rng *rng, int run, int64_t first, sr_err *err) {
  const sr_apgd_opts *o = s->o;
  int64_t m = active(s);
  if (!m) return SR_OK;
  for (int64_t j = 0; j < m; j++) random_start(s, s->list[j], &rng[s->list[j]]);
  sr_status st = evaluate(s, m, err);
  if (st) return st;
  start_run(s, m);
  if (o->on_iter) o->on_iter(o->ctx, run, 0, first, s->k, s->lbest);
  int64_t n = o->iterations;
  // checkpoints: the first after 22% of the iterations, then each interval 3% shorter, at least 6%
  int64_t len = n * 22 / 100 > 1 ? n * 22 / 100 : 1;
  int64_t decr = n * 3 / 100 > 1 ? n * 3 / 100 : 1;
  int64_t lmin = n * 6 / 100 > 1 ? n * 6 / 100 : 1;
  int64_t since = 0;
  for (int64_t it = 0; it < n && !st; it++) {
    m = active(s);
    if (!m) break;
    for (int64_t j = 0; j < m; j++) {
      step(s, s->list[j], it == 0 ? 1.0 : o->momentum);
      s->lprev[s->list[j]] = s->loss[s->list[j]];
    }
    if ((st = evaluate(s, m, err))) break;
    track(s, m);
    if (o->on_iter) o->on_iter(o->ctx, run, it + 1, first, s->k, s->lbest);
    if (++since < len) continue;
    for (int64_t j = 0; j < m; j++) check_step(s, s->list[j], len);
    len = len - decr > lmin ? len - decr : lmin;
    since = 0;
  }
  // not found: keep the highest-loss point over the runs
  for (int64_t j = 0; j < s->k && !st; j++)
    if (!s->found[j] && !(s->lbest[j] <= s->lkeep[j])) {
      s->lkeep[j] = s->lbest[j];
      memcpy(s->out + j * s->d, s->best + j * s->d, (size_t)s->d * sizeof(float));
    }
  return st;
}

// Classes by descending clean logit (first index first on ties).
static void rank_classes(const float *z, int nc, int *order) {
  for (int j = 0; j < nc; j++) {
    int p = j;
    while (p > 0 && z[order[p - 1]] < z[j]) {
      order[p] = order[p - 1];
      p--;
    }
    order[p] = j;
  }
}

// The clean forward pass where one is needed: the prediction (without clean_pred) and the targets' logits.
static sr_status clean_pass(apgd_state *s, const int32_t *pred, sr_err *err) {
  int64_t d = s->d, m = 0;
  memcpy(s->out, s->x, (size_t)s->k * (size_t)d * sizeof(float));
  for (int64_t i = 0; i < s->k; i++) s->found[i] = pred && pred[i] != s->y[i];
  if (pred && s->o->loss != SR_APGD_DLR_TARGETED) return SR_OK;
  m = active(s);
  for (int64_t j = 0; j < m; j++) memcpy(s->pack + j * d, s->x + s->list[j] * d, (size_t)d * sizeof(float));
  sr_status st = m ? sr_amodel_logits(s->am, s->pack, m, s->logits, NULL, err) : SR_OK;
  for (int64_t j = 0; j < m && !st; j++) {
    int64_t i = s->list[j];
    s->queries[i]++;
    s->init[i]++;
    memcpy(s->clean + i * s->nc, s->logits + j * s->nc, (size_t)s->nc * sizeof(float));
    s->found[i] = argmax(s->clean + i * s->nc, s->nc) != s->y[i];
  }
  return st;
}

static sr_status run_group(apgd_state *s, sr_rng *rng, const int32_t *pred, int64_t first, int *order,
                           sr_err *err) {
  const sr_apgd_opts *o = s->o;
  sr_status st = clean_pass(s, pred, err);
  for (int64_t i = 0; i < s->k; i++) s->lkeep[i] = -INFINITY;
  int targeted = o->loss == SR_APGD_DLR_TARGETED;
  int runs = 0;
  for (int t = 1; t <= (targeted ? o->targets : 1) && !st; t++) {
    for (int64_t i = 0; i < s->k && targeted; i++) {
      rank_classes(s->clean + i * s->nc, s->nc, order);
      s->target[i] = order[t];
    }
    for (int r = 0; r < o->restarts && !st; r++) st = run_once(s, rng, runs++, first, err);
  }
  return st;
}

// ---- the attack
// --------------------------------------------------------------------------------------------
static sr_status check_opts(const sr_amodel *am, const int32_t *y, int64_t n, const sr_apgd_opts *o,
                            sr_err *err) {
  if (n < 1 || (o->norm != SR_NORM_L2 && o->norm != SR_NORM_LINF) || !(o->eps > 0) || !isfinite(o->eps) ||
      o->iterations < 1 || o->restarts < 1 || !(o->rho > 0 && o->rho <= 1) ||
      !(o->momentum >= 0 && o->momentum <= 1))
    return sr_fail(err, SR_ERR_ARG,
                   "apgd: bad settings (eps %g, iterations %d, restarts %d, rho %g, momentum %g)", o->eps,
                   o->iterations, o->restarts, o->rho, o->momentum);
  if (o->loss != SR_APGD_CE && o->loss != SR_APGD_DLR && o->loss != SR_APGD_DLR_TARGETED)
    return sr_fail(err, SR_ERR_ARG, "apgd: unknown loss %d", (int)o->loss);
  int need = o->loss == SR_APGD_DLR_TARGETED ? 4 : o->loss == SR_APGD_DLR ? 3 : 2;
  if (am->classes < need)
    return sr_fail(err, SR_ERR_ARG, "apgd: the %s loss needs at least %d classes, the model has %d",
                   o->loss == SR_APGD_CE ? "ce" : "dlr", need, am->classes);
  if (o->loss == SR_APGD_DLR_TARGETED && (o->targets < 1 || o->targets >= am->classes))
    return sr_fail(err, SR_ERR_ARG, "apgd-t: %d target classes, the model has %d classes (1 .. %d)",
                   o->targets, am->classes, am->classes - 1);
  for (int64_t i = 0; i < n; i++)
    if (y[i] < 0 || y[i] >= am->classes)
      return sr_fail(err, SR_ERR_ARG, "label %d of image %lld is outside [0, %d)", y[i], (long long)i,
                     am->classes);
  return SR_OK;
}

static void free_state(apgd_state *s, sr_rng *rng, int *order) {
  sr_free(s->adv);
  sr_free(s->old);
  sr_free(s->best);
  sr_free(s->grad);
  sr_free(s->gbest);
  sr_free(s->pack);
  sr_free(s->pgrad);
  sr_free(s->logits);
  sr_free(s->clean);
  sr_free(s->loss);
  sr_free(s->zd);
  sr_free(s->target);
  sr_free(s->reduced);
  sr_free(s->list);
  sr_free(rng);
  sr_free(order);
}

static sr_status alloc_state(apgd_state *s, int64_t g, sr_rng **rng, int **order, sr_err *err) {
  size_t img = (size_t)g * (size_t)s->d * sizeof(float), ug = (size_t)g;
  size_t lg = (size_t)g * (size_t)s->nc * sizeof(float);
  s->adv = sr_alloc(img);
  s->old = sr_alloc(img);
  s->best = sr_alloc(img);
  s->grad = sr_alloc(img);
  s->gbest = sr_alloc(img);
  s->pack = sr_alloc(img);
  s->pgrad = sr_alloc(img);
  s->logits = sr_alloc(lg);
  s->clean = sr_alloc(lg);
  s->loss = sr_calloc(6 * ug, sizeof(double));  // loss, lprev, lbest, lcheck, lkeep, eta
  s->zd = sr_alloc(2 * (size_t)s->nc * sizeof(double));
  s->target = sr_alloc(ug * sizeof(int32_t));
  s->reduced = sr_calloc(3 * ug, sizeof(int));  // reduced, up, found
  s->list = sr_alloc(ug * sizeof(int64_t));
  *rng = sr_alloc(ug * sizeof(sr_rng));
  *order = sr_alloc((size_t)s->nc * sizeof(int));
  if (!s->adv || !s->old || !s->best || !s->grad || !s->gbest || !s->pack || !s->pgrad || !s->logits ||
      !s->clean || !s->loss || !s->zd || !s->target || !s->reduced || !s->list || !*rng || !*order)
    return sr_fail(err, SR_ERR_NOMEM, "apgd buffers for %lld images", (long long)g);
  s->lprev = s->loss + ug;
  s->lbest = s->loss + 2 * ug;
  s->lcheck = s->loss + 3 * ug;
  s->lkeep = s->loss + 4 * ug;
  s->eta = s->loss + 5 * ug;
  s->gd = s->zd + s->nc;
  s->up = s->reduced + ug;
  s->found = s->reduced + 2 * ug;
  return SR_OK;
}

sr_status sr_apgd(sr_amodel *am, const sr_labeled *in, const sr_apgd_opts *o, uint64_t seed,
                  sr_attack_result *r, sr_err *err) {
  const float *x = in->x;
  const int32_t *y = in->y;
  int64_t n = in->n;
  sr_status st = check_opts(am, y, n, o, err);
  if (st) return st;
  int64_t d = am->d, g = am->batch < n ? am->batch : n;
  if ((st = sr_attack_result_alloc(r, n, d, err))) return st;
  apgd_state s = {.am = am, .o = o, .d = d, .nc = am->classes};
  sr_rng *rng = NULL;
  int *order = NULL;
  st = alloc_state(&s, g, &rng, &order, err);
  for (int64_t i0 = 0; i0 < n && !st; i0 += g) {
    s.k = n - i0 < g ? n - i0 : g;
    s.x = x + i0 * d;
    s.y = y + i0;
    s.out = r->adv + i0 * d;
    s.queries = r->queries + i0;
    s.init = r->init_queries + i0;
    s.steps = r->steps_run + i0;
    for (int64_t i = 0; i < s.k; i++) sr_rng_seed(&rng[i], seed, (uint64_t)(o->first_index + i0 + i));
    st = run_group(&s, rng, o->clean_pred ? o->clean_pred + i0 : NULL, i0, order, err);
    for (int64_t i = 0; i < s.k && !st; i++) r->found[i0 + i] = s.found[i];
  }
  free_state(&s, rng, order);
  sr_attack_ball ball = {.norm = o->norm, .eps = o->eps};
  if (!st) st = sr_recheck_on_model(am, y, x, n, &ball, r, err);
  if (st) sr_attack_result_free(r);
  return st;
}
