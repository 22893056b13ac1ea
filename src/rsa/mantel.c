// Mantel permutation sums: sum_{i<j} Z_s[i][j] T[pi(i)][pi(j)] for every partner s and permutation pi.
// Two exact evaluations of the same sum (they differ only by float rounding):
// - dense: per block of rows, the permuted entries of T are gathered row by row (each needed row of T is
// first
//   copied into an L1 buffer, so the gather reads L1 and the copy streams from memory) for four permutations
//   at a time, and every partner's packed block is dotted with the four gathered blocks while they sit in L2;
// - sparse, for a target with one dominant value t0 (a thresholded target: 99 % of its pairs are 0): T = t0 +
// D
//   with D nonzero on few pairs, and sum Z T_pi = t0 sum Z + sum_{(k,l): D_kl != 0} D_kl
//   Z[sigma(k)][sigma(l)] (sigma = pi^-1), i.e. a few random reads per permutation instead of a gather of all
//   M pairs.
#include <omp.h>
#include <string.h>
#include <sys/mman.h>

#include "rsa_internal.h"

// Target length of a block of upper-triangle entries (rows i0..i1, j > i) gathered per permutation.
#define MANTEL_Q            4096
// Permutations gathered together per block: one pass over the partners' block serves all of them.
#define MANTEL_PG           4
// The sparse form is used when the most frequent value covers at least this share of the pairs.
#define MANTEL_SPARSE_SHARE 0.9

