"""scikit-learn 1.9.1's own tests of `LogisticRegression` (`sklearn/linear_model/tests/test_logistic.py`), run against
`SoftmaxRegression`: every test whose options it supports, copied with `LogisticRegression` replaced by
`SoftmaxRegression`, each under a comment naming the original. Adaptations, each commented where it is made:

- scikit-learn's solvers map to this estimator's two Newton solvers: 'newton-cholesky' -> 'newton' (Newton's method
  with the Hessian formed), 'newton-cg' -> 'newton-cg'. A test that loops over scikit-learn's solvers to compare them
  compares these two; 'lbfgs', 'sag', 'saga' and 'liblinear' have no counterpart here.
- A test that compares a binary fit with numbers of the binomial model (glmnet) halves C: with two classes
  `LogisticRegression` fits the binomial model, whose optimum at 2C is the softmax one at C (05b_estimator).
- Warning and error messages that name scikit-learn's solvers are matched against this estimator's messages.
- The parts of a test that exercise `LogisticRegressionCV` or private functions are left out of the copy.
- `global_random_seed` is scikit-learn's fixture, re-created below with the same rule (SKLEARN_TESTS_GLOBAL_RANDOM_SEED:
  unset -> 42, 'all' -> 0..99, 'a-b' or one number).
- Any ConvergenceWarning that a test does not expect is an error here (the original file meant to make it one for
  scikit-learn's modules, but its second `pytestmark` assignment replaces the first).

Tests that do not apply (51 of the 80), and why:

- The l1 and elastic-net penalties (`l1_ratio`, `penalty=`; no such option: the penalty is L2, or none at C=np.inf):
  test_elasticnet_l1_ratio_err_helpful, test_logreg_l1, test_elastic_net_coeffs, test_elastic_net_l1_l2_equivalence,
  test_elastic_net_vs_l1_l2, test_LogisticRegression_elastic_net_objective, test_l1_ratio_non_elasticnet,
  test_elastic_net_versus_sgd, test_penalty_none (`penalty=None`; its equivalent C=np.inf is tested below),
  test_lr_penalty_l1ratio_incompatible, test_penalty_deprecated, test_l1_ratio_None_deprecated.
- The liblinear, sag and saga solvers and their options (`dual`, `intercept_scaling`, one-vs-rest fitting, their
  limits and quirks): test_check_solver_option, test_liblinear_dual_random_state, test_sample_and_class_weight_equivalence_liblinear,
  test_saga_vs_liblinear, test_liblinear_with_large_values, test_liblinear_not_stuck, test_liblinear_multiclass_raises.
- scikit-learn's newton-cholesky falling back to lbfgs (no lbfgs here): test_newton_cholesky_fallback_to_lbfgs.
- `LogisticRegressionCV` (no cross-validating variant): test_logistic_cv, test_logistic_cv_refit_false_non_elasticnet,
  test_logistic_cv_mock_scorer, test_multinomial_cv_iris, test_logistic_cv_folds_with_classes_missing,
  test_logistic_cv_sparse, test_logistic_regressioncv_class_weights, test_logistic_regression_cv_refit,
  test_LogisticRegressionCV_GridSearchCV_elastic_net, test_LogisticRegressionCV_no_refit,
  test_LogisticRegressionCV_elasticnet_attribute_shapes, test_LogisticRegressionCV_on_folds,
  test_scores_attribute_layout_elasticnet, test_lr_cv_scores_differ_when_sample_weight_is_requested,
  test_lr_cv_scores_without_enabling_metadata_routing, test_passing_params_without_enabling_metadata_routing,
  test_logisticregressioncv_warns_with_use_legacy_attributes, test_lr_scoring_warns, test_get_default_scorer.
- scikit-learn's private path functions (`_logistic_regression_path`, `_log_reg_scoring_path`):
  test_consistency_path, test_logistic_regression_path_convergence_fail, test_logistic_cv_multinomial_score,
  test_logistic_regression_path_coefs_multinomial, test_logistic_regression_path_init_coefs.
- `sparsify` / `densify` (scikit-learn's SparseCoefMixin; `coef_` stays a dense array here): test_sparsify.
- `n_jobs` (no such parameter): test_logisticregression_warns_with_n_jobs.
- Array-API dispatch (`array_api_dispatch=True`; the estimator takes NumPy arrays and scipy sparse matrices):
  test_logistic_regression_array_api_compliance, test_logistic_regression_array_api_warm_start.
- scikit-learn's callbacks (`set_callbacks`): test_logistic_regression_callback_support,
  test_logistic_regression_callback_fitted_estimator, test_logistic_regression_callback_support_warning.

The other 29 apply (two of them in part: test_multinomial_logistic_regression_string_inputs and test_n_iter without
their `LogisticRegressionCV` halves, test_logistic_regression_sample_weights without its 'cv' problem,
test_logisticregression_liblinear_sample_weight with its L2 primal parameters, the others being liblinear's l1 and dual).
"""
import itertools
import os
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_almost_equal, assert_array_equal
from scipy.linalg import svd
from scipy.special import expit

