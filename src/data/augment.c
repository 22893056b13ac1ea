// The paper's input pipeline: random crop after reflect padding, horizontal flip, gray, x' =
// (x/255-mean)*scale. Each sample's randomness comes from its own RNG keyed by (seed, epoch, position in the
// epoch).
#include <math.h>

#include "data/internal.h"

#define SR_MAX_CHANNELS 4

sr_loader_opts sr_loader_opts_default(void) {
  sr_loader_opts o = {.batch = 64,
                      .shuffle = 1,
                      .augment = 1,
                      .crop_pad = 4,
                      .flip = 1,
                      .gray = 1,
                      .mean = 0.5f,
                      .scale = 5.0f,
                      .seed = 0,
                      .drop_last = 0};
  return o;
}

int sr_batch_channels(const sr_dataset *ds, const sr_loader_opts *o) { return o->gray ? 1 : ds->c; }

sr_status sr_loader_opts_check(const sr_dataset *ds, const sr_loader_opts *o, sr_err *err) {
  if (o->batch <= 0) return sr_fail(err, SR_ERR_ARG, "batch size %d: must be positive", o->batch);
  if (ds->c < 1 || ds->c > SR_MAX_CHANNELS || ds->h < 1 || ds->w < 1 || !ds->images || !ds->labels)
    return sr_fail(err, SR_ERR_ARG, "dataset '%s': no images or unsupported shape %dx%dx%d", ds->name, ds->c,
                   ds->h, ds->w);
  int side = ds->h < ds->w ? ds->h : ds->w;
  if (o->augment && (o->crop_pad < 0 || o->crop_pad >= side))
    return sr_fail(err, SR_ERR_ARG, "crop padding %d: must be in [0, %d) for %dx%d images", o->crop_pad, side,
                   ds->h, ds->w);
  if (o->shard_size > 1 && (o->shard_rank < 0 || o->shard_rank >= o->shard_size))
    return sr_fail(err, SR_ERR_ARG, "shard %d of %d: must be in [0, %d)", o->shard_rank, o->shard_size,
                   o->shard_size);
  if (!isfinite(o->mean) || !isfinite(o->scale))
    return sr_fail(err, SR_ERR_ARG, "normalization mean %g / scale %g: must be finite", (double)o->mean,
                   (double)o->scale);
  return SR_OK;
}

