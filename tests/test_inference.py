"""`summary` and `covariance` (nbs/04h_inference.ipynb) against statsmodels' MNLogit, and their failure modes: separated
classes, collinear features, too few rows, a model not at the optimum, bad arguments. Small problems: the file runs in
seconds. statsmodels and pandas are imported only by the tests that need them (skipped without them)."""
import math, warnings

import numpy as np
import pytest
import torch

from softmax_scratch.classifier import SoftmaxClassifier
from softmax_scratch.data import make_dataset, load_dataset
from softmax_scratch.inference import (summary, WaldTable, covariance, class_contrasts, separated_rows, check_identified,
                                       observed_information, score_products, COV_TYPES)
from softmax_scratch.checks import rel_err
from softmax_scratch.newton import augment

F64 = torch.float64


def draw(M, N, Q, seed, scale=0.7):
    "Rows from a known softmax model (x ~ N(0, 1), Θ ~ N(0, scale²)): features, class indices."
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(M, N, generator=g, dtype=F64)
    theta = scale * torch.randn(N + 1, Q, generator=g, dtype=F64)
    return x, torch.multinomial(torch.softmax(augment(x) @ theta, 1), 1, generator=g)[:, 0]


def fitted(x, y, Q=None, l2=0., tol=1e-12):
    "A SoftmaxClassifier fitted by Newton from zero."
    y = torch.as_tensor(y)
    N, Q = x.shape[1], Q or (y.shape[1] if y.ndim == 2 else int(y.max()) + 1)
    m = SoftmaxClassifier(N, Q).set_params(torch.zeros(N, Q), torch.zeros(Q))
    h = m.fit(x, y, solver='newton', l2=l2, tol=tol, max_iter=100, progress=False)
    assert h.converged, h.stopped
    return m


@pytest.fixture(scope='module')
def seed_data():
    ds = make_dataset()
    return ds.x_train, ds.y_train, fitted(ds.x_train, ds.y_train)


@pytest.mark.parametrize('shape, seed', [((300, 2, 3), 0), ((400, 3, 4), 1), ((200, 1, 2), 2), ((600, 5, 5), 3)])
@pytest.mark.parametrize('cov_type', COV_TYPES)
def test_parity_with_statsmodels(shape, seed, cov_type):
    sm = pytest.importorskip('statsmodels.api')
    x, y = draw(*shape, seed)
    (M, N), Q = x.shape, shape[2]
    s = summary(fitted(x, y, Q), x, y, cov_type=cov_type, min_rows=0)
    res = sm.MNLogit(y.numpy(), augment(x).numpy()).fit(method='newton', maxiter=100, tol=1e-14, disp=0,
                                                          cov_type=cov_type)
    assert res.mle_retvals['converged']
    cov = torch.from_numpy(res.cov_params()).reshape(Q - 1, N + 1, Q - 1, N + 1).permute(1, 0, 3, 2)
    ci = torch.from_numpy(res.conf_int(0.05)).permute(2, 1, 0)
    for ours, theirs in [(s.params, res.params), (s.se, res.bse), (s.z, res.tvalues), (s.p, res.pvalues),
                         (torch.stack([s.lower, s.upper]), ci), (s.cov, cov.reshape(len(s.cov), -1)), (s.llf, res.llf)]:
        assert rel_err(ours, theirs) <= 1e-8


def test_reference_and_sum_to_zero_are_linear_maps_of_each_other(seed_data):
    x, y, m = seed_data
    Q = y.shape[1]
    beta_c, cov_c = covariance(x, y, m.w, m.b, reference=None)
    N1 = len(beta_c)
    for r in range(Q):
        beta, cov = covariance(x, y, m.w, m.b, reference=r)
        A = torch.kron(torch.eye(N1, dtype=F64), class_contrasts(Q, r).T.contiguous())
        assert rel_err(beta, beta_c @ class_contrasts(Q, r)) < 1e-12
        assert rel_err(cov, A @ cov_c @ A.T) < 1e-10
    assert rel_err(cov_c, torch.linalg.pinv(observed_information(x, y, m.w, m.b), hermitian=True)) < 1e-10


def test_the_sandwich_matches_the_information_under_the_model():
    x, labels = draw(20000, 2, 3, 4)
    y = torch.nn.functional.one_hot(labels, 3).double()
    m = fitted(x, y)
    _, cov = covariance(x, y, m.w, m.b)
    _, rob = covariance(x, y, m.w, m.b, cov_type='HC0')
    ratio = (rob.diagonal() / cov.diagonal()).sqrt()
    assert (ratio - 1).abs().max() < 0.05, ratio


