"""scikit-learn's estimator checks on `SoftmaxRegression` (every check; none is marked as expected to fail), and the
estimator's own edges that the checks leave out."""
import subprocess, sys, warnings
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks
from softmax_scratch.estimator import SoftmaxRegression


@parametrize_with_checks([SoftmaxRegression()])
def test_sklearn_checks(estimator, check):
    check(estimator)


def test_sklearn_not_imported_by_the_library():
    code = ('import sys, softmax_scratch, softmax_scratch.classifier, softmax_scratch.newton, softmax_scratch.cli; '
            'print(sorted(m for m in sys.modules if m.split(".")[0] == "sklearn"))')
    assert subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip() == '[]'


def data(M=60, N=4, Q=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(M, N)), rng.integers(0, Q, M)


@pytest.mark.parametrize('params, message', [
    (dict(C=0), 'C: expected'), (dict(C=float('nan')), 'C: expected'), (dict(solver='lbfgs'), 'solver: expected'),
    (dict(strategy='fast'), 'strategy: expected'), (dict(tol=-1), 'tol: expected'), (dict(max_iter=1.5), 'max_iter: expected'),
    (dict(dtype='float16'), 'dtype: expected'), (dict(batch_size=10), "batch_size: solver 'newton' takes the whole batch"),
    (dict(solver='sgd', lr=0), 'lr: expected'), (dict(solver='sgd', batch_size=0), 'batch_size: expected'),
    (dict(C=-np.inf), 'C: expected'), (dict(tol=np.nan), 'tol: expected'), (dict(max_iter=-1), 'max_iter: expected'),
    (dict(solver='sgd', max_iter=-1), 'epochs: expected'), (dict(fit_intercept='yes'), 'fit_intercept: expected'),
    (dict(warm_start=1), 'warm_start: expected'), (dict(class_weight='even'), 'class_weight: expected'),
    (dict(class_weight={0: -1.}), 'class_weight: expected finite weights'),
    (dict(class_weight={5: 2.}), 'class_weight: the classes'),
    (dict(solver='sgd', fit_intercept=False), "fit_intercept: solver 'sgd' fits the intercept"),
])
def test_bad_params(params, message):
    with pytest.raises((ValueError, TypeError), match=message.replace('(', r'\(')):
        SoftmaxRegression(**params).fit(*data())


@pytest.mark.parametrize('sample_weight, message', [
    (-np.ones(60), 'sample_weight: expected non-negative weights'), (np.zeros(60), 'sample_weight: expected at least one positive weight'),
    (np.r_[np.ones(59), np.nan], 'sample_weight: expected finite values'), (np.ones(59), 'sample_weight: expected shape'),
    (np.ones((60, 2)), 'sample_weight: expected a 1-D array'),
])
def test_bad_weights(sample_weight, message):
    with pytest.raises(ValueError, match=message):
        SoftmaxRegression().fit(*data(), sample_weight=sample_weight)


def test_weights_not_changed_and_scale_free():
    X, y = data()
    s = np.arange(60) % 4 + 0.5
    s0 = s.copy()
    a, b = SoftmaxRegression(C=0.3).fit(X, y, sample_weight=s), SoftmaxRegression(C=0.3 / 7).fit(X, y, sample_weight=7 * s)
    np.testing.assert_array_equal(s, s0)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10, atol=1e-12)   # λ = 1/(C Σs): C·Σs is what counts


def test_zero_weight_class_kept():
    # issue 27: a class whose rows all have weight zero stays in classes_, as scikit-learn keeps it (this test asserted
    # the opposite before): with an intercept its b is -inf and its probability 0; the others are fitted without it
    X, y = data()
    s = (y != 2).astype(float)
    est = SoftmaxRegression().fit(X, y, sample_weight=s)
    assert list(est.classes_) == [0, 1, 2] and est.coef_.shape == (3, 4) and est.intercept_[2] == -np.inf
    assert (est.coef_[2] == 0).all() and (est.predict_proba(X)[:, 2] == 0).all() and set(est.predict(X)) <= {0, 1}
    two = SoftmaxRegression().fit(X[y != 2], y[y != 2])
    np.testing.assert_allclose(est.coef_[1] - est.coef_[0], two.coef_[0], rtol=1e-10, atol=1e-12)
    no_b = SoftmaxRegression(fit_intercept=False).fit(X, y, sample_weight=s)    # without b: fitted as any class
    assert np.isfinite(no_b.coef_).all() and (no_b.intercept_ == 0).all()
    with pytest.raises(ValueError, match='at least 2 classes among the rows of positive weight'):
        SoftmaxRegression().fit(X, y, sample_weight=(y == 2).astype(float))


