// Frost: the image blended with an ice texture. The reference crops one of six frost photographs; we
// grow a procedural texture instead (no external images): a smooth haze plus dendritic crystals --
// straight needles with side branches at +-60 degrees, the hexagonal habit of ice.
#include <math.h>

#include "internal.h"

static const double FROST[5][2] = {{1, .2}, {1, .3}, {.9, .4}, {.85, .4}, {.75, .45}};  // image, frost weight

// A needle from (y, x) along angle a, len long, brightness bright at its root.
typedef struct frost_needle {
  double y, x, a, len;
  float bright;
} frost_needle;

// Deposit a bright needle n into m (h, w): max-composited, fading towards the tip.
static void needle(float *m, int h, int w, const frost_needle *n) {
  const double y = n->y, x = n->x, a = n->a, len = n->len;
  const float bright = n->bright;
  double dy = sin(a), dx = cos(a);
  for (double t = 0; t <= len; t += 0.5) {
    int yy = (int)floor(y + t * dy + 0.5), xx = (int)floor(x + t * dx + 0.5);
    if (yy < 0 || yy >= h || xx < 0 || xx >= w) return;
    float v = bright * (float)(1.0 - 0.5 * t / (len + 1e-9));
    float *p = m + (size_t)yy * (size_t)w + xx;
    *p = *p > v ? *p : v;
  }
}

// Texture (h, w) in [0, 1] with mean about 0.45.
static void frost_texture(sr_cws *ws, sr_rng *rng, float *m) {
  int h = ws->h, w = ws->w;
  float *haze = ws->p1;
  // Haze: a 5x5 lattice of uniform values, bilinearly interpolated over the image.
  float lat[25];
  for (int i = 0; i < 25; i++) lat[i] = sr_rng_uniformf(rng);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      haze[(size_t)y * (size_t)w + x] = sr_bilinear(lat, 5, 5, 4.f * (float)y / (float)(h - 1),
                                                    4.f * (float)x / (float)(w - 1), SR_BORDER_CLAMP);
  for (size_t i = 0; i < ws->plane; i++) m[i] = 0;
  // Crystals: one needle per ~10 pixels; lengths scale with the image side.
  double side = h < w ? h : w, base = sr_rng_uniform(rng) * M_PI / 3;
  int count = (int)(ws->plane / 10);
  for (int k = 0; k < count; k++) {
    double y = sr_rng_uniform(rng) * h, x = sr_rng_uniform(rng) * w;
    double a = base + (double)sr_rng_below(rng, 6) * M_PI / 3 + (sr_rng_uniform(rng) - 0.5) * 0.35;
    double len = side * (0.05 + 0.2 * sr_rng_uniform(rng));
    float bright = 0.45f + 0.55f * sr_rng_uniformf(rng);
    needle(m, h, w, &(frost_needle){.y = y, .x = x, .a = a, .len = len, .bright = bright});
    for (double t = 1.5; t < len; t += 2.0) {  // side branches, shorter and dimmer
      double by = y + t * sin(a), bx = x + t * cos(a), bl = (len - t) * 0.4;
      needle(m, h, w,
             &(frost_needle){.y = by, .x = bx, .a = a + M_PI / 3, .len = bl, .bright = bright * 0.8f});
      needle(m, h, w,
             &(frost_needle){.y = by, .x = bx, .a = a - M_PI / 3, .len = bl, .bright = bright * 0.8f});
    }
  }
  // Soften the crystals by a [1 2 1]/4 kernel so they are not single-pixel aliased lines.
  static const float k3[3] = {.25f, .5f, .25f};
  sr_sep_filter(m, m, ws->p2, h, w, &(sr_taps){.k = k3, .r = 1, .border = SR_BORDER_REFLECT, .idx = ws->ia});
  for (size_t i = 0; i < ws->plane; i++) {
    float v = 0.05f + 0.3f * haze[i] + 0.85f * m[i];
    m[i] = v > 1.f ? 1.f : v;
  }
}

sr_status sr_cor_frost(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)err;
  float *tex = ws->p0;
  frost_texture(ws, rng, tex);
  float a = (float)FROST[severity - 1][0], b = (float)FROST[severity - 1][1];
  // Frost photographs are bluish white: per-channel tint (R, G, B); gray uses its luminance.
  static const float tint3[3] = {.86f, .94f, 1.f};
  float tint1 = .299f * tint3[0] + .587f * tint3[1] + .114f * tint3[2];
  for (int ch = 0; ch < ws->c; ch++) {
    float t = ws->c == 3 ? tint3[ch] : tint1;
    const float *x = ws->x + (size_t)ch * ws->plane;
    float *y = ws->y + (size_t)ch * ws->plane;
    // The reference adds the 8-bit photo: quantize the texture the same way.
    for (size_t i = 0; i < ws->plane; i++) y[i] = a * x[i] + b * (floorf(t * tex[i] * 255.f) * (1.f / 255.f));
  }
  return SR_OK;
}
