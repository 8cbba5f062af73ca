#!/bin/sh
# tests/e2e_product.sh — embed, sort and find on a small labelled library built from ../shared/data:
# LFW people, portraits, a group photo, no-face photos, a corrupt file, a text file, nested folders and
# the same file name in two folders.  Asserts folders and members (by content), error lines,
# incremental re-runs, no-clobber output, and that no source file changed.
. tests/helpers/e2e.sh
need "$S/data/lfw-dev" "$S/data/photos/people-examples" "$S/data/negatives"
need_weights

P=$S/data/photos/people-examples; L=$S/data/lfw-dev
mkdir -p "$T/lib/lfw/chavez" "$T/lib/lfw/serena" "$T/lib/2019/summer" "$T/lib/2020" "$T/lib/people" "$T/lib/misc"
cp "$L/Hugo_Chavez/Hugo_Chavez_0001.jpg" "$L/Hugo_Chavez/Hugo_Chavez_0002.jpg" "$T/lib/lfw/chavez/"
cp "$L/Hugo_Chavez/Hugo_Chavez_0003.jpg" "$T/lib/2019/summer/photo.jpg"     # same name in two folders
cp "$L/Hugo_Chavez/Hugo_Chavez_0004.jpg" "$T/lib/2020/photo.jpg"
cp "$L/Serena_Williams/Serena_Williams_0001.jpg" "$L/Serena_Williams/Serena_Williams_0002.jpg" \
   "$L/Serena_Williams/Serena_Williams_0003.jpg" "$T/lib/lfw/serena/"
cp "$P/obama.jpg" "$P/obama2.jpg" "$P/knn_examples/test/obama1.jpg" "$P/biden.jpg" \
   "$P/knn_examples/train/biden/biden2.jpg" "$P/knn_examples/test/obama_and_biden.jpg" "$T/lib/people/"
cp "$S/data/negatives/coffee.png" "$S/data/negatives/brick.png" "$S/data/photos/dlib-examples/dogs.jpg" "$T/lib/misc/"
head -c 4000 "$P/biden.jpg" > "$T/lib/misc/broken.jpg"
echo "not a photo" > "$T/lib/misc/notes.txt"
(cd "$T" && find lib -type f -exec sha256sum {} + | sort) > "$T/before.sha"

cd "$T"
# ---- embed ---------------------------------------------------------------------------------------
"$BIN" embed -src lib --db e.db --threads 2 >out1 2>err1; rc=$?
[ $rc = 1 ] || fail "embed with a corrupt file should exit 1 (got $rc)"
grep -Eq "^sortbyface: lib/misc/broken.jpg: (truncated|corrupt)" err1 || { fail "no error line for broken.jpg"; cat err1; }
[ "$(grep -c '^sortbyface: lib/' err1)" = 1 ] || { fail "exactly one per-file error expected"; cat err1; }
grep -q "^16 photos embedded (15 faces; 3 with no face)" out1 || { fail "summary on stdout: 16 photos embedded"; cat out1 err1; }
grep -q "1 other file skipped" out1 || { fail "summary: the text file is skipped silently"; cat out1; }
# ---- incremental ---------------------------------------------------------------------------------
"$BIN" embed -src lib --db e.db >out2 2>err2
grep -q "0 photos embedded (0 faces), 16 unchanged" out2 || { fail "second embed must be incremental"; cat out2 err2; }
[ "$(cat err2)" = "$(grep broken.jpg err1)" ] || { fail "stderr holds the problems only"; cat err2; }
grep -q " s ([0-9.]* photos/s)$" out1 && ! grep -q "photos/s" out2 || { fail "a rate only when something was embedded"; cat out1 out2; }
cp "$L/Serena_Williams/Serena_Williams_0004.jpg" lib/lfw/serena/
rm lib/misc/brick.png
"$BIN" embed -src lib --db e.db >out3 2>err3
grep -q "1 photo embedded (1 face), 15 unchanged, 1 failed, 1 forgotten" out3 || { fail "third embed: 1 new, 1 forgotten"; cat out3 err3; }
# ---- sort ----------------------------------------------------------------------------------------
"$BIN" sort --db e.db -dest sorted >sout 2>serr || { fail "sort failed"; cat serr; }
[ -f sorted/clusters.tsv ] || fail "clusters.tsv missing"
# folders holding a copy of a given source file (matched by content)
folders_of() { h=$(sha256sum "$1" | cut -d' ' -f1); find "$2" -type f ! -name clusters.tsv -exec sha256sum {} + | \
  awk -v h="$h" '$1==h { sub(/^[^ ]+  /, ""); n=split($0, a, "/"); print a[n-1] }' | sort -u; }
