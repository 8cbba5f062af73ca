#!/bin/bash
# tests/e2e_faults.sh — hostile conditions for embed/sort/find: odd file names (spaces, newline, not
# UTF-8), a 0-byte file, a PNG bomb header, a symlink loop, an unreadable folder and file (as 'nobody'),
# 10,000 files in one folder, files vanishing during a run, a full disk for the database and for the
# output, and SIGKILL at random moments of embed and sort (20 times each): every run ends with a clear
# message, the database stays valid, the results equal an uninterrupted run's and no photo changes.
# Paths (issue 21): one photo is one record whatever spelling reached it (./lib, lib//x, $PWD/lib, x/../x,
# hard links, symlinks; an old database holding such twins is cleaned), trees deeper than PATH_MAX, a
# database in a folder whose path is over 255 bytes, files named as images that are none, photos with no
# face counted and listed, formats it cannot decode named with -v, detection settings recorded per photo.
# Summary lines are results: on stdout; problems on stderr.
. tests/helpers/e2e.sh
need "$S/data/lfw-dev"
need_weights
TINY=$TOP/tests/fixtures/tiny-8x8.png
MKDB=$(cd "${SBF_BUILD:?}" && pwd)/tests/e2e_sort_mkdb   # writes a database without the pipeline (old records)
need "$MKDB" "$S/data/aligned-golden/embeddings.jsonl"
e2e_on_exit='umount "$T/full" 2>/dev/null'
cd "$T"
# What 'nobody' runs must not depend on where the checkout lives (a home folder of mode 700 is not reachable by
# other users): the binary and the weights it needs are copied into this world-readable scratch folder.
mkdir -p nobody/weights
cp "$BIN" nobody/sortbyface
cp "$SORTBYFACE_WEIGHTS"/facenet-20180402.sbfw "$SORTBYFACE_WEIGHTS"/facenet-20180402-int8.sbfw "$SORTBYFACE_WEIGHTS"/shape-68.sbfw \
  nobody/weights/
chmod -R a+rX nobody
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env SORTBYFACE_WEIGHTS="$T/nobody/weights" "$T/nobody/sortbyface" "$@"; }
as_nobody --help >/dev/null 2>&1 || { echo "e2e_faults: FAIL: user nobody cannot run $T/nobody/sortbyface"; exit 1; }
L=$S/data/lfw-dev
RANDOM=20261130

mkdir -p lib/a lib/b
cp "$L/Hugo_Chavez/Hugo_Chavez_0001.jpg" "lib/a/two words.jpg"
cp "$L/Hugo_Chavez/Hugo_Chavez_0002.jpg" "lib/a/new
line.jpg"
cp "$L/Hugo_Chavez/Hugo_Chavez_0003.jpg" "lib/b/$(printf 'caf\351.jpg')"   # Latin-1 name, not UTF-8
cp "$L/Serena_Williams/Serena_Williams_0001.jpg" "$L/Serena_Williams/Serena_Williams_0002.jpg" \
   "$L/Serena_Williams/Serena_Williams_0003.jpg" lib/b/
: > lib/a/empty.jpg
# PNG bomb: a tiny PNG whose header claims 60000 x 60000
printf '\211PNG\r\n\032\n\000\000\000\rIHDR\000\000\352\140\000\000\352\140\010\002\000\000\000\000\000\000\000' > lib/a/bomb.png
ln -s .. lib/b/loop
find lib -type f -exec sha256sum {} + | sort > before.sha

