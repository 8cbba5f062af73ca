#!/bin/sh
# tests/e2e_setup_packages.sh — tools/setup-packages.sh (make setup's package step) against a fake apt:
# dpkg, dpkg-query, apt-get, sudo and sleep are stand-ins on PATH that record what they were asked.
#   1. a mirror whose armhf index fails (as a mirror mid-sync does, which makes apt drop the whole repository):
#      the update is retried, then repeated without armhf; everything but the :armhf packages is installed
#      (same architectures), the left-out packages are named, and the exit status is 0;
#   2. a failing native index: no architecture is dropped, the whole install is tried (and its failure is
#      the script's);
#   3. a whole mirror: one update, one install of everything missing;
#   4. everything installed: no apt at all.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fake=$work/bin
mkdir -p "$fake"
fail() { echo "e2e_setup_packages: FAIL: $*" >&2; exit 1; }

cat >"$fake/dpkg" <<'EOF'
#!/bin/sh
case $1 in
  --print-architecture) echo amd64 ;;
  --print-foreign-architectures) printf 'arm64\narmhf\n' ;;
  --add-architecture) echo "add-architecture $2" >>"$FAKE_LOG" ;;
esac
EOF
cat >"$fake/dpkg-query" <<'EOF'
#!/bin/sh
# every package is missing unless FAKE_INSTALLED=1
[ "${FAKE_INSTALLED:-0}" = 1 ] && { printf 'install ok installed'; exit 0; }
exit 1
EOF
cat >"$fake/apt-get" <<'EOF'
#!/bin/sh
echo "apt-get $*" >>"$FAKE_LOG"
case " $* " in
  *" update "*)
    case $FAKE_BROKEN in
      none) exit 0 ;;
      *) case " $* " in *"APT::Architectures::="*)
           case " $* " in *"APT::Architectures::=$FAKE_BROKEN "*) ;; *) exit 0 ;; esac ;; esac
         echo "E: Failed to fetch http://deb.debian.org/debian-security/dists/bookworm-security/main/binary-$FAKE_BROKEN/Packages.xz  File has unexpected size (356624 != 356976). Mirror sync in progress? [IP: 203.0.113.80 80]" >&2
         echo "E: Some index files failed to download. They have been ignored, or old ones used instead." >&2
         exit 100 ;;
    esac ;;
  *" install "*) exit "${FAKE_INSTALL_RC:-0}" ;;
esac
EOF
printf '#!/bin/sh\nexec "$@"\n' >"$fake/sudo"
printf '#!/bin/sh\necho "sleep $*" >>"$FAKE_LOG"\n' >"$fake/sleep"
chmod +x "$fake"/*

run() { # BROKEN -> output in $work/out, log in $work/log, status in $rc
  : >"$work/log"
  rc=0
  PATH="$fake:$PATH" FAKE_LOG="$work/log" FAKE_BROKEN=$1 sh "$top/tools/setup-packages.sh" gcc libfoo-dev -- \
    libfoo-dev:arm64 libfoo-dev:armhf libbar-dev:armhf >"$work/out" 2>&1 || rc=$?
}
installs() { grep -c ' install ' "$work/log" || true; }
install_line() { grep ' install ' "$work/log" | tail -1; }

# 1. the armhf index fails
run armhf
[ $rc = 0 ] || { cat "$work/out"; fail "a broken armhf index: exit $rc"; }
[ "$(grep -c ' update' "$work/log")" = 3 ] || { cat "$work/log"; fail "expected update, retry, update without armhf"; }
grep -q '^sleep ' "$work/log" || fail "no pause before the retry"
grep ' update' "$work/log" | tail -1 | grep -q 'APT::Architectures::=amd64 -o APT::Architectures::=arm64' ||
  fail "the last update does not name amd64 and arm64 only: $(grep ' update' "$work/log" | tail -1)"
[ "$(installs)" = 1 ] || fail "expected one install"
l=$(install_line)
case $l in *armhf*) fail "armhf packages installed: $l" ;; esac
for p in gcc libfoo-dev libfoo-dev:arm64 'APT::Architectures::=arm64'; do
  case " $l " in *" $p "*) ;; *) fail "install lacks $p: $l" ;; esac
done
grep -q 'WARNING: not installed, as the mirror.s armhf index is broken: libfoo-dev:armhf libbar-dev:armhf' "$work/out" ||
  { cat "$work/out"; fail "the left-out packages are not named"; }
grep -q "run 'make setup' again" "$work/out" || fail "no advice to run make setup again"

# 2. the native index fails: nothing dropped, the install tried whole, its failure is the script's
run amd64
[ "$(installs)" = 1 ] || fail "a broken native index: expected one install"
l=$(install_line)
case $l in *APT::Architectures*) fail "a broken native index dropped an architecture: $l" ;; esac
case $l in *libbar-dev:armhf*) ;; *) fail "a broken native index: armhf packages not asked for: $l" ;; esac
grep -q 'trying the install anyway' "$work/out" || fail "a broken native index is not reported"
: >"$work/log"
rc=0
PATH="$fake:$PATH" FAKE_LOG="$work/log" FAKE_BROKEN=amd64 FAKE_INSTALL_RC=100 sh "$top/tools/setup-packages.sh" gcc -- \
  >/dev/null 2>&1 || rc=$?
[ $rc != 0 ] || fail "a failed install did not fail the script"

# 3. a whole mirror
run none
[ $rc = 0 ] || fail "a whole mirror: exit $rc"
[ "$(grep -c ' update' "$work/log")" = 1 ] || fail "a whole mirror: more than one update"
case $(install_line) in *"libfoo-dev:arm64 libfoo-dev:armhf libbar-dev:armhf"*) ;; *) fail "a whole mirror: $(install_line)" ;; esac
if grep -q WARNING "$work/out"; then fail "a whole mirror: a warning"; fi

# 4. everything installed
: >"$work/log"
out=$(PATH="$fake:$PATH" FAKE_LOG="$work/log" FAKE_BROKEN=none FAKE_INSTALLED=1 sh "$top/tools/setup-packages.sh" gcc -- libfoo-dev:armhf)
[ "$out" = "setup: all Debian packages present" ] || fail "all present: '$out'"
[ ! -s "$work/log" ] || fail "all present, yet: $(cat "$work/log")"
echo "e2e_setup_packages: PASS (a broken armhf index, a broken native index, a whole mirror, nothing missing)"
