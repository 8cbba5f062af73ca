#!/bin/sh
# tests/e2e_sort.sh — 'sortbyface sort' end to end on a small library whose database is written by
# tests/e2e_sort_mkdb from the golden FaceNet embeddings (+ seeded noise): Person folders and their
# members (largest first), Unknown/ for people seen once, a photo with two people in both folders, equal file
# names, no-face photos, clusters.tsv, a second plain sort updating the same folder (nothing to do), experiments
# (-dest) in fresh folders that never clobber one, --link/--symlink, reproducibility, error lines for a
# missing / damaged database and bad options, and that no source file changed.  (The managed folder's
# edits, corrections and crash safety: tests/e2e_people.sh.)
# Env: SBF_BIN, SBF_BUILD, SBF_SHARED (see tests/run-suite.sh).
. tests/helpers/e2e.sh
MKDB=$(cd "${SBF_BUILD:?}" && pwd)/tests/e2e_sort_mkdb
GOLD=$S/data/aligned-golden
need "$MKDB" "$GOLD/embeddings.jsonl"
check() { if eval "$1"; then ok; else fail "$2"; fi; }
cd "$T" || exit 1
mkdir -p lib/angelina lib/bradley lib/kate lib/nested/deeper/paul lib/a lib/b lib/empty
cp "$GOLD/angelina_jolie.png" lib/angelina/1.png
cp "$GOLD/angelina_jolie.png" lib/angelina/2.png
cp "$GOLD/angelina_jolie.png" lib/angelina/3.png
cp "$GOLD/bradley_cooper.png" lib/bradley/1.png
cp "$GOLD/bradley_cooper.png" lib/bradley/2.png
cp "$GOLD/bradley_cooper.png" lib/a/dup.png         # same name, same person, two folders
cp "$GOLD/bradley_cooper.png" lib/b/dup.png
cp "$GOLD/kate_siegel.png" lib/kate/1.png
cp "$GOLD/kate_siegel.png" lib/kate/2.png
cp "$GOLD/paul_rudd.png" lib/nested/deeper/paul/1.png
cp "$GOLD/shea_whigham.png" lib/a/shea.png
cp "$GOLD/kate_siegel.png" lib/group.png             # angelina + kate
cp "$GOLD/kate_siegel.png" lib/a/angelina.png        # a second angelina photo named differently
printf 'not a face' > lib/empty/cat.png
# identities: angelina 5 faces, bradley 4, kate 3, shea 1, paul 1 (tie: lib/a/shea.png sorts first)
printf '%s\n' \
  "lib/angelina/1.png	angelina	1" \
  "lib/angelina/2.png	angelina	2" \
  "lib/angelina/3.png	angelina	3" \
  "lib/a/angelina.png	angelina	4" \
  "lib/group.png	angelina	5	kate	6" \
  "lib/bradley/1.png	bradley	7" \
  "lib/bradley/2.png	bradley	8" \
  "lib/a/dup.png	bradley	9" \
  "lib/b/dup.png	bradley	10" \
  "lib/kate/1.png	kate	11" \
  "lib/kate/2.png	kate	12" \
  "lib/nested/deeper/paul/1.png	paul	13" \
  "lib/a/shea.png	shea	14" \
  "lib/empty/cat.png" > spec.tsv
"$MKDB" embeddings.db "$GOLD/embeddings.jsonl" < spec.tsv 2>mkdb.err || { cat mkdb.err; echo "FAIL: mkdb"; exit 1; }
"$MKDB" --f16 half.db "$GOLD/embeddings.jsonl" < spec.tsv 2>/dev/null || { echo "FAIL: mkdb --f16"; exit 1; }
hash_lib() { find lib -type f -exec sha256sum {} + | sort; find lib | sort; }
hash_lib > before.txt

