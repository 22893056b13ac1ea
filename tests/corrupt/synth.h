// Synthetic test images for the corruption tests: flat, gradient, checkerboard, smooth random texture.
#ifndef SR_TEST_CORRUPT_SYNTH_H
#define SR_TEST_CORRUPT_SYNTH_H

#include <math.h>
#include <stdint.h>

#include "simreg/core.h"

// img: (c, h, w)
static inline void synth_flat(uint8_t *img, int c, int h, int w, uint8_t v) {
  for (long i = 0; i < (long)c * h * w; i++) img[i] = v;
}

static inline void synth_gradient(uint8_t *img, int c, int h, int w) {
  for (int ch = 0; ch < c; ch++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        img[((long)ch * h + y) * w + x] = (uint8_t)(20 + 200 * (x + y + 3 * ch) / (h + w + 6));
}

static inline void synth_checker(uint8_t *img, int c, int h, int w, int cell) {
  for (int ch = 0; ch < c; ch++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) img[((long)ch * h + y) * w + x] = ((y / cell + x / cell) & 1) ? 200 : 40;
}

// Sum of a few random sinusoids per channel, in [30, 225]: textured but not saturated.
static inline void synth_texture(uint8_t *img, int c, int h, int w, uint64_t seed) {
  sr_rng r;
  sr_rng_seed(&r, seed, 99);
  for (int ch = 0; ch < c; ch++) {
    double fy[6], fx[6], ph[6];
    for (int k = 0; k < 6; k++) {
      fy[k] = (sr_rng_uniform(&r) - 0.5) * (k < 3 ? 0.3 : 0.9);
      fx[k] = (sr_rng_uniform(&r) - 0.5) * (k < 3 ? 0.3 : 0.9);
      ph[k] = sr_rng_uniform(&r) * 6.283;
    }
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double v = 0;
        for (int k = 0; k < 6; k++) v += cos(6.283 * (fy[k] * y + fx[k] * x) + ph[k]);
        img[((long)ch * h + y) * w + x] = (uint8_t)(127.5 + 97.5 * v / 6);
      }
  }
}

#endif
