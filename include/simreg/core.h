// simreg core: errors as values, explicit RNG, atomic file writes, timing.
#ifndef SIMREG_CORE_H
#define SIMREG_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SR_VERSION_STRING "0.1.0"

typedef enum sr_status {
  SR_OK = 0,
  SR_ERR_ARG,         // invalid argument or setting from the caller/user
  SR_ERR_IO,          // cannot open/read/write a file
  SR_ERR_FORMAT,      // file exists but its content is malformed, truncated or of the wrong kind
  SR_ERR_SHAPE,       // tensor/model shapes do not match
  SR_ERR_NOMEM,       // allocation failed
  SR_ERR_BACKEND,     // oneDNN (or another library) reported a failure
  SR_ERR_NUMERIC,     // non-finite value where a finite one is required
  SR_ERR_INTERRUPTED  // stopped by a signal at a safe point
} sr_status;

// An error: the status plus a human-readable message naming what was wrong.
// Functions take `sr_err *err` last; it may be NULL when the caller does not want the message.
typedef struct sr_err {
  sr_status code;
  char msg[512];
} sr_err;

// Record an error (printf-style) and return `code`, so callers can `return sr_fail(...)`.
sr_status sr_fail(sr_err *err, sr_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
// Prefix the message already in `err` with more context ("loading X: <old message>"); returns err->code.
sr_status sr_err_context(sr_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *sr_status_name(sr_status s);
// Exit code a CLI should use: 2 for bad user input (arg, io, format, shape), 3 for non-finite numbers
// (SR_ERR_NUMERIC: training diverged), 1 otherwise.
int sr_status_exit_code(sr_status s);

// ---- allocation: 64-byte aligned, checked size arithmetic -----------------------------------
void *sr_alloc(size_t bytes);            // NULL on failure; never for bytes == 0 (returns a valid ptr)
void *sr_calloc(size_t n, size_t size);  // zeroed, overflow-checked
void sr_free(void *p);
// sr_free each of n buffers (a state's teardown); SR_FREE_ALL(a, b, c) counts them.
void sr_free_all(void *const *ptrs, size_t n);
#define SR_FREE_ALL(...) \
  sr_free_all((void *const[]){__VA_ARGS__}, sizeof((void *const[]){__VA_ARGS__}) / sizeof(void *))
// a*b with overflow detection; returns 0 and sets *out on success.
int sr_mul_overflow(size_t a, size_t b, size_t *out);

// ---- RNG: xoshiro256** seeded by splitmix64; the whole state is 4 words, saved in checkpoints ----
typedef struct sr_rng {
  uint64_t s[4];
} sr_rng;

void sr_rng_seed(sr_rng *r, uint64_t seed, uint64_t stream);
uint64_t sr_rng_u64(sr_rng *r);
uint32_t sr_rng_below(sr_rng *r, uint32_t n);           // uniform in [0, n), unbiased
double sr_rng_uniform(sr_rng *r);                       // uniform in [0, 1), 53 bits
float sr_rng_uniformf(sr_rng *r);                       // uniform in [0, 1), 24 bits
double sr_rng_normal(sr_rng *r);                        // standard normal (Box-Muller, no cached spare)
void sr_rng_shuffle(sr_rng *r, int64_t *a, int64_t n);  // Fisher-Yates

// ---- atomic output: write to PATH.tmp.XXXXXX, fsync, rename over PATH, fsync the directory ----
typedef struct sr_afile {
  FILE *fp;
  char path[4096];
  char tmp[4120];
} sr_afile;

sr_status sr_afile_open(sr_afile *f, const char *path, sr_err *err);
sr_status sr_afile_commit(sr_afile *f, sr_err *err);  // closes; on failure removes the temp file
void sr_afile_abort(sr_afile *f);                     // closes and removes the temp file
// Whole-buffer convenience wrapper.
sr_status sr_write_file_atomic(const char *path, const void *data, size_t n, sr_err *err);
// Read a whole file into a fresh buffer (caller sr_free's it). max_bytes guards against huge files.
sr_status sr_read_file(const char *path, size_t max_bytes, void **data, size_t *n, sr_err *err);
sr_status sr_mkdir_p(const char *path, sr_err *err);

// ---- time ----
double sr_now(void);  // monotonic seconds

#ifdef __cplusplus
}
#endif
#endif
