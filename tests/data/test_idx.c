// IDX loader: exact round trips (plain and gzip), file-name spellings, and every malformed-input case.
#include "data/data_fixtures.h"

#include "simreg/data.h"
#include "sr_test.h"

enum { N = 7, H = 5, W = 4 };

static uint8_t pix[N * H * W], lab[N];
static unsigned char buf[1 << 16];

static void make_payload(int offset) {
  for (int i = 0; i < N; i++) {
    lab[i] = (uint8_t)((i + offset) % 10);
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) pix[(i * H + y) * W + x] = fx_pixel(i + offset, 0, y, x);
  }
}

// Write <prefix>-images-idx3-ubyte and <prefix>-labels-idx1-ubyte (gzipped when gz).
static void write_split(const char *dir, const char *prefix, int gz, int offset) {
  char path[512], name[128];
  make_payload(offset);
  uint32_t idims[3] = {N, H, W}, ldims[1] = {N};
  size_t n = fx_idx(buf, 0x803, 3, idims, pix, sizeof pix);
  snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, gz ? ".gz" : "");
  int rc = gz ? fx_write_gz(fx_path(path, sizeof path, dir, name), buf, n)
              : fx_write(fx_path(path, sizeof path, dir, name), buf, n);
  n = fx_idx(buf, 0x801, 1, ldims, lab, sizeof lab);
  snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", prefix, gz ? ".gz" : "");
  rc |= gz ? fx_write_gz(fx_path(path, sizeof path, dir, name), buf, n)
           : fx_write(fx_path(path, sizeof path, dir, name), buf, n);
  CHECK(rc == 0, "writing %s files in %s", prefix, dir);
}

static int matches(const sr_dataset *ds, int offset) {
  make_payload(offset);
  if (ds->n != N || ds->c != 1 || ds->h != H || ds->w != W || ds->num_classes != 10) return 0;
  if (memcmp(ds->images, pix, sizeof pix) != 0) return 0;
  for (int i = 0; i < N; i++)
    if (ds->labels[i] != lab[i]) return 0;
  return 1;
}

static void test_round_trip(void) {
  char plain[64], gz[64], spec[128];
  fx_tmpdir(plain, sizeof plain, "idx_plain");
  fx_tmpdir(gz, sizeof gz, "idx_gz");
  write_split(plain, "train", 0, 0);
  write_split(plain, "t10k", 0, 3);
  write_split(gz, "train", 1, 0);
  write_split(gz, "t10k", 1, 3);
  sr_err err = {0};
  sr_dataset a, b, t;
  snprintf(spec, sizeof spec, "idx:%s", plain);
  CHECK_OK(sr_dataset_load(spec, "train", &a, &err), &err);
  CHECK(matches(&a, 0), "plain train split round trip");
  CHECK(!strcmp(a.name, "idx") && !strcmp(a.class_names[3], "3"), "name %s, class 3 '%s'", a.name,
        a.class_names[3]);
  CHECK_OK(sr_dataset_load(spec, "test", &t, &err), &err);
  CHECK(matches(&t, 3), "plain test split (t10k) round trip");
  sr_dataset_free(&t);
  snprintf(spec, sizeof spec, "mnist:%s", gz);
  CHECK_OK(sr_dataset_load(spec, NULL, &b, &err), &err);
  CHECK(matches(&b, 0), "gzip train split round trip");
  CHECK(a.n == b.n && !memcmp(a.images, b.images, (size_t)a.n * H * W) &&
            !memcmp(a.labels, b.labels, sizeof(int32_t) * (size_t)a.n),
        "gzip and plain files give identical data");
  CHECK(!strcmp(b.name, "mnist"), "mnist: spec names the dataset mnist, got %s", b.name);
  sr_dataset_free(&b);
  // A bare directory is auto-detected; "fashion-mnist:" gives the Fashion-MNIST class names.
  CHECK_OK(sr_dataset_load(gz, "test", &b, &err), &err);
  CHECK(matches(&b, 3), "auto-detected IDX directory");
  sr_dataset_free(&b);
  snprintf(spec, sizeof spec, "fashion-mnist:%s", plain);
  CHECK_OK(sr_dataset_load(spec, "train", &b, &err), &err);
  CHECK(!strcmp(b.name, "fashion-mnist") && !strcmp(b.class_names[0], "T-shirt/top") &&
            !strcmp(b.class_names[9], "Ankle boot"),
        "fashion names: %s %s %s", b.name, b.class_names[0], b.class_names[9]);
  sr_dataset_free(&b);
  sr_dataset_free(&a);
  CHECK(a.images == NULL && a.n == 0, "free zeroes the struct");
  sr_dataset_free(&a);  // and a second free is harmless
  fx_rmtree(plain);
  fx_rmtree(gz);
}

