// tests/helpers/page-check.js — put into a copy of a people page (OUTPUT/index-check.html) by tests/e2e_page.sh; it
// looks at the page as Chromium rendered it and writes what it found, one fact a line, into <pre id="page-check">,
// which `chromium --dump-dom` prints.  ASCII only in the findings (names percent-encoded, link paths as printf %b
// octal escapes), so the shell can read them back from the serialised DOM.
(function () {
  var out = [];
  function say(s) { out.push(s); }
  var base = location.href.replace(/[^\/]*([?#].*)?$/, '');
  // links to files: as octal escapes of the path relative to the page's folder (the shell checks them on disk)
  function octal(rel) {
    return rel.replace(/%([0-9A-Fa-f]{2})/g, function (m, h) {
      return '\\0' + ('00' + parseInt(h, 16).toString(8)).slice(-3);
    });
  }
  // lazy thumbnails outside the window would never load in a headless run: ask for all of them now
  var imgs = Array.prototype.slice.call(document.querySelectorAll('img'));
  imgs.forEach(function (i) { i.loading = 'eager'; });
  var t0 = Date.now();
  function report() {
    document.querySelectorAll('section').forEach(function (s) {
      var n = s.querySelectorAll('img').length, ok = 0;
      s.querySelectorAll('img').forEach(function (i) { if (i.complete && i.naturalWidth > 0) ok++; });
      var h = s.querySelector('h2');
      say('section ' + s.id + ' ' + s.className + ' ' + encodeURIComponent(h ? h.textContent : '') + ' ' + n + ' ' + ok);
    });
    imgs.forEach(function (i) {
      if (!(i.complete && i.naturalWidth > 0)) say('img-not-loaded ' + encodeURIComponent(i.getAttribute('src')));
      else if (i.naturalWidth !== 128 || i.naturalHeight !== 128) say('img-size ' + i.naturalWidth + 'x' + i.naturalHeight);
    });
    document.querySelectorAll('a[href]').forEach(function (a) {
      var href = a.getAttribute('href');
      if (href.charAt(0) === '#') {
        if (!document.getElementById(href.slice(1))) say('anchor-missing ' + encodeURIComponent(href));
        return;
      }
      if (a.href.indexOf(base) !== 0) { say('link-outside ' + encodeURIComponent(a.href)); return; }
      say('link ' + octal(a.href.slice(base.length)));
    });
    document.querySelectorAll('.cap').forEach(function (c) { say('caption ' + encodeURIComponent(c.textContent)); });
    // markup from a file name would show as extra elements or attributes
    say('scripts ' + document.scripts.length);
    var known = ' HTML HEAD META TITLE STYLE BODY HEADER H1 P INPUT MAIN SECTION H2 A UL LI IMG SPAN SCRIPT PRE ', odd = 0;
    document.querySelectorAll('*').forEach(function (e) {
      if (known.indexOf(' ' + e.tagName + ' ') < 0 || e.className.indexOf('inj') >= 0) odd++;
      for (var k = 0; k < e.attributes.length; k++) if (/^on/i.test(e.attributes[k].name)) odd++;
    });
    say('injected ' + odd);
    say('filter-shown ' + (document.getElementById('filter') && !document.getElementById('filter').hidden ? 1 : 0));
    say('overflow ' + (document.documentElement.scrollWidth > window.innerWidth ? document.documentElement.scrollWidth + '>' + window.innerWidth : 0));
    say('done');
    var pre = document.createElement('pre');
    pre.id = 'page-check';
    pre.textContent = '\n' + out.join('\n') + '\n';
    document.body.appendChild(pre);
  }
  function wait() {
    var pending = imgs.filter(function (i) { return !i.complete; }).length;
    if (pending && Date.now() - t0 < 20000) setTimeout(wait, 50);
    else report();
  }
  if (document.readyState === 'complete') wait();
  else window.addEventListener('load', wait);
})();