def test_sgd_and_float32():
    X, y = data(200)
    newton = SoftmaxRegression().fit(X, y)
    gd = SoftmaxRegression(solver='sgd', lr=1.0, max_iter=500).fit(X, y)            # full-batch gradient descent: to the same optimum
    assert gd.n_iter_ == 500 and np.abs(gd.predict_proba(X) - newton.predict_proba(X)).max() < 1e-6
    sgd, again = (SoftmaxRegression(solver='sgd', lr=0.5, max_iter=20, batch_size=50, random_state=0).fit(X, y) for _ in range(2))
    np.testing.assert_array_equal(sgd.coef_, again.coef_)                          # random_state fixes the shuffle
    f32 = SoftmaxRegression(dtype='float32', tol=1e-5).fit(X, y)
    assert f32.coef_.dtype == np.float32 and np.abs(f32.coef_ - newton.coef_).max() < 1e-4


def test_convergence_warning():
    X, y = data()
    with pytest.warns(ConvergenceWarning, match="stopped at max_iter=1"):
        SoftmaxRegression(max_iter=1).fit(X, y)


def test_options_scikit_learn_takes():
    X, y = data()
    with pytest.warns(ConvergenceWarning, match='stopped at max_iter=0'):
        zero = SoftmaxRegression(max_iter=0).fit(X, y)
    assert zero.n_iter_.tolist() == [0] and (zero.coef_ == 0).all() and zero.n_iter_.dtype == np.int32
    with warnings.catch_warnings():
        warnings.simplefilter('error')                                          # overlapping classes: no warning
        assert SoftmaxRegression(C=np.inf).fit(X, y).coef_.shape == (3, 4)
    assert SoftmaxRegression(dtype='float32').fit(X, y).coef_.dtype == np.float32
    assert SoftmaxRegression().fit(X.astype(np.float32), y).coef_.dtype == np.float32
    assert SoftmaxRegression(dtype='float64').fit(X.astype(np.float32), y).coef_.dtype == np.float64
    assert SoftmaxRegression().fit(X.astype(np.int64), y).coef_.dtype == np.float64


def test_separable_data_at_c_inf_warn():
    X, y = data()
    X[:, 0] = y                                                                 # feature 0 separates the classes
    with pytest.warns(ConvergenceWarning, match='C=inf: the classes are .quasi-.separable'):
        SoftmaxRegression(C=np.inf).fit(X, y)


def test_sparse_input_and_its_limits():
    import scipy.sparse as sp
    X, y = data()
    dense = SoftmaxRegression().fit(X, y)
    for fmt in ('csr', 'csc', 'coo'):
        est = SoftmaxRegression().fit(sp.csr_matrix(X).asformat(fmt), y)
        np.testing.assert_allclose(est.coef_, dense.coef_, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(est.decision_function(sp.csr_matrix(X).asformat(fmt)), dense.decision_function(X),
                                   rtol=1e-10, atol=1e-13)
    with pytest.raises(ValueError, match="X: solver 'sgd' takes dense X"):
        SoftmaxRegression(solver='sgd').fit(sp.csr_matrix(X), y)


def test_written_coef_is_what_predicts():
    X, y = data()
    est = SoftmaxRegression().fit(X, y)
    est.coef_[:] = 0
    est.intercept_[:] = [0., 1., 0.]
    assert (est.predict(X) == 1).all()


def test_warm_start_checks_the_last_fit():
    X, y = data()
    est = SoftmaxRegression(warm_start=True).fit(X, y)
    assert est.fit(X, y).n_iter_[0] == 0                                       # from the optimum: no step
    with pytest.raises(ValueError, match='warm_start: expected the classes'):
        est.fit(X[:, :3], y)
    with pytest.raises(ValueError, match='warm_start: expected the classes'):
        est.fit(X, np.where(y == 2, 7, y))
