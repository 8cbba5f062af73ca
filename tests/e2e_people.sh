#!/bin/bash
# tests/e2e_people.sh — people that last (issue 19), end to end:
#  1. the nightly flow on real photos (../shared/data/lfw-dev, embedded by the binary): embed, sort, rename a
#     folder, move photos between folders, delete one, add a file of the user's, add new photos, embed, sort ->
#     names and numbers stable, corrections applied, new photos placed, the user's file untouched, sources
#     byte-identical; the people verbs (people, name, merge, is, is-not, corrections, withdraw), their --help
#     and errors; --dry-run changes nothing; -dest and --fresh experiments leave the stored people alone.
#  2. the same flow on 2,500 photos (database by tests/e2e_sort_mkdb) with 20 SIGKILLs at random moments of the
#     second sort: the next sort finishes the job and the folder, clusters.tsv, people and corrections equal an
#     uninterrupted run's; the database stays valid after every kill; two sorts never work on one folder.
#  3. output places: --link across file systems copies with one note, a full disk stops sort at the first
#     ENOSPC (an experiment leaves nothing, the managed folder is finished by the next run), a placed photo
#     whose original is gone is kept, a whole person folder deleted hides the person, a library moved with its
#     database and folder keeps working.
. tests/helpers/e2e.sh
need "$S/data/lfw-dev" "$S/data/aligned-golden/embeddings.jsonl"
need_weights
MKDB=$(cd "${SBF_BUILD:?}" && pwd)/tests/e2e_sort_mkdb
need "$MKDB"
L=$S/data/lfw-dev
G=$S/data/aligned-golden
e2e_on_exit='umount "$T/small" "$T/other" 2>/dev/null'
check() { if eval "$1"; then ok; else fail "$2"; fi; }
cd "$T" || exit 1
# (the people page, index.html and .thumbs/, is checked by tests/e2e_page.sh)
files() { (cd "$1" && find . -path ./clusters.tsv -prune -o -path ./.sortbyface-output -prune -o -path ./index.html -prune -o \
  -path ./.thumbs -prune -o \( -type f -o -type l \) -print | sort | tr '\n' ' '); }

# ==== 1. the nightly flow on real photos ===================================================================
night1() { # the first night and the user's edits, in folder $1 (its own database, base and managed folder)
  mkdir -p "$1/lib/misc" && cd "$1" || return 1
  for p in Colin_Powell Tony_Blair Hugo_Chavez Serena_Williams; do
    mkdir -p lib/$p
    for i in 1 2 3 4; do cp "$L/$p/${p}_000$i.jpg" lib/$p/; done
  done
  cp "$L/AJ_Cook/AJ_Cook_0001.jpg" "$L/Aaron_Eckhart/Aaron_Eckhart_0001.jpg" lib/misc/
  "$BIN" embed -src lib -q 2>err || { fail "embed"; cat err; }
  "$BIN" sort >out1 2>err1
}
night_edits() { # the user's edits, new photos, embed
  D=Sorted-pictures
  mv "$D/Person 0001" "$D/Alice"                                 # a name
  mv "$D/Person 0002/Hugo_Chavez_0004.jpg" "$D/Person 0003/"     # that face is person 3
  rm "$D/Person 0004/Tony_Blair_0004.jpg"                        # that face is not person 4
  mv "$D/Unknown/AJ_Cook_0001.jpg" "$D/Alice/"                   # that stranger is Alice
  echo "my notes" > "$D/Alice/notes.txt"; touch -d 2001-02-03 "$D/Alice/notes.txt"   # the user's own file
  cp "$L/Colin_Powell/Colin_Powell_0005.jpg" lib/Colin_Powell/  # new photos: of known people and of a new one
  cp "$L/Hugo_Chavez/Hugo_Chavez_0005.jpg" lib/Hugo_Chavez/
  mkdir lib/Jean_Chretien && cp "$L"/Jean_Chretien/Jean_Chretien_000[12].jpg lib/Jean_Chretien/
  "$BIN" embed -src lib -q 2>err || { fail "second embed"; cat err; }
}
(night1 night-kill && night_edits) # the same state, for the run killed below
cd "$T"
night1 night
check 'grep -q "^sorted 18 faces from 18 photos into 6 people (4 with more than one face); copied 18 files into Sorted-pictures/" out1' \
  "first sort: $(cat out1 err1)"
