// RSA statistics against SciPy/NumPy references (tests/fixtures/gen_rsa_fixtures.py) and brute force:
// Pearson, Spearman and Kendall tau-b with heavy ties, the image-bootstrap quadratic forms and their rule for
// repeated draws, Mantel sums and p-value, centred cosine, linear CKA, bootstrap coverage on a synthetic
// model with a known correlation, and a "neural" matrix = pixel similarity + noise recovered within its CI.
#include <math.h>
#include <omp.h>

#include "rsa/rsa_internal.h"
#include "simreg/npy.h"
#include "simreg/reg.h"
#include "simreg/rsa.h"
#include "sr_test.h"

static float *load_f32(const char *rel, sr_npy *a) {
  sr_err err = {0};
  CHECK_OK(sr_npy_read(sr_test_src(rel), a, &err), &err);
  return a->data;
}

static void test_scipy_stats(void) {
  sr_npy m, r;
  const float *mats = load_f32("tests/fixtures/rsa/stats_mats.npy", &m);
  sr_err err = {0};
  CHECK_OK(sr_npy_read(sr_test_src("tests/fixtures/rsa/stats_ref.npy"), &r, &err), &err);
  if (!mats || r.dtype != SR_F64) return;
  const int64_t n = m.shape[1];
  sr_rsa_ranks rk[5];
  for (int s = 0; s < 5; s++) CHECK_OK(sr_rsa_rank(mats + s * n * n, n, &rk[s], &err), &err);
  CHECK(rk[2].tied_pairs > rk[2].m / 2, "the thresholded matrix is mostly ties (%lld of %lld)",
        (long long)rk[2].tied_pairs, (long long)rk[2].m);
  CHECK(rk[2].n_distinct == 3, "T has %lld distinct values", (long long)rk[2].n_distinct);
  const double *ref = r.data;
  for (int64_t q = 0; q < r.shape[0]; q++) {
    const int a = (int)ref[q * 5], b = (int)ref[q * 5 + 1];
    double p = sr_rsa_pearson(mats + a * n * n, mats + b * n * n, n), s = sr_rsa_spearman(&rk[a], &rk[b]),
           tau;
    CHECK_OK(sr_rsa_kendall(&rk[a], &rk[b], &tau, &err), &err);
    CHECK(fabs(p - ref[q * 5 + 2]) < 1e-9, "pearson %d-%d: %.12f vs scipy %.12f", a, b, p, ref[q * 5 + 2]);
    CHECK(fabs(s - ref[q * 5 + 3]) < 1e-9, "spearman %d-%d: %.12f vs scipy %.12f", a, b, s, ref[q * 5 + 3]);
    CHECK(fabs(tau - ref[q * 5 + 4]) < 1e-9, "kendall %d-%d: %.12f vs scipy %.12f", a, b, tau,
          ref[q * 5 + 4]);
  }
  for (int s = 0; s < 5; s++) sr_rsa_ranks_free(&rk[s]);
  sr_npy_free(&m);
  sr_npy_free(&r);
}

// Kendall tau-b by counting all pairs of pairs of the upper triangles of A and B (n x n).
static double kendall_brute(const float *A, const float *B, int64_t n) {
  const int64_t m = n * (n - 1) / 2;
  double *x = malloc(sizeof(double) * (size_t)m), *y = malloc(sizeof(double) * (size_t)m);
  int64_t p = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++, p++) {
      x[p] = A[i * n + j];
      y[p] = B[i * n + j];
    }
  double con = 0, tx = 0, ty = 0, n0 = (double)m * (m - 1) / 2;
  for (int64_t a = 0; a < m; a++)
    for (int64_t b = a + 1; b < m; b++) {
      double dx = x[a] - x[b], dy = y[a] - y[b];
      con += (dx * dy > 0) - (dx * dy < 0);
      tx += dx == 0;
      ty += dy == 0;
    }
  free(x);
  free(y);
  return con / sqrt((n0 - tx) * (n0 - ty));
}

