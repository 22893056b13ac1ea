// Mean power spectrum of a perturbation set with FFTW (double precision, real-to-complex, one batched plan
// per call reused for every chunk of planes), then radial profile, cumulative power and high-frequency share.
#include <fftw3.h>
#include <math.h>
#include <string.h>

#include "simreg/spectral.h"

// Planes per FFTW batch: large enough to amortize the call, small enough to keep buffers in cache-sized MBs.
#define SR_SPEC_CHUNK_PLANES 64

double sr_spectral_radius(int64_t ky, int64_t kx, int64_t h, int64_t w) {
  double fy = (double)(ky - h / 2) / (double)h;
  double fx = (double)(kx - w / 2) / (double)w;
  return sqrt(fx * fx + fy * fy);
}

int sr_spectral_bin(double r) {
  const double width = SR_SPEC_RMAX / SR_SPEC_NBINS;
  // The small slack puts radii that are exact bin edges (0.1 = 5 * 0.02) in the bin they start,
  // whatever the rounding of r / width.
  double t = r / width + 1e-9;
  if (r > SR_SPEC_RMAX + 1e-12) return -1;
  int k = (int)floor(t);
  return k >= SR_SPEC_NBINS ? SR_SPEC_NBINS - 1 : k;
}

void sr_spectrum_free(sr_spectrum *s) {
  if (!s) return;
  sr_free(s->map);
  sr_free(s->img_high);
  sr_free(s->img_total);
  sr_free(s->img_dc);
  sr_free(s->img_ac);
  memset(s, 0, sizeof *s);
}

static int is_high(double r, double r0) { return r + 1e-12 >= r0; }

// Copy image i's C planes into `dst` (C,H,W) from x in the given layout.
static void gather_planes(double *dst, const double *x, int64_t i, int64_t c, int64_t h, int64_t w,
                          sr_layout layout) {
  int64_t hw = h * w;
  if (layout == SR_LAYOUT_NCHW) {
    memcpy(dst, x + i * c * hw, (size_t)(c * hw) * sizeof(double));
    return;
  }
  const double *src = x + i * hw * c;  // (H,W,C)
  for (int64_t p = 0; p < hw; p++)
    for (int64_t ch = 0; ch < c; ch++) dst[ch * hw + p] = src[p * c + ch];
}

// Add the channel-averaged power of one image (C half-spectra of size H x (W/2+1)) into `plane` (H,W),
// shifted so that DC lands at [H/2][W/2]. The missing half comes from Hermitian symmetry.
static void add_power(double *plane, const fftw_complex *spec, int64_t c, int64_t h, int64_t w) {
  int64_t wh = w / 2 + 1;
  double inv_c = 1.0 / (double)c;
  for (int64_t ch = 0; ch < c; ch++) {
    const fftw_complex *f = spec + ch * h * wh;
    for (int64_t ky = 0; ky < h; ky++) {
      int64_t sy = (ky + h / 2) % h;
      for (int64_t kx = 0; kx < w; kx++) {
        const fftw_complex *v = kx < wh ? &f[ky * wh + kx] : &f[((h - ky) % h) * wh + (w - kx)];
        double p = (*v)[0] * (*v)[0] + (*v)[1] * (*v)[1];
        int64_t sx = (kx + w / 2) % w;
        plane[sy * w + sx] += p * inv_c;
      }
    }
  }
}

