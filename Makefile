# sortbyface — build, test, cross-compile.  See README.md.
#
#   make                      static ./sortbyface for this machine (x86-64: AVX2/FMA picked at run time)
#   make setup                install Debian packages, produce weight files, build (idempotent)
#   make test                 unit + end-to-end + oracle tests, normal build and ASan+UBSan build
#   make cross ARCH=aarch64   static ARM binary build/aarch64/sortbyface (ARCH=armv7 too)
#   make HEIF=1               ./sortbyface linked dynamically against Debian's libheif: also decodes HEIC/AVIF
#   make test-cross ARCH=...  unit tests of that build under qemu-user
#
# Variants live in build/<V>/ (native, asan, aarch64, armv7; fuzz, msan, afl for the fuzzers), each with its own
# libsbf.a that tools, tests and fuzz targets link.  Header dependencies come from the compiler (-MMD -MP).  Modules are found by wildcard:
# src/*.c and nn/*.c form the library, tests/test_*.c are cmocka programs, tests/e2e_*.sh are
# end-to-end scripts.  Area-specific rules (tools, oracles, benchmarks) live in mk/*.mk.

SHARED ?= ../shared
# Build in parallel on every core (tests themselves run one after another in tests/run-suite.sh).
# (Not for the long single-recipe checks, whose progress would be held back until they end.)
ifeq ($(MAKELEVEL),0)
ifeq ($(filter test-fresh test-fresh-bench,$(MAKECMDGOALS)),)
MAKEFLAGS += -j$(shell nproc) --output-sync=target
endif
endif
ARCH ?= aarch64
V ?= $(if $(filter 1,$(HEIF)),heif,native)
export SBF_SHARED := $(abspath $(SHARED))

CC_native  := gcc
CC_heif    := gcc
CC_asan    := gcc
CC_aarch64 := aarch64-linux-gnu-gcc
CC_armv7   := arm-linux-gnueabihf-gcc
CC_fuzz    := clang
CC_msan    := clang
CC_afl     := AFL_USE_ASAN=1 AFL_USE_UBSAN=1 afl-clang-fast
# Cross test programs are dynamic (Debian ships cmocka as .so only) and run against the multiarch
# libc6:arm64 / libc6:armhf that libcmocka-dev:<arch> pulls in.  No "-L /usr/<triplet>": that mixes the
# cross toolchain's ld.so with the multiarch libc.so found through /etc/ld.so.cache, and threaded
# programs then hang.
QEMU_aarch64 := qemu-aarch64
QEMU_armv7   := qemu-arm
LIBDIR_aarch64 := /usr/lib/aarch64-linux-gnu
LIBDIR_armv7   := /usr/lib/arm-linux-gnueabihf

CC := $(CC_$(V))
B  := build/$(V)

WARN    := -Wall -Wextra -Werror
CFLAGS_COMMON := -std=c11 -O2 -g $(WARN) -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 -I. -pthread
CFLAGS_V_native  :=
CFLAGS_V_heif    := -DSBF_HEIF=1
CFLAGS_V_asan    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -DSBF_ASAN=1
CFLAGS_V_aarch64 := -march=armv8-a
CFLAGS_V_armv7   := -march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard
# libFuzzer variants (mk/fuzz.mk): the library instrumented for coverage, linked into the targets with -fsanitize=fuzzer.
# clang does not know GCC's optimize pragma (the HOG kernels' fp-contract=off, for dlib's bit-exact sums): the flag.
CLANG_FLAGS      := -ffp-contract=off -Wno-unknown-pragmas
CFLAGS_V_fuzz    := $(CLANG_FLAGS) -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -fsanitize=fuzzer-no-link
CFLAGS_V_msan    := $(CLANG_FLAGS) -O1 -fsanitize=memory -fsanitize-memory-track-origins -fno-omit-frame-pointer -fsanitize=fuzzer-no-link -fwrapv
CFLAGS_V_afl     := $(CLANG_FLAGS) -O1
# Per-ISA kernel files: *_avx2.c get AVX2/FMA/F16C on x86 builds only (guarded inside by __x86_64__).
ISA_AVX2_native := -mavx2 -mfma -mf16c
ISA_AVX2_heif   := -mavx2 -mfma -mf16c
ISA_AVX2_asan   := -mavx2 -mfma -mf16c
ISA_AVX2_fuzz   := -mavx2 -mfma -mf16c
ISA_AVX2_msan   := -mavx2 -mfma -mf16c
ISA_AVX2_afl    := -mavx2 -mfma -mf16c
LDFLAGS_V_native  := -static
LDFLAGS_V_asan    := -fsanitize=address,undefined
LDFLAGS_V_aarch64 := -static
LDFLAGS_V_armv7   := -static
TESTLD_V_aarch64  := -L$(LIBDIR_aarch64)
TESTLD_V_armv7    := -L$(LIBDIR_armv7)
RUN_V_aarch64 := $(QEMU_aarch64)
RUN_V_armv7   := $(QEMU_armv7)

