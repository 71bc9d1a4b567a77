"""Build the docs site into _docs/, offline: `python tools/docs.py` (what `make docs` runs).

The notebooks are committed without outputs, so the site is built from executed copies:

1. Every notebook under nbs/ goes through nbdev's own processors (`FilterDefaults`: front matter,
   `show_doc` cells, `#| hide`, links, ...), with one change: nbdev's `exec_show_docs`, which runs
   only the cells `show_doc` needs, is replaced by `ExecAll`, which runs every cell as `nbdev_test`
   does (cwd = the notebook's folder, `IN_TEST=1`, cells flagged with settings.ini `tst_flags` or
   `#| eval: false` skipped), so that plots and printed tables land on the pages.
   The executed notebooks and the other files of nbs/ go to _proc/, as `nbdev_proc_nbs` lays it out.
   (`nbdev_proc_nbs` itself is not used: without Quarto it tries to install Quarto, `pip install`s
   the package into whatever `pip` is on PATH and rewrites softmax_scratch/_modidx.py.)
2. _proc/ is rendered with `quarto render` when Quarto is on PATH (as `nbdev_docs` does), else with
   `smalldocs render` (PyPI, pure Python), which reads the same _quarto.yml. smalldocs ignores the
   `output-file` that nbdev sets (00_checks.ipynb -> checks.html, the names _modidx links to), so for
   smalldocs each notebook in _proc/ is first renamed to it, and sidebar.yml and the notebooks'
   Markdown links are rewritten to match.
   Before rendering, the site follows nbs/sidebar.yml's three parts (`sidebar_entries`): an entry whose notebook
   is not in nbs/ (yet) is left out of the sidebar, the exported source on pages outside *Learn* is folded (on
   Learn pages the code stays under its formula), and the API index (api.md, `write_api_index`) is written: every
   name of every module's `__all__`, its module and its one line.
3. The rendered site (_proc/_docs) is moved to _docs/ and finished (`finish`): the CDN files it names (KaTeX, the
   text font) are copied into _docs/site_libs/ (tools/cdn.py), links to the hosted site become relative, wide
   tables get a scroll box of their own, each page gets previous/next links in the sidebar's order, and its top
   sections under its own sidebar entry (`sidebar_toc`, for windows too narrow for the margin's "On this page").
   The search index is written again from the finished pages (tools/search.py): the sections of Learn pages
   first, reference entries last, the math as text rather than TeX.

A cell that raises fails the build (unless it carries `#| error: true`), naming notebook and cell.
"""
import functools, importlib, inspect, json, os, re, shutil, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cdn, search  # noqa: E402  (tools/: the CDN files, the search index)

ROOT = Path(__file__).resolve().parent.parent
SIDEBAR = 'sidebar.yml'
API_PAGE = 'api.md'   # the API index: written by the build, listed in nbs/sidebar.yml
LEARN = 'Learn'       # the part whose pages show the source under each formula; elsewhere it is folded
WORKERS = int(os.environ.get('DOCS_WORKERS', min(2, os.cpu_count() or 1)))
TIMES = ROOT/'.cache'/'docs-times.json'  # seconds per notebook last time: the longest start first
FIRST_TIMES = ROOT/'tools'/'docs-times.json'  # ... on a fresh clone: seconds measured on one (committed)


class ExecAll:
    "nbdev processor: run every code cell of the notebook, storing outputs, skipping what `nbdev_test` skips."
    def __init__(self, nb, path, skip_flags):
        from execnb.shell import CaptureShell
        self.nb, self.path, self.flags = nb, path, set(skip_flags)
        self.k = CaptureShell(path)
        self.k.run_cell('from nbdev.showdoc import show_doc')
        self.k.run_cell(PARAM_TABLES)

    def skip(self, cell):
        from nbdev.processors import _do_eval
        if cell.cell_type != 'code' or 'nbdev_export' + '(' in cell.source: return True
        d = getattr(cell, 'directives_', {}) or {}
        if d.get('eval:', [''])[0].lower() == 'false' or self.flags & d.keys(): return True
        # A notebook marked `skip_exec: true` gets nbdev's own treatment: only what show_doc needs.
        if str(getattr(self.nb, 'frontmatter_', {}).get('skip_exec', '')).lower() == 'true': return not _do_eval(cell)
        return False

    def __call__(self, cell):
        if self.skip(cell): return
        self.k.cell(cell)
        for o in cell.get('outputs', []):
            md = o.get('data', {}).get('text/markdown')
            if md is not None: o['data']['text/markdown'] = fix_show_doc(''.join(md), self.k.user_ns)
        d = getattr(cell, 'directives_', {}) or {}
        if self.k.exc and d.get('error:', [''])[0].lower() != 'true':
            raise RuntimeError(f'{self.path.name}, cell {cell.idx_}:\n{cell.source}\n\n' + self.k.prettytb(fname=self.path))


