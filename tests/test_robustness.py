"""The long case lists that nbs/08_robustness.ipynb summarises: every public entry point fed bad input, the command
line's bad arguments, corrupted and interrupted checkpoints, and properties on random cases (Hypothesis).

`make test` runs it (`make tests`: `python -m pytest tests -q --ignore=tests/test_docs.py`); on its own:
`.venv/bin/python -m pytest tests/test_robustness.py -q`. Notation as in the notebooks: M samples, N features, Q classes.

A bad-input row is `(what was tried, call, expected exception type(s), message fragments)`: the call must raise that
type (or a subclass) with a message that starts with the first fragment, the argument's name and a colon, and holds
every other fragment. A refused call leaves no file behind.
"""
import contextlib, io, math, pickle, shutil, tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import softmax_scratch.checkpoint as checkpoint_module
from softmax_scratch.checks import rel_err
from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.gradients import (grad_blockdiag, grad_closed, grad_kronecker, grad_kronecker_chunked, row_chunks,
                                       kronecker_chunks, floor_probs)
from softmax_scratch.inplace import chunk_rows
from softmax_scratch.objective import loss_and_grads, strategy_names
STRATEGIES = strategy_names(compiled=False)   # the paths written in PyTorch
from softmax_scratch.bench import bench, epoch_runner, growth, layouts, paired_ratio
from softmax_scratch.cli import main
from softmax_scratch.compare import compare
from softmax_scratch.data import load_dataset, make_dataset
from softmax_scratch.linear import linear, linear_jacobian_b, linear_jacobian_w, linear_vjp
from softmax_scratch.losses import cross_entropy, cross_entropy_and_grad, cross_entropy_from_logits, cross_entropy_grad, \
    cross_entropy_logits_grad, mean_nll
from softmax_scratch.softmax import log_softmax, softmax, softmax_jacobian, softmax_jacobian_blocks, softmax_jacobian_full, \
    softmax_vjp
from softmax_scratch.validate import as_features, as_labels, one_hot
from softmax_scratch.newton import hessian, hvp, newton_step

nan, inf = float('nan'), float('inf')
TMP = Path(tempfile.mkdtemp(prefix='softmax-scratch-robustness-'))
(TMP / 'folder').mkdir()


@pytest.fixture(scope='module', autouse=True)
def _remove_tmp():
    yield
    shutil.rmtree(TMP, ignore_errors=True)


def files_under(folder: Path) -> list:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob('*'))


def ids(rows) -> list:
    return [r[0] for r in rows]


# ---------------------------------------------------------------------------------------------------------------------
# Bad inputs, entry point by entry point

DATA_ROWS = [
    ("one_hot: labels of shape (1,2)",            lambda: one_hot([[0, 1]]),                      ValueError, "labels:"),
    ("one_hot: a negative label",                 lambda: one_hot([0, -1], 3),                    ValueError, ("labels:", "got -1")),
    ("one_hot: label 3 with n_classes=3",         lambda: one_hot([0, 3], 3),                     ValueError, ("labels:", "0..2", "got 3")),
    ("one_hot: label 1.5",                        lambda: one_hot([0, 1.5]),                      ValueError, ("labels:", "integer")),
    ("one_hot: label NaN",                        lambda: one_hot([0, nan]),                      ValueError, ("labels:", "integer")),
    ("one_hot: booleans",                         lambda: one_hot([True, False]),                 TypeError,  ("labels:", "booleans")),
    ("one_hot: strings",                          lambda: one_hot(['a', 'b']),                    TypeError,  "labels:"),
    ("one_hot: n_classes=0",                      lambda: one_hot([0], 0),                        ValueError, "n_classes:"),
    ("one_hot: n_classes=2.5",                    lambda: one_hot([0], 2.5),                      TypeError,  "n_classes:"),
    ("one_hot: no labels at all",                 lambda: one_hot([]),                            ValueError, "labels:"),
    ("as_labels: a (2,2,2) array",                lambda: as_labels(np.zeros((2, 2, 2))),         ValueError, "y:"),
    ("as_labels: one-hot row with two 1s",        lambda: as_labels([[1, 1, 0], [0, 1, 0]]),      ValueError, ("y:", "row 0")),
    ("as_labels: one-hot row of 0s",              lambda: as_labels([[0, 1, 0], [0, 0, 0]]),      ValueError, ("y:", "row 1")),
    ("as_labels: soft labels [0.5, 0.5]",         lambda: as_labels([[0.5, 0.5], [0, 1]]),        ValueError, ("y:", "one-hot")),
    ("as_labels: NaN in one-hot rows",            lambda: as_labels([[nan, 1], [0, 1]]),          ValueError, "y:"),
    ("as_labels: 2 columns, n_classes=3",         lambda: as_labels([[0, 1], [1, 0]], 3),         ValueError, ("y:", "3 columns")),
    ("as_labels: a single column",                lambda: as_labels([[1], [1]]),                  ValueError, ("y:", "2 classes")),
    ("as_labels: 2 labels for 3 rows",            lambda: as_labels([0, 1], n_samples=3),         ValueError, ("y:", "3 labels")),
    ("as_labels: ragged rows",                    lambda: as_labels([[0, 1], [1]]),               ValueError, ("y:", "rectangular")),
    ("as_labels: None",                           lambda: as_labels(None),                        TypeError,  "y:"),
    ("as_labels: no labels at all",               lambda: as_labels([]),                          ValueError, "y:"),
    ("as_features: 1-D",                          lambda: as_features([1., 2.]),                  ValueError, ("x:", "2-D")),
    ("as_features: (2,2,2)",                      lambda: as_features(np.zeros((2, 2, 2))),       ValueError, ("x:", "2-D")),
    ("as_features: no rows",                      lambda: as_features(np.zeros((0, 3))),          ValueError, ("x:", "at least one")),
    ("as_features: NaN",                          lambda: as_features([[1, nan]]),                ValueError, ("x:", "finite")),
    ("as_features: inf",                          lambda: as_features([[1, 2], [inf, 3]]),        ValueError, ("x:", "finite", "row 1")),
    ("as_features: strings",                      lambda: as_features([['a', 'b']]),              TypeError,  ("x:", "numbers")),
    ("as_features: complex",                      lambda: as_features(np.ones((2, 2)) * 1j),      TypeError,  ("x:", "real")),
    ("as_features: a dict",                       lambda: as_features({'a': 1}),                  TypeError,  "x:"),
    ("as_features: float32 tensor, float64 asked",lambda: as_features(torch.ones(2, 2)),          TypeError,  ("x:", "torch.float64")),
    ("as_features: 3 columns, n_features=4",      lambda: as_features(np.ones((2, 3)), n_features=4), ValueError, ("x:", "4 features")),
    ("make_dataset: n_samples=0",                 lambda: make_dataset(n_samples=0),              ValueError, "n_samples:"),
    ("make_dataset: n_samples=2.5",               lambda: make_dataset(n_samples=2.5),            TypeError,  "n_samples:"),
    ("make_dataset: n_samples=True",              lambda: make_dataset(n_samples=True),           TypeError,  "n_samples:"),
    ("make_dataset: n_classes=1",                 lambda: make_dataset(n_classes=1),              ValueError, "n_classes:"),
    ("make_dataset: n_features=1",                lambda: make_dataset(n_features=1),             ValueError, "n_features:"),
    ("make_dataset: 3 classes from 3 features",   lambda: make_dataset(n_features=3, n_classes=3),ValueError, "n_classes:"),
    ("make_dataset: valid_size=0",                lambda: make_dataset(valid_size=0),             ValueError, "valid_size:"),
    ("make_dataset: valid_size=n_samples",        lambda: make_dataset(valid_size=100),           ValueError, "valid_size:"),
    ("make_dataset: valid_size=1.5",              lambda: make_dataset(valid_size=1.5),           ValueError, "valid_size:"),
    ("make_dataset: seed=-1",                     lambda: make_dataset(seed=-1),                  ValueError, "seed:"),
    ("make_dataset: seed='a'",                    lambda: make_dataset(seed='a'),                 TypeError,  "seed:"),
    ("load_dataset: 'mnist'",                     lambda: load_dataset('mnist'),                  ValueError, ("name:", "'iris'")),
    ("load_dataset: 'Iris'",                      lambda: load_dataset('Iris'),                   ValueError, "name:"),
    ("load_dataset: None",                        lambda: load_dataset(None),                     ValueError, "name:"),
    ("load_dataset: valid_size=150 of 150 rows",  lambda: load_dataset('iris', valid_size=150),   ValueError, ("valid_size:", "1..149")),
    ("load_dataset: seed=-1",                     lambda: load_dataset('iris', seed=-1),          ValueError, "seed:"),
    ("load_dataset: seed='x'",                    lambda: load_dataset('iris', seed='x'),         TypeError,  "seed:"),
]

