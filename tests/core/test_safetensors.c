// safetensors reader: a written file reads back (names, dtypes, shapes incl. scalars and empty tensors,
// metadata, data); every malformed header is refused with SR_ERR_FORMAT and a message naming the file,
// before anything of the claimed size is allocated.
#include "simreg/safetensors.h"

#include <stdint.h>

#include "sr_test.h"

static char dir_[4096];

static const char *tmp(const char *name) {
  static char buf[4200];
  snprintf(buf, sizeof buf, "%s/%s", dir_, name);
  return buf;
}

// A file made of an 8-byte length, the header text (padded with spaces to 8) and `data_bytes` zero bytes;
// hl_override != 0 replaces the length field.
static void raw_file(const char *path, const char *header, size_t data_bytes, uint64_t hl_override) {
  size_t hl = strlen(header), padded = (hl + 7) & ~(size_t)7;
  size_t n = 8 + padded + data_bytes;
  unsigned char *b = calloc(n, 1);
  uint64_t len = hl_override ? hl_override : padded;
  for (int i = 0; i < 8; i++) b[i] = (unsigned char)(len >> (8 * i));
  memcpy(b + 8, header, hl);
  memset(b + 8 + hl, ' ', padded - hl);
  sr_err err = {0};
  CHECK_OK(sr_write_file_atomic(path, b, n, &err), &err);
  free(b);
}

static void expect_format(const char *header, size_t data_bytes, uint64_t hl, const char *needle,
                          const char *what) {
  const char *p = tmp("bad.safetensors");
  raw_file(p, header, data_bytes, hl);
  sr_st_file f;
  sr_err err = {0};
  sr_status st = sr_st_read(p, &f, &err);
  printf("  %-40s -> %s: %s\n", what, sr_status_name(st), err.msg);
  CHECK(st == SR_ERR_FORMAT, "%s: got %s", what, sr_status_name(st));
  CHECK(strstr(err.msg, p) != NULL, "%s: message lacks the file name: %s", what, err.msg);
  CHECK(!needle || strstr(err.msg, needle), "%s: message lacks '%s': %s", what, needle, err.msg);
  CHECK(f.buf == NULL && f.tensors == NULL && f.n == 0, "%s: failed read left memory behind", what);
  if (st == SR_OK) sr_st_free(&f);
}

static void roundtrip(void) {
  const float a[6] = {1, -2, 3.5f, 1e-30f, -0.0f, 7};
  const int64_t step = 42;
  const double d[2] = {0.1, -1e300};
  const uint8_t u[3] = {0, 128, 255};
  const int64_t sa[2] = {2, 3}, sd[1] = {2}, su[3] = {1, 3, 1}, se[2] = {0, 4};
  const sr_st_entry e[] = {{"w.weight", SR_F32, 2, sa, a},
                           {"bn.num_batches_tracked", SR_I64, 0, NULL, &step},
                           {"d", SR_F64, 1, sd, d},
                           {"u", SR_U8, 3, su, u},
                           {"empty", SR_F32, 2, se, a}};
  const char *meta[] = {"format", "pt", "note", "x \"quoted\"", NULL};
  sr_err err = {0};
  const char *p = tmp("good.safetensors");
  CHECK_OK(sr_st_write(p, e, 5, meta, &err), &err);
  sr_st_file f;
  CHECK_OK(sr_st_read(p, &f, &err), &err);
  if (err.code) return;
  CHECK(f.n == 5, "%d tensors", f.n);
  const sr_st_tensor *t = sr_st_find(&f, "w.weight");
  CHECK(t && t->dtype == SR_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->count == 6 &&
            !memcmp(t->data, a, sizeof a),
        "w.weight");
  t = sr_st_find(&f, "bn.num_batches_tracked");
  CHECK(t && t->dtype == SR_I64 && t->ndim == 0 && t->count == 1 && *(const int64_t *)t->data == 42,
        "scalar");
  t = sr_st_find(&f, "d");
  CHECK(t && t->dtype == SR_F64 && !memcmp(t->data, d, sizeof d), "f64");
  t = sr_st_find(&f, "u");
  CHECK(t && t->dtype == SR_U8 && t->ndim == 3 && !memcmp(t->data, u, sizeof u), "u8");
  t = sr_st_find(&f, "empty");
  CHECK(t && t->count == 0 && t->ndim == 2, "empty tensor");
  CHECK(sr_st_find(&f, "absent") == NULL, "find of an absent name");
  CHECK(sr_st_meta(&f, "note") && !strcmp(sr_st_meta(&f, "note"), "x \"quoted\""), "metadata");
  CHECK(sr_st_meta(&f, "absent") == NULL, "absent metadata");
  // Data is 8-byte aligned after the header, as the format requires (the length is a multiple of 8).
  unsigned char b[8] = {0};
  FILE *fp = fopen(p, "rb");
  CHECK(fp && fread(b, 1, 8, fp) == 8, "cannot reread %s", p);
  if (fp) fclose(fp);
  uint64_t hl = 0;
  for (int i = 7; i >= 0; i--) hl = hl << 8 | b[i];
  CHECK(hl % 8 == 0, "header length %llu not a multiple of 8", (unsigned long long)hl);
  for (int i = 0; i < f.n; i++)  // every tensor is aligned for any dtype, whatever its file offset
    CHECK((uintptr_t)f.tensors[i].data % 64 == 0, "tensor %s is not 64-byte aligned", f.tensors[i].name);
  sr_st_free(&f);
  remove(p);
}

