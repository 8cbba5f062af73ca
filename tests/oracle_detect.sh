#!/bin/sh
# tests/oracle_detect.sh — oracle test of the face detector against Debian's dlib (see
# tools/oracle-detect.cpp): identical pixels in, identical boxes/scores/order out, for upsample 0
# and 1, on the shared photos, the negatives and a deterministic LFW sample; plus the committed
# weight file must equal a fresh conversion from dlib's header, and the detect verb must print
# dlib's boxes.  Fails (never skips) when dlib or the shared data are missing.
set -u
: "${SBF_BUILD:=build/native}" "${SBF_BIN:=$SBF_BUILD/sortbyface}" "${SBF_SHARED:=../shared}"
fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# 1. the committed weights are what tools/hog-convert makes from dlib's header
if "$SBF_BUILD/tools/hog-convert" "$tmp/hog.sbfw" && cmp -s "$tmp/hog.sbfw" weights/hog-frontal.sbfw; then
  echo "oracle_detect: weights/hog-frontal.sbfw matches a fresh conversion"
else
  echo "oracle_detect: FAIL: weights/hog-frontal.sbfw differs from tools/hog-convert output"; fail=1
fi

# 2. library level, against dlib (ASan builds run a smaller LFW sample)
# (under ASan dlib's and our code run ~10x slower: fewer LFW images, no photo above 0.6 Mpixel)
n=${ORACLE_DETECT_LFW:-300}; maxmp=1000
set -- "$SBF_SHARED"/data/photos/dlib-examples/*.jpg "$SBF_SHARED"/data/photos/people-examples/*.jpg
case "$SBF_BUILD" in
  *asan*) n=${ORACLE_DETECT_LFW:-24}; maxmp=0.6
          set -- "$SBF_SHARED"/data/photos/dlib-examples/20*.jpg "$SBF_SHARED"/data/photos/people-examples/obama_small.jpg ;;
esac
"$SBF_BUILD/tools/oracle-detect" --shared "$SBF_SHARED" --lfw $n --max-mpix $maxmp || fail=1

# 3. the CLI prints exactly dlib's boxes and scores (byte-identical JSON lines) for the photos
for up in 0 1; do
  "$SBF_BUILD/tools/oracle-detect" --json --upsample $up "$@" >"$tmp/ref$up.jsonl" || fail=1
  "$SBF_BIN" detect --upsample $up --min-face 0 --threads 2 "$@" >"$tmp/ours$up.jsonl" || { echo "oracle_detect: FAIL: detect exited $?"; fail=1; }
  if [ -s "$tmp/ref$up.jsonl" ] && cmp -s "$tmp/ref$up.jsonl" "$tmp/ours$up.jsonl"; then
    echo "oracle_detect: detect --upsample $up prints dlib's faces exactly ($# photos)"
  else
    echo "oracle_detect: FAIL: detect --upsample $up output differs from dlib's:"; diff "$tmp/ref$up.jsonl" "$tmp/ours$up.jsonl" | head -10; fail=1
  fi
done
# 4. with dlib's adjust_threshold (embed's weak-face look: upsample 2, -0.6) on small photos: LFW pictures
# in which dlib finds no face at upsample 2, and no-face pictures
set -- "$SBF_SHARED"/data/lfw-dev/Queen_Elizabeth_II/Queen_Elizabeth_II_0008.jpg \
       "$SBF_SHARED"/data/lfw-dev/Yasser_Arafat/Yasser_Arafat_0007.jpg \
       "$SBF_SHARED"/data/lfw-dev/Tung_Chee-hwa/Tung_Chee-hwa_0001.jpg \
       "$SBF_SHARED"/data/negatives/coins.png "$SBF_SHARED"/data/negatives/page.png "$SBF_SHARED"/data/negatives/text.png
"$SBF_BUILD/tools/oracle-detect" --json --upsample 2 --adjust-threshold -0.6 "$@" >"$tmp/refw.jsonl" || fail=1
"$SBF_BIN" detect --upsample 2 --adjust-threshold -0.6 --min-face 0 --threads 2 "$@" >"$tmp/oursw.jsonl" || fail=1
if [ "$(grep -c '"score":-' "$tmp/refw.jsonl")" -ge 3 ] && cmp -s "$tmp/refw.jsonl" "$tmp/oursw.jsonl"; then
  echo "oracle_detect: detect --upsample 2 --adjust-threshold -0.6 prints dlib's weak faces exactly ($# photos)"
else
  echo "oracle_detect: FAIL: --adjust-threshold output differs from dlib's (or has no weak face):"
  diff "$tmp/refw.jsonl" "$tmp/oursw.jsonl" | head -10; fail=1
fi
[ $fail = 0 ] && echo "oracle_detect: PASS" || echo "oracle_detect: FAIL"
exit $fail
