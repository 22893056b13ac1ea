// Target construction against NumPy (tests/fixtures/reg.safetensors, tgt*): S^pix, S^Th, the four subset
// masks, subset values; the cache (hit, identical result, corrupt file rebuilt); uniform pair sampling.
#include <stdlib.h>

#include "reg_fixture.h"
#include "simreg/npy.h"
#include "simreg/reg.h"

static int mask_bit(const sr_reg_target *t, int64_t i, int64_t j) {
  return (int)((t->mask[(size_t)i * (size_t)t->words + (size_t)(j >> 6)] >> (j & 63)) & 1);
}

static void check_case(const sr_st_file *f, const char *tag, int n, int c, int h, int w) {
  char key[128];
  sr_err err = {0};
  printf("%s: %d images %dx%dx%d\n", tag, n, c, h, w);
  snprintf(key, sizeof key, "%s.images", tag);
  const uint8_t *im = rx_get(f, key, SR_U8, (int64_t)n * c * h * w);
  snprintf(key, sizeof key, "%s.th", tag);
  const double *thp = rx_f64(f, key, 1);
  snprintf(key, sizeof key, "%s.S_pix", tag);
  const double *spix = rx_f64(f, key, (int64_t)n * n);
  snprintf(key, sizeof key, "%s.S_th", tag);
  const double *sth = rx_f64(f, key, (int64_t)n * n);
  if (!im || !thp || !spix || !sth) return;
  const double th = *thp;

  sr_reg_target t;
  sr_reg_target_opts o = {.kind = SR_REG_PIXEL, .th = th};
  CHECK_OK(sr_reg_target_build(&o, &(sr_u8_images){im, n, c, h, w}, NULL, &t, &err), &err);
  double md = 0;
  for (int64_t q = 0; t.S && q < (int64_t)n * n; q++) md = fmax(md, fabs(t.S[q] - spix[q]));
  printf("  pixel: max |S - numpy| = %.2e, %lld pairs\n", md, (long long)t.n_pairs);
  CHECK(t.S && md <= 1e-6, "S^pix differs from NumPy by %.3e", md);
  CHECK(t.mask == NULL && t.n_pairs == (int64_t)n * (n - 1) / 2, "pixel target uses all pairs");
  for (int i = 0; t.idx && i < n; i++) CHECK(t.idx[i] == i, "idx[%d] = %lld", i, (long long)t.idx[i]);
  sr_reg_target_free(&t);

  o.kind = SR_REG_THRESHOLD;
  CHECK_OK(sr_reg_target_build(&o, &(sr_u8_images){im, n, c, h, w}, NULL, &t, &err), &err);
  int64_t bad = 0, counts[3] = {0};
  for (int64_t q = 0; t.S && q < (int64_t)n * n; q++) {
    bad += t.S[q] != (float)sth[q];
    counts[(int)sth[q] + 1]++;
  }
  printf("  threshold %.2f: %lld mismatches; values -1/0/+1: %lld/%lld/%lld\n", th, (long long)bad,
         (long long)counts[0], (long long)counts[1], (long long)counts[2]);
  CHECK(t.S && bad == 0, "S^Th differs from NumPy in %lld entries", (long long)bad);
  CHECK(counts[0] > 0 && counts[2] > n, "the fixture should have both strongly similar and dissimilar pairs");
  sr_reg_target_free(&t);

  static const char *subsets[] = {"high", "low", "positive", "negative"};
  static const sr_reg_kind kinds[] = {SR_REG_HIGH, SR_REG_LOW, SR_REG_POSITIVE, SR_REG_NEGATIVE};
  for (int s = 0; s < 4; s++)
    for (int values_th = 0; values_th < 2; values_th++) {
      snprintf(key, sizeof key, "%s.mask_%s", tag, subsets[s]);
      const uint8_t *m = rx_get(f, key, SR_U8, (int64_t)n * n);
      o = (sr_reg_target_opts){.kind = kinds[s], .th = th, .subset_thresholded = values_th};
      if (!m || sr_reg_target_build(&o, &(sr_u8_images){im, n, c, h, w}, NULL, &t, &err)) {
        CHECK(0, "%s: %s", subsets[s], err.msg);
        continue;
      }
      int64_t wrong = 0, count = 0, badval = 0;
      for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
          int want = m[i * n + j];
          count += want;
          wrong += j > i ? mask_bit(&t, i, j) != want : want;
          float v = t.S[i * n + j];
          badval += values_th ? v != (float)sth[i * n + j] : fabs(v - spix[i * n + j]) > 1e-6;
        }
      printf("  %-8s (values %s): %lld pairs, %lld mask mismatches, %lld value mismatches\n", subsets[s],
             values_th ? "S^Th" : "S^pix", (long long)t.n_pairs, (long long)wrong, (long long)badval);
      CHECK(wrong == 0 && t.n_pairs == count && count > 0, "%s mask", subsets[s]);
      CHECK(badval == 0, "%s values", subsets[s]);
      // Sampled pairs always come from the subset.
      sr_rng rng;
      sr_rng_seed(&rng, 7, (uint64_t)s);
      int64_t pi[16], pj[16], outside = 0;
      for (int rep = 0; rep < 200; rep++) {
        sr_reg_sample_pairs(&t, 16, &rng, pi, pj);
        for (int p = 0; p < 16; p++) outside += !(pi[p] < pj[p] && pj[p] < n && m[pi[p] * n + pj[p]]);
      }
      CHECK(outside == 0, "%s: %lld sampled pairs outside the subset", subsets[s], (long long)outside);
      sr_reg_target_free(&t);
    }
}

