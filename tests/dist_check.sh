#!/bin/sh
# tests/dist_check.sh — the `make dist` archive works on its own: unpacked into an empty folder, its binary
# (under qemu-user for ARM) embeds and sorts a few shared photos with no Debian package: /usr/share/dlib and
# /usr/share/sortbyface are hidden (an empty tmpfs over each, in a private mount namespace), SORTBYFACE_WEIGHTS
# is unset and the working folder holds no weights/, so every model must come from the archive's weights/.
#   dist_check.sh ARCHIVE [RUNNER]      (RUNNER e.g. qemu-aarch64; SBF_SHARED names the shared data)
set -u
archive=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); runner=${2:-}
S=${SBF_SHARED:?}
P=$S/data/photos/people-examples
[ -d "$P" ] || { echo "dist_check: FAIL: $P missing"; exit 1; }
[ -f "$archive" ] || { echo "dist_check: FAIL: no archive $archive"; exit 1; }
T=$(mktemp -d /tmp/sbf-dist-XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir "$T/unpacked" "$T/work" "$T/work/photos"
tar -C "$T/unpacked" -xzf "$archive" || { echo "dist_check: FAIL: cannot unpack $archive"; exit 1; }
top=$(ls "$T/unpacked")
[ "$(echo "$top" | wc -l)" = 1 ] || { echo "dist_check: FAIL: the archive must unpack to one folder, got: $top"; exit 1; }
D=$T/unpacked/$top
for f in sortbyface README.txt LICENCES.txt weights/facenet-20180402.sbfw weights/facenet-20180402-int8.sbfw \
  weights/shape-68.sbfw; do
  [ -f "$D/$f" ] || { echo "dist_check: FAIL: $top/$f missing"; exit 1; }
done
grep -qi "commercial" "$D/LICENCES.txt" || { echo "dist_check: FAIL: LICENCES.txt must state the 68-point model's terms"; exit 1; }
readelf -h "$D/sortbyface" >/dev/null 2>&1 || { echo "dist_check: FAIL: $top/sortbyface is not an ELF binary"; exit 1; }
# a static binary has no program interpreter (binutils' readelf reads every architecture's ELF)
if readelf -lW "$D/sortbyface" | grep -q INTERP; then echo "dist_check: FAIL: $top/sortbyface is not static"; exit 1; fi
# portraits of two people and a group photo
cp "$P/biden.jpg" "$P/obama.jpg" "$P/obama2.jpg" "$P/two_people.jpg" "$T/work/photos/"
for f in "$P"/knn_examples/train/biden/*.jpg; do cp "$f" "$T/work/photos/train-$(basename "$f")"; done
n=$(ls "$T/work/photos" | wc -l)
[ "$n" -ge 5 ] || { echo "dist_check: FAIL: only $n test photos in $P"; exit 1; }

cat > "$T/run.sh" <<EOS
set -eu
for d in /usr/share/dlib /usr/share/sortbyface; do [ -d \$d ] && mount -t tmpfs -o size=1m,mode=755 none \$d; done
[ ! -e /usr/share/dlib/shape_predictor_68_face_landmarks.dat ]
cd "$T/work"
env -i PATH=/usr/bin:/bin $runner "$D/sortbyface" embed -src photos -q
env -i PATH=/usr/bin:/bin $runner "$D/sortbyface" sort
EOS
if [ "$(id -u)" = 0 ]; then ns="unshare --mount --propagation private"; else ns="unshare --map-root-user --mount"; fi
$ns sh "$T/run.sh" > "$T/out" 2>&1; rc=$?
if [ $rc != 0 ]; then
  echo "dist_check: FAIL: embed + sort from the unpacked archive (exit $rc):"; cat "$T/out"
  $ns true 2>/dev/null || echo "dist_check: (cannot make a private mount namespace here: $ns)"
  exit 1
fi
people=$(find "$T/work/Sorted-pictures" -mindepth 1 -maxdepth 1 -type d | wc -l)
placed=$(find "$T/work/Sorted-pictures" -mindepth 2 -type f -name '*.jpg' | wc -l)
[ "$people" -ge 2 ] && [ "$placed" -ge $((n - 1)) ] || { echo "dist_check: FAIL: $placed photos in $people folders"; cat "$T/out"; exit 1; }
echo "dist_check: $top: unpacked alone, embedded and sorted $n photos into $people person folders${runner:+ under $runner}"
