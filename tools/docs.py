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
3. The rendered site (_proc/_docs) is moved to _docs/ and finished (`finish`): the CDN files it names (KaTeX, the
   text font) are copied into _docs/site_libs/ (tools/cdn.py), links to the hosted site become relative, wide
   tables get a scroll box of their own, and each page gets previous/next links in the sidebar's order.

A cell that raises fails the build (unless it carries `#| error: true`), naming notebook and cell.
"""
import functools, inspect, json, os, re, shutil, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKERS = int(os.environ.get('DOCS_WORKERS', min(2, os.cpu_count() or 1)))
TIMES = ROOT/'.cache'/'docs-times.json'  # seconds per notebook last time: the longest start first


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
PARAM_TABLES = r"""
import inspect as _inspect, nbdev.showdoc as _sd
from fastcore.docments import docments as _docments
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
def _md_with_params(self, _md=_sd.BasicMarkdownRenderer._repr_markdown_):
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


def process(src: Path, dst: Path, skip_flags) -> tuple[float, str]:
    "Run nbdev's processors, with `ExecAll` in place of `exec_show_docs`, on `src`; write it to `dst`; seconds, output-file."
    from fastcore.xtras import working_directory
    from execnb.nbio import read_nb, write_nb
    from nbdev.process import NBProcessor
    from nbdev.processors import FilterDefaults, add_show_docs, exec_show_docs
    t0 = time.time()
    os.environ['IN_TEST'] = '1'
    nb = read_nb(src)
    procs = list(FilterDefaults().procs())
    procs.remove(exec_show_docs)
    # Run right after the show_doc cells are added, before the processors that edit sources and outputs.
    procs.insert(procs.index(add_show_docs) + 1, ExecAll(nb, src, skip_flags))
    with working_directory(src.parent): NBProcessor(nb=nb, procs=procs).process()
    dst.parent.mkdir(parents=True, exist_ok=True)
    write_nb(nb, dst)
    return time.time() - t0, nb.frontmatter_.get('output-file', '')


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
    times = json.loads(TIMES.read_text()) if TIMES.is_file() else {}
    notebooks.sort(key=lambda f: -times.get(f.name, f.stat().st_size / 1000))
    # A fresh process per notebook (as nbdev_test), two at a time on this 2-core machine.
    with ProcessPoolExecutor(WORKERS, mp_context=get_context('spawn'), max_tasks_per_child=1) as ex:
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


def finish(site: Path, site_url: str) -> None:
    "Make `site` self-contained and readable offline: CDN files local, site links relative, tables in scroll boxes, previous/next links."
    import cdn
    cdn.vendor(site)
    site_url = site_url.rstrip('/') + '/'
    (site/'site_libs'/'scrollbars.js').write_text(SCROLLBARS_JS)
    for f in site.rglob('*.html'):
        rel = f.relative_to(site)
        if rel.parts[0] in ('site_libs', '_screenshots'): continue
        html = f.read_text()
        up = '../' * (len(rel.parts) - 1)
        if site_url != '/':  # nbdev writes cross-references as absolute links to the hosted site
            html = re.sub(r'href="' + re.escape(site_url) + r'([^"]*)"', lambda m: f'href="{up}{m[1] or "index.html"}"', html)
        if 'scrollbars.js' not in html:
            html = html.replace('</head>', f'<script src="{up}site_libs/scrollbars.js"></script></head>', 1)
        html = SCROLL_TABLE.sub(r'<div class="table-scroll">\1</div>', html)
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
    out_files = build_proc(cfg.nbs_path, cfg.config_path/'_proc', cfg.get('tst_flags', '').split())
    render(cfg.config_path/'_proc', cfg.doc_path, out_files)
    sys.path.insert(0, str(ROOT/'tools'))
    finish(cfg.doc_path, cfg.get('doc_host', '') + cfg.get('doc_baseurl', ''))
    print(f'docs: wrote {cfg.doc_path.relative_to(ROOT)}/ in {time.time() - t0:.0f}s')


if __name__ == '__main__': main()
