// The Square attack (Andriushchenko et al. 2020): score-based random search on the margin loss. Each
// iteration changes one random square window (side from the paper's p schedule); a candidate is kept when
// it lowers the margin. L-inf: vertical-stripe start, windows set to +-eps per channel. L2: a grid of
// "meta pseudo-Gaussian" bumps to start, then mass moved from a second window into the first.
#include <math.h>
#include <string.h>

#include "attack/internal.h"

#define MAX_REDRAWS 100  // L-inf: redraws of a window that would not change the image

sr_square_opts sr_square_opts_default(sr_norm norm, double eps) {
  return (sr_square_opts){
      .norm = norm, .eps = eps, .queries = 10000, .p_init = norm == SR_NORM_LINF ? 0.8 : 0.1};
}

double sr_square_p(double p_init, int64_t it, int64_t n) {
  int64_t k = (int64_t)((double)it / (double)n * 10000);
  static const int64_t upto[] = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000, 10000};
  if (k <= upto[0] || k > upto[9]) return p_init;
  for (int j = 1; j < 10; j++)
    if (k <= upto[j]) return p_init / (double)(1 << j);
  return p_init;
}

typedef struct sqstate {
  sr_amodel *am;
  const sr_square_opts *o;
  int c, h, w;
  int64_t d, k, hw;
  const float *x;            // (k, d)
  const int32_t *label;      // (k)
  float *best, *qbuf;        // (k, d)
  float *logits;             // (k, classes)
  double *margin, *dc, *pg;  // (k), (d), (h*w) scratch
  int64_t *list, *queries;   // (k)
  sr_rng *rng;               // (k)
} sqstate;

static double margin_of(const float *z, int nc, int32_t y) {
  double other = -INFINITY;
  for (int j = 0; j < nc; j++)
    if (j != y && z[j] > other) other = z[j];
  return (double)z[y] - other;
}

// Query qbuf rows for the m images in list; margins into out[j].
static sr_status ask(sqstate *s, int64_t m, double *out, sr_err *err) {
  sr_status st = sr_amodel_logits(s->am, s->qbuf, m, s->logits, NULL, err);
  for (int64_t j = 0; j < m && !st; j++) {
    int64_t i = s->list[j];
    s->queries[i]++;
    out[j] = margin_of(s->logits + j * s->am->classes, s->am->classes, s->label[i]);
  }
  return st;
}

// x + sign * eps clipped to [0,1], never an ulp outside the L-inf ball.
static float linf_val(float x, int sign, double eps) {
  float v = sr_clip01f((double)x + sign * eps);
  while (fabs((double)v - x) > eps) v = nextafterf(v, x);
  return v;
}

// ---- L2 shapes
// --------------------------------------------------------------------------------------------- Nested
// rectangles around the centre with weights 1/(r+1)^2 (X rows, Y columns, row stride ld).
static void pg_rect(int X, int Y, double *out, int ld) {
  for (int r = 0; r < X; r++)
    for (int q = 0; q < Y; q++) out[r * ld + q] = 0;
  if (X <= 0 || Y <= 0) return;
  int c0 = X / 2, c1 = Y / 2, n = (X / 2 + 1 > Y / 2 + 1 ? X / 2 + 1 : Y / 2 + 1);
  for (int r = 0; r < n; r++, c0--, c1--) {
    int r0 = c0 > 0 ? c0 : 0, r1 = c0 + 2 * r + 1 < X ? c0 + 2 * r + 1 : X;
    int q0 = c1 > 0 ? c1 : 0, q1 = c1 + 2 * r + 1 < Y ? c1 + 2 * r + 1 : Y;
    double v = 1.0 / ((double)(r + 1) * (r + 1));
    for (int a = r0; a < r1; a++)
      for (int b = q0; b < q1; b++) out[a * ld + b] += v;
  }
}

static void normalise(double *v, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += v[i] * v[i];
  if (s > 0)
    for (int64_t i = 0; i < n; i++) v[i] /= sqrt(s);
}