D=Sorted-pictures
want1="./Person 0001/Colin_Powell_0001.jpg ./Person 0001/Colin_Powell_0002.jpg ./Person 0001/Colin_Powell_0003.jpg ./Person 0001/Colin_Powell_0004.jpg ./Person 0002/Hugo_Chavez_0001.jpg ./Person 0002/Hugo_Chavez_0002.jpg ./Person 0002/Hugo_Chavez_0003.jpg ./Person 0002/Hugo_Chavez_0004.jpg ./Person 0003/Serena_Williams_0001.jpg ./Person 0003/Serena_Williams_0002.jpg ./Person 0003/Serena_Williams_0003.jpg ./Person 0003/Serena_Williams_0004.jpg ./Person 0004/Tony_Blair_0001.jpg ./Person 0004/Tony_Blair_0002.jpg ./Person 0004/Tony_Blair_0003.jpg ./Person 0004/Tony_Blair_0004.jpg ./Unknown/AJ_Cook_0001.jpg ./Unknown/Aaron_Eckhart_0001.jpg "
check '[ "$(files $D)" = "$want1" ]' "first layout: $(files $D)"
"$BIN" info | grep -q "embeddings.db: 18 photos, 18 faces" && ok || fail "info summary words"
# --dry-run on a folder with nothing to do: says so, changes nothing
"$BIN" sort --dry-run >dry0 2>&1
check 'grep -q "^dry run: 0 changes to $PWD/Sorted-pictures; nothing was changed$" dry0' "dry run, nothing to do: $(cat dry0)"
night_edits
(find lib -type f -exec sha256sum {} + | sort) > ../night-before2.sha
# a dry run says what it would do and changes nothing (the folder, the database)
(find . -type f -exec sha256sum {} + | sort) > ../night-pre-dry.sha
"$BIN" sort --dry-run >dry1 2>dry1.err; rc=$?
(find . -type f ! -name 'dry1*' -exec sha256sum {} + | sort) > ../night-post-dry.sha
check '[ $rc = 0 ] && cmp -s ../night-pre-dry.sha ../night-post-dry.sha' "--dry-run changed something (rc $rc)"
check 'grep -q "^sort: folder Person 0001/ renamed to Alice/: person 1 is named so$" dry1 && grep -q "^would place lib/Jean_Chretien/Jean_Chretien_0001.jpg as Person 0007/Jean_Chretien_0001.jpg$" dry1 &&
  grep -q "^dry run: 5 changes to" dry1' "dry run: $(cat dry1 dry1.err)"
"$BIN" sort >out2 2>err2; rc=$?
check '[ $rc = 0 ] && grep -q "^sorted 22 faces from 22 photos into 7 people (5 with more than one face); copied 5 files into Sorted-pictures/ (0 moved, 0 removed)$" out2' \
  "second sort: rc $rc $(cat out2 err2)"
check 'grep -q "^sort: moved: Person 0003/Hugo_Chavez_0004.jpg: that face is person 3 (correction 1)$" out2 &&
  grep -q "^sort: deleted: Person 0004/Tony_Blair_0004.jpg: that face is not that person (correction 2)$" out2 &&
  grep -q "^sort: moved: Alice/AJ_Cook_0001.jpg: that face is person 1 (correction 3)$" out2 &&
  grep -q "^sort: Alice/notes.txt: not placed by sort; it is yours and left as it is$" out2' "edits read: $(cat out2)"
want2="./Alice/AJ_Cook_0001.jpg ./Alice/Colin_Powell_0001.jpg ./Alice/Colin_Powell_0002.jpg ./Alice/Colin_Powell_0003.jpg ./Alice/Colin_Powell_0004.jpg ./Alice/Colin_Powell_0005.jpg ./Alice/notes.txt ./Person 0002/Hugo_Chavez_0001.jpg ./Person 0002/Hugo_Chavez_0002.jpg ./Person 0002/Hugo_Chavez_0003.jpg ./Person 0002/Hugo_Chavez_0005.jpg ./Person 0003/Hugo_Chavez_0004.jpg ./Person 0003/Serena_Williams_0001.jpg ./Person 0003/Serena_Williams_0002.jpg ./Person 0003/Serena_Williams_0003.jpg ./Person 0003/Serena_Williams_0004.jpg ./Person 0004/Tony_Blair_0001.jpg ./Person 0004/Tony_Blair_0002.jpg ./Person 0004/Tony_Blair_0003.jpg ./Person 0007/Jean_Chretien_0001.jpg ./Person 0007/Jean_Chretien_0002.jpg ./Unknown/Aaron_Eckhart_0001.jpg ./Unknown/Tony_Blair_0004.jpg "
check '[ "$(files $D)" = "$want2" ]' "second layout: $(files $D)"
# the page shows the people as the folder has them: the name, the numbers, Unknown (one notion of a person)
check 'grep -q "<section class=\"person\" id=\"p1\" data-name=\"Alice\">" $D/index.html && grep -q "data-name=\"Person 0007\"" $D/index.html &&
  grep -q "<section class=\"unknown\" id=\"unknown\" data-name=\"Unknown\">" $D/index.html && ! grep -q "data-name=\"Person 0001\"" $D/index.html' \
  "the page after the edits: $(grep "<section" $D/index.html)"
