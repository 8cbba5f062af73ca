#!/bin/sh
# tools/bench-facenet.sh — FaceNet speed, ours vs OpenCV DNN, same machine, one run: ms/face and GFLOP/s at 1
# and 2 threads, and the ratio ours/OpenCV (target <= 0.75).  usage: bench-facenet.sh BENCH_BIN SHARED_DIR
# Each face is timed alone; the figures are the best over RUNS x FACES (and the median), for both sides.
# Env: FACES (default 10), RUNS (default 5), THREADS (default 1,2).  OpenCV side needs `make bench-deps`.
set -u
bin=$1; shared=$2
faces=${FACES:-10}; runs=${RUNS:-5}; threads=${THREADS:-1,2}
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
SBF_SHARED=$shared "$bin" --faces "$faces" --runs "$runs" --threads "$threads" | tee "$tmp" || exit 1
# throughput: 2 faces per call, one per thread (how the product embeds a photo's faces / a folder)
SBF_SHARED=$shared "$bin" --faces "$faces" --runs "$runs" --threads 2 --group 2 | grep '^ours-throughput' | tee -a "$tmp" || exit 1
npy=build/facenet-npy
[ -f "$npy/Conv2d_1a_3x3_kernel.npy" ] || npy=$shared/weights/facenet-20180402-114759
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3   # Debian python3-opencv lives in the system python
if "$PY" -c 'import cv2, onnx, numpy' 2>/dev/null; then
  "$PY" tools/bench-facenet-opencv.py "$npy" "$shared/data/aligned-golden" --faces "$faces" --runs "$runs" \
    --threads "$threads" | tee -a "$tmp" || exit 1
else
  echo "OpenCV peer not available: run 'make bench-deps' (python3-opencv, python3-onnx)"; exit 1
fi
awk '/^ours threads=/ { split($2, a, "="); split($3, b, "="); ours[a[2]] = b[2] }
     /^opencv threads=/ { split($2, a, "="); split($3, b, "="); cv[a[2]] = b[2] }
     /^ours-throughput threads=/ { split($2, a, "="); split($3, b, "="); tp[a[2]] = b[2] }
     END { for (t in ours) if (t in cv) printf "ratio threads=%s ours/opencv = %.2f (%s ms vs %s ms per face, one face per call)\n", t, ours[t] / cv[t], ours[t], cv[t]
           for (t in tp) if (t in cv) printf "ratio threads=%s ours-throughput/opencv = %.2f (%s ms vs %s ms per face, %s faces per call)\n", t, tp[t] / cv[t], tp[t], cv[t], t }' "$tmp"
