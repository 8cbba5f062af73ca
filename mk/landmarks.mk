# mk/landmarks.mk — 68-point shape predictor: .dat -> SBFW conversion, dlib oracle test, benchmark.
DLIB_SHAPE_DAT := /usr/share/dlib/shape_predictor_68_face_landmarks.dat
ORACLE_CXX := g++ -O2 -g -std=c++14 -I.

# tools/shape-convert: dlib's .dat -> our SBFW (float32 leaves; --f16 for float16 leaves); a host tool on
# build/native/libsbf.a, like npy2sbfw.  The weight files depend on it order-only: relinking it (after a library
# change) does not redo them.
TOOLS += build/native/tools/shape-convert
build/native/tools/shape-convert: tools/shape-convert.c build/native/libsbf.a
	@mkdir -p $(dir $@)
	gcc $(CFLAGS_COMMON) $(DEPFLAGS) -o $@ $< build/native/libsbf.a $(HOST_LIBS)

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
$(B)/tools/%-landmarks.o: tools/%-landmarks.cpp
	@mkdir -p $(dir $@)
	$(ORACLE_CXX) $(DEPFLAGS) -c -o $@ $<

$(B)/tools/oracle-landmarks: $(B)/tools/oracle-landmarks.o $(B)/libsbf.a
	g++ -o $@ $^ $(DLIB_TOOL_LIBS) $(LDFLAGS_V_$(V):-static=) $(LDLIBS)

$(B)/tools/bench-landmarks: $(B)/tools/bench-landmarks.o $(B)/libsbf.a
	g++ -o $@ $^ $(DLIB_TOOL_LIBS) $(LDFLAGS_V_$(V):-static=) $(LDLIBS)
endif

# tools/eval-align: LFW pairsDevTrain verification accuracy per alignment rule (needs FaceNet weights).
TOOLS += build/native/tools/eval-align
build/native/tools/eval-align: tools/eval-align.c build/native/libsbf.a
	@mkdir -p $(dir $@)
	gcc $(CFLAGS_COMMON) $(DEPFLAGS) -o $@ $< build/native/libsbf.a $(HOST_LIBS)
