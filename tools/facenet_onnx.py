"""tools/facenet_onnx.py - ONNX graphs of FaceNet 20180402-114759 (Inception-ResNet-v1) for the benchmark peers
(bench only, never shipped), built from the same per-tensor .npy weights our weight files are made from.

build(npy): the float32 graph (NCHW, input "x" 1x3x160x160 = (RGB - 127.5) / 128, output "emb" 1x512).
build(npy, scales=FILE): the same graph quantised in QDQ form for ONNX Runtime's int8 kernels: each convolution's
input through QuantizeLinear/DequantizeLinear (uint8, one scale per tensor: the largest of our per-channel scales
of that tensor, weights/facenet-20180402-int8.scales), its weights int8 with one scale per output channel; the
residual sums, pools and the bottleneck float32, like ours.
usage: facenet_onnx.py NPY_DIR OUT.onnx [--scales FILE]"""
import os, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def read_scales(path):
    s = {}
    for line in open(path):
        f = line.split()
        if not f or f[0] in ("#", "mean"):
            continue
        s[f[0]] = max(float(v) for v in f[1:])
    return s


def input_point(layer):
    """The quantisation point (nn/facenet_q.c) a convolution reads; None for the first layer (the image)."""
    stem = {"Conv2d_2a_3x3": "Conv2d_1a_3x3", "Conv2d_2b_3x3": "Conv2d_2a_3x3", "Conv2d_3b_1x1": "Conv2d_2b_3x3",
            "Conv2d_4a_3x3": "Conv2d_3b_1x1", "Conv2d_4b_3x3": "Conv2d_4a_3x3", "Conv2d_1a_3x3": None}
    if layer in stem:
        return stem[layer]
    for blk, first, n in (("Block35", "Conv2d_4b_3x3", 5), ("Block17", "Mixed_6a", 10), ("Block8", "Mixed_7a", 6)):
        if layer.startswith(blk + "_"):
            i = int(layer.split("_")[1])
            pre = "%s_%d_" % (blk, i)
            rest = layer[len(pre):]
            if rest.startswith("Branch_0") or rest.endswith("0a_1x1"):
                return first if i == 1 else "%s_%d" % (blk, i - 1)
            if rest == "Conv2d_1x1":
                return pre + "concat"
            if rest.startswith("Branch_1_Conv2d_0b"):
                return pre + "Branch_1_Conv2d_0a_1x1"
            if rest.startswith("Branch_1_Conv2d_0c"):
                return pre + ("Branch_1_Conv2d_0b_1x7" if blk == "Block17" else "Branch_1_Conv2d_0b_1x3")
            if rest == "Branch_2_Conv2d_0b_3x3":
                return pre + "Branch_2_Conv2d_0a_1x1"
            if rest == "Branch_2_Conv2d_0c_3x3":
                return pre + "Branch_2_Conv2d_0b_3x3"
    m6 = {"Mixed_6a_Branch_0_Conv2d_1a_3x3": "Block35_5", "Mixed_6a_Branch_1_Conv2d_0a_1x1": "Block35_5",
          "Mixed_6a_Branch_1_Conv2d_0b_3x3": "Mixed_6a_Branch_1_Conv2d_0a_1x1",
          "Mixed_6a_Branch_1_Conv2d_1a_3x3": "Mixed_6a_Branch_1_Conv2d_0b_3x3"}
    if layer in m6:
        return m6[layer]
    if layer.startswith("Mixed_7a_"):
        if layer.endswith("0a_1x1"):
            return "Block17_10"
        return {"Mixed_7a_Branch_0_Conv2d_1a_3x3": "Mixed_7a_Branch_0_Conv2d_0a_1x1",
                "Mixed_7a_Branch_1_Conv2d_1a_3x3": "Mixed_7a_Branch_1_Conv2d_0a_1x1",
                "Mixed_7a_Branch_2_Conv2d_0b_3x3": "Mixed_7a_Branch_2_Conv2d_0a_1x1",
                "Mixed_7a_Branch_2_Conv2d_1a_3x3": "Mixed_7a_Branch_2_Conv2d_0b_3x3"}[layer]
    raise KeyError(layer)


def build(npy, scales=None):
    nodes, inits = [], []
    cnt = [0]
    qcache = {}
    sc = read_scales(scales) if scales else None

    def w(name):
        return np.load(os.path.join(npy, name + ".npy"))

    def qdq(x, scale, zp=0):
        key = (x, scale, zp)
        if key not in qcache:
            cnt[0] += 1
            s, z = "qs_%d" % cnt[0], "qz_%d" % cnt[0]
            inits.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), s))
            inits.append(numpy_helper.from_array(np.array(zp, dtype=np.uint8), z))
            nodes.append(helper.make_node("QuantizeLinear", [x, s, z], [x + "_q"]))
            nodes.append(helper.make_node("DequantizeLinear", [x + "_q", s, z], [x + "_dq"]))
            qcache[key] = x + "_dq"
        return qcache[key]

    def conv(x, name, stride=1, pad="same", relu=True):
        k = w(name + "_kernel").transpose(0, 3, 1, 2).copy()  # OHWI -> OIHW
        b = w(name + "_Conv2D_bias")
        kh, kw = k.shape[2], k.shape[3]
        p = [kh // 2, kw // 2, kh // 2, kw // 2] if pad == "same" else [0, 0, 0, 0]
        wname = name + "_W"
        if sc is None:
            inits.append(numpy_helper.from_array(k, wname))
        else:
            pt = input_point(name)
            x = qdq(x, 1.0 / 128.0, 128) if pt is None else qdq(x, sc[pt])
            ws = np.maximum(np.abs(k).reshape(k.shape[0], -1).max(axis=1), 1e-12) / 127.0
            q = np.clip(np.round(k / ws[:, None, None, None]), -127, 127).astype(np.int8)
            inits.append(numpy_helper.from_array(q, wname + "_q"))
            inits.append(numpy_helper.from_array(ws.astype(np.float32), wname + "_s"))
            inits.append(numpy_helper.from_array(np.zeros(k.shape[0], dtype=np.int8), wname + "_z"))
            nodes.append(helper.make_node("DequantizeLinear", [wname + "_q", wname + "_s", wname + "_z"], [wname], axis=0))
        inits.append(numpy_helper.from_array(b, name + "_B"))
        nodes.append(helper.make_node("Conv", [x, wname, name + "_B"], [name], kernel_shape=[kh, kw],
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
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13 if sc else 11)])
    model.ir_version = 7
    return model


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) not in (2, 4) or (len(a) == 4 and a[2] != "--scales"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    onnx.save(build(a[0], a[3] if len(a) == 4 else None), a[1])