# ---- odd names, empty file, bomb, loop -----------------------------------------------------------
"$BIN" embed -src lib --db ref.db -q 2>err; rc=$?
[ $rc = 1 ] && ok || fail "embed: exit $rc, want 1 (the bomb and the empty .jpg fail)"
grep -q "bomb.png: image too large: 60000x60000" err && ok || { fail "bomb: no clear line"; cat err; }
grep -q "^sortbyface: lib/a/empty.jpg: empty file" err && ok || { fail "a 0-byte .jpg is named, not skipped"; cat err; }
[ "$(grep -c . err)" = 2 ] && ok || { fail "only the bomb and the empty file should be reported"; cat err; }
"$BIN" info --db ref.db > info 2>&1
grep -q "ref.db: 6 photos, 6 faces" info && ok || { fail "6 photos with odd names expected"; cat info; }
"$BIN" info --db ref.db --faces --no-embeddings > faces.json
grep -q '"path":"lib/a/new\\nline.jpg"' faces.json && grep -q '"path":"lib/b/caf\\udce9.jpg"' faces.json && ok \
  || { fail "odd names in JSON (a byte that is not UTF-8 as \\udcXX, reversible)"; cut -c1-80 faces.json; }
"$BIN" sort --db ref.db -dest ref-out >/dev/null 2>err || { fail "sort with odd names"; cat err; }
[ -f "ref-out/Person 0001/$(printf 'caf\351.jpg')" ] || [ -f "ref-out/Person 0002/$(printf 'caf\351.jpg')" ] && ok || fail "Latin-1 name not placed"
grep -q 'new\\nline.jpg' ref-out/clusters.tsv && ok || fail "newline not escaped in clusters.tsv"
"$BIN" info --db ref.db --faces > ref.json

# ---- unreadable folder and file, as an ordinary user ---------------------------------------------
mkdir -p perm/lib/locked perm/lib/open
cp "$L/Tony_Blair/Tony_Blair_0001.jpg" perm/lib/open/
cp "$L/Tony_Blair/Tony_Blair_0002.jpg" perm/lib/open/secret.jpg
cp "$L/Tony_Blair/Tony_Blair_0003.jpg" perm/lib/locked/
chmod 0 perm/lib/locked perm/lib/open/secret.jpg
chown -R 65534:65534 perm; chmod 0 perm/lib/locked perm/lib/open/secret.jpg
(cd perm && as_nobody embed -src lib --db p.db -q) 2>err; rc=$?
[ $rc = 1 ] && ok || fail "permissions: exit $rc, want 1"
grep -q "lib/locked: cannot read folder: Permission denied" err && ok || { fail "locked folder message"; cat err; }
grep -q "lib/open/secret.jpg: " err && ok || { fail "unreadable file message"; cat err; }
"$BIN" info --db perm/p.db | grep -q "1 photo, 1 face" && ok || fail "the readable photo should be embedded"
# ... once embedded, a folder or file that turns unreadable keeps its faces (a permission slip or a share that is
# not mounted must not empty the database); a deleted photo is still forgotten
chmod 755 perm/lib/locked; chmod 644 perm/lib/open/secret.jpg
cp "$L/Tony_Blair/Tony_Blair_0004.jpg" perm/lib/open/gone.jpg; chown 65534:65534 perm/lib/open/gone.jpg
(cd perm && as_nobody embed -src lib --db p.db -q) 2>err
"$BIN" info --db perm/p.db | grep -q "4 photos, 4 faces" && ok || fail "all 4 photos embedded once readable"
chmod 0 perm/lib/locked perm/lib/open/secret.jpg; rm perm/lib/open/gone.jpg
(cd perm && as_nobody embed -src lib --db p.db) >out 2>err; rc=$?
[ $rc = 1 ] && ok || fail "unreadable again: exit $rc, want 1"
grep -q "lib/open/secret.jpg: cannot open: Permission denied (its faces from an earlier run are kept)" err && ok ||
  { fail "unreadable known file message"; cat err; }
grep -q "1 unchanged, 1 failed, 1 forgotten.*what the database had from them is kept" out && ok || { fail "summary"; cat out err; }
"$BIN" info --db perm/p.db --faces | grep -c '"path"' | grep -qx 3 && ok || fail "3 photos kept (1 deleted forgotten)"
"$BIN" info --db perm/p.db --faces | grep -q 'lib/locked/Tony_Blair_0003.jpg' && ok || fail "the locked folder's photo kept"
"$BIN" info --db perm/p.db --faces | grep -q 'gone.jpg' && fail "the deleted photo should be forgotten" || ok

