# mk/detect.mk — face detector (issue 3): embedded weights, converter, oracle test, benchmark.

# The embedded model: the object file depends on the committed weight file.
$(B)/src/hog_weights.o: weights/hog-frontal.sbfw

DETECT_SAN_asan := -fsanitize=address,undefined -fno-omit-frame-pointer
# What the dlib-linked tools (oracles, benchmarks, hog-convert) actually link: libdlib itself, and BLAS and
# LAPACK, which dlib's headers call inline (Debian's dlib/config.h defines DLIB_USE_BLAS/LAPACK: cblas_dgemm,
# dgesvd_).  Not `pkg-config --libs dlib-1`: that names the development links of libpng, libjpeg and sqlite too,
# whose -dev packages libdlib-dev does not pull in, although libdlib.so loads their runtime libraries itself.
# The packages that provide these links are installed by `make setup`; `make test-fresh` proves it.
DLIB_TOOL_LIBS := -ldlib -lblas -llapack -lpthread
SETUP_PACKAGES += libblas-dev liblapack-dev

# tools/hog-convert: regenerates weights/hog-frontal.sbfw from Debian's dlib headers
# (make hog-weights).  The result is committed, so normal builds never need dlib.
ifneq ($(filter native asan,$(V)),)
TOOLS += $(B)/tools/hog-convert $(B)/tools/oracle-detect $(B)/tools/bench-detect
ORACLE_TESTS += tests/oracle_detect.sh

$(B)/tools/hog-convert: tools/hog-convert.cpp $(B)/libsbf.a
	@mkdir -p $(dir $@)
	g++ -O2 -std=c++14 -I. $(DEPFLAGS) $(DETECT_SAN_$(V)) -o $@ $< $(B)/libsbf.a $(DLIB_TOOL_LIBS)

# The dlib side of the oracle and the benchmark is compiled the way a user compiles dlib's headers
# by default (g++ -O2, x86-64 baseline SSE2); our side is libsbf.a.
$(B)/tools/oracle-detect: tools/oracle-detect.cpp $(B)/libsbf.a
	@mkdir -p $(dir $@)
	g++ -O2 -std=c++14 -I. $(DEPFLAGS) $(DETECT_SAN_$(V)) -o $@ $< $(B)/libsbf.a $(DLIB_TOOL_LIBS) $(LDLIBS)

$(B)/tools/bench-detect: tools/bench-detect.cpp $(B)/libsbf.a
	@mkdir -p $(dir $@)
	g++ -O2 -std=c++14 -I. $(DEPFLAGS) -o $@ $< $(B)/libsbf.a $(DLIB_TOOL_LIBS) $(LDLIBS)

tests/oracle_detect.sh: $(B)/tools/oracle-detect $(B)/tools/hog-convert
endif

.PHONY: hog-weights bench-detect
hog-weights: build/native/tools/hog-convert
	build/native/tools/hog-convert weights/hog-frontal.sbfw

bench-detect: $(B)/tools/bench-detect
	$(B)/tools/bench-detect