// Chi-square of sampled pair frequencies against uniform over the allowed pairs (subset and all pairs).
static void check_uniform(const sr_st_file *f) {
  const uint8_t *im = rx_get(f, "tgt1.images", SR_U8, 30 * 35);
  if (!im) return;
  sr_err err = {0};
  for (int kind = 0; kind < 2; kind++) {
    sr_reg_target t;
    sr_reg_target_opts o = {.kind = kind ? SR_REG_HIGH : SR_REG_PIXEL, .th = 0.8};
    CHECK_OK(sr_reg_target_build(&o, &(sr_u8_images){im, kind ? 30 : 7, 1, 7, 5}, NULL, &t, &err), &err);
    if (!t.S) continue;
    int64_t n = t.n, *cnt = calloc((size_t)(n * n), sizeof *cnt), pi[50], pj[50];
    sr_rng rng;
    sr_rng_seed(&rng, 3, 0);
    const int64_t draws = 200 * t.n_pairs;
    for (int64_t d = 0; d < draws; d += 50) {
      sr_reg_sample_pairs(&t, 50, &rng, pi, pj);
      for (int p = 0; p < 50; p++) cnt[pi[p] * n + pj[p]]++;
    }
    double chi2 = 0, e = (double)draws / (double)t.n_pairs;
    int64_t cells = 0;
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = i + 1; j < n; j++)
        if (!t.mask || mask_bit(&t, i, j)) {
          chi2 += (cnt[i * n + j] - e) * (cnt[i * n + j] - e) / e;
          cells++;
        }
    // chi2 with cells-1 dof: mean cells-1, sd sqrt(2(cells-1)); 5 sd is far outside chance
    double dof = (double)cells - 1, z = (chi2 - dof) / sqrt(2 * dof);
    printf("uniformity (%s, %lld pairs, %lld draws): chi2 %.1f on %.0f dof (z = %.2f)\n",
           kind ? "high subset" : "all pairs", (long long)t.n_pairs, (long long)draws, chi2, dof, z);
    CHECK(cells == t.n_pairs && fabs(z) < 5, "pair sampling not uniform: z = %.2f", z);
    free(cnt);
    sr_reg_target_free(&t);
  }
}

