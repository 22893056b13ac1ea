// Fourier analysis of perturbation sets: mean 2D power spectrum, radial profile, cumulative power,
// high-frequency share. See docs/SPECTRAL.md for every convention (bins, corners, channels, DC).
#ifndef SIMREG_SPECTRAL_H
#define SIMREG_SPECTRAL_H

#include "simreg/core.h"
#include "simreg/npy.h"
#include "simreg/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SR_SPEC_NBINS      25     // radial bins over [0, SR_SPEC_RMAX]
#define SR_SPEC_RMAX       0.5    // cycles/pixel
#define SR_SPEC_R0_DEFAULT 0.25   // high-frequency cut-off
#define SR_SPEC_DB_RANGE   40.0   // dB shown below the maximum in the log-power maps
#define SR_SPEC_AC_EPS     1e-20  // mean-removed power below this share of the total counts as none

typedef enum sr_layout { SR_LAYOUT_AUTO, SR_LAYOUT_NCHW, SR_LAYOUT_NHWC } sr_layout;

typedef struct sr_spectrum {
  int64_t n, h, w;     // images and plane size the spectrum was computed from
  double *map;         // (H,W) mean power, fftshifted (DC at [H/2][W/2]), max-normalized to [0,1]; owned
  double map_max;      // the mean power at the maximum before normalization
  double total_power;  // sum over the plane of the (unnormalized) mean power
  double radial[SR_SPEC_NBINS];      // azimuthal mean power per bin, max-normalized (bins with no pixel: 0)
  int64_t bin_count[SR_SPEC_NBINS];  // frequency pixels in each bin
  double cumulative[SR_SPEC_NBINS];  // share of total power at r < upper edge of bin k
  double bin_edges[SR_SPEC_NBINS + 1];
  double corner_share;  // share of power at r > 0.5 (square-grid corners, outside every bin)
  double r0;            // high-frequency cut-off used
  double hf_share;      // share of total power at r >= r0 (corners included)
  double *img_high;     // (N) per-image power at r >= r0, channels averaged; owned (for bootstrap)
  double *img_total;    // (N) per-image total power, channels averaged; owned

  // Mean-removed spectrum: each image-channel's mean subtracted before the FFT. That zeroes the DC bin and
  // leaves every other bin as it is, so it is computed from the same transform with the DC bin dropped.
  double dc_share;        // power of the means (the DC bin) / total_power
  int has_ac;             // 0 when the mean-removed power is below SR_SPEC_AC_EPS * total_power (constant
                          // perturbations): then ac_total_power is 0 and hf_share_ac, radial_ac are NaN
  double ac_total_power;  // sum over the plane of the mean power without the DC bin
  double hf_share_ac;     // share of the mean-removed power at r >= r0
  double radial_ac[SR_SPEC_NBINS];  // azimuthal mean of the mean-removed power over the non-DC pixels of
                                    // each bin, divided by ac_total_power (not max-normalized); 0: no pixel
  int64_t bin_count_ac[SR_SPEC_NBINS];  // non-DC frequency pixels in each bin
  double *img_dc;                       // (N) per-image DC power, channels averaged; owned
  double *img_ac;                       // (N) per-image power outside the DC bin, channels averaged; owned
} sr_spectrum;

// Spectrum of N perturbations. x: (N,C,H,W) for SR_LAYOUT_NCHW, (N,H,W,C) for SR_LAYOUT_NHWC, row-major
// double. Per image the power |fftshift(fft2(x_c))|^2 is averaged over channels; then averaged over images.
// Errors: SR_ERR_ARG for sizes (H,W < 2, N,C < 1) or r0 outside (0, 0.5]; SR_ERR_NUMERIC for a non-finite
// value or when every perturbation is zero (the normalization would divide by zero).
// Not safe to call from several threads at once (FFTW's planner is global).
typedef struct sr_perturbations {
  const double *x;  // n perturbations of c channels, h x w, in `layout`
  int64_t n, c, h, w;
  sr_layout layout;
} sr_perturbations;
sr_status sr_spectrum_compute(const sr_perturbations *p, double r0, sr_spectrum *out, sr_err *err);
void sr_spectrum_free(sr_spectrum *s);

