#!/usr/bin/python3
"""tools/make-large-photos.py — camera-size test photos for the issue-22 benchmarks (tools/bench-photo).

Takes the shared group photos, upscales each to 4000 px wide (Lanczos), adds Gaussian noise of sigma 4
(seeded, so every run writes the same pixels) and writes a JPEG of quality 92 — roughly what a 9-12 MP
camera or phone writes.  Bench dependency only (Debian python3-opencv, python3-numpy: `make bench-deps`).

usage: make-large-photos.py SHARED_DIR OUT_DIR [WIDTH]
"""
import os
import sys

import cv2
import numpy as np

# Group photos with several faces (dlib's examples, face_recognition's examples).
SOURCES = [
    "data/photos/dlib-examples/2008_002470.jpg",
    "data/photos/dlib-examples/2009_004587.jpg",
    "data/photos/dlib-examples/bald_guys.jpg",
    "data/photos/people-examples/two_people.jpg",
    "data/photos/dlib-examples/2008_001322.jpg",
]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    shared, out = sys.argv[1], sys.argv[2]
    width = int(sys.argv[3]) if len(sys.argv) > 3 else 4000
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(22)
    for rel in SOURCES:
        src = cv2.imread(os.path.join(shared, rel), cv2.IMREAD_COLOR)
        if src is None:
            sys.exit("make-large-photos: cannot read %s" % os.path.join(shared, rel))
        h = round(src.shape[0] * width / src.shape[1])
        big = cv2.resize(src, (width, h), interpolation=cv2.INTER_LANCZOS4).astype(np.float32)
        big += rng.normal(0.0, 4.0, big.shape).astype(np.float32)
        big = np.clip(np.rint(big), 0, 255).astype(np.uint8)
        name = "large-" + os.path.splitext(os.path.basename(rel))[0] + ".jpg"
        dst = os.path.join(out, name)
        tmp = dst + ".tmp.jpg"
        if not cv2.imwrite(tmp, big, [cv2.IMWRITE_JPEG_QUALITY, 92]):
            sys.exit("make-large-photos: cannot write %s" % tmp)
        os.replace(tmp, dst)
        print("%s %dx%d %d bytes" % (dst, width, h, os.path.getsize(dst)))


if __name__ == "__main__":
    main()