cp $D/clusters.tsv ../night2-clusters.tsv
check '[ "$(cat $D/Alice/notes.txt)" = "my notes" ] && [ "$(stat -c %Y $D/Alice/notes.txt)" = "$(date -d 2001-02-03 +%s)" ]' "the user's file was touched"
check 'cmp -s "$D/Alice/Colin_Powell_0005.jpg" lib/Colin_Powell/Colin_Powell_0005.jpg && cmp -s "$D/Person 0003/Hugo_Chavez_0004.jpg" lib/Hugo_Chavez/Hugo_Chavez_0004.jpg' \
  "placed copies differ from their photos"
check 'grep -q "^lib/Hugo_Chavez/Hugo_Chavez_0004.jpg	0	.*	3	Person 0003/Hugo_Chavez_0004.jpg$" $D/clusters.tsv &&
  grep -q "^lib/Tony_Blair/Tony_Blair_0004.jpg	0	.*	8	Unknown/Tony_Blair_0004.jpg$" $D/clusters.tsv && [ $(wc -l < $D/clusters.tsv) = 23 ]' \
  "clusters.tsv: $(cat $D/clusters.tsv)"
"$BIN" people >people2
check 'grep -q "^ *1  Alice  *6  *6  Alice/$" people2 && grep -q "^ *7  -  *2  *2  Person 0007/$" people2 && grep -q "^ *8  -  *1  *1  Unknown/$" people2' \
  "people: $(cat people2)"
"$BIN" corrections >corr2
check '[ $(wc -l < corr2) = 3 ] && grep -q "^   2  .*  folder  face 0 of lib/Tony_Blair/Tony_Blair_0004.jpg is not person 4$" corr2' "corrections: $(cat corr2)"
"$BIN" sort >out3 2>&1
check 'grep -q "copied 0 files into Sorted-pictures/ (0 moved, 0 removed)$" out3 && [ "$(files $D)" = "$want2" ] && ! grep -q "^sort: " out3' \
  "a third sort changes nothing and tells nothing again: $(cat out3)"
# from any folder: the database knows its folder
mkdir -p elsewhere && (cd elsewhere && "$BIN" sort --db ../embeddings.db >../out4 2>&1)
check 'grep -q "copied 0 files into $PWD/Sorted-pictures/ (0 moved, 0 removed)$" out4 && [ ! -e elsewhere/Sorted-pictures ]' "sort from another folder: $(cat out4)"

# ---- the verbs ----
for va in "people" "name 1 Bob" "merge 1 2" "is x.jpg 1" "is-not x.jpg 1" "corrections" "withdraw 1"; do
  v=${va%% *}
  "$BIN" $v --help >h 2>&1 && grep -q "^usage: sortbyface $v" h && ok || fail "$v --help"
  "$BIN" $v --no-such-flag >h 2>&1; [ $? = 2 ] && grep -q "unknown option" h && ok || fail "$v: unknown flag"
  "$BIN" $va --db nope.db >h 2>&1; rc=$?
  [ $rc = 3 ] && [ "$(wc -l < h)" = 1 ] && grep -q "nope.db: no database here yet" h && ok || { fail "$v: missing database (rc $rc)"; cat h; }
  [ ! -e nope.db ] && ok || fail "$v made a database"
done
"$BIN" name 1 >h 2>&1; [ $? = 2 ] && grep -q "give PERSON and NAME" h && ok || fail "name with one argument: $(cat h)"
"$BIN" merge 1 >h 2>&1; [ $? = 2 ] && ok || fail "merge with one argument"
"$BIN" name 2 Hugo >o 2>e && grep -q "^person 2 is named 'Hugo'$" o && ok || { fail "name"; cat o e; }
"$BIN" name "Person 0004" Unknown >o 2>e; [ $? = 2 ] && grep -q "is the folder of the people seen too rarely" e && ok || fail "name Unknown: $(cat e)"
"$BIN" name 99 Bob >o 2>e; [ $? = 1 ] && grep -q "no person '99'" e && ok || fail "name of nobody: $(cat e)"
"$BIN" name 4 "a/b" >o 2>e; [ $? = 2 ] && grep -q "cannot hold '/'" e && ok || fail "name with a slash: $(cat e)"
"$BIN" is lib/Tony_Blair/Tony_Blair_0004.jpg 4 >o 2>e && grep -q "^face 0 of lib/Tony_Blair/Tony_Blair_0004.jpg is person 4 (correction 4)$" o && ok ||
  { fail "is"; cat o e; }
