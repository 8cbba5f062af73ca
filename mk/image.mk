# mk/image.mk — image decoders (issue 22): libjpeg-turbo (JPEG) and libwebp (WebP) from Debian, linked statically
# into every static build (x86-64, aarch64, armv7) and into the tests, tools and fuzz targets of every variant;
# libheif (HEIC/AVIF) only in the dynamically linked `make HEIF=1` build (variant heif, build/heif/), because
# Debian ships no static libheif.  The ARM builds take the multiarch static libraries by path (no -L into the
# multiarch folder: see LIBDIR_* in the Makefile).
SETUP_PACKAGES += libjpeg62-turbo-dev libwebp-dev libheif-dev
SETUP_CROSS_PACKAGES += libjpeg62-turbo-dev:arm64 libjpeg62-turbo-dev:armhf libwebp-dev:arm64 libwebp-dev:armhf

IMAGE_LIBS_aarch64 := $(LIBDIR_aarch64)/libjpeg.a $(LIBDIR_aarch64)/libwebp.a
IMAGE_LIBS_armv7   := $(LIBDIR_armv7)/libjpeg.a $(LIBDIR_armv7)/libwebp.a
IMAGE_LIBS_heif    := -ljpeg -lwebp -lheif
# A cross build without its multiarch libraries (make setup installs them; it leaves them out, and says so,
# when the mirror's index for that architecture is broken) stops here with the reason instead of at the link.
ifneq ($(filter aarch64 armv7,$(V)),)
$(foreach f,$(IMAGE_LIBS_$(V)),$(if $(wildcard $(f)),,$(error $(f) is missing: the $(V) build needs Debian's $(V) libraries; run 'make setup')))
endif
IMAGE_LIBS := $(or $(IMAGE_LIBS_$(V)),-ljpeg -lwebp)
LDLIBS := $(IMAGE_LIBS) $(LDLIBS)

# The HEIF=1 build's own check: the image tests (HEIC and AVIF files made by libheif's encoders in the test) and
# the fuzz regression replay, linked against libheif.  Part of `make test` (run before its native and asan checks).
.PHONY: test-heif
test-heif:
	@$(MAKE) --no-print-directory V=heif build/heif/sortbyface build/heif/tests/test_image build/heif/tests/test_fuzz_regress
	@sh tests/run-suite.sh build/heif "" build/heif/tests/test_image build/heif/tests/test_fuzz_regress -- --

# Host tools (build/native/tools/*, linked from any variant's make) link the host's libraries.
HOST_LIBS := -ljpeg -lwebp -lm -pthread
test: test-heif