# 1. default run: Sorted-pictures/ in the current folder, from embeddings.db
"$BIN" sort > out1.txt 2> err1.txt; rc=$?
check '[ $rc -eq 0 ]' "sort exit $rc: $(cat err1.txt)"
check 'grep -q "sorted 14 faces from 14 photos into 5 people (3 with more than one face); copied 14 files into Sorted-pictures/ (0 moved, 0 removed)" out1.txt' "summary line: $(cat out1.txt)"
check 'grep -q "2 people with fewer than 2 faces are in Unknown/" err1.txt' "Unknown/ note: $(cat err1.txt)"
S=Sorted-pictures
listing() { (cd "$1" && find . \( -path ./clusters.tsv -o -path ./.sortbyface-output -o -path ./index.html -o -path ./.thumbs \) -prune -o -type f -print -o -type l -print | sort | tr '\n' ' '); }
want="./Person 0001/1.png ./Person 0001/2.png ./Person 0001/3.png ./Person 0001/angelina.png ./Person 0001/group.png ./Person 0002/1.png ./Person 0002/2.png ./Person 0002/dup-2.png ./Person 0002/dup.png ./Person 0003/1.png ./Person 0003/2.png ./Person 0003/group.png ./Unknown/1.png ./Unknown/shea.png "
got=$(listing $S)
check '[ "$got" = "$want" ]' "folders: got [$got] want [$want]"
check 'grep -q "does not look for photos" $S/.sortbyface-output' "output folder marker (keeps embed out of it)"
check 'cmp -s "$S/Person 0001/1.png" lib/angelina/1.png' "Person 0001 is angelina"
check 'cmp -s "$S/Person 0002/dup.png" lib/a/dup.png && cmp -s "$S/Person 0002/dup-2.png" lib/b/dup.png' "dup.png / dup-2.png contents"
check 'cmp -s "$S/Unknown/1.png" lib/nested/deeper/paul/1.png' "Unknown/ holds paul (nested folder), seen once"
check '! ls "$S"/*/cat.png >/dev/null 2>&1' "no-face photo placed somewhere"
check '[ $(wc -l < $S/clusters.tsv) -eq 15 ]' "clusters.tsv lines: $(wc -l < $S/clusters.tsv)"
check 'head -1 $S/clusters.tsv | grep -q "^path	face	left	top	right	bottom	person	file$"' "clusters.tsv header"
check 'grep -q "^lib/group.png	1	120	30	199	109	3	Person 0003/group.png$" $S/clusters.tsv' "group face 1 -> Person 0003 in clusters.tsv"
check 'grep -q "^lib/group.png	0	20	30	99	109	1	Person 0001/group.png$" $S/clusters.tsv' "group face 0 -> Person 0001 in clusters.tsv"
check 'grep -q "^lib/a/shea.png	0	20	30	99	109	4	Unknown/shea.png$" $S/clusters.tsv && grep -q "^lib/nested/deeper/paul/1.png	0	.*	5	Unknown/1.png$" $S/clusters.tsv' \
  "every face has its own person id in clusters.tsv, also in Unknown/"

