// Internal: Winograd F(4x4, 3x3) convolution for the inference plan (winograd.c). Not a public header.
// 3x3, stride 1, pad 1, f32, channels in multiples of 8; activations in oneDNN's nChw8c layout
// (8 channels of one pixel contiguous: one ymm on AVX2).
#ifndef SR_WINOGRAD_H
#define SR_WINOGRAD_H

#include <stddef.h>

#include "simreg/core.h"
#include "simreg/model.h"

#define SR_WINO_M  4                        // output tile side
#define SR_WINO_A  6                        // input tile side: M + 3 - 1
#define SR_WINO_XI (SR_WINO_A * SR_WINO_A)  // 36 GEMMs

typedef struct sr_wino {
  int C, K, H, W;  // input channels, output channels, spatial size (same in and out)
  int64_t n;       // batch
  int64_t th, tw;  // tiles per image along H and W
  int64_t tiles;   // n * th * tw
  int64_t tb;      // tiles per block: the GEMMs' M; one block's V and M stay in the thread's scratch
  int nthr;        // threads the scratch is sized for
  float *u;        // transformed weights: (36, C, K), the caller's buffer (shared by plans / by a tape)
} sr_wino;

// The fixed rule: does the plan for batch n run this convolution node with Winograd? 3x3, stride 1, pad 1,
// input and output channels >= 16 and multiples of 8, at least 4 output tiles (n * ceil(H/4) * ceil(W/4))
// and tiles * C * K >= 2^14.
int sr_wino_eligible(const sr_node *nd, int64_t n);
// Shapes and block size for batch n (u left NULL for the caller to set); nthr: threads the scratch serves.
void sr_wino_init(sr_wino *w, const sr_node *nd, int64_t n, int nthr);
// Floats of scratch one forward needs (all threads): transformed input and GEMM output of one block each.
size_t sr_wino_scratch_floats(const sr_wino *w);
// U = G g G^T. wt: (O, I, 3, 3) plain. flip 0: u (36, I, O), the forward's; flip 1: u (36, O, I) from the
// filters rotated by 180 degrees (backward-data); bf16 != 0: each tap rounded to bf16 as it is read (the
// training tape's bf16 weights). work: sr_wino_weights_work_floats floats.
void sr_wino_weights(float *u, const float *wt, int64_t O, int64_t I, int flip, int bf16, float *work);
size_t sr_wino_weights_work_floats(int64_t O, int64_t I, int nthr);
// w: (K, C, 3, 3) plain, already BN-folded -> w->u. Done once per (re)fold.
sr_status sr_wino_set_weights(sr_wino *w, const float *wt, sr_err *err);
// What follows the convolution: + bias (may be NULL), + dst's old values (sum), then ReLU (relu).
typedef struct sr_wino_post {
  const float *bias;
  int sum, relu;
} sr_wino_post;
// src: (n, C, H, W) nChw8c; dst: (n, K, H, W) nChw8c. dst = relu?(conv(src) + bias + (sum ? dst : 0)).
// scratch: sr_wino_scratch_floats floats.
sr_status sr_wino_forward(const sr_wino *w, const float *src, float *dst, const sr_wino_post *post,
                          float *scratch, sr_err *err);
// Tile t's 6x6 input window (pad 1) of channel block cb transformed, B^T d B: the 8 lanes of point xi go to
// v + xi * vs. src: (n, C, H, W) nChw8c.
void sr_wino_input_tile_at(const sr_wino *w, const float *src, int64_t t, int cb, float *v, ptrdiff_t vs);
// Winograd in training (winograd_train.c; the forward and backward-data kernels are the ones above).
// Weight gradient of the forward w describes: dw (K, C, 3, 3) += from x (its input) and dy (its output
// gradient), both nChw8c. m: 36 * C * K floats of work; scratch: sr_wino_bwdw_scratch_floats(w) floats.
size_t sr_wino_bwdw_scratch_floats(const sr_wino *w);
sr_status sr_wino_backward_weights(const sr_wino *w, const float *x, const float *dy, float *dw, float *m,
                                   float *scratch, sr_err *err);

#endif
