// Allocation-failure injection for tests (built only with -DSIMREG_FAULT_INJECTION=ON, which
// force-includes this header into every translation unit). It is the one exception to the rule that the
// library has no mutable globals: a thread-local countdown, absent from release builds.
//
// Usage in a test: sr_fault_fail_at(n) arms the countdown so that the n-th allocation made by this thread
// from now on (sr_alloc, sr_calloc, and malloc/calloc/realloc/strdup in our own sources) returns NULL;
// every other allocation succeeds. sr_fault_fail_at(0) disarms it. sr_fault_allocs() counts the
// allocations seen since the last sr_fault_fail_at, so a clean run tells a sweep how far to go, and
// sr_fault_largest() the biggest one (a 10 GB claim in a 1 KB file must not get near it).
#ifndef SIMREG_FAULT_H
#define SIMREG_FAULT_H
#ifdef SR_FAULT_INJECTION

#include <stddef.h>

void sr_fault_fail_at(long n);
long sr_fault_allocs(void);
int sr_fault_fired(void);                // whether the armed failure has happened
size_t sr_fault_largest(void);           // largest request since the last sr_fault_fail_at, in bytes
int sr_fault_should_fail(size_t bytes);  // counts one allocation; 1 when it must fail

void *sr_fault_malloc(size_t n);
void *sr_fault_calloc(size_t n, size_t size);
void *sr_fault_realloc(void *p, size_t n);
char *sr_fault_strdup(const char *s);

// Function-like macros: system headers' own declarations of these names become (compatible)
// redeclarations of the wrappers, so the header may come before or after <stdlib.h>/<string.h>.
#ifndef SR_FAULT_NO_MACROS
#define malloc(n)     sr_fault_malloc(n)
#define calloc(n, s)  sr_fault_calloc(n, s)
#define realloc(p, n) sr_fault_realloc(p, n)
#define strdup(s)     sr_fault_strdup(s)
#endif

#endif
#endif