same_person() { # name files...: all in exactly one shared folder, which is printed
  name=$1; shift; f0=""
  for f in "$@"; do
    fo=$(folders_of "$f" sorted)
    [ "$(echo "$fo" | grep -c .)" -ge 1 ] || { fail "$name: $f was not placed"; continue; }
    if [ -z "$f0" ]; then f0=$fo; elif [ "$fo" != "$f0" ]; then fail "$name: $f is in '$fo', expected '$f0'"; fi
  done
  echo "$f0" > "$T/folder.$name"
}
same_person chavez lib/lfw/chavez/Hugo_Chavez_0001.jpg lib/lfw/chavez/Hugo_Chavez_0002.jpg lib/2019/summer/photo.jpg lib/2020/photo.jpg
same_person serena lib/lfw/serena/Serena_Williams_0001.jpg lib/lfw/serena/Serena_Williams_0002.jpg \
  lib/lfw/serena/Serena_Williams_0003.jpg lib/lfw/serena/Serena_Williams_0004.jpg
same_person obama lib/people/obama.jpg lib/people/obama2.jpg lib/people/obama1.jpg
same_person biden lib/people/biden.jpg lib/people/biden2.jpg
for a in chavez serena obama biden; do for b in chavez serena obama biden; do
  [ "$a" \< "$b" ] && [ "$(cat folder.$a)" = "$(cat folder.$b)" ] && fail "$a and $b share folder $(cat folder.$a)"
done; done
[ "$(cat folder.chavez)" = "Person 0001" ] || [ "$(cat folder.serena)" = "Person 0001" ] || fail "Person 0001 must be the largest (4 photos)"
group=$(folders_of lib/people/obama_and_biden.jpg sorted)
echo "$group" | grep -qx "$(cat folder.obama)" || fail "group photo missing from Obama's folder"
echo "$group" | grep -qx "$(cat folder.biden)" || fail "group photo missing from Biden's folder"
[ "$(ls "sorted/$(cat folder.chavez)" | grep -c '^photo')" = 2 ] || fail "two photo.jpg files must both be kept"
for f in lib/misc/coffee.png lib/misc/dogs.jpg; do [ -z "$(folders_of $f sorted)" ] || fail "$f has no face but was placed"; done
faces=$(($(wc -l < sorted/clusters.tsv) - 1))
[ "$faces" = 16 ] || fail "clusters.tsv should list all 16 faces (got $faces)"
# never clobber: a second sort writes a fresh folder and says so
"$BIN" sort --db e.db -dest sorted >sout2 2>serr2 || fail "second sort failed"
[ -d sorted-2 ] || fail "second sort should write sorted-2"
grep -q "sorted" serr2 || fail "second sort should say where it wrote"
# ---- find ----------------------------------------------------------------------------------------
"$BIN" find -src "$P/obama_small.jpg" -dest me --db e.db >fout 2>ferr || { fail "find failed"; cat ferr; }
grep -q "^copied 4 photos" fout || { fail "find should copy Obama's 4 photos"; cat fout ferr; }
for f in lib/people/obama.jpg lib/people/obama2.jpg lib/people/obama1.jpg lib/people/obama_and_biden.jpg; do
  [ -n "$(folders_of $f me/..)" ] && [ -n "$(find me -type f -exec cmp -s "$f" {} \; -print)" ] || fail "find: $f missing"