static void test_dot_spelling(void) {
  char dir[64], path[512];
  fx_tmpdir(dir, sizeof dir, "idx_dot");
  make_payload(1);
  uint32_t idims[3] = {N, H, W}, ldims[1] = {N};
  size_t n = fx_idx(buf, 0x803, 3, idims, pix, sizeof pix);
  fx_write(fx_path(path, sizeof path, dir, "train-images.idx3-ubyte"), buf, n);
  n = fx_idx(buf, 0x801, 1, ldims, lab, sizeof lab);
  fx_write_gz(fx_path(path, sizeof path, dir, "train-labels.idx1-ubyte.gz"), buf, n);
  sr_err err = {0};
  sr_dataset ds;
  char spec[128];
  snprintf(spec, sizeof spec, "idx:%s", dir);
  CHECK_OK(sr_dataset_load(spec, "train", &ds, &err), &err);
  CHECK(matches(&ds, 1), "train-images.idx3-ubyte spelling, mixed plain/gzip");
  sr_dataset_free(&ds);
  fx_rmtree(dir);
}

// Load idx:dir (train) and expect status want with a message naming `file`.
static void expect_fail(const char *dir, sr_status want, const char *file, const char *also,
                        const char *what) {
  char spec[128];
  snprintf(spec, sizeof spec, "idx:%s", dir);
  sr_err err = {0};
  sr_dataset ds;
  memset(&ds, 0xab, sizeof ds);
  sr_status st = sr_dataset_load(spec, "train", &ds, &err);
  if (getenv("SR_TEST_VERBOSE")) printf("%-45s -> %s\n", what, err.msg);
  CHECK(st == want, "%s: got %s (%s), want %s", what, sr_status_name(st), err.msg, sr_status_name(want));
  CHECK(strstr(err.msg, file) != NULL, "%s: message names %s: %s", what, file, err.msg);
  if (also) CHECK(strstr(err.msg, also) != NULL, "%s: message mentions '%s': %s", what, also, err.msg);
  CHECK(ds.images == NULL && ds.labels == NULL && ds.n == 0, "%s: output left empty", what);
  sr_dataset_free(&ds);
}

// Rewrite one file of the split with raw bytes (gzipped when gz).
static void put(const char *dir, const char *name, const unsigned char *data, size_t n, int gz) {
  char path[512];
  fx_path(path, sizeof path, dir, name);
  CHECK((gz ? fx_write_gz(path, data, n) : fx_write(path, data, n)) == 0, "write %s", path);
}

