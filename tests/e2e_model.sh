#!/bin/sh
# e2e: the FaceNet model of a database (embed --model float32|int8|FILE, src/models.h): a new database records
# the default (or --model) and info shows it; a database keeps its model (embed without --model continues it,
# an explicit other model is refused with the reason and changes nothing, a weight file counts as the model of
# its arithmetic); an old database without the setting is float32 and an embed after the upgrade goes on;
# find embeds its query with the database's model (proved by which weight file it needs) and refuses another;
# represent --db embeds as the database did (the same numbers); the int8 embeddings are not the float32 ones
# but close to them; a --model that is neither a model nor a FaceNet file is refused.
. tests/helpers/e2e.sh
need_weights
Q=$TOP/weights/facenet-20180402-int8.sbfw
need "$Q" "$S/data/lfw-dev" "$S/data/aligned-golden/embeddings.jsonl"
L=$S/data/lfw-dev
MKDB=$(cd "${SBF_BUILD:?}" && pwd)/tests/e2e_sort_mkdb
need "$MKDB"
cd "$T" || exit 1

# the embedding of face 0 of the photo whose path ends in $2, in info --faces or represent output $1
emb() { grep -F "$2\"" "$1" | head -n 1 | sed 's/.*"embedding":\[//; s/\].*//'; }
# cosine of two comma-separated vectors
cosine() { printf '%s\n%s\n' "$1" "$2" | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) a[i] = $i; n = NF; next }
  { for (i = 1; i <= NF; i++) { s += a[i] * $i; na += a[i] * a[i]; nb += $i * $i } }
  END { if (NF != 512 || n != 512) print "bad"; else printf "%.6f\n", s / sqrt(na * nb) }'; }

mkdir lib && cp "$L/Hugo_Chavez/Hugo_Chavez_0001.jpg" "$L/Hugo_Chavez/Hugo_Chavez_0002.jpg" lib/
# ---- a new database: the default of this CPU (docs/MEASUREMENTS.md "Default per ISA": int8 on x86-64 with AVX2
# or AVX-512 VNNI, float32 elsewhere and at a level forced lower, e.g. scalar)
DEF=$("$BIN" embed --help | sed -n 's/.*a new database gets \([a-z0-9]*\) (the default on this CPU).*/\1/p')
case "$DEF" in float32 | int8) ok ;; *) fail "embed --help names the default of this CPU ('$DEF')" ;; esac
if [ -z "${SORTBYFACE_ISA:-}" ] && [ "$(uname -m)" = x86_64 ] && grep -qw avx512_vnni /proc/cpuinfo; then
  [ "$DEF" = int8 ] && ok || fail "the default on an x86-64 CPU with AVX-512 VNNI is int8, not $DEF"
fi
"$BIN" embed lib --db d.db -q 2>err && "$BIN" info --db d.db | grep -Eq "alignment mtcnn; model $DEF(;|$)" && ok ||
  { fail "a new database records the default model ($DEF)"; cat err; "$BIN" info --db d.db; }
SORTBYFACE_ISA=scalar "$BIN" embed lib --db s.db -q 2>err && "$BIN" info --db s.db | grep -Eq "; model float32(;|$)" && ok ||
  { fail "at the scalar level a new database gets float32"; cat err; }
# ---- --model int8: recorded, kept, another refused -------------------------------------------------
"$BIN" embed lib --db q.db --model int8 -q 2>err && "$BIN" info --db q.db | grep -Eq "2 photos, 2 faces.*; model int8(;|$)" && ok ||
  { fail "--model int8 on a new database"; cat err; }
cp q.db q.before
"$BIN" embed lib --db q.db --model float32 >out 2>err; rc=$?
[ $rc = 2 ] && grep -qx "sortbyface embed: q.db: its embeddings were made with the int8 model, not float32, and embeddings of two models do not compare (leave --model out, or use another --db)" err &&
  [ ! -s out ] && cmp -s q.db q.before && ok || { fail "another --model on an int8 database: refused, nothing written (exit $rc)"; cat out err; }
