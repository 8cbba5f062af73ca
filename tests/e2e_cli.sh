#!/bin/sh
# tests/e2e_cli.sh — the command-line surface: help, version, verb help, usage errors and exit codes; one range
# per numeric flag whichever verb takes it; an empty file given as the database.
. tests/helpers/e2e.sh
check() { # description expected-exit command...
  d=$1; want=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; got=$?
  if [ "$got" != "$want" ]; then fail "$d: exit $got, want $want"; cat "$T/err"; else ok; fi
}
check "--help" 0 "$BIN" --help
grep -q "usage: sortbyface VERB" "$T/out" || { fail "--help text"; }
check "--version" 0 "$BIN" --version
grep -Eq "^sortbyface [0-9]+\.[0-9]+\.[0-9]+$" "$T/out" || { fail "--version text"; }
check "no args" 2 "$BIN"
check "unknown verb" 2 "$BIN" frobnicate
grep -q "unknown verb 'frobnicate'" "$T/err" || { fail "unknown verb message"; }
[ "$(wc -l < "$T/err")" -le 2 ] || { fail "unknown verb should be a short message"; }
for v in embed sort find detect align represent info; do
  check "$v --help" 0 "$BIN" $v --help
  grep -q "usage: sortbyface $v" "$T/out" || { fail "$v --help has no usage line"; }
  check "$v -help (seed style)" 0 "$BIN" $v -help
  check "$v unknown flag" 2 "$BIN" $v --no-such-flag
  grep -q "unknown option '--no-such-flag'" "$T/err" || { fail "$v unknown flag message"; cat "$T/err"; }
done
check "embed bad --upsample" 2 "$BIN" embed -src . --upsample 9
grep -q "embed: --upsample must be auto or 0..3 (got '9')" "$T/err" || { fail "--upsample message"; }
check "detect bad --adjust-threshold" 2 "$BIN" detect --adjust-threshold 9 a.jpg
grep -q "detect: --adjust-threshold must be between -5 and 5 (got 9)" "$T/err" || { fail "--adjust-threshold message"; }
check "detect non-number --adjust-threshold" 2 "$BIN" detect --adjust-threshold low a.jpg
check "find bad --align" 2 "$BIN" find -src a.jpg -dest out --align sideways
grep -q "find: --align must be mtcnn, box or eyes (got 'sideways')" "$T/err" || fail "--align message"
# the same flag has the same range in every verb (find --threads 100000 as embed's; --min-face -5 refused)
for v in "embed -src ." "sort" "find -src a.jpg -dest out" "detect a.jpg" "align a.jpg -o out" "represent a.jpg"; do
  verb=${v%% *}
  check "$verb --threads 100000" 2 "$BIN" $v --threads 100000
  grep -qx "sortbyface $verb: --threads must be between 0 and 256 (got 100000)" "$T/err" || { fail "$verb --threads message"; cat "$T/err"; }
done
for v in "embed -src ." "detect a.jpg"; do
  verb=${v%% *}
  check "$verb --min-face -5" 2 "$BIN" $v --min-face -5
  grep -qx "sortbyface $verb: --min-face must be between 0 and 1000000 (got -5)" "$T/err" || { fail "$verb --min-face message"; cat "$T/err"; }
  check "$verb --max-pixels 1" 2 "$BIN" $v --max-pixels 1
  grep -qx "sortbyface $verb: --max-pixels must be between 100000 and 2147483647 (got 1)" "$T/err" || { fail "$verb --max-pixels message"; cat "$T/err"; }
done
check "embed --processes 300" 2 "$BIN" embed -src . --processes 300
check "find --itr 0" 2 "$BIN" find -src a.jpg -dest out --itr 0
check "sort --itr 0" 2 "$BIN" sort --itr 0
check "find --face -1" 2 "$BIN" find -src a.jpg -dest out --face -1
check "detect --upsample 4" 2 "$BIN" detect --upsample 4 a.jpg
# an empty file as the database: named as such by every verb that reads one
: > "$T/empty.db"
for v in info sort "find -src a.jpg -dest $T/o" "embed -src $T"; do
  check "$v on an empty database" 3 "$BIN" $v --db "$T/empty.db"
  grep -qx "sortbyface: $T/empty.db: empty file, not a sortbyface database" "$T/err" || { fail "$v: empty database message"; cat "$T/err"; }
done
finish
