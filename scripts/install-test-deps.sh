#!/usr/bin/env bash
# Installs what the tests need: GoogleTest, clang 16 + libFuzzer for the fuzz targets,
# Node.js, and the pinned npm packages (real MCP servers and the official SDK client)
# into the git-ignored folder .cache/npm.
source "$(dirname "$0")/lib.sh"
root="$(cd "$(dirname "$0")/.." && pwd)"
apt_install_missing libgtest-dev libgmock-dev clang-16 libclang-rt-16-dev clang-format nodejs npm

dest="$root/.cache/npm"
mkdir -p "$dest"
src="$root/tests/integration"
# Reinstall only when the pinned manifest changed.
if ! cmp -s "$src/package-lock.json" "$dest/package-lock.json" || [ ! -d "$dest/node_modules" ]; then
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error)
fi