// Kendall tau-b against the brute-force count, for random matrices with many ties: both sides few-valued and
// one few-valued side (the one-pass count, either order), both sides with > 64 values (Knight's merge sort).
static void test_kendall_brute(void) {
  const int64_t n = 23;
  float A[23 * 23], B[23 * 23];
  sr_rng rng;
  sr_rng_seed(&rng, 5, 1);
  for (int c = 0; c < 4; c++) {
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = i; j < n; j++) {
        float a = (float)sr_rng_below(&rng, 4), b = (float)sr_rng_below(&rng, 3) + 0.25f * a;
        if (c >= 1) b = (float)sr_rng_below(&rng, 150) + 0.5f * a;  // > 64 distinct values, with ties
        if (c == 3) a = (float)sr_rng_below(&rng, 120) - 0.5f * b;
        if (c == 2) {
          const float t = a;
          a = b;
          b = t;
        }
        A[i * n + j] = A[j * n + i] = a;
        B[i * n + j] = B[j * n + i] = b;
      }
    const double want = kendall_brute(A, B, n);
    sr_rsa_ranks ra, rb;
    sr_err err = {0};
    double tau;
    CHECK_OK(sr_rsa_rank(A, n, &ra, &err), &err);
    CHECK_OK(sr_rsa_rank(B, n, &rb, &err), &err);
    const int few = ra.n_distinct <= 64 || rb.n_distinct <= 64;
    CHECK(few == (c < 3), "case %d: distinct values %lld and %lld", c, (long long)ra.n_distinct,
          (long long)rb.n_distinct);
    CHECK(ra.tied_pairs > 0 && rb.tied_pairs > 0, "case %d has ties on both sides", c);
    CHECK_OK(sr_rsa_kendall(&ra, &rb, &tau, &err), &err);
    CHECK(fabs(tau - want) < 1e-12, "case %d: kendall %.15f vs brute force %.15f", c, tau, want);
    sr_rsa_ranks_free(&ra);
    sr_rsa_ranks_free(&rb);
  }
}

// Bootstrap sums against the explicit rule: draws p < q of different images, M[idx_p][idx_q].
static void test_boot_quad(void) {
  const int64_t n = 17, b = 9;
  float M[17 * 17];
  sr_rng rng;
  sr_rng_seed(&rng, 3, 3);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i; j < n; j++)
      M[i * n + j] = M[j * n + i] = (float)(sr_rng_normal(&rng) + (i == j ? 50 : 0));
  sr_rsa_boot bt;
  sr_err err = {0};
  CHECK_OK(sr_rsa_boot_draw(n, b, 11, &bt, &err), &err);
  double q[9];
  CHECK_OK(sr_rsa_boot_quad(&bt, M, q, &err), &err);
  int dup_seen = 0;
  for (int64_t r = 0; r < b; r++) {
    int64_t idx[17], k = 0;  // the draws of resample r, rebuilt from the counts
    for (int64_t i = 0; i < n; i++)
      for (int c = 0; c < (int)bt.C[i * b + r]; c++) idx[k++] = i;
    CHECK(k == n, "resample %lld has %lld draws", (long long)r, (long long)k);
    double want = 0, pairs = 0;
    for (int64_t p = 0; p < k; p++)
      for (int64_t s = p + 1; s < k; s++) {
        if (idx[p] == idx[s]) {
          dup_seen = 1;
          continue;
        }
        want += M[idx[p] * n + idx[s]];
        pairs += 1;
      }
    CHECK(fabs(q[r] - want) < 1e-4 * (1 + fabs(want)), "resample %lld: quad %.6f vs explicit %.6f",
          (long long)r, q[r], want);
    CHECK(bt.w[r] == pairs, "resample %lld: %g pairs vs %g", (long long)r, bt.w[r], pairs);
  }
  CHECK(dup_seen, "some resample drew an image twice (the rule was exercised)");
  sr_rsa_boot_free(&bt);
}

