# Entry points (see README): `make run` and `make test` do all set-up on a fresh Debian 12 /
# Ubuntu machine. Builds use CMake presets (CMakePresets.json) and ccache.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_DIR ?= $(HOME)/.cache/ccache
FUZZ_SECONDS ?= 20

.PHONY: all build run test deps test-deps unit-test tsan fuzz format format-check lint bench clean

all: build

deps:
	@scripts/install-deps.sh

test-deps: deps
	@scripts/install-test-deps.sh

# Release binary at build/mcpproxy.
build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target mcpproxy
	@cp build/release/mcpproxy build/mcpproxy
	@echo "built build/mcpproxy"

# Starts the proxy on 127.0.0.1:8080 with ~/.mcpproxy/mcp_config.json (created on first run).
run: build
	./build/mcpproxy serve $(ARGS)

# Every test, under ASan+UBSan: formatting, unit tests, integration tests with real MCP
# software from npm, then a short fuzzing run.
test: test-deps format-check
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	@cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-fuzz.sh

# The unit tests under ThreadSanitizer (the store's worker thread, transports). Not part of
# `make test`, to keep CI well under its time budget.
tsan: test-deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan -j $(JOBS) --target unit_tests
	@TSAN_OPTIONS=halt_on_error=1 ./build/tsan/tests/unit_tests

fuzz: test-deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-fuzz.sh

FORMAT_FILES = $(shell git ls-files '*.cc' '*.h')
format:
	@clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "clang-format: clean"

# clang-tidy over src/ (slow: not part of `make test`; see docs/STYLE.md).
lint: deps
	@cmake --preset debug >/dev/null
	@run-clang-tidy-16 -quiet -p build/debug -extra-arg=-Wno-macro-redefined \
	  -extra-arg=-D__cpp_concepts=202002L '$(CURDIR)/src/.*\.cc$$'

# Benchmarks (release build): bench/run.mjs reproduces every table of docs/benchmarks.md (about
# 8 minutes; BENCH_RUNS=N runs per figure, default 5; name sections to run only those, e.g.
# `make bench BENCH=latency`). Results also go to build/bench/results.{md,json}. Not in `make test`.
BENCH ?=
bench: deps
	@scripts/install-bench-deps.sh
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target mcpproxy search_bench bench_load_client \
	  bench_echo_server mcp_fixture_server
	@node bench/run.mjs $(BENCH)

clean:
	rm -rf build