static void check_cache(const sr_st_file *f) {
  const uint8_t *im = rx_get(f, "tgt3.images", SR_U8, 40 * 3 * 64);
  if (!im) return;
  sr_err err = {0};
  const char *dir = fx_tmp("reg_cache_test");
  sr_reg_target a, b, c;
  sr_reg_target_opts o = {.kind = SR_REG_POSITIVE, .th = 0.5, .subset_thresholded = 1};
  char path[4200];
  CHECK_OK(sr_reg_target_build(&o, &(sr_u8_images){im, 40, 3, 8, 8}, dir, &a, &err), &err);
  snprintf(path, sizeof path, "%s/reg-%016llx.npy", dir, (unsigned long long)a.key);
  remove(path);  // a previous run's file: start cold
  sr_reg_target_free(&a);
  CHECK_OK(sr_reg_target_build(&o, &(sr_u8_images){im, 40, 3, 8, 8}, dir, &a, &err), &err);
  CHECK_OK(sr_reg_target_build(&o, &(sr_u8_images){im, 40, 3, 8, 8}, dir, &b, &err), &err);
  CHECK(!a.from_cache && b.from_cache, "second build should come from the cache (%d, %d)", a.from_cache,
        b.from_cache);
  CHECK(a.S && b.S && !memcmp(a.S, b.S, sizeof(float) * 1600) && b.n_pairs == a.n_pairs &&
            !memcmp(a.mask, b.mask, sizeof(uint64_t) * 40 * (size_t)a.words),
        "cached target differs");
  // Other inputs, other keys: th, the values flag, the kind and one pixel all change the key.
  uint64_t keys[5] = {a.key};
  sr_reg_target_opts vars[3] = {
      {SR_REG_POSITIVE, 0.51, 1}, {SR_REG_POSITIVE, 0.5, 0}, {SR_REG_NEGATIVE, 0.5, 1}};
  for (int v = 0; v < 3; v++) {
    CHECK_OK(sr_reg_target_build(&vars[v], &(sr_u8_images){im, 40, 3, 8, 8}, NULL, &c, &err), &err);
    keys[v + 1] = c.key;
    sr_reg_target_free(&c);
  }
  uint8_t *im2 = malloc(40 * 3 * 64);
  memcpy(im2, im, 40 * 3 * 64);
  im2[1000] ^= 1;
  CHECK_OK(sr_reg_target_build(&o, &(sr_u8_images){im2, 40, 3, 8, 8}, NULL, &c, &err), &err);
  keys[4] = c.key;
  sr_reg_target_free(&c);
  for (int x = 0; x < 5; x++)
    for (int y = x + 1; y < 5; y++) CHECK(keys[x] != keys[y], "keys %d and %d collide", x, y);
  // A corrupt cache file is rebuilt, not trusted.
  CHECK(sr_write_file_atomic(path, "garbage", 7, &err) == SR_OK, "%s", err.msg);
  sr_reg_target_free(&b);
  CHECK_OK(sr_reg_target_build(&o, &(sr_u8_images){im, 40, 3, 8, 8}, dir, &b, &err), &err);
  CHECK(!b.from_cache && b.S && !memcmp(a.S, b.S, sizeof(float) * 1600), "corrupt cache should be rebuilt");
  sr_npy chk;
  CHECK(sr_npy_read(path, &chk, &err) == SR_OK && chk.ndim == 2, "cache file rewritten: %s", err.msg);
  sr_npy_free(&chk);
  free(im2);
  sr_reg_target_free(&a);
  sr_reg_target_free(&b);
}

static void check_errors(const sr_st_file *f) {
  const uint8_t *im = rx_get(f, "tgt1.images", SR_U8, 30 * 35);
  if (!im) return;
  sr_err err = {0};
  sr_reg_target t;
  sr_reg_target_opts o = {.kind = SR_REG_HIGH, .th = 0.999};
  CHECK(sr_reg_target_build(&o, &(sr_u8_images){im, 30, 1, 7, 5}, NULL, &t, &err) == SR_ERR_ARG &&
            strstr(err.msg, "no pair"),
        "empty subset: %s", err.msg);
  sr_reg_target_free(&t);
  o = (sr_reg_target_opts){.kind = SR_REG_THRESHOLD, .th = 1.0};
  CHECK(sr_reg_target_build(&o, &(sr_u8_images){im, 30, 1, 7, 5}, NULL, &t, &err) == SR_ERR_ARG,
        "th 1 rejected");
  sr_reg_target_free(&t);
  o.th = 0.5;
  CHECK(sr_reg_target_build(&o, &(sr_u8_images){im, 1, 1, 7, 5}, NULL, &t, &err) == SR_ERR_ARG,
        "one image rejected");
  sr_reg_target_free(&t);
  sr_reg_kind k;
  CHECK(sr_reg_kind_parse("negative", &k, &err) == SR_OK && k == SR_REG_NEGATIVE, "parse negative");
  CHECK(sr_reg_kind_parse("hgh", &k, &err) == SR_ERR_ARG && strstr(err.msg, "hgh"),
        "parse error names the value");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  sr_st_file f;
  if (fx_open("reg.safetensors", &f)) return sr_test_done();
  check_case(&f, "tgt3", 40, 3, 8, 8);
  check_case(&f, "tgt1", 30, 1, 7, 5);
  check_uniform(&f);
  check_cache(&f);
  check_errors(&f);
  sr_st_free(&f);
  return sr_test_done();
}