# ---- several folders in one run: each walked once, a missing one listed, forgetting only under those walked
mkdir -p multi/x/in multi/y
cp "$L/Hugo_Chavez/Hugo_Chavez_0001.jpg" multi/x/in/
cp "$L/Hugo_Chavez/Hugo_Chavez_0002.jpg" multi/y/
"$BIN" embed multi/x/in -src multi/x multi/y/ multi/y missing-folder --db m.db >out 2>err; rc=$?
[ $rc = 1 ] && ok || fail "several folders, one missing: exit $rc, want 1"
grep -q "missing-folder: No such file or directory" err && ok || { fail "missing folder message"; cat err; }
grep -q "2 photos embedded (2 faces)" out && ok || { fail "several folders: each photo once"; cat out err; }
"$BIN" info --db m.db --faces | grep -q '"path":"multi/y/Hugo_Chavez_0002.jpg"' && ok || fail "paths in their one form"
rm multi/y/Hugo_Chavez_0002.jpg
"$BIN" embed multi/x --db m.db >out 2>err
grep -q "0 forgotten" out && ok || { fail "a folder not given is not forgotten"; cat out err; }
"$BIN" embed multi/y multi/x --db m.db >out 2>err
grep -q "1 unchanged, 0 failed, 1 forgotten" out && ok || { fail "deleted photo forgotten in a multi-folder run"; cat out err; }
# sort and find inside the library itself (cd ~/Pictures; embed -src .; sort): the next embed leaves the copies out
mkdir own
cp "$L"/Serena_Williams/Serena_Williams_000[123].jpg own/
(cd own && "$BIN" embed -src . -q && "$BIN" sort >/dev/null 2>&1 && "$BIN" find -src Serena_Williams_0001.jpg -dest me \
  >/dev/null 2>&1 && "$BIN" embed -src .) >out 2>err; rc=$?
[ $rc = 0 ] && [ -f own/me/Serena_Williams_0002.jpg ] && grep -q "0 photos embedded (0 faces), 3 unchanged.*, 2 of its own output folders not searched; database embeddings.db holds 3 photos, 3 faces" out && ok ||
  { fail "own output folders must not be embedded again: exit $rc"; cat out err; }
(cd own && "$BIN" info --faces) | grep -q '"path":"Serena_Williams_0001.jpg"' && ok || fail "-src . stores bare names, not ./"
(cd own && "$BIN" embed Sorted-pictures --db o.db) >out 2>err   # named explicitly, it is searched
grep -q "3 photos embedded (3 faces)" out && ok || { fail "an output folder named as the root is embedded"; cat out err; }

# photos in formats it cannot decode are counted by format in the summary, and named with -v
mkdir fmts
printf '\0\0\0\030ftypheic\0\0\0\0mif1heic' > fmts/IMG_0001.HEIC
printf '\0\0\0\030ftypheic\0\0\0\0mif1heic' > fmts/IMG_0002.HEIC
printf 'II*\0\010\0\0\0' > fmts/pic.dng   # (WebP is decoded since issue 22)
printf 'hello\n' > fmts/notes.txt
"$BIN" embed fmts --db f.db >out 2>err; rc=$?
[ $rc = 0 ] && [ ! -s err ] && [ "$(wc -l < out)" = 1 ] &&
  grep -q "4 other files skipped (3 of them photos it cannot decode: 2 HEIC, 1 TIFF/raw; convert them to JPEG to include them; -v names them)" out && ok ||
  { fail "unsupported formats summary on stdout, nothing on stderr: exit $rc"; cat out err; }
"$BIN" embed fmts --db f.db -v >out 2>err; rc=$?
[ $rc = 0 ] && [ "$(grep -c "a format it cannot decode: skipped" err)" = 3 ] &&
  grep -q "^sortbyface: fmts/IMG_0002.HEIC: HEIC, a format it cannot decode: skipped$" err && ! grep -q notes.txt err && ok ||
  { fail "-v names each photo it cannot decode: exit $rc"; cat err; }
