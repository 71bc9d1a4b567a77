"""Shuffled epochs: the strategies that run a whole epoch in one call take the order itself (the lean path gathers each
chunk's rows into a reused buffer instead of copying X), and every strategy trains on exactly the rows, in exactly the
order, of an unshuffled run on the permuted data."""
import pytest
import torch

from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.inplace import chunk_rows
from softmax_scratch.solvers import SOLVERS, Solver, register_solver, sgd
from softmax_scratch.fused import CompilerMissing, require_compiler

try: require_compiler(); _FUSED = ['fused']
except CompilerMissing: _FUSED = []

M, N, Q = 1401, 800, 4          # float64: chunks of chunk_rows(800) = 655 rows, so a full batch is three chunks

@pytest.fixture(scope='module')
def data():
    gen = torch.Generator().manual_seed(0)
    assert M > 2 * chunk_rows(N)
    return torch.randn(M, N, generator=gen, dtype=torch.float64), torch.randint(Q, (M,), generator=gen)

@pytest.mark.parametrize('strategy', ['closed', 'blockdiag', *_FUSED, 'kronecker'])
@pytest.mark.parametrize('batch_size', [None, 128, 700])
def test_a_shuffled_epoch_is_the_unshuffled_epoch_on_the_permuted_rows(data, strategy, batch_size):
    if strategy == 'kronecker' and batch_size is None: pytest.skip('slow by design; batches cover it')
    x, y = data
    order = torch.randperm(M, generator=torch.Generator().manual_seed(3))      # what fit draws for its first epoch with seed=3
    a = SoftmaxClassifier(N, Q, seed=0); ha = a.fit(x, y, 1, 0.05, batch_size, strategy=strategy, l2=0.01, shuffle=True, seed=3, progress=False)
    b = SoftmaxClassifier(N, Q, seed=0); hb = b.fit(x[order], y[order], 1, 0.05, batch_size, strategy=strategy, l2=0.01, progress=False)
    assert torch.equal(a.w, b.w) and torch.equal(a.b, b.b) and ha.train_loss == hb.train_loss

@pytest.mark.parametrize('strategy', ['closed', 'blockdiag'])
@pytest.mark.parametrize('batch_size', [None, 128, 700])
def test_a_shuffled_lean_epoch_in_one_call_is_sgd_step_by_step(data, strategy, batch_size):
    x, y = data
    def stepwise(model, x, y, lr, strategy, l2, tol): return sgd(model, x, y, lr, strategy, l2)   # not the library's sgd: one call per step
    a = SoftmaxClassifier(N, Q, seed=0); ha = a.fit(x, y, 2, 0.05, batch_size, strategy=strategy, l2=0.01, shuffle=True, seed=3, progress=False)
    register_solver('stepwise', Solver(stepwise))
    try: b = SoftmaxClassifier(N, Q, seed=0); hb = b.fit(x, y, 2, 0.05, batch_size, strategy=strategy, solver='stepwise', l2=0.01, shuffle=True, seed=3, progress=False)
    finally: del SOLVERS['stepwise']
    assert torch.equal(a.w, b.w) and torch.equal(a.b, b.b) and ha.train_loss == hb.train_loss