"$BIN" embed lib --db q.db --model "$TOP/weights/facenet-20180402.sbfw" -q 2>err; rc=$?
[ $rc = 2 ] && grep -q "made with the int8 model, not float32" err && ok || { fail "a float32 weight file on an int8 database (exit $rc)"; cat err; }
cp "$L/Hugo_Chavez/Hugo_Chavez_0003.jpg" lib/
"$BIN" embed lib --db q.db -q 2>err && "$BIN" info --db q.db | grep -Eq "3 photos, 3 faces.*; model int8(;|$)" && ok ||
  { fail "embed without --model continues an int8 database"; cat err; }
cp "$L/Hugo_Chavez/Hugo_Chavez_0004.jpg" lib/
"$BIN" embed lib --db q.db --model "$Q" -q 2>err && "$BIN" info --db q.db | grep -Eq "4 photos, 4 faces.*; model int8(;|$)" && ok ||
  { fail "the int8 weight file as --model on an int8 database"; cat err; }
"$BIN" embed lib --db f.db --model "$TOP/weights/facenet-20180402.sbfw" -q 2>err && "$BIN" info --db f.db | grep -Eq "; model float32(;|$)" && ok ||
  { fail "a float32 weight file makes a float32 database"; cat err; }
"$BIN" embed lib --db f.db --model int8 -q 2>err; rc=$?
[ $rc = 2 ] && grep -q "f.db: its embeddings were made with the float32 model, not int8" err && ok || { fail "--model int8 on a float32 database (exit $rc)"; cat err; }
# ---- the numbers: int8 embeddings differ from float32 ones, cosine >= 0.999 (the gate), and represent --db
# gives the database's numbers exactly
"$BIN" info --db q.db --faces > q.faces && "$BIN" info --db f.db --faces > f.faces || fail "info --faces"
for p in Hugo_Chavez_0001.jpg Hugo_Chavez_0002.jpg Hugo_Chavez_0003.jpg; do
  a=$(emb q.faces "$p"); b=$(emb f.faces "$p")
  [ -n "$a" ] && [ "$a" != "$b" ] && ok || fail "$p: the int8 database holds the float32 embedding"
  c=$(cosine "$a" "$b")
  echo "  $p: cosine int8 to float32 $c"
  awk -v c="$c" 'BEGIN { exit !(c >= 0.999 && c < 1) }' && ok || fail "$p: cosine int8 vs float32 $c"
done
"$BIN" represent --db q.db lib/Hugo_Chavez_0002.jpg > r.q 2>err && "$BIN" represent --db f.db lib/Hugo_Chavez_0002.jpg > r.f 2>>err || { fail "represent --db"; cat err; }
c=$(cosine "$(emb r.q Hugo_Chavez_0002.jpg)" "$(emb q.faces Hugo_Chavez_0002.jpg)")
[ "$c" = 1.000000 ] && ok || fail "represent --db q.db: the database's int8 embedding (cosine $c)"
c=$(cosine "$(emb r.f Hugo_Chavez_0002.jpg)" "$(emb f.faces Hugo_Chavez_0002.jpg)")
[ "$c" = 1.000000 ] && ok || fail "represent --db f.db: the database's float32 embedding (cosine $c)"
"$BIN" represent --model int8 lib/Hugo_Chavez_0002.jpg > r.m 2>err && cmp -s r.m r.q && ok || { fail "represent --model int8 = represent --db q.db"; cat err; }
"$BIN" represent --db q.db --model float32 lib/Hugo_Chavez_0002.jpg > r.x 2>err; rc=$?
[ $rc = 2 ] && [ ! -s r.x ] && grep -q "represent: q.db: its embeddings were made with the int8 model, not float32" err && ok ||
  { fail "represent --db with another --model is refused (exit $rc)"; cat err; }
