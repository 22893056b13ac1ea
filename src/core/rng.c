// xoshiro256** (Blackman & Vigna), seeded through splitmix64 so nearby seeds give unrelated streams.
#include "simreg/core.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void sr_rng_seed(sr_rng *r, uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sr_rng_u64(sr_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint32_t sr_rng_below(sr_rng *r, uint32_t n) {
  if (n <= 1) return 0;
  // Lemire's nearly-divisionless method, rejecting the biased low range.
  uint64_t m = (uint64_t)(uint32_t)(sr_rng_u64(r) >> 32) * n;
  uint32_t low = (uint32_t)m;
  if (low < n) {
    uint32_t threshold = (uint32_t)(-n) % n;
    while (low < threshold) {
      m = (uint64_t)(uint32_t)(sr_rng_u64(r) >> 32) * n;
      low = (uint32_t)m;
    }
  }
  return (uint32_t)(m >> 32);
}

double sr_rng_uniform(sr_rng *r) { return (double)(sr_rng_u64(r) >> 11) * 0x1.0p-53; }

float sr_rng_uniformf(sr_rng *r) { return (float)(sr_rng_u64(r) >> 40) * 0x1.0p-24f; }

double sr_rng_normal(sr_rng *r) {
  double u1 = 1.0 - sr_rng_uniform(r);  // (0, 1]: log is finite
  double u2 = sr_rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void sr_rng_shuffle(sr_rng *r, int64_t *a, int64_t n) {
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)(sr_rng_u64(r) % (uint64_t)(i + 1));
    int64_t t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