# nbdev 2.4's show_doc puts docments as comments in the signature; the reference also shows a parameter table
# under each entry that takes parameters: name, type, default and the docment (fastcore's `docments`).
# fastcore writes a parameter without annotation as typed by its default, so `x=None` read `x:NoneType=None`: such a
# parameter shows no type in the signature (as in the table), and a declared one (`Tensor|None`) shows as declared.
PARAM_TABLES = r"""
import inspect as _inspect, nbdev.showdoc as _sd, fastcore.docments as _fd
from fastcore.docments import docments as _docments
# A worker runs this in every notebook's shell: patch the originals (kept on the classes), never a patch again.
_fd.DocmentText._orig_fmt_param = getattr(_fd.DocmentText, '_orig_fmt_param', _fd.DocmentText._fmt_param)
_sd.BasicMarkdownRenderer._orig_md = getattr(_sd.BasicMarkdownRenderer, '_orig_md', _sd.BasicMarkdownRenderer._repr_markdown_)
def _fmt_param(self, nm, p, _fmt=_fd.DocmentText._orig_fmt_param):
    if p.get('anno') is type(None) and p.get('default') is None: p = {**p, 'anno': _fd.empty}
    return _fmt(self, nm, p)
_fd.DocmentText._fmt_param = _fmt_param
def _params_table(sym):
    f = sym.fget if isinstance(sym, property) else sym
    try: sig = _inspect.signature(f)
    except (TypeError, ValueError): return ''
    ps = [p for n, p in sig.parameters.items() if n not in ('self', 'cls')]
    if not ps: return ''
    try: dm = _docments(f, full=True)
    except Exception: dm = {}
    def cell(s, code=False):
        s = str(s).replace('|', '\\|').replace('\n', ' ')
        return f'`{s}`' if code and s else s
    rows = ['| Parameter | Type | Default | Details |', '|---|---|---|---|']
    for p in ps:
        star = '*' if p.kind == p.VAR_POSITIONAL else '**' if p.kind == p.VAR_KEYWORD else ''
        anno = '' if p.annotation is p.empty else _inspect.formatannotation(p.annotation)
        dflt = '' if p.default is p.empty else repr(p.default)
        det = ((dm.get(p.name) or {}).get('docment') or '') if isinstance(dm, dict) else ''
        rows.append(f'| `{star}{p.name}` | {cell(anno, True)} | {cell(dflt, True)} | {cell(det)} |')
    return '\n'.join(rows)
def _md_with_params(self, _md=_sd.BasicMarkdownRenderer._orig_md):
    md = _md(self)
    try: tbl = _params_table(self.sym)
    except Exception: tbl = ''
    return md + ('\n\n' + tbl + '\n' if tbl else '')
_sd.BasicMarkdownRenderer._repr_markdown_ = _md_with_params
"""


def fix_show_doc(md: str, ns: dict) -> str:
    "nbdev's `show_doc` markdown, mended: a class's signature reads `class Name(`, not `def Name(`, and a source link without a line number loses its `#LNone`."
    md = md.replace('#LNone)', ')')
    return re.sub(r'```python\ndef (\w+)\(', lambda m: f'```python\nclass {m[1]}(' if inspect.isclass(ns.get(m[1])) else m[0], md)


