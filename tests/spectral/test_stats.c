// Statistics against NumPy references (tests/spectral/gen_ref.py): Mann-Whitney U with ties, bootstrap CI
// reproduced with the same RNG stream, medians, error cases.
#include "ref_data.h"
#include "simreg/stats.h"
#include "sr_test.h"

#define LEN(a) ((int64_t)(sizeof(a) / sizeof((a)[0])))

static void check_mw(const double *x, int64_t n1, const double *y, int64_t n2, double u1, double p,
                     const char *name) {
  sr_err err = {0};
  sr_mwu r, s;
  CHECK_OK(sr_mann_whitney(x, n1, y, n2, &r, &err), &err);
  CHECK(fabs(r.u1 - u1) < 1e-9, "%s: U1 %g vs %g", name, r.u1, u1);
  CHECK(fabs(r.p - p) < 1e-12, "%s: p %.15g vs %.15g", name, r.p, p);
  CHECK(fabs(r.u1 + r.u2 - (double)n1 * n2) < 1e-9, "%s: U1 + U2 = n1 n2", name);
  CHECK_OK(sr_mann_whitney(y, n2, x, n1, &s, &err), &err);
  CHECK(fabs(s.p - r.p) < 1e-15 && fabs(s.u1 - r.u2) < 1e-9, "%s: swapping samples swaps U, keeps p", name);
}

static void test_mann_whitney(void) {
  check_mw(ref_mw0_x, LEN(ref_mw0_x), ref_mw0_y, LEN(ref_mw0_y), ref_mw0_u1, ref_mw0_p, "continuous");
  check_mw(ref_mw1_x, LEN(ref_mw1_x), ref_mw1_y, LEN(ref_mw1_y), ref_mw1_u1, ref_mw1_p, "rounded (ties)");
  check_mw(ref_mw2_x, LEN(ref_mw2_x), ref_mw2_y, LEN(ref_mw2_y), ref_mw2_u1, ref_mw2_p, "small with ties");
  // Completely separated samples of 30: U1 = 0 and p tiny but positive.
  double a[30], b[30];
  for (int i = 0; i < 30; i++) {
    a[i] = i;
    b[i] = 100 + i;
  }
  sr_err err = {0};
  sr_mwu r;
  CHECK_OK(sr_mann_whitney(a, 30, b, 30, &r, &err), &err);
  CHECK(r.u1 == 0 && r.p > 0 && r.p < 1e-9 && r.effect == 0, "separated: U1=%g p=%g", r.u1, r.p);
  double t[5] = {2, 2, 2, 2, 2};
  CHECK_OK(sr_mann_whitney(t, 3, t, 5, &r, &err), &err);
  CHECK(r.p == 1 && r.u1 == 7.5, "all tied: p=%g U1=%g", r.p, r.u1);
  CHECK(sr_mann_whitney(a, 0, b, 3, &r, &err) == SR_ERR_ARG, "empty sample");
  a[3] = INFINITY;
  CHECK(sr_mann_whitney(a, 30, b, 30, &r, &err) == SR_ERR_NUMERIC, "non-finite value");
}

static void test_bootstrap(void) {
  sr_err err = {0};
  sr_rng rng;
  sr_rng_seed(&rng, 7, 3);
  sr_ci ci;
  CHECK_OK(sr_bootstrap_median(ref_boot_x, LEN(ref_boot_x), 300, 0.95, &rng, &ci, &err), &err);
  CHECK(fabs(ci.estimate - ref_boot_est) < 1e-15, "median %.17g vs %.17g", ci.estimate, ref_boot_est);
  CHECK(fabs(ci.lo - ref_boot_lo) < 1e-14 && fabs(ci.hi - ref_boot_hi) < 1e-14,
        "CI [%.17g, %.17g] vs NumPy [%.17g, %.17g]", ci.lo, ci.hi, ref_boot_lo, ref_boot_hi);
  CHECK(ci.lo <= ci.estimate && ci.estimate <= ci.hi, "estimate inside its interval");
  sr_ci again;
  sr_rng_seed(&rng, 7, 3);
  CHECK_OK(sr_bootstrap_median(ref_boot_x, LEN(ref_boot_x), 300, 0.95, &rng, &again, &err), &err);
  CHECK(again.lo == ci.lo && again.hi == ci.hi, "same seed, same interval");
  // The interval shrinks like 1/sqrt(n): 16x the data -> about a quarter of the width.
  double small[50], big[800];
  sr_rng g;
  sr_rng_seed(&g, 1, 0);
  for (int i = 0; i < 800; i++) big[i] = sr_rng_normal(&g);
  for (int i = 0; i < 50; i++) small[i] = big[i];
  sr_ci cs, cb;
  CHECK_OK(sr_bootstrap_median(small, 50, 1000, 0.95, &rng, &cs, &err), &err);
  CHECK_OK(sr_bootstrap_median(big, 800, 1000, 0.95, &rng, &cb, &err), &err);
  double ratio = (cb.hi - cb.lo) / (cs.hi - cs.lo);
  CHECK(ratio > 0.12 && ratio < 0.45, "width ratio %g, expected about 0.25", ratio);
  // For the standard normal the median's 95%% interval half-width is about 1.96 * 1.2533 / sqrt(n).
  double want = 1.96 * 1.2533 / sqrt(800.0), half = (cb.hi - cb.lo) / 2;
  CHECK(half > 0.7 * want && half < 1.3 * want, "half-width %g vs theory %g", half, want);
  CHECK(sr_bootstrap_median(big, 0, 100, 0.95, &rng, &cb, &err) == SR_ERR_ARG, "empty");
  CHECK(sr_bootstrap_median(big, 10, 1, 0.95, &rng, &cb, &err) == SR_ERR_ARG, "B < 2");
  CHECK(sr_bootstrap_median(big, 10, 100, 1.0, &rng, &cb, &err) == SR_ERR_ARG, "level 1");
}

static void test_median_quantile(void) {
  double x[] = {5, 1, 4, 2, 3}, m;
  sr_err err = {0};
  CHECK_OK(sr_median(x, 5, &m, &err), &err);
  CHECK(m == 3, "odd median %g", m);
  CHECK_OK(sr_median(x, 4, &m, &err), &err);
  CHECK(m == 3, "even median of 5,1,4,2 = %g", m);
  double s[] = {0, 10, 20, 30};
  CHECK(fabs(sr_quantile_sorted(s, 4, 0.5) - 15) < 1e-12 && sr_quantile_sorted(s, 4, 1) == 30 &&
            fabs(sr_quantile_sorted(s, 4, 0.025) - 0.75) < 1e-12,
        "linear quantiles");
  x[2] = NAN;
  CHECK(sr_median(x, 5, &m, &err) == SR_ERR_NUMERIC, "NaN median rejected");
}

int main(void) {
  test_mann_whitney();
  test_bootstrap();
  test_median_quantile();
  return sr_test_done();
}
