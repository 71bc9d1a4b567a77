"""The docs site in a real browser: `make docs-test` runs this after `make docs` built _docs/.

_docs/ is served on 127.0.0.1 (a free port); every page is opened in headless Chromium (Debian's, driven by
playwright) in a fresh context (no cache), with every request that leaves 127.0.0.1 blocked: the site must carry its
own KaTeX and fonts (tools/docs.py copies them into site_libs/). Page by page, at 1280 px and at 390 px, it checks:

- offline: every request answered from the site (no failure, no HTTP error, no outside request), no JavaScript error;
  the text font and KaTeX's fonts loaded from the site; search finds a page with the network blocked;
- math: on a page whose notebook has $...$ math, KaTeX (or MathJax) typeset it, with its fonts, without errors,
  and no raw TeX (`\\frac`, `$$`, ...) shows in the prose (`document.body.innerText` less code);
- layout: at both widths no element other than a scroll box reaches past the viewport's right edge (nor the page
  scrolls sideways), and no box hides overflowing content without a scrollbar (overflow hidden, or a scrollbar
  that takes no room);
- images: every <img> loaded (naturalWidth > 0); the pages of PLOT_NOTEBOOKS show a plot in a cell output;
- signatures: every function and class a module exports (`__all__`) has its `show_doc` heading and signature, `def` or `class` as it is
  on the page that `softmax_scratch._modidx` names for it;
- reference: every public method and property of those classes has its own entry (`Class.name`) on the class's
  page; every entry of something that takes parameters has a parameter table; no entry documents a private name
  (one outside every `__all__`, or a class member starting with `_`);
- links: every link into the site is relative (a local copy works) and reaches a page that exists, and an anchor on
  it; the sidebar lists the pages of nbs/sidebar.yml in its order; each page's foot links the previous and next;
- errors: no Python traceback or `...Error:` in any cell output;
- the three parts (issue 25): the sidebar groups the pages into Learn, Use and Engineering in the order of PARTS
  (a notebook not written yet is left out), and previous/next follow it from Home -> Softmax; no Learn page is taller
  than 20 000 px at 1280 px, and no code on a Learn page (a cell's source, a signature) scrolls sideways there; every
  image has alt text; no signature shows `NoneType`; the API index lists every name of every `__all__`, with its
  module and one line; search for "kronecker" and for "softmax jacobian" puts a section of a Learn page first (not a
  reference entry), and no snippet shows raw TeX (nor does any entry of search.json).

Pages come from the notebooks in nbs/ and the .html files in _docs/, the sidebar from nbs/sidebar.yml.
With SCREENSHOTS=1 (`make screenshots`), screenshots of every page at both widths go to _docs/_screenshots/
(PAGE-1280.png, PAGE-390.png); `make test` leaves them out (they take a tenth of its time).
Set DOCS_SITE to test another folder (a deliberately broken copy, say), CHROMIUM to use another browser.
"""
import functools, http.server, importlib, inspect, json, os, re, sys, threading, warnings
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest, yaml
from nbdev.config import get_config
from nbdev.doclinks import _nbpath2html, nbglob

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'tools'))
import docs  # noqa: E402  (tools/docs.py: the sidebar's parts, the reference's entries, the API index)
# settings.ini's `cell_number` is deprecated in nbdev 2.4: not this test's business.
warnings.filterwarnings('ignore', '`cell_number`', DeprecationWarning)
CFG = get_config(path=ROOT)
NBS, LIB = CFG.nbs_path, CFG.lib_name
SITE = Path(os.environ.get('DOCS_SITE', CFG.doc_path)).resolve()
SITE_URL = yaml.safe_load((NBS/'nbdev.yml').read_text())['website'].get('site-url', '').rstrip('/') + '/'
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
FLAGS = '--no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run'
PLOT_NOTEBOOKS = {'01_softmax', '03_linear', '04_classifier'}  # these always draw (others may, on condition)
WIDTHS = (1280, 390)
RAW_TEX = re.compile(r'\$\$|\\[a-zA-Z]+')  # `$$`, `\frac`, `\mathbf`, ...: prose has no backslash commands
# The site's three parts, in reading order (notebook stems; one not in nbs/ yet is left out): issue 25.
PARTS = {'Learn': ['index', '01_softmax', '02_cross_entropy', '03_linear', '04a_gradients', '04_classifier',
                   '04b_newton', '04h_inference', '05_compare'],
         'Use': ['05b_estimator', '06_cli', '00_data', '04g_checkpoint', '09_distributed'],
         'Engineering': ['00_validate', '04d_objective', '04c_inplace', '03a_native', '03b_fused', '03c_kernel',
                         '04e_solvers', '04f_training', '04i_outofcore', '05a_design', '07_benchmarks', '07b_optimum',
                         '07c_peers', '08_robustness', '00_checks']}