def public_docs(lib: str) -> set[str]:
    "The doc links (page#anchor) the reference has: each name of a module's `__all__`, and its classes' public members."
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    out = set()
    for mod_name, syms in importlib.import_module(f'{lib}._modidx').d['syms'].items():
        public = getattr(importlib.import_module(mod_name), '__all__', [])
        for key, (doc, *_) in syms.items():
            name, _, member = key[len(mod_name) + 1:].partition('.')
            if name in public and not member.startswith('_'): out.add(doc)
    return out


class PublicLinks:
    "nbdev's `add_links` (a name in backticks links to its docs), less this library's names without a reference entry."
    def __init__(self, lib: str):
        from urllib.parse import urljoin
        from nbdev.doclinks import NbdevLookup
        self.nl, public = NbdevLookup(), public_docs(lib)
        cfg = self.nl.entries.get(lib.replace('_', '-'), self.nl.entries.get(lib, {})).get('settings', {})
        site = urljoin(cfg.get('doc_host', '') + '/', cfg.get('doc_baseurl', '')).rstrip('/') + '/'
        def ours(v): return (v[0] if isinstance(v, tuple) else v or '').startswith(site)
        def page(v): return (v[0] if isinstance(v, tuple) else v)[len(site):]
        # An internal name (an `exporti` cell's) has no entry to link to: it stays code, not a link that leads nowhere.
        self.nl.syms = {k: v for k, v in self.nl.syms.items() if not ours(v) or page(v) in public}

    def __call__(self, cell):
        if cell.cell_type == 'markdown': cell.source = self.nl.linkify(cell.source)
        for o in cell.get('outputs', []):
            if hasattr(o, 'data') and hasattr(o['data'], 'text/markdown'):
                o.data['text/markdown'] = [self.nl.link_line(s) for s in o.data['text/markdown']]


def process(src: Path, dst: Path, skip_flags) -> tuple[float, str]:
    "Run nbdev's processors, with `ExecAll` for `exec_show_docs` and `PublicLinks` for `add_links`, on `src`; write `dst`."
    from fastcore.xtras import working_directory
    from execnb.nbio import read_nb, write_nb
    from nbdev.config import get_config
    from nbdev.process import NBProcessor
    from nbdev.processors import FilterDefaults, add_links, add_show_docs, exec_show_docs
    t0 = time.time()
    main = sys.modules['__main__']   # IPython's shell replaces it; the worker finds its next task there
    os.environ['IN_TEST'] = '1'
    # The workers share the cores: each notebook's BLAS/OpenMP/TensorFlow pools get its share (spinning pools that
    # each take every core run both notebooks several times slower). Cells that set threads themselves still may.
    share = max(1, (os.cpu_count() or 1) // WORKERS)
    for v in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'TF_NUM_INTRAOP_THREADS'):
        os.environ.setdefault(v, str(share))
    fresh_state(share)
    nb = read_nb(src)
    procs = list(FilterDefaults().procs())
    procs.remove(exec_show_docs)
    # Run right after the show_doc cells are added, before the processors that edit sources and outputs.
    procs.insert(procs.index(add_show_docs) + 1, ExecAll(nb, src, skip_flags))
    procs[procs.index(add_links)] = PublicLinks(get_config(path=ROOT).lib_name)
    try:
        with working_directory(src.parent): NBProcessor(nb=nb, procs=procs).process()
    finally: sys.modules['__main__'] = main
    dst.parent.mkdir(parents=True, exist_ok=True)
    write_nb(nb, dst)
    return time.time() - t0, nb.frontmatter_.get('output-file', '')


def fresh_state(threads: int) -> None:
    """What a notebook may change and a fresh process would not carry over: the worker runs one notebook after another
    (as `nbdev_test`'s do; a process per notebook paid the imports of torch and TensorFlow 25 times)."""
    import warnings
    warnings.resetwarnings()
    if 'torch' in sys.modules:
        import torch
        torch.seed(); torch.set_default_dtype(torch.float32); torch.set_num_threads(threads)
    if 'numpy' in sys.modules:
        import numpy as np
        np.seterr(divide='warn', over='warn', under='ignore', invalid='warn'); np.random.seed(None)
    if 'matplotlib.pyplot' in sys.modules: sys.modules['matplotlib.pyplot'].close('all')


