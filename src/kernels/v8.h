// Internal: 8 floats as one value (the GCC/Clang vector extension): one ymm with AVX2, two xmm without.
// The Winograd transforms hold a tile's points in these, so that each point moves as one 32-byte load or
// store: a 32-byte memcpy is emitted as two 16-byte moves, and a 32-byte load of data just stored in two
// halves stalls until both stores retire.
#ifndef SR_LAYERS_V8_H
#define SR_LAYERS_V8_H

typedef float sr_v8 __attribute__((vector_size(32)));
typedef int sr_v8i __attribute__((vector_size(32)));
// The same at any float's address: GCC and Clang let a vector type alias its element type.
typedef float sr_v8u __attribute__((vector_size(32), aligned(4)));

#define SR_V8_LOAD(p)     (*(const sr_v8u *)(p))
#define SR_V8_STORE(p, v) (*(sr_v8u *)(p) = (v))

#endif