MAX_HEIGHT = 20_000   # px: a Learn page at 1280 px, at most (about 22 screens)
SEARCHES = ('kronecker', 'softmax jacobian')   # each finds a section of a Learn page first
RESULTS = '.smalldocs-search-results'            # where the search box lists its hits
# An uncaught error ends with `SomeError: message` at the start of a line (a table of expected errors is fine).
PY_ERROR = re.compile(r'Traceback \(most recent call last\)|^[\w.]*(?:Error|Exception):', re.M)
DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(.*)$', re.M)


def page_of(nb: Path) -> str:
    "The page nbdev gives notebook `nb` (its `output-file`): nbs/00_checks.ipynb -> checks.html."
    return _nbpath2html(nb.relative_to(NBS)).as_posix()

NOTEBOOKS = {page_of(nb): nb for nb in sorted(nbglob(NBS, func=Path))}
EXTRA = sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob('*.html')
               if p.relative_to(SITE).parts[0] not in ('site_libs', '_screenshots')) if SITE.is_dir() else []
PAGES = sorted(set(NOTEBOOKS) | set(EXTRA))


def cells(nb: Path, kind: str):
    "Sources of the cells of type `kind` in `nb`, less cells the docs build does not run (`#| slow`, `#| eval: false`)."
    skip = set(CFG.get('tst_flags', '').split())
    for c in json.loads(nb.read_text())['cells']:
        src = ''.join(c['source'])
        d = [x.replace(' ', '') for x in DIRECTIVE.findall(src)]
        if c['cell_type'] == kind and not ('eval:false' in d or skip & set(d)): yield src


def has_math(nb: Path) -> bool: return any(re.search(r'\$\$|\$[^\s$][^$]*\$', s) for s in cells(nb, 'markdown'))


def sidebar_pages() -> list[str]:
    "The pages nbs/sidebar.yml lists, in order (sections flattened; a notebook not in nbs/ yet left out, as built)."
    return list(docs.site_parts(NBS))


def learn_pages() -> list[str]:
    "The pages of the Learn part."
    return [p for p, part in docs.site_parts(NBS).items() if part == docs.LEARN]


def exported() -> list:
    "(module name, name, object, page, anchor) for each function and class of a module's `__all__` that `_modidx` indexes."
    modidx, out = importlib.import_module(f'{LIB}._modidx').d['syms'], []
    for mod_name, syms in modidx.items():
        mod = importlib.import_module(mod_name)
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or obj.__module__ != mod_name: continue
            if f'{mod_name}.{name}' not in syms: continue  # made by assignment (a namedtuple, say): nbdev indexes no such name
            page, _, anchor = syms[f'{mod_name}.{name}'][0].partition('#')
            out.append((mod_name, name, obj, page, anchor))
    return out


@functools.cache
def exported_signatures() -> dict[str, list[tuple[str, str, str]]]:
    "{page: [(name, anchor, keyword)]}: each function and class (`def`, `class`) in a module's `__all__`, where `_modidx` puts its docs."
    out = {}
    for _, name, obj, page, anchor in exported(): out.setdefault(page, []).append((name, anchor, 'class' if inspect.isclass(obj) else 'def'))
    return out


def _members(cls) -> dict:
    "The public methods and properties a class defines itself (not a dataclass's fields, not inherited ones)."
    return {m: v for m, v in vars(cls).items() if not m.startswith('_')
            and (inspect.isfunction(v) or isinstance(v, (property, classmethod, staticmethod)))}