def build_proc(nbs: Path, proc: Path, skip_flags) -> dict:
    "Fill `proc` with the processed, executed notebooks of `nbs` and a copy of its other files; {notebook: output-file}."
    from nbdev.doclinks import nbglob
    shutil.rmtree(proc, ignore_errors=True)
    files = [Path(f) for f in nbglob(nbs, func=Path, file_glob='', file_re='')]
    files += [f for f in nbs.iterdir() if f.is_file() and f.name.startswith('_') and f.suffix in ('.yml', '.yaml')]
    files += [f for f in (nbs/'_extensions').rglob('*') if f.is_file()] if (nbs/'_extensions').exists() else []
    notebooks = []
    for f in sorted(set(files)):
        rel = f.relative_to(nbs)
        if any(p.startswith('.') or p in ('_proc', '_docs', '_site') for p in rel.parts): continue
        if f.suffix == '.ipynb': notebooks.append(f); continue
        (proc/rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, proc/rel)
    failed, out_files = [], {}
    # Longest first (last run's times; else about 1 s per KB of notebook), so no long one starts last.
    known = next((f for f in (TIMES, FIRST_TIMES) if f.is_file()), None)
    times = json.loads(known.read_text()) if known else {}
    notebooks.sort(key=lambda f: -times.get(f.name, f.stat().st_size / 1000))
    # Two worker processes on this 2-core machine, each running notebook after notebook (`fresh_state` between them).
    with ProcessPoolExecutor(WORKERS, mp_context=get_context('spawn')) as ex:
        futs = {ex.submit(process, f, proc/f.relative_to(nbs), skip_flags): f for f in notebooks}
        for fut in as_completed(futs):
            f = futs[fut]
            try:
                secs, out_files[proc/f.relative_to(nbs)] = fut.result()
                times[f.name] = round(secs, 1)
                print(f'docs: executed {f.relative_to(ROOT)} in {secs:.1f}s', flush=True)
            except Exception as e:
                failed.append(f)
                print(f'docs: FAILED {f.relative_to(ROOT)}\n{e}', file=sys.stderr, flush=True)
    TIMES.parent.mkdir(exist_ok=True)
    TIMES.write_text(json.dumps(times, indent=1, sort_keys=True))
    if failed: sys.exit(f'docs: {len(failed)} notebook(s) failed: ' + ', '.join(f.name for f in failed))
    return out_files


def rename_to_output_files(proc: Path, out_files: dict) -> None:
    "Rename each notebook in `proc` to its `output-file` (as .ipynb); rewrite the .yml files and Markdown links to match."
    from execnb.nbio import read_nb, write_nb
    renames = {nb: nb.with_name(Path(out).stem + '.ipynb') for nb, out in out_files.items() if out}
    renames = {a: b for a, b in renames.items() if a != b}
    subs = [(re.compile(r'(?<![\w.-])' + re.escape(a.relative_to(proc).as_posix()) + r'(?=[#)\s"\'>]|$)', re.M),
             b.relative_to(proc).as_posix()) for a, b in renames.items()]
    def fix(text): return functools.reduce(lambda t, s: s[0].sub(s[1], t), subs, text)
    for a, b in renames.items(): a.rename(b)
    for f in proc.rglob('*'):
        if f.suffix in ('.yml', '.yaml', '.qmd', '.md'): f.write_text(fix(f.read_text()))
        elif f.suffix == '.ipynb':
            nb = read_nb(f)
            for c in nb.cells:
                if c.cell_type == 'markdown': c.source = fix(c.source)
                # The name now says it; smalldocs would warn that it ignores the key.
                if c.cell_type == 'raw': c.source = re.sub(r'^output-file: .*\n', '', c.source, flags=re.M)
            write_nb(nb, f)


# ---------------------------------------------------------------- the three parts (nbs/sidebar.yml)

def _section(it) -> str | None:
    "The name of a sidebar entry that is a section (or part), else None."
    if isinstance(it, dict) and ('section' in it or 'part' in it): return str(it.get('section') or it.get('part') or '')


