#!/usr/bin/python3
"""tools/bench-facenet-opencv.py - the OpenCV DNN peer of tools/bench-facenet (bench only, never shipped).

Builds an ONNX graph of FaceNet 20180402-114759 (Inception-ResNet-v1) from the same per-tensor .npy
weights our weight file is made from, runs it with OpenCV DNN (Debian python3-opencv 4.6) on the golden
aligned crops, checks the embeddings against embeddings.jsonl, and times it at the given thread counts.
With --ours LIB MODEL it also loads our engine (a bench-only shared build of nn/, via ctypes) and times
both sides face by face, alternating ours / OpenCV, so load from other processes hits both alike.
usage: bench-facenet-opencv.py NPY_DIR GOLDEN_DIR [--faces N] [--runs R] [--threads 1,2] [--ours LIB MODEL]
prints:  opencv threads=T ms_per_face=X gflops=Y ...  (ours-interleaved ... with --ours; and a check line)"""
import ctypes, json, os, sys, tempfile, time
import numpy as np
import cv2
import onnx
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from facenet_onnx import build  # the ONNX graph (shared with the ONNX Runtime peer)

GFLOP = 2.83

def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr); return 2
    npy, golden = args[0], args[1]
    faces, runs, threads = 10, 5, "1,2"
    ours_lib = ours_model = None
    i = 2
    while i < len(args):
        if args[i] == "--ours": ours_lib, ours_model = args[i + 1], args[i + 2]; i += 3
        elif args[i] == "--faces": faces = int(args[i + 1]); i += 2
        elif args[i] == "--runs": runs = int(args[i + 1]); i += 2
        elif args[i] == "--threads": threads = args[i + 1]; i += 2
        else: print("unknown option " + args[i], file=sys.stderr); return 2
    model = build(npy)
    with tempfile.TemporaryDirectory() as td:
        path = os.path.join(td, "facenet.onnx")
        onnx.save(model, path)
        net = cv2.dnn.readNetFromONNX(path)
    gold = [json.loads(l) for l in open(os.path.join(golden, "embeddings.jsonl"))]
    blobs = []
    for g in gold:
        img = cv2.imread(os.path.join(golden, g["path"]))[:, :, ::-1].astype(np.float32)
        blobs.append(((img - 127.5) / 128.0).transpose(2, 0, 1)[None].copy())
    worst = 0.0
    for g, b in zip(gold, blobs):
        net.setInput(b)
        e = net.forward().reshape(-1)
        e = e / np.sqrt(max(float(np.dot(e, e)), 1e-10))
        worst = max(worst, float(np.max(np.abs(e - np.array(g["emb"], dtype=np.float32)))))
    print("opencv %s check: max |diff| vs golden embeddings = %.2e" % (cv2.__version__, worst))
    lib = None
    if ours_lib:
        lib = ctypes.CDLL(os.path.abspath(ours_lib))
        lib.nn_facenet_load.restype = ctypes.c_void_p
        lib.nn_facenet_load.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
        lib.nn_facenet_embed.restype = ctypes.c_int
        lib.nn_facenet_embed.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        lib.nn_facenet_free.argtypes = [ctypes.c_void_p]
        rgbs = [np.ascontiguousarray(cv2.imread(os.path.join(golden, g["path"]))[:, :, ::-1]) for g in gold]
        pair = [np.ascontiguousarray(np.stack([rgbs[k % len(rgbs)], rgbs[(k + 1) % len(rgbs)]])) for k in range(len(rgbs))]
        out = np.zeros((2, 512), dtype=np.float32)
        err = ctypes.create_string_buffer(256)
        chk = lib.nn_facenet_load(ours_model.encode(), 0, err, 256)
        if not chk:
            print("cannot load our engine: " + err.value.decode(), file=sys.stderr); return 1
        d = 0.0
        for k in range(len(rgbs)):
            lib.nn_facenet_embed(chk, pair[k].ctypes.data, 2, out.ctypes.data)
            for j in range(2):
                d = max(d, float(np.max(np.abs(out[j] - np.array(gold[(k + j) % len(gold)]["emb"], dtype=np.float32)))))
        lib.nn_facenet_free(chk)
        print("ours check: max |diff| vs golden embeddings = %.2e" % d)
        worst = max(worst, d)
    def stats(name, t, tw, tc, n=1):
        tw.sort(); tc.sort()
        ms = tw[0] * 1000.0 / n
        print("%s threads=%s ms_per_face=%.2f gflops=%.1f median_ms=%.2f cpu_ms_per_face=%.2f" % (
            name, t, ms, GFLOP / (ms / 1000.0), tw[len(tw) // 2] * 1000.0 / n, tc[0] * 1000.0 / n))
    def timed(fn):
        s, c = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - s, time.process_time() - c
    for t in threads.split(","):
        cv2.setNumThreads(int(t))
        net.setInput(blobs[0]); net.forward()
        ours = None
        if lib:
            err = ctypes.create_string_buffer(256)
            ours = lib.nn_facenet_load(ours_model.encode(), int(t), err, 256)
            if not ours:
                print("cannot load our engine: " + err.value.decode(), file=sys.stderr); return 1
            lib.nn_facenet_embed(ours, pair[0].ctypes.data, 1, out.ctypes.data)
        tw, tc, ow, oc, pw, pc = [], [], [], [], [], []
        for r in range(runs):
            for f in range(faces):
                b = blobs[f % len(blobs)]
                def cv_run():
                    net.setInput(b)
                    net.forward()
                w, c = timed(cv_run); tw.append(w); tc.append(c)
                if ours:
                    w, c = timed(lambda: lib.nn_facenet_embed(ours, pair[f % len(pair)].ctypes.data, 1, out.ctypes.data))
                    ow.append(w); oc.append(c)
                    if int(t) > 1:  # two faces per call: one per thread
                        w, c = timed(lambda: lib.nn_facenet_embed(ours, pair[f % len(pair)].ctypes.data, 2, out.ctypes.data))
                        pw.append(w); pc.append(c)
        stats("opencv", t, tw, tc)
        if ours:
            stats("ours-interleaved", t, ow, oc)
            if pw:
                stats("ours-interleaved-throughput", t, pw, pc, 2)
            lib.nn_facenet_free(ours)
        sys.stdout.flush()
    return 0 if worst < 1e-3 else 1

if __name__ == "__main__":
    sys.exit(main())
