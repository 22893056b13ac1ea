// FAB-T, the targeted Fast Adaptive Boundary attack (Croce & Hein 2020), L-inf and L2: linearise
// f = z_target - z_label at the current point, project both the current point and the clean image onto the
// hyperplane f = 0 inside [0,1] (minimal norm), step to a convex combination of the two projections with
// overshoot eta (weight of the clean image's projection alpha <= alpha_max), and after each adversarial step
// move back towards the clean image by beta. The smallest adversarial found is kept (minimal-norm output).
// One target per run: the classes ranked 2nd, 3rd, ... by the clean logits; no random start (AutoAttack's
// FAB-T runs one restart, which starts at the clean image).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attack/internal.h"

sr_fab_opts sr_fab_opts_default(sr_norm norm, double eps) {
  return (sr_fab_opts){
      .norm = norm, .eps = eps, .iterations = 100, .targets = 9, .alpha_max = 0.1, .eta = 1.05, .beta = 0.9};
}

// ---- projection onto {z : w.z = b} inside the box [0,1]^d, minimal norm
// ----------------------------------------
typedef struct proj_item {
  double key;  // breakpoint
  double w;    // |w_i|
} proj_item;

static int cmp_item(const void *a, const void *b) {
  double x = ((const proj_item *)a)->key, y = ((const proj_item *)b)->key;
  return x < y ? -1 : x > y;
}

// d (n values): the smallest step (L-inf or L2) from t with w.(t + d) = b and t + d in [0,1]; when the box
// does not reach the hyperplane, the box corner that gets closest (along w). it: (n) scratch.
static void project(sr_norm norm, const float *t, const float *w, double b, int64_t n, double *d,
                    proj_item *it) {
  double c = -b;
  for (int64_t i = 0; i < n; i++) c += (double)w[i] * t[i];
  double sg = c >= 0 ? 1 : -1;  // move so that sg * w.z falls by sg * c >= 0
  double need = sg * c;
  // room_i: how far z_i may move in the direction that lowers sg * w_i z_i
  int64_t m = 0;
  double total = 0;
  for (int64_t i = 0; i < n; i++) {
    double wi = sg * w[i];
    d[i] = 0;
    if (wi == 0) continue;
    double room = wi > 0 ? t[i] : 1 - (double)t[i];
    total += fabs(wi) * room;
    it[m].key = norm == SR_NORM_LINF ? room : room / fabs(wi);
    it[m].w = fabs(wi);
    m++;
  }
  // the gain of radius lambda (L-inf) or multiplier mu (L2, d_i = -mu w_i clipped): sum_i |w_i| min(lambda,
  // room_i) or sum_i w_i^2 min(mu, room_i / |w_i|); a piecewise linear, increasing function of the parameter
  double par = INFINITY;
  if (need <= 0)
    par = 0;
  else if (total > need) {
    qsort(it, (size_t)m, sizeof *it, cmp_item);
    double slope = 0, gain = 0, prev = 0;
    for (int64_t j = 0; j < m; j++) slope += norm == SR_NORM_LINF ? it[j].w : it[j].w * it[j].w;
    for (int64_t j = 0; j < m; j++) {
      double next = gain + slope * (it[j].key - prev);
      if (next >= need) {
        par = prev + (need - gain) / slope;
        break;
      }
      gain = next;
      prev = it[j].key;
      slope -= norm == SR_NORM_LINF ? it[j].w : it[j].w * it[j].w;
    }
  }
  for (int64_t i = 0; i < n; i++) {
    double wi = sg * w[i];
    if (wi == 0) continue;
    double room = wi > 0 ? t[i] : 1 - (double)t[i];
    double mag = norm == SR_NORM_LINF ? fmin(par, room) : fmin(par * fabs(wi), room);
    d[i] = wi > 0 ? -mag : mag;
  }
}

// ---- the attack
// --------------------------------------------------------------------------------------------
typedef struct fab_state {
  sr_amodel *am;
  const sr_fab_opts *o;
  int64_t k, d;
  int nc;
  const float *x;
  const int32_t *y;
  int32_t *target;
  float *x1, *pack, *pgrad, *logits, *clean, *out;  // out: into the result
  double *d1, *d2, *best, *df;                      // (d), (d), (k), (k)
  proj_item *items;                                 // (d)
  int *found;
  int64_t *list, *queries, *init, *steps;
} fab_state;

static sr_status dlogits(void *ctx, const float *logits, int64_t first, int64_t k, int classes, float *dl,
                         sr_err *err) {
  (void)err;
  fab_state *s = ctx;
  for (int64_t j = 0; j < k; j++) {
    int64_t i = s->list[first + j];
    dl[j * classes + s->target[i]] += 1;
    dl[j * classes + s->y[i]] -= 1;
    s->df[i] = (double)logits[j * classes + s->target[i]] - logits[j * classes + s->y[i]];
  }
  return SR_OK;
}

