"""The package as users get it: `python -m build` in a clean copy of the repository (what git tracks, plus new files it
does not ignore) makes the sdist, then the wheel from that sdist; pip builds and installs the sdist too. Offline and in
seconds (`--no-isolation`: this venv's setuptools). `make check-dist` runs this file; the wheel lands in dist/, where
`make test-wheel` installs it into a fresh venv and runs the README's code."""
import configparser, email, shlex, shutil, subprocess, sys, tarfile, zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT/'dist'
cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini', encoding='utf-8')
CFG = cfg['DEFAULT']
NAME, VERSION = CFG['lib_name'], CFG['version']
MODULES = sorted(p.name for p in (ROOT/CFG['lib_path']).glob('*.py'))


def run(*cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if r.returncode:
        out = f'{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
        pytest.fail(f'{shlex.join(map(str, cmd))} exited {r.returncode}:\n{out}', pytrace=False)
    return r


@pytest.fixture(scope='module')
def clean_copy(tmp_path_factory):
    "The files a fresh clone would have (with this checkout's changes), copied to a temporary folder."
    try: files = run('git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard', cwd=ROOT).stdout
    except (OSError, pytest.fail.Exception) as e: pytest.skip(f'needs a git checkout: {e}')
    dst = tmp_path_factory.mktemp('clean')
    for f in filter(None, files.split('\0')):
        if (ROOT/f).is_file():
            (dst/f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT/f, dst/f)
    return dst


@pytest.fixture(scope='module')
def dist(clean_copy):
    "sdist and wheel from `python -m build` (the wheel is built from the unpacked sdist), written to dist/."
    shutil.rmtree(DIST, ignore_errors=True)
    run(sys.executable, '-m', 'build', '--no-isolation', '--outdir', DIST, cwd=clean_copy)
    sdists, wheels = sorted(DIST.glob('*.tar.gz')), sorted(DIST.glob('*.whl'))
    assert len(sdists) == len(wheels) == 1, sorted(p.name for p in DIST.iterdir())
    return sdists[0], wheels[0]


def test_sdist_has_what_setup_py_reads(dist):
    with tarfile.open(dist[0]) as t: names = {n.split('/', 1)[1] for n in t.getnames() if '/' in n}
    missing = {'settings.ini', 'setup.py', 'pyproject.toml', 'README.md', 'LICENSE'} - names
    assert not missing, f'not in the sdist: {sorted(missing)}'
    assert {f'{NAME}/{m}' for m in MODULES} <= names


def test_wheel_has_the_modules_the_license_and_the_metadata(dist):
    with zipfile.ZipFile(dist[1]) as z:
        names = set(z.namelist())
        info = f'{NAME}-{VERSION}.dist-info'
        meta = email.message_from_string(z.read(f'{info}/METADATA').decode())
        entry_points = z.read(f'{info}/entry_points.txt').decode()
        license_text = z.read(f'{info}/licenses/LICENSE').decode()
    assert sorted(n.split('/')[1] for n in names if n.startswith(f'{NAME}/')) == MODULES
    assert (meta['Name'], meta['Version']) == (NAME, VERSION)
    assert 'Apache License' in license_text and 'Version 2.0' in license_text and CFG['copyright'] in license_text
    assert meta['License'] == 'Apache-2.0' and meta['Requires-Python'] == '>=' + CFG['min_python']
    requires = meta.get_all('Requires-Dist')
    assert [r for r in requires if 'extra ==' not in r] == shlex.split(CFG['requirements'])
    for extra in ('compare', 'dev'):
        assert [r.split(';')[0].strip() for r in requires if f'extra == "{extra}"' in r] == \
            shlex.split(CFG[f'{extra}_requirements']), extra
    assert CFG['console_scripts'].replace('=', ' = ') in entry_points


def test_pip_builds_and_installs_the_sdist(dist, tmp_path):
    "pip's own route from the sdist (as `pip install softmax_scratch-*.tar.gz`), installed into a folder: no network."
    run(sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--no-index', '--no-build-isolation',
        '--target', tmp_path/'site', dist[0])
    assert sorted(p.name for p in (tmp_path/'site'/NAME).glob('*.py')) == MODULES
    code = 'import softmax_scratch; print(softmax_scratch.__version__, softmax_scratch.__file__)'
    out = run(sys.executable, '-c', code, env={'PYTHONPATH': str(tmp_path/'site')}, cwd=tmp_path).stdout.split()
    assert out[0] == VERSION and out[1].startswith(str(tmp_path/'site'))