mkdir fmt1 && cp fmts/pic.dng fmt1/   # counts of one read as English ("1 photo", not "1 photos")
"$BIN" embed fmt1 --db f1.db >out 2>err; rc=$?
[ $rc = 0 ] && grep -q "^0 photos embedded (0 faces), 0 unchanged, 0 failed, 0 forgotten, 1 other file skipped (1 of them a photo it cannot decode: 1 TIFF/raw; convert it to JPEG to include it; -v names it); database f1.db holds 0 photos, 0 faces" out && ok ||
  { fail "one unsupported photo summary: exit $rc"; cat out err; }
rm multi/x/in/Hugo_Chavez_0001.jpg   # only empty folders left: everything under them is forgotten
"$BIN" embed multi --db m.db >out 2>err; rc=$?
[ $rc = 0 ] && grep -q "0 photos embedded (0 faces), 0 unchanged, 0 failed, 1 forgotten.*holds 0 photos" out && ok ||
  { fail "emptied folders: exit $rc"; cat out err; }

# ---- one photo, one record (issue 21) ------------------------------------------------------------
# every spelling of a folder names the same photos: the database holds each once, sort places each once
mkdir -p sp/lib/sub sp/away
cp "$L/Hugo_Chavez/Hugo_Chavez_0001.jpg" "$L/Hugo_Chavez/Hugo_Chavez_0002.jpg" sp/lib/
cp "$L/Serena_Williams/Serena_Williams_0001.jpg" sp/lib/sub/
for src in lib ./lib lib//sub "$T/sp/lib" lib/sub/../sub lib/ .; do
  (cd sp && "$BIN" embed -src "$src" -q) 2>err || { fail "embed -src $src"; cat err; }
done
(cd sp/away && "$BIN" embed -src ../lib --db ../embeddings.db -q) 2>err || { fail "embed -src ../lib from a sub-folder"; cat err; }
"$BIN" info --db sp/embeddings.db | grep -q "embeddings.db: 3 photos, 3 faces" && ok ||
  { fail "every spelling of the folder: 3 photos once each"; "$BIN" info --db sp/embeddings.db; }
(cd sp && "$BIN" info --faces --no-embeddings) | sed 's/"face".*//' | sort > sp.paths
printf '%s\n' '{"path":"lib/Hugo_Chavez_0001.jpg",' '{"path":"lib/Hugo_Chavez_0002.jpg",' '{"path":"lib/sub/Serena_Williams_0001.jpg",' > sp.want
cmp -s sp.paths sp.want && ok || { fail "one name per photo"; cat sp.paths; }
(cd sp && "$BIN" sort -dest out >/dev/null 2>&1) && [ "$(cd sp/out && find . -name '*-2.jpg' | wc -l)" = 0 ] &&
  [ "$(($(wc -l < sp/out/clusters.tsv) - 1))" = 3 ] && ok || fail "sort places each photo once"
# ... one file under two names (a hard link, a symlink) is embedded once; -v names the second names
ln sp/lib/Hugo_Chavez_0001.jpg sp/lib/hard.jpg
ln -s Hugo_Chavez_0002.jpg sp/lib/soft.jpg
(cd sp && "$BIN" embed -src lib -v) >out 2>err; rc=$?
[ $rc = 0 ] && grep -q "^0 photos embedded (0 faces), 3 unchanged, .*, 2 second names of one file (hard links, symlinks) left out; database embeddings.db holds 3 photos" out &&
  grep -q "^sortbyface: lib/hard.jpg: the same file as lib/Hugo_Chavez_0001.jpg: left out$" err &&
  grep -q "^sortbyface: lib/soft.jpg: the same file as lib/Hugo_Chavez_0002.jpg: left out$" err && ok ||
  { fail "hard link and symlink: embedded once, named with -v (exit $rc)"; cat out err; }