static void test_mantel(void) {
  sr_npy m, r;
  sr_err err = {0};
  const float *mats = load_f32("tests/fixtures/rsa/mantel_mats.npy", &m);
  CHECK_OK(sr_npy_read(sr_test_src("tests/fixtures/rsa/mantel_ref.npy"), &r, &err), &err);
  if (!mats) return;
  const int64_t n = m.shape[1], npairs = sr_rsa_pairs(n);
  const double *ref = r.data;
  const int64_t B = (int64_t)ref[2];
  float *zx = sr_alloc(sizeof(float) * (size_t)(n * n)), *zy = sr_alloc(sizeof(float) * (size_t)(n * n));
  CHECK_OK(sr_rsa_standardize(mats, n, zx, &err), &err);
  CHECK_OK(sr_rsa_standardize(mats + n * n, n, zy, &err), &err);
  double obs = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++) obs += (double)zx[i * n + j] * zy[i * n + j];
  CHECK(fabs(obs / (double)npairs - ref[0]) < 1e-6, "r from standardized matrices %.8f vs %.8f",
        obs / (double)npairs, ref[0]);
  double *perm = sr_alloc(sizeof(double) * (size_t)B);
  const float *zs[1] = {zy};
  CHECK_OK(sr_rsa_mantel_sums(&(sr_mantel){zx, zs, 1, n, B, 99}, perm, &err), &err);
  const double p = sr_rsa_mantel_p(perm, B, obs), pr = ref[1];
  const double tol = 4 * sqrt(2 * pr * (1 - pr) / (double)B);
  CHECK(fabs(p - pr) <= tol, "Mantel p %.5f vs NumPy %.5f (4 sd of the difference: %.5f)", p, pr, tol);
  // the sums themselves, for the first permutations, by brute force
  for (int64_t q = 0; q < 3; q++) {
    sr_rng rng;
    int64_t pi[25];
    sr_rng_seed(&rng, 99, 0x3a47 + (uint64_t)q);
    for (int64_t i = 0; i < n; i++) pi[i] = i;
    sr_rng_shuffle(&rng, pi, n);
    double want = 0;
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = i + 1; j < n; j++) want += (double)zy[i * n + j] * zx[pi[i] * n + pi[j]];
    CHECK(fabs(perm[q] - want) < 1e-3, "permutation %lld: %.6f vs %.6f", (long long)q, perm[q], want);
  }
  sr_free(zx);
  sr_free(zy);
  sr_free(perm);
  sr_npy_free(&m);
  sr_npy_free(&r);
}

