// Shared by the fuzz targets: a private scratch directory per process and small file helpers. The parsers
// take paths, so each input is written to a file there first (tmpfs when available).
#ifndef SIMREG_FUZZ_UTIL_H
#define SIMREG_FUZZ_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simreg/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_root[256];

static inline void fz_rm_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char p[4096];
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    int k = snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (k < 0 || (size_t)k >= sizeof p) continue;
    struct stat sb;
    if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
      fz_rm_tree(p);
    else
      unlink(p);
  }
  closedir(d);
  rmdir(dir);
}

static inline void fz_cleanup(void) {
  if (fz_root[0]) fz_rm_tree(fz_root);
}

// The scratch directory, created on first use and removed at exit.
static inline const char *fz_dir(void) {
  if (!fz_root[0]) {
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                       : getenv("TMPDIR")            ? getenv("TMPDIR")
                                                     : "/tmp";
    snprintf(fz_root, sizeof fz_root, "%s/sr_fuzz_XXXXXX", base);
    if (!mkdtemp(fz_root)) abort();
    atexit(fz_cleanup);
  }
  return fz_root;
}

// Empty the scratch directory (a previous input may have left files the next one must not see).
static inline void fz_reset(void) {
  fz_rm_tree(fz_dir());
  if (mkdir(fz_root, 0700) != 0) abort();
}

// Write data to <scratch>/<rel> (creating one level of parent directory) and return the full path.
static inline const char *fz_write(const char *rel, const void *data, size_t n, char *path, size_t cap) {
  snprintf(path, cap, "%s/%s", fz_dir(), rel);
  char parent[1024];
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = 0;
    mkdir(parent, 0700);
  }
  FILE *f = fopen(path, "wb");
  if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) abort();
  return path;
}

// A failing parser must say what failed: a status without a message is a bug the fuzzer should report.
static inline void fz_check_err(sr_status st, const sr_err *err) {
  if (st != SR_OK && (err->code != st || !err->msg[0])) {
    fprintf(stderr, "error status %d returned without a matching message (code %d, msg '%s')\n", st,
            err->code, err->msg);
    abort();
  }
}

// Split data at the first 16-bit little-endian length prefix: part a = data[2, 2+len), b = the rest.
static inline void fz_split(const uint8_t *d, size_t n, const uint8_t **a, size_t *na, const uint8_t **b,
                            size_t *nb) {
  size_t len = n >= 2 ? ((size_t)d[0] | (size_t)d[1] << 8) : 0;
  size_t body = n >= 2 ? n - 2 : 0;
  if (len > body) len = body;
  *a = d + (n >= 2 ? 2 : n);
  *na = len;
  *b = *a + len;
  *nb = body - len;
}

#endif
