# mk/weights.mk — the FaceNet weight file: npy folder (shared/ or download, SHA-256 verified) -> SBFW.
FACENET_NPY_DIR := build/facenet-npy
FACENET_META := --meta model=facenet-inception-resnet-v1-20180402-114759 \
  --meta source="Sandberg facenet 20180402-114759 (VGGFace2), per-tensor export webmachinelearning/test-data models/facenet_nhwc" \
  --meta licence="MIT (davidsandberg/facenet)" \
  --meta input="160x160 RGB, (x-127.5)/128" --meta layout="conv kernels OHWI; BatchNorm folded"
WEIGHT_FILES += weights/facenet-20180402.sbfw
TOOLS += build/native/tools/npy2sbfw build/native/tools/sbfw-info

build/native/tools/npy2sbfw: tools/npy2sbfw.c build/native/libsbf.a
	@mkdir -p $(dir $@)
	gcc $(CFLAGS_COMMON) $(DEPFLAGS) -o $@ $< build/native/libsbf.a $(HOST_LIBS)

$(FACENET_NPY_DIR)/.verified: weights/facenet-20180402-114759.sha256
	sh tools/fetch-facenet.sh $< $(SHARED)/weights/facenet-20180402-114759 $(FACENET_NPY_DIR)

# The converter is order-only: rebuilding it (e.g. after a src/util.c change) does not redo the 94 MB file.
weights/facenet-20180402.sbfw: $(FACENET_NPY_DIR)/.verified | build/native/tools/npy2sbfw
	build/native/tools/npy2sbfw $(FACENET_META) $(FACENET_NPY_DIR) $@

weights/facenet-20180402-f16.sbfw: $(FACENET_NPY_DIR)/.verified | build/native/tools/npy2sbfw
	build/native/tools/npy2sbfw --f16 $(FACENET_META) $(FACENET_NPY_DIR) $@

build/native/tools/sbfw-info: tools/sbfw-info.c build/native/libsbf.a
	@mkdir -p $(dir $@)
	gcc $(CFLAGS_COMMON) $(DEPFLAGS) -o $@ $< build/native/libsbf.a $(HOST_LIBS)

tools: $(TOOLS)
