#!/bin/sh
# fuzz/gen-corpus-jpeg.sh — JPEG seeds stb_image_write cannot make (progressive, restart markers,
# arithmetic coding, 4:2:2), made with cjpeg from Debian's libjpeg-turbo-progs out of the generated PPM.
# usage: gen-corpus-jpeg.sh CORPUS_DIR   (after gen-corpus; skipped with a note when cjpeg is absent)
set -eu
d=$1/image
command -v cjpeg >/dev/null 2>&1 || { echo "gen-corpus-jpeg: cjpeg not installed (apt-get install libjpeg-turbo-progs); skipped"; exit 0; }
cjpeg -progressive -quality 85 "$d/ok-rgb.ppm" > "$d/ok-progressive.jpg"
cjpeg -progressive -grayscale "$d/ok-gray.pgm" > "$d/ok-progressive-gray.jpg"
cjpeg -restart 1 -sample 2x1 -optimize "$d/ok-rgb.ppm" > "$d/ok-restart-422.jpg"
cjpeg -arithmetic "$d/ok-rgb.ppm" > "$d/bad-arithmetic.jpg"
echo "gen-corpus-jpeg: 4 cjpeg seeds in $d"
