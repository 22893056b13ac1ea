// Winograd F(4x4, 3x3) convolution (Lavin & Gray 2016) for the inference plan: each 4x4 output tile is
// computed from a 6x6 input tile with 36 multiplies per (input, output) channel pair instead of 144.
//   V = B^T d B  (input transform, per 6x6 tile and channel)
//   M[xi] = V[xi] U[xi]  for the 36 points xi: GEMMs (tiles x C) x (C x K), through oneDNN's sgemm
//   Y = A^T M A  (output transform, per tile and output channel), then + bias, + shortcut, ReLU
// with U = G g G^T computed once per weight fold. Interpolation points 0, +-1, +-2 (and infinity).
// Tiles are processed in blocks of w->tb per OpenMP iteration so that a block's V and M stay in the
// thread's cache-sized scratch; the GEMM inside runs single-threaded (oneDNN does not nest parallelism).
// A tile's result depends only on the plan's fixed block size, not on which thread runs its block, so the
// dynamic schedule keeps results deterministic.
#include "winograd.h"

#include "bf16.h"
#include "v8.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <stddef.h>

#define L 8  // channels per nChw8c block: the lanes every transform loop runs over

// Measured against oneDNN's direct convolution (1 thread, batch 64, docs/PERFORMANCE.md): 1.1x at 8
// channels, 1.2-1.7x at 16-32, 2-4x at 64-512; slower (0.7-0.8x) with a single tile, where each
// transformed weight (4x the direct weights) is read from memory for one use, and on tiny layers
// (16 channels, 4 tiles: 0.3x, 10 us) where the fixed cost of 36 GEMM calls dominates.
int sr_wino_eligible(const sr_node *nd, int64_t n) {
  int64_t tiles = n * ((nd->h + SR_WINO_M - 1) / SR_WINO_M) * ((nd->w + SR_WINO_M - 1) / SR_WINO_M);
  int pad1 = 1;
  for (int s = 0; s < 4; s++) pad1 &= sr_conv_pad(nd, s) == 1;
  return nd->op == SR_OP_CONV && nd->k == 3 && nd->stride == 1 && pad1 && sr_conv_groups(nd) == 1 &&
         sr_conv_dil(nd) == 1 && nd->ic % L == 0 && nd->c % L == 0 && nd->ic >= 16 && nd->c >= 16 &&
         tiles >= 4 && tiles * nd->ic * nd->c >= (1 << 14);
}

// Tiles per block. A block's V (36 x tb x C) and M (36 x tb x K) stay within ~4 MiB (Zen 3: 512 KiB L2
// per core, 32 MiB L3 shared); on resnet18's shapes larger blocks won over L2-sized ones, as the GEMMs'
// efficiency grows with their M. Within that, up to 2 blocks per thread of >= 64 tiles (the dynamic
// schedule evens out a thread that the OS delays), and a block count that is a multiple of the threads.
static int64_t block_tiles(int64_t C, int64_t K, int64_t tiles, int nthr) {
  int64_t cap = ((int64_t)4 << 20) / ((int64_t)SR_WINO_XI * (C + K) * (int64_t)sizeof(float));
  cap = cap < 16 ? 16 : cap > 256 ? 256 : cap;
  int64_t nb = (tiles + cap - 1) / cap, want = (tiles + 63) / 64;
  if (want > 2 * (int64_t)nthr) want = 2 * (int64_t)nthr;
  if (nb < want) nb = want;
  nb = (nb + nthr - 1) / nthr * nthr;
  return (tiles + nb - 1) / nb;
}

void sr_wino_init(sr_wino *w, const sr_node *nd, int64_t n, int nthr) {
  *w = (sr_wino){.C = nd->ic, .K = nd->c, .H = nd->h, .W = nd->w, .n = n, .nthr = nthr < 1 ? 1 : nthr};
  w->th = (nd->h + SR_WINO_M - 1) / SR_WINO_M;
  w->tw = (nd->w + SR_WINO_M - 1) / SR_WINO_M;
  w->tiles = n * w->th * w->tw;
  w->tb = block_tiles(w->C, w->K, w->tiles, w->nthr);
}

