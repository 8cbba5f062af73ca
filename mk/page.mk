# mk/page.mk — the people page (src/page.c, src/thumbs.c): its browser test (tests/e2e_page.sh) opens the page in
# Debian's headless Chromium, driven by Chromium's own --dump-dom and --screenshot (no npm, no driver library),
# so `make setup` installs the browser; and the tools that measure the page.
SETUP_PACKAGES += chromium
