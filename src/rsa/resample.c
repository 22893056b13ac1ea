// Image bootstrap (quadratic forms of the count vectors, one sgemm for all resamples) and the Mantel
// permutation test (permuted entries gathered once per block, every source multiplied in one sgemm).
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "simreg/rsa.h"

sr_status sr_rsa_boot_draw(int64_t n, int64_t b, uint64_t seed, sr_rsa_boot *bt, sr_err *err) {
  memset(bt, 0, sizeof *bt);
  if (n < 2 || b < 1 || n > (int64_t)UINT32_MAX)
    return sr_fail(err, SR_ERR_ARG, "bootstrap needs n >= 2 images and b >= 1 resamples (got %lld, %lld)", (long long)n,
                   (long long)b);
  bt->n = n, bt->b = b;
  bt->C = sr_calloc((size_t)n * (size_t)b, sizeof(float));
  bt->w = sr_alloc(sizeof(double) * (size_t)b);
  if (!bt->C || !bt->w) {
    sr_rsa_boot_free(bt);
    return sr_fail(err, SR_ERR_NOMEM, "out of memory for %lld x %lld bootstrap counts", (long long)n, (long long)b);
  }
  sr_rng rng;
  sr_rng_seed(&rng, seed, 0x45a);
  for (int64_t r = 0; r < b; r++) {
    for (int64_t q = 0; q < n; q++) bt->C[(size_t)sr_rng_below(&rng, (uint32_t)n) * (size_t)b + (size_t)r] += 1.0f;
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) {
      double c = bt->C[(size_t)i * (size_t)b + (size_t)r];
      s += c, s2 += c * c;
    }
    bt->w[r] = 0.5 * (s * s - s2);  // pairs of draws of different images
  }
  return SR_OK;
}

void sr_rsa_boot_free(sr_rsa_boot *bt) {
  if (!bt) return;
  sr_free(bt->C);
  sr_free(bt->w);
  memset(bt, 0, sizeof *bt);
}

// Per block of resamples: Y = U C with U the upper triangle of M (strmm: half the work of a full product), then
// q[r] = sum_i c_i (U c)_i - sum_i c_i^2 M_ii = sum_{i<j} c_i c_j M_ij.
#define BOOT_COLS 256

sr_status sr_rsa_boot_quad(const sr_rsa_boot *bt, const float *M, double *q, sr_err *err) {
  const int64_t n = bt->n, b = bt->b, cols = b < BOOT_COLS ? b : BOOT_COLS;
  float *Y = sr_alloc(sizeof(float) * (size_t)n * (size_t)cols);
  if (!Y) return sr_fail(err, SR_ERR_NOMEM, "out of memory for the bootstrap product");
  for (int64_t r0 = 0; r0 < b; r0 += cols) {
    const int64_t nc = b - r0 < cols ? b - r0 : cols;
    for (int64_t i = 0; i < n; i++)
      memcpy(Y + (size_t)i * (size_t)nc, bt->C + (size_t)i * (size_t)b + (size_t)r0, sizeof(float) * (size_t)nc);
    // Y (n, nc) <- triu(M) (n, n) . Y
    cblas_strmm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, (int)n, (int)nc, 1.0f, M, (int)n, Y,
                (int)nc);
    for (int64_t r = 0; r < nc; r++) q[r0 + r] = 0;
    for (int64_t i = 0; i < n; i++) {
      const float *c = bt->C + (size_t)i * (size_t)b + (size_t)r0, *y = Y + (size_t)i * (size_t)nc;
      const double mii = M[(size_t)i * (size_t)n + (size_t)i];
      for (int64_t r = 0; r < nc; r++) q[r0 + r] += (double)c[r] * ((double)y[r] - (double)c[r] * mii);
    }
  }
  sr_free(Y);
  return SR_OK;
}

void sr_rsa_boot_pearson(const sr_rsa_boot *bt, const double *sa, const double *saa, const double *sb,
                         const double *sbb, const double *sab, double *r) {
  for (int64_t k = 0; k < bt->b; k++) {
    const double w = bt->w[k];
    const double ma = sa[k] / w, mb = sb[k] / w;
    const double cov = sab[k] / w - ma * mb, va = saa[k] / w - ma * ma, vb = sbb[k] / w - mb * mb;
    r[k] = w > 0 && va > 0 && vb > 0 ? cov / sqrt(va * vb) : NAN;
  }
}

// ---- Mantel ----

// Target length of a block of upper-triangle entries (rows i0..i1, j > i) gathered per permutation.
#define MANTEL_Q 4096

static void gather_block(const float *T, int64_t n, const uint32_t *perm, int64_t i0, int64_t i1, float *g) {
  int64_t q = 0;
  for (int64_t i = i0; i < i1; i++) {
    const float *Ti = T + (size_t)perm[i] * (size_t)n;
    for (int64_t j = i + 1; j < n; j++) g[q++] = Ti[perm[j]];
  }
}