from sklearn._loss import HalfMultinomialLoss
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification, make_low_rank_matrix
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import LabelEncoder, scale
from sklearn.utils import compute_class_weight, shuffle
from sklearn.utils._testing import ignore_warnings
from sklearn.utils.fixes import _IS_32BIT, CSR_CONTAINERS, _sparse_random_array

from softmax_scratch.estimator import SoftmaxRegression

pytestmark = pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")

SOLVERS = ("newton", "newton-cg")   # scikit-learn's 'newton-cholesky' and 'newton-cg'
X = [[-1, 0], [0, 1], [1, 1]]
Y1 = [0, 1, 1]
Y2 = [2, 1, 0]
iris = load_iris()


def _random_seeds():
    "scikit-learn's rule for SKLEARN_TESTS_GLOBAL_RANDOM_SEED (its conftest.py)."
    var = os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED")
    if var is None: return [42]
    if var == "all": return list(range(100))
    if "-" in var:
        start, stop = var.split("-")
        return list(range(int(start), int(stop) + 1))
    return [int(var)]


@pytest.fixture(params=_random_seeds())
def global_random_seed(request):
    return request.param


def check_predictions(clf, X, y):
    """Check that the model is able to fit the classification data"""
    n_samples = len(y)
    classes = np.unique(y)
    n_classes = classes.shape[0]

    predicted = clf.fit(X, y).predict(X)
    assert_array_equal(clf.classes_, classes)

    assert predicted.shape == (n_samples,)
    assert_array_equal(predicted, y)

    probabilities = clf.predict_proba(X)
    assert probabilities.shape == (n_samples, n_classes)
    assert_allclose(probabilities.sum(axis=1), np.ones(n_samples))
    assert_array_equal(probabilities.argmax(axis=1), y)


# test_predict_2_classes
@pytest.mark.parametrize("csr_container", CSR_CONTAINERS)
def test_predict_2_classes(csr_container):
    # Simple sanity check on a 2 classes dataset
    # Make sure it predicts the correct result on simple datasets.
    check_predictions(SoftmaxRegression(), X, Y1)
    check_predictions(SoftmaxRegression(), csr_container(X), Y1)

    check_predictions(SoftmaxRegression(C=100), X, Y1)
    check_predictions(SoftmaxRegression(C=100), csr_container(X), Y1)

    check_predictions(SoftmaxRegression(fit_intercept=False), X, Y1)
    check_predictions(SoftmaxRegression(fit_intercept=False), csr_container(X), Y1)


# test_predict_3_classes
@pytest.mark.parametrize("csr_container", CSR_CONTAINERS)
def test_predict_3_classes(csr_container):
    check_predictions(SoftmaxRegression(C=10), X, Y2)
    check_predictions(SoftmaxRegression(C=10), csr_container(X), Y2)


# test_logistic_glmnet (solvers lbfgs, newton-cholesky -> ours)
@pytest.mark.parametrize("solver", SOLVERS)
def test_logistic_glmnet(solver):
    """Compare Logistic regression with L2 regularization to glmnet"""
    # (glmnet's R code and output: see the original test)
    X = np.array([[-4, -3, -2, -1, 0, 1, 2, 3, 4], [0, 0, 1, 0, 1, 1, 1, 0, 0]]).T
    y = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1])
    glm = SoftmaxRegression(
        C=1 / 1 / y.shape[0] / 2,  # C=1.0 / L2-penalty (Ridge) / n_samples; halved: softmax at C is binomial at 2C
        fit_intercept=True,
        tol=1e-8,
        max_iter=300,
        solver=solver,
    )
    glm.fit(X, y)
    assert_allclose(glm.intercept_, 0.89230405539, rtol=1e-5)
    assert_allclose(glm.coef_, [[0.44464569182, 0.01457563448]], rtol=1e-5)

    # 3 classes: glmnet's multinomial model is this one, at C itself
    y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    glm.set_params(C=1 / 1 / y.shape[0])
    glm.fit(X, y)
    assert_allclose(
        glm.intercept_, [-0.12004759652, 2.251747383e-01, -0.1051271418], rtol=1e-5
    )
    assert_allclose(
        glm.coef_,
        [
            [-0.38023389305, -0.01226499932],
            [-8.164030176e-05, 4.734548012e-02],
            [0.3803155334, -0.0350804808],
        ],
        rtol=1e-5,
        atol=1e-8,
    )


