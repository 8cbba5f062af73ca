#!/bin/sh
# tests/e2e_detect_landmarks.sh — `detect --landmarks` prints, for every detected face, dlib's own 68
# landmarks (tests/oracle_landmarks_golden.txt: dlib's shape_predictor on the same decoded pixels, for
# the boxes our detector finds) within 1e-3 px, and fails clearly on a bad model file.
. tests/helpers/e2e.sh
G=tests/oracle_landmarks_golden.txt
need "$G" "$S/data/photos"
imgs=$(grep -v '^#' "$G" | awk '{print $1}' | sort -u | head -12)
checked=0
for rel in $imgs; do
  "$BIN" detect --landmarks "$S/$rel" > "$T"/dl.json 2>"$T"/dl.err || { fail "detect $rel"; cat "$T"/dl.err; continue; }
  # one face per line: left top right bottom score x0 y0 ... x67 y67
  awk -F'\\{"box":\\[' '{ for (i = 2; i <= NF; i++) { s = $i; gsub(/"[a-z]+":/, " ", s); gsub(/[^-0-9.e]+/, " ", s); print s } }' "$T"/dl.json > "$T"/dl.faces
  res=$(grep "^$rel " "$G" | awk -v F="$T"/dl.faces '
    BEGIN { while ((getline l < F) > 0) { n = split(l, a, " "); key = a[1] " " a[2] " " a[3] " " a[4]; ours[key] = l; cnt[key] = n } }
    { key = $2 " " $3 " " $4 " " $5; if (!(key in ours)) next
      split(ours[key], a, " "); if (cnt[key] != 141) { print "BADCOUNT " key; next }
      worst = 0; for (k = 0; k < 136; k++) { d = a[6 + k] - $(6 + k); if (d < 0) d = -d; if (d > worst) worst = d }
      print (worst <= 1e-3 ? "OK " : "BAD ") key " " worst }')
  if echo "$res" | grep -q "^BAD"; then fail "$rel: $res"; else ok; fi
  checked=$((checked + $(echo "$res" | grep -c "^OK")))
done
[ $checked -ge 8 ] || fail "only $checked faces compared with dlib"
printf 'not a model' > "$T"/dl.dat
"$BIN" detect --landmarks-model "$T"/dl.dat "$S/data/photos/people-examples/obama_small.jpg" >/dev/null 2>"$T"/dl.err; rc=$?
[ $rc = 3 ] && grep -q "dl.dat: " "$T"/dl.err || { fail "bad landmark model: exit $rc"; cat "$T"/dl.err; }
echo "e2e_detect_landmarks: $checked faces compared with dlib's landmarks (1e-3 px)"
finish
