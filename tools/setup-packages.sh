#!/bin/sh
# Installs the Debian packages the build, tests and cross builds need, only those missing.
# usage: setup-packages.sh PKG... -- CROSS_PKG...   (CROSS_PKG are multiarch, e.g. libcmocka-dev:arm64)
#
# A mirror caught mid-sync can serve one architecture's package index with the wrong size.  apt then drops that
# whole repository (e.g. all of bookworm-security, for every architecture), and the packages installed from it
# can no longer be matched: the install fails with "held broken packages".  So: retry the update once; if only
# foreign (cross) architectures' indices still fail, update without them, install everything else, and say
# which cross packages were left out (`make setup` again installs them once the mirror is whole).
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
foreign="arm64 armhf"
for a in $foreign; do
  dpkg --print-foreign-architectures | grep -qx $a || $SUDO dpkg --add-architecture $a
done
log=$(mktemp); trap 'rm -f "$log"' EXIT
# apt-get update, its errors kept in $log (and shown)
update() { rc=0; $SUDO apt-get update -qq "$@" 2>"$log" || rc=$?; cat "$log" >&2; return $rc; }
opts=""; skipped=""
if ! update && ! { sleep 10; update; }; then
  # the architectures whose indices failed; those not named (InRelease, ...) count as the native one
  broken=$(grep '^E: Failed to fetch' "$log" | sed 's|.*/binary-\([a-z0-9]*\)/.*|\1|; t; s/.*/native/' | sort -u)
  only_foreign=1
  for a in $broken; do case " $foreign " in *" $a "*) ;; *) only_foreign=0 ;; esac; done
  if [ -n "$broken" ] && [ $only_foreign = 1 ]; then
    opts="-o APT::Architectures::=$(dpkg --print-architecture)"
    for a in $foreign; do echo "$broken" | grep -qx "$a" || opts="$opts -o APT::Architectures::=$a"; done
    for p in $missing; do
      for a in $broken; do case $p in *:"$a") skipped="$skipped $p" ;; esac; done
    done
    keep=""
    for p in $missing; do case " $skipped " in *" $p "*) ;; *) keep="$keep $p" ;; esac; done
    missing=$keep
    echo "setup: the mirror's package index for $(echo $broken) failed twice; updating without it" >&2
    # shellcheck disable=SC2086
    update $opts || echo "setup: apt-get update reported errors again; trying the install anyway" >&2
  else
    echo "setup: apt-get update reported errors; trying the install anyway" >&2
  fi
fi
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $opts $missing
fi
if [ -n "$skipped" ]; then
  echo "setup: WARNING: not installed, as the mirror's $(echo $broken) index is broken:$skipped" >&2
  echo "setup: WARNING: the cross builds for that architecture need them; run 'make setup' again later" >&2
fi