static sr_status check_args(const sr_perturbations *pert, double r0, sr_err *err) {
  const double *x = pert->x;
  const int64_t n = pert->n, c = pert->c, h = pert->h, w = pert->w;
  const sr_layout layout = pert->layout;
  if (n < 1 || c < 1)
    return sr_fail(err, SR_ERR_ARG, "spectrum: need at least one image and channel (N=%lld, C=%lld)",
                   (long long)n, (long long)c);
  if (h < 2 || w < 2)
    return sr_fail(err, SR_ERR_ARG, "spectrum: planes must be at least 2x2 (got %lldx%lld)", (long long)h,
                   (long long)w);
  if (h > 65536 || w > 65536 || h * w > ((int64_t)1 << 24))  // FFTW takes int sizes for the whole batch
    return sr_fail(err, SR_ERR_ARG, "spectrum: planes of %lldx%lld are too large", (long long)h,
                   (long long)w);
  if (layout != SR_LAYOUT_NCHW && layout != SR_LAYOUT_NHWC)
    return sr_fail(err, SR_ERR_ARG, "spectrum: layout must be resolved to NCHW or NHWC");
  if (!(r0 > 0 && r0 <= SR_SPEC_RMAX))
    return sr_fail(err, SR_ERR_ARG, "spectrum: r0 = %g is outside (0, 0.5]", r0);
  size_t total;
  if (sr_mul_overflow((size_t)n, (size_t)c, &total) || sr_mul_overflow(total, (size_t)h, &total) ||
      sr_mul_overflow(total, (size_t)w, &total) || total > ((size_t)1 << 40))
    return sr_fail(err, SR_ERR_ARG, "spectrum: N*C*H*W is too large");
  for (size_t i = 0; i < total; i++)
    if (!isfinite(x[i]))
      return sr_fail(err, SR_ERR_NUMERIC, "spectrum: element %zu of the perturbations is not finite", i);
  return SR_OK;
}

// The mean-removed spectrum from the unnormalized mean power `acc` (H,W): everything but the DC pixel.
static void summarize_ac(sr_spectrum *s, const double *acc) {
  int64_t h = s->h, w = s->w, dc = (h / 2) * w + w / 2;
  double total = 0, high = 0, bin_sum[SR_SPEC_NBINS] = {0};
  memset(s->bin_count_ac, 0, sizeof s->bin_count_ac);
  for (int64_t y = 0; y < h; y++)
    for (int64_t x = 0; x < w; x++) {
      if (y * w + x == dc) continue;
      double p = acc[y * w + x], r = sr_spectral_radius(y, x, h, w);
      total += p;
      if (is_high(r, s->r0)) high += p;
      int k = sr_spectral_bin(r);
      if (k < 0) continue;
      bin_sum[k] += p;
      s->bin_count_ac[k]++;
    }
  s->dc_share = acc[dc] / s->total_power;
  s->has_ac = total > SR_SPEC_AC_EPS * s->total_power;
  s->ac_total_power = s->has_ac ? total : 0.0;
  s->hf_share_ac = s->has_ac ? high / total : NAN;
  for (int k = 0; k < SR_SPEC_NBINS; k++)
    s->radial_ac[k] = !s->has_ac           ? NAN
                      : s->bin_count_ac[k] ? bin_sum[k] / (double)s->bin_count_ac[k] / total
                                           : 0.0;
}

// Radial statistics, shares and the normalized map from the mean power `acc` (H,W), consumed into s->map.
static sr_status summarize(sr_spectrum *s, double *acc, sr_err *err) {
  int64_t h = s->h, w = s->w;
  double total = 0, mx = 0, high = 0, corner = 0, bin_sum[SR_SPEC_NBINS] = {0};
  memset(s->bin_count, 0, sizeof s->bin_count);
  for (int64_t y = 0; y < h; y++)
    for (int64_t x = 0; x < w; x++) {
      double p = acc[y * w + x], r = sr_spectral_radius(y, x, h, w);
      total += p;
      if (p > mx) mx = p;
      if (is_high(r, s->r0)) high += p;
      int k = sr_spectral_bin(r);
      if (k < 0) {
        corner += p;
        continue;
      }
      bin_sum[k] += p;
      s->bin_count[k]++;
    }
  if (!(total > 0))
    return sr_fail(err, SR_ERR_NUMERIC,
                   "spectrum: all %lld perturbations are zero, so the normalized spectrum is undefined",
                   (long long)s->n);
  double rmax = 0, cum = 0;
  for (int k = 0; k < SR_SPEC_NBINS; k++) {
    s->radial[k] = s->bin_count[k] ? bin_sum[k] / (double)s->bin_count[k] : 0.0;
    if (s->radial[k] > rmax) rmax = s->radial[k];
    cum += bin_sum[k];
    s->cumulative[k] = cum / total;
    s->bin_edges[k] = SR_SPEC_RMAX * k / SR_SPEC_NBINS;
  }
  s->bin_edges[SR_SPEC_NBINS] = SR_SPEC_RMAX;
  for (int k = 0; k < SR_SPEC_NBINS; k++) s->radial[k] = rmax > 0 ? s->radial[k] / rmax : 0.0;
  s->total_power = total;
  s->map_max = mx;
  s->hf_share = high / total;
  s->corner_share = corner / total;
  summarize_ac(s, acc);
  for (int64_t i = 0; i < h * w; i++) acc[i] /= mx;
  s->map = acc;
  return SR_OK;
}