def test_score_products_sum_to_zero_direction_with_a_penalty(seed_data):
    x, y, _ = seed_data
    m = fitted(x, y, l2=0.05)
    S = score_products(x, y, m.w, m.b, 0.05)
    bias_shift = torch.zeros(S.shape[0], dtype=F64)
    bias_shift[-y.shape[1]:] = 1                                     # the null direction left with a penalty
    assert (S @ bias_shift).abs().max() < 1e-12 * S.abs().max()


def test_a_table_renders_and_converts(seed_data):
    x, y, m = seed_data
    s = summary(m, x, y, alpha=0.1, min_rows=0, feature_names=list('abcde'), class_names=['u', 'v', 'w'])
    d = s.to_dict()
    assert list(d) == ['class', 'feature', 'coef', 'std err', 'z', 'P>|z|', '[0.05', '0.95]']
    assert d['class'][:6] == ['v'] * 6 and d['feature'][:6] == ['a', 'b', 'c', 'd', 'e', 'intercept']
    assert d['coef'][0] == s.params[0, 0].item() and isinstance(d['P>|z|'][3], float)
    assert 'against class u' in s.title and '<table' in s._repr_html_() and '<td>intercept</td>' in s._repr_html_()
    assert '0.95]' in repr(s) and len(repr(s).splitlines()) == 2 + 12
    q = 1.6448536269514722                                           # z_0.95
    assert rel_err(s.upper - s.params, q * s.se) < 1e-12
    pd = pytest.importorskip('pandas')
    f = s.to_frame()
    assert isinstance(f, pd.DataFrame) and f.shape == (12, 6) and f.loc[('w', 'intercept'), 'coef'] == s.params[5, 1].item()


def test_to_frame_without_pandas(seed_data, monkeypatch):
    import sys
    x, y, m = seed_data
    monkeypatch.setitem(sys.modules, 'pandas', None)
    with pytest.raises(ImportError, match='pip install pandas'): summary(m, x, y, min_rows=0).to_frame()


def test_html_escapes_names(seed_data):
    x, y, m = seed_data
    s = summary(m, x, y, min_rows=0, feature_names=['<b>', 'a&b', 'c', 'd', 'e'])
    assert '&lt;b&gt;' in s._repr_html_() and 'a&amp;b' in s._repr_html_() and '<b>' not in s._repr_html_()


def test_float32_model_is_summarised_in_float64():
    x, y = draw(300, 2, 3, 5)
    m64 = fitted(x, y)
    m32 = SoftmaxClassifier(2, 3, dtype=torch.float32).set_params(m64.w, m64.b)
    s32, s64 = summary(m32, x.float(), y, tol=1e-5), summary(m64, x, y)
    assert s32.params.dtype == F64 and rel_err(s32.se, s64.se) < 1e-5


# --- failure modes -----------------------------------------------------------------------------------------------

def test_complete_separation_is_refused():
    x = torch.tensor([[0.], [1.], [2.], [3.]], dtype=F64)
    y = [0, 0, 1, 1]
    assert separated_rows(x, y).tolist() == [0, 2, 3]
    m = SoftmaxClassifier(1, 2).set_params(torch.zeros(1, 2), torch.zeros(2))
    m.fit(x, y, solver='newton', l2=0., tol=1e-10, max_iter=100, progress=False)
    with pytest.raises(ValueError, match=r'x, y: the classes are separated: .*no finite maximum'): summary(m, x, y)


def test_quasi_complete_separation_is_refused():
    iris = load_dataset('iris')                                       # setosa is separated from the other two
    assert len(separated_rows(iris.x_train, iris.y_train)) > 0
    with pytest.raises(ValueError, match='the classes are separated'): check_identified(iris.x_train, iris.y_train)
    x = torch.tensor([[0.], [1.], [1.], [2.]], dtype=F64)             # overlap at x = 1 only
    assert len(separated_rows(x, [0, 0, 1, 1])) > 0


@pytest.mark.parametrize('seed', range(5))
def test_overlapping_classes_pass(seed):
    x, y = draw(60, 2, 3, seed, scale=0.3)
    assert len(separated_rows(x, y)) == 0
    check_identified(x, y)


def test_separation_may_be_penalised_away():
    iris = load_dataset('iris')
    lam = 1 / len(iris.x_train)
    m = fitted(iris.x_train, iris.y_train, l2=lam)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)
        s = summary(m, iris.x_train, iris.y_train, l2=lam)
    assert torch.isfinite(s.se).all() and 'penalised' in s.title


def test_an_empty_class_is_refused(seed_data):
    x, y, _ = seed_data
    labels = y.argmax(1).clone()
    labels[labels == 2] = 0
    with pytest.raises(ValueError, match=r'y: class 2 has no rows, .*no finite maximum'):
        check_identified(x, torch.nn.functional.one_hot(labels, 3))