def modules() -> list:
    "The library's modules, as `_modidx` lists them."
    return [importlib.import_module(m) for m in importlib.import_module(f'{LIB}._modidx').d['syms']]


@functools.cache
def api() -> dict[str, dict[str, object]]:
    "{page: {qualified name: object}}: what the reference must document, each exported function and class and each public method and property of those classes, on the page `_modidx` gives the module's names."
    out = {}
    for _, name, obj, page, _ in exported():
        out.setdefault(page, {})[name] = obj
        if inspect.isclass(obj): out[page].update({f'{name}.{m}': v for m, v in _members(obj).items()})
    return out


def takes_parameters(obj) -> bool:
    "Whether `obj`'s signature has parameters other than self/cls (what a parameter table lists)."
    f = obj.fget if isinstance(obj, property) else getattr(obj, '__func__', obj)
    try: return any(n not in ('self', 'cls') for n in inspect.signature(f).parameters)
    except (TypeError, ValueError): return False


ENTRY = docs.ENTRY   # a show_doc entry as the page has it: nbdev's rule, maybe a source link, heading, signature


def entries(html: str) -> dict[str, dict]:
    "{shown name: {id, has_table, signature}} for each show_doc entry in a page's HTML (signature: its text)."
    def sig(body):
        m = re.search(r'<pre\b.*?</pre>', body, re.S)
        return re.sub(r'<[^>]+>', '', m[0]) if m else ''
    return {re.sub(r'<[^>]+>', '', m[3]).strip(): dict(id=m[2], has_table='<table' in m[4], signature=sig(m[4]))
            for m in ENTRY.finditer(html)}


# ---------------------------------------------------------------- serving and browsing

SHOTS = os.environ.get('SCREENSHOTS') == '1'   # write a screenshot of each page at each width


@pytest.fixture(scope='session')
def site():
    if not (SITE/'index.html').is_file(): pytest.fail(f'{SITE}/index.html is missing: run `make docs` first')
    return SITE


@pytest.fixture(scope='session')
def base_url(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_port}/'
    srv.shutdown()


@pytest.fixture(scope='session')
def browser():
    if not Path(CHROMIUM).exists(): pytest.fail(f'{CHROMIUM} is missing: `make docs-test` installs it (apt-get install chromium)')
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        # playwright hides scrollbars in headless mode; the layout checks need them drawn, as a reader's browser does
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS.split(), ignore_default_args=['--hide-scrollbars'])
        yield b
        b.close()