"$BIN" is-not "$D/Person 0003/Hugo_Chavez_0004.jpg" 3 >o 2>e && grep -q "^face 0 of lib/Hugo_Chavez/Hugo_Chavez_0004.jpg is not person 3 (correction 5)$" o && ok ||
  { fail "is-not by the placed file"; cat o e; }
"$BIN" is ./lib//Hugo_Chavez/../Hugo_Chavez/Hugo_Chavez_0004.jpg Hugo >o 2>e && grep -q "is person 2 (Hugo) (correction 6)" o && ok || { fail "is, another spelling"; cat o e; }
"$BIN" is lib/Hugo_Chavez/Hugo_Chavez_0004.jpg --face 3 Hugo >o 2>e; [ $? = 1 ] && grep -q "no face 3 (it holds 1: 0 to 0" e && ok || fail "--face out of range: $(cat e)"
"$BIN" is lib/nope.jpg Hugo >o 2>e; [ $? = 1 ] && grep -q "lib/nope.jpg: No such file" e && ok || fail "is: missing photo: $(cat e)"
# the newest word about a face counts: "is 4" replaced the folder's "is not 4", "is not 3" the folder's "is 3"
"$BIN" corrections >c && [ $(wc -l < c) = 4 ] && ! grep -q "is person 3$" c && ! grep -q "is not person 4$" c && ok ||
  { fail "is / is-not replace what was said about the same face"; cat c; }
"$BIN" merge 6 Alice >o 2>e && grep -q "^person 6 (1 face) merged into person 1 (Alice), now person 1 (correction 7)$" o && ok || { fail "merge"; cat o e; }
"$BIN" name 7 Alice >o 2>e && grep -q "^person 7 is named 'Alice' like person 1 (Alice): the two are merged into person 1 (correction 8;" o && ok ||
  { fail "renaming to an existing name merges"; cat o e; }
"$BIN" people --json >pj
check 'grep -q "^{\"number\":1,\"name\":\"Alice\",\"faces\":9,\"photos\":9,\"folder\":\"Alice\",\"hidden\":false,\"unknown\":false}$" pj &&
  grep -q "^{\"number\":2,\"name\":\"Hugo\",\"faces\":5," pj' "people --json: $(cat pj)"
"$BIN" withdraw 8 7 >o 2>e && grep -q "^withdrew correction 8: person 7 (2 faces) merged into person 1 (Alice)$" o &&
  grep -q "^withdrew correction 7: person 6 (1 face) merged into person 1 (Alice)$" o && ok || { fail "withdraw"; cat o e; }
"$BIN" withdraw 99 >o 2>e; [ $? = 1 ] && grep -q "no correction 99" e && ok || fail "withdraw of nothing: $(cat e)"
"$BIN" withdraw x >o 2>e; [ $? = 2 ] && ok || fail "withdraw x"
"$BIN" sort >out5 2>&1
want5="./Alice/AJ_Cook_0001.jpg ./Alice/Colin_Powell_0001.jpg ./Alice/Colin_Powell_0002.jpg ./Alice/Colin_Powell_0003.jpg ./Alice/Colin_Powell_0004.jpg ./Alice/Colin_Powell_0005.jpg ./Alice/notes.txt ./Hugo/Hugo_Chavez_0001.jpg ./Hugo/Hugo_Chavez_0002.jpg ./Hugo/Hugo_Chavez_0003.jpg ./Hugo/Hugo_Chavez_0004.jpg ./Hugo/Hugo_Chavez_0005.jpg ./Person 0003/Serena_Williams_0001.jpg ./Person 0003/Serena_Williams_0002.jpg ./Person 0003/Serena_Williams_0003.jpg ./Person 0003/Serena_Williams_0004.jpg ./Person 0004/Tony_Blair_0001.jpg ./Person 0004/Tony_Blair_0002.jpg ./Person 0004/Tony_Blair_0003.jpg ./Person 0004/Tony_Blair_0004.jpg ./Person 0007/Jean_Chretien_0001.jpg ./Person 0007/Jean_Chretien_0002.jpg ./Unknown/Aaron_Eckhart_0001.jpg "
check '[ "$(files $D)" = "$want5" ] && grep -q "(2 moved, 0 removed, 1 folder renamed)$" out5' "after the verbs: $(files $D) $(cat out5)"
# experiments: the stored people are not changed; --fresh keeps the names, -dest alone does not
cp embeddings.db before-exp.db
"$BIN" sort --fresh -dest exp-fresh >o 2>e && [ -d exp-fresh/Alice ] && [ -d exp-fresh/Hugo ] && ok || { fail "--fresh keeps names"; ls exp-fresh; cat e; }
"$BIN" sort -dest exp-plain >o 2>e && [ ! -d exp-plain/Alice ] && [ -d "exp-plain/Person 0001" ] && ok || { fail "-dest: no names"; ls exp-plain; }
check 'cmp -s embeddings.db before-exp.db' "an experiment changed the database"
"$BIN" sort --fresh --no-corrections -dest exp-none >o 2>e && [ ! -d exp-none/Alice ] && ok || fail "--fresh --no-corrections"
"$BIN" sort --no-corrections >o 2>e; [ $? = 2 ] && ok || fail "--no-corrections without --fresh"
"$BIN" sort --dry-run -dest exp-x >o 2>e; [ $? = 2 ] && [ ! -e exp-x ] && ok || fail "--dry-run of an experiment"
cd "$T"
(cd night && find lib -type f -exec sha256sum {} + | sort) > night-after.sha
check 'cmp -s night-before2.sha night-after.sha' "source photos changed"