# test_inconsistent_input
def test_inconsistent_input():
    # Test that an exception is raised on inconsistent input
    rng = np.random.RandomState(0)
    X_ = rng.random_sample((5, 10))
    y_ = np.ones(X_.shape[0])
    y_[0] = 0

    clf = SoftmaxRegression(random_state=0)

    # Wrong dimensions for training data
    y_wrong = y_[:-1]

    with pytest.raises(
        ValueError, match="Found input variables with inconsistent number"
    ):
        clf.fit(X, y_wrong)

    # Wrong dimensions for test data
    with pytest.raises(ValueError, match="X has 12 features, but"):
        clf.fit(X_, y_).predict(rng.random_sample((3, 12)))


# test_write_parameters
def test_write_parameters():
    # Test that we can write to coef_ and intercept_
    clf = SoftmaxRegression()
    clf.fit(X, Y1)
    clf.coef_[:] = 0
    clf.intercept_[:] = 0
    assert_array_almost_equal(clf.decision_function(X), 0)


# test_nan
def test_nan():
    # Test proper NaN handling.
    # Regression test for Issue #252: fit used to go into an infinite loop.
    Xnan = np.array(X, dtype=np.float64)
    Xnan[0, 1] = np.nan
    clf = SoftmaxRegression()

    with pytest.raises(ValueError, match="Input X contains NaN."):
        clf.fit(Xnan, Y1)


# test_multinomial_logistic_regression_string_inputs (its LogisticRegressionCV half left out)
def test_multinomial_logistic_regression_string_inputs():
    """Test internally encode labels"""
    n_samples, n_features, n_classes = 50, 5, 3
    X_ref, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_classes=n_classes,
        n_informative=3,
        random_state=0,
    )
    y_str = LabelEncoder().fit(["bar", "baz", "foo"]).inverse_transform(y)
    # For numerical labels, let y values be taken from set (-1, 0, 1)
    y = np.array(y) - 1
    # Test for string labels
    lr = SoftmaxRegression()
    lr_str = SoftmaxRegression()

    lr.fit(X_ref, y)
    lr_str.fit(X_ref, y_str)

    assert_allclose(lr.coef_, lr_str.coef_)
    assert_allclose(lr.predict_proba(X_ref), lr_str.predict_proba(X_ref))
    assert sorted(lr_str.classes_) == ["bar", "baz", "foo"]

    # The predictions should be in original labels
    assert sorted(np.unique(lr_str.predict(X_ref))) == ["bar", "baz", "foo"]

    # Make sure class weights can be given with string labels
    lr_cv_str = SoftmaxRegression(class_weight={"bar": 1, "baz": 2, "foo": 0}).fit(
        X_ref, y_str
    )

    assert sorted(np.unique(lr_cv_str.predict(X_ref))) == ["bar", "baz"]


# test_logistic_regression_solvers (scikit-learn's six solvers -> ours)
def test_logistic_regression_solvers(global_random_seed):
    """Test solvers converge to the same result."""
    X, y = make_classification(
        n_samples=200, n_features=10, n_informative=5, random_state=global_random_seed
    )

    params = dict(C=0.1, fit_intercept=False, random_state=global_random_seed)

    classifiers = {
        solver: SoftmaxRegression(solver=solver, **params).fit(X, y)
        for solver in SOLVERS
    }

    for solver_1, solver_2 in itertools.combinations(classifiers, r=2):
        assert_allclose(
            classifiers[solver_1].coef_,
            classifiers[solver_2].coef_,
            atol=1e-3,
            rtol=1e-4,
            err_msg=f"Compare {solver_1} vs {solver_2}",
        )


# test_logistic_regression_solvers_multiclass (solvers -> ours; its LogisticRegressionCV half left out)
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_logistic_regression_solvers_multiclass(fit_intercept):
    """Test solvers converge to the same result for multiclass problems."""
    n_samples, n_features, n_classes = 20, 20, 3
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=10,
        n_classes=n_classes,
        random_state=0,
    )
    tol = 1e-8
    params = dict(fit_intercept=fit_intercept, tol=tol, random_state=42)

    classifiers = {
        solver: SoftmaxRegression(solver=solver, max_iter=100, **params).fit(X, y)
        for solver in SOLVERS
    }
    for solver, clf in classifiers.items():
        assert clf.coef_.shape == (n_classes, n_features), (
            f"Solver {solver} generates coef_ with wrong shape."
        )

    for solver_1, solver_2 in itertools.combinations(classifiers, r=2):
        assert_allclose(
            classifiers[solver_1].coef_,
            classifiers[solver_2].coef_,
            rtol=1e-3,
            err_msg=f"{solver_1} vs {solver_2}",
        )
        if fit_intercept:
            assert_allclose(
                classifiers[solver_1].intercept_,
                classifiers[solver_2].intercept_,
                rtol=1e-3,
                err_msg=f"{solver_1} vs {solver_2}",
            )


