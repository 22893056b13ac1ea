// The verdict rules on synthetic inputs: for each claim a clear effect (supports), no effect (inconclusive)
// and an opposite effect (contradicts); McNemar's exact p against hand-computed binomial sums.
#include "simreg/spectral.h"
#include "simreg/verdict.h"
#include "sr_test.h"

#define NIMG 2000

static void test_mcnemar(void) {
  CHECK(fabs(sr_mcnemar_p(0, 10) - 2.0 / 1024) < 1e-15, "b=0,c=10: %g", sr_mcnemar_p(0, 10));
  CHECK(fabs(sr_mcnemar_p(3, 12) - 2.0 * 576 / 32768) < 1e-12, "b=3,c=12: %g", sr_mcnemar_p(3, 12));
  CHECK(sr_mcnemar_p(12, 3) == sr_mcnemar_p(3, 12), "symmetric");
  CHECK(sr_mcnemar_p(5, 5) == 1 && sr_mcnemar_p(0, 0) == 1, "no discordance: p = 1");
  CHECK(sr_mcnemar_p(400, 600) < 1e-9 && sr_mcnemar_p(400, 600) > 0, "large samples stay finite: %g",
        sr_mcnemar_p(400, 600));
}

// base: image i correct when i % 2 == 0 (accuracy 0.5); run = base with `gain` images flipped to correct and
// `loss` flipped to wrong.
static void make_pair(uint8_t *a, uint8_t *b, int gain, int loss) {
  for (int i = 0; i < NIMG; i++) a[i] = b[i] = i % 2 == 0;
  for (int i = 0; i < gain; i++) b[2 * i + 1] = 1;
  for (int i = 0; i < loss; i++) b[2 * i] = 0;
}

static sr_verdict_word accuracy_word(int gain, int loss, int cost) {
  static uint8_t a[NIMG], b[NIMG];
  make_pair(a, b, gain, loss);
  sr_paired01 p = {.a = a, .b = b, .n = NIMG, .reps = 1};
  sr_rng rng;
  sr_rng_seed(&rng, 3, 0);
  sr_err err = {0};
  sr_verdict v = {0};
  CHECK_OK(sr_verdict_accuracy(&p, cost, 1000, &rng, &v, &err), &err);
  double want = cost ? (0.5 + (gain - loss) / (double)NIMG) / 0.5 : (gain - loss) / (double)NIMG;
  CHECK(fabs(v.effect.estimate - want) < 1e-12, "effect %g, want %g", v.effect.estimate, want);
  CHECK(v.effect.lo <= v.effect.estimate && v.effect.estimate <= v.effect.hi, "estimate inside its CI");
  return v.word;
}

static void test_accuracy(void) {
  CHECK(accuracy_word(300, 0, 0) == SR_VERDICT_SUPPORTS, "a +15 point gain supports");
  CHECK(accuracy_word(50, 50, 0) == SR_VERDICT_INCONCLUSIVE, "no net effect is inconclusive");
  CHECK(accuracy_word(0, 300, 0) == SR_VERDICT_CONTRADICTS, "a 15 point loss contradicts");
  CHECK(accuracy_word(0, 20, 1) == SR_VERDICT_SUPPORTS, "clean ratio 0.98 supports (keeps >= 0.9x)");
  CHECK(accuracy_word(0, 400, 1) == SR_VERDICT_CONTRADICTS, "clean ratio 0.6 contradicts");
  CHECK(accuracy_word(0, 100, 1) == SR_VERDICT_INCONCLUSIVE, "clean ratio 0.9 is on the line: inconclusive");
  // repeats: two draws per image, the layout r * n + i
  static uint8_t a[2 * NIMG], b[2 * NIMG];
  make_pair(a, b, 300, 0);
  make_pair(a + NIMG, b + NIMG, 300, 0);
  sr_paired01 p = {.a = a, .b = b, .n = NIMG, .reps = 2};
  int64_t oa, ob;
  sr_paired_discordant(&p, &oa, &ob);
  CHECK(oa == 0 && ob == 600, "discordant pairs over both draws: %lld %lld", (long long)oa, (long long)ob);
}