# ---- the same second sort, killed in the middle (the folder's re-sync) once, then run again ----
cd night-kill
"$BIN" sort >/dev/null 2>&1 & pid=$!
for w in $(seq 1 400); do [ -e "Sorted-pictures/Person 0007" ] && break; sleep 0.005; done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
"$BIN" info >/dev/null 2>e || { fail "the database after the kill"; cat e; }
"$BIN" sort >outk 2>errk; rc=$?
check '[ $rc = 0 ] && [ "$(files Sorted-pictures)" = "$want2" ] && cmp -s Sorted-pictures/clusters.tsv ../night2-clusters.tsv' \
  "after a kill in the second sort: rc $rc $(files Sorted-pictures) $(cat errk)"
check '[ "$("$BIN" corrections | cut -c23-)" = "$(cut -c23- ../night/corr2)" ]' "corrections after the kill: $("$BIN" corrections)"
(find lib -type f -exec sha256sum {} + | sort) > ../night-kill-after.sha
check 'cmp -s ../night-before2.sha ../night-kill-after.sha' "source photos changed (killed run)"
cd "$T"

# ==== 2. 2,500 photos, 20 SIGKILLs during the second sort ==================================================
mk_lib() { # folder: the library and its first database
  mkdir -p "$1/lib/a" "$1/lib/b" "$1/lib/k" "$1/lib/new"
  (cd "$1" && cp "$G/angelina_jolie.png" seed-a.png && cp "$G/bradley_cooper.png" seed-b.png && cp "$G/kate_siegel.png" seed-k.png &&
   for i in $(seq 1 400); do ln seed-a.png lib/a/a$i.png; ln seed-b.png lib/b/b$i.png; done &&
   for i in $(seq 1 200); do ln seed-k.png lib/k/k$i.png; done &&
   { for i in $(seq 1 400); do printf 'lib/a/a%d.png\tangelina\t%d\n' $i $i; printf 'lib/b/b%d.png\tbradley\t%d\n' $i $((i + 1000)); done;
     for i in $(seq 1 200); do printf 'lib/k/k%d.png\tkate\t%d\n' $i $((i + 2000)); done; } | "$MKDB" embeddings.db "$G/embeddings.jsonl" 2>/dev/null)
}
night2() { # the edits and the new photos (1,500 of a new person: paul), then the database grows
  (cd "$1" && D=Sorted-pictures &&
   mv "$D/Person 0001" "$D/Alice" && mv "$D/Person 0003/k1.png" "$D/Alice/" && rm "$D/Person 0002/b7.png" && echo mine > "$D/Alice/mine.txt" &&
   cp "$G/paul_rudd.png" seed-p.png && for i in $(seq 1 1500); do ln seed-p.png lib/new/p$i.png; done &&
   for i in $(seq 1 1500); do printf 'lib/new/p%d.png\tpaul\t%d\n' $i $((i + 3000)); done | "$MKDB" embeddings.db "$G/embeddings.jsonl" 2>/dev/null)
}
for d in ref victim; do mk_lib $d && (cd $d && "$BIN" sort >/dev/null 2>&1) || fail "first sort of the big library ($d)"; done
night2 ref && night2 victim
(cd ref && "$BIN" sort >out 2>err) || { fail "second sort (uninterrupted)"; cat ref/err; }
cd victim
# odd runs are killed at a random moment before their plan is stored (while comparing faces, or reading the
# folder), even ones at a random moment after it (the database grows): during the re-sync of the folder, of which
# each does at most 0.2 s
RANDOM=4242; kills=0; : > resumed
for i in $(seq 1 20); do
  size0=$(stat -c %s embeddings.db)
  "$BIN" sort >/dev/null 2>>resumed & pid=$!
  deadline=$((RANDOM % 150))
  for w in $(seq 1 2000); do
    [ "$(stat -c %s embeddings.db)" -gt "$size0" ] && break
    kill -0 $pid 2>/dev/null || break
    [ $((i % 2)) = 1 ] && [ $w -ge $deadline ] && break
    sleep 0.01
  done
  [ $((i % 2)) = 0 ] && sleep "0.$((RANDOM % 2))$((RANDOM % 10))"
  kill -9 $pid 2>/dev/null && kills=$((kills + 1)); wait $pid 2>/dev/null
  "$BIN" info >/dev/null 2>e || { fail "kill $i left a database that does not open"; cat e; }
