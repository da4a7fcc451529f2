#!/usr/bin/env bash
# Set up a Debian/Ubuntu machine (as root) to run sealwatch, its demo and its tests:
# Debian packages for the real peers the tests use, a local Docker engine (loopback-only), and npm ci.
# Usage: bash scripts/setup.sh     (idempotent: installs only what is missing, reuses a running engine)
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

# docker.io + docker-compose: the engine the seal, watch and deploy tests run against.
# busybox-static: scratch test images. rsyslog + rsyslog-gnutls: the SIEM receiver (CEF, RFC 5424, JSON, TLS).
# openssl: independent signature checks. chromium: renders the HTML audit report. docker-registry + skopeo:
# a local registry for `seal --push` and `audit latest`. Not syslog-ng: it conflicts with rsyslog.
packages=(docker.io docker-compose busybox-static rsyslog rsyslog-gnutls openssl ca-certificates iproute2 procps
  chromium docker-registry skopeo python3)
packages+=(stress-ng)  # the CI gate runs the suite with stress-ng --cpu 2 beside it (a busy machine)
packages+=(containerd)  # a containerd of the tests' own (and ctr) for the host agent on containerd
packages+=(prometheus)  # a real Prometheus and promtool for deploy/prometheus and deploy/grafana (test/deploy/prometheus.test.ts)
command -v kubectl >/dev/null || packages+=(kubernetes-client)  # kubectl kustomize renders deploy/kubernetes in the tests
packages+=(zsh fish)  # the shell completion tests run each script in its real shell (test/cli/completion.test.ts)
packages+=(gcc make)  # builds our N-API addon native/sight/ (file and connection sight) with npm's bundled node-gyp
packages+=(poppler-utils) # pdftotext: reads the audit report Chromium printed to PDF (test/audit/report-chromium.test.ts)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# syslog-ng, the second real receiver of the output tests, unpacked beside rsyslog into .cache/ (they conflict as packages).
bash scripts/unpack-syslog-ng.sh
scripts/start-docker.sh
npm ci --no-audit --no-fund
bash scripts/build-native.sh  # native/sight/build/Release/sight.node (offline: the installed Node headers)
echo "setup: done"