z64 = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
s64, Y64 = softmax(z64), one_hot([0, 1, 2, 0, 1, 2], 3)
_g = torch.Generator().manual_seed(1)
x64, w64, b64 = (torch.randn(*shape, dtype=torch.float64, generator=_g) for shape in ((6, 4), (4, 3), (3,)))

DERIV_ROWS = [
    ("softmax: a scalar",                         lambda: softmax(3.0),                           ValueError, ("z:", "dimension")),
    ("softmax: empty",                            lambda: softmax(np.zeros((0, 3))),              ValueError, ("z:", "non-empty")),
    ("softmax: strings",                          lambda: softmax(['a']),                         TypeError,  "z:"),
    ("softmax: ragged rows",                      lambda: softmax([[1, 2], [3]]),                 ValueError, "z:"),
    ("softmax: NaN logit",                        lambda: softmax([1., nan]),                     ValueError, "z:"),
    ("softmax: +inf logit",                       lambda: softmax([1., inf]),                     ValueError, "z:"),
    ("log_softmax: a scalar",                     lambda: log_softmax(1.),                        ValueError, "z:"),
    ("log_softmax: NaN logit",                    lambda: log_softmax([1., nan]),                 ValueError, "z:"),
    ("softmax_jacobian: a batch (M,Q)",           lambda: softmax_jacobian(s64),                  ValueError, ("s:", "1-D")),
    ("softmax_jacobian: empty",                   lambda: softmax_jacobian([]),                   ValueError, "s:"),
    ("softmax_jacobian: NaN",                     lambda: softmax_jacobian([0.5, nan]),           ValueError, "s:"),
    ("softmax_jacobian_blocks: one row (Q,)",     lambda: softmax_jacobian_blocks([0.5, 0.5]),    ValueError, ("s:", "2-D")),
    ("softmax_jacobian_full: (1,2,2)",            lambda: softmax_jacobian_full(np.zeros((1, 2, 2))), ValueError, ("s:", "2-D")),
    ("softmax_jacobian_full: 100 000 samples",    lambda: softmax_jacobian_full(torch.full((100_000, 10), 0.1, dtype=torch.float64)), ValueError, ("s:", "would need")),
    ("softmax_vjp: g of another shape",           lambda: softmax_vjp(s64, s64[:3]),              ValueError, ("g:", "shape")),
    ("softmax_vjp: g None",                       lambda: softmax_vjp(s64, None),                 TypeError,  "g:"),
    ("softmax_vjp: NaN in g",                     lambda: softmax_vjp(s64, s64 * nan),            ValueError, "g:"),
    ("cross_entropy: (6,3) labels, (6,2) probs",  lambda: cross_entropy(Y64, softmax(z64[:, :2])), ValueError, ("y_true:", "shape")),
    ("cross_entropy: class indices for y_true",   lambda: cross_entropy([0, 1, 2, 0, 1, 2], s64), ValueError, ("y_true:", "2-D")),
    ("cross_entropy: negative probabilities",     lambda: cross_entropy(Y64, -s64),               ValueError, "y_pred:"),
    ("cross_entropy: NaN probabilities",          lambda: cross_entropy(Y64, s64 * nan),          ValueError, "y_pred:"),
    ("cross_entropy_grad: rows differ",           lambda: cross_entropy_grad(Y64, s64[:2]),       ValueError, "y_true:"),
    ("cross_entropy_logits_grad: transposed",     lambda: cross_entropy_logits_grad(Y64, softmax(z64.T)), ValueError, "y_true:"),
    ("cross_entropy_logits_grad: NaN",            lambda: cross_entropy_logits_grad(Y64, s64 * nan), ValueError, "y_pred:"),
    ("cross_entropy_from_logits: rows differ",    lambda: cross_entropy_from_logits(Y64, z64[:3]),ValueError, ("y_true:", "M = 3")),
    ("cross_entropy_from_logits: NaN logits",     lambda: cross_entropy_from_logits(Y64, z64 * nan), ValueError, "z:"),
    ("cross_entropy_and_grad: NaN logits",        lambda: cross_entropy_and_grad(Y64, z64 * nan), ValueError, "z:"),
    ("mean_nll: rows differ",                     lambda: mean_nll(Y64[:2], log_softmax(z64)),    ValueError, ("y_true:", "M = 6")),
    ("mean_nll: 1-D log-probabilities",           lambda: mean_nll(Y64[0], log_softmax(z64)[0]),  ValueError, ("log_s:", "2-D")),
    ("mean_nll: NaN log-probabilities",           lambda: mean_nll(Y64, log_softmax(z64) * nan),  ValueError, "log_s:"),
    ("linear: w with 3 rows for 4 features",      lambda: linear(x64, w64[:3], b64),              ValueError, ("w:", "N = 4")),
    ("linear: b with 2 entries for 3 columns",    lambda: linear(x64, w64, b64[:2]),              ValueError, ("b:", "Q = 3")),
    ("linear: 1-D x",                             lambda: linear([1., 2.], w64, b64),             ValueError, ("x:", "2-D")),
    ("linear: scalar b",                          lambda: linear(x64, w64, 0.),                   ValueError, ("b:", "1-D")),
    ("linear: NaN in x",                          lambda: linear(x64 * nan, w64, b64),            ValueError, "x:"),
    ("linear: float32 w, float64 x",              lambda: linear(x64, w64.float(), b64),          TypeError,  "w:"),
    ("linear: float32 b, float64 x and w",        lambda: linear(x64, w64, b64.float()),          TypeError,  "b:"),
    ("linear_jacobian_w: 1-D x",                  lambda: linear_jacobian_w([1., 2.], 3),         ValueError, ("x:", "2-D")),
    ("linear_jacobian_w: n_classes=0",            lambda: linear_jacobian_w(x64, 0),              ValueError, "n_classes:"),
    ("linear_jacobian_w: n_classes=2.5",          lambda: linear_jacobian_w(x64, 2.5),            TypeError,  "n_classes:"),
    ("linear_jacobian_b: n_samples=-1",           lambda: linear_jacobian_b(-1, 3),               ValueError, "n_samples:"),
    ("linear_jacobian_b: n_classes=1.5",          lambda: linear_jacobian_b(3, 1.5),              TypeError,  "n_classes:"),
    ("linear_vjp: delta with 3 rows for 6",       lambda: linear_vjp(x64, s64[:3]),               ValueError, ("delta:", "M = 6")),
    ("linear_vjp: 1-D delta",                     lambda: linear_vjp(x64, s64[0]),                ValueError, ("delta:", "2-D")),
    ("linear_vjp: NaN in delta",                  lambda: linear_vjp(x64, s64 * nan),             ValueError, "delta:"),
    ("linear_vjp: float32 delta, float64 x",      lambda: linear_vjp(x64, s64.float()),           TypeError,  "delta:"),
]

