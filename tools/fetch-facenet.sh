#!/bin/sh
# Puts the FaceNet 20180402-114759 per-tensor .npy files into DEST, verified against the committed
# SHA-256 manifest.  Uses SHARED_DIR when it holds them; otherwise downloads each file from upstream.
# usage: fetch-facenet.sh MANIFEST SHARED_DIR DEST
set -eu
manifest=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shared=$2; dest=$3
base=https://raw.githubusercontent.com/webmachinelearning/test-data/main/models/facenet_nhwc/weights
mkdir -p "$dest"
if [ -f "$dest/.verified" ] && cmp -s "$dest/.verified" "$manifest"; then exit 0; fi
n=0; total=$(wc -l < "$manifest")
while read -r sum name; do
  n=$((n+1))
  if [ -f "$shared/$name" ]; then
    ln -sf "$(cd "$shared" && pwd)/$name" "$dest/$name"
  elif [ ! -f "$dest/$name" ] || ! echo "$sum  $dest/$name" | sha256sum -c --status; then
    printf 'fetch-facenet: downloading %s (%d/%d)\n' "$name" "$n" "$total" >&2
    if command -v curl >/dev/null; then curl -fsSL --retry 3 -o "$dest/$name.part" "$base/$name"
    else wget -q -O "$dest/$name.part" "$base/$name"; fi
    mv "$dest/$name.part" "$dest/$name"
  fi
done < "$manifest"
(cd "$dest" && sha256sum -c --quiet "$manifest") || {
  echo "fetch-facenet: checksum mismatch (see above); refusing to build weights" >&2; exit 1; }
cp "$manifest" "$dest/.verified"
