// Internals of src/rsa shared with the tests and benchmarks.
#ifndef SIMREG_RSA_INTERNAL_H
#define SIMREG_RSA_INTERNAL_H

#include "simreg/rsa.h"

// sr_alloc, then transparent huge pages asked for (madvise) on the whole 2 MiB pages inside: the pair
// matrices are 100 MB each at N = 5000, and 4 KiB pages cost a fault per page on first touch and TLB misses
// in gathers.
void *sr_rsa_big_alloc(size_t bytes);

// How the Mantel sums are evaluated: SR_RSA_MANTEL_AUTO picks sparse when one value covers >= 90 % of the
// target's pairs, else dense; the others force one form (both give the same sums up to float rounding).
enum { SR_RSA_MANTEL_AUTO = 0, SR_RSA_MANTEL_DENSE = 1, SR_RSA_MANTEL_SPARSE = 2 };
sr_status sr_rsa_mantel_sums_how(const sr_mantel *mt, int how, double *out, sr_err *err);

#endif
