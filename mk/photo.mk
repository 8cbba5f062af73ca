# mk/photo.mk — camera-size photos (issue 22): the stage / decoder / whole-photo benchmark and its peer.
#   make bench-photo      tools/bench-photo.sh: large test photos (tools/make-large-photos.py, cached in
#                         build/large-photos), our stages and the check, then the OpenCV + dlib peer, ratios
# Bench-only packages (never `make setup`): OpenCV's C++ headers for the peer, next to mk/nn.mk's python3-opencv.
BENCH_PACKAGES += libopencv-dev

ifneq ($(filter native asan,$(V)),)
TOOLS += $(B)/tools/bench-photo
$(B)/tools/bench-photo: tools/bench-photo.c $(B)/libsbf.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -Wno-sign-compare -Wno-unused-function -Wno-format-truncation -o $@ $< $(B)/libsbf.a $(LDFLAGS_V_$(V):-static=) $(LDLIBS)
endif

# The peer: the original tool's stack in C++ (OpenCV imread, dlib's detector and shape predictor, dlib's face
# chip, OpenCV DNN FaceNet from the same weights).  Built only by `make bench-photo` (needs make bench-deps).
build/native/tools/bench-photo-peer: tools/bench-photo-peer.cpp
	@mkdir -p $(dir $@)
	g++ -O2 -std=c++14 $(DEPFLAGS) $$(pkg-config --cflags opencv4) -o $@ $< $$(pkg-config --libs opencv4) $(DLIB_TOOL_LIBS)

.PHONY: bench-photo
bench-photo: build/native/tools/bench-photo build/native/tools/bench-photo-peer build/native/sortbyface
	sh tools/bench-photo.sh $(SBF_SHARED)