ds = make_dataset(seed=0)
X, Y = ds.x_train, ds.y_train
labels = Y.argmax(1)
x_huge = torch.full((2, 5), 1e308, dtype=torch.float64)
W0, B0 = torch.zeros(5, 3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)


def clf(**kw) -> SoftmaxClassifier:
    "A fresh model for each row, so that no row depends on what an earlier one did."
    return SoftmaxClassifier(5, 3, seed=0, **kw)


def fit(**kw):
    return clf().fit(X, Y, **{**dict(epochs=1, lr=0.1, progress=False), **kw})


CLF_ROWS = [
    ("SoftmaxClassifier: n_features=0",           lambda: SoftmaxClassifier(0, 3),                ValueError, "n_features:"),
    ("SoftmaxClassifier: n_features=2.0",         lambda: SoftmaxClassifier(2.0, 3),              TypeError,  "n_features:"),
    ("SoftmaxClassifier: n_classes=1",            lambda: SoftmaxClassifier(5, 1),                ValueError, ("n_classes:", "at least 2")),
    ("SoftmaxClassifier: n_classes=True",         lambda: SoftmaxClassifier(5, True),             TypeError,  "n_classes:"),
    ("SoftmaxClassifier: dtype=torch.int64",      lambda: clf(dtype=torch.int64),                 TypeError,  "dtype:"),
    ("SoftmaxClassifier: dtype='float64'",        lambda: clf(dtype='float64'),                   TypeError,  "dtype:"),
    ("SoftmaxClassifier: seed='a'",               lambda: SoftmaxClassifier(5, 3, seed='a'),      TypeError,  "seed:"),
    ("SoftmaxClassifier: seed=1.5",               lambda: SoftmaxClassifier(5, 3, seed=1.5),      TypeError,  "seed:"),
    ("SoftmaxClassifier: device='gpu'",           lambda: clf(device='gpu'),                      ValueError, "device:"),
    ("SoftmaxClassifier: device=3.5",             lambda: clf(device=3.5),                        TypeError,  "device:"),
    ("SoftmaxClassifier: device='cuda:99'",       lambda: clf(device='cuda:99'),                  ValueError, "device:"),
    ("set_params: w of shape (5,2)",              lambda: clf().set_params(np.zeros((5, 2)), np.zeros(3)), ValueError, ("w, b:", "(5, 3)")),
    ("set_params: w None",                        lambda: clf().set_params(None, np.zeros(3)),    TypeError,  "w:"),
    ("set_params: NaN in w",                      lambda: clf().set_params(np.full((5, 3), nan), np.zeros(3)), ValueError, "w:"),
    ("set_params: 1e300 into a float32 model",    lambda: clf(dtype=torch.float32).set_params(np.full((5, 3), 1e300), np.zeros(3)), ValueError, "w:"),
    ("predict_proba: 4 features for 5",           lambda: clf().predict_proba(torch.zeros(2, 4, dtype=torch.float64)), ValueError, ("x:", "5 features")),
    ("predict_proba: NaN in x",                   lambda: clf().predict_proba([[nan] * 5]),       ValueError, ("x:", "finite")),
    ("predict_proba: one sample as 1-D",          lambda: clf().predict_proba([0.] * 5),          ValueError, ("x:", "2-D")),
    ("predict_proba: float32 tensor",             lambda: clf().predict_proba(torch.zeros(2, 5)), TypeError,  ("x:", "float64")),
    ("predict_proba: finite x whose logits overflow", lambda: clf().predict_proba(x_huge),        ValueError, ("x:", "overflow")),
    ("predict: 4 features for 5",                 lambda: clf().predict(np.zeros((2, 4))),        ValueError, "x:"),
    ("evaluate: 85 rows, 10 labels",              lambda: clf().evaluate(X, labels[:10]),         ValueError, ("y:", "85 labels")),
    ("evaluate: label -1",                        lambda: clf().evaluate(X[:2], [0, -1]),         ValueError, ("y:", "got -1")),
    ("evaluate: label 3 for 3 classes",           lambda: clf().evaluate(X[:2], [0, 3]),          ValueError, ("y:", "0..2", "got 3")),
    ("evaluate: label 1.5",                       lambda: clf().evaluate(X[:2], [0, 1.5]),        ValueError, ("y:", "integer")),
    ("evaluate: one-hot row summing to 2",        lambda: clf().evaluate(X[:2], [[1, 1, 0], [0, 1, 0]]), ValueError, ("y:", "row 0")),
    ("evaluate: one-hot rows of 2 classes",       lambda: clf().evaluate(X[:2], [[1, 0], [0, 1]]),ValueError, ("y:", "3 columns")),
    ("evaluate: inf in x",                        lambda: clf().evaluate([[inf] * 5], [0]),       ValueError, ("x:", "finite")),
    ("evaluate: float32 x into float64 model",    lambda: clf().evaluate(X.float(), labels),      TypeError,  ("x:", "float64")),
    ("accuracy: 85 rows, 3 labels",               lambda: clf().accuracy(X, labels[:3]),          ValueError, "y:"),
    ("gradients: strategy 'magic'",               lambda: clf().gradients(X, Y, 'magic'),         ValueError, ("strategy:", "'closed'")),
    ("gradients: strategy None",                  lambda: clf().gradients(X, Y, None),            ValueError, "strategy:"),
    ("gradients: NaN in x",                       lambda: clf().gradients(X * nan, Y),            ValueError, ("x:", "finite")),
    ("gradients: 85 rows, 3 labels",              lambda: clf().gradients(X, Y[:3]),              ValueError, "y:"),
    ("update: lr=0",                              lambda: clf().update(X, Y, 0),                  ValueError, "lr:"),
    ("update: lr=-1",                             lambda: clf().update(X, Y, -1),                 ValueError, "lr:"),
    ("update: lr=NaN",                            lambda: clf().update(X, Y, nan),                ValueError, "lr:"),
    ("update: lr='0.1'",                          lambda: clf().update(X, Y, '0.1'),              TypeError,  "lr:"),
    ("fit: lr=0",                                 lambda: fit(lr=0),                              ValueError, "lr:"),
    ("fit: l2=-1",                                lambda: fit(l2=-1),                             ValueError, ("l2:", "≥ 0")),
    ("fit: l2=NaN",                               lambda: fit(l2=nan),                            ValueError, "l2:"),
    ("fit: l2=inf",                               lambda: fit(l2=inf),                            ValueError, "l2:"),
    ("fit: tol=0",                                lambda: fit(tol=0),                             ValueError, ("tol:", "> 0")),
    ("fit: tol=-1e-8",                            lambda: fit(tol=-1e-8),                         ValueError, "tol:"),
    ("fit: solver 'newton', max_iter=0.5",        lambda: fit(solver='newton', epochs=None, lr=None, max_iter=0.5), TypeError, "max_iter:"),
    ("fit: solver 'newton', max_iter=0",          lambda: fit(solver='newton', epochs=None, lr=None, max_iter=0), ValueError, ("max_iter:", "> 0")),
    ("fit: solver 'newton-cg', epochs=5",         lambda: fit(solver='newton-cg', epochs=5, lr=None), ValueError, ("epochs:", "max_iter")),
    ("fit: solver 'sgd', max_iter=5",             lambda: fit(max_iter=5),                        ValueError, ("max_iter:", "epochs")),
    ("fit: solver 'newton-cg' with a batch size", lambda: fit(solver='newton-cg', epochs=None, batch_size=10), ValueError, ("batch_size:", "whole batch")),
    ("fit: solver 'newton' with a batch size",    lambda: fit(solver='newton', epochs=None, batch_size=10), ValueError, ("batch_size:", "whole batch")),
    ("fit: solver 'sgd' without lr",              lambda: clf().fit(X, Y, 1, progress=False),     TypeError,  ("lr:", "'sgd'")),
    ("fit: solver 'sgd' without epochs",          lambda: clf().fit(X, Y, lr=0.1, progress=False), TypeError, ("epochs:", "'sgd'")),
    ("fit: solver 'lbfgs'",                       lambda: fit(solver='lbfgs'),                    ValueError, ("solver:", "'newton'")),
    ("gradients: l2=-0.5",                        lambda: clf().gradients(X, Y, l2=-0.5),         ValueError, "l2:"),
    ("evaluate: l2='a'",                          lambda: clf().evaluate(X, Y, l2='a'),           TypeError,  "l2:"),
    ("hessian: N·Q too large for memory",         lambda: hessian(torch.ones(1, 10**6), [[1., 0.]], torch.zeros(10**6, 2), torch.zeros(2)), ValueError, ("x:", "Hessian would need")),
    ("hvp: v of the wrong shape",                 lambda: hvp(X, Y, W0, B0, torch.ones(3, 3, dtype=torch.float64)), ValueError, "v:"),
    ("newton_step: l2=-1",                        lambda: newton_step(X, Y, W0, B0, -1),          ValueError, "l2:"),
    ("newton_step: tol=-1",                       lambda: newton_step(X, Y, W0, B0, 0., -1.),     ValueError, "tol:"),
    ("newton_step (CG): l2=nan",                  lambda: newton_step(X, Y, W0, B0, nan, hessian_free=True), ValueError, "l2:"),
    ("newton_step: hessian_free=1",               lambda: newton_step(X, Y, W0, B0, hessian_free=1), TypeError, "hessian_free:"),
    ("fit: lr=-0.1",                              lambda: fit(lr=-0.1),                           ValueError, "lr:"),
    ("fit: lr=inf",                               lambda: fit(lr=inf),                            ValueError, ("lr:", "inf")),
    ("fit: lr=NaN",                               lambda: fit(lr=nan),                            ValueError, ("lr:", "nan")),
    ("fit: lr=None",                              lambda: fit(lr=None),                           TypeError,  "lr:"),
    ("fit: epochs=-1",                            lambda: fit(epochs=-1),                         ValueError, "epochs:"),
    ("fit: epochs=1.5",                           lambda: fit(epochs=1.5),                        TypeError,  "epochs:"),
    ("fit: batch_size=0",                         lambda: fit(batch_size=0),                      ValueError, "batch_size:"),
    ("fit: batch_size=1.5",                       lambda: fit(batch_size=1.5),                    TypeError,  "batch_size:"),
    ("fit: strategy 'exact'",                     lambda: fit(strategy='exact'),                  ValueError, ("strategy:", "'kronecker'")),
    ("fit: 85 rows of x, 10 of y",                lambda: clf().fit(X, Y[:10], 1, 0.1, progress=False), ValueError, ("y:", "85 labels")),
    ("fit: 4 features for a 5-feature model",     lambda: clf().fit(X[:, :4], Y, 1, 0.1, progress=False), ValueError, ("x:", "5 features")),
    ("fit: NaN in x",                             lambda: clf().fit(X * nan, Y, 1, 0.1, progress=False), ValueError, ("x:", "finite")),
    ("fit: inf in x (row 7)",                     lambda: clf().fit(X.index_put((torch.tensor(7), torch.tensor(1)), torch.tensor(inf, dtype=X.dtype)), Y, 1, 0.1, progress=False), ValueError, ("x:", "finite", "row 7")),
    ("fit: a negative label",                     lambda: clf().fit(X, labels - 1, 1, 0.1, progress=False), ValueError, ("y:", "got -1")),
    ("fit: label = n_classes",                    lambda: clf().fit(X, labels + 1, 1, 0.1, progress=False), ValueError, ("y:", "got 3")),
    ("fit: non-integer labels",                   lambda: clf().fit(X, labels + 0.5, 1, 0.1, progress=False), ValueError, ("y:", "integer")),
    ("fit: one-hot rows not summing to 1",        lambda: clf().fit(X, Y * 2, 1, 0.1, progress=False), ValueError, ("y:", "one-hot")),
    ("fit: 4-class labels for a 3-class model",   lambda: clf().fit(X, one_hot(labels, 4), 1, 0.1, progress=False), ValueError, ("y:", "3 columns")),
    ("fit: float32 tensor into a float64 model",  lambda: clf().fit(X.float(), Y, 1, 0.1, progress=False), TypeError, ("x:", "torch.float64")),
    ("fit: valid not a pair",                     lambda: fit(valid=ds.x_valid),                  TypeError,  "valid:"),
    ("fit: valid labels 3 for 15 rows",           lambda: fit(valid=(ds.x_valid, ds.y_valid[:3])),ValueError, "valid[1]:"),
    ("fit: valid with 3 features",                lambda: fit(valid=(ds.x_valid[:, :3], ds.y_valid)), ValueError, "valid[0]:"),
    ("fit: shuffle seed 'a'",                     lambda: fit(shuffle=True, seed='a'),            TypeError,  "seed:"),
    ("save: into a missing folder",               lambda: clf().save(TMP / 'no' / 'such' / 'm.npz'), FileNotFoundError, ("path:", str(TMP / 'no' / 'such'))),
    ("save: onto an existing folder",             lambda: clf().save(TMP / 'folder'),             (IsADirectoryError, ValueError), ("path:", str(TMP / 'folder'))),
    ("save: path None",                           lambda: clf().save(None),                       TypeError,  "path:"),
    ("load: a missing file",                      lambda: SoftmaxClassifier.load(TMP / 'missing.npz'), FileNotFoundError, ("path:", 'missing.npz')),
    ("load: a folder",                            lambda: SoftmaxClassifier.load(TMP / 'folder'), FileNotFoundError, "path:"),
    ("load: path None",                           lambda: SoftmaxClassifier.load(None),           TypeError,  "path:"),
    ("grad_closed: w with 4 rows for 5 features", lambda: grad_closed(X, Y, W0[:4], B0),          ValueError, ("w:", "N = 5")),
    ("grad_blockdiag: b with 2 entries for 3",    lambda: grad_blockdiag(X, Y, W0, B0[:2]),       ValueError, ("b:", "Q = 3")),
    ("grad_kronecker: 3 label rows for 85",       lambda: grad_kronecker(X, Y[:3], W0, B0),       ValueError, ("y:", "M = 85")),
    ("grad_kronecker_chunked: cache_bytes=0",     lambda: grad_kronecker_chunked(X, Y, W0, B0, cache_bytes=0), ValueError, "cache_bytes:"),
    ("grad_kronecker_chunked: cache_bytes=1.5",   lambda: grad_kronecker_chunked(X, Y, W0, B0, cache_bytes=1.5), TypeError, "cache_bytes:"),
    ("loss_and_grads: strategy 'fast'",           lambda: loss_and_grads(X, Y, W0, B0, 'fast'),   ValueError, ("strategy:", "'closed'")),
]

