#!/bin/bash
# tests/e2e_faults.sh — hostile conditions for embed/sort/find: odd file names (spaces, newline, not
# UTF-8), a 0-byte file, a PNG bomb header, a symlink loop, an unreadable folder and file (as 'nobody'),
# 10,000 files in one folder, files vanishing during a run, a full disk for the database and for the
# output, and SIGKILL at random moments of embed and sort (20 times each): every run ends with a clear
# message, the database stays valid, the results equal an uninterrupted run's and no photo changes.
. tests/helpers/e2e.sh
need "$S/data/lfw-dev"
need_weights
TINY=$TOP/tests/fixtures/tiny-8x8.png
e2e_on_exit='umount "$T/full" 2>/dev/null'
cd "$T"
# What 'nobody' runs must not depend on where the checkout lives (a home folder of mode 700 is not reachable by
# other users): the binary and the weights it needs are copied into this world-readable scratch folder.
mkdir -p nobody/weights
cp "$BIN" nobody/sortbyface
cp "$SORTBYFACE_WEIGHTS"/facenet-20180402.sbfw "$SORTBYFACE_WEIGHTS"/shape-68.sbfw nobody/weights/
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
[ $rc = 1 ] && ok || fail "embed: exit $rc, want 1 (the bomb fails)"
grep -q "bomb.png: image too large: 60000x60000" err && ok || { fail "bomb: no clear line"; cat err; }
[ "$(grep -c . err)" = 1 ] && ok || { fail "only the bomb should be reported"; cat err; }
"$BIN" info --db ref.db > info 2>&1
grep -q "ref.db: 6 photos, 6 faces" info && ok || { fail "6 photos with odd names expected"; cat info; }
"$BIN" info --db ref.db --faces --no-embeddings > faces.json
grep -q '"path":"lib/a/new\\nline.jpg"' faces.json && grep -q '"path":"lib/b/caf\\u00e9.jpg"' faces.json && ok \
  || { fail "odd names in JSON"; cut -c1-80 faces.json; }
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
(cd perm && as_nobody embed -src lib --db p.db) 2>err; rc=$?
[ $rc = 1 ] && ok || fail "unreadable again: exit $rc, want 1"
grep -q "lib/open/secret.jpg: cannot open: Permission denied (its faces from an earlier run are kept)" err && ok ||
  { fail "unreadable known file message"; cat err; }
grep -q "1 unchanged, 1 failed, 1 forgotten.*what the database had from them is kept" err && ok || { fail "summary"; cat err; }
"$BIN" info --db perm/p.db --faces | grep -c '"path"' | grep -qx 3 && ok || fail "3 photos kept (1 deleted forgotten)"
"$BIN" info --db perm/p.db --faces | grep -q 'lib/locked/Tony_Blair_0003.jpg' && ok || fail "the locked folder's photo kept"
"$BIN" info --db perm/p.db --faces | grep -q 'gone.jpg' && fail "the deleted photo should be forgotten" || ok

# ---- several folders in one run: each walked once, a missing one listed, forgetting only under those walked
mkdir -p multi/x/in multi/y
cp "$L/Hugo_Chavez/Hugo_Chavez_0001.jpg" multi/x/in/
cp "$L/Hugo_Chavez/Hugo_Chavez_0002.jpg" multi/y/
"$BIN" embed multi/x/in -src multi/x multi/y/ multi/y missing-folder --db m.db 2>err; rc=$?
[ $rc = 1 ] && ok || fail "several folders, one missing: exit $rc, want 1"
grep -q "missing-folder: No such file or directory" err && ok || { fail "missing folder message"; cat err; }
grep -q "2 photos embedded (2 faces)" err && ok || { fail "several folders: each photo once"; cat err; }
"$BIN" info --db m.db --faces | grep -q '"path":"multi/y/Hugo_Chavez_0002.jpg"' && ok || fail "paths as the first spelling"
rm multi/y/Hugo_Chavez_0002.jpg
"$BIN" embed multi/x --db m.db 2>err
grep -q "0 forgotten" err && ok || { fail "a folder not given is not forgotten"; cat err; }
"$BIN" embed multi/y multi/x --db m.db 2>err
grep -q "1 unchanged, 0 failed, 1 forgotten" err && ok || { fail "deleted photo forgotten in a multi-folder run"; cat err; }
# sort and find inside the library itself (cd ~/Pictures; embed -src .; sort): the next embed leaves the copies out
mkdir own
cp "$L"/Serena_Williams/Serena_Williams_000[123].jpg own/
(cd own && "$BIN" embed -src . -q && "$BIN" sort >/dev/null 2>&1 && "$BIN" find -src Serena_Williams_0001.jpg -dest me \
  >/dev/null 2>&1 && "$BIN" embed -src .) 2>err; rc=$?
