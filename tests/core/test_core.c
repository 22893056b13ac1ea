// Core: RNG determinism and ranges, atomic writes, error formatting.
#include <sys/stat.h>
#include <unistd.h>

#include "simreg/core.h"
#include "sr_test.h"

static void test_rng(void) {
  sr_rng a, b, c;
  sr_rng_seed(&a, 42, 0);
  sr_rng_seed(&b, 42, 0);
  sr_rng_seed(&c, 42, 1);
  int same = 1, differ = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t x = sr_rng_u64(&a), y = sr_rng_u64(&b), z = sr_rng_u64(&c);
    same &= x == y;
    differ += x != z;
  }
  CHECK(same, "same seed must give the same stream");
  CHECK(differ > 990, "another stream must differ (%d)", differ);
  double sum = 0, sum2 = 0;
  int counts[7] = {0};
  for (int i = 0; i < 200000; i++) {
    double n = sr_rng_normal(&a);
    sum += n;
    sum2 += n * n;
    counts[sr_rng_below(&a, 7)]++;
    double u = sr_rng_uniform(&a);
    if (u < 0 || u >= 1) CHECK(0, "uniform out of range: %g", u);
  }
  CHECK(fabs(sum / 200000) < 0.01, "normal mean %g", sum / 200000);
  CHECK(fabs(sum2 / 200000 - 1) < 0.02, "normal var %g", sum2 / 200000);
  for (int k = 0; k < 7; k++)
    CHECK(abs(counts[k] - 200000 / 7) < 1000, "below(7) bucket %d: %d", k, counts[k]);
  int64_t p[10];
  for (int i = 0; i < 10; i++) p[i] = i;
  sr_rng_shuffle(&a, p, 10);
  int seen = 0;
  for (int i = 0; i < 10; i++) seen |= 1 << p[i];
  CHECK(seen == 1023, "shuffle must be a permutation");
}

static void test_atomic(void) {
  char dir[] = "/tmp/sr_core_XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char path[256];
  snprintf(path, sizeof path, "%s/a/b/out.bin", dir);
  sr_err err = {0};
  char sub[256];
  snprintf(sub, sizeof sub, "%s/a/b", dir);
  CHECK_OK(sr_mkdir_p(sub, &err), &err);
  CHECK_OK(sr_write_file_atomic(path, "hello", 5, &err), &err);
  struct stat sb;
  mode_t um = umask(022);
  CHECK_OK(sr_write_file_atomic(path, "hello", 5, &err), &err);
  umask(um);
  CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0644, "atomic files get 0666 & ~umask, got %o",
        sb.st_mode & 0777);
  void *data;
  size_t n;
  CHECK_OK(sr_read_file(path, 100, &data, &n, &err), &err);
  CHECK(n == 5 && !memcmp(data, "hello", 5), "read back");
  sr_free(data);
  CHECK(sr_read_file(path, 3, &data, &n, &err) == SR_ERR_FORMAT, "size limit must be enforced");
  CHECK(strstr(err.msg, path) != NULL, "message names the file: %s", err.msg);
  sr_afile f;
  CHECK_OK(sr_afile_open(&f, path, &err), &err);
  fputs("partial", f.fp);
  sr_afile_abort(&f);
  CHECK_OK(sr_read_file(path, 100, &data, &n, &err), &err);
  CHECK(n == 5, "an aborted write leaves the old file intact");
  sr_free(data);
  CHECK(access(f.tmp, F_OK) != 0, "temp file removed");
  CHECK(sr_read_file("/nonexistent/x", 10, &data, &n, &err) == SR_ERR_IO, "missing file");
  CHECK(sr_status_exit_code(SR_ERR_FORMAT) == 2, "format errors exit 2");
  unlink(path);
}

int main(void) {
  test_rng();
  test_atomic();
  return sr_test_done();
}