static void malformed(void) {
  const char *ok1 = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
  // Sanity: the template itself is accepted.
  raw_file(tmp("t.safetensors"), ok1, 8, 0);
  sr_st_file f;
  sr_err err = {0};
  CHECK_OK(sr_st_read(tmp("t.safetensors"), &f, &err), &err);
  if (!err.code) sr_st_free(&f);
  remove(tmp("t.safetensors"));

  expect_format(ok1, 4, 0, "'a'", "data shorter than the offsets");
  expect_format("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 8, 0, "'a'",
                "offsets past the end");
  expect_format("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,0]}}", 8, 0, "'a'",
                "end before begin");
  expect_format("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8, 0, "'a'",
                "negative offset");
  expect_format("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 16, 0, "'a'",
                "offsets disagree with the shape");
  expect_format(ok1, 8, 1000, "header length", "header length larger than the file");
  expect_format(ok1, 8, UINT64_MAX, "header length", "header length 2^64-1");
  expect_format("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],", 8, 0, "JSON", "JSON cut short");
  expect_format("[1,2,3]", 0, 0, "JSON", "header is an array");
  expect_format("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, 0, "BF16",
                "unknown dtype");
  expect_format("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0, "'a'", "no dtype");
  expect_format("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, 0, "'a'",
                "fractional dim");
  expect_format("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, 0, "'a'",
                "negative dim");
  expect_format("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, 0,
                "'a'", "nine dims");
  expect_format("{\"a\":7}", 0, 0, "'a'", "entry is not an object");
  expect_format("{\"__metadata__\":{\"k\":1}}", 0, 0, "__metadata__", "non-string metadata");
  // 10 GB claimed in a file of a few hundred bytes: refused from the header alone, nothing that size
  // allocated (the test would take seconds and 10 GB of memory otherwise).
  expect_format("{\"big\":{\"dtype\":\"F32\",\"shape\":[50000,50000],\"data_offsets\":[0,10000000000]}}", 16,
                0, "'big'", "10 GB claimed in a tiny file");
  expect_format("{\"big\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,16]}}", 16,
                0, "'big'", "element count overflows");
  // Tensor byte ranges must tile the data section: no overlap, no hole, nothing after the last tensor.
  const char *two =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[8,12]}}";
  raw_file(tmp("t2.safetensors"), two, 12, 0);
  CHECK_OK(sr_st_read(tmp("t2.safetensors"), &f, &err), &err);
  if (!err.code) {
    const sr_st_tensor *tb = sr_st_find(&f, "b");
    const sr_st_tensor *ta = sr_st_find(&f, "a");
    CHECK(ta && tb && (const char *)tb->data == (const char *)ta->data + 64, "b's data pointer");
    sr_st_free(&f);
  }
  remove(tmp("t2.safetensors"));
  expect_format(
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}",
      8, 0, "overlap", "overlapping tensors");
  expect_format(
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
      8, 0, "overlap", "two tensors on the same bytes");
  expect_format("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, 0, "hole",
                "bytes before the first tensor");
  expect_format(
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
      12, 0, "hole", "gap between tensors");
  expect_format(ok1, 16, 0, "after the last tensor", "trailing bytes");
  expect_format("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.5]}}", 8, 0, "'a'",
                "fractional offset");
  expect_format("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",8]}}", 8, 0, "'a'",
                "offset as a string");
  // Too short to hold the length field; an empty file.
  {
    const char *p = tmp("short.safetensors");
    sr_err e2 = {0};
    CHECK_OK(sr_write_file_atomic(p, "\x08\0\0", 3, &e2), &e2);
    sr_st_file g;
    sr_status st = sr_st_read(p, &g, &e2);
    CHECK(st == SR_ERR_FORMAT, "3-byte file: %s", sr_status_name(st));
    CHECK_OK(sr_write_file_atomic(p, "", 0, &e2), &e2);
    st = sr_st_read(p, &g, &e2);
    CHECK(st == SR_ERR_FORMAT, "empty file: %s", sr_status_name(st));
    remove(p);
  }
  sr_st_file g;
  sr_status st = sr_st_read(tmp("does-not-exist.safetensors"), &g, &err);
  CHECK(st == SR_ERR_IO, "absent file: %s", sr_status_name(st));
  remove(tmp("bad.safetensors"));
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *b = getenv("SR_BUILD_DIR");
  snprintf(dir_, sizeof dir_, "%s", b ? b : "/tmp");
  roundtrip();
  malformed();
  return sr_test_done();
}