JS_FACTS = """async () => {
  for (const i of document.images) i.loading = 'eager';
  await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
  await document.fonts.ready;
  const text = e => e.innerText;
  const sections = {};   // heading id -> text from the heading to the next heading or <hr>
  for (const h of document.querySelectorAll('h1[id], h2[id], h3[id], h4[id]')) {
    let t = '';
    for (let e = h.nextElementSibling; e && !/^(H[1-4]|HR)$/.test(e.tagName); e = e.nextElementSibling) t += e.innerText + '\\n';
    sections[h.id] = t;
  }
  const body = getComputedStyle(document.body).fontFamily.split(',')[0].replace(/["']/g, '').trim();
  return {
    images: [...document.images].map(i => ({src: i.getAttribute('src').slice(0, 60), width: i.naturalWidth,
                                            output: !!i.closest('.cell-output, .cell-output-display')})),
    math: document.querySelectorAll('.katex, mjx-container, .MathJax').length,
    // What KaTeX cannot parse it shows as .katex-error, or in its errorColor #cc0000 (an unknown macro)
    math_errors: [...new Set([...document.querySelectorAll('.katex-error, .katex-html [style*="204, 0, 0"], mjx-merror')].map(text))],
    math_fonts: [...document.fonts].filter(f => /KaTeX|MathJax/.test(f.family)).map(f => f.status),
    body_font: body,
    body_fonts: [...document.fonts].filter(f => f.family.replace(/["']/g, '') === body).map(f => f.status),
    resources: performance.getEntriesByType('resource').map(r => r.name),
    outputs: [...document.querySelectorAll('.cell-output, .cell-output-error')].map(text),
    error_outputs: document.querySelectorAll('.cell-output-error').length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    raw_links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    sidebar: [...document.querySelectorAll('#quarto-sidebar a[href]')].map(a => a.href),
    // the sidebar's parts: each section's name and the pages it links, in order
    groups: [...document.querySelectorAll('#quarto-sidebar .sidebar-item-section')].map(s => [
      s.querySelector('.menu-text').textContent.trim(),
      [...s.querySelectorAll('a.sidebar-link[href]')].map(a => a.href)]),
    no_alt: [...document.querySelectorAll('img')].filter(i => !(i.getAttribute('alt') || '').trim())
            .map(i => (i.closest('[id^="cell-"]') || {}).id + ': ' + i.getAttribute('src').slice(0, 40)),
    prev: [...document.querySelectorAll('.page-nav a[rel=prev]')].map(a => a.href),
    next: [...document.querySelectorAll('.page-nav a[rel=next]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    sections,
    text: document.body.innerText,
  };
}"""
JS_PROSE = "() => { document.querySelectorAll('pre, code, script, style').forEach(e => e.remove()); return document.body.innerText; }"
# What reaches past the viewport's right edge, and which boxes clip content without a usable scrollbar.
JS_LAYOUT = """() => {
  const W = document.documentElement.clientWidth, out = {page: document.documentElement.scrollWidth - W,
                                                          overflow: [], hidden: [], no_scrollbar: []};
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                    (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  const path = e => { const p = []; for (let a = e; a && a !== document.body && p.length < 4; a = a.parentElement) p.unshift(name(a)); return p.join(' > '); };
  const what = e => path(e) + ': ' + (e.innerText || e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
  const shown = e => { for (let a = e; a; a = a.parentElement) { const c = getComputedStyle(a);
    if (c.display === 'none' || c.visibility === 'hidden' || c.opacity === '0') return false; } return true; };
  const clips = e => getComputedStyle(e).overflowX !== 'visible';
  // A visible descendant that a box cuts at its right edge (its scrollWidth also counts text for screen readers only).
  const cut = box => { const edge = box.getBoundingClientRect().right + 1;
    for (const d of box.querySelectorAll('*')) { const r = d.getBoundingClientRect();
      if (r.width <= 2 || r.height <= 2 || r.right <= edge) continue;
      let own = true; for (let a = d.parentElement; a && a !== box; a = a.parentElement) if (clips(a)) { own = false; break; }
      if (own) return d; }
    return null; };
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || !shown(e)) continue;
    const c = getComputedStyle(e);
    if (clips(e) && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 2) {   // (a 1 px box: text for screen readers only)
      const scrolls = c.overflowX === 'auto' || c.overflowX === 'scroll';
      const bar = e.offsetHeight - e.clientHeight - parseFloat(c.borderTopWidth) - parseFloat(c.borderBottomWidth);
      if (!scrolls && c.textOverflow !== 'ellipsis' && cut(e)) out.hidden.push(what(e) + ` (${e.scrollWidth} px in ${e.clientWidth}): ${what(cut(e))}`);
      else if (scrolls && bar < 4) out.no_scrollbar.push(what(e) + ` (${e.scrollWidth} px in ${e.clientWidth}, scrollbar ${bar} px)`);
    }
    if (r.right > W + 1) {
      let inside = false;   // inside a box that clips or scrolls it: that box answers for it
      for (let a = e.parentElement; a && a !== document.documentElement; a = a.parentElement) if (clips(a)) { inside = true; break; }
      if (!inside && c.position !== 'fixed') out.overflow.push(what(e) + ` (right edge ${Math.round(r.right)} px > ${W})`);
    }
  }
  out.height = document.documentElement.scrollHeight;
  // code (a cell's source, a signature: highlighted Python) that scrolls sideways
  const longest = e => e.innerText.split('\\n').reduce((a, b) => b.length > a.length ? b : a, '').trim().slice(0, 70);
  out.code_scroll = [...document.querySelectorAll('main pre.sourceCode')].filter(e => e.clientWidth > 2 && shown(e) &&
      e.scrollWidth > e.clientWidth + 1).map(e => `${(e.closest('[id^="cell-"]') || {}).id || ''} ` +
      `(${e.scrollWidth} px in ${e.clientWidth}): ${longest(e)}`);
  return out;
}"""