def _file(it) -> str | None:
    "The file a sidebar entry names (a path, or a mapping's `href`/`file`); None for a section or a link elsewhere."
    f = it if isinstance(it, str) else (it.get('href') or it.get('file')) if isinstance(it, dict) else None
    return None if not f or _section(it) is not None or re.match(r'^[a-z]+:', str(f)) else str(f)


def _exists(nbs: Path, f: str) -> bool: return f == API_PAGE or (nbs/f).is_file()


def sidebar_entries(nbs: Path) -> list[tuple[str, str]]:
    "[(part, file)] in nbs/sidebar.yml's order, part the top-level section ('' outside any); files not there left out."
    out = []
    def walk(items, part):
        for it in items or []:
            if (name := _section(it)) is not None: walk(it.get('contents'), part or name)
            elif (f := _file(it)) and _exists(nbs, f): out.append((part, f))
    side = yaml.safe_load((nbs/SIDEBAR).read_text())['website']['sidebar']
    for s in (side if isinstance(side, list) else [side]): walk(s.get('contents'), '')
    return out


def site_parts(nbs: Path) -> dict[str, str]:
    "{page: part} for the pages of the sidebar, in its order: nbs/01_softmax.ipynb -> softmax.html (its `output-file`)."
    from nbdev.doclinks import _nbpath2html
    def page(f): return (_nbpath2html(Path(f)) if f.endswith('.ipynb') else Path(f).with_suffix('.html')).as_posix()
    return {page(f): part for part, f in sidebar_entries(nbs)}


def prune_sidebar(proc: Path, nbs: Path) -> None:
    "Leave out of `proc`'s sidebar.yml the entries whose file is not in `nbs` (a notebook still to come), saying which."
    def keep(items):
        out = []
        for it in items or []:
            if _section(it) is not None: out.append({**it, 'contents': keep(it.get('contents'))})
            elif (f := _file(it)) is None or _exists(nbs, f): out.append(it)
            else: print(f'docs: {SIDEBAR} names {f}, which is not in {nbs.name}/: left out of the sidebar', flush=True)
        return out
    cfg = yaml.safe_load((proc/SIDEBAR).read_text())
    side = cfg['website']['sidebar']
    for s in (side if isinstance(side, list) else [side]): s['contents'] = keep(s.get('contents'))
    (proc/SIDEBAR).write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False))


def fold_source(proc: Path, nbs: Path) -> None:
    "Fold the exported source (nbdev's `code-fold: show`) on every page outside Learn: there the code is engineering."
    from execnb.nbio import read_nb, write_nb
    learn = {f for part, f in sidebar_entries(nbs) if part == LEARN}
    for f in proc.glob('*.ipynb'):
        if f.name in learn: continue
        nb = read_nb(f)
        for c in nb.cells:
            if c.cell_type == 'code': c.source = re.sub(r'^#\|\s*code-fold:\s*show\s*$', '#| code-fold: true', c.source,
                                                        flags=re.M)
        write_nb(nb, f)


# ---------------------------------------------------------------- the API index

def _one_line(obj, name: str, src: str) -> str:
    "A name's one line: its docstring's first line (not one Python wrote for it), else its assignment's comment."
    if inspect.isfunction(obj) or inspect.isclass(obj):
        doc = (inspect.getdoc(obj) or '').strip()
        made = doc.startswith(f'{name}(') or doc == inspect.getdoc(type)   # a dataclass or namedtuple without its own
        return '' if made or not doc else doc.splitlines()[0]
    lines = src.splitlines()
    for i, l in enumerate(lines):
        if re.match(rf'{re.escape(name)}\s*(:[^=]*)?=', l):
            if (m := re.search(r'#\s*(.+)$', l)): return m[1].strip()
            above = []
            for prev in reversed(lines[:i]):
                if not prev.startswith('#') or prev.startswith('# %%'): break
                above.insert(0, prev.lstrip('# ').strip())
            return ' '.join(above)
    return ''


