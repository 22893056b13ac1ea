// Fourier sensitivity maps, the model-free half: basis images, the canonical half-plane, radial bands and
// their bootstrap (include/simreg/fourier.h, docs/SPECTRAL.md).
#include <math.h>
#include <string.h>

#include "simreg/fourier.h"
#include "simreg/spectral.h"

int64_t sr_fourier_mirror(int64_t k, int64_t n) { return ((2 * (n / 2) - k) % n + n) % n; }

sr_status sr_fourier_cells_init(sr_fourier_cells *c, int64_t h, int64_t w, sr_err *err) {
  memset(c, 0, sizeof *c);
  if (h < 2 || w < 2)
    return sr_fail(err, SR_ERR_ARG, "Fourier map: plane %lldx%lld is smaller than 2x2", (long long)h,
                   (long long)w);
  c->h = h;
  c->w = w;
  c->ky = sr_calloc((size_t)(h * w), sizeof(int64_t));
  c->kx = sr_calloc((size_t)(h * w), sizeof(int64_t));
  c->of = sr_calloc((size_t)(h * w), sizeof(int64_t));
  if (!c->ky || !c->kx || !c->of) {
    sr_fourier_cells_free(c);
    return sr_fail(err, SR_ERR_NOMEM, "Fourier map: cells of a %lldx%lld plane", (long long)h, (long long)w);
  }
  // A position is canonical when it comes first in row-major order among itself and its mirror; the mirror
  // of a later position was visited before it, so its cell index already exists.
  for (int64_t ky = 0; ky < h; ky++)
    for (int64_t kx = 0; kx < w; kx++) {
      int64_t p = ky * w + kx, q = sr_fourier_mirror(ky, h) * w + sr_fourier_mirror(kx, w);
      if (p <= q) {
        c->ky[c->n] = ky;
        c->kx[c->n] = kx;
        c->of[p] = c->n++;
      } else {
        c->of[p] = c->of[q];
      }
    }
  return SR_OK;
}

void sr_fourier_cells_free(sr_fourier_cells *c) {
  sr_free(c->ky);
  sr_free(c->kx);
  sr_free(c->of);
  memset(c, 0, sizeof *c);
}

// b(y, x) = cos(2 pi (py*y/h + px*x/w)), py = ky - h/2, px = kx - w/2; the phase is reduced with integer
// arithmetic first so that large planes keep exact zeros of the spectrum away from (u, v).
void sr_fourier_basis(int64_t ky, int64_t kx, int64_t h, int64_t w, double *out) {
  int64_t py = ky - h / 2, px = kx - w / 2;
  double ss = 0;
  for (int64_t y = 0; y < h; y++) {
    int64_t ay = ((py * y) % h + h) % h;
    for (int64_t x = 0; x < w; x++) {
      int64_t ax = ((px * x) % w + w) % w;
      double v = cos(2.0 * M_PI * ((double)ay / (double)h + (double)ax / (double)w));
      out[y * w + x] = v;
      ss += v * v;
    }
  }
  double inv = 1.0 / sqrt(ss);  // ss >= 1: b(0, 0) = 1
  for (int64_t p = 0; p < h * w; p++) out[p] *= inv;
}

const char *sr_fourier_band_name(int b) {
  static const char *const names[SR_FOURIER_NBANDS] = {"low", "mid", "high"};
  return b >= 0 && b < SR_FOURIER_NBANDS ? names[b] : "?";
}

int sr_fourier_band(int64_t ky, int64_t kx, int64_t h, int64_t w) {
  double r = sr_spectral_radius(ky, kx, h, w) + 1e-9;
  return r < SR_FOURIER_LOW_MID ? 0 : r < SR_FOURIER_MID_HIGH ? 1 : 2;
}

void sr_fourier_band_counts(const sr_fourier_cells *c, const uint8_t *err, int64_t n, int64_t *count,
                            int64_t *pixels) {
  memset(count, 0, (size_t)(SR_FOURIER_NBANDS * n) * sizeof(int64_t));
  memset(pixels, 0, SR_FOURIER_NBANDS * sizeof(int64_t));
  for (int64_t ky = 0; ky < c->h; ky++)
    for (int64_t kx = 0; kx < c->w; kx++) {
      int b = sr_fourier_band(ky, kx, c->h, c->w);
      const uint8_t *e = err + c->of[ky * c->w + kx] * n;
      int64_t *cb = count + b * n;
      pixels[b]++;
      for (int64_t i = 0; i < n; i++) cb[i] += e[i];
    }
}

typedef struct band_ctx {
  const int64_t *count, *base;
  double pixels;
} band_ctx;

// mean over the resample of (count[i] - base[i]) / pixels
static double band_stat(const int64_t *idx, int64_t k, void *ctx) {
  const band_ctx *b = ctx;
  double s = 0;
  for (int64_t j = 0; j < k; j++) s += (double)(b->count[idx[j]] - (b->base ? b->base[idx[j]] : 0));
  return s / ((double)k * b->pixels);
}

sr_status sr_fourier_band_ci(const int64_t *count, const int64_t *base, int64_t n, int64_t pixels,
                             const sr_boot_opts *bo, sr_ci *out, sr_err *err) {
  if (pixels < 1) return sr_fail(err, SR_ERR_ARG, "Fourier band with no position");
  band_ctx ctx = {.count = count, .base = base, .pixels = (double)pixels};
  return sr_bootstrap(&(sr_boot_sample){.n = n, .stat = band_stat, .ctx = &ctx}, bo, out, err);
}

const char *sr_fourier_verdict(const sr_ci *d) {
  if (d->hi < 0) return "supports";
  if (d->lo > 0) return "contradicts";
  return "inconclusive";
}
