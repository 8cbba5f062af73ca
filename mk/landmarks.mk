# mk/landmarks.mk — 68-point shape predictor: .dat -> SBFW conversion, dlib oracle test, benchmark.
DLIB_SHAPE_DAT := /usr/share/dlib/shape_predictor_68_face_landmarks.dat
DLIB_LIBS := $(shell pkg-config --libs dlib-1 2>/dev/null || echo -ldlib)
ORACLE_CXX := g++ -O2 -g -std=c++14 -I.

# tools/shape-convert: dlib's .dat -> our SBFW (float32 leaves; --f16 for float16 leaves).  Built from sources
# (not libsbf.a) like npy2sbfw; the AVX2 kernel file alone gets the AVX2 flags (x86-64 hosts only).
SHAPE_CONVERT_SRCS := tools/shape-convert.c src/landmarks.c src/models.c src/util.c nn/weights.c nn/half.c nn/cpu.c
SHAPE_CONVERT_AVX2 := $(if $(filter x86_64,$(shell uname -m)),build/native/tools/shape-convert-avx2.o)
TOOLS += build/native/tools/shape-convert
build/native/tools/shape-convert-avx2.o: src/landmarks_avx2.c src/landmarks_impl.h src/landmarks.h
	@mkdir -p $(dir $@)
	gcc $(CFLAGS_COMMON) -mavx2 -mfma -mf16c -c -o $@ $<

build/native/tools/shape-convert: $(SHAPE_CONVERT_SRCS) $(SHAPE_CONVERT_AVX2) src/landmarks.h src/landmarks_impl.h \
                                  nn/weights.h nn/half.h nn/cpu.h src/util.h src/models.h
	@mkdir -p $(dir $@)
	gcc $(CFLAGS_COMMON) -o $@ $(SHAPE_CONVERT_SRCS) $(SHAPE_CONVERT_AVX2) -lm

weights/shape-68-f16.sbfw: $(DLIB_SHAPE_DAT) | build/native/tools/shape-convert
	build/native/tools/shape-convert --f16 $< $@

WEIGHT_FILES += weights/shape-68.sbfw
weights/shape-68.sbfw: $(DLIB_SHAPE_DAT) | build/native/tools/shape-convert
	build/native/tools/shape-convert $< $@

ifneq ($(filter native asan,$(V)),)
ORACLE_TESTS += $(B)/tools/oracle-landmarks
TOOLS += $(B)/tools/oracle-landmarks $(B)/tools/bench-landmarks
# The C++ side (dlib's templates) is compiled without sanitizers, even in the asan variant (fast compile and
# run); the link adds the variant's flags so our instrumented libsbf.a works.
$(B)/tools/%-landmarks.o: tools/%-landmarks.cpp src/landmarks.h src/image.h src/face.h
	@mkdir -p $(dir $@)
	$(ORACLE_CXX) -c -o $@ $<

$(B)/tools/oracle-landmarks: $(B)/tools/oracle-landmarks.o $(B)/libsbf.a
	g++ -o $@ $^ $(DLIB_LIBS) $(LDFLAGS_V_$(V):-static=) -lm -pthread

$(B)/tools/bench-landmarks: $(B)/tools/bench-landmarks.o $(B)/libsbf.a
	g++ -o $@ $^ $(DLIB_LIBS) $(LDFLAGS_V_$(V):-static=) -lm -pthread
endif

# tools/eval-align: LFW pairsDevTrain verification accuracy per alignment rule (needs FaceNet weights).
TOOLS += build/native/tools/eval-align
build/native/tools/eval-align: tools/eval-align.c tools/align-variants.h build/native/libsbf.a
	@mkdir -p $(dir $@)
	gcc $(CFLAGS_COMMON) -o $@ $< build/native/libsbf.a -lm -pthread