// Stride between the 36 points' matrices in a block, in floats: one cache line more than the matrix, so
// that the 36 rows a tile's transform touches do not fall into the same L1 sets (tb * C * 4 bytes is
// often a multiple of 4 KiB).
static ptrdiff_t point_stride(const sr_wino *w, int ch) { return (ptrdiff_t)(w->tb * ch + 16); }

static size_t thread_floats(const sr_wino *w) {
  return (size_t)SR_WINO_XI * (size_t)(point_stride(w, w->C) + point_stride(w, w->K));
}

size_t sr_wino_scratch_floats(const sr_wino *w) { return (size_t)w->nthr * thread_floats(w); }

// ---- weights: U = G g G^T ----
// G (6x3) for the interpolation points 0, +-1, +-2, infinity.
static const float G[SR_WINO_A][3] = {{1.0f / 4, 0, 0},
                                      {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                      {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                      {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                      {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                      {0, 0, 1}};

// U for the K filters of input channel c, vectorised over k. g: (9, K) taps of each filter.
// u: (36, C, K) -> writes u[xi][c][0..K). tmp: 18 * K floats.
static void transform_channel(float *restrict u, const float *restrict g, float *restrict tmp, int64_t C,
                              int64_t K, int64_t c) {
  for (int i = 0; i < SR_WINO_A; i++)  // tmp[i][j][k] = (G g)[i][j]
    for (int j = 0; j < 3; j++) {
      float *o = tmp + (i * 3 + j) * K;
      const float *g0 = g + j * K, *g1 = g + (3 + j) * K, *g2 = g + (6 + j) * K;
      for (int64_t k = 0; k < K; k++) o[k] = G[i][0] * g0[k] + G[i][1] * g1[k] + G[i][2] * g2[k];
    }
  for (int i = 0; i < SR_WINO_A; i++)
    for (int j = 0; j < SR_WINO_A; j++) {
      float *o = u + ((int64_t)(i * SR_WINO_A + j) * C + c) * K;
      const float *t0 = tmp + (i * 3) * K, *t1 = t0 + K, *t2 = t1 + K;
      for (int64_t k = 0; k < K; k++) o[k] = t0[k] * G[j][0] + t1[k] * G[j][1] + t2[k] * G[j][2];
    }
}

size_t sr_wino_weights_work_floats(int64_t O, int64_t I, int nthr) {
  return (size_t)(nthr < 1 ? 1 : nthr) * 27 * (size_t)(O > I ? O : I);
}

void sr_wino_weights(float *u, const float *wt, int64_t O, int64_t I, int flip, int bf16, float *work) {
  int64_t C = flip ? O : I, K = flip ? I : O;  // u's input and output channels
#pragma omp parallel
  {
    float *g = work + (size_t)omp_get_thread_num() * 27 * (size_t)K, *tmp = g + 9 * K;
#pragma omp for schedule(static)
    for (int64_t c = 0; c < C; c++) {
      for (int64_t k = 0; k < K; k++) {  // gather the taps of the filter from channel c to channel k
        const float *f = flip ? wt + (c * I + k) * 9 : wt + (k * I + c) * 9;
        for (int e = 0; e < 9; e++) {
          float v = f[flip ? 8 - e : e];
          g[e * K + k] = bf16 ? sr_bf16_round1(v) : v;
        }
      }
      transform_channel(u, g, tmp, C, K, c);
    }
  }
}

sr_status sr_wino_set_weights(sr_wino *w, const float *wt, sr_err *err) {
  float *work = sr_alloc(sizeof(float) * sr_wino_weights_work_floats(w->K, w->C, omp_get_max_threads()));
  if (!work) return sr_fail(err, SR_ERR_NOMEM, "Winograd weight transform (%d x %d)", w->K, w->C);
  sr_wino_weights(w->u, wt, w->K, w->C, 0, 0, work);
  sr_free(work);
  return SR_OK;
}

// ---- 1-D transforms over 8 lanes: element i is x[i], one point's 8 channels ----
// B^T rows: (4 0 -5 0 1 0) (0 -4 -4 1 1 0) (0 4 -4 -1 1 0) (0 -2 -1 2 1 0) (0 2 -1 -2 1 0) (0 4 0 -5 0 1)
static inline void bt6(const sr_v8 x[restrict SR_WINO_A], sr_v8 y[restrict SR_WINO_A]) {
  sr_v8 d0 = x[0], d1 = x[1], d2 = x[2], d3 = x[3], d4 = x[4], d5 = x[5];
  y[0] = 4 * d0 - 5 * d2 + d4;
  y[1] = d3 + d4 - 4 * (d1 + d2);
  y[2] = d4 - d3 + 4 * (d1 - d2);
  y[3] = d4 - d2 + 2 * (d3 - d1);
  y[4] = d4 - d2 + 2 * (d1 - d3);
  y[5] = 4 * d1 - 5 * d3 + d5;
}

// A^T rows: (1 1 1 1 1 0) (0 1 -1 2 -2 0) (0 1 1 4 4 0) (0 1 -1 8 -8 1)
static inline void at4(const sr_v8 x[restrict SR_WINO_A], sr_v8 y[restrict SR_WINO_M]) {
  sr_v8 p12 = x[1] + x[2], d12 = x[1] - x[2], p34 = x[3] + x[4], d34 = x[3] - x[4];
  y[0] = x[0] + p12 + p34;
  y[1] = d12 + 2 * d34;
  y[2] = p12 + 4 * p34;
  y[3] = d12 + 8 * d34 + x[5];
}

typedef struct tile_pos {
  int64_t img;
  int y0, x0;  // top-left output pixel
} tile_pos;

static tile_pos tile_at(const sr_wino *w, int64_t t) {
  int64_t per = w->th * w->tw, r = t % per;
  return (tile_pos){.img = t / per, .y0 = (int)(r / w->tw) * SR_WINO_M, .x0 = (int)(r % w->tw) * SR_WINO_M};
}

// One tile, one channel block: src (n, C/8, H, W, 8) -> v[xi * vs + c], xi = 0..35 (v: the block's V at
// this tile and channel block; vs: the stride between points). The 6x6 window sits at (y0 - 1, x0 - 1)
// (pad 1); its cells outside the image are zero.
static void input_tile(const sr_wino *w, const float *src, tile_pos p, int cb, float *v, ptrdiff_t vs) {
  const float *plane = src + ((p.img * (w->C / L) + cb) * w->H) * (int64_t)w->W * L;
  sr_v8 d[SR_WINO_A], t[SR_WINO_A][SR_WINO_A], r[SR_WINO_A];
  for (int j = 0; j < SR_WINO_A; j++) {  // t = B^T d, column j
    int x = p.x0 - 1 + j;
    for (int i = 0; i < SR_WINO_A; i++) {
      int y = p.y0 - 1 + i;
      d[i] = y >= 0 && y < w->H && x >= 0 && x < w->W ? SR_V8_LOAD(plane + ((int64_t)y * w->W + x) * L)
                                                      : (sr_v8){0};
    }
    bt6(d, r);
    for (int i = 0; i < SR_WINO_A; i++) t[i][j] = r[i];
  }
  for (int i = 0; i < SR_WINO_A; i++) {  // v = t B, row i
    bt6(t[i], r);
    for (int j = 0; j < SR_WINO_A; j++) SR_V8_STORE(v + (ptrdiff_t)(i * SR_WINO_A + j) * vs, r[j]);
  }
}

// One tile, one output-channel block: m[xi * ms + c] -> dst (n, K/8, H, W, 8), with bias, sum, ReLU.
static void output_tile(const sr_wino *w, const float *m, ptrdiff_t ms, tile_pos p, int kb, float *dst,
                        const sr_wino_post *post) {
  const float *bias = post->bias;
  const int sum = post->sum, relu = post->relu;
  sr_v8 x[SR_WINO_A], t[SR_WINO_M][SR_WINO_A], y[SR_WINO_M];
  for (int j = 0; j < SR_WINO_A; j++) {  // t = A^T m, column j: m's point (i, j) is at m + (i * 6 + j) * ms
    for (int i = 0; i < SR_WINO_A; i++) x[i] = SR_V8_LOAD(m + (ptrdiff_t)(i * SR_WINO_A + j) * ms);
    at4(x, y);
    for (int i = 0; i < SR_WINO_M; i++) t[i][j] = y[i];
  }
  sr_v8 b = bias ? SR_V8_LOAD(bias + (int64_t)kb * L) : (sr_v8){0};
  float *plane = dst + ((p.img * (w->K / L) + kb) * w->H) * (int64_t)w->W * L;
  int ny = w->H - p.y0 < SR_WINO_M ? w->H - p.y0 : SR_WINO_M,
      nx = w->W - p.x0 < SR_WINO_M ? w->W - p.x0 : SR_WINO_M;
  for (int i = 0; i < ny; i++) {
    at4(t[i], y);                                                // y = t A, row i
    float *o = plane + ((int64_t)(p.y0 + i) * w->W + p.x0) * L;  // nx pixels x 8 channels, contiguous
    for (int k = 0; k < nx; k++) {
      sr_v8 e = y[k] + b;
      if (sum) e += SR_V8_LOAD(o + k * L);
      if (relu) e = (sr_v8)((sr_v8i)e & ~(e < 0));  // as x < 0 ? 0 : x (NaN and -0 kept)
      SR_V8_STORE(o + k * L, e);
    }
  }
}

// One block of cnt tiles starting at t0: transform in, 36 GEMMs, transform out. v: (36, tb, C), then m: (36,
// tb, K) in the thread's scratch, the 36 matrices point_stride apart.
static int run_block(const sr_wino *w, const float *src, float *dst, const sr_wino_post *post, int64_t t0,
                     int64_t cnt, float *v) {
  float *m = v + (size_t)SR_WINO_XI * (size_t)point_stride(w, w->C);
  ptrdiff_t vs = point_stride(w, w->C), ms = point_stride(w, w->K);
  for (int64_t t = 0; t < cnt; t++) {
    tile_pos p = tile_at(w, t0 + t);
    for (int cb = 0; cb < w->C / L; cb++) input_tile(w, src, p, cb, v + t * w->C + cb * L, vs);
  }
  for (int xi = 0; xi < SR_WINO_XI; xi++) {
    const float *u = w->u + (int64_t)xi * w->C * w->K;
    // M[xi] (cnt x K) = V[xi] (cnt x C) * U[xi] (C x K), row-major
    if (dnnl_sgemm('N', 'N', cnt, w->K, w->C, 1.f, v + xi * vs, w->C, u, w->K, 0.f, m + xi * ms, w->K) !=
        dnnl_success)
      return 1;
  }
  for (int64_t t = 0; t < cnt; t++) {
    tile_pos p = tile_at(w, t0 + t);
    for (int kb = 0; kb < w->K / L; kb++) output_tile(w, m + t * w->K + kb * L, ms, p, kb, dst, post);
  }
  return 0;
}

sr_status sr_wino_forward(const sr_wino *w, const float *src, float *dst, const sr_wino_post *post,
                          float *scratch, sr_err *err) {
  int64_t nb = (w->tiles + w->tb - 1) / w->tb;
  int nthr = omp_get_max_threads() < w->nthr ? omp_get_max_threads()
                                             : w->nthr;  // never more than the scratch serves
  size_t per = thread_floats(w);
  int fail = 0;
#pragma omp parallel for num_threads(nthr) schedule(dynamic, 1) reduction(| : fail)
  for (int64_t b = 0; b < nb; b++) {
    float *v = scratch + per * (size_t)omp_get_thread_num();
    int64_t t0 = b * w->tb, cnt = w->tiles - t0 < w->tb ? w->tiles - t0 : w->tb;
    fail |= run_block(w, src, dst, post, t0, cnt, v);
  }
  if (fail)
    return sr_fail(err, SR_ERR_BACKEND,
                   "oneDNN: dnnl_sgemm failed in a Winograd convolution (%d -> %d channels)", w->C, w->K);
  return SR_OK;
}

// Backward-weights (winograd_train.c) transforms the same input windows as the forward.
void sr_wino_input_tile_at(const sr_wino *w, const float *src, int64_t t, int cb, float *v, ptrdiff_t vs) {
  input_tile(w, src, tile_at(w, t), cb, v, vs);
}