# 2. a second plain sort updates the same folder: nothing to do; a placed file touched since is the user's now
cp $S/clusters.tsv clusters1.tsv
touch -d '2001-01-01' "$S/Person 0001/1.png"
"$BIN" sort > out2.txt 2> err2.txt; rc=$?
check '[ $rc -eq 0 ] && grep -q "copied 0 files into Sorted-pictures/ (0 moved, 0 removed)" out2.txt' "second sort: rc $rc $(cat out2.txt err2.txt)"
check 'grep -q "^sort: Person 0001/1.png was changed since sort placed it: it is yours now, and left as it is$" out2.txt' "touched file: $(cat out2.txt)"
check '[ ! -e Sorted-pictures-2 ] && [ "$(listing $S)" = "$want" ]' "second sort: another folder, or the folder changed"
check '[ "$(stat -c %Y "$S/Person 0001/1.png")" = "$(date -d 2001-01-01 +%s)" ]' "the user's file was touched"
check 'cmp -s $S/clusters.tsv clusters1.tsv' "clusters.tsv changed on a second sort"
"$BIN" sort > out2b.txt 2>&1
check '! grep -q "changed since" out2b.txt' "the user's file is told once: $(cat out2b.txt)"
# experiments: a fresh folder each (never clobbered); same seed -> identical clusters.tsv; the f16 database too
"$BIN" sort -dest exp > /dev/null 2>&1
"$BIN" sort -dest exp > /dev/null 2> err2c.txt
check 'grep -q "exp already exists; writing to exp-2 instead" err2c.txt && [ "$(listing exp-2)" = "$want" ]' "experiment twice: $(cat err2c.txt)"
check 'cmp -s exp/clusters.tsv clusters1.tsv && cmp -s exp-2/clusters.tsv clusters1.tsv' "same seed, different clusters.tsv"
"$BIN" sort --db half.db -dest f16out > /dev/null 2>&1
check 'cmp -s clusters1.tsv f16out/clusters.tsv' "float16 database clusters differently"
mkdir mine && echo keep > mine/note.txt   # a folder of the user's: a new folder inside it
"$BIN" sort -dest mine > out2d.txt 2> err2d.txt
check '[ "$(listing mine/Sorted-pictures)" = "$want" ] && [ "$(cat mine/note.txt)" = keep ] && grep -q "writing to mine/Sorted-pictures instead" err2d.txt' \
  "-dest a user folder: $(cat err2d.txt)"
"$BIN" sort -dest /dev/null > o.txt 2> e.txt; rc=$?
check '[ $rc -eq 3 ] && grep -q "/dev/null exists and is not a folder" e.txt && [ ! -e /dev/null-2 ]' "-dest /dev/null: rc $rc $(cat e.txt)"
check '[ "$("$BIN" info | grep -c .)" -ge 1 ] && "$BIN" people | grep -q "^ *1  -  *5  *5  Person 0001/$"' "the experiments changed the stored people: $("$BIN" people)"

# 3. --link and --symlink, single-dash options, -t and -itr
"$BIN" sort -db embeddings.db -dest linked --link -t 0.6 -itr 10 --seed 7 > /dev/null 2> err3.txt; rc=$?
check '[ $rc -eq 0 ]' "--link exit $rc: $(cat err3.txt)"
check '[ "$(stat -c %i "linked/Person 0001/1.png")" = "$(stat -c %i lib/angelina/1.png)" ]' "--link is not a hard link"
"$BIN" sort --dest sym --symlink > /dev/null 2>&1
check '[ -L "sym/Person 0002/dup-2.png" ] && [ "$(readlink "sym/Person 0002/dup-2.png")" = "$T/lib/b/dup.png" ]' "--symlink target: $(readlink "sym/Person 0002/dup-2.png")"
# a threshold above every similarity: every face alone, all in Unknown/ (--min-faces 1: a folder each)
"$BIN" sort --dest alone -t 0.999 > out4.txt 2>&1
check 'grep -q "into 14 people (0 with more than one face)" out4.txt && [ "$(ls alone | tr "\n" " ")" = "Unknown clusters.tsv index.html " ]' "-t 0.999: $(cat out4.txt; ls alone)"
"$BIN" sort --dest alone1 -t 0.999 --min-faces 1 > /dev/null 2>&1
check '[ "$(ls alone1 | grep -c "^Person 00")" = 14 ]' "--min-faces 1: $(ls alone1)"
printf '%s\n' "lib/kate/1.png	kate	21" | "$MKDB" one.db "$GOLD/embeddings.jsonl" 2>/dev/null || fail "mkdb one.db"
"$BIN" sort --db one.db --dest one > out5.txt 2>&1
check 'grep -q "sorted 1 face from 1 photo into 1 person (0 with more than one face); copied 1 file into one/" out5.txt' "one face: $(cat out5.txt)"
# memory guard: 6,000 photos of one person are 18 M edges, over the 16 M limit; each face keeps its best
# 128 and sort says so (same person, every photo placed)
mkdir many && (cd many && seq 1 6000 | sed 's/$/.jpg/' | xargs touch)
seq 1 6000 | awk '{ printf "many/%d.jpg\tangelina\t%d\n", $1, $1 + 100 }' | "$MKDB" many.db "$GOLD/embeddings.jsonl" 2>/dev/null ||
  fail "mkdb many.db"
