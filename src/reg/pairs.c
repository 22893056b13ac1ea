// Uniform pair sampling: all i < j, or the set bits of a subset mask (prefix counts + in-row bit search).
#include "internal.h"

// Uniform in [0, n) for any 64-bit n (rejection of the biased top range).
static uint64_t below64(sr_rng *rng, uint64_t n) {
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  for (;;) {
    uint64_t r = sr_rng_u64(rng);
    if (r < limit) return r % n;
  }
}

// Column of the r-th (0-based) set bit of mask row i.
static int64_t nth_bit(const uint64_t *row, int64_t words, int64_t r) {
  for (int64_t q = 0; q < words; q++) {
    int64_t c = __builtin_popcountll(row[q]);
    if (r < c) {
      uint64_t bits = row[q];
      for (int64_t s = 0; s < r; s++) bits &= bits - 1;  // drop the lowest r set bits
      return q * 64 + __builtin_ctzll(bits);
    }
    r -= c;
  }
  return -1;  // unreachable for a consistent mask
}

void sr_reg_sample_pairs(const sr_reg_target *t, int k, sr_rng *rng, int64_t *i, int64_t *j) {
  for (int p = 0; p < k; p++) {
    if (!t->mask) {
      // an unordered pair of distinct rows, uniformly: a, then b among the other n - 1
      int64_t a = (int64_t)below64(rng, (uint64_t)t->n), b = (int64_t)below64(rng, (uint64_t)t->n - 1);
      if (b >= a) b++;
      i[p] = a < b ? a : b;
      j[p] = a < b ? b : a;
      continue;
    }
    int64_t r = (int64_t)below64(rng, (uint64_t)t->n_pairs);
    int64_t lo = 0, hi = t->n - 1;  // the row: largest lo with row_start[lo] <= r
    while (lo < hi) {
      int64_t mid = (lo + hi + 1) / 2;
      if (t->row_start[mid] <= r)
        lo = mid;
      else
        hi = mid - 1;
    }
    i[p] = lo;
    j[p] = nth_bit(t->mask + (size_t)lo * (size_t)t->words, t->words, r - t->row_start[lo]);
  }
}

void sr_reg_pair_targets(const sr_reg_target *t, int k, const int64_t *i, const int64_t *j, float *target) {
  for (int p = 0; p < k; p++) target[p] = t->S[(size_t)i[p] * (size_t)t->n + (size_t)j[p]];
}
