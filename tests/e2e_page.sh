#!/bin/sh
# tests/e2e_page.sh — the people page (index.html) of a small sorted library, opened in a real browser: Debian's
# headless Chromium loads a copy of the page with tests/helpers/page-check.js added (index-check.html, next to
# index.html so that every relative link means the same) and `--dump-dom` prints the DOM after the script wrote its
# findings into it.  Asserted from the rendered page: one section per person folder plus Unknown, every thumbnail
# loaded (naturalWidth > 0, 128x128), every link resolves to an existing file or folder (checked on disk), the
# hostile file names (markup, quotes, '&', '%', '#', '?', spaces, a newline, a non-UTF-8 byte) render as text
# and inject nothing, the filter box is shown when scripts run, and no horizontal scrolling at a phone's width;
# and find's page.  Screenshots for a person to look at:
# build/page-screenshot.png (desktop) and build/page-screenshot-phone.png.
# Env: SBF_BIN, SBF_SHARED (see tests/run-suite.sh).  Needs `chromium` (make setup installs it).
. tests/helpers/e2e.sh
need_weights
L=$S/data/lfw-dev
need "$L/Hugo_Chavez/Hugo_Chavez_0004.jpg" "$L/Serena_Williams/Serena_Williams_0003.jpg" "$L/Colin_Powell/Colin_Powell_0002.jpg"
CHROMIUM=$(command -v chromium || command -v chromium-browser) ||
  { echo "e2e_page: FAIL: no chromium (Debian package 'chromium'; make setup installs it)"; exit 1; }
check() { if eval "$1"; then ok; else fail "$2"; fi; }
# Flags: root in a container needs --no-sandbox --disable-dev-shm-usage; the rest keep a headless run offline,
# quiet and independent of any profile (a fresh --user-data-dir each time).
browse() { # browse WIDTH,HEIGHT ARG... (ARG: --dump-dom or --screenshot=FILE, then the URL)
  size=$1; shift
  ud=$(mktemp -d "$T/chromium-XXXXXX")
  HOME=$ud timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-dev-shm-usage --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --user-data-dir="$ud" --window-size="$size" --virtual-time-budget=30000 "$@" 2>>"$T/chromium.log"
}
cd "$T" || exit 1
mkdir -p lib/chavez lib/serena "lib/odd & <dir>"
cp "$L"/Hugo_Chavez/Hugo_Chavez_000[1-4].jpg lib/chavez/
cp "$L"/Serena_Williams/Serena_Williams_000[1-3].jpg lib/serena/
cp "$L"/Colin_Powell/Colin_Powell_000[12].jpg "lib/odd & <dir>/"
HOSTILE1='<i class=inj>x & "q'"'"' %41#?.jpg'
HOSTILE2=$(printf 'new\nline \377.jpg')
cp lib/chavez/Hugo_Chavez_0001.jpg "lib/chavez/$HOSTILE1"
cp lib/serena/Serena_Williams_0001.jpg "lib/serena/$HOSTILE2"
"$BIN" embed -src lib --db e.db -q 2>embed.err || { cat embed.err; fail "embed"; finish; }
"$BIN" sort --db e.db -dest out >sort.out 2>sort.err || { cat sort.err; fail "sort"; finish; }
check 'grep -q "people page out/index.html: 11 thumbnails (11 written, 0 reused, 0 failed)" sort.err' "sort's page line: $(cat sort.err)"
check '[ -f out/index.html ] && [ "$(ls out/.thumbs | wc -l)" -eq 11 ]' "index.html and 11 thumbnails: $(ls -A out out/.thumbs)"

