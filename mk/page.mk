# mk/page.mk — the people page (src/page.c, src/thumbs.c): its browser test (tests/e2e_page.sh) opens the page in
# Debian's headless Chromium, driven by Chromium's own --dump-dom and --screenshot (no npm, no driver library),
# so `make setup` installs the browser; and the tools that measure the page.
SETUP_PACKAGES += chromium

# tools/eval-similar: the floor of "possibly the same person as" on a labelled folder (docs/MEASUREMENTS.md).
ifneq ($(filter native asan,$(V)),)
TOOLS += $(B)/tools/eval-similar
$(B)/tools/eval-similar: tools/eval-similar.c $(B)/libsbf.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(B)/libsbf.a $(LDFLAGS_V_$(V):-static=) $(LDLIBS)
endif

# tools/bench-page: size of the page and time to write it at N faces (docs/MEASUREMENTS.md).
ifeq ($(V),native)
TOOLS += $(B)/tools/bench-page
$(B)/tools/bench-page: tools/bench-page.c $(B)/libsbf.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(B)/libsbf.a $(LDFLAGS_V_$(V):-static=) $(LDLIBS)
endif