// Mantel sums with a thresholded (3-valued, mostly 0) target, whose sums take the sparse form, against the
// dense form and a brute-force relabelling; 18 partners (two interleaved groups of up to 16).
static void test_mantel_sparse(void) {
  const int64_t n = 37, B = 9;
  const int ns = 18;
  float *T = sr_alloc(sizeof(float) * (size_t)(n * n)), *Z[18];
  sr_rng rng;
  sr_rng_seed(&rng, 8, 2);
  int64_t nonzero = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i; j < n; j++) {
      const double v = sr_rng_normal(&rng);
      T[i * n + j] = T[j * n + i] = i == j ? 1.0f : v > 1.6 ? 1.0f : v < -2.0 ? -1.0f : 0.0f;
      nonzero += i != j && T[i * n + j] != 0;
    }
  CHECK(nonzero > 0 && nonzero < sr_rsa_pairs(n) / 10, "%lld non-zero pairs", (long long)nonzero);
  for (int s = 0; s < ns; s++) {
    Z[s] = sr_alloc(sizeof(float) * (size_t)(n * n));
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = i; j < n; j++)
        Z[s][i * n + j] = Z[s][j * n + i] = i == j ? 0.0f : (float)sr_rng_normal(&rng);
  }
  double *dense = sr_alloc(sizeof(double) * (size_t)(B * ns)),
         *sparse = sr_alloc(sizeof(double) * (size_t)(B * ns));
  double *autom = sr_alloc(sizeof(double) * (size_t)(B * ns));
  sr_err err = {0};
  const float *const *zs = (const float *const *)Z;
  CHECK_OK(sr_rsa_mantel_sums_how(&(sr_mantel){T, zs, ns, n, B, 3}, SR_RSA_MANTEL_DENSE, dense, &err), &err);
  CHECK_OK(sr_rsa_mantel_sums_how(&(sr_mantel){T, zs, ns, n, B, 3}, SR_RSA_MANTEL_SPARSE, sparse, &err),
           &err);
  CHECK_OK(sr_rsa_mantel_sums(&(sr_mantel){T, zs, ns, n, B, 3}, autom, &err), &err);
  // the dense sums do not depend on how the permutations are split between threads (groups of 4 vs 3 + 3 + 3)
  double *dense3 = sr_alloc(sizeof(double) * (size_t)(B * ns));
  const int threads = omp_get_max_threads();
  omp_set_num_threads(3);
  CHECK_OK(sr_rsa_mantel_sums_how(&(sr_mantel){T, zs, ns, n, B, 3}, SR_RSA_MANTEL_DENSE, dense3, &err), &err);
  omp_set_num_threads(threads);
  CHECK(memcmp(dense, dense3, sizeof(double) * (size_t)(B * ns)) == 0,
        "dense sums depend on the thread count");
  sr_free(dense3);
  for (int64_t p = 0; p < B; p++) {
    sr_rng r;
    int64_t pi[37];
    sr_rng_seed(&r, 3, 0x3a47 + (uint64_t)p);
    for (int64_t i = 0; i < n; i++) pi[i] = i;
    sr_rng_shuffle(&r, pi, n);
    for (int s = 0; s < ns; s++) {
      double want = 0;
      for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++) want += (double)Z[s][i * n + j] * T[pi[i] * n + pi[j]];
      const size_t k = (size_t)s * (size_t)B + (size_t)p;
      CHECK(fabs(sparse[k] - want) < 1e-9, "sparse perm %lld partner %d: %.12f vs %.12f", (long long)p, s,
            sparse[k], want);
      CHECK(fabs(dense[k] - want) < 1e-4, "dense perm %lld partner %d: %.8f vs %.8f", (long long)p, s,
            dense[k], want);
      CHECK(autom[k] == sparse[k], "the automatic choice is the sparse form");
    }
  }
  for (int s = 0; s < ns; s++) sr_free(Z[s]);
  sr_free(T);
  sr_free(dense);
  sr_free(sparse);
  sr_free(autom);
}

static void test_cka_and_cosine(void) {
  sr_npy x, y, xq, r, f, c;
  sr_err err = {0};
  load_f32("tests/fixtures/rsa/cka_x.npy", &x);
  load_f32("tests/fixtures/rsa/cka_y.npy", &y);
  load_f32("tests/fixtures/rsa/cka_xq.npy", &xq);
  load_f32("tests/fixtures/rsa/cos_feats.npy", &f);
  CHECK_OK(sr_npy_read(sr_test_src("tests/fixtures/rsa/cka_ref.npy"), &r, &err), &err);
  CHECK_OK(sr_npy_read(sr_test_src("tests/fixtures/rsa/cos_ref.npy"), &c, &err), &err);
  const int64_t n = x.shape[0];
  float *K = sr_alloc(sizeof(float) * (size_t)(n * n)), *L = sr_alloc(sizeof(float) * (size_t)(n * n));
  float *Q = sr_alloc(sizeof(float) * (size_t)(n * n));
  // d features as d channels of one position: channel centring = column centring
  CHECK_OK(sr_rsa_feature_gram(x.data, n, (int)x.shape[1], 1, K, &err), &err);
  CHECK_OK(sr_rsa_feature_gram(y.data, n, (int)y.shape[1], 1, L, &err), &err);
  CHECK_OK(sr_rsa_feature_gram(xq.data, n, (int)xq.shape[1], 1, Q, &err), &err);
  CHECK_OK(sr_rsa_double_centre(K, n, &err), &err);
  CHECK_OK(sr_rsa_double_centre(L, n, &err), &err);
  CHECK_OK(sr_rsa_double_centre(Q, n, &err), &err);
  const double *ref = r.data;
  double ck = sr_rsa_cka(K, L, n), cq = sr_rsa_cka(K, Q, n);
  CHECK(fabs(ck - ref[0]) < 1e-6, "CKA %.9f vs NumPy %.9f", ck, ref[0]);
  CHECK(fabs(cq - ref[1]) < 1e-6, "CKA under a rotation %.9f vs %.9f", cq, ref[1]);
  CHECK(fabs(sr_rsa_cka(K, K, n) - 1) < 1e-9, "CKA(X, X) = %.12f", sr_rsa_cka(K, K, n));
  // the regularizer's centred cosine from a Gram
  const int64_t nf = f.shape[0];
  float *G = sr_alloc(sizeof(float) * (size_t)(nf * nf));
  CHECK_OK(sr_rsa_feature_gram(f.data, nf, (int)f.shape[1], f.shape[2], G, &err), &err);
  CHECK_OK(sr_rsa_gram_cosine(G, nf, G, &err), &err);
  double worst = 0;
  for (int64_t q = 0; q < nf * nf; q++) worst = fmax(worst, fabs(G[q] - ((const double *)c.data)[q]));
  CHECK(worst < 1e-6, "centred cosine: max difference %.3g from NumPy", worst);
  sr_free(K);
  sr_free(L);
  sr_free(Q);
  sr_free(G);
  sr_npy_free(&x);
  sr_npy_free(&y);
  sr_npy_free(&xq);
  sr_npy_free(&r);
  sr_npy_free(&f);
  sr_npy_free(&c);
}