done
grep -q "warning: the face is only" ferr || fail "find: a small query face should warn"
! grep -q "in the query photo" ferr || { fail "find: a query not in the database has no face of its own counted"; cat ferr; }
"$BIN" find -src lib/misc/coffee.png -dest x --db e.db >/dev/null 2>ferr2; rc=$?
[ $rc = 1 ] && grep -q "coffee.png: no face found" ferr2 || { fail "find with no face: exit 1 + message (got $rc)"; cat ferr2; }
# a group photo as the query: its largest face (said so), or --face N as numbered in clusters.tsv
"$BIN" find -src lib/people/obama_and_biden.jpg -dest g --db e.db >fout3 2>ferr3; rc=$?
nf=$(grep -c "^lib/people/obama_and_biden.jpg	" sorted/clusters.tsv)
big=$(sed -n "s/.*: $nf faces found; finding face \([0-9]\), the largest (--face N picks another: 0 to $((nf - 1)), numbered as in clusters.tsv)\$/\1/p" ferr3)
[ $rc = 0 ] && [ -n "$big" ] && grep -q "^copied [0-9]* photos* of the person in lib/people/obama_and_biden.jpg to g" fout3 && ok ||
  { fail "find with several faces: the largest (exit $rc)"; cat fout3 ferr3; }