// s x s: upper half positive bump, lower half negative, unit norm, transposed on a coin flip.
static void meta_pg(int s, sr_rng *rng, double *out) {
  int top = s / 2;
  pg_rect(top, s, out, s);
  pg_rect(s - top, s, out + (int64_t)top * s, s);
  for (int64_t i = (int64_t)top * s; i < (int64_t)s * s; i++) out[i] = -out[i];
  normalise(out, (int64_t)s * s);
  if (sr_rng_uniform(rng) > 0.5)
    for (int a = 0; a < s; a++)
      for (int b = a + 1; b < s; b++) {
        double t = out[a * s + b];
        out[a * s + b] = out[b * s + a];
        out[b * s + a] = t;
      }
}

static int rand_sign(sr_rng *rng) { return sr_rng_below(rng, 2) ? 1 : -1; }

// x + delta * eps / ||delta|| clipped to [0,1] and fitted into the ball.
static void l2_point(const sqstate *s, const float *x, const double *delta, float *out) {
  double n = 0;
  for (int64_t p = 0; p < s->d; p++) n += delta[p] * delta[p];
  double f = n > 0 ? s->o->eps / sqrt(n) : 0;
  for (int64_t p = 0; p < s->d; p++) out[p] = sr_clip01f((double)x[p] + f * delta[p]);
  sr_ball_fit(SR_NORM_L2, s->o->eps, x, out, s->d);
}

// ---- starts
// ------------------------------------------------------------------------------------------------
static void init_linf(sqstate *s, int64_t i, float *out) {
  const float *x = s->x + i * s->d;
  for (int ch = 0; ch < s->c; ch++)
    for (int q = 0; q < s->w; q++) {
      int sg = rand_sign(&s->rng[i]);
      for (int r = 0; r < s->h; r++) {
        int64_t p = (int64_t)ch * s->hw + (int64_t)r * s->w + q;
        out[p] = linf_val(x[p], sg, s->o->eps);
      }
    }
}

static void init_l2(sqstate *s, int64_t i, float *out) {
  int side = (s->h < s->w ? s->h : s->w) / 5;
  int sh = (s->h - side * 5) / 2, sw = (s->w - side * 5) / 2;
  memset(s->dc, 0, (size_t)s->d * sizeof(double));
  for (int bi = 0; bi < s->h / side; bi++)
    for (int bj = 0; bj < s->w / side; bj++) {
      meta_pg(side, &s->rng[i], s->pg);
      for (int ch = 0; ch < s->c; ch++) {
        int sg = rand_sign(&s->rng[i]);
        for (int a = 0; a < side; a++)
          for (int b = 0; b < side; b++) {
            int r = sh + bi * side + a, q = sw + bj * side + b;
            if (r < s->h && q < s->w)
              s->dc[(int64_t)ch * s->hw + (int64_t)r * s->w + q] += sg * s->pg[a * side + b];
          }
      }
    }
  l2_point(s, s->x + i * s->d, s->dc, out);
}

// ---- one candidate per image and iteration
// -----------------------------------------------------------------
static void cand_linf(sqstate *s, int64_t i, double p, float *out) {
  const float *x = s->x + i * s->d, *best = s->best + i * s->d;
  int side = (int)lround(sqrt(p * (double)s->d / s->c));
  side = side < 1 ? 1 : side > s->h - 1 ? s->h - 1 : side;
  if (side > s->w - 1) side = s->w - 1;
  int r0 = (int)sr_rng_below(&s->rng[i], (uint32_t)(s->h - side)),
      q0 = (int)sr_rng_below(&s->rng[i], (uint32_t)(s->w - side));
  memcpy(out, best, (size_t)s->d * sizeof(float));
  for (int tries = 0; tries < MAX_REDRAWS; tries++) {
    int changed = 0;
    for (int ch = 0; ch < s->c; ch++) {
      int sg = rand_sign(&s->rng[i]);
      for (int a = 0; a < side; a++)
        for (int b = 0; b < side; b++) {
          int64_t q = (int64_t)ch * s->hw + (int64_t)(r0 + a) * s->w + q0 + b;
          out[q] = linf_val(x[q], sg, s->o->eps);
          changed |= fabsf(out[q] - best[q]) >= 1e-7f;
        }
    }
    if (changed) break;  // a window equal to the current one would waste a query
  }
}

