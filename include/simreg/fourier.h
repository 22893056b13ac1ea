// Fourier sensitivity maps (Yin et al., NeurIPS 2019): the error rate of a model on images perturbed by one
// real Fourier basis image per frequency (u, v) of the centred spectrum. See docs/SPECTRAL.md, "Fourier
// sensitivity maps", for the definitions (basis, symmetry, signs, bands).
//
// Basis and bands live in src/spectral/fourier_basis.c (area spectral: the report uses them too); the
// forward passes in src/attack/fourier.c (area attack: they run through the pixel-space wrapper sr_amodel).
#ifndef SIMREG_FOURIER_H
#define SIMREG_FOURIER_H

#include <stdint.h>

#include "simreg/core.h"
#include "simreg/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- the plane: shifted indices, Hermitian mirror, canonical half ------------------------------------
// A position (ky, kx) of the shifted h x w plane has frequency ((ky - h/2)/h, (kx - w/2)/w) cycles/pixel
// (integer division), as in the spectra. Its mirror (-u, -v) is ((2*(h/2) - ky) mod h, (2*(w/2) - kx) mod w);
// the basis images of a position and of its mirror are the same image, so only the canonical half is run.
int64_t sr_fourier_mirror(int64_t k, int64_t n);

typedef struct sr_fourier_cells {
  int64_t h, w;
  int64_t n;         // canonical cells: positions p = ky*w + kx with p <= the mirror's position
  int64_t *ky, *kx;  // (n) shifted indices of the canonical cells, in order of p; owned
  int64_t *of;       // (h*w) canonical cell of every position of the plane; owned
} sr_fourier_cells;

// SR_ERR_ARG for h or w < 2; SR_ERR_NOMEM.
sr_status sr_fourier_cells_init(sr_fourier_cells *c, int64_t h, int64_t w, sr_err *err);
void sr_fourier_cells_free(sr_fourier_cells *c);

// The real basis image of (ky, kx), (h*w) row-major: cos(2 pi (fy*y + fx*x)) divided by its L2 norm (so
// ||b||_2 = 1; the norm is sqrt(h*w/2), or sqrt(h*w) for the self-mirrored positions: DC and Nyquist).
// It is the real part of the inverse DFT of a spectrum that is 1 at (u, v) and at (-u, -v).
void sr_fourier_basis(int64_t ky, int64_t kx, int64_t h, int64_t w, double *out);

// ---- radial bands --------------------------------------------------------------------------------------
// low: r < 0.125, mid: 0.125 <= r < 0.25, high: r >= 0.25 (SR_SPEC_R0_DEFAULT; the corners r > 0.5 too),
// r = sqrt(fx^2 + fy^2) as sr_spectral_radius; edges compared with a 1e-9 slack (r = 0.25 is high).
#define SR_FOURIER_NBANDS   3
#define SR_FOURIER_LOW_MID  0.125
#define SR_FOURIER_MID_HIGH 0.25
const char *sr_fourier_band_name(int b);  // "low", "mid", "high"
int sr_fourier_band(int64_t ky, int64_t kx, int64_t h, int64_t w);

// Per-image band errors of one map: err (ncells, n) 0/1 per canonical cell and image (the layout
// sr_fourier_errors writes). count[b*n + i] = positions of band b (of the whole plane, mirrors included)
// at which image i was misclassified; pixels[b] = positions in band b. The band's mean error (the mean of
// the map over its positions) is sum_i count[b*n+i] / (n * pixels[b]).
void sr_fourier_band_counts(const sr_fourier_cells *c, const uint8_t *err, int64_t n, int64_t *count,
                            int64_t *pixels);

// Percentile-bootstrap CI (resampling images) of a band's mean error, mean_i count[i] / pixels; with base
// (may be NULL) of the paired difference mean_i (count[i] - base[i]) / pixels (same images, resampled
// together). out->estimate is the statistic on all images.
sr_status sr_fourier_band_ci(const int64_t *count, const int64_t *base, int64_t n, int64_t pixels,
                             const sr_boot_opts *bo, sr_ci *out, sr_err *err);

// The report's verdict on a paired difference (run - baseline) of error: "supports" (CI below 0: less
// sensitive), "contradicts" (CI above 0), "inconclusive" (CI contains 0).
const char *sr_fourier_verdict(const sr_ci *diff);

// ---- the map: one stream of batched forward passes -------------------------------------------------------
struct sr_amodel;
struct sr_labeled;

typedef struct sr_fmap_opts {
  const double *eps;  // (n_eps) L2 sizes of the perturbation, each > 0
  int n_eps;
  int each;         // 0: one map per eps, the basis on every channel (scaled 1/sqrt(C): unit norm over
                    //    the image); 1: one map per eps and channel, the basis on that channel only
  int random_sign;  // 1: image i is perturbed by s_i * eps * basis with s_i = sr_fourier_sign(seed, i)
  uint64_t seed;
  // Jobs [job_lo, job_hi) of the n_maps * cells->n (map m, cell) pairs, job = m * cells->n + cell: a shard.
  // job_hi <= job_lo: all jobs.
  int64_t job_lo, job_hi;
  // Called after every batch with the images done so far in this call (may be NULL).
  void (*on_progress)(void *ctx, double done);
  void *ctx;
} sr_fmap_opts;

// Maps of a call: n_eps * (each ? channels : 1); map m has eps[m / nch] and channel m % nch (each).
int64_t sr_fourier_n_maps(const sr_fmap_opts *o, int channels);
// +1 or -1, from the stream (seed, i) (the sign of the first 64-bit draw's top bit: 1 -> -1).
int sr_fourier_sign(uint64_t seed, int64_t i);

// x: (n, c, h, w) pixel-space images in [0,1], y: labels. err: (n_maps * cells->n, n) bytes; for each job in
// the shard, err[job * n + i] = 1 when the model's prediction on clip(x_i + eps s_i basis, 0, 1) differs from
// y_i, else 0 (other rows untouched). The basis images are built once per call; the (job, image) pairs are
// cut into batches of am->batch images regardless of job boundaries. cells must match the model's h x w.
sr_status sr_fourier_errors(struct sr_amodel *am, const struct sr_labeled *in, const sr_fourier_cells *cells,
                            const sr_fmap_opts *o, uint8_t *err, sr_err *e);

#ifdef __cplusplus
}
#endif
#endif
