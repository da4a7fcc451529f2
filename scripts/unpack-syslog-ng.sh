#!/usr/bin/env bash
# Unpacks Debian's syslog-ng (and the libraries it needs that are not installed) into .cache/syslog-ng,
# where the tests run it beside rsyslog: the two conflict as installed Debian packages, an unpacked
# copy does not. Idempotent: does nothing when .cache/syslog-ng/usr/sbin/syslog-ng exists.
# Usage: bash scripts/unpack-syslog-ng.sh     (as root, after apt-get update; run by scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
dest="$PWD/.cache/syslog-ng"
if [ -x "$dest/usr/sbin/syslog-ng" ]; then exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
packages=(syslog-ng-core libivykis0 libnet1 libpcre3 libwrap0)
(cd "$work" && apt-get download -qq "${packages[@]}" 2>/dev/null) || {
  apt-get update -qq
  (cd "$work" && apt-get download -qq "${packages[@]}")
}
mkdir -p "$dest.tmp"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$dest.tmp"; done
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "unpack-syslog-ng: syslog-ng unpacked into $dest"