# check_page DIR WIDTH,HEIGHT: the findings of page-check.js on DIR/index.html into DIR.check
check_page() {
  pg=$1
  sed '/<\/body>/d; /<\/html>/d' "$pg/index.html" > "$pg/index-check.html"
  { printf '<script>\n'; cat "$TOP/tests/helpers/page-check.js"; printf '</script>\n</body>\n</html>\n'; } >> "$pg/index-check.html"
  browse "$2" --dump-dom "file://$T/$pg/index-check.html" > "$pg.dom"
  sed -n '/<pre id="page-check">/,/<\/pre>/p' "$pg.dom" | sed '1d;$d' > "$pg.check"
  rm -f "$pg/index-check.html"
  grep -qx done "$pg.check" || { fail "$pg: page-check.js did not finish: $(tail -c 600 "$pg.dom"; tail -5 "$T/chromium.log")"; return; }
  ok
  # every link (a photo, a folder) is a file or folder on disk
  grep '^link ' "$pg.check" | cut -c6- | while IFS= read -r l; do
    p=$(printf '%b' "$l")
    [ -e "$pg/$p" ] || echo "missing: $l"
  done > "$pg.missing"
  check '[ ! -s "$pg.missing" ] && [ "$(grep -c "^link " "$pg.check")" -gt 0 ]' "$pg: links to nothing: $(cat "$pg.missing")"
  check '! grep -q "^img-not-loaded\|^img-size\|^anchor-missing\|^link-outside" "$pg.check"' \
    "$pg: thumbnails or anchors: $(grep "^img-\|^anchor\|^link-outside" "$pg.check" | head -5)"
  check 'grep -qx "injected 0" "$pg.check" && grep -qx "scripts 2" "$pg.check"' "$pg: markup from a file name got in: $(grep "^injected\|^scripts" "$pg.check")"
  check 'grep -qx "filter-shown 1" "$pg.check"' "$pg: the filter box is not shown with scripts on"
}

# the desktop: sections = person folders + Unknown, each with its thumbnails loaded
check_page out 1280,900
persons=$(ls -d out/Person* | wc -l)
check '[ "$(grep -c "^section " out.check)" -eq $((persons + 1)) ] && [ $persons -eq 3 ]' \
  "sections: $(grep "^section " out.check) for $persons person folders"
for d in out/Person*; do
  n=$(ls -q "$d" | wc -l); name=$(basename "$d" | sed 's/ /%20/')
  check 'grep -q "^section p[0-9]* person $name $n $n\$" out.check' "$d: want $n thumbnails loaded: $(grep "^section" out.check)"
done
check 'grep -q "^section unknown unknown Unknown 0 0$" out.check' "Unknown section: $(grep "^section" out.check)"
# the hostile names as text in their captions (encodeURIComponent of the text shown: \n and \xFF as escapes)
check 'grep -qx "caption %3Ci%20class%3Dinj%3Ex%20%26%20%22q'"'"'%20%2541%23%3F.jpg" out.check' "caption 1: $(grep "^caption %3C" out.check)"
check 'grep -qx "caption new%5Cnline%20%5CxFF.jpg" out.check' "caption 2: $(grep "^caption new" out.check)"
check '[ "$(grep -c "^caption " out.check)" -eq 11 ]' "captions: $(grep -c "^caption " out.check)"
# the hostile photos' links open their placed copies (on disk: checked with every link above)
check 'grep -qxF "link Person\\00400001/\\0074i\\0040class\\0075inj\\0076x\\0040\\0046\\0040\\0042q\\0047\\0040\\004541\\0043\\0077.jpg" out.check' \
  "link to the first hostile name: $(grep "^link Person.0001/" out.check)"
check 'grep -qxF "link Person\\00400002/new\\0012line\\0040\\0377.jpg" out.check' "link to the second: $(grep "^link .*new" out.check)"
# a phone: nothing wider than the screen
check_page out 390,844
check 'grep -qx "overflow 0" out.check' "phone width: the page scrolls sideways: $(grep overflow out.check)"

# find's page: one section (the output folder itself), no Unknown
"$BIN" find -src "$L/Hugo_Chavez/Hugo_Chavez_0005.jpg" -dest me --db e.db >find.out 2>find.err || { cat find.err; fail "find"; }
check_page me 1280,900
check '[ "$(grep -c "^section " me.check)" -eq 1 ] && grep -q "^section p1 person The%20person%20in%20Hugo_Chavez_0005.jpg 5 5$" me.check' \
  "find's page: $(grep "^section" me.check)"

# screenshots for a person to look at (build/ of the checkout)
mkdir -p "$TOP/build"
browse 1000,1100 --screenshot="$TOP/build/page-screenshot.png" "file://$T/out/index.html" >/dev/null
browse 390,844 --screenshot="$TOP/build/page-screenshot-phone.png" "file://$T/out/index.html" >/dev/null
check '[ -s "$TOP/build/page-screenshot.png" ] && [ -s "$TOP/build/page-screenshot-phone.png" ]' "screenshots: $(tail -3 "$T/chromium.log")"
finish
