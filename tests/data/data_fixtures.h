// Helpers for the data tests: temporary directories and synthetic dataset files written by the tests.
#ifndef SR_DATA_FIXTURES_H
#define SR_DATA_FIXTURES_H

#define _XOPEN_SOURCE 700  // nftw
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static inline char *fx_tmpdir(char *buf, size_t size, const char *tag) {
  snprintf(buf, size, "/tmp/sr_data_%s_XXXXXX", tag);
  return mkdtemp(buf);
}

static int fx_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static inline void fx_rmtree(const char *dir) { nftw(dir, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static inline const char *fx_path(char *buf, size_t size, const char *dir, const char *name) {
  snprintf(buf, size, "%s/%s", dir, name);
  return buf;
}

static inline int fx_write(const char *path, const void *data, size_t n) {
  FILE *fp = fopen(path, "wb");
  if (!fp) return -1;
  size_t k = fwrite(data, 1, n, fp);
  return fclose(fp) == 0 && k == n ? 0 : -1;
}

static inline int fx_write_gz(const char *path, const void *data, size_t n) {
  gzFile gz = gzopen(path, "wb");
  if (!gz) return -1;
  int k = gzwrite(gz, data, (unsigned)n);
  return gzclose(gz) == Z_OK && (size_t)k == n ? 0 : -1;
}

static inline void fx_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

// An IDX byte image: magic, dims, payload (payload_n bytes). Returns the total size written into buf.
static inline size_t fx_idx(unsigned char *buf, uint32_t magic, int ndims, const uint32_t *dims,
                            const uint8_t *payload, size_t payload_n) {
  fx_be32(buf, magic);
  for (int i = 0; i < ndims; i++) fx_be32(buf + 4 + 4 * i, dims[i]);
  size_t head = 4 + 4 * (size_t)ndims;
  memcpy(buf + head, payload, payload_n);
  return head + payload_n;
}

static inline uint8_t fx_pixel(int64_t i, int ch, int y, int x) {
  return (uint8_t)((i * 37 + ch * 101 + y * 13 + x * 7) & 255);
}

static inline size_t fx_file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (size_t)sb.st_size : 0;
}

static inline int fx_is_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

#endif
