// Resizing regularization images from another dataset to the model's input size (area or bilinear),
// with optional gray conversion. Separable: per output coordinate a short list of (source index, weight).
#include <math.h>
#include <string.h>

#include "internal.h"

typedef struct {
  int first, count;  // source indices first .. first+count-1
  int off;           // into the weight array
} taps;

// Taps of one axis: n source pixels -> m output pixels. Returns the number of weights written (<= m*(n/m+3)).
static int axis_taps(int n, int m, sr_resize_mode mode, taps *t, double *wts) {
  int used = 0;
  double scale = (double)n / m;
  for (int o = 0; o < m; o++) {
    t[o].off = used;
    if (mode == SR_RESIZE_BILINEAR) {
      double src = (o + 0.5) * scale - 0.5;
      if (src < 0) src = 0;
      int i0 = (int)floor(src);
      if (i0 > n - 1) i0 = n - 1;
      double f = src - i0;
      int i1 = i0 < n - 1 ? i0 + 1 : i0;
      t[o].first = i0;
      t[o].count = i1 > i0 ? 2 : 1;
      wts[used++] = i1 > i0 ? 1 - f : 1;
      if (i1 > i0) wts[used++] = f;
    } else {
      // box [o*scale, (o+1)*scale): overlap with each source pixel [i, i+1), normalized
      double a = o * scale, b = (o + 1) * scale;
      int i0 = (int)floor(a), i1 = (int)ceil(b) - 1;
      if (i1 > n - 1) i1 = n - 1;
      t[o].first = i0;
      t[o].count = i1 - i0 + 1;
      for (int i = i0; i <= i1; i++) wts[used++] = (fmin(b, i + 1.0) - fmax(a, (double)i)) / scale;
    }
  }
  return used;
}

sr_status sr_reg_resize_images(const sr_u8_images *in, int oc, int oh, int ow, sr_resize_mode mode,
                               uint8_t *dst, sr_err *err) {
  const uint8_t *src = in->px;
  const int64_t n = in->n;
  const int c = in->c, h = in->h, w = in->w;
  if (n < 0 || c < 1 || h < 1 || w < 1 || oh < 1 || ow < 1 || (oc != 1 && oc != c))
    return sr_fail(err, SR_ERR_ARG,
                   "resize %dx%dx%d -> %dx%dx%d: bad sizes (output channels must be 1 or %d)", c, h, w, oc,
                   oh, ow, c);
  size_t wy_n = (size_t)oh * ((size_t)h / (size_t)oh + 3), wx_n = (size_t)ow * ((size_t)w / (size_t)ow + 3);
  taps *ty = sr_alloc(sizeof(taps) * (size_t)oh), *tx = sr_alloc(sizeof(taps) * (size_t)ow);
  double *wy = sr_alloc(sizeof(double) * wy_n), *wx = sr_alloc(sizeof(double) * wx_n);
  double *plane = sr_alloc(sizeof(double) * (size_t)h * (size_t)w),
         *rows = sr_alloc(sizeof(double) * (size_t)oh * (size_t)w);
  sr_status st = SR_OK;
  if (!ty || !tx || !wy || !wx || !plane || !rows) st = sr_fail(err, SR_ERR_NOMEM, "resize: out of memory");
  if (!st) {
    axis_taps(h, oh, mode, ty, wy);
    axis_taps(w, ow, mode, tx, wx);
  }
  const size_t hw = (size_t)h * (size_t)w;
  for (int64_t i = 0; !st && i < n; i++) {
    const uint8_t *im = src + (size_t)i * (size_t)c * hw;
    for (int oc_i = 0; oc_i < oc; oc_i++) {
      // plane: the source channel, or the channel mean for gray output
      for (size_t q = 0; q < hw; q++) {
        if (oc == 1) {
          double s = 0;
          for (int ch = 0; ch < c; ch++) s += im[(size_t)ch * hw + q];
          plane[q] = s / c;
        } else {
          plane[q] = im[(size_t)oc_i * hw + q];
        }
      }
      for (int y = 0; y < oh; y++)  // vertical pass: rows (oh, w)
        for (int x = 0; x < w; x++) {
          double s = 0;
          for (int q = 0; q < ty[y].count; q++)
            s += wy[ty[y].off + q] * plane[(size_t)(ty[y].first + q) * (size_t)w + (size_t)x];
          rows[(size_t)y * (size_t)w + (size_t)x] = s;
        }
      uint8_t *out = dst + ((size_t)i * (size_t)oc + (size_t)oc_i) * (size_t)oh * (size_t)ow;
      for (int y = 0; y < oh; y++)  // horizontal pass
        for (int x = 0; x < ow; x++) {
          double s = 0;
          for (int q = 0; q < tx[x].count; q++)
            s += wx[tx[x].off + q] * rows[(size_t)y * (size_t)w + (size_t)(tx[x].first + q)];
          double r = floor(s + 0.5);
          out[(size_t)y * (size_t)ow + (size_t)x] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
        }
    }
  }
  sr_free(ty);
  sr_free(tx);
  sr_free(wy);
  sr_free(wx);
  sr_free(plane);
  sr_free(rows);
  return st;
}
