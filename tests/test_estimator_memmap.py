"""`SoftmaxRegression` on a memory-mapped X (issue 28, item 4): every solver fits from `np.load(path, mmap_mode='r')`
with the numbers it fits from the same rows in memory (to the bit in one read of the file; over several reads, float64
to 1e-12 and float32 to its own precision), with sample and class weights, and the prediction methods read the map by
chunks with the results from memory; NaN, shapes and what a read at a time cannot do are refused with a message; and in
a fresh process a fit (Newton-CG) and a predict of a 300 MB file grow the peak memory by far less than the file."""
import textwrap, warnings
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from softmax_scratch import design
from softmax_scratch.design import file_map
from softmax_scratch.checks import rel_err
from softmax_scratch.estimator import SoftmaxRegression

M, N, Q = 600, 5, 3
SOLVERS = {'newton': dict(), 'newton-cg': dict(solver='newton-cg'),
           'sgd-full': dict(solver='sgd', max_iter=4),
           'sgd-batches': dict(solver='sgd', max_iter=2, batch_size=64, random_state=0)}
# Several reads against memory: the same terms summed in another order. float64: rounding, and the Newton solvers stop
# anywhere with max|∇L| ≤ tol = 1e-12 (measured ≤ 1e-13 relative; 5e-13 with weights). float32: gradient descent's
# float32 arithmetic (measured 5e-7); the Newton solvers stop at float32's precision, where the order of the sums moves
# the stopping point (measured 2e-5 to 7e-5 from the fit in memory): checked as the estimator's page checks a float32
# fit in memory, within 1e-4 of the float64 optimum (measured 2e-5; the fit in memory 5e-5).
SEVERAL_READS = {(np.float64, 'newton'): 1e-12, (np.float64, 'newton-cg'): 1e-12, (np.float64, 'sgd-full'): 1e-12,
                 (np.float32, 'sgd-full'): 1e-5}


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    d, rng = tmp_path_factory.mktemp('maps'), np.random.default_rng(0)
    x = rng.normal(size=(M, N)) * [1, 2, 0.5, 3, 1]
    for dtype in (np.float32, np.float64, np.int16):
        np.save(d/f'{np.dtype(dtype).name}.npy', (x * 10 if dtype == np.int16 else x).astype(dtype))
    return d


def mapped(files, dtype=np.float64):
    return np.load(files/f'{np.dtype(dtype).name}.npy', mmap_mode='r')


def labels(q=Q, seed=1):
    return np.array(['a', 'b', 'c', 'd'])[np.random.default_rng(seed).integers(0, q, M)]


def fits(X, y, **kw):
    "The estimator fitted on the map and on the same rows in memory (ConvergenceWarning of short runs ignored)."
    fit_kw = {k: kw.pop(k) for k in ('sample_weight',) if k in kw}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', ConvergenceWarning)
        return SoftmaxRegression(**kw).fit(X, y, **fit_kw), SoftmaxRegression(**kw).fit(np.array(X), y, **fit_kw)


def assert_same(a, b):
    for k in ('coef_', 'intercept_', 'n_iter_', 'classes_'): np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    assert a.coef_.dtype == b.coef_.dtype and a.n_features_in_ == b.n_features_in_


def assert_close(a, b, tol):
    "coef_ and intercept_ within `tol` (max-norm relative error), a class left out (intercept −∞) in both."
    finite = np.isfinite(b.intercept_)
    np.testing.assert_array_equal(a.intercept_[~finite], b.intercept_[~finite])
    errs = rel_err(a.coef_, b.coef_), rel_err(a.intercept_[finite], b.intercept_[finite])
    assert max(errs) <= tol, errs


@pytest.fixture
def reads_of_70(monkeypatch):
    monkeypatch.setattr(design, 'ROWS_PER_READ', 70)                    # 9 reads of the 600 rows


