// Fourier sensitivity maps, the model half: every (map, cell) x image pair of a shard as one stream of
// batched forward passes through the pixel-space wrapper (its inference plan). docs/SPECTRAL.md.
#include <math.h>
#include <string.h>

#include "simreg/attack.h"
#include "simreg/fourier.h"

int64_t sr_fourier_n_maps(const sr_fmap_opts *o, int channels) {
  return (int64_t)o->n_eps * (o->each ? channels : 1);
}

int sr_fourier_sign(uint64_t seed, int64_t i) {
  sr_rng r;
  sr_rng_seed(&r, seed, (uint64_t)i);
  return (sr_rng_u64(&r) >> 63) ? -1 : 1;
}

typedef struct fstream {
  sr_amodel *am;
  const float *x;
  const int32_t *y;
  int64_t n, hw, ncells;
  const sr_fourier_cells *cells;
  const sr_fmap_opts *o;
  float *basis;   // (ncells, hw) unit-norm basis images
  float *sign;    // (n) +-1
  float *xb;      // (batch, c, h, w) perturbed images
  int32_t *pred;  // (batch)
} fstream;

static sr_status check_args(const sr_amodel *am, int64_t n, const sr_fourier_cells *c, const sr_fmap_opts *o,
                            sr_err *e) {
  if (n < 1) return sr_fail(e, SR_ERR_ARG, "Fourier map: no images");
  if (o->n_eps < 1) return sr_fail(e, SR_ERR_ARG, "Fourier map: no eps");
  for (int k = 0; k < o->n_eps; k++)
    if (!(o->eps[k] > 0) || !isfinite(o->eps[k]))
      return sr_fail(e, SR_ERR_ARG, "Fourier map: eps %g must be > 0 and finite", o->eps[k]);
  if (c->h != am->h || c->w != am->w)
    return sr_fail(e, SR_ERR_SHAPE, "Fourier map: cells of %lldx%lld, images of %dx%d", (long long)c->h,
                   (long long)c->w, am->h, am->w);
  return SR_OK;
}

static sr_status stream_init(fstream *s, sr_amodel *am, const sr_labeled *in, const sr_fourier_cells *c,
                             const sr_fmap_opts *o, sr_err *e) {
  const float *x = in->x;
  const int32_t *y = in->y;
  int64_t n = in->n;
  *s = (fstream){.am = am, .x = x, .y = y, .n = n, .hw = c->h * c->w, .ncells = c->n, .cells = c, .o = o};
  s->basis = sr_calloc((size_t)(c->n * s->hw), sizeof(float));
  s->sign = sr_calloc((size_t)n, sizeof(float));
  s->xb = sr_calloc((size_t)(am->batch * am->d), sizeof(float));
  s->pred = sr_calloc((size_t)am->batch, sizeof(int32_t));
  double *b = sr_calloc((size_t)s->hw, sizeof(double));
  if (!s->basis || !s->sign || !s->xb || !s->pred || !b) {
    sr_free(b);
    return sr_fail(e, SR_ERR_NOMEM, "Fourier map: %lld basis images", (long long)c->n);
  }
  for (int64_t k = 0; k < c->n; k++) {
    sr_fourier_basis(c->ky[k], c->kx[k], c->h, c->w, b);
    for (int64_t p = 0; p < s->hw; p++) s->basis[k * s->hw + p] = (float)b[p];
  }
  sr_free(b);
  for (int64_t i = 0; i < n; i++) s->sign[i] = o->random_sign ? (float)sr_fourier_sign(o->seed, i) : 1.0f;
  return SR_OK;
}

static void stream_free(fstream *s) {
  sr_free(s->basis);
  sr_free(s->sign);
  sr_free(s->xb);
  sr_free(s->pred);
}

// dst = clip(src + a * b, 0, 1) over one plane
static void add_clip(float *dst, const float *src, const float *b, float a, int64_t hw) {
  for (int64_t p = 0; p < hw; p++) {
    float v = src[p] + a * b[p];
    dst[p] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}

// Image i perturbed for job j into dst (c, h, w).
static void perturb(const fstream *s, int64_t job, int64_t i, float *dst) {
  const sr_amodel *am = s->am;
  int nch = s->o->each ? am->c : 1;
  int64_t m = job / s->ncells, cell = job % s->ncells;
  double eps = s->o->eps[m / nch];
  const float *b = s->basis + cell * s->hw, *src = s->x + i * am->d;
  if (s->o->each) {
    int ch = (int)(m % nch);
    memcpy(dst, src, (size_t)am->d * sizeof(float));
    add_clip(dst + ch * s->hw, src + ch * s->hw, b, (float)eps * s->sign[i], s->hw);
    return;
  }
  float a = (float)(eps / sqrt((double)am->c)) * s->sign[i];
  for (int ch = 0; ch < am->c; ch++) add_clip(dst + ch * s->hw, src + ch * s->hw, b, a, s->hw);
}

sr_status sr_fourier_errors(sr_amodel *am, const sr_labeled *in, const sr_fourier_cells *cells,
                            const sr_fmap_opts *o, uint8_t *err, sr_err *e) {
  const float *x = in->x;
  const int32_t *y = in->y;
  int64_t n = in->n;
  sr_status st = check_args(am, n, cells, o, e);
  if (st) return st;
  int64_t jobs = sr_fourier_n_maps(o, am->c) * cells->n;
  int64_t lo = o->job_hi > o->job_lo ? o->job_lo : 0, hi = o->job_hi > o->job_lo ? o->job_hi : jobs;
  if (lo < 0 || hi > jobs)
    return sr_fail(e, SR_ERR_ARG, "Fourier map: jobs [%lld, %lld) outside [0, %lld)", (long long)lo,
                   (long long)hi, (long long)jobs);
  fstream s;
  st = stream_init(&s, am, &(sr_labeled){.x = x, .y = y, .n = n}, cells, o, e);
  // the stream of (job, image) pairs t in [lo*n, hi*n), cut into batches of am->batch
  int64_t t0 = lo * n, t1 = hi * n;
  for (int64_t t = t0; t < t1 && !st; t += am->batch) {
    int64_t k = t1 - t < am->batch ? t1 - t : am->batch;
    for (int64_t j = 0; j < k; j++) perturb(&s, (t + j) / n, (t + j) % n, s.xb + j * am->d);
    st = sr_amodel_predict(am, s.xb, k, s.pred, NULL, e);
    for (int64_t j = 0; j < k && !st; j++) err[t + j] = s.pred[j] != y[(t + j) % n];
    if (o->on_progress) o->on_progress(o->ctx, (double)(t + k - t0));
  }
  stream_free(&s);
  return st;
}
