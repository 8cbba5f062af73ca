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
from onnx import helper, numpy_helper, TensorProto

GFLOP = 2.83

def build(npy):
    nodes, inits = [], []
    cnt = [0]
    def w(name):
        return np.load(os.path.join(npy, name + ".npy"))
    def conv(x, name, stride=1, pad="same", relu=True):
        k = w(name + "_kernel").transpose(0, 3, 1, 2).copy()  # OHWI -> OIHW
        b = w(name + "_Conv2D_bias")
        kh, kw = k.shape[2], k.shape[3]
        p = [kh // 2, kw // 2, kh // 2, kw // 2] if pad == "same" else [0, 0, 0, 0]
        inits.append(numpy_helper.from_array(k, name + "_W"))
        inits.append(numpy_helper.from_array(b, name + "_B"))
        nodes.append(helper.make_node("Conv", [x, name + "_W", name + "_B"], [name], kernel_shape=[kh, kw],
                                      strides=[stride, stride], pads=p))
        if not relu:
            return name
        nodes.append(helper.make_node("Relu", [name], [name + "_relu"]))
        return name + "_relu"
    def op(kind, ins, **kw):
        cnt[0] += 1
        out = "%s_%d" % (kind, cnt[0])
        nodes.append(helper.make_node(kind, ins, [out], **kw))
        return out
    def maxpool(x):
        return op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2])
    x = conv("x", "Conv2d_1a_3x3", 2, "valid")
    x = conv(x, "Conv2d_2a_3x3", 1, "valid")
    x = conv(x, "Conv2d_2b_3x3")
    x = maxpool(x)
    x = conv(x, "Conv2d_3b_1x1", 1, "valid")
    x = conv(x, "Conv2d_4a_3x3", 1, "valid")
    x = conv(x, "Conv2d_4b_3x3", 2, "valid")
    for i in range(1, 6):
        n = "Block35_%d_" % i
        b0 = conv(x, n + "Branch_0_Conv2d_1x1")
        b1 = conv(conv(x, n + "Branch_1_Conv2d_0a_1x1"), n + "Branch_1_Conv2d_0b_3x3")
        b2 = conv(conv(conv(x, n + "Branch_2_Conv2d_0a_1x1"), n + "Branch_2_Conv2d_0b_3x3"), n + "Branch_2_Conv2d_0c_3x3")
        up = conv(op("Concat", [b0, b1, b2], axis=1), n + "Conv2d_1x1", relu=False)
        x = op("Relu", [op("Add", [x, up])])
    m = "Mixed_6a_"
    b0 = conv(x, m + "Branch_0_Conv2d_1a_3x3", 2, "valid")
    b1 = conv(conv(conv(x, m + "Branch_1_Conv2d_0a_1x1"), m + "Branch_1_Conv2d_0b_3x3"), m + "Branch_1_Conv2d_1a_3x3", 2, "valid")
    x = op("Concat", [b0, b1, maxpool(x)], axis=1)
    def blk(x, n, k, last=False):
        b0 = conv(x, n + "Branch_0_Conv2d_1x1")
        b1 = conv(conv(conv(x, n + "Branch_1_Conv2d_0a_1x1"), n + "Branch_1_Conv2d_0b_1x%d" % k), n + "Branch_1_Conv2d_0c_%dx1" % k)
        up = conv(op("Concat", [b0, b1], axis=1), n + "Conv2d_1x1", relu=False)
        s = op("Add", [x, up])
        return s if last else op("Relu", [s])
    for i in range(1, 11):
        x = blk(x, "Block17_%d_" % i, 7)
    m = "Mixed_7a_"
    b0 = conv(conv(x, m + "Branch_0_Conv2d_0a_1x1"), m + "Branch_0_Conv2d_1a_3x3", 2, "valid")
    b1 = conv(conv(x, m + "Branch_1_Conv2d_0a_1x1"), m + "Branch_1_Conv2d_1a_3x3", 2, "valid")
    b2 = conv(conv(conv(x, m + "Branch_2_Conv2d_0a_1x1"), m + "Branch_2_Conv2d_0b_3x3"), m + "Branch_2_Conv2d_1a_3x3", 2, "valid")
    x = op("Concat", [b0, b1, b2, maxpool(x)], axis=1)
    for i in range(1, 7):
        x = blk(x, "Block8_%d_" % i, 3, last=(i == 6))
    x = op("Flatten", [op("GlobalAveragePool", [x])], axis=1)
    inits.append(numpy_helper.from_array(w("Bottleneck_kernel_transpose"), "fc_W"))
    inits.append(numpy_helper.from_array(w("Bottleneck_MatMul_bias"), "fc_B"))
    nodes.append(helper.make_node("Gemm", [x, "fc_W", "fc_B"], ["emb"], transB=1))
    g = helper.make_graph(nodes, "facenet", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 160, 160])],
                          [helper.make_tensor_value_info("emb", TensorProto.FLOAT, [1, 512])], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 7
    return model

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