# ... also when the other name lies outside the folders of this run (an absolute path held earlier)
mkdir -p sp/elsewhere && cp "$L/Tony_Blair/Tony_Blair_0001.jpg" sp/elsewhere/
(cd sp/away && "$BIN" embed -src "$T/sp/elsewhere" --db ../embeddings.db -q) 2>err
ln -s ../elsewhere sp/lib/linked
(cd sp && "$BIN" embed -src lib/linked -v) >out 2>err
grep -q "^0 photos embedded (0 faces), 0 unchanged, .*, 1 second name of one file" out && grep -q "lib/linked/Tony_Blair_0001.jpg: the same file as elsewhere/Tony_Blair_0001.jpg, which the database holds: left out" err && ok ||
  { fail "a second name of a photo held from another folder"; cat out err; }
"$BIN" info --db sp/embeddings.db | grep -q "4 photos, 4 faces" && ok || fail "4 photos after the link runs"
# an old database holding one photo under several spellings and names is cleaned by the next embed: one record each
rm -f sp/lib/soft.jpg sp/lib/linked
(cd sp && printf '%s\n' "lib/Hugo_Chavez_0001.jpg	angelina	1" "./lib/Hugo_Chavez_0001.jpg	angelina	2" \
  "lib//Hugo_Chavez_0002.jpg	kate	3" "$T/sp/lib/sub/Serena_Williams_0001.jpg	paul	4" "lib/sub/../sub/Serena_Williams_0001.jpg	paul	5" \
  "lib/hard.jpg	angelina	6" | "$MKDB" old.db "$S/data/aligned-golden/embeddings.jsonl") 2>err || { fail "mkdb old.db"; cat err; }
"$BIN" info --db sp/old.db | grep -q "6 photos, 6 faces" || fail "old.db should hold 6 records"
(cd sp && "$BIN" embed -src lib --db old.db) >out 2>err; rc=$?
[ $rc = 0 ] && grep -q "^0 photos embedded (0 faces), 3 unchanged, 0 failed, 1 forgotten, .*database old.db holds 3 photos, 3 faces; 4 records under another spelling of a path merged" out && ok ||
  { fail "an old database with twins is cleaned (exit $rc)"; cat out err; }
(cd sp && "$BIN" info --db old.db --faces --no-embeddings) | sed 's/"face".*//' | sort > old.paths
cmp -s old.paths sp.want && ok || { fail "old database: one name per photo"; cat old.paths; }
(cd sp && "$BIN" embed -src lib --db old.db) >out 2>err
grep -q "^0 photos embedded (0 faces), 3 unchanged, 0 failed, 0 forgotten, .*holds 3 photos, 3 faces; [0-9.]* s$" out && ok ||
  { fail "the cleaned database stays clean"; cat out; }

# ---- nothing silently missing ------------------------------------------------------------------------
# a photo whose path is longer than PATH_MAX (4096) is embedded; so is one given by a long folder name
mkdir deep
# (made by renaming short folders from the deepest up: a shell's cd cannot go past PATH_MAX)
mkdir -p deep/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d && cp "$L/Colin_Powell/Colin_Powell_0001.jpg" deep/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/photo.jpg
n=$(printf 'd%.0s' $(seq 1 240)); p=deep/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d
while [ "$p" != deep ]; do mv "$p" "${p%/d}/$n"; p=${p%/d}; done
"$BIN" embed -src deep --db deep.db >out 2>err; rc=$?
[ $rc = 0 ] && grep -q "^1 photo embedded (1 face), " out && [ ! -s err ] && ok || { fail "a path over PATH_MAX (exit $rc)"; cat out err; }
"$BIN" info --db deep.db --faces --no-embeddings | grep -q '"path":"deep/ddd.*ddd/photo.jpg","face":0' && ok || fail "the long path is stored"
"$BIN" embed -src deep --db deep.db >out 2>err
grep -q "^0 photos embedded (0 faces), 1 unchanged" out && ok || { fail "a long path: unchanged on the next run"; cat out err; }
# ... and sort copies it and hard-links it (and says why it cannot symlink it)
"$BIN" sort --db deep.db -dest deepout --min-faces 1 >out 2>err; rc=$?
[ $rc = 0 ] && cmp -s "deepout/Person 0001/photo.jpg" "$L/Colin_Powell/Colin_Powell_0001.jpg" && ok ||
  { fail "sort copies a photo whose path is over PATH_MAX (exit $rc)"; cat out err; }
