# mk/fuzz.mk — fuzzing (issue 7): libFuzzer targets built with Debian's clang under ASan+UBSan for the
# image loader incl. EXIF (fuzz/fuzz_image.c), the weight-file loader (fuzz/fuzz_weights.c) and the
# embeddings database reader (fuzz/fuzz_store.c).  Seeds: fuzz/corpus/<target>/ (fuzz/gen-corpus.c
# writes them); every input that once crashed: fuzz/regress/<target>/.  tests/test_fuzz_regress.c
# replays both through the same entry points in every build (native, asan, qemu).
#
#   make fuzz                   each target for FUZZ_SECONDS (default 600) on fuzz/corpus-work/<target>
#                               (git-ignored, grows), crashes in build/fuzz/artifacts/<target>/
#   make fuzz-ci                each target for FUZZ_CI_SECONDS (default 15) from the committed corpus;
#                               fails on any crash, leak, UB, timeout or OOM (part of `make test`, native)
#   make fuzz-build             just the binaries: build/fuzz/fuzz_{image,weights,store}
#   make fuzz-afl               the same harnesses built with afl-clang-fast (Debian afl++), not run in CI
#   make fuzz-corpus            regenerate fuzz/corpus/ with build/fuzz/gen-corpus
FUZZ_CC ?= clang
FUZZ_B := build/fuzz
FUZZ_TARGETS := image weights store
FUZZ_SECONDS ?= 600
FUZZ_CI_SECONDS ?= 15
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -O1 -g $(WARN) -D_GNU_SOURCE -I. -pthread
FUZZ_LIB_SRCS := src/image.c src/stb_impl.c src/util.c src/store.c src/walk.c nn/weights.c nn/half.c fuzz/fuzz_common.c
FUZZ_HDRS := src/image.h src/util.h src/store.h src/walk.h src/face.h nn/weights.h nn/half.h fuzz/fuzz.h
FUZZ_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_B)/obj/%.o)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)
# stb (Debian's header, third-party) does signed left shifts; same exemption as the main build.
# On corrupt input it also overflows signed ints (DC x dequant in a JPEG block, found by fuzz_image):
# -fwrapv makes that defined wrap-around, which is what stb expects.
FUZZ_STB_FLAGS := -fno-sanitize=shift -fwrapv

.PHONY: fuzz fuzz-ci fuzz-build fuzz-afl fuzz-corpus

$(FUZZ_B)/obj/%.o: %.c $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(if $(findstring stb_impl,$*),$(FUZZ_STB_FLAGS)) -c -o $@ $<

$(FUZZ_B)/fuzz_%: $(FUZZ_B)/obj/fuzz/fuzz_%.o $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ -lm

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@sh fuzz/run.sh long $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-ci: $(FUZZ_BINS)
	@sh fuzz/run.sh ci $(FUZZ_CI_SECONDS) $(FUZZ_TARGETS)

# The short bounded run belongs to `make test`, native variant only.
ifeq ($(V),native)
ORACLE_TESTS += fuzz/fuzz-ci.sh
check: $(FUZZ_BINS)
endif

# The regression replay test compiles the harnesses in (see tests/test_fuzz_regress.c).
$(B)/tests/test_fuzz_regress: fuzz/fuzz_image.c fuzz/fuzz_weights.c fuzz/fuzz_store.c fuzz/fuzz_common.c fuzz/fuzz.h

# AFL++: same harnesses, afl-clang-fast's libFuzzer driver.  Run e.g.
#   afl-fuzz -i fuzz/corpus/image -o build/fuzz/afl/out-image -- build/fuzz/afl/fuzz_image
FUZZ_AFL_CC ?= afl-clang-fast

fuzz-afl: $(FUZZ_TARGETS:%=$(FUZZ_B)/afl/fuzz_%)
$(FUZZ_B)/afl/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB_SRCS) $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	AFL_USE_ASAN=1 AFL_USE_UBSAN=1 $(FUZZ_AFL_CC) $(FUZZ_CFLAGS) $(FUZZ_STB_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_SRCS) -lm

# MemorySanitizer build of the image target (stb is header-only, so everything is instrumented):
# finds pixels made of uninitialised memory.  `make fuzz-msan [FUZZ_SECONDS=...]`; not in CI.
FUZZ_MSAN_SRCS := fuzz/fuzz_image.c src/image.c src/stb_impl.c src/util.c nn/weights.c fuzz/fuzz_common.c
$(FUZZ_B)/msan/fuzz_image: $(FUZZ_MSAN_SRCS) $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,memory -fsanitize-memory-track-origins -fwrapv -o $@ $(FUZZ_MSAN_SRCS) -lm
fuzz-msan: $(FUZZ_B)/msan/fuzz_image
	@FUZZ_BIN_DIR=$(FUZZ_B)/msan sh fuzz/run.sh msan $(FUZZ_SECONDS) image
.PHONY: fuzz-msan

# Seed corpus generator (stb_image_write, the nnw writer, the store API; plain gcc).
GEN_CORPUS_SRCS := fuzz/gen-corpus.c src/stb_impl.c src/store.c src/walk.c src/util.c nn/weights.c nn/half.c
$(FUZZ_B)/gen-corpus: $(GEN_CORPUS_SRCS) $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	gcc $(CFLAGS_COMMON) -fwrapv -o $@ $(GEN_CORPUS_SRCS) -lm

fuzz-corpus: $(FUZZ_B)/gen-corpus
	$(FUZZ_B)/gen-corpus fuzz/corpus
	sh fuzz/gen-corpus-jpeg.sh fuzz/corpus

.SECONDARY: $(FUZZ_OBJS) $(FUZZ_TARGETS:%=$(FUZZ_B)/obj/fuzz/fuzz_%.o)
