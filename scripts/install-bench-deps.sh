#!/usr/bin/env bash
# Installs what `make bench` needs beyond the build dependencies: Google Benchmark, Node.js,
# procps/util-linux (lscpu), and the pinned npm packages of bench/npm (the official MCP SDK
# client, server-everything, the peers mcp-proxy and supergateway, the js-tiktoken tokenizer)
# into the git-ignored folder .cache/bench. Profilers (perf, valgrind, heaptrack) are only
# installed with BENCH_PROFILERS=1: the harness does not need them.
source "$(dirname "$0")/lib.sh"
root="$(cd "$(dirname "$0")/.." && pwd)"
apt_install_missing libbenchmark-dev procps util-linux
if [ "${BENCH_PROFILERS:-0}" = 1 ]; then apt_install_missing linux-perf valgrind heaptrack; fi
if ! command -v node >/dev/null; then apt_install_missing nodejs; fi
if ! command -v npm >/dev/null; then apt_install_missing npm; fi

dest="$root/.cache/bench"
mkdir -p "$dest"
src="$root/bench/npm"
# Reinstall only when the pinned manifest changed.
if ! cmp -s "$src/package-lock.json" "$dest/package-lock.json" || [ ! -d "$dest/node_modules" ]; then
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error)
fi
