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
3. The rendered site (_proc/_docs) is moved to _docs/.

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


def main():
    from nbdev.config import get_config
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2'); os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '0')
    cfg = get_config(path=ROOT)
    t0 = time.time()
    out_files = build_proc(cfg.nbs_path, cfg.config_path/'_proc', cfg.get('tst_flags', '').split())
    render(cfg.config_path/'_proc', cfg.doc_path, out_files)
    print(f'docs: wrote {cfg.doc_path.relative_to(ROOT)}/ in {time.time() - t0:.0f}s')


if __name__ == '__main__': main()
