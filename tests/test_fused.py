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


def close_to_float64(u, exact, scale, tol, what):
    "Float32 against the float64 result of the same inputs, entry by entry: |u − exact| ≤ tol · scale, where scale is"
    " the sum of the magnitudes of the terms (|X|ᵀ|Δ|, 1ᵀ|Δ|), so that a sum that cancels is judged by its terms."
    err = ((u.double() - exact).abs() / scale.clamp_min(1e-300)).max().item()
    assert err <= tol, f'{what}: error {err:.2e} of the terms\' magnitude exceeds {tol:.0e}'


@needs_compiler
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_every_block_and_tail_of_the_kernel(dtype):
    "Register blocks of 4 rows × 5 classes and 5 classes × 4 vectors, their tails (classes 1–4 left, features short of"
    " a vector, rows short of a tile or of 4), the tile's row count: every combination against 'closed' and the HVP."
    from softmax_scratch.fused import grad_fused, hvp_fused
    from softmax_scratch.gradients import grad_closed
    from softmax_scratch.newton import hessian_product
    from softmax_scratch.softmax import softmax
    gen = torch.Generator().manual_seed(0)
    for M in (1, 3, 31, 32, 33, 65, 130):
        for N in (1, 7, 8, 9, 15, 16, 17, 33, 64, 65, 100):
            for Q in (2, 3, 4, 5, 6, 9, 10, 11, 13):
                x = torch.randn(M, N, generator=gen, dtype=dtype)
                w, b = torch.randn(N, Q, generator=gen, dtype=dtype), torch.randn(Q, generator=gen, dtype=dtype)
                y = torch.nn.functional.one_hot(torch.randint(Q, (M,), generator=gen), Q).to(dtype)
                what = f'M={M} N={N} Q={Q} {dtype}'
                got, v = grad_fused(x, y, w, b), torch.randn(N + 1, Q, generator=gen, dtype=dtype)
                hv = hvp_fused(x, (w, b), v, 0.1) if M in (3, 65) and Q in (4, 11) else None
                if dtype == torch.float64:
                    for name, u, ref in zip(('L', 'dW', 'db'), got, grad_closed(x, y, w, b)):
                        check_close(u, ref, 1e-12, f'{name}, {what}')
                    if hv is not None: check_close(hv, hessian_product(x, softmax(x @ w + b), v, 0.1), 1e-12, what)
                    continue
                xd, wd, bd, yd = x.double(), w.double(), b.double(), y.double()
                exact, delta = grad_closed(xd, yd, wd, bd), (softmax(xd @ wd + bd) - yd).abs() / M
                terms = (xd.abs() @ wd.abs() + bd.abs()).max(1).values.mean()      # the logits' terms, per row
                close_to_float64(got[0], exact[0], terms, 1e-5, f'L, {what}')
                close_to_float64(got[1], exact[1], xd.abs().T @ delta, 1e-5, f'dW, {what}')
                close_to_float64(got[2], exact[2], delta.sum(0), 1e-5, f'db, {what}')


@needs_compiler
@pytest.mark.parametrize('threads', [1, 2])
def test_an_order_is_visited_without_a_copy_and_to_the_bit(threads):
    "A shuffled epoch through `order` is the epoch on the rows gathered in that order, bit for bit, for a thread count."
    from softmax_scratch.fused import sgd_epoch
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        gen = torch.Generator().manual_seed(3)
        x, w, b = torch.randn(1000, 37, generator=gen), torch.randn(37, 6, generator=gen), torch.zeros(6)
        x, w, b = x.double(), w.double(), b.double()
        y = torch.nn.functional.one_hot(torch.randint(6, (1000,), generator=gen), 6).double()
        order = torch.randperm(1000, generator=gen)
        for batch_size in (1, 64, 1000):
            a, g = sgd_epoch(x, y, w, b, 0.05, batch_size, 0.01, order), sgd_epoch(x[order], y[order], w, b, 0.05,
                                                                                   batch_size, 0.01)
            assert all(torch.equal(u, v) for u, v in zip(a, g)), batch_size
    finally: torch.set_num_threads(before)