# 'sgd' fits the intercept (without it, refused as from memory: below)
RUNS = [(solver, intercept) for solver in SOLVERS for intercept in (True, False)
        if intercept or not solver.startswith('sgd')]


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('solver, intercept', RUNS)
def test_one_read_is_the_fit_from_memory_to_the_bit(files, solver, intercept, dtype):
    X = mapped(files, dtype)
    a, b = fits(X, labels(), fit_intercept=intercept, **SOLVERS[solver])
    assert_same(a, b)
    assert a.coef_.dtype == dtype and a.n_features_in_ == N
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(np.array(X)))


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('solver, intercept', RUNS)
def test_several_reads_are_the_fit_from_memory_to_rounding(files, reads_of_70, solver, intercept, dtype):
    a, b = fits(mapped(files, dtype), labels(), fit_intercept=intercept, **SOLVERS[solver])
    if solver == 'sgd-batches': return assert_same(a, b)           # minibatches: the same rows, read or indexed
    if (dtype, solver) in SEVERAL_READS:
        assert_close(a, b, SEVERAL_READS[dtype, solver])
        np.testing.assert_array_equal(a.n_iter_, b.n_iter_)
    else:                                                          # float32 Newton: each at float32's precision
        optimum = SoftmaxRegression(fit_intercept=intercept, **SOLVERS[solver]).fit(np.array(mapped(files)), labels())
        assert_close(a, optimum, 1e-4); assert_close(b, optimum, 1e-4)


def test_sgd_without_intercept_is_refused_as_from_memory(files):
    with pytest.raises(ValueError, match="fit_intercept: solver 'sgd' fits the intercept"):
        SoftmaxRegression(solver='sgd', fit_intercept=False).fit(mapped(files), labels())


WEIGHTS = {'sample_weight with zeros': dict(sample_weight=np.arange(M) % 4 * 0.5),
           'balanced': dict(class_weight='balanced'), 'dict': dict(class_weight={'a': 2., 'c': 0.5}),
           'a class of weight zero': dict(class_weight={'b': 0.}),
           'both': dict(class_weight='balanced', sample_weight=np.arange(M) % 3 + 1.)}


@pytest.mark.parametrize('reads', [None, 70])
@pytest.mark.parametrize('solver', ['newton', 'newton-cg'])
@pytest.mark.parametrize('weights', list(WEIGHTS))
def test_weights_by_reads(files, monkeypatch, weights, solver, reads):
    monkeypatch.setattr(design, 'ROWS_PER_READ', reads)
    a, b = fits(mapped(files), labels(), solver=solver, **WEIGHTS[weights])
    if reads is None: assert_same(a, b)                               # rows of weight 0 left out of the read, as of X
    else: assert_close(a, b, 1e-12)
    if weights == 'a class of weight zero': assert a.intercept_[1] == -np.inf and (a.coef_[1] == 0).all()


def test_sgd_takes_equal_weights_and_refuses_unequal_ones(files):
    X, y = mapped(files), labels()
    assert_same(*fits(X, y, solver='sgd', max_iter=2, sample_weight=np.full(M, 3.)))   # equal: the plain mean
    with pytest.raises(ValueError, match="sample_weight: solver 'sgd' reads X from a file unweighted"):
        SoftmaxRegression(solver='sgd').fit(X, y, sample_weight=np.arange(M) % 2 + 1.)
    with pytest.raises(ValueError, match="class_weight: solver 'sgd' reads X from a file unweighted"):
        SoftmaxRegression(solver='sgd', class_weight={'a': 2.}).fit(X, y)


