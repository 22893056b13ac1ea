// pixelate and jpeg_compression against Pillow's own output (the reference generator calls PIL for
// both): fixtures from tests/fixtures/corrupt/make_pil_fixtures.py.
#include "simreg/corrupt.h"
#include "simreg/npy.h"
#include "sr_test.h"

// Compare one fixture family; returns the max abs difference over all images and severities.
static int compare(const char *set, const char *what, sr_corruption kind, double *frac_exact) {
  char path[256];
  sr_err err = {0};
  sr_npy in, ref;
  snprintf(path, sizeof path, "tests/fixtures/corrupt/pil_%s_input.npy", set);
  CHECK_OK(sr_npy_read(sr_test_src(path), &in, &err), &err);
  snprintf(path, sizeof path, "tests/fixtures/corrupt/pil_%s_%s.npy", set, what);
  CHECK_OK(sr_npy_read(sr_test_src(path), &ref, &err), &err);
  if (err.code) return 999;
  int n = (int)in.shape[0], h = (int)in.shape[1], w = (int)in.shape[2], c = (int)in.shape[3];
  CHECK(ref.ndim == 5 && ref.shape[0] == 5 && ref.shape[1] == n, "%s fixture shape", path);
  size_t per = (size_t)c * h * w;
  uint8_t *chw = malloc(per), *out = malloc(per);
  int maxd = 0;
  size_t exact = 0, total = 0;
  for (int i = 0; i < n; i++) {
    const uint8_t *src = (const uint8_t *)in.data + i * per;
    for (int ch = 0; ch < c; ch++)
      for (int p = 0; p < h * w; p++) chw[(size_t)ch * h * w + p] = src[(size_t)p * c + ch];
    for (int s = 1; s <= 5; s++) {
      sr_rng r;
      sr_rng_seed(&r, 0, 0);
      CHECK_OK(sr_corrupt_apply(&(sr_u8_images){.px = chw, .n = 1, .c = c, .h = h, .w = w}, kind, s, &r, out,
                                &err),
               &err);
      const uint8_t *want = (const uint8_t *)ref.data + ((size_t)(s - 1) * n + i) * per;
      for (int ch = 0; ch < c; ch++)
        for (int p = 0; p < h * w; p++) {
          int d = abs((int)out[(size_t)ch * h * w + p] - (int)want[(size_t)p * c + ch]);
          maxd = d > maxd ? d : maxd;
          exact += d == 0;
          total++;
        }
    }
  }
  *frac_exact = (double)exact / (double)total;
  free(chw);
  free(out);
  sr_npy_free(&in);
  sr_npy_free(&ref);
  return maxd;
}

int main(void) {
  const char *sets[2] = {"rgb", "gray"};
  for (int k = 0; k < 2; k++) {
    double exact;
    int d = compare(sets[k], "jpeg", SR_JPEG_COMPRESSION, &exact);
    printf("jpeg %s: max diff %d, %.4f exact\n", sets[k], d, exact);
    CHECK(d == 0, "jpeg_compression (%s) must equal PIL's save/open bytes: max diff %d", sets[k], d);
    d = compare(sets[k], "pixelate", SR_PIXELATE, &exact);
    printf("pixelate %s: max diff %d, %.4f exact\n", sets[k], d, exact);
    CHECK(d <= 1 && exact > 0.999, "pixelate (%s) vs PIL BOX: max diff %d, %.4f exact", sets[k], d, exact);
  }
  return sr_test_done();
}
