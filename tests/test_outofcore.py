"""Data larger than memory (issue 28, item 4): `fit` from a read-only memory-mapped .npy pair gives the numbers it gives
from memory (every strategy; SGD in minibatches, shuffled or not, and full batch; Newton-CG), reports a NaN and a bad
label as it does from memory, and trains an epoch of a 300 MB file in a fresh process whose peak memory grows by far
less than the file (pages read are dropped after each read)."""
import textwrap
import numpy as np
import pytest
import torch

from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.outofcore import RowSource
from softmax_scratch.validate import NonFiniteError
from softmax_scratch.fused import CompilerMissing, require_compiler
from softmax_scratch.cli import main

try: require_compiler(); _FUSED = ['fused']
except CompilerMissing: _FUSED = []

M, N, Q = 1500, 6, 4
RUNS = {'sgd-batches': dict(solver='sgd', epochs=2, lr=0.1, batch_size=128),
        'sgd-shuffled': dict(solver='sgd', epochs=2, lr=0.1, batch_size=128, shuffle=True, seed=3),
        'sgd-full': dict(solver='sgd', epochs=2, lr=0.1),
        'newton-cg': dict(solver='newton-cg', max_iter=4)}


@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    d = tmp_path_factory.mktemp('pair')
    rng = np.random.default_rng(0)
    np.save(d/'X.npy', rng.standard_normal((M, N)).astype(np.float32))
    np.save(d/'Y.npy', rng.integers(0, Q, M))
    return d


def _fits(x, y, strategy, run, dtype=torch.float64):
    model = SoftmaxClassifier(N, Q, seed=0, dtype=dtype)
    h = model.fit(x, y, strategy=strategy, l2=0.01, progress=False, **RUNS[run])
    return model, h