@pytest.mark.parametrize('extra, match', [
    (lambda x: x[:, 1:2], r'rank 6 of 7\): column 1, column 5 combine to zero'),              # a repeated column
    (lambda x: 2 * x[:, :1] - x[:, 3:4], r'rank 6 of 7\): column 0, column 3, column 5'),     # a combination
    (lambda x: torch.full((len(x), 1), 3., dtype=F64), r'column 5, the intercept combine'),  # a constant column
    (lambda x: torch.zeros(len(x), 1, dtype=F64), r'rank 6 of 7\): column 5 combine'),      # a zero column
])
def test_collinear_features_are_refused(seed_data, extra, match):
    x, y, _ = seed_data
    xc = torch.cat([x, extra(x)], 1)
    m = SoftmaxClassifier(6, 3, seed=0)
    with pytest.raises(ValueError, match=r'x: the columns of \[X 1\] are linearly dependent'): summary(m, xc, y)
    with pytest.raises(ValueError, match=match): check_identified(xc, y)


def test_a_singular_identified_information_is_refused_by_covariance(seed_data):
    x, y, m = seed_data
    xd = torch.cat([x, x[:, :1]], 1)                                  # check_identified skipped: covariance alone
    w = torch.cat([m.w, torch.zeros(1, 3, dtype=F64)])
    with pytest.raises(ValueError, match='information of the identified coefficients is singular'):
        covariance(xd, y, w, m.b)


def test_too_few_rows_is_an_error(seed_data):
    x, y, m = seed_data
    with pytest.raises(ValueError, match=r'x: 5 rows for N \+ 1 = 6 coefficients per class'): summary(m, x[:5], y[:5])


def test_few_rows_per_coefficient_warn(seed_data):
    x, y, m = seed_data                                               # the rarest class: 26 rows for 6 coefficients
    with pytest.warns(RuntimeWarning, match=r'the rarest class \(2\) has 26 rows, 4\.3 per coefficient'):
        summary(m, x, y)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        summary(m, x, y, min_rows=4)                                  # below the ratio: silent


def test_a_model_not_at_the_optimum_is_refused(seed_data):
    x, y, m = seed_data
    sgd = SoftmaxClassifier(5, 3, seed=0)
    sgd.fit(x, y, epochs=5, lr=0.1, progress=False)
    with pytest.raises(ValueError, match=r"model: its parameters are not the optimum .* l2=0 .*gradient's largest"):
        summary(sgd, x, y, min_rows=0)
    with pytest.raises(ValueError, match=r'not the optimum .* with l2=0\.1'):
        summary(m, x, y, l2=0.1, min_rows=0)                          # fitted without the penalty
    with pytest.raises(ValueError, match='not the optimum'): summary(m, x.flip(0), y, min_rows=0)


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(alpha=0), ValueError, 'alpha: expected a number > 0'), (dict(alpha=1), ValueError, r'alpha: .*\(0, 1\)'),
    (dict(alpha='0.05'), TypeError, 'alpha: expected a number'), (dict(reference=3), ValueError, 'reference: .*0..2'),
    (dict(reference=1.0), TypeError, 'reference: expected a class index'), (dict(reference=True), TypeError, 'reference'),
    (dict(cov_type='HC1'), ValueError, "cov_type: expected one of 'nonrobust', 'HC0'"),
    (dict(l2=-1), ValueError, 'l2: expected'), (dict(tol=0), ValueError, 'tol: expected'),
    (dict(min_rows=-1), ValueError, 'min_rows'), (dict(feature_names=['a']), ValueError, 'feature_names: expected a '
                                                                                          'sequence of 5 names'),
    (dict(class_names='abc'), ValueError, 'class_names: expected a sequence of 3'),
])
def test_bad_arguments(seed_data, kwargs, error, match):
    x, y, m = seed_data
    with pytest.raises(error, match=match): summary(m, x, y, **kwargs)


def test_bad_model_and_data(seed_data):
    x, y, m = seed_data
    with pytest.raises(TypeError, match='model: expected a fitted SoftmaxClassifier, got dict'): summary({}, x, y)
    with pytest.raises(ValueError, match='x: expected 5 features'): summary(m, x[:, :4], y)
    with pytest.raises(ValueError, match='y: expected 85 labels'): summary(m, x, y[:10])
    with pytest.raises(ValueError, match='x: expected finite values'): summary(m, x.clone().fill_(math.nan), y)
    with pytest.raises(ValueError, match='n_classes: expected at least 2'): class_contrasts(1)
    with pytest.raises(ValueError, match='reference: expected a class index in 0..2'): class_contrasts(3, -1)


def test_class_indices_and_numpy_are_accepted(seed_data):
    x, y, m = seed_data
    a = summary(m, x, y, min_rows=0)
    b = summary(m, x.numpy(), y.argmax(1).numpy(), min_rows=0)
    assert torch.equal(a.se, b.se) and a.llf == b.llf
    assert np.isclose(a.llf, -len(x) * m.evaluate(x, y), rtol=1e-14)