// Synthetic model with a known population correlation: image i has z_i, w_i ~ N(0, I_d);
// A_ij = z_i.z_j, B_ij = rho z_i.z_j + sqrt(1 - rho^2) w_i.w_j. Over pairs of independent images
// Var A = Var B = d and Cov = rho d, so corr = rho exactly.
static void synth_pair(int64_t n, int d, double rho, sr_rng *rng, float *A, float *B) {
  double z[200 * 8], w[200 * 8];
  for (int64_t q = 0; q < n * d; q++) {
    z[q] = sr_rng_normal(rng);
    w[q] = sr_rng_normal(rng);
  }
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i; j < n; j++) {
      double zz = 0, ww = 0;
      for (int k = 0; k < d; k++) {
        zz += z[i * d + k] * z[j * d + k];
        ww += w[i * d + k] * w[j * d + k];
      }
      A[i * n + j] = A[j * n + i] = (float)zz;
      B[i * n + j] = B[j * n + i] = (float)(rho * zz + sqrt(1 - rho * rho) * ww);
    }
}

static void test_coverage(void) {
  const int64_t n = 80;
  const int draws = 200, d = 4;
  const double rho = 0.5;
  float *A = sr_alloc(sizeof(float) * n * n), *B = sr_alloc(sizeof(float) * n * n);
  sr_rng rng;
  sr_rng_seed(&rng, 2026, 28);
  int covered = 0;
  double width = 0;
  sr_err err = {0};
  for (int t = 0; t < draws; t++) {
    synth_pair(n, d, rho, &rng, A, B);
    const float *S[2] = {A, B};
    const int tgt[2] = {1, 0};
    sr_rsa_opts o = {.boot_b = 400, .perm_b = 0, .seed = (uint64_t)t, .level = 0.95};
    sr_rsa_pair p;
    sr_rsa_source_info info[2];
    sr_rsa_timing tm;
    sr_status st = sr_rsa_compare(&(sr_rsa_sources){S, tgt, 2, n}, &o, &p, info, &tm, &err);
    if (st) {
      CHECK(0, "compare: %s", err.msg);
      break;
    }
    covered += p.pearson.lo <= rho && rho <= p.pearson.hi;
    width += p.pearson.hi - p.pearson.lo;
  }
  printf("bootstrap coverage %d / %d (mean width %.3f)\n", covered, draws, width / draws);
  CHECK(covered >= 0.93 * draws, "the 95%% image-bootstrap CI covered rho in %d of %d draws", covered, draws);
  sr_free(A);
  sr_free(B);
}

