#!/bin/sh
# tools/make-dist.sh — `make dist ARCH=...`: one archive for a board or a PC.
#   make-dist.sh BINARY ARCH VERSION OUTDIR
# Writes OUTDIR/sortbyface-VERSION-ARCH.tar.gz (atomically), unpacking to one folder sortbyface-VERSION-ARCH/:
#   sortbyface   the static binary        weights/     every weight file the defaults need (found next to the
#   README.txt   how to run it                         binary, so no Debian package is needed on the board)
#   LICENCES.txt the models' and libraries' terms (the 68-point model's non-commercial terms)
set -eu
bin=$1; arch=$2; version=$3; out=$4
name=sortbyface-$version-$arch
[ -x "$bin" ] || { echo "make-dist: no binary $bin" >&2; exit 1; }
# The weight files the defaults load: FaceNet (float32, and int8: the default for new databases on x86-64 with
# AVX-512 VNNI or AVX2 only, --model int8 elsewhere) and the 68-point landmarks (the HOG detector is built in).
weights="weights/facenet-20180402.sbfw weights/facenet-20180402-int8.sbfw weights/shape-68.sbfw"
for w in $weights; do [ -f "$w" ] || { echo "make-dist: $w missing (run make setup)" >&2; exit 1; }; done
stage=$(mktemp -d "${TMPDIR:-/tmp}/sbf-dist-XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/weights"
cp "$bin" "$stage/$name/sortbyface"
cp $weights "$stage/$name/weights/"
sed "s/@VERSION@/$version/g; s/@ARCH@/$arch/g" tools/dist/README.txt > "$stage/$name/README.txt"
cp tools/dist/LICENCES.txt "$stage/$name/LICENCES.txt"
chmod 755 "$stage/$name" "$stage/$name/weights" "$stage/$name/sortbyface"
chmod 644 "$stage/$name/weights/"* "$stage/$name/README.txt" "$stage/$name/LICENCES.txt"
mkdir -p "$out"
tmp=$out/.$name.tar.gz.tmp
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - "$name" | gzip -n -6 > "$tmp"
mv -f "$tmp" "$out/$name.tar.gz"
echo "wrote $out/$name.tar.gz ($(du -k "$out/$name.tar.gz" | cut -f1) KiB)"
