// User-supplied targets (tests/fixtures/reg/*.npy, written by gen_reg_fixtures.py): a valid matrix with
// .npy or text indices loads exactly; each malformed input fails with its status and a message naming the
// file and the fault.
#include "reg_fixture.h"
#include "simreg/npy.h"
#include "simreg/reg.h"

static char *fix(const char *name) {
  static char buf[4][4096];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s", sr_test_src(name));
  return buf[k];
}

static void expect_fail(const char *npy, const char *idx, sr_status code, const char *needle) {
  sr_err err = {0};
  sr_reg_target t;
  sr_status st = sr_reg_target_from_file(fix(npy), fix(idx), 60000, &t, &err);
  printf("  %-32s -> %s: %s\n", npy, sr_status_name(st), err.msg);
  CHECK(st == code && strstr(err.msg, needle), "%s: want %s with '%s', got %s: %s", npy, sr_status_name(code),
        needle, sr_status_name(st), err.msg);
  CHECK(t.S == NULL && t.idx == NULL, "%s: nothing left allocated", npy);
  sr_reg_target_free(&t);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  sr_err err = {0};
  sr_npy good;
  if (sr_npy_read(sr_test_src("tests/fixtures/reg/good.npy"), &good, &err)) {
    CHECK(0, "%s", err.msg);
    return sr_test_done();
  }
  static const char *idx_files[] = {"tests/fixtures/reg/idx.npy", "tests/fixtures/reg/idx.txt"};
  static const char *mats[] = {"tests/fixtures/reg/good.npy", "tests/fixtures/reg/good_f32.npy"};
  static const int64_t want_idx[6] = {5, 0, 17, 3, 99, 42};
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) {
      sr_reg_target t;
      CHECK_OK(sr_reg_target_from_file(fix(mats[a]), fix(idx_files[b]), 100, &t, &err), &err);
      if (!t.S) continue;
      double md = 0;
      for (int q = 0; q < 36; q++) md = fmax(md, fabs(t.S[q] - ((const double *)good.data)[q]));
      CHECK(t.n == 6 && md < 1e-7 && !memcmp(t.idx, want_idx, sizeof want_idx) && t.kind == SR_REG_FILE &&
                t.n_pairs == 15,
            "%s + %s: n %lld, max diff %.2e", mats[a], idx_files[b], (long long)t.n, md);
      sr_reg_target_free(&t);
    }
  sr_npy_free(&good);
  printf("malformed inputs:\n");
  const char *I = "tests/fixtures/reg/idx.npy";
  expect_fail("tests/fixtures/reg/bad_shape.npy", I, SR_ERR_FORMAT, "square, got 6 x 5");
  expect_fail("tests/fixtures/reg/nan.npy", I, SR_ERR_FORMAT, "S[2][4] = nan is not finite");
  expect_fail("tests/fixtures/reg/asym.npy", I, SR_ERR_FORMAT, "not symmetric: S[1][3]");
  expect_fail("tests/fixtures/reg/big.npy", I, SR_ERR_FORMAT, "S[3][5] = 1.2 is outside [-1, 1]");
  expect_fail("tests/fixtures/reg/diag.npy", I, SR_ERR_FORMAT, "diagonal S[2][2] = 0.9");
  expect_fail("tests/fixtures/reg/int.npy", I, SR_ERR_FORMAT, "float32 or float64, got int32");
  expect_fail("tests/fixtures/reg/trunc.npy", I, SR_ERR_FORMAT, "trunc.npy");
  expect_fail("tests/fixtures/reg/good.npy", "tests/fixtures/reg/idx_range.npy", SR_ERR_ARG,
              "index 60000 (entry 4)");
  expect_fail("tests/fixtures/reg/good.npy", "tests/fixtures/reg/good.npy", SR_ERR_FORMAT,
              "1-D int32 or int64");
  expect_fail("tests/fixtures/reg/missing.npy", I, SR_ERR_IO, "missing.npy");
  expect_fail("tests/fixtures/reg/good.npy", "tests/fixtures/gen_reg_fixtures.py", SR_ERR_FORMAT,
              "is not an integer");
  return sr_test_done();
}
