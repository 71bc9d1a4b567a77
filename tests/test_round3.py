"""Issue 26, robustness round three: the hostile examples of the issue that the other new files do not hold
(test_soft_labels.py: soft labels; test_read_data.py: data files; test_cli_files.py: the command line's outputs;
test_loss_overflow.py: the loss from logits; test_distributed_sigint.py: Ctrl-C under --nproc). Each of these failed on
the code before this round (the note of the round says how)."""
import signal, threading, warnings
import numpy as np
import pytest
import torch

from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.cli import main
from softmax_scratch.data import make_dataset
from softmax_scratch.objective import strategy_names
from softmax_scratch.validate import NonFiniteError

ds = make_dataset(seed=0)
X, Y = ds.x_train, ds.y_train


# --- silent wrong numbers -----------------------------------------------------------------------------------------

def test_evaluate_at_huge_but_finite_logits_is_the_exact_loss():
    m = SoftmaxClassifier(1, 2).set_params([[1e308, -1e308]], [0, 0])
    assert m.evaluate([[1.]], [0]) == 0.0                     # the true class is 2e308 ahead: the loss is 0, not NaN
    with pytest.raises(NonFiniteError): m.evaluate([[1.]], [1])   # 2e308 behind: the loss itself leaves float64
    dw, db = m.gradients([[1.]], [1])                          # but its gradient is representable, and exact
    assert dw.tolist() == [[1., -1.]] and db.tolist() == [1., -1.]


@pytest.mark.parametrize('strategy', strategy_names(compiled=False))
def test_gradients_at_logits_that_overflow_are_refused_like_predict_proba(strategy):
    m = SoftmaxClassifier(1, 2).set_params([[1e200, -1e200]], [0, 0])
    with pytest.raises(NonFiniteError, match=r'x: the logits XW \+ b leave the range'): m.predict_proba([[1e200]])
    with pytest.raises(NonFiniteError, match=r'x: the logits XW \+ b leave the range'): m.gradients([[1e200]], [0], strategy)


# --- divergence that goes unnoticed -------------------------------------------------------------------------------

@pytest.mark.parametrize('lr, batch_size', [(1e200, 7), (1e5, 28)])
def test_a_loss_that_explodes_within_the_first_epoch_is_divergence(lr, batch_size):
    m = SoftmaxClassifier(5, 3, seed=0)
    with pytest.warns(RuntimeWarning, match='diverged in epoch 1'):
        h = m.fit(X, Y, epochs=3, lr=lr, batch_size=batch_size, progress=False)
    assert h.stopped and 'the loss before training' in h.stopped or 'finite' in h.stopped, h.stopped
    assert torch.isfinite(m.w).all() and m.evaluate(X, Y) < 10


def test_an_easy_first_batch_is_no_false_alarm():
    "Rows sorted by class: the first batch is easy at the start, the epoch's mean far above it, and nothing diverges."
    order = torch.argsort(Y.argmax(1))
    m = SoftmaxClassifier(5, 3).set_params(torch.zeros(5, 3), torch.tensor([30., 0., 0.]))   # class 0 nearly sure
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        h = m.fit(X[order], Y[order], epochs=2, lr=1e-3, batch_size=7, progress=False)
    assert h.stopped is None and len(h) == 2


def test_a_solver_without_lr_is_not_told_to_lower_it():
    m = SoftmaxClassifier(5, 3).set_params(torch.zeros(5, 3), torch.zeros(3))
    with pytest.warns(RuntimeWarning) as caught:
        h = m.fit(X * 1e300, Y, solver='newton', l2=0.1, progress=False)
    assert h.stopped and 'lr' not in h.stopped and 'Standardise' in h.stopped, h.stopped
    assert all('it was None' not in str(w.message) for w in caught)


# --- crashes instead of answers or clear errors -------------------------------------------------------------------

def test_direct_newton_at_saturated_logits_takes_a_step():
    "Probabilities that underflow make H + P singular in floating point: the solve falls back to least squares."
    x = torch.cat([X, -X]) * 50
    y = torch.cat([Y, Y.flip(1)])
    m = SoftmaxClassifier(5, 3).set_params(torch.full((5, 3), 40.) * torch.tensor([1., -1., 0.]), torch.zeros(3))
    h = m.fit(x, y, solver='newton', l2=0., max_iter=5, progress=False)
    assert h is m.history and len(h) >= 1 and torch.isfinite(m.w).all()


@pytest.mark.parametrize('strategy', ['closed', 'kronecker', 'blockdiag'])
def test_a_batch_larger_than_the_rows_is_the_full_batch(strategy):
    a, b = SoftmaxClassifier(5, 3, seed=0), SoftmaxClassifier(5, 3, seed=0)
    a.fit(X, Y, 2, 0.1, 2**63, strategy=strategy, progress=False)
    b.fit(X, Y, 2, 0.1, None, strategy=strategy, progress=False)
    assert torch.equal(a.w, b.w)