# test_logistic_regression_solvers_multiclass_unpenalized (solvers -> ours)
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_logistic_regression_solvers_multiclass_unpenalized(
    fit_intercept, global_random_seed
):
    """Test and compare solver results for unpenalized multinomial multiclass."""
    # We want to avoid perfect separation.
    n_samples, n_features, n_classes = 100, 4, 3
    rng = np.random.RandomState(global_random_seed)
    X = make_low_rank_matrix(
        n_samples=n_samples,
        n_features=n_features + fit_intercept,
        effective_rank=n_features + fit_intercept,
        tail_strength=0.1,
        random_state=rng,
    )
    if fit_intercept:
        X[:, -1] = 1
    U, s, Vt = svd(X)
    assert np.all(s > 1e-3)  # to be sure that X is not singular
    assert np.max(s) / np.min(s) < 100  # condition number of X
    if fit_intercept:
        X = X[:, :-1]
    coef = rng.uniform(low=1, high=3, size=n_features * n_classes)
    coef = coef.reshape(n_classes, n_features)
    intercept = rng.uniform(low=-1, high=1, size=n_classes) * fit_intercept
    raw_prediction = X @ coef.T + intercept

    loss = HalfMultinomialLoss(n_classes=n_classes)
    proba = loss.link.inverse(raw_prediction)
    # Only newer numpy version (1.22) support more dimensions on pvals.
    y = np.zeros(n_samples)
    for i in range(n_samples):
        y[i] = np.argwhere(rng.multinomial(n=1, pvals=proba[i, :]))[0, 0]

    tol = 1e-9
    params = dict(fit_intercept=fit_intercept, random_state=global_random_seed)
    regressors = {
        solver: SoftmaxRegression(
            C=np.inf,
            solver=solver,
            tol=tol,
            max_iter=100,
            **params,
        ).fit(X, y)
        for solver in SOLVERS
    }
    for solver in regressors.keys():
        # See the docstring of test_multinomial_identifiability_on_iris for reference.
        assert_allclose(
            regressors[solver].coef_.sum(axis=0), 0, atol=1e-10, err_msg=solver
        )

    for solver_1, solver_2 in itertools.combinations(regressors, r=2):
        assert_allclose(
            regressors[solver_1].coef_,
            regressors[solver_2].coef_,
            rtol=2e-3,
            err_msg=f"{solver_1} vs {solver_2}",
        )
        if fit_intercept:
            assert_allclose(
                regressors[solver_1].intercept_,
                regressors[solver_2].intercept_,
                rtol=1e-3,
                err_msg=f"{solver_1} vs {solver_2}",
            )


# test_logistic_regression_sample_weights (problem 'single'; solvers -> ours; the 'cv' problem left out)
@pytest.mark.parametrize("solver", SOLVERS)
def test_logistic_regression_sample_weights(solver, global_random_seed):
    n_samples_per_cv_group = 200
    n_cv_groups = 3

    X, y = make_classification(
        n_samples=n_samples_per_cv_group * n_cv_groups,
        n_features=5,
        n_informative=3,
        n_classes=2,
        n_redundant=0,
        random_state=global_random_seed,
    )
    rng = np.random.RandomState(global_random_seed)
    sw = np.ones(y.shape[0])

    kw_weighted = {
        "random_state": global_random_seed,
        "fit_intercept": False,
        "max_iter": 1_000,
        "tol": 1e-8,
    }
    kw_repeated = kw_weighted.copy()
    sw[:n_samples_per_cv_group] = rng.randint(0, 5, size=n_samples_per_cv_group)
    X_repeated = np.repeat(X, sw.astype(int), axis=0)
    y_repeated = np.repeat(y, sw.astype(int), axis=0)

    clf_sw_weighted = SoftmaxRegression(solver=solver, **kw_weighted)
    clf_sw_repeated = SoftmaxRegression(solver=solver, **kw_repeated)

    clf_sw_weighted.fit(X, y, sample_weight=sw)
    clf_sw_repeated.fit(X_repeated, y_repeated)

    assert_allclose(clf_sw_weighted.coef_, clf_sw_repeated.coef_, atol=1e-5)


# test_logistic_regression_solver_class_weights (solvers -> ours)
@pytest.mark.parametrize("solver", SOLVERS)
def test_logistic_regression_solver_class_weights(solver, global_random_seed):
    # Test that passing class_weight as [1, 2] is the same as
    # passing class weight = [1,1] but adjusting sample weights
    # to be 2 for all instances of class 1.

    X, y = make_classification(
        n_samples=300,
        n_features=5,
        n_informative=3,
        n_classes=2,
        random_state=global_random_seed,
    )

    sample_weight = y + 1

    kw_weighted = {
        "random_state": global_random_seed,
        "fit_intercept": False,
        "max_iter": 100_000,
        "tol": 1e-8,
    }
    clf_cw_12 = SoftmaxRegression(
        solver=solver, class_weight={0: 1, 1: 2}, **kw_weighted
    )
    clf_cw_12.fit(X, y)
    clf_sw_12 = SoftmaxRegression(solver=solver, **kw_weighted)
    clf_sw_12.fit(X, y, sample_weight=sample_weight)
    assert_allclose(clf_cw_12.coef_, clf_sw_12.coef_, atol=1e-6)