CMP_ROWS = [
    ("compare: dataset 'mnist'",                  lambda: compare('mnist'),                       ValueError, ("dataset:", "'iris'")),
    ("compare: framework 'jax'",                  lambda: compare(frameworks='jax'),              ValueError, ("frameworks:", "'torch'")),
    ("compare: frameworks ['torch', 'jax']",      lambda: compare(frameworks=['torch', 'jax']),   ValueError, ("frameworks:", "'jax'")),
    ("compare: frameworks None",                  lambda: compare(frameworks=None),               TypeError,  "frameworks:"),
    ("compare: lr=0",                             lambda: compare(lr=0),                          ValueError, "lr:"),
    ("compare: lr=NaN",                           lambda: compare(lr=nan),                        ValueError, "lr:"),
    ("compare: lr='0.1'",                         lambda: compare(lr='0.1'),                      TypeError,  "lr:"),
    ("compare: epochs=0",                         lambda: compare(epochs=0),                      ValueError, "epochs:"),
    ("compare: batch_size=0",                     lambda: compare(batch_size=0),                  ValueError, "batch_size:"),
    ("compare: strategy 'x'",                     lambda: compare(strategy='x'),                  ValueError, "strategy:"),
    ("compare: seed=-1",                          lambda: compare(seed=-1),                       ValueError, "seed:"),
]

