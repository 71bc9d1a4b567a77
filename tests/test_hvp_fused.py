"""The compiled Hessian-vector product, fused.hvp_fused, against newton.hessian_product (float64 to 1e-12): random
shapes, rows that do not fill a tile, Σ given or computed in the pass, row weights, the penalty, a reduce over two
"processes", inputs that are not contiguous; repeatable for a given number of threads; CG to the same direction."""
import pytest
import torch
from softmax_scratch.fused import CompilerMissing, require_compiler, hvp_fused
from softmax_scratch.newton import hessian_product, conjugate_gradient
from softmax_scratch.softmax import softmax
from softmax_scratch.checks import check_close
from softmax_scratch.objective import loss_and_grads

try: require_compiler(); NO_COMPILER = None
except CompilerMissing as e: NO_COMPILER = str(e)
pytestmark = pytest.mark.skipif(NO_COMPILER is not None, reason=f"hvp_fused not testable here: {NO_COMPILER}")


def problem(M, N, Q, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x, w = torch.randn(M, N, generator=g, dtype=dtype), torch.randn(N, Q, generator=g, dtype=dtype)
    b, v = torch.randn(Q, generator=g, dtype=dtype), torch.randn(N + 1, Q, generator=g, dtype=dtype)
    return x, w, b, v, torch.rand(M, generator=g, dtype=dtype) + 0.01


SHAPES = [(1, 1, 2), (2, 3, 2), (15, 7, 3), (16, 8, 10), (17, 9, 11), (33, 31, 4), (130, 64, 7), (1000, 100, 10)]


@pytest.mark.parametrize('M, N, Q', SHAPES)
@pytest.mark.parametrize('l2', [0., 0.25])
@pytest.mark.parametrize('weighted', [False, True])
def test_against_hessian_product(M, N, Q, l2, weighted):
    x, w, b, v, s = problem(M, N, Q, M * 1000 + N * 10 + Q)
    s = s if weighted else None
    probs = softmax(x @ w + b)
    ref = hessian_product(x, probs, v, l2, s)
    check_close(hvp_fused(x, probs, v, l2, s), ref, 1e-12, 'Σ given')
    check_close(hvp_fused(x, (w, b), v, l2, s), ref, 1e-12, 'Σ in the pass')
    if M > 1:
        k, kept = M // 2, []
        rows = lambda r: (x[r], probs[r], v, l2, None if s is None else s[r])
        hvp_fused(*rows(slice(k, M)), reduce=lambda t: kept.append(t) or t)
        check_close(hvp_fused(*rows(slice(0, k)), reduce=lambda t: t + kept[0]), ref, 1e-12, 'two processes')


def test_not_contiguous_inputs():
    x, w, b, v, s = problem(50, 6, 4, 3)
    xt, wt, vt = x.T.contiguous().T, w.T.contiguous().T, v.T.contiguous().T        # the same values, other strides
    assert not (xt.is_contiguous() or wt.is_contiguous() or vt.is_contiguous())
    probs = softmax(x @ w + b)
    check_close(hvp_fused(xt, (wt, b), vt, 0.1, s[::1]), hessian_product(x, probs, v, 0.1, s), 1e-12, 'strides')


@pytest.mark.parametrize('threads', [1, 2])
def test_repeatable_for_a_number_of_threads(threads):
    x, w, b, v, s = problem(5000, 30, 10, 7)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try: first, second = (hvp_fused(x, (w, b), v, 0., s) for _ in range(2))
    finally: torch.set_num_threads(before)
    assert torch.equal(first, second)


def test_float32():
    x, w, b, v, s = problem(3000, 50, 10, 11, torch.float32)
    probs = softmax(x @ w + b)
    check_close(hvp_fused(x, probs, v, 0.1, s), hessian_product(x, probs, v, 0.1, s), 1e-5, 'float32')


def test_conjugate_gradients_reach_the_same_direction():
    x, w, b, _, _ = problem(400, 20, 5, 13)
    y = torch.nn.functional.one_hot(torch.arange(400) % 5, 5).double()
    _, dw, db = loss_and_grads(x, y, w, b, 'closed', 0.1)
    g = torch.cat([dw, db[None]])                               # ∇L: in the range of H (the bias shift is flat)
    probs, atol = softmax(x @ w + b), 1e-8 * g.norm().item()
    hv = lambda v: hessian_product(x, probs, v, 0.1)
    d_ref, k_ref = conjugate_gradient(hv, g, atol, g.numel())
    d, k = conjugate_gradient(lambda v: hvp_fused(x, probs, v, 0.1), g, atol, g.numel())
    assert abs(k - k_ref) <= 1                                  # rounding may move the stop by one product
    for e in (d, d_ref): assert (g - hv(e)).norm() <= atol      # both solve Hd = g to the tolerance
    check_close(d, d_ref, 1e-6, 'the CG direction')


@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
def test_newton_cg_steps_with_the_compiled_products(weighted, dtype):
    "newton_step(hessian_free=True, fused=True): the step of the uncompiled products, row weights and float32 too."
    " Without weights the loss comes from the compiled loop too: equal to rounding (its own order of additions)."
    from softmax_scratch.newton import newton_step
    from softmax_scratch.validate import one_hot
    x, w, b, _, s = problem(120, 6, 4, 7, dtype)
    y = one_hot(torch.randint(4, (120,), generator=torch.Generator().manual_seed(1)), 4).to(dtype)
    s = s if weighted else None
    tol = 1e-10 if dtype == torch.float64 else 1e-4
    for _ in range(3):                                        # three steps from a random start, each compared
        L0, w0, b0, r0 = newton_step(x, y, w, b, 0.01, 0., s, hessian_free=True)
        L1, w1, b1, r1 = newton_step(x, y, w, b, 0.01, 0., s, hessian_free=True, fused=True)
        eps = torch.finfo(dtype).eps
        assert (L0 == L1 if weighted else abs(L0 - L1) <= 8 * eps * abs(L0)), (L0, L1)
        assert r0['step'] == r1['step'] and abs(r0['cg'] - r1['cg']) <= 1, (r0, r1)
        check_close(w1, w0, tol, 'W'); check_close(b1, b0, tol, 'b')
        w, b = w0, b0
