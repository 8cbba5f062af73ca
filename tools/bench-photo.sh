#!/bin/sh
# tools/bench-photo.sh — camera-size photos (issue 22), one run: our stages and the check (tools/bench-photo), and
# the original tool's stack on the same photos (tools/bench-photo-peer: OpenCV imread + dlib + OpenCV DNN
# FaceNet), both on one thread, CPU time, fastest of REPS; then the ratio ours / peer per photo.
# usage: bench-photo.sh SHARED_DIR      (make bench-photo; needs make bench-deps)
# Env: REPS (default 3); BEFORE=an older sortbyface binary whose embed runs alternate with ours in the check.
set -u
shared=$1; reps=${REPS:-3}
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3   # Debian python3-opencv / python3-onnx live in the system python
dir=build/large-photos
if [ "$(ls "$dir"/large-*.jpg 2>/dev/null | wc -l)" -lt 5 ]; then
  "$PY" tools/make-large-photos.py "$shared" "$dir" || { echo "bench-photo: run 'make bench-deps' (python3-opencv)"; exit 1; }
fi
onnx=build/facenet-opencv.onnx
if [ ! -s "$onnx" ]; then
  npy=build/facenet-npy; [ -f "$npy/Conv2d_1a_3x3_kernel.npy" ] || npy=$shared/weights/facenet-20180402-114759
  "$PY" -c 'import importlib.util, sys, onnx
spec = importlib.util.spec_from_file_location("b", "tools/bench-facenet-opencv.py"); m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m); onnx.save(m.build(sys.argv[1]), sys.argv[2])' "$npy" "$onnx.tmp" && mv "$onnx.tmp" "$onnx" ||
    { echo "bench-photo: cannot build the ONNX graph (make bench-deps: python3-onnx)"; exit 1; }
fi
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
build/native/tools/bench-photo --reps "$reps" --bin build/native/sortbyface ${BEFORE:+--before "$BEFORE"} "$dir"/large-*.jpg | tee "$tmp" || exit 1
build/native/tools/bench-photo-peer "$onnx" /usr/share/dlib/shape_predictor_68_face_landmarks.dat "$reps" "$dir"/large-*.jpg | tee -a "$tmp" || exit 1
awk '/^  total / { ours = $2 } /^peer total / { split($3, a, "="); peer = a[2] }
     END { if (ours && peer) printf "whole photo, 1 thread, models loaded: ours %.0f ms vs peer %.0f ms over the photos: ours/peer = %.2f\n", ours, peer, ours / peer }' "$tmp"
