#!/usr/bin/env bash
# Installs every Debian 12 package Grove needs to build, test, fuzz and benchmark.
# Idempotent: only missing packages are installed, so a prepared machine pays nothing.
set -euo pipefail

BUILD_PKGS=(build-essential cmake ninja-build pkg-config git
  libasio-dev libssl-dev libsqlite3-dev libspdlog-dev libfmt-dev libcli11-dev
  libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev node-llhttp
  clang libclang-rt-14-dev clang-format)
# Real peer programs the end-to-end tests start on loopback.
PEER_PKGS=(squid tinyproxy dante-server microsocks socat apache2-utils haproxy
  httptunnel mosquitto mosquitto-clients procps iproute2 python3)

want=("${BUILD_PKGS[@]}")
[ "${GROVE_NO_PEERS:-0}" = 1 ] || want+=("${PEER_PKGS[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "grove: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Peer daemons must not start system-wide instances: tests start their own on loopback.
printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
$SUDO chmod +x /usr/sbin/policy-rc.d
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
$SUDO rm -f /usr/sbin/policy-rc.d
# Debian starts some daemons anyway on systems without policy-rc.d support; stop them quietly.
for svc in squid tinyproxy danted haproxy mosquitto; do
  $SUDO pkill -x "$svc" 2>/dev/null || true
done
