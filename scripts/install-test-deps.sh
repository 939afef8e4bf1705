#!/usr/bin/env bash
# Installs what the tests need: GoogleTest, clang 16 + libFuzzer for the fuzz targets, chromium,
# Node.js, and the pinned npm packages (real MCP servers and the official SDK client)
# into the git-ignored folder .cache/npm.
source "$(dirname "$0")/lib.sh"
root="$(cd "$(dirname "$0")/.." && pwd)"
apt_install_missing libgtest-dev libgmock-dev libbenchmark-dev clang-16 libclang-rt-16-dev clang-format
# Debian's chromium for the browser tests (driven by playwright-core from the npm folder below).
apt_install_missing chromium
# Node.js: keep whatever node/npm the machine has (a NodeSource nodejs bundles npm and conflicts
# with Debian's npm package); install Debian's only when they are missing.
if ! command -v node >/dev/null; then apt_install_missing nodejs; fi
if ! command -v npm >/dev/null; then apt_install_missing npm; fi

dest="$root/.cache/npm"
mkdir -p "$dest"
src="$root/tests/integration"
# Reinstall only when the pinned manifest changed.
if ! cmp -s "$src/package-lock.json" "$dest/package-lock.json" || [ ! -d "$dest/node_modules" ]; then
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error)
fi
