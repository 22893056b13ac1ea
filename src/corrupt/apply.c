// Per-image and batched application: uint8 -> [0,1] floats -> kernel -> clip -> uint8.
#include <math.h>
#include <string.h>

#include "internal.h"

static const sr_corrupt_fn KERNELS[SR_NUM_CORRUPTIONS] = {
    sr_cor_gaussian_noise, sr_cor_shot_noise, sr_cor_impulse_noise, sr_cor_defocus_blur, sr_cor_glass_blur,
    sr_cor_motion_blur,    sr_cor_zoom_blur,  sr_cor_snow,          sr_cor_frost,        sr_cor_fog,
    sr_cor_brightness,     sr_cor_contrast,   sr_cor_elastic,       sr_cor_pixelate,     sr_cor_jpeg,
};

static int next_pow2(int v) {
  int p = 1;
  while (p < v) p <<= 1;
  return p;
}

sr_status sr_cws_init(sr_cws *ws, int c, int h, int w, sr_err *err) {
  memset(ws, 0, sizeof *ws);
  ws->c = c;
  ws->h = h;
  ws->w = w;
  ws->plane = (size_t)h * (size_t)w;
  ws->n = (size_t)c * ws->plane;
  int m = h > w ? h : w;
  ws->side = next_pow2(m);
  size_t sq = (size_t)ws->side * (size_t)ws->side;
  ws->tab_len = (size_t)4 * (size_t)m + 256;
  // Floats: x, y, t0, t1 (n each), p0..p2 (sq each), fa, fb; ints ia, ib; bytes u8. 64-byte slices.
  size_t nf = ws->n + 16;
  size_t bytes = SR_CWS_DTAB * sizeof(double) + 4 * nf * sizeof(float) + 3 * (sq + 16) * sizeof(float) +
                 2 * (ws->tab_len + 16) * (sizeof(float) + sizeof(int)) + nf;
  char *b = sr_alloc(bytes);
  if (!b) return sr_fail(err, SR_ERR_NOMEM, "corrupt: cannot allocate a %zu-byte workspace", bytes);
  ws->block = b;
  ws->dtab = (double *)b;
  b += SR_CWS_DTAB * sizeof(double);
  float **fl[] = {&ws->x, &ws->y, &ws->t0, &ws->t1};
  for (int i = 0; i < 4; i++, b += nf * sizeof(float)) *fl[i] = (float *)b;
  float **pl[] = {&ws->p0, &ws->p1, &ws->p2};
  for (int i = 0; i < 3; i++, b += (sq + 16) * sizeof(float)) *pl[i] = (float *)b;
  ws->fa = (float *)b;
  b += (ws->tab_len + 16) * sizeof(float);
  ws->fb = (float *)b;
  b += (ws->tab_len + 16) * sizeof(float);
  ws->ia = (int *)b;
  b += (ws->tab_len + 16) * sizeof(int);
  ws->ib = (int *)b;
  b += (ws->tab_len + 16) * sizeof(int);
  ws->u8 = (uint8_t *)b;
  return SR_OK;
}

void sr_cws_free(sr_cws *ws) {
  sr_free(ws->block);
  memset(ws, 0, sizeof *ws);
}

static sr_status check_args(int c, int h, int w, sr_corruption kind, int severity, sr_err *err) {
  if ((unsigned)kind >= SR_NUM_CORRUPTIONS)
    return sr_fail(err, SR_ERR_ARG, "corrupt: unknown corruption id %d (valid: 0..%d)", (int)kind,
                   SR_NUM_CORRUPTIONS - 1);
  if (severity < 1 || severity > SR_NUM_SEVERITIES)
    return sr_fail(err, SR_ERR_ARG, "corrupt: %s severity %d is out of range 1..%d", sr_corruption_name(kind),
                   severity, SR_NUM_SEVERITIES);
  if (c != 1 && c != 3)
    return sr_fail(err, SR_ERR_ARG, "corrupt: images must have 1 or 3 channels, not %d", c);
  if (h < 8 || w < 8 || h > 4096 || w > 4096)
    return sr_fail(err, SR_ERR_ARG, "corrupt: image size %dx%d is outside 8..4096", h, w);
  return SR_OK;
}