static int argmax(const float *z, int nc) {
  int b = 0;
  for (int j = 1; j < nc; j++)
    if (z[j] > z[b]) b = j;
  return b;
}

static double dist(const fab_state *s, const float *a, const float *b) {
  return s->o->norm == SR_NORM_LINF ? sr_dist_linf(a, b, s->d) : sr_dist_l2(a, b, s->d);
}

static double norm_of(const fab_state *s, const double *v) {
  double r = 0;
  for (int64_t p = 0; p < s->d; p++) r = s->o->norm == SR_NORM_LINF ? fmax(r, fabs(v[p])) : r + v[p] * v[p];
  return s->o->norm == SR_NORM_LINF ? r : sqrt(r);
}

// The step of image i (its gradient in s->pgrad row j): x1 <- clip((x1 + eta d1)(1 - a) + (x + eta d2) a).
static void fab_step(fab_state *s, int64_t i, int64_t j) {
  int64_t d = s->d;
  const float *g = s->pgrad + j * d, *x = s->x + i * d;
  float *x1 = s->x1 + i * d;
  double b = -s->df[i];
  for (int64_t p = 0; p < d; p++) b += (double)g[p] * x1[p];
  project(s->o->norm, x1, g, b, d, s->d1, s->items);
  project(s->o->norm, x, g, b, d, s->d2, s->items);
  double a1 = fmax(norm_of(s, s->d1), 1e-8), a2 = fmax(norm_of(s, s->d2), 1e-8);
  double al = fmin(fmax(a1 / (a1 + a2), 0), s->o->alpha_max);
  double eta = s->o->eta;
  for (int64_t p = 0; p < d; p++)
    x1[p] = sr_clip01f(((double)x1[p] + eta * s->d1[p]) * (1 - al) + ((double)x[p] + eta * s->d2[p]) * al);
}

// The images the next target still runs on: all but those with an adversarial within eps (eps <= 0: all but
// the misclassified clean ones, for the smallest adversarial over all targets).
static int64_t pending(fab_state *s) {
  int64_t m = 0;
  for (int64_t i = 0; i < s->k; i++)
    if (!s->found[i] || (s->best[i] > 0 && !(s->best[i] <= s->o->eps))) s->list[m++] = i;
  return m;
}

static sr_status run_target(fab_state *s, int run, int64_t first, sr_err *err) {
  const sr_fab_opts *o = s->o;
  int64_t d = s->d, m = pending(s);
  for (int64_t j = 0; j < m; j++)
    memcpy(s->x1 + s->list[j] * d, s->x + s->list[j] * d, (size_t)d * sizeof(float));
  sr_status st = SR_OK;
  for (int64_t it = 0; it < o->iterations && m && !st; it++) {
    for (int64_t j = 0; j < m; j++)
      memcpy(s->pack + j * d, s->x1 + s->list[j] * d, (size_t)d * sizeof(float));
    if ((st = sr_amodel_grad(s->am, s->pack, m, &(sr_loss){.fn = dlogits, .ctx = s},
                             &(sr_grad_out){.g = s->pgrad}, err)))
      break;
    for (int64_t j = 0; j < m; j++) {
      int64_t i = s->list[j];
      s->queries[i]++;
      s->steps[i]++;
      fab_step(s, i, j);
      memcpy(s->pack + j * d, s->x1 + i * d, (size_t)d * sizeof(float));
    }
    // is the new point adversarial (a forward pass, no gradient)
    if ((st = sr_amodel_logits(s->am, s->pack, m, s->logits, NULL, err))) break;
    for (int64_t j = 0; j < m; j++) {
      int64_t i = s->list[j];
      s->queries[i]++;
      s->init[i]++;
      if (argmax(s->logits + j * s->nc, s->nc) == s->y[i]) continue;
      float *x1 = s->x1 + i * d;
      const float *x = s->x + i * d;
      double dn = dist(s, x1, x);
      if (dn < s->best[i]) {
        s->best[i] = dn;
        s->found[i] = 1;
        memcpy(s->out + i * d, x1, (size_t)d * sizeof(float));
      }
      for (int64_t p = 0; p < d; p++) x1[p] = (float)((double)x[p] + ((double)x1[p] - x[p]) * o->beta);
    }
    if (o->on_iter) o->on_iter(o->ctx, run, it + 1, first, s->k);
  }
  return st;
}

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