CFLAGS  := $(CFLAGS_COMMON) $(CFLAGS_V_$(V)) $(EXTRA_CFLAGS)
LDLIBS  := -lm -pthread
DEPFLAGS := -MMD -MP
# stb (third-party, Debian's header) does signed left shifts UBSan reports, and on corrupt JPEGs overflows signed
# ints (DC x dequant; found by fuzz_image): -fwrapv gives the wrap-around stb expects.  Every build that compiles
# src/stb_impl.c takes these from here.
STB_FLAGS := -fno-sanitize=shift -fwrapv

LIB_SRCS  := $(filter-out src/main.c,$(wildcard src/*.c)) $(wildcard nn/*.c)
LIB_ASM   := $(wildcard src/*.S)
LIB_OBJS  := $(LIB_SRCS:%.c=$(B)/%.o) $(LIB_ASM:%.S=$(B)/%.o)
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(TEST_SRCS:tests/%.c=$(B)/tests/%)
TEST_HELPERS := $(wildcard tests/helpers/*.c)
TEST_HELPER_OBJS := $(TEST_HELPERS:%.c=$(B)/%.o)
E2E_TESTS := $(sort $(wildcard tests/e2e_*.sh))

# Hooks filled by mk/*.mk fragments.
SETUP_STEPS :=
# Everything `make setup` installs on a fresh Debian 12 (proved by `make test-fresh`, which runs the README's two
# commands in a minimal root): the build, the tests (mount: the full-disk checks), the fuzz targets (clang + its
# runtime), the dlib oracles (DLIB_TOOL_LIBS in mk/detect.mk) and the cross builds with their qemu tests.
SETUP_PACKAGES := build-essential pkg-config libstb-dev libcmocka-dev libdlib-dev libdlib-data \
                  gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross libc6-dev-armhf-cross \
                  qemu-user g++ clang libclang-rt-14-dev mount
SETUP_CROSS_PACKAGES := libcmocka-dev:arm64 libcmocka-dev:armhf
ORACLE_TESTS :=
WEIGHT_FILES :=
TOOLS :=

.PHONY: all setup weights test check cross test-cross clean tools lib bench bench-deps bench-deps-check fuzz \
        dist test-dist test-fresh test-fresh-bench FORCE
all: sortbyface

-include mk/*.mk

sortbyface: $(B)/sortbyface
	cp $< $@

$(B)/sortbyface: $(B)/src/main.o $(B)/libsbf.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS_V_$(V)) $(LDLIBS)

$(B)/libsbf.a: $(LIB_OBJS)
	rm -f $@; $(AR) rcs $@ $^

lib: $(B)/libsbf.a

$(B)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) $(if $(findstring _avx2,$*),$(ISA_AVX2_$(V))) -c -o $@ $<

$(B)/src/stb_impl.o: CFLAGS += $(STB_FLAGS)

$(B)/%.o: %.S Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/tests/%: tests/%.c $(B)/libsbf.a $(TEST_HELPER_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(TEST_HELPER_OBJS) $(B)/libsbf.a $(TESTLD_V_$(V)) -lcmocka $(LDFLAGS_V_$(V):-static=) $(LDLIBS)

# Tools on the host link build/native/libsbf.a; from another variant's make it is made by a native sub-make.
ifneq ($(V),native)
build/native/libsbf.a: FORCE
	@$(MAKE) --no-print-directory V=native $@
endif
FORCE:

# The compiler's header dependencies of everything built so far (all variants).
-include $(wildcard $(addprefix build/*/,src/*.d nn/*.d tests/*.d tests/helpers/*.d tools/*.d fuzz/*.d))

# ---- setup -------------------------------------------------------------------------------------
setup:
	@sh tools/setup-packages.sh $(SETUP_PACKAGES) -- $(SETUP_CROSS_PACKAGES)
	@$(MAKE) --no-print-directory weights
	@$(MAKE) --no-print-directory all

weights: $(WEIGHT_FILES)

# ---- tests -------------------------------------------------------------------------------------
# make test = everything, in the normal build and again under ASan+UBSan.
test:
	@$(MAKE) --no-print-directory V=native check
	@$(MAKE) --no-print-directory V=asan check
	@$(MAKE) --no-print-directory test-dist ARCH=x86_64
	@echo "make test: all suites passed (native and asan)"

check: $(B)/sortbyface $(TEST_BINS) $(ORACLE_TESTS)
	@sh tests/run-suite.sh "$(B)" "$(RUN_V_$(V))" $(TEST_BINS) -- $(E2E_TESTS) -- $(ORACLE_TESTS)

cross:
	@$(MAKE) --no-print-directory V=$(ARCH) $(if $(filter armv7 aarch64,$(ARCH)),,$(error ARCH must be aarch64 or armv7)) build/$(ARCH)/sortbyface
	@echo "built build/$(ARCH)/sortbyface"

test-cross:
	@$(MAKE) --no-print-directory V=$(ARCH) build/$(ARCH)/sortbyface $(addprefix build/$(ARCH)/tests/,$(notdir $(TEST_SRCS:.c=)))
	@SBF_CROSS=1 sh tests/run-suite.sh "build/$(ARCH)" "$(RUN_V_$(ARCH))" $(addprefix build/$(ARCH)/tests/,$(notdir $(TEST_SRCS:.c=))) -- --
	@$(MAKE) --no-print-directory test-dist ARCH=$(ARCH)

clean:
	rm -rf build sortbyface dist

# ---- one archive for a board (or a PC) ---------------------------------------------------------------
# make dist ARCH=aarch64|armv7|x86_64  ->  dist/sortbyface-VERSION-ARCH.tar.gz (tools/make-dist.sh says what is in it)
VERSION := $(shell sed -n 's/^\#define SBF_VERSION "\(.*\)"/\1/p' src/main.c)
DIST_V_x86_64  := native
DIST_V_aarch64 := aarch64
DIST_V_armv7   := armv7
DIST_V := $(DIST_V_$(ARCH))
DIST_TGZ := dist/sortbyface-$(VERSION)-$(ARCH).tar.gz
dist:
	@$(if $(DIST_V),,$(error ARCH must be x86_64, aarch64 or armv7))
	@$(MAKE) --no-print-directory V=$(DIST_V) build/$(DIST_V)/sortbyface
	@$(MAKE) --no-print-directory weights
	@sh tools/make-dist.sh build/$(DIST_V)/sortbyface $(ARCH) $(VERSION) dist

# The archive unpacked alone into an empty folder embeds and sorts (under qemu for ARM): part of `make test`
# (x86_64) and of `make test-cross` (its ARCH).
test-dist: dist
	@sh tests/dist_check.sh $(DIST_TGZ) "$(RUN_V_$(DIST_V))"

# ---- the README's two commands on a fresh Debian 12 root (tools/test-fresh.sh; needs root) ------------
test-fresh:
	@sh tools/test-fresh.sh
test-fresh-bench:
	@sh tools/test-fresh.sh --bench-deps
