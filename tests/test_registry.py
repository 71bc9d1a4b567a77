"""Adding a solver or a strategy is one registration (issue 24): a momentum SGD registered here trains through
`SoftmaxClassifier.fit`, the scikit-learn estimator and across the solver-argument rule; a strategy registered here
(autodiff itself) runs wherever a strategy name is taken."""
import numpy as np
import pytest
import torch

from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.data import make_dataset
from softmax_scratch.estimator import SoftmaxRegression
from softmax_scratch.linear import linear
from softmax_scratch.losses import cross_entropy_from_logits
from softmax_scratch.objective import STRATEGIES, Strategy, loss_and_grads, register_strategy
from softmax_scratch.solvers import SOLVERS, Solver, register_solver, solver_arguments

ds = make_dataset(seed=0)
X, Y = ds.x_train, ds.y_train


def momentum(mu):
    "Gradient descent with momentum μ: V ← μV + ∇L, Θ ← Θ − ηV (a fresh velocity per registration)."
    velocity = {}
    def step(model, x, y, lr, strategy, l2, tol, sample_weight=None, reduce=None):
        loss, dw, db = loss_and_grads(x, y, model.w, model.b, strategy, l2, sample_weight, reduce)
        vw, vb = mu * velocity.get('w', 0) + dw, mu * velocity.get('b', 0) + db
        velocity.update(w=vw, b=vb)
        return loss, model.w - lr * vw, model.b - lr * vb, {}
    return Solver(step)


@pytest.fixture
def registered():
    register_solver('momentum', momentum(0.9))
    register_strategy('autograd', Strategy(grad_autograd))
    yield
    del SOLVERS['momentum'], STRATEGIES['autograd']


def grad_autograd(x, y, w, b, weights=None):
    f = lambda w, b: cross_entropy_from_logits(y, linear(x, w, b), weights)
    return f(w, b), *torch.func.grad(f, argnums=(0, 1))(w, b)


def test_a_registered_solver_trains_through_fit(registered):
    h = SoftmaxClassifier(5, 3, seed=0).fit(X, Y, 16, 0.01, 28, solver='momentum', progress=False)
    plain = SoftmaxClassifier(5, 3, seed=0).fit(X, Y, 16, 0.01, 28, progress=False)
    assert len(h) == 16 and h.train_loss[-1] < plain.train_loss[-1]      # momentum goes further in as many steps
    assert solver_arguments('momentum', 3, 0.1) == dict(epochs=3, lr=0.1, batch_size=None, max_iter=None)


def test_a_registered_solver_trains_through_the_estimator(registered):
    est = SoftmaxRegression(solver='momentum', lr=0.05, max_iter=200).fit(X.numpy(), Y.argmax(1).numpy())
    base = SoftmaxRegression(solver='sgd', lr=0.05, max_iter=200).fit(X.numpy(), Y.argmax(1).numpy())
    assert est.score(X.numpy(), Y.argmax(1).numpy()) >= base.score(X.numpy(), Y.argmax(1).numpy()) - 0.05
    assert not np.allclose(est.coef_, base.coef_)                           # it really ran the registered step


def test_a_registered_strategy_runs_wherever_a_name_is_taken(registered):
    a = SoftmaxClassifier(5, 3, seed=0); a.fit(X, Y, 3, 0.1, 28, strategy='autograd', progress=False)
    b = SoftmaxClassifier(5, 3, seed=0); b.fit(X, Y, 3, 0.1, 28, progress=False)
    assert torch.allclose(a.w, b.w, rtol=1e-12, atol=1e-14)
    est = SoftmaxRegression(solver='sgd', strategy='autograd', lr=0.1, max_iter=5).fit(X.numpy(), Y.argmax(1).numpy())
    assert est.coef_.shape == (3, 5)


def test_registrations_are_checked():
    with pytest.raises(TypeError, match='solver: expected a Solver'): register_solver('x', lambda *a: None)
    with pytest.raises(ValueError, match="solver.counts: expected 'epochs' or 'iterations'"):
        register_solver('x', Solver(lambda *a: None, counts='steps'))
    with pytest.raises(TypeError, match='strategy: expected a Strategy'): register_strategy('x', grad_autograd)