def _compute_class_weight_dictionary(y):
    # helper for returning a dictionary instead of an array
    classes = np.unique(y)
    class_weight = compute_class_weight("balanced", classes=classes, y=y)
    class_weight_dict = dict(zip(classes, class_weight))
    return class_weight_dict


# test_logistic_regression_class_weights (solvers -> ours)
@pytest.mark.parametrize("csr_container", [lambda x: x] + CSR_CONTAINERS)
def test_logistic_regression_class_weights(global_random_seed, csr_container):
    # Scale data to avoid convergence warnings with the lbfgs solver
    X_iris = scale(iris.data)
    # Multinomial case: remove 90% of class 0
    X = X_iris[45:, :]
    X = csr_container(X)
    y = iris.target[45:]
    class_weight_dict = _compute_class_weight_dictionary(y)

    for solver in SOLVERS:
        params = dict(solver=solver, max_iter=2000, random_state=global_random_seed)
        clf1 = SoftmaxRegression(class_weight="balanced", **params)
        clf2 = SoftmaxRegression(class_weight=class_weight_dict, **params)
        clf1.fit(X, y)
        clf2.fit(X, y)
        assert len(clf1.classes_) == 3
        assert_allclose(clf1.coef_, clf2.coef_, rtol=1e-4)
        # Same as appropriate sample_weight.
        sw = np.ones(X.shape[0])
        for c in clf1.classes_:
            sw[y == c] *= class_weight_dict[c]
        clf3 = SoftmaxRegression(**params).fit(X, y, sample_weight=sw)
        assert_allclose(clf3.coef_, clf2.coef_, rtol=1e-4)

    # Binary case: remove 90% of class 0 and 100% of class 2
    X = X_iris[45:100, :]
    y = iris.target[45:100]
    class_weight_dict = _compute_class_weight_dictionary(y)

    for solver in SOLVERS:
        params = dict(solver=solver, max_iter=1000, random_state=global_random_seed)

        clf1 = SoftmaxRegression(class_weight="balanced", **params)
        clf2 = SoftmaxRegression(class_weight=class_weight_dict, **params)
        clf1.fit(X, y)
        clf2.fit(X, y)
        assert_array_almost_equal(clf1.coef_, clf2.coef_, decimal=6)


# test_liblinear_decision_function_zero (liblinear -> ours: the property, a decision of 0 predicts the negative
# class, is not liblinear's)
@pytest.mark.parametrize("solver", SOLVERS)
def test_liblinear_decision_function_zero(global_random_seed, solver):
    # Test negative prediction when decision_function values are zero.
    # Liblinear predicts the positive class when decision_function values
    # are zero. This is a test to verify that we do not do the same.
    # See Issue: https://github.com/scikit-learn/scikit-learn/issues/3600
    # and the PR https://github.com/scikit-learn/scikit-learn/pull/3623
    X, y = make_classification(
        n_samples=5, n_features=5, random_state=global_random_seed
    )
    clf = SoftmaxRegression(
        fit_intercept=False, solver=solver, random_state=global_random_seed
    )
    clf.fit(X, y)

    # Dummy data such that the decision function becomes zero.
    X = np.zeros((5, 5))
    assert_array_equal(clf.predict(X), np.zeros(5))


# test_logreg_intercept_scaling_zero
def test_logreg_intercept_scaling_zero():
    # Test that intercept_scaling is ignored when fit_intercept is False

    clf = SoftmaxRegression(fit_intercept=False)
    clf.fit(X, Y1)
    assert clf.intercept_ == 0.0


# test_logreg_predict_proba_multinomial (the private `_predict_proba_lr`, scikit-learn's one-vs-rest normalisation
# of the logistic function of decision_function, written out; the one-vs-rest fits at C halved, binomial at C = 1)
def test_logreg_predict_proba_multinomial(global_random_seed):
    X, y = make_classification(
        n_samples=10,
        n_features=20,
        random_state=global_random_seed,
        n_classes=3,
        n_informative=10,
    )

    # Predicted probabilities using the true-entropy loss should give a
    # smaller loss than those using the ovr method.
    clf_multi = SoftmaxRegression()
    clf_multi.fit(X, y)
    clf_multi_loss = log_loss(y, clf_multi.predict_proba(X))
    clf_ovr = OneVsRestClassifier(SoftmaxRegression(C=0.5))  # its binary fits: the binomial model at C = 1, as there
    clf_ovr.fit(X, y)
    clf_ovr_loss = log_loss(y, clf_ovr.predict_proba(X))
    assert clf_ovr_loss > clf_multi_loss

    # Predicted probabilities using the soft-max function should give a
    # smaller loss than those using the logistic function.
    clf_multi_loss = log_loss(y, clf_multi.predict_proba(X))
    prob = expit(clf_multi.decision_function(X))
    clf_wrong_loss = log_loss(y, prob / prob.sum(axis=1)[:, np.newaxis])
    assert clf_wrong_loss > clf_multi_loss


