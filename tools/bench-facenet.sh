#!/bin/sh
# tools/bench-facenet.sh — FaceNet speed, ours vs OpenCV DNN 4.6 on the same weights, same machine, one run.
# usage: bench-facenet.sh BENCH_BIN SHARED_DIR [NN_SHARED_LIB]   (make bench-facenet; OpenCV: make bench-deps)
# INT8=1: instead, the int8 model (weights/facenet-20180402-int8.sbfw) against our float32 face by face in one
# process, with the default kernels (AVX-512 VNNI here) and forced AVX2, 1 and 2 threads, then ONNX Runtime (npm
# onnxruntime-node, from ORT_NODE_MODULES, default /work/peers/node_modules) on float32 and int8 QDQ ONNX graphs
# of the same weights (tools/facenet_onnx.py).  Targets: int8/float32 <= 0.5 with VNNI, <= 0.7 with AVX2.
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
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3   # Debian python3-opencv / python3-onnx live in the system python
npy=build/facenet-npy
[ -f "$npy/Conv2d_1a_3x3_kernel.npy" ] || npy=$shared/weights/facenet-20180402-114759
if [ "${INT8:-0}" = 1 ]; then
  q=weights/facenet-20180402-int8.sbfw
  [ -f "$q" ] || { echo "no $q: make weights/facenet-20180402-int8.sbfw"; exit 1; }
  for isa in auto avx2; do
    SBF_SHARED=$shared "$bin" --model "$model" --compare "$q" --faces "$faces" --runs "$runs" --threads "$threads" \
      $( [ $isa = auto ] || echo --isa $isa ) | tee -a "$tmp" || exit 1
    SBF_SHARED=$shared "$bin" --model "$model" --compare "$q" --faces "$faces" --runs "$runs" --threads 2 --group 2 \
      $( [ $isa = auto ] || echo --isa $isa ) | grep -E '^(ours|ratio)' | tee -a "$tmp" || exit 1
  done
  nm=${ORT_NODE_MODULES:-/work/peers/node_modules}
  if [ ! -d "$nm/onnxruntime-node" ]; then
    echo "ONNX Runtime peer not available: npm install onnxruntime-node --ignore-scripts in $(dirname "$nm")"; exit 1
  fi
  d=$(mktemp -d) || exit 1
  trap 'rm -rf "$tmp" "$d"' EXIT
  "$PY" tools/facenet_onnx.py "$npy" "$d/f32.onnx" || exit 1
  "$PY" tools/facenet_onnx.py "$npy" "$d/int8.onnx" --scales weights/facenet-20180402-int8.scales || exit 1
  "$PY" -c 'import sys, json, cv2, numpy as np
g = [json.loads(l) for l in open(sys.argv[1] + "/embeddings.jsonl")]
x = [((cv2.imread(sys.argv[1] + "/" + e["path"])[:, :, ::-1].astype(np.float32) - 127.5) / 128).transpose(2, 0, 1) for e in g]
np.stack(x).astype(np.float32).tofile(sys.argv[2])' "$shared/data/aligned-golden" "$d/faces.f32" || exit 1
  for m in f32 int8; do
    NODE_PATH=$nm node tools/bench-facenet-ort.js "$d/$m.onnx" "$d/faces.f32" "$shared/data/aligned-golden/embeddings.jsonl" \
      "ort-$m" --faces "$faces" --runs "$runs" --threads "$threads" | tee -a "$tmp" || exit 1
  done
  awk '{ split($2, a, "="); split($3, b, "="); t = a[2]; v = b[2] }
       /^ort-f32 threads=/ { of[t] = v } /^ort-int8 threads=/ { oi[t] = v }
       /^ours-int8 threads=/ && !seen[t]++ { ours[t] = v }
       END { for (t in ours) {
               if (t in of) printf "ratio threads=%s ours-int8/ort-float32 = %.2f (%s vs %s ms per face, separate runs)\n", t, ours[t] / of[t], ours[t], of[t]
               if (t in oi) printf "ratio threads=%s ours-int8/ort-int8 = %.2f (%s vs %s ms per face, separate runs)\n", t, ours[t] / oi[t], ours[t], oi[t] } }' "$tmp"
  exit 0
fi
SBF_SHARED=$shared "$bin" --model "$model" --faces "$faces" --runs "$runs" --threads "$threads" | tee "$tmp" || exit 1
SBF_SHARED=$shared "$bin" --model "$model" --faces "$faces" --runs "$runs" --threads 2 --group 2 | grep '^ours-throughput' | tee -a "$tmp" || exit 1
# float16 weights (make weights/facenet-20180402-f16.sbfw): float16 panels, converted per tile in the kernels
if [ -f weights/facenet-20180402-f16.sbfw ]; then
  echo "float16 weight file:"
  SBF_SHARED=$shared "$bin" --model weights/facenet-20180402-f16.sbfw --faces "$faces" --runs "$runs" --threads 1 |
    sed -n 's/^ours /ours-f16 /p; s/^peak_rss_mb=/f16 peak_rss_mb=/p'
fi
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
