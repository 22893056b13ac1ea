// Winograd F(4x4, 3x3) in the training tape: the forward and the backward-data of an eligible 3x3 stride-1
// convolution (backward-data of such a convolution is the same convolution of the output gradient with the
// filters rotated by 180 degrees and input/output channels swapped). Backward-weights stays oneDNN's.
// Weights change every step, so their transform runs at every use into one buffer shared by all nodes
// (keeping 4x the weights per node and direction would cost resnet18 width 1 about 360 MB).
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "winograd.h"

// G (6x3) for the interpolation points 0, +-1, +-2, infinity (as winograd.c).
static const float GF[SR_WINO_A][3] = {{1.0f / 4, 0, 0},
                                       {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                       {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                       {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                       {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                       {0, 0, 1}};

// U = G g G^T for the K filters of input channel c, vectorised over k. g: (9, K) taps of each filter.
// u: (36, C, K) -> writes u[xi][c][0..K). tmp: 18 * K floats.
static void transform_channel(float *restrict u, const float *restrict g, float *restrict tmp, int64_t C, int64_t K,
                              int64_t c) {
  for (int i = 0; i < SR_WINO_A; i++)  // tmp[i][j][k] = (G g)[i][j]
    for (int j = 0; j < 3; j++) {
      float *o = tmp + (i * 3 + j) * K;
      const float *g0 = g + j * K, *g1 = g + (3 + j) * K, *g2 = g + (6 + j) * K;
      for (int64_t k = 0; k < K; k++) o[k] = GF[i][0] * g0[k] + GF[i][1] * g1[k] + GF[i][2] * g2[k];
    }
  for (int i = 0; i < SR_WINO_A; i++)
    for (int j = 0; j < SR_WINO_A; j++) {
      float *o = u + ((int64_t)(i * SR_WINO_A + j) * C + c) * K;
      const float *t0 = tmp + (i * 3) * K, *t1 = t0 + K, *t2 = t1 + K;
      for (int64_t k = 0; k < K; k++) o[k] = t0[k] * GF[j][0] + t1[k] * GF[j][1] + t2[k] * GF[j][2];
    }
}

// wt: (O, I, 3, 3) plain. flip = 0: u for the forward, (36, I, O). flip = 1: u for backward-data,
// (36, O, I) from the filters rotated by 180 degrees. work: nthr * 27 * max(O, I) floats.
void sr_wino_train_weights(float *u, const float *wt, int64_t O, int64_t I, int flip, float *work) {
  int64_t C = flip ? O : I, K = flip ? I : O;  // u's input and output channels
#pragma omp parallel
  {
    float *g = work + (size_t)omp_get_thread_num() * 27 * (size_t)K, *tmp = g + 9 * K;
#pragma omp for schedule(static)
    for (int64_t c = 0; c < C; c++) {
      for (int64_t k = 0; k < K; k++) {  // gather the taps of the filter from channel c to channel k
        const float *f = flip ? wt + (c * I + k) * 9 : wt + (k * I + c) * 9;
        for (int e = 0; e < 9; e++) g[e * K + k] = f[flip ? 8 - e : e];
      }
      transform_channel(u, g, tmp, C, K, c);
    }
  }
}
