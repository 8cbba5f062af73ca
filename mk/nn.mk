# mk/nn.mk — the nn/ engine and FaceNet: speed benchmark (ours vs OpenCV DNN on the same weights) and its
# bench-only dependencies (Debian python3-opencv + python3-onnx; never needed to build or run sortbyface).
ifneq ($(filter native asan,$(V)),)
TOOLS += $(B)/tools/bench-facenet
endif

$(B)/tools/bench-facenet: tools/bench-facenet.c $(B)/libsbf.a nn/facenet.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libsbf.a $(LDFLAGS_V_$(V)) $(LDLIBS)

.PHONY: bench-facenet
# One process per side, same machine, same run: ours at 1 and 2 threads, then OpenCV DNN 4.6 on an ONNX
# graph built from the same .npy weights; prints ms/face, GFLOP/s and the ratios.
bench-facenet: $(B)/tools/bench-facenet weights/facenet-20180402.sbfw
	sh tools/bench-facenet.sh $(B)/tools/bench-facenet $(SBF_SHARED)

bench: bench-facenet

bench-deps:
	@dpkg -s python3-opencv python3-onnx python3-numpy >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then apt-get install -y python3-opencv python3-onnx python3-numpy; \
	    else sudo apt-get install -y python3-opencv python3-onnx python3-numpy; fi; }
