#!/bin/sh
# tests/e2e_cli.sh — the command-line surface: help, version, verb help, usage errors and exit codes.
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
finish