# test_max_iter (solvers newton-cg, newton-cholesky -> ours, their messages -> ours; scikit-learn skips
# newton-cholesky beyond max_iter=1 as it "might converge very fast": here it takes 8 iterations, so none is skipped)
@pytest.mark.parametrize("max_iter", np.arange(1, 5))
@pytest.mark.parametrize("solver", SOLVERS)
def test_max_iter(global_random_seed, max_iter, solver):
    # Test that the maximum number of iteration is reached
    X, y_bin = iris.data, iris.target.copy()
    y_bin[y_bin == 2] = 0

    lr = SoftmaxRegression(
        max_iter=max_iter,
        tol=1e-15,
        random_state=global_random_seed,
        solver=solver,
    )
    message = f"solver '{solver}' stopped at max_iter={max_iter}.* raise max_iter"
    with pytest.warns(ConvergenceWarning, match=message):
        lr.fit(X, y_bin)

    assert lr.n_iter_[0] == max_iter


# test_n_iter (solvers -> ours; its LogisticRegressionCV half left out)
@pytest.mark.parametrize("solver", SOLVERS)
def test_n_iter(solver):
    # Test that self.n_iter_ has the correct format.
    X, y = iris.data, iris.target

    n_classes = np.unique(y).shape[0]
    assert n_classes == 3

    # Also generate a binary classification sub-problem.
    y_bin = y.copy()
    y_bin[y_bin == 2] = 0

    # Binary classification case
    clf = SoftmaxRegression(tol=1e-2, C=1.0, solver=solver, random_state=42)
    clf.fit(X, y_bin)
    assert clf.n_iter_.shape == (1,)

    # When using the multinomial objective function, there is a single
    # optimization problem to solve for all classes at once:
    clf.fit(X, y)
    assert clf.n_iter_.shape == (1,)


# test_warm_start (solvers -> ours)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("warm_start", (True, False))
@pytest.mark.parametrize("fit_intercept", (True, False))
def test_warm_start(global_random_seed, solver, warm_start, fit_intercept):
    # A 1-iteration second fit on same data should give almost same result
    # with warm starting, and quite different result without warm starting.
    X, y = iris.data, iris.target

    clf = SoftmaxRegression(
        tol=1e-4,
        warm_start=warm_start,
        solver=solver,
        random_state=global_random_seed,
        fit_intercept=fit_intercept,
    )
    with ignore_warnings(category=ConvergenceWarning):
        clf.fit(X, y)
        coef_1 = clf.coef_

        clf.max_iter = 1
        clf.fit(X, y)
    cum_diff = np.sum(np.abs(coef_1 - clf.coef_))
    msg = (
        f"Warm starting issue with solver {solver}"
        f"with {fit_intercept=} and {warm_start=}"
    )
    if warm_start:
        assert 2.0 > cum_diff, msg
    else:
        assert cum_diff > 2.0, msg


# test_warm_start_newton_solver (solvers newton-cholesky, newton-cg -> ours)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", (True, False))
@pytest.mark.parametrize("C", (1, np.inf))
def test_warm_start_newton_solver(solver, fit_intercept, C):
    """Test that 2 steps at once are the same as 2 single steps with warm start."""
    X, y = iris.data, iris.target

    clf1 = SoftmaxRegression(
        solver=solver,
        max_iter=2,
        fit_intercept=fit_intercept,
        C=C,
    )
    with ignore_warnings(category=ConvergenceWarning):
        clf1.fit(X, y)

    clf2 = SoftmaxRegression(
        solver=solver,
        max_iter=1,
        warm_start=True,
        fit_intercept=fit_intercept,
        C=C,
    )
    with ignore_warnings(category=ConvergenceWarning):
        clf2.fit(X, y)
        clf2.fit(X, y)

    assert_allclose(clf2.coef_, clf1.coef_)
    if fit_intercept:
        assert_allclose(clf2.intercept_, clf1.intercept_)


