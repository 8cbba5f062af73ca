#!/bin/sh
# Installs the Debian packages the build, tests and cross builds need, only those missing.
# usage: setup-packages.sh PKG... -- CROSS_PKG...   (CROSS_PKG are multiarch, e.g. libcmocka-dev:arm64)
set -eu
native=""; cross=""; seen=0
for p in "$@"; do
  if [ "$p" = "--" ]; then seen=1; continue; fi
  if [ $seen = 0 ]; then native="$native $p"; else cross="$cross $p"; fi
done
missing=""
for p in $native $cross; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then echo "setup: all Debian packages present"; exit 0; fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "setup: installing$missing"
for a in arm64 armhf; do
  dpkg --print-foreign-architectures | grep -qx $a || $SUDO dpkg --add-architecture $a
done
# A mirror mid-sync can fail one index; what we need is usually still there, so retry, then go on.
$SUDO apt-get update -qq || { sleep 5; $SUDO apt-get update -qq || echo "setup: apt-get update reported errors; trying the install anyway" >&2; }
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
