// Resizing regularization images: bilinear against torch.nn.functional.interpolate (align_corners=False),
// gray conversion, area against torch's "area" at an integer factor; area at non-integer factors keeps a
// constant image constant and the image mean (up to rounding).
#include <stdlib.h>

#include "reg_fixture.h"
#include "simreg/reg.h"

// |ours - round(torch)|: ours is rounded, so it must lie within 0.5 (+ float slack) of torch's real value.
static void against(const char *what, const uint8_t *got, const double *want, int64_t n) {
  if (!want) return;
  double md = 0;
  for (int64_t i = 0; i < n; i++) md = fmax(md, fabs(got[i] - want[i]));
  printf("  %-34s max |ours - torch| = %.4f (rounding: <= 0.5)\n", what, md);
  CHECK(md <= 0.5 + 1e-9, "%s: %.4f", what, md);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  sr_st_file f;
  if (fx_open("reg.safetensors", &f)) return sr_test_done();
  sr_err err = {0};
  const uint8_t *src = rx_get(&f, "rs.src", SR_U8, 2 * 3 * 9 * 7),
                *src28 = rx_get(&f, "rs.src28", SR_U8, 28 * 28);
  uint8_t out[2 * 3 * 20 * 11];
  if (src) {
    CHECK_OK(sr_reg_resize_images(&(sr_u8_images){src, 2, 3, 9, 7}, 3, 5, 4, SR_RESIZE_BILINEAR, out, &err),
             &err);
    against("bilinear 9x7 -> 5x4, RGB", out, rx_f64(&f, "rs.bilinear_5x4", 2 * 3 * 20), 2 * 3 * 20);
    CHECK_OK(sr_reg_resize_images(&(sr_u8_images){src, 2, 3, 9, 7}, 1, 20, 11, SR_RESIZE_BILINEAR, out, &err),
             &err);
    against("bilinear 9x7 -> 20x11, gray", out, rx_f64(&f, "rs.bilinear_gray_20x11", 2 * 220), 2 * 220);
  }
  if (src28) {
    CHECK_OK(sr_reg_resize_images(&(sr_u8_images){src28, 1, 1, 28, 28}, 1, 14, 7, SR_RESIZE_AREA, out, &err),
             &err);
    against("area 28x28 -> 14x7", out, rx_f64(&f, "rs.area_14x7", 98), 98);
    // 28 -> 32 and 28 -> 20 (non-integer): the mean survives
    static uint8_t big[32 * 32];
    for (int oh = 20; oh <= 32; oh += 12) {
      CHECK_OK(
          sr_reg_resize_images(&(sr_u8_images){src28, 1, 1, 28, 28}, 1, oh, oh, SR_RESIZE_AREA, big, &err),
          &err);
      double m0 = 0, m1 = 0;
      for (int i = 0; i < 28 * 28; i++) m0 += src28[i];
      for (int i = 0; i < oh * oh; i++) m1 += big[i];
      m0 /= 28 * 28;
      m1 /= oh * oh;
      printf("  area 28 -> %d: mean %.3f -> %.3f\n", oh, m0, m1);
      CHECK(fabs(m0 - m1) < 0.5, "area resize to %d changed the mean %.3f -> %.3f", oh, m0, m1);
    }
  }
  uint8_t flat[3 * 10 * 10], o2[17 * 13];
  memset(flat, 77, sizeof flat);
  for (int mode = 0; mode < 2; mode++) {
    CHECK_OK(
        sr_reg_resize_images(&(sr_u8_images){flat, 1, 3, 10, 10}, 1, 17, 13, (sr_resize_mode)mode, o2, &err),
        &err);
    int ok = 1;
    for (int i = 0; i < 17 * 13; i++) ok &= o2[i] == 77;
    CHECK(ok, "constant image stays constant (mode %d)", mode);
  }
  CHECK(sr_reg_resize_images(&(sr_u8_images){flat, 1, 3, 10, 10}, 2, 5, 5, SR_RESIZE_AREA, o2, &err) ==
            SR_ERR_ARG,
        "2 of 3 channels rejected");
  sr_st_free(&f);
  return sr_test_done();
}