static void pack_block(const float *Z, int64_t n, int64_t i0, int64_t i1, float *z) {
  int64_t q = 0;
  for (int64_t i = i0; i < i1; i++) {
    memcpy(z + q, Z + (size_t)i * (size_t)n + (size_t)(i + 1), sizeof(float) * (size_t)(n - 1 - i));
    q += n - 1 - i;
  }
}

static uint32_t *draw_perms(int64_t n, int64_t b, uint64_t seed) {
  uint32_t *perms = sr_alloc(sizeof(uint32_t) * (size_t)n * (size_t)b);
  int64_t *tmp = sr_alloc(sizeof(int64_t) * (size_t)n);
  if (perms && tmp)
    for (int64_t p = 0; p < b; p++) {
      sr_rng rng;
      sr_rng_seed(&rng, seed, 0x3a47 + (uint64_t)p);
      for (int64_t i = 0; i < n; i++) tmp[i] = i;
      sr_rng_shuffle(&rng, tmp, n);
      for (int64_t i = 0; i < n; i++) perms[(size_t)p * (size_t)n + (size_t)i] = (uint32_t)tmp[i];
    }
  sr_free(tmp);
  if (!tmp) sr_free(perms), perms = NULL;
  return perms;
}

// sums[s] += z_s . g for every source s of the block (q entries; 8 independent lanes so the compiler vectorizes).
static void dot_block(const float *zb, int ns, int64_t q, const float *g, double *sums, int64_t stride) {
  for (int s = 0; s < ns; s++) {
    const float *z = zb + (size_t)s * (size_t)q;
    float acc[8] = {0};
    int64_t k = 0;
    for (; k + 8 <= q; k += 8)
      for (int l = 0; l < 8; l++) acc[l] += z[k + l] * g[k + l];
    double t = 0;
    for (; k < q; k++) t += (double)z[k] * g[k];
    for (int l = 0; l < 8; l++) t += acc[l];
    sums[(size_t)s * (size_t)stride] += t;
  }
}

// Permutations [p0, p1) over all blocks of rows: pack the sources' block, gather each permutation's block of T
// and dot it with every source while it sits in L1. zb: (ns, qmax), g: (qmax) scratch of the caller.
static void mantel_range(const float *T, const float *const *Z, int ns, int64_t n, const uint32_t *perms, int64_t b,
                         int64_t p0, int64_t p1, int64_t qmax, float *zb, float *g, double *out) {
  for (int64_t i0 = 0; i0 < n - 1;) {
    int64_t i1 = i0, q = 0;
    while (i1 < n - 1 && (q == 0 || q + (n - 1 - i1) <= qmax)) q += n - 1 - i1, i1++;
    for (int s = 0; s < ns; s++) pack_block(Z[s], n, i0, i1, zb + (size_t)s * (size_t)q);
    for (int64_t p = p0; p < p1; p++) {
      gather_block(T, n, perms + (size_t)p * (size_t)n, i0, i1, g);
      dot_block(zb, ns, q, g, out + p, b);
    }
    i0 = i1;
  }
}

sr_status sr_rsa_mantel_sums(const float *T, const float *const *Z, int ns, int64_t n, int64_t b, uint64_t seed,
                             double *out, sr_err *err) {
  if (n < 2 || b < 1 || ns < 1 || n > (int64_t)UINT32_MAX)
    return sr_fail(err, SR_ERR_ARG, "Mantel test needs n >= 2, b >= 1 and a source (got %lld, %lld, %d)", (long long)n,
                   (long long)b, ns);
  const int64_t qmax = (n - 1) > MANTEL_Q ? n - 1 : MANTEL_Q;
  uint32_t *perms = draw_perms(n, b, seed);
  if (!perms) return sr_fail(err, SR_ERR_NOMEM, "out of memory for %lld permutations of %lld images", (long long)b, (long long)n);
  memset(out, 0, sizeof(double) * (size_t)ns * (size_t)b);
  int failed = 0;
  // One region, no barrier per block: thread t takes a contiguous range of permutations through every block.
  // Each permutation's sums are one thread's, in block order: the result does not depend on the thread count.
#pragma omp parallel
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t p0 = b * t / nt, p1 = b * (t + 1) / nt;
    float *zb = sr_alloc(sizeof(float) * (size_t)ns * (size_t)qmax), *g = sr_alloc(sizeof(float) * (size_t)qmax);
    if (zb && g) mantel_range(T, Z, ns, n, perms, b, p0, p1, qmax, zb, g, out);
    else {
#pragma omp atomic write
      failed = 1;
    }
    sr_free(zb), sr_free(g);
  }
  sr_free(perms);
  return failed ? sr_fail(err, SR_ERR_NOMEM, "out of memory for a permutation block") : SR_OK;
}

double sr_rsa_mantel_p(const double *perm, int64_t b, double obs) {
  int64_t ge = 0;
  for (int64_t p = 0; p < b; p++) ge += perm[p] >= obs;
  return (1.0 + (double)ge) / ((double)b + 1.0);
}