sr_status sr_spectrum_compute(const sr_perturbations *pert, double r0, sr_spectrum *out, sr_err *err) {
  const double *x = pert->x;
  const int64_t n = pert->n, c = pert->c, h = pert->h, w = pert->w;
  const sr_layout layout = pert->layout;
  memset(out, 0, sizeof *out);
  sr_status st = check_args(pert, r0, err);
  if (st) return st;
  int64_t hw = h * w, wh = w / 2 + 1;
  int64_t per_chunk = SR_SPEC_CHUNK_PLANES / c > 0 ? SR_SPEC_CHUNK_PLANES / c : 1;  // images per batch
  if (per_chunk > n) per_chunk = n;
  int howmany = (int)(per_chunk * c);
  double *acc = sr_calloc((size_t)hw, sizeof(double));
  double *plane = sr_alloc((size_t)hw * sizeof(double));
  double *in = fftw_alloc_real((size_t)(howmany * hw));
  fftw_complex *spec = fftw_alloc_complex((size_t)(howmany * h * wh));
  out->img_high = sr_calloc((size_t)n, sizeof(double));
  out->img_total = sr_calloc((size_t)n, sizeof(double));
  out->img_dc = sr_calloc((size_t)n, sizeof(double));
  out->img_ac = sr_calloc((size_t)n, sizeof(double));
  fftw_plan plan = NULL;
  if (acc && plane && in && spec && out->img_high && out->img_total && out->img_dc && out->img_ac) {
    int dims[2] = {(int)h, (int)w};
    plan = fftw_plan_many_dft_r2c(2, dims, howmany, in, NULL, 1, (int)hw, spec, NULL, 1, (int)(h * wh),
                                  FFTW_ESTIMATE);
  }
  if (!plan) {
    st = sr_fail(err, SR_ERR_NOMEM,
                 "spectrum: cannot allocate buffers or an FFTW plan for %lld planes of %lldx%lld",
                 (long long)howmany, (long long)h, (long long)w);
    goto done;
  }
  out->n = n;
  out->h = h;
  out->w = w;
  out->r0 = r0;
  for (int64_t i0 = 0; i0 < n; i0 += per_chunk) {
    int64_t m = n - i0 < per_chunk ? n - i0 : per_chunk;
    for (int64_t j = 0; j < m; j++) gather_planes(in + j * c * hw, x, i0 + j, c, h, w, layout);
    if (m < per_chunk) memset(in + m * c * hw, 0, (size_t)((per_chunk - m) * c * hw) * sizeof(double));
    fftw_execute(plan);
    for (int64_t j = 0; j < m; j++) {
      memset(plane, 0, (size_t)hw * sizeof(double));
      add_power(plane, spec + j * c * h * wh, c, h, w);
      double tot = 0, hi = 0, ac = 0;
      for (int64_t y = 0; y < h; y++)
        for (int64_t xx = 0; xx < w; xx++) {
          double p = plane[y * w + xx];
          tot += p;
          if (y != h / 2 || xx != w / 2) ac += p;  // all but the DC bin: the mean-removed image's power
          if (is_high(sr_spectral_radius(y, xx, h, w), r0)) hi += p;
          acc[y * w + xx] += p / (double)n;
        }
      out->img_total[i0 + j] = tot;
      out->img_high[i0 + j] = hi;
      out->img_dc[i0 + j] = plane[(h / 2) * w + w / 2];
      out->img_ac[i0 + j] = ac;
    }
  }
  st = summarize(out, acc, err);
  if (st == SR_OK) acc = NULL;  // now owned by out->map
done:
  if (plan) fftw_destroy_plan(plan);
  fftw_free(in);
  fftw_free(spec);
  sr_free(plane);
  sr_free(acc);
  if (st) sr_spectrum_free(out);
  return st;
}

