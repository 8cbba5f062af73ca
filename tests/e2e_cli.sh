#!/bin/sh
# tests/e2e_cli.sh — the command-line surface: help, version, verb help, usage errors and exit codes.
set -u
BIN=${SBF_BIN:?SBF_BIN not set}
fails=0
check() { # description expected-exit command...
  d=$1; want=$2; shift 2
  "$@" >/tmp/sbf-cli.out 2>/tmp/sbf-cli.err; got=$?
  if [ "$got" != "$want" ]; then echo "FAIL: $d: exit $got, want $want"; cat /tmp/sbf-cli.err; fails=$((fails+1)); fi
}
check "--help" 0 "$BIN" --help
grep -q "usage: sortbyface VERB" /tmp/sbf-cli.out || { echo "FAIL: --help text"; fails=$((fails+1)); }
check "--version" 0 "$BIN" --version
grep -Eq "^sortbyface [0-9]+\.[0-9]+\.[0-9]+$" /tmp/sbf-cli.out || { echo "FAIL: --version text"; fails=$((fails+1)); }
check "no args" 2 "$BIN"
check "unknown verb" 2 "$BIN" frobnicate
grep -q "unknown verb 'frobnicate'" /tmp/sbf-cli.err || { echo "FAIL: unknown verb message"; fails=$((fails+1)); }
[ "$(wc -l < /tmp/sbf-cli.err)" -le 2 ] || { echo "FAIL: unknown verb should be a short message"; fails=$((fails+1)); }
for v in embed sort find detect align represent info; do
  check "$v --help" 0 "$BIN" $v --help
  grep -q "usage: sortbyface $v" /tmp/sbf-cli.out || { echo "FAIL: $v --help has no usage line"; fails=$((fails+1)); }
  check "$v -help (seed style)" 0 "$BIN" $v -help
  check "$v unknown flag" 2 "$BIN" $v --no-such-flag
  grep -q "unknown option '--no-such-flag'" /tmp/sbf-cli.err || { echo "FAIL: $v unknown flag message"; cat /tmp/sbf-cli.err; fails=$((fails+1)); }
done
check "embed bad --upsample" 2 "$BIN" embed -src . --upsample 9
grep -q "embed: --upsample must be auto or 0..3 (got '9')" /tmp/sbf-cli.err || { echo "FAIL: --upsample message"; fails=$((fails+1)); }
check "detect bad --adjust-threshold" 2 "$BIN" detect --adjust-threshold 9 a.jpg
grep -q "detect: --adjust-threshold must be between -5 and 5 (got 9)" /tmp/sbf-cli.err || { echo "FAIL: --adjust-threshold message"; fails=$((fails+1)); }
check "detect non-number --adjust-threshold" 2 "$BIN" detect --adjust-threshold low a.jpg
check "find bad --align" 2 "$BIN" find -src a.jpg -dest out --align sideways
grep -q "find: --align must be mtcnn, box or eyes (got 'sideways')" /tmp/sbf-cli.err || { echo "FAIL: --align message"; fails=$((fails+1)); }
rm -f /tmp/sbf-cli.out /tmp/sbf-cli.err
[ $fails -eq 0 ] && echo "e2e_cli: ok" || { echo "e2e_cli: $fails failure(s)"; exit 1; }