@pytest.fixture(scope='session')
def visit(browser, base_url):
    "visit(page, width) -> what the browser saw on it at that viewport width (loaded once per page and width)."
    seen = {}
    def _visit(name, width=1280):
        if (name, width) in seen: return seen[name, width]
        f = dict(blocked=[], failed=[], http_errors=[], js_errors=[])
        def route(r):
            if r.request.url.startswith(base_url): return r.continue_()
            f['blocked'].append(r.request.url)   # the site must not need the network
            return r.abort('blockedbyclient')
        ctx = browser.new_context(viewport={'width': width, 'height': 900})
        page = ctx.new_page()
        page.route('**/*', route)
        page.on('requestfailed', lambda r: r.url.startswith(base_url) and f['failed'].append(f'{r.url} ({r.failure})'))
        page.on('response', lambda r: r.status >= 400 and f['http_errors'].append(f'{r.url} ({r.status})'))
        page.on('pageerror', lambda e: f['js_errors'].append(str(e)))
        resp = page.goto(base_url + name, wait_until='load')   # then JS_FACTS waits for images and fonts
        f['status'] = resp.status if resp else None
        f.update(page.evaluate(JS_FACTS))
        f['layout'] = page.evaluate(JS_LAYOUT)
        if SHOTS:
            (SITE/'_screenshots').mkdir(exist_ok=True)
            page.screenshot(path=str(SITE/'_screenshots'/f'{Path(name).stem}-{width}.png'), full_page=True)
        f['prose'] = page.evaluate(JS_PROSE)
        if name == 'index.html' and width == 1280:  # search, offline: the index is the site's own search.json
            f['search'] = {}
            for q in SEARCHES:
                page.evaluate(f"() => {{ document.querySelector('{RESULTS}').innerHTML = ''; }}")
                page.fill('#quarto-search input', q)
                page.wait_for_function(f"() => document.querySelector('{RESULTS} a[href], .search-none')")
                f['search'][q] = page.evaluate(f"() => [...document.querySelectorAll('{RESULTS} a[href]')]"
                                               ".map(a => [a.href, a.innerText])")
            f['search_hits'] = [h for h, _ in f['search']['kronecker']]
        ctx.close()
        seen[name, width] = f
        return f
    return _visit


@pytest.fixture(scope='session')
def ids_of(site):
    "ids_of(page) -> the element ids in the page's HTML, or None if there is no such page."
    @functools.cache
    def _ids(page):
        p = site/page
        return set(re.findall(r'\bid="([^"]+)"', p.read_text(errors='ignore'))) if p.is_file() else None
    return _ids


# ---------------------------------------------------------------- the checks, page by page

@pytest.mark.parametrize('page', PAGES)
def test_offline(visit, base_url, page):
    f = visit(page)
    assert f['status'] == 200, f'{page}: HTTP {f["status"]}'
    assert not f['blocked'], f'{page}: requests that leave the site (blocked: the site must carry its own copy): {f["blocked"]}'
    outside = [u for u in f['resources'] if not u.startswith(base_url) and not u.startswith('data:')]
    assert not outside, f'{page}: resources from outside the site: {outside}'
    assert not f['failed'], f'{page}: failed requests: {f["failed"]}'
    assert not f['http_errors'], f'{page}: HTTP errors: {f["http_errors"]}'
    assert not f['js_errors'], f'{page}: JavaScript errors: {f["js_errors"]}'


@pytest.mark.parametrize('page', PAGES)
def test_fonts_local(visit, page):
    f = visit(page)
    # The theme's text font, from site_libs/fonts/: its faces in use loaded, none failed (a blocked one is 'error').
    assert f['body_fonts'], f'{page}: no @font-face for the text font {f["body_font"]!r}: the page falls back to a system font'
    assert 'loaded' in f['body_fonts'] and 'error' not in f['body_fonts'], f'{page}: text font {f["body_font"]!r}: {f["body_fonts"]}'


