# mk/fuzz.mk — fuzzing (issue 7): libFuzzer targets built with Debian's clang under ASan+UBSan for the
# image loader incl. EXIF (fuzz/fuzz_image.c), the weight-file loader (fuzz/fuzz_weights.c) and the
# embeddings database reader (fuzz/fuzz_store.c).  Seeds: fuzz/corpus/<target>/ (fuzz/gen-corpus.c
# writes them); every input that once crashed: fuzz/regress/<target>/.  tests/test_fuzz_regress.c
# replays both through the same entry points in every build (native, asan, qemu).
#
# The targets link the library of their variant (Makefile: V=fuzz is clang + ASan/UBSan + coverage, V=msan
# MemorySanitizer, V=afl afl-clang-fast), so no source list is kept here.
#
#   make fuzz                   each target for FUZZ_SECONDS (default 600) on fuzz/corpus-work/<target>
#                               (git-ignored, grows), crashes in build/fuzz/artifacts/<target>/
#   make fuzz-ci                each target for FUZZ_CI_SECONDS (default 15) from the committed corpus;
#                               fails on any crash, leak, UB, timeout or OOM (part of `make test`, native)
#   make fuzz-build             just the binaries: build/fuzz/fuzz_{image,weights,store}
#   make fuzz-msan              the image target under MemorySanitizer (build/msan/fuzz_image), not in CI
#   make fuzz-afl               the same harnesses built with afl-clang-fast (Debian afl++), not run in CI
#   make fuzz-corpus            regenerate fuzz/corpus/ with build/native/tools/gen-corpus
FUZZ_TARGETS := image weights store
FUZZ_SECONDS ?= 600
FUZZ_CI_SECONDS ?= 15

.PHONY: fuzz fuzz-ci fuzz-build fuzz-afl fuzz-msan fuzz-corpus fuzz-bins

# In a fuzzer variant: build/<V>/fuzz_<target> = harness + the shared fuzz/fuzz_common.c + that variant's libsbf.a.
ifneq ($(filter fuzz msan afl,$(V)),)
fuzz-bins: $(FUZZ_TARGETS:%=$(B)/fuzz_%)
$(B)/fuzz_%: $(B)/fuzz/fuzz_%.o $(B)/fuzz/fuzz_common.o $(B)/libsbf.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
.SECONDARY: $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%.o) $(B)/fuzz/fuzz_common.o
endif

fuzz-build:
	@$(MAKE) --no-print-directory V=fuzz fuzz-bins

fuzz: fuzz-build
	@sh fuzz/run.sh long $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-ci: fuzz-build
	@sh fuzz/run.sh ci $(FUZZ_CI_SECONDS) $(FUZZ_TARGETS)

# The short bounded run belongs to `make test`, native variant only.
ifeq ($(V),native)
ORACLE_TESTS += fuzz/fuzz-ci.sh
check: fuzz-build
endif

# The regression replay test compiles the harnesses in (see tests/test_fuzz_regress.c); -MMD records them.

# AFL++: same harnesses, afl-clang-fast's libFuzzer driver.  Run e.g.
#   afl-fuzz -i fuzz/corpus/image -o build/afl/out-image -- build/afl/fuzz_image
fuzz-afl:
	@$(MAKE) --no-print-directory V=afl fuzz-bins

# MemorySanitizer build of the image target (stb is header-only, so everything is instrumented):
# finds pixels made of uninitialised memory.  `make fuzz-msan [FUZZ_SECONDS=...]`; not in CI.
fuzz-msan:
	@$(MAKE) --no-print-directory V=msan build/msan/fuzz_image
	@FUZZ_BIN_DIR=build/msan sh fuzz/run.sh msan $(FUZZ_SECONDS) image

# Seed corpus generator (stb_image_write, the nnw writer, the store API), a host tool.
TOOLS += build/native/tools/gen-corpus
build/native/tools/gen-corpus: fuzz/gen-corpus.c build/native/libsbf.a
	@mkdir -p $(dir $@)
	gcc $(CFLAGS_COMMON) $(DEPFLAGS) -o $@ $< build/native/libsbf.a $(HOST_LIBS)

fuzz-corpus: build/native/tools/gen-corpus
	build/native/tools/gen-corpus fuzz/corpus
	sh fuzz/gen-corpus-jpeg.sh fuzz/corpus
