#!/bin/sh
# Install every Debian package simreg uses. Idempotent: does nothing when all are present.
set -eu
PKGS="build-essential cmake pkg-config libdnnl-dev libopenblas-dev libfftw3-dev libplplot-dev
plplot-driver-cairo libcjson-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libopenmpi-dev openmpi-bin
dataset-fashion-mnist python3-pil chromium clang libclang-rt-14-dev valgrind"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then echo "install-deps: all packages present"; exit 0; fi
echo "install-deps: installing$missing"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
