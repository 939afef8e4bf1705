#!/usr/bin/env bash
# Saves screenshots of the web UI (each main page at 1280px, the dashboard at 390px and in dark
# mode, the review dialog) into docs/ui/, taken by the browser test against the real daemon.
# Needs `make test-deps` and an asan build (cmake --build --preset asan --target mcpproxy
# mcp_fixture_server).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build/asan}"
export MCPPROXY_BIN="$build/mcpproxy" FIXTURE_BIN="$build/tests/mcp_fixture_server"
export NPM_DIR="$root/.cache/npm" MCPPROXY_UI_SCREENSHOTS="$root/docs/ui"
node --test --test-concurrency=1 --test-name-pattern='screenshots' "$root/tests/integration/ui.test.mjs"
ls -l "$root/docs/ui"
