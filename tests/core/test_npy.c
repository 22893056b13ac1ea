// .npy: round trips for every dtype, NumPy-compatible headers, and rejection of malformed files.
#include <unistd.h>

#include "simreg/npy.h"
#include "sr_test.h"

static char dir[] = "/tmp/sr_npy_XXXXXX";

static const char *tmp(const char *name) {
  static char buf[256];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static void write_raw(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(p, 1, n, f);
  fclose(f);
}

static void test_roundtrip(void) {
  sr_err err = {0};
  float f[6] = {1, -2, 3.5f, 4, 5, 6};
  int64_t shape[2] = {2, 3};
  CHECK_OK(sr_npy_write(tmp("f.npy"), SR_F32, 2, shape, f, &err), &err);
  sr_npy a;
  CHECK_OK(sr_npy_read(tmp("f.npy"), &a, &err), &err);
  CHECK(a.dtype == SR_F32 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3 && a.count == 6, "header");
  CHECK(!memcmp(a.data, f, sizeof f), "data");
  double *d;
  CHECK_OK(sr_npy_as_f64(&a, &d, &err), &err);
  CHECK(d[2] == 3.5, "conversion");
  sr_free(d);
  sr_npy_free(&a);
  uint8_t u[5] = {0, 1, 2, 254, 255};
  int64_t s1 = 5;
  CHECK_OK(sr_npy_write(tmp("u.npy"), SR_U8, 1, &s1, u, &err), &err);
  CHECK_OK(sr_npy_read(tmp("u.npy"), &a, &err), &err);
  CHECK(a.dtype == SR_U8 && a.ndim == 1 && !memcmp(a.data, u, 5), "uint8 1-d");
  sr_npy_free(&a);
  // NumPy requires the header (incl. the 10-byte preamble) to be a multiple of 64 bytes.
  FILE *fp = fopen(tmp("u.npy"), "rb");
  unsigned char pre[10];
  CHECK(fread(pre, 1, 10, fp) == 10, "read preamble");
  fclose(fp);
  CHECK((10 + (pre[8] | pre[9] << 8)) % 64 == 0, "header aligned to 64");
  CHECK_OK(sr_npy_write(tmp("s.npy"), SR_F64, 0, NULL, d = (double[]){7.0}, &err), &err);
  CHECK_OK(sr_npy_read(tmp("s.npy"), &a, &err), &err);
  CHECK(a.ndim == 0 && a.count == 1 && ((double *)a.data)[0] == 7.0, "scalar");
  sr_npy_free(&a);
}

static void expect_bad(const char *name, const void *bytes, size_t n, const char *what) {
  sr_err err = {0};
  sr_npy a;
  write_raw(tmp(name), bytes, n);
  sr_status st = sr_npy_read(tmp(name), &a, &err);
  CHECK(st == SR_ERR_FORMAT, "%s: got %s", what, sr_status_name(st));
  CHECK(strstr(err.msg, name) != NULL, "%s: message names the file: %s", what, err.msg);
}

static void test_bad(void) {
  char buf[256];
  const char *hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  size_t hl = strlen(hdr);
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (char)hl;
  buf[9] = 0;
  memcpy(buf + 10, hdr, hl);
  memset(buf + 10 + hl, 0, 16);
  sr_err err = {0};
  sr_npy a;
  write_raw(tmp("ok.npy"), buf, 10 + hl + 16);
  CHECK_OK(sr_npy_read(tmp("ok.npy"), &a, &err), &err);
  sr_npy_free(&a);
  expect_bad("trunc.npy", buf, 10 + hl + 15, "truncated data");
  expect_bad("magic.npy", "NOTNUMPYFILE", 12, "bad magic");
  char big[256];
  const char *bh = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }";
  memcpy(big, "\x93NUMPY\x01\x00", 8);
  big[8] = (char)strlen(bh);
  big[9] = 0;
  memcpy(big + 10, bh, strlen(bh));
  expect_bad("huge.npy", big, 10 + strlen(bh), "10 GB claimed in a tiny file");
  const char *dh = "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }";
  memcpy(big + 10, dh, strlen(dh));
  big[8] = (char)strlen(dh);
  expect_bad("dtype.npy", big, 10 + strlen(dh) + 8, "complex dtype");
  const char *fh = "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }";
  memcpy(big + 10, fh, strlen(fh));
  big[8] = (char)strlen(fh);
  expect_bad("fortran.npy", big, 10 + strlen(fh) + 4, "fortran order");
  CHECK(sr_npy_read(tmp("missing.npy"), &a, &err) == SR_ERR_IO, "missing file is an I/O error");
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  test_roundtrip();
  test_bad();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) return 1;
  return sr_test_done();
}