static sr_verdict_word distance_word(double factor, int converged, sr_verdict *v) {
  double base[200], run[200];
  sr_rng rng;
  sr_rng_seed(&rng, 5, 0);
  for (int i = 0; i < 200; i++) {
    base[i] = exp(sr_rng_normal(&rng));
    run[i] = factor * exp(sr_rng_normal(&rng));
  }
  sr_err err = {0};
  memset(v, 0, sizeof *v);
  CHECK_OK(
      sr_verdict_distance(&(sr_values){base, 200}, &(sr_values){run, 200}, converged, 1000, &rng, v, &err),
      &err);
  return v->word;
}

static void test_distance(void) {
  sr_verdict v;
  CHECK(distance_word(4, 1, &v) == SR_VERDICT_SUPPORTS, "4x larger distances support (ratio %g, p %g)",
        v.effect.estimate, v.p);
  CHECK(v.effect.lo > 2 && v.p < 1e-6, "ratio CI [%g, %g]", v.effect.lo, v.effect.hi);
  CHECK(distance_word(1, 1, &v) == SR_VERDICT_INCONCLUSIVE, "same distribution: inconclusive (p %g)", v.p);
  CHECK(distance_word(0.25, 1, &v) == SR_VERDICT_CONTRADICTS, "4x smaller distances contradict");
  CHECK(distance_word(4, 0, &v) == SR_VERDICT_INCONCLUSIVE && v.note[0],
        "not converged: inconclusive with a note");
}

static void spectrum_of(sr_spectrum *s, double *hi, double *tot, double share, sr_rng *rng) {
  for (int i = 0; i < 300; i++) {
    tot[i] = 1 + sr_rng_uniform(rng);
    hi[i] = tot[i] * (share + 0.1 * (sr_rng_uniform(rng) - 0.5));
  }
  static double dc[300];  // no mean shift in these sets
  memset(s, 0, sizeof *s);
  s->n = 300;
  s->img_high = hi;
  s->img_total = tot;
  s->img_dc = dc;
  int64_t idx[300];
  for (int i = 0; i < 300; i++) idx[i] = i;
  s->hf_share = sr_spectrum_hf_share_of(s, idx, 300);
}

static sr_verdict_word hf_word(double base_share, double run_share) {
  static double h1[300], t1[300], h2[300], t2[300];
  sr_rng rng;
  sr_rng_seed(&rng, 9, 0);
  sr_spectrum a, b;
  spectrum_of(&a, h1, t1, base_share, &rng);
  spectrum_of(&b, h2, t2, run_share, &rng);
  sr_ci d;
  sr_err err = {0};
  CHECK_OK(sr_spectrum_share_diff_ci(&a, &b, SR_SHARE_HF, &(sr_boot_opts){1000, 0.95, &rng}, &d, &err), &err);
  CHECK(fabs(d.estimate - (b.hf_share - a.hf_share)) < 1e-15 && d.lo <= d.estimate && d.estimate <= d.hi,
        "HF CI");
  return sr_verdict_reduction(&d, 0);
}

static void test_spectrum(void) {
  CHECK(hf_word(0.35, 0.30) == SR_VERDICT_SUPPORTS, "less high-frequency power supports");
  CHECK(hf_word(0.35, 0.35) == SR_VERDICT_INCONCLUSIVE, "the same share is inconclusive");
  CHECK(hf_word(0.30, 0.35) == SR_VERDICT_CONTRADICTS, "more high-frequency power contradicts");
  sr_ci nan_ci = {.estimate = NAN, .lo = NAN, .hi = NAN};
  CHECK(sr_verdict_reduction(&nan_ci, 0) == SR_VERDICT_NOT_MEASURED, "no interval: not measured");
  CHECK(!strcmp(sr_verdict_name(SR_VERDICT_SUPPORTS), "supports"), "names");
}

int main(void) {
  test_mcnemar();
  test_accuracy();
  test_distance();
  test_spectrum();
  return sr_test_done();
}