static sr_status run_group(fab_state *s, int64_t first, int *order, sr_err *err) {
  int64_t d = s->d, m = 0;
  memcpy(s->out, s->x, (size_t)s->k * (size_t)d * sizeof(float));
  for (int64_t i = 0; i < s->k; i++) {
    s->found[i] = 0;
    s->best[i] = INFINITY;
    s->list[m++] = i;
  }
  // the clean logits: the prediction (a misclassified image is done, unchanged) and the targets
  for (int64_t j = 0; j < m; j++) memcpy(s->pack + j * d, s->x + j * d, (size_t)d * sizeof(float));
  sr_status st = sr_amodel_logits(s->am, s->pack, m, s->clean, NULL, err);
  for (int64_t i = 0; i < s->k && !st; i++) {
    s->queries[i]++;
    s->init[i]++;
    if (argmax(s->clean + i * s->nc, s->nc) != s->y[i]) {
      s->found[i] = 1;
      s->best[i] = 0;
    }
  }
  for (int t = 1; t <= s->o->targets && !st; t++) {
    for (int64_t i = 0; i < s->k; i++) {
      rank_classes(s->clean + i * s->nc, s->nc, order);
      s->target[i] = order[t];
    }
    st = run_target(s, t - 1, first, err);
  }
  return st;
}

sr_status sr_fab(sr_amodel *am, const sr_labeled *in, const sr_fab_opts *o, uint64_t seed,
                 sr_attack_result *r, sr_err *err) {
  const float *x = in->x;
  const int32_t *y = in->y;
  int64_t n = in->n;
  (void)seed;  // no random start: deterministic
  if (n < 1 || (o->norm != SR_NORM_L2 && o->norm != SR_NORM_LINF) || o->iterations < 1 ||
      !(o->alpha_max >= 0 && o->alpha_max <= 1) || !(o->eta >= 1) || !(o->beta > 0 && o->beta <= 1))
    return sr_fail(err, SR_ERR_ARG, "fab: bad settings (iterations %d, alpha_max %g, eta %g, beta %g)",
                   o->iterations, o->alpha_max, o->eta, o->beta);
  if (o->targets < 1 || o->targets >= am->classes)
    return sr_fail(err, SR_ERR_ARG, "fab-t: %d target classes, the model has %d classes (1 .. %d)",
                   o->targets, am->classes, am->classes - 1);
  for (int64_t i = 0; i < n; i++)
    if (y[i] < 0 || y[i] >= am->classes)
      return sr_fail(err, SR_ERR_ARG, "label %d of image %lld is outside [0, %d)", y[i], (long long)i,
                     am->classes);
  int64_t d = am->d, g = am->batch < n ? am->batch : n;
  sr_status st = sr_attack_result_alloc(r, n, d, err);
  if (st) return st;
  size_t img = (size_t)g * (size_t)d * sizeof(float), lg = (size_t)g * (size_t)am->classes * sizeof(float);
  fab_state s = {.am = am, .o = o, .d = d, .nc = am->classes};
  s.x1 = sr_alloc(img);
  s.pack = sr_alloc(img);
  s.pgrad = sr_alloc(img);
  s.logits = sr_alloc(lg);
  s.clean = sr_alloc(lg);
  s.d1 = sr_alloc(2 * (size_t)d * sizeof(double));
  s.best = sr_alloc(2 * (size_t)g * sizeof(double));
  s.items = sr_alloc((size_t)d * sizeof(proj_item));
  s.target = sr_alloc((size_t)g * sizeof(int32_t));
  s.found = sr_alloc((size_t)g * sizeof(int));
  s.list = sr_alloc((size_t)g * sizeof(int64_t));
  int *order = sr_alloc((size_t)am->classes * sizeof(int));
  if (!s.x1 || !s.pack || !s.pgrad || !s.logits || !s.clean || !s.d1 || !s.best || !s.items || !s.target ||
      !s.found || !s.list || !order)
    st = sr_fail(err, SR_ERR_NOMEM, "fab buffers for %lld images", (long long)g);
  else {
    s.d2 = s.d1 + d;
    s.df = s.best + g;
  }
  for (int64_t i0 = 0; i0 < n && !st; i0 += g) {
    s.k = n - i0 < g ? n - i0 : g;
    s.x = x + i0 * d;
    s.y = y + i0;
    s.out = r->adv + i0 * d;
    s.queries = r->queries + i0;
    s.init = r->init_queries + i0;
    s.steps = r->steps_run + i0;
    st = run_group(&s, i0, order, err);
    for (int64_t i = 0; i < s.k && !st; i++) r->found[i0 + i] = s.found[i];
  }
  sr_free(s.x1);
  sr_free(s.pack);
  sr_free(s.pgrad);
  sr_free(s.logits);
  sr_free(s.clean);
  sr_free(s.d1);
  sr_free(s.best);
  sr_free(s.items);
  sr_free(s.target);
  sr_free(s.found);
  sr_free(s.list);
  sr_free(order);
  if (!st) st = sr_recheck_on_model(am, y, x, n, NULL, r, err);
  if (st) sr_attack_result_free(r);
  return st;
}