// Index into [0, n) of padded coordinate i (i in [-pad, n+pad)), mirrored without repeating the edge.
static inline int reflect(int i, int n) {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

void sr_augment_image(const uint8_t *src, int c, int h, int w, const sr_crop_flip *g, uint8_t *dst) {
  const int pad = g->pad, dy = g->dy, dx = g->dx, flip = g->flip;
  // src, dst: (c, h, w)
  size_t plane = (size_t)h * (size_t)w;
  for (int ch = 0; ch < c; ch++)
    for (int y = 0; y < h; y++) {
      const uint8_t *srow = src + (size_t)ch * plane + (size_t)reflect(y + dy - pad, h) * (size_t)w;
      uint8_t *drow = dst + (size_t)ch * plane + (size_t)y * (size_t)w;
      for (int x = 0; x < w; x++) drow[x] = srow[reflect((flip ? w - 1 - x : x) + dx - pad, w)];
    }
}

// Columns handled per pass of make_sample: their source columns fit in a small stack array.
#define SR_COL_CHUNK 512

// Output row y (c planes of h x w at img) through the column map: gray sums the channels of each source
// pixel (exact in unsigned), then the lookup does gray + normalization. Separate loops for the common
// channel counts keep the inner loop free of branches.
static void map_row(const uint8_t *src, size_t plane, int c, int gray, const int *cols, int n,
                    const float *lut, float *o) {
  if (!gray || c == 1) {
    for (int i = 0; i < n; i++) o[i] = lut[src[cols[i]]];
  } else if (c == 3) {
    const uint8_t *r0 = src, *r1 = src + plane, *r2 = src + 2 * plane;
    for (int i = 0; i < n; i++) o[i] = lut[(unsigned)r0[cols[i]] + r1[cols[i]] + r2[cols[i]]];
  } else {
    for (int i = 0; i < n; i++) {
      unsigned s = 0;
      for (int ch = 0; ch < c; ch++) s += src[(size_t)ch * plane + (size_t)cols[i]];
      o[i] = lut[s];
    }
  }
}

// One sample: geometric transform fused with the lookup that does gray + normalization.
// lut[s] = (s / (255 * k) - mean) * scale, where s is a sum of k channel values. The crop, reflect padding
// and flip of a column do not depend on the row: they are resolved once per sample into a column map.
static void make_sample(const sr_dataset *ds, const uint8_t *img, int gray, const sr_crop_flip *g,
                        const float *lut, float *out) {
  const int pad = g->pad, dy = g->dy, dx = g->dx, flip = g->flip;
  // img: (c, h, w) uint8 -> out: (gray ? 1 : c, h, w) float
  int c = ds->c, h = ds->h, w = ds->w;
  size_t plane = (size_t)h * (size_t)w;
  int out_c = gray ? 1 : c;
  int cols[SR_COL_CHUNK];
  for (int x0 = 0; x0 < w; x0 += SR_COL_CHUNK) {
    int n = w - x0 < SR_COL_CHUNK ? w - x0 : SR_COL_CHUNK;
    for (int i = 0; i < n; i++) cols[i] = reflect((flip ? w - 1 - (x0 + i) : x0 + i) + dx - pad, w);
    for (int oc = 0; oc < out_c; oc++)
      for (int y = 0; y < h; y++) {
        const uint8_t *src = img + (size_t)oc * plane + (size_t)reflect(y + dy - pad, h) * (size_t)w;
        float *o = out + (size_t)oc * plane + (size_t)y * (size_t)w + (size_t)x0;
        map_row(src, plane, c, gray, cols, n, lut, o);
      }
  }
}

sr_status sr_make_batch(const sr_dataset *ds, const sr_batch_rows *rows, const sr_loader_opts *o, float *x,
                        int32_t *y, sr_err *err) {
  const int64_t *idx = rows->idx;
  const int64_t n = rows->n, first_position = rows->first_position;
  const int epoch = rows->epoch;
  sr_status st = sr_loader_opts_check(ds, o, err);
  if (st) return st;
  int k = o->gray ? ds->c : 1;  // channel values summed per output value
  float lut[SR_MAX_CHANNELS * 255 + 1];
  for (int s = 0; s <= 255 * k; s++) lut[s] = ((float)s / (float)(255 * k) - o->mean) * o->scale;
  size_t in_per = (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
  size_t out_per = (size_t)sr_batch_channels(ds, o) * (size_t)ds->h * (size_t)ds->w;
  int pad = o->augment ? o->crop_pad : 0;
  uint64_t key = sr_data_key(o->seed, epoch, SR_DATA_KEY_AUGMENT);
  for (int64_t i = 0; i < n; i++) {
    if (idx[i] < 0 || idx[i] >= ds->n)
      return sr_fail(err, SR_ERR_ARG, "sample index %lld out of range [0, %lld)", (long long)idx[i],
                     (long long)ds->n);
    // Draw in a fixed order (flip bit, then offsets) so disabling one part leaves the other unchanged.
    sr_rng r;
    sr_rng_seed(&r, key, (uint64_t)(first_position + i));
    int flip = (int)(sr_rng_u64(&r) >> 63);
    int dy = (int)sr_rng_below(&r, (uint32_t)(2 * pad + 1));
    int dx = (int)sr_rng_below(&r, (uint32_t)(2 * pad + 1));
    if (!o->augment || !o->flip) flip = 0;
    sr_crop_flip g = {.pad = pad, .dy = dy, .dx = dx, .flip = flip};
    make_sample(ds, ds->images + (size_t)idx[i] * in_per, o->gray, &g, lut, x + (size_t)i * out_per);
    y[i] = ds->labels[idx[i]];
  }
  return SR_OK;
}
