#!/bin/sh
# tests/oracle_int8_files.sh — the int8 weight file is what the committed calibration makes (tools/quantize
# --scales weights/facenet-20180402-int8.scales --round weights/facenet-20180402-int8.round on the float32 file,
# as `make setup` runs it; byte for byte, so every machine gets the model the accuracy gate measured), and
# tools/quantize refuses rounding decisions made for other weights (a scales file with one threshold changed:
# the folded kernel's CRC differs) and a damaged rounding file, each with one line naming the file.
# Fails (never skips) when the weight files are missing (make setup).
set -u
: "${SBF_BUILD:=build/native}"
Q=$SBF_BUILD/tools/quantize F=weights/facenet-20180402.sbfw I=weights/facenet-20180402-int8.sbfw
SC=weights/facenet-20180402-int8.scales R=weights/facenet-20180402-int8.round
fail=0
for f in "$Q" "$F" "$I" "$SC" "$R"; do [ -e "$f" ] || { echo "oracle_int8_files: FAIL: $f missing (make setup)"; exit 1; }; done
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

if "$Q" --scales "$SC" --round "$R" "$F" "$tmp/q.sbfw" > "$tmp/out" 2>&1 && cmp -s "$tmp/q.sbfw" "$I"; then
  echo "oracle_int8_files: $I = quantize --scales --round of the committed calibration"
else
  echo "oracle_int8_files: FAIL: $I differs from what the committed calibration makes"; cat "$tmp/out"; fail=1
fi

# one threshold of the stem's first point changed: the decisions no longer fit the folded kernels
awk '!done && $1 == "Conv2d_1a_3x3" { $2 = $2 * 1.5; done = 1 } { print }' "$SC" > "$tmp/other.scales"
"$Q" --scales "$tmp/other.scales" --round "$R" "$F" "$tmp/x.sbfw" > "$tmp/out" 2>&1; rc=$?
if [ $rc = 1 ] && [ ! -e "$tmp/x.sbfw" ] && grep -q "^quantize: $R: Conv2d_2a_3x3_kernel_up was made for other weights than $F's$" "$tmp/out"; then
  echo "oracle_int8_files: decisions made for other weights are refused"
else
  echo "oracle_int8_files: FAIL: other scales with the committed rounding (exit $rc)"; cat "$tmp/out"; fail=1
fi

# a damaged rounding file (one byte of its data flipped): the SBFW checksums refuse it
cp "$R" "$tmp/bad.round"
size=$(wc -c < "$tmp/bad.round")
printf '\377' | dd of="$tmp/bad.round" bs=1 seek=$((size - 100)) conv=notrunc 2>/dev/null
"$Q" --scales "$SC" --round "$tmp/bad.round" "$F" "$tmp/y.sbfw" > "$tmp/out" 2>&1; rc=$?
if [ $rc = 1 ] && [ ! -e "$tmp/y.sbfw" ] && grep -q "^quantize: $tmp/bad.round: " "$tmp/out"; then
  echo "oracle_int8_files: a damaged rounding file is refused ($(sed 's/.*: //' "$tmp/out" | head -n 1))"
else
  echo "oracle_int8_files: FAIL: a damaged rounding file (exit $rc)"; cat "$tmp/out"; fail=1
fi
[ $fail = 0 ] && echo "oracle_int8_files: PASS" || echo "oracle_int8_files: FAIL"
exit $fail