"$BIN" sort --db deep.db -dest deeplink --min-faces 1 --link >out 2>err; rc=$?
[ $rc = 0 ] && [ "$(stat -c %h "deeplink/Person 0001/photo.jpg")" = 2 ] && ok ||
  { fail "sort hard-links a photo whose path is over PATH_MAX (exit $rc)"; cat out err; }
"$BIN" sort --db deep.db -dest deepsym --min-faces 1 --symlink >out 2>err; rc=$?
[ $rc = 1 ] && grep -q "photo.jpg: its path is too long for a symlink" err && ok ||
  { fail "--symlink of a path over PATH_MAX: one line naming it (exit $rc)"; cat out err; }
# a database made in a folder whose absolute path is over 255 bytes records it: sort works from anywhere
lb=$T/long-$(printf 'b%.0s' $(seq 1 120))/$(printf 'c%.0s' $(seq 1 150))
mkdir -p "$lb/pics" && cp "$L"/Serena_Williams/Serena_Williams_000[123].jpg "$lb/pics/"
(cd "$lb" && "$BIN" embed -src pics -q) 2>err || { fail "embed in a long folder"; cat err; }
"$BIN" info --db "$lb/embeddings.db" | grep -q "; relative paths start in $lb\$" && ok || { fail "a base folder of ${#lb} bytes is recorded"; "$BIN" info --db "$lb/embeddings.db"; }
"$BIN" sort --db "$lb/embeddings.db" -dest lbout >out 2>err; rc=$?
[ $rc = 0 ] && [ "$(ls lbout/'Person 0001' | wc -l)" = 3 ] && ok || { fail "sort from elsewhere of a database in a long folder (exit $rc)"; cat out err; }
# files named as images that are none (0 bytes, random bytes) are named and counted as failed, not skipped
mkdir -p bad && : > bad/empty.jpg && head -c 3000 /dev/urandom > bad/random.jpg && head -c 300 /dev/urandom > bad/random.dat
cp "$L/Hugo_Chavez/Hugo_Chavez_0001.jpg" bad/
"$BIN" embed -src bad --db bad.db >out 2>err; rc=$?
[ $rc = 1 ] && grep -q "^1 photo embedded (1 face), 0 unchanged, 2 failed, 0 forgotten, 1 other file skipped" out &&
  grep -q "^sortbyface: bad/empty.jpg: empty file" err && grep -q "^sortbyface: bad/random.jpg: " err && [ "$(wc -l < err)" = 2 ] && ok ||
  { fail "0-byte and random .jpg: named, failed (exit $rc)"; cat out err; }
# photos with no face are counted, listed by info --no-face and named by embed -v
mkdir -p noface && cp "$S/data/negatives/coffee.png" "$S/data/negatives/brick.png" "$L/Hugo_Chavez/Hugo_Chavez_0002.jpg" noface/
"$BIN" embed -src noface --db nf.db -v >out 2>err; rc=$?
[ $rc = 0 ] && grep -q "^3 photos embedded (1 face; 2 with no face), .*database nf.db holds 3 photos, 1 face (2 photos with no face: 'sortbyface info --no-face --db nf.db' lists them)" out &&
  grep -q "^sortbyface: noface/coffee.png: no face found$" err && ok || { fail "no-face photos counted and named (exit $rc)"; cat out err; }
