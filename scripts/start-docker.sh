#!/usr/bin/env bash
# Start a local Docker engine for sealwatch's tests if none answers.
# Networking is loopback-only by design: no bridge, no iptables; containers use --network host|none|container:<id>.
# Usage: scripts/start-docker.sh   (as root; installs nothing: see .ci/run for the packages)
set -euo pipefail
if docker info >/dev/null 2>&1; then
  echo "docker: engine already answers"
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker: dockerd not found; install it with: apt-get install -y docker.io" >&2
  exit 3
fi
log=${SEALWATCH_DOCKERD_LOG:-/var/log/sealwatch-dockerd.log}
setsid dockerd --bridge=none --iptables=false >"$log" 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker: engine ready ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 0.5
done
echo "docker: engine did not answer within 30 s; see $log" >&2
tail -n 20 "$log" >&2 || true
exit 3
