"""The second round of hostile probes (issue 14): interrupts keep the work, divergence is caught, no silent wrong
answer, the model owns its parameters, devices and dtypes, checkpoints, the command line's outputs and exit codes.

Each test is one case of the issue, written as the behaviour expected; the robustness notebook shows a sample of them
as tables. `make test` runs this file with the others; on its own: `.venv/bin/python -m pytest tests/test_hostile.py -q`.
The signal tests against a real `softmax-scratch train` process are in tests/test_signals.py.
"""
import contextlib, io, math, os, signal, stat, threading, warnings, zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra.numpy import arrays

import softmax_scratch.checkpoint as checkpoint_module
from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.gradients import grad_blockdiag, grad_closed, grad_kronecker, grad_kronecker_chunked
from softmax_scratch.objective import loss_and_grads, strategy_names
from softmax_scratch.solvers import SOLVERS, Solver, sgd
from softmax_scratch.cli import main
from softmax_scratch.data import make_dataset
from softmax_scratch.losses import cross_entropy, cross_entropy_and_grad, cross_entropy_from_logits, cross_entropy_grad, \
    cross_entropy_logits_grad, mean_nll
from softmax_scratch.softmax import log_softmax, softmax
from softmax_scratch.validate import as_features, one_hot

ds = make_dataset(seed=0)
X, Y = ds.x_train, ds.y_train


def run_cli(*argv) -> tuple:
    "Run `softmax-scratch argv...` in process: (exit status, stdout, stderr lines)."
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue().strip().splitlines()


def quietly(fn):
    "Call fn, returning (result, the RuntimeWarnings it raised)."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        result = fn()
    return result, [c for c in caught if issubclass(c.category, RuntimeWarning)]


def finite(*ts) -> bool: return all(bool(torch.isfinite(torch.as_tensor(t, dtype=torch.float64)).all()) for t in ts)


# ---------------------------------------------------------------------------------------------------------------------
# Interrupts in the API: a signal during `fit` ends it normally, the last completed epoch kept

