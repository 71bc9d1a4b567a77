"""SoftmaxRegression.summary: the Wald table of the fitted coef_/intercept_, against statsmodels (binary Logit and
multinomial MNLogit, C = inf) and against inference.summary of a SoftmaxClassifier (penalised); what it refuses."""
import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from softmax_scratch.estimator import SoftmaxRegression
from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.inference import summary


def data(n_classes, seed):
    return make_classification(400, 3, n_informative=3, n_redundant=0, n_classes=n_classes, n_clusters_per_class=1,
                               flip_y=0.3, random_state=seed)


@pytest.mark.parametrize('n_classes, seed', [(2, 0), (2, 1), (3, 2), (4, 3)])
def test_against_statsmodels(n_classes, seed):
    sm = pytest.importorskip('statsmodels.api')
    X, y = data(n_classes, seed)
    table = SoftmaxRegression(C=np.inf).fit(X, y).summary(X, y)
    res = sm.MNLogit(y, sm.add_constant(X, prepend=False)).fit(method='newton', tol=1e-12, maxiter=100, disp=False)
    params, se = np.asarray(res.params), np.asarray(res.bse)                 # (N+1, K): features then the constant
    np.testing.assert_allclose(table.params.numpy(), params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(table.se.numpy(), se, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize('n_classes', [2, 3])
@pytest.mark.parametrize('cov_type', ['nonrobust', 'HC0'])
def test_penalised_is_the_classifiers_table(n_classes, cov_type):
    X, y = data(n_classes, 5)
    est = SoftmaxRegression(C=0.5).fit(X, y)
    lam = 1 / (0.5 * len(X))
    ref = SoftmaxClassifier(3, n_classes).set_params(torch.zeros(3, n_classes), torch.zeros(n_classes))
    ref.fit(torch.from_numpy(X), torch.from_numpy(y), solver='newton', l2=lam, tol=1e-12, progress=False)
    got = est.summary(X, y, cov_type=cov_type)
    want = summary(ref, torch.from_numpy(X), torch.from_numpy(y), cov_type=cov_type, l2=lam)
    assert torch.allclose(got.params, want.params, rtol=1e-8, atol=1e-11)
    assert torch.allclose(got.cov, want.cov, rtol=1e-8, atol=1e-13)
    assert 'penalised' in got.title


def test_names_and_labels():
    pd = pytest.importorskip('pandas')
    X, y = data(3, 6)
    frame = pd.DataFrame(X, columns=['age', 'dose', 'weight'])
    labels = np.array(['low', 'mid', 'high'])[y]
    table = SoftmaxRegression(C=np.inf).fit(frame, labels).summary(frame, labels, reference=None)
    assert table.features == ['age', 'dose', 'weight', 'intercept'] and table.classes == ['high', 'low', 'mid']


def test_refusals():
    X, y = data(3, 7)
    est = SoftmaxRegression(C=np.inf).fit(X, y)
    with pytest.raises(ValueError, match='y: expected 400 labels among classes_'): est.summary(X, y + 1)
    with pytest.raises(ValueError, match='X has 2 features'): est.summary(X[:, :2], y)
    with pytest.raises(ValueError, match='fit_intercept:'):
        SoftmaxRegression(fit_intercept=False).fit(X, y).summary(X, y)
    with pytest.raises(ValueError, match='not the optimum'): est.summary(X[::-1][:200], y[:200])
    w = np.ones(len(y)); w[y == 2] = 0                                   # class 2 fitted with no weight
    with pytest.raises(ValueError, match=r'y: summary\(\) needs every class'):
        SoftmaxRegression(C=np.inf).fit(X, y, sample_weight=w).summary(X, y)
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError): SoftmaxRegression().summary(X, y)