@pytest.mark.parametrize('reads', [None, 70])
@pytest.mark.parametrize('q', [2, 3])
@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int16])
def test_predictions_read_by_chunks_are_those_from_memory(files, monkeypatch, dtype, q, reads):
    X, y = mapped(files, dtype), labels(q)
    est = SoftmaxRegression().fit(np.array(X), y)
    monkeypatch.setattr(design, 'ROWS_PER_READ', reads)
    for method in ('decision_function', 'predict_proba', 'predict_log_proba', 'predict'):
        a, b = getattr(est, method)(X), getattr(est, method)(np.array(X))
        assert a.dtype == b.dtype and a.shape == b.shape, method
        if reads is None or method == 'predict': np.testing.assert_array_equal(a, b, err_msg=method)
        else:   # BLAS may block a read's rows unlike all M rows': a last bit of float32 (measured 2e-7 relative)
            np.testing.assert_allclose(a, b, rtol=4 * np.finfo(a.dtype).eps, atol=np.finfo(a.dtype).eps, err_msg=method)
    assert est.score(X, y) == est.score(np.array(X), y)


def test_views_of_a_map(files):
    X, y = mapped(files), labels()
    view = np.asarray(X)                                               # an ndarray view: read from the file too
    assert type(view) is np.ndarray and isinstance(file_map(view), np.memmap) and file_map(np.array(X)) is None
    assert_same(SoftmaxRegression().fit(view, y), SoftmaxRegression().fit(np.array(X), y))
    rows = X[100:400]                                                  # rows of the file (a map at an offset)
    assert_same(*fits(rows, y[100:400], solver='newton-cg'))
    est = SoftmaxRegression().fit(np.array(X), y)
    np.testing.assert_array_equal(est.predict_proba(np.asarray(X)[50:]), est.predict_proba(np.array(X)[50:]))


