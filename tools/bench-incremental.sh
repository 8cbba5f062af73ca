#!/bin/sh
# tools/bench-incremental.sh — the nightly run: a library of N photos already in the database, NEW photos
# added since; times `embed` over the whole library (it checks every file: path, size, modification time
# and the first bytes, re-embeds only what is new).  The N old photos are copies of one tiny PNG in
# folders of 1,000 (copies, not hard links: embed holds one file under several names once), entered into the
# database by tests/e2e_sort_mkdb (golden embeddings, sizes and times from disk), so building the library
# takes seconds; the NEW photos are real LFW photos.
# usage: bench-incremental.sh [N [NEW]]   (defaults 50000 20; after make test, which builds the helper; needs ../shared)
# Prints the run's summary line and wall time (and the CPU time, user + system, which the other work on a shared
# machine disturbs less), and the times of a second run with nothing new (the peer: the same scan without any
# embedding).  SBF_BIN=FILE times another binary on the same kind of library (e.g. an earlier version).
set -u
n=${1:-50000}; new=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SBF_BIN:-$root/sortbyface}; mkdb=$root/build/native/tests/e2e_sort_mkdb   # SBF_BIN: another binary to time
shared=${SBF_SHARED:-$root/../shared}
gold=$shared/data/aligned-golden; lfw=$shared/data/lfw-dev
for f in "$bin" "$mkdb"; do [ -x "$f" ] || { echo "bench-incremental: $f missing (make; make $mkdb)" >&2; exit 1; }; done
[ -f "$gold/embeddings.jsonl" ] && [ -d "$lfw" ] || { echo "bench-incremental: $shared/data missing" >&2; exit 1; }
export SORTBYFACE_WEIGHTS=$root/weights
t=$(mktemp -d /tmp/sbf-bench-incr-XXXXXX) || exit 1
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
mkdir -p lib/d0
cp "$root/tests/fixtures/tiny-8x8.png" lib/d0/p0.png
i=1; while [ $i -lt 1000 ] && [ $i -lt "$n" ]; do cp lib/d0/p0.png lib/d0/p$i.png; i=$((i + 1)); done
d=1; while [ $((d * 1000)) -lt "$n" ]; do cp -a lib/d0 lib/d$d; d=$((d + 1)); done
find lib -type f | sort | head -n "$n" | awk '
  BEGIN { split("angelina bradley kate paul shea", who, " ") }
  { printf "%s\t%s\t%d\n", $0, who[NR % 5 + 1], NR }' | "$mkdb" embeddings.db "$gold/embeddings.jsonl" >/dev/null 2>&1 ||
  { echo "bench-incremental: mkdb failed" >&2; exit 1; }
find lib -type f | sort | tail -n +"$((n + 1))" | xargs -r rm -f   # exactly n old photos
mkdir lib/new
find "$lfw" -name '*.jpg' | sort | head -n "$new" | xargs -I{} cp {} lib/new/
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# CPU seconds (user + system) of this shell's finished children, from `times > times.out` (run in this shell: a
# $(...) subshell would count only its own children)
cputime() { tail -1 times.out | tr 'ms' '  ' | awk '{ printf "%.2f", $1 * 60 + $2 + $3 * 60 + $4 }'; }
echo "library: $n photos in the database + $new new ones ($(find lib -type f | wc -l) files)"
times > times.out; c0=$(cputime); t0=$(now); "$bin" embed -src lib >out1 2>err1; rc=$?; t1=$(now)
times > times.out; c1=$(cputime)
cat err1 out1 | grep embedded | tail -1
echo "nightly run: $(secs "$t0" "$t1") s, CPU $(secs "$c0" "$c1") s (exit $rc)"
times > times.out; c0=$(cputime); t0=$(now); "$bin" embed -src lib >out2 2>err2; t1=$(now)
times > times.out; c1=$(cputime)
cat err2 out2 | grep embedded | tail -1
echo "nothing new: $(secs "$t0" "$t1") s, CPU $(secs "$c0" "$c1") s"