def test_an_unknown_backend_is_a_value_error_naming_the_device():
    with pytest.raises(ValueError, match='device: hpu is not available here'): SoftmaxClassifier(5, 3, device='hpu')


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signal handlers need the main thread")
def test_an_exception_from_a_handler_mid_epoch_leaves_the_last_completed_epoch(monkeypatch):
    from softmax_scratch.solvers import SOLVERS, Solver, sgd
    calls = [0]
    def step(model, x, y, lr, strategy, l2=0., tol=0.):
        calls[0] += 1
        if calls[0] == 6: raise RuntimeError('a handler of yours')
        return sgd(model, x, y, lr, strategy, l2)
    monkeypatch.setitem(SOLVERS, 'raising', Solver(step))
    m, ref = SoftmaxClassifier(5, 3, seed=0), SoftmaxClassifier(5, 3, seed=0)
    with pytest.raises(RuntimeError, match='a handler of yours'):
        m.fit(X, Y, 3, 0.1, 28, solver='raising', progress=False)
    ref.fit(X, Y, 1, 0.1, 28, progress=False)
    assert torch.equal(m.w, ref.w) and len(m.history) == 1 and m.history.stopped.startswith('interrupted by RuntimeError')


# --- files --------------------------------------------------------------------------------------------------------

def test_a_nan_model_does_not_save_over_a_good_checkpoint(tmp_path):
    good = SoftmaxClassifier(5, 3, seed=0); good.save(tmp_path / 'm.npz')
    bad = SoftmaxClassifier(5, 3, seed=1); bad.w[0, 0] = float('nan')
    with pytest.raises(ValueError, match='m.npz: the parameters are not finite'): bad.save(tmp_path / 'm.npz')
    assert torch.equal(SoftmaxClassifier.load(tmp_path / 'm.npz').w, good.w)


def test_load_refuses_an_unexpected_member_before_reading_any(tmp_path, monkeypatch):
    m = SoftmaxClassifier(5, 3, seed=0)
    np.savez(tmp_path / 'x.npz', format=np.array('softmax_scratch.SoftmaxClassifier/1'), dtype=np.array('float64'),
             w=m.w.numpy(), b=m.b.numpy(), junk=np.zeros(1000))
    monkeypatch.setattr(np, 'load', lambda *a, **k: pytest.fail('np.load called before the archive was refused'))
    with pytest.raises(ValueError, match="x.npz: not a softmax_scratch checkpoint .*junk"):
        SoftmaxClassifier.load(tmp_path / 'x.npz')


def test_file_errors_name_the_file(tmp_path):
    np.savez(tmp_path / 'e.npz', format=np.array('softmax_scratch.SoftmaxClassifier/1'), dtype=np.array('float64'),
             w=np.zeros((0, 3)), b=np.zeros(3))
    with pytest.raises(ValueError, match='e.npz: inconsistent shapes'): SoftmaxClassifier.load(tmp_path / 'e.npz')
    with pytest.raises(ValueError, match='NUL byte'): SoftmaxClassifier(5, 3).save('a\0b.npz')
    w = np.arange(15.).reshape(5, 3)
    np.savez(tmp_path / 'big.npz', format=np.array('softmax_scratch.SoftmaxClassifier/1'), dtype=np.array('float64'),
             w=w.astype('>f8'), b=np.zeros(3).astype('>f8'))
    assert np.array_equal(SoftmaxClassifier.load(tmp_path / 'big.npz').w.numpy(), w)


# --- the command line ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('argv, why', [
    (('--solver', 'newton', '--batch-size', '7'), "--batch-size: solver 'newton' takes the whole batch"),
    (('--solver', 'newton', '--lr', '5'), "--lr: solver 'newton' takes no learning rate"),
    (('--solver', 'newton-cg', '--epochs', '3'), "--epochs: solver 'newton-cg' counts iterations"),
    (('--tol', '0.5',), "--tol: stops a solver that counts iterations; --solver sgd runs --epochs"),
    (('--max-iter', '3',), "--max-iter: bounds the iterations of"),
])
def test_train_refuses_what_the_solver_does_not_take(argv, why, capsys):
    assert main(['train', *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and why in err[0], err


@pytest.mark.parametrize('C, weights', [(1e-320, None), (1.0, 1e-320)])
def test_a_penalty_that_overflows_names_C_not_l2(C, weights):
    from softmax_scratch.estimator import SoftmaxRegression
    s = None if weights is None else np.full(len(X), weights)
    with pytest.raises(ValueError, match=r'C: λ = 1/\(C·Σs\) overflows'):
        SoftmaxRegression(C=C).fit(X.numpy(), Y.argmax(1).numpy(), sample_weight=s)
