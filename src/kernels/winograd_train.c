// Winograd weight gradient for the training tape, F(3x3, 4x4). conv2d.c runs an eligible convolution's
// forward and backward-data with winograd.c's F(4x4, 3x3) kernel (backward-data of a 3x3 stride-1 pad-1
// convolution is the same convolution of the output gradient with the filters rotated by 180 degrees and
// the channel roles swapped) and its backward-weights with this.

#include <oneapi/dnnl/dnnl.h>

#include "v8.h"
#include "winograd.h"

// ---- backward-weights: dW = sum over tiles of F(3x3, 4x4) correlations ----
// Per 4x4 output tile, dW[k][c] (3x3) += corr(x window 6x6 of channel c, dy tile 4x4 of channel k), the
// same interpolation points as the forward, so the input windows take the forward's transform B^T d B;
// the dy tile takes G4 (6x4) f G4^T, and the result A3^T (3x6) M A3. The sum over tiles becomes 36 GEMMs
// M[xi] (K x C) += Udy[xi]^T (K x T) Vx[xi] (T x C), chunk by chunk of tiles.
#define L 8

// G4 rows: (1/4 0 0 0) (-1/6 -1/6 -1/6 -1/6) (-1/6 1/6 -1/6 1/6) (1/24 1/12 1/6 1/3) (1/24 -1/12 1/6 -1/3) (0
// 0 0 1) x[i]: element i's 8 lanes.
static inline void g4(const sr_v8 x[restrict SR_WINO_M], sr_v8 y[restrict SR_WINO_A]) {
  sr_v8 f0 = x[0], f1 = x[1], f2 = x[2], f3 = x[3];
  sr_v8 e = f0 + f2, o = f1 + f3, e4 = f0 / 24 + f2 / 6, o4 = f1 / 12 + f3 / 3;
  y[0] = f0 / 4;
  y[1] = -(e + o) / 6;
  y[2] = (o - e) / 6;
  y[3] = e4 + o4;
  y[4] = e4 - o4;
  y[5] = f3;
}

// The 4x4 output-gradient tile t of channel block kb (zero beyond the image) -> u + xi * us (8 lanes).
static void dy_tile(const sr_wino *w, const float *dy, int64_t t, int kb, float *u, ptrdiff_t us) {
  int64_t per = w->th * w->tw, img = t / per, r = t % per;
  int y0 = (int)(r / w->tw) * SR_WINO_M, x0 = (int)(r % w->tw) * SR_WINO_M;
  const float *plane = dy + ((img * (w->K / L) + kb) * w->H) * (int64_t)w->W * L;
  sr_v8 f[SR_WINO_M], g[SR_WINO_A][SR_WINO_M], o[SR_WINO_A];
  for (int j = 0; j < SR_WINO_M; j++) {  // g = G4 f, column j
    for (int i = 0; i < SR_WINO_M; i++)
      f[i] = y0 + i < w->H && x0 + j < w->W ? SR_V8_LOAD(plane + ((int64_t)(y0 + i) * w->W + x0 + j) * L)
                                            : (sr_v8){0};
    g4(f, o);
    for (int i = 0; i < SR_WINO_A; i++) g[i][j] = o[i];
  }
  for (int i = 0; i < SR_WINO_A; i++) {  // u = g G4^T, row i
    g4(g[i], o);
    for (int j = 0; j < SR_WINO_A; j++) SR_V8_STORE(u + (ptrdiff_t)(i * SR_WINO_A + j) * us, o[j]);
  }
}

// Tiles per chunk: the chunk's Vx and Udy within ~8 MiB, at least 64 (the GEMMs' reduction length).
static int64_t bwdw_chunk(const sr_wino *w) {
  int64_t tc = ((int64_t)8 << 20) / ((int64_t)SR_WINO_XI * (w->C + w->K) * (int64_t)sizeof(float));
  if (tc < 64) tc = 64;
  return tc < w->tiles ? tc : w->tiles;
}

size_t sr_wino_bwdw_scratch_floats(const sr_wino *w) {
  int64_t tc = bwdw_chunk(w);
  return (size_t)SR_WINO_XI * (size_t)((tc * w->C + 16) + (tc * w->K + 16));
}