done
"$BIN" sort >out 2>err || { fail "the sort after the kills"; cat err; }
cd "$T"
resumed=$(grep -c "was interrupted;" victim/resumed victim/err | awk -F: '{ s += $2 } END { print s }')
echo "e2e_people: $kills of 20 sorts killed while running, $resumed runs finished an interrupted re-sync"
check '[ "$resumed" -ge 3 ]' "too few kills during the re-sync ($resumed): the test does not test it"
check '[ "$(files ref/Sorted-pictures)" = "$(files victim/Sorted-pictures)" ]' "after 20 kills the folder differs from an uninterrupted run's"
check 'cmp -s ref/Sorted-pictures/clusters.tsv victim/Sorted-pictures/clusters.tsv' "clusters.tsv differs after the kills"
check '[ "$(cd ref && "$BIN" people)" = "$(cd victim && "$BIN" people)" ] && [ "$(cd ref && "$BIN" corrections | cut -c23-)" = "$(cd victim && "$BIN" corrections | cut -c23-)" ]' \
  "people or corrections differ after the kills"
check '[ "$(ls victim/Sorted-pictures/Alice | wc -l)" = 402 ] && [ "$(ls "victim/Sorted-pictures/Person 0004" | wc -l)" = 1500 ] && [ ! -e "victim/Sorted-pictures/Person 0002/b7.png" ]' \
  "the big layout: $(ls victim/Sorted-pictures)"
check '[ -z "$(find victim/Sorted-pictures -name ".sortbyface-*" ! -name .sortbyface-output)" ]' "temp files left behind"
check '[ "$(cat victim/Sorted-pictures/Alice/mine.txt)" = mine ]' "the user's file after the kills"
# no photo in two places: each placed file is where clusters.tsv says, and nothing else of ours is there
check '[ "$(awk -F"\t" "NR > 1 && \$8 != \"\" { print \$8 }" victim/Sorted-pictures/clusters.tsv | sort -u | wc -l)" = "$(($(find victim/Sorted-pictures -path victim/Sorted-pictures/.thumbs -prune -o -type f -print | wc -l) - 4))" ]' \
  "files in the folder that clusters.tsv does not name"
# two sorts never work on one folder at once: the same database (its lock), another database naming the folder
# (the folder's lock); the second is refused and changes nothing
mk_lib lockt && (cd lockt && "$BIN" sort >/dev/null 2>&1 && cp embeddings.db twin.db)
night2 lockt
(cd lockt && "$BIN" sort >o1 2>e1) & bg=$!
for w in $(seq 1 200); do [ -e "lockt/Sorted-pictures/Person 0004" ] && break; sleep 0.01; done
(cd lockt && "$BIN" sort >o2 2>e2); rc2=$?
(cd lockt && "$BIN" sort --db twin.db >o3 2>e3); rc3=$?
wait $bg; rc1=$?
check '[ $rc1 = 0 ] && [ $rc2 = 3 ] && grep -q "embeddings.db: database is in use by another sortbyface process" lockt/e2' "a second sort at once: rc $rc1 $rc2 $(cat lockt/e2)"
check '[ $rc3 = 3 ] && grep -q "Sorted-pictures: another sortbyface sort is working on this folder" lockt/e3 && [ ! -s lockt/o3 ]' \
  "two databases, one folder: rc $rc3 $(cat lockt/e3 lockt/o3)"
check '[ "$(files lockt/Sorted-pictures)" = "$(files ref/Sorted-pictures)" ]' "the refused sorts changed the folder"