def api_rows(lib: str) -> list[dict]:
    "One row per name of each module's `__all__` (modules as `_modidx` lists them): name, module, kind, href, line."
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    syms, rows = importlib.import_module(f'{lib}._modidx').d['syms'], []
    for mod_name, mod_syms in syms.items():
        mod = importlib.import_module(mod_name)
        page = next(iter(mod_syms.values()), [''])[0].partition('#')[0] if mod_syms else ''
        src = inspect.getsource(mod)
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name, None)
            kind = 'class' if inspect.isclass(obj) else 'function' if callable(obj) else 'constant'
            href = syms[mod_name].get(f'{mod_name}.{name}', [page])[0]
            rows.append(dict(name=name, module=mod_name, page=page, kind=kind, href=href,
                             line=_one_line(obj, name, src)))
    return rows


def write_api_index(proc: Path, lib: str) -> list[dict]:
    "Write `proc`/api.md, the API index: one table of every public name (alphabetical), its module and its one line."
    import html
    rows = sorted(api_rows(lib), key=lambda r: (r['name'].lower(), r['module']))
    def code(s): return re.sub(r'`([^`]+)`', r'<code>\1</code>', html.escape(s, quote=False))
    trs = [f"<tr><td><a href=\"{r['href']}\"><code>{r['name']}{'()' * (r['kind'] == 'function')}</code></a></td>"
           f"<td><a href=\"{r['page']}\"><code>{r['module'].rpartition('.')[2]}</code></a></td>"
           f"<td>{code(r['line'])}</td></tr>" for r in rows]
    md = ['---', 'title: API index',
          f'description: "Every public name of {lib}: {len(rows)} functions, classes and constants, each with its '
          'module and one line; the name links to its entry in the reference."', '---', '',
          '<table class="table api-index"><thead><tr><th>Name</th><th>Module</th><th>What it is</th></tr></thead>',
          '<tbody>', *trs, '</tbody></table>']
    (proc/API_PAGE).write_text('\n'.join(md) + '\n')
    return rows


def render(proc: Path, doc_path: Path, out_files: dict) -> None:
    "Render `proc` with Quarto if there is one, else smalldocs, and move the site to `doc_path`."
    if shutil.which('quarto'): cmd = ['quarto', 'render', '--no-cache']
    else:
        rename_to_output_files(proc, out_files)
        cmd = [str(Path(sys.executable).parent/'smalldocs'), 'render', '--quiet', '.']
    print('docs: rendering with', ' '.join(cmd), flush=True)
    subprocess.run(cmd, cwd=proc, check=True)
    shutil.rmtree(doc_path, ignore_errors=True)
    shutil.move(proc/doc_path.name, doc_path)


API_HTML = Path(API_PAGE).with_suffix('.html').as_posix()
ENTRY = search.ENTRY   # a show_doc entry as the page has it


# A reference entry's parameter table: on a Learn page the exported source (its docments) is shown right above the
# entry, and the signature repeats each parameter with its comment, so the table is folded there (one click away).
PARAM_TABLE = re.compile(r'<div class="sd-table">\s*<div class="table-scroll"><table[^>]*>\s*<thead>\s*<tr>\s*'
                         r'<th>Parameter</th>.*?</table></div>\s*</div>', re.S)
SCROLL_TABLE = re.compile(r'(?<!<div class="table-scroll">)(<table\b.*?</table>)', re.S)
SIDEBAR_LINK = re.compile(r'<a href="([^"#]+\.html)" class="sidebar-item-text sidebar-link[^"]*"[^>]*><span class="menu-text">(.*?)</span></a>')


# Chromium sometimes lays out a scroll box before its web font arrives, and when the text then overflows it adds no
# scrollbar: once fonts and images are in, each box that overflows without one is laid out again.
SCROLLBARS_JS = """(() => {
  const fix = () => document.querySelectorAll('pre, .katex-display, .table-scroll').forEach(e => {
    if (e.scrollWidth > e.clientWidth + 1 && e.offsetHeight - e.clientHeight < 2) {
      const o = e.style.overflowX; e.style.overflowX = 'hidden'; void e.offsetHeight; e.style.overflowX = o;
    }
  });
  window.addEventListener('load', () => { fix(); document.fonts.ready.then(fix); setTimeout(fix, 500); });
})();
"""


TOC = re.compile(r'<nav id="TOC"[^>]*>.*?<ul>(.*?)</ul></nav>', re.S)
ACTIVE = re.compile(r'(<a href="[^"]*" class="sidebar-item-text sidebar-link active"[^>]*>.*?</a></div>)', re.S)


