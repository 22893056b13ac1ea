// RSA cost at N = 5000 (SR_RSA_BENCH_N), per unit of work, wall and process CPU seconds: ranking one source,
// one Kendall tau-b, one bootstrap quadratic form with B resamples, and the Mantel sums of one target against
// P partners with B permutations (SR_RSA_BENCH_B, default 100; the cost is linear in B). Long: not in the
// default run. Checks only that the numbers are sane (r of a matrix with itself is 1, p minimal).
#include <math.h>
#include <stdlib.h>

#include "rsa/rsa_internal.h"
#include "simreg/rsa.h"
#include "sr_test.h"

static int64_t env_i64(const char *name, int64_t def) {
  const char *v = getenv(name);
  return v && *v ? strtoll(v, NULL, 10) : def;
}

int main(void) {
  const int64_t n = env_i64("SR_RSA_BENCH_N", 5000), B = env_i64("SR_RSA_BENCH_B", 100);
  const int P = 11;
  const size_t nn = (size_t)n * (size_t)n;
  float *A = sr_rsa_big_alloc(sizeof(float) * nn), *Z = sr_rsa_big_alloc(sizeof(float) * nn),
        *T = sr_rsa_big_alloc(sizeof(float) * nn);
  sr_rng rng;
  sr_rng_seed(&rng, 1, 1);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i; j < n; j++) {
      float v = i == j ? 1.0f : (float)(0.3 * sr_rng_normal(&rng));
      A[i * n + j] = A[j * n + i] = v;
      T[i * n + j] = T[j * n + i] = i == j ? 1.0f : v > 0.8f ? 1.0f : v < -0.8f ? -1.0f : 0.0f;
    }
  sr_err err = {0};
  sr_rsa_ranks ra, rt;
  double w0 = sr_now(), c0 = sr_rsa_cpu_seconds();
  CHECK_OK(sr_rsa_rank(A, n, &ra, &err), &err);
  printf("rank one source (%lld pairs): %.2f s wall, %.2f s CPU\n", (long long)ra.m, sr_now() - w0,
         sr_rsa_cpu_seconds() - c0);
  CHECK_OK(sr_rsa_rank(T, n, &rt, &err), &err);
  double tau;
  w0 = sr_now();
  c0 = sr_rsa_cpu_seconds();
  CHECK_OK(sr_rsa_kendall(&ra, &rt, &tau, &err), &err);
  printf("Kendall tau-b (continuous vs 3 values): %.2f s wall, %.2f s CPU (tau %.4f)\n", sr_now() - w0,
         sr_rsa_cpu_seconds() - c0, tau);
  CHECK_OK(sr_rsa_standardize(A, n, Z, &err), &err);
  CHECK_OK(sr_rsa_standardize(T, n, T, &err), &err);
  sr_rsa_boot bt;
  CHECK_OK(sr_rsa_boot_draw(n, B, 3, &bt, &err), &err);
  double *q = sr_alloc(sizeof(double) * (size_t)B * P);
  w0 = sr_now();
  c0 = sr_rsa_cpu_seconds();
  CHECK_OK(sr_rsa_boot_quad(&bt, Z, q, &err), &err);
  printf("bootstrap quadratic form, B = %lld: %.2f s wall, %.2f s CPU\n", (long long)B, sr_now() - w0,
         sr_rsa_cpu_seconds() - c0);
  // P distinct partners (relabelled copies of Z: same values, their own memory, as real layers have)
  float *Zp[11];
  const float *parts[11];
  for (int s = 0; s < P; s++) {
    Zp[s] = sr_rsa_big_alloc(sizeof(float) * nn);
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < n; j++) Zp[s][i * n + j] = Z[((i + s) % n) * n + (j + s) % n];
    parts[s] = Zp[s];
  }
  double *q2 = sr_alloc(sizeof(double) * (size_t)B * P);
  static const char *how_name[3] = {"auto", "dense", "sparse"};
  // a continuous target (dense), then the 3-valued one (0.8 % of pairs non-zero) dense and sparse
  const float *targets[3] = {Z, T, T};
  const int hows[3] = {SR_RSA_MANTEL_DENSE, SR_RSA_MANTEL_DENSE, SR_RSA_MANTEL_SPARSE};
  for (int c = 0; c < 3; c++) {
    w0 = sr_now();
    c0 = sr_rsa_cpu_seconds();
    CHECK_OK(
        sr_rsa_mantel_sums_how(&(sr_mantel){targets[c], parts, P, n, B, 5}, hows[c], c == 2 ? q2 : q, &err),
        &err);
    printf("Mantel sums, %s target x %d partners, B = %lld, %s: %.2f s wall, %.2f s CPU\n",
           c == 0 ? "continuous" : "3-valued", P, (long long)B, how_name[hows[c]], sr_now() - w0,
           sr_rsa_cpu_seconds() - c0);
  }
  double worst = 0;
  for (int64_t k = 0; k < B * P; k++) worst = fmax(worst, fabs(q[k] - q2[k]));
  CHECK(worst < 1e-6 * (double)ra.m, "dense and sparse Mantel sums differ by %g", worst);
  for (int s = 0; s < P; s++) sr_free(Zp[s]);
  sr_free(q2);
  CHECK(fabs(sr_rsa_pearson(A, A, n) - 1) < 1e-12, "r(A, A) = %.15f", sr_rsa_pearson(A, A, n));
  sr_rsa_boot_free(&bt);
  sr_rsa_ranks_free(&ra);
  sr_rsa_ranks_free(&rt);
  sr_free(A);
  sr_free(Z);
  sr_free(T);
  sr_free(q);
  printf("%d passed, %d failed\n", sr_test_pass_, sr_test_fail_);
  return sr_test_fail_ ? 1 : 0;
}