def interrupting_solver(sig, at_step):
    "An 'sgd' that sends `sig` to this process on its `at_step`-th call (counting from 0)."
    calls = [0]
    def step(model, x, y, lr, strategy, l2=0., tol=0.):
        if calls[0] == at_step:
            if sig == signal.SIGTERM and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                pytest.fail("fit installs no SIGTERM handler: the signal would kill the process and the work with it")
            signal.raise_signal(sig)
        calls[0] += 1
        return sgd(model, x, y, lr, strategy, l2)
    return Solver(step)


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_fit_keeps_the_last_completed_epoch_on_a_signal(sig, monkeypatch):
    "4 steps per epoch (85 rows, batches of 28): a signal in the 2nd step of epoch 4 keeps the 3 epochs before it."
    original, before = SOLVERS['sgd'], (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    monkeypatch.setitem(SOLVERS, 'sgd', interrupting_solver(sig, at_step=3 * 4 + 1))
    m = SoftmaxClassifier(5, 3, seed=0)
    try: h = m.fit(X, Y, epochs=10, lr=0.1, batch_size=28, valid=(ds.x_valid, ds.y_valid), progress=False)
    except KeyboardInterrupt: pytest.fail("fit let the KeyboardInterrupt out: the epochs trained are lost to the caller")
    assert h.stopped == 'interrupted' and len(h) == 3 and len(h.valid_loss) == 3
    assert getattr(h, 'signal', None) == signal.Signals(sig).name
    monkeypatch.setitem(SOLVERS, 'sgd', original)
    ref = SoftmaxClassifier(5, 3, seed=0)
    ref.fit(X, Y, epochs=3, lr=0.1, batch_size=28, progress=False)
    assert torch.equal(m.w, ref.w) and torch.equal(m.b, ref.b)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before     # handlers restored


# ---------------------------------------------------------------------------------------------------------------------
# Divergence: stopped, restored, recorded, warned once

@pytest.mark.parametrize('lr', [1e5, 1e300], ids=['lr 1e5', 'lr 1e300'])
def test_fit_stops_when_the_loss_grows(lr):
    m = SoftmaxClassifier(5, 3, seed=0)
    h, warned = quietly(lambda: m.fit(X, Y, epochs=20, lr=lr, progress=False))
    assert h.stopped is not None and 'diverged' in h.stopped, h.stopped
    assert len(warned) == 1
    assert len(h) < 20 and finite(m.w, m.b, m.predict_proba(X), m.evaluate(X, Y))


def test_fit_with_validation_overflow_restores_a_usable_model():
    m = SoftmaxClassifier(5, 3, seed=0)
    h, warned = quietly(lambda: m.fit(X, Y, epochs=5, lr=1.5e308, valid=(ds.x_valid, ds.y_valid), progress=False))
    assert 'diverged' in (h.stopped or ''), h.stopped
    assert len(warned) == 1
    assert finite(m.w, m.b, m.predict_proba(X), m.predict_proba(ds.x_valid))


def test_restored_parameters_predict_the_training_data():
    "One row of x near 1e299: the step before the non-finite loss gave a finite loss on its batch, but overflows on that row."
    x = X.clone(); x[-1] *= 1e299
    m = SoftmaxClassifier(5, 3, seed=0)
    h, warned = quietly(lambda: m.fit(x, Y, epochs=3, lr=1e20, batch_size=28, progress=False))
    assert 'diverged' in (h.stopped or ''), h.stopped
    assert len(warned) == 1 and finite(m.predict_proba(x), m.evaluate(x, Y))


def test_a_healthy_fit_is_not_called_divergent():
    m = SoftmaxClassifier(5, 3, seed=0)
    h, warned = quietly(lambda: m.fit(X, Y, epochs=30, lr=0.5, batch_size=28, shuffle=True, seed=1, progress=False))
    assert h.stopped is None and not warned


def test_cli_train_reports_divergence_with_its_exit_code():
    code, out, err = run_cli('train', '--lr', '1e5', '--epochs', '30', '--batch-size', '85')
    assert code == 1 and len(err) == 1 and 'diverged' in err[0], (code, err)


# ---------------------------------------------------------------------------------------------------------------------
# Exact losses for finite logits; probabilities checked for their row sums; the dtype's range named

def test_loss_of_opposite_extreme_logits_is_exact():
    assert cross_entropy_from_logits([[1., 0.]], [[1e308, -1e308]]).item() == 0.0


def test_fused_loss_and_gradient_of_opposite_extreme_logits_are_exact():
    loss, dz = cross_entropy_and_grad([[1., 0.]], [[1e308, -1e308]])
    assert loss.item() == 0.0 and torch.equal(dz, torch.zeros(1, 2, dtype=torch.float64))


def test_float32_loss_of_opposite_extreme_logits_is_exact():
    z = torch.tensor([[3e38, -3e38]])
    assert cross_entropy_from_logits(torch.tensor([[1., 0.]]), z).item() == 0.0


def test_mean_of_large_row_losses_does_not_overflow():
    "Two rows, each with loss 1e308: the mean is 1e308, although their sum is not a float64."
    z = torch.tensor([[1e308, 0.], [1e308, 0.]], dtype=torch.float64)
    assert cross_entropy_from_logits([[0., 1.], [0., 1.]], z).item() == 1e308


def test_float32_model_with_finite_opposite_logits_evaluates_exactly():
    m = SoftmaxClassifier(1, 2, seed=0, dtype=torch.float32).set_params([[1., -1.]], [0., 0.])
    assert m.evaluate(torch.tensor([[2e38]]), [0]) == 0.0


PROBS_ROWS = [
    ("cross_entropy",             lambda: cross_entropy([[1., 0.]], [[.25, .25]])),
    ("cross_entropy_grad",        lambda: cross_entropy_grad([[1., 0.]], [[.5, .6]])),
    ("cross_entropy_logits_grad", lambda: cross_entropy_logits_grad([[1., 0.]], [[0., 0.]])),
]


@pytest.mark.parametrize('what, call', PROBS_ROWS, ids=[r[0] for r in PROBS_ROWS])
def test_probability_rows_must_sum_to_1(what, call):
    with pytest.raises(ValueError) as info: call()
    assert str(info.value).startswith('y_pred:') and 'sum' in str(info.value), str(info.value)


def test_features_too_large_for_the_model_dtype_are_named_as_such():
    m = SoftmaxClassifier(2, 2, seed=0, dtype=torch.float32)
    with pytest.raises(ValueError) as info: m.predict_proba(np.array([[1e300, 0.]]))
    msg = str(info.value)
    assert msg.startswith('x:') and 'too large' in msg and 'float32' in msg, msg


def test_logit_overflow_names_the_dtype_range():
    m = SoftmaxClassifier(1, 2, seed=0, dtype=torch.float32).set_params([[1e30, -1.]], [0., 0.])
    with pytest.raises(ValueError) as info: m.predict_proba(torch.tensor([[1e10]]))
    msg = str(info.value)
    assert msg.startswith('x:') and 'float32' in msg and 'range' in msg and '3.4e+38' in msg, msg


# ---------------------------------------------------------------------------------------------------------------------
# The model owns its parameters

def test_set_params_copies_a_column_major_w():
    a, b = SoftmaxClassifier(5, 3, seed=0), SoftmaxClassifier(5, 3, seed=1)
    b.set_params(a.w, a.b)
    a.w.add_(1); a.b.add_(1)
    assert not torch.equal(a.w, b.w) and not torch.equal(a.b, b.b)


def test_copy_from_torch_copies():
    from softmax_scratch.compare import copy_from_torch
    lin = torch.nn.Linear(5, 3).double()
    m = copy_from_torch(lin, SoftmaxClassifier(5, 3, seed=0))
    with torch.no_grad(): lin.weight.add_(1)
    assert not torch.equal(m.w, lin.weight.detach().T)


def test_inputs_requiring_grad_leave_no_graph():
    m = SoftmaxClassifier(5, 3, seed=0)
    m.set_params(torch.zeros(5, 3, dtype=torch.float64, requires_grad=True), torch.zeros(3, dtype=torch.float64, requires_grad=True))
    m.fit(X.clone().requires_grad_(True), Y.clone().requires_grad_(True), epochs=2, lr=0.1, progress=False)
    p = m.predict_proba(X.clone().requires_grad_(True))
    assert not (m.w.requires_grad or m.b.requires_grad or p.requires_grad)
    m.w.numpy(); p.numpy()


# ---------------------------------------------------------------------------------------------------------------------
# Devices and dtypes

def test_cpu_0_is_cpu():
    m = SoftmaxClassifier(5, 3, seed=0, device='cpu:0')
    assert m.predict_proba(X).shape == (85, 3)
    m.fit(X, Y, epochs=1, lr=0.1, progress=False)


REFUSED = [
    ("model of bfloat16",               lambda: SoftmaxClassifier(5, 3, dtype=torch.bfloat16),              TypeError,  "dtype:"),
    ("model of float16",                lambda: SoftmaxClassifier(5, 3, dtype=torch.float16),               TypeError,  "dtype:"),
    ("softmax of float8",               lambda: softmax(torch.zeros(2, 3).to(torch.float8_e4m3fn)),         TypeError,  "z:"),
    ("softmax of a meta tensor",        lambda: softmax(torch.zeros(2, 3, device='meta')),                  ValueError, "z:"),
    ("softmax of a sparse tensor",      lambda: softmax(torch.eye(3).to_sparse()),                          ValueError, "z:"),
    ("predict_proba of a sparse x",     lambda: SoftmaxClassifier(3, 2).predict_proba(torch.eye(3, dtype=torch.float64).to_sparse()), ValueError, "x:"),
    ("fit of a meta x",                 lambda: SoftmaxClassifier(3, 2).fit(torch.zeros(2, 3, dtype=torch.float64, device='meta'), [0, 1], 1, 0.1, progress=False), ValueError, "x:"),
    ("linear with a complex w",         lambda: grad_closed(torch.ones(2, 3), [0, 1], torch.ones(3, 2, dtype=torch.complex64), torch.zeros(2)), TypeError, "w:"),
]


@pytest.mark.parametrize('what, call, exc, start', REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_up_front(what, call, exc, start):
    with pytest.raises(exc) as info: call()
    assert str(info.value).startswith(start), str(info.value)


def test_big_endian_arrays_are_read_correctly():
    x = X.numpy().astype('>f8')
    m = SoftmaxClassifier(5, 3, seed=0)
    assert torch.equal(m.predict_proba(x), m.predict_proba(X))
    assert torch.equal(as_features(x), X)
    assert torch.equal(softmax(np.array([[1., 2.]], dtype='>f4')), softmax(torch.tensor([[1., 2.]])))


# ---------------------------------------------------------------------------------------------------------------------
# Checkpoints

@contextlib.contextmanager
def umask(mask):
    old = os.umask(mask)
    try: yield
    finally: os.umask(old)


def test_save_mode_follows_the_umask(tmp_path):
    with umask(0o022): p = SoftmaxClassifier(5, 3, seed=0).save(tmp_path / 'm.npz')
    assert stat.S_IMODE(p.stat().st_mode) == 0o644


def test_save_keeps_an_existing_files_mode(tmp_path):
    p = tmp_path / 'm.npz'
    p.write_bytes(b'old'); p.chmod(0o640)
    SoftmaxClassifier(5, 3, seed=0).save(p)
    assert stat.S_IMODE(p.stat().st_mode) == 0o640


def test_save_through_a_symlink_writes_its_target(tmp_path):
    target, link = tmp_path / 'real.npz', tmp_path / 'link.npz'
    SoftmaxClassifier(5, 3, seed=1).save(target)
    link.symlink_to(target)
    m = SoftmaxClassifier(5, 3, seed=2)
    m.save(link)
    assert link.is_symlink() and torch.equal(SoftmaxClassifier.load(target).w, m.w)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['link.npz', 'real.npz']


@pytest.mark.parametrize('n', [245, 250, 255])
def test_save_to_a_long_name(tmp_path, n):
    p = tmp_path / ('m' * (n - 4) + '.npz')
    m = SoftmaxClassifier(5, 3, seed=0)
    m.save(p)
    assert torch.equal(SoftmaxClassifier.load(p).w, m.w) and [q.name for q in tmp_path.iterdir()] == [p.name]


def test_load_refuses_a_half_precision_checkpoint_naming_the_file(tmp_path):
    good = SoftmaxClassifier(5, 3, seed=0).save(tmp_path / 'good.npz')
    with np.load(good) as f: arrays = {k: f[k] for k in f.files}
    np.savez(tmp_path / 'half.npz', **{**arrays, 'dtype': np.array('float16'), 'w': arrays['w'].astype(np.float16), 'b': arrays['b'].astype(np.float16)})
    with pytest.raises(ValueError) as info: SoftmaxClassifier.load(tmp_path / 'half.npz')
    assert str(info.value).startswith(str(tmp_path / 'half.npz')), str(info.value)


def test_load_checks_the_declared_size_before_reading(tmp_path):
    "An archive whose w declares 10**12 float64 entries (8 TB) in a few bytes: refused from its header, naming the file."
    good = SoftmaxClassifier(5, 3, seed=0).save(tmp_path / 'good.npz')
    bad = tmp_path / 'huge.npz'
    header = np.lib.format.header_data_from_array_1_0(np.zeros((2, 3)))
    header['shape'] = (10**6, 10**6)
    buf = io.BytesIO(); np.lib.format.write_array_header_1_0(buf, header); buf.write(b'\0' * 64)
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, 'w') as zout:
        for name in zin.namelist(): zout.writestr(name, buf.getvalue() if name == 'w.npy' else zin.read(name))
    with pytest.raises(ValueError) as info: SoftmaxClassifier.load(bad)
    msg = str(info.value)
    assert msg.startswith(str(bad)) and 'limit' in msg, msg


# ---------------------------------------------------------------------------------------------------------------------
# The command line: two outputs on one path, one stderr line and a documented exit status for every failure

SAME_PATH = [
    ("train --save p --plot p",    lambda p: ('train', '--epochs', '1', '--save', p, '--plot', p)),
    ("compare --json p --plot p",  lambda p: ('compare', '--against', 'torch', '--epochs', '1', '--json', p, '--plot', p)),
    ("bench --json p --growth p",  lambda p: ('bench', '--samples', '20', '--features', '2', '--repeats', '1', '--contenders',
                                              'closed', '--dtype', 'float64', '--batch-size', 'full', '--json', p, '--growth', p)),
]


@pytest.mark.parametrize('what, argv', SAME_PATH, ids=[r[0] for r in SAME_PATH])
def test_cli_refuses_two_outputs_on_one_path(what, argv, tmp_path):
    code, out, err = run_cli(*argv(tmp_path / 'out'))
    assert (code, len(err), out) == (2, 1, ''), (code, err, out[-200:])
    assert 'same file' in err[0], err[0]
    assert list(tmp_path.iterdir()) == []


FAILED_RUNS = [
    ("compare --lr 1e308 (the scratch model diverges)", ('compare', '--against', 'torch', '--epochs', '2', '--lr', '1e308'), 1, 'softmax-scratch'),
    ("bench --samples 10**8 (no memory for it)",         ('bench', '--samples', str(10**8), '--features', '784', '--repeats', '1', '--contenders', 'closed', '--dtype', 'float64', '--batch-size', 'full'), 1, 'softmax-scratch'),
    ("train --save into /proc (cannot be written)",      ('train', '--epochs', '1', '--save', '/proc/m.npz'), 1, '/proc/m.npz'),
    ("train --plot into /proc, after the work",          ('train', '--epochs', '1', '--plot', '/proc/p.png'), 1, '/proc/p.png'),
]


@pytest.mark.parametrize('what, argv, code, frag', FAILED_RUNS, ids=[r[0] for r in FAILED_RUNS])
def test_cli_failed_run_is_one_line_with_its_code(what, argv, code, frag):
    try: got, out, err = run_cli(*argv)
    except BaseException as e: pytest.fail(f"{what}: escaped main as {type(e).__name__}: {e}")
    assert got == code and len(err) == 1 and frag in err[0], (got, err)


def test_cli_help_lists_the_exit_codes():
    for argv in ((), ('train',), ('compare',), ('bench',)):
        code, out, err = run_cli(*argv, '--help')
        assert code == 0 and all(c in out for c in ('130', '143', ' 2 ', ' 1 ')), (argv, out[-600:])


# ---------------------------------------------------------------------------------------------------------------------
# Properties: for any finite logits and valid labels (whose exact loss is a float64), every loss and gradient path is
# finite, and they agree

SETTINGS = dict(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def logits_and_labels(draw):
    """Logits anywhere in float64's range (at the top of it, a class can trail the leader by more than the range: its
    log-probability is -inf), and label rows (one-hot or soft) that put weight only on classes whose exact loss fits."""
    M, Q = draw(st.integers(1, 6)), draw(st.integers(2, 6))
    lim = draw(st.sampled_from([10., 1e4, 1e100, 1e307, 1.7e308]))
    ends = st.sampled_from([-lim, lim, -lim / 2, lim / 2])                                # often enough, leaders and laggards
    z = draw(arrays(np.float64, (M, Q), elements=st.one_of(st.floats(-lim, lim, allow_nan=False, allow_infinity=False), ends)))
    with np.errstate(over='ignore'): fits = np.isfinite(z.max(1, keepdims=True) - z)    # the class's gap to the leader is a float64
    if draw(st.booleans()):
        y = draw(arrays(np.float64, (M, Q), elements=st.floats(0, 1))) * fits
        y[np.arange(M), z.argmax(1)] += 1e-3                                            # every row some weight, on a class that fits
        y = y / y.sum(1, keepdims=True)
    else:
        picks = [draw(st.sampled_from(np.flatnonzero(f).tolist())) for f in fits]
        y = one_hot(picks, Q).numpy()
    return torch.from_numpy(z), torch.from_numpy(y)


@settings(max_examples=200, **SETTINGS)
@given(logits_and_labels())
def test_every_loss_path_is_finite_and_they_agree(zy):
    z, y = zy
    l1 = cross_entropy_from_logits(y, z)
    l2, dz = cross_entropy_and_grad(y, z)
    l3 = mean_nll(y, log_softmax(z))
    s = softmax(z)
    dz2 = cross_entropy_logits_grad(y, s)
    assert finite(l1, l2, l3, dz, dz2, s)
    assert l1.item() == l2.item() == l3.item()
    assert (dz - dz2).abs().max().item() <= 4 * torch.finfo(torch.float64).eps


@settings(max_examples=100, **SETTINGS)
@given(logits_and_labels())
def test_every_gradient_path_is_finite_and_they_agree(zy):
    "The logits fed through the linear layer as x = I, w = Z: every strategy's loss and gradients finite, and agreeing."
    z, y = zy
    M, Q = z.shape
    x, b = torch.eye(M, dtype=torch.float64), torch.zeros(Q, dtype=torch.float64)
    ref = grad_closed(x, y, z, b)
    for fn in (grad_blockdiag, grad_kronecker, grad_kronecker_chunked):
        got = fn(x, y, z, b)
        assert finite(*got), fn.__name__
        assert abs(got[0].item() - ref[0].item()) <= 1e-15 * max(1., abs(ref[0].item())), fn.__name__
        scale = 2 / M                                                # |Σ − Y| ≤ 2 entrywise, / M
        for g, r in zip(got[1:], ref[1:]): assert (g - r).abs().max().item() <= 1e-13 * scale, fn.__name__
    assert finite(*loss_and_grads(x, y, z, b))


# ---------------------------------------------------------------------------------------------------------------------
# A signal during the save itself: the save completes (signals wait), then the command ends with the signal's status

@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signal handlers need the main thread")
def test_sigterm_during_the_save_completes_it_then_exits_143(tmp_path, monkeypatch):
    real = checkpoint_module.np.savez
    def savez_then_sigterm(f, **arrays):
        real(f, **arrays)
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            pytest.fail("no SIGTERM handler during the save: the signal would kill the process and leave the temporary file")
        signal.raise_signal(signal.SIGTERM)                   # mid-save, before the fsync and the rename
    monkeypatch.setattr(checkpoint_module.np, 'savez', savez_then_sigterm)
    code, out, err = run_cli('train', '--epochs', '2', '--save', tmp_path / 'm.npz')
    assert code == 143 and len(err) == 1 and 'SIGTERM' in err[0], (code, err)
    assert [p.name for p in tmp_path.iterdir()] == ['m.npz']
    SoftmaxClassifier.load(tmp_path / 'm.npz')


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signal handlers need the main thread")
def test_sigint_during_an_api_save_waits_for_it(tmp_path, monkeypatch):
    "SIGINT mid-save in the API: the save completes (the signal waits), then Ctrl-C arrives as usual; no temporary file."
    real = checkpoint_module.np.savez
    def savez_then_sigint(f, **arrays):
        real(f, **arrays)
        signal.raise_signal(signal.SIGINT)
    monkeypatch.setattr(checkpoint_module.np, 'savez', savez_then_sigint)
    m = SoftmaxClassifier(5, 3, seed=0)
    old = signal.signal(signal.SIGINT, signal.default_int_handler)   # Ctrl-C as in a terminal (a runner may ignore it)
    try:
        with pytest.raises(KeyboardInterrupt): m.save(tmp_path / 'm.npz')
    finally: signal.signal(signal.SIGINT, old)
    assert [p.name for p in tmp_path.iterdir()] == ['m.npz'] and torch.equal(SoftmaxClassifier.load(tmp_path / 'm.npz').w, m.w)


# ---------------------------------------------------------------- NaN and inf in the features, found by the first epoch

from softmax_scratch.fused import CompilerMissing, require_compiler
from softmax_scratch.validate import NonFiniteError
try: require_compiler(); _FUSED = ['fused']
except CompilerMissing: _FUSED = []


@pytest.mark.parametrize('strategy', ['closed', *_FUSED, 'blockdiag'])
@pytest.mark.parametrize('bad', [math.nan, math.inf, -math.inf], ids=['nan', 'inf', '-inf'])
@pytest.mark.parametrize('batch_size, shuffle', [(None, False), (10, False), (7, True)], ids=['full', 'b10', 'b7-shuffled'])
def test_non_finite_features_are_refused_and_the_model_is_untouched(strategy, bad, batch_size, shuffle):
    "`fit` may leave the NaN/inf test of x to the first epoch ('closed', 'fused'); the error and the untouched model are those of the entry check."
    x, y = X.clone(), Y
    x[len(x) - 3, 1] = bad                                               # late in the data: earlier batches take their steps first
    m = SoftmaxClassifier(x.shape[1], y.shape[1], seed=0)
    m.fit(X, y, 2, 0.1, progress=False)
    w, b, h = m.w.clone(), m.b.clone(), m.history
    with pytest.raises(NonFiniteError, match=rf"^x: expected finite values, got NaN or inf \(first in row {len(x) - 3}\)$"):
        m.fit(x, y, 3, 0.1, batch_size, strategy=strategy, shuffle=shuffle, seed=0, progress=False)
    assert torch.equal(m.w, w) and torch.equal(m.b, b) and m.history is h


def test_non_finite_features_are_refused_by_every_solver_and_with_weights():
    x = X.clone(); x[0, 0] = math.nan
    for kw in (dict(solver='newton'), dict(solver='newton-cg'), dict(epochs=1, lr=0.1, sample_weight=torch.ones(len(x)))):
        with pytest.raises(NonFiniteError, match=r"^x: expected finite values"):
            SoftmaxClassifier(x.shape[1], Y.shape[1], seed=0).fit(x, Y, progress=False, **kw)