def test_search_offline(visit, base_url):
    hits = visit('index.html')['search_hits']
    assert hits and all(h.startswith(base_url) for h in hits), f'search for "kronecker" found {hits}'


@pytest.mark.parametrize('query', SEARCHES)
def test_search_ranks_learn_first(visit, base_url, site, query):
    hits = visit('index.html')['search'][query]
    assert hits, f'search for {query!r} found nothing'
    href, text = hits[0]
    page, _, anchor = href[len(base_url):].partition('#')
    reference = {e['id'] for e in entries((site/page).read_text()).values()} if (site/page).is_file() else set()
    shown = [(h[len(base_url):], t.split('\n')[0]) for h, t in hits[:5]]
    assert page in learn_pages() and anchor not in reference and page != docs.API_HTML, \
        f'search for {query!r}: the first hit is not a section of a Learn page: {shown}'
    raw = [(h[len(base_url):], t) for h, t in hits if RAW_TEX.search(t)]
    assert not raw, f'search for {query!r}: snippets with raw TeX: {raw[:3]}'


def test_search_index_plain_text(site):
    entries_ = json.loads((site/'search.json').read_text())
    raw = [(e['href'], m.group(0)) for e in entries_ for k in ('title', 'section', 'text')
           for m in [RAW_TEX.search(e.get(k) or '')] if m]
    assert not raw, f'search.json: raw TeX in {len(raw)} entries (a snippet would show it): {raw[:8]}'


@pytest.mark.parametrize('width', WIDTHS)
@pytest.mark.parametrize('page', PAGES)
def test_layout(visit, page, width):
    lay = visit(page, width)['layout']
    assert not lay['overflow'], f'{page} at {width} px: reaches past the right edge, outside any scroll box: {lay["overflow"][:8]}'
    assert not lay['hidden'], f'{page} at {width} px: content cut off, no scrollbar (overflow hidden): {lay["hidden"][:8]}'
    assert not lay['no_scrollbar'], f'{page} at {width} px: scroll boxes whose scrollbar does not show: {lay["no_scrollbar"][:8]}'
    assert lay['page'] <= 1, f'{page} at {width} px: the page scrolls sideways by {lay["page"]} px'
    assert not SHOTS or (SITE/'_screenshots'/f'{Path(page).stem}-{width}.png').is_file()


@pytest.mark.parametrize('page', PAGES)
def test_reference(site, page):
    want = api().get(page, {})
    if not want: pytest.skip(f'{page} documents no module')
    have = entries((site/page).read_text())
    missing = [n for n in want if n not in have]
    assert not missing, f'{page}: public, but no reference entry (show_doc) of that name: {missing}'
    no_table = [n for n, o in want.items() if takes_parameters(o) and not have[n]['has_table']]
    assert not no_table, f'{page}: reference entries that take parameters but show no parameter table: {no_table}'


@pytest.mark.parametrize('page', PAGES)
def test_no_private_api(site, page):
    public = {n for p in api().values() for n in p} | {n for m in modules() for n in getattr(m, '__all__', [])}
    listed = entries((site/page).read_text())
    private = [n for n in listed if n not in public]
    assert not private, f'{page}: reference entries for names outside every __all__ (private): {private}'


@pytest.mark.parametrize('page', PAGES)
def test_no_nonetype(site, page):
    bad = [n for n, e in entries((site/page).read_text()).items() if 'NoneType' in e['signature']]
    assert not bad, f'{page}: signatures that show `NoneType` as a type (declare the type, say `Tensor|None`): {bad}'


@pytest.mark.parametrize('page', PAGES)
def test_one_parameter_table_per_entry(site, page):
    "No table follows an identical one with nothing but markup between them (a show_doc patch applied twice did that)."
    html = (site/page).read_text()
    tables = [(m.start(), m.end(), m.group()) for m in re.finditer(r'<table\b.*?</table>', html, re.S)]
    twice = [re.sub(r'<[^>]+>|\s+', ' ', b)[:80] for (_, e, a), (s, _, b) in zip(tables, tables[1:])
             if a == b and not re.sub(r'<[^>]+>|\s', '', html[e:s])]
    assert not twice, f'{page}: {len(twice)} tables repeated right after themselves: {twice[:3]}'


