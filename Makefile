# Thin wrapper over CMake for the README's two commands.
BUILD ?= build
JOBS ?= 2
CTEST_ARGS ?= -LE long

ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
# Sanitizer runtime settings (docs/ERRORS.md): stop at the first report; leaks of third-party libraries
# (fontconfig, Open MPI) suppressed by library name in a committed file, never our own code. Full
# unwinding on malloc so leaks inside dlopen'ed MPI plugins are attributed to their library.
SAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/sanitizers/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 OMPI_MCA_mca_base_component_disable_dlclose=1

.PHONY: all deps deps-main build build-cli main test test-plain test-asan fuzz-ci test-all bench bench-study install clean format format-check
all: build

deps:
	sh scripts/install-deps.sh

# Build and main-job packages only (no fuzzing compiler, browser or valgrind: those are for make test).
deps-main:
	sh scripts/install-deps.sh main

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The CLI alone (the main job needs nothing else; tests and benches are make build's).
build-cli:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target simreg_cli

# README command 1: install, build the CLI, run the main job.
main: deps-main build-cli
	sh scripts/main-job.sh $(BUILD)

# README command 2: install, build, run the test suite (long tests excluded; see test-all), then the same
# suite under ASan+UBSan (with the allocation-failure sweeps), then every fuzz target for FUZZ_SECONDS.
test: format-check test-plain test-asan fuzz-ci

# Every C file of the tree formatted by the committed .clang-format (Debian's clang-format 14).
FORMAT_FILES = $(shell find include src tools tests bench fuzz -name '*.[ch]' | sort)
format-check: deps
	@clang-format --dry-run -Werror $(FORMAT_FILES)
	@echo "format-check: $(words $(FORMAT_FILES)) files formatted"

format:
	clang-format -i $(FORMAT_FILES)

test-plain: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# The whole default suite built with -fsanitize=address,undefined and the fault-injection hook.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIMREG_SANITIZE=ON -DSIMREG_FAULT_INJECTION=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	$(SAN_ENV) ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# libFuzzer smoke: each target FUZZ_SECONDS from the committed seeds, JOBS at a time (clang).
fuzz-ci: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIMREG_FUZZ=ON -DSIMREG_TESTS=OFF >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_npy fuzz_safetensors fuzz_idx fuzz_cifar fuzz_png fuzz_jpeg fuzz_json fuzz_cli fuzz_onnx
	sh scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(JOBS)

test-all: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

bench: deps build
	sh bench/run.sh $(BUILD)

# The study's workload (regularized steps, attack queries, Fourier-map stream) beside PyTorch (issue 25).
bench-study: deps build
	sh bench/study_mix.sh $(BUILD) 3

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD)