"$BIN" info --db nf.db | grep -q "nf.db: 3 photos, 1 face, 2 with no face, " && ok || { fail "info counts photos with no face"; "$BIN" info --db nf.db; }
[ "$("$BIN" info --db nf.db --no-face | tr '\n' ' ')" = "noface/brick.png noface/coffee.png " ] && ok || { fail "info --no-face lists them"; "$BIN" info --db nf.db --no-face; }
# detection settings are recorded per photo: a run with other settings redoes the photos, --redo redoes all
mkdir -p ds && cp "$L/Hugo_Chavez/Hugo_Chavez_0003.jpg" "$L/Tony_Blair/Tony_Blair_0002.jpg" ds/
"$BIN" embed -src ds --db ds.db --upsample 0 --min-face 100000 >out 2>&1 && "$BIN" info --db ds.db | grep -q "2 photos, 0 faces" ||
  fail "--upsample 0 --min-face 100000 finds nothing"
"$BIN" embed -src ds --db ds.db >out 2>err
grep -q "^2 photos embedded (2 faces), 0 unchanged" out && ok || { fail "photos made with other settings are embedded again"; cat out err; }
"$BIN" embed -src ds --db ds.db >out 2>err
grep -q "^0 photos embedded (0 faces), 2 unchanged" out && ok || { fail "... and then unchanged"; cat out err; }
"$BIN" embed -src ds --db ds.db --upsample 0 >out 2>err && "$BIN" embed -src ds --db ds.db --upsample 0 >out2 2>&1
grep -q "^2 photos embedded" out && grep -q "^0 photos embedded (0 faces), 2 unchanged" out2 && ok || { fail "--upsample 0 is a setting of its own"; cat out out2; }
"$BIN" embed -src ds --db ds.db --redo --upsample 0 >out 2>err
grep -q "^2 photos embedded" out && ok || { fail "--redo embeds every photo again"; cat out err; }

# ---- 10,000 files in one folder (copies: hard links of one file are one photo) -------------------
mkdir many
cp "$TINY" many/seed.png
(cd many && for i in $(seq 1 9999); do echo f$i.png; done | xargs -n 500 sh -c 'for f; do cp seed.png "$f"; done' sh)
t0=$(date +%s)
"$BIN" embed -src many --db many.db -q 2>err; rc=$?
[ $rc = 0 ] && ok || { fail "10,000 files: exit $rc"; head -3 err; }
"$BIN" info --db many.db | grep -q "10000 photos" && ok || fail "10,000 photos expected in many.db"
"$BIN" embed -src many --db many.db >out2 2>err2
grep -q "^0 photos embedded (0 faces), 10000 unchanged" out2 && ok || { fail "10,000 files: second run not incremental"; cat out2 err2; }
echo "10,000-file folder: first embed $(( $(date +%s) - t0 )) s"

# ---- files vanishing and turning unreadable during a run ------------------------------------------
mkdir -p vanish
for p in Colin_Powell Tony_Blair; do cp "$L/$p/${p}_000"[1-6].jpg vanish/; done
( sleep 0.3; rm -f vanish/Colin_Powell_000[4-6].jpg ) &
"$BIN" embed -src vanish --db v.db -q 2>err; rc=$?; wait
[ $rc -le 1 ] && ok || { fail "vanishing files: exit $rc"; cat err; }
"$BIN" embed -src vanish --db v.db -q 2>err; rc=$?
[ $rc -le 1 ] && ok || fail "rerun after vanishing files: exit $rc"
n=$("$BIN" info --db v.db | sed -n 's/.*: \([0-9]*\) photos.*/\1/p')
[ "$n" = 9 ] && ok || fail "after the rerun the database should hold the 9 remaining photos (got $n)"

