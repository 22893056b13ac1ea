# Reliability builds (docs/ERRORS.md):
#   SIMREG_SANITIZE=ON        ASan + UBSan on everything we compile; the first report aborts (no recovery).
#   SIMREG_FAULT_INJECTION=ON a test-only allocation-failure hook (sr_fault_fail_at, src/core/fault.c):
#                             the single exception to "no mutable globals", never on in release builds.
#   SIMREG_FUZZ=ON            libFuzzer targets in fuzz/ (clang only; implies coverage instrumentation).
option(SIMREG_FAULT_INJECTION "Test-only allocation-failure injection hook" OFF)
option(SIMREG_FUZZ "Build the libFuzzer targets (clang)" OFF)

# simreg.pc: programs linking an instrumented libsimreg need the sanitizer runtimes first.
set(SR_PC_SANITIZE "")
if(SIMREG_SANITIZE)
  set(_sr_san -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_compile_options(sr_deps INTERFACE ${_sr_san})
  target_link_options(sr_deps INTERFACE -fsanitize=address,undefined)
  set(SR_PC_SANITIZE "-fsanitize=address,undefined")
endif()

if(SIMREG_FAULT_INJECTION)
  # Every malloc/calloc/realloc/strdup of our own sources goes through the countdown (fault.h is
  # force-included); sr_alloc/sr_calloc check it directly. Third-party code is not affected.
  target_compile_definitions(sr_deps INTERFACE SR_FAULT_INJECTION=1)
  target_compile_options(sr_deps INTERFACE -include ${CMAKE_SOURCE_DIR}/src/core/fault.h)
endif()

if(SIMREG_FUZZ)
  include(CheckCSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS -fsanitize=fuzzer)
  check_c_source_compiles("#include <stdint.h>
#include <stddef.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }" SR_HAVE_LIBFUZZER)
  unset(CMAKE_REQUIRED_FLAGS)
  if(NOT SR_HAVE_LIBFUZZER)
    message(FATAL_ERROR "SIMREG_FUZZ needs a compiler with -fsanitize=fuzzer (Debian: clang + libclang-rt-14-dev)")
  endif()
  # Library code gets coverage instrumentation; the fuzz executables link libFuzzer's main.
  target_compile_options(sr_deps INTERFACE -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=all -g -Wno-pass-failed)  # clang: "loop not vectorized" under instrumentation
  target_link_options(sr_deps INTERFACE -fsanitize=address,undefined)
endif()