@pytest.mark.parametrize('page', PAGES)
def test_source_folded_outside_learn(site, page):
    "Exported source (nbdev's 'Exported source') is shown under its formula on Learn pages, folded elsewhere."
    if page in learn_pages(): pytest.skip('a Learn page: the source stays under its formula')
    opened = len(re.findall(r'<details open[^>]*class="code-fold"', (site/page).read_text()))
    assert not opened, f'{page}: {opened} exported sources shown unfolded outside the Learn part'


def test_api_index(site):
    rows = re.findall(r'<tr>\s*<td><a href="([^"]+)"><code>(\w+)(?:\(\))?</code></a></td>\s*'
                      r'<td><a href="[^"]*"><code>(\w+)</code></a></td>\s*<td>(.*?)</td>\s*</tr>',
                      (site/docs.API_HTML).read_text(), re.S)
    listed = {(mod, name) for _, name, mod, _ in rows}
    want = {(m.__name__.rpartition('.')[2], n) for m in modules() for n in getattr(m, '__all__', [])}
    assert listed == want, f'{docs.API_HTML}: missing {sorted(want - listed)}, not public {sorted(listed - want)}'
    blank = sorted(f'{mod}.{name}' for _, name, mod, line in rows if not re.sub(r'<[^>]+>', '', line).strip())
    assert not blank, f'{docs.API_HTML}: no one-line description (a docstring, or a comment on the constant): {blank}'


@pytest.mark.parametrize('page', PAGES)
def test_math(visit, page):
    f = visit(page)
    if page in NOTEBOOKS and has_math(NOTEBOOKS[page]):
        assert f['math'] > 0, f'{page}: its notebook has $...$ math but nothing on the page was typeset'
        # Faces load when first used: some must have loaded, none may have failed.
        assert 'loaded' in f['math_fonts'] and 'error' not in f['math_fonts'], f'{page}: math fonts: {f["math_fonts"]}'
    assert not f['math_errors'], f'{page}: TeX that KaTeX could not typeset: {f["math_errors"]}'
    raw = sorted({m.group(0) for m in RAW_TEX.finditer(f['prose'])})
    assert not raw, f'{page}: raw TeX visible in the text: {raw}'


@pytest.mark.parametrize('page', PAGES)
def test_images(visit, page):
    f = visit(page)
    broken = [i['src'] for i in f['images'] if i['width'] == 0]
    assert not broken, f'{page}: images that did not load: {broken}'
    assert not f['no_alt'], f'{page}: images without alt text (a plot: `#| fig-alt:` on its cell): {f["no_alt"]}'
    if page in NOTEBOOKS and NOTEBOOKS[page].stem in PLOT_NOTEBOOKS:
        assert any(i['output'] and i['width'] > 0 for i in f['images']), f'{page}: its notebook draws, but no plot is shown'


@pytest.mark.parametrize('page', PAGES)
def test_signatures(visit, page):
    want = exported_signatures().get(page, [])
    if not want: pytest.skip(f'{page} documents no module')
    f = visit(page)
    missing = [f'{k} {n}(' for n, a, k in want if f'{k} {n}(' not in f['sections'].get(a, '')]
    assert not missing, f'{page}: exported, but no show_doc signature under its heading: {missing}'


def test_signature_pages_exist(site):
    missing = [p for p in exported_signatures() if not (site/p).is_file()]
    assert not missing, f'{LIB}._modidx documents functions on pages that were not built: {missing}'


@pytest.mark.parametrize('page', PAGES)
def test_links(visit, base_url, ids_of, page):
    f, broken = visit(page), []
    absolute = sorted({h for h in f['raw_links'] if SITE_URL != '/' and h.startswith(SITE_URL)})
    assert not absolute, f'{page}: links to the hosted site where a relative link would work in a local copy too: {absolute}'

    for href in f['links']:
        url, frag = urldefrag(href)
        frag = unquote(frag)
        if url.startswith(base_url): rel = url[len(base_url):]
        elif SITE_URL != '/' and url.startswith(SITE_URL): rel = url[len(SITE_URL):]
        else: continue  # outside the site: not checked offline
        rel = urlsplit(rel).path or 'index.html'
        if rel.endswith('/'): rel += 'index.html'
        ids = ids_of(rel)
        if ids is None: broken.append(f'{href} (no page {rel})')
        elif frag and rel.endswith('.html') and frag not in ids: broken.append(f'{href} (no #{frag} on {rel})')
    assert not broken, f'{page}: links that lead nowhere: {sorted(set(broken))}'