people_of() { for f in "$1"/*; do folders_of "$f" sorted; done | sort -u > pf
  for p in obama biden; do grep -qxF "$(cat folder.$p)" pf && printf '%s ' $p; done; }
[ "$(people_of g)" = "obama " ] || [ "$(people_of g)" = "biden " ] || fail "the largest face is Obama's or Biden's: [$(people_of g)]"
found=""
for i in $(seq 0 $((nf - 1))); do
  folder=$(awk -F'\t' -v i=$i '$1 == "lib/people/obama_and_biden.jpg" && $2 == i { sub("/[^/]*$", "", $8); print $8 }' sorted/clusters.tsv)
  for p in obama biden; do
    [ "$folder" = "$(cat folder.$p)" ] || continue
    "$BIN" find -src lib/people/obama_and_biden.jpg -dest g$i --db e.db --face $i >/dev/null 2>ferr3b; rc=$?
    [ $rc = 0 ] && ! grep -q "finding face" ferr3b && [ "$(people_of g$i)" = "$p " ] && found="$found$p " ||
      { fail "find --face $i finds $p (exit $rc): [$(people_of g$i)]"; cat ferr3b; }
    [ $i != "$big" ] || [ "$(people_of g)" = "$p " ] || fail "the default is face $big"
  done
done
[ "$found" = "obama biden " ] || [ "$found" = "biden obama " ] && ok || fail "--face N finds both people of the group photo: [$found]"
"$BIN" find -src lib/people/obama_and_biden.jpg -dest x --db e.db --face 9 >/dev/null 2>ferr3c; rc=$?
[ $rc = 2 ] && grep -q "obama_and_biden.jpg: has $nf faces (numbered 0 to $((nf - 1))), no face 9 (see --face)" ferr3c ||
  { fail "find --face 9 (exit $rc)"; cat ferr3c; }
[ ! -e x ] || fail "a failed find must not create its folder"
"$BIN" find -src "$P/obama_small.jpg" -dest x --db nope.db >/dev/null 2>ferr4; rc=$?
[ $rc = 3 ] && [ "$(wc -l < ferr4)" = 1 ] && grep -q "nope.db: no database here yet" ferr4 && [ ! -e x ] ||
  { fail "find with a missing database: one line, exit 3, no folder (got $rc)"; cat ferr4; }
"$BIN" find -src "$P/obama_small.jpg" -dest x --db e.db --threshold 1.5 >/dev/null 2>ferr5; rc=$?
[ $rc = 2 ] && grep -q "find: --threshold must be between -1 and 1 (got 1.5)" ferr5 || { fail "find --threshold range"; cat ferr5; }
"$BIN" sort --db missing.db >/dev/null 2>merr; rc=$?
[ $rc = 3 ] && grep -q "missing.db" merr || { fail "sort on a missing database: clear error"; cat merr; }
# ---- the database names photos from the folder it was made in: sort, find, embed work from any folder ----
TP=$(cd "$T" && pwd -P)
"$BIN" info --db e.db | grep -q "; relative paths start in $TP\$" || { fail "info should name the base folder"; "$BIN" info --db e.db; }
mkdir -p away/deep && cd away/deep
"$BIN" sort --db ../../e.db -dest far >/dev/null 2>serr6; rc=$?
[ $rc = 0 ] && [ "$(cd far && find . -type f ! -name clusters.tsv | sort)" = "$(cd ../../sorted && find . -type f ! -name clusters.tsv | sort)" ] ||
  { fail "sort from another folder: exit $rc, other folders than from the library's"; cat serr6; }
grep -q "^$TP/lib/people/obama.jpg	0	" far/clusters.tsv || fail "clusters.tsv from another folder names paths that open from there"
"$BIN" find -src ../../lib/lfw/serena/Serena_Williams_0001.jpg -dest fs --db ../../e.db >fout6 2>ferr6; rc=$?
[ $rc = 0 ] && [ "$(ls fs | grep -vx index.html | tr '\n' ' ')" = "Serena_Williams_0002.jpg Serena_Williams_0003.jpg Serena_Williams_0004.jpg " ] ||
  { fail "find from another folder (never the query itself): exit $rc, $(ls fs 2>&1 | grep -vx index.html | tr '\n' ' ')"; cat fout6; }
# the query photo is in the database too: its own face is counted among the faces found, and said not placed
grep -q "^sortbyface find: 4 faces: .*; 1 of them in the query photo, which is not placed\$" ferr6 &&
  grep -q "^copied 3 photos" fout6 || { fail "find: the query's own face in the count"; cat fout6 ferr6; }
ln ../../lib/lfw/serena/Serena_Williams_0001.jpg q.jpg   # the query is a library photo under another name
"$BIN" find -src q.jpg -dest fq --db ../../e.db >/dev/null 2>&1
[ "$(ls fq | grep -vx index.html | tr '\n' ' ')" = "Serena_Williams_0002.jpg Serena_Williams_0003.jpg Serena_Williams_0004.jpg " ] ||
  fail "find: a hard link of the query is the query: $(ls fq 2>&1 | grep -vx index.html | tr '\n' ' ')"
"$BIN" embed -src ../../lib --db ../../e.db >out6 2>err6
grep -q "working from $TP, where ../../e.db keeps its photo paths" err6 && grep -q "0 photos embedded (0 faces), 16 unchanged" out6 ||
  { fail "embed from another folder: the same photos, unchanged"; cat out6 err6; }
"$BIN" embed -src "$T/lib/lfw/chavez" --db ../../e.db >out8 2>err8  # an absolute folder under the base: the same names
grep -q "0 photos embedded (0 faces), 2 unchanged" out8 || { fail "embed of an absolute folder under the base"; cat out8 err8; }
ln -s ../../lib/lfw link
"$BIN" embed -src link/../2019 --db ../../e.db >out7 2>err7; rc=$?   # link/.. is lib: lib/2019
[ $rc = 0 ] && grep -q "0 photos embedded (0 faces), 1 unchanged" out7 ||
  { fail "a folder named through a link and .. is the folder it names (got $rc)"; cat out7 err7; }
cd "$T"
mkdir -p orig/pics && cp "$L/Serena_Williams/Serena_Williams_0001.jpg" "$L/Serena_Williams/Serena_Williams_0002.jpg" orig/pics/
(cd orig && "$BIN" embed -src pics -q 2>/dev/null)
mv orig moved   # the library moves with its database: its own folder is the base now
"$BIN" sort --db moved/embeddings.db -dest msorted >/dev/null 2>merr2; rc=$?
[ $rc = 0 ] && [ "$(ls msorted/'Person 0001' | tr '\n' ' ')" = "Serena_Williams_0001.jpg Serena_Williams_0002.jpg " ] ||
  { fail "sort of a moved library (exit $rc)"; cat merr2; }
(cd moved && "$BIN" embed -src pics 2>/dev/null >../merr3)
grep -q "0 photos embedded (0 faces), 2 unchanged" merr3 && "$BIN" info --db moved/embeddings.db | grep -q "relative paths start in $TP/moved\$" ||
  { fail "embed in a moved library: unchanged, base updated"; cat merr3; }
# ---- automatic detection policy: a small photo with no face at upsample 1 is searched at upsample 2 ----
mkdir -p retry && cp "$L/Rudolph_Giuliani/Rudolph_Giuliani_0012.jpg" retry/   # (one with no face at upsample 1 on libjpeg-turbo's pixels)
"$BIN" detect --upsample 1 retry/Rudolph_Giuliani_0012.jpg | grep -q '"faces":\[\]' || fail "retry photo should have no face at upsample 1"
"$BIN" embed -src retry --db r.db -q 2>/dev/null
"$BIN" info --db r.db | grep -q "1 photo, 1 face" || fail "embed's automatic policy should find the face at upsample 2"
"$BIN" embed -src retry --db r2.db --upsample 1 -q 2>/dev/null
"$BIN" info --db r2.db | grep -q "1 photo, 0 faces" || fail "an explicit --upsample 1 must not retry"
# ... and if upsample 2 finds nothing either, the best big weak window (dlib score >= -0.6) is the face:
# Queen_Elizabeth_II_0008 has no detection at upsample 2; it must be found and match her other photos
# (find from another photo of her copies it), while none of the 16 photos without a face gets a face.
mkdir -p weak/q weak/others && cp "$L/Queen_Elizabeth_II/Queen_Elizabeth_II_0008.jpg" weak/q/
cp "$L/Hugo_Chavez/Hugo_Chavez_0001.jpg" "$L/Serena_Williams/Serena_Williams_0001.jpg" "$L/Colin_Powell/Colin_Powell_0001.jpg" weak/others/
"$BIN" detect --upsample 2 weak/q/Queen_Elizabeth_II_0008.jpg | grep -q '"faces":\[\]' || fail "weak photo should have no face at upsample 2"
"$BIN" embed -src weak --db w.db -q 2>/dev/null
"$BIN" info --db w.db | grep -q "4 photos, 4 faces" || fail "embed's automatic policy should take the weak face"
"$BIN" find -src "$L/Queen_Elizabeth_II/Queen_Elizabeth_II_0001.jpg" -dest wq --db w.db >/dev/null 2>&1
[ "$(ls wq 2>/dev/null | grep -vx index.html)" = "Queen_Elizabeth_II_0008.jpg" ] || { fail "the weak face should be found as the Queen: $(ls wq 2>&1)"; }
"$BIN" embed -src "$S/data/negatives" --db n.db -q 2>/dev/null
"$BIN" info --db n.db | grep -q "16 photos, 0 faces" || fail "no photo without a face may get a face"
# ---- the database records its alignment rule; embed keeps to it, find embeds the query with it -------
mkdir -p al && cp "$L/Hugo_Chavez/Hugo_Chavez_0001.jpg" "$L/Hugo_Chavez/Hugo_Chavez_0002.jpg" al/
"$BIN" embed -src al --db a.db --align box -q 2>/dev/null
"$BIN" info --db a.db | grep -Eq "alignment box(;|$)" || fail "info should show the database's rule"
"$BIN" embed -src al --db a.db --align mtcnn -q 2>aerr; rc=$?
[ $rc = 2 ] && grep -q "a.db: its faces were aligned with --align box, not mtcnn" aerr || { fail "a second rule must be refused (got $rc)"; cat aerr; }
cp "$L/Hugo_Chavez/Hugo_Chavez_0003.jpg" al/
"$BIN" embed -src al --db a.db -q 2>/dev/null && "$BIN" info --db a.db | grep -Eq "3 photos, 3 faces.*alignment box(;|$)" \
  || fail "embed without --align continues a database with its rule"
"$BIN" find -src "$L/Hugo_Chavez/Hugo_Chavez_0004.jpg" -dest aq --db a.db >/dev/null 2>&1
[ "$(ls aq 2>/dev/null | grep -vx index.html | wc -l)" = 3 ] || fail "find on a box database finds the 3 photos"
"$BIN" find -src "$L/Hugo_Chavez/Hugo_Chavez_0004.jpg" -dest aq2 --db a.db --align eyes >/dev/null 2>aerr; rc=$?
[ $rc = 2 ] && [ ! -e aq2 ] || fail "find with another --align than the database's is refused (got $rc)"
SORTBYFACE_PROGRESS=1 "$BIN" embed -src al --db p.db 2>perr >/dev/null
tr '\r' '\n' < perr | grep -q "^\[#*\.*\] 3/3 images, 3 faces, [0-9.]* images/s, ETA 0:00:00" || { fail "SORTBYFACE_PROGRESS=1: embed's bar"; cat perr; }
"$BIN" embed -src al --db m.db -q 2>/dev/null && "$BIN" info --db m.db | grep -Eq "alignment mtcnn(;|$)" || fail "a new database records the default rule"
# ---- nothing changed in the library (brick.png was removed by the test itself) -------------------
grep -v brick.png before.sha > before2.sha
(find lib -type f ! -name Serena_Williams_0004.jpg -exec sha256sum {} + | sort) > after.sha
cmp -s before2.sha after.sha || { fail "source files changed"; diff before2.sha after.sha | head; }
finish