# ---- the managed folder with --link and --symlink: the same reading of edits, the folder keeps its mode ----
for mode in link symlink; do
  mkdir -p md-$mode/lib && cd md-$mode || break
  for i in 1 2 3 4 5 6; do cp "$G/angelina_jolie.png" lib/a$i.png; cp "$G/bradley_cooper.png" lib/b$i.png; done
  for i in 1 2 3 4 5 6; do printf 'lib/a%d.png\tangelina\t%d\nlib/b%d.png\tbradley\t%d\n' $i $i $i $((i + 50)); done |
    "$MKDB" embeddings.db "$G/embeddings.jsonl" 2>/dev/null
  "$BIN" sort --$mode >o1 2>e1
  D=Sorted-pictures
  if [ $mode = link ]; then k1='[ "$(stat -c %i "$D/Person 0001/a1.png")" = "$(stat -c %i lib/a1.png)" ]'
  else k1='[ "$(readlink "$D/Person 0001/a1.png")" = "$PWD/lib/a1.png" ]'; fi
  check "$k1" "--$mode: the first sort's files: $(ls -l "$D/Person 0001" | head -3)"
  mv "$D/Person 0001" "$D/Alice" && mv "$D/Alice/a3.png" "$D/Person 0002/" && rm "$D/Person 0002/b2.png"
  "$BIN" sort --copy >o2 2>e2; rc=$?
  check '[ $rc = 0 ] && grep -q "keeps its mode" e2 && [ "$(files $D)" = "./Alice/a1.png ./Alice/a2.png ./Alice/a4.png ./Alice/a5.png ./Alice/a6.png ./Person 0002/a3.png ./Person 0002/b1.png ./Person 0002/b3.png ./Person 0002/b4.png ./Person 0002/b5.png ./Person 0002/b6.png ./Unknown/b2.png " ]' \
    "--$mode: after the edits: rc $rc $(files $D) $(cat o2 e2)"
  if [ $mode = link ]; then k2='[ "$(stat -c %i "$D/Unknown/b2.png")" = "$(stat -c %i lib/b2.png)" ] && [ "$(stat -c %i "$D/Person 0002/a3.png")" = "$(stat -c %i lib/a3.png)" ]'
  else k2='[ "$(readlink "$D/Unknown/b2.png")" = "$PWD/lib/b2.png" ] && [ -L "$D/Person 0002/a3.png" ]'; fi
  check "$k2" "--$mode: the placed files are not $mode""s any more"
  check '[ "$("$BIN" corrections | grep -c "folder  face 0 of lib/[ab][23].png is")" = 2 ] && "$BIN" people | grep -q "^ *1  Alice  *5  *5  Alice/$"' \
    "--$mode: corrections / people: $("$BIN" corrections; "$BIN" people)"
  cd "$T"
done

# ==== 3. output places =====================================================================================
command -v mount >/dev/null || { echo "e2e_people: FAIL: no 'mount' command"; exit 1; }
mkdir -p other small && mount -t tmpfs -o size=4m tmpfs other && mount -t tmpfs -o size=64k tmpfs small || fail "cannot mount tmpfs (needs root)"
cd night
# --link onto another file system: one note, copies
"$BIN" sort -dest ../other/linked --link >o 2>e; rc=$?
check '[ $rc = 0 ] && [ "$(grep -c "cannot hard-link" e)" = 1 ] && grep -q "cannot hard-link, copying instead" e && grep -q "^sorted .*; copied 22 files into" o' \
  "--link across file systems: rc $rc $(cat o e)"
# a full disk: an experiment stops at the first ENOSPC with one line and leaves nothing
"$BIN" sort -dest ../small/out >o 2>e; rc=$?
check '[ $rc = 3 ] && [ "$(grep -c "No space left on device" e)" = 1 ] && grep -q "stopped, nothing written" e && [ ! -e ../small/out ]' \
  "full disk, experiment: rc $rc $(cat e; ls ../small)"
head -c 40000 /dev/zero > ../small/filler
"$BIN" find -src lib/Colin_Powell/Colin_Powell_0005.jpg -dest ../small/f >o 2>e; rc=$?
check '[ $rc = 3 ] && [ "$(grep -c "No space left on device" e)" = 1 ] && grep -q "stopped, nothing written" e && [ ! -e ../small/f ]' \
  "full disk, find: rc $rc $(cat e; ls ../small)"
rm ../small/filler
cd "$T"
# the managed folder on a full disk: stops at the first ENOSPC with one line; with room, the next sort finishes
mkdir mf && cp "$G/angelina_jolie.png" "$G/bradley_cooper.png" mf/ &&
  for i in $(seq 1 20); do ln mf/angelina_jolie.png mf/a$i.png; ln mf/bradley_cooper.png mf/b$i.png; done &&
  for i in $(seq 1 20); do printf '%s/mf/a%d.png\tangelina\t%d\n%s/mf/b%d.png\tbradley\t%d\n' "$T" $i $i "$T" $i $((i + 100)); done |
  "$MKDB" mf/embeddings.db "$G/embeddings.jsonl" 2>/dev/null || fail "mkdb mf"