// Interpret an .npy of shape (N,H,W), (N,C,H,W) or (N,H,W,C) (any numeric dtype) and compute its spectrum.
// With SR_LAYOUT_AUTO a 4-D array is NCHW when shape[1] is 1 or 3 and NHWC when only shape[3] is; when both
// are, NCHW wins (PyTorch's order); when neither is, SR_ERR_SHAPE.
sr_status sr_spectrum_from_npy(const sr_npy *a, sr_layout layout, double r0, sr_spectrum *out, sr_err *err);
// Resolve the layout of an .npy shape as above: fills *c,*h,*w and *resolved.
sr_status sr_spectral_layout(const sr_npy *a, sr_layout layout, sr_layout *resolved, int64_t *c, int64_t *h,
                             int64_t *w, sr_err *err);

// Power share at r >= r0 for a resampled set of images (indices into img_high/img_total): the statistic
// the bootstrap of hf_share uses. Equals s->hf_share for the identity index set.
double sr_spectrum_hf_share_of(const sr_spectrum *s, const int64_t *idx, int64_t k);

// Percentile-bootstrap CI of hf_share, resampling images (with their per-image high and total power).
sr_status sr_spectrum_hf_ci(const sr_spectrum *s, int64_t b, double level, sr_rng *rng, sr_ci *out,
                            sr_err *err);

// Which power share a resample statistic computes (sums over the resampled images):
// SR_SHARE_HF: sum(img_high) / sum(img_total) (hf_share); SR_SHARE_HF_AC: sum(img_high) / sum(img_ac)
// (hf_share_ac: the DC bin is never high since r0 > 0); SR_SHARE_DC: sum(img_dc) / sum(img_total) (dc_share).
typedef enum sr_share { SR_SHARE_HF, SR_SHARE_HF_AC, SR_SHARE_DC } sr_share;

// The share for a resampled set of images (indices into the per-image arrays). Equals the field above for
// the identity index set; a resample whose denominator is 0 gets the full sample's share.
double sr_spectrum_share_of(const sr_spectrum *s, sr_share which, const int64_t *idx, int64_t k);
// Percentile-bootstrap CI of one share, resampling images. SR_ERR_NUMERIC for SR_SHARE_HF_AC without has_ac.
sr_status sr_spectrum_share_ci(const sr_spectrum *s, sr_share which, int64_t b, double level, sr_rng *rng,
                               sr_ci *out, sr_err *err);
// CI of the difference share(s) - share(ref): images of each set resampled independently (the two sets are
// different images), the share recomputed in each, the difference taken (sr_bootstrap_diff). Any plane
// sizes. SR_ERR_NUMERIC for SR_SHARE_HF_AC when either set lacks has_ac.
sr_status sr_spectrum_share_diff_ci(const sr_spectrum *ref, const sr_spectrum *s, sr_share which,
                                    const sr_boot_opts *bo, sr_ci *out, sr_err *err);

// Log-power map of the mean-removed spectrum: out (H,W), fftshifted like map, holds
// 10 log10(P / ac_total_power) for every pixel but DC, floored at floor_db (so zero power stays finite),
// and NaN at the DC pixel [H/2][W/2] (masked: the mean-removed spectrum has no power there).
// *peak_db (may be NULL) gets the largest non-DC value. SR_ERR_NUMERIC without has_ac.
sr_status sr_spectrum_db_map(const sr_spectrum *s, double floor_db, double *out, double *peak_db,
                             sr_err *err);
// The mean-removed radial profile in dB, 10 log10(radial_ac[k]) floored at floor_db, as points (bin centre,
// value) for the bins with at least one non-DC pixel; returns the count (0 without has_ac).
int sr_spectrum_radial_db_points(const sr_spectrum *s, double floor_db, double *x, double *y);

// The radial profile as points (bin centre, value) for the bins that contain at least one frequency pixel
// (small planes leave some bins empty); returns the count. x, y: room for SR_SPEC_NBINS.
int sr_spectrum_radial_points(const sr_spectrum *s, double *x, double *y);

// Radius (cycles/pixel) of frequency pixel (ky,kx) of the *shifted* plane of size h x w.
double sr_spectral_radius(int64_t ky, int64_t kx, int64_t h, int64_t w);
// Radial bin of radius r: k with edges[k] <= r < edges[k+1] (r == 0.5 goes to the last bin); -1 past 0.5.
int sr_spectral_bin(double r);

#ifdef __cplusplus
}
#endif
#endif
