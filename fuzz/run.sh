#!/bin/sh
# fuzz/run.sh — runs the libFuzzer targets built by mk/fuzz.mk (build/fuzz/fuzz_<target>).
# usage: fuzz/run.sh ci|long SECONDS TARGET...
#   ci    fresh scratch corpus build/fuzz/ci-corpus/<t>, seeds fuzz/corpus/<t> + fuzz/regress/<t> read only
#   long  persistent fuzz/corpus-work/<t> (git-ignored; seeded from the committed corpus), for `make fuzz`
#   msan  like ci, with the MemorySanitizer build (FUZZ_BIN_DIR=build/msan), for `make fuzz-msan`
# Crashing inputs go to build/fuzz/artifacts/<t>/; a log per target to build/fuzz/<mode>-<t>.log.
# Exits non-zero when any target found a crash, leak, UB, timeout or out-of-memory.
# Knobs: FUZZ_TIMEOUT (s per input, default 10), FUZZ_RSS_MB (default 2048), FUZZ_ARGS (extra flags).
set -u
mode=$1; secs=$2; shift 2
B=build/fuzz
timeout_s=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-2048}
status=0
for t in "$@"; do
  bin=${FUZZ_BIN_DIR:-$B}/fuzz_$t
  [ -x "$bin" ] || { echo "fuzz: $bin missing (make fuzz-build)"; exit 2; }
  art=$B/artifacts/$t
  mkdir -p "$art"
  if [ "$mode" = ci ] || [ "$mode" = msan ]; then
    work=$B/$mode-corpus/$t
    rm -rf "$work"
  else
    work=fuzz/corpus-work/$t
  fi
  mkdir -p "$work"
  log=$B/$mode-$t.log
  # image: no single allocation over 256 MB (4 Mpixel limit: a real image needs < 70 MB); catches bombs
  case $t in store) maxlen=65536; mlim=$rss ;; image) maxlen=262144; mlim=256 ;; *) maxlen=262144; mlim=$rss ;; esac
  dirs="$work fuzz/corpus/$t"
  [ -d fuzz/regress/$t ] && dirs="$dirs fuzz/regress/$t"
  # shellcheck disable=SC2086
  "$bin" -max_total_time="$secs" -timeout="$timeout_s" -rss_limit_mb="$rss" -malloc_limit_mb=$mlim -max_len=$maxlen \
         -artifact_prefix="$art/" -print_final_stats=1 ${FUZZ_ARGS:-} $dirs >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
  units=$(ls "$work" | wc -l)
  if [ $rc -eq 0 ]; then
    echo "fuzz $t: ok, ${runs:-?} executions in ${took:-?} s, $cov, $units new corpus units ($log)"
  else
    status=1
    echo "fuzz $t: FAILED (exit $rc) after ${runs:-?} executions; see $log; input saved under $art/"
    grep -m 3 -E 'ERROR: |SUMMARY: |runtime error|fuzz invariant failed' "$log" | sed 's/^/  /'
  fi
done
exit $status