def test_refit_and_warm_start_from_a_map(files):
    X, y = mapped(files), labels()
    a = SoftmaxRegression(max_iter=1, warm_start=True)
    b = SoftmaxRegression(max_iter=1, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', ConvergenceWarning)
        a.fit(X, y).fit(X, y); b.fit(np.array(X), y).fit(np.array(X), y)
    assert_same(a, b)


def write(tmp_path, x, name='X.npy'):
    np.save(tmp_path/name, x)
    return np.load(tmp_path/name, mmap_mode='r')


@pytest.mark.parametrize('solver', ['newton', 'newton-cg', 'sgd'])
def test_a_nan_names_its_row(files, tmp_path, solver):
    x = np.array(mapped(files)); x[417, 2] = np.nan
    X, est = write(tmp_path, x), SoftmaxRegression(solver=solver)
    with pytest.raises(ValueError, match=r'^X: expected finite values, got NaN or inf \(first in row 417\)$'):
        est.fit(X, labels())
    assert not hasattr(est, 'coef_') and not hasattr(est, 'n_features_in_')   # nothing fitted, as from memory
    with pytest.raises(ValueError, match='Input X contains NaN'): est.fit(x, labels())   # from memory: scikit-learn's
    assert not hasattr(est, 'n_features_in_')


def test_a_failed_fit_from_a_map_leaves_the_input_attributes_as_they_were(files, tmp_path):
    "A NaN found while the fit reads the map: n_features_in_ is the last fit's, as when validate_data refuses X."
    x = np.array(mapped(files))
    est = SoftmaxRegression(solver='newton-cg').fit(x, labels())
    bad = x[:, :3].copy(); bad[5, 1] = np.nan
    with pytest.raises(ValueError, match=r'first in row 5'): est.fit(write(tmp_path, bad), labels())
    assert est.n_features_in_ == x.shape[1]


def test_every_row_is_checked_even_when_no_epoch_reads_it(files, tmp_path):
    x = np.array(mapped(files)); x[599, 0] = np.inf
    with pytest.raises(ValueError, match=r'first in row 599'):
        SoftmaxRegression(solver='sgd', max_iter=0).fit(write(tmp_path, x), labels())


def test_predictions_check_their_rows(files, tmp_path):
    est = SoftmaxRegression().fit(mapped(files), labels())
    x = np.array(mapped(files)); x[5, 4] = -np.inf
    for method in ('predict', 'predict_proba', 'decision_function'):
        with pytest.raises(ValueError, match=r'first in row 5\)'): getattr(est, method)(write(tmp_path, x))


def test_values_too_large_for_float32(files, tmp_path):
    x = np.array(mapped(files)); x[9, 1] = 1e300
    with pytest.raises(ValueError, match='X: values up to 1e[+]300 are too large for torch.float32'):
        SoftmaxRegression(dtype='float32').fit(write(tmp_path, x), labels())


def test_shapes_and_what_a_read_at_a_time_cannot_do(files, tmp_path):
    X, y = mapped(files), labels()
    cases = [(lambda: SoftmaxRegression().fit(X, y[:10]), r'inconsistent numbers of samples: \[600, 10\]'),
             (lambda: SoftmaxRegression().fit(X[:, 0], y), 'Expected 2D array, got 1D array instead'),
             (lambda: SoftmaxRegression().fit(write(tmp_path, np.zeros((2, 3, 4))), y[:2]), 'Found array with dim 3'),
             (lambda: SoftmaxRegression().fit(X.T, y[:N]), r'C order\); got strides'),
             (lambda: SoftmaxRegression().fit(X, y).predict(X[:, :3]), 'X has 3 features, but SoftmaxRegression is '
                                                                      'expecting 5 features as input'),
             (lambda: SoftmaxRegression().fit(X, y).summary(X, y), r'X: summary\(\) takes X in memory'),
             (lambda: SoftmaxRegression(C=np.inf).fit(X, y), 'C: with X read from a file C must be finite'),
             (lambda: SoftmaxRegression().fit(X, np.full(M, 'a')), 'expected samples of at least 2 classes')]
    for fn, message in cases:
        with pytest.raises(ValueError, match=message): fn()


def test_a_refit_on_a_map_sets_n_features_and_drops_feature_names(files):
    pd = pytest.importorskip('pandas')
    X, y = mapped(files), labels()
    est = SoftmaxRegression().fit(pd.DataFrame(np.array(X), columns=list('vwxyz')), y)
    assert list(est.feature_names_in_) == list('vwxyz')
    est.fit(X, y)
    assert est.n_features_in_ == N and not hasattr(est, 'feature_names_in_')


# A fresh process: a fit (Newton-CG, one iteration: a pass for the objective, one per CG step and per line-search point)
# and a predict of the 300 MB file of tests/conftest.py; the code paths are warmed first on a part of the map, and each
# phase's peak memory is measured from the memory before it (conftest's `in_fresh_process`).
CHILD = textwrap.dedent('''
    import sys, warnings, numpy as np, torch
    from softmax_scratch.estimator import SoftmaxRegression
    torch.set_num_threads(1)
    warnings.simplefilter('ignore')                               # one iteration: not converged
    X, y = np.load(sys.argv[1], mmap_mode='r'), np.load(sys.argv[2])
    warm = SoftmaxRegression(solver='newton-cg', max_iter=1).fit(X[:20_000], y[:20_000])
    warm.predict(X[:20_000])
    reset_peak(); before = memory('VmRSS')
    predicted = warm.predict(X)
    predict = memory('VmHWM') - before
    reset_peak(); before = memory('VmRSS')
    est = SoftmaxRegression(solver='newton-cg', max_iter=1).fit(X, y)
    fit = memory('VmHWM') - before
    print(predict, fit, len(predicted), est.n_iter_[0], np.isfinite(est.coef_).all())
''')


def test_a_fit_and_a_predict_of_a_map_hold_far_less_than_the_file(in_fresh_process):
    (predict, fit, rows, n_iter, finite), size = in_fresh_process(CHILD)
    assert int(rows) == 750_000 and n_iter == '1' and finite == 'True'
    for what, growth in (('predict', int(predict)), ('fit', int(fit))):
        assert growth < 0.25 * size, \
            f"{what}: peak RSS grew by {growth / 2**20:.0f} MiB for a {size / 2**20:.0f} MiB file"
