#!/usr/bin/env bash
# Builds sealwatch's own N-API addon, native/sight/ (file and connection sight: inotify with IN_OPEN, openat2 in a
# neighbour's root, a sock_diag destroy socket in another network namespace), offline: npm's bundled node-gyp
# against the installed Node headers (/usr/include/node, from the nodejs package). Needs gcc, make and python3.
# Usage: bash scripts/build-native.sh   (or npm run build:native). Output: native/sight/build/Release/sight.node
set -euo pipefail
cd "$(dirname "$0")/../native/sight"
gyp=""
for dir in "$(npm root -g 2>/dev/null)/npm" "$(dirname "$(readlink -f "$(command -v npm)")")/.."; do
  if [ -f "$dir/node_modules/node-gyp/bin/node-gyp.js" ]; then gyp="$dir/node_modules/node-gyp/bin/node-gyp.js"; break; fi
done
[ -n "$gyp" ] || { echo "build-native: npm's bundled node-gyp not found (is npm installed?)" >&2; exit 1; }
args=(rebuild)
# the headers of the node that runs us, when they are installed (no download); otherwise node-gyp fetches them
nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
[ -f "$nodedir/include/node/node_api.h" ] && args+=("--nodedir=$nodedir")
node "$gyp" "${args[@]}" --loglevel=warn
echo "build-native: built native/sight/build/Release/sight.node"
