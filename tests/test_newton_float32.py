"""Newton on float32 data: the Hessian is formed and solved in float64, so ill-conditioned raw features (breast cancer's,
H's condition number about 1e9) converge as in float64 instead of stalling at float32's precision."""
import warnings
import pytest
import torch
from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.objective import loss_and_grads


@pytest.mark.parametrize('name', ['breast_cancer', 'digits', 'wine'])
def test_float32_newton_converges_near_the_float64_optimum(name):
    datasets = pytest.importorskip('sklearn.datasets')
    d = getattr(datasets, f'load_{name}')()
    x, y = torch.tensor(d.data), torch.tensor(d.target)
    (M, N), Q = x.shape, int(y.max()) + 1
    fits = {}
    for dtype, tol in ((torch.float64, 1e-10), (torch.float32, 1e-4)):
        m = SoftmaxClassifier(N, Q, dtype=dtype).set_params(torch.zeros(N, Q), torch.zeros(Q))
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', RuntimeWarning)
            h = m.fit(x.to(dtype), y, solver='newton', l2=1 / M, tol=tol, progress=False)
        fits[dtype] = m, h
    (m64, h64), (m32, h32) = fits[torch.float64], fits[torch.float32]
    assert h64.converged and h32.converged and len(h32) <= len(h64) + 5, (len(h32), h32.solver['grad_norm'][-3:])
    assert m32.w.dtype == torch.float32
    # at max |∇L| ≤ 1e-4 the parameters may differ by about that over the smallest curvature, the objective by its square
    objective = lambda m: loss_and_grads(x, y1, m.w.double(), m.b.double(), 'closed', 1 / M)[0].item()
    y1 = torch.nn.functional.one_hot(y, Q).double()
    gap = objective(m32) - objective(m64)
    assert 0 <= gap < 1e-6, gap