static void cand_l2(sqstate *s, int64_t i, double p, float *out) {
  const float *x = s->x + i * s->d, *best = s->best + i * s->d;
  int side = (int)lround(sqrt(p * (double)s->d / s->c));
  side = side < 3 ? 3 : side;
  side += side % 2 == 0;
  int lim = (s->h < s->w ? s->h : s->w) - 1;
  side = side > lim ? lim : side;
  sr_rng *rng = &s->rng[i];
  int r1 = (int)sr_rng_below(rng, (uint32_t)(s->h - side)),
      q1 = (int)sr_rng_below(rng, (uint32_t)(s->w - side));
  int r2 = (int)sr_rng_below(rng, (uint32_t)(s->h - side)),
      q2 = (int)sr_rng_below(rng, (uint32_t)(s->w - side));
  double *dc = s->dc, img = 0;
  for (int64_t q = 0; q < s->d; q++) {
    dc[q] = (double)best[q] - x[q];
    img += dc[q] * dc[q];
  }
  meta_pg(side, rng, s->pg);
  double eps2 = s->o->eps * s->o->eps, *nw = s->pg + (int64_t)side * side;  // side*side new values follow pg
  for (int ch = 0; ch < s->c; ch++) {
    int sg = rand_sign(rng);
    double *plane = dc + (int64_t)ch * s->hw, w1 = 0, both = 0;
    for (int r = 0; r < s->h; r++)
      for (int q = 0; q < s->w; q++) {
        int in1 = r >= r1 && r < r1 + side && q >= q1 && q < q1 + side;
        int in2 = r >= r2 && r < r2 + side && q >= q2 && q < q2 + side;
        double v = plane[r * s->w + q];
        if (in1) w1 += v * v;
        if (in1 || in2) both += v * v;
      }
    w1 = sqrt(w1);
    for (int a = 0; a < side; a++)
      for (int b = 0; b < side; b++)
        nw[a * side + b] = s->pg[a * side + b] * sg + plane[(r1 + a) * s->w + q1 + b] / (1e-10 + w1);
    normalise(nw, (int64_t)side * side);
    double target = sqrt(fmax(eps2 - img, 0) / s->c + both);
    for (int a = 0; a < side; a++)
      for (int b = 0; b < side; b++) plane[(r2 + a) * s->w + q2 + b] = 0;
    for (int a = 0; a < side; a++)
      for (int b = 0; b < side; b++) plane[(r1 + a) * s->w + q1 + b] = nw[a * side + b] * target;
  }
  l2_point(s, x, dc, out);
}

static sr_status run_group(sqstate *s, int64_t first, int *fooled, int64_t *iters, sr_err *err) {
  const sr_square_opts *o = s->o;
  int64_t d = s->d, k = s->k;
  double *mnew = s->margin + k;
  for (int64_t i = 0; i < k; i++) {
    s->list[i] = i;
    if (o->norm == SR_NORM_LINF)
      init_linf(s, i, s->qbuf + i * d);
    else
      init_l2(s, i, s->qbuf + i * d);
  }
  sr_status st = ask(s, k, s->margin, err);
  if (st) return st;
  memcpy(s->best, s->qbuf, (size_t)k * (size_t)d * sizeof(float));
  for (int64_t it = 0; it < o->queries - 1; it++) {
    int64_t m = 0;
    for (int64_t i = 0; i < k; i++)
      if (!(s->margin[i] < 0)) s->list[m++] = i;
    if (o->on_iter) o->on_iter(o->ctx, it, first, k, m);
    if (!m) break;
    double p = sr_square_p(o->p_init, it, o->queries);
    for (int64_t j = 0; j < m; j++) {
      if (o->norm == SR_NORM_LINF)
        cand_linf(s, s->list[j], p, s->qbuf + j * d);
      else
        cand_l2(s, s->list[j], p, s->qbuf + j * d);
    }
    if ((st = ask(s, m, mnew, err))) return st;
    for (int64_t j = 0; j < m; j++) {
      int64_t i = s->list[j];
      iters[i] = it + 1;
      if (mnew[j] < s->margin[i]) {
        s->margin[i] = mnew[j];
        memcpy(s->best + i * d, s->qbuf + j * d, (size_t)d * sizeof(float));
      }
    }
  }
  for (int64_t i = 0; i < k; i++) fooled[i] = s->margin[i] < 0;
  return SR_OK;
}

