"""`compare` without the `[compare]` extra (issue 27), and Keras imported without TensorFlow's log lines.

Keras or TensorFlow not importable: the other comparisons run, Keras is reported as skipped with the command that
installs it, and the report does not pass (a skip is not a pass); nothing crashes (table, Markdown, JSON, plot, CLI).
Absence is simulated by making the import fail: `sys.modules[name] = None`.
"""
import contextlib, io, json, os, subprocess, sys
from pathlib import Path

import pytest

from softmax_scratch.compare import compare, _keras
from softmax_scratch.cli import main

ROOT = Path(__file__).resolve().parent.parent
INSTALL = 'pip install "softmax_scratch[compare]"'


@pytest.fixture(params=['keras', 'tensorflow', 'both'])
def no_keras(request, monkeypatch):
    "Keras, TensorFlow or both not importable for the test (modules already loaded are hidden, and put back after)."
    hidden = ('keras', 'tensorflow') if request.param == 'both' else (request.param,)
    # Keras loaded already would not import TensorFlow again: unload it (put back after), so `import keras` runs.
    for k in [k for k in sys.modules if k.split('.')[0] in ('keras', 'tensorflow')]: monkeypatch.delitem(sys.modules, k)
    for name in hidden: monkeypatch.setitem(sys.modules, name, None)
    return request.param


def test_keras_missing_is_a_skip_not_a_pass(no_keras):
    r = compare('synthetic', frameworks=('keras', 'torch', 'sklearn'), epochs=2)
    assert list(r.skipped) == ['keras'] and INSTALL in r.skipped['keras'], r.skipped
    assert r.failed == [] and r.passed is False
    assert r.results['torch']['passed'] and r.results['sklearn']['passed']
    text = str(r)
    assert text.splitlines()[-1].startswith('INCOMPLETE') and 'keras' in text.splitlines()[-1], text
    assert 'PASSED' not in text
    assert 'INCOMPLETE' in r._repr_markdown_()
    d = json.loads(r.to_json())
    assert d['passed'] is False and d['keras']['passed'] is None and INSTALL in d['keras']['skipped']
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    plt.close(r.plot())


def test_keras_alone_missing_crashes_nothing(no_keras):
    r = compare('synthetic', frameworks='keras', epochs=1)
    assert (r.passed, r.failed, list(r.skipped)) == (False, [], ['keras'])
    assert 'validation accuracy: scratch' in r.accuracies() and str(r).splitlines()[-1].startswith('INCOMPLETE')


def test_cli_says_what_to_install_and_exits_1(no_keras):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(['compare', '--against', 'keras', 'torch', '--epochs', '2'])
    err = err.getvalue().strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith('softmax-scratch: keras skipped:') and INSTALL in err[0]
    assert out.getvalue().splitlines()[-1].startswith('INCOMPLETE') and 'Traceback' not in '\n'.join(err)


def test_other_import_errors_are_not_skips(monkeypatch):
    "Only a framework that is not installed is skipped: an ImportError inside a comparison is an error."
    import softmax_scratch.compare as cmp
    def broken(*a, **k): raise ImportError('something inside torch training')
    monkeypatch.setattr(cmp, 'train_torch', broken)
    with pytest.raises(ImportError, match='inside torch'): cmp.compare('synthetic', frameworks=('torch',), epochs=1)


def test_all_passed_is_passed():
    r = compare('synthetic', frameworks=('torch', 'sklearn'), epochs=2)
    assert (r.passed, r.failed, r.skipped, r.verdict()) == (True, [], {}, 'PASSED')


# ---------------------------------------------------------------------------------------------------------------------
# Keras imported quietly: TF_CPP_MIN_LOG_LEVEL and TF_ENABLE_ONEDNN_OPTS set before the import, unless the user set them

QUIET = r"""
import os, sys
from softmax_scratch.compare import compare
r = compare('synthetic', frameworks=('keras',), epochs=1)
print(r.passed, os.environ.get('TF_CPP_MIN_LOG_LEVEL'), os.environ.get('TF_ENABLE_ONEDNN_OPTS'))
"""


def test_keras_comparison_prints_no_tensorflow_log_lines():
    pytest.importorskip('keras')
    env = {k: v for k, v in os.environ.items() if k not in ('TF_CPP_MIN_LOG_LEVEL', 'TF_ENABLE_ONEDNN_OPTS')}
    env['PYTHONPATH'] = str(ROOT) + os.pathsep + env.get('PYTHONPATH', '')
    p = subprocess.run([sys.executable, '-c', QUIET], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split() == ['True', '2', '0'], p.stdout
    assert p.stderr == '', p.stderr[-2000:]


def test_keras_import_keeps_the_users_settings(monkeypatch):
    pytest.importorskip('keras')
    monkeypatch.setenv('TF_CPP_MIN_LOG_LEVEL', '3')
    monkeypatch.setenv('TF_ENABLE_ONEDNN_OPTS', '0')
    _keras()
    assert (os.environ['TF_CPP_MIN_LOG_LEVEL'], os.environ['TF_ENABLE_ONEDNN_OPTS']) == ('3', '0')
