"""The compiled path, strategy='fused': the same numbers as 'closed' (float64 to 1e-12) on the seed's experiment, odd
shapes, a last partial batch and the penalty; the same errors for bad input; and a clear refusal without a compiler."""
import math, os, warnings
import pytest
import torch
from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.objective import loss_and_grads
from softmax_scratch.data import make_dataset
from softmax_scratch.fused import CompilerMissing, require_compiler
from softmax_scratch.checks import check_close

try: require_compiler(); NO_COMPILER = None
except CompilerMissing as e: NO_COMPILER = str(e)
needs_compiler = pytest.mark.skipif(NO_COMPILER is not None, reason=f"strategy='fused' not testable here: {NO_COMPILER}")


def fit_both(x, y, **kw):
    out = {}
    for s in ('closed', 'fused'):
        m = SoftmaxClassifier(x.shape[1], y.shape[1] if y.ndim == 2 else int(y.max()) + 1, seed=0, dtype=x.dtype)
        out[s] = (m.fit(x, y, strategy=s, progress=False, **kw), m)
    return out


@needs_compiler
def test_seed_experiment():
    ds = make_dataset(seed=0)
    runs = fit_both(ds.x_train, ds.y_train, epochs=16, lr=0.01, batch_size=28, valid=(ds.x_valid, ds.y_valid))
    (hc, mc), (hf, mf) = runs['closed'], runs['fused']
    for k in ('train_loss', 'valid_loss', 'valid_acc'): check_close(getattr(hf, k), getattr(hc, k), 1e-12, k)
    check_close(mf.w, mc.w, 1e-12, 'W'); check_close(mf.b, mc.b, 1e-12, 'b')
    assert mf.w.T.is_contiguous()                              # the model's layout, Wᵀ contiguous, is kept


@needs_compiler
@pytest.mark.parametrize('M, N, Q, batch_size, l2, shuffle', [
    (1, 4, 3, None, 0., False), (6, 1, 4, 4, 0., False), (9, 5, 2, 2, 0., False),   # M=1; N=1 and a last batch of 2; Q=2, last batch of 1
    (85, 5, 3, 28, 0.05, False), (200, 17, 6, 64, 0.01, True), (300, 40, 10, None, 0.1, False)])
def test_odd_shapes_batches_penalty(M, N, Q, batch_size, l2, shuffle):
    g = torch.Generator().manual_seed(M * N + Q)
    x = torch.randn(M, N, generator=g, dtype=torch.float64)
    y = torch.randint(Q, (M,), generator=g)
    y = torch.nn.functional.one_hot(y, Q).double()
    runs = fit_both(x, y, epochs=3, lr=0.1, batch_size=batch_size, l2=l2, shuffle=shuffle, seed=1)
    (hc, mc), (hf, mf) = runs['closed'], runs['fused']
    check_close(hf.train_loss, hc.train_loss, 1e-12, 'train loss')
    check_close(mf.w, mc.w, 1e-12, 'W'); check_close(mf.b, mc.b, 1e-12, 'b')
    for a, b in zip(loss_and_grads(x, y, mc.w, mc.b, 'fused', l2), loss_and_grads(x, y, mc.w, mc.b, 'closed', l2)):
        check_close(a, b, 1e-12, 'loss_and_grads')
    check_close(mc.gradients(x, y, 'fused', l2)[0], mc.gradients(x, y, 'closed', l2)[0], 1e-12, 'gradients')


@needs_compiler
def test_float32_within_rounding():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1000, 100, generator=g, dtype=torch.float32)
    y = torch.nn.functional.one_hot(torch.randint(10, (1000,), generator=g), 10).float()
    runs = fit_both(x, y, epochs=2, lr=0.1, batch_size=128)
    check_close(runs['fused'][1].w, runs['closed'][1].w, 1e-5, 'W float32')
    check_close(runs['fused'][0].train_loss, runs['closed'][0].train_loss, 1e-5, 'loss float32')


@needs_compiler
def test_divergence_is_handled_as_for_closed():
    ds = make_dataset(seed=0)
    m = SoftmaxClassifier(5, 3, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        h = m.fit(ds.x_train * 1e150, ds.y_train, epochs=5, lr=1e150, batch_size=28, strategy='fused', progress=False)
    assert h.stopped.startswith('diverged') and any('Lower lr' in str(c.message) for c in caught)
    assert torch.isfinite(m.w).all() and math.isfinite(m.evaluate(ds.x_train, ds.y_train))


@needs_compiler
@pytest.mark.parametrize('bad', ['nan x', 'short y', 'float32 x', 'two-hot y', 'wide x'])
def test_bad_input_same_errors_as_closed(bad):
    ds = make_dataset(seed=0)
    x, y = ds.x_train.clone(), ds.y_train.clone()
    if bad == 'nan x': x[3, 1] = float('nan')
    if bad == 'short y': y = y[:-1]
    if bad == 'float32 x': x = x.float()
    if bad == 'two-hot y': y[2] = 1.
    if bad == 'wide x': x = torch.cat([x, x], 1)
    errors = {}
    for s in ('closed', 'fused'):
        with pytest.raises((ValueError, TypeError)) as e: SoftmaxClassifier(5, 3, seed=0).fit(x, y, 1, 0.1, 28, strategy=s, progress=False)
        errors[s] = (type(e.value), str(e.value))
    assert errors['fused'] == errors['closed']


def test_without_a_compiler_fused_is_refused_and_the_rest_works(monkeypatch):
    monkeypatch.setenv('CXX', '/nonexistent/c++')
    ds = make_dataset(seed=0)
    m = SoftmaxClassifier(5, 3, seed=0)
    with pytest.raises(CompilerMissing, match=r"strategy: 'fused' .*needs a C\+\+ compiler.*strategy='closed'"):
        m.fit(ds.x_train, ds.y_train, 1, 0.1, 28, strategy='fused', progress=False)
    with pytest.raises(CompilerMissing, match="strategy='closed'"): m.gradients(ds.x_train, ds.y_train, 'fused')
    for s in ('closed', 'blockdiag', 'kronecker'):
        assert len(m.fit(ds.x_train, ds.y_train, 1, 0.1, 28, strategy=s, progress=False)) == 1


@pytest.mark.skipif(NO_COMPILER is not None, reason=str(NO_COMPILER))
def test_the_loop_checks_what_the_c_side_assumes():
    from softmax_scratch.fused import extension
    ext, x, y = extension(), torch.randn(6, 4, dtype=torch.float64), torch.eye(3, dtype=torch.float64)[[0, 1, 2] * 2]
    wt, b = torch.zeros(3, 4, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    assert torch.isfinite(ext.loss_grads(x, y, wt, b, 0.)[0])
    for args, what in [((x.int(), y, wt, b), 'x: expected float64 or float32'),
                       ((x.t().contiguous().t(), y, wt, b), 'x: expected a contiguous CPU tensor'),
                       ((x, y.float(), wt, b), 'y: expected a contiguous CPU tensor of torch.float64'),
                       ((x, y[:5], wt, b), 'shapes disagree'), ((x[:0], y[:0], wt, b), 'at least one row')]:
        with pytest.raises(ValueError, match=what): ext.loss_grads(*args, 0.)
    with pytest.raises(ValueError, match='batch_size'): ext.sgd_epoch(x, y, wt, b, 0.1, 0, 0.)
    with pytest.raises(ValueError, match='probs or'): ext.hvp_sums(x, None, None, None, None, wt, b)
    with pytest.raises(ValueError, match="sample_weight: expected shape"):
        ext.hvp_sums(x, None, torch.ones(5, dtype=torch.float64), wt, b, wt, b)