[ $rc = 0 ] && [ -f own/me/Serena_Williams_0002.jpg ] && grep -q "0 photos embedded (0 faces), 3 unchanged.*, 2 of its own output folders not searched; database embeddings.db holds 3 photos, 3 faces" err && ok ||
  { fail "own output folders must not be embedded again: exit $rc"; cat err; }
(cd own && "$BIN" embed Sorted-pictures --db o.db) 2>err   # named explicitly, it is searched
grep -q "3 photos embedded (3 faces)" err && ok || { fail "an output folder named as the root is embedded"; cat err; }

# photos in formats it cannot decode are skipped without a line each, but counted by format in the summary
mkdir fmts
printf '\0\0\0\030ftypheic\0\0\0\0mif1heic' > fmts/IMG_0001.HEIC
printf '\0\0\0\030ftypheic\0\0\0\0mif1heic' > fmts/IMG_0002.HEIC
printf 'RIFF\044\0\0\0WEBPVP8 ' > fmts/pic.webp
printf 'hello\n' > fmts/notes.txt
"$BIN" embed fmts --db f.db 2>err; rc=$?
[ $rc = 0 ] && [ "$(wc -l < err)" = 1 ] &&
  grep -q "4 other files skipped (3 of them photos it cannot decode: 2 HEIC, 1 WebP; convert them to JPEG" err && ok ||
  { fail "unsupported formats summary: exit $rc"; cat err; }
mkdir fmt1 && cp fmts/pic.webp fmt1/   # counts of one read as English ("1 photo", not "1 photos")
"$BIN" embed fmt1 --db f1.db 2>err; rc=$?
[ $rc = 0 ] && grep -q "0 photos embedded (0 faces), 0 unchanged, 0 failed, 0 forgotten, 1 other file skipped (1 of them a photo it cannot decode: 1 WebP; convert it to JPEG to include it); database f1.db holds 0 photos, 0 faces" err && ok ||
  { fail "one unsupported photo summary: exit $rc"; cat err; }
rm multi/x/in/Hugo_Chavez_0001.jpg   # only empty folders left: everything under them is forgotten
"$BIN" embed multi --db m.db 2>err; rc=$?
[ $rc = 0 ] && grep -q "0 photos embedded (0 faces), 0 unchanged, 0 failed, 1 forgotten.*holds 0 photos" err && ok ||
  { fail "emptied folders: exit $rc"; cat err; }

# ---- 10,000 files in one folder -----------------------------------------------------------------
mkdir many
cp "$TINY" many/seed.png
for i in $(seq 1 9999); do ln many/seed.png many/f$i.png; done
t0=$(date +%s)
"$BIN" embed -src many --db many.db -q 2>err; rc=$?
[ $rc = 0 ] && ok || { fail "10,000 files: exit $rc"; head -3 err; }
"$BIN" info --db many.db | grep -q "10000 photos" && ok || fail "10,000 photos expected in many.db"
"$BIN" embed -src many --db many.db 2>err2
grep -q "0 photos embedded (0 faces), 10000 unchanged" err2 && ok || { fail "10,000 files: second run not incremental"; cat err2; }
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
"$BIN" embed -src lib --db full/e.db 2>err; rc=$?
[ $rc = 3 ] && ok || fail "embed on a full disk: exit $rc, want 3"
grep -q "full/e.db: .*No space left on device" err && grep -q "STOPPED EARLY" err && ok || { fail "full disk: no clear message"; cat err; }
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
"$BIN" embed -src intr --db i.db --threads 2 2>err & pid=$!
for w in $(seq 1 600); do [ "$(stat -c %s i.db 2>/dev/null || echo 0)" -gt 4000 ] && break; sleep 0.1; done
kill -INT $pid; wait $pid; rc=$?
n=$(sed -n 's/.*embed: \([0-9]*\) photos embedded.*INTERRUPTED: run it again to embed the rest.*/\1/p' err)
[ $rc = 130 ] && [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt "$total" ] && grep -q "stopping after the photos in flight" err &&
  "$BIN" info --db i.db | grep -q "^i.db: $n photos" && ok || { fail "Ctrl-C: exit $rc, $n of $total photos"; cat err; }
"$BIN" embed -src intr --db i.db 2>err; rc=$?
[ $rc = 0 ] && grep -q "$((total - n)) photos embedded .*, $n unchanged" err && ok || { fail "after Ctrl-C: the rest"; cat err; }

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
