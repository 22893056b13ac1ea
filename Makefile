# Thin wrapper over CMake for the README's two commands.
BUILD ?= build
JOBS ?= 2
CTEST_ARGS ?= -LE long

.PHONY: all deps build main test test-all bench install clean
all: build

deps:
	sh scripts/install-deps.sh

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# README command 1: install, build, run the main job.
main: deps build
	sh scripts/main-job.sh $(BUILD)

# README command 2: install, build, run the test suite (long tests excluded; see test-all).
test: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

test-all: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

bench: deps build
	sh bench/run.sh $(BUILD)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD)
