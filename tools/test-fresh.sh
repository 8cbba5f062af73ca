#!/bin/sh
# tools/test-fresh.sh — `make test-fresh`: the README's set-up and test commands, exactly as written, on a fresh
# Debian 12 root, as a new user would run them.
#
# Builds a minimal root with `mmdebstrap --variant=apt bookworm` (Essential packages + apt; git, make and
# ca-certificates added, nothing else), clones this checkout's HEAD into the root's home folder (/root/w/main,
# mode 700) with a copy of ../shared beside it, and, as root in `chroot` with only /proc and /dev bound and a
# tmpfs on /tmp, runs:
#   1. the first two `make ...` lines of README.md's first code block (set-up, then the tests), word for word;
#   2. the README's main-job line (`./sortbyface embed -src photos/ && ./sortbyface sort`) on a copy of the
#      shared example photos, and checks that it sorted them into person folders;
#   3. the cross test `make test-cross ARCH=aarch64` (the README's board section), which also unpacks the
#      `make dist` archive into an empty folder and runs it under qemu.
# Prints the time of each step.  Uncommitted changes are NOT tested (the clone takes HEAD): commit first.
#
#   tools/test-fresh.sh [--keep] [--bench-deps] [--no-cross]
#     --keep        leave the root in build/fresh/root (default: removed at the end)
#     --bench-deps  instead of the above, run `make setup` then `make bench-deps` and check the benchmark peers
#                   it installs import and run (make test-fresh-bench)
#     --no-cross    skip step 3
# Environment: SBF_SHARED (default ../shared), FRESH_MIRROR (default http://deb.debian.org/debian).
# Needs root (mmdebstrap, chroot, mount) and network access to the Debian mirror.
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
KEEP=0; MODE=test; CROSS=1
for a in "$@"; do
  case $a in
    --keep) KEEP=1 ;;
    --bench-deps) MODE=bench ;;
    --no-cross) CROSS=0 ;;
    *) echo "test-fresh: unknown option $a" >&2; exit 2 ;;
  esac
done
SHARED=${SBF_SHARED:-$TOP/../shared}
MIRROR=${FRESH_MIRROR:-http://deb.debian.org/debian}
SECMIRROR=${FRESH_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
FRESH=$TOP/build/fresh
ROOT=$FRESH/root
[ "$(id -u)" = 0 ] || { echo "test-fresh: needs root (mmdebstrap, chroot, mount)" >&2; exit 2; }
[ -d "$SHARED/data" ] || { echo "test-fresh: FAIL: no shared data at $SHARED" >&2; exit 1; }
command -v mmdebstrap >/dev/null || sh tools/setup-packages.sh mmdebstrap --
git diff --quiet HEAD 2>/dev/null || echo "test-fresh: note: uncommitted changes are not part of the check (it clones HEAD $(git rev-parse --short HEAD))"

now() { date +%s; }
T0=$(now)
step() { echo "== test-fresh [$(( $(now) - T0 )) s] $*"; }

unmount_all() {
  # every mount under the root, deepest first (the tests mount tmpfs folders under /tmp themselves)
  for m in $(awk -v r="$ROOT" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}
cleanup() {
  unmount_all
  if [ $KEEP = 0 ] && [ -d "$ROOT" ]; then
    if awk -v r="$ROOT" 'index($2, r) == 1 { f = 1 } END { exit !f }' /proc/mounts; then
      echo "test-fresh: something is still mounted under $ROOT; not removing it" >&2
    else
      rm -rf --one-file-system "$ROOT"
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the root ----------------------------------------------------------------------------------------
cleanup
mkdir -p "$FRESH"
step "mmdebstrap --variant=apt bookworm (git, make, ca-certificates)"
mmdebstrap --quiet --variant=apt --include=git,make,ca-certificates bookworm "$ROOT" \
  "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" "deb $SECMIRROR bookworm-security main"
chmod 700 "$ROOT/root"
mkdir -p "$ROOT/root/w"
git clone -q --no-hardlinks "$TOP" "$ROOT/root/w/main"
cp -a "$SHARED" "$ROOT/root/w/shared"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
# The root is made a private mount point of its own, so that inside the chroot '/' is a mount (tests that hide a
# folder in a private mount namespace, like tests/dist_check.sh, need that) and nothing mounted below it
# propagates to the host.
mount --bind "$ROOT" "$ROOT"
mount --make-private "$ROOT"
mount -t proc proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
mount -t tmpfs -o mode=1777 tmpfs "$ROOT/tmp"

# Runs one command line as root inside the root, in the clone, with a login-like clean environment.
in_root() {
  chroot "$ROOT" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/sh LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -c "cd /root/w/main && $1"
}

# The README's commands: the first code block's lines that start with 'make', comments stripped.
readme_cmds=$(awk '/^```/ { n++; next } n == 1 && /^make / { sub(/[ \t]*#.*/, ""); print }' "$ROOT/root/w/main/README.md" | head -2)
[ "$(printf '%s\n' "$readme_cmds" | grep -c .)" = 2 ] || { echo "test-fresh: FAIL: README.md's first code block lost its two make lines" >&2; exit 1; }

if [ $MODE = bench ]; then
  step "make setup"; in_root "make setup"
  step "make bench-deps"; in_root "make bench-deps"
  in_root "make bench-deps-check"
  step "PASS: make setup + make bench-deps on a fresh Debian 12 root ($(( $(now) - T0 )) s)"
  exit 0
fi

printf '%s\n' "$readme_cmds" | while IFS= read -r cmd; do
  t=$(now); step "$cmd"
  in_root "$cmd" || { echo "test-fresh: FAIL: '$cmd' on a fresh Debian 12 root" >&2; exit 1; }
  echo "test-fresh: '$cmd' took $(( $(now) - t )) s"
done

# ---- the main job: the README's third line on a folder of photos ---------------------------------------
job=$(awk '/^```/ { n++; next } n == 1 && /^\.\/sortbyface / { sub(/[ \t]*#.*/, ""); print; exit }' "$ROOT/root/w/main/README.md")
case $job in *"-src photos/"*) ;; *) echo "test-fresh: FAIL: README.md's main-job line changed: '$job'" >&2; exit 1 ;; esac
step "$job  (photos/ = ../shared/data/photos/people-examples)"
in_root "rm -rf photos Sorted-pictures embeddings.db && cp -r ../shared/data/photos/people-examples photos && $job" ||
  { echo "test-fresh: FAIL: the main job" >&2; exit 1; }
people=$(find "$ROOT/root/w/main/Sorted-pictures" -mindepth 1 -maxdepth 1 -type d | wc -l)
placed=$(find "$ROOT/root/w/main/Sorted-pictures" -mindepth 2 -type f -name '*.jpg' | wc -l)
[ "$people" -ge 3 ] && [ "$placed" -ge 10 ] ||
  { echo "test-fresh: FAIL: the main job sorted $placed photos into $people folders" >&2; exit 1; }
echo "test-fresh: main job: $placed photos in $people person folders"

if [ $CROSS = 1 ]; then
  t=$(now); step "make test-cross ARCH=aarch64"
  in_root "make test-cross ARCH=aarch64" || { echo "test-fresh: FAIL: make test-cross ARCH=aarch64" >&2; exit 1; }
  echo "test-fresh: 'make test-cross ARCH=aarch64' took $(( $(now) - t )) s"
fi
step "PASS: the README's commands on a fresh Debian 12 root ($(( $(now) - T0 )) s)"