TINY = dict(n_samples=20, n_features=2, n_classes=2, dtypes=('float64',), batch_sizes=(None,), contenders=('closed',),
            threads=1, repeats=1, with_layouts=False, progress=False)   # so that a row wrongly accepted costs milliseconds
BENCH_ROWS = [
    ("bench: n_samples=0",                        lambda: bench(**{**TINY, 'n_samples': 0}),     ValueError, "n_samples:"),
    ("bench: threads=0",                          lambda: bench(**{**TINY, 'threads': 0}),       ValueError, "threads:"),
    ("bench: dtypes ('float16',)",                lambda: bench(**{**TINY, 'dtypes': ('float16',)}), ValueError, ("dtypes:", "'float32'")),
    ("bench: contenders ('jax',)",                lambda: bench(**{**TINY, 'contenders': ('jax',)}), ValueError, ("contenders:", "'closed'")),
    ("epoch_runner: contender 'magic'",           lambda: epoch_runner('magic', X, Y, 10),        ValueError, "contender:"),
    ("epoch_runner: batch_size=0 (on the call)",  lambda: epoch_runner('closed', X, Y, 0)(),      ValueError, "batch_size:"),
    ("layouts: n_classes=0",                      lambda: layouts(X, 0),                          ValueError, "n_classes:"),
    ("paired_ratio: no rounds",                   lambda: paired_ratio([], [1.0]),                ValueError, "a, b:"),
]

BENCH_ROWS += [
    ("bench: batch_sizes (0,)",                   lambda: bench(**{**TINY, 'batch_sizes': (0,)}), ValueError, "batch_sizes:"),
    ("bench: dtypes 'float64', a bare string",    lambda: bench(**{**TINY, 'dtypes': 'float64'}), TypeError,  ("dtypes:", "list or tuple")),
    ("bench: contenders 'closed', a bare string", lambda: bench(**{**TINY, 'contenders': 'closed'}), TypeError, ("contenders:", "list or tuple")),
    ("growth: n_features=0",                      lambda: growth((10,), n_features=0, progress=False), ValueError, "n_features:"),
    ("growth: sizes (0,)",                        lambda: growth((0,), progress=False),          ValueError, "sizes:"),
    ("layouts: 1-D x",                            lambda: layouts(torch.ones(3), 3),             ValueError, ("x:", "2-D")),
    ("row_chunks: rows=0",                        lambda: row_chunks(10, 0),                     ValueError, "rows:"),
    ("chunk_rows: n_features=0",                  lambda: chunk_rows(0),                         ValueError, "n_features:"),
    ("kronecker_chunks: which='x'",               lambda: list(kronecker_chunks('x', torch.ones(2, 2), 8)), ValueError, ("which:", "'softmax'")),
    ("floor_probs: strings",                      lambda: floor_probs('a'),                      TypeError,  "s:"),
    ("mean_nll: log-probabilities above 0",       lambda: mean_nll(torch.eye(2), torch.ones(2, 2)), ValueError, ("log_s:", "≤ 0")),
    ("cross_entropy: labels summing to 2",        lambda: cross_entropy([[1., 1.]], [[.5, .5]]), ValueError, ("y_true:", "summing to 1")),
    ("cross_entropy: a negative label",           lambda: cross_entropy([[-5., 0.]], [[.5, .5]]), ValueError, ("y_true:", "non-negative")),
    ("grad_closed: soft labels not summing to 1", lambda: grad_closed(torch.ones(2, 3), [[.5, .6], [1, 0]], torch.ones(3, 2), torch.zeros(2)), ValueError, "y:"),
]
BAD_INPUT_ROWS = DATA_ROWS + DERIV_ROWS + CLF_ROWS + CMP_ROWS + BENCH_ROWS


