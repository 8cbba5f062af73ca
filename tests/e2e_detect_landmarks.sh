#!/bin/sh
# tests/e2e_detect_landmarks.sh — `detect --landmarks` prints, for every detected face, dlib's own 68
# landmarks (tests/oracle_landmarks_golden.txt: dlib's shape_predictor on the same decoded pixels, for
# the boxes our detector finds) within 1e-3 px, and fails clearly on a bad model file.
set -u
BIN=${SBF_BIN:?}; S=${SBF_SHARED:?}
G=tests/oracle_landmarks_golden.txt
[ -f "$G" ] || { echo "FAIL: $G missing"; exit 1; }
[ -d "$S/data/photos" ] || { echo "FAIL: $S/data/photos missing"; exit 1; }
fails=0
imgs=$(grep -v '^#' "$G" | awk '{print $1}' | sort -u | head -12)
checked=0
for rel in $imgs; do
  "$BIN" detect --landmarks "$S/$rel" > /tmp/sbf-dl.json 2>/tmp/sbf-dl.err || { echo "FAIL: detect $rel"; cat /tmp/sbf-dl.err; fails=$((fails+1)); continue; }
  # one face per line: left top right bottom score x0 y0 ... x67 y67
  awk -F'\\{"box":\\[' '{ for (i = 2; i <= NF; i++) { s = $i; gsub(/"[a-z]+":/, " ", s); gsub(/[^-0-9.e]+/, " ", s); print s } }' /tmp/sbf-dl.json > /tmp/sbf-dl.faces
  res=$(grep "^$rel " "$G" | awk -v F=/tmp/sbf-dl.faces '
    BEGIN { while ((getline l < F) > 0) { n = split(l, a, " "); key = a[1] " " a[2] " " a[3] " " a[4]; ours[key] = l; cnt[key] = n } }
    { key = $2 " " $3 " " $4 " " $5; if (!(key in ours)) next
      split(ours[key], a, " "); if (cnt[key] != 141) { print "BADCOUNT " key; next }
      worst = 0; for (k = 0; k < 136; k++) { d = a[6 + k] - $(6 + k); if (d < 0) d = -d; if (d > worst) worst = d }
      print (worst <= 1e-3 ? "OK " : "BAD ") key " " worst }')
  echo "$res" | grep -q "^BAD" && { echo "FAIL: $rel: $res"; fails=$((fails+1)); }
  checked=$((checked + $(echo "$res" | grep -c "^OK")))
done
[ $checked -ge 8 ] || { echo "FAIL: only $checked faces compared with dlib"; fails=$((fails+1)); }
printf 'not a model' > /tmp/sbf-dl.dat
"$BIN" detect --landmarks-model /tmp/sbf-dl.dat "$S/data/photos/people-examples/obama_small.jpg" >/dev/null 2>/tmp/sbf-dl.err; rc=$?
[ $rc = 3 ] && grep -q "sbf-dl.dat: " /tmp/sbf-dl.err || { echo "FAIL: bad landmark model: exit $rc"; cat /tmp/sbf-dl.err; fails=$((fails+1)); }
rm -f /tmp/sbf-dl.json /tmp/sbf-dl.err /tmp/sbf-dl.faces /tmp/sbf-dl.dat
[ $fails = 0 ] && echo "e2e_detect_landmarks: ok ($checked faces match dlib within 1e-3 px)" || exit 1