// The reference ends with np.uint8(np.clip(x, 0, 1) * 255): truncation, not rounding. The tiny offset
// keeps exact integers k/255 * 255 (which float arithmetic may leave at k - 1e-5) at k.
static void quantize(const float *y, size_t n, uint8_t *out) {
  for (size_t i = 0; i < n; i++) {
    float v = y[i];
    v = v < 0.f ? 0.f : v > 1.f ? 1.f : v;
    out[i] = (uint8_t)(v * 255.f + 1e-3f);
  }
}

static sr_status apply_ws(sr_cws *ws, const uint8_t *img, sr_corruption kind, int severity, sr_rng *rng,
                          uint8_t *out, sr_err *err) {
  ws->in = img;
  for (size_t i = 0; i < ws->n; i++) ws->x[i] = (float)img[i] * (1.f / 255.f);
  sr_status st = KERNELS[kind](ws, severity, rng, err);
  if (st) return st;
  quantize(ws->y, ws->n, out);
  return SR_OK;
}

sr_status sr_corrupt_apply(const sr_u8_images *img, sr_corruption kind, int severity, sr_rng *rng,
                           uint8_t *out, sr_err *err) {
  if (img->n != 1)
    return sr_fail(err, SR_ERR_ARG, "corrupt: one image expected, got %lld", (long long)img->n);
  sr_status st = check_args(img->c, img->h, img->w, kind, severity, err);
  if (st) return st;
  sr_cws ws;
  if ((st = sr_cws_init(&ws, img->c, img->h, img->w, err))) return st;
  st = apply_ws(&ws, img->px, kind, severity, rng, out, err);
  sr_cws_free(&ws);
  return st;
}

void sr_corrupt_image_rng(sr_rng *rng, uint64_t seed, sr_corruption kind, int severity, int64_t index) {
  // Stream: (kind, severity) in the top bits, the image index below; unique for index < 2^48.
  uint64_t tag = (uint64_t)((int)kind * SR_NUM_SEVERITIES + (severity - 1) + 1);
  sr_rng_seed(rng, seed, (tag << 48) ^ (uint64_t)index);
}

sr_status sr_corrupt_batch(const sr_u8_images *in, const sr_corrupt_spec *cs, uint8_t *out, sr_err *err) {
  const uint8_t *imgs = in->px;
  const int64_t n = in->n, first_index = cs->first_index;
  const int c = in->c, h = in->h, w = in->w, severity = cs->severity;
  const sr_corruption kind = cs->kind;
  const uint64_t seed = cs->seed;
  sr_status st = check_args(c, h, w, kind, severity, err);
  if (st) return st;
  if (n < 0) return sr_fail(err, SR_ERR_ARG, "corrupt: negative image count %lld", (long long)n);
  size_t per = (size_t)c * (size_t)h * (size_t)w;
  sr_status fail = SR_OK;
  sr_err first_err = {0};
#pragma omp parallel
  {
    sr_cws ws;
    sr_err e = {0};
    sr_status mine = sr_cws_init(&ws, c, h, w, &e);
    if (!mine) {
#pragma omp for schedule(dynamic, 16)
      for (int64_t i = 0; i < n; i++) {
        if (mine) continue;
        sr_rng rng;
        sr_corrupt_image_rng(&rng, seed, kind, severity, first_index + i);
        mine = apply_ws(&ws, imgs + (size_t)i * per, kind, severity, &rng, out + (size_t)i * per, &e);
        if (mine) sr_err_context(&e, "image %lld", (long long)(first_index + i));
      }
    }
    sr_cws_free(&ws);
    if (mine) {
#pragma omp critical(sr_corrupt_batch_err)
      if (!fail) {
        fail = mine;
        first_err = e;
      }
    }
  }
  if (fail) {
    if (err) *err = first_err;
    return fail;
  }
  return SR_OK;
}
