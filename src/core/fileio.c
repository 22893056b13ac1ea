// Atomic writes (temp file, fsync, rename, fsync dir) and bounded whole-file reads.
#include "simreg/core.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

sr_status sr_afile_open(sr_afile *f, const char *path, sr_err *err) {
  memset(f, 0, sizeof *f);
  if (strlen(path) >= sizeof f->path) return sr_fail(err, SR_ERR_ARG, "%s: path too long", path);
  snprintf(f->path, sizeof f->path, "%s", path);
  snprintf(f->tmp, sizeof f->tmp, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(f->tmp);
  if (fd < 0) return sr_fail(err, SR_ERR_IO, "%s: cannot create temp file: %s", path, strerror(errno));
  // mkstemp creates 0600; outputs should get the usual 0666 & ~umask like any other written file.
  mode_t um = umask(0);
  umask(um);
  fchmod(fd, 0666 & ~um);
  f->fp = fdopen(fd, "wb");
  if (!f->fp) {
    close(fd);
    unlink(f->tmp);
    return sr_fail(err, SR_ERR_IO, "%s: %s", path, strerror(errno));
  }
  return SR_OK;
}

void sr_afile_abort(sr_afile *f) {
  if (f->fp) fclose(f->fp);
  f->fp = NULL;
  if (f->tmp[0]) unlink(f->tmp);
  f->tmp[0] = 0;
}

static void fsync_parent(const char *path) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  int dfd = open(dirname(buf), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
}

sr_status sr_afile_commit(sr_afile *f, sr_err *err) {
  int bad = ferror(f->fp) || fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0;
  int saved = errno;
  if (fclose(f->fp) != 0) bad = 1;
  f->fp = NULL;
  if (bad || rename(f->tmp, f->path) != 0) {
    if (!bad) saved = errno;
    unlink(f->tmp);
    f->tmp[0] = 0;
    return sr_fail(err, SR_ERR_IO, "%s: write failed: %s", f->path, strerror(saved));
  }
  f->tmp[0] = 0;
  fsync_parent(f->path);
  return SR_OK;
}

sr_status sr_write_file_atomic(const char *path, const void *data, size_t n, sr_err *err) {
  sr_afile f;
  sr_status st = sr_afile_open(&f, path, err);
  if (st) return st;
  if (n && fwrite(data, 1, n, f.fp) != n) {
    sr_afile_abort(&f);
    return sr_fail(err, SR_ERR_IO, "%s: short write", path);
  }
  return sr_afile_commit(&f, err);
}

sr_status sr_read_file(const char *path, size_t max_bytes, void **data, size_t *n, sr_err *err) {
  *data = NULL;
  *n = 0;
  FILE *fp = fopen(path, "rb");
  if (!fp) return sr_fail(err, SR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    fclose(fp);
    return sr_fail(err, SR_ERR_IO, "%s: not a regular file", path);
  }
  if ((uint64_t)sb.st_size > max_bytes) {
    fclose(fp);
    return sr_fail(err, SR_ERR_FORMAT, "%s: file is %lld bytes, more than the %zu allowed", path,
                   (long long)sb.st_size, max_bytes);
  }
  size_t size = (size_t)sb.st_size;
  unsigned char *buf = sr_alloc(size + 1);
  if (!buf) {
    fclose(fp);
    return sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, size);
  }
  size_t got = fread(buf, 1, size, fp);
  fclose(fp);
  if (got != size) {
    sr_free(buf);
    return sr_fail(err, SR_ERR_IO, "%s: short read (%zu of %zu bytes)", path, got, size);
  }
  buf[size] = 0;
  *data = buf;
  *n = size;
  return SR_OK;
}

sr_status sr_mkdir_p(const char *path, sr_err *err) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return sr_fail(err, SR_ERR_ARG, "%s: path too long", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
      return sr_fail(err, SR_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
    *p = '/';
  }
  if (mkdir(buf, 0755) != 0 && errno != EEXIST)
    return sr_fail(err, SR_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
  struct stat sb;
  if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return sr_fail(err, SR_ERR_IO, "%s: exists and is not a directory", buf);
  return SR_OK;
}

double sr_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