void *sr_rsa_big_alloc(size_t bytes) {
  void *p = sr_alloc(bytes);
  // Transparent huge pages (madvise mode): far fewer page faults on first touch and TLB misses in the
  // gathers.
  const uintptr_t huge = (uintptr_t)2 << 20, a = ((uintptr_t)p + huge - 1) & ~(huge - 1),
                  e = ((uintptr_t)p + bytes) & ~(huge - 1);
  if (p && e > a) (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
  return p;
}

static uint32_t *draw_perms(int64_t n, int64_t b, uint64_t seed) {
  uint32_t *perms = sr_rsa_big_alloc(sizeof(uint32_t) * (size_t)n * (size_t)b);
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
  if (!tmp) {
    sr_free(perms);
    perms = NULL;
  }
  return perms;
}

// ---- dense ----

// g[0..q) = T[perm[i]][perm[j]] for the rows i0..i1 of a block, j > i. Long rows are copied first so that the
// random reads of the gather hit L1 (row: n floats of scratch).
static void gather_block(const float *T, int64_t n, const uint32_t *perm, int64_t i0, int64_t i1, float *row,
                         float *g) {
  int64_t q = 0;
  for (int64_t i = i0; i < i1; i++) {
    const float *Ti = T + (size_t)perm[i] * (size_t)n;
    if (n - 1 - i >= n / 4) {
      memcpy(row, Ti, sizeof(float) * (size_t)n);
      Ti = row;
    }
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

// 16 float lanes (GCC vector extension: the compiler maps it to the widest registers it has).
typedef float v16f __attribute__((vector_size(64)));

static inline v16f load16(const float *x) {
  v16f v;
  memcpy(&v, x, sizeof v);
  return v;
}

static inline double hsum16(v16f v) {
  double t = 0;
  for (int l = 0; l < 16; l++) t += v[l];
  return t;
}

typedef struct {
  const float *T;
  const float *const *Z;
  int ns;
  int64_t n, b, qmax;
  const uint32_t *perms;
  double *out;
} dense_job;

// out[s * b + p + u] += z_s . g_u for every partner s and the np (<= MANTEL_PG) gathered blocks g_u (q
// entries each, stride qmax). Every permutation's sum depends on its own block only (16 float lanes, then
// double), so the grouping of permutations does not change any result.
static void dot_group(const dense_job *J, const float *zb, int64_t q, const float *g, int np, int64_t p) {
  const int ns = J->ns;
  const int64_t qmax = J->qmax, b = J->b;
  double *out = J->out;
  const int64_t q16 = q & ~(int64_t)15;
  for (int s = 0; s < ns; s++) {
    const float *z = zb + (size_t)s * (size_t)q;
    double *o = out + (size_t)s * (size_t)b + (size_t)p;
    int u = 0;
    for (; u + 4 <= np; u += 4) {  // four permutations per pass over z
      const float *g0 = g + (size_t)u * (size_t)qmax, *g1 = g0 + qmax, *g2 = g1 + qmax, *g3 = g2 + qmax;
      v16f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
      for (int64_t k = 0; k < q16; k += 16) {
        const v16f zz = load16(z + k);
        a0 += zz * load16(g0 + k);
        a1 += zz * load16(g1 + k);
        a2 += zz * load16(g2 + k);
        a3 += zz * load16(g3 + k);
      }
      double t0 = 0, t1 = 0, t2 = 0, t3 = 0;
      for (int64_t k = q16; k < q; k++) {
        t0 += (double)z[k] * g0[k];
        t1 += (double)z[k] * g1[k];
        t2 += (double)z[k] * g2[k];
        t3 += (double)z[k] * g3[k];
      }
      o[u] += t0 + hsum16(a0);
      o[u + 1] += t1 + hsum16(a1);
      o[u + 2] += t2 + hsum16(a2);
      o[u + 3] += t3 + hsum16(a3);
    }
    for (; u < np; u++) {  // the same arithmetic, one permutation at a time
      const float *g0 = g + (size_t)u * (size_t)qmax;
      v16f a0 = {0};
      for (int64_t k = 0; k < q16; k += 16) a0 += load16(z + k) * load16(g0 + k);
      double t0 = 0;
      for (int64_t k = q16; k < q; k++) t0 += (double)z[k] * g0[k];
      o[u] += t0 + hsum16(a0);
    }
  }
}

// Permutations [p0, p1) over all blocks of rows. Scratch: zb (ns, qmax), g (MANTEL_PG, qmax), row (n).
static void dense_range(const dense_job *J, int64_t p0, int64_t p1, float *zb, float *g, float *row) {
  const int64_t n = J->n;
  for (int64_t i0 = 0; i0 < n - 1;) {
    int64_t i1 = i0, q = 0;
    while (i1 < n - 1 && (q == 0 || q + (n - 1 - i1) <= J->qmax)) {
      q += n - 1 - i1;
      i1++;
    }
    for (int s = 0; s < J->ns; s++) pack_block(J->Z[s], n, i0, i1, zb + (size_t)s * (size_t)q);
    for (int64_t p = p0; p < p1; p += MANTEL_PG) {
      const int np = (int)(p1 - p < MANTEL_PG ? p1 - p : MANTEL_PG);
      for (int u = 0; u < np; u++)
        gather_block(J->T, n, J->perms + (size_t)(p + u) * (size_t)n, i0, i1, row,
                     g + (size_t)u * (size_t)J->qmax);
      dot_group(J, zb, q, g, np, p);
    }
    i0 = i1;
  }
}

static int mantel_dense(const dense_job *J) {
  int failed = 0;
  // One region, no barrier per block: thread t takes a contiguous range of permutations through every block.
#pragma omp parallel
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t p0 = J->b * t / nt, p1 = J->b * (t + 1) / nt;
    float *zb = sr_alloc(sizeof(float) * (size_t)J->ns * (size_t)J->qmax);
    float *g = sr_alloc(sizeof(float) * MANTEL_PG * (size_t)J->qmax);
    float *row = sr_alloc(sizeof(float) * (size_t)J->n);
    if (zb && g && row) {
      dense_range(J, p0, p1, zb, g, row);
    } else {
#pragma omp atomic write
      failed = 1;
    }
    sr_free(zb);
    sr_free(g);
    sr_free(row);
  }
  return failed;
}

// ---- sparse ----

// The value most pairs of T's upper triangle share (majority vote, then counted) and its count.
static float dominant_value(const float *T, int64_t n, int64_t *count) {
  float cand = 0;
  int64_t votes = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++) {
      const float v = T[(size_t)i * (size_t)n + (size_t)j];
      if (votes == 0) cand = v;
      votes += v == cand ? 1 : -1;
    }
  int64_t c = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++) c += T[(size_t)i * (size_t)n + (size_t)j] == cand;
  *count = c;
  return cand;
}