static void test_bad_inputs(void) {
  char dir[64], ip[512], lp[512], ipz[512];
  fx_tmpdir(dir, sizeof dir, "idx_bad");
  fx_path(ip, sizeof ip, dir, "train-images-idx3-ubyte");
  fx_path(lp, sizeof lp, dir, "train-labels-idx1-ubyte");
  fx_path(ipz, sizeof ipz, dir, "train-images-idx3-ubyte.gz");
  make_payload(0);
  uint32_t idims[3] = {N, H, W}, ldims[1] = {N};
  unsigned char good_labels[64];
  size_t ln = fx_idx(good_labels, 0x801, 1, ldims, lab, sizeof lab);
  put(dir, "train-labels-idx1-ubyte", good_labels, ln, 0);

  expect_fail(dir, SR_ERR_IO, "train-images-idx3-ubyte", "missing", "missing images file");

  size_t n = fx_idx(buf, 0x801, 3, idims, pix, sizeof pix);
  put(dir, "train-images-idx3-ubyte", buf, n, 0);
  expect_fail(dir, SR_ERR_FORMAT, ip, "magic", "images file with the labels magic");

  n = fx_idx(buf, 0x803, 3, idims, pix, sizeof pix);
  put(dir, "train-images-idx3-ubyte", buf, n - 10, 0);
  expect_fail(dir, SR_ERR_FORMAT, ip, "truncated", "truncated plain images");
  put(dir, "train-images-idx3-ubyte", buf, 10, 0);
  expect_fail(dir, SR_ERR_FORMAT, ip, "header", "truncated header");
  memset(buf + n, 0, 5);
  put(dir, "train-images-idx3-ubyte", buf, n + 5, 0);
  expect_fail(dir, SR_ERR_FORMAT, ip, "trailing", "trailing bytes");

  uint32_t zero[3] = {N, 0, W}, wide[3] = {N, H, 100000};
  n = fx_idx(buf, 0x803, 3, zero, pix, 0);
  put(dir, "train-images-idx3-ubyte", buf, n, 0);
  expect_fail(dir, SR_ERR_FORMAT, ip, "dimension", "zero rows");
  n = fx_idx(buf, 0x803, 3, wide, pix, sizeof pix);
  put(dir, "train-images-idx3-ubyte", buf, n, 0);
  expect_fail(dir, SR_ERR_FORMAT, ip, "dimension", "absurd width");

  // Count mismatch: 6 images, 7 labels.
  uint32_t six[3] = {N - 1, H, W};
  n = fx_idx(buf, 0x803, 3, six, pix, (size_t)(N - 1) * H * W);
  put(dir, "train-images-idx3-ubyte", buf, n, 0);
  expect_fail(dir, SR_ERR_FORMAT, lp, "6 images", "image/label count mismatch");

  // Labels: out of range, wrong magic.
  n = fx_idx(buf, 0x803, 3, idims, pix, sizeof pix);
  put(dir, "train-images-idx3-ubyte", buf, n, 0);
  unsigned char bad_labels[64];
  memcpy(bad_labels, good_labels, ln);
  bad_labels[8 + 4] = 10;
  put(dir, "train-labels-idx1-ubyte", bad_labels, ln, 0);
  expect_fail(dir, SR_ERR_FORMAT, lp, "out of range", "label 10 of 10 classes");
  fx_be32(bad_labels, 0x803);
  put(dir, "train-labels-idx1-ubyte", bad_labels, ln, 0);
  expect_fail(dir, SR_ERR_FORMAT, lp, "magic", "labels file with the images magic");
  put(dir, "train-labels-idx1-ubyte", good_labels, ln, 0);

  // Gzip: the .gz name wins over the plain one; truncated stream, corrupt stream, absurd claimed size.
  size_t plain_n = fx_idx(buf, 0x803, 3, idims, pix, sizeof pix);
  put(dir, "train-images-idx3-ubyte.gz", buf, plain_n, 1);
  sr_err err = {0};
  sr_dataset ds;
  char spec[128];
  snprintf(spec, sizeof spec, "idx:%s", dir);
  CHECK_OK(sr_dataset_load(spec, "train", &ds, &err), &err);
  sr_dataset_free(&ds);
  unsigned char gzbytes[4096];
  FILE *fp = fopen(ipz, "rb");
  size_t gzn = fp ? fread(gzbytes, 1, sizeof gzbytes, fp) : 0;
  if (fp) fclose(fp);
  CHECK(gzn > 40, "gzip fixture size %zu", gzn);
  put(dir, "train-images-idx3-ubyte.gz", gzbytes, gzn / 2, 0);
  expect_fail(dir, SR_ERR_FORMAT, ipz, NULL, "truncated gzip stream");
  unsigned char corrupt[4096];
  memcpy(corrupt, gzbytes, gzn);
  for (size_t i = 12; i < gzn - 8; i += 3) corrupt[i] ^= 0x5a;
  put(dir, "train-images-idx3-ubyte.gz", corrupt, gzn, 0);
  expect_fail(dir, SR_ERR_FORMAT, ipz, NULL, "corrupt deflate data");
  // Header claims 2^31 images of 4096x4096: refused from the file size alone, before any allocation.
  uint32_t huge[3] = {0x7fffffff, 4096, 4096};
  n = fx_idx(buf, 0x803, 3, huge, pix, sizeof pix);
  put(dir, "train-images-idx3-ubyte.gz", buf, n, 1);
  expect_fail(dir, SR_ERR_FORMAT, ipz, NULL, "huge claimed size (gzip)");
  uint32_t big[3] = {1000000, 28, 28};
  n = fx_idx(buf, 0x803, 3, big, pix, sizeof pix);
  put(dir, "train-images-idx3-ubyte.gz", buf, n, 1);
  expect_fail(dir, SR_ERR_FORMAT, ipz, "more than", "claimed size beyond the gzip ratio bound");
  remove(ipz);
  n = fx_idx(buf, 0x803, 3, big, pix, sizeof pix);
  put(dir, "train-images-idx3-ubyte", buf, n, 0);
  expect_fail(dir, SR_ERR_FORMAT, ip, "truncated", "huge claimed size (plain)");

  // Missing directory; bad split; unknown spec.
  char gone[128];
  snprintf(gone, sizeof gone, "%s/nope", dir);
  expect_fail(gone, SR_ERR_IO, gone, NULL, "missing directory");
  CHECK(sr_dataset_load(spec, "val", &ds, &err) == SR_ERR_ARG, "split 'val' is not accepted");
  CHECK(sr_dataset_load("/no/such/dataset", "train", &ds, &err) == SR_ERR_IO &&
            strstr(err.msg, "/no/such/dataset"),
        "unknown path: %s", err.msg);
  fx_rmtree(dir);
}

int main(void) {
  test_round_trip();
  test_dot_spelling();
  test_bad_inputs();
  return sr_test_done();
}