# test_dtype_match (solvers -> ours)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("csr_container", CSR_CONTAINERS)
def test_dtype_match(solver, fit_intercept, csr_container):
    # Test that np.float32 input data is not cast to np.float64 when possible
    # and that the output is approximately the same no matter the input format.

    out32_type = np.float32

    X_32 = np.array(X).astype(np.float32)
    y_32 = np.array(Y1).astype(np.float32)
    X_64 = np.array(X).astype(np.float64)
    y_64 = np.array(Y1).astype(np.float64)
    X_sparse_32 = csr_container(X, dtype=np.float32)
    X_sparse_64 = csr_container(X, dtype=np.float64)
    solver_tol = 5e-4

    lr_templ = SoftmaxRegression(
        solver=solver,
        random_state=42,
        tol=solver_tol,
        fit_intercept=fit_intercept,
    )

    # Check 32-bit type consistency
    lr_32 = clone(lr_templ)
    lr_32.fit(X_32, y_32)
    assert lr_32.coef_.dtype == out32_type

    # Check 32-bit type consistency with sparsity
    lr_32_sparse = clone(lr_templ)
    lr_32_sparse.fit(X_sparse_32, y_32)
    assert lr_32_sparse.coef_.dtype == out32_type

    # Check 64-bit type consistency
    lr_64 = clone(lr_templ)
    lr_64.fit(X_64, y_64)
    assert lr_64.coef_.dtype == np.float64

    # Check 64-bit type consistency with sparsity
    lr_64_sparse = clone(lr_templ)
    lr_64_sparse.fit(X_sparse_64, y_64)
    assert lr_64_sparse.coef_.dtype == np.float64

    # solver_tol bounds the norm of the loss gradient
    # dw ~= inv(H)*grad ==> |dw| ~= |inv(H)| * solver_tol, where H - hessian
    #
    # See https://github.com/scikit-learn/scikit-learn/pull/13645
    #
    # with  Z = np.hstack((np.ones((3,1)), np.array(X)))
    # In [8]: np.linalg.norm(np.diag([0,2,2]) + np.linalg.inv((Z.T @ Z)/4))
    # Out[8]: 1.7193336918135917

    # factor of 2 to get the ball diameter
    atol = 2 * 1.72 * solver_tol
    if os.name == "nt" and _IS_32BIT:
        # FIXME
        atol = 1e-2

    # Check accuracy consistency
    assert_allclose(lr_32.coef_, lr_64.coef_.astype(np.float32), atol=atol)

    assert_allclose(lr_32.coef_, lr_32_sparse.coef_, atol=atol)
    assert_allclose(lr_64.coef_, lr_64_sparse.coef_, atol=atol)


# test_warm_start_converge_LR (solver sag -> ours: the property, warm starts that converge to the loss of a cold
# start, is not sag's)
@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_converge_LR(global_random_seed, solver):
    # Test to see that the logistic regression converges on warm start on
    # a multiclass/multinomial problem. Non-regressive test for #10836

    rng = np.random.RandomState(global_random_seed)
    X = np.concatenate((rng.randn(100, 2) + [1, 1], rng.randn(100, 2)))
    y = np.array([1] * 100 + [-1] * 100)
    lr_no_ws = SoftmaxRegression(
        solver=solver, warm_start=False, tol=1e-6, random_state=global_random_seed
    )
    lr_ws = SoftmaxRegression(
        solver=solver, warm_start=True, tol=1e-6, random_state=global_random_seed
    )

    lr_no_ws_loss = log_loss(y, lr_no_ws.fit(X, y).predict_proba(X))
    for i in range(5):
        lr_ws.fit(X, y)
    lr_ws_loss = log_loss(y, lr_ws.predict_proba(X))
    assert_allclose(lr_no_ws_loss, lr_ws_loss, rtol=1e-5)


# test_c_inf_no_warning (solvers -> ours)
@pytest.mark.parametrize("solver", SOLVERS)
def test_c_inf_no_warning(solver):
    """Test that C=np.inf (recommended approach) produces no warnings.

    Non-regression test for:
    https://github.com/scikit-learn/scikit-learn/issues/32927
    """
    X, y = make_classification(n_samples=100, n_redundant=0, random_state=42)

    lr = SoftmaxRegression(C=np.inf, solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        lr.fit(X, y)


# test_logisticregression_liblinear_sample_weight (its L2 primal parameters; liblinear -> ours)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "params",
    [
        {"tol": 1e-12, "max_iter": 1000},
    ],
)
def test_logisticregression_liblinear_sample_weight(global_random_seed, params, solver):
    X = np.array(
        [[1, 3]] * 4 + [[2, 1]] * 4 + [[3, 3]] * 4 + [[4, 1]] * 4,
        dtype=np.dtype("float"),
    )
    y = np.array(
        [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2], dtype=np.dtype("int")
    )

    X2 = np.vstack([X, X])
    y2 = np.hstack([y, 3 - y])
    sample_weight = np.ones(shape=len(y) * 2)
    sample_weight[len(y) :] = 0
    X2, y2, sample_weight = shuffle(
        X2, y2, sample_weight, random_state=global_random_seed
    )

    base_clf = SoftmaxRegression(solver=solver, random_state=global_random_seed)
    base_clf.set_params(**params)
    clf_no_weight = clone(base_clf).fit(X, y)
    clf_with_weight = clone(base_clf).fit(X2, y2, sample_weight=sample_weight)

    for method in ("predict", "predict_proba", "decision_function"):
        X_clf_no_weight = getattr(clf_no_weight, method)(X)
        X_clf_with_weight = getattr(clf_with_weight, method)(X)
        assert_allclose(X_clf_no_weight, X_clf_with_weight)