def sidebar_toc(html: str) -> str:
    "Copy the page's top sections from its 'On this page' (in the margin, shown from 1500 px) under its sidebar entry."
    toc, active = TOC.search(html), ACTIVE.search(html)
    if not toc or not active or 'class="sd-page-toc"' in html: return html
    items, n = toc[1], 1
    while n: items, n = re.subn(r'<ul>(?:(?!<ul>).)*?</ul>', '', items, flags=re.S)   # the top level only
    items = re.sub(r'\s(?:id|class|data-scroll-target)="[^"]*"', '', items)   # no second copy of an id
    if '<li>' not in items: return html
    nav = f'<nav class="sd-page-toc" aria-label="On this page"><ul>{items}</ul></nav>'
    return html[:active.end()] + nav + html[active.end():]


def finish(site: Path, site_url: str, parts: dict[str, str] | None = None) -> None:
    "Make `site` self-contained and readable offline, with previous/next links and ranked search; parts: {page: part}."
    cdn.vendor(site)
    site_url = site_url.rstrip('/') + '/'
    (site/'site_libs'/'scrollbars.js').write_text(SCROLLBARS_JS)
    search.write_search(site, parts or {}, LEARN, (API_HTML,))
    for f in site.rglob('*.html'):
        rel = f.relative_to(site)
        if rel.parts[0] in ('site_libs', '_screenshots'): continue
        html = f.read_text()
        up = '../' * (len(rel.parts) - 1)
        if site_url != '/':  # nbdev writes cross-references as absolute links to the hosted site
            html = re.sub(r'href="' + re.escape(site_url) + r'([^"]*)"', lambda m: f'href="{up}{m[1] or "index.html"}"', html)
        if 'scrollbars.js' not in html:
            html = html.replace('</head>', f'<script src="{up}site_libs/scrollbars.js"></script></head>', 1)
        if 'search-rank.js' not in html:   # after Fuse, before the deferred script that searches with it
            html = re.sub(r'(<script src="[^"]*fuse\.min\.js"></script>)',
                          rf'\1<script src="{up}site_libs/search-rank.js"></script>', html, count=1)
        html = SCROLL_TABLE.sub(r'<div class="table-scroll">\1</div>', html)
        if (parts or {}).get(rel.as_posix()) == LEARN and 'class="sd-params"' not in html:
            html = PARAM_TABLE.sub(lambda m: f'<details class="sd-params"><summary>Parameters</summary>{m[0]}</details>',
                                   html)
        html = sidebar_toc(html)
        pages = list(dict.fromkeys(SIDEBAR_LINK.findall(html)))
        here = [i for i, (href, _) in enumerate(pages) if (f.parent/href).resolve() == f.resolve()]
        if here and 'class="page-nav"' not in html:
            i, links = here[0], []
            if i > 0: links.append(f'<a class="page-prev" rel="prev" href="{pages[i-1][0]}">← {pages[i-1][1]}</a>')
            if i + 1 < len(pages): links.append(f'<a class="page-next" rel="next" href="{pages[i+1][0]}">{pages[i+1][1]} →</a>')
            html = html.replace('</main>', f'<nav class="page-nav" aria-label="previous and next page">{"".join(links)}</nav></main>', 1)
        f.write_text(html)


def main():
    from nbdev.config import get_config
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2'); os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '0')
    cfg = get_config(path=ROOT)
    t0 = time.time()
    nbs, proc = cfg.nbs_path, cfg.config_path/'_proc'
    out_files = build_proc(nbs, proc, cfg.get('tst_flags', '').split())
    prune_sidebar(proc, nbs)
    fold_source(proc, nbs)
    write_api_index(proc, cfg.lib_name)
    render(proc, cfg.doc_path, out_files)
    finish(cfg.doc_path, cfg.get('doc_host', '') + cfg.get('doc_baseurl', ''), site_parts(nbs))
    print(f'docs: wrote {cfg.doc_path.relative_to(ROOT)}/ in {time.time() - t0:.0f}s')


if __name__ == '__main__': main()
