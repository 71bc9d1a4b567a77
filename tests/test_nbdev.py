"""nbdev's own doc processing of every notebook: what `nbdev_docs`, `nbdev_preview`, `nbdev_proc_nbs` and `nbdev_readme`
run before Quarto (`nbdev.serve.proc_nbs` -> `nbdev.serve_drv.main`: nbdev's `FilterDefaults` processors, with
`IN_TEST=1`, from the repository root, a fresh process per notebook). Its `exec_show_docs` runs only the cells that
`show_doc` needs (exported cells and cells with imports), so a cell that uses a name from a cell it skips fails there
although the notebook passes `nbdev_test`. Each notebook is one test; they run two at a time (this machine's cores)."""
import os, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKERS = int(os.environ.get('NBDEV_WORKERS', min(2, os.cpu_count() or 1)))


def notebooks():
    "The notebooks `proc_nbs` processes: `nbglob` over nbs_path, less what its `_proc_file` skips."
    from nbdev.config import get_config
    from nbdev.doclinks import nbglob
    nbs = get_config(path=ROOT).nbs_path
    files = nbglob(nbs, func=Path, file_glob='', file_re='')
    skips = ('_proc', '_docs', '_site', 'settings.ini')
    return sorted(f.relative_to(ROOT) for f in files
                  if f.suffix == '.ipynb' and not any(o[0] == '.' or o in skips for o in f.parts))


NOTEBOOKS = notebooks()
# What proc_nbs runs for each notebook (in a spawned process): serve_drv.main((source, destination, FilterDefaults)).
PROCESS = ('import sys; from pathlib import Path; import nbdev.serve_drv as d; '
           'from nbdev.processors import FilterDefaults; '
           'd.main((Path(sys.argv[1]), Path(sys.argv[2]), FilterDefaults))')


def process(nb: Path, dst: Path):
    path = os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]).rstrip(os.pathsep)  # this checkout's package
    env = {**os.environ, 'PYTHONPATH': path, 'TF_CPP_MIN_LOG_LEVEL': '2', 'TF_ENABLE_ONEDNN_OPTS': '0'}
    return subprocess.run([sys.executable, '-c', PROCESS, str(ROOT/nb), str(dst)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope='module')
def results(request, tmp_path_factory):
    "nbdev's processor run on each selected notebook (`-k` selects), `WORKERS` at a time: {notebook: (run, seconds)}."
    params = [getattr(getattr(i, 'callspec', None), 'params', {}) for i in request.session.items]
    chosen = [p['nb'] for p in params if 'nb' in p]
    out = tmp_path_factory.mktemp('_proc')
    def timed(nb):
        t0 = time.time()
        return process(nb, out/nb.name), time.time() - t0
    with ThreadPoolExecutor(WORKERS) as ex: return dict(zip(chosen, ex.map(timed, chosen)))


def error_of(r) -> str:
    "What ended nbdev's processor: the cell's own traceback, and nbdev's message naming the cell (its frames left out)."
    lines = r.stderr.rstrip().splitlines()
    first = next((i for i, l in enumerate(lines) if l.startswith('Traceback')), None)
    cause = next((i for i, l in enumerate(lines) if l.startswith('The above exception')), None)
    last = max((i for i, l in enumerate(lines) if l.startswith('Exception: Error')), default=None)
    if None in (first, cause, last): return '\n'.join(lines[-60:])
    return '\n'.join(lines[first:cause] + ['nbdev:'] + lines[last:])[-6000:]


def test_every_notebook_is_found():
    assert len(NOTEBOOKS) > 1 and Path('nbs/index.ipynb') in NOTEBOOKS


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_nbdev_processes_the_notebook(results, nb):
    r, secs = results[nb]
    if r.returncode:
        pytest.fail(f"nbdev's doc processor failed on {nb} (after {secs:.0f} s):\n{error_of(r)}", pytrace=False)
