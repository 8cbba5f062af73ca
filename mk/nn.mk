# mk/nn.mk — the nn/ engine and FaceNet: speed benchmark (ours vs OpenCV DNN on the same weights) and its
# bench-only dependencies (Debian python3-opencv + python3-onnx; never needed to build or run sortbyface).
ifneq ($(filter native asan,$(V)),)
TOOLS += $(B)/tools/bench-facenet $(B)/tools/bench-qwino
endif

# bench-qwino: the int8 3x3 stride-1 layers one by one, direct against exact Winograd (nn/qwino.h)
$(B)/tools/bench-facenet $(B)/tools/bench-qwino: $(B)/tools/%: tools/%.c $(B)/libsbf.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(B)/libsbf.a $(LDFLAGS_V_$(V)) $(LDLIBS)

.PHONY: bench-facenet
# Same machine, one run: ours alone at 1 and 2 threads (+ peak RSS), then ours and OpenCV DNN 4.6 (ONNX graph
# built from the same .npy weights) timed face by face alternately in one process; ms/face, GFLOP/s, ratios.
bench-facenet: $(B)/tools/bench-facenet weights/facenet-20180402.sbfw
	sh tools/bench-facenet.sh $(B)/tools/bench-facenet $(SBF_SHARED) $(if $(filter native,$(V)),$(B)/tools/libsbfnn.so)

bench: bench-facenet

# What only the benchmarks need (never `make setup`); tools/test-fresh.sh --bench-deps (make test-fresh-bench)
# proves it on a fresh Debian 12 root with bench-deps-check.
BENCH_PACKAGES := python3-opencv python3-onnx python3-numpy
bench-deps:
	@sh tools/setup-packages.sh $(BENCH_PACKAGES) --

bench-deps-check:
	@python3 -c "import cv2, onnx, numpy; print('bench-deps: OpenCV', cv2.__version__, 'onnx', onnx.__version__, 'numpy', numpy.__version__)"

# Bench only: nn/ as a shared library, so the OpenCV peer can time both engines face by face in one process.
ifeq ($(V),native)
NN_PIC_OBJS := $(patsubst %.c,$(B)/pic/%.o,$(wildcard nn/*.c))
$(B)/pic/nn/%.o: nn/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -fPIC $(if $(findstring _avx2,$*),$(ISA_AVX2_$(V))) -c -o $@ $<
$(B)/tools/libsbfnn.so: $(NN_PIC_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $^ $(LDLIBS)
bench-facenet: $(B)/tools/libsbfnn.so
endif

# ---- int8 FaceNet (issue 23): tools/quantize (calibration + the int8 weight file), tools/int8-gate
ifneq ($(filter native asan,$(V)),)
TOOLS += $(B)/tools/quantize $(B)/tools/int8-gate
# The int8 file is what the committed calibration makes; quantize refuses decisions made for other weights.
ORACLE_TESTS += tests/oracle_int8_files.sh
check: $(B)/tools/quantize
endif
$(B)/tools/quantize $(B)/tools/int8-gate: $(B)/tools/%: tools/%.c tools/int8.h $(B)/libsbf.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(B)/libsbf.a $(LDFLAGS_V_$(V)) $(LDLIBS)

# The int8 weight file: the float32 file + the committed calibration (tools/quantize on lfw-dev: the activation
# scales, and the rounding of the stem's and Block35's weights).
ifeq ($(V),native)
WEIGHT_FILES += weights/facenet-20180402-int8.sbfw
weights/facenet-20180402-int8.sbfw: weights/facenet-20180402.sbfw weights/facenet-20180402-int8.scales \
		weights/facenet-20180402-int8.round | build/native/tools/quantize
	build/native/tools/quantize --scales weights/facenet-20180402-int8.scales --round weights/facenet-20180402-int8.round \
		weights/facenet-20180402.sbfw $@
endif

.PHONY: int8-gate int8-calibrate
# The accuracy gate on every lfw-dev face not used for calibration (needs build/lfw-dev.db: tools/eval-lfw).
int8-gate: $(B)/tools/int8-gate weights/facenet-20180402-int8.sbfw
	$(B)/tools/int8-gate --db build/lfw-dev.db --model weights/facenet-20180402-int8.sbfw
# Re-calibrates weights/facenet-20180402-int8.scales and .round (commit both).
int8-calibrate: $(B)/tools/quantize
	$(B)/tools/quantize --calibrate --db build/lfw-dev.db --out weights/facenet-20180402-int8.scales
	$(B)/tools/quantize --scales weights/facenet-20180402-int8.scales --gptq build/lfw-dev.db \
		--round-out weights/facenet-20180402-int8.round weights/facenet-20180402.sbfw weights/facenet-20180402-int8.sbfw
# Speed of the int8 model: against our float32 (same process, face by face; VNNI and forced AVX2) and ONNX
# Runtime (npm onnxruntime-node in ORT_NODE_MODULES; float32 and int8 QDQ graphs of the same weights).
.PHONY: bench-facenet-int8
bench-facenet-int8: $(B)/tools/bench-facenet weights/facenet-20180402.sbfw weights/facenet-20180402-int8.sbfw
	INT8=1 sh tools/bench-facenet.sh $(B)/tools/bench-facenet $(SBF_SHARED)