@pytest.mark.parametrize('page', PAGES)
def test_sidebar(visit, base_url, page):
    f, shown = visit(page), []
    for href in f['sidebar']:
        rel = urlsplit(urldefrag(href)[0]).path.lstrip('/') or 'index.html'
        if href.startswith(base_url) and rel not in shown: shown.append(rel)
    assert shown == sidebar_pages(), f'{page}: the sidebar shows {shown}, nbs/sidebar.yml lists {sidebar_pages()}'
    groups = [(name, [h[len(base_url):] for h in hrefs]) for name, hrefs in f['groups']]
    assert groups == parts(), f'{page}: the sidebar groups {groups}; want {parts()}'


def parts() -> list[tuple[str, list[str]]]:
    "PARTS as pages, less the notebooks not in nbs/ yet."
    return [(part, [page_of(NBS/f'{s}.ipynb') for s in stems if (NBS/f'{s}.ipynb').is_file()])
            for part, stems in PARTS.items()]


def test_parts_in_sidebar_yml():
    in_yml = {}
    for part, f in docs.sidebar_entries(NBS):
        in_yml.setdefault(part, []).append(page_of(NBS/f) if f.endswith('.ipynb') else f)
    got = [(part, pages) for part, pages in in_yml.items() if part]
    assert got == parts(), f'nbs/sidebar.yml: parts {got}; want {parts()}'
    assert sidebar_pages()[:2] == ['index.html', 'softmax.html'], f'the reading order starts {sidebar_pages()[:3]}'


# A Learn page reads as a chapter: at most 20 000 px tall at 1280, and no code block (a cell's source, exported source,
# a signature) that scrolls sideways in the 900 px column: a shown line holds at most about 98 characters.
@pytest.mark.parametrize('page', [page_of(NBS/f'{s}.ipynb') for s in PARTS['Learn'] if (NBS/f'{s}.ipynb').is_file()])
def test_learn_page_fits(visit, page):
    lay = visit(page, 1280)['layout']
    assert lay['height'] <= MAX_HEIGHT, f'{page}: {lay["height"]} px tall at 1280 px (a Learn page: ≤ {MAX_HEIGHT})'
    n, some = len(lay['code_scroll']), lay['code_scroll'][:10]
    assert not n, f'{page} at 1280 px: {n} code blocks scroll sideways (cell, width, longest line): {some}'


@pytest.mark.parametrize('page', PAGES)
def test_prev_next(visit, base_url, page):
    f, order = visit(page), sidebar_pages()
    if page not in order: pytest.skip(f'{page} is not in the sidebar')
    i = order.index(page)
    want_prev = [base_url + order[i-1]] if i > 0 else []
    want_next = [base_url + order[i+1]] if i + 1 < len(order) else []
    assert (f['prev'], f['next']) == (want_prev, want_next), f'{page}: foot links prev {f["prev"]}, next {f["next"]}; want {want_prev}, {want_next}'


def test_sidebar_yml_lists_every_notebook():
    missing = [NOTEBOOKS[p].name for p in NOTEBOOKS if p not in sidebar_pages()]
    assert not missing, f'notebooks missing from nbs/sidebar.yml (their pages are in no menu): {missing}'


@pytest.mark.parametrize('page', PAGES)
def test_no_errors(visit, page):
    f = visit(page)
    assert 'Traceback (most recent call last)' not in f['text'], f'{page}: a Python traceback is shown'
    assert f['error_outputs'] == 0, f'{page}: {f["error_outputs"]} error output(s)'
    bad = [o[:300] for o in f['outputs'] if PY_ERROR.search(o)]
    assert not bad, f'{page}: error text in cell outputs: {bad}'