@pytest.mark.parametrize('strategy', ['kronecker', 'blockdiag', 'closed', *_FUSED])
@pytest.mark.parametrize('run', list(RUNS))
def test_fit_from_a_memory_map_is_fit_from_memory(pair, strategy, run):
    X, Y = np.load(pair/'X.npy', mmap_mode='r'), np.load(pair/'Y.npy', mmap_mode='r')
    a, ha = _fits(torch.from_numpy(np.array(X)).double(), torch.from_numpy(np.array(Y)), strategy, run)
    for source in (X, RowSource(X, chunk=400)):       # one read of the whole file; reads of 400 rows (4 of them)
        b, hb = _fits(source, Y, strategy, run)
        chunked = isinstance(source, RowSource) and run in ('sgd-full', 'newton-cg')   # sums over reads
        if chunked:                                    # the same sums, added in another order: float64 rounding
            torch.testing.assert_close(b.w, a.w, rtol=1e-12, atol=1e-13)
            torch.testing.assert_close(b.b, a.b, rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(hb.train_loss, ha.train_loss, rtol=1e-13)
        else:                                          # the same arithmetic: the same bits
            assert torch.equal(b.w, a.w) and torch.equal(b.b, a.b), (strategy, run, type(source))
            assert hb.train_loss == ha.train_loss
        assert hb.solver.keys() == ha.solver.keys() and len(hb) == len(ha) and hb.converged == ha.converged


def test_float32_model_from_a_float64_file(pair, tmp_path):
    np.save(tmp_path/'X64.npy', np.load(pair/'X.npy').astype(np.float64))
    X, Y = np.load(tmp_path/'X64.npy', mmap_mode='r'), np.load(pair/'Y.npy', mmap_mode='r')
    a, ha = _fits(torch.from_numpy(np.array(X)).float(), torch.from_numpy(np.array(Y)), 'closed', 'sgd-batches',
                  torch.float32)
    b, hb = _fits(X, Y, 'closed', 'sgd-batches', torch.float32)
    assert torch.equal(a.w, b.w) and ha.train_loss == hb.train_loss


def _bad_pair(tmp_path, pair, row=None, label=None):
    x, y = np.load(pair/'X.npy'), np.load(pair/'Y.npy')
    if row is not None: x[row, 2] = np.nan
    if label is not None: y[label] = Q
    np.save(tmp_path/'X.npy', x); np.save(tmp_path/'Y.npy', y)
    return (np.load(tmp_path/'X.npy', mmap_mode='r'), np.load(tmp_path/'Y.npy', mmap_mode='r')), (x, y)


def _error(fn):
    with pytest.raises(ValueError) as e: fn()
    return e.type, str(e.value)


@pytest.mark.parametrize('run', ['sgd-batches', 'sgd-full', 'newton-cg'])
def test_a_nan_in_a_read_is_the_error_from_memory(pair, tmp_path, run):
    (X, Y), (x, y) = _bad_pair(tmp_path, pair, row=1234)
    model = SoftmaxClassifier(N, Q, seed=0)
    w0 = model.w.clone()
    for source in (X, RowSource(X, chunk=400)):
        mapped = _error(lambda: model.fit(source, Y, strategy='closed', progress=False, **RUNS[run]))
        assert torch.equal(model.w, w0)                                        # the model as it was
        memory = _error(lambda: model.fit(x, y, strategy='closed', progress=False, **RUNS[run]))
        assert mapped == memory == (NonFiniteError, 'x: expected finite values, got NaN or inf (first in row 1234)')


def test_a_label_out_of_range_is_the_error_from_memory(pair, tmp_path):
    (X, Y), (x, y) = _bad_pair(tmp_path, pair, label=1000)
    model = SoftmaxClassifier(N, Q, seed=0)
    mapped = _error(lambda: model.fit(RowSource(X, chunk=400), Y, 1, 0.1, 128, progress=False))
    memory = _error(lambda: model.fit(x, y, 1, 0.1, 128, progress=False))
    assert mapped == memory == (ValueError, f'y: expected class indices in 0..{Q - 1}, got {Q}')
    assert model.history is None                                               # refused before training


def test_what_rows_from_a_file_do_not_take(pair):
    X, Y = np.load(pair/'X.npy', mmap_mode='r'), np.load(pair/'Y.npy', mmap_mode='r')
    model = SoftmaxClassifier(N, Q, seed=0)
    with pytest.raises(ValueError, match="solver: 'newton' forms the Hessian"): model.fit(X, Y, solver='newton')
    with pytest.raises(ValueError, match='sample_weight: rows read from a file'):
        model.fit(X, Y, 1, 0.1, sample_weight=np.ones(M))
    with pytest.raises(ValueError, match=r'y: with x read from a file, expected class indices of shape \(M,\)'):
        model.fit(X, np.eye(Q)[np.load(pair/'Y.npy')], 1, 0.1)
    with pytest.raises(ValueError, match='x: expected 5 features'): SoftmaxClassifier(5, Q).fit(X, Y, 1, 0.1)


def test_the_command_line_trains_an_npy_pair_from_its_maps(pair, capsys):
    files = f"{pair/'X.npy'},{pair/'Y.npy'}"
    assert main(['train', '--data', files, '--epochs', '2', '--lr', '0.1', '--batch-size', '128']) == 0
    out = capsys.readouterr().out
    model = SoftmaxClassifier(N, Q, seed=0)
    x, y = torch.from_numpy(np.load(pair/'X.npy')).double(), torch.from_numpy(np.load(pair/'Y.npy'))
    model.fit(x, y, 2, 0.1, 128, progress=False)
    assert f"train loss {model.evaluate(x, y):.4f}  accuracy {model.accuracy(x, y):.4f}" in out, out


# big_pair (tests/conftest.py): 750 000 × 100 float32, 300 MB, and 10 classes, written once per session
CHILD = textwrap.dedent('''
    import sys, numpy as np, torch
    from softmax_scratch.classifier import SoftmaxClassifier
    torch.set_num_threads(1)
    X, Y = np.load(sys.argv[1], mmap_mode='r'), np.load(sys.argv[2], mmap_mode='r')
    warm = SoftmaxClassifier(100, 10, seed=0, dtype=torch.float32)      # every code path once, on a small file part
    warm.fit(np.asarray(X[:8192]).copy(), np.asarray(Y[:8192]).copy(), 1, 0.01, 4096, progress=False)
    reset_peak(); before = memory('VmRSS')                              # (tests/conftest.py: the peak from here)
    model = SoftmaxClassifier(100, 10, seed=0, dtype=torch.float32)
    h = model.fit(X, Y, 1, 0.01, 4096, progress=False)
    print(memory('VmHWM') - before, h.train_loss[0])
''')

def test_an_epoch_from_a_memory_map_holds_far_less_than_the_file(in_fresh_process):
    (growth, loss), size = in_fresh_process(CHILD)
    assert np.isfinite(float(loss))
    growth = int(growth)
    assert growth < 0.25 * size, f"peak RSS grew by {growth / 2**20:.0f} MiB for a {size / 2**20:.0f} MiB file"


def test_divergence_from_a_memory_map_goes_back_as_from_memory(pair):
    X, Y = np.load(pair/'X.npy', mmap_mode='r'), np.load(pair/'Y.npy', mmap_mode='r')
    runs = []
    for x in (torch.from_numpy(np.array(X)).double(), RowSource(X, chunk=400)):
        model = SoftmaxClassifier(N, Q, seed=0)
        with pytest.warns(RuntimeWarning, match='diverged'): h = model.fit(x, Y, 3, 1e200, 128, progress=False)
        runs.append((model.w, h.stopped, h.train_loss))
    assert torch.equal(runs[0][0], runs[1][0]) and runs[0][1:] == runs[1][1:]


def test_a_copy_on_write_map_is_read_with_its_changes(pair):
    "A map opened with mode='c' may hold changes in memory only: its rows come from the map, not from the file."
    X = np.load(pair/'X.npy', mmap_mode='c')
    X[3, 1] = 42.
    src = RowSource(X)
    assert src.rows(3, 4)[0, 1].item() == 42.
    assert torch.equal(src.read(), torch.from_numpy(np.array(X)).double())
    assert np.load(pair/'X.npy')[3, 1] != 42.                                   # the file as it was


@pytest.fixture(scope='module')
def wide_pair(tmp_path_factory):
    "5000 × 2000 float32 (40 MB): each of 2 processes holds 2500 rows, more than one read's 2096 (8 chunks of 262)."
    d = tmp_path_factory.mktemp('wide')
    rng = np.random.default_rng(1)
    np.save(d/'X.npy', rng.standard_normal((5000, 2000)).astype(np.float32))
    np.save(d/'Y.npy', rng.integers(0, 4, 5000))
    return d


@pytest.mark.parametrize('files, run', [('pair', 'sgd-batches'), ('pair', 'newton-cg'), ('wide_pair', 'sgd-full'),
                                        ('wide_pair', 'newton-cg')])
def test_processes_read_their_rows_of_a_pair_by_chunks(files, run, request):
    "`distributed.fit` on 2 processes from an .npy pair (each rank a RowSource of its rows, in one read or several,"
    " so that Newton-CG's products over reads are summed over the processes too): the trajectory of 1 process."
    from softmax_scratch import distributed
    from softmax_scratch.checks import check_close
    d = request.getfixturevalue(files)
    l2 = 1.0 if files == 'wide_pair' else 0.01      # 2000 features of noise: a strong penalty keeps H well-conditioned
    data = f"{d/'X.npy'},{d/'Y.npy'}"
    (m1, h1, r1), (m2, h2, r2) = (distributed.fit(data, nproc=k, l2=l2, **RUNS[run]) for k in (1, 2))
    assert len(h1) == len(h2) and r1['train_acc'] == r2['train_acc']
    for u, v, what in ((m2.w, m1.w, 'W'), (m2.b, m1.b, 'b'), (h2.train_loss, h1.train_loss, 'losses')):
        check_close(torch.as_tensor(u), torch.as_tensor(v), 1e-12, what)
    assert abs(r2['train_loss'] - r1['train_loss']) <= 1e-12 * abs(r1['train_loss'])
