"""The docs site in a real browser: `make docs-test` runs this after `make docs` built _docs/.

_docs/ is served on 127.0.0.1 (a free port); every page is opened in headless Chromium (Debian's, driven by
playwright), with CDN requests answered from local copies (tools/cdn.py) and every other outside request refused.
Page by page it checks:

- offline: every request answered (no failure, no HTTP error, nothing left unrouted), no JavaScript error;
- math: on a page whose notebook has $...$ math, KaTeX (or MathJax) typeset it, with its fonts, without errors,
  and no raw TeX (`\\frac`, `$$`, ...) shows in the prose (`document.body.innerText` less code);
- images: every <img> loaded (naturalWidth > 0); the pages of PLOT_NOTEBOOKS show a plot in a cell output;
- signatures: every function and class a module exports (`__all__`) has its `show_doc` heading and signature, `def` or `class` as it is
  on the page that `softmax_scratch._modidx` names for it;
- links: every link into the site (relative, or to the site's own URL) reaches a page that exists, and an
  anchor on it; the sidebar lists the pages of nbs/sidebar.yml in its order;
- errors: no Python traceback or `...Error:` in any cell output.

Pages come from the notebooks in nbs/ and the .html files in _docs/, the sidebar from nbs/sidebar.yml.
Screenshots of the home page and the softmax page go to _docs/_screenshots/.
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
import cdn  # noqa: E402

# settings.ini's `cell_number` is deprecated in nbdev 2.4: not this test's business.
warnings.filterwarnings('ignore', '`cell_number`', DeprecationWarning)
CFG = get_config(path=ROOT)
NBS, LIB = CFG.nbs_path, CFG.lib_name
SITE = Path(os.environ.get('DOCS_SITE', CFG.doc_path)).resolve()
SITE_URL = yaml.safe_load((NBS/'nbdev.yml').read_text())['website'].get('site-url', '').rstrip('/') + '/'
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
FLAGS = '--no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run'
PLOT_NOTEBOOKS = {'01_softmax', '03_linear', '04_classifier'}  # these always draw (others may, on condition)
SCREENSHOTS = {'index.html': 'index.png', 'softmax.html': 'softmax.png'}
RAW_TEX = re.compile(r'\$\$|\\[a-zA-Z]+')  # `$$`, `\frac`, `\mathbf`, ...: prose has no backslash commands
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
    "The pages nbs/sidebar.yml lists, in order (sections flattened)."
    def walk(items):
        for it in items or []:
            if isinstance(it, str): yield it
            elif isinstance(it, dict):
                if it.get('href') or it.get('file'): yield it.get('href') or it.get('file')
                yield from walk(it.get('contents'))
    side = yaml.safe_load((NBS/'sidebar.yml').read_text())['website']['sidebar']
    out = []
    for s in (side if isinstance(side, list) else [side]):
        for f in walk(s.get('contents')):
            p = NBS/f
            out.append(page_of(p) if p.suffix == '.ipynb' else Path(f).with_suffix('.html').as_posix())
    return out


@functools.cache
def exported_signatures() -> dict[str, list[tuple[str, str, str]]]:
    "{page: [(name, anchor, keyword)]}: each function and class (`def`, `class`) in a module's `__all__`, where `_modidx` puts its docs."
    modidx = importlib.import_module(f'{LIB}._modidx').d['syms']
    out = {}
    for mod_name, syms in modidx.items():
        mod = importlib.import_module(mod_name)
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or obj.__module__ != mod_name: continue
            if f'{mod_name}.{name}' not in syms: continue  # made by assignment (a namedtuple, say): nbdev indexes no such name
            page, _, anchor = syms[f'{mod_name}.{name}'][0].partition('#')
            out.setdefault(page, []).append((name, anchor, 'class' if inspect.isclass(obj) else 'def'))
    return out


# ---------------------------------------------------------------- serving and browsing

@pytest.fixture(scope='session')
def site():
    if not (SITE/'index.html').is_file(): pytest.fail(f'{SITE}/index.html is missing: run `make docs` first')
    cdn.prefetch(SITE)
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
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS.split())
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
  return {
    images: [...document.images].map(i => ({src: i.getAttribute('src').slice(0, 60), width: i.naturalWidth,
                                            output: !!i.closest('.cell-output, .cell-output-display')})),
    math: document.querySelectorAll('.katex, mjx-container, .MathJax').length,
    // What KaTeX cannot parse it shows as .katex-error, or in its errorColor #cc0000 (an unknown macro)
    math_errors: [...new Set([...document.querySelectorAll('.katex-error, .katex-html [style*="204, 0, 0"], mjx-merror')].map(text))],
    math_fonts: [...document.fonts].filter(f => /KaTeX|MathJax/.test(f.family)).map(f => f.status),
    outputs: [...document.querySelectorAll('.cell-output, .cell-output-error')].map(text),
    error_outputs: document.querySelectorAll('.cell-output-error').length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    sidebar: [...document.querySelectorAll('#quarto-sidebar a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    sections,
    text: document.body.innerText,
  };
}"""
JS_PROSE = "() => { document.querySelectorAll('pre, code, script, style').forEach(e => e.remove()); return document.body.innerText; }"


@pytest.fixture(scope='session')
def visit(browser, base_url):
    "visit(page) -> what the browser saw on it (loaded once per page)."
    seen = {}
    def _visit(name):
        if name in seen: return seen[name]
        f = dict(unrouted=[], failed=[], http_errors=[], js_errors=[])
        def route(r):
            url = r.request.url
            if url.startswith(base_url): return r.continue_()
            if (res := cdn.local_response(url)) is None:
                f['unrouted'].append(url)
                return r.abort()
            r.fulfill(status=200, body=res[0], content_type=res[1], headers=cdn.CORS)
        ctx = browser.new_context(viewport={'width': 1280, 'height': 900})
        page = ctx.new_page()
        page.route('**/*', route)
        page.on('requestfailed', lambda r: f['failed'].append(f'{r.url} ({r.failure})'))
        page.on('response', lambda r: r.status >= 400 and f['http_errors'].append(f'{r.url} ({r.status})'))
        page.on('pageerror', lambda e: f['js_errors'].append(str(e)))
        resp = page.goto(base_url + name, wait_until='networkidle')
        f['status'] = resp.status if resp else None
        f.update(page.evaluate(JS_FACTS))
        if name in SCREENSHOTS:
            (SITE/'_screenshots').mkdir(exist_ok=True)
            page.screenshot(path=str(SITE/'_screenshots'/SCREENSHOTS[name]), full_page=True)
        f['prose'] = page.evaluate(JS_PROSE)
        ctx.close()
        seen[name] = f
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
def test_offline(visit, page):
    f = visit(page)
    assert f['status'] == 200, f'{page}: HTTP {f["status"]}'
    assert not f['unrouted'], f'{page}: requests that would leave 127.0.0.1, with no local copy: {f["unrouted"]}'
    assert not f['failed'], f'{page}: failed requests: {f["failed"]}'
    assert not f['http_errors'], f'{page}: HTTP errors: {f["http_errors"]}'
    assert not f['js_errors'], f'{page}: JavaScript errors: {f["js_errors"]}'


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
