// 64-bit FNV-1a: the cache key of a target. Not cryptographic; it only has to tell inputs apart.
#include "simreg/reg.h"

uint64_t sr_fnv1a64(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}