# ---- full disk -----------------------------------------------------------------------------------
command -v mount >/dev/null || { echo "e2e_faults: FAIL: no 'mount' command (Debian package 'mount'; make setup installs it)"; exit 1; }
mkdir full && mount -t tmpfs -o size=8k tmpfs full || fail "cannot mount a small tmpfs (needs root)"
"$BIN" embed -src lib --db full/e.db >out 2>err; rc=$?
[ $rc = 3 ] && ok || fail "embed on a full disk: exit $rc, want 3"
grep -q "full/e.db: .*No space left on device" err && grep -q "STOPPED EARLY" out && ok || { fail "full disk: no clear message"; cat out err; }
"$BIN" info --db full/e.db >/dev/null 2>&1; rc=$?
[ $rc = 0 ] && ok || fail "the database on the full disk is not valid afterwards (exit $rc)"
rm -f full/*
"$BIN" sort --db ref.db -dest full/out >/dev/null 2>err; rc=$?
head -c 7000 /dev/zero > full/filler 2>/dev/null
"$BIN" sort --db ref.db -dest full/out2 >/dev/null 2>err; rc=$?
[ $rc -ne 0 ] && [ $rc -lt 128 ] && ok || fail "sort onto a full disk: exit $rc"
grep -q "No space left on device" err && ok || { fail "sort on full disk: no clear message"; cat err; }
umount full

# ---- SIGKILL during embed, 20 times: the final database equals an uninterrupted run's -------------
rm -f k.db
for i in $(seq 1 20); do
  "$BIN" embed -src lib --db k.db -q 2>/dev/null & pid=$!
  sleep "0.$((RANDOM % 9))$((RANDOM % 10))"
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  "$BIN" info --db k.db >/dev/null 2>err || { [ -f k.db ] && { fail "kill $i left an invalid database"; cat err; }; }
done
"$BIN" embed -src lib --db k.db -q 2>/dev/null
"$BIN" info --db k.db --faces > k.json
cmp -s ref.json k.json && ok || fail "after 20 kills the database differs from an uninterrupted run's"

# ---- Ctrl-C during embed: the photos in flight are written, a summary says INTERRUPTED, exit 130; the
# next run embeds the rest.  The signal is sent once the first batch is in the database.
mkdir -p intr
for d in "$L"/Al*; do cp "$d"/*.jpg intr/; done   # 189 photos: many batches
total=$(ls intr | wc -l)
"$BIN" embed -src intr --db i.db --threads 2 >out 2>err & pid=$!
for w in $(seq 1 600); do [ "$(stat -c %s i.db 2>/dev/null || echo 0)" -gt 4000 ] && break; sleep 0.1; done
kill -INT $pid; wait $pid; rc=$?
n=$(sed -n 's/^\([0-9]*\) photos embedded.*INTERRUPTED: run it again to embed the rest.*/\1/p' out)
[ $rc = 130 ] && [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt "$total" ] && grep -q "stopping after the photos in flight" err &&
  "$BIN" info --db i.db | grep -q "^i.db: $n photos" && ok || { fail "Ctrl-C: exit $rc, $n of $total photos"; cat out err; }
"$BIN" embed -src intr --db i.db >out 2>err; rc=$?
[ $rc = 0 ] && grep -q "$((total - n)) photos embedded .*, $n unchanged" out && ok || { fail "after Ctrl-C: the rest"; cat out err; }

# ---- SIGKILL during sort, 20 times: the next sort equals an uninterrupted one ---------------------
for i in $(seq 1 20); do
  "$BIN" sort --db ref.db -dest ks >/dev/null 2>&1 & pid=$!
  sleep "0.0$((RANDOM % 10))"
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
done
"$BIN" sort --db ref.db -dest final >/dev/null 2>err || { fail "sort after kills"; cat err; }
cmp -s ref-out/clusters.tsv final/clusters.tsv && ok || fail "sort after kills differs from an uninterrupted sort"
ls -d ks* >/dev/null 2>&1 && [ ! -e "ks/clusters.tsv.tmp" ] || true

# ---- no photo changed ----------------------------------------------------------------------------
find lib -type f -exec sha256sum {} + | sort > after.sha
cmp -s before.sha after.sha && ok || fail "source photos changed"
finish
