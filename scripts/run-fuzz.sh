#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz": clang 16, ASan + UBSan) and runs each one for
# FUZZ_SECONDS (default 20) on a temporary copy of its seed corpus in tests/fuzz/corpus/<target>,
# so the repository is never written to. Prints one line per target; exits non-zero when a
# target crashes, leaks, times out or hits a sanitizer report. Used by `make test` and `make fuzz`.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
JOBS="${JOBS:-$(nproc)}"
targets=(jsonrpc_fuzz sse_fuzz scanner_fuzz manifest_fuzz search_fuzz jose_fuzz)

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$JOBS"

work="$(mktemp -d "${TMPDIR:-/tmp}/mcpproxy-fuzz.XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

failed=0
for target in "${targets[@]}"; do
  binary="$root/build/fuzz/$target"
  if [ ! -x "$binary" ]; then
    echo "fuzz $target: FAILED (no binary at $binary)"
    failed=1
    continue
  fi
  corpus="$work/$target/corpus"
  artifacts="$work/$target/artifacts"
  mkdir -p "$corpus" "$artifacts"
  if [ -d "$root/tests/fuzz/corpus/$target" ]; then
    cp -R "$root/tests/fuzz/corpus/$target/." "$corpus/"
  fi
  log="$work/$target/log"
  status=0
  # Run inside the temporary directory: libFuzzer writes crash-*/leak-* files to the working
  # directory unless -artifact_prefix says otherwise, and it may write fuzz-*.log files there.
  (cd "$work/$target" &&
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
    "$binary" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus" >"$log" 2>&1) || status=$?

  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  secs="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
  time_s="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | sed 's/cov: //')"
  if [ "$status" -eq 0 ]; then
    echo "fuzz $target: ok, ${runs:-?} runs in ${time_s:-$FUZZ_SECONDS} s (${secs:-?} exec/s, cov ${cov:-?}, corpus $(find "$corpus" -type f | wc -l) inputs)"
  else
    failed=1
    echo "fuzz $target: FAILED (exit $status) after ${runs:-?} runs; last lines of the log:"
    tail -n 40 "$log" | sed 's/^/  /'
    for artifact in "$artifacts"/*; do
      [ -e "$artifact" ] || continue
      echo "  reproducer: $(basename "$artifact") (base64, decode and run: build/fuzz/$target FILE)"
      base64 -w 0 "$artifact" | head -c 4096 | sed 's/^/    /'
      echo
    done
  fi
done
exit "$failed"
