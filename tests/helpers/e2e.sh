# tests/helpers/e2e.sh — the shared prelude of the end-to-end scripts (tests/e2e_*.sh), sourced from the checkout's
# top folder (tests/run-suite.sh runs them there) as
#   . tests/helpers/e2e.sh
# (tests/helpers/, so that the e2e_*.sh glob of the Makefile does not run it).
# It sets: TOP (the checkout), BIN (the binary under test, absolute), S (../shared, from SBF_SHARED), T (a fresh
# scratch folder under /tmp, mode 755, removed at exit), and counters with fail "what" / ok / finish.
# need PATH... fails the script (not skips: CI has ../shared) when a file or folder is missing; need_weights also
# exports SORTBYFACE_WEIGHTS for the binary.  A script that needs more at exit sets e2e_on_exit to a command.
set -u
E2E=$(basename "$0" .sh)
TOP=$(pwd)
BIN=$(cd "$(dirname "${SBF_BIN:?SBF_BIN not set (tests/run-suite.sh sets it)}")" && pwd)/$(basename "$SBF_BIN")
S=${SBF_SHARED:?SBF_SHARED not set}
fails=0; passed=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { passed=$((passed + 1)); }
need() { for p in "$@"; do [ -e "$p" ] || { echo "$E2E: FAIL: $p missing"; exit 1; }; done; }
need_weights() {
  need "$TOP/weights/facenet-20180402.sbfw"
  export SORTBYFACE_WEIGHTS="$TOP/weights"
}
# Prints the tally and exits with the script's result.
finish() {
  if [ $passed -gt 0 ]; then echo "$E2E: $passed checks passed, $fails failed"
  elif [ $fails -eq 0 ]; then echo "$E2E: all checks passed"
  else echo "$E2E: $fails checks failed"; fi
  [ $fails -eq 0 ] && exit 0 || exit 1
}
[ -x "$BIN" ] || { echo "$E2E: FAIL: no binary $BIN"; exit 1; }
T=$(mktemp -d "/tmp/sbf-$E2E-XXXXXX") || exit 1
chmod 755 "$T"
e2e_on_exit=:
trap 'eval "$e2e_on_exit"; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