typedef struct {
  int64_t n, nnz;
  int64_t *start;  // (n + 1) CSR rows of D = T - t0 on the upper triangle
  uint32_t *col;   // (nnz)
  double *val;     // (nnz) D_kl = T_kl - t0, exact in double
} sparse_t;

static void sparse_free(sparse_t *D) {
  sr_free(D->start);
  sr_free(D->col);
  sr_free(D->val);
}

static int sparse_build(const float *T, int64_t n, float t0, int64_t nnz, sparse_t *D) {
  D->n = n;
  D->nnz = nnz;
  D->start = sr_alloc(sizeof(int64_t) * (size_t)(n + 1));
  D->col = sr_alloc(sizeof(uint32_t) * (size_t)(nnz > 0 ? nnz : 1));
  D->val = sr_alloc(sizeof(double) * (size_t)(nnz > 0 ? nnz : 1));
  if (!D->start || !D->col || !D->val) return 1;
  int64_t e = 0;
  for (int64_t k = 0; k < n; k++) {
    D->start[k] = e;
    for (int64_t l = k + 1; l < n; l++) {
      const float v = T[(size_t)k * (size_t)n + (size_t)l];
      if (v == t0) continue;
      D->col[e] = (uint32_t)l;
      D->val[e] = (double)v - (double)t0;
      e++;
    }
  }
  D->start[n] = e;
  return 0;
}

// Partners are read in groups of up to 16, interleaved: the 16 values of one pair share one cache line, so a
// random pair costs one line for the whole group.
#define MANTEL_GROUP 16
typedef double v16d __attribute__((vector_size(128)));

typedef struct {
  const sparse_t *D;
  const float *W;       // (M, 16) the group's partners on the packed upper triangle, interleaved
  const int64_t *rowp;  // (n) packed index of (i, i + 1)
  int64_t b;
  const uint32_t *perms;
  v16d *acc;  // (b) per permutation, the group's 16 sums
} sparse_job;

// One permutation: acc[p] = sum_{k<l} D_kl W[sigma(k), sigma(l)] over the group. Scratch: sigma (n).
static void sparse_one(const sparse_job *J, int64_t p, uint32_t *sigma) {
  const sparse_t *D = J->D;
  const int64_t n = D->n;
  const uint32_t *pi = J->perms + (size_t)p * (size_t)n;
  for (int64_t i = 0; i < n; i++) sigma[pi[i]] = (uint32_t)i;
  v16d a = {0};
  for (int64_t k = 0; k < n; k++) {
    const int64_t sk = sigma[k];
    for (int64_t e = D->start[k]; e < D->start[k + 1]; e++) {
      const int64_t sl = sigma[D->col[e]], lo = sk < sl ? sk : sl, hi = sk < sl ? sl : sk;
      v16f w;
      memcpy(&w, J->W + (size_t)(J->rowp[lo] + hi - lo - 1) * MANTEL_GROUP, sizeof w);
      a += D->val[e] * __builtin_convertvector(w, v16d);
    }
  }
  J->acc[p] = a;
}

static int mantel_sparse(const sparse_job *J) {
  int failed = 0;
#pragma omp parallel
  {
    uint32_t *sigma = sr_alloc(sizeof(uint32_t) * (size_t)J->D->n);
    if (sigma) {
#pragma omp for schedule(static)
      for (int64_t p = 0; p < J->b; p++) sparse_one(J, p, sigma);
    } else {
#pragma omp atomic write
      failed = 1;
    }
    sr_free(sigma);
  }
  return failed;
}

static double upper_sum(const float *Z, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++) s += Z[(size_t)i * (size_t)n + (size_t)j];
  return s;
}

// W (M, 16) <- partners Z[0..g) on the packed upper triangle, interleaved (unused lanes 0).
static void interleave(const float *const *Z, int g, int64_t n, float *W) {
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n - 1; i++) {
    float *w = W + (size_t)(i * n - i * (i + 1) / 2) * MANTEL_GROUP;
    for (int64_t j = i + 1; j < n; j++, w += MANTEL_GROUP) {
      for (int s = 0; s < g; s++) w[s] = Z[s][(size_t)i * (size_t)n + (size_t)j];
      for (int s = g; s < MANTEL_GROUP; s++) w[s] = 0;
    }
  }
}

