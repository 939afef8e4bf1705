#!/usr/bin/env bash
# Installs the pinned real MCP servers of tests/scanner-corpus (package.json + package-lock.json)
# into the git-ignored .cache/scanner-corpus, for re-collecting the scanner's real-server corpus
# with `node tests/scanner-corpus/collect.mjs`. Not part of `make test`: the tests read the
# committed tests/data/security-dev/real_servers_tools.jsonl. Browser downloads are skipped (the
# servers list their tools without a browser).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/tests/scanner-corpus"
dest="$root/.cache/scanner-corpus"
mkdir -p "$dest"
if ! cmp -s "$src/package-lock.json" "$dest/package-lock.json" || [ ! -d "$dest/node_modules" ]; then
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  (cd "$dest" && PUPPETEER_SKIP_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    npm ci --no-audit --no-fund --loglevel=error)
fi