# test_multinomial_identifiability_on_iris (solvers lbfgs, newton-cg, newton-cholesky -> ours)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_multinomial_identifiability_on_iris(solver, fit_intercept):
    """Test that the multinomial classification is identifiable.

    A multinomial with c classes can be modeled with
    probability_k = exp(X@coef_k) / sum(exp(X@coef_l), l=1..c) for k=1..c.
    This is not identifiable, unless one chooses a further constraint.
    According to [1], the maximum of the L2 penalized likelihood automatically
    satisfies the symmetric constraint:
    sum(coef_k, k=1..c) = 0

    (references: see the original test)
    """
    target = iris.target_names[iris.target]

    clf = SoftmaxRegression(
        C=len(iris.data),
        solver=solver,
        fit_intercept=fit_intercept,
    )
    X_scaled = scale(iris.data)
    clf.fit(X_scaled, target)

    assert_allclose(clf.coef_.sum(axis=0), 0, atol=1e-10)
    if fit_intercept:
        assert clf.intercept_.sum(axis=0) == pytest.approx(0, abs=1e-11)


# test_sample_weight_not_modified
@pytest.mark.parametrize("class_weight", [{0: 1.0, 1: 10.0, 2: 1.0}, "balanced"])
def test_sample_weight_not_modified(class_weight):
    X, y = load_iris(return_X_y=True)
    n_features = len(X)
    W = np.ones(n_features)
    W[: n_features // 2] = 2

    expected = W.copy()

    clf = SoftmaxRegression(
        class_weight=class_weight,
        max_iter=200,
    )
    clf.fit(X, y, sample_weight=W)
    assert_allclose(expected, W)


# test_large_sparse_matrix (solvers -> ours: both take 64-bit indices)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("csr_container", CSR_CONTAINERS)
def test_large_sparse_matrix(solver, csr_container):
    # Solvers either accept large sparse matrices, or raise helpful error.
    # Non-regression test for pull-request #21093.

    # generate sparse matrix with int64 indices
    X = csr_container(_sparse_random_array((20, 10), random_state=42))
    for attr in ["indices", "indptr"]:
        setattr(X, attr, getattr(X, attr).astype("int64"))
    rng = np.random.RandomState(42)
    y = rng.randint(2, size=X.shape[0])

    SoftmaxRegression(solver=solver).fit(X, y)


# test_single_feature_newton_cg
def test_single_feature_newton_cg():
    # Test that Newton-CG works with a single feature and intercept.
    # Non-regression test for issue #23605.

    X = np.array([[0.5, 0.65, 1.1, 1.25, 0.8, 0.54, 0.95, 0.7]]).T
    y = np.array([1, 1, 0, 0, 1, 1, 0, 1])
    assert X.shape[1] == 1
    SoftmaxRegression(solver="newton-cg", fit_intercept=True).fit(X, y)


# test_zero_max_iter (solvers -> ours)
@pytest.mark.parametrize("solver", SOLVERS)
def test_zero_max_iter(solver):
    # Make sure we can inspect the state of LogisticRegression right after
    # initialization (before the first weight update).
    X, y = load_iris(return_X_y=True)
    y = y == 2
    with ignore_warnings(category=ConvergenceWarning):
        clf = SoftmaxRegression(solver=solver, max_iter=0).fit(X, y)
    assert clf.n_iter_ == 0

    assert_allclose(clf.coef_, np.zeros_like(clf.coef_))
    assert_allclose(
        clf.decision_function(X),
        np.full(shape=X.shape[0], fill_value=clf.intercept_),
    )
    assert_allclose(
        clf.predict_proba(X),
        np.full(shape=(X.shape[0], 2), fill_value=0.5),
    )
    assert clf.score(X, y) < 0.7


def test_every_original_test_is_adapted_or_listed():
    "The 80 tests of scikit-learn's file: each one copied above (its name in a comment) or listed as not applying."
    import ast, re, sklearn
    from pathlib import Path
    original = Path(sklearn.__file__).parent / 'linear_model' / 'tests' / 'test_logistic.py'
    if not original.exists(): pytest.skip(f"scikit-learn's tests are not installed ({original})")
    names = {f.name for f in ast.parse(original.read_text()).body
             if isinstance(f, ast.FunctionDef) and f.name.startswith('test_')}
    here = Path(__file__).read_text()
    adapted = set(re.findall(r'^# (test_\w+)', here, re.M))
    listed = set(re.findall(r'\b(test_\w+)', __doc__.split('Tests that do not apply')[1].split('The other')[0]))
    assert not adapted & listed, adapted & listed
    assert adapted | listed == names, (names - adapted - listed, (adapted | listed) - names)
    assert (len(names), len(adapted), len(listed)) == (80, 29, 51)