static int sparse_sums(const sr_mantel *mt, const uint32_t *perms, float t0, int64_t nnz, double *out) {
  const float *T = mt->T;
  const float *const *Z = mt->Z;
  const int ns = mt->ns;
  const int64_t n = mt->n, b = mt->b;
  const int64_t m = sr_rsa_pairs(n);
  sparse_t D = {0};
  float *W = sr_rsa_big_alloc(sizeof(float) * (size_t)m * MANTEL_GROUP);
  int64_t *rowp = sr_alloc(sizeof(int64_t) * (size_t)n);
  v16d *acc = sr_alloc(sizeof(v16d) * (size_t)b);
  int failed = !W || !rowp || !acc || sparse_build(T, n, t0, nnz, &D);
  for (int64_t i = 0; i < n && !failed; i++) rowp[i] = i * n - i * (i + 1) / 2;
  for (int s0 = 0; s0 < ns && !failed; s0 += MANTEL_GROUP) {
    const int g = ns - s0 < MANTEL_GROUP ? ns - s0 : MANTEL_GROUP;
    interleave(Z + s0, g, n, W);
    const sparse_job J = {.D = &D, .W = W, .rowp = rowp, .b = b, .perms = perms, .acc = acc};
    failed = mantel_sparse(&J);
    for (int s = 0; s < g && !failed; s++) {
      const double base = (double)t0 * upper_sum(Z[s0 + s], n);
      for (int64_t p = 0; p < b; p++) out[(size_t)(s0 + s) * (size_t)b + (size_t)p] = base + acc[p][s];
    }
  }
  sparse_free(&D);
  sr_free(W);
  sr_free(rowp);
  sr_free(acc);
  return failed;
}

sr_status sr_rsa_mantel_sums_how(const sr_mantel *mt, int how, double *out, sr_err *err) {
  const float *T = mt->T;
  const float *const *Z = mt->Z;
  const int ns = mt->ns;
  const int64_t n = mt->n, b = mt->b;
  const uint64_t seed = mt->seed;
  if (n < 2 || b < 1 || ns < 1 || n > (int64_t)UINT32_MAX)
    return sr_fail(err, SR_ERR_ARG, "Mantel test needs n >= 2, b >= 1 and a source (got %lld, %lld, %d)",
                   (long long)n, (long long)b, ns);
  uint32_t *perms = draw_perms(n, b, seed);
  if (!perms)
    return sr_fail(err, SR_ERR_NOMEM, "out of memory for %lld permutations of %lld images", (long long)b,
                   (long long)n);
  memset(out, 0, sizeof(double) * (size_t)ns * (size_t)b);
  const int64_t m = sr_rsa_pairs(n);
  int64_t count = 0;
  const float t0 = dominant_value(T, n, &count);
  int failed;
  const int sparse = how == SR_RSA_MANTEL_SPARSE ||
                     (how == SR_RSA_MANTEL_AUTO && (double)count >= MANTEL_SPARSE_SHARE * (double)m);
  if (sparse) {
    failed = sparse_sums(mt, perms, t0, m - count, out);
  } else {
    const dense_job J = {.T = T,
                         .Z = Z,
                         .ns = ns,
                         .n = n,
                         .b = b,
                         .qmax = (n - 1) > MANTEL_Q ? n - 1 : MANTEL_Q,
                         .perms = perms,
                         .out = out};
    failed = mantel_dense(&J);
  }
  sr_free(perms);
  return failed ? sr_fail(err, SR_ERR_NOMEM, "out of memory for the Mantel permutations") : SR_OK;
}

sr_status sr_rsa_mantel_sums(const sr_mantel *mt, double *out, sr_err *err) {
  return sr_rsa_mantel_sums_how(mt, SR_RSA_MANTEL_AUTO, out, err);
}

double sr_rsa_mantel_p(const double *perm, int64_t b, double obs) {
  int64_t ge = 0;
  for (int64_t p = 0; p < b; p++) ge += perm[p] >= obs;
  return (1.0 + (double)ge) / ((double)b + 1.0);
}
