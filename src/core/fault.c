// Allocation-failure injection (see fault.h). Compiled to nothing unless SR_FAULT_INJECTION is defined.
#ifdef SR_FAULT_INJECTION
#undef malloc
#undef calloc
#undef realloc
#undef strdup
#include <execinfo.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fault.h"

// Thread-local: a sweep in one thread is not disturbed by allocations of loader or OpenMP threads.
static _Thread_local long fail_at, seen;
static _Thread_local size_t largest;
static _Thread_local int fired;

void sr_fault_fail_at(long n) {
  fail_at = n > 0 ? n : 0;
  seen = 0;
  fired = 0;
  largest = 0;
}

long sr_fault_allocs(void) { return seen; }
int sr_fault_fired(void) { return fired; }
size_t sr_fault_largest(void) { return largest; }

int sr_fault_should_fail(size_t bytes) {
  seen++;
  if (bytes > largest) largest = bytes;
  if (fail_at && seen == fail_at) {
    fired = 1;
    if (getenv("SR_FAULT_TRACE")) {  // where the injected failure happened (resolve with addr2line)
      void *frames[24];
      int n = backtrace(frames, 24);
      backtrace_symbols_fd(frames, n, STDERR_FILENO);
    }
    return 1;
  }
  return 0;
}

void *sr_fault_malloc(size_t n) { return sr_fault_should_fail(n) ? NULL : malloc(n); }
void *sr_fault_calloc(size_t n, size_t size) {
  return sr_fault_should_fail(n * size) ? NULL : calloc(n, size);
}
void *sr_fault_realloc(void *p, size_t n) { return sr_fault_should_fail(n) ? NULL : realloc(p, n); }
char *sr_fault_strdup(const char *s) { return sr_fault_should_fail(strlen(s) + 1) ? NULL : strdup(s); }
#else
typedef int sr_fault_disabled;  // ISO C wants at least one declaration per translation unit
#endif