def test_rows_are_well_formed():
    "Unique names; every row's first fragment is the argument's name (or names) and a colon."
    assert len(set(ids(BAD_INPUT_ROWS))) == len(BAD_INPUT_ROWS)
    for what, call, exc, frags in BAD_INPUT_ROWS:
        first = frags if isinstance(frags, str) else frags[0]
        assert first.endswith(':'), what


@pytest.mark.parametrize('what, call, exc, frags', BAD_INPUT_ROWS, ids=ids(BAD_INPUT_ROWS))
def test_bad_input(what, call, exc, frags):
    frags = (frags,) if isinstance(frags, str) else tuple(frags)
    before = files_under(TMP)
    with pytest.raises(exc) as info: call()
    msg = str(info.value)
    assert msg.startswith(frags[0]), f"{what}: the message does not start with {frags[0]!r}: {msg}"
    for f in frags[1:]: assert f in msg, f"{what}: {f!r} not in {msg!r}"
    assert files_under(TMP) == before, f"{what}: the refused call left files behind"


# ---------------------------------------------------------------------------------------------------------------------
# The command line: exit status 2, one line on stderr, nothing on stdout, before any training or timing

def run_cli(*argv) -> tuple:
    "Run `softmax-scratch argv...` in process: (exit status, stdout, stderr)."
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# bench rows start from a tiny problem, so that a row the CLI wrongly accepts costs milliseconds, not minutes
TINY_BENCH = ('bench', '--samples', '20', '--features', '2', '--repeats', '1', '--contenders', 'closed', '--dtype', 'float64',
              '--batch-size', 'full')
CLI_ROWS = [
    ("no command",                                (),                                             "required"),
    ("command 'fly'",                             ('fly',),                                       "'fly'"),
    ("compare --dataset mnist",                   ('compare', '--dataset', 'mnist'),              "--dataset"),
    ("compare --against jax",                     ('compare', '--against', 'jax'),                "--against"),
    ("compare --against (nothing)",               ('compare', '--against'),                       "--against"),
    ("compare --lr 0",                            ('compare', '--lr', '0'),                       "--lr"),
    ("train --lr nan",                            ('train', '--lr', 'nan'),                       "--lr"),
    ("train --lr inf",                            ('train', '--lr', 'inf'),                       "--lr"),
    ("train --lr abc",                            ('train', '--lr', 'abc'),                       "--lr"),
    ("train --epochs -1",                         ('train', '--epochs', '-1'),                    "--epochs"),
    ("train --epochs 1.5",                        ('train', '--epochs', '1.5'),                   "--epochs"),
    ("train --batch-size 0",                      ('train', '--batch-size', '0'),                 "--batch-size"),
    ("train --strategy magic",                    ('train', '--strategy', 'magic'),               "--strategy"),
    ("train --seed x",                            ('train', '--seed', 'x'),                       "--seed"),
    ("train --seed -1",                           ('train', '--seed', '-1'),                      "--seed"),
    ("train --unknown",                           ('train', '--unknown'),                         "--unknown"),
    ("train --save into a missing folder",        ('train', '--save', str(TMP / 'no' / 'm.npz')), "--save"),
    ("train --save onto an existing folder",      ('train', '--epochs', '1', '--save', str(TMP / 'folder')), "--save"),
    ("train --plot into a missing folder",        ('train', '--plot', str(TMP / 'no' / 'p.png')), "--plot"),
    ("compare --json into a missing folder",      ('compare', '--json', str(TMP / 'no' / 'r.json')), "--json"),
    ("bench --samples 0",                         (*TINY_BENCH, '--samples', '0'),                "--samples"),
    ("bench --classes 1",                         (*TINY_BENCH, '--classes', '1'),                "--classes"),
    ("bench --dtype float16",                     (*TINY_BENCH, '--dtype', 'float16'),            "--dtype"),
    ("bench --batch-size 0",                      (*TINY_BENCH, '--batch-size', '0'),             "--batch-size"),
    ("bench --contenders jax",                    (*TINY_BENCH, '--contenders', 'jax'),           "--contenders"),
    ("bench --threads 0",                         (*TINY_BENCH, '--threads', '0'),                "--threads"),
    ("bench --plot without --growth",             (*TINY_BENCH, '--plot', str(TMP / 'g.png')),    "--plot"),
    ("bench --json into a missing folder",        (*TINY_BENCH, '--json', str(TMP / 'no' / 'b.json')), "--json"),
]


@pytest.mark.parametrize('what, argv, frags', CLI_ROWS, ids=ids(CLI_ROWS))
def test_cli_refuses(what, argv, frags):
    frags = (frags,) if isinstance(frags, str) else tuple(frags)
    before = files_under(TMP)
    code, out, err = run_cli(*argv)
    lines = err.strip().splitlines()
    assert (code, len(lines), out) == (2, 1, ''), f"{what}: exit {code}, {len(lines)} stderr line(s), stdout {out[-200:]!r}, stderr ends {err[-300:]!r}"
    for f in frags: assert f in lines[0], f"{what}: {f!r} not in {lines[0]!r}"
    assert files_under(TMP) == before, f"{what}: the refused command left files behind"


# ---------------------------------------------------------------------------------------------------------------------
# Checkpoints: load never unpickles, refuses every malformed, truncated or corrupted file; an interrupted save keeps
# the previous file

CK = TMP / 'checkpoints'
CK.mkdir()
GOOD = clf().save(CK / 'good.npz')
with np.load(GOOD) as _f: ARRAYS_OK = {k: _f[k] for k in _f.files}
W_OK, B_OK = ARRAYS_OK['w'], ARRAYS_OK['b']


class Payload:
    "Unpickling this calls Path.touch on `target`."
    def __init__(self, target): self.target = target
    def __reduce__(self): return (Path.touch, (self.target,))


def test_the_payload_is_live():
    proof = TMP / 'proof'
    pickle.loads(pickle.dumps(Payload(proof)))
    assert proof.exists()
    proof.unlink()


def bare_pickle(path, target): path.write_bytes(pickle.dumps(Payload(target)))
def object_array(path, target): np.savez(path, **{**ARRAYS_OK, 'w': np.array([Payload(target)], dtype=object)})


