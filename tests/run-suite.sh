#!/bin/sh
# Runs one variant's test suites: cmocka unit programs, end-to-end scripts, oracle tests.
# usage: run-suite.sh BUILD_DIR "RUNNER" UNIT... -- E2E... -- ORACLE...
# Each e2e/oracle script gets SBF_BIN (the binary), SBF_BUILD (the build dir) and SBF_SHARED.
# Prints each suite's wall time, "N passed, N failed", and exits non-zero when anything failed.
set -u
build=$1; runner=$2; shift 2
SBF_BUILD=$build; SBF_BIN=$build/sortbyface
export SBF_BUILD SBF_BIN
: "${SBF_SHARED:=$(cd "$(dirname "$0")/../.." && pwd)/shared}"
export SBF_SHARED
pass=0; fail=0; failed=""; t_all=$(date +%s)
phase=unit
for t in "$@"; do
  if [ "$t" = "--" ]; then
    if [ $phase = unit ]; then phase=e2e; else phase=oracle; fi
    continue
  fi
  name=$(basename "$t")
  echo "=== [$build] $phase: $name"
  t_one=$(date +%s)
  case $phase in
    unit) $runner "$t" ;;
    *)    case $t in *.sh) sh "$t" ;; *) "$t" ;; esac ;;
  esac
  rc=$?
  echo "--- [$build] $name: $(( $(date +%s) - t_one )) s"
  if [ $rc -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); failed="$failed $name"; echo "--- FAILED: $name (exit $rc)"; fi
done
echo "[$build] all suites run in $(( $(date +%s) - t_all )) s"
echo "suites: $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "failed:$failed"; exit 1; }
