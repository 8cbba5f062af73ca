#!/bin/sh
# e2e: `represent --model float32 --aligned` on the golden aligned crops reproduces embeddings.jsonl to 1e-4 per component
# (1 thread and all threads); other sizes are resized; whole-photo mode finds the faces and gives exactly
# the embeddings of the crops `align` writes; errors and usage are reported with the right status.
. tests/helpers/e2e.sh
G=$S/data/aligned-golden
need "$G/embeddings.jsonl"
fail() { echo "FAIL: $*"; exit 1; }   # each check here depends on the one before: stop at the first failure
tmp=$T

compare() { # ours golden -> prints "n maxdiff"
  awk 'function nm(l, s) { s = l; sub(/^[^:]*: *"/, "", s); sub(/".*/, "", s); sub(/.*\//, "", s); return s }
       function vals(l, a, s) { s = l; sub(/.*\[/, "", s); sub(/\].*/, "", s); return split(s, a, ",") }
       FNR == NR { n = vals($0, a); name = nm($0); cnt[name] = n; for (i = 1; i <= n; i++) ours[name, i] = a[i] + 0; next }
       { name = nm($0); if (!(name in cnt)) { print "missing " name; bad = 1; next }
         n = vals($0, a); if (n != 512 || cnt[name] != 512) { print "bad length " name; bad = 1 }
         for (i = 1; i <= n; i++) { d = ours[name, i] - a[i]; if (d < 0) d = -d; if (d > m) m = d }
         seen++ }
       END { printf "%d %g\n", seen, m; exit bad }' "$1" "$2"
}

for t in 1 0; do
  "$SBF_BIN" represent --model float32 --aligned --threads $t "$G"/*.png > "$tmp/out.jsonl" || fail "represent --threads $t exited $?"
  [ "$(wc -l < "$tmp/out.jsonl")" -eq 5 ] || fail "expected 5 lines"
  r=$(compare "$tmp/out.jsonl" "$G/embeddings.jsonl") || fail "compare: $r"
  set -- $r
  [ "$1" -eq 5 ] || fail "compared $1 of 5 faces"
  awk -v m="$2" 'BEGIN { exit !(m <= 1e-4) }' || fail "threads=$t: max |diff| $2 > 1e-4"
  echo "ok: represent --aligned --threads $t matches golden embeddings (max |diff| $2)"
done

# a 250x250 image is resized: 512 components, unit length
lfw=$(ls "$SBF_SHARED"/data/lfw-dev/*/*.jpg 2>/dev/null | head -n 1)
[ -n "$lfw" ] || fail "no LFW image under $SBF_SHARED/data/lfw-dev"
"$SBF_BIN" represent --aligned "$lfw" > "$tmp/r.jsonl" || fail "represent on $lfw exited $?"
awk '{ s = $0; sub(/.*\[/, "", s); sub(/\].*/, "", s); n = split(s, a, ","); for (i = 1; i <= n; i++) ss += a[i] * a[i]
       exit !(n == 512 && ss > 0.9999 && ss < 1.0001) }' "$tmp/r.jsonl" || fail "resized image: not a unit 512-vector"
echo "ok: resized input gives a unit 512-D embedding"

# whole photos: face counts, and each face's embedding equals `represent --aligned` on the crop `align`
# writes for it (the pipeline upsamples photos up to 1 MP once: two_people.jpg; obama.jpg is 12 MP)
P=$SBF_SHARED/data/photos/people-examples
neg=$(ls "$SBF_SHARED"/data/negatives/* | head -n 1)
"$SBF_BIN" represent "$P/two_people.jpg" "$P/obama.jpg" "$neg" > "$tmp/full.jsonl" || fail "represent (photos) exited $?"
[ "$(grep -o '"embedding":\[' "$tmp/full.jsonl" | wc -l)" -eq 3 ] || fail "expected 3 faces in two_people.jpg + obama.jpg"
grep -q '"faces":\[\]}$' "$tmp/full.jsonl" || fail "a face reported on $neg"
mkdir "$tmp/crops"
"$SBF_BIN" align --upsample 1 -o "$tmp/crops" "$P/two_people.jpg" > /dev/null || fail "align two_people"
"$SBF_BIN" align -o "$tmp/crops" "$P/obama.jpg" > /dev/null || fail "align obama"
"$SBF_BIN" represent --aligned "$tmp/crops"/*.png > "$tmp/crops.jsonl" || fail "represent --aligned crops"
awk 'FNR == NR { s = $0; sub(/.*\//, "", s); sub(/\.png".*/, "", s); e = $0; sub(/.*\[/, "", e); sub(/\].*/, "", e)
                 crop[s] = e; next }
     /"faces"/ { p = $0; sub(/^\{"path":"/, "", p); sub(/".*/, "", p); sub(/.*\//, "", p); sub(/\.[a-z]*$/, "", p)
                 n = split($0, seg, /"embedding":\[/)
                 for (i = 2; i <= n; i++) {
                   e = seg[i]; sub(/\].*/, "", e); k = p "_" (i - 1)
                   if (!(k in crop)) { print "no crop " k; bad = 1; continue }
                   na = split(e, a, ","); nb = split(crop[k], b, ",")
                   if (na != 512 || nb != 512) { print "bad length " k; bad = 1; continue }
                   for (j = 1; j <= na; j++) { d = a[j] - b[j]; if (d < 0) d = -d; if (d > m) m = d }
                   cmp++ } }
     END { if (cmp != 3) { print "compared " cmp " faces"; bad = 1 }
           if (m > 1e-6) { print "max |diff| " m; bad = 1 }
           exit bad }' "$tmp/crops.jsonl" "$tmp/full.jsonl" || fail "whole-photo embeddings differ from the aligned crops"
echo "ok: represent on whole photos = represent --aligned on align's crops (3 faces), none on $neg"

# unreadable input: error line, exit 1, other images still processed
"$SBF_BIN" represent --aligned "$tmp/nope.png" "$G/paul_rudd.png" > "$tmp/e.jsonl" 2> "$tmp/e.err"
rc=$?
[ $rc -eq 1 ] || fail "unreadable input: exit $rc, want 1"
grep -q '"error"' "$tmp/e.jsonl" || fail "no error line"
grep -q 'paul_rudd.png","embedding":\[' "$tmp/e.jsonl" || fail "later image not processed"
# lines keep the order of the arguments
"$SBF_BIN" represent --aligned "$G/paul_rudd.png" "$tmp/nope.png" "$G/kate_siegel.png" > "$tmp/o.jsonl" 2> /dev/null
[ "$(sed 's/^{"path":"\([^"]*\)".*/\1/; s/.*\///' "$tmp/o.jsonl" | tr '\n' ' ')" = "paul_rudd.png nope.png kate_siegel.png " ] ||
  fail "output order: $(cut -c1-60 "$tmp/o.jsonl")"
# missing model file: fatal (3)
"$SBF_BIN" represent --aligned --model "$tmp/none.sbfw" "$G/paul_rudd.png" > /dev/null 2>&1
rc=$?; [ $rc -eq 3 ] || fail "missing model: exit $rc, want 3"
# usage errors (2)
"$SBF_BIN" represent --aligned > /dev/null 2>&1; rc=$?; [ $rc -eq 2 ] || fail "no images: exit $rc, want 2"
"$SBF_BIN" represent --aligned --threads -1 "$G/paul_rudd.png" > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "--threads -1: exit $rc, want 2"
"$SBF_BIN" represent --help > /dev/null || fail "--help"
echo "ok: represent errors and usage"