// A "neural" matrix = pixel similarity of images + symmetric noise at a known correlation with it.
static void test_neural_recovery(void) {
  const int64_t n = 150;
  const int h = 8, w = 8;
  uint8_t *im = sr_alloc((size_t)n * h * w);
  sr_rng rng;
  sr_rng_seed(&rng, 7, 28);
  for (int64_t i = 0; i < n; i++) {  // three prototypes plus pixel noise
    int proto = (int)sr_rng_below(&rng, 3);
    for (int p = 0; p < h * w; p++) {
      double v = 128 + 60 * sin((p + 1) * (proto + 1) * 0.7) + 40 * sr_rng_normal(&rng);
      im[i * h * w + p] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
  float *P = sr_alloc(sizeof(float) * n * n), *N = sr_alloc(sizeof(float) * n * n);
  sr_err err = {0};
  CHECK_OK(sr_reg_pixel_similarity(im, n, 1, h, w, P, &err), &err);
  double mean = 0, ss = 0;
  const int64_t m = sr_rsa_pairs(n);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++) mean += P[i * n + j];
  mean /= (double)m;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++) ss += (P[i * n + j] - mean) * (P[i * n + j] - mean);
  const double rho = 0.6, sd = sqrt(ss / (double)m), sigma = sd * sqrt(1 / (rho * rho) - 1);
  for (int64_t i = 0; i < n; i++) {
    N[i * n + i] = 1;
    for (int64_t j = i + 1; j < n; j++)
      N[i * n + j] = N[j * n + i] = (float)(P[i * n + j] + sigma * sr_rng_normal(&rng));
  }
  const float *S[2] = {P, N};
  const int tgt[2] = {1, 0};
  sr_rsa_opts o = {.boot_b = 500, .perm_b = 200, .seed = 1, .level = 0.95};
  sr_rsa_pair p;
  sr_rsa_source_info info[2];
  sr_rsa_timing tm;
  CHECK_OK(sr_rsa_compare(&(sr_rsa_sources){S, tgt, 2, n}, &o, &p, info, &tm, &err), &err);
  printf("neural: r = %.4f [%.4f, %.4f] (rho %.2f), p = %.4f\n", p.pearson.r, p.pearson.lo, p.pearson.hi, rho,
         p.pearson.p);
  CHECK(p.pearson.lo <= rho && rho <= p.pearson.hi, "rho %.2f outside [%.4f, %.4f]", rho, p.pearson.lo,
        p.pearson.hi);
  CHECK(fabs(p.pearson.r - rho) < 0.03, "r %.4f far from rho %.2f", p.pearson.r, rho);
  CHECK(p.pearson.p <= 1.0 / 201 + 1e-12, "Mantel p %.4f for a strong relation", p.pearson.p);
  CHECK(p.has_ci && p.has_p && !p.has_kendall, "flags ci %d p %d kendall %d", p.has_ci, p.has_p,
        p.has_kendall);
  sr_free(im);
  sr_free(P);
  sr_free(N);
}

static void test_errors(void) {
  sr_err err = {0};
  float S[9] = {1, 2, 3, 2, 1, NAN, 3, NAN, 1}, Z[9];
  sr_rsa_ranks r;
  CHECK(sr_rsa_rank(S, 3, &r, &err) == SR_ERR_NUMERIC, "NaN rejected: %s", err.msg);
  float C[9] = {1, 0.5f, 0.5f, 0.5f, 1, 0.5f, 0.5f, 0.5f, 1};
  CHECK(sr_rsa_standardize(C, 3, Z, &err) == SR_ERR_ARG, "constant matrix rejected: %s", err.msg);
  sr_rsa_matrix m;
  CHECK(
      sr_rsa_load_matrix(sr_test_src("tests/fixtures/reg/asym.npy"), NULL, 1e-5, &m, &err) == SR_ERR_FORMAT &&
          strstr(err.msg, "not symmetric") && strstr(err.msg, "asym.npy"),
      "asymmetric file: %s", err.msg);
  CHECK(sr_rsa_load_matrix(sr_test_src("tests/fixtures/reg/bad_shape.npy"), NULL, 1e-5, &m, &err) ==
            SR_ERR_FORMAT,
        "non-square file: %s", err.msg);
}

int main(void) {
  test_scipy_stats();
  test_kendall_brute();
  test_boot_quad();
  test_mantel();
  test_mantel_sparse();
  test_cka_and_cosine();
  test_coverage();
  test_neural_recovery();
  test_errors();
  printf("%d passed, %d failed\n", sr_test_pass_, sr_test_fail_);
  return sr_test_fail_ ? 1 : 0;
}
