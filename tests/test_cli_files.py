"""The files the command line writes (issue 26): whole or not at all, never over something that is not a regular file.

`--json` and `--plot` go through a temporary file in the target's folder (fsync'd, then renamed over the target): a
write that fails (a file-size limit, a full disk) leaves the old file as it was, no temporary file, one line on
stderr naming the file and exit status 1. A target that exists but is not a regular file (/dev/null, /dev/full) is
refused before any work with exit status 2. `compare --data` with too few rows speaks of the rows, not of the library's
`valid_size` (an option the command does not have).
"""
import contextlib, io, json, os, stat, subprocess, sys
from pathlib import Path

import pytest

from softmax_scratch.cli import main

ROOT = Path(__file__).resolve().parent.parent
QUICK = ('--against', 'torch', '--epochs', '2')    # a compare that takes a second


def run_cli(*argv) -> tuple:
    "main(argv) in process: (exit status, stdout, stderr lines)."
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue().strip().splitlines()


# In a child process: the work done, then the file-size limit set (SIGXFSZ ignored, so a write past it fails with
# EFBIG instead of killing the process), then main.
LIMITED = r"""
import resource, signal, sys
import matplotlib; matplotlib.use('Agg')
import softmax_scratch.compare, softmax_scratch.cli
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.RLIM_INFINITY))
sys.exit(softmax_scratch.cli.main(sys.argv[2:]))
"""


def run_limited(limit:int, *argv):
    "`softmax-scratch argv...` in a child process whose files may grow to `limit` bytes at most."
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', ''))
    return subprocess.run([sys.executable, '-c', LIMITED, str(limit), *map(str, argv)],
                          capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)


@pytest.mark.parametrize('option', ['--json', '--plot'])
def test_failed_write_keeps_the_old_file(option, tmp_path):
    target = tmp_path / ('report.json' if option == '--json' else 'parity.png')
    old = b'{"old": "report"}\n'
    target.write_bytes(old)
    p = run_limited(256, 'compare', *QUICK, option, target)
    err = p.stderr.strip().splitlines()
    assert p.returncode == 1, (p.returncode, p.stdout[-300:], p.stderr[-600:])
    assert len(err) == 1 and str(target) in err[0] and 'Traceback' not in p.stderr, err
    assert f'wrote {target}' not in p.stdout
    assert target.read_bytes() == old                                  # not truncated, not half-written
    assert sorted(tmp_path.iterdir()) == [target]                      # no temporary file left


@pytest.mark.parametrize('option', ['--json', '--plot'])
@pytest.mark.parametrize('device', ['/dev/full', '/dev/null'])
def test_refuses_a_device_as_target(option, device):
    if not os.path.exists(device): pytest.skip(f'no {device} here')
    code, out, err = run_cli('compare', *QUICK, option, device)
    assert (code, out, len(err)) == (2, '', 1), (code, out[-300:], err)
    assert device in err[0] and option in err[0] and 'regular file' in err[0], err
    assert stat.S_ISCHR(os.stat(device).st_mode)                       # still the device


def test_train_and_bench_refuse_a_device_too():
    for argv in (('train', '--epochs', '1', '--plot', '/dev/null'), ('train', '--epochs', '1', '--save', '/dev/null'),
                 ('bench', '--samples', '20', '--features', '2', '--json', '/dev/null')):
        code, out, err = run_cli(*argv)
        assert (code, out, len(err)) == (2, '', 1) and '/dev/null' in err[0], (argv, code, err)


def test_written_whole_with_the_old_mode_and_no_temporary_file(tmp_path):
    report, plot = tmp_path / 'report.json', tmp_path / 'parity.png'
    report.write_text('old'); report.chmod(0o640)
    code, out, err = run_cli('compare', *QUICK, '--json', report, '--plot', plot)
    assert code == 0, err
    assert json.loads(report.read_text())['torch']['passed'] is True
    assert stat.S_IMODE(report.stat().st_mode) == 0o640                # an existing file keeps its mode
    assert plot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and plot.stat().st_size > 10_000
    assert f'wrote {report}' in out and f'wrote {plot}' in out
    assert sorted(tmp_path.iterdir()) == [plot, report]


def test_written_through_a_link_to_its_target(tmp_path):
    real, link = tmp_path / 'real.json', tmp_path / 'link.json'
    real.write_text('old'); link.symlink_to(real)
    code, out, err = run_cli('compare', *QUICK, '--json', link)
    assert code == 0, err
    assert link.is_symlink() and json.loads(real.read_text())['torch']['passed'] is True


@pytest.mark.parametrize('rows', [1, 2])
def test_compare_with_too_few_rows_speaks_of_the_rows(rows, tmp_path):
    data = tmp_path / 'tiny.csv'
    data.write_text('a,b,y\n' + ''.join(f'{i}.0,{-i}.0,{i % 2}\n' for i in range(rows)))
    code, out, err = run_cli('compare', '--data', data, '--label', 'y', '--against', 'torch')
    assert code == 1 and len(err) == 1 and out == '', (code, err)
    assert 'valid_size' not in err[0] and f'{rows} row' in err[0] and '--data' in err[0] and 'at least 3' in err[0], err


def test_compare_with_three_rows_runs(tmp_path):
    data = tmp_path / 'three.csv'
    data.write_text('a,b,y\n0.0,1.0,0\n1.0,0.0,1\n0.5,0.5,1\n')
    code, out, err = run_cli('compare', '--data', data, '--label', 'y', '--against', 'torch', '--epochs', '2')
    assert code == 0, err
