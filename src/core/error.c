// Errors as values: sr_fail formats a message into the caller's sr_err.
#include "simreg/core.h"

#include <stdarg.h>
#include <string.h>

sr_status sr_fail(sr_err *err, sr_status code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  return code;
}

sr_status sr_err_context(sr_err *err, const char *fmt, ...) {
  if (!err) return SR_ERR_ARG;
  char prefix[256], old[sizeof err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, err->msg, sizeof old);
  size_t k = strlen(prefix);
  memcpy(err->msg, prefix, k);
  memcpy(err->msg + k, ": ", 3);
  size_t room = sizeof err->msg - k - 3;
  size_t n = strnlen(old, room);
  memcpy(err->msg + k + 2, old, n);
  err->msg[k + 2 + n] = 0;
  return err->code;
}

const char *sr_status_name(sr_status s) {
  switch (s) {
    case SR_OK:
      return "ok";
    case SR_ERR_ARG:
      return "invalid argument";
    case SR_ERR_IO:
      return "i/o error";
    case SR_ERR_FORMAT:
      return "bad file format";
    case SR_ERR_SHAPE:
      return "shape mismatch";
    case SR_ERR_NOMEM:
      return "out of memory";
    case SR_ERR_BACKEND:
      return "backend failure";
    case SR_ERR_NUMERIC:
      return "non-finite value";
    case SR_ERR_INTERRUPTED:
      return "interrupted";
  }
  return "unknown status";
}

int sr_status_exit_code(sr_status s) {
  switch (s) {
    case SR_OK:
      return 0;
    case SR_ERR_ARG:
    case SR_ERR_IO:
    case SR_ERR_FORMAT:
    case SR_ERR_SHAPE:
      return 2;
    case SR_ERR_NUMERIC:
      return 3;  // non-finite numbers: e.g. training diverged (docs/ERRORS.md)
    default:
      return 1;
  }
}
