#!/bin/sh
# fuzz/fuzz-ci.sh — the short bounded fuzzing run of `make test` (native variant): every target for
# FUZZ_CI_SECONDS (default 15) from the committed corpus; fails on any crash, leak, UB or timeout.
cd "$(dirname "$0")/.." || exit 2
exec sh fuzz/run.sh ci "${FUZZ_CI_SECONDS:-15}" image weights store