# ---- find embeds the query with the database's model: with only the int8 file to hand it works on the int8
# database and names the float32 file it lacks on the float32 one
mkdir w8 && ln -s "$Q" w8/
SORTBYFACE_WEIGHTS=$T/w8 "$BIN" find -src "$L/Hugo_Chavez/Hugo_Chavez_0005.jpg" -dest fq --db q.db >out 2>err; rc=$?
[ $rc = 0 ] && [ "$(ls fq | grep -vx index.html | wc -l)" = 4 ] && ok || { fail "find on the int8 database with only the int8 file (exit $rc)"; cat out err; }
SORTBYFACE_WEIGHTS=$T/w8 "$BIN" find -src "$L/Hugo_Chavez/Hugo_Chavez_0005.jpg" -dest ff --db f.db >out 2>err; rc=$?
[ $rc = 3 ] && [ ! -e ff ] && grep -q "facenet-20180402.sbfw" err && ok || { fail "find on the float32 database needs the float32 file (exit $rc)"; cat out err; }
"$BIN" find -src "$L/Hugo_Chavez/Hugo_Chavez_0005.jpg" -dest fx --db q.db --model float32 >out 2>err; rc=$?
[ $rc = 2 ] && [ ! -e fx ] && grep -q "find: q.db: its embeddings were made with the int8 model, not float32" err && ok ||
  { fail "find with another --model is refused (exit $rc)"; cat err; }
"$BIN" find -src "$L/Hugo_Chavez/Hugo_Chavez_0005.jpg" -dest fy --db f.db >out 2>err; rc=$?
[ $rc = 0 ] && [ "$(ls fy | grep -vx index.html | wc -l)" = 4 ] && ok || { fail "find on the float32 database (exit $rc)"; cat err; }
# ---- a database made before the setting: float32; the next embed goes on (and records it), int8 refused
(cd lib && printf '%s\n' "Hugo_Chavez_0001.jpg	angelina	1" "Hugo_Chavez_0002.jpg	kate	2" | "$MKDB" ../old.db "$S/data/aligned-golden/embeddings.jsonl") 2>err ||
  { fail "mkdb old.db"; cat err; }
"$BIN" info --db old.db | grep -Eq "2 photos, 2 faces.*; model float32 \(not recorded\)(;|$)" && ok || { fail "an old database is float32"; "$BIN" info --db old.db; }
cp old.db old.before
(cd lib && "$BIN" embed . --db ../old.db --model int8 -q) 2>err; rc=$?
[ $rc = 2 ] && cmp -s old.db old.before && grep -q "old.db: its embeddings were made with the float32 model, not int8" err && ok ||
  { fail "--model int8 on an old database (exit $rc)"; cat err; }
(cd lib && "$BIN" embed . --db ../old.db) >out 2>err; rc=$?
[ $rc = 0 ] && grep -q "^2 photos embedded (2 faces), 2 unchanged" out && "$BIN" info --db old.db | grep -Eq "4 photos, 4 faces.*; model float32(;|$)" && ok ||
  { fail "embed after the upgrade goes on with an old database (exit $rc)"; cat out err; "$BIN" info --db old.db; }
# ---- refused values; the help names the models ------------------------------------------------------
"$BIN" embed lib --db n.db --model Int8 -q 2>err; rc=$?
[ $rc = 2 ] && [ ! -e n.db ] && grep -q "^sortbyface embed: --model Int8: not float32, int8 or a FaceNet weight file" err && ok || { fail "--model Int8 (exit $rc)"; cat err; }
"$BIN" embed lib --db n.db --model "$TOP/weights/shape-68.sbfw" -q 2>err; rc=$?
[ $rc = 2 ] && [ ! -e n.db ] && grep -q "not a FaceNet weight file" err && ok || { fail "--model with the landmark model (exit $rc)"; cat err; }
"$BIN" embed lib --db n.db --model "$T/none.sbfw" -q 2>err; rc=$?
[ $rc = 3 ] && [ ! -e n.db ] && grep -qx "sortbyface embed: $T/none.sbfw: cannot open: No such file or directory" err && ok ||
  { fail "--model naming a missing file: the model is missing (exit $rc)"; cat err; }
for v in embed find represent; do
  "$BIN" $v --help | grep -q -- "--model float32|int8|FILE" && ok || fail "$v --help names the models"
done
finish
