"""The default `tol` reaches scikit-learn's optimum: `SoftmaxRegression(C)` against
`LogisticRegression(C, solver='newton-cholesky', tol=1e-12)` to 1e-6, relative in the max norm, in `coef_` and in
`intercept_` (centred), at every C in {1e-3, 1, 1e3}, on iris, wine, breast cancer and digits, raw and standardised;
breast cancer, with two classes, against the binomial model at 2C (the softmax optimum at C, 05b_estimator). The fits
must converge without a warning. scikit-learn's exact Newton takes most of the time (digits: seconds to a minute a fit)."""
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from softmax_scratch.checks import rel_err
from softmax_scratch.estimator import SoftmaxRegression

LOADERS = dict(iris=load_iris, wine=load_wine, breast_cancer=load_breast_cancer, digits=load_digits)


def centred(b): return b - b.mean() if len(b) > 1 else b


@pytest.mark.parametrize('C', [1e-3, 1.0, 1e3])
@pytest.mark.parametrize('features', ['raw', 'standardised'])
@pytest.mark.parametrize('name', list(LOADERS))
def test_default_tol_reaches_scikit_learns_optimum(name, features, C):
    X, y = LOADERS[name](return_X_y=True)
    if features == 'standardised': X = StandardScaler().fit_transform(X)
    binary = len(np.unique(y)) == 2
    with warnings.catch_warnings():
        warnings.simplefilter('error')                                    # converged: no ConvergenceWarning
        ours = SoftmaxRegression(C=C).fit(X, y)
    ref = LogisticRegression(C=2 * C if binary else C, solver='newton-cholesky', tol=1e-12, max_iter=10_000).fit(X, y)
    errs = rel_err(ours.coef_, ref.coef_), rel_err(centred(ours.intercept_), centred(ref.intercept_))
    assert max(errs) <= 1e-6, errs