// Fresh forward pass: fooled images must change the prediction and stay in the ball and [0,1].
static sr_status recheck(sr_amodel *am, const sr_square_opts *o, const float *x, const int32_t *label,
                         int64_t n, sr_attack_result *r, sr_err *err) {
  sr_attack_ball ball = {.norm = o->norm, .eps = o->eps};
  return sr_recheck_on_model(am, label, x, n, &ball, r, err);
}

sr_status sr_square(sr_amodel *am, const sr_labeled *in, const sr_square_opts *o, uint64_t seed,
                    sr_attack_result *r, sr_err *err) {
  const float *x = in->x;
  const int32_t *label = in->y;
  int64_t n = in->n;
  if (n < 1 || (o->norm != SR_NORM_L2 && o->norm != SR_NORM_LINF) || !(o->eps > 0) || !isfinite(o->eps) ||
      o->queries < 1 || !(o->p_init > 0 && o->p_init <= 1))
    return sr_fail(err, SR_ERR_ARG, "square attack: bad settings (eps %g, queries %lld, p_init %g)", o->eps,
                   (long long)o->queries, o->p_init);
  int mindim = am->h < am->w ? am->h : am->w;
  if (mindim < (o->norm == SR_NORM_L2 ? 5 : 2))
    return sr_fail(err, SR_ERR_SHAPE, "square attack needs images of at least %dx%d pixels, not %dx%d",
                   o->norm == SR_NORM_L2 ? 5 : 2, o->norm == SR_NORM_L2 ? 5 : 2, am->h, am->w);
  for (int64_t i = 0; i < n; i++)
    if (label[i] < 0 || label[i] >= am->classes)
      return sr_fail(err, SR_ERR_ARG, "label %d of image %lld is outside [0, %d)", label[i], (long long)i,
                     am->classes);
  int64_t d = am->d, g = am->batch < n ? am->batch : n, hw = (int64_t)am->h * am->w;
  sr_status st = sr_attack_result_alloc(r, n, d, err);
  if (st) return st;
  sqstate s = {.am = am, .o = o, .c = am->c, .h = am->h, .w = am->w, .d = d, .hw = hw};
  size_t fg = (size_t)g * (size_t)d * sizeof(float);
  s.best = sr_alloc(fg);
  s.qbuf = sr_alloc(fg);
  s.logits = sr_alloc((size_t)g * (size_t)am->classes * sizeof(float));
  s.margin = sr_alloc(2 * (size_t)g * sizeof(double));
  s.dc = sr_alloc((size_t)d * sizeof(double));
  s.pg = sr_alloc(2 * (size_t)hw * sizeof(double));  // the bump and the new window values, side < min(h, w)
  s.list = sr_alloc((size_t)g * sizeof(int64_t));
  s.rng = sr_alloc((size_t)g * sizeof(sr_rng));
  if (!s.best || !s.qbuf || !s.logits || !s.margin || !s.dc || !s.pg || !s.list || !s.rng)
    st = sr_fail(err, SR_ERR_NOMEM, "square attack buffers");
  for (int64_t i0 = 0; i0 < n && !st; i0 += g) {
    s.k = n - i0 < g ? n - i0 : g;
    s.x = x + i0 * d;
    s.label = label + i0;
    s.queries = r->queries + i0;
    for (int64_t i = 0; i < s.k; i++) {
      sr_rng_seed(&s.rng[i], seed, (uint64_t)(o->first_index + i0 + i));
      r->init_queries[i0 + i] = 1;
    }
    st = run_group(&s, i0, r->found + i0, r->steps_run + i0, err);
    if (!st) memcpy(r->adv + i0 * d, s.best, (size_t)s.k * (size_t)d * sizeof(float));
  }
  if (!st) st = recheck(am, o, x, label, n, r, err);
  sr_free(s.best);
  sr_free(s.qbuf);
  sr_free(s.logits);
  sr_free(s.margin);
  sr_free(s.dc);
  sr_free(s.pg);
  sr_free(s.list);
  sr_free(s.rng);
  if (st) sr_attack_result_free(r);
  return st;
}
