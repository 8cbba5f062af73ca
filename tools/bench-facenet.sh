#!/bin/sh
# tools/bench-facenet.sh — FaceNet speed, ours vs OpenCV DNN 4.6 on the same weights, same machine, one run.
# usage: bench-facenet.sh BENCH_BIN SHARED_DIR [NN_SHARED_LIB]   (make bench-facenet; OpenCV: make bench-deps)
#  1. ours alone (tools/bench-facenet): ms/face, GFLOP/s (2.83 GFLOP/face) at 1 and 2 threads, one face per
#     call (latency) and two faces per call at 2 threads (one per thread: throughput); peak RSS.
#  2. ours and OpenCV in one process, face by face alternately (ours through a bench-only shared build of
#     nn/), so load from other processes on the machine hits both alike; both outputs are checked against
#     the golden embeddings first.  The ratios ours/OpenCV come from this part (target <= 0.75).
# Each face is timed alone; figures are the best over RUNS x FACES, medians next to them.
# Env: FACES (default 10), RUNS (default 5), THREADS (default 1,2).
set -u
bin=$1; shared=$2; lib=${3:-}
faces=${FACES:-10}; runs=${RUNS:-5}; threads=${THREADS:-1,2}
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
model=weights/facenet-20180402.sbfw
SBF_SHARED=$shared "$bin" --model "$model" --faces "$faces" --runs "$runs" --threads "$threads" | tee "$tmp" || exit 1
SBF_SHARED=$shared "$bin" --model "$model" --faces "$faces" --runs "$runs" --threads 2 --group 2 | grep '^ours-throughput' | tee -a "$tmp" || exit 1
# float16 weights (make weights/facenet-20180402-f16.sbfw): float16 panels, converted per tile in the kernels
if [ -f weights/facenet-20180402-f16.sbfw ]; then
  echo "float16 weight file:"
  SBF_SHARED=$shared "$bin" --model weights/facenet-20180402-f16.sbfw --faces "$faces" --runs "$runs" --threads 1 |
    sed -n 's/^ours /ours-f16 /p; s/^peak_rss_mb=/f16 peak_rss_mb=/p'
fi
npy=build/facenet-npy
[ -f "$npy/Conv2d_1a_3x3_kernel.npy" ] || npy=$shared/weights/facenet-20180402-114759
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3   # Debian python3-opencv lives in the system python
if ! "$PY" -c 'import cv2, onnx, numpy' 2>/dev/null; then
  echo "OpenCV peer not available: run 'make bench-deps' (python3-opencv, python3-onnx)"; exit 1
fi
"$PY" tools/bench-facenet-opencv.py "$npy" "$shared/data/aligned-golden" --faces "$faces" --runs "$runs" \
  --threads "$threads" ${lib:+--ours "$lib" "$model"} 2>&1 | grep -v '^libpng warning' | tee -a "$tmp" || exit 1
awk '{ split($2, a, "="); split($3, b, "="); t = a[2]; v = b[2] }
     /^opencv threads=/ { cv[t] = v }
     /^ours threads=/ { alone[t] = v }
     /^ours-throughput threads=/ { alone_tp[t] = v }
     /^ours-interleaved threads=/ { il[t] = v }
     /^ours-interleaved-throughput threads=/ { il_tp[t] = v }
     END { for (t in cv) {
             if (t in il) printf "ratio threads=%s ours/opencv = %.2f (%s vs %s ms per face, interleaved, one face per call)\n", t, il[t] / cv[t], il[t], cv[t]
             if (t in il_tp) printf "ratio threads=%s ours/opencv = %.2f (%s vs %s ms per face, interleaved, 2 faces per call)\n", t, il_tp[t] / cv[t], il_tp[t], cv[t]
             if (!(t in il) && (t in alone)) printf "ratio threads=%s ours/opencv = %.2f (%s vs %s ms per face, separate runs)\n", t, alone[t] / cv[t], alone[t], cv[t] } }' "$tmp"