double sr_spectrum_hf_share_of(const sr_spectrum *s, const int64_t *idx, int64_t k) {
  double hi = 0, tot = 0;
  for (int64_t i = 0; i < k; i++) {
    hi += s->img_high[idx[i]];
    tot += s->img_total[idx[i]];
  }
  // A resample made only of zero perturbations carries no spectral information: give it the sample's share.
  return tot > 0 ? hi / tot : s->hf_share;
}

sr_status sr_spectral_layout(const sr_npy *a, sr_layout layout, sr_layout *resolved, int64_t *c, int64_t *h,
                             int64_t *w, sr_err *err) {
  if (a->ndim == 3) {
    *resolved = SR_LAYOUT_NCHW;
    *c = 1;
    *h = a->shape[1];
    *w = a->shape[2];
    return SR_OK;
  }
  if (a->ndim != 4)
    return sr_fail(err, SR_ERR_SHAPE,
                   "perturbations must be (N,H,W), (N,C,H,W) or (N,H,W,C); got %d dimensions", a->ndim);
  int first = a->shape[1] == 1 || a->shape[1] == 3, last = a->shape[3] == 1 || a->shape[3] == 3;
  if (layout == SR_LAYOUT_AUTO) {
    if (!first && !last)
      return sr_fail(err, SR_ERR_SHAPE,
                     "cannot tell channels in shape (%lld,%lld,%lld,%lld): neither dim 1 nor dim 3 is 1 or 3",
                     (long long)a->shape[0], (long long)a->shape[1], (long long)a->shape[2],
                     (long long)a->shape[3]);
    layout = first ? SR_LAYOUT_NCHW : SR_LAYOUT_NHWC;
  }
  *resolved = layout;
  if (layout == SR_LAYOUT_NCHW) {
    *c = a->shape[1];
    *h = a->shape[2];
    *w = a->shape[3];
  } else {
    *c = a->shape[3];
    *h = a->shape[1];
    *w = a->shape[2];
  }
  return SR_OK;
}

sr_status sr_spectrum_from_npy(const sr_npy *a, sr_layout layout, double r0, sr_spectrum *out, sr_err *err) {
  memset(out, 0, sizeof *out);
  int64_t c, h, w;
  sr_layout res;
  sr_status st = sr_spectral_layout(a, layout, &res, &c, &h, &w, err);
  if (st) return st;
  double *x = NULL;
  st = sr_npy_as_f64(a, &x, err);
  if (st) return st;
  st = sr_spectrum_compute(
      &(sr_perturbations){.x = x, .n = a->shape[0], .c = c, .h = h, .w = w, .layout = res}, r0, out, err);
  sr_free(x);
  return st;
}

int sr_spectrum_radial_points(const sr_spectrum *s, double *x, double *y) {
  int n = 0;
  for (int k = 0; k < SR_SPEC_NBINS; k++)
    if (s->bin_count[k] > 0) x[n] = (k + 0.5) * SR_SPEC_RMAX / SR_SPEC_NBINS, y[n++] = s->radial[k];
  return n;
}
