// 64-byte aligned allocation (AVX-512 lines, oneDNN's preferred alignment) with overflow checks.
#include "simreg/core.h"

#include <stdlib.h>
#include <string.h>

int sr_mul_overflow(size_t a, size_t b, size_t *out) { return __builtin_mul_overflow(a, b, out); }

void *sr_alloc(size_t bytes) {
#ifdef SR_FAULT_INJECTION
  if (sr_fault_should_fail(bytes)) return NULL;
#endif
  if (bytes == 0) bytes = 1;
  size_t rounded = (bytes + 63) & ~(size_t)63;
  if (rounded < bytes) return NULL;
  return aligned_alloc(64, rounded);
}

void *sr_calloc(size_t n, size_t size) {
  size_t bytes;
  if (sr_mul_overflow(n, size, &bytes)) return NULL;
  void *p = sr_alloc(bytes);
  if (p) memset(p, 0, bytes);
  return p;
}

void sr_free(void *p) { free(p); }

void sr_free_all(void *const *ptrs, size_t n) {
  for (size_t i = 0; i < n; i++) sr_free(ptrs[i]);
}