// m: (36, K, C) -> dw (K, C, 3, 3) += A3^T m A3, 8 input channels at a time (C is a multiple of 8).
// A3^T rows: (1 1 1 1 1 0) (0 1 -1 2 -2 0) (0 1 1 4 4 1)
static void bwdw_output(const sr_wino *w, const float *m, float *dw) {
  int64_t C = w->C, K = w->K;
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < K; k++)
    for (int64_t c = 0; c < C; c += L) {
      sr_v8 p[SR_WINO_A][SR_WINO_A], q[3][SR_WINO_A], e[9];
      for (int xi = 0; xi < SR_WINO_XI; xi++)
        p[xi / SR_WINO_A][xi % SR_WINO_A] = SR_V8_LOAD(m + ((int64_t)xi * K + k) * C + c);
      for (int j = 0; j < SR_WINO_A; j++) {
        q[0][j] = p[0][j] + p[1][j] + p[2][j] + p[3][j] + p[4][j];
        q[1][j] = p[1][j] - p[2][j] + 2 * (p[3][j] - p[4][j]);
        q[2][j] = p[1][j] + p[2][j] + 4 * (p[3][j] + p[4][j]) + p[5][j];
      }
      for (int a = 0; a < 3; a++) {
        const sr_v8 *r = q[a];
        e[a * 3 + 0] = r[0] + r[1] + r[2] + r[3] + r[4];
        e[a * 3 + 1] = r[1] - r[2] + 2 * (r[3] - r[4]);
        e[a * 3 + 2] = r[1] + r[2] + 4 * (r[3] + r[4]) + r[5];
      }
      float *o = dw + (k * C + c) * 9;  // filter k's 8 input channels, 9 taps each
      for (int l = 0; l < L; l++)
        for (int tap = 0; tap < 9; tap++) o[l * 9 + tap] += e[tap][l];
    }
}

// x: (n, C, H, W) nChw8c, the forward's input; dy: (n, K, H, W) nChw8c. dw (K, C, 3, 3) += dL/dW.
// m: 36 * K * C floats; scratch: sr_wino_bwdw_scratch_floats floats.
sr_status sr_wino_backward_weights(const sr_wino *w, const float *x, const float *dy, float *dw, float *m,
                                   float *scratch, sr_err *err) {
  int64_t tc = bwdw_chunk(w);
  ptrdiff_t vs = (ptrdiff_t)(tc * w->C + 16), us = (ptrdiff_t)(tc * w->K + 16);
  float *v = scratch, *u = scratch + (size_t)SR_WINO_XI * (size_t)vs;
  int fail = 0;
  for (int64_t t0 = 0; t0 < w->tiles; t0 += tc) {
    int64_t cnt = w->tiles - t0 < tc ? w->tiles - t0 : tc;
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < cnt; t++) {
      for (int cb = 0; cb < w->C / L; cb++)
        sr_wino_input_tile_at(w, x, t0 + t, cb, v + t * w->C + cb * L, vs);
      for (int kb = 0; kb < w->K / L; kb++) dy_tile(w, dy, t0 + t, kb, u + t * w->K + kb * L, us);
    }
    float beta = t0 ? 1.f : 0.f;
#pragma omp parallel for schedule(dynamic) reduction(| : fail)
    for (int xi = 0; xi < SR_WINO_XI; xi++)  // M[xi] (K x C) (+)= Udy[xi]^T (K x cnt) Vx[xi] (cnt x C)
      fail |= dnnl_sgemm('T', 'N', w->K, w->C, cnt, 1.f, u + xi * us, w->K, v + xi * vs, w->C, beta,
                         m + (int64_t)xi * w->K * w->C, w->C) != dnnl_success;
  }
  if (fail)
    return sr_fail(err, SR_ERR_BACKEND, "oneDNN: dnnl_sgemm failed in a Winograd weight gradient (%d -> %d)",
                   w->C, w->K);
  bwdw_output(w, m, dw);
  return SR_OK;
}
