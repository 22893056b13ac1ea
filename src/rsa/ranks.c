// Pair statistics on the upper triangle: Pearson, midranks (radix sort), Spearman, Kendall tau-b (Knight).
#include <math.h>
#include <string.h>

#include "rsa_internal.h"

int64_t sr_rsa_pairs(int64_t n) { return n < 2 ? 0 : n * (n - 1) / 2; }

double sr_rsa_pearson(const float *A, const float *B, int64_t n) {
  const int64_t m = sr_rsa_pairs(n);
  double ma = 0, mb = 0;
  for (int64_t i = 0; i < n; i++) {
    const float *a = A + (size_t)i * (size_t)n, *b = B + (size_t)i * (size_t)n;
    for (int64_t j = i + 1; j < n; j++) {
      ma += a[j];
      mb += b[j];
    }
  }
  ma /= (double)m;
  mb /= (double)m;
  double sab = 0, saa = 0, sbb = 0;
  for (int64_t i = 0; i < n; i++) {
    const float *a = A + (size_t)i * (size_t)n, *b = B + (size_t)i * (size_t)n;
    for (int64_t j = i + 1; j < n; j++) {
      double x = a[j] - ma, y = b[j] - mb;
      sab += x * y;
      saa += x * x;
      sbb += y * y;
    }
  }
  return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

// Order-preserving map of a float to uint32 (-0 as +0): negative values bit-flipped, positive get the sign
// bit.
static uint32_t float_key(float f) {
  if (f == 0) f = 0;
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Stable LSD radix sort of (key, index) by key, 3 passes of 11 bits. After the odd number of passes the
// sorted data is in tkey/tidx (key/idx are scratch).
static void radix_sort(uint32_t *key, uint32_t *idx, uint32_t *tkey, uint32_t *tidx, int64_t m) {
  for (int pass = 0; pass < 3; pass++) {
    const int shift = 11 * pass;
    int64_t count[2049] = {0};
    for (int64_t p = 0; p < m; p++) count[((key[p] >> shift) & 2047) + 1]++;
    for (int d = 0; d < 2048; d++) count[d + 1] += count[d];
    for (int64_t p = 0; p < m; p++) {
      int64_t q = count[(key[p] >> shift) & 2047]++;
      tkey[q] = key[p];
      tidx[q] = idx[p];
    }
    uint32_t *s = key;
    key = tkey;
    tkey = s;
    s = idx;
    idx = tidx;
    tidx = s;
  }
}

// Dense ranks and tie groups from the sorted keys (key[q] with original position idx[q]).
static sr_status assign_ranks(const uint32_t *key, const uint32_t *idx, int64_t m, sr_rsa_ranks *r,
                              sr_err *err) {
  int64_t groups = 0;
  for (int64_t q = 0; q < m; q++) groups += q == 0 || key[q] != key[q - 1];
  r->midrank = sr_alloc(sizeof(double) * (size_t)groups);
  if (!r->midrank) return sr_fail(err, SR_ERR_NOMEM, "out of memory for %lld ranks", (long long)groups);
  r->n_distinct = groups;
  int64_t g = 0;
  for (int64_t a = 0; a < m;) {
    int64_t b = a;
    while (b + 1 < m && key[b + 1] == key[a]) b++;
    const int64_t t = b - a + 1;
    r->midrank[g] = 0.5 * (double)(a + b) + 1;
    if (t > 1) {
      r->tied_pairs += t;
      r->tie_sum += t * (t - 1) / 2;
    }
    for (int64_t q = a; q <= b; q++) {
      r->dense[idx[q]] = (uint32_t)g;
      r->mid2[idx[q]] = (uint32_t)(a + b + 2);  // 2 * midrank, exact
    }
    g++;
    a = b + 1;
  }
  return SR_OK;
}

sr_status sr_rsa_rank(const float *S, int64_t n, sr_rsa_ranks *r, sr_err *err) {
  memset(r, 0, sizeof *r);
  const int64_t m = sr_rsa_pairs(n);
  if (n < 2 || m > (int64_t)(UINT32_MAX / 2 - 1))  // 2 * midrank <= 2 m must fit in uint32
    return sr_fail(err, SR_ERR_ARG, "ranks need 2 to 65536 images (got %lld)", (long long)n);
  r->m = m;
  uint32_t *buf = sr_rsa_big_alloc(sizeof(uint32_t) * (size_t)m * 4);
  r->dense = sr_rsa_big_alloc(sizeof(uint32_t) * (size_t)m);
  r->mid2 = sr_rsa_big_alloc(sizeof(uint32_t) * (size_t)m);
  if (!buf || !r->dense || !r->mid2) {
    sr_free(buf);
    sr_rsa_ranks_free(r);
    return sr_fail(err, SR_ERR_NOMEM, "out of memory ranking %lld pairs", (long long)m);
  }
  uint32_t *key = buf, *idx = buf + m, *tkey = buf + 2 * m, *tidx = buf + 3 * m;
  int64_t p = 0;
  sr_status st = SR_OK;
  for (int64_t i = 0; i < n && !st; i++)
    for (int64_t j = i + 1; j < n; j++, p++) {
      float v = S[(size_t)i * (size_t)n + (size_t)j];
      if (!isfinite(v)) {
        st = sr_fail(err, SR_ERR_NUMERIC, "value %g at [%lld][%lld] is not finite", (double)v, (long long)i,
                     (long long)j);
        break;
      }
      key[p] = float_key(v);
      idx[p] = (uint32_t)p;
    }
  if (!st) {
    radix_sort(key, idx, tkey, tidx, m);
    st = assign_ranks(tkey, tidx, m, r, err);
  }
  sr_free(buf);
  if (st) sr_rsa_ranks_free(r);
  return st;
}

void sr_rsa_ranks_free(sr_rsa_ranks *r) {
  if (!r) return;
  sr_free(r->dense);
  sr_free(r->midrank);
  sr_free(r->mid2);
  memset(r, 0, sizeof *r);
}

double sr_rsa_spearman(const sr_rsa_ranks *a, const sr_rsa_ranks *b) {
  const int64_t m = a->m;
  if (m != b->m || m < 2) return NAN;
  // On twice the midranks (they average m + 1): a power-of-two scale, so r is the same to the last bit.
  const double mean2 = (double)(m + 1);
  double sab = 0, saa = 0, sbb = 0;
  for (int64_t p = 0; p < m; p++) {
    double x = (double)a->mid2[p] - mean2, y = (double)b->mid2[p] - mean2;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

// Stable counting sort of the positions in `in` by rank[in[q]] (ranks < k) into out.
static sr_status counting_sort(const uint32_t *rank, int64_t k, const uint32_t *in, uint32_t *out, int64_t m,
                               sr_err *err) {
  int64_t *start = sr_calloc((size_t)k + 1, sizeof(int64_t));
  if (!start) return sr_fail(err, SR_ERR_NOMEM, "out of memory for Kendall's counting sort");
  for (int64_t q = 0; q < m; q++) start[rank[in ? in[q] : (uint32_t)q] + 1]++;
  for (int64_t d = 0; d < k; d++) start[d + 1] += start[d];
  for (int64_t q = 0; q < m; q++) {
    uint32_t p = in ? in[q] : (uint32_t)q;
    out[start[rank[p]]++] = p;
  }
  sr_free(start);
  return SR_OK;
}

// Exchanges a stable merge sort of y makes: pairs q < s with y[q] > y[s] (strictly). Sorts y; tmp of length
// m.
static int64_t count_inversions(uint32_t *y, uint32_t *tmp, int64_t m) {
  int64_t swaps = 0;
  uint32_t *src = y, *dst = tmp;
  for (int64_t width = 1; width < m; width *= 2) {
    for (int64_t lo = 0; lo < m; lo += 2 * width) {
      int64_t mid = lo + width < m ? lo + width : m, hi = lo + 2 * width < m ? lo + 2 * width : m;
      int64_t a = lo, b = mid, o = lo;
      while (a < mid && b < hi) {
        if (src[b] < src[a]) {
          dst[o++] = src[b++];
          swaps += mid - a;
        } else
          dst[o++] = src[a++];
      }
      while (a < mid) dst[o++] = src[a++];
      while (b < hi) dst[o++] = src[b++];
    }
    uint32_t *s = src;
    src = dst;
    dst = s;
  }
  return swaps;
}

// A side with at most this many distinct values takes the one-pass count.
#define KENDALL_FEW 64

static double tau_b(int64_t m, int64_t n1, int64_t n2, int64_t joint, int64_t swaps) {
  const double n0 = (double)m * (double)(m - 1) / 2;
  const double num = n0 - (double)n1 - (double)n2 + (double)joint - 2.0 * (double)swaps;
  return n0 - (double)n1 > 0 && n0 - (double)n2 > 0 ? num / sqrt((n0 - (double)n1) * (n0 - (double)n2)) : NAN;
}

// Kendall with a side a of k <= KENDALL_FEW distinct values: the a values are put in b's order (counting sort
// by b's dense rank); walking up b tie group by tie group, each element is discordant with every element of a
// lower b group whose a is larger (counts per a value so far), and jointly tied with the earlier elements of
// its own group that share its a.
static sr_status kendall_few(const sr_rsa_ranks *a, const sr_rsa_ranks *b, double *tau, sr_err *err) {
  const int64_t m = a->m, k = a->n_distinct, nb = b->n_distinct;
  uint32_t *end = sr_rsa_big_alloc(sizeof(uint32_t) * (size_t)(nb + 1));
  uint8_t *av = sr_rsa_big_alloc((size_t)m);
  if (!end || !av) {
    sr_free(end);
    sr_free(av);
    return sr_fail(err, SR_ERR_NOMEM, "out of memory for Kendall's tau over %lld pairs", (long long)m);
  }
  memset(end, 0, sizeof(uint32_t) * (size_t)(nb + 1));
  for (int64_t p = 0; p < m; p++) end[b->dense[p] + 1]++;
  for (int64_t v = 0; v < nb; v++) end[v + 1] += end[v];
  for (int64_t p = 0; p < m; p++) av[end[b->dense[p]]++] = (uint8_t)a->dense[p];  // end[v]: end of group v
  int64_t below[KENDALL_FEW] = {0}, group[KENDALL_FEW], swaps = 0, joint = 0;
  for (int64_t v = 0, q0 = 0; v < nb; v++) {
    const int64_t q1 = end[v];
    int64_t above[KENDALL_FEW + 1];  // above[g]: earlier groups' elements with a > g
    above[k] = 0;
    for (int64_t g = k - 1; g >= 0; g--) above[g] = above[g + 1] + (g + 1 < k ? below[g + 1] : 0);
    memset(group, 0, sizeof(int64_t) * (size_t)k);
    for (int64_t q = q0; q < q1; q++) {
      swaps += above[av[q]];
      joint += group[av[q]]++;
    }
    for (int64_t g = 0; g < k; g++) below[g] += group[g];
    q0 = q1;
  }
  sr_free(end);
  sr_free(av);
  *tau = tau_b(m, a->tie_sum, b->tie_sum, joint, swaps);
  return SR_OK;
}

sr_status sr_rsa_kendall(const sr_rsa_ranks *a, const sr_rsa_ranks *b, double *tau, sr_err *err) {
  *tau = NAN;
  const int64_t m = a->m;
  if (m != b->m)
    return sr_fail(err, SR_ERR_ARG, "Kendall: %lld and %lld pairs", (long long)a->m, (long long)b->m);
  if (a->n_distinct <= KENDALL_FEW) return kendall_few(a, b, tau, err);
  if (b->n_distinct <= KENDALL_FEW) return kendall_few(b, a, tau, err);
  uint32_t *buf = sr_alloc(sizeof(uint32_t) * (size_t)m * 3);
  if (!buf)
    return sr_fail(err, SR_ERR_NOMEM, "out of memory for Kendall's tau over %lld pairs", (long long)m);
  uint32_t *by_b = buf, *order = buf + m, *y = buf + 2 * m;
  // order: positions sorted by (rank a, rank b): by b first, then stably by a
  sr_status st = counting_sort(b->dense, b->n_distinct, NULL, by_b, m, err);
  if (!st) st = counting_sort(a->dense, a->n_distinct, by_b, order, m, err);
  if (st) {
    sr_free(buf);
    return st;
  }
  int64_t joint = 0;  // n3: pairs of pairs tied in both
  for (int64_t q = 0, run = 1; q < m; q++) {
    uint32_t p = order[q];
    y[q] = b->dense[p];
    if (q > 0 && a->dense[p] == a->dense[order[q - 1]] && y[q] == y[q - 1])
      joint += run++;
    else
      run = 1;
  }
  const int64_t swaps = count_inversions(y, order, m);  // order is free now: the merge buffer
  sr_free(buf);
  *tau = tau_b(m, a->tie_sum, b->tie_sum, joint, swaps);
  return SR_OK;
}

static sr_status fill_standardized(const sr_rsa_ranks *r, const float *S, int64_t n, float *Z, sr_err *err) {
  const int64_t m = sr_rsa_pairs(n);
  double mean = 0, ss = 0;
  int64_t p = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++, p++)
      mean += r ? 0.5 * (double)r->mid2[p] : S[(size_t)i * (size_t)n + (size_t)j];
  mean /= (double)m;
  p = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++, p++) {
      double v = (r ? 0.5 * (double)r->mid2[p] : S[(size_t)i * (size_t)n + (size_t)j]) - mean;
      ss += v * v;
    }
  const double sd = sqrt(ss / (double)m);
  if (!(sd > 0))
    return sr_fail(err, SR_ERR_ARG, "a similarity matrix is constant over its %lld pairs", (long long)m);
  p = 0;
  for (int64_t i = 0; i < n; i++) {
    Z[(size_t)i * (size_t)n + (size_t)i] = 0;
    for (int64_t j = i + 1; j < n; j++, p++) {
      double v = (r ? 0.5 * (double)r->mid2[p] : S[(size_t)i * (size_t)n + (size_t)j]) - mean;
      float z = (float)(v / sd);
      Z[(size_t)i * (size_t)n + (size_t)j] = z;
      Z[(size_t)j * (size_t)n + (size_t)i] = z;
    }
  }
  return SR_OK;
}

sr_status sr_rsa_standardize(const float *S, int64_t n, float *Z, sr_err *err) {
  return fill_standardized(NULL, S, n, Z, err);
}

sr_status sr_rsa_standardize_ranks(const sr_rsa_ranks *r, int64_t n, float *Z, sr_err *err) {
  if (r->m != sr_rsa_pairs(n))
    return sr_fail(err, SR_ERR_ARG, "ranks of %lld pairs for %lld images", (long long)r->m, (long long)n);
  return fill_standardized(r, NULL, n, Z, err);
}