"$BIN" sort --db many.db --dest manyout --link > out6.txt 2> err6.txt; rc=$?
check '[ $rc -eq 0 ] && grep -q "sorted 6000 faces from 6000 photos into 1 person" out6.txt' "6,000 alike: rc $rc $(cat out6.txt err6.txt)"
check 'grep -q "so many faces are alike (over 16000000 pairs above the threshold) that each face kept only its 128 most similar neighbours" err6.txt' "capped note: $(cat err6.txt)"
check '[ "$(ls "manyout/Person 0001" | wc -l)" -eq 6000 ]' "6,000 alike: $(ls "manyout/Person 0001" | wc -l) placed"
# progress lines (forced on, as on a terminal): comparing, its second pass after the memory guard, copying;
# the error lines of photos gone since embed (the last ones placed) each start a line of their own
mkdir gone && mv many/99*.jpg gone/
SORTBYFACE_PROGRESS=1 "$BIN" sort --db many.db --dest manycopy > /dev/null 2> prog.txt; rc=$?
tr '\r' '\n' < prog.txt > prog-lines.txt
check '[ $rc -eq 1 ] && grep -q "^sortbyface sort: comparing faces: *[0-9]*%, about" prog-lines.txt &&
  grep -q "^sortbyface sort: comparing faces, second pass: *[0-9]*%, about" prog-lines.txt &&
  grep -q "^sortbyface sort: copying photos: *[0-9]*%, about" prog-lines.txt' "progress lines: rc $rc $(tail -3 prog-lines.txt)"
check '[ "$(grep -c "^sortbyface: many/99[0-9]*.jpg: cannot" prog-lines.txt)" -eq 11 ] && ! grep -q "left  sortbyface:" prog.txt' \
  "error lines glued to the progress line: $(grep "sortbyface: many/99" prog-lines.txt | head -2)"
SORTBYFACE_PROGRESS=0 "$BIN" sort --db many.db --dest manycopy2 > /dev/null 2> prog0.txt
check '! grep -q "%, about" prog0.txt' "SORTBYFACE_PROGRESS=0 still shows progress"
mv gone/* many/

# 4. errors: missing database, damaged database, bad options, conflicting modes
"$BIN" sort --db nope.db -dest x > o.txt 2> e.txt; rc=$?
check '[ $rc -eq 3 ] && [ "$(wc -l < e.txt)" -eq 1 ] && grep -q "nope.db: no database here yet (run .sortbyface embed -src DIR. first" e.txt' "missing db: one line, rc 3: rc $rc $(cat e.txt)"
cp embeddings.db bad.db
printf '\377' | dd of=bad.db bs=1 seek=3000 conv=notrunc 2>/dev/null
"$BIN" sort --db bad.db -dest x > o.txt 2> e.txt; rc=$?
check '[ $rc -eq 3 ] && grep -q "bad.db: damaged database" e.txt' "damaged db: rc $rc $(cat e.txt)"
check '[ ! -e x ]' "output folder created for a failing run"
"$BIN" sort -t 1.5 > o.txt 2> e.txt; rc=$?
check '[ $rc -eq 2 ] && grep -q "threshold" e.txt' "bad -t: rc $rc"
"$BIN" sort --link --symlink > o.txt 2> e.txt; rc=$?
check '[ $rc -eq 2 ]' "--link --symlink: rc $rc"
"$BIN" sort -itr abc > o.txt 2> e.txt; rc=$?
check '[ $rc -eq 2 ]' "-itr abc: rc $rc"

# 5. sources untouched
hash_lib > after.txt
check 'cmp -s before.txt after.txt' "source library changed: $(diff before.txt after.txt | head -5)"

finish