@pytest.mark.parametrize('name, write', [('pickle.npz', bare_pickle), ('objects.npz', object_array)], ids=['a bare pickle', 'an object array'])
def test_load_never_unpickles(name, write):
    path, pwned = CK / name, CK / f'PWNED-{name}'
    write(path, pwned)
    with pytest.raises(ValueError) as info: SoftmaxClassifier.load(path)
    assert str(info.value).startswith(str(path))
    assert not pwned.exists()                              # nothing ran


def variant(**changes):
    "A writer: save the good arrays with `changes` (None removes an array)."
    return lambda path: np.savez(path, **{k: v for k, v in {**ARRAYS_OK, **changes}.items() if v is not None})


def bare_npy(path):
    with open(path, 'wb') as f: np.save(f, W_OK)


BAD_FILES = [
    ("w is 1-D",                          variant(w=W_OK[:, 0].copy())),
    ("b has 2 entries for 3 columns",     variant(b=B_OK[:2])),
    ("a single class",                    variant(w=W_OK[:, :1].copy(), b=B_OK[:1])),
    ("w stored as float32",               variant(w=W_OK.astype(np.float32))),
    ("dtype says int64",                  variant(dtype=np.array('int64'), w=W_OK.astype(np.int64), b=B_OK.astype(np.int64))),
    ("dtype names no torch dtype",        variant(dtype=np.array('float128x'))),
    ("no b",                              variant(b=None)),
    ("an extra array",                    variant(extra=np.ones(2))),
    ("another program's format",          variant(format=np.array('someone-else/1'))),
    ("NaN in w",                          variant(w=np.where(np.eye(*W_OK.shape, dtype=bool), np.nan, W_OK))),
    ("inf in b",                          variant(b=np.array([0., np.inf, 0.]))),
    ("a text file",                       lambda path: path.write_text('hello')),
    ("an empty file",                     lambda path: path.write_bytes(b'')),
    ("a bare .npy array, not an archive", bare_npy),
]


@pytest.mark.parametrize('what, write', BAD_FILES, ids=ids(BAD_FILES))
def test_load_refuses_malformed(what, write):
    path = CK / 'bad.npz'
    write(path)
    with pytest.raises(ValueError) as info: SoftmaxClassifier.load(path)
    assert str(info.value).startswith(str(path)), str(info.value)


def test_load_refuses_every_truncation():
    data, bad = GOOD.read_bytes(), CK / 'cut.npz'
    for n in range(len(data)):
        bad.write_bytes(data[:n])
        with pytest.raises(ValueError) as info: SoftmaxClassifier.load(bad)
        assert str(info.value).startswith(str(bad)), (n, str(info.value))


def test_every_single_bit_flip_is_refused_or_harmless():
    "With any one bit flipped, load refuses the file or (bits the archive does not use) returns exactly the saved model."
    data, bad, ref = GOOD.read_bytes(), CK / 'flipped.npz', SoftmaxClassifier.load(GOOD)
    refused = 0
    for pos in range(len(data)):
        flipped = bytearray(data); flipped[pos] ^= 1 << (pos % 8)
        bad.write_bytes(flipped)
        try: m = SoftmaxClassifier.load(bad)
        except ValueError as e:
            assert str(e).startswith(str(bad)), (pos, str(e)); refused += 1; continue
        assert m.dtype == ref.dtype and torch.equal(m.w, ref.w) and torch.equal(m.b, ref.b), pos
    assert refused > len(data) // 2                        # most bits matter


@contextlib.contextmanager
def savez_failing_with(exc):
    "Make numpy.savez (as softmax_scratch.checkpoint sees it) write a few bytes, then raise `exc`."
    real = checkpoint_module.np.savez
    def broken(file, *args, **kwargs):
        file.write(b'PK\x03\x04 half an archive')
        raise exc
    checkpoint_module.np.savez = broken
    try: yield
    finally: checkpoint_module.np.savez = real


@pytest.mark.parametrize('exc', [OSError(28, 'No space left on device'), KeyboardInterrupt()], ids=['full disk', 'Ctrl-C'])
@pytest.mark.parametrize('over', [True, False], ids=['over a previous file', 'a new file'])
def test_interrupted_save_keeps_the_previous_file(exc, over, tmp_path):
    real_savez = np.savez
    target, old, new = tmp_path / 'model.npz', SoftmaxClassifier(5, 3, seed=1), SoftmaxClassifier(5, 3, seed=2)
    old.save(target)
    before = target.read_bytes()
    with savez_failing_with(exc):
        with pytest.raises(type(exc)) as info: new.save(target if over else tmp_path / 'fresh.npz')
        assert info.value is exc
    assert checkpoint_module.np.savez is real_savez        # numpy is itself again
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.npz']   # no temporary file, no half a new one
    new.save(target)                                       # and an uninterrupted save does replace it
    assert torch.equal(SoftmaxClassifier.load(target).w, new.w)


# ---------------------------------------------------------------------------------------------------------------------
# Numerical extremes: logits of ±1e4 (e^z overflows in any floating type) give the exact answers. A row (1e4, -1e4, 0) is
# certain of its first class, log σ = (0, -2e4, -1e4), and the loss of a label on a class 2e4 behind is 2e4.

@pytest.mark.parametrize('dtype, tol', [(torch.float64, 1e-15), (torch.float32, 1e-6)], ids=['float64', 'float32'])
def test_logits_of_1e4_give_the_exact_answers(dtype, tol):
    Z, lab = [[1e4, -1e4, 0.], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4], [0., 0., 0.]], [1, 0, 2, 1]
    l2, l3 = math.log(2), math.log(3)
    S_exact = torch.tensor([[1, 0, 0], [1/3] * 3, [.5, .5, 0], [1/3] * 3], dtype=torch.float64)
    LS_exact = torch.tensor([[0, -2e4, -1e4], [-l3] * 3, [-l2, -l2, -2e4 - l2], [-l3] * 3], dtype=torch.float64)
    L_exact = torch.tensor((2e4 + l3 + (2e4 + l2) + l3) / 4, dtype=torch.float64)
    z, y = torch.tensor(Z, dtype=dtype), one_hot(lab, 3, dtype=dtype)
    s, ls, loss = softmax(z), log_softmax(z), cross_entropy_from_logits(y, z)
    loss2, dz = cross_entropy_and_grad(y, z)
    for t in (s, ls, loss, loss2, dz): assert torch.isfinite(t).all() and t.dtype == dtype
    for what, t, exact in (('softmax', s, S_exact), ('log_softmax', ls, LS_exact), ('the loss', loss, L_exact),
                           ('the fused loss', loss2, L_exact), ('∂L/∂Z', dz, (S_exact - one_hot(lab, 3)) / 4)):
        assert rel_err(t, exact) <= tol, (what, rel_err(t, exact))


# ---------------------------------------------------------------------------------------------------------------------
# Properties on random cases: fixed seed (derandomize), no example database, no deadline, bounded examples