(cd small && "$BIN" sort --db ../mf/embeddings.db >../mf/o 2>../mf/e); rc=$?
check '[ $rc = 3 ] && [ "$(grep -c . mf/e)" = 1 ] && grep -q "Sorted-pictures: No space left on device; stopped after .* (run sort again when there is room: it finishes the job)" mf/e' \
  "full disk, managed folder: rc $rc $(cat mf/o mf/e)"
mount -o remount,size=8m small
(cd small && "$BIN" sort --db ../mf/embeddings.db >../mf/o2 2>../mf/e2); rc=$?
"$BIN" sort --db mf/embeddings.db -dest mf/ref >/dev/null 2>&1
check '[ $rc = 0 ] && [ "$(files small/Sorted-pictures)" = "$(files mf/ref)" ] && cmp -s small/Sorted-pictures/clusters.tsv mf/ref/clusters.tsv' \
  "after the full disk, the next sort: rc $rc $(cat mf/o2 mf/e2) $(files small/Sorted-pictures)"
check '[ -z "$(find small -name ".sortbyface-*" ! -name .sortbyface-output)" ]' "temp files left on the full disk"
# a placed photo whose original is gone is kept (it may be the last copy); a whole folder deleted hides the person
cd night
rm lib/Jean_Chretien/Jean_Chretien_0002.jpg
"$BIN" embed -src lib -q 2>/dev/null
"$BIN" sort >o 2>e
check 'grep -q "^sort: Person 0007/Jean_Chretien_0002.jpg: its photo .*Jean_Chretien_0002.jpg is gone; kept (it may be the last copy)" o && [ -f "Sorted-pictures/Person 0007/Jean_Chretien_0002.jpg" ]' \
  "a copy whose photo is gone: $(cat o)"
rm -r "Sorted-pictures/Person 0003"
"$BIN" sort >o 2>e
id=$(sed -n 's/.*person 3 is hidden (correction \([0-9]*\);.*/\1/p' o)
check '[ -n "$id" ] && [ ! -e "Sorted-pictures/Person 0003" ] && "$BIN" people | grep -q "^ *3  -  *4  *4  (hidden)$"' "a deleted folder hides the person: $(cat o; "$BIN" people)"
"$BIN" withdraw "$id" >/dev/null && "$BIN" sort >o 2>e
check '[ "$(ls "Sorted-pictures/Person 0003" | wc -l)" = 4 ]' "withdrawn hide: $(cat o)"
cd "$T"
# the library moves with its database and its folder: the folder is found there, and nothing changes
mv night moved-night && cd moved-night
"$BIN" sort >o 2>e; rc=$?
check '[ $rc = 0 ] && grep -q "the library moved; its folder $T/night/Sorted-pictures is $T/moved-night/Sorted-pictures now" e &&
  grep -q "copied 0 files into Sorted-pictures/ (0 moved, 0 removed)$" o && [ ! -e ../night ]' "a moved library: rc $rc $(cat o e)"
# a new name given to a face makes a person of that name, with a folder of their own
"$BIN" is lib/misc/Aaron_Eckhart_0001.jpg Bob >o 2>e
check 'grep -q "^new person [0-9]* named '"'"'Bob'"'"'$" o && grep -q "^face 0 of lib/misc/Aaron_Eckhart_0001.jpg is person [0-9]* (Bob) (correction [0-9]*)$" o' "is NEWNAME: $(cat o e)"
"$BIN" sort >o 2>e
check '[ -f Sorted-pictures/Bob/Aaron_Eckhart_0001.jpg ] && [ ! -e Sorted-pictures/Unknown/Aaron_Eckhart_0001.jpg ]' "Bob's folder: $(cat o e)"
"$BIN" sort --fresh >o 2>e
check '[ -f Sorted-pictures-fresh/Bob/Aaron_Eckhart_0001.jpg ] && [ -d Sorted-pictures-fresh/Alice ]' "--fresh without -dest: $(ls Sorted-pictures-fresh; cat e)"
# find into an existing folder of the user's (here "."): a visible folder inside it, never "./.-2"
"$BIN" find -src lib/Colin_Powell/Colin_Powell_0005.jpg -dest . >o 2>e; rc=$?
check '[ $rc = 0 ] && [ -f Found-Colin_Powell_0005/Colin_Powell_0001.jpg ] && [ ! -e ./.-2 ] && grep -q "writing to ./Found-Colin_Powell_0005 instead" e' \
  "find -dest .: rc $rc $(cat o e)"
cd "$T"
finish