SETTINGS = dict(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
EPS = torch.finfo(torch.float64).eps


def floats(lim): return st.floats(-lim, lim, allow_nan=False, allow_infinity=False)


@st.composite
def logits_and_shift(draw):
    z = draw(arrays(np.float64, array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=8), elements=floats(50)))
    c = draw(arrays(np.float64, z.shape[:-1] + (1,), elements=floats(50)))
    return torch.from_numpy(z), torch.from_numpy(c)


@settings(max_examples=150, **SETTINGS)
@given(logits_and_shift())
def test_softmax_is_a_distribution_and_shift_invariant(zc):
    z, c = zc
    s = softmax(z)
    assert (s >= 0).all() and (s <= 1).all()
    assert (s.sum(-1) - 1).abs().max() <= z.shape[-1] * EPS
    assert rel_err(softmax(z + c), s) <= 1e-12
    assert (log_softmax(z + c) - log_softmax(z)).abs().max() <= 1e-12


@settings(max_examples=150, **SETTINGS)
@given(arrays(np.float64, array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6), elements=floats(50)))
def test_jacobians_are_symmetric_with_zero_row_sums(z):
    s = softmax(torch.from_numpy(z))
    M, Q = s.shape
    blocks, full = softmax_jacobian_blocks(s), softmax_jacobian_full(s)
    for p in range(M):
        J = softmax_jacobian(s[p])
        assert torch.equal(J, J.T)                                       # symmetric, bit for bit
        assert J.sum(1).abs().max() <= 4 * Q * EPS                       # rows sum to 0
        assert torch.equal(blocks[p], J)
    F = full.reshape(M * Q, M * Q)
    assert torch.equal(F, F.T)
    assert torch.equal(full, torch.einsum('pi,pqj->pqij', torch.eye(M, dtype=s.dtype), blocks))   # zero off the sample diagonal
    assert F.sum(1).abs().max() <= 4 * Q * EPS


@st.composite
def problems(draw, x_lim, p_lim, max_m=30, max_n=8, max_q=8):
    "A random problem (x (M,N), w (N,Q), b (Q,), labels (M,)) of random shape, float64."
    M, N, Q = draw(st.integers(1, max_m)), draw(st.integers(1, max_n)), draw(st.integers(2, max_q))
    x = draw(arrays(np.float64, (M, N), elements=floats(x_lim)))
    w = draw(arrays(np.float64, (N, Q), elements=floats(p_lim)))
    b = draw(arrays(np.float64, (Q,), elements=floats(p_lim)))
    labels = draw(arrays(np.int64, (M,), elements=st.integers(0, Q - 1)))
    return x, w, b, labels


def model_for(w, b) -> SoftmaxClassifier:
    return SoftmaxClassifier(*w.shape, seed=0).set_params(w, b)


def normwise_err(g, ref, x, y, s) -> float:
    "max |g − ref| over the size of the terms the gradient sums: max |X|ᵀ(Σ+Y)/M for ∂L/∂W, max 1ᵀ(Σ+Y)/M for ∂L/∂b."
    x, y, s = (t.to(torch.float64) for t in (x, y, s))
    scale_w, scale_b = (x.abs().T @ (s + y)).max().item() / len(x), (s + y).sum(0).max().item() / len(x)
    diff_w, diff_b = (g[0] - ref[0]).abs().max().item(), (g[1] - ref[1]).abs().max().item()
    return max(diff_w / scale_w if scale_w else diff_w, diff_b / scale_b)     # scale_w is 0 only when x is all zeros


@settings(max_examples=100, **SETTINGS)
@given(problems(5, 1))
def test_strategies_agree(problem):
    "Features in [-5, 5], parameters in [-1, 1]: every pair of strategies agrees to a relative error of 1e-12."
    x, w, b, labels = problem
    m = model_for(w, b)
    g = {s: m.gradients(x, labels, s) for s in STRATEGIES}
    for a, c in (('kronecker', 'closed'), ('blockdiag', 'closed'), ('kronecker', 'blockdiag')):
        err = max(rel_err(g[a][0], g[c][0]), rel_err(g[a][1], g[c][1]))
        assert err <= 1e-12, (a, c, err)


@settings(max_examples=100, **SETTINGS)
@given(problems(50, 50))
def test_strategies_agree_normwise(problem):
    "Values in [-50, 50] (logits up to ±2e4): finite gradients that agree normwise to 1e-12."
    x, w, b, labels = problem
    m = model_for(w, b)
    y, s = one_hot(labels, w.shape[1]), m.predict_proba(x)
    ref = m.gradients(x, labels, 'closed')
    for strategy in ('kronecker', 'blockdiag'):
        g = m.gradients(x, labels, strategy)
        assert torch.isfinite(g[0]).all() and torch.isfinite(g[1]).all()
        assert normwise_err(g, ref, torch.from_numpy(x), y, s) <= 1e-12, strategy


@settings(max_examples=40, **SETTINGS)
@given(problems(50, 5))
def test_label_forms_agree(problem):
    "Indices or one-hot rows, list, array or tensor: the same loss, accuracy and gradients, bit for bit."
    x, w, b, labels = problem
    m = model_for(w, b)
    Q = w.shape[1]
    forms = [labels, labels.tolist(), torch.from_numpy(labels), one_hot(labels, Q), one_hot(labels, Q).numpy().astype(np.int8)]
    ref = (m.evaluate(x, forms[0]), m.accuracy(x, forms[0]), [m.gradients(x, forms[0], s) for s in STRATEGIES])
    for y in forms[1:]:
        assert m.evaluate(x, y) == ref[0] and m.accuracy(x, y) == ref[1]
        for (dw, db), (rw, rb) in zip((m.gradients(x, y, s) for s in STRATEGIES), ref[2]):
            assert torch.equal(dw, rw) and torch.equal(db, rb)


@st.composite
def parameters(draw):
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    N, Q = draw(st.integers(1, 10)), draw(st.integers(2, 10))
    el = st.floats(allow_nan=False, allow_infinity=False, width=64 if dtype == np.float64 else 32)
    return draw(arrays(dtype, (N, Q), elements=el)), draw(arrays(dtype, (Q,), elements=el))


ROUNDTRIP = TMP / 'roundtrip'
ROUNDTRIP.mkdir()


@settings(max_examples=60, **SETTINGS)
@given(parameters())
def test_save_load_is_exact(wb):
    "Any finite parameters come back bit for bit (-0.0, subnormals), same dtype; the folder holds that one file."
    w, b = wb
    dtype = torch.float64 if w.dtype == np.float64 else torch.float32
    m = SoftmaxClassifier(*w.shape, seed=0, dtype=dtype).set_params(w, b)
    m.save(ROUNDTRIP / 'model.npz')
    m2 = SoftmaxClassifier.load(ROUNDTRIP / 'model.npz')
    assert m2.dtype == dtype and (m2.n_features, m2.n_classes) == w.shape
    assert m2.w.numpy().tobytes() == w.tobytes() and m2.b.numpy().tobytes() == b.tobytes()
    assert [p.name for p in ROUNDTRIP.iterdir()] == ['model.npz']
